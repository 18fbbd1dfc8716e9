"""Calibrate the constants of metabolic.ant and brain.ant that rows or data set.

- k_brain_mk4_synthesis: the default subject's steady-state brain MK-4 equals
  brain_mk4_ref_pmol_g (Thijssen 1996 median); brain MK-4 is linear in it.
- vd_inflammation_effect: the fasting glucose change with D3 in type 2 diabetes, -5.02
  mg/dL (row glucose_d3_t2d_meta2022, a calibration row).
- vk_insulin_sensitivity_effect: the fasting glucose change with vitamin K without
  diabetes, -0.91 mg/dL (row glucose_k_meta2018, a calibration row).
Each is a one-dimensional root; the three are independent (D3 does not move vitamin K).
Run:  python scripts/calibrate_metabolic.py
"""
from __future__ import annotations

from scipy.optimize import brentq

from k2d3.analyses import metabolic_cases as cases
from k2d3.analyses._trial import run
from k2d3.inputs.subject import Subject
from k2d3.model.build import parameters


def brain_rate() -> float:
    p = parameters()
    probe = 1e-3
    level = run(Subject(), [], 1, {"k_brain_mk4_synthesis": probe}, times=[0]).timecourse["brain_mk4_pmol_g"].iloc[0]
    return probe * p["brain_mk4_ref_pmol_g"].value / level


def main() -> None:
    k_brain = brain_rate()
    vd = brentq(lambda e: cases.d3_t2d_fpg_change({"vd_inflammation_effect": e}) + 5.02, 0.01, 20.0, xtol=1e-4)
    vk = brentq(lambda e: cases.k_fpg_change({"vk_insulin_sensitivity_effect": e}) + 0.91, 1e-4, 2.0, xtol=1e-5)
    print(f"k_brain_mk4_synthesis: {k_brain:.5g}\nvd_inflammation_effect: {vd:.4g}\n"
          f"vk_insulin_sensitivity_effect: {vk:.4g}")


if __name__ == "__main__":
    main()
