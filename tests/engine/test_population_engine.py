"""The population engine against the reference (libroadrunner) path it must reproduce.

Tolerance: every observable within 1e-4 of its scale, at every day, on a sample of
subjects and regimens (warfarin at a fixed dose and titrated, a bolus, malabsorption, a
measured 25(OH)D, a parameter override, sun, food, calcium). The scale is the width of the
observable's reference range (observables.yaml), else the largest |value| in the reference
runs of the whole sample (an observable one regimen leaves near zero, such as CTx without
vitamin D, is judged on the scale the sample shows it has). The reference integrates at relative tolerance 1e-6 (CVODE), the engine at 1e-4
(Rosenbrock, ``population_engine.RUN_RTOL``); day 0 settles at 1e-6 in both.
"""
import numpy as np
import pytest

import k2d3
from k2d3.engine import population_engine
from k2d3.errors import InputError
from k2d3.model import observables

DAYS = 120
D3 = {"compound": "D3", "dose": "2000 IU", "every": "1 day"}
MK7 = {"compound": "MK-7", "dose": "180 ug", "every": "1 day"}
K1 = {"compound": "K1", "dose": "100 ug", "every": "1 day"}
BOLUS = {"compound": "D3", "dose": "50000 IU", "on_days": [30]}
CALCIUM = {"compound": "calcium", "dose": "500 mg", "every": "1 day", "form": "carbonate"}
REGIMEN = {"supplements": [D3, MK7, K1, BOLUS]}
WARFARIN = {"supplements": [D3, BOLUS], "medications": [{"drug": "warfarin", "dose": "4 mg", "every": "1 day"}]}
TITRATED = {**REGIMEN, "medications": [{"drug": "warfarin", "target_inr": 2.5}]}
EVERYDAY = {"supplements": [D3, MK7, CALCIUM], "diet": [{"food": "natto", "grams": 20, "every": "7 days"}],
            "sun": {"minutes_per_day": 20, "skin_fraction": 0.25, "latitude": 45, "month": 5}}
ACENOCOUMAROL = {"supplements": [{"compound": "MK-7", "dose": "45 ug", "every": "1 day", "start_day": 40}],
                 "medications": [{"drug": "acenocoumarol", "dose": "2 mg", "every": "1 day"}]}

# (subject, regimen, parameter overrides)
CASES = [
    (k2d3.Subject(age=60, sex="male", bmi=24.0, baseline_25ohd_nmol_l=45.0), REGIMEN, None),
    (k2d3.Subject(age=35, sex="female", bmi=33.0, baseline_25ohd_nmol_l=80.0), REGIMEN, None),
    (k2d3.Subject(age=72, sex="female"), REGIMEN, {"cl_ohd25_70kg": 0.02}),
    (k2d3.Subject(age=66, sex="male", baseline_25ohd_nmol_l=60.0), WARFARIN, None),
    (k2d3.Subject(age=58, sex="female"), TITRATED, None),
    (k2d3.Subject(age=45, sex="male", malabsorption="crohn"), REGIMEN, None),
    (k2d3.Subject(age=50, sex="female", skin_type=4), EVERYDAY, None),
    (k2d3.Subject(age=70, sex="male", cyp2c9="*1/*3", vkorc1="GA"), ACENOCOUMAROL, None),
]


def scales(ref: np.ndarray) -> np.ndarray:
    """Per observable: its reference range's width, else the largest |value| in ``ref``
    (times x observables, or cases x times x observables)."""
    out = np.max(np.abs(ref.reshape(-1, ref.shape[-1])), axis=0)
    for j, name in enumerate(observables.names()):
        rng = observables.observables()[name].range
        if rng:
            out[j] = rng[1] - rng[0]
    return np.where(out > 0, out, 1.0)


@pytest.fixture(scope="module")
def runs():
    subjects = [s for s, _, _ in CASES]
    regimens = [k2d3.Regimen.from_dict(r) for _, r, _ in CASES]
    params = [p for _, _, p in CASES]
    out, days = population_engine.simulate_many(subjects, regimens, DAYS, parameters=params)
    ref = [k2d3.simulate(s, r, days=DAYS, parameters=p).timecourse.to_numpy()
           for s, r, p in zip(subjects, regimens, params)]
    return out, np.stack(ref), days


def test_every_observable_within_1e_4_of_its_scale(runs):
    out, ref, days = runs
    assert out.shape == (len(CASES), DAYS + 1, len(observables.names()))
    assert list(days) == list(range(DAYS + 1))
    scale = scales(ref)
    for i in range(len(CASES)):
        gap = np.max(np.abs(out[i] - ref[i]), axis=0)
        dev = gap / scale
        # an observable the regimen leaves at zero (MK-4 without MK-4) differs by round-off
        bad = {observables.names()[j]: f"{dev[j]:.1e}" for j in np.flatnonzero((dev > 1e-4) & (gap > 1e-12))}
        assert not bad, f"case {i}: {bad}"
    # the cases differ from each other by far more than the tolerance (the test can fail)
    assert np.max(np.abs(out[0] - out[3]) / scale) > 1e-2
    assert np.max(np.abs(out[1] - out[5]) / scale) > 1e-2


def test_day_zero_is_the_reference_steady_state(runs):
    out, ref, _ = runs
    np.testing.assert_allclose(out[:, 0, :], ref[:, 0, :], rtol=1e-6, atol=1e-9)


def test_warfarin_the_bolus_and_the_titration_show(runs):
    out, ref, _ = runs
    inr = observables.names().index("inr")
    ohd = observables.names().index("ohd25_nmol_l")
    assert out[3, -1, inr] > 1.5 and out[0, -1, inr] < 1.2  # a fixed warfarin dose anticoagulates
    assert out[4, -1, inr] == pytest.approx(ref[4, -1, inr], rel=1e-4)  # titrated as the reference
    assert out[0, 32, ohd] - out[0, 30, ohd] > 5.0  # the day-30 bolus raises 25(OH)D
    assert out[7, -1, inr] < out[7, 39, inr] - 0.2  # MK-7 from day 40 lowers the INR on acenocoumarol


def test_output_times_within_a_day_match_the_reference():
    s = k2d3.Subject(age=50, sex="male", baseline_25ohd_nmol_l=70.0)
    r = k2d3.Regimen.from_dict(REGIMEN)
    times = [0, 0.25, 1.5, 10, 20]
    out = population_engine.timecourses([s], r, days=20, times=times)[0]
    ref = k2d3.simulate(s, r, days=20, times=times).timecourse
    assert list(out.index) == list(ref.index) and list(out.columns) == list(ref.columns)
    dev = (out - ref).abs().max().to_numpy() / scales(ref.to_numpy())
    assert dev.max() < 1e-4


def test_order_does_not_matter_and_equal_subjects_give_equal_rows():
    a = k2d3.Subject(age=60, baseline_25ohd_nmol_l=40.0)
    b = k2d3.Subject(age=30, sex="male", bmi=35.0)
    r = k2d3.Regimen.from_dict(REGIMEN)
    forward, _ = population_engine.simulate_many([a, b, a], r, days=10)
    backward, _ = population_engine.simulate_many([b, a], r, days=10)
    np.testing.assert_array_equal(forward[0], forward[2])
    np.testing.assert_array_equal(forward[1], backward[0])  # each subject's run is its own
    np.testing.assert_array_equal(forward[0], backward[1])
    assert not np.allclose(forward[0], forward[1])


def test_the_analytic_jacobian_is_the_derivative_of_the_rates():
    """The generated Jacobian against central differences of the generated right-hand side,
    at a dosed state away from the kinks of max(amount, 0) (depots full, both antagonists
    and MK-7 present, extrahepatic hydroquinone above its day-0 value)."""
    model, mod = population_engine.kernel()
    s = k2d3.Subject(age=60, baseline_25ohd_nmol_l=50.0)
    y, p = population_engine.day0([s], [{}])
    y, p = y[0].copy(), p[0].copy()
    rows = {name: i for i, name in enumerate(model.species)}
    for depot, amount in (("d3_gut", 120.0), ("mk7_gut", 270.0), ("mk7", 5.0), ("warfarin_gut", 5.0),
                          ("warfarin", 2.0), ("acenocoumarol", 0.5), ("vkh2_ext", 1.0)):
        y[rows[depot]] += amount
    h = np.empty(model.n_hoisted)
    mod.statics(p, h)
    jac, ft = np.zeros(model.n_lu), np.zeros(len(y))
    mod.jacobian(10.0, y, p, h, jac, ft)
    bi, bj = np.nonzero(model.pattern)
    analytic = np.zeros((len(y), len(y)))
    analytic[bi, bj] = jac[model.jac_entry]
    numeric = np.zeros_like(analytic)
    f1, f2 = np.empty(len(y)), np.empty(len(y))
    for j in range(len(y)):
        d = 1e-6 * max(abs(y[j]), 1e-3)
        yp, ym = y.copy(), y.copy()
        yp[j] += d
        ym[j] -= d
        mod.rhs(10.0, yp, p, h, f1)
        mod.rhs(10.0, ym, p, h, f2)
        numeric[:, j] = (f1 - f2) / (2 * d)
    assert not numeric[~model.pattern].any()  # the pattern holds every dependence
    scale = np.abs(numeric).max(axis=1, keepdims=True) + 1e-12
    assert np.max(np.abs(analytic - numeric) / scale) < 1e-5


def test_bad_batches_are_input_errors():
    with pytest.raises(InputError) as e:
        population_engine.simulate_many([], k2d3.Regimen(), days=5)
    assert e.value.field == "subjects"
    with pytest.raises(InputError) as e:
        population_engine.simulate_many([k2d3.Subject()] * 2, [k2d3.Regimen()] * 3, days=5)
    assert e.value.field == "regimens"
    with pytest.raises(InputError) as e:
        population_engine.simulate_many([k2d3.Subject()], k2d3.Regimen(), days=5, parameters={"no_such": 1})
    assert e.value.field == "parameters"
    with pytest.raises(InputError) as e:
        population_engine.simulate_many([k2d3.Subject()], k2d3.Regimen(), days=-1)
    assert e.value.field == "days"
