"""The figure of a virtual trial: each endpoint over time per arm, with the published points.

A visual predictive check: the median and 5th-95th percentile band of each arm's subjects
(a responder endpoint: the arm's rate and its Wilson 95 % interval), and the published
means with their intervals at their visits, in the arm's colour.
"""
from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # files only; no display is assumed
import matplotlib.pyplot as plt  # noqa: E402

from k2d3.model import observables  # noqa: E402
from k2d3.report.population import COLORS  # noqa: E402


def _ylabel(endpoint) -> str:
    unit = observables.observables()[endpoint.observable].unit
    if endpoint.statistic == "responder":
        return "share of subjects"
    return {"value": unit, "change": f"change, {unit}", "pct_change": "% change"}[endpoint.quantity]


def figure(result):
    endpoints = result.trial.endpoints
    cols = 2 if len(endpoints) > 1 else 1
    rows = -(-len(endpoints) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.4 * cols, 3.4 * rows), squeeze=False)
    for ax, e in zip(axes.flat, endpoints):
        for color, (arm, band) in zip(COLORS, result.over_time(e).items()):
            if e.statistic == "responder":
                ax.plot(band.index, band["rate"], color=color, lw=1.6, label=arm)
                ax.fill_between(band.index, band["low"], band["high"], color=color, alpha=0.15, lw=0)
            else:
                ax.plot(band.index, band["p50"], color=color, lw=1.6, label=f"{arm} (median)")
                ax.fill_between(band.index, band["p5"], band["p95"], color=color, alpha=0.18, lw=0)
            for p in result.trial.published:
                if p.arm == arm and p.endpoint == e.label:
                    err = None if p.low is None else [[p.value - p.low], [p.high - p.value]]
                    ax.errorbar([p.day], [p.value], yerr=err, fmt="o", color=color, mec="black", ms=5, capsize=3)
        o = observables.observables()[e.observable]
        ax.set_title(f"{e.label} ({o.evidence})", fontsize=9)
        ax.set_ylabel(_ylabel(e))
        ax.set_xlabel("day")
    for ax in axes.flat[len(endpoints):]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=7)
    t = result.trial
    fig.suptitle(f"{t.name}\n{t.subjects_per_arm} virtual subjects per arm: median and 5th-95th percentile"
                 + ("; points: published, with their intervals" if t.published else ""), fontsize=9)
    fig.tight_layout()
    return fig


def png(result) -> bytes:
    fig = figure(result)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()
