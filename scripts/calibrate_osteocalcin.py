"""Calibrate the osteocalcin carboxylation constants of calcium_bone.ant.

oc_ggcx_k, oc_ggcx_hill, oc_bone_binding and f_liver_mk4 (the liver's share of MK-4, for
which no human data exist) are fitted jointly to: the placebo %ucOC of
Rasekhi 2015 (43.8%), the ucOC fall with MK-7 180 ug/day over 3 years of Knapen 2013
(-50%), and the ucOC and total osteocalcin falls with MK-4 45 mg/day over a year of Jiang
2014 (-82.3%, -38.7%). These rows are calibration rows in docs/validation.md; the K1 arm of
Rasekhi 2015 stays an independent check. oc_serum_ref then scales total osteocalcin to
22 ng/mL in the Knapen population (assumed, see parameters.yaml).
Run:  python scripts/calibrate_osteocalcin.py
"""
from __future__ import annotations

import sys

import numpy as np
from scipy.optimize import least_squares

from k2d3.analyses import bone_cases as cases

FREE = ["oc_ggcx_k", "oc_ggcx_hill", "oc_bone_binding", "f_liver_mk4"]


def _logistic(v: float) -> float:
    return float(1 / (1 + np.exp(-v)))


def residuals(x: np.ndarray) -> np.ndarray:
    p = {"oc_ggcx_k": float(np.exp(x[0])), "oc_ggcx_hill": float(np.exp(x[1])),
         "oc_bone_binding": _logistic(x[2]), "f_liver_mk4": _logistic(x[3])}
    placebo_pct = cases.rasekhi_ucoc_pct(p)[1]
    knapen = cases.knapen_ucoc_pct(p)[0]
    jiang_uc, jiang_total, _ = cases.jiang_mk4(p)
    # total osteocalcin is not a banded row: it counts half
    out = np.array([placebo_pct / 43.8 - 1, knapen / -50.0 - 1, jiang_uc / -82.3 - 1, 0.5 * (jiang_total / -38.7 - 1)])
    print(" ".join(f"{k}={v:.4g}" for k, v in p.items()), "->", np.round(out, 4), file=sys.stderr)
    return out


def main() -> None:
    x0 = np.array([np.log(0.0018), np.log(0.43), 3.0, 0.0])
    fit = least_squares(residuals, x0, diff_step=0.02, max_nfev=200)
    x = fit.x
    print(f"oc_ggcx_k: {np.exp(x[0]):.5g}\noc_ggcx_hill: {np.exp(x[1]):.5g}\n"
          f"oc_bone_binding: {_logistic(x[2]):.5g}\nf_liver_mk4: {_logistic(x[3]):.5g}")


if __name__ == "__main__":
    main()
