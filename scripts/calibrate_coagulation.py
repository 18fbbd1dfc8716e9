"""Calibrate how clotting-factor carboxylation and the INR follow the liver's vitamin K
hydroquinone (coagulation.ant).

k_carbox_liver, n_carbox_liver and inr_lambda are fitted so that (1) warfarin 5 mg/day, a
typical maintenance dose, gives an INR of 2.5 after 8 weeks, and (2) MK-7 45 ug/day added
for 6 weeks to stable anticoagulation at INR 2.0 lowers the INR by 40% (Theuwissen 2013,
calibration.csv row inr_theuwissen2013; there with acenocoumarol, here with warfarin).
Run:  python scripts/calibrate_coagulation.py
"""
from __future__ import annotations

import sys

import numpy as np
from scipy.optimize import least_squares

from k2d3.analyses import coagulation_cases as cases

FREE = ["k_carbox_liver", "n_carbox_liver", "inr_lambda"]


def residuals(x: np.ndarray) -> np.ndarray:
    p = dict(zip(FREE, np.exp(x)))
    inr5 = cases.warfarin_inr(5.0, p)
    fall = cases.theuwissen_inr_change_pct(45.0, p)
    out = np.array([inr5 / 2.5 - 1, fall / -40.0 - 1])
    print(" ".join(f"{k}={v:.4g}" for k, v in p.items()), "->", np.round(out, 4), file=sys.stderr)
    return out


def main() -> None:
    fit = least_squares(residuals, np.log([0.5, 2.0, 3.6]), diff_step=0.02, max_nfev=100)
    for name, v in zip(FREE, np.exp(fit.x)):
        print(f"{name}: {v:.5g}")


if __name__ == "__main__":
    main()
