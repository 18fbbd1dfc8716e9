"""Figures of a result: each panel an observable over time, its reference range shaded."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display is assumed
import matplotlib.pyplot as plt  # noqa: E402

from k2d3.model import observables  # noqa: E402

#: Panels of the standard figure set: file stem -> observables drawn together.
PANELS = {
    "vitamin_d": ["ohd25_nmol_l", "calcitriol_pmol_l"],
    "vitamin_k": ["k1_nmol_l", "mk4_nmol_l", "mk7_nmol_l", "mk9_nmol_l"],
    "calcium_bone": ["calcium_mmol_l", "pth_pmol_l", "ucoc_fraction",
                     "bmd_lumbar_spine_pct_change", "bmd_femoral_neck_pct_change"],
    "vascular": ["dp_ucmgp_pmol_l", "cac_agatston", "pwv_m_s", "sbp_mmhg"],
}


def _panel(ax, tc, name: str, color=None, band=None) -> None:
    """One observable over time, its reference range shaded; ``band`` (``Result.band``)
    adds the 5th-95th percentile over the calibration's parameter ensemble."""
    obs = observables.observables()[name]
    line, = ax.plot(tc.index, tc[name], label=obs.label, color=color)
    if band is not None:
        ax.fill_between(band["p5"].index, band["p5"][name], band["p95"][name], color=line.get_color(),
                        alpha=0.25, lw=0, label="90% parameter uncertainty")
    if obs.range:
        ax.axhspan(*obs.range, color=color or "tab:green", alpha=0.12, lw=0)
    ax.set_ylabel(f"{obs.label} ({obs.unit})")


def figure_vitamin_d(result):
    tc = result.timecourse
    fig, axes = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
    for ax, name in zip(axes, PANELS["vitamin_d"]):
        _panel(ax, tc, name, band=getattr(result, 'band', None))
        ax.set_title(f"{observables.observables()[name].label} (shaded: reference range)", fontsize=9)
    axes[-1].set_xlabel("day")
    fig.tight_layout()
    return fig


def figure_vitamin_k(result):
    tc = result.timecourse
    fig, ax = plt.subplots(figsize=(7, 4))
    colors = ["tab:green", "tab:orange", "tab:blue", "tab:purple"]
    for name, color in zip(PANELS["vitamin_k"], colors):
        _panel(ax, tc, name, color, band=getattr(result, 'band', None))
    ax.set_ylabel("plasma concentration (nmol/L)")
    ax.set_xlabel("day")
    ax.set_title("vitamin K forms in plasma (shaded: K1 reference range)", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def figure_calcium_bone(result):
    tc = result.timecourse
    fig, axes = plt.subplots(2, 2, figsize=(10, 6), sharex=True)
    for ax, name in zip(axes.flat[:3], PANELS["calcium_bone"][:3]):
        _panel(ax, tc, name, band=getattr(result, 'band', None))
        ax.set_title(observables.observables()[name].label, fontsize=9)
    ax = axes.flat[3]
    for name, color in zip(PANELS["calcium_bone"][3:], ("tab:blue", "tab:red")):
        ax.plot(tc.index, tc[name], label=observables.observables()[name].label, color=color)
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_ylabel("BMD change from day 0 (%)")
    ax.set_title("bone mineral density", fontsize=9)
    ax.legend(fontsize=8)
    for ax in axes[-1]:
        ax.set_xlabel("day")
    fig.tight_layout()
    return fig


def figure_vascular(result):
    tc = result.timecourse
    fig, axes = plt.subplots(2, 2, figsize=(10, 6), sharex=True)
    for ax, name in zip(axes.flat, PANELS["vascular"]):
        _panel(ax, tc, name, band=getattr(result, 'band', None))
        lo, hi = float(tc[name].min()), float(tc[name].max())
        pad = 0.1 * (hi - lo) or 0.05 * abs(hi) or 1.0
        ax.set_ylim(lo - pad, hi + pad)  # years of small changes: the data, not the range, set the scale
        obs = observables.observables()[name]
        ax.set_title(f"{obs.label} (evidence: {obs.evidence})", fontsize=9)
    for ax in axes[-1]:
        ax.set_xlabel("day")
    fig.tight_layout()
    return fig


def save_figures(result, directory: Path, write) -> list[Path]:
    """Write the standard figures as PNG through ``write(path, bytes)``; returns the paths."""
    import io

    paths = []
    for stem, make in (("vitamin_d", figure_vitamin_d), ("vitamin_k", figure_vitamin_k),
                       ("calcium_bone", figure_calcium_bone), ("vascular", figure_vascular)):
        fig = make(result)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110)
        plt.close(fig)
        path = directory / f"{stem}.png"
        write(path, buf.getvalue())
        paths.append(path)
    return paths


#: Intake chart panels: title -> (forms of the intake report, group total label).
INTAKE_PANELS = {"vitamin D (ug/day)": (("D3", "D2", "25(OH)D3"), "vitamin D (D3+D2)"),
                 "vitamin K (ug/day)": (("K1", "MK-4", "MK-5", "MK-6", "MK-7", "MK-8", "MK-9", "MK-10",
                                         "MK, form not reported"), "vitamin K (K1+MK)"),
                 "calcium (mg/day)": (("calcium",), "calcium")}
_SOURCE_COLORS = {"usual_diet": "tab:gray", "foods": "tab:green", "supplements": "tab:blue", "sun": "gold"}


def figure_intake(report: dict):
    """Daily intake per form, stacked by source, with the reference intakes (dotted) and
    upper levels (dashed) of IOM and EFSA for the group."""
    forms = {r["form"]: r for r in report["forms"]}
    totals = {t["group"]: t for t in report["totals"]}
    fig, axes = plt.subplots(len(INTAKE_PANELS), 1, figsize=(8, 9), height_ratios=[3, 9, 1])
    for ax, (title, (names, group)) in zip(axes, INTAKE_PANELS.items()):
        left = [0.0] * len(names)
        for source, color in _SOURCE_COLORS.items():
            widths = [forms[n][source] for n in names]
            if any(widths):
                ax.barh(names, widths, left=left, color=color, label=source.replace("_", " "))
                left = [a + b for a, b in zip(left, widths)]
        lines: dict[float, list[str]] = {}
        upper: dict[float, bool] = {}
        for lim in totals[group]["limits"]:
            if lim["value"] is None:
                continue
            only = f" ({lim['applies_to'][0]})" if len(lim["applies_to"]) == 1 and len(names) > 1 else ""
            lines.setdefault(lim["value"], []).append(f"{lim['body']} {lim['kind']}{only}")
            upper[lim["value"]] = lim["kind"] == "UL"
        for value, labels in lines.items():
            ax.axvline(value, color="tab:red" if upper[value] else "black", ls="--" if upper[value] else ":", lw=1)
            ax.annotate(f"{', '.join(labels)} {value:g}", (value, 1.0), xycoords=("data", "axes fraction"),
                        fontsize=7, rotation=90, va="top", ha="right")
        ax.set_title(title, fontsize=9)
        ax.invert_yaxis()
        ax.legend(fontsize=7, loc="lower right")
    axes[-1].set_xlabel("mean daily amount (sun: oral D3 equivalent; not counted against the UL)")
    fig.tight_layout()
    return fig


def save_intake_figure(report: dict, directory: Path, write) -> Path:
    import io

    fig = figure_intake(report)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    path = directory / "intake.png"
    write(path, buf.getvalue())
    return path
