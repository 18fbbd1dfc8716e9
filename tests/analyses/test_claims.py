"""The article's claims: the data file is sound (verbatim quotes, real rows, numbers that
are in those rows), the grading rules give the documented grades, each claim's verdict
follows from the numbers it shows, and claims on missing observables are untestable until
the observable appears."""
from pathlib import Path

import pytest

from k2d3.analyses import claims as cl
from k2d3.analyses.validate import calibration_table_path
from k2d3.model import observables

ARTICLE = calibration_table_path().parents[1] / "docs" / "k2-d3-mechanism-article.txt"
IDS = [c["id"] for c in cl.claims()]
BY_ID = {c["id"]: c for c in cl.claims()}
# the observables the other branches add; the claims are written against these names
FUTURE = {"fasting_glucose_mg_dl", "cac_agatston", "sbp_mmhg", "dp_ucmgp_pmol_l"}


def test_the_claims_the_issue_names_are_all_there():
    assert {"d3_calcium_absorption", "mk7_longer_than_k1", "recommended_intake", "blood_thinner_warning",
            "k2_arterial_calcification", "k2_diabetes_risk_10ug", "glucose_table", "bp_in_range"} <= set(IDS)
    assert len(IDS) == len(set(IDS))


@pytest.mark.parametrize("cid", IDS)
def test_quotes_are_verbatim_and_rows_hold_the_numbers(cid):
    text = Path(ARTICLE).read_text()
    for q in cl.quotes(BY_ID[cid]):
        assert q in text
    cl.check([BY_ID[cid]])  # raises if a row is missing or does not hold the quoted number


def test_check_refuses_a_number_that_is_not_in_the_row():
    bad = {"id": "x", "parts": [{"published": [{"row": "mgp_knapen2015", "value": -70, "text": "-70"}]}]}
    with pytest.raises(ValueError, match="not in row mgp_knapen2015"):
        cl.check([bad])


@pytest.mark.parametrize("x, expect, kw, expected", [
    (65, {"direction": "increase"}, {}, "meets"),
    (-3, {"direction": "increase"}, {}, "contradicts"),
    (-5.02, {"direction": "decrease", "claimed": -18, "within": 0.5}, {"ci": [-6.75, -3.28]}, "direction"),
    (-15, {"direction": "decrease", "claimed": -18, "within": 0.5}, {"ci": [-20, -10]}, "meets"),
    (-0.91, {"direction": "decrease", "claimed": -12, "within": 0.5}, {"ci": [-2.57, 0.76]}, "no effect shown"),
    (0.93, {"direction": "decrease"}, {"ci": [0.87, 1.0], "no_effect": 1}, "no effect shown"),
    (0.93, {"direction": "decrease"}, {"ci": [0.87, 1.0], "no_effect": 1, "judge": "direction_only"}, "direction"),
    (1.07, {"direction": "decrease"}, {"no_effect": 1}, "contradicts"),
    (7.7, {"direction": "increase", "no_effect": 1, "at_least": 3}, {}, "meets"),
    (2.0, {"direction": "increase", "no_effect": 1, "at_least": 3}, {}, "direction"),
    (-40, {"direction": "decrease", "at_least": 10}, {}, "meets"),
    (-5, {"direction": "decrease", "at_least": 10}, {}, "direction"),
    (600, {"range": [600, 800]}, {}, "meets"),
    (400, {"range": [600, 800]}, {}, "contradicts"),
    (None, {"direction": "increase"}, {}, "no data"),
])
def test_grade(x, expect, kw, expected):
    assert cl.grade(x, expect, **kw) == expected


@pytest.mark.parametrize("grades, expected", [
    ([], "no data"), (["meets", "meets"], "meets"), (["meets", "direction"], "direction"),
    (["no effect shown", "direction"], "direction"), (["contradicts", "no effect shown"], "contradicts"),
    (["no effect shown"], "no effect shown"),
])
def test_combine(grades, expected):
    assert cl.combine(grades) == expected


@pytest.mark.parametrize("parts, missing, expected", [
    (["meets", "meets"], [], "supported"),
    (["meets", "no data"], [], "partly supported"),
    (["direction", "no effect shown", "no data"], [], "partly supported"),
    (["no effect shown", "no data"], [], "not supported by human data"),
    (["no data"], [], "not supported by human data"),
    (["meets"], ["sbp_mmhg"], "untestable in the model"),
])
def test_verdict(parts, missing, expected):
    assert cl.verdict(parts, missing) == expected


def _fake_numbers(claim, sign=1.0):
    """Model numbers for every key a claim's parts read, all of one sign."""
    out = {}
    for p in claim["parts"]:
        for key in p["value"].split("/"):
            out[key.strip()] = sign * 2.0
    return out


@pytest.mark.parametrize("cid", IDS)
def test_verdict_follows_from_the_numbers_shown(cid):
    """Recompute each claim's verdict from the grades and numbers in its own outcome."""
    claim = BY_ID[cid]
    present = set(observables.names()) | FUTURE
    o = cl.evaluate(claim, present=present, numbers=_fake_numbers(claim))
    for part, spec in zip(o.parts, claim["parts"]):
        for pub, item in zip(part.published, spec["published"] or []):
            assert pub.value == pytest.approx(cl.item_value(item))
            assert pub.grade == cl.grade(pub.value, spec["expect"], item.get("ci"), item.get("no_effect"),
                                         item.get("judge"))
        assert part.data_grade == cl.combine([p.grade for p in part.published])
        assert part.model_grade == cl.grade(part.model_value, spec.get("model_expect") or spec["expect"])
    assert o.verdict == cl.verdict([p.data_grade for p in o.parts], [])
    assert o.reason.endswith(".") and "\n" not in o.reason


EXPECTED_DATA_VERDICTS = {
    # from the published numbers alone, once the model has every observable
    "d3_calcium_absorption": "supported",              # +65% and +6%
    "mk7_longer_than_k1": "supported",                 # 68/8.8 = 7.7-fold, accumulation 7-8-fold
    "recommended_intake": "partly supported",          # RDA 600 IU in range; no K2 requirement data
    "blood_thinner_warning": "supported",              # INR about -40% at 45 ug/day
    "k2_arterial_calcification": "partly supported",   # dp-ucMGP -50%; CAC only with K1, direction
    "k2_diabetes_risk_10ug": "partly supported",       # HR 0.93, observational: direction only
    "glucose_table": "partly supported",               # D3 -5 (not -18); K n.s.; no combination data
    "bp_in_range": "partly supported",                 # pulse pressure -6.3% with K1 + D: direction
    "k2_activates_osteocalcin": "supported",           # ucOC -50%
    "bone_synergy": "not supported by human data",     # no 2x2 human data
}


@pytest.mark.parametrize("cid", IDS)
def test_data_verdicts_once_every_observable_exists(cid):
    present = set(observables.names()) | FUTURE
    o = cl.evaluate(BY_ID[cid], present=present, numbers=_fake_numbers(BY_ID[cid]))
    assert o.verdict == EXPECTED_DATA_VERDICTS[cid]


def test_claims_on_missing_observables_are_untestable_and_start_working_when_they_appear():
    claim = BY_ID["glucose_table"]
    without = cl.evaluate(claim, present=set(observables.names()) - FUTURE, numbers={})
    assert without.verdict == "untestable in the model" and without.missing == ["fasting_glucose_mg_dl"]
    assert "fasting_glucose_mg_dl" in without.reason
    numbers = {"fasting_glucose_mg_dl.effect_D": -6.0, "fasting_glucose_mg_dl.effect_K": -1.0,
               "fasting_glucose_mg_dl.effect_DK": -7.0}
    with_obs = cl.evaluate(claim, present={"fasting_glucose_mg_dl"}, numbers=numbers)
    assert with_obs.verdict == "partly supported"
    assert [p.model_value for p in with_obs.parts] == [-6.0, -1.0, -7.0]
    assert [p.model_grade for p in with_obs.parts] == ["direction", "direction", "direction"]


def test_current_model_untestable_claims_match_its_observables():
    present = set(observables.names())
    for c in cl.claims():
        o = cl.evaluate(c, present=present, numbers={})
        assert (o.verdict == "untestable in the model") == any(r not in present for r in c["requires"])
