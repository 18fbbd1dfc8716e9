"""The intake report: amounts by source and the reference values that apply to the subject."""
import pytest

import k2d3
from k2d3.engine import intake
from k2d3.inputs import foods, limits


def _limit(rep, group, body, kind):
    g = next(t for t in rep["totals"] if t["group"] == group)
    return next(lim for lim in g["limits"] if lim["body"] == body and lim["kind"] == kind)


def test_sources_add_up_per_form():
    regimen = k2d3.Regimen.from_dict({
        "supplements": [{"compound": "D3", "dose": "1000 IU", "every": "1 day"},
                        {"compound": "MK-7", "dose": "90 ug", "every": "1 day"}],
        "diet": [{"food": "natto", "grams": 20, "every": "1 day"}],
        "sun": {"minutes_per_day": 20, "uv_index": 6}})
    rep = intake.report(k2d3.Subject(), regimen, 28)
    rows = {r["form"]: r for r in rep["forms"]}
    assert rows["D3"]["supplements"] == pytest.approx(25.0)
    assert rows["MK-7"]["foods"] == pytest.approx(0.2 * foods.foods()["natto"].per_100g["mk7_ug"])
    assert rows["MK-7"]["total"] == pytest.approx(90 + 0.2 * foods.foods()["natto"].per_100g["mk7_ug"])
    assert rows["K1"]["usual_diet"] == 100 and rows["calcium"]["usual_diet"] == pytest.approx(964.08)
    assert rows["D3"]["sun"] > 1
    # sun is shown but is not an intake: the vitamin D total compared with the UL leaves it out
    assert rep["totals"][0]["intake"] == pytest.approx(25.0)


def test_reference_values_depend_on_sex_age_and_weight():
    young_woman = intake.report(k2d3.Subject(age=30, sex="female", weight_kg=60), k2d3.Regimen(), 7)
    old_man = intake.report(k2d3.Subject(age=75, sex="male", weight_kg=90), k2d3.Regimen(), 7)
    assert _limit(young_woman, "vitamin K (K1+MK)", "IOM", "AI")["value"] == 90
    assert _limit(old_man, "vitamin K (K1+MK)", "IOM", "AI")["value"] == 120
    assert _limit(young_woman, "vitamin K (K1+MK)", "EFSA", "AI")["value"] == pytest.approx(60)  # 1 ug/kg
    assert _limit(young_woman, "vitamin D (D3+D2)", "IOM", "RDA")["value"] == 15
    assert _limit(old_man, "vitamin D (D3+D2)", "IOM", "RDA")["value"] == 20
    assert _limit(young_woman, "calcium", "IOM", "UL")["value"] == 2500
    assert _limit(old_man, "calcium", "IOM", "UL")["value"] == 2000
    assert _limit(old_man, "calcium", "IOM", "RDA")["value"] == 1200
    assert _limit(young_woman, "calcium", "EFSA", "PRI")["value"] == 950
    assert _limit(intake.report(k2d3.Subject(age=20), k2d3.Regimen(), 7), "calcium", "EFSA", "PRI")["value"] == 1000
    for rep in (young_woman, old_man):
        for g in rep["totals"]:
            assert all(lim["source"] for lim in g["limits"])


def test_status_against_the_upper_level():
    regimen = k2d3.Regimen.from_dict({"supplements": [{"compound": "D3", "dose": "5000 IU", "every": "1 day"}]})
    rep = intake.report(k2d3.Subject(), regimen, 7)
    assert _limit(rep, "vitamin D (D3+D2)", "IOM", "UL")["status"] == "ABOVE"
    assert _limit(rep, "vitamin D (D3+D2)", "EFSA", "AI")["status"] == "meets"
    assert limits.lowest_upper(k2d3.Subject(), "vitamin_d").body == "IOM and EFSA"
    assert limits.lowest_upper(k2d3.Subject(), "vitamin_k") is None
