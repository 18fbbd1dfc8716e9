"""metabolic.ant and brain.ant: HOMA relations, the HbA1c lag, baselines by status, bounds."""
import math

import numpy as np
import pytest
import roadrunner

import k2d3
from k2d3.engine import equilibrium
from k2d3.errors import InputError
from k2d3.model import build

METABOLIC = ["fasting_glucose_mg_dl", "fasting_insulin_uiu_ml", "homa_ir", "hba1c_pct", "crp_mg_l",
             "adiponectin_ug_ml"]


def day0(subject):
    return k2d3.simulate(subject, k2d3.Regimen(), days=1, times=[0]).timecourse.iloc[0]


def test_homa_ir_is_glucose_times_insulin_over_405_and_homa_b_holds():
    for s in (k2d3.Subject(), k2d3.Subject(type2_diabetes=True, weight_kg=95), k2d3.Subject(prediabetes=True)):
        r = day0(s)
        g, i = r["fasting_glucose_mg_dl"], r["fasting_insulin_uiu_ml"]
        assert r["homa_ir"] == pytest.approx(g * i / 405, rel=1e-9)
    # at the reference insulin and normal glucose, HOMA-%B = 360 I / (G - 63) is consistent
    r = day0(k2d3.Subject(fasting_glucose_mg_dl=100))
    assert r["fasting_glucose_mg_dl"] == pytest.approx(100, rel=1e-6)


def test_day0_hba1c_is_the_adag_value_of_mean_glucose():
    r = day0(k2d3.Subject())
    p = build.parameters()
    eag = r["fasting_glucose_mg_dl"] + p["glucose_mean_increment_mg_dl"].value
    assert r["hba1c_pct"] == pytest.approx((eag + 46.7) / 28.7, rel=1e-6)


def test_day0_is_a_steady_state_of_the_metabolic_observables():
    tc = k2d3.simulate(k2d3.Subject(type2_diabetes=True, hba1c_pct=8.2), k2d3.Regimen(), days=90,
                       times=[0, 90]).timecourse
    for m in METABOLIC + ["brain_mk4_pmol_g", "gas6_carboxylated_fraction"]:
        assert tc[m].iloc[-1] == pytest.approx(tc[m].iloc[0], rel=1e-3), m


def test_measured_glucose_and_hba1c_are_day0():
    r = day0(k2d3.Subject(fasting_glucose_mg_dl=118, hba1c_pct=6.1))
    assert r["fasting_glucose_mg_dl"] == pytest.approx(118, rel=1e-6)
    assert r["hba1c_pct"] == pytest.approx(6.1, rel=1e-6)
    only_a1c = day0(k2d3.Subject(hba1c_pct=8.0))
    assert only_a1c["hba1c_pct"] == pytest.approx(8.0, rel=1e-6)
    assert only_a1c["fasting_glucose_mg_dl"] == pytest.approx(28.7 * 8.0 - 46.7 - 15, rel=1e-6)


def test_hba1c_lags_mean_glucose_with_a_43_day_time_constant():
    rr = roadrunner.RoadRunner(build.sbml())
    equilibrium.equilibrate(rr, k2d3.Subject())
    target = rr["hba1c_target"]
    rr["hba1c"] = target + 1.0
    rr.simulate(0, 30 * 24, 2)
    assert rr["hba1c"] - target == pytest.approx(math.exp(-30 * 24 / 1039), rel=1e-3)  # about 0.5 after 30 days


def test_diabetic_baseline_is_higher_than_healthy_at_the_same_bmi():
    healthy, pre, t2d = (day0(k2d3.Subject(weight_kg=80, **kw))
                         for kw in ({}, {"prediabetes": True}, {"type2_diabetes": True}))
    for m in ("fasting_glucose_mg_dl", "homa_ir", "hba1c_pct"):
        assert healthy[m] < pre[m] < t2d[m], m
    assert t2d["crp_mg_l"] > healthy["crp_mg_l"] and t2d["adiponectin_ug_ml"] < healthy["adiponectin_ug_ml"]
    assert 6.5 <= t2d["hba1c_pct"] <= 8.5 and healthy["hba1c_pct"] < 5.7


def test_insulin_and_crp_rise_and_adiponectin_falls_with_bmi():
    lean, obese = day0(k2d3.Subject(weight_kg=58)), day0(k2d3.Subject(weight_kg=100))
    assert obese["fasting_insulin_uiu_ml"] > 2 * lean["fasting_insulin_uiu_ml"]
    assert obese["crp_mg_l"] > 3 * lean["crp_mg_l"]
    assert obese["adiponectin_ug_ml"] < lean["adiponectin_ug_ml"]


def test_glucose_below_the_homa_range_is_a_one_line_input_error():
    with pytest.raises(InputError) as err:
        day0(k2d3.Subject(fasting_glucose_mg_dl=55))
    assert err.value.field == "fasting_glucose_mg_dl" and "63" in err.value.problem
    with pytest.raises(InputError) as err:
        day0(k2d3.Subject(hba1c_pct=3.5))
    assert err.value.field == "hba1c_pct"


def test_no_negative_or_non_finite_states_at_extreme_valid_doses():
    reg = k2d3.Regimen.from_dict({"supplements": [
        {"compound": "D3", "dose": "50000 IU", "every": "1 day"},
        {"compound": "MK-4", "dose": "45 mg", "every": "1 day"},
        {"compound": "MK-7", "dose": "1000 ug", "every": "1 day"}]})
    s = k2d3.Subject(type2_diabetes=True, weight_kg=120, baseline_25ohd_nmol_l=20)
    tc = k2d3.simulate(s, reg, days=120).timecourse
    cols = METABOLIC + ["brain_mk4_pmol_g", "gas6_carboxylated_fraction"]
    assert np.isfinite(tc[cols].to_numpy()).all()
    assert (tc[cols].to_numpy() > 0).all()
    assert (tc["gas6_carboxylated_fraction"] < 1).all()
    assert (tc["fasting_glucose_mg_dl"] > 63).all()


def test_vitamin_k_lowers_ucoc_yet_glucose_does_not_rise():
    """The paradox of the human data: the mouse ucOC-hormone path would raise glucose."""
    reg = k2d3.Regimen.from_dict({"supplements": [{"compound": "MK-7", "dose": "180 ug", "every": "1 day"}]})
    tc = k2d3.simulate(k2d3.Subject(), reg, days=180, times=[0, 180]).timecourse
    assert tc["ucoc_fraction"].iloc[-1] < 0.8 * tc["ucoc_fraction"].iloc[0]
    assert tc["fasting_glucose_mg_dl"].iloc[-1] < tc["fasting_glucose_mg_dl"].iloc[0]


def test_d3_lowers_crp_glucose_and_insulin_resistance_in_deficiency_only_a_little_when_replete():
    reg = k2d3.Regimen.from_dict({"supplements": [{"compound": "D3", "dose": "2000 IU", "every": "1 day"}]})
    gains = []
    for base in (30, 100):
        tc = k2d3.simulate(k2d3.Subject(type2_diabetes=True, baseline_25ohd_nmol_l=base), reg, days=168,
                           times=[0, 168]).timecourse
        change = tc.iloc[-1] - tc.iloc[0]
        assert change["crp_mg_l"] < 0 and change["homa_ir"] < 0 and change["fasting_glucose_mg_dl"] < 0
        gains.append(change["fasting_glucose_mg_dl"])
    assert gains[0] < 2 * gains[1]  # the deficient subject gains at least twice as much


def test_brain_mk4_is_the_human_median_by_default_and_rises_with_vitamin_k():
    assert day0(k2d3.Subject())["brain_mk4_pmol_g"] == pytest.approx(6.3, rel=0.01)
    reg = k2d3.Regimen.from_dict({"supplements": [{"compound": "MK-7", "dose": "180 ug", "every": "1 day"}]})
    tc = k2d3.simulate(k2d3.Subject(), reg, days=90, times=[0, 90]).timecourse
    assert tc["brain_mk4_pmol_g"].iloc[-1] > 2 * tc["brain_mk4_pmol_g"].iloc[0]
    assert tc["gas6_carboxylated_fraction"].iloc[-1] > tc["gas6_carboxylated_fraction"].iloc[0]


def test_warfarin_lowers_gas6_carboxylation_but_not_brain_mk4():
    """UBIAD1 is not inhibited by warfarin (Nakagawa 2010); VKOR, which feeds GGCX, is."""
    reg = k2d3.Regimen.from_dict({"medications": [{"drug": "warfarin", "dose": "5 mg", "every": "1 day"}]})
    tc = k2d3.simulate(k2d3.Subject(), reg, days=28, times=[0, 28]).timecourse
    assert tc["gas6_carboxylated_fraction"].iloc[-1] < tc["gas6_carboxylated_fraction"].iloc[0] - 0.05
    assert tc["brain_mk4_pmol_g"].iloc[-1] >= 0.95 * tc["brain_mk4_pmol_g"].iloc[0]
