"""The 2x2 comparison: arms built right, the interaction exact on a response with a known
bilinear interaction, the classes as documented, and reproducible populations."""
import json

import numpy as np
import pandas as pd
import pytest

import k2d3
from k2d3.analyses import compare as cmp
from k2d3.analyses.population import Population

REGIMEN = k2d3.Regimen.from_dict({
    "supplements": [
        {"compound": "D3", "dose": "2000 IU", "every": "1 day"},
        {"compound": "MK-7", "dose": "180 ug", "every": "1 day"},
        {"compound": "calcium", "dose": "500 mg", "every": "1 day"},
    ],
    "sun": {"minutes_per_day": 10, "latitude": 52},
})

# y = a + (b*D + c*K + g*D*K) * (1 - exp(-t/30)), D and K in nmol/day, per observable
COEFFS = {
    "ohd25_nmol_l": (50.0, 0.2, 0.05, 1e-4),       # both raise it, g > 0: synergy
    "ucoc_fraction": (0.45, -1e-3, -5e-4, 1e-6),   # both lower it, g > 0: antagonism
    "calcium_mmol_l": (2.4, 1e-4, 1e-5, 0.0),      # g = 0: additive
    "mk7_nmol_l": (0.0, 0.0, 0.1, 1e-9),           # g tiny against a large K effect: additive
}


def _doses(regimen):
    d = sum(s.dose_nmol for s in regimen.supplements if s.compound in cmp.D_FORMS)
    k = sum(s.dose_nmol for s in regimen.supplements if s.compound in cmp.K_FORMS)
    return d, k


class _Result:
    def __init__(self, timecourse):
        self.timecourse = timecourse


def bilinear(subject, regimen, days, times=None, parameters=None):
    """A stand-in for the engine whose interaction is known: g * D * K, scaled per subject
    by its baseline 25(OH)D (so that a population has a spread)."""
    d, k = _doses(regimen)
    s = (subject.baseline_25ohd_nmol_l or 65.9) / 65.9
    t = np.arange(0.0, days + 1)
    ramp = 1 - np.exp(-t / 30)
    cols = {name: a + (b * d + c * k + g * s * d * k) * ramp for name, (a, b, c, g) in COEFFS.items()}
    return _Result(pd.DataFrame(cols, index=pd.Index(t, name="day")))


def expected_interaction(name, subject_scale=1.0):
    d, k = _doses(REGIMEN)
    a, b, c, g = COEFFS[name]
    return g * subject_scale * d * k * (1 - np.exp(-100 / 30))


def test_arms_switch_only_the_vitamin_d_and_k_supplements():
    arms = cmp.factorial_arms(REGIMEN)
    compounds = {k: sorted(s.compound for s in r.supplements) for k, r in arms.items()}
    assert compounds == {"placebo": ["calcium"], "D": ["D3", "calcium"], "K": ["MK-7", "calcium"],
                         "DK": ["D3", "MK-7", "calcium"]}
    assert all(r.sun == REGIMEN.sun for r in arms.values())  # sun stays in every arm
    assert cmp.arm_labels(REGIMEN)["DK"] == "D3 + MK-7"


@pytest.mark.parametrize("supplements, missing", [
    ([{"compound": "D3", "dose": "1000 IU", "every": "1 day"}], "no vitamin K"),
    ([{"compound": "K1", "dose": "100 ug", "every": "1 day"}], "no vitamin D"),
    ([], "no vitamin D and no vitamin K"),
])
def test_a_regimen_without_both_factors_is_refused(supplements, missing):
    with pytest.raises(k2d3.InputError) as err:
        cmp.factorial_arms(k2d3.Regimen.from_dict({"supplements": supplements}))
    assert err.value.field == "supplements" and missing in err.value.problem


def test_interaction_equals_the_known_bilinear_term():
    c = k2d3.compare(k2d3.Subject(), REGIMEN, days=100, simulator=bilinear)
    for name in COEFFS:
        assert c.table.loc[name, "interaction"] == pytest.approx(expected_interaction(name), rel=1e-9, abs=1e-12)
    d, k = _doses(REGIMEN)
    ramp = 1 - np.exp(-100 / 30)
    assert c.table.loc["ohd25_nmol_l", "effect_D"] == pytest.approx(0.2 * d * ramp)
    assert c.table.loc["ohd25_nmol_l", "change_DK"] == pytest.approx((0.2 * d + 0.05 * k + 1e-4 * d * k) * ramp)
    assert c.table.loc["ohd25_nmol_l", "end_placebo"] == pytest.approx(50.0)
    assert c.table["class"].to_dict() == {"ohd25_nmol_l": "synergy", "ucoc_fraction": "antagonism",
                                          "calcium_mmol_l": "additive", "mk7_nmol_l": "additive"}


@pytest.mark.parametrize("eff_d, eff_k, inter, floor, expected", [
    (10.0, 5.0, 0.4, 0.01, "additive"),      # 0.4 < 5% of 10
    (10.0, 5.0, 0.6, 0.01, "synergy"),       # beyond, same sign as the effects
    (10.0, 5.0, -0.6, 0.01, "antagonism"),
    (-10.0, -5.0, -0.6, 0.01, "synergy"),    # both lower it; the combination lowers it more
    (-10.0, -5.0, 0.6, 0.01, "antagonism"),
    (1.0, 0.0, 0.5, 1.0, "additive"),        # below the absolute floor
    (0.0, 0.0, 2.0, 0.1, "synergy"),         # only the combination acts
    (-18.0, -12.0, 5.0, 0.1, "antagonism"),  # the article's glucose table: -25 vs -30 added
])
def test_classification_rule(eff_d, eff_k, inter, floor, expected):
    assert cmp.classify(eff_d, eff_k, inter, floor) == expected


@pytest.mark.parametrize("low, high, expected", [
    (-0.1, 0.2, "additive"), (0.6, 0.9, "synergy"), (-0.9, -0.6, "antagonism"), (0.2, 0.9, "inconclusive"),
])
def test_population_classification_needs_the_whole_interval(low, high, expected):
    assert cmp.classify_interval(10.0, 5.0, low, high, 0.01) == expected


def test_population_interaction_ci_and_reproducibility():
    pop = Population(n=40, seed=7)
    a = k2d3.compare(k2d3.Subject(), REGIMEN, days=100, population=pop, simulator=bilinear, workers=1)
    b = k2d3.compare(k2d3.Subject(), REGIMEN, days=100, population=Population(n=40, seed=7),
                     simulator=bilinear, workers=1)
    c = k2d3.compare(k2d3.Subject(), REGIMEN, days=100, population=Population(n=40, seed=8),
                     simulator=bilinear, workers=1)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert a.table.loc["ohd25_nmol_l", "interaction"] != c.table.loc["ohd25_nmol_l", "interaction"]
    # the individual interactions are g * D * K scaled by each subject's own baseline
    baselines = np.array([s.baseline_25ohd_nmol_l for s, _ in pop.sample(k2d3.Subject())])
    assert a.individual["ohd25_nmol_l"] == pytest.approx(expected_interaction("ohd25_nmol_l") * baselines / 65.9)
    row = a.table.loc["ohd25_nmol_l"]
    assert row["interaction_ci_low"] < row["interaction"] < row["interaction_ci_high"]
    assert row["interaction_p2_5"] < row["interaction_ci_low"] and row["interaction_ci_high"] < row["interaction_p97_5"]
    assert row["class"] == "synergy" and a.table.loc["calcium_mmol_l", "class"] == "additive"
    out = json.loads(a.to_json())
    assert out["n_subjects"] == 40 and out["seed"] == 7
    assert out["observables"]["ohd25_nmol_l"]["interaction_ci_low"] == pytest.approx(row["interaction_ci_low"])


def test_process_pool_gives_the_serial_answer():
    pop = Population(n=4, seed=3)
    serial = k2d3.compare(k2d3.Subject(), REGIMEN, days=50, population=pop, simulator=bilinear, workers=1)
    pooled = k2d3.compare(k2d3.Subject(), REGIMEN, days=50, population=pop, simulator=bilinear, workers=2)
    pd.testing.assert_frame_equal(serial.table, pooled.table)


def test_population_draws_are_seeded_and_inside_their_bounds():
    base = k2d3.Subject(age=60, height_cm=165)
    a = Population(n=200, seed=1, age=(50, 70)).sample(base)
    b = Population(n=200, seed=1, age=(50, 70)).sample(base)
    assert [(s, p) for s, p in a] == [(s, p) for s, p in b]
    ages = np.array([s.age for s, _ in a])
    bmis = np.array([s.bmi for s, _ in a])
    ohd = np.array([s.baseline_25ohd_nmol_l for s, _ in a])
    cl = np.array([p["cl_ohd25_70kg"] for _, p in a])
    assert 50 <= ages.min() and ages.max() <= 70
    assert 16 <= bmis.min() and bmis.max() <= 60 and 27.5 < bmis.mean() < 31.5   # NHANES women 29.6
    assert 10 <= ohd.min() and ohd.max() <= 250 and 60 < ohd.mean() < 72         # fitted mean 65.9
    assert np.median(cl) == pytest.approx(0.0153, rel=0.1)                       # median = table value
    assert 0.15 < np.std(np.log(cl)) < 0.27                                      # cv 0.21
    assert all(s.height_cm == 165 for s, _ in a)


def test_user_overrides_are_not_varied():
    sample = Population(n=5, seed=2).sample(k2d3.Subject(), {"cl_ohd25_70kg": 0.02})
    assert {p["cl_ohd25_70kg"] for _, p in sample} == {0.02}


@pytest.mark.parametrize("kwargs, field", [({"n": 1}, "population"), ({"n": 5, "seed": -1}, "seed"),
                                           ({"n": 5, "age": (10, 40)}, "population.age")])
def test_bad_population(kwargs, field):
    with pytest.raises(k2d3.InputError) as err:
        Population(**kwargs)
    assert err.value.field == field


def test_real_model_d3_and_mk7_act_on_their_own_markers(daily_d3_mk7):
    """The engine itself, one subject, short run: D3 moves 25(OH)D, MK-7 the ucOC fraction,
    and neither moves the other's marker."""
    c = k2d3.compare(k2d3.Subject(baseline_25ohd_nmol_l=50), daily_d3_mk7, days=60)
    t = c.table
    assert t.loc["ohd25_nmol_l", "effect_D"] > 20 and abs(t.loc["ohd25_nmol_l", "effect_K"]) < 1e-3
    assert t.loc["ucoc_fraction", "effect_K"] < -0.1 and abs(t.loc["ucoc_fraction", "effect_D"]) < 1e-6
    assert t.loc["ohd25_nmol_l", "class"] == "additive"
    assert set(t.index) == set(k2d3.simulate(None, daily_d3_mk7, days=1).timecourse.columns)


@pytest.mark.parametrize("sex, above_40, above_30", [("female", 0.100, 0.412), ("male", 0.056, 0.381)])
def test_bmi_distribution_reproduces_nhanes_obesity_prevalences(sex, above_40, above_30):
    """The BMI spread is fitted to grade 3 obesity; obesity (BMI 30+) is a check within 3 points."""
    base = k2d3.Subject(sex=sex, height_cm=170)
    bmis = np.array([s.bmi for s, _ in Population(n=4000, seed=11, baseline_25ohd=False,
                                                 variability=False).sample(base)])
    assert np.mean(bmis >= 40) == pytest.approx(above_40, abs=0.015)
    assert np.mean(bmis >= 30) == pytest.approx(above_30, abs=0.035)


def test_baseline_25ohd_distribution_reproduces_nhanes_prevalences():
    """Herrick 2019: 5.0% below 30 nmol/L, 23.3% below 50 (the two quantiles fitted); the
    redraw below 10 nmol/L (0.5% of the normal) lowers them to 4.5% and 22.9%."""
    ohd = np.array([s.baseline_25ohd_nmol_l for s, _ in Population(n=4000, seed=12, bmi=False,
                                                                   variability=False).sample()])
    assert ohd.min() >= 10
    assert np.mean(ohd < 30) == pytest.approx(0.045, abs=0.01)    # about 3 standard errors at n = 4000
    assert np.mean(ohd < 50) == pytest.approx(0.229, abs=0.02)
