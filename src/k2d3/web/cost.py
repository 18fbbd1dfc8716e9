"""How long a request would run, estimated from its inputs before anything runs.

Each dosing time restarts the stiff solver and dominates a run's cost (DESIGN.md); days
without doses cost little. Doses are counted from the schedules arithmetically, never
listed, so that a schedule such as ``every: 1 s`` for ten years is refused at once instead
of being expanded. The constants are measured on a shared two-core machine
(``benchmarks/bench_simulate.py`` gives the current figure) and err on the slow side.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from k2d3.analyses.compare import K_FORMS
from k2d3.errors import InputError
from k2d3.inputs.regimen import Regimen

SECONDS_PER_RUN = 0.1           # equilibration and set-up of one run
SECONDS_PER_DOSE_TIME = 0.008   # one restart of the solver, with the integration up to the next dose
SECONDS_PER_DAY = 0.0005        # integration and output of a day without doses
RUN_IN_DAYS = 56                # the weekly INR checks of a target-INR medication (8 weeks)
PLAN_RUNS_PER_TARGET = 8        # root finding per target (brentq: 6-9 evaluations)
#: More doses than this in one request are refused outright: even listing them is slow.
MAX_DOSES = 200_000


@dataclass(frozen=True)
class Estimate:
    seconds: float
    field: str       # the input that drives the cost, for the message when it is too much


def _count(item, days: float) -> int:
    """Doses of one schedule within ``days`` (as ``engine.dosing`` would list them)."""
    if item.on_days is not None:
        return len({d for d in item.on_days if d < days})
    if item.start_day >= days:
        return 0
    stop = days if item.stop_day is None else min(days, item.stop_day)
    return int((stop - item.start_day) * 24.0 // item.every_hours) + 1


def _items(regimen: Regimen, prefix: str):
    for kind in ("supplements", "diet", "medications"):
        for i, item in enumerate(getattr(regimen, kind)):
            yield f"{prefix}{kind}.{i}", item


def check_doses(regimen: Regimen, days: float, prefix: str = "regimen.") -> None:
    """Refuse a regimen with more than ``MAX_DOSES`` doses, naming the schedule with the most."""
    counts = {f"{name}.{'on_days' if item.on_days is not None else 'every'}": _count(item, days)
              for name, item in _items(regimen, prefix)}
    if sum(counts.values()) > MAX_DOSES:
        worst = max(counts, key=counts.get)
        raise InputError(worst, f"{counts[worst]:,} doses in {days:g} days ({sum(counts.values()):,} in all); "
                                f"the web runs at most {MAX_DOSES:,}")


def _dose_times(regimen: Regimen, days: float) -> tuple[int, str | None, float]:
    """(distinct dosing times, the schedule with the most doses per day, its doses per day)."""
    groups: dict[tuple, int] = {}
    busiest, per_day = None, 0.0
    for name, item in _items(regimen, ""):
        n = _count(item, days)
        if item.on_days is not None:
            key = ("on_days", name)
        else:
            key = (item.every_hours, round((item.start_day * 24.0) % item.every_hours, 6))
        groups[key] = max(groups.get(key, 0), n)
        rate = n / max(days, 1.0)
        if rate > per_day:
            busiest, per_day = f"{name}.{'on_days' if item.on_days is not None else 'every'}", rate
    if regimen.sun is not None and regimen.sun.minutes_per_day > 0:
        key = (24.0, 0.0)
        groups[key] = max(groups.get(key, 0), math.ceil(days * regimen.sun.days_per_week / 7.0))
    return sum(groups.values()), busiest, per_day


def run_seconds(regimen: Regimen, days: float, extra_daily: bool = False) -> tuple[float, str | None, float]:
    """One run's estimated seconds, the busiest schedule and its doses per day.
    ``extra_daily``: the dose finder adds a daily dose."""
    times, busiest, per_day = _dose_times(regimen, days)
    if extra_daily:
        times = max(times, int(days))
    if any(m.target_inr is not None for m in regimen.medications):
        times += RUN_IN_DAYS
    return SECONDS_PER_RUN + SECONDS_PER_DAY * days + SECONDS_PER_DOSE_TIME * times, busiest, per_day


def _k_changes(regimen: Regimen, days: float) -> int:
    """Runs the warfarin warnings add: one counterfactual, one per start or stop of vitamin K."""
    if not regimen.medications:
        return 0
    items = [s for s in regimen.supplements if s.compound in K_FORMS] + list(regimen.diet)
    if not items:
        return 0
    changes = sum((0 < i.start_day < days) + (i.stop_day is not None and i.stop_day < days) for i in items
                  if i.every is not None)
    return 1 + changes


def _field(busiest: str | None, per_day: float, days_field: str, prefix: str = "regimen.") -> str:
    """The input to change: a schedule with more than a few doses a day, else the horizon."""
    return f"{prefix}{busiest}" if busiest and per_day > 4 else days_field


def simulate(regimen: Regimen, days: float, days_field: str, draws: int = 0) -> Estimate:
    """``draws``: runs of the parameter ensemble for the uncertainty band (counted at the cost
    of a reference run: the population engine is faster, but compiles on first use)."""
    s, busiest, per_day = run_seconds(regimen, days)
    return Estimate(s * (1 + _k_changes(regimen, days) + draws), _field(busiest, per_day, days_field))


def compare(regimen: Regimen, days: float, days_field: str, population: int | None) -> Estimate:
    s, busiest, per_day = run_seconds(regimen, days)
    n = population or 1
    field = "population.n" if n > 1 else _field(busiest, per_day, days_field)
    return Estimate(4 * n * s, field)


def plan(regimen: Regimen, days: float, n_targets: int, n_forms: int, days_field: str) -> Estimate:
    s, busiest, per_day = run_seconds(regimen, days, extra_daily=True)
    runs = 3 + n_forms + PLAN_RUNS_PER_TARGET * n_targets
    return Estimate(runs * s, _field(busiest, per_day, days_field))
