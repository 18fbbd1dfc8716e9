"""The batched engine against the reference (libroadrunner) path it must reproduce.

Tolerance. Both paths integrate the same equations with relative tolerance 1e-6 and error
control per subject (CVODE in the reference, scipy's BDF in the batch), so they differ by
their global integration errors, not by the model. The bound used is
``|batch - reference| <= 1e-3 * |reference| + 1e-6 * scale`` per observable, ``scale`` its
largest |value| over the run: 1e-3 relative is far below any difference the model is used
to discuss (and far below the calibration bands), and the absolute part serves the % change
observables, which start at exactly 0 and cross it.
"""
import numpy as np
import pytest

import k2d3
from k2d3.analyses.population import Population
from k2d3.engine import batch
from k2d3.errors import InputError
from k2d3.model import observables

DAYS = 120
REGIMEN = {"supplements": [
    {"compound": "D3", "dose": "2000 IU", "every": "1 day"},
    {"compound": "MK-7", "dose": "180 ug", "every": "1 day"},
    {"compound": "K1", "dose": "100 ug", "every": "1 day"},
    {"compound": "D3", "dose": "50000 IU", "on_days": [30]},
]}
# without vitamin K supplements (100 ug K1 and 180 ug MK-7 a day offset 4 mg of warfarin)
WARFARIN = {"supplements": [REGIMEN["supplements"][0], REGIMEN["supplements"][3]],
            "medications": [{"drug": "warfarin", "dose": "4 mg", "every": "1 day"}]}
TITRATED = {**REGIMEN, "medications": [{"drug": "warfarin", "target_inr": 2.5}]}

# (subject, regimen, parameter overrides): different age, sex, BMI, measured 25(OH)D,
# a parameter override, warfarin at a fixed dose, a titrated warfarin dose, malabsorption
CASES = [
    (k2d3.Subject(age=60, sex="male", bmi=24.0, baseline_25ohd_nmol_l=45.0), REGIMEN, None),
    (k2d3.Subject(age=35, sex="female", bmi=33.0, baseline_25ohd_nmol_l=80.0), REGIMEN, None),
    (k2d3.Subject(age=72, sex="female"), REGIMEN, {"cl_ohd25_70kg": 0.02}),
    (k2d3.Subject(age=66, sex="male", baseline_25ohd_nmol_l=60.0), WARFARIN, None),
    (k2d3.Subject(age=58, sex="female"), TITRATED, None),
    (k2d3.Subject(age=45, sex="male", malabsorption="crohn"), REGIMEN, None),
]


def close(b, r) -> np.ndarray:
    """Per element: within the tolerance of the module docstring."""
    scale = np.max(np.abs(r), axis=0)
    return np.abs(b - r) <= 1e-3 * np.abs(r) + 1e-6 * scale


@pytest.fixture(scope="module")
def runs():
    subjects = [s for s, _, _ in CASES]
    regimens = [k2d3.Regimen.from_dict(r) for _, r, _ in CASES]
    params = [p for _, _, p in CASES]
    out = batch.simulate_batch(subjects, regimens, DAYS, parameters=params)
    ref = [k2d3.simulate(s, r, days=DAYS, parameters=p).timecourse.to_numpy()
           for s, r, p in zip(subjects, regimens, params)]
    return out, np.stack(ref)


def test_every_observable_matches_the_reference(runs):
    out, ref = runs
    assert out.shape == (len(CASES), DAYS + 1, len(observables.names()))
    for i in range(len(CASES)):
        ok = close(out[i], ref[i])
        bad = [observables.names()[j] for j in np.flatnonzero(~ok.all(axis=0))]
        assert not bad, f"subject {i}: {bad}"
    # the cases differ from each other by far more than the tolerance (the test can fail)
    assert not close(out[0], out[3]).all()
    assert not close(out[1], out[5]).all()


def test_day_zero_is_the_reference_steady_state(runs):
    out, ref = runs
    np.testing.assert_allclose(out[:, 0, :], ref[:, 0, :], rtol=1e-12, atol=1e-300)


def test_warfarin_and_the_bolus_show(runs):
    out, ref = runs
    inr = observables.names().index("inr")
    ohd = observables.names().index("ohd25_nmol_l")
    assert out[3, -1, inr] > 1.5 and out[0, -1, inr] < 1.2  # fixed warfarin dose anticoagulates
    assert out[4, -1, inr] == pytest.approx(ref[4, -1, inr], rel=1e-3)  # titrated as the reference
    assert out[0, 32, ohd] - out[0, 30, ohd] > 5.0  # the day-30 bolus raises 25(OH)D


def test_a_batch_of_one_equals_the_reference():
    s = k2d3.Subject(age=50, sex="male", baseline_25ohd_nmol_l=70.0)
    r = k2d3.Regimen.from_dict(REGIMEN)
    times = [0, 0.25, 1.5, 10, 20]
    out = batch.timecourses([s], r, days=20, times=times)[0]
    ref = k2d3.simulate(s, r, days=20, times=times).timecourse
    assert list(out.index) == list(ref.index) and list(out.columns) == list(ref.columns)
    assert close(out.to_numpy(), ref.to_numpy()).all()


def test_order_does_not_matter_and_equal_subjects_give_equal_rows():
    a = k2d3.Subject(age=60, baseline_25ohd_nmol_l=40.0)
    b = k2d3.Subject(age=30, sex="male", bmi=35.0)
    r = k2d3.Regimen.from_dict(REGIMEN)
    forward = batch.simulate_batch([a, b, a], r, days=10)
    backward = batch.simulate_batch([b, a], r, days=10)
    np.testing.assert_array_equal(forward[0], forward[2])
    np.testing.assert_allclose(forward[1], backward[0], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(forward[0], backward[1], rtol=1e-6, atol=1e-9)
    assert not np.allclose(forward[0], forward[1])


def test_bad_batches_are_input_errors():
    with pytest.raises(InputError) as e:
        batch.simulate_batch([], k2d3.Regimen(), days=5)
    assert e.value.field == "subjects"
    with pytest.raises(InputError) as e:
        batch.simulate_batch([k2d3.Subject()] * 2, [k2d3.Regimen()] * 3, days=5)
    assert e.value.field == "regimens"


def test_population_compare_batch_equals_reference():
    regimen = k2d3.Regimen.from_dict({"supplements": REGIMEN["supplements"][:2]})
    pop = Population(n=3, seed=5)
    fast = k2d3.compare(k2d3.Subject(age=60), regimen, days=30, population=pop, engine="batch")
    slow = k2d3.compare(k2d3.Subject(age=60), regimen, days=30, population=pop, engine="reference", workers=1)
    for column in ("interaction", "interaction_ci_low", "interaction_ci_high", "end_DK", "effect_D"):
        b, r = fast.table[column].astype(float), slow.table[column].astype(float)
        # the interaction is a difference of four end values: its error is bounded by theirs
        tol = 4 * (1e-3 * fast.table["end_DK"].astype(float).abs() + 1e-6 * fast.table["floor"].astype(float) * 1e3)
        assert ((b - r).abs() <= tol).all(), column
    assert (fast.table["class"] == slow.table["class"]).all()
    with pytest.raises(InputError):
        k2d3.compare(k2d3.Subject(), regimen, days=5, population=pop, engine="fast")


def test_auto_takes_the_batch_for_large_populations(monkeypatch):
    """"auto" picks the engine by size: the batch from BATCH_MIN_RUNS runs on."""
    from k2d3.analyses import population as module

    used = []
    monkeypatch.setattr(module, "_batched", lambda sample, arms, days, times, workers: used.append(len(sample)) or [])
    arms = {"placebo": k2d3.Regimen()}
    module.run_population(Population(n=module.BATCH_MIN_RUNS, seed=1), k2d3.Subject(), arms, 5, None)
    assert used == [module.BATCH_MIN_RUNS]
    small = module.run_population(Population(n=2, seed=1, variability=False), k2d3.Subject(), arms, 2, None,
                                  workers=1)
    assert used == [module.BATCH_MIN_RUNS] and len(small) == 2


def test_without_the_scipy_pieces_auto_runs_the_loop_and_batch_says_why(monkeypatch):
    """The batch rebinds private pieces of scipy's BDF: where a scipy lacks them, "auto"
    falls back to the per-subject loop and an explicit "batch" is a one-line error."""
    from k2d3.analyses import population as module
    from k2d3.engine import block_bdf

    monkeypatch.setattr(block_bdf, "unsupported", lambda: "scipy 9.9 lacks norm")
    monkeypatch.setattr(module, "_batched", lambda *a: pytest.fail("the batch ran"))
    arms = {"placebo": k2d3.Regimen()}
    pop = Population(n=module.BATCH_MIN_RUNS, seed=1, variability=False)
    monkeypatch.setattr(module, "_one", lambda job: {"placebo": None})
    assert len(module.run_population(pop, k2d3.Subject(), arms, 2, None, workers=1)) == module.BATCH_MIN_RUNS
    with pytest.raises(InputError, match="scipy 9.9 lacks norm"):
        module.run_population(pop, k2d3.Subject(), arms, 2, None, engine="batch")


def test_a_batch_split_over_two_processes_equals_one_batch():
    """Large populations run as one batch per worker process; the split changes nothing
    but the wall time (each part is the same computation on fewer columns)."""
    from k2d3.analyses import population as module

    pop = Population(n=4, seed=3)
    sample = pop.sample(k2d3.Subject(age=55))
    arms = {"placebo": k2d3.Regimen(),
            "D": k2d3.Regimen.from_dict({"supplements": [{"compound": "D3", "dose": "2000 IU", "every": "1 day"}]})}
    one = module._batched(sample, arms, 6, None, workers=1)
    two = module._map(module._batch_chunk, [(sample[:2], arms, 6, None), (sample[2:], arms, 6, None)], 2)
    two = [r for part in two for r in part]
    assert len(one) == len(two) == 4
    for a, b in zip(one, two):
        for arm in arms:
            np.testing.assert_allclose(b[arm].to_numpy(), a[arm].to_numpy(), rtol=1e-6, atol=1e-9)
    assert not np.allclose(one[0]["D"]["ohd25_nmol_l"], one[1]["D"]["ohd25_nmol_l"])  # the subjects differ


def test_batch_is_split_only_while_each_part_keeps_the_minimum(monkeypatch):
    from k2d3.analyses import population as module

    calls = []
    monkeypatch.setattr(module, "_map", lambda fn, jobs, workers: calls.append((len(jobs), workers)) or [])
    arms = {k: k2d3.Regimen() for k in ("placebo", "D", "K", "DK")}
    sample = [(k2d3.Subject(), {})] * 50                           # 200 runs
    module._batched(sample, arms, 5, None, workers=8)
    module._batched(sample, arms, 5, None, workers=1)
    module._batched(sample[:30], arms, 5, None, workers=8)         # 120 runs
    assert calls == [(2, 2), (1, 1), (1, 1)]
