"""Warnings that need more than one run: a vitamin K antagonist with a change in vitamin K.

A person on warfarin or acenocoumarol who starts, stops or changes K1/K2 intake sees the INR
move. The expected change is measured, not guessed: for vitamin K taken from the start, the
same run without the regimen's vitamin K (supplements and foods that carry it) is the
counterfactual; for each later start, stop or change, the INR on that day is compared with
the INR after the clotting factors have re-settled (``SETTLE_DAYS``).
"""
from __future__ import annotations

from k2d3.engine.simulate import Result, simulate
from k2d3.inputs import foods
from k2d3.inputs.regimen import Regimen

_VITAMIN_K = {"K1", "MK-4", "MK-5", "MK-6", "MK-7", "MK-8", "MK-9", "MK-10", foods.UNSPECIFIED_MK}
#: Days after a change at which its INR effect is reported: five half-lives of factor II
#: (60 h), the slowest clotting factor, so the new level is reached.
SETTLE_DAYS = 14.0
_SOURCE = ("Schurgers LJ et al. 2007, Blood 109:3279 (MK-7 from 50 ug/day may interfere); "
           "Theuwissen E et al. 2013, J Thromb Haemost 11:1085; Schurgers LJ et al. 2004, Blood 104:2682")
_ADVICE = ("do not start, stop or change K1/K2 intake without your clinician, who may need to check the "
           "INR and adjust the dose")


def _carries_vitamin_k(item) -> bool:
    food = foods.foods()[item.food]
    return any(c in _VITAMIN_K for c in foods.dosed_per_100g(food))


def _k_items(regimen: Regimen) -> list[tuple[str, object]]:
    """(name, item) for every supplement or food of the regimen that carries vitamin K."""
    return ([(s.compound, s) for s in regimen.supplements if s.compound in _VITAMIN_K]
            + [(d.food, d) for d in regimen.diet if _carries_vitamin_k(d)])


def without_vitamin_k(regimen: Regimen) -> Regimen:
    data = regimen.model_dump(exclude_none=True)
    data["supplements"] = [s.model_dump(exclude_none=True) for s in regimen.supplements
                           if s.compound not in _VITAMIN_K]
    data["diet"] = [d.model_dump(exclude_none=True) for d in regimen.diet if not _carries_vitamin_k(d)]
    return Regimen.from_dict(data)


def _vka_on(regimen: Regimen, day: float) -> str | None:
    """The antagonist taken on ``day``, if any."""
    for m in regimen.medications:
        if m.start_day <= day and (m.stop_day is None or day <= m.stop_day):
            return m.drug
    return None


def _changes(regimen: Regimen, days: float) -> dict[float, list[str]]:
    """Day -> what starts or stops then, for vitamin K taken on a schedule within the run."""
    out: dict[float, list[str]] = {}
    for name, item in _k_items(regimen):
        if item.every is None:
            continue
        if 0 < item.start_day < days:
            out.setdefault(item.start_day, []).append(f"starting {name}")
        if item.stop_day is not None and item.stop_day < days:
            out.setdefault(item.stop_day, []).append(f"stopping {name}")
    return dict(sorted(out.items()))


def _inr(result: Result, regimen: Regimen, a: float, b: float) -> tuple[float, float]:
    tc = simulate(result.subject, regimen, days=b, times=[a, b]).timecourse["inr"]
    return float(tc.iloc[0]), float(tc.iloc[-1])


def vka_warnings(result: Result) -> list[dict]:
    """Warnings with the expected INR change when a vitamin K antagonist meets vitamin K that
    is taken from the start, or started, stopped or changed during the run; none otherwise."""
    regimen, days = result.regimen, result.days
    if not regimen.medications or not _k_items(regimen):
        return []
    out = []
    drug = _vka_on(regimen, days)
    from_start = [n for n, item in _k_items(regimen)
                  if item.every is None or (item.start_day == 0 and (item.stop_day is None or item.stop_day >= days))]
    if drug and from_start:
        base = simulate(result.subject, without_vitamin_k(regimen), days=days, times=[days])
        inr_without = float(base.timecourse["inr"].iloc[-1])
        inr_with = float(result.timecourse["inr"].iloc[-1])
        change = 100.0 * (inr_with / inr_without - 1.0)
        out.append({
            "code": "vka_vitamin_k_change", "severity": "warning", "day": 0.0, "change_pct": change,
            "message": (f"on {drug}, the vitamin K in this regimen ({', '.join(sorted(set(from_start)))}) moves "
                        f"the INR from {inr_without:.2f} to {inr_with:.2f} ({change:+.0f}%) by day {days:g}; "
                        + _ADVICE),
            "source": _SOURCE})
    changes = _changes(regimen, days)
    days_of_change = list(changes)
    for i, (day, what) in enumerate(changes.items()):
        drug = _vka_on(regimen, day)
        if drug is None:
            continue
        until = min(day + SETTLE_DAYS, days, *(d for d in days_of_change[i + 1:]))
        before, after = _inr(result, regimen, day, until)
        change = 100.0 * (after / before - 1.0)
        out.append({
            "code": "vka_vitamin_k_change", "severity": "warning", "day": day, "change_pct": change,
            "message": (f"on {drug}, {' and '.join(what)} on day {day:g} moves the INR from {before:.2f} to "
                        f"{after:.2f} ({change:+.0f}%) by day {until:g}; " + _ADVICE),
            "source": _SOURCE})
    return out
