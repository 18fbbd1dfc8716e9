"""Small helpers the validation cases share: run a regimen, read a peak or a half-life."""
from __future__ import annotations

import numpy as np

from k2d3.engine.simulate import simulate
from k2d3.inputs.regimen import Regimen
from k2d3.inputs.subject import Subject


def run(subject: Subject, supplements: list[dict], days: float, params: dict | None = None,
        times=None):
    return simulate(subject, Regimen.from_dict({"supplements": supplements}), days=days,
                    times=times, parameters=params)


def hours(days: float, step_h: float) -> np.ndarray:
    return np.arange(0.0, days * 24.0 + 1e-9, step_h) / 24.0


def excess(result, observable: str) -> np.ndarray:
    """The observable minus its day-0 (pre-dose) value."""
    v = result.timecourse[observable].to_numpy()
    return v - v[0]


def tmax_hours(result, observable: str) -> float:
    e = excess(result, observable)
    return float(result.timecourse.index[int(np.argmax(e))] * 24.0)


def terminal_half_life_hours(result, observable: str, start_day: float, stop_day: float) -> float:
    """Log-linear slope of the excess over baseline between two days."""
    days = result.timecourse.index.to_numpy()
    e = excess(result, observable)
    sel = (days >= start_day) & (days <= stop_day) & (e > 0)
    slope = np.polyfit(days[sel] * 24.0, np.log(e[sel]), 1)[0]
    return float(np.log(2) / -slope)
