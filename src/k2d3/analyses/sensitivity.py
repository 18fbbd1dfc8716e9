"""Global sensitivity of end values to the model's parameters (Morris and Sobol', by SALib).

Which entries of ``parameters.yaml`` are varied, and why the others are not, is the rule
in ``data/sensitivity.yaml`` (classes set by the subject or the engine, reference states
and definitions; zero values; entries the SBML does not use; entries that cannot reach the
chosen outputs for this regimen, ``_dependency``). Each varied entry is sampled uniformly
in log(value) (fractions: in log-odds) between its bounds: the 5th and 95th percentiles of
the calibration's ensemble for a jointly calibrated parameter, else the 2.5% and 97.5%
quantiles of its log-normal between-subject variability where the table gives a ``cv``,
else the value divided and multiplied by an assumed factor. Every sample is one run of the
population engine on the regimen's subject; the output is each observable's value at the
end of the run.
"""
from __future__ import annotations

import difflib
import functools
import json
import math
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Callable

import numpy as np
import pandas as pd
import yaml

from k2d3.analyses import _dependency
from k2d3.engine import dosing, equilibrium
from k2d3.engine.population_engine import simulate_many
from k2d3.engine.simulate import DEFAULT_DAYS
from k2d3.errors import InputError
from k2d3.inputs.regimen import Regimen
from k2d3.inputs.subject import Subject
from k2d3.model import observables
from k2d3.model.build import parameters as parameter_table

METHODS = ("morris", "sobol")
DEFAULT_OUTPUTS = ("ohd25_nmol_l", "dp_ucmgp_pmol_l", "bmd_lumbar_spine_pct_change")
#: Morris: trajectories (runs = n x (parameters + 1)); Sobol': base samples, a power of two
#: (runs = n x (parameters + 2), first and total order only).
DEFAULT_N = {"morris": 10, "sobol": 256}
MAX_N = {"morris": 100, "sobol": 4096}
MORRIS_LEVELS = 4
#: Sobol' without a --parameters list: the parameters a Morris screen ranks highest.
SOBOL_TOP = 8
#: Runs per call of the engine (one progress step).
BATCH = 512
RESAMPLES = 1000
CONF_LEVEL = 0.95
SAMPLING = ("uniform in log(value) between the bounds (fractions: in log-odds, log(p/(1-p)); effects that must "
            "stay above 1: in log(p-1); a negative value keeps its sign, its magnitude varies)")
NOT_ZERO = "value 0: a multiplicative range cannot move it (a switch that is off, or an effect set to nothing)"
OUTSIDE_SBML = ("used only outside the SBML, when the engine builds doses, the sun's skin D3, a titration or "
                "genotype factors: the engine's parameter overrides do not reach it")
NOT_REACHING = "cannot reach the chosen outputs for this regimen (SBML structure, analyses/_dependency.py)"
MEASURED_BASELINE = "set by the engine so that day 0 holds the subject's measured 25(OH)D"


@functools.cache
def rules() -> dict:
    return yaml.safe_load(resources.files("k2d3.analyses").joinpath("data/sensitivity.yaml").read_text())


def _excluded_classes() -> tuple[dict[str, str], dict[str, str]]:
    """Name -> the reason of its class in data/sensitivity.yaml: the classes never varied,
    and those left out of the default set that --parameters may name."""
    never, by_name = {}, {}
    for c in rules()["excluded"].values():
        names = c.get("names") or [n for n, p in parameter_table().items()
                                   if p.description.startswith(c["description_starts"])]
        (by_name if c.get("by_name") else never).update({n: c["reason"] for n in names})
    return never, by_name


@functools.cache
def _one_minus_uses() -> frozenset[str]:
    """Parameters the SBML uses as (1 - p)."""
    from k2d3.model.build import sbml

    found = re.findall(r"<minus/>\s*<cn[^>]*>\s*1\s*</cn>\s*<ci>\s*(\w+)\s*</ci>", sbml())
    return frozenset(found)


def is_fraction(name: str) -> bool:
    p = parameter_table()[name]
    return (p.unit == "fraction" or p.description.lower().startswith("fraction") or name in _one_minus_uses()
            or name in rules()["fractions"]["names"]) and 0 < p.value < 1


def scale_of(name: str) -> str:
    """The sampling scale: "odds" for a fraction, "excess" (log(p - 1)) for an effect that
    must stay above 1, else "log"."""
    if is_fraction(name):
        return "odds"
    if name in rules()["above_one"]["names"] and parameter_table()[name].value > 1:
        return "excess"
    return "log"


@dataclass(frozen=True)
class Factor:
    """One varied parameter: its table value, bounds (natural units), the scale it is
    sampled on ("log", "odds" or "excess") and where the bounds come from."""

    name: str
    value: float
    unit: str
    low: float
    high: float
    scale: str
    basis: str
    reaches: tuple[str, ...]

    def bounds(self) -> tuple[float, float]:
        """Bounds on the sampled scale: log|value|, log-odds or log(value - 1)."""
        ends = sorted((_to_scale(self.low, self.scale), _to_scale(self.high, self.scale)))
        return ends[0], ends[1]

    def at(self, z: np.ndarray) -> np.ndarray:
        """Values for points ``z`` on the sampled scale."""
        return _from_scale(z, self.scale, math.copysign(1.0, self.value))


def _from_scale(z, scale: str, sign: float = 1.0):
    if scale == "odds":
        return 1.0 / (1.0 + np.exp(-z))
    return 1.0 + np.exp(z) if scale == "excess" else sign * np.exp(z)


def _to_scale(v: float, scale: str) -> float:
    if scale == "odds":
        return math.log(v / (1.0 - v))
    return math.log(v - 1.0) if scale == "excess" else math.log(abs(v))


def factor(name: str, reaches: tuple[str, ...]) -> Factor:
    """The range of one entry of the table (see the module docstring)."""
    p = parameter_table()[name]
    scale = scale_of(name)
    if p.interval is not None:  # a jointly calibrated parameter: its ensemble's 5th-95th percentiles
        lo, hi = sorted(float(v) for v in p.interval)
        return Factor(name, p.value, p.unit, lo, hi, scale, "calibration: 5-95% of its ensemble", reaches)
    if p.cv is not None:
        width = rules()["cv_quantile_z"] * math.sqrt(math.log1p(p.cv ** 2))
        basis = f"cv {p.cv:g}: 2.5-97.5% of its log-normal"
    else:
        width = math.log(rules()["default_factor"])
        basis = f"assumed: /{rules()['default_factor']:g} to x{rules()['default_factor']:g}" + (
            {"odds": " on the odds", "excess": " on the excess over 1", "log": ""}[scale])
    z = _to_scale(p.value, scale)
    lo, hi = sorted(float(_from_scale(e, scale, math.copysign(1.0, p.value))) for e in (z - width, z + width))
    return Factor(name, p.value, p.unit, lo, hi, scale, basis, reaches)


def _dosed(regimen: Regimen, subject: Subject, days: float) -> frozenset[str]:
    from k2d3.engine.simulate import titrate

    titrated, _ = titrate(subject, regimen) if any(m.target_inr for m in regimen.medications) else (regimen, None)
    return frozenset(d.depot for d in dosing.doses(titrated, subject, days * dosing.HOURS_PER_DAY))


def eligible(regimen: Regimen, subject: Subject, outputs: tuple[str, ...], days: float,
             names: list[str] | None = None) -> tuple[list[Factor], dict[str, str], list[str]]:
    """The parameters to vary, the others with the reason, and notes.

    ``names`` (a --parameters list) replaces the rule's choice: every name must be a
    parameter that the engine can vary; one that cannot reach an output is kept and noted."""
    table = parameter_table()
    classes, by_name = _excluded_classes()
    dosed = _dosed(regimen, subject, days)
    measured = subject.baseline_25ohd_nmol_l is not None
    nothing = frozenset(k for k, v in equilibrium.subject_parameters(subject).items() if v == 0)
    reach = {o: _dependency.reachable(o, dosed, measured, nothing) for o in outputs}
    used = _dependency.sbml_symbols()

    def why_not(name: str) -> str | None:
        if name in classes:
            return classes[name]
        if name == "d3_background_input" and measured:
            return MEASURED_BASELINE
        if table[name].value == 0:
            return NOT_ZERO
        if name not in used:
            return OUTSIDE_SBML
        return None

    notes: list[str] = []
    if names is None:
        factors, excluded = [], {}
        for name in table:
            reason = why_not(name) or by_name.get(name)
            touched = tuple(o for o in outputs if name in reach[o])
            if reason is None and not touched:
                reason = NOT_REACHING
            if reason is None:
                factors.append(factor(name, touched))
            else:
                excluded[name] = reason
        return factors, excluded, notes
    factors = []
    for name in dict.fromkeys(names):
        if name not in table:
            close = difflib.get_close_matches(name, list(table), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise InputError("parameters", f"unknown parameter {name!r} (not in parameters.yaml){hint}")
        reason = why_not(name)
        if reason is not None:
            raise InputError("parameters", f"{name} cannot be varied: {reason}")
        touched = tuple(o for o in outputs if name in reach[o])
        if not touched:
            notes.append(f"{name} {NOT_REACHING}: its indices can only be zero")
        factors.append(factor(name, touched))
    if not factors:
        raise InputError("parameters", "names no parameter")
    excluded = {n: "not in the --parameters list" for n in table if n not in names}
    return factors, excluded, notes


@dataclass
class Sensitivity:
    """Indices per output and parameter (``indices``: one row per output and parameter,
    ranked within each output), with everything needed to read them."""

    method: str
    outputs: tuple[str, ...]
    days: float
    n: int
    seed: int
    runs: int
    subject: Subject
    factors: list[Factor]
    indices: pd.DataFrame
    excluded: dict[str, str]
    screen: dict | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        by_reason: dict[str, list[str]] = {}
        for name, reason in self.excluded.items():
            by_reason.setdefault(reason, []).append(name)
        obs = observables.observables()
        return {
            "method": self.method, "outputs": list(self.outputs), "days": self.days, "n": self.n,
            "seed": self.seed, "runs": self.runs, "subject": self.subject.model_dump(exclude_none=True),
            "sampling": SAMPLING, "output_value": "each output's value at the end of the run (day "
                                                  f"{self.days:g})",
            "confidence_level": CONF_LEVEL, "bootstrap_resamples": RESAMPLES,
            "units": {o: obs[o].unit for o in self.outputs},
            "parameters": [{"name": f.name, "value": f.value, "unit": f.unit, "low": f.low, "high": f.high,
                            "scale": f.scale, "basis": f.basis, "reaches": list(f.reaches)} for f in self.factors],
            "excluded": [{"reason": r, "names": n} for r, n in by_reason.items()],
            "screen": self.screen,
            "notes": self.notes,
            "indices": {o: _records(self.indices[self.indices.output == o].drop(columns="output"))
                        for o in self.outputs},
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def to_csv(self) -> str:
        f = {x.name: x for x in self.factors}
        t = self.indices.copy()
        t.insert(3, "low", [f[p].low for p in t.parameter])
        t.insert(4, "high", [f[p].high for p in t.parameter])
        t.insert(5, "basis", [f[p].basis for p in t.parameter])
        return t.to_csv(index=False)


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in r.items()}
            for r in frame.to_dict(orient="records")]


def check_n(method: str, n: int | None) -> int:
    """The sample size for ``method``: the default, or ``n`` within 1..MAX_N (Sobol': a power of two)."""
    if method not in METHODS:
        raise InputError("method", f"unknown method {method!r} (known: {', '.join(METHODS)})")
    if n is None:
        return DEFAULT_N[method]
    if n <= 0:
        raise InputError("n", f"must be a positive number, got {n}")
    if n > MAX_N[method]:
        raise InputError("n", f"{n} is above the maximum of {MAX_N[method]} for {method}")
    if method == "sobol" and n & (n - 1):
        raise InputError("n", f"Sobol' sampling needs a power of two (its sequence is balanced only then), got {n}")
    return n


def check_outputs(outputs) -> tuple[str, ...]:
    known = observables.names()
    outputs = tuple(dict.fromkeys(o.strip() for o in outputs if o.strip()))
    if not outputs:
        raise InputError("outputs", "names no observable")
    for o in outputs:
        if o not in known:
            close = difflib.get_close_matches(o, known, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else " (k2d3 observables lists them)"
            raise InputError("outputs", f"unknown observable {o!r}{hint}")
    return outputs


Progress = Callable[[int, int, str], None]


def analyse(regimen: Regimen, outputs=DEFAULT_OUTPUTS, method: str = "morris", n: int | None = None,
            parameters: list[str] | None = None, days: float | None = None, seed: int = 0,
            subject: Subject | None = None, progress: Progress | None = None) -> Sensitivity:
    """Morris or Sobol' indices of the end values of ``outputs`` over the eligible
    parameters (or ``parameters``). Sobol' without a list runs a Morris screen first and
    keeps its ``SOBOL_TOP`` parameters."""
    n = check_n(method, n)
    outputs = check_outputs(outputs)
    subject = subject if subject is not None else (regimen.subject or Subject())
    days = float(days if days is not None else (regimen.days or DEFAULT_DAYS))
    if not math.isfinite(days) or days <= 0:
        raise InputError("days", f"must be a positive number of days, got {days:g}")
    factors, excluded, notes = eligible(regimen, subject, outputs, days, parameters)
    screen = None
    total = _runs(method, n, len(factors))
    if method == "sobol" and parameters is None and len(factors) > SOBOL_TOP:
        n_screen = DEFAULT_N["morris"]
        total = _runs("morris", n_screen, len(factors)) + _runs("sobol", n, SOBOL_TOP)
        ticker = _Ticker(progress, total, "Morris screen")
        first = _morris(subject, regimen, outputs, days, factors, n_screen, seed, ticker)
        kept = _top(first, SOBOL_TOP)
        screen = {"method": "morris", "n": n_screen, "runs": first.runs, "kept": kept,
                  "why": f"Sobol' over the {SOBOL_TOP} parameters a Morris screen ranks highest (largest "
                         "mu*/max mu* over the outputs); name others with --parameters"}
        for f in factors:
            if f.name not in kept:
                excluded[f.name] = f"not among the {SOBOL_TOP} highest of the Morris screen"
        factors = [f for f in factors if f.name in kept]
        notes += [f"Morris screen: {note}" for note in first.notes]
        ticker.stage = "Sobol'"
    else:
        ticker = _Ticker(progress, total, method)
    run = _morris if method == "morris" else _sobol
    result = run(subject, regimen, outputs, days, factors, n, seed, ticker)
    result.excluded, result.notes, result.screen = excluded, notes + result.notes, screen
    return result


def _runs(method: str, n: int, k: int) -> int:
    return n * (k + 1) if method == "morris" else n * (k + 2)


class _Ticker:
    def __init__(self, progress: Progress | None, total: int, stage: str):
        self.progress, self.total, self.stage, self.done = progress, total, stage, 0

    def step(self, runs: int) -> None:
        self.done += runs
        if self.progress is not None:
            self.progress(self.done, self.total, self.stage)


def _problem(factors: list[Factor]) -> dict:
    return {"num_vars": len(factors), "names": [f.name for f in factors],
            "bounds": [list(f.bounds()) for f in factors]}


def _evaluate(subject, regimen, outputs, days, factors, Z: np.ndarray, ticker: _Ticker) -> np.ndarray:
    """The end value of each output for each row of ``Z`` (points on the sampled scales);
    NaN where the run failed (its day 0 did not settle, or the integration stopped)."""
    columns = [observables.names().index(o) for o in outputs]
    natural = np.column_stack([f.at(Z[:, j]) for j, f in enumerate(factors)])
    Y = np.empty((len(Z), len(outputs)))
    ticker.step(0)
    for lo in range(0, len(Z), BATCH):
        hi = min(len(Z), lo + BATCH)
        overrides = [{f.name: float(v) for f, v in zip(factors, row)} for row in natural[lo:hi]]
        status = np.zeros(hi - lo, dtype=np.int64)
        values, _ = simulate_many([subject] * (hi - lo), regimen, days, times=[days], parameters=overrides,
                                  status=status)
        Y[lo:hi] = values[:, -1, columns]
        Y[lo:hi][status != 0] = np.nan
        ticker.step(hi - lo)
    return Y


def _complete_blocks(Z: np.ndarray, Y: np.ndarray, size: int, what: str, notes: list[str]):
    """Drop each block of ``size`` rows (a Morris trajectory, a Sobol' base sample with its
    cross-samples) that holds a failed run, and say how many were dropped."""
    blocks = len(Y) // size
    good = ~np.isnan(Y).any(axis=1).reshape(blocks, size).any(axis=1)
    failed = int(np.isnan(Y).any(axis=1).sum())
    if failed:
        notes.append(f"{failed} of {len(Y)} runs failed (day 0 did not settle or the integration stopped: the "
                     f"parameter set leaves the region where the model holds); the {blocks - int(good.sum())} "
                     f"{what} holding them were left out, {int(good.sum())} remain")
    if not good.any():
        raise RuntimeError(f"every {what[:-1]} holds a failed run: no indices can be computed")
    keep = np.repeat(good, size)
    return Z[keep], Y[keep], int(good.sum())


def _morris(subject, regimen, outputs, days, factors, n, seed, ticker) -> Sensitivity:
    from SALib.analyze import morris as analyse_morris
    from SALib.sample import morris as sample_morris

    problem = _problem(factors)
    Z = sample_morris.sample(problem, n, num_levels=MORRIS_LEVELS, seed=seed)
    Y = _evaluate(subject, regimen, outputs, days, factors, Z, ticker)
    runs, notes = len(Z), []
    Z, Y, _ = _complete_blocks(Z, Y, len(factors) + 1, "trajectories", notes)
    rows = []
    for j, o in enumerate(outputs):
        r = analyse_morris.analyze(problem, Z, Y[:, j], num_resamples=RESAMPLES, conf_level=CONF_LEVEL,
                                   num_levels=MORRIS_LEVELS, seed=seed)
        top = max(float(np.max(r["mu_star"])), 0.0)
        for i, f in enumerate(factors):
            rows.append({"output": o, "parameter": f.name, "reaches": o in f.reaches,
                         "mu_star": float(r["mu_star"][i]), "mu_star_conf": float(r["mu_star_conf"][i]),
                         "sigma": float(r["sigma"][i]), "mu": float(r["mu"][i]),
                         "mu_star_rel": float(r["mu_star"][i]) / top if top > 0 else 0.0})
    table = _ranked(pd.DataFrame(rows), "mu_star")
    return Sensitivity("morris", outputs, days, n, seed, runs, subject, factors, table, {}, notes=notes)


def _sobol(subject, regimen, outputs, days, factors, n, seed, ticker) -> Sensitivity:
    from SALib.analyze import sobol as analyse_sobol
    from SALib.sample import sobol as sample_sobol

    problem = _problem(factors)
    Z = sample_sobol.sample(problem, n, calc_second_order=False, scramble=True, seed=seed)
    Y = _evaluate(subject, regimen, outputs, days, factors, Z, ticker)
    runs, notes = len(Z), []
    Z, Y, _ = _complete_blocks(Z, Y, len(factors) + 2, "base samples", notes)
    rows = []
    for j, o in enumerate(outputs):
        if np.ptp(Y[:, j]) == 0:  # no variance to apportion: every index is zero
            notes.append(f"{o} does not change over the sampled ranges (every index 0)")
            r = {k: np.zeros(len(factors)) for k in ("S1", "S1_conf", "ST", "ST_conf")}
        else:
            r = analyse_sobol.analyze(problem, Y[:, j], calc_second_order=False, num_resamples=RESAMPLES,
                                      conf_level=CONF_LEVEL, seed=seed)
        for i, f in enumerate(factors):
            rows.append({"output": o, "parameter": f.name, "reaches": o in f.reaches,
                         "S1": float(r["S1"][i]), "S1_conf": float(r["S1_conf"][i]),
                         "ST": float(r["ST"][i]), "ST_conf": float(r["ST_conf"][i])})
    table = _ranked(pd.DataFrame(rows), "ST")
    return Sensitivity("sobol", outputs, days, n, seed, runs, subject, factors, table, {}, notes=notes)


def _ranked(table: pd.DataFrame, by: str) -> pd.DataFrame:
    """Rows ranked within each output, largest ``by`` first (ties keep the table's order)."""
    order = {o: i for i, o in enumerate(dict.fromkeys(table.output))}
    table = table.assign(_o=table.output.map(order)).sort_values(["_o", by], ascending=[True, False],
                                                                 kind="stable")
    table.insert(1, "rank", table.groupby("output").cumcount() + 1)
    return table.drop(columns="_o").reset_index(drop=True)


def _top(screen: Sensitivity, k: int) -> list[str]:
    """The ``k`` parameters with the largest mu* relative to each output's largest."""
    score = screen.indices.groupby("parameter", sort=False)["mu_star_rel"].max()
    return list(score.sort_values(ascending=False, kind="stable").index[:k])
