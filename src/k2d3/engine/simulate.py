"""``simulate(subject, regimen, days)``: one subject, the reference (libroadrunner) path.

The run starts from the subject's steady state (``equilibrium``), then integrates from one
dosing time to the next, adding each time's doses to their depots in between. Output is
sampled daily unless ``times`` (in days) says otherwise; at a dosing time the value shown
is the one just before the dose (the trough).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from k2d3.errors import InputError
from k2d3.engine import dosing, equilibrium, titration
from k2d3.engine.runner import flush_denormals, runner
from k2d3.engine.summary import summarize
from k2d3.inputs.regimen import Regimen
from k2d3.inputs.subject import Subject
from k2d3.model import observables

DEFAULT_DAYS = 365.0
HOURS_PER_DAY = dosing.HOURS_PER_DAY


@dataclass
class Result:
    """What a simulation returns: the time course, and what went into it."""

    timecourse: pd.DataFrame
    subject: Subject
    regimen: Regimen
    days: float
    doses: list[dosing.Dose] = field(repr=False)
    parameters: dict[str, float] = field(repr=False)
    titrated_dose_mg: dict[str, float] = field(default_factory=dict)
    band: dict[str, pd.DataFrame] | None = field(default=None, repr=False)  # p5 / p95 over the ensemble

    def summary(self) -> dict:
        """Per observable: baseline, end, min, max, time in the reference range (fraction),
        unit and evidence level; plus mean daily intake and safety flags."""
        return summarize(self)


def _output_times(days: float, times) -> np.ndarray:
    if times is None:
        grid = np.arange(0.0, math.floor(days) + 1.0)
        if grid[-1] < days:
            grid = np.append(grid, days)
        return grid
    arr = np.unique(np.asarray(times, dtype=float))
    if arr.size == 0 or not np.all(np.isfinite(arr)):
        raise InputError("times", "must be a non-empty list of finite numbers of days")
    if arr[0] < 0 or arr[-1] > days:
        raise InputError("times", f"must lie within 0 and days={days:g}")
    return arr


def simulate(subject: Subject | None = None, regimen: Regimen | None = None,
             days: float | None = None, times=None,
             parameters: dict[str, float] | None = None, uncertainty: bool = False) -> Result:
    """Simulate ``regimen`` in ``subject`` for ``days`` (default: the regimen's, else 365).

    ``times``: output times in days (default: every day). A subject given in the regimen
    file is used when ``subject`` is None. ``parameters`` overrides entries of the
    parameter table for this run (sensitivity analyses, calibration, populations).
    ``uncertainty``: also run the calibration's parameter ensemble (``model/posterior.parquet``)
    and return each observable's 5th-95th percentile band (``Result.band``): what the data
    leave undetermined about this subject's course, not how people differ.
    """
    subject, regimen, days = resolve(subject, regimen, days)
    out_days = _output_times(days, times)
    regimen, titrated = titrate(subject, regimen, parameters)
    horizon = days * HOURS_PER_DAY
    dose_list = dosing.doses(regimen, subject, horizon)

    rr = runner()
    params = day0(rr, subject, regimen, horizon, parameters)
    names = observables.names()
    rows = _integrate(rr, dosing.grouped(dose_list), out_days * HOURS_PER_DAY, horizon, names)
    frame = pd.DataFrame(rows, index=pd.Index(out_days, name="day"), columns=names)
    result = Result(frame, subject, regimen, days, dose_list, params, titrated)
    if uncertainty:
        result.band = _band(subject, regimen, days, out_days, parameters)
    return result


def _band(subject: Subject, regimen: Regimen, days: float, out_days, parameters) -> dict[str, pd.DataFrame]:
    """The 5th and 95th percentiles of every observable over the calibration's ensemble
    (run in the population engine; the user's overrides are kept in every draw)."""
    from k2d3.engine.population_engine import simulate_many
    from k2d3.model.build import ensemble

    draws = ensemble()
    if draws is None:
        raise InputError("uncertainty", "no calibrated parameter ensemble is installed "
                                        "(scripts/calibrate.py --write makes one)")
    overrides = [{**{k: float(v) for k, v in row.items()}, **(parameters or {})}
                 for row in draws.to_dict(orient="records")]
    values, grid = simulate_many([subject] * len(overrides), regimen, days, times=out_days, parameters=overrides)
    index = pd.Index(grid, name="day")
    return {f"p{q}": pd.DataFrame(np.percentile(values, q, axis=0), index=index, columns=observables.names())
            for q in (5, 95)}


def resolve(subject: Subject | None, regimen: Regimen | None, days: float | None) -> tuple[Subject, Regimen, float]:
    """What a run uses when arguments are left out: an empty regimen, the regimen's subject
    (else the default one), the regimen's days (else 365)."""
    regimen = regimen if regimen is not None else Regimen()
    subject = subject if subject is not None else (regimen.subject or Subject())
    days = float(days if days is not None else (regimen.days or DEFAULT_DAYS))
    if not math.isfinite(days) or days <= 0:
        raise InputError("days", f"must be a positive number, got {days!r}")
    return subject, regimen, days


def day0(rr, subject: Subject, regimen: Regimen, horizon_h: float, parameters: dict[str, float] | None) -> dict[str, float]:
    """Set ``rr`` to day 0 of a run of ``regimen`` (already titrated) until ``horizon_h``: the
    subject's steady state, and the run's mean supplemental calcium. Returns the parameters
    set for the subject (``equilibrium.equilibrate``)."""
    params = equilibrium.equilibrate(rr, subject, parameters or {})
    rr["ca_supplement_mean_mmol_h"] = dosing.mean_calcium_supplement_mmol_h(regimen, horizon_h)
    return params


def titrate(subject: Subject, regimen: Regimen, parameters: dict[str, float] | None = None):
    """``titration.titrate`` with the run-in INR checks simulated as one continuing run.

    Each week's check continues from where the previous one ended (the doses before it
    are the same), so the subject is equilibrated once and the run-in integrated once,
    not re-run from day 0 every week. A check whose history differs restarts from day 0.
    """
    run = _RunIn(subject, parameters)
    return titration.titrate(subject, regimen, run.inr)


class _RunIn:
    def __init__(self, subject: Subject, parameters):
        self.subject, self.parameters = subject, parameters
        self.end_h: float | None = None   # where the run stands
        self.applied: list = []           # the doses integrated so far, grouped by time

    def inr(self, trial: Regimen, days: float) -> float:
        rr = runner()
        end = days * HOURS_PER_DAY
        groups = dosing.grouped(dosing.doses(trial, self.subject, end))
        start = self.end_h
        if start is None or start > end or [g for g in groups if g[0] < start] != self.applied:
            equilibrium.equilibrate(rr, self.subject, self.parameters or {})
            start, self.applied = 0.0, []
        value = _integrate(rr, groups, np.array([end]), end, ["inr"], start)[0, 0]
        self.end_h, self.applied = end, groups
        return float(value)


def _integrate(rr, groups, out_h: np.ndarray, horizon: float, names: list[str], start: float = 0.0) -> np.ndarray:
    """Integrate segment by segment from ``start`` (hours; ``rr`` holds the state there);
    returns the observables at ``out_h`` (hours, none before ``start``)."""
    rows = np.full((out_h.size, len(names)), np.nan)
    selections = ["time", *names]
    boundaries = sorted({start, horizon, *(t for t, _ in groups if start <= t < horizon)})
    dose_at = dict(groups)
    k = 0  # next output row to fill
    for a, b in zip(boundaries[:-1], boundaries[1:]):
        # before the doses at a: the trough, and the baseline at t = 0
        while k < out_h.size and out_h[k] <= a + 1e-9:
            rows[k] = [rr[n] for n in names]
            k += 1
        for depot, amount in dose_at.get(a, {}).items():
            rr[depot] = rr[depot] + amount
        flush_denormals(rr)
        inside = [t for t in out_h[k:] if t < b - 1e-9]
        res = rr.simulate(times=[a, *inside, b], selections=selections)
        for j in range(len(inside)):
            rows[k] = res[j + 1, 1:]
            k += 1
    while k < out_h.size:  # the horizon itself
        rows[k] = [rr[n] for n in names]
        k += 1
    return rows

