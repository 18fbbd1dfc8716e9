"""The food table (every row: sources, physical limits, forms adding up, unique names) and diet entries."""
import csv
from importlib import resources

import pytest

import k2d3
from k2d3.engine import dosing
from k2d3.errors import InputError
from k2d3.inputs import compounds, foods

ROWS = list(csv.DictReader(resources.files("k2d3.inputs").joinpath("data/foods.csv").open(encoding="utf-8")))
#: Upper limits per 100 g that no food reaches: fish-liver oil is the richest vitamin D source
#: (USDA SR25 cod liver oil 250 ug), natto the richest menaquinone source (under 2 mg), and
#: dried whey or sesame the richest calcium sources (about 2 g).
_LIMITS = {"d3_ug": 300, "d2_ug": 300, "ohd25_ug": 10, "k1_ug": 2000, "mk_total_ug": 2000, "mk_high_ug": 2000,
           "calcium_mg": 2500, "fat_g": 100}
K2 = "menaquinones (K2)"


@pytest.mark.parametrize("row", ROWS, ids=[r["food"] for r in ROWS])
def test_row_is_sourced_and_physical(row):
    food = foods.foods()[row["food"]]
    refs = foods.references()
    assert food.sources or food.notes, "a row without any source or note"
    for _, key, detail in food.sources:
        assert key in refs and detail, key
        assert refs[key].get("doi") or refs[key].get("pmid") or refs[key].get("url") or "Int Dairy J" in refs[key]["citation"]
    for col in foods.VALUE_COLUMNS:
        v = food.value(col) if col not in ("mk_low_ug", "mk_high_ug") else (
            None if food.mk_range_ug is None else food.mk_range_ug[col == "mk_high_ug"])
        if v is None:
            continue
        assert food.source_of(col), f"{col} has no source"
        assert 0 <= v <= _LIMITS.get(col, 2000), f"{col}={v}"
    for label, grams in food.portions.items():
        assert 0 < grams <= 10000 and food.source_of("portions"), label  # a whole turkey is 5 kg
    if food.fortification:
        assert food.country and food.source_of("fortification")
    forms = [food.per_100g[c] for c in foods.MK_COLUMNS if food.per_100g[c] is not None]
    if forms and food.mk_total_ug is not None:
        assert sum(forms) == pytest.approx(food.mk_total_ug, abs=0.05)  # the forms add up to the total
    if food.mk_range_ug is not None:
        lo, hi = food.mk_range_ug
        assert lo <= food.mk_total_ug <= hi                            # the central value lies in the range


def test_no_duplicate_foods_or_aliases():
    seen = {}
    for f in foods.foods().values():
        for name in (f.name, *f.aliases):
            key = foods._key(name)
            assert key not in seen or seen[key] == f.name, f"{name!r} names both {seen.get(key)} and {f.name}"
            seen[key] = f.name
    assert len(ROWS) == len(foods.foods())


def test_table_covers_western_japanese_nordic_and_fortified_sources():
    table = foods.foods()
    assert len(table) >= 150
    article = {"natto", "gouda", "brie", "edam", "emmental", "sauerkraut", "kimchi", "yogurt_whole", "egg_yolk",
               "egg_whole", "salmon_wild", "salmon_farmed", "mackerel", "herring", "cod_liver_oil",
               "mushrooms_uv_exposed", "butter", "liver_beef", "chicken_leg", "sardines_canned"}
    assert article <= set(table)
    assert {"tofu_nigari", "miso", "nori", "eel", "shiitake_dried", "komatsuna"} <= set(table)          # Japanese
    assert {"milk_fortified_se", "milk_fortified_fi", "margarine_fortified_se", "jarlsberg", "herring_pickled",
            "bread_rye"} <= set(table)                                                                  # Nordic
    fortified = [f for f in table.values() if f.group == "fortified"]
    assert len(fortified) >= 10 and {f.country for f in fortified} >= {"USA", "Sweden", "Finland"}
    assert table["mushrooms_uv_exposed"].per_100g["d2_ug"] == 11.2 and table["mushrooms_uv_exposed"].per_100g["d3_ug"] is None


def test_every_article_cheese_and_fermented_food_with_an_analysis_is_dosed():
    """Menaquinones are never dosed as zero where an analysis exists; the central value is used."""
    for name in ("natto", "gouda", "edam", "brie", "camembert", "emmental", "jarlsberg", "cheddar", "blue_cheese",
                 "egg_yolk", "sauerkraut", "kimchi", "yogurt_whole"):
        food = foods.foods()[name]
        dosed = foods.dosed_per_100g(food)
        k2 = sum(v for c, v in dosed.items() if c.startswith("MK"))
        assert k2 == pytest.approx(food.mk_total_ug) and k2 > 0
    gouda = foods.foods()["gouda"]
    assert gouda.mk_range_ug == (0.5, 282.0) and gouda.mk_total_ug == 65.6   # its own row, inside the range
    assert foods.UNSPECIFIED_MK not in foods.dosed_per_100g(gouda)          # the forms account for the whole total
    assert foods.dosed_per_100g(gouda)["MK-9"] == 39.6 and foods.dosed_per_100g(gouda)["MK-4"] == 14.8
    assert foods.foods()["natto"].per_100g["mk7_ug"] == 865 and foods.foods()["natto"].mk_range_ug == (775, 939)
    # no analysis seen: shown as not reported, never as zero
    table = foods.foods()
    assert not table["salmon_wild"].reported(K2) and not table["egg_boiled"].reported(K2)
    assert table["kimchi"].reported(K2) and not table["kimchi"].reported("K1") and table["kimchi"].notes



@pytest.mark.parametrize("name,column,value,key", [
    ("egg_yolk", "mk4_ug", 47.7, "k2viewer"), ("egg_whole", "mk4_ug", 29.6, "k2viewer"),
    ("butter", "mk4_ug", 20.9, "usda_sr28"), ("butter_unsalted", "mk4_ug", 20.9, "usda_sr28"),
    ("salmon_sockeye", "mk4_ug", 0.3, "usda_sr28"), ("salmon_farmed", "mk4_ug", 0.0, "usda_sr28"),
    ("chicken_breast", "mk4_ug", 8.4, "usda_sr28"), ("cheddar", "mk4_ug", 8.6, "usda_sr28"),
    ("cottage_cheese", "mk4_ug", 0.9, "usda_sr28"), ("mackerel", "mk4_ug", 2.0, "k2viewer"),
    ("herring", "mk8_ug", 2.1, "k2viewer"), ("yogurt_whole", "mk9_ug", 3.3, "k2viewer"),
    ("sauerkraut", "mk6_ug", 1.5, "k2viewer"), ("kimchi", "mk4_ug", 1.9, "k2viewer"),
    ("edam", "mk9_ug", 45.9, "k2viewer"), ("brie", "mk4_ug", 9.5, "k2viewer"),
    ("camembert", "mk9_ug", 30.3, "k2viewer"),
    ("gruyere", "mk5_ug", 1.4, "k2viewer"), ("parmesan", "mk4_ug", 7.5, "k2viewer"),
    ("blue_cheese", "mk9_ug", 271.0, "k2viewer"), ("feta", "mk9_ug", 11.6, "k2viewer"),
])
def test_eggs_fish_butter_fermented_foods_and_cheeses_carry_their_menaquinones(name, column, value, key):
    """Each value cites where it was read; a value from the secondary compilation says so."""
    food = foods.foods()[name]
    assert food.per_100g[column] == value and food.reported(K2)
    keys = [k for k, _ in food.source_of(column)]
    assert keys == [key]
    if key == "k2viewer":
        assert all("secondary" in d for _, d in food.source_of(column))


def test_per_variety_cheese_values_replace_the_category_median():
    """No cheese of the article keeps the old category median (66.75 ug/100 g) as its central value."""
    table = foods.foods()
    centrals = {n: table[n].mk_total_ug for n in ("gouda", "edam", "brie", "camembert", "gruyere", "parmesan",
                                                 "blue_cheese", "roquefort", "feta", "cheddar", "cottage_cheese")}
    assert 66.75 not in centrals.values()
    assert centrals == {"gouda": 65.6, "edam": 64.7, "brie": 16.7, "camembert": 55.4, "gruyere": 6.6,
                        "parmesan": 8.6, "blue_cheese": 311.8, "roquefort": 38.1, "feta": 21.1, "cheddar": 21.7,
                        "cottage_cheese": 24.0}


def test_menaquinone_forms_go_to_the_nearest_modelled_depot():
    c = compounds.compounds()
    assert [c[f].target for f in ("MK-4", "MK-5", "MK-6", "MK-7", "MK-8", "MK-9", "MK-10", foods.UNSPECIFIED_MK)] == \
        ["mk4_gut", "mk4_gut", "mk7_gut", "mk7_gut", "mk9_gut", "mk9_gut", "mk9_gut", "mk9_gut"]
    cheddar = foods.foods()["cheddar"]
    item = k2d3.Regimen.from_dict({"diet": [{"food": "cheddar", "grams": 100, "on_days": [0]}]}).diet[0]
    by = {d.compound: d for d in dosing.diet_doses(item, 24)}
    assert by["MK-5"].depot == "mk4_gut" and by["MK-8"].depot == "mk9_gut"
    assert foods.UNSPECIFIED_MK not in by                 # the forms account for the whole total
    assert cheddar.per_100g["mk5_ug"] + cheddar.per_100g["mk8_ug"] + cheddar.per_100g["mk9_ug"] == pytest.approx(13.1)


@pytest.mark.parametrize("food,portion,grams", [("egg_whole", "1 egg", 50.0), ("egg_yolk", "2 yolks", 34.0),
                                                ("cheddar", "2 slices", 56.0), ("natto", "1 cup", 175.0),
                                                ("cod_liver_oil", "1 tbsp", 13.6), ("natto", "1/4 cup", 43.75),
                                                ("gouda", "30 g", 30.0), ("gouda", "1 oz", 28.35),
                                                ("gouda", "2 slices", 42.0), ("edam", "1 cracker-size slice", 9.0),
                                                ("parmesan", "1 package (5 oz)", 142.0),
                                                ("yogurt_whole", "1 container (4 oz)", 113.0)])
def test_portions_use_the_table_weights(food, portion, grams):
    item = k2d3.Regimen.from_dict({"diet": [{"food": food, "portion": portion, "every": "1 day"}]}).diet[0]
    assert item.grams == pytest.approx(grams)


@pytest.mark.parametrize("entry,field,text", [
    ({"food": "gouda", "portion": "1 wedge"}, "diet.0.portion",
     "known: oz (28.35 g), package (7 oz) (198 g), slice (21 g), cracker-size slice (9 g)"),
    ({"food": "brie", "portion": "2 slices"}, "diet.0.portion", "no portion 'slices' for brie"),
    ({"food": "gouda", "portion": "-1 oz"}, "diet.0.portion", "positive number"),
    ({"food": "gouda", "portion": "0 oz"}, "diet.0.portion", "must be positive"),
    ({"food": "gouda", "portion": "1 oz", "grams": 20}, "diet.0.grams", "does not match"),
    ({"food": "gouda cheese", "grams": 30}, "diet.0.food", "did you mean gouda"),
    ({"food": "gouda"}, "diet.0.grams", "give 'grams'"),
    ({"food": "natto", "grams": -5}, "diet.0.grams", "greater than 0"),
    ({"food": "natto", "grams": 0}, "diet.0.grams", "greater than 0"),
])
def test_bad_diet_entries_are_one_line_errors(entry, field, text):
    with pytest.raises(InputError) as err:
        k2d3.Regimen.from_dict({"diet": [{**entry, "every": "1 day"}]})
    assert err.value.field == field and text in err.value.problem and "\n" not in str(err.value)


def test_rich_in_ranks_by_nutrient_per_100g_and_per_portion():
    k2 = foods.rich_in("K2")
    assert k2[0][0].name == "natto" and k2[0][1] == 865
    assert all(a[1] >= b[1] for a, b in zip(k2, k2[1:]))
    d3 = dict((f.name, v) for f, v, _ in foods.rich_in("D3", per="portion"))
    assert d3["cod_liver_oil"] == pytest.approx(250 * 13.6 / 100)   # 1 tbsp of 13.6 g
    assert foods.rich_in("calcium")[0][1] <= 2.5 * 1000             # mg
    with pytest.raises(InputError):
        foods.rich_in("zinc")


def test_natto_becomes_mk7_doses_and_raises_serum_mk7():
    reg = k2d3.Regimen.from_dict({"diet": [{"food": "natto", "grams": 40, "every": "1 day"}]})
    natto = foods.foods()["natto"]
    intake = dosing.mean_daily_intake_ug(reg, 30 * 24)
    assert intake["MK-7"] == pytest.approx(natto.per_100g["mk7_ug"] * 0.4)
    r = k2d3.simulate(k2d3.Subject(), reg, days=30)
    assert r.timecourse["mk7_nmol_l"].iloc[-1] > 5


def test_vegetable_k1_is_absorbed_less_than_supplement_k1():
    spinach = foods.foods()["spinach_raw"]
    item = k2d3.Regimen.from_dict({"diet": [{"food": "spinach_raw", "grams": 100.0, "on_days": [0]}]}).diet[0]
    food_dose = sum(d.amount_nmol for d in dosing.diet_doses(item, 24) if d.compound == "K1")
    supp = k2d3.Regimen.from_dict({"supplements": [{"compound": "K1", "dose": f"{spinach.per_100g['k1_ug']} ug",
                                                    "on_days": [0], "with_meal_fat_g": spinach.fat_g}]}).supplements[0]
    supp_dose = dosing.supplement_doses(supp, 24)[0].amount_nmol
    assert food_dose == pytest.approx(supp_dose * dosing.food_matrix_factor("K1"))
    assert dosing.food_matrix_factor("K1") < 0.5
