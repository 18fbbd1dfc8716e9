"""The figure of a sensitivity analysis: per output, the top-ranked parameters' indices
with their confidence intervals (Morris: mu* and sigma; Sobol': first and total order)."""
from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # files only; no display is assumed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from k2d3.model import observables  # noqa: E402

#: Parameters drawn per output (the tables and files hold all of them).
TOP = 15


def figure(result):
    outputs = result.outputs
    rows = result.indices
    shown = [rows[rows.output == o].head(TOP) for o in outputs]
    height = max(len(s) for s in shown)
    fig, axes = plt.subplots(1, len(outputs), figsize=(5.2 * len(outputs), 1.2 + 0.32 * height), squeeze=False)
    obs = observables.observables()
    morris = result.method == "morris"
    for ax, o, s in zip(axes[0], outputs, shown):
        y = np.arange(len(s))[::-1]
        if morris:
            ax.barh(y + 0.2, s.mu_star, height=0.4, xerr=s.mu_star_conf, color="tab:blue", capsize=2,
                    label="mu* (95% CI)")
            ax.barh(y - 0.2, s.sigma, height=0.4, color="tab:orange", alpha=0.8, label="sigma")
            ax.set_xlabel(f"elementary effect, {obs[o].unit}")
        else:
            ax.barh(y + 0.2, s.S1, height=0.4, xerr=s.S1_conf, color="tab:blue", capsize=2,
                    label="first order S1 (95% CI)")
            ax.barh(y - 0.2, s.ST, height=0.4, xerr=s.ST_conf, color="tab:red", capsize=2,
                    label="total order ST (95% CI)")
            ax.set_xlabel("share of the output's variance")
            ax.axvline(0, color="black", lw=0.6)
        ax.set_yticks(y, s.parameter)
        ax.set_title(f"{obs[o].label}\n({o}, day {result.days:g})", fontsize=9)
        ax.legend(fontsize=7, loc="lower right")
        ax.grid(axis="x", alpha=0.3)
    title = (f"Morris screening, {result.n} trajectories" if morris
             else f"Sobol' indices, N = {result.n}") + f", {len(result.factors)} parameters, {result.runs} runs"
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def png(result) -> bytes:
    fig = figure(result)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()
