"""Warnings that need more than one run: a vitamin K antagonist with a change in vitamin K.

A person on warfarin who starts, stops or changes K1/K2 intake sees the INR move. The
expected change is measured, not guessed: the same run without the regimen's vitamin K
(supplements and foods that carry it) is the counterfactual.
"""
from __future__ import annotations

from k2d3.engine.simulate import Result, simulate
from k2d3.inputs import foods
from k2d3.inputs.regimen import Regimen

_VITAMIN_K = {"K1", "MK-4", "MK-7", "MK-8", "MK-9"}
_K_COLUMNS = ("k1_ug", "mk4_ug", "mk7_ug", "mk8_ug", "mk9_ug")


def _carries_vitamin_k(item) -> bool:
    food = foods.foods()[item.food]
    return any(food.per_100g[c] for c in _K_COLUMNS)


def without_vitamin_k(regimen: Regimen) -> Regimen:
    data = regimen.model_dump(exclude_none=True)
    data["supplements"] = [s.model_dump(exclude_none=True) for s in regimen.supplements
                           if s.compound not in _VITAMIN_K]
    data["diet"] = [d.model_dump(exclude_none=True) for d in regimen.diet if not _carries_vitamin_k(d)]
    return Regimen.from_dict(data)


def vka_warnings(result: Result) -> list[dict]:
    """A warning with the expected INR change when a vitamin K antagonist meets added
    vitamin K in the regimen; none otherwise."""
    regimen = result.regimen
    on_vka = any(m.drug == "warfarin" for m in regimen.medications)
    has_k = any(s.compound in _VITAMIN_K for s in regimen.supplements) or any(
        _carries_vitamin_k(d) for d in regimen.diet)
    if not (on_vka and has_k):
        return []
    base = simulate(result.subject, without_vitamin_k(regimen), days=result.days, times=[result.days],
                    parameters=None)
    inr_without = float(base.timecourse["inr"].iloc[-1])
    inr_with = float(result.timecourse["inr"].iloc[-1])
    change = 100.0 * (inr_with / inr_without - 1.0)
    return [{
        "code": "vka_vitamin_k_change",
        "severity": "warning",
        "message": (f"on warfarin, the vitamin K in this regimen moves the INR from {inr_without:.2f} to "
                    f"{inr_with:.2f} ({change:+.0f}%) by day {result.days:g}; do not start, stop or change "
                    "K1/K2 intake without your clinician, who may need to check the INR and adjust the dose"),
        "source": "Schurgers LJ et al. 2007, Blood 109:3279 (MK-7 from 50 ug/day may interfere); "
                  "Theuwissen E et al. 2013, J Thromb Haemost 11:1085; Schurgers LJ et al. 2004, Blood 104:2682",
    }]
