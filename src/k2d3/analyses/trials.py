"""Virtual trials: a trial file (arms, population, inclusion, visits, endpoints) run as a
parallel-group trial over virtual subjects.

Design. Candidates are drawn from the trial's ``Population`` in order (one seed fixes every
draw, and the first k candidates are the same whatever the total drawn), screened against
the inclusion criteria (covariates directly, day-0 observables by simulating day 0), and the
first ``subjects_per_arm x arms`` who qualify are randomised to the arms by a seeded
permutation: each arm gets its own subjects, as in a parallel-group trial, so differences
between arms carry the between-subject spread a real trial's comparison carries (one sample
given every arm would compare each subject with itself and understate it). Screening stops
after ``SCREEN_FACTOR`` candidates per subject needed (at most ``MAX_SCREENED``) and says
so. Each arm runs through ``simulate_population`` (chunks, local or Dask, Parquet, resume).

Spread. The intervals a result reports come from between-subject variability (covariates
and the parameters' CVs) and the finite number of subjects. Parameter uncertainty (what the
calibration data leave undetermined) is kept apart: ``TrialResult.uncertainty`` is None
until a calibrated parameter ensemble exists; each of its members would then rerun the same
subjects with its parameters as overrides, and the spread between members would be reported
there, never merged into the between-subject intervals.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import Field, field_validator, model_validator

from k2d3.analyses import _inclusion, _trial_stats as stats, chunks
from k2d3.analyses.population import MAX_SUBJECTS, Population, _normal_truncated, _parameter_rng, _value
from k2d3.analyses.population_run import PopulationResult, output_days, simulate_population
from k2d3.errors import InputError
from k2d3.files import write_atomic
from k2d3.inputs._schema import Strict, build
from k2d3.inputs.regimen import Regimen
from k2d3.inputs.subject import Subject
from k2d3.model import observables

#: Subjects in one arm, and in all arms together (a trial of 10,000 per arm and two arms fits).
MAX_PER_ARM = 10_000
MAX_TOTAL = 20_000
#: Screening draws at most this many candidates per subject needed (a 95 % screen failure
#: rate still fills the trial), and never more than ``MAX_SCREENED`` in all.
SCREEN_FACTOR = 20
MAX_SCREENED = MAX_SUBJECTS
SCREEN_CHUNK = 512
#: A subject's day 0 costs the engine about as much as 60 days of dosing (progress bar weight).
DAY0_COST = 60
UNCERTAINTY_NOTE = ("parameter uncertainty not included: no calibrated parameter ensemble yet; "
                    "intervals are between-subject variability and the number of subjects")
_ARM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,39}$")
_PCT_UNITS = ("pct_change",)


class BaselineDistribution(Strict):
    """A trial's published baseline 25(OH)D (mean and SD): a normal, truncated to the
    population's bounds, replaces the NHANES distribution of ``Population``."""

    mean: float = Field(gt=0, le=250)
    sd: float = Field(ge=0, le=150)
    source: str | None = None


class TrialPopulation(Strict):
    """The options of ``Population`` and the base subject whose fields stay fixed."""

    age: tuple[float, float] | None = None
    female_fraction: float | None = None
    ancestry: str = "european"
    bmi: bool = True
    baseline_25ohd: bool = True
    diet: bool = True
    physiology: bool = True
    genotypes: bool = True
    variability: bool = True
    baseline_25ohd_nmol_l: BaselineDistribution | None = None
    subject: Subject = Field(default_factory=Subject)

    @model_validator(mode="after")
    def _valid(self):
        try:
            self.population(2, 0)
        except InputError as exc:
            raise InputError(exc.field.split(".")[-1], exc.problem) from None
        if self.baseline_25ohd_nmol_l is not None:
            if "baseline_25ohd_nmol_l" in self.subject.model_fields_set:
                raise InputError("baseline_25ohd_nmol_l",
                                 "the subject fixes baseline_25ohd_nmol_l; give one or the other")
            if not self.baseline_25ohd:
                raise InputError("baseline_25ohd_nmol_l", "a distribution is given but baseline_25ohd is false")
        return self

    def population(self, n: int, seed: int) -> Population:
        return Population(n=n, seed=seed, age=self.age, female_fraction=self.female_fraction, ancestry=self.ancestry,
                          bmi=self.bmi, baseline_25ohd=self.baseline_25ohd and self.baseline_25ohd_nmol_l is None,
                          diet=self.diet, physiology=self.physiology, genotypes=self.genotypes,
                          variability=self.variability)


class Arm(Strict):
    name: str
    regimen: Regimen
    description: str | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _ARM_NAME.match(v):
            raise InputError("name", f"{v!r}: use letters, digits and _ . + - (up to 40, no spaces); "
                                     f"it names the arm's output folder")
        return v

    @field_validator("regimen")
    @classmethod
    def _own(cls, r: Regimen) -> Regimen:
        if r.subject is not None:
            raise InputError("subject", "subjects come from the trial's population; move it to population.subject")
        if r.days is not None:
            raise InputError("days", "the trial's duration_days sets the length; remove days")
        return r


class Endpoint(Strict):
    """An observable and a statistic at each visit: its value, its change or % change from
    ``baseline_day`` (default 0), or whether it is above or below ``threshold`` (a responder;
    ``of`` says of which quantity)."""

    observable: str
    statistic: Literal["value", "change", "pct_change", "responder"]
    baseline_day: float | None = Field(None, ge=0)
    of: Literal["value", "change", "pct_change"] | None = None
    threshold: float | None = None
    direction: Literal["above", "below"] | None = None
    name: str | None = None

    @model_validator(mode="after")
    def _valid(self):
        if self.observable not in observables.names():
            raise InputError("observable", f"unknown observable {self.observable!r} (see k2d3 observables)")
        responder = self.statistic == "responder"
        for f in ("of", "threshold", "direction"):
            if not responder and getattr(self, f) is not None:
                raise InputError(f, "applies to statistic: responder only")
        if responder and (self.threshold is None or self.direction is None):
            raise InputError("threshold" if self.threshold is None else "direction",
                             "a responder needs threshold and direction (above or below)")
        if self.baseline_day is not None and self.quantity == "value":
            raise InputError("baseline_day", "applies to change and pct_change only")
        if self.quantity == "pct_change" and observables.observables()[self.observable].unit in _PCT_UNITS:
            raise InputError("statistic", f"{self.observable} is already a % change from day 0; use value or change")
        if self.name is not None and not self.name.strip():
            raise InputError("name", "must not be empty")
        return self

    @property
    def quantity(self) -> str:
        return (self.of or "value") if self.statistic == "responder" else self.statistic

    @property
    def base_day(self) -> float:
        return self.baseline_day or 0.0

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        out = self.observable + ("" if self.quantity == "value" else f"_{self.quantity}")
        if self.baseline_day:
            out += f"_from_day_{self.baseline_day:g}"
        if self.statistic == "responder":
            out += f"_{self.direction}_{self.threshold:g}"
        return out


class Published(Strict):
    """A published summary point: an arm's mean (a responder endpoint: its rate, 0-1) at a
    visit, with the interval low-high (say what it is in ``interval``) and its source."""

    arm: str
    endpoint: str
    day: float
    value: float
    low: float | None = None
    high: float | None = None
    interval: str | None = None
    source: str
    row: str | None = None
    quote: str | None = None

    @model_validator(mode="after")
    def _valid(self):
        if (self.low is None) != (self.high is None):
            raise InputError("low" if self.low is None else "high", "give both low and high, or neither")
        if self.low is not None:
            if not self.low <= self.value <= self.high:
                raise InputError("value", f"{self.value:g} is not within low-high ({self.low:g}-{self.high:g})")
            if not self.interval:
                raise InputError("interval", "say what low-high is (SD, 95% CI, range, acceptance band)")
        return self


class Trial(Strict):
    """A virtual trial: see the module docstring and ``examples/trials/``."""

    name: str
    description: str | None = None
    source: str | None = None
    seed: int = Field(0, strict=True, ge=0)
    subjects_per_arm: int
    duration_days: float = Field(gt=0, le=365 * 100)
    visits: list[float]
    endpoints: list[Endpoint]
    population: TrialPopulation = Field(default_factory=TrialPopulation)
    inclusion: list[str] = Field(default_factory=list)
    arms: list[Arm]
    published: list[Published] = Field(default_factory=list)

    @field_validator("subjects_per_arm", mode="before")
    @classmethod
    def _n(cls, v):
        if not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= MAX_PER_ARM:
            raise InputError("subjects_per_arm", f"must be a whole number from 1 to {MAX_PER_ARM}, got {v!r}")
        return v

    @field_validator("inclusion", mode="before")
    @classmethod
    def _one_or_many(cls, v):
        return [v] if isinstance(v, str) else v

    @model_validator(mode="after")
    def _valid(self):
        if not self.arms:
            raise InputError("arms", "needs at least one arm")
        names = [a.name for a in self.arms]
        if len(set(names)) != len(names):
            raise InputError("arms", f"arm names must differ, got {names}")
        total = self.subjects_per_arm * len(self.arms)
        if total > MAX_TOTAL:
            raise InputError("subjects_per_arm", f"{self.subjects_per_arm} x {len(self.arms)} arms = {total} "
                                                 f"subjects; at most {MAX_TOTAL} in all")
        if not self.visits:
            raise InputError("visits", "needs at least one visit day")
        for i, d in enumerate(self.visits):
            if not 0 <= d <= self.duration_days:
                raise InputError(f"visits.{i}", f"day {d:g} is outside 0-{self.duration_days:g} (duration_days)")
        if len(set(self.visits)) != len(self.visits):
            raise InputError("visits", "each visit day once")
        if not self.endpoints:
            raise InputError("endpoints", "needs at least one endpoint")
        labels = [e.label for e in self.endpoints]
        if len(set(labels)) != len(labels):
            raise InputError("endpoints", f"two endpoints share a name: {labels} (give one a name)")
        for i, e in enumerate(self.endpoints):
            if e.base_day > self.duration_days:
                raise InputError(f"endpoints.{i}.baseline_day", f"day {e.base_day:g} is after duration_days")
            if e.quantity != "value" and not any(v > e.base_day for v in self.visits):
                raise InputError(f"endpoints.{i}", f"a change needs a visit after its baseline day {e.base_day:g}")
        self.criteria()
        for i, p in enumerate(self.published):
            if p.arm not in names:
                raise InputError(f"published.{i}.arm", f"no arm {p.arm!r} (arms: {', '.join(names)})")
            if p.endpoint not in labels:
                raise InputError(f"published.{i}.endpoint",
                                 f"no endpoint {p.endpoint!r} (endpoints: {', '.join(labels)})")
            e = self.endpoints[labels.index(p.endpoint)]
            if p.day not in self.visits or (e.quantity != "value" and p.day <= e.base_day):
                raise InputError(f"published.{i}.day", f"day {p.day:g} is not a visit of {p.endpoint}")
        return self

    # -- reading ---------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: object, base_dir: str | Path = ".") -> "Trial":
        """Validate a trial; arm regimens given as paths are read relative to ``base_dir``."""
        if isinstance(data, dict) and isinstance(data.get("arms"), list):
            data = {**data, "arms": [_resolve_arm(a, i, Path(base_dir)) for i, a in enumerate(data["arms"])]}
        return build(cls, data, "")

    @classmethod
    def from_yaml(cls, path: str | Path) -> "Trial":
        path = Path(path)
        try:
            text = path.read_text()
        except OSError as exc:
            raise InputError("file", f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark else ""
            raise InputError("file", f"{path.name} is not valid YAML{where}: "
                                     f"{getattr(exc, 'problem', None) or 'malformed'}") from None
        return cls.from_dict(data, path.parent)

    def criteria(self) -> list[_inclusion.Criterion]:
        return _inclusion.parse(self.inclusion)

    def digest(self) -> str:
        """A hash of everything that decides the result (for resume and provenance)."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:16]

    def run(self, out_dir: str | Path | None = None, *, resume: bool = False, client=None) -> "TrialResult":
        """Screen, randomise and simulate every arm; with ``out_dir`` the time courses are
        streamed there (``arms/<arm>/``) and the summary files written (``trial.json``,
        ``endpoints.csv``, ``differences.csv``, ``subjects.parquet``)."""
        return run_trial(self, out_dir, resume=resume, client=client)


def _resolve_arm(arm, i: int, base: Path):
    if isinstance(arm, dict) and isinstance(arm.get("regimen"), str):
        try:
            regimen = Regimen.from_yaml(base / arm["regimen"])
        except InputError as exc:
            field = f"arms.{i}.regimen" + ("" if exc.field == "file" else f".{exc.field}")
            raise InputError(field, exc.problem) from None
        return {**arm, "regimen": regimen}
    return arm


# -- screening and randomisation --------------------------------------------------------------
@dataclass
class Screening:
    candidates: list            # every drawn (Subject, parameters), in draw order
    included: list[int]         # the candidates enrolled, in order
    report: dict


def _draw(trial: Trial, m: int) -> list:
    """The first ``m`` candidates (the same first k for any m >= k)."""
    tp = trial.population
    sample = tp.population(m, trial.seed).sample(tp.subject)
    dist = tp.baseline_25ohd_nmol_l
    if dist is not None:
        rng = _parameter_rng(trial.seed, "trial:baseline_25ohd_nmol_l")
        lo, hi = _value("ohd25_bounds")
        sample = [(s.model_copy(update={"baseline_25ohd_nmol_l": _normal_truncated(rng, dist.mean, dist.sd, lo, hi)}),
                   p) for s, p in sample]
    return sample


def _day0_work(task) -> pd.DataFrame:
    """Day-0 observables (before any dose) of a chunk of candidates (runs in a Dask worker too)."""
    from k2d3.engine.population_engine import simulate_many

    index, sample, names = task
    values, _ = simulate_many([s for s, _ in sample], Regimen(), 1.0, [0.0], [p for _, p in sample])
    cols = [observables.names().index(n) for n in names]
    return pd.DataFrame(values[:, 0, cols], columns=names, index=index)


def screen(trial: Trial, client=None) -> Screening:
    """Draw candidates until ``subjects_per_arm x arms`` meet the inclusion criteria, or the
    screening limit is reached (a one-line error naming how many qualified)."""
    needed = trial.subjects_per_arm * len(trial.arms)
    limit = min(MAX_SCREENED, SCREEN_FACTOR * needed) if trial.inclusion else needed
    limit = max(limit, needed)
    criteria = trial.criteria()
    on_day0 = sorted({c.name for c in criteria if c.on_day0})
    eligible: list[int] = []
    candidates: list = []
    m, done = min(needed, limit), 0
    while True:
        candidates = _draw(trial, m)
        fresh = [i for i in range(done, m)
                 if all(c.holds(_inclusion.covariate(candidates[i][0], c.name)) for c in criteria if not c.on_day0)]
        if on_day0 and fresh:
            tasks = [(fresh[k:k + SCREEN_CHUNK], [candidates[i] for i in fresh[k:k + SCREEN_CHUNK]], on_day0)
                     for k in range(0, len(fresh), SCREEN_CHUNK)]
            day0 = pd.concat(chunks.run(tasks, _day0_work, client=client, label="screened",
                                        weights=[DAY0_COST * len(t[0]) for t in tasks],
                                        units=[len(t[0]) for t in tasks]))
            fresh = [i for i in fresh if all(c.holds(day0.at[i, c.name]) for c in criteria if c.on_day0)]
        eligible += fresh
        done = m
        if len(eligible) >= needed or m >= limit:
            break
        rate = len(eligible) / m
        m = min(limit, max(2 * m, math.ceil(1.2 * needed / rate) if rate > 0 else 0))
    if len(eligible) < needed:
        raise InputError("inclusion", f"only {len(eligible)} of {m} screened candidates meet "
                                      f"{' and '.join(c.text for c in criteria)}; {needed} needed "
                                      f"({trial.subjects_per_arm} x {len(trial.arms)} arms); screening stops at "
                                      f"{limit} draws: widen the criteria or the population")
    report = {"needed": needed, "screened": m, "eligible": len(eligible), "included": needed,
              "limit": limit, "criteria": [c.text for c in criteria]}
    return Screening(candidates, eligible[:needed], report)


def randomise(trial: Trial, n_included: int) -> np.ndarray:
    """The arm index of each enrolled subject: a seeded permutation with exactly
    ``subjects_per_arm`` in each arm."""
    labels = np.repeat(np.arange(len(trial.arms)), trial.subjects_per_arm)[:n_included]
    rng = np.random.default_rng(np.random.SeedSequence([trial.seed, zlib.crc32(b"trial:randomisation")]))
    return rng.permutation(labels)


# -- running ----------------------------------------------------------------------------------
def grid(trial: Trial) -> np.ndarray:
    """Simulated days: the population grid, every visit and every endpoint's baseline day."""
    days = set(output_days(trial.duration_days).tolist()) | set(trial.visits) | {e.base_day for e in trial.endpoints}
    return np.array(sorted(days | {0.0}))


def run_trial(trial: Trial, out_dir: str | Path | None = None, *, resume: bool = False, client=None) -> "TrialResult":
    if resume and out_dir is None:
        raise InputError("resume", "needs an output directory (the run to resume)")
    screening = screen(trial, client)
    allocation = randomise(trial, len(screening.included))
    tp = trial.population
    population = tp.population(screening.report["screened"], trial.seed)
    out_dir = None if out_dir is None else chunks.ensure_dir(Path(out_dir))
    times = grid(trial)
    arms, ids = {}, {}
    for k, arm in enumerate(trial.arms):
        members = [c for c, a in zip(screening.included, allocation) if a == k]
        ids[arm.name] = members
        arms[arm.name] = simulate_population(
            population, tp.subject, {arm.name: arm.regimen}, trial.duration_days, times=times,
            out_dir=None if out_dir is None else out_dir / "arms" / arm.name, resume=resume, client=client,
            sample=[screening.candidates[c] for c in members],
            provenance={"trial": trial.digest(), "arm": arm.name})
    drawn = population.drawn(tp.subject) + (["baseline_25ohd_nmol_l"] if tp.baseline_25ohd_nmol_l else [])
    result = TrialResult(trial, arms, ids, screening.report, drawn)
    if out_dir is not None:
        result.write(out_dir)
    return result


# -- the result -------------------------------------------------------------------------------
@dataclass
class TrialResult:
    """A trial's arms (``PopulationResult`` each), who was enrolled where, and summaries."""

    trial: Trial
    arms: dict[str, PopulationResult]
    enrolled: dict[str, list[int]]      # per arm: the candidates' screening numbers
    screening: dict
    drawn: list[str]
    #: Parameter uncertainty (the calibrated ensemble's spread), kept apart from the
    #: between-subject intervals: None until an ensemble exists (module docstring).
    uncertainty: dict | None = None
    _cache: dict = field(default_factory=dict, repr=False)

    def quantities(self, arm: str, endpoint: Endpoint) -> pd.DataFrame:
        """The endpoint's quantity per subject (rows, the arm's subject order) and simulated
        day (columns, from the baseline day on); a responder as 1.0/0.0."""
        key = (arm, endpoint.label)
        if key in self._cache:
            return self._cache[key]
        frame = self.arms[arm].observable(endpoint.observable)
        wide = frame.pivot(index="subject", columns="day", values=endpoint.observable)
        days = wide.columns.to_numpy(dtype=float)
        base = wide[days[np.argmin(np.abs(days - endpoint.base_day))]]
        wide = wide.loc[:, days >= endpoint.base_day - 1e-9]
        if endpoint.quantity == "change":
            wide = wide.sub(base, axis=0)
        elif endpoint.quantity == "pct_change":
            with np.errstate(divide="ignore", invalid="ignore"):
                wide = 100.0 * (wide.div(base.where(base > 0), axis=0) - 1.0)
        if endpoint.statistic == "responder":
            hit = wide > endpoint.threshold if endpoint.direction == "above" else wide < endpoint.threshold
            wide = hit.astype(float).where(wide.notna())
        self._cache[key] = wide
        return wide

    def _at(self, arm: str, endpoint: Endpoint, day: float) -> np.ndarray:
        wide = self.quantities(arm, endpoint)
        days = wide.columns.to_numpy(dtype=float)
        return wide[days[np.argmin(np.abs(days - day))]].to_numpy(dtype=float)

    def _visits(self, endpoint: Endpoint) -> list[float]:
        """The visits an endpoint is summarised at: all for a value, those after the
        baseline day for a change (at the baseline day it is zero by definition)."""
        if endpoint.quantity == "value":
            return sorted(self.trial.visits)
        return [v for v in sorted(self.trial.visits) if v > endpoint.base_day]

    @property
    def endpoints(self) -> pd.DataFrame:
        """Per endpoint, arm and visit: n, mean, SD, the 95 % CI of the mean and the
        2.5-97.5 percentiles of subjects (``kind`` mean); a responder's rate and its Wilson
        interval (``kind`` rate)."""
        if "endpoints" not in self._cache:
            rows = []
            for e in self.trial.endpoints:
                for arm in self.arms:
                    for day in self._visits(e):
                        v = self._at(arm, e, day)
                        s = stats.rate(v) if e.statistic == "responder" else stats.describe(v)
                        rows.append({"endpoint": e.label, "arm": arm, "day": day,
                                     "kind": "rate" if e.statistic == "responder" else "mean", **s})
            self._cache["endpoints"] = pd.DataFrame(rows)
        return self._cache["endpoints"]

    def _stat(self, endpoint: str, arm: str, day: float) -> dict:
        t = self.endpoints
        row = t[(t["endpoint"] == endpoint) & (t["arm"] == arm) & (t["day"] == day)]
        return row.iloc[0].to_dict()

    @property
    def differences(self) -> pd.DataFrame:
        """Each arm against the first (the reference) per endpoint and visit: the difference
        of means (rates) with its 95 % interval, and for value endpoints the relative
        difference in % (normal approximation; ``_trial_stats``)."""
        if "differences" not in self._cache:
            rows = []
            ref = self.trial.arms[0].name
            for e in self.trial.endpoints:
                for arm in list(self.arms)[1:]:
                    for day in self._visits(e):
                        a, r = self._stat(e.label, arm, day), self._stat(e.label, ref, day)
                        rate = e.statistic == "responder"
                        d, lo, hi = stats.rate_difference(a, r) if rate else stats.mean_difference(a, r)
                        rel = stats.relative_difference(a, r) if e.quantity == "value" and not rate else (math.nan,) * 3
                        rows.append({"endpoint": e.label, "arm": arm, "reference": ref, "day": day,
                                     "difference": d, "ci_low": lo, "ci_high": hi,
                                     "relative_pct": rel[0], "relative_ci_low": rel[1], "relative_ci_high": rel[2],
                                     "method": "Newcombe hybrid score" if rate else "normal (Welch SE)"})
            self._cache["differences"] = pd.DataFrame(rows)
        return self._cache["differences"]

    @property
    def published(self) -> pd.DataFrame:
        """Each published point beside the simulated arm mean (or rate) at that visit, and
        whether the simulated mean lies within the published interval."""
        rows = []
        for p in self.trial.published:
            s = self._stat(p.endpoint, p.arm, p.day)
            sim = s["rate"] if s["kind"] == "rate" else s["mean"]
            rows.append({"arm": p.arm, "endpoint": p.endpoint, "day": p.day, "published": p.value,
                         "low": p.low, "high": p.high, "interval": p.interval, "simulated": sim,
                         "simulated_ci_low": s["ci_low"], "simulated_ci_high": s["ci_high"],
                         "within": None if p.low is None else bool(p.low <= sim <= p.high),
                         "row": p.row, "source": p.source})
        return pd.DataFrame(rows, columns=["arm", "endpoint", "day", "published", "low", "high", "interval",
                                           "simulated", "simulated_ci_low", "simulated_ci_high", "within",
                                           "row", "source"])

    def over_time(self, endpoint: Endpoint) -> dict[str, pd.DataFrame]:
        """Per arm and simulated day: the 5th, 50th and 95th percentiles of the endpoint's
        quantity (``p5``, ``p50``, ``p95``), or for a responder the rate and its Wilson
        interval (``rate``, ``low``, ``high``)."""
        out = {}
        for arm in self.arms:
            wide = self.quantities(arm, endpoint)
            if endpoint.statistic == "responder":
                rs = [stats.rate(wide[d].to_numpy(dtype=float)) for d in wide.columns]
                out[arm] = pd.DataFrame({"rate": [r["rate"] for r in rs], "low": [r["ci_low"] for r in rs],
                                         "high": [r["ci_high"] for r in rs]}, index=wide.columns)
            else:
                q = np.nanpercentile(wide.to_numpy(dtype=float), [5, 50, 95], axis=0)
                out[arm] = pd.DataFrame({"p5": q[0], "p50": q[1], "p95": q[2]}, index=wide.columns)
        return out

    @property
    def subjects(self) -> pd.DataFrame:
        """One row per enrolled subject: arm, screening number, covariates, sampled
        parameters and each endpoint at each visit (columns ``<endpoint>@<day>``)."""
        frames = []
        for arm, res in self.arms.items():
            f = res.subjects.drop(columns="subject").copy()
            f.insert(0, "screening_number", self.enrolled[arm])
            f.insert(0, "arm", arm)
            for e in self.trial.endpoints:
                for day in self._visits(e):
                    f[f"{e.label}@{day:g}"] = self._at(arm, e, day)
            frames.append(f)
        out = pd.concat(frames, ignore_index=True).sort_values("screening_number", kind="stable")
        out.insert(0, "subject", np.arange(len(out)))
        out = out.reset_index(drop=True)
        out.attrs["drawn"] = list(self.drawn)
        return out

    def to_dict(self) -> dict:
        t = self.trial
        return {"trial": t.name, "source": t.source, "seed": t.seed, "subjects_per_arm": t.subjects_per_arm,
                "duration_days": t.duration_days, "visits": sorted(t.visits),
                "arms": [{"name": a.name, "description": a.description,
                          "regimen": a.regimen.model_dump(mode="json", exclude_none=True)} for a in t.arms],
                "reference_arm": t.arms[0].name, "design": "parallel groups, seeded randomisation",
                "screening": self.screening, "drawn": self.drawn,
                "endpoints": _records(self.endpoints), "differences": _records(self.differences),
                "published": _records(self.published),
                "uncertainty": self.uncertainty, "uncertainty_note": UNCERTAINTY_NOTE,
                "intervals": "95% CI of the mean: normal approximation; rates: Wilson; differences: Welch "
                             "normal approximation (rates: Newcombe hybrid score; relative: delta method on logs)",
                "trial_digest": t.digest()}

    def write(self, out_dir: str | Path) -> None:
        """trial.json, endpoints.csv, differences.csv and subjects.parquet, each written whole."""
        out_dir = chunks.ensure_dir(Path(out_dir))
        record = self.to_dict()
        write_atomic(out_dir / "trial.json", json.dumps(record, indent=2, default=_json_default))
        write_atomic(out_dir / "endpoints.csv", self.endpoints.to_csv(index=False))
        write_atomic(out_dir / "differences.csv", self.differences.to_csv(index=False))
        subjects = self.subjects
        write_atomic(out_dir / "subjects.parquet", lambda tmp: subjects.to_parquet(tmp, index=False))


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in r.items()}
            for r in frame.to_dict(orient="records")]


def _json_default(v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        f = float(v)
        return f if math.isfinite(f) else None
    if isinstance(v, (np.bool_,)):
        return bool(v)
    return str(v)
