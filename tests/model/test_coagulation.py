"""Warfarin, the vitamin K cycle and the INR."""
import numpy as np
import pytest

import k2d3
from k2d3.analyses import coagulation_cases as coag
from k2d3.errors import InputError


def test_no_anticoagulant_means_inr_one_whatever_the_vitamin_k():
    reg = k2d3.Regimen.from_dict({"supplements": [{"compound": "MK-7", "dose": "360 ug", "every": "1 day"}]})
    inr = k2d3.simulate(k2d3.Subject(), reg, days=30).timecourse["inr"]
    assert np.allclose(inr, 1.0, atol=1e-9)


def test_warfarin_raises_inr_with_the_delay_of_factor_turnover_and_with_dose():
    iwpc = coag.iwpc_daily_dose_mg(coag.ADULT)  # 7.1 mg/day for the reference man (calibration target)
    inrs = [coag.warfarin_inr(mg) for mg in (0.7 * iwpc, iwpc, 1.3 * iwpc)]
    assert 1.0 < inrs[0] < inrs[1] < inrs[2]
    assert inrs[1] == pytest.approx(2.5, abs=0.1)
    early = coag.warfarin_inr(iwpc, days=1)
    assert early < 1.3  # factors II and X take days to fall


def test_unknown_drug_is_an_input_error():
    with pytest.raises(InputError) as err:
        k2d3.Regimen.from_dict({"medications": [{"drug": "aspirin", "dose": "100 mg", "every": "1 day"}]})
    assert err.value.field == "medications.0.drug" and "warfarin" in err.value.problem
    with pytest.raises(InputError) as err:
        k2d3.Regimen.from_dict({"medications": [{"drug": "D3", "dose": "1 mg", "every": "1 day"}]})
    assert err.value.field == "medications.0.drug"


def test_target_inr_is_titrated_weekly_then_held_and_vitamin_k_then_shows_as_drift():
    reg = k2d3.Regimen.from_dict({"medications": [{"drug": "warfarin", "target_inr": 2.5}],
                                  "supplements": [{"compound": "MK-7", "dose": "45 ug", "every": "1 day",
                                                   "start_day": 70}]})
    r = k2d3.simulate(k2d3.Subject(sex="male", age=60), reg, days=112)
    dose = r.summary()["titrated_dose_mg_day"]["warfarin"]
    assert 3.0 < dose < 8.0
    inr = r.timecourse["inr"]
    assert inr.loc[56.0] == pytest.approx(2.5, abs=0.15)
    assert inr.loc[70.0] == pytest.approx(2.5, abs=0.15)   # held dose, no vitamin K yet
    assert inr.loc[112.0] < 0.75 * inr.loc[70.0]           # MK-7 from day 70 lowers it


def test_target_inr_outside_the_clinical_range_is_rejected():
    with pytest.raises(InputError) as err:
        k2d3.Regimen.from_dict({"medications": [{"drug": "warfarin", "target_inr": 5}]})
    assert err.value.field == "medications.0.target_inr"


def test_vitamin_k_on_warfarin_warns_with_the_expected_inr_change():
    from k2d3.analyses.safety import vka_warnings

    reg = k2d3.Regimen.from_dict({"medications": [{"drug": "warfarin", "dose": "5 mg", "every": "1 day"}],
                                  "supplements": [{"compound": "MK-7", "dose": "45 ug", "every": "1 day",
                                                   "start_day": 56}]})
    r = k2d3.simulate(k2d3.Subject(sex="male", age=60), reg, days=98)
    [w] = vka_warnings(r)
    assert w["code"] == "vka_vitamin_k_change" and "clinician" in w["message"]
    assert "-" in w["message"].split("(")[1]  # the INR falls
    # no antagonist, or no vitamin K: no warning
    assert vka_warnings(k2d3.simulate(k2d3.Subject(), k2d3.Regimen.from_dict(
        {"supplements": [{"compound": "MK-7", "dose": "45 ug", "every": "1 day"}]}), days=10)) == []


# ---------------------------------------------------------------- genotype, age, Hamberg and Wajima
import re

from k2d3.analyses import validate
from k2d3.engine.equilibrium import genotype_factors
from k2d3.model.build import parameters, sbml

ROWS = validate.calibration_rows()


def _p(name):
    return parameters()[name].value


def _numbers_after(text, label):
    return float(re.search(re.escape(label) + r"\s*x?([\d.]+)", text).group(1))


def test_hamberg2010_warfarin_typical_values_are_the_rows():
    row = ROWS["hamberg2010_warfarin"]["published"]
    assert _p("v_warfarin") == _numbers_after(row, "V")
    assert _p("ke_warfarin") == _numbers_after(row, "ke")
    assert _p("gamma_warfarin") == _numbers_after(row, "gamma")
    assert _p("inr_max") == _numbers_after(row, "INRmax")
    # typical clearance = two *1 alleles; ke = CL/V at the reference age of 71
    assert 2 * _p("cl_warfarin_cyp2c9_1") / _p("v_warfarin") == pytest.approx(_p("ke_warfarin"), rel=0.002)
    assert 2 * _p("ec50_vkorc1_g") == pytest.approx(_numbers_after(row, "EC50"))


def test_hamberg2010_warfarin_genotype_factors_are_the_papers_decreases_not_the_rows_factors():
    """The row lists '*2/*2 ke x0.495, *3/*3 x0.757, AA EC50 x0.532'. In Hamberg 2010 these are
    the relative decreases (clearance and EC50 are sums of per-allele values): *2/*2 clears at
    0.505 and *3/*3 at 0.243 of *1/*1, A/A has 0.468 of the G/G EC50 (docs/validation.md)."""
    row = ROWS["hamberg2010_warfarin"]["published"]
    factors = {g: genotype_factors(k2d3.Subject(cyp2c9=g))["cyp2c9_ke_factor"] for g in
               ("*1/*1", "*1/*2", "*1/*3", "*2/*2", "*2/*3", "*3/*3")}
    assert factors["*1/*1"] == 1.0
    assert 1 - factors["*2/*2"] == pytest.approx(_numbers_after(row, "*2/*2 ke"), abs=0.002)
    assert 1 - factors["*3/*3"] == pytest.approx(_numbers_after(row, "*3/*3"), abs=0.002)
    assert factors["*1/*3"] == pytest.approx(0.621, abs=0.001) and factors["*2/*3"] == pytest.approx(0.374, abs=0.001)
    # *3 lowers clearance far more than *2, and each allele counts
    assert factors["*1/*1"] > factors["*1/*2"] > factors["*1/*3"] > factors["*2/*2"] > factors["*2/*3"] > factors["*3/*3"]
    aa = genotype_factors(k2d3.Subject(vkorc1="AA"))["vkorc1_ec50_factor"]
    ga = genotype_factors(k2d3.Subject(vkorc1="GA"))["vkorc1_ec50_factor"]
    assert 1 - aa == pytest.approx(_numbers_after(row, "AA EC50"), abs=0.002)
    assert ga == pytest.approx(0.734, abs=0.001)


def test_hamberg2010_warfarin_genotype_lowers_the_stable_dose_as_iwpc_2009_predicts():
    """*3/*3 A/A needs about a tenth of the *1/*1 G/G dose (model 0.11; the IWPC 2009
    algorithm 0.18 for the same man): within a factor of 2 of IWPC, and far below 1."""
    model, iwpc = coag.genotype_dose_ratio("*3/*3", "AA")
    assert model < 0.2 and iwpc < 0.2
    assert 0.5 < model / iwpc < 2.0
    model_aa, iwpc_aa = coag.genotype_dose_ratio("*1/*1", "AA")
    assert model_aa == pytest.approx(0.468, abs=0.03)   # the EC50 ratio: the same inhibition is needed
    assert 0.5 < model_aa / iwpc_aa < 2.0


def test_hamberg2010_warfarin_older_people_need_less():
    """Clearance falls 0.571%/year around 71: 80 vs 30 years gives a dose ratio near 0.77
    (IWPC 2009: 0.68 between the 30s and the 80s)."""
    old = coag.ADULT.model_copy(update={"age": 85})
    young = coag.ADULT.model_copy(update={"age": 35})
    ratio = coag.dose_for_inr(2.5, subject=old) / coag.dose_for_inr(2.5, subject=young)
    assert ratio == pytest.approx((1 - 0.00571 * 14) / (1 + 0.00571 * 36), abs=0.02)
    iwpc = coag.iwpc_daily_dose_mg(old) / coag.iwpc_daily_dose_mg(young)
    assert 0.7 < ratio / iwpc < 1.3


def test_target_inr_titration_finds_the_genotype_dose():
    reg = k2d3.Regimen.from_dict({"medications": [{"drug": "warfarin", "target_inr": 2.5}]})
    wild = k2d3.simulate(coag.ADULT, reg, days=70)
    poor = k2d3.simulate(coag.ADULT.model_copy(update={"cyp2c9": "*3/*3", "vkorc1": "AA"}), reg, days=70)
    d_wild, d_poor = wild.titrated_dose_mg["warfarin"], poor.titrated_dose_mg["warfarin"]
    assert d_poor < 0.2 * d_wild
    assert d_wild == pytest.approx(coag.dose_for_inr(2.5), rel=0.15)
    for r in (wild, poor):
        assert r.timecourse["inr"].loc[70.0] == pytest.approx(2.5, abs=0.3)


def test_wajima2009_vk_cycle_rates_and_structure():
    """Our cycle uses Wajima's three rate constants, and warfarin (VKOR) slows exactly the two
    reductions Wajima names; departures (tissue catabolism instead of Wajima's plasma VK
    elimination and peripheral exchange) are documented in docs/model.md."""
    row = ROWS["wajima2009_vk_cycle"]["published"]
    assert _p("k_vk_reduction") == _numbers_after(row, "VK->VKH2")
    assert _p("k_vk_carboxylation") == _numbers_after(row, "VKH2->VKO")
    assert _p("k_vko_reduction") == _numbers_after(row, "VKO->VK")
    assert "warfarin inhibits VK->VKH2 and VKO->VK" in row
    import libsbml
    model = libsbml.readSBMLFromString(sbml()).getModel()
    law = {r.getId(): libsbml.formulaToL3String(r.getKineticLaw().getMath()) for r in model.getListOfReactions()}
    for tissue in ("liver", "ext"):
        assert "vkor_activity" in law[f"{tissue}_vk_reduction"]       # VK -> VKH2
        assert "vkor_activity" in law[f"{tissue}_epoxide_reduction"]  # VKO -> VK
        assert "vkor_activity" not in law[f"{tissue}_carboxylation"]  # VKH2 -> VKO (GGCX)
    from pathlib import Path
    doc = (Path(__file__).resolve().parents[2] / "docs" / "model.md").read_text()
    assert "0.2052" in doc and "0.0587" in doc


def test_acenocoumarol_is_titrated_and_wears_off_faster_than_warfarin():
    reg = k2d3.Regimen.from_dict({"medications": [{"drug": "acenocoumarol", "target_inr": 2.5}]})
    r = k2d3.simulate(coag.ADULT, reg, days=70)
    dose = r.titrated_dose_mg["acenocoumarol"]
    assert 1.2 < dose < 3.5          # Montes 2010: median 2 mg/day
    assert r.timecourse["inr"].loc[70.0] == pytest.approx(2.5, abs=0.3)
    # stop each drug after 8 weeks at a similar INR: the shorter half-life (9.5 vs 28.5 h) lets
    # acenocoumarol's INR fall sooner
    def after_stop(drug, mg):
        reg = k2d3.Regimen.from_dict({"medications": [{"drug": drug, "dose": f"{mg} mg", "every": "1 day",
                                                       "stop_day": 55}]})
        inr = k2d3.simulate(coag.ADULT, reg, days=59, times=[56, 59]).timecourse["inr"]
        return inr.iloc[-1] / inr.iloc[0]
    assert after_stop("acenocoumarol", coag.dose_for_inr(2.5, drug="acenocoumarol")) < \
        after_stop("warfarin", coag.dose_for_inr(2.5))


def test_stopping_vitamin_k_on_warfarin_warns_that_the_inr_rises():
    from k2d3.analyses.safety import vka_warnings

    reg = k2d3.Regimen.from_dict({
        "medications": [{"drug": "warfarin", "target_inr": 2.5}],   # titrated with the MK-7 on board
        "supplements": [{"compound": "MK-7", "dose": "45 ug", "every": "1 day", "stop_day": 70},
                        {"compound": "K1", "dose": "300 ug", "every": "1 day", "start_day": 112, "stop_day": 126},
                        {"compound": "MK-7", "dose": "90 ug", "every": "1 day", "start_day": 126}]})
    r = k2d3.simulate(coag.ADULT, reg, days=150)
    warnings = {w["day"]: w for w in vka_warnings(r)}
    assert set(warnings) == {70.0, 112.0, 126.0}
    # the size follows the MK-7 45 ug/day response checked against Theuwissen 2013 (-27% on starting)
    assert "stopping MK-7 on day 70" in warnings[70.0]["message"] and warnings[70.0]["change_pct"] > 10
    assert "by day 84" in warnings[70.0]["message"]         # 14 days on
    assert warnings[112.0]["change_pct"] < -10              # starting K1 lowers it
    assert "stopping K1 and starting MK-7" in warnings[126.0]["message"] and warnings[126.0]["change_pct"] < 0


def test_k1_is_a_small_fast_turning_part_of_hepatic_vitamin_k():
    """IOM 2001 (citing Usui 1990, Shearer 1992): the liver holds about 10 times as much vitamin
    K as menaquinones as K1, and its K1 turns over rapidly. At day 0 of the default subject K1
    is 1/11 of the liver's vitamin K; MK-7 then moves the INR far more per ug than K1."""
    from k2d3.engine.equilibrium import equilibrate
    from k2d3.engine.runner import runner

    rr = runner()
    equilibrate(rr, k2d3.Subject())
    k1 = sum(rr[f"{s}_liver_k1"] for s in ("vkq", "vkh2", "vko"))
    mk = sum(rr[f"{s}_liver"] for s in ("vkq", "vkh2", "vko"))
    assert k1 / (k1 + mk) == pytest.approx(1 / 11, abs=0.005)
    k1_100, k1_150 = coag.schurgers_k1()
    mk7_10, _, mk7_45 = coag.theuwissen_dose_response()
    assert mk7_45 < k1_150 < k1_100 < 0    # 45 ug MK-7 outweighs 150 ug K1
    assert abs(k1_100) < 1.5 * abs(mk7_10)  # 100 ug K1 acts about like 10 ug MK-7
