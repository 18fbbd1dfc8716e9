"""Calibrate how clotting-factor carboxylation follows the liver's vitamin K hydroquinone
(coagulation.ant), and the potency of acenocoumarol.

The structure is fixed from the literature: carboxylation is hyperbolic in the relative
hydroquinone (n_carbox_liver = 1, GGCX is a Michaelis-Menten enzyme) and the INR is linear in
the factor deficit (inr_lambda = 1, Hamberg 2010: INR = 1 + 20 (1 - A)). Two constants are
fitted, for the reference adult of coagulation_cases (45 years, 75 kg, 178 cm, CYP2C9 *1/*1,
VKORC1 G/G): k_carbox_liver so that the warfarin dose the IWPC 2009 algorithm predicts for him
(7.1 mg/day) gives an INR of 2.5 after 8 weeks, and ec50_acenocoumarol so that acenocoumarol
2 mg/day (the median stable dose of Montes 2010) gives 2.5. The vitamin K trials (Theuwissen
2013, Schurgers 2004) are then independent checks.
Run:  python scripts/calibrate_coagulation.py
"""
from __future__ import annotations

import sys

import numpy as np
from scipy.optimize import least_squares

from k2d3.analyses import coagulation_cases as cases
from k2d3.model.build import parameters

FREE = ["k_carbox_liver", "ec50_acenocoumarol"]
ACENOCOUMAROL_MEDIAN_MG = 2.0  # Montes R et al. 2010, J Thromb Haemost 8:1012: 13.5-14 mg/week


def residuals(x: np.ndarray) -> np.ndarray:
    p = dict(zip(FREE, np.exp(x)))
    try:
        return _residuals(p)
    except ValueError:  # the target INR is out of reach of the dose bracket here
        return np.full(2, 10.0)


def _residuals(p: dict) -> np.ndarray:
    inr_w = cases.drug_inr(cases.iwpc_daily_dose_mg(cases.ADULT), p)
    inr_a = cases.drug_inr(ACENOCOUMAROL_MEDIAN_MG, p, drug="acenocoumarol")
    out = np.array([inr_w / 2.5 - 1, inr_a / 2.5 - 1])
    print(" ".join(f"{k}={v:.4g}" for k, v in p.items()), "->", np.round(out, 4), file=sys.stderr)
    return out


def main() -> None:
    x0 = np.log([parameters()[n].value for n in FREE])
    fit = least_squares(residuals, x0, diff_step=0.02, max_nfev=60)
    for name, v in zip(FREE, np.exp(fit.x)):
        print(f"{name}: {v:.5g}")


if __name__ == "__main__":
    main()
