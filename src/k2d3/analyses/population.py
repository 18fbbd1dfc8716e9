"""A virtual population: sampled covariates and between-subject parameter variability.

Covariates (``data/population.yaml``, each with its source), drawn only where the base
subject leaves them unset (a measured 25(OH)D, a stated sex or genotype is kept, and
``Population.drawn`` says which were drawn): age (uniform over a given range: a trial's
inclusion range, not a population distribution), sex (a given female fraction), BMI
(lognormal by sex, NHANES 2015-2016; weight follows at the base height), baseline serum
25(OH)D (normal fitted to NHANES 2011-2014), age at menopause (women), usual phylloquinone
and menaquinone intake (lognormal, Belgian and Dutch surveys), eGFR (the NHANES III mean of
the age decade), type 2 diabetes and prediabetes (NHANES 2005-2006 prevalence by age), and
CYP2C9/VKORC1 genotypes at Hardy-Weinberg proportions of an ancestry's allele frequencies
(1000 Genomes). Draws outside a stated range are drawn again (truncated distributions).
Parameter variability: every entry of ``parameters.yaml`` with a ``cv`` gets a lognormal
factor, ``value * exp(eta)``, ``eta ~ N(0, log(1 + cv^2))``, so the table value is the
median. Each parameter and each new covariate draws from its own stream (seed and name),
so adding one leaves every other draw of the same seed unchanged. One seed fixes every draw.

Two engines run the subjects. The population engine (``engine.population_engine``,
``engine="compiled"``, the default) runs every subject's arms as compiled code, the
subjects in parallel threads. The reference engine runs them one by one through
libroadrunner, spread over a local process pool with a serial fallback; it is what the
population engine is tested against, and the path an injected ``simulator`` takes.
"""
from __future__ import annotations

import functools
import math
import os
import warnings
import zlib
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from importlib import resources

import numpy as np
import yaml

from k2d3.errors import InputError
from k2d3.inputs.subject import Subject
from k2d3.model.build import parameters as parameter_table

MAX_SUBJECTS = 100_000
ANCESTRIES = ("european", "east_asian", "african")

#: Subject fields each switch of ``Population`` draws (when the base subject leaves them unset).
GROUPS = {"bmi": ("bmi",), "baseline_25ohd": ("baseline_25ohd_nmol_l",),
          "diet": ("dietary_k1_ug_day", "dietary_menaquinones_ug_day"),
          "physiology": ("menopause_age", "egfr_ml_min", "type2_diabetes"),
          "genotypes": ("cyp2c9", "vkorc1")}


@functools.cache
def covariates() -> dict[str, dict]:
    return yaml.safe_load(resources.files("k2d3.analyses").joinpath("data/population.yaml").read_text())


def _value(name: str):
    return covariates()[name]["value"]


@dataclass(frozen=True)
class Population:
    """``n`` virtual subjects drawn around a base subject with ``seed``.

    ``age``: (low, high) years to draw ages uniformly from; None keeps the base age.
    ``female_fraction``: draw sex with this probability of female; None keeps the base sex.
    ``ancestry``: the genotype frequencies (european, east_asian, african).
    ``bmi`` / ``baseline_25ohd`` / ``diet`` / ``physiology`` / ``genotypes`` /
    ``variability``: switch each source of spread on or off.
    """

    n: int
    seed: int = 0
    age: tuple[float, float] | None = None
    female_fraction: float | None = None
    ancestry: str = "european"
    bmi: bool = True
    baseline_25ohd: bool = True
    diet: bool = True
    physiology: bool = True
    genotypes: bool = True
    variability: bool = True

    def __post_init__(self):
        if not isinstance(self.n, int) or isinstance(self.n, bool) or not 2 <= self.n <= MAX_SUBJECTS:
            raise InputError("population", f"n must be a whole number from 2 to {MAX_SUBJECTS}, got {self.n!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise InputError("seed", f"must be a non-negative whole number, got {self.seed!r}")
        if self.age is not None:
            lo, hi = self.age
            if not 18 <= lo <= hi <= 110:
                raise InputError("population.age", f"range must lie within 18-110 years, got {lo}-{hi}")
        if self.female_fraction is not None and not 0 <= self.female_fraction <= 1:
            raise InputError("population.female_fraction", f"must lie within 0-1, got {self.female_fraction}")
        if self.ancestry not in ANCESTRIES:
            raise InputError("population.ancestry", f"must be one of {', '.join(ANCESTRIES)}, got {self.ancestry!r}")

    def drawn(self, base: Subject | None = None) -> list[str]:
        """The subject fields this population draws for ``base`` (those it leaves unset)."""
        base = base or Subject()
        given = base.model_fields_set
        out = []
        if self.age is not None:
            out.append("age")
        if self.female_fraction is not None and "sex" not in given:
            out.append("sex")
        for switch, fields in GROUPS.items():
            if getattr(self, switch):
                out += [f for f in fields if f not in given and not (f == "bmi" and "weight_kg" in given)]
        if "egfr_ml_min" in out and base.ckd_stage is not None:
            out.remove("egfr_ml_min")
        if "type2_diabetes" in out and ({"prediabetes", "fasting_glucose_mg_dl", "hba1c_pct"} & given):
            out.remove("type2_diabetes")
        return out

    def sample(self, base: Subject | None = None,
               overrides: dict[str, float] | None = None) -> list[tuple[Subject, dict[str, float]]]:
        """The subjects and each one's parameter overrides (user overrides stay fixed)."""
        base = base or Subject()
        overrides = dict(overrides or {})
        draw = set(self.drawn(base))
        rng = np.random.default_rng(np.random.SeedSequence(self.seed).spawn(2)[0])
        varying = [p for p in parameter_table().values() if p.cv and p.name not in overrides] \
            if self.variability else []
        etas = {p.name: _parameter_rng(self.seed, p.name).normal(0.0, math.sqrt(math.log1p(p.cv ** 2)), self.n)
                for p in varying}
        streams = {name: _parameter_rng(self.seed, "covariate:" + name) for name in
                   ("sex", "menopause_age", "dietary_k1_ug_day", "dietary_menaquinones_ug_day",
                    "type2_diabetes", "cyp2c9", "vkorc1")}
        out = []
        for _ in range(self.n):
            data = base.model_dump(exclude_none=True)
            for derived in ("egfr_ml_min", "bmi") if not base.model_fields_set & {"egfr_ml_min", "bmi"} else ():
                data.pop(derived, None)  # derived by the Subject from what is drawn
            if "age" in draw:
                data["age"] = float(rng.uniform(*self.age))
            if "sex" in draw:
                data["sex"] = "female" if streams["sex"].random() < self.female_fraction else "male"
            if "bmi" in draw:
                data.pop("weight_kg", None)
                data.pop("body_fat_pct", None)  # a measured body fat belongs to the base's build
                sex = "male" if data.get("sex", base.sex) == "male" else "female"
                data["bmi"] = _lognormal_truncated(rng, _value(f"bmi_mean_{sex}"), _value(f"bmi_cv_{sex}"),
                                                   *_value("bmi_bounds"))
            elif "weight_kg" in base.model_fields_set:
                data.pop("bmi", None)
            if "baseline_25ohd_nmol_l" in draw:
                data["baseline_25ohd_nmol_l"] = _normal_truncated(rng, _value("ohd25_mean"), _value("ohd25_sd"),
                                                                  *_value("ohd25_bounds"))
            _draw_others(data, draw, streams, self.ancestry)
            params = dict(overrides)
            for p in varying:
                params[p.name] = p.value * math.exp(etas[p.name][len(out)])
            out.append((Subject.from_dict(data, "population subject"), params))
        return out


def _draw_others(data: dict, draw: set[str], streams: dict, ancestry: str) -> None:
    """The covariates of the diet, physiology and genotype groups, each from its stream."""
    age, female = data.get("age", 50.0), data.get("sex", "female") == "female"
    if "menopause_age" in draw:
        m = _normal_truncated(streams["menopause_age"], _value("menopause_age_mean"), _value("menopause_age_sd"),
                              *_value("menopause_age_bounds"))
        if female:
            data["menopause_age"] = m
    if "dietary_k1_ug_day" in draw:
        median = _value("k1_intake_median_under_40" if age < 40 else "k1_intake_median_40_plus")
        data["dietary_k1_ug_day"] = _lognormal_median_truncated(streams["dietary_k1_ug_day"], median,
                                                                _value("k1_intake_log_sd"), *_value("k1_intake_bounds"))
    if "dietary_menaquinones_ug_day" in draw:
        data["dietary_menaquinones_ug_day"] = _lognormal_truncated(
            streams["dietary_menaquinones_ug_day"], _value("menaquinone_intake_mean"),
            _value("menaquinone_intake_cv"), *_value("menaquinone_intake_bounds"))
    if "egfr_ml_min" in draw:
        data["egfr_ml_min"] = float([g for a, g in _value("egfr_by_age") if a <= max(age, 20)][-1])
    if "type2_diabetes" in draw:
        _, p_t2d, p_pre = [row for row in _value("diabetes_prevalence") if row[0] <= age][-1]
        u = streams["type2_diabetes"].random()
        data["type2_diabetes"], data["prediabetes"] = u < p_t2d, p_t2d <= u < p_t2d + p_pre
    freq = _value("genotype_allele_frequencies")[ancestry]
    if "cyp2c9" in draw:
        rng = streams["cyp2c9"]
        alleles = sorted(rng.choice(["*1", "*2", "*3"], size=2,
                                    p=[1 - freq["cyp2c9_2"] - freq["cyp2c9_3"], freq["cyp2c9_2"], freq["cyp2c9_3"]]))
        data["cyp2c9"] = "/".join(alleles)
    if "vkorc1" in draw:
        a = int((streams["vkorc1"].random(2) < freq["vkorc1_a"]).sum())
        data["vkorc1"] = ("GG", "GA", "AA")[a]


def _parameter_rng(seed: int, name: str) -> np.random.Generator:
    """One stream per parameter, keyed by its name: giving another parameter a cv (or
    overriding one) leaves every other draw of the same seed as it was."""
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(name.encode())]))


def _lognormal_truncated(rng, mean: float, cv: float, lo: float, hi: float) -> float:
    sigma = math.sqrt(math.log1p(cv ** 2))
    mu = math.log(mean) - sigma ** 2 / 2  # the distribution's mean is ``mean``
    while True:
        x = float(rng.lognormal(mu, sigma))
        if lo <= x <= hi:
            return x


def _lognormal_median_truncated(rng, median: float, log_sd: float, lo: float, hi: float) -> float:
    while True:
        x = float(rng.lognormal(math.log(median), log_sd))
        if lo <= x <= hi:
            return x


def _normal_truncated(rng, mean: float, sd: float, lo: float, hi: float) -> float:
    while True:
        x = float(rng.normal(mean, sd))
        if lo <= x <= hi:
            return x


def _one(job):
    """One subject's four arms (runs in a worker process)."""
    from k2d3.analyses.compare import run_arms

    subject, params, arms, days, simulator, times = job
    return run_arms(subject, arms, days, params or None, simulator, times)


def _compiled_chunk(job) -> list[dict]:
    """Subjects x arms in the population engine; frames regrouped per subject."""
    from k2d3.engine.population_engine import timecourses

    sample, arms, days, times = job
    keys = list(arms)
    frames = timecourses([s for s, _ in sample for _ in keys], [arms[k] for _ in sample for k in keys],
                         days, times, [p for _, p in sample for _ in keys])
    return [dict(zip(keys, frames[i * len(keys):(i + 1) * len(keys)])) for i in range(len(sample))]


def _guarded(fn, job):
    """``fn(job)``, with an input error returned as data: ``InputError`` does not survive
    pickling with its field."""
    try:
        return fn(job)
    except InputError as exc:
        return ("input-error", exc.field, exc.problem)


def _map(fn, jobs: list, workers: int) -> list:
    """``fn`` over ``jobs`` in a local process pool of ``workers`` (serially for one, or
    when no pool can start), in job order."""
    results = None
    if workers > 1 and len(jobs) > 1:
        import multiprocessing

        try:  # spawn: a fork would copy the parent's JIT-compiled model and its threads
            with ProcessPoolExecutor(max_workers=min(workers, len(jobs)),
                                     mp_context=multiprocessing.get_context("spawn")) as pool:
                results = list(pool.map(functools.partial(_guarded, fn), jobs))
        except (OSError, BrokenProcessPool, NotImplementedError) as exc:
            warnings.warn(f"process pool unavailable ({exc}); running the population serially", RuntimeWarning)
    if results is None:
        results = [_guarded(fn, job) for job in jobs]
    for r in results:
        if isinstance(r, tuple) and r and r[0] == "input-error":
            raise InputError(r[1], r[2])
    return results


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


ENGINES = ("auto", "compiled", "reference")


def run_population(population: Population, base: Subject, arms: dict, days: float,
                   overrides: dict | None, simulator=None, times=None, workers: int | None = None,
                   engine: str = "auto") -> list[dict]:
    """Every sampled subject's arms, in subject order. ``engine``: "compiled" (the
    population engine; the default "auto" unless a ``simulator`` is injected) or "reference"
    (libroadrunner one subject at a time, in a local pool of ``workers`` processes, default
    the cores, at most 8)."""
    if engine not in ENGINES:
        raise InputError("engine", f"must be one of {', '.join(ENGINES)}, got {engine!r}")
    sample = population.sample(base, overrides)
    workers = default_workers() if workers is None else workers
    if workers < 1:
        raise InputError("workers", f"must be at least 1, got {workers}")
    if engine != "reference" and simulator is None:
        from k2d3.analyses import chunks

        size = 256  # subjects per chunk: the progress bar's step; the engine uses every core within one
        tasks = [(sample[i:i + size], arms, days, times) for i in range(0, len(sample), size)]
        parts = chunks.run(tasks, _compiled_chunk, weights=[len(t[0]) * len(arms) * days for t in tasks],
                           units=[len(t[0]) for t in tasks])
        return [frames for part in parts for frames in part]
    return _map(_one, [(s, p, arms, days, simulator, times) for s, p in sample], workers)
