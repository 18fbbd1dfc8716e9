"""data/trials.csv and its loader: every row a valid arm, sourced, in the observable's unit,
converted as its quote says, and split by the stated rule into whole studies."""
import csv
import hashlib
import math
import re
from collections import defaultdict
from pathlib import Path

import pytest

from k2d3.analyses import validate
from k2d3.calibration import conditions, load
from k2d3.calibration import split as rule
from k2d3.calibration.data import trials_path
from k2d3.errors import InputError
from k2d3.inputs.regimen import Regimen
from k2d3.inputs.subject import Subject
from k2d3.model.observables import observables

PATH = trials_path()
ROWS = list(csv.DictReader(open(PATH, newline="")))
BY_ID = {r["id"]: r for r in ROWS}
MEASUREMENTS = load()
M = {m.id: m for m in MEASUREMENTS}


def test_every_row_parses_into_a_valid_subject_and_regimen():
    assert len(MEASUREMENTS) == len(ROWS) > 100
    for m in MEASUREMENTS:
        assert isinstance(m.subject, Subject) and isinstance(m.regimen, Regimen), m.id
        assert (m.versus is None) == (m.contrast == "none"), m.id


def test_ids_are_unique():
    ids = [r["id"] for r in ROWS]
    assert len(ids) == len(set(ids))


def test_every_row_has_source_url_and_quote():
    calibration_ids = set(validate.calibration_rows())
    for r in ROWS:
        assert r["source"].strip() and r["quote"].strip(), r["id"]
        url = r["url"]
        if url.startswith("calibration.csv#"):  # no page address in the shared table: point at its row
            assert url.split("#", 1)[1] in calibration_ids, r["id"]
            assert r["calibration_id"] == url.split("#", 1)[1], r["id"]
        else:
            assert re.match(r"https?://\S+$", url), r["id"]


def test_every_row_is_a_research_row_or_a_calibration_row():
    """research_id names the research table's row; calibration_id the calibration.csv row (or
    k2d3 validate extra check) that carries the same number."""
    known = set(validate.calibration_rows()) | {e.case.id for e in validate.EXTRA}
    for r in ROWS:
        assert r["research_id"] or r["calibration_id"], r["id"]
        if r["research_id"]:
            assert re.match(r"trials_vitamin_[dk]\.csv:v[dk]_\w+$", r["research_id"]), r["id"]
        if r["calibration_id"]:
            assert r["calibration_id"] in known, r["id"]


def test_excluded_research_rows_are_not_in_the_table():
    text = (PATH.parent / "trials_excluded.md").read_text()
    excluded = set(re.findall(r"^- `(v[dk]_\w+)`", text, flags=re.M))
    kept = {r["research_id"].split(":", 1)[1] for r in ROWS if r["research_id"]}
    assert len(excluded) > 100
    assert not excluded & kept


def _hash_split(study: str) -> str:
    """The rule recomputed here, not through k2d3.calibration.split.split_of."""
    unit = rule.SAME_PARTICIPANTS.get(study, study)
    if unit in rule.CALIBRATION_TARGETS:
        return "calibration"
    if unit in rule.INDEPENDENT_CHECKS:
        return "validation"
    draw = int(hashlib.sha256(unit.encode()).hexdigest()[:8], 16) / 2 ** 32
    return "validation" if draw < 1 / 3 else "calibration"


def test_splits_are_whole_studies_and_follow_the_rule():
    by_study = defaultdict(set)
    for r in ROWS:
        by_study[r["study"]].add(r["split"])
    for study, splits in by_study.items():
        assert splits == {_hash_split(study)}, study
    units = defaultdict(set)
    for study, splits in by_study.items():
        units[rule.unit_of(study)] |= splits
    assert all(len(s) == 1 for s in units.values())


def test_hash_rule_spot_values():
    # sha256("bargerlux1998") starts 1e7b...: 0.119 < 1/3; sha256("vieth2001") 0.803
    assert rule.hash_fraction("bargerlux1998") == pytest.approx(0.119, abs=1e-3)
    assert rule.split_of("bargerlux1998") == "validation"
    assert rule.hash_fraction("vieth2001") == pytest.approx(0.803, abs=1e-3)
    assert rule.split_of("vieth2001") == "calibration"


def test_at_least_a_quarter_of_the_studies_are_validation():
    studies = {r["study"]: r["split"] for r in ROWS}
    validation = sum(1 for s in studies.values() if s == "validation")
    assert validation / len(studies) >= 0.25, f"{validation} of {len(studies)}"


def test_loader_filters_by_split():
    cal, val = load("calibration"), load("validation")
    assert len(cal) + len(val) == len(ROWS)
    assert {m.split for m in cal} == {"calibration"} and {m.split for m in val} == {"validation"}
    with pytest.raises(InputError, match="split"):
        load("test")


# The study (unit) behind each k2d3 validate case that cites one: the rule's forced lists
# must follow the roles there (calibration or source -> calibration; validation -> validation
# unless the same unit also set a parameter).
CASE_STUDY = {
    "vd_slope_heaney2003": "heaney2003", "vd_halflife_jones2014": "jones2014",
    "vd_nonlinear_ekwaru2014": "ekwaru2014", "vd_bmi_ekwaru2014": "ekwaru2014", "vd_obese_drincic2013": "drincic2013",
    "vd_d2d_2019": "d2d2019", "vd_bolus_ilahi2008": "ilahi2008", "vd_bolus_tmax_armas2004": "armas2004",
    "vd_fat_dawsonhughes2015": "dawsonhughes2015", "vd_crohn_farraye2011": "farraye2011",
    "vk_tmax_schurgers2007": "schurgers2007", "vk_mk7_accumulation_schurgers2007": "schurgers2007",
    "vk_mk7_halflife": "schurgers2007", "vk_mk4_sato2012": "sato2012", "vk_mk7_sato2012": "sato2012",
    "vk_k1_halflife_novotny2010": "novotny2010", "ca_abs_vs_25ohd_heaney2003": "heaney2003ca",
    "ca_abs_vs_intake_heaney1989": "heaney1989", "pth_plateau_saliba2011": "saliba2011",
    "ucoc_knapen2013": "knapen2013", "bmd_knapen2013": "knapen2013", "ucoc_jiang2014": "jiang2014",
    "inr_theuwissen2013": "theuwissen2013", "hamberg2010_warfarin": "hamberg2010",
    "wajima2009_vk_cycle": "wajima2009", "glucose_d3_t2d_meta2022": "glucose_d3_t2d_meta2022",
    "glucose_k_meta2018": "shahdadian2018", "ucoc_rasekhi2015": "rasekhi2015", "mgp_knapen2015": "knapen2015",
    "cac_shea2009": "shea2009", "stiffness_braam2004": "braam2004",
    "vd_slope_aloia2008": "aloia2008", "vd_bolus_roth2012": "roth2012",
    "bone_menopause_spine_greendale2012": "greendale2012", "bone_menopause_neck_greendale2012": "greendale2012",
    "bone_late_postmenopause_sowers2010": "sowers2010", "d3_25ohd_bestd2017": "bestd_pilot2017",
    "d3_pth_moslehi2015": "moslehi2015", "d3_ctx_sohouli2023": "sohouli2023", "d3_spine_bmd_reid2014": "reid2014",
    "d3_neck_bmd_reid2014": "reid2014", "d3_calcium_billington2020": "burt2019", "k1_auc_garber1999": "garber1999",
    "inr_schurgers2004_k1_100": "schurgers2004", "mgp_dalmeijer2012": "dalmeijer2012",
    "dp_ucmgp_vka_delanaye2014": "delanaye2014", "warfarin_genotype_iwpc2009": "iwpc2009",
}
NO_STUDY = {"vd_ul", "vd_rda", "range_calcium", "range_pth", "range_calcitriol", "range_phosphate"}
SECOND_SOURCES = {"aloia2005", "leboff2020"}  # cited beside the main study of an extra check


def test_forced_lists_follow_the_roles_in_k2d3_validate():
    cases = [c for c in validate.CASES + [e.case for e in validate.EXTRA] if c.id not in NO_STUDY]
    assert {c.id for c in cases} == set(CASE_STUDY)
    targets = {rule.unit_of(CASE_STUDY[c.id]) for c in cases if c.role in ("calibration", "source")}
    checks = {rule.unit_of(CASE_STUDY[c.id]) for c in cases if c.role == "validation"} - targets
    assert targets == rule.CALIBRATION_TARGETS
    assert checks == rule.INDEPENDENT_CHECKS - SECOND_SOURCES


def test_units_are_the_observables_units():
    for r in ROWS:
        assert r["observable"] in observables(), r["id"]
        assert r["unit"] == observables()[r["observable"]].unit, r["id"]


def _number(text: str) -> float:
    return float(text.replace("\u2212", "-"))


def _apply(conversion: str, x: float) -> float:
    if conversion == "none":
        return x
    op, factor = re.match(r"([x/]) (-?[\d.]+) \(", conversion).groups()
    return x * float(factor) if op == "x" else x / float(factor)


def test_published_is_the_quoted_number_converted():
    for r in ROWS:
        assert r["original"].replace("\u2212", "-") in r["quote"].replace("\u2212", "-"), r["id"]
        assert _number(r["published"]) == pytest.approx(_apply(r["conversion"], _number(r["original"])),
                                                        rel=1e-5, abs=1e-9), r["id"]


@pytest.mark.parametrize("row_id, printed, factor", [
    ("vd_ishshalom2008_daily_25ohd_m2", 33.2, 2.496),      # ng/mL 25(OH)D -> nmol/L
    ("vd_cipriani2010_600kiu_25ohd_d3", 77.2, 2.496),
    ("vd_bolus_ilahi2008", 42.0, 2.496),
    ("vd_d2d_2019", 54.3, 2.496),
    ("vd_cipriani2010_600kiu_pth_d0", 53.0, 1 / 9.43),     # pg/mL intact PTH -> pmol/L
    ("vd_cipriani2010_600kiu_calcitriol_d3", 97.8, 2.4),   # pg/mL 1,25(OH)2D -> pmol/L
    ("vd_intox2011_case2_calcium_admission", 13.2, 1 / 4.008),  # mg/dL calcium -> mmol/L
    ("ucoc_rasekhi2015_k1", 17.97, 0.01),                  # %ucOC -> fraction
    ("vd_logan2013_d2_vs_d3_total25ohd_diff", 21, -1),     # '21 nmol/l lower' with D2
])
def test_spot_conversions_against_the_quotes(row_id, printed, factor):
    r = BY_ID[row_id]
    assert str(printed).rstrip("0").rstrip(".") in r["quote"]
    assert M[row_id].value == pytest.approx(printed * factor, rel=1e-5)  # stored to 6 digits


def test_spread_is_converted_with_the_value():
    r = BY_ID["vd_ishshalom2008_daily_25ohd_m2"]  # '33.2 8.5' ng/mL, SD with the sign lost on the page
    assert float(r["spread"]) == pytest.approx(8.5 * 2.496)
    assert BY_ID["vd_logan2013_d2_vs_d3_total25ohd_diff"]["spread"] == "-30 to -14"  # CI 14, 30 of a fall


def test_sd_of_mean_from_each_kind_of_spread():
    assert M["vd_bestd2017_2000iu_25ohd_12m"].sd_of_mean == pytest.approx(25 / math.sqrt(101))      # SD / sqrt(n)
    assert M["vk_shiraki2000_control_bmdls_d182"].sd_of_mean == pytest.approx(0.6)                   # SE
    assert M["vd_logan2013_d2_vs_d3_total25ohd_diff"].sd_of_mean == pytest.approx(16 / 2 / 1.96)     # CI95
    assert M["vk_aoun2017_baseline_dpucmgp_d0"].sd_of_mean == pytest.approx(
        (4339.5 - 1825.25) / 1.349 / math.sqrt(50))                                                   # IQR
    assert M["vd_tran2012_30kiu_25ohd_change_12m"].sd_of_mean is None                                # none
    assert M["vd_hammami2017_placebo_25ohd_change"].sd_of_mean is None                               # SD, no n


def test_unverified_attribution_keeps_its_flag():
    # research rows whose authors were not seen keep the flag verbatim in note or source
    for rid in ("vd_bargerlux1998_d3_25ug_25ohd_change", "vd_elderly100k_25ohd_ratio_wk5",
                "vk_dalmeijer2012_mk7_180_dpucmgp_d84", "vk_aoun2017_mk7_360_dpucmgp_d28"):
        text = (BY_ID[rid]["note"] + " " + BY_ID[rid]["source"]).lower()
        assert any(w in text for w in ("verif", "not displayed", "placeholder", "secondary")), rid


def test_conditions_simulate_each_arm_once():
    arms = conditions(MEASUREMENTS)
    keys = [c.key for c in arms]
    assert len(keys) == len(set(keys))
    pairs = {(m.subject.model_dump_json(), m.regimen.model_dump_json()) for m in MEASUREMENTS}
    pairs |= {(m.subject.model_dump_json(), m.versus.model_dump_json()) for m in MEASUREMENTS if m.versus}
    assert len(arms) == len(pairs) < len(MEASUREMENTS)
    by_key = {c.key: c for c in arms}
    for m in MEASUREMENTS:
        for key in (m.arm, m.reference):
            if key is not None:
                c = by_key[key]
                assert m.day in c.times and m.baseline_day in c.times and c.days >= m.day, m.id
    # the placebo arm of ECKO is read by its own row and as the reference of the K1 row
    placebo = M["vk_cheung2008_placebo_bmdls_d730"].arm
    assert M["vk_cheung2008_k1_5mg_bmdls_d730"].reference == placebo


def test_predicted_statistics():
    y = {0.0: 50.0, 56.0: 2.0, 98.0: 1.2, 140.0: 80.0}.get
    ref = {0.0: 50.0, 140.0: 60.0}.get
    theuwissen = M["vk_theuwissen2013_mk7_45_inr_pct_change"]  # pct_change from day 56
    assert theuwissen.predicted(y) == pytest.approx(-40.0)
    heaney = M["vd_slope_heaney2003_25ug"]                     # change at 140, difference vs placebo
    assert heaney.predicted(y, ref) == pytest.approx((80 - 50) - (60 - 50))
    elderly = M["vd_elderly100k_25ohd_ratio_wk5"]              # value at 35, pct_difference
    assert elderly.predicted({35.0: 96.0}.get, {35.0: 60.0}.get) == pytest.approx(60.0)
    fold = M["vk_cheung2008_k1_5mg_serumk1_fold_d730"]        # ratio to day 0
    assert fold.predicted({0.0: 1.0, 730.0: 10.0}.get) == pytest.approx(10.0)


def _write(tmp_path: Path, changes: dict) -> Path:
    row = dict(BY_ID["vd_bestd2017_2000iu_25ohd_12m"], **changes)
    path = tmp_path / "trials.csv"
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, list(row))
        w.writeheader()
        w.writerow(row)
    return path


@pytest.mark.parametrize("changes, message", [
    ({"subject": '{"age": 5}'}, "vd_bestd2017_2000iu_25ohd_12m.subject.age"),
    ({"regimen": '{"supplements": [{"compound": "D7", "dose": "1 ug", "every": "1 day"}]}'},
     "vd_bestd2017_2000iu_25ohd_12m.regimen.supplements.0.compound"),
    ({"regimen": "{not json"}, "vd_bestd2017_2000iu_25ohd_12m.regimen: not valid JSON"),
    ({"split": "calibration"}, "vd_bestd2017_2000iu_25ohd_12m.split"),
    ({"observable": "vitamin_z"}, "vd_bestd2017_2000iu_25ohd_12m.observable"),
    ({"unit": "ng/mL"}, "vd_bestd2017_2000iu_25ohd_12m.unit"),
    ({"contrast": "difference"}, "vd_bestd2017_2000iu_25ohd_12m.versus"),
    ({"spread_kind": "SEM"}, "vd_bestd2017_2000iu_25ohd_12m.spread_kind"),
    ({"day": "-1"}, "vd_bestd2017_2000iu_25ohd_12m.day"),
    ({"url": ""}, "vd_bestd2017_2000iu_25ohd_12m.url"),
])
def test_a_bad_row_fails_naming_the_row_and_field(tmp_path, changes, message):
    with pytest.raises(InputError) as err:
        load(path=_write(tmp_path, changes))
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)


def test_a_duplicate_id_fails(tmp_path):
    path = _write(tmp_path, {})
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines + lines[1:]) + "\n")
    with pytest.raises(InputError, match="vd_bestd2017_2000iu_25ohd_12m.id: appears more than once"):
        load(path=path)


def test_readme_states_the_split_and_counts_of_the_table():
    text = (PATH.parent / "trials_README.md").read_text()
    for split in ("calibration", "validation"):
        studies = sorted({r["study"] for r in ROWS if r["split"] == split})
        rows = sum(1 for r in ROWS if r["split"] == split)
        m = re.search(rf"\*\*{split.capitalize()} \((\d+) studies, (\d+) rows\):\*\* (.+)", text)
        assert m, split
        assert (int(m.group(1)), int(m.group(2))) == (len(studies), rows)
        assert m.group(3).split(", ") == studies
    research = sum(1 for r in ROWS if r["research_id"])
    assert (f"{len(ROWS)} rows from {len({r['study'] for r in ROWS})} studies ({research} from the research tables"
            in " ".join(text.split()))
    assert f"{len(ROWS) - research} from calibration.csv) in {len(conditions(MEASUREMENTS))} arms" in " ".join(text.split())


def test_readme_counts_the_rule_4_draws():
    text = " ".join((PATH.parent / "trials_README.md").read_text().split())
    forced = rule.CALIBRATION_TARGETS | rule.INDEPENDENT_CHECKS
    drawn = {rule.unit_of(r["study"]) for r in ROWS} - forced
    validation = sum(1 for u in drawn if rule.hash_fraction(u) < rule.VALIDATION_FRACTION)
    assert f"4 draws the other {len(drawn)} units, {validation} of them into validation" in text
    studies = {r["study"]: r["split"] for r in ROWS}
    share = sum(1 for s in studies.values() if s == "validation")
    assert f"{share} of {len(studies)} studies ({round(100 * share / len(studies))}%) are validation" in text
