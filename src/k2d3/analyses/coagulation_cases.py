"""The coagulation rows of calibration.csv as simulations (see ``vitamin_d_cases``)."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.optimize import brentq

from k2d3.analyses._trial import run
from k2d3.engine.simulate import simulate
from k2d3.inputs.regimen import Regimen
from k2d3.inputs.subject import Subject

ADULT = Subject(age=45, sex="male", weight_kg=75, height_cm=178)  # healthy volunteers (approximate)
RUN_IN = 56.0  # days of warfarin before the vitamin K arm starts


def _warfarin(mg: float) -> dict:
    return {"drug": "warfarin", "dose": f"{mg} mg", "every": "1 day"}


def warfarin_inr(mg: float, params=None, days: float = RUN_IN) -> float:
    """INR after ``days`` of a fixed daily warfarin dose (trough)."""
    r = simulate(ADULT, Regimen.from_dict({"medications": [_warfarin(mg)]}), days=days, times=[0, days],
                 parameters=params)
    return float(r.timecourse["inr"].iloc[-1])


def dose_for_inr(target: float, params=None) -> float:
    """The daily warfarin dose that gives ``target`` after the run-in (as a clinic titrates)."""
    return brentq(lambda mg: warfarin_inr(mg, params) - target, 0.1, 40.0, xtol=1e-3)


def _vitamin_k_change_pct(supplement: dict, weeks: float, params=None, target: float = 2.0) -> float:
    mg = dose_for_inr(target, params)
    days = RUN_IN + 7 * weeks
    reg = Regimen.from_dict({"medications": [_warfarin(mg)],
                             "supplements": [{**supplement, "every": "1 day", "start_day": RUN_IN}]})
    r = simulate(ADULT, reg, days=days, times=[RUN_IN, days], parameters=params)
    inr = r.timecourse["inr"].to_numpy()
    return float(100 * (inr[-1] / inr[0] - 1))


def theuwissen_inr_change_pct(ug: float, params=None) -> float:
    """Theuwissen 2013: MK-7 ``ug``/day for 6 weeks on stable anticoagulation at INR 2.0."""
    return _vitamin_k_change_pct({"compound": "MK-7", "dose": f"{ug} ug"}, 6, params)


def theuwissen_dose_response(params=None) -> tuple[float, float, float]:
    return tuple(theuwissen_inr_change_pct(ug, params) for ug in (10.0, 20.0, 45.0))


def schurgers_k1(params=None) -> tuple[float, float]:
    """Schurgers 2004: K1 100 and 150 ug/day for a week each on stable anticoagulation;
    % INR change."""
    return tuple(_vitamin_k_change_pct({"compound": "K1", "dose": f"{ug} ug"}, 1, params) for ug in (100.0, 150.0))
