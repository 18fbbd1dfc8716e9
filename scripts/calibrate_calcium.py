"""Calibrate the intestinal calcium absorption constants of calcium_bone.ant.

ca_abs_vmax, ca_abs_km, ca_abs_passive and ca_endogenous_faecal are fitted jointly so that
(1) true fractional absorption follows Heaney 1989 (calibration.csv row
ca_abs_vs_intake_heaney1989: 0.45 at 200 mg/day, falling as 1/sqrt(intake)), evaluated at
200, 964 and 2000 mg/day, and (2) the subject at the reference state (25(OH)D = ohd25_ref,
964 mg/day) keeps the published steady state of Peterson & Riggs 2010 (calcium 2.35 mmol/L,
PTH 3.85 pmol/L), which the reference cross-check tests require.
Run:  python scripts/calibrate_calcium.py
"""
from __future__ import annotations

import math
import sys

import numpy as np
from scipy.optimize import least_squares

import k2d3
from k2d3.model.build import parameters

FREE = ["ca_abs_vmax", "ca_abs_km", "ca_abs_passive", "ca_endogenous_faecal"]
REFERENCE_INTAKE = 964.08


#: The published steady state is that of relative estrogen 1: a man, or a woman of 41.
REFERENCE = k2d3.Subject(sex="male", age=41, baseline_25ohd_nmol_l=parameters()["ohd25_ref"].value)
#: Heaney 1989 studied adult (mostly premenopausal) women.
WOMEN = k2d3.Subject(sex="female", age=41, baseline_25ohd_nmol_l=parameters()["ohd25_ref"].value)


def steady(params: dict, intake: float, subject: k2d3.Subject = WOMEN):
    subject = subject.model_copy(update={"dietary_calcium_mg_day": intake})
    return k2d3.simulate(subject, k2d3.Regimen(), days=1, times=[0], parameters=params).timecourse.iloc[0]


def residuals(log_values: np.ndarray) -> np.ndarray:
    p = dict(zip(FREE, np.exp(log_values)))
    out = []
    for intake in (200.0, REFERENCE_INTAKE, 2000.0):
        target = 0.45 * math.sqrt(200.0 / intake)
        out.append(steady(p, intake)["ca_absorption_fraction"] / target - 1)
    ref = steady(p, REFERENCE_INTAKE, REFERENCE)
    out.append(10 * (ref["calcium_mmol_l"] / 2.35 - 1))
    out.append(ref["pth_pmol_l"] / 3.85 - 1)
    print(" ".join(f"{k}={v:.4g}" for k, v in p.items()), "->", np.round(out, 4), file=sys.stderr)
    return np.array(out)


def main() -> None:
    x0 = np.log([0.6, 0.5, 0.02, 0.05])
    fit = least_squares(residuals, x0, diff_step=0.02, max_nfev=300)
    for name, v in zip(FREE, np.exp(fit.x)):
        print(f"{name}: {v:.5g}")


if __name__ == "__main__":
    main()
