"""Matrix Gla protein, coronary calcium, arterial stiffness and systolic pressure."""
import numpy as np
import pytest

import k2d3
from k2d3.engine import equilibrium
from k2d3.engine.runner import runner

VASCULAR_STATES = ("cac", "mgp_wall_inactivity")
VASCULAR = ["dp_ucmgp_pmol_l", "cac_agatston", "pwv_m_s", "sbp_mmhg"]


def day0(subject: k2d3.Subject) -> dict[str, float]:
    rr = runner()
    equilibrium.equilibrate(rr, subject)
    return {n: rr[n] for n in VASCULAR + ["mgp_uc_fraction"]}


def test_default_adult_has_a_healthy_dp_ucmgp():
    v = day0(k2d3.Subject())
    assert 300 <= v["dp_ucmgp_pmol_l"] <= 600          # healthy adults, InaKtif assay
    assert v["dp_ucmgp_pmol_l"] == pytest.approx(430, rel=0.01)  # Pivin 2015 mean, the scale


def test_low_egfr_raises_dp_ucmgp_by_clearance_not_by_carboxylation():
    normal, ckd = day0(k2d3.Subject(egfr_ml_min=90)), day0(k2d3.Subject(egfr_ml_min=20))
    assert 2.0 < ckd["dp_ucmgp_pmol_l"] / normal["dp_ucmgp_pmol_l"] < 4.0   # Kremer 2021 slope: 2.9
    assert ckd["mgp_uc_fraction"] == pytest.approx(normal["mgp_uc_fraction"])
    assert day0(k2d3.Subject(ckd_stage=4))["dp_ucmgp_pmol_l"] > normal["dp_ucmgp_pmol_l"]


def test_low_vitamin_k_intake_raises_dp_ucmgp_and_supplements_lower_it():
    usual = day0(k2d3.Subject())["dp_ucmgp_pmol_l"]
    poor = day0(k2d3.Subject(dietary_k1_ug_day=20, dietary_menaquinones_ug_day=0))["dp_ucmgp_pmol_l"]
    assert poor > 1.1 * usual
    reg = k2d3.Regimen.from_dict({"supplements": [{"compound": "MK-7", "dose": "180 ug", "every": "1 day"}]})
    tc = k2d3.simulate(k2d3.Subject(), reg, days=84, times=[0, 84]).timecourse
    assert tc["dp_ucmgp_pmol_l"].iloc[-1] < 0.8 * tc["dp_ucmgp_pmol_l"].iloc[0]


def test_warfarin_raises_dp_ucmgp():
    reg = k2d3.Regimen.from_dict({"medications": [{"drug": "warfarin", "dose": "5 mg", "every": "1 day"}]})
    tc = k2d3.simulate(k2d3.Subject(sex="male", age=60), reg, days=90, times=[0, 90]).timecourse
    assert tc["inr"].iloc[-1] > 2.0
    assert tc["dp_ucmgp_pmol_l"].iloc[-1] > 1.2 * tc["dp_ucmgp_pmol_l"].iloc[0]


def test_typical_coronary_calcium_depends_on_age_and_sex():
    man60, woman60 = day0(k2d3.Subject(age=60, sex="male")), day0(k2d3.Subject(age=60, sex="female"))
    assert man60["cac_agatston"] == pytest.approx(41.0)   # Heinz Nixdorf Recall medians
    assert woman60["cac_agatston"] == pytest.approx(1.0)
    assert day0(k2d3.Subject(age=70, sex="male"))["cac_agatston"] > man60["cac_agatston"]


@pytest.mark.parametrize("regimen", [
    {"supplements": [{"compound": "MK-7", "dose": "1000 ug", "every": "1 day"},
                     {"compound": "D3", "dose": "4000 IU", "every": "1 day"}]},
    {"medications": [{"drug": "warfarin", "dose": "7.5 mg", "every": "1 day"}]},
    {},
], ids=["mk7_d3", "warfarin", "nothing"])
def test_coronary_calcium_never_decreases_and_no_state_goes_negative(regimen):
    r = k2d3.simulate(k2d3.Subject(age=65, sex="male"), k2d3.Regimen.from_dict(regimen), days=730,
                      times=np.arange(0, 731, 30))
    cac = r.timecourse["cac_agatston"].to_numpy()
    assert np.all(np.diff(cac) >= 0) and cac[-1] > cac[0]
    assert (r.timecourse[VASCULAR] > 0).all().all()
    rr = runner()
    assert all(rr[s] >= 0 for s in VASCULAR_STATES)


def test_growth_is_faster_in_kidney_disease_and_on_warfarin():
    def growth(subject, regimen=None):
        tc = k2d3.simulate(subject, k2d3.Regimen.from_dict(regimen or {}), days=365, times=[0, 365]).timecourse
        return tc["cac_agatston"].iloc[-1] / tc["cac_agatston"].iloc[0] - 1
    base = growth(k2d3.Subject(age=60, sex="male"))
    assert 0.15 < base < 0.30                     # about 20% a year (MESA)
    assert growth(k2d3.Subject(age=60, sex="male", egfr_ml_min=20)) > 1.5 * base
    assert growth(k2d3.Subject(age=60, sex="male"),
                  {"medications": [{"drug": "warfarin", "dose": "5 mg", "every": "1 day"}]}) > base


def test_pwv_follows_the_normal_values_by_age_and_sbp_follows_pwv():
    young, old = day0(k2d3.Subject(age=25)), day0(k2d3.Subject(age=75))
    assert young["pwv_m_s"] == pytest.approx(6.2, abs=0.3)    # Reference Values Collaboration 2010
    assert old["pwv_m_s"] == pytest.approx(10.9, abs=0.5)
    assert 100 < young["sbp_mmhg"] < 120 < old["sbp_mmhg"] < 140
    poor = day0(k2d3.Subject(age=75, dietary_k1_ug_day=20, dietary_menaquinones_ug_day=0))
    assert old["pwv_m_s"] < poor["pwv_m_s"] < old["pwv_m_s"] + 0.3   # small: +0.15 m/s per doubling
    assert poor["sbp_mmhg"] > old["sbp_mmhg"]


def test_vitamin_k_effects_on_stiffness_take_years():
    reg = k2d3.Regimen.from_dict({"supplements": [{"compound": "MK-7", "dose": "180 ug", "every": "1 day"}]})
    s = k2d3.Subject(age=60)
    treated = k2d3.simulate(s, reg, days=1095, times=[0, 90, 1095]).timecourse["pwv_m_s"]
    placebo = k2d3.simulate(s, k2d3.Regimen(), days=1095, times=[0, 90, 1095]).timecourse["pwv_m_s"]
    gap = placebo - treated
    assert 0 < gap.loc[90.0] < 0.3 * gap.loc[1095.0]
    assert 0.02 < gap.loc[1095.0] < 0.3                 # m/s: a small effect
