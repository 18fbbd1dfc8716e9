"""Virtual trials: the published trials of examples/trials/ land in their bands, the trial
machinery (screening, randomisation, statistics) does what it says, bad trial files are one line.

Bands: calibration.csv acceptance bands where a row exists (its id in the test name);
otherwise the paper's own spread, stated here before the runs (Vieth 2001: the arm mean
within the published mean +- 1 SD of subjects, as the project's k1_auc_garber1999 band).
Known misses are pinned as in tests/validation: the test asserts the miss and fails once the
model comes inside the band.
"""
import functools
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import k2d3
from k2d3.analyses import _trial_stats as stats
from k2d3.analyses import trials
from k2d3.errors import InputError


EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "trials"
KNAPEN = "knapen2013_mk7_postmenopausal"
THEUWISSEN = "theuwissen2013_mk7_acenocoumarol"
HEANEY = "heaney2003_d3_dose_ranging"
VIETH = "vieth2001_d3_1000_4000iu"
#: Subjects per arm where the tests run fewer than the file (the published size where known).
#: Theuwissen: each subject's acenocoumarol is titrated on the reference engine, so 8 of 15
#: (the INR change varies little between subjects: SD about 4 points). Knapen runs at its
#: published 122 per arm: the femoral neck effect of MK-7 in the model (+0.08 points over 3
#: years when each woman is compared with herself) is small beside the spread of 3-year change
#: between women, so at 60 per arm randomisation alone can reverse its sign (it did at this seed).
TEST_N = {THEUWISSEN: 8}


def cli(*args):
    return subprocess.run([sys.executable, "-m", "k2d3.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=600)


def assert_one_line_error(p, field: str) -> None:
    assert p.returncode == 2, p.stdout
    assert p.stderr.strip().count("\n") == 0 and "Traceback" not in p.stderr, p.stderr
    assert p.stderr.startswith(f"error: {field}:"), p.stderr


@functools.cache
def example(name: str) -> trials.TrialResult:
    trial = k2d3.Trial.from_yaml(EXAMPLES / f"{name}.yaml")
    if name in TEST_N:
        trial = trial.model_copy(update={"subjects_per_arm": TEST_N[name]})
    return trial.run()


def mean(result, endpoint: str, arm: str, day: float) -> float:
    t = result.endpoints
    return float(t[(t["endpoint"] == endpoint) & (t["arm"] == arm) & (t["day"] == day)]["mean"].iloc[0])


def difference(result, endpoint: str, arm: str, day: float) -> dict:
    d = result.differences
    return d[(d["endpoint"] == endpoint) & (d["arm"] == arm) & (d["day"] == day)].iloc[0].to_dict()


# -- examples against published bands ----------------------------------------------------------
#: (check id, trial, arm, endpoint, day, band): the arm's mean at that visit within the band.
ARM_BANDS = [
    ("ucoc_knapen2013-MK-7_180", KNAPEN, "MK-7_180", "ucoc_ng_ml_pct_change", 1095, (-65, -35)),
    ("ucoc_knapen2013-placebo", KNAPEN, "placebo", "ucoc_ng_ml_pct_change", 1095, (-10, 10)),
    ("inr_theuwissen2013-MK-7_45", THEUWISSEN, "MK-7_45", "inr_pct_change_from_day_70", 112, (-55, -25)),
    ("inr_theuwissen2013-MK-7_escalating", THEUWISSEN, "MK-7_escalating", "inr_pct_change_from_day_70", 112,
     (-55, -25)),
    ("vd_vieth2001_1000iu_25ohd_plateau", VIETH, "D3_1000IU", "ohd25_nmol_l", 90, (68.7 - 16.9, 68.7 + 16.9)),
    ("vd_vieth2001_4000iu_25ohd_plateau", VIETH, "D3_4000IU", "ohd25_nmol_l", 90, (96.4 - 14.6, 96.4 + 14.6)),
]

KNOWN_MISSES = {
    # The published design: 10, 20 and 45 ug/day for two weeks each. The model's INR falls
    # 22% by the end of the 45 ug/day step (band -25 to -55); MK-7 (half-life about 68 h)
    # and the clotting factors are still rising toward the new steady state after two weeks.
    # The same 45 ug/day given for all six weeks (arm MK-7_45, the calibration case's
    # reading) lands in the band. docs/model.md, "Virtual trials".
    "inr_theuwissen2013-MK-7_escalating": "INR fall after the two-week 45 ug/day step under-predicted",
    # 4000 IU/day from a winter baseline of 41 nmol/L: the model reaches 129 nmol/L at day 90,
    # above Vieth's 96.4 +- 14.6 (the 1000 IU/day arm matches: 69 vs 68.7). The model's
    # response per ug/day stays near linear up to 100 ug/day; Vieth's flattens.
    "vd_vieth2001_4000iu_25ohd_plateau": "25(OH)D on 4000 IU/day over-predicted (response not flattening)",
}


@pytest.mark.parametrize("check", ARM_BANDS, ids=[c[0] for c in ARM_BANDS])
def test_example_arm_within_published_band(check):
    check_id, name, arm, endpoint, day, (lo, hi) = check
    value = mean(example(name), endpoint, arm, day)
    if check_id in KNOWN_MISSES:
        assert not lo <= value <= hi, \
            f"{check_id}: a known miss now passes ({value:.1f}); remove it from KNOWN_MISSES and the docs"
        return
    assert lo <= value <= hi, f"{check_id}: simulated {value:.2f}, band {lo:g} to {hi:g}"


#: The published -40% is the escalation's (arm MK-7_escalating); the 45 ug/day arm is the
#: calibration case's reading of the row, tested against the same band but not drawn as published.
NOT_DRAWN = {"inr_theuwissen2013-MK-7_45"}


def test_example_published_points_carry_the_test_bands():
    """The published points drawn in each figure are the bands tested here (one source of truth)."""
    for check_id, name, arm, endpoint, day, (lo, hi) in ARM_BANDS:
        if check_id in NOT_DRAWN:
            continue
        trial = k2d3.Trial.from_yaml(EXAMPLES / f"{name}.yaml")
        p = [p for p in trial.published if (p.arm, p.endpoint, p.day) == (arm, endpoint, day)]
        assert len(p) == 1 and (p[0].low, p[0].high) == pytest.approx((lo, hi)), check_id


def test_mgp_knapen2015_dp_ucmgp_against_placebo_within_band():
    """Band -65 to -35 % vs placebo: the relative difference of the arm means at 3 years."""
    d = difference(example(KNAPEN), "dp_ucmgp_pmol_l", "MK-7_180", 1095)
    assert -65 <= d["relative_pct"] <= -35, d
    assert d["relative_ci_high"] < 0  # the trial finds the fall, not only its point estimate


def test_bmd_knapen2013_mk7_arm_loses_less_bmd_than_placebo():
    """Accept: the MK-7 arm loses less BMD than placebo at the lumbar spine and femoral neck
    (the mean difference MK-7 - placebo at 3 years is positive at both sites)."""
    r = example(KNAPEN)
    for site in ("bmd_lumbar_spine_pct_change", "bmd_femoral_neck_pct_change"):
        assert difference(r, site, "MK-7_180", 1095)["difference"] > 0, site
    assert mean(r, "bmd_lumbar_spine_pct_change", "placebo", 1095) < 0  # the age-related decline itself


def test_inr_theuwissen2013_dose_response_is_monotonic():
    """Accept (monotonic with dose): a larger daily dose lowers the INR more, in the
    fixed-dose arms at 6 weeks and along the escalation at the end of each step."""
    r = example(THEUWISSEN)
    e = "inr_pct_change_from_day_70"
    fixed = [mean(r, e, arm, 112) for arm in ("MK-7_10", "MK-7_20", "MK-7_45")]
    steps = [mean(r, e, "MK-7_escalating", day) for day in (84, 98, 112)]
    assert 0 > fixed[0] > fixed[1] > fixed[2], fixed
    assert 0 > steps[0] > steps[1] > steps[2], steps
    assert abs(mean(r, e, "acenocoumarol", 112)) < 1  # the held dose keeps the INR where titration left it
    assert mean(r, "inr", "acenocoumarol", 70) == pytest.approx(2.0, abs=0.05)


def test_vd_slope_heaney2003_trial_slope_within_band():
    """Band 0.5 to 0.9 nmol/L per ug/day: the least-squares slope of the arms' mean rise at
    day 140 on the daily dose (0, 25, 125, 250 ug)."""
    r = example(HEANEY)
    rises = [mean(r, "ohd25_nmol_l_change", arm, 140) for arm in ("D3_0", "D3_25ug", "D3_125ug", "D3_250ug")]
    slope = np.polyfit([0, 25, 125, 250], rises, 1)[0]
    assert 0.5 <= slope <= 0.9, (slope, rises)


# -- the machinery ------------------------------------------------------------------------------
SMALL = {
    "name": "small", "seed": 5, "subjects_per_arm": 4, "duration_days": 30, "visits": [0, 14, 30],
    "population": {"age": [40, 75], "female_fraction": 0.5},
    "inclusion": ["ohd25_nmol_l < 55 and age >= 50"],
    "arms": [{"name": "placebo", "regimen": {}},
             {"name": "D3", "regimen": {"supplements": [{"compound": "D3", "dose": "4000 IU", "every": "1 day"}]}}],
    "endpoints": [{"observable": "ohd25_nmol_l", "statistic": "value"},
                  {"observable": "ohd25_nmol_l", "statistic": "change"},
                  {"observable": "ohd25_nmol_l", "statistic": "responder", "threshold": 60, "direction": "above"}],
}


@functools.cache
def small() -> trials.TrialResult:
    return k2d3.Trial.from_dict(SMALL).run()


def test_enrolled_subjects_meet_the_criteria_on_their_simulated_day_0():
    r = small()
    subjects = r.subjects
    assert len(subjects) == 8 and (subjects["arm"].value_counts() == 4).all()
    assert (subjects["age"] >= 50).all()
    assert (subjects["ohd25_nmol_l@0"] < 55).all()
    assert r.screening["eligible"] >= 8 and r.screening["screened"] > 8  # some candidates failed
    # each arm its own subjects (parallel groups), in screening order, reproducible
    assert subjects["screening_number"].is_unique and subjects["screening_number"].is_monotonic_increasing
    again = k2d3.Trial.from_dict(SMALL).run()
    pd.testing.assert_frame_equal(again.subjects, subjects)


def test_screening_rejects_exactly_the_candidates_that_fail():
    s = trials.screen(k2d3.Trial.from_dict(SMALL))
    seen = range(max(s.included) + 1)
    from k2d3.engine.population_engine import simulate_many

    v, _ = simulate_many([s.candidates[i][0] for i in seen], k2d3.Regimen(), 1, [0], [s.candidates[i][1] for i in seen])
    ohd = v[:, 0, k2d3.model.observables.names().index("ohd25_nmol_l")]
    meets = [i for i in seen if s.candidates[i][0].age >= 50 and ohd[i] < 55]
    assert s.included == meets
    assert len(meets) < len(seen)  # someone failed


def test_the_first_candidates_do_not_depend_on_how_many_are_drawn():
    trial = k2d3.Trial.from_dict({**SMALL, "population": {**SMALL["population"],
                                                          "baseline_25ohd_nmol_l": {"mean": 40, "sd": 10}}})
    a, b = trials._draw(trial, 7), trials._draw(trial, 20)[:7]
    assert [x[0] for x in a] == [x[0] for x in b] and [x[1] for x in a] == [x[1] for x in b]
    assert len({round(s.baseline_25ohd_nmol_l, 6) for s, _ in b}) == 7


def test_randomisation_gives_each_arm_its_number_of_subjects_in_a_seeded_order():
    trial = k2d3.Trial.from_dict({**SMALL, "subjects_per_arm": 50,
                                  "arms": SMALL["arms"] + [{"name": "third", "regimen": {}}]})
    a = trials.randomise(trial, 150)
    assert np.bincount(a).tolist() == [50, 50, 50]
    assert (a == trials.randomise(trial, 150)).all()
    assert not (a == np.repeat([0, 1, 2], 50)).all()  # shuffled, not blocks
    other = trials.randomise(trial.model_copy(update={"seed": 6}), 150)
    assert not (a == other).all()


def test_endpoint_summaries_are_the_subjects_numbers():
    r = small()
    s = r.subjects
    d3 = s[s["arm"] == "D3"]
    row = r.endpoints.set_index(["endpoint", "arm", "day"]).loc[("ohd25_nmol_l_change", "D3", 30.0)]
    v = d3["ohd25_nmol_l_change@30"].to_numpy()
    assert row["mean"] == pytest.approx(v.mean()) and row["sd"] == pytest.approx(v.std(ddof=1))
    assert row["ci_high"] - row["mean"] == pytest.approx(1.959964 * v.std(ddof=1) / 2, rel=1e-6)
    assert np.allclose(v, d3["ohd25_nmol_l@30"] - d3["ohd25_nmol_l@0"])
    assert (v > 20).all()  # 4000 IU/day for a month raises everyone's 25(OH)D
    rate = r.endpoints.set_index(["endpoint", "arm", "day"]).loc[("ohd25_nmol_l_above_60", "D3", 30.0)]
    assert rate["rate"] == pytest.approx((d3["ohd25_nmol_l@30"] > 60).mean())
    # no change endpoint at its own baseline day (zero by definition)
    assert not ((r.endpoints["endpoint"] == "ohd25_nmol_l_change") & (r.endpoints["day"] == 0)).any()
    diff = difference(r, "ohd25_nmol_l", "D3", 30)
    pl = s[s["arm"] == "placebo"]["ohd25_nmol_l@30"].to_numpy()
    assert diff["difference"] == pytest.approx(d3["ohd25_nmol_l@30"].mean() - pl.mean())
    assert r.uncertainty is None and r.to_dict()["uncertainty"] is None


def test_a_trial_on_a_dask_cluster_equals_the_local_run_bit_for_bit():
    """Screening (day-0 simulations) and the arms both run on the cluster's workers."""
    distributed = pytest.importorskip("distributed")  # a test dependency: never skipped in CI
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        remote = k2d3.Trial.from_dict(SMALL).run(client=client)
    pd.testing.assert_frame_equal(remote.subjects, small().subjects, check_exact=True)
    pd.testing.assert_frame_equal(remote.endpoints, small().endpoints, check_exact=True)


def test_wilson_and_newcombe_match_the_published_worked_example():
    """Newcombe 1998 (Stat Med 17:873), example (a): 56/70 vs 48/80, difference 0.2000,
    method 10 interval 0.0524 to 0.3339; Wilson for 0/10 is 0 to 0.2775."""
    assert stats.wilson(0, 10) == pytest.approx((0.0, 0.2775), abs=5e-5)
    a, b = stats.rate(np.array([1.0] * 56 + [0.0] * 14)), stats.rate(np.array([1.0] * 48 + [0.0] * 32))
    d, lo, hi = stats.rate_difference(a, b)
    assert (d, lo, hi) == pytest.approx((0.2, 0.0524, 0.3339), abs=5e-5)


def test_mean_and_relative_differences_by_normal_approximation():
    a = {"n": 50, "mean": 60.0, "sd": 10.0}
    r = {"n": 40, "mean": 50.0, "sd": 8.0}
    d, lo, hi = stats.mean_difference(a, r)
    se = math.sqrt(100 / 50 + 64 / 40)
    assert (d, lo, hi) == pytest.approx((10, 10 - 1.959964 * se, 10 + 1.959964 * se), rel=1e-6)
    rel, rlo, rhi = stats.relative_difference(a, r)
    se_log = math.sqrt(100 / (50 * 3600) + 64 / (40 * 2500))
    assert rel == pytest.approx(20.0)
    assert rlo == pytest.approx(100 * (1.2 * math.exp(-1.959964 * se_log) - 1), rel=1e-6) and rhi > 20


def test_written_outputs_and_resume_keeps_the_finished_parts(tmp_path):
    trial = k2d3.Trial.from_dict(SMALL)
    first = trial.run(tmp_path)
    for f in ("trial.json", "endpoints.csv", "differences.csv", "subjects.parquet"):
        assert (tmp_path / f).is_file()
    parts = sorted((tmp_path / "arms").glob("*/values/part-*.parquet"))
    assert len(parts) == 2
    stamps = [p.stat().st_mtime_ns for p in parts]
    again = trial.run(tmp_path, resume=True)
    assert [p.stat().st_mtime_ns for p in parts] == stamps  # nothing recomputed
    pd.testing.assert_frame_equal(again.endpoints, first.endpoints)
    saved = pd.read_parquet(tmp_path / "subjects.parquet")
    assert {"arm", "screening_number", "age", "bmi", "param:cl_ohd25_70kg", "ohd25_nmol_l@30"} <= set(saved.columns)
    record = json.loads((tmp_path / "trial.json").read_text())
    assert record["uncertainty"] is None and "parameter uncertainty" in record["uncertainty_note"]
    assert record["design"].startswith("parallel groups")
    with pytest.raises(InputError) as e:  # another trial in the same directory
        k2d3.Trial.from_dict({**SMALL, "seed": 6}).run(tmp_path, resume=True)
    assert e.value.field == "resume"


def test_cli_trial_writes_the_report(tmp_path):
    f = tmp_path / "t.yaml"
    f.write_text(json.dumps({**SMALL, "published": [
        {"arm": "D3", "endpoint": "ohd25_nmol_l_change", "day": 30, "value": 30, "low": 20, "high": 40,
         "interval": "a test band", "source": "this test"}]}))
    (tmp_path / "out").mkdir()
    p = cli("trial", f, "--out", tmp_path / "out", "--json")
    assert p.returncode == 0, p.stderr
    record = json.loads(p.stdout)
    assert record["screening"]["included"] == 8 and record["published"][0]["published"] == 30
    assert (tmp_path / "out" / "trial.png").read_bytes()[:4] == b"\x89PNG"
    assert not list((tmp_path / "out").rglob(".*.tmp"))


# -- bad input ----------------------------------------------------------------------------------
def _with(**changes) -> dict:
    return {**SMALL, **changes}


BAD = [
    ("bogus", _with(bogus=1), "bogus: unknown field"),
    ("arm-without-regimen", _with(arms=[{"name": "placebo"}]), "arms.0.regimen: required field is missing"),
    ("no-arms", _with(arms=[]), "arms: needs at least one arm"),
    ("n-zero", _with(subjects_per_arm=0), "subjects_per_arm: must be a whole number from 1 to 10000"),
    ("n-negative", _with(subjects_per_arm=-3), "subjects_per_arm: must be a whole number"),
    ("n-too-large", _with(subjects_per_arm=10_001), "subjects_per_arm: must be a whole number from 1 to 10000"),
    ("n-total", _with(subjects_per_arm=10_000, arms=SMALL["arms"] + [{"name": "x", "regimen": {}}]),
     "subjects_per_arm: 10000 x 3 arms = 30000 subjects; at most 20000"),
    ("n-fraction", _with(subjects_per_arm=2.5), "subjects_per_arm: must be a whole number"),
    ("malformed", _with(inclusion=["ohd25_nmol_l <<< 50"]), "inclusion.0: cannot read 'ohd25_nmol_l <<< 50'"),
    ("or", _with(inclusion=["age < 30 or age > 70"]), "inclusion.0: cannot read"),
    ("code", _with(inclusion=["__import__('os').system('true') < 1"]), "inclusion.0: cannot read"),
    ("unknown-name", _with(inclusion=["ohd25 < 50"]), "inclusion.0: unknown name 'ohd25'"),
    ("string-covariate", _with(inclusion=["sex == 1"]), "inclusion.0: 'sex' is not a number"),
    ("visit-late", _with(visits=[0, 40]), "visits.1: day 40 is outside 0-30"),
    ("endpoint", _with(endpoints=[{"observable": "vitamin_q", "statistic": "value"}]),
     "endpoints.0.observable: unknown observable 'vitamin_q'"),
    ("responder", _with(endpoints=[{"observable": "inr", "statistic": "responder", "threshold": 2}]),
     "endpoints.0.direction: a responder needs threshold and direction"),
    ("pct-of-pct", _with(endpoints=[{"observable": "bmd_lumbar_spine_pct_change", "statistic": "pct_change"}]),
     "endpoints.0.statistic: bmd_lumbar_spine_pct_change is already a % change"),
    ("arm-subject", _with(arms=[{"name": "a", "regimen": {"subject": {"age": 40}}}]),
     "arms.0.regimen.subject: subjects come from the trial's population"),
    ("arm-name", _with(arms=[{"name": "my arm", "regimen": {}}]), "arms.0.name: 'my arm': use letters"),
    ("published-arm", _with(published=[{"arm": "x", "endpoint": "ohd25_nmol_l", "day": 30, "value": 1,
                                        "source": "s"}]), "published.0.arm: no arm 'x'"),
    ("published-band", _with(published=[{"arm": "D3", "endpoint": "ohd25_nmol_l", "day": 30, "value": 1, "low": 2,
                                         "high": 3, "interval": "SD", "source": "s"}]), "published.0.value"),
    ("age-range", _with(population={"age": [70, 40]}), "population.age: range must lie within 18-110"),
    ("base-and-distribution", _with(population={"subject": {"baseline_25ohd_nmol_l": 50},
                                                "baseline_25ohd_nmol_l": {"mean": 40, "sd": 5}}),
     "population.baseline_25ohd_nmol_l: the subject fixes"),
    ("regimen-path", _with(arms=[{"name": "a", "regimen": "missing.yaml"}]), "arms.0.regimen: cannot read"),
]


@pytest.mark.parametrize("case", BAD, ids=[b[0] for b in BAD])
def test_bad_trial_is_one_line_naming_the_field(case):
    _, data, message = case
    with pytest.raises(InputError) as e:
        k2d3.Trial.from_dict(data)
    assert str(e.value).startswith(message), str(e.value)
    assert "\n" not in str(e.value)


def test_inclusion_no_candidate_meets_stops_after_bounded_draws():
    trial = k2d3.Trial.from_dict(_with(inclusion=["age > 80"]))  # the population is 40-75
    with pytest.raises(InputError) as e:
        trial.run()
    assert e.value.field == "inclusion"
    assert "only 0 of 160 screened candidates meet age > 80; 8 needed" in str(e.value)
    assert f"stops at {trials.SCREEN_FACTOR * 8} draws" in str(e.value)


def test_regimen_paths_are_read_beside_the_trial_file(tmp_path):
    (tmp_path / "regimens").mkdir()
    (tmp_path / "regimens" / "d3.yaml").write_text("supplements: [{compound: D3, dose: 1000 IU, every: 1 day}]\n")
    f = tmp_path / "t.yaml"
    f.write_text(json.dumps(_with(arms=[{"name": "d3", "regimen": "regimens/d3.yaml"}])))
    trial = k2d3.Trial.from_yaml(f)
    assert trial.arms[0].regimen.supplements[0].compound == "D3"


@pytest.mark.parametrize("case", [
    ("unknown-field", json.dumps(_with(bogus=1)), "bogus"),
    ("no-regimen", "name: x\nsubjects_per_arm: 2\nduration_days: 5\nvisits: [5]\narms: [{name: a}]\n"
                   "endpoints: [{observable: inr, statistic: value}]\n", "arms.0.regimen"),
    ("malformed-yaml", "name: [x\n", "file"),
    ("nobody-qualifies", json.dumps(_with(inclusion=["age > 80"])), "inclusion"),
], ids=lambda c: c[0] if isinstance(c, tuple) else c)
def test_cli_bad_trial_is_one_line_exit_2_and_writes_nothing(tmp_path, case):
    _, text, field = case
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    out = tmp_path / "out"
    p = cli("trial", f, "--out", out)
    assert_one_line_error(p, field)
    assert not out.exists()


def test_cli_unreachable_scheduler_is_one_line_and_writes_nothing(tmp_path):
    f = tmp_path / "t.yaml"
    f.write_text(json.dumps(SMALL))
    out = tmp_path / "out"
    p = cli("trial", f, "--out", out, "--scheduler", "tcp://127.0.0.1:9")
    assert_one_line_error(p, "scheduler")
    assert not out.exists()
