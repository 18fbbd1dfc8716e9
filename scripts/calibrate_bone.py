"""Calibrate the two bone-signal constants k2d3 adds to Peterson & Riggs 2010.

est_rankl_gam (estrogen loss raises RANKL) is set so that a woman loses 7.38% of lumbar
spine BMD from 1 year before to 2 years after menopause (Greendale 2012, SWAN).
pth_rankl_gain (damping of the RANKL/OPG response to PTH) is set so that 2000 IU/day of
vitamin D3 for 2 years from 50 nmol/L lowers CTx by 5% against placebo: the pooled effect of
vitamin D on CTx is not significant (Sohouli 2023, PMID 37314058) and single trials report
at most borderline falls; -5% is the edge of what such trials could miss. Spine and femoral
neck BMD, PTH and calcium under vitamin D then remain independent checks.
Run:  python scripts/calibrate_bone.py
"""
from __future__ import annotations

import sys

import numpy as np
from scipy.optimize import least_squares

from k2d3.analyses import bone_cases as cases


def residuals(x: np.ndarray) -> np.ndarray:
    p = {"pth_rankl_gain": float(np.exp(x[0])), "est_rankl_gam": float(np.exp(x[1]))}
    spine = cases.menopause_spine_loss_pct(p)[0]
    ctx = cases.d3_alone_vs_placebo(p)["ctx_pct"]
    out = np.array([spine / -7.38 - 1, (ctx + 5.0) / 5.0])
    print(" ".join(f"{k}={v:.4g}" for k, v in p.items()), "->", np.round(out, 4), file=sys.stderr)
    return out


def main() -> None:
    fit = least_squares(residuals, np.log([0.15, 0.09]), diff_step=0.02, xtol=1e-4, max_nfev=40)
    g, e = np.exp(fit.x)
    print(f"pth_rankl_gain: {g:.4g}\nest_rankl_gam: {e:.4g}")


if __name__ == "__main__":
    main()
