"""The figure of a 2x2 comparison: the four arms over time for the key observables."""
from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # files only; no display is assumed
import matplotlib.pyplot as plt  # noqa: E402

from k2d3.model import observables  # noqa: E402

#: Observables drawn when the model has them, in this order (at most six panels): the
#: vitamin levels, the proteins each vitamin acts through, and the outcomes the article names.
KEY_OBSERVABLES = ("ohd25_nmol_l", "mk7_nmol_l", "ucoc_fraction", "dp_ucmgp_pmol_l",
                   "ca_absorption_fraction", "bmd_lumbar_spine_pct_change", "cac_agatston",
                   "fasting_glucose_mg_dl", "sbp_mmhg")
COLORS = {"placebo": "tab:gray", "D": "tab:orange", "K": "tab:green", "DK": "tab:purple"}
#: Arms often coincide (placebo with K on a vitamin D marker): dashes keep both visible.
STYLES = {"placebo": (":", 2.6), "D": ("--", 2.2), "K": ("-", 1.4), "DK": ("-.", 1.4)}


def key_observables(comparison, limit: int = 6) -> list[str]:
    present = set(comparison.timecourses["placebo"].columns)
    return [n for n in KEY_OBSERVABLES if n in present][:limit]


def figure(comparison):
    names = key_observables(comparison)
    cols = 3 if len(names) > 4 else 2
    rows = max(1, -(-len(names) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), sharex=True, squeeze=False)
    obs = observables.observables()
    for ax, name in zip(axes.flat, names):
        for arm, tc in comparison.timecourses.items():
            ls, lw = STYLES[arm]
            ax.plot(tc.index, tc[name], color=COLORS[arm], ls=ls, lw=lw, label=comparison.labels[arm])
            if arm in comparison.bands:
                lo, hi = comparison.bands[arm]
                ax.fill_between(tc.index, lo[name], hi[name], color=COLORS[arm], alpha=0.12, lw=0)
        o = obs.get(name)
        ax.set_title(f"{o.label if o else name}: {comparison.table.loc[name, 'class']}", fontsize=9)
        ax.set_ylabel(o.unit if o else "")
    for ax in axes.flat[len(names):]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("day")
    who = (f"mean of {comparison.n_subjects} virtual subjects (bands: 10th-90th percentile)"
           if comparison.n_subjects > 1 else "one subject")
    fig.suptitle(f"2x2 comparison over {comparison.days:g} days, {who}", fontsize=10)
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def png(comparison) -> bytes:
    fig = figure(comparison)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()
