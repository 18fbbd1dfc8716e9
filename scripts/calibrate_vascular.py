"""Derive and calibrate the constants of vascular.ant; prints the values for parameters.yaml.

Derived (closed form, from published numbers):
- mgp_nonrenal_fraction: dp-ucMGP is cleared by a non-renal path plus one proportional to
  eGFR; the fraction makes d ln(dp-ucMGP)/d eGFR equal Kremer 2021's 14.0% lower dp-ucMGP
  per 10 mL/min/1.73 m2 at their mean eGFR of 49.
- pwv_age_50, pwv_age_slope, pwv_age_curvature: least-squares quadratic in (age - 50)
  through the normal PWV values by age decade of the Reference Values for Arterial
  Stiffness' Collaboration 2010 (decades taken at their mid-points 25 ... 75 years).
- mgp_ggcx_k: gives the default subject the uncarboxylated MGP fraction
  mgp_uc_fraction_ref (1/2.89, Delanaye 2014) with osteocalcin's Hill coefficient.
Calibrated (simulations):
- mgp_serum_ref: the default subject's dp-ucMGP equals 430 pmol/L (Pivin 2015 mean).
- cac_mgp_gam: 6% less coronary calcium progression on K1 500 ug/day over 3 years
  (Shea 2009, row cac_shea2009, which is therefore a calibration row).
Run:  python scripts/calibrate_vascular.py
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

from k2d3.analyses import vascular_cases as cases
from k2d3.engine import equilibrium
from k2d3.engine.runner import runner
from k2d3.inputs.subject import Subject
from k2d3.model.build import parameters

KREMER_PER_10 = 0.14          # 14.0% lower dp-ucMGP per 10 mL/min/1.73 m2 higher eGFR
KREMER_EGFR = 49.0            # their mean eGFR
RVASC_AGES = np.array([25.0, 35.0, 45.0, 55.0, 65.0, 75.0])
RVASC_NORMAL = np.array([6.2, 6.5, 7.2, 8.3, 10.3, 10.9])   # m/s, normal values by decade
PIVIN_MEAN = 430.0            # pmol/L
SHEA_LESS_PCT = 6.0


def nonrenal_fraction(egfr_ref: float) -> float:
    slope = -np.log(1.0 - KREMER_PER_10) / 10.0
    return brentq(lambda f: (1 - f) / egfr_ref / (f + (1 - f) * KREMER_EGFR / egfr_ref) - slope, 1e-9, 1 - 1e-9)


def main() -> None:
    p = parameters()
    out = {"mgp_nonrenal_fraction": nonrenal_fraction(p["egfr_ref_ml_min"].value)}
    c2, c1, c0 = np.polyfit(RVASC_AGES - 50.0, RVASC_NORMAL, 2)
    out |= {"pwv_age_50": c0, "pwv_age_slope": c1, "pwv_age_curvature": c2}

    rr = runner()
    equilibrium.equilibrate(rr, Subject(), out)
    u0, h = p["mgp_uc_fraction_ref"].value, p["oc_ggcx_hill"].value
    out["mgp_ggcx_k"] = rr["vkh2_ext"] / ((1 - u0) / u0) ** (1 / h)
    equilibrium.equilibrate(rr, Subject(), out)
    out["mgp_serum_ref"] = p["mgp_serum_ref"].value * PIVIN_MEAN / rr["dp_ucmgp_pmol_l"]

    def gap(gam: float) -> float:
        less = cases.shea_cac(out | {"cac_mgp_gam": gam})[2]
        print(f"cac_mgp_gam={gam:.4f} -> {less:.2f}% less progression")
        return less - SHEA_LESS_PCT

    out["cac_mgp_gam"] = brentq(gap, 0.01, 0.5, xtol=1e-3)
    for k, v in out.items():
        print(f"{k}: {v:.5g}")


if __name__ == "__main__":
    main()
