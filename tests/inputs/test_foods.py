"""The food table and diet entries."""
import pytest

import k2d3
from k2d3.engine import dosing
from k2d3.errors import InputError
from k2d3.inputs import foods


def test_table_has_the_article_foods_with_sources():
    names = set(foods.foods())
    article = {"natto", "gouda", "brie", "edam", "emmental", "sauerkraut", "kimchi", "yogurt_whole", "egg_yolk", "egg_whole", "chicken_breast", "beef_ground", "liver_beef", "sardines_canned", "tuna_canned_light", "milk_fortified_us", "soy_drink_fortified", "breakfast_cereal_fortified", "lettuce_romaine",
               "butter", "salmon_wild", "salmon_farmed", "mackerel", "herring", "cod_liver_oil", "spinach_raw",
               "broccoli_cooked", "parsley", "kale_raw", "mushrooms_uv_exposed", "mushrooms_plain"}
    assert article <= names
    assert len(names) >= 60
    assert all(f.source.strip() for f in foods.foods().values())


def test_unknown_food_suggests_close_names():
    with pytest.raises(InputError) as err:
        k2d3.Regimen.from_dict({"diet": [{"food": "gouda cheese", "grams": 30, "every": "1 day"}]})
    assert err.value.field == "diet.0.food" and "gouda" in err.value.problem


@pytest.mark.parametrize("grams", [0, -5])
def test_grams_must_be_positive(grams):
    with pytest.raises(InputError) as err:
        k2d3.Regimen.from_dict({"diet": [{"food": "natto", "grams": grams, "every": "1 day"}]})
    assert err.value.field == "diet.0.grams"


def test_natto_becomes_mk7_doses_and_raises_serum_mk7():
    reg = k2d3.Regimen.from_dict({"diet": [{"food": "natto", "grams": 40, "every": "1 day"}]})
    natto = foods.foods()["natto"]
    intake = dosing.mean_daily_intake_ug(reg, 30 * 24)
    assert intake["MK-7"] == pytest.approx(natto.per_100g["mk7_ug"] * 0.4)
    r = k2d3.simulate(k2d3.Subject(), reg, days=30)
    assert r.timecourse["mk7_nmol_l"].iloc[-1] > 5


def test_vegetable_k1_is_absorbed_less_than_supplement_k1():
    spinach = foods.foods()["spinach_raw"]
    grams = 100.0
    item = k2d3.Regimen.from_dict({"diet": [{"food": "spinach_raw", "grams": grams, "on_days": [0]}]}).diet[0]
    food_dose = sum(d.amount_nmol for d in dosing.diet_doses(item, 24) if d.compound == "K1")
    supp = k2d3.Regimen.from_dict({"supplements": [{"compound": "K1", "dose": f"{spinach.per_100g['k1_ug']} ug",
                                                    "on_days": [0], "with_meal_fat_g": spinach.fat_g}]}).supplements[0]
    supp_dose = dosing.supplement_doses(supp, 24)[0].amount_nmol
    assert food_dose == pytest.approx(supp_dose * dosing.food_matrix_factor("K1"))
    assert dosing.food_matrix_factor("K1") < 0.5


def test_missing_column_names_exactly_the_unreported_cells():
    import csv
    from importlib import resources

    path = resources.files("k2d3.inputs").joinpath("data/foods.csv")
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    columns = [*foods.NUTRIENTS, "calcium_mg", "fat_g"]
    for row in rows:
        assert [c for c in columns if not row[c].strip()] == (row["missing"].split(";") if row["missing"] else [])


def test_cheese_menaquinone_ranges_span_the_published_disagreement():
    for name in ("gouda", "edam", "brie", "emmental", "camembert", "blue_cheese"):
        lo, hi = foods.foods()[name].mk_range_ug
        assert hi >= 10 * max(lo, 1.0)          # an order of magnitude between sources
        assert "Fu X et al. 2017" in foods.foods()[name].source or "Walther" in foods.foods()[name].source
