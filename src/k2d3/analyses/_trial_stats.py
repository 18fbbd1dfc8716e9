"""Summaries of a virtual trial's arms, and differences between arms, by normal approximation.

Means: the 95 % CI of the mean is mean +- z * SD / sqrt(n); a difference of means has the
Welch standard error sqrt(SD1^2/n1 + SD0^2/n0); a relative difference (ratio of means - 1)
is taken on the log scale by the delta method, var(log mean) = SD^2 / (n mean^2). Rates:
the Wilson score interval, and for a difference of rates Newcombe's hybrid score interval
(method 10 of Newcombe 1998, Stat Med 17:873), built from the two Wilson intervals. All
deterministic: no resampling, so a trial's seed alone fixes every number. The intervals
describe sampling of the virtual subjects (between-subject variability with n per arm), not
parameter uncertainty.
"""
from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

Z95 = NormalDist().inv_cdf(0.975)


def describe(values: np.ndarray) -> dict:
    """n, mean, SD, the 95 % CI of the mean and the 2.5-97.5 percentiles of the subjects."""
    v = values[np.isfinite(values)]
    n = int(v.size)
    if n == 0:
        nan = math.nan
        return {"n": 0, "mean": nan, "sd": nan, "ci_low": nan, "ci_high": nan, "p2_5": nan, "p50": nan, "p97_5": nan}
    mean = float(v.mean())
    sd = float(v.std(ddof=1)) if n > 1 else 0.0
    half = Z95 * sd / math.sqrt(n)
    p = np.percentile(v, [2.5, 50, 97.5])
    return {"n": n, "mean": mean, "sd": sd, "ci_low": mean - half, "ci_high": mean + half,
            "p2_5": float(p[0]), "p50": float(p[1]), "p97_5": float(p[2])}


def wilson(k: int, n: int) -> tuple[float, float]:
    """The Wilson score 95 % interval of a proportion k/n."""
    if n == 0:
        return math.nan, math.nan
    p = k / n
    denom = 1 + Z95 ** 2 / n
    centre = (p + Z95 ** 2 / (2 * n)) / denom
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95 ** 2 / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def rate(hits: np.ndarray) -> dict:
    """Responders among subjects with a value: n, k, rate and its Wilson interval."""
    h = hits[np.isfinite(hits)]
    n, k = int(h.size), int(h.sum())
    low, high = wilson(k, n)
    return {"n": n, "responders": k, "rate": k / n if n else math.nan, "ci_low": low, "ci_high": high}


def mean_difference(a: dict, ref: dict) -> tuple[float, float, float]:
    """Difference of means (a - ref) and its 95 % interval (Welch standard error)."""
    if a["n"] == 0 or ref["n"] == 0:
        return math.nan, math.nan, math.nan
    d = a["mean"] - ref["mean"]
    se = math.sqrt(a["sd"] ** 2 / a["n"] + ref["sd"] ** 2 / ref["n"])
    return d, d - Z95 * se, d + Z95 * se


def relative_difference(a: dict, ref: dict) -> tuple[float, float, float]:
    """100 * (mean_a / mean_ref - 1) and its 95 % interval (delta method on log means);
    NaN unless both means are positive."""
    if a["n"] == 0 or ref["n"] == 0 or not (a["mean"] > 0 and ref["mean"] > 0):
        return math.nan, math.nan, math.nan
    r = math.log(a["mean"] / ref["mean"])
    se = math.sqrt(a["sd"] ** 2 / (a["n"] * a["mean"] ** 2) + ref["sd"] ** 2 / (ref["n"] * ref["mean"] ** 2))
    return (100 * (math.exp(r) - 1), 100 * (math.exp(r - Z95 * se) - 1), 100 * (math.exp(r + Z95 * se) - 1))


def rate_difference(a: dict, ref: dict) -> tuple[float, float, float]:
    """Difference of rates (a - ref) with Newcombe's hybrid score 95 % interval."""
    if a["n"] == 0 or ref["n"] == 0:
        return math.nan, math.nan, math.nan
    p1, p0 = a["rate"], ref["rate"]
    l1, u1, l0, u0 = a["ci_low"], a["ci_high"], ref["ci_low"], ref["ci_high"]
    d = p1 - p0
    return d, d - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
