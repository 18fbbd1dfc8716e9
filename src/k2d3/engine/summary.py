"""The summary of a run: per-observable statistics, the intake, and the flags raised.

Flags are the safety advisor's findings about the run (an intake above its tolerable upper
level, a level past a threshold, a condition that needs a clinician); they never change the
regimen.
"""
from __future__ import annotations

import numpy as np

from k2d3.engine import advisor, dosing
from k2d3.model import observables


def _time_in_range(days: np.ndarray, values: np.ndarray, rng) -> float | None:
    """Fraction of the run's time inside ``rng`` (each sample holds until the next)."""
    if rng is None or days.size < 2:
        return None
    inside = (values >= rng[0]) & (values <= rng[1])
    widths = np.diff(days)
    return float(np.sum(widths * inside[:-1]) / np.sum(widths))


def observable_stats(result) -> dict[str, dict]:
    tc = result.timecourse
    days = tc.index.to_numpy(dtype=float)
    out = {}
    for name, obs in observables.observables().items():
        v = tc[name].to_numpy(dtype=float)
        out[name] = {
            "unit": obs.unit,
            "evidence": obs.evidence,
            "baseline": float(v[0]),
            "end": float(v[-1]),
            "min": float(np.min(v)),
            "max": float(np.max(v)),
            "reference_range": list(obs.range) if obs.range else None,
            "time_in_range": _time_in_range(days, v, obs.range),
        }
        if getattr(result, "band", None) is not None:  # parameter uncertainty (the calibration's ensemble)
            out[name]["end_interval_90"] = [float(result.band["p5"][name].iloc[-1]),
                                            float(result.band["p95"][name].iloc[-1])]
    return out


def summarize(result) -> dict:
    horizon = result.days * dosing.HOURS_PER_DAY
    intake = dosing.mean_daily_intake_ug(result.regimen, horizon)
    stats = observable_stats(result)
    return {
        "days": result.days,
        "observables": stats,
        "mean_daily_intake_ug": intake,
        "titrated_dose_mg_day": dict(result.titrated_dose_mg),
        "flags": advisor.advise(result),
    }
