"""Subject fields that are derived or cross-checked: BMI, kidney stage, sex-specific states, genotypes."""
import pytest

from k2d3 import Subject
from k2d3.errors import InputError


def test_bmi_is_derived_from_weight_and_height():
    assert Subject(weight_kg=81, height_cm=180).bmi == pytest.approx(25.0)


def test_bmi_alone_sets_weight():
    assert Subject(bmi=30, height_cm=160).weight_kg == pytest.approx(76.8)


@pytest.mark.parametrize("data, field", [
    ({"bmi": 30, "weight_kg": 70, "height_cm": 170}, "subject.bmi"),
    ({"ckd_stage": 4, "egfr_ml_min": 90}, "subject.ckd_stage"),
    ({"sex": "male", "pregnant": True}, "subject.sex"),
    ({"type2_diabetes": True, "prediabetes": True}, "subject.prediabetes"),
    ({"cyp2c9": "*4/*4"}, "subject.cyp2c9"),
    ({"vkorc1": "TT"}, "subject.vkorc1"),
    ({"egfr_ml_min": -5}, "subject.egfr_ml_min"),
])
def test_contradictions_and_unknown_values_name_the_field(data, field):
    with pytest.raises(InputError) as err:
        Subject.from_dict(data)
    assert err.value.field == field


@pytest.mark.parametrize("egfr, stage", [(120, 1), (75, 2), (45, 3), (20, 4), (8, 5)])
def test_kidney_stage_follows_kdigo_egfr_categories(egfr, stage):
    assert Subject(egfr_ml_min=egfr).kidney_stage == stage


def test_stage_without_egfr_takes_a_typical_egfr():
    assert Subject(ckd_stage=4).egfr_ml_min == 22
    assert Subject().egfr_ml_min == 90


def test_genotype_case_is_normalised():
    assert Subject.from_dict({"vkorc1": "ga"}).vkorc1 == "GA"
