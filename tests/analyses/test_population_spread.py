"""The virtual population's between-person spread against published spread.

Each check states its published spread, the band and why the band is that wide; the bands
were written down before the simulations were run and are not fitted to them. One choice
followed a check: ec50_warfarin was given Hamberg's EC50 variability first and left without
it after the cohort check (the last two warfarin tests and docs/model.md say why), so that
check no longer confirms the clearance CV independently.
"""
import math

import numpy as np
import pytest

from k2d3.analyses._trial import excess, hours, run
from k2d3.analyses.coagulation_cases import ADULT, drug_inr
from k2d3.analyses.population import Population
from k2d3.engine.equilibrium import genotype_factors
from k2d3.inputs.subject import Subject
from k2d3.model.build import parameters

VARYING = {n: p for n, p in parameters().items() if p.cv}


def _cv(x) -> float:
    x = np.asarray(x, dtype=float)
    return float(np.std(x, ddof=1) / np.mean(x))


def test_sampled_factors_have_each_parameters_cv():
    # 4000 draws: the SE of a log-SD is 1.1 % and of a median about 0.6 %; 5 % is over 4 SE
    draws = Population(n=4000, seed=11, bmi=False, baseline_25ohd=False).sample()
    for name, p in VARYING.items():
        values = np.array([params[name] for _, params in draws])
        omega = math.sqrt(math.log1p(p.cv ** 2))
        assert np.median(values) == pytest.approx(p.value, rel=0.05), name
        assert np.std(np.log(values), ddof=1) == pytest.approx(omega, rel=0.05), name
        assert _cv(values) == pytest.approx(p.cv, rel=0.08), name  # CV of a lognormal is noisier


def test_variability_off_leaves_every_parameter_at_its_table_value():
    draws = Population(n=5, seed=11, variability=False).sample()
    assert all(params == {} for _, params in draws)


# --- vitamin D: spread of the 25(OH)D rise per ug/day (row vd_slope_heaney2003 gives the mean)
ALOIA_SLOPE_MEAN, ALOIA_SLOPE_SD = 0.66, 0.35  # (nmol/L)/(ug/day) at 9 weeks, mean dose 86 ug/day
ALOIA_CV = ALOIA_SLOPE_SD / ALOIA_SLOPE_MEAN  # 0.53


def test_vd_slope_heaney2003_spread_aloia2008():
    """Aloia 2008 (Am J Clin Nutr 87:1952): individual slopes 0.66 +/- 0.35 (nmol/L)/(ug/day)
    after 9 weeks at a mean 86 ug/day, CV 0.53. The population (NHANES BMI and baseline
    25(OH)D, cl_ohd25 CV 0.21) takes 86 ug/day for 63 days.

    Band 0.5x-1.25x the published CV (0.27-0.66): the published SD also holds assay error on
    two measurements, adherence and sun, which the model lacks (lower bound: at least half
    of it must come from the between-person differences the model has); with 60 subjects the
    simulated CV has an SE of about 10 %, so 1.25x is about 2.5 SE above."""
    base = Subject(age=45)
    slopes = []
    for subject, params in Population(n=60, seed=2008).sample(base):
        r = run(subject, [{"compound": "D3", "dose": "86 ug", "every": "1 day"}], 63, params, times=[0, 63])
        slopes.append(excess(r, "ohd25_nmol_l")[-1] / 86.0)
    cv = _cv(slopes)
    assert 0.5 * ALOIA_CV <= cv <= 1.25 * ALOIA_CV, f"simulated CV {cv:.3f} (mean slope {np.mean(slopes):.2f})"


# --- vitamin K1: spread of the 9-h AUC after a 500 ug tablet
GARBER_AUC_MEAN, GARBER_AUC_SD, GARBER_N = 27.55, 10.08, 8  # nmol*h/L, 9-h AUC, tablet with a meal
GARBER_CV = GARBER_AUC_SD / GARBER_AUC_MEAN  # 0.37


K1_PATH = ("f_abs_k1", "ka_k1", "v_k1_per_kg", "t_half_k1", "fat_free_rel_k", "fat_half_g", "malabsorption_factor_k")


def _k1_auc(subject: Subject, params=None) -> float:
    times = hours(9 / 24, 0.25)
    r = run(subject, [{"compound": "K1", "dose": "500 ug", "on_days": [0], "with_meal_fat_g": 12}],
            9 / 24, params, times=times)
    return float(np.trapezoid(excess(r, "k1_nmol_l"), times * 24.0))


def test_k1_auc_scales_inversely_with_body_weight():
    """Why the K1 spread below needs no simulation per subject: K1 enters a volume and leaves
    with a clearance that are both proportional to body weight, so the AUC of a dose goes as
    1/weight (checked here on the model, 55 vs 90 kg, within 2 %)."""
    light, heavy = (_k1_auc(Subject(age=26, weight_kg=w, height_cm=170)) for w in (55, 90))
    assert light / heavy == pytest.approx(90 / 55, rel=0.02)


def test_k1_auc_spread_garber1999():
    """Garber 1999 (J Nutr 129:1201): 500 ug K1 tablet with a 402 kcal meal (27 % fat energy,
    12 g fat), 9-h AUC 27.55 +/- 10.08 nmol*h/L in 8 adults aged 22-30, CV 0.37. No K1
    parameter has a published between-subject CV, so the model's spread is body size alone:
    the CV of 1/weight over 4000 population draws (SE about 0.003).

    Band: the 95 % confidence interval of a CV estimated from 8 people (chi-square, 7 df:
    0.66x-2.04x), 0.24-0.75."""
    assert not set(K1_PATH) & set(VARYING), "a K1 parameter varies now: simulate each subject instead"
    inverse_weight = [1.0 / s.weight_kg for s, _ in Population(n=4000, seed=1999, age=(22, 30)).sample(Subject(age=26))]
    cv = _cv(inverse_weight)
    assert 0.66 * GARBER_CV <= cv <= 2.04 * GARBER_CV, f"simulated CV {cv:.3f}"


# --- warfarin: spread of the stable dose
def test_warfarin_dose_scales_with_clearance_and_ec50():
    """Why a sampled ke_warfarin maps onto the stable dose: VKOR inhibition depends on C/EC50
    and the mean C on dose/clearance, so a subject whose clearance is 1.4x and EC50 1.25x
    typical reaches the typical INR on 1.4 x 1.25 = 1.75x the dose. Checked on the model
    (trough INR after 8 weeks; 3 % for the within-day swing, which ke changes)."""
    p = parameters()
    typical = drug_inr(7.1)
    other = {"ke_warfarin": 1.4 * p["ke_warfarin"].value, "ec50_warfarin": 1.25 * p["ec50_warfarin"].value}
    assert drug_inr(7.1 * 1.75, other) == pytest.approx(typical, rel=0.03)
    assert drug_inr(7.1 * 1.4, other) < 0.9 * typical  # clearance alone does not make up for it


# Hamberg 2007 (Clin Pharmacol Ther 81:529) Table 1: 150 Italian patients on maintenance
# warfarin, 29.375 mg/week median, range 6.25-78.75 mg/week; CYP2C9 in all 150, VKORC1 in 56.
HAMBERG_CYP2C9 = {"*1/*1": 0.587, "*1/*2": 0.173, "*1/*3": 0.167, "*2/*2": 0.033, "*2/*3": 0.027, "*3/*3": 0.013}
HAMBERG_VKORC1 = {"GG": 0.39, "GA": 0.41, "AA": 0.20}
HAMBERG_RANGE_FOLD = 78.75 / 6.25  # 12.6
HAMBERG_N = 150


def _hamberg_cohort_folds(ec50_cv: float | None = None) -> np.ndarray:
    """max/min of the relative stable dose in 60 cohorts of 150 with Hamberg's genotype
    frequencies; ``ec50_cv`` adds a lognormal EC50 factor (None: as in parameters.yaml)."""
    p = parameters()
    rng = np.random.default_rng(2007)
    draws = Population(n=HAMBERG_N * 60, seed=2007, bmi=False, baseline_25ohd=False).sample(ADULT)
    factors = {}
    for c in HAMBERG_CYP2C9:
        for v in HAMBERG_VKORC1:
            g = genotype_factors(ADULT.model_copy(update={"cyp2c9": c, "vkorc1": v}))
            factors[c, v] = g["cyp2c9_ke_factor"] * g["vkorc1_ec50_factor"]
    cyp = rng.choice(list(HAMBERG_CYP2C9), size=len(draws), p=list(HAMBERG_CYP2C9.values()))
    vk = rng.choice(list(HAMBERG_VKORC1), size=len(draws), p=list(HAMBERG_VKORC1.values()))
    dose = np.array([factors[c, v] * params["ke_warfarin"] / p["ke_warfarin"].value
                     * params.get("ec50_warfarin", p["ec50_warfarin"].value) / p["ec50_warfarin"].value
                     for (_, params), c, v in zip(draws, cyp, vk)])
    if ec50_cv is not None:
        dose *= np.exp(rng.normal(0.0, math.sqrt(math.log1p(ec50_cv ** 2)), len(dose)))
    return np.array([d.max() / d.min() for d in dose.reshape(-1, HAMBERG_N)])


def test_warfarin_stable_dose_range_hamberg2007_cohort():
    """Cohorts of 150 with Hamberg's genotype frequencies, each patient's relative stable dose
    from the model's own relation (test above): CYP2C9 clearance factor x VKORC1 EC50 factor
    x the sampled clearance factor (and EC50 factor, if the table gives one). Ages are held
    at the cohort median, 71 (the age distribution is not published), which narrows the
    model's range a little.

    Band: the published max/min (12.6-fold) must lie inside the 5-95 % range of max/min over
    simulated cohorts of the same size (a predictive check; the extremes of 150 people are
    noisy). Not independent: the clearance CV was estimated in this cohort (Hamberg 2007
    Table 2); the check is that it, with the genotype factors, gives the cohort's spread."""
    lo, hi = np.percentile(_hamberg_cohort_folds(), [5, 95])
    assert lo <= HAMBERG_RANGE_FOLD <= hi, f"simulated max/min 5-95 %: {lo:.1f}-{hi:.1f}"


def test_hamberg2007_ec50_variability_would_overshoot_the_cohort_range():
    """Why ec50_warfarin has no cv: Hamberg 2007 Table 4 gives 40.9 % IIV on EC50 (omega 0.409,
    cv 0.427), but estimated in one block with the IIV of the two transit times, whose
    covariances are not published and which the model does not have. Added on top of the
    clearance CV, the model's 150-patient dose range no longer contains the published
    12.6-fold: the whole 5-95 % range lies above it."""
    lo, _ = np.percentile(_hamberg_cohort_folds(ec50_cv=0.427), [5, 95])
    assert lo > HAMBERG_RANGE_FOLD


def test_a_new_cv_leaves_the_other_draws_of_a_seed_unchanged(monkeypatch):
    from dataclasses import replace

    from k2d3.analyses import population

    before = Population(n=20, seed=5).sample()
    table = dict(parameters())
    table["v_warfarin"] = replace(table["v_warfarin"], cv=0.2, cv_source="test")
    monkeypatch.setattr(population, "parameter_table", lambda: table)
    after = Population(n=20, seed=5).sample()
    for (s0, p0), (s1, p1) in zip(before, after):
        assert s0 == s1 and {k: v for k, v in p1.items() if k != "v_warfarin"} == p0
        assert p1["v_warfarin"] != table["v_warfarin"].value
