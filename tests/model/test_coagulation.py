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
    inrs = [coag.warfarin_inr(mg) for mg in (2.5, 5.0, 7.5)]
    assert 1.0 < inrs[0] < inrs[1] < inrs[2]
    assert inrs[1] == pytest.approx(2.5, abs=0.1)
    early = coag.warfarin_inr(5.0, days=1)
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
