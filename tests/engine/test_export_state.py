"""The exported SBML is the run: simulated in a fresh libroadrunner (no k2d3 code involved),
it gives k2d3.simulate's observables for the same subject and regimen."""
from pathlib import Path

import numpy as np
import pytest
import roadrunner

import k2d3
from k2d3.engine import dosing, equilibrium, export_state
from k2d3.engine.runner import runner
from k2d3.model import observables

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
#: the issue's tolerance: 1e-4 of each observable's range (its reference range, else the
#: largest absolute value the run reaches)
TOLERANCE = 1e-4
#: an observable that stays at zero (plasma MK-4 without MK-4 intake: 1e-98 nmol/L in k2d3,
#: 0 after the first flush) is compared on this scale, far below any digit k2d3 reports
ZERO_SCALE = 1e-9


def deviations(subject, regimen, days):
    """Largest |exported - k2d3| per observable, relative to the observable's scale."""
    result = k2d3.simulate(subject, regimen, days=days)
    rr = roadrunner.RoadRunner(export_state.sbml(subject, regimen, days))
    names = observables.names()
    out = rr.simulate(0, days * 24.0, int(days) + 1, selections=["time", *names])
    assert np.allclose(out[:, 0] / 24.0, result.timecourse.index.to_numpy())
    dev = {}
    for j, name in enumerate(names):
        ours, theirs = result.timecourse[name].to_numpy(), out[:, j + 1]
        obs = observables.observables()[name]
        scale = obs.range[1] - obs.range[0] if obs.range else max(np.max(np.abs(ours)), ZERO_SCALE)
        dev[name] = float(np.max(np.abs(ours - theirs)) / scale)
    return dev


SUPPLEMENTS = {"supplements": [{"compound": "D3", "dose": "2000 IU", "every": "1 day"},
                               {"compound": "MK-7", "dose": "180 ug", "every": "1 day"},
                               {"compound": "calcium", "dose": "500 mg", "every": "1 day"}]}
WARFARIN_MAN = k2d3.Subject(age=60, sex="male", weight_kg=80, height_cm=178)
WARFARIN = {"medications": [{"drug": "warfarin", "target_inr": 2.5}],
            "supplements": [{"compound": "MK-7", "dose": "45 ug", "every": "1 day", "start_day": 70}]}


@pytest.mark.parametrize("subject, regimen", [
    (k2d3.Subject(), {}),
    (WARFARIN_MAN, WARFARIN),
    (k2d3.Subject(), SUPPLEMENTS),
], ids=["default_subject", "warfarin_titrated_then_mk7", "d3_mk7_calcium"])
def test_exported_sbml_reproduces_a_year_of_simulate(subject, regimen):
    dev = deviations(subject, k2d3.Regimen.from_dict(regimen), 365)
    worst = max(dev, key=dev.get)
    assert dev[worst] < TOLERANCE, f"{worst}: {dev[worst]:.2e}"


def test_sun_and_supplements_of_the_example_reproduce_a_year():
    """The README's example: a measured 25(OH)D, daily D3 and MK-7, and summer sun at 52 N."""
    regimen = k2d3.Regimen.from_yaml(EXAMPLES / "d3_mk7_daily.yaml")
    dev = deviations(None, regimen, 365)
    worst = max(dev, key=dev.get)
    assert dev[worst] < TOLERANCE, f"{worst}: {dev[worst]:.2e}"


def test_schedules_of_every_shape_reproduce():
    """Daily and weekly doses that coincide every 7th day (two events at one time add up),
    a list of bolus days, a food that doses three depots, sun on 3 days a week."""
    regimen = k2d3.Regimen.from_dict({
        "supplements": [{"compound": "D3", "dose": "1000 IU", "every": "1 day"},
                        {"compound": "D3", "dose": "20000 IU", "every": "7 days", "stop_day": 42},
                        {"compound": "K1", "dose": "1 mg", "on_days": [3, 10, 11, 40]}],
        "diet": [{"food": "natto", "grams": 40, "every": "2 days"}],
        "sun": {"minutes_per_day": 20, "skin_fraction": 0.3, "latitude": 40, "month": 3, "days_per_week": 3},
    })
    dev = deviations(k2d3.Subject(age=70, skin_type=4), regimen, 60)
    worst = max(dev, key=dev.get)
    assert dev[worst] < TOLERANCE, f"{worst}: {dev[worst]:.2e}"


def test_undosed_default_subject_starts_at_rest_at_k2d3s_day_0():
    """Day 0 is k2d3's steady state: every rate is ~0 except those of the stores the engine
    resets (bone calcium, coronary calcium, ...), which are the engine's own day-0 rates, and
    the observables are k2d3's day 0 (INR 1, not 1.65; plasma K1 and dp-ucMGP as simulated)."""
    rr = roadrunner.RoadRunner(export_state.sbml(k2d3.Subject(), k2d3.Regimen(), 365))
    engine = runner()
    equilibrium.equilibrate(engine, k2d3.Subject())
    ids = list(rr.model.getFloatingSpeciesIds())
    rates = dict(zip(ids, rr.model.getFloatingSpeciesConcentrationRates()))
    amounts = dict(zip(ids, rr.model.getFloatingSpeciesAmounts()))
    engine_rates = dict(zip(engine.model.getFloatingSpeciesIds(), engine.model.getFloatingSpeciesConcentrationRates()))
    for sid in ids:
        if sid in equilibrium.CUMULATIVE_STORES:
            assert rates[sid] == pytest.approx(engine_rates[sid], rel=1e-6, abs=1e-15), sid
        else:
            assert abs(rates[sid]) <= 1e-8 * max(abs(amounts[sid]), 1e-6), (sid, rates[sid], amounts[sid])
    day0 = k2d3.simulate(k2d3.Subject(), k2d3.Regimen(), days=1).timecourse.iloc[0]
    assert rr["inr"] == pytest.approx(1.0, abs=1e-9)
    for name in ("inr", "k1_nmol_l", "dp_ucmgp_pmol_l", "ohd25_nmol_l", "calcium_mmol_l", "hba1c_pct"):
        assert rr[name] == pytest.approx(day0[name], rel=1e-9), name


def test_titrated_warfarin_is_exported_as_the_doses_given():
    regimen = k2d3.Regimen.from_dict(WARFARIN)
    result = k2d3.simulate(WARFARIN_MAN, regimen, days=112)
    given = sorted((d.time_h, d.amount_nmol) for d in result.doses if d.depot == "warfarin_gut")
    state = export_state.state(WARFARIN_MAN, regimen, 112)
    exported = sorted((t, s.amounts["warfarin_gut"][i]) for s in state.doses if "warfarin_gut" in s.amounts
                      for i, t in enumerate(s.times_h))
    assert exported == given
    assert len(given) == 112 and len({a for _, a in given}) > 1  # one dose a day, titrated weekly


def test_sun_formula_is_the_engines_sun_model():
    """The exported sun dose of each day, evaluated by libroadrunner, is dosing.skin_d3_nmol."""
    import libsbml

    from k2d3.model import build

    cases = [(k2d3.Subject(age=35, skin_type=2), {"latitude": 52, "month": 6, "days_per_week": 7}),
             (k2d3.Subject(age=80, skin_type=5), {"latitude": 60, "month": 11, "days_per_week": 2}),
             (k2d3.Subject(age=50, skin_type=3), {"uv_index": 6, "days_per_week": 5})]
    for subject, extra in cases:
        sun = k2d3.Regimen.from_dict({"sun": {"minutes_per_day": 30, "skin_fraction": 0.25, **extra}}).sun
        [series] = export_state._sun_series(sun, subject, 400 * 24.0)
        doc = libsbml.readSBMLFromString(build.sbml())
        model = doc.getModel()
        model.getParameter("age_years").setValue(subject.age)
        for pid, (value, _, _) in series.inputs.items():
            p = model.createParameter()
            p.setId(pid), p.setValue(value), p.setConstant(True)
        day = model.createParameter()
        day.setId("day"), day.setValue(0), day.setConstant(True)
        amount = model.createParameter()
        amount.setId("sun_amount"), amount.setConstant(False)
        rule = model.createAssignmentRule()
        rule.setVariable("sun_amount")
        rule.setMath(libsbml.parseL3Formula(series.formulas["d3_skin"]))
        rr = roadrunner.RoadRunner(libsbml.writeSBMLToString(doc))
        engine = {d.time_h / 24.0: d.amount_nmol for d in dosing.sun_doses(sun, subject, 400 * 24.0)}
        for d in range(400):
            rr["day"] = float(d)
            assert rr["sun_amount"] == pytest.approx(engine.get(float(d), 0.0), rel=1e-12, abs=1e-12), (extra, d)


def test_parameter_overrides_are_exported_with_their_reason():
    """An override (as a calibration or sensitivity run sets one) is the exported value, says
    so in its notes, and the export still reproduces simulate with it."""
    import libsbml

    regimen = k2d3.Regimen.from_dict({"supplements": [{"compound": "MK-7", "dose": "180 ug", "every": "1 day"}]})
    overrides = {"t_half_mk7": 40.0}
    xml = export_state.sbml(k2d3.Subject(), regimen, 30, parameters=overrides)
    doc = libsbml.readSBMLFromString(xml)  # the document owns the model: keep it alive
    p = doc.getModel().getParameter("t_half_mk7")
    assert p.getValue() == 40.0 and "parameter override of this run" in p.getNotesString()
    result = k2d3.simulate(k2d3.Subject(), regimen, days=30, parameters=overrides)
    out = roadrunner.RoadRunner(xml).simulate(0, 30 * 24.0, 31, selections=["mk7_nmol_l"])
    mk7 = result.timecourse["mk7_nmol_l"].to_numpy()
    assert np.max(np.abs(out[:, 0] - mk7)) < TOLERANCE * np.max(mk7)
    with pytest.raises(k2d3.InputError, match="unknown model parameter"):
        export_state.state(k2d3.Subject(), regimen, 30, parameters={"t_half_mk77": 1.0})
