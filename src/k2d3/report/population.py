"""The figure of a population run: percentile bands over time, one panel per observable."""
from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # files only; no display is assumed
import matplotlib.pyplot as plt  # noqa: E402

from k2d3.model import observables  # noqa: E402

COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:red", "tab:brown", "tab:pink", "tab:gray")


def figure(result, names: list[str], published: dict | None = None):
    """Median and 5th-95th percentile band of each observable per arm; ``published``
    ({observable: [(arm, day, value, low, high)]}) overlays published summary points (a
    visual predictive check)."""
    cols = 2 if len(names) > 1 else 1
    rows = max(1, -(-len(names) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.3 * rows), sharex=True, squeeze=False)
    obs = observables.observables()
    for ax, name in zip(axes.flat, names):
        for color, (arm, band) in zip(COLORS, result.bands(name).items()):
            ax.plot(band.index, band["p50"], color=color, lw=1.6, label=f"{arm} (median)")
            ax.fill_between(band.index, band["p5"], band["p95"], color=color, alpha=0.18, lw=0)
        for color, arm in zip(COLORS, result.arms):
            for a, day, value, low, high in (published or {}).get(name, []):
                if a == arm:
                    err = None if low is None else [[value - low], [high - value]]
                    ax.errorbar([day], [value], yerr=err, fmt="o", color=color, mec="black", ms=5)
        o = obs[name]
        if o.range:
            ax.axhspan(*o.range, color="tab:green", alpha=0.06, lw=0)
        ax.set_title(f"{o.label} ({o.evidence})", fontsize=9)
        ax.set_ylabel(o.unit)
    for ax in axes.flat[len(names):]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("day")
    n = len(result.subjects)
    fig.suptitle(f"{n} virtual subjects: median and 5th-95th percentile"
                 + ("; points: published means with their intervals" if published else ""), fontsize=10)
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def png(result, names: list[str], published: dict | None = None) -> bytes:
    fig = figure(result, names, published)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()
