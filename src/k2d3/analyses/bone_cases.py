"""The calcium, bone and osteocalcin rows of calibration.csv as simulations (see
``vitamin_d_cases``)."""
from __future__ import annotations

import numpy as np

from k2d3.analyses._trial import run
from k2d3.inputs.subject import Subject

POSTMENOPAUSAL = Subject(age=60, sex="female", weight_kg=70, height_cm=165)  # Knapen 2013: 55-65 y


def _steady_state(subject: Subject, params=None):
    return run(subject, [], 1, params, times=[0]).timecourse.iloc[0]


def baseline_levels(params=None) -> dict[str, float]:
    """Day-0 levels of the default adult (no measured baseline)."""
    return dict(_steady_state(Subject(), params))


def ca_absorption_vs_25ohd_pct(params=None) -> float:
    """Heaney 2003 (J Am Coll Nutr 22:142): postmenopausal women, fractional calcium absorption
    at 25(OH)D 86.5 vs 50.2 nmol/L (% relative)."""
    lo = _steady_state(POSTMENOPAUSAL.model_copy(update={"baseline_25ohd_nmol_l": 50.2}), params)
    hi = _steady_state(POSTMENOPAUSAL.model_copy(update={"baseline_25ohd_nmol_l": 86.5}), params)
    return 100.0 * (hi["ca_absorption_fraction"] / lo["ca_absorption_fraction"] - 1)


def ca_absorption_vs_intake(params=None) -> tuple[float, float, float]:
    """Heaney 1989: fractional absorption at 200 and 2000 mg/day, and the log-log slope of
    absorption on intake between them (-0.5 for 1/sqrt(intake))."""
    women = Subject(age=50, sex="female", baseline_25ohd_nmol_l=70)
    fa = [_steady_state(women.model_copy(update={"dietary_calcium_mg_day": mg}), params)["ca_absorption_fraction"]
          for mg in (200.0, 2000.0)]
    return fa[0], fa[1], float(np.log(fa[1] / fa[0]) / np.log(10.0))


def pth_plateau_nmol_l(params=None) -> float:
    """Saliba 2011: the 25(OH)D above which PTH stops falling, as the knot of a two-segment
    linear fit of steady-state PTH on 25(OH)D (10-150 nmol/L), the analysis the paper used."""
    grid = np.arange(10.0, 151.0, 5.0)
    pth = np.array([_steady_state(Subject(age=55, baseline_25ohd_nmol_l=g), params)["pth_pmol_l"] for g in grid])
    best, knot = np.inf, None
    for k in grid[2:-2]:
        x = np.column_stack([np.ones_like(grid), grid, np.maximum(grid - k, 0.0)])
        coef, res, *_ = np.linalg.lstsq(x, pth, rcond=None)
        sse = float(np.sum((x @ coef - pth) ** 2))
        if sse < best:
            best, knot = sse, float(k)
    return knot


def _ucoc_change_pct(subject: Subject, supplements: list[dict], days: float, params=None) -> tuple[float, float]:
    """% change from day 0 of serum ucOC and of total OC at the end of a run."""
    r = run(subject, supplements, days, params, times=[0, days])
    uc = r.timecourse["ucoc_ng_ml"].to_numpy()
    total = uc + r.timecourse["coc_ng_ml"].to_numpy()
    return 100.0 * (uc[-1] / uc[0] - 1), 100.0 * (total[-1] / total[0] - 1)


def knapen_ucoc_pct(params=None) -> tuple[float, float]:
    """Knapen 2013: postmenopausal women, MK-7 180 ug/day vs placebo for 3 years; % change of
    ucOC in each arm (MK-7, placebo)."""
    mk7 = _ucoc_change_pct(POSTMENOPAUSAL, [{"compound": "MK-7", "dose": "180 ug", "every": "1 day"}], 1095, params)[0]
    placebo = _ucoc_change_pct(POSTMENOPAUSAL, [], 1095, params)[0]
    return mk7, placebo


def knapen_bmd_pct(params=None) -> dict[str, tuple[float, float]]:
    """Knapen 2013: 3-year BMD change (MK-7 arm, placebo arm) at lumbar spine and femoral neck."""
    out = {}
    arms = {"mk7": [{"compound": "MK-7", "dose": "180 ug", "every": "1 day"}], "placebo": []}
    runs = {k: run(POSTMENOPAUSAL, v, 1095, params, times=[0, 1095]).timecourse.iloc[-1] for k, v in arms.items()}
    for site in ("lumbar_spine", "femoral_neck"):
        col = f"bmd_{site}_pct_change"
        out[site] = (float(runs["mk7"][col]), float(runs["placebo"][col]))
    return out


JIANG = Subject(age=65, sex="female", weight_kg=55, height_cm=155)  # approximate: Chinese women with osteoporosis


def jiang_mk4(params=None) -> tuple[float, float, float]:
    """Jiang 2014: MK-4 45 mg/day (15 mg three times a day) for a year; % change of ucOC,
    of total OC and of lumbar spine BMD in the treated arm."""
    supp = [{"compound": "MK-4", "dose": "15 mg", "every": "8 h"}]
    uc, total = _ucoc_change_pct(JIANG, supp, 365, params)
    bmd = run(JIANG, supp, 365, params, times=[0, 365]).timecourse["bmd_lumbar_spine_pct_change"].iloc[-1]
    return uc, total, float(bmd)


def rasekhi_ucoc_pct(params=None) -> tuple[float, float]:
    """Rasekhi 2015: premenopausal women, K1 1000 ug/day vs placebo for 4 weeks; % ucOC of
    total OC at the end (K1 arm, placebo arm)."""
    women = Subject(age=38, sex="female", weight_kg=72, height_cm=160)  # approximate
    k1 = run(women, [{"compound": "K1", "dose": "1000 ug", "every": "1 day"}], 28, params, times=[0, 28])
    placebo = run(women, [], 28, params, times=[0, 28])
    return 100 * float(k1.timecourse["ucoc_fraction"].iloc[-1]), 100 * float(placebo.timecourse["ucoc_fraction"].iloc[-1])


def _bone_run(subject: Subject, supplements: list, days: int, params=None):
    return run(subject, supplements, days, params, times=[0, days]).timecourse.iloc[-1]


def menopause_spine_loss_pct(params=None) -> tuple[float, float, float]:
    """Greendale 2012 (J Bone Miner Res 27:111, SWAN): lumbar spine and femoral neck BMD lost
    during the transmenopause, from 1 year before to 2 years after the final menstrual period
    (published 7.38% and 5.8%), and the CTx rise over the same years (%)."""
    end = _bone_run(Subject(age=50, menopause_age=51, baseline_25ohd_nmol_l=60), [], 3 * 365, params)
    return (float(end["bmd_lumbar_spine_pct_change"]), float(end["bmd_femoral_neck_pct_change"]),
            float(end["ctx_pct_change"]))


def late_postmenopause_spine_loss_pct_per_year(params=None) -> float:
    """Spine BMD lost per year 9 to 11 years after menopause (Sowers 2010, Michigan cohort:
    1.1%/y from 2 to 7 years after; Aloia 2005 placebo arm: 0.26-0.55%/y at other sites)."""
    end = _bone_run(Subject(age=60, menopause_age=51, baseline_25ohd_nmol_l=60), [], 2 * 365, params)
    return float(end["bmd_lumbar_spine_pct_change"]) / 2.0


def d3_alone_vs_placebo(params=None) -> dict[str, float]:
    """Vitamin D3 2000 IU/day for 2 years in women aged 65 starting at 50 nmol/L (BEST-D's
    dose and baseline; VITAL's dose and length), as differences from placebo at the end:
    PTH (% relative), CTx and BSAP (percentage points), spine and femoral neck BMD
    (percentage points) and serum calcium (mmol/L)."""
    subject = Subject(age=65, menopause_age=51, baseline_25ohd_nmol_l=50)
    placebo = _bone_run(subject, [], 730, params)
    d3 = _bone_run(subject, [{"compound": "D3", "dose": "2000 IU", "every": "1 day"}], 730, params)
    return {"pth_pct": 100.0 * (d3["pth_pmol_l"] / placebo["pth_pmol_l"] - 1),
            "ctx_pct": float(d3["ctx_pct_change"] - placebo["ctx_pct_change"]),
            "bsap_pct": float(d3["bsap_pct_change"] - placebo["bsap_pct_change"]),
            "ls_pct": float(d3["bmd_lumbar_spine_pct_change"] - placebo["bmd_lumbar_spine_pct_change"]),
            "fn_pct": float(d3["bmd_femoral_neck_pct_change"] - placebo["bmd_femoral_neck_pct_change"]),
            "calcium_mmol_l": float(d3["calcium_mmol_l"] - placebo["calcium_mmol_l"]),
            "ohd25_nmol_l": float(d3["ohd25_nmol_l"])}
