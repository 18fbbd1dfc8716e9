"""The population engine: many subjects on their regimens, compiled and in parallel.

The model is the SBML that libroadrunner runs, translated to scalar code (``codegen``)
and compiled by numba with a Rosenbrock integrator (``rosenbrock.py``) and the subject
logic (``subject_kernel.py``): day 0 as the reference path computes it (``equilibrium``),
then the doses of ``dosing`` added between integration segments exactly as
``simulate._integrate`` adds them. Subjects are integrated one per thread, each with its
own steps; a subject on several regimens (the arms of a comparison) settles once.
libroadrunner (``simulate``) stays the reference this engine is tested against.
"""
from __future__ import annotations

import functools
import math
from importlib import resources

import numpy as np

from k2d3.engine import dosing, equilibrium
from k2d3.engine.codegen import load, model_code
from k2d3.engine.runner import ABSOLUTE_TOLERANCE, RELATIVE_TOLERANCE, runner
from k2d3.engine.simulate import DEFAULT_DAYS, HOURS_PER_DAY, _output_times, titrate
from k2d3.errors import InputError
from k2d3.inputs.regimen import Regimen
from k2d3.inputs.subject import Subject
from k2d3.model import observables

#: Relative tolerance of the dosed runs. Day 0 settles at the reference's 1e-6; the runs
#: at 1e-4 stay within about 1e-5 of each observable's scale of libroadrunner at 1e-6
#: (tests/engine/test_population_engine.py checks 1e-4) in a third of the steps.
RUN_RTOL = 1e-4

#: Columns (subject x regimen) compiled code runs at once; larger batches run in chunks
#: so that the output array stays bounded (chunk x times x probes doubles).
CHUNK = 4096

_GLYCAEMIC = ("fpg_base", "homa_b_glucose_offset")


def _extra_probes() -> tuple[str, ...]:
    refs = tuple(equilibrium.DAY0_REFERENCES.values())
    stores = tuple(v for v in equilibrium.CUMULATIVE_STORES.values() if isinstance(v, str))
    return tuple(dict.fromkeys(refs + stores + _GLYCAEMIC))


@functools.cache
def kernel():
    """The compiled module (generated once per model, compiled once per machine: numba
    caches the machine code beside the generated source)."""
    model = model_code(_extra_probes())
    source = "\n\n".join(resources.files("k2d3.engine").joinpath(f).read_text()
                         for f in ("rosenbrock.py", "subject_kernel.py"))
    return model, load(model, _strip_imports(source))


def _strip_imports(source: str) -> str:
    """The templates' own imports are for readers and linters; the module has them."""
    return "\n".join(line for line in source.splitlines()
                     if not line.startswith(("import ", "from ")))


@functools.cache
def _structure():
    """The sparse structure the kernel needs (``fd``: the LU's diagonal slots; the depots' rows,
    Jacobian slots and columns), the SBML defaults, and the rows of names."""
    model, _ = kernel()
    bi, bj = np.nonzero(model.pattern)
    depots = np.array(model.depots, dtype=np.int64)
    touches = np.isin(bi, depots) | np.isin(bj, depots)
    dep_slots = np.unique(model.jac_entry[touches]).astype(np.int64)
    column = np.isin(bj, depots)
    depot_of = {int(r): d for d, r in enumerate(depots)}
    fd = (model.diag_entry, depots, dep_slots,
          bi[column].astype(np.int64), np.array([depot_of[int(j)] for j in bj[column]], dtype=np.int64),
          model.jac_entry[column].astype(np.int64))
    rr = runner()
    rr.resetAll()
    amounts = dict(zip(rr.model.getFloatingSpeciesIds(), rr.model.getFloatingSpeciesAmounts()))
    values = dict(zip(rr.model.getGlobalParameterIds(), rr.model.getGlobalParameterValues()))
    values.update(zip(rr.model.getCompartmentIds(), rr.model.getCompartmentVolumes()))
    y0 = np.array([amounts[s] for s in model.species])
    p0 = np.array([values[c] for c in model.constants])
    crow = {c: i for i, c in enumerate(model.constants)}
    srow = {s: i for i, s in enumerate(model.species)}
    prow = {p: i for i, p in enumerate(model.probes)}
    refs = (np.array([crow[p] for p in equilibrium.DAY0_REFERENCES], dtype=np.int64),
            np.array([prow[s] for s in equilibrium.DAY0_REFERENCES.values()], dtype=np.int64),
            np.array([srow[s] for s in equilibrium.CUMULATIVE_STORES], dtype=np.int64),
            np.array([prow[v] if isinstance(v, str) else -1 for v in equilibrium.CUMULATIVE_STORES.values()],
                     dtype=np.int64),
            np.array([0.0 if isinstance(v, str) else float(v) for v in equilibrium.CUMULATIVE_STORES.values()]))
    return fd, y0, p0, crow, srow, prow, refs


def _atol(y: np.ndarray) -> np.ndarray:
    """libroadrunner scales the absolute tolerance by a state's amount where that is below 1;
    floored at 1e-6 so that a nearly empty pool does not ask for 1e-20 nmol."""
    return ABSOLUTE_TOLERANCE * np.where((y > 0) & (y < 1), np.maximum(y, 1e-6), 1.0)


def _subject_vectors(subject: Subject, overrides: dict[str, float]) -> tuple[np.ndarray, dict | None]:
    """The constants of one run, and the glycaemic values when they fall outside HOMA1's
    range (``equilibrium._check_glycaemic_baseline`` turns them into the reference's error)."""
    _, _, p0, crow, _, prow, _ = _structure()
    model, mod = kernel()
    p = p0.copy()
    values = equilibrium.subject_parameters(subject)
    for name, v in overrides.items():
        if name not in crow or name not in equilibrium.parameters():
            raise InputError("parameters", f"unknown model parameter {name!r}")
        values[name] = float(v)
    for name, v in values.items():
        p[crow[name]] = v
    probe = np.empty(len(model.probes))
    mod.observe(0.0, _structure()[1], p, probe)
    fpg, offset = probe[prow["fpg_base"]], probe[prow["homa_b_glucose_offset"]]
    return p, ({"fpg_base": fpg, "homa_b_glucose_offset": offset} if fpg <= offset else None)


#: Status of a run whose parameters put fasting glucose outside HOMA1's range (``status``
#: of ``simulate_many``; the kernel's own codes are below it).
BAD_GLYCAEMIC = 12


def day0(subjects: list[Subject], overrides: list[dict],
         status: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each subject's day-0 state and constants, as ``equilibrium.equilibrate`` leaves them.

    A subject whose day 0 fails raises, unless ``status`` is given: it then receives each
    subject's code (0: settled), and the rows of a failed subject are not to be used."""
    fd, y0, _, crow, _, prow, refs = _structure()
    model, mod = kernel()
    n = len(subjects)
    rows, glycaemic = [], np.zeros(n, dtype=bool)
    for i, (s, o) in enumerate(zip(subjects, overrides)):
        p, bad = _subject_vectors(s, o)
        if bad is not None:
            if status is None:  # the same check, and message, as the reference path
                equilibrium._check_glycaemic_baseline(bad, s)
            glycaemic[i] = True
        rows.append(p)
    P = np.stack(rows)
    Y = np.tile(y0, (n, 1))
    targets = np.array([s.baseline_25ohd_nmol_l or 0.0 for s in subjects])
    atol = np.tile(_atol(y0), (n, 1))
    codes = np.zeros(n, dtype=np.int64)
    stats = np.zeros((n, 3), dtype=np.int64)
    ends = np.array(equilibrium.SETTLE_STEPS, dtype=float)
    mod.equilibrate_all(Y, P, targets, RELATIVE_TOLERANCE, atol, ends, crow["age_clock"], refs,
                        crow["d3_background_input"], prow["ohd25_nmol_l"], fd, codes, stats)
    codes[glycaemic] = BAD_GLYCAEMIC
    if status is not None:
        status[:] = codes
        return Y, P
    for s, code in zip(subjects, codes):
        if code == mod.BAD_BASELINE_HIGH:
            raise InputError("baseline_25ohd_nmol_l",
                             f"{s.baseline_25ohd_nmol_l} nmol/L cannot be a steady state of this model")
        if code == mod.BAD_BASELINE_LOW:
            raise InputError("baseline_25ohd_nmol_l",
                             f"{s.baseline_25ohd_nmol_l} nmol/L is below what the model can hold at steady state")
        if code != mod.OK:
            raise RuntimeError(f"population engine: the steady state of subject {s.model_dump(exclude_none=True)} "
                               f"failed to converge (status {code})")
    return Y, P


#: Doses to one depot at most this far apart (hours) form a series that smooth dosing
#: spreads out; a dose with no neighbour this close stays a bolus.
SERIES_GAP_H = 24.0 + 1e-6
DOSING = ("exact", "smooth")
#: Depots smooth dosing leaves as boluses: calcium is absorbed by a saturable pathway, so
#: spreading a supplement over the day would raise the fraction absorbed (PTH 4% lower
#: after a year of 500 mg/day when it was spread).
SMOOTH_EXCLUDED = ("ca_supplement_gut",)


def _smoothed(doses: list[dosing.Dose]) -> tuple[list[tuple[float, str, float]], list[tuple[float, str, float]]]:
    """Split a schedule into boluses and infusions for smooth dosing: each dose of a series
    (the next dose to its depot within a day) is spread evenly until the next one, the
    series' last dose over the series' last interval; isolated doses stay boluses. The amount
    given is unchanged. Returns (boluses as (time, depot, nmol), rate changes as (time,
    depot, nmol/h))."""
    by_depot: dict[str, dict[float, float]] = {}
    for d in doses:
        by_depot.setdefault(d.depot, {}).setdefault(d.time_h, 0.0)
        by_depot[d.depot][d.time_h] += d.amount_nmol
    boluses, changes = [], []
    depots = {kernel()[0].species[r] for r in kernel()[0].depots}
    for depot, amounts in by_depot.items():
        times = sorted(amounts)
        if depot in SMOOTH_EXCLUDED or depot not in depots:  # e.g. calcifediol doses 25(OH)D itself
            boluses += [(t, depot, amounts[t]) for t in times]
            continue
        pieces = []  # (start, end, rate)
        for i, t in enumerate(times):
            nxt = times[i + 1] - t if i + 1 < len(times) else None
            prev = t - times[i - 1] if i > 0 else None
            if nxt is not None and nxt <= SERIES_GAP_H:
                pieces.append((t, t + nxt, amounts[t] / nxt))
            elif prev is not None and prev <= SERIES_GAP_H:
                pieces.append((t, t + prev, amounts[t] / prev))
            else:
                boluses.append((t, depot, amounts[t]))
        rate_now, end_now = 0.0, None
        for start, end, rate in pieces:
            if end_now is not None and start > end_now + 1e-9 and rate_now != 0.0:
                changes.append((end_now, depot, 0.0))
                rate_now = 0.0
            if rate != rate_now:
                changes.append((start, depot, rate))
                rate_now = rate
            end_now = end
        if end_now is not None and rate_now != 0.0:
            changes.append((end_now, depot, 0.0))
    return sorted(boluses), sorted(changes)


def _dose_arrays(schedules: list[list[dosing.Dose]], smooth: bool):
    """Per column: doses (time, species row, amount) and infusions (time, depot index, rate)."""
    model, _ = kernel()
    _, _, _, _, srow, _, _ = _structure()
    depot_index = {model.species[r]: i for i, r in enumerate(model.depots)}
    bolus_cols, infusion_cols = [], []
    for doses in schedules:
        if smooth:
            boluses, changes = _smoothed(doses)
        else:
            boluses, changes = [(d.time_h, d.depot, d.amount_nmol) for d in doses], []
        bolus_cols.append([(t, srow[dep], a) for t, dep, a in boluses])
        infusion_cols.append([(t, depot_index[dep], r) for t, dep, r in changes])

    def pack(cols, int_col: int):
        ptr = np.zeros(len(cols) + 1, dtype=np.int64)
        ptr[1:] = np.cumsum([len(c) for c in cols])
        flat = [x for c in cols for x in c]
        t = np.array([x[0] for x in flat], dtype=float)
        idx = np.array([x[1] for x in flat], dtype=np.int64)
        val = np.array([x[2] for x in flat], dtype=float)
        return ptr, t, idx, val

    return pack(bolus_cols, 1), pack(infusion_cols, 1)


def _per_column(value, n: int, what: str) -> list:
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise InputError(what, f"needs one entry per subject ({n}), got {len(value)}")
        return list(value)
    return [value] * n


def simulate_many(subjects: list[Subject], regimens, days: float | None = None, times=None,
                  parameters=None, stats: np.ndarray | None = None,
                  dosing_mode: str = "exact", status: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Simulate each subject on its regimen; returns (values, output days) with values of
    shape (subjects, times, observables) in ``observables.names()`` order, each as
    ``simulate`` reports it. ``regimens`` and ``parameters`` (override dicts) are one for
    all or one per subject. ``stats`` (subjects x 3), if given, receives each run's
    accepted steps, rejected steps and Jacobians. ``dosing_mode="smooth"`` spreads each
    series of daily (or more frequent) doses evenly over its intervals (``_smoothed``): the
    same amounts, without the daily swing, in a small fraction of the steps; for endpoints
    read weeks after a change (the calibration's surrogate, checked against exact dosing).

    A run whose day 0 or integration fails raises, unless ``status`` (one integer per
    subject) is given: it then receives each run's code (0: done; ``BAD_GLYCAEMIC``, the
    kernel's ``BAD_BASELINE_*`` or its integrator codes) and a failed run's values are NaN.
    Parameter sets that leave the model's valid region (sensitivity analysis) need this.
    """
    if dosing_mode not in DOSING:
        raise InputError("dosing", f"must be one of {', '.join(DOSING)}, got {dosing_mode!r}")
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
    n_obs = len(observables.names())
    values = np.empty((n, out_days.size, n_obs))
    for lo in range(0, n, CHUNK):
        hi = min(n, lo + CHUNK)
        part_stats = None if stats is None else stats[lo:hi]
        part_status = None if status is None else status[lo:hi]
        values[lo:hi] = _chunk(subjects[lo:hi], regimens[lo:hi], overrides[lo:hi], days, out_days, part_stats,
                               dosing_mode == "smooth", part_status)
    return values, out_days


def timecourses(subjects, regimens, days=None, times=None, parameters=None) -> list:
    """``simulate_many`` as one frame per subject, shaped like ``Result.timecourse``."""
    import pandas as pd

    values, out_days = simulate_many(subjects, regimens, days, times, parameters)
    index = pd.Index(out_days, name="day")
    return [pd.DataFrame(v, index=index, columns=observables.names()) for v in values]


def _chunk(subjects, regimens, overrides, days, out_days, stats, smooth: bool, status=None) -> np.ndarray:
    model, mod = kernel()
    fd, _, _, crow, _, _, _ = _structure()
    horizon = days * HOURS_PER_DAY
    keys, unique, which = {}, [], []
    for s, o in zip(subjects, overrides):  # a subject on several regimens settles once
        key = (s.model_dump_json(), tuple(sorted(o.items())))
        if key not in keys:
            keys[key] = len(unique)
            unique.append((s, o))
        which.append(keys[key])
    settled = None if status is None else np.zeros(len(unique), dtype=np.int64)
    Y0, P0 = day0([s for s, _ in unique], [o for _, o in unique], settled)
    Y, P = Y0[which].copy(), P0[which].copy()
    codes = np.zeros(len(subjects), dtype=np.int64) if settled is None else settled[which]
    schedules, cache = [], {}
    for c, (s, r, o) in enumerate(zip(subjects, regimens, overrides)):
        r, _ = titrate(s, r, o)  # target-INR run-ins on the reference path, as simulate does
        key = (r.model_dump_json(), s.skin_type if r.sun else None, s.age if r.sun else None)
        if key not in cache:
            cache[key] = (dosing.doses(r, s, horizon), dosing.mean_calcium_supplement_mmol_h(r, horizon))
        doses, ca_mean = cache[key]
        schedules.append(doses)
        P[c, crow["ca_supplement_mean_mmol_h"]] = ca_mean
    ok = np.flatnonzero(codes == mod.OK)  # runs whose day 0 failed are not integrated
    (ptr, t, row, amt), (iptr, it, idep, irate) = _dose_arrays([schedules[c] for c in ok], smooth)
    atol = np.stack([_atol(y) for y in Y[ok]]) if ok.size else np.empty((0, Y.shape[1]))
    out = np.full((len(subjects), out_days.size, len(model.probes)), np.nan)
    ran = np.empty((ok.size, out_days.size, len(model.probes)))
    run_status = np.zeros(ok.size, dtype=np.int64)
    st = np.zeros((len(subjects), 3), dtype=np.int64)
    part = np.zeros((ok.size, 3), dtype=np.int64)
    mod.run_all(np.ascontiguousarray(Y[ok]), np.ascontiguousarray(P[ok]), ptr, t, row, amt, iptr, it, idep, irate,
                out_days * HOURS_PER_DAY, horizon, RUN_RTOL, atol, fd, ran, run_status, part)
    out[ok], st[ok], codes[ok] = ran, part, run_status
    if status is None:
        for s, code in zip(subjects, codes):
            if code != mod.OK:
                raise RuntimeError(f"population engine: integration failed for subject "
                                   f"{s.model_dump(exclude_none=True)} (status {code})")
    else:
        status[:] = codes
        out[codes != mod.OK] = np.nan
    if stats is not None:
        stats[:] = st
    return out[:, :, :len(observables.names())]
