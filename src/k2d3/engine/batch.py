"""The batched population engine: many subjects (columns) integrated as one array.

A column is a subject on one regimen. The model runs as numpy code over columns
(``numpy_model``), integrated by scipy's BDF with a block-diagonal Newton solve and a
per-column error norm (``block_bdf``). Day 0 of each column is the reference path's own
steady state: ``equilibrium.equilibrate`` on the roadrunner instance, after which the
species amounts and every constant parameter are read into the arrays, so day 0 matches
the reference exactly. Titration of target-INR medications runs per subject on the
reference path as in ``simulate``. Doses are added between segments exactly as
``simulate._integrate`` does, at the union of all columns' dosing times (a column
without a dose at a time just continues).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.integrate import solve_ivp

from k2d3.engine import dosing, equilibrium
from k2d3.engine.block_bdf import BlockLinear, column_bdf
from k2d3.engine.numpy_model import compiled
from k2d3.engine.runner import ABSOLUTE_TOLERANCE, DENORMAL, RELATIVE_TOLERANCE, runner
from k2d3.engine.simulate import DEFAULT_DAYS, HOURS_PER_DAY, _output_times, titrate
from k2d3.errors import InputError
from k2d3.inputs.regimen import Regimen
from k2d3.inputs.subject import Subject
from k2d3.model import observables

#: Columns integrated together at most; larger batches run in chunks of this size.
MAX_COLUMNS = 512



@dataclass
class _Column:
    state: np.ndarray                               # species amounts at day 0
    params: np.ndarray                              # constant parameters
    groups: list[tuple[float, dict[str, float]]]    # doses by time (hours)


def _equilibrated(subject: Subject, overrides: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """Day 0 of the reference path, read from roadrunner: species amounts and constants."""
    model = compiled()
    rr = runner()
    equilibrium.equilibrate(rr, subject, overrides)
    amounts = dict(zip(rr.model.getFloatingSpeciesIds(), rr.model.getFloatingSpeciesAmounts()))
    values = dict(zip(rr.model.getGlobalParameterIds(), rr.model.getGlobalParameterValues()))
    values.update(zip(rr.model.getCompartmentIds(), rr.model.getCompartmentVolumes()))
    return (np.array([amounts[s] for s in model.species]),
            np.array([values[c] for c in model.constants]))


def _key(subject: Subject, overrides: dict[str, float]) -> tuple:
    return subject.model_dump_json(), tuple(sorted(overrides.items()))


def _columns(subjects, regimens, days: float, overrides) -> list[_Column]:
    model = compiled()
    ca_row = model.constants.index("ca_supplement_mean_mmol_h")
    horizon = days * HOURS_PER_DAY
    day0: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
    out = []
    for subject, regimen, params in zip(subjects, regimens, overrides):
        # titration first, on the reference path, exactly as simulate does it
        regimen, _ = titrate(subject, regimen, params)
        key = _key(subject, params)
        if key not in day0:  # a subject on several regimens (the arms) settles once
            day0[key] = _equilibrated(subject, params)
        state, constants = day0[key]
        constants = constants.copy()
        constants[ca_row] = dosing.mean_calcium_supplement_mmol_h(regimen, horizon)
        out.append(_Column(state.copy(), constants,
                           dosing.grouped(dosing.doses(regimen, subject, horizon))))
    return out


def _integrate(columns: list[_Column], out_h: np.ndarray, horizon: float) -> np.ndarray:
    """All columns segment by segment; returns observables (columns, times, observables)."""
    model = compiled()
    n_s, n = len(model.species), len(columns)
    Y = np.stack([c.state for c in columns], axis=1)          # (species, columns)
    P = np.stack([c.params for c in columns], axis=1)         # (constants, columns)
    row = {s: i for i, s in enumerate(model.species)}
    adds: dict[float, np.ndarray] = {}
    for j, c in enumerate(columns):
        for t, depots in c.groups:
            if t < horizon:
                add = adds.setdefault(t, np.zeros((n_s, n)))
                for depot, amount in depots.items():
                    add[row[depot], j] += amount
    # roadrunner scales the absolute tolerance by a state's initial value where that is below
    # 1; floored at 1e-6 so that a nearly empty pool does not ask for 1e-20 nmol
    atol = (ABSOLUTE_TOLERANCE * np.where((Y > 0) & (Y < 1), np.maximum(Y, 1e-6), 1.0)).ravel()
    method = column_bdf(n_s)

    H = model.statics(P)
    V = np.stack([1.0 / P[r] if r >= 0 else np.ones(n) for r in model.volumes])

    def fun(t, y):
        return model.rhs(t, y.reshape(n_s, n), H, V).ravel()

    linear = BlockLinear(fun, model.pattern, n)

    out = np.full((n, out_h.size, len(observables.names())), np.nan)
    boundaries = sorted({0.0, horizon, *adds})
    k = 0
    with np.errstate(all="ignore"):  # np.where evaluates both branches of a piecewise
        for a, b in zip(boundaries[:-1], boundaries[1:]):
            while k < out_h.size and out_h[k] <= a + 1e-9:
                out[:, k, :] = model.observe(a, Y, P).T
                k += 1
            if a in adds:
                Y = Y + adds[a]
            Y[np.abs(Y) < DENORMAL] = 0.0
            inside = [t for t in out_h[k:] if t < b - 1e-9]
            sol = solve_ivp(fun, (a, b), Y.ravel(), method=method, t_eval=[*inside, b],
                            rtol=RELATIVE_TOLERANCE, atol=atol, linear=linear)
            if not sol.success:
                raise RuntimeError(f"batch engine: integration failed between {a:g} h and {b:g} h: {sol.message}")
            for i, t in enumerate(inside):
                out[:, k, :] = model.observe(t, sol.y[:, i].reshape(n_s, n), P).T
                k += 1
            Y = sol.y[:, -1].reshape(n_s, n).copy()
        while k < out_h.size:
            out[:, k, :] = model.observe(horizon, Y, P).T
            k += 1
    return out


def _per_column(value, n: int, what: str) -> list:
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise InputError(what, f"needs one entry per subject ({n}), got {len(value)}")
        return list(value)
    return [value] * n


def simulate_batch(subjects: list[Subject], regimens, days: float | None = None, times=None,
                   parameters=None) -> np.ndarray:
    """Simulate each subject on its regimen; returns (subjects, times, observables).

    ``regimens`` and ``parameters`` (override dicts) are one for all or a list with one per
    subject. Observables are in ``observables.names()`` order, times as ``simulate``'s
    (daily unless ``times`` in days is given), each value as ``simulate`` reports it.
    """
    return _run(subjects, regimens, days, times, parameters)[0]


def timecourses(subjects, regimens, days=None, times=None, parameters=None) -> list[pd.DataFrame]:
    """``simulate_batch`` as one frame per subject, shaped like ``Result.timecourse``."""
    arr, out_days = _run(subjects, regimens, days, times, parameters)
    index = pd.Index(out_days, name="day")
    return [pd.DataFrame(a, index=index, columns=observables.names()) for a in arr]


def _run(subjects, regimens, days, times, parameters) -> tuple[np.ndarray, np.ndarray]:
    subjects = list(subjects)
    if not subjects:
        raise InputError("subjects", "needs at least one subject")
    n = len(subjects)
    regimens = [r if r is not None else Regimen() for r in _per_column(regimens, n, "regimens")]
    overrides = [dict(p or {}) for p in _per_column(parameters, n, "parameters")]
    days = float(days if days is not None else (regimens[0].days or DEFAULT_DAYS))
    if not math.isfinite(days) or days <= 0:
        raise InputError("days", f"must be a positive number, got {days!r}")
    out_days = _output_times(days, times)
    columns = _columns(subjects, regimens, days, overrides)
    parts = [_integrate(columns[i:i + MAX_COLUMNS], out_days * HOURS_PER_DAY, days * HOURS_PER_DAY)
             for i in range(0, n, MAX_COLUMNS)]
    return np.concatenate(parts, axis=0), out_days
