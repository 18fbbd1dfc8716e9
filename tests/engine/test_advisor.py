"""The safety advisor: each rule of safety_rules.yaml fires when its condition holds and
stays silent when it does not; thresholds tied to calibration.csv rows match the table."""
import pytest

import k2d3
from k2d3.analyses import validate
from k2d3.engine import advisor

DAYS = 30.0


def reg(supplements=(), medications=(), diet=()):
    return k2d3.Regimen.from_dict({"supplements": list(supplements), "medications": list(medications),
                                   "diet": list(diet)})


def codes(subject=None, regimen=None, maxima=None):
    return {f["code"] for f in advisor.evaluate(subject or k2d3.Subject(), regimen or reg(), DAYS, maxima)}


def d3(iu):
    return {"compound": "D3", "dose": f"{iu} IU", "every": "1 day"}


WARFARIN = {"drug": "warfarin", "dose": "5 mg", "every": "1 day"}


def test_every_rule_has_a_source_severity_and_message():
    ids = [r.id for r in advisor.rules()]
    assert len(ids) == len(set(ids)) >= 14
    for r in advisor.rules():
        assert r.source.strip() and r.message.strip() and r.severity in advisor.SEVERITIES


@pytest.mark.parametrize("iu, fires", [(4000, False), (4400, True), (10000, True)])
def test_vitamin_d_above_ul(iu, fires):
    assert ("vitamin_d_above_ul" in codes(regimen=reg([d3(iu)]))) is fires


def test_vitamin_d_ul_counts_foods_too():
    diet = [{"food": "cod_liver_oil", "grams": 100, "every": "1 day"}]
    assert "vitamin_d_above_ul" in codes(regimen=reg([d3(2000)], diet=diet))
    assert "vitamin_d_above_ul" not in codes(regimen=reg([d3(2000)]))


@pytest.mark.parametrize("age, mg, fires", [(40, 1400, False), (60, 1400, True), (60, 900, False)])
def test_calcium_above_ul_depends_on_age(age, mg, fires):
    # usual diet 964 mg/day plus the supplement; IOM UL 2500 mg to 50 y, 2000 mg from 51 y
    regimen = reg([{"compound": "calcium", "dose": f"{mg} mg", "every": "1 day"}])
    assert ("calcium_above_ul" in codes(k2d3.Subject(age=age), regimen)) is fires


@pytest.mark.parametrize("ohd, expected", [(240, set()), (260, {"ohd25_nmol_l_above_250"}),
                                           (400, {"ohd25_nmol_l_above_375"})])
def test_projected_25ohd_caution_and_toxicity(ohd, expected):
    found = codes(maxima={"ohd25_nmol_l": ohd}) & {"ohd25_nmol_l_above_250", "ohd25_nmol_l_above_375"}
    assert found == expected


@pytest.mark.parametrize("ca, fires", [(2.55, False), (2.65, True)])
def test_hypercalcaemia(ca, fires):
    assert ("hypercalcaemia" in codes(maxima={"calcium_mmol_l": ca})) is fires


@pytest.mark.parametrize("urine, fires", [(280, False), (320, True)])
def test_hypercalciuria(urine, fires):
    assert ("hypercalciuria" in codes(maxima={"urine_calcium_mg_day": urine})) is fires


def test_level_rules_need_levels():
    assert not {"hypercalcaemia", "hypercalciuria", "ohd25_nmol_l_above_250"} & codes()


def test_any_vitamin_k_on_warfarin_is_flagged_with_the_named_thresholds():
    mk7 = lambda ug: {"compound": "MK-7", "dose": f"{ug} ug", "every": "1 day"}
    k1 = lambda ug: {"compound": "K1", "dose": f"{ug} ug", "every": "1 day"}
    assert codes(regimen=reg([mk7(45)], [WARFARIN])) & {"vka_vitamin_k_intake", "vka_mk7_at_least_50"} == {
        "vka_vitamin_k_intake"}
    assert {"vka_vitamin_k_intake", "vka_mk7_at_least_50"} <= codes(regimen=reg([mk7(50)], [WARFARIN]))
    assert "vka_k1_at_least_150" not in codes(regimen=reg([k1(100)], [WARFARIN]))
    assert "vka_k1_at_least_150" in codes(regimen=reg([k1(150)], [WARFARIN]))
    # foods carrying vitamin K count; vitamin K without warfarin, or warfarin alone, does not fire
    assert "vka_vitamin_k_intake" in codes(regimen=reg([], [WARFARIN], [{"food": "natto", "grams": 10,
                                                                          "every": "1 day"}]))
    assert not {"vka_vitamin_k_intake", "vka_mk7_at_least_50"} & codes(regimen=reg([mk7(180)]))
    assert "vka_vitamin_k_intake" not in codes(regimen=reg([d3(1000)], [WARFARIN]))


@pytest.mark.parametrize("rule_id, row_id", [("vka_mk7_at_least_50", "mk7_anticoag_threshold"),
                                             ("vka_k1_at_least_150", "inr_schurgers2004")])
def test_vka_thresholds_are_the_calibration_rows(rule_id, row_id):
    rule = next(r for r in advisor.rules() if r.id == rule_id)
    assert rule.args["calibration_row"] == row_id
    assert rule.args["ug_day"] == float(validate.calibration_rows()[row_id]["published"])


@pytest.mark.parametrize("field, value, rule_id", [
    ("pregnant", True, "pregnancy"), ("breastfeeding", True, "breastfeeding"),
    ("ckd_stage", 3, "chronic_kidney_disease"), ("ckd_stage", 4, "chronic_kidney_disease"),
    ("sarcoidosis", True, "sarcoidosis"), ("primary_hyperparathyroidism", True, "primary_hyperparathyroidism")])
def test_subject_conditions_with_supplements(field, value, rule_id):
    subject = k2d3.Subject(**{field: value})
    assert rule_id in codes(subject, reg([d3(1000)]))
    assert rule_id not in codes(subject, reg())             # nothing supplemented: nothing to advise on
    assert rule_id not in codes(k2d3.Subject(), reg([d3(1000)]))


def test_ckd_stage_2_and_egfr_derived_stage():
    assert "chronic_kidney_disease" not in codes(k2d3.Subject(ckd_stage=2), reg([d3(1000)]))
    assert "chronic_kidney_disease" in codes(k2d3.Subject(egfr_ml_min=25), reg([d3(1000)]))


def test_clinician_advice_where_the_article_gives_it():
    flags = advisor.evaluate(k2d3.Subject(sarcoidosis=True), reg([d3(1000)], [WARFARIN] ,
                                                                   [{"food": "natto", "grams": 10, "every": "1 day"}]),
                             DAYS)
    by_code = {f["code"]: f for f in flags}
    assert by_code["sarcoidosis"]["clinician"] and "clinician" in by_code["sarcoidosis"]["message"]
    assert by_code["vka_vitamin_k_intake"]["clinician"]
    assert not any(f["clinician"] for f in advisor.evaluate(k2d3.Subject(), reg([d3(10000)]), DAYS))


def test_advisor_never_changes_the_regimen_and_runs_in_every_summary():
    regimen = reg([d3(50000)])
    before = regimen.model_dump()
    r = k2d3.simulate(k2d3.Subject(), regimen, days=120)
    flags = {f["code"] for f in r.summary()["flags"]}
    assert {"vitamin_d_above_ul", "ohd25_nmol_l_above_250"} <= flags
    assert r.regimen.model_dump() == before and regimen.model_dump() == before


def test_every_rule_is_documented():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "safety.md").read_text()
    assert all(f"`{r.id}`" in text for r in advisor.rules())
