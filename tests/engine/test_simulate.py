"""The engine: steady start, doses, sampling, invariants."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import k2d3
from k2d3.engine import dosing
from k2d3.engine.runner import ABSOLUTE_TOLERANCE, runner
from k2d3.errors import InputError
from k2d3.model import observables


AGEING = ("cac_agatston", "pwv_m_s", "sbp_mmhg")


def test_measured_baseline_is_day_zero_and_a_steady_state():
    # a man: no menopause, so without a regimen nothing should move (women age into it)
    s = k2d3.Subject(age=60, sex="male", baseline_25ohd_nmol_l=42.0)
    r = k2d3.simulate(s, k2d3.Regimen(), days=200)
    tc = r.timecourse
    assert tc["ohd25_nmol_l"].iloc[0] == pytest.approx(42.0, rel=1e-4)
    # undosed: nothing moves over 200 days, except what grows with age by design (coronary
    # calcium, and PWV and systolic pressure through the age-expected PWV): those only rise
    for name in observables.names():
        if name in AGEING:
            assert np.all(np.diff(tc[name]) > 0), name
            continue
        # % changes sit at 0; 1e-6 points is the integrator's floor for them
        atol = 1e-6 if name.endswith("pct_change") else 1e-9
        assert np.allclose(tc[name], tc[name].iloc[0], rtol=1e-4, atol=atol), name


def test_timecourse_contract(daily_d3_mk7):
    r = k2d3.simulate(k2d3.Subject(), daily_d3_mk7, days=30)
    assert r.timecourse.index.name == "day"
    assert list(r.timecourse.index) == list(np.arange(31.0))
    assert list(r.timecourse.columns) == observables.names()
    assert np.isfinite(r.timecourse.to_numpy()).all()


def test_times_in_days_give_finer_sampling(daily_d3_mk7):
    times = np.linspace(0, 2, 49)
    r = k2d3.simulate(k2d3.Subject(), daily_d3_mk7, days=2, times=times)
    assert np.allclose(r.timecourse.index, times)
    mk7 = r.timecourse["mk7_nmol_l"]
    # the first dose peaks within hours, then falls before the next dose
    assert mk7.idxmax() < 1.0 or mk7.iloc[24] < mk7.iloc[:24].max()


def test_times_outside_the_run_are_rejected(daily_d3_mk7):
    with pytest.raises(InputError) as err:
        k2d3.simulate(k2d3.Subject(), daily_d3_mk7, days=10, times=[0, 11])
    assert err.value.field == "times"


def test_d3_raises_25ohd_and_mk7_accumulates(daily_d3_mk7):
    s = k2d3.Subject(age=60, baseline_25ohd_nmol_l=50)
    r = k2d3.simulate(s, daily_d3_mk7, days=365)
    tc = r.timecourse
    assert tc["ohd25_nmol_l"].iloc[-1] > 65  # 2000 IU/day lifts 50 nmol/L well into sufficiency
    assert tc["ohd25_nmol_l"].iloc[-1] < 125
    # MK-7 (t1/2 68 h) reaches its plateau within three weeks and stays there
    assert tc["mk7_nmol_l"].iloc[21] > 0.9 * tc["mk7_nmol_l"].iloc[-1]
    assert tc["mk7_nmol_l"].iloc[-1] > 10 * tc["mk7_nmol_l"].iloc[0] + 1


def test_repeat_runs_are_identical(daily_d3_mk7):
    a = k2d3.simulate(k2d3.Subject(age=40), daily_d3_mk7, days=60).timecourse
    k2d3.simulate(k2d3.Subject(age=80, weight_kg=120, baseline_25ohd_nmol_l=20), daily_d3_mk7, days=60)
    b = k2d3.simulate(k2d3.Subject(age=40), daily_d3_mk7, days=60).timecourse
    assert np.array_equal(a.to_numpy(), b.to_numpy())


def test_schedule_every_start_stop_and_on_days():
    reg = k2d3.Regimen.from_dict({"supplements": [
        {"compound": "D3", "dose": "20000 IU", "every": "7 days", "start_day": 0, "stop_day": 364},
        {"compound": "D3", "dose": "50000 IU", "on_days": [0, 400]},
        {"compound": "K1", "dose": "100 ug", "every": "12 h", "start_day": 10, "stop_day": 11},
    ]})
    doses = dosing.doses(reg, k2d3.Subject(), 365 * 24)
    weekly = [d for d in doses if d.compound == "D3" and d.time_h % 168 == 0 and d.time_h > 0]
    assert len([d for d in doses if d.compound == "D3"]) == 53 + 1  # 53 weekly (day 0..364) + bolus day 0
    assert len(weekly) == 52
    assert [d.time_h for d in doses if d.compound == "K1"] == [240, 252, 264]


def test_fat_free_dose_is_absorbed_less():
    assert dosing.fat_factor("D3", 0) < dosing.fat_factor("D3", 15) < dosing.fat_factor("D3", 60) < 1
    assert dosing.fat_factor("K1", 0) < dosing.fat_factor("D3", 0)


def test_sun_follows_the_seasons_at_52_degrees_north():
    sun = k2d3.Regimen.from_dict({"sun": {"minutes_per_day": 20, "skin_fraction": 0.25, "latitude": 52,
                                           "month": 6}}).sun
    june, december = dosing.uv_index(sun, 0), dosing.uv_index(sun, 183)
    assert 5 < june < 9 and december < 1  # clear-sky noon UV index, southern England
    subject = k2d3.Subject(age=30)
    assert dosing.skin_d3_nmol(sun, subject, 0) > 20 * dosing.skin_d3_nmol(sun, subject, 183)
    older = k2d3.Subject(age=70)
    assert dosing.skin_d3_nmol(sun, older, 0) < dosing.skin_d3_nmol(sun, subject, 0)


def test_sun_raises_summer_25ohd_more_than_winter():
    subject = k2d3.Subject(age=40, baseline_25ohd_nmol_l=50)
    summer = k2d3.Regimen.from_dict({"sun": {"minutes_per_day": 20, "latitude": 52, "month": 6}})
    winter = k2d3.Regimen.from_dict({"sun": {"minutes_per_day": 20, "latitude": 52, "month": 12}})
    s = k2d3.simulate(subject, summer, days=90).timecourse["ohd25_nmol_l"].iloc[-1]
    w = k2d3.simulate(subject, winter, days=90).timecourse["ohd25_nmol_l"].iloc[-1]
    assert s > w + 5 and w >= 50 - 1e-6


def test_summary_flags_vitamin_d_above_the_upper_level():
    reg = k2d3.Regimen.from_dict({"supplements": [{"compound": "D3", "dose": "10000 IU", "every": "1 day"}]})
    summary = k2d3.simulate(k2d3.Subject(), reg, days=60).summary()
    assert summary["mean_daily_intake_ug"]["D3"] == pytest.approx(250.0)
    assert [f["code"] for f in summary["flags"]] == ["vitamin_d_above_ul"]
    ohd = summary["observables"]["ohd25_nmol_l"]
    assert ohd["max"] >= ohd["end"] >= ohd["baseline"] and 0 <= ohd["time_in_range"] <= 1
    assert ohd["evidence"] == "clinical"


def test_unknown_parameter_override_is_an_input_error():
    with pytest.raises(InputError):
        k2d3.simulate(k2d3.Subject(), k2d3.Regimen(), days=1, parameters={"nope": 1})


@settings(max_examples=15, deadline=None)
@given(iu=st.floats(0, 1e6), mk7=st.floats(0, 1e5), weight=st.floats(30, 300),
       baseline=st.one_of(st.none(), st.floats(5, 400)))
def test_no_negative_amounts_and_finite_outputs_at_extreme_valid_doses(iu, mk7, weight, baseline):
    reg = k2d3.Regimen.from_dict({"supplements": [
        {"compound": "D3", "dose": f"{iu} IU", "every": "1 day"},
        {"compound": "MK-7", "dose": f"{mk7} ug", "every": "3 days"},
    ]})
    r = k2d3.simulate(k2d3.Subject(weight_kg=weight, baseline_25ohd_nmol_l=baseline), reg, days=20)
    values = r.timecourse.to_numpy()
    assert np.isfinite(values).all()
    levels = r.timecourse[[n for n in observables.names() if not n.endswith("pct_change")]].to_numpy()
    assert (levels > -1e-9).all()
    # an emptied depot may end a hair below zero: within the integrator's absolute
    # tolerance, which is what zero means to the solver
    assert (runner().model.getFloatingSpeciesAmounts() > -ABSOLUTE_TOLERANCE).all()


def test_age_advances_with_simulated_time_through_menopause():
    """A woman of 49 goes through menopause during the run: bone resorption rises and BMD
    falls; a woman of 45 over the same year barely changes (the age clock is not frozen)."""
    peri = k2d3.simulate(k2d3.Subject(age=49.5), k2d3.Regimen(), days=3 * 365).timecourse.iloc[-1]
    pre = k2d3.simulate(k2d3.Subject(age=41), k2d3.Regimen(), days=365).timecourse.iloc[-1]
    assert peri["ctx_pct_change"] > 30 and peri["bmd_lumbar_spine_pct_change"] < -2
    assert abs(pre["bmd_lumbar_spine_pct_change"]) < 0.5
    assert peri["bmd_femoral_neck_pct_change"] < 0


def test_summary_flags_vitamin_d_excess_levels():
    reg = k2d3.Regimen.from_dict({"supplements": [{"compound": "D3", "dose": "50000 IU", "every": "1 day"}]})
    summary = k2d3.simulate(k2d3.Subject(), reg, days=180).summary()
    codes = {f["code"] for f in summary["flags"]}
    assert {"vitamin_d_above_ul", "ohd25_nmol_l_above_250"} <= codes
    assert summary["observables"]["ohd25_nmol_l"]["max"] > 250


def test_calcium_supplement_raises_absorbed_calcium_and_urine_calcium():
    base = k2d3.Subject(baseline_25ohd_nmol_l=60, sex="male")
    last_day = np.arange(29.0, 30.0, 1 / 24)

    def day_mean(supplements):
        tc = k2d3.simulate(base, k2d3.Regimen.from_dict({"supplements": supplements}), days=30,
                           times=last_day).timecourse
        return tc.mean()

    none = day_mean([])
    carb = day_mean([{"compound": "calcium", "dose": "500 mg", "every": "1 day"}])
    cit = day_mean([{"compound": "calcium", "dose": "500 mg", "every": "1 day", "form": "citrate"}])
    assert cit["urine_calcium_mg_day"] > carb["urine_calcium_mg_day"] > none["urine_calcium_mg_day"] + 5
    assert carb["pth_pmol_l"] < none["pth_pmol_l"]
    # fractional absorption falls as intake rises (Heaney 1989)
    assert carb["ca_absorption_fraction"] < none["ca_absorption_fraction"]


def test_run_in_continued_week_by_week_equals_rerunning_from_day_0():
    """The titration's INR checks continue one run; re-running each week from day 0 (the
    plain definition) must give the same weekly doses, with supplements on board."""
    from k2d3.engine import simulate as sim, titration

    subject = k2d3.Subject(age=70, sex="female", cyp2c9="*1/*3", vkorc1="GA", baseline_25ohd_nmol_l=45)
    regimen = k2d3.Regimen.from_dict({
        "medications": [{"drug": "warfarin", "target_inr": 3.0}],
        "supplements": [{"compound": "MK-7", "dose": "45 ug", "every": "1 day", "start_day": 20},
                        {"compound": "D3", "dose": "50000 IU", "on_days": [0, 30]}]})
    rerun = titration.titrate(subject, regimen, lambda trial, d: k2d3.simulate(
        subject, trial, days=d, times=[d]).timecourse["inr"].iloc[-1])
    continued = sim.titrate(subject, regimen)
    assert continued[1]["warfarin"] == pytest.approx(rerun[1]["warfarin"], rel=1e-6)
    assert continued[0].model_dump() == rerun[0].model_dump()
    assert 0.5 < continued[1]["warfarin"] < 10
