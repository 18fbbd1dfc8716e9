"""The calibration objective: every trial arm simulated by the population engine at once.

A parameter vector (log values of ``priors.names()``) becomes one override dict for every
condition (a subject on a regimen, run to its last measurement day); conditions of equal
duration run in one ``simulate_many`` call, all on the machine's cores. Each published
number is compared with the model's value (at its day, or its change from the arm's own day
0) with a noise of

    sigma^2 = SE^2 + (MODEL_CV x |published|)^2 + floor^2

SE being the published mean's standard error (``sd_of_mean``; without one, ``NO_SE_CV`` x
|published|), MODEL_CV the model error every prediction is allowed, and the floor keeping a
change near zero from an infinite weight. The negative log posterior is half the sum of the
squared residuals and the priors' ((log theta - log median) / sd_log)^2.

``dosing_mode="smooth"`` (the default) spreads daily doses over their day: the fit's
surrogate, about 14 times fewer integration steps; ``surrogate_error`` compares it with
exact dosing on every measurement.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from k2d3.calibration import priors as prior_table
from k2d3.model import observables

#: Model error every prediction is allowed, as a fraction of the published value (assumed:
#: a mechanistic model of this size is not expected to be closer than about 10 % to any one
#: trial's mean; it keeps a trial of 10 000 from outweighing the rest by its tiny SE).
MODEL_CV = 0.10
#: Noise of a published mean given without a spread, as a fraction of it (assumed).
NO_SE_CV = 0.20
#: Floors of sigma for changes from baseline: percentage points for pct_change, else a
#: fraction of the observable's reference-range width (assumed).
PCT_FLOOR = 0.5
RANGE_FLOOR = 0.02
#: Residual returned for every measurement when a simulation fails (the optimiser steps back).
FAILED = 1e3
STATISTICS = ("value", "change", "pct_change", "ratio_to_baseline")


@dataclass
class _Condition:
    subject: object
    regimen: object
    days: float
    times: list[float] = field(default_factory=list)


def sigma(m) -> float:
    """The noise of one published number (module docstring)."""
    v = abs(float(m.value))
    se = float(m.sd_of_mean) if m.sd_of_mean is not None else NO_SE_CV * v
    floor = 0.0
    if m.statistic == "pct_change":
        floor = PCT_FLOOR
    elif m.statistic in ("change",):
        rng = observables.observables()[m.observable].range
        floor = RANGE_FLOOR * (rng[1] - rng[0]) if rng else 0.05 * v
    out = math.sqrt(se ** 2 + (MODEL_CV * v) ** 2 + floor ** 2)
    return out if out > 0 else 1.0


class Objective:
    """``residuals(x)`` and ``__call__(x)`` for log parameter values ``x``."""

    def __init__(self, measurements, dosing_mode: str = "smooth", names: list[str] | None = None):
        self.measurements = list(measurements)
        for m in self.measurements:
            if m.statistic not in STATISTICS:
                raise ValueError(f"{m.id}: unknown statistic {m.statistic!r}")
            if m.observable not in observables.names():
                raise ValueError(f"{m.id}: unknown observable {m.observable!r}")
        self.names = list(names or prior_table.names())
        table = {p.name: p for p in prior_table.priors()}
        self.priors = [table[n] for n in self.names]
        self.dosing_mode = dosing_mode
        self.sigma = np.array([sigma(m) for m in self.measurements])
        self.value = np.array([float(m.value) for m in self.measurements])
        self.obs_index = np.array([observables.names().index(m.observable) for m in self.measurements])
        conditions: dict[tuple, _Condition] = {}
        self.cond_of = []
        for m in self.measurements:
            key = (m.subject.model_dump_json(), m.regimen.model_dump_json())
            c = conditions.setdefault(key, _Condition(m.subject, m.regimen, 0.0, [0.0]))
            c.days = max(c.days, float(m.day))
            c.times.append(float(m.day))
            self.cond_of.append(key)
        self.conditions = conditions
        self.groups: dict[float, list[tuple]] = {}
        for key, c in conditions.items():
            self.groups.setdefault(max(c.days, 1.0), []).append(key)
        self.evaluations = 0
        self.exact: set[tuple] = set()  # conditions run with exact dosing (the surrogate is off there)

    def lower(self) -> np.ndarray:
        return np.log([p.lower for p in self.priors])

    def upper(self) -> np.ndarray:
        return np.log([p.upper for p in self.priors])

    def x0(self) -> np.ndarray:
        return np.log([p.median for p in self.priors])

    def overrides(self, x) -> dict[str, float]:
        return {n: float(math.exp(v)) for n, v in zip(self.names, x)}

    def simulate(self, params: dict[str, float], dosing_mode: str | None = None) -> dict[tuple, tuple]:
        """Each condition's values at its measurement days: {key: (days, values)}."""
        from k2d3.engine.population_engine import simulate_many

        out = {}
        for days, group in self.groups.items():
            for exact in (False, True):
                keys = [k for k in group if (k in self.exact) == exact]
                if not keys:
                    continue
                mode = dosing_mode or ("exact" if exact else self.dosing_mode)
                times = sorted({t for k in keys for t in self.conditions[k].times if t <= days})
                values, grid = simulate_many([self.conditions[k].subject for k in keys],
                                             [self.conditions[k].regimen for k in keys], days, times=times,
                                             parameters=[params] * len(keys), dosing_mode=mode)
                for k, v in zip(keys, values):
                    out[k] = (grid, v)
        return out

    def predict(self, params: dict[str, float], dosing_mode: str | None = None) -> np.ndarray:
        """The model's value of every published number under ``params``."""
        runs = self.simulate(params, dosing_mode)
        pred = np.empty(len(self.measurements))
        for i, (m, key) in enumerate(zip(self.measurements, self.cond_of)):
            grid, v = runs[key]
            j = observables.names().index(m.observable)
            at = v[int(np.argmin(np.abs(grid - float(m.day)))), j]
            base = v[0, j]
            pred[i] = {"value": at, "change": at - base,
                       "pct_change": 100.0 * (at - base) / base if base else math.nan,
                       "ratio_to_baseline": at / base if base else math.nan}[m.statistic]
        return pred

    def residuals(self, x) -> np.ndarray:
        """Weighted data residuals, then the priors' residuals."""
        self.evaluations += 1
        prior = np.array([p.penalty(math.exp(v)) for p, v in zip(self.priors, x)])
        try:
            pred = self.predict(self.overrides(x))
            data = (pred - self.value) / self.sigma
        except (RuntimeError, FloatingPointError, ValueError):
            data = np.full(len(self.measurements), FAILED)
        data = np.where(np.isfinite(data), data, FAILED)
        return np.concatenate([data, prior])

    def __call__(self, x) -> float:
        r = self.residuals(x)
        return 0.5 * float(r @ r)

    def surrogate_error(self, params: dict[str, float] | None = None) -> np.ndarray:
        """Smooth minus exact dosing on every measurement, in units of its sigma."""
        params = params or self.overrides(self.x0())
        return (self.predict(params, "smooth") - self.predict(params, "exact")) / self.sigma
