"""Regimen and subject schemas: good input parses, bad input fails with the field named."""
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import k2d3
from k2d3.errors import InputError
from k2d3.inputs import units


def test_units_convert_to_nmol():
    # 2000 IU D3 = 50 ug = 50e3 ng / 384.64 g/mol
    assert units.amount_nmol("2000 IU", "dose", 384.64, 40, "D3") == pytest.approx(129.99, abs=0.01)
    for text in ("180 ug", "180 µg", "180 mcg", "0.18 mg"):
        assert units.amount_nmol(text, "dose", 649.0, None, "MK-7") == pytest.approx(277.35, abs=0.01)
    assert units.duration_hours("1 week", "every") == 168
    assert units.duration_hours("12 h", "every") == 12


@pytest.mark.parametrize("data, field, words", [
    ({"supplements": [{"compound": "D4", "dose": "1 ug", "every": "1 day"}]}, "supplements.0.compound", "unknown compound"),
    ({"supplements": [{"compound": "D3", "dose": "-1 ug", "every": "1 day"}]}, "supplements.0.dose", "negative"),
    ({"supplements": [{"compound": "D3", "dose": "lots", "every": "1 day"}]}, "supplements.0.dose", "cannot read"),
    ({"supplements": [{"compound": "D3", "dose": "5 parsec", "every": "1 day"}]}, "supplements.0.dose", "not a mass"),
    ({"supplements": [{"compound": "D3", "dose": "5 blorbs", "every": "1 day"}]}, "supplements.0.dose", "cannot read"),
    ({"supplements": [{"compound": "D3", "dose": "5 m", "every": "1 day"}]}, "supplements.0.dose", "not a mass"),
    ({"supplements": [{"compound": "D3", "dose": 50, "every": "1 day"}]}, "supplements.0.dose", "no unit"),
    ({"supplements": [{"compound": "MK-7", "dose": "100 IU", "every": "1 day"}]}, "supplements.0.dose", "IU is not defined"),
    ({"supplements": [{"compound": "D3", "every": "1 day"}]}, "supplements.0.dose", "missing"),
    ({"supplements": [{"compound": "D3", "dose": "1 ug"}]}, "supplements.0.every", "give 'every'"),
    ({"supplements": [{"compound": "D3", "dose": "1 ug", "every": "1 day", "start_day": 10, "stop_day": 5}]},
     "supplements.0.stop_day", "before start_day"),
    ({"supplements": [{"compound": "D3", "dose": "1 ug", "every": "0 days"}]}, "supplements.0.every", "positive"),
    ({"supplements": [{"compound": "D3", "dose": "1 ug", "every": "1 day", "colour": "red"}]},
     "supplements.0.colour", "unknown field"),
    ({"subject": {"age": 12}}, "subject.age", "greater than or equal to 18"),
    ({"subject": {"age": 111}}, "subject.age", "less than or equal to 110"),
    ({"subject": {"weight_kg": 25}}, "subject.weight_kg", "greater than or equal to 30"),
    ({"subject": {"sex": "x"}}, "subject.sex", "female"),
    ({"sun": {"minutes_per_day": 10}}, "sun.latitude", "give 'latitude'"),
    ({"sun": {"minutes_per_day": -1, "uv_index": 5}}, "sun.minutes_per_day", "greater than or equal to 0"),
    ({"days": -5}, "days", "greater than 0"),
    ({"pills": []}, "pills", "unknown field"),
])
def test_bad_input_names_the_field(data, field, words):
    with pytest.raises(InputError) as err:
        k2d3.Regimen.from_dict(data)
    assert err.value.field == field
    assert words in err.value.problem
    assert "\n" not in str(err.value)


def test_malformed_yaml_names_the_line(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("supplements:\n  - {compound: D3, dose: 1 ug\n")
    with pytest.raises(InputError) as err:
        k2d3.Regimen.from_yaml(path)
    assert err.value.field == "file" and "line" in err.value.problem


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError) as err:
        k2d3.Regimen.from_yaml(tmp_path / "nope.yaml")
    assert err.value.field == "file"


def test_issue_example_regimen_parses():
    r = k2d3.Regimen.from_dict({
        "subject": {"age": 60, "sex": "female", "weight_kg": 70, "baseline_25ohd_nmol_l": 50},
        "supplements": [
            {"compound": "D3", "dose": "2000 IU", "every": "1 day"},
            {"compound": "MK-7", "dose": "180 ug", "every": "1 day", "with_meal_fat_g": 15},
            {"compound": "D3", "dose": "50000 IU", "on_days": [0]},
            {"compound": "D3", "dose": "20000 IU", "every": "7 days", "start_day": 0, "stop_day": 364},
        ],
        "sun": {"minutes_per_day": 15, "skin_fraction": 0.25, "latitude": 52, "month": 6},
        "days": 365,
    })
    assert [s.compound for s in r.supplements] == ["D3", "MK-7", "D3", "D3"]
    assert r.subject.baseline_25ohd_nmol_l == 50


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=20), compound=st.sampled_from(["D3", "K1", "MK-7", "calcium", "", "mk 7"]))
def test_any_text_either_parses_or_raises_input_error(text, compound):
    try:
        r = k2d3.Regimen.from_dict({"supplements": [{"compound": compound, "dose": text, "every": "1 day"}]})
    except InputError as exc:
        assert exc.field.startswith("supplements.0")
    else:
        assert math.isfinite(r.supplements[0].dose_nmol) and r.supplements[0].dose_nmol >= 0


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.sampled_from(["age", "sex", "weight_kg", "height_cm", "skin_type",
                                        "baseline_25ohd_nmol_l", "malabsorption", "bogus"]),
                       st.one_of(st.integers(-10, 400), st.floats(allow_nan=True), st.text(max_size=5), st.none())))
def test_subject_schema_never_raises_anything_but_input_error(data):
    try:
        k2d3.Regimen.from_dict({"subject": data})
    except InputError as exc:
        assert exc.field.startswith("subject")


@pytest.mark.parametrize("field, value", [("dietary_calcium_mg_day", -1), ("dietary_k1_ug_day", -5),
                                          ("menopause_age", 20), ("weight_kg", 29)])
def test_implausible_subjects_are_rejected(field, value):
    with pytest.raises(InputError) as err:
        k2d3.Subject.from_dict({field: value})
    assert err.value.field == f"subject.{field}"


def test_salt_form_is_for_calcium_only():
    with pytest.raises(InputError) as err:
        k2d3.Regimen.from_dict({"supplements": [{"compound": "D3", "dose": "1 ug", "every": "1 day", "form": "citrate"}]})
    assert err.value.field == "supplements.0.form"
