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


def test_article_week_of_foods_contributes_what_the_table_says():
    """examples/article_foods.yaml: natto, Gouda, Brie, egg yolk, salmon and UV mushrooms each
    contribute (grams per week / 7) x their table value, with the table's sources listed."""
    from pathlib import Path

    regimen = k2d3.Regimen.from_yaml(Path(__file__).parents[2] / "examples" / "article_foods.yaml")
    rep = intake.report(k2d3.Subject(), regimen, 28)
    rows = {r["form"]: r for r in rep["forms"]}
    table = foods.foods()

    def contribution(form, food):
        hit = [c for c in rows[form]["food_contributions"] if c["food"] == food]
        assert hit, f"{food} not listed under {form}"
        assert hit[0]["sources"] and all(s["citation"] and s["detail"] for s in hit[0]["sources"])
        return hit[0]["amount"]

    # natto 1/4 cup (43.75 g, USDA SR25 WEIGHT) once a week: MK-7 865 ug/100 g (median of 775, 865, 939)
    assert contribution("MK-7", "natto") == pytest.approx(43.75 * 8.65 / 7)
    # Gouda 1 oz daily, Brie 1 oz weekly: their own per-form rows (secondary compilation, said in the source)
    for form, col in (("MK-4", "mk4_ug"), ("MK-8", "mk8_ug"), ("MK-9", "mk9_ug")):
        assert contribution(form, "gouda") == pytest.approx(28.35 * table["gouda"].per_100g[col] / 100)
        assert contribution(form, "brie") == pytest.approx(28.35 * table["brie"].per_100g[col] / 100 / 7)
    assert contribution("MK-9", "gouda") == pytest.approx(28.35 * 0.396)
    assert not [c for c in rows["MK, form not reported"]["food_contributions"] if c["food"] in ("gouda", "brie")]
    assert contribution("calcium", "gouda") == pytest.approx(28.35 * 7.00)
    # 2 egg yolks (17 g each) weekly: D3 5.4 ug/100 g (USDA SR25 01125), MK-4 47.7 and MK-6 0.7 ug/100 g
    assert contribution("D3", "egg_yolk") == pytest.approx(34 * 0.054 / 7)
    assert contribution("MK-4", "egg_yolk") == pytest.approx(34 * 0.477 / 7)
    assert contribution("MK-6", "egg_yolk") == pytest.approx(34 * 0.007 / 7)
    # wild salmon 4 oz (USDA: 3 oz = 85 g) weekly: D3 14.0 ug/100 g (Jakobsen 2019, midpoint of 9.4 and 18.5)
    assert table["salmon_wild"].portions["oz"] == pytest.approx(85 / 3, abs=1e-3)
    assert contribution("D3", "salmon_wild") == pytest.approx(4 * table["salmon_wild"].portions["oz"] * 0.14 / 7)
    # UV-exposed mushrooms 1 cup diced (86 g) weekly: D2 11.2 ug/100 g (USDA SR25 11998)
    assert contribution("D2", "mushrooms_uv_exposed") == pytest.approx(86 * 0.112 / 7)
    # mackerel 1 fillet (112 g), sauerkraut 1/2 cup (71 g), kimchi 50 g, weekly
    assert contribution("MK-4", "mackerel") == pytest.approx(112 * 0.02 / 7)
    assert contribution("MK-6", "sauerkraut") == pytest.approx(71 * 0.015 / 7)
    assert contribution("MK-4", "kimchi") == pytest.approx(50 * 0.019 / 7)
    for name in ("natto", "gouda", "brie", "egg_yolk", "salmon_wild", "mushrooms_uv_exposed"):
        assert table[name].sources
    # what the table does not report is named, not silently zero: no menaquinone analysis of wild Atlantic
    # salmon or of boiled eggs was found
    assert rep["not_reported"]["menaquinones (K2)"] == ["egg_boiled", "salmon_wild"]
    assert "salmon_wild" in rep["not_reported"]["K1"] and "kimchi" in rep["not_reported"]["calcium"]
    # the per-food contributions add up to the foods column
    for r in rep["forms"]:
        assert sum(c["amount"] for c in r["food_contributions"]) == pytest.approx(r["foods"])
