"""The 2x2 factorial that the article's synergy claim implies: placebo, vitamin D alone,
vitamin K alone, and both, built from the doses of one regimen.

Factors. The D factor is the regimen's *supplements* of vitamin D forms (D3, D2,
calcifediol); the K factor its supplements of vitamin K forms (K1, MK-4, MK-7, MK-8, MK-9).
Everything else — diet, sun, medications, calcium and other supplements, the subject — is
background and stays in all four arms, as in a placebo-controlled trial where nobody is
told to avoid the sun or change their food. A regimen without at least one D form and one
K form has no 2x2 and is refused.

Interaction. For every observable, with E = end value of an arm,
``interaction = E(D+K) - E(D) - E(K) + E(placebo)``. All arms start from the same day-0
steady state, so this equals the same contrast on the changes from day 0.

Classification. "Synergy" and "antagonism" are defined relative to the direction in which
the vitamins move the observable, not to what is good for health: with single-factor
effects eD = E(D) - E(placebo) and eK = E(K) - E(placebo),

- additive: |interaction| <= tolerance, with
  ``tolerance = max(REL_TOL * max(|eD|, |eK|), floor)`` (``REL_TOL`` = 5 %; ``floor`` =
  ``FLOOR_FRACTION`` (0.1 %) of the observable's scale: the width of its reference range,
  else the largest absolute value any arm reaches);
- synergy: the combination moves the observable further, in the direction of eD + eK, than
  the two effects added (super-additive: interaction has the sign of eD + eK);
- antagonism: the combination moves it less than the two added (sub-additive: the opposite
  sign). Where eD + eK is itself within the tolerance, the direction is the combination's
  own effect eD + eK + interaction.

For a population (``analyses.population.Population``) every subject gets its own four
arms; the table reports means over subjects, the percentile bootstrap 95 % confidence
interval of the mean interaction, and the 2.5-97.5 percentiles of the individual
interactions. The population classification needs the whole confidence interval on one
side: inside the tolerance band (additive), beyond it in the effects' direction (synergy)
or against it (antagonism); otherwise "inconclusive".
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from k2d3.errors import InputError
from k2d3.inputs.regimen import Regimen
from k2d3.inputs.subject import Subject
from k2d3.model import observables

D_FORMS = ("D3", "D2", "calcifediol")
K_FORMS = ("K1", "MK-4", "MK-7", "MK-8", "MK-9")
ARMS = ("placebo", "D", "K", "DK")
REL_TOL = 0.05
FLOOR_FRACTION = 1e-3
BOOTSTRAP_RESAMPLES = 2000
CLASSES = ("synergy", "additive", "antagonism", "inconclusive")


def factorial_arms(regimen: Regimen) -> dict[str, Regimen]:
    """The four arms of ``regimen``: its D-form and K-form supplements switched off and on."""
    d = [s for s in regimen.supplements if s.compound in D_FORMS]
    k = [s for s in regimen.supplements if s.compound in K_FORMS]
    rest = [s for s in regimen.supplements if s.compound not in D_FORMS + K_FORMS]
    missing = [name for name, items, forms in (("vitamin D", d, D_FORMS), ("vitamin K", k, K_FORMS))
               if not items]
    if missing:
        raise InputError("supplements", f"a 2x2 comparison needs at least one vitamin D supplement "
                                        f"({', '.join(D_FORMS)}) and one vitamin K supplement "
                                        f"({', '.join(K_FORMS)}); this regimen has no {' and no '.join(missing)}")
    base = regimen.model_dump(exclude_none=True)

    def arm(items) -> Regimen:
        data = dict(base)
        data["supplements"] = [s.model_dump(exclude_none=True) for s in (*rest, *items)]
        return Regimen.from_dict(data)

    return {"placebo": arm([]), "D": arm(d), "K": arm(k), "DK": arm(d + k)}


def arm_labels(regimen: Regimen) -> dict[str, str]:
    """Readable arm names from the regimen's own forms, e.g. 'D3 alone', 'D3 + MK-7'."""
    def forms(allowed):
        return " + ".join(dict.fromkeys(s.compound for s in regimen.supplements if s.compound in allowed))

    d, k = forms(D_FORMS), forms(K_FORMS)
    return {"placebo": "placebo", "D": f"{d} alone", "K": f"{k} alone", "DK": f"{d} + {k}"}


def interaction(ends: dict[str, float]) -> float:
    return ends["DK"] - ends["D"] - ends["K"] + ends["placebo"]


def tolerance(effect_d: float, effect_k: float, floor: float, rel_tol: float = REL_TOL) -> float:
    return max(rel_tol * max(abs(effect_d), abs(effect_k)), floor)


def _direction(effect_d: float, effect_k: float, inter: float, tol: float) -> float:
    ref = effect_d + effect_k
    return ref if abs(ref) > tol else ref + inter


def classify(effect_d: float, effect_k: float, inter: float, floor: float,
             rel_tol: float = REL_TOL) -> str:
    """synergy / additive / antagonism for one subject (see the module docstring)."""
    tol = tolerance(effect_d, effect_k, floor, rel_tol)
    if abs(inter) <= tol:
        return "additive"
    return "synergy" if inter * _direction(effect_d, effect_k, inter, tol) > 0 else "antagonism"


def classify_interval(effect_d: float, effect_k: float, low: float, high: float, floor: float,
                      rel_tol: float = REL_TOL) -> str:
    """The population rule: the whole confidence interval [low, high] must fall on one side."""
    tol = tolerance(effect_d, effect_k, floor, rel_tol)
    if -tol <= low and high <= tol:
        return "additive"
    mid = 0.5 * (low + high)
    sign = math.copysign(1.0, _direction(effect_d, effect_k, mid, tol))
    lo, hi = sorted((sign * low, sign * high))  # in the effects' direction
    if lo > tol:
        return "synergy"
    if hi < -tol:
        return "antagonism"
    return "inconclusive"


def scale(name: str, frames: list[pd.DataFrame]) -> float:
    """The observable's scale: its reference-range width, else the largest |value| reached."""
    obs = observables.observables().get(name)
    if obs is not None and obs.range and obs.range[1] > obs.range[0]:
        return float(obs.range[1] - obs.range[0])
    return max(float(np.nanmax(np.abs(f[name].to_numpy(dtype=float)))) for f in frames)


@dataclass
class Comparison:
    """What ``compare`` returns: per observable the four end values, the changes from day 0,
    the single effects, the interaction and its class (``table``); the arms' time courses
    (for a population: the mean over subjects); and, for a population, the per-subject
    interactions."""

    table: pd.DataFrame
    timecourses: dict[str, pd.DataFrame]
    labels: dict[str, str]
    days: float
    n_subjects: int = 1
    seed: int | None = None
    individual: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    bands: dict[str, tuple[pd.DataFrame, pd.DataFrame]] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict:
        def clean(v):
            if isinstance(v, (float, np.floating)):
                return None if not math.isfinite(v) else float(v)
            if isinstance(v, np.integer):
                return int(v)
            return v

        rows = {name: {k: clean(v) for k, v in row.items()} for name, row in self.table.to_dict("index").items()}
        return {
            "design": "2x2 factorial: placebo, vitamin D supplements alone, vitamin K supplements alone, both",
            "arms": self.labels,
            "days": self.days,
            "n_subjects": self.n_subjects,
            "seed": self.seed,
            "interaction": "E(D+K) - E(D) - E(K) + E(placebo), on end values (same day-0 state in every arm)",
            "classification": (f"additive if |interaction| <= max({REL_TOL:g} * largest single effect, "
                               f"{FLOOR_FRACTION:g} * observable scale); synergy if the interaction has the "
                               "sign of the summed single effects (super-additive), antagonism if the opposite "
                               "(sub-additive)" + ("; population: the whole 95% CI of the mean interaction "
                                                   "must lie on one side, else inconclusive"
                                                   if self.n_subjects > 1 else "")),
            "observables": rows,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


Simulator = Callable[..., object]


def _engine_simulate(subject, regimen, days, times=None, parameters=None):
    from k2d3.engine.simulate import simulate

    return simulate(subject, regimen, days=days, times=times, parameters=parameters)


def run_arms(subject: Subject, arms: dict[str, Regimen], days: float, parameters: dict | None,
             simulator: Simulator | None = None, times=None) -> dict[str, pd.DataFrame]:
    """The four arms' time courses for one subject."""
    sim = simulator or _engine_simulate
    return {key: sim(subject, arm, days, times=times, parameters=parameters).timecourse
            for key, arm in arms.items()}


def _row(name: str, frames: dict[str, pd.DataFrame], floor: float) -> dict:
    ends = {k: float(f[name].iloc[-1]) for k, f in frames.items()}
    starts = {k: float(f[name].iloc[0]) for k, f in frames.items()}
    eff_d, eff_k = ends["D"] - ends["placebo"], ends["K"] - ends["placebo"]
    inter = interaction(ends)
    return {**{f"end_{k}": ends[k] for k in ARMS},
            **{f"change_{k}": ends[k] - starts[k] for k in ARMS},
            "day0": starts["placebo"], "effect_D": eff_d, "effect_K": eff_k, "interaction": inter,
            "tolerance": tolerance(eff_d, eff_k, floor), "floor": floor,
            "class": classify(eff_d, eff_k, inter, floor)}


def _meta(name: str) -> dict:
    obs = observables.observables().get(name)
    return {"unit": obs.unit if obs else "", "evidence": obs.evidence if obs else ""}


def single(frames: dict[str, pd.DataFrame], labels: dict[str, str], days: float) -> Comparison:
    names = [c for c in frames["placebo"].columns]
    rows = {}
    for name in names:
        floor = FLOOR_FRACTION * scale(name, list(frames.values()))
        rows[name] = {**_meta(name), **_row(name, frames, floor)}
    return Comparison(pd.DataFrame.from_dict(rows, orient="index"), frames, labels, days)


def pooled(per_subject: list[dict[str, pd.DataFrame]], labels: dict[str, str], days: float,
           seed: int) -> Comparison:
    """Means over subjects, the bootstrap CI of the mean interaction, individual spread."""
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(2)[1])
    n = len(per_subject)
    names = list(per_subject[0]["placebo"].columns)
    idx = rng.integers(0, n, size=(BOOTSTRAP_RESAMPLES, n))
    rows, individual = {}, {}
    for name in names:
        subject_rows = [_row(name, fr, FLOOR_FRACTION * scale(name, list(fr.values()))) for fr in per_subject]
        inter = np.array([r["interaction"] for r in subject_rows])
        individual[name] = inter
        mean = {k: float(np.mean([r[k] for r in subject_rows])) for k in subject_rows[0] if k != "class"}
        boot = inter[idx].mean(axis=1)
        lo, hi = (float(x) for x in np.percentile(boot, [2.5, 97.5]))
        floor = float(np.median([r["floor"] for r in subject_rows]))
        classes = [r["class"] for r in subject_rows]
        rows[name] = {**_meta(name), **mean, "floor": floor,
                      "tolerance": tolerance(mean["effect_D"], mean["effect_K"], floor),
                      "interaction_ci_low": lo, "interaction_ci_high": hi,
                      "interaction_p2_5": float(np.percentile(inter, 2.5)),
                      "interaction_p97_5": float(np.percentile(inter, 97.5)),
                      **{f"n_{c}": classes.count(c) for c in CLASSES[:3]},
                      "class": classify_interval(mean["effect_D"], mean["effect_K"], lo, hi, floor)}
    mean_tc, bands = {}, {}
    for k in ARMS:
        stack = np.stack([fr[k].to_numpy(dtype=float) for fr in per_subject])
        template = per_subject[0][k]
        mean_tc[k] = pd.DataFrame(stack.mean(axis=0), index=template.index, columns=template.columns)
        bands[k] = tuple(pd.DataFrame(np.percentile(stack, q, axis=0), index=template.index,
                                      columns=template.columns) for q in (10, 90))
    return Comparison(pd.DataFrame.from_dict(rows, orient="index"), mean_tc, labels, days, n, seed,
                      individual, bands)


def compare(subject: Subject | None = None, regimen: Regimen | None = None, days: float | None = None,
            population=None, *, parameters: dict[str, float] | None = None, times=None,
            simulator: Simulator | None = None, workers: int | None = None,
            engine: str = "auto") -> Comparison:
    """Run the 2x2 factorial of ``regimen``'s vitamin D and vitamin K supplements.

    ``population``: a ``Population``; each sampled subject (covariates and parameter
    variability) gets all four arms, run in the population engine (``engine="compiled"``,
    the default) or one subject at a time on the reference engine (``engine="reference"``)
    in a local process pool (``workers``, default the machine's cores; 1 = serial). ``simulator`` replaces the engine (tests inject a response
    with a known interaction): ``simulator(subject, regimen, days, times=, parameters=)``
    returning an object with a ``timecourse`` DataFrame.
    """
    if regimen is None:
        raise InputError("regimen", "compare needs a regimen with vitamin D and vitamin K supplements")
    subject = subject if subject is not None else (regimen.subject or Subject())
    days = float(days if days is not None else (regimen.days or 365.0))
    if not math.isfinite(days) or days <= 0:
        raise InputError("days", f"must be a positive number, got {days!r}")
    arms = factorial_arms(regimen)
    labels = arm_labels(regimen)
    if population is None:
        return single(run_arms(subject, arms, days, parameters, simulator, times), labels, days)
    from k2d3.analyses.population import run_population

    per_subject = run_population(population, subject, arms, days, parameters, simulator, times, workers, engine)
    return pooled(per_subject, labels, days, population.seed)
