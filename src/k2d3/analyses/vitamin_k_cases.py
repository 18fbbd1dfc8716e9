"""The vitamin K rows of calibration.csv as simulations (see ``vitamin_d_cases``)."""
from __future__ import annotations

import numpy as np

from k2d3.analyses._trial import excess, hours, run, terminal_half_life_hours, tmax_hours
from k2d3.engine.simulate import simulate
from k2d3.inputs.regimen import Regimen
from k2d3.inputs.subject import Subject

HEALTHY = Subject(age=35, weight_kg=70)


def _single(compound: str, dose: str, days: float, params, step_h: float = 0.25, **extra):
    return run(HEALTHY, [{"compound": compound, "dose": dose, "on_days": [0], **extra}], days, params,
               times=hours(days, step_h))


def schurgers_tmax_hours(params=None) -> tuple[float, float]:
    """Schurgers 2007: 1 mg K1 and 1 mg MK-7 once; hours to the serum peak of each."""
    k1 = tmax_hours(_single("K1", "1 mg", 2, params), "k1_nmol_l")
    mk7 = tmax_hours(_single("MK-7", "1 mg", 2, params), "mk7_nmol_l")
    return k1, mk7


def schurgers_accumulation_fold(params=None) -> float:
    """Schurgers 2007: equimolar daily K1 and MK-7 (0.22 umol/day) for 6 weeks; ratio of the
    rise in mean serum MK-7 to the rise in mean serum K1 over the last day."""
    rises = {}
    for compound, obs in (("K1", "k1_nmol_l"), ("MK-7", "mk7_nmol_l")):
        ug = 0.22 * {"K1": 450.7, "MK-7": 649.0}[compound]
        r = run(HEALTHY, [{"compound": compound, "dose": f"{ug} ug", "every": "1 day"}], 42, params,
                times=np.concatenate([[0.0], np.arange(41.0, 42.0 + 1e-9, 1 / 24)]))
        rises[compound] = float(np.mean(excess(r, obs)[1:]))
    return rises["MK-7"] / rises["K1"]


def mk7_half_life_hours(params=None) -> float:
    """Terminal half-life of serum MK-7 after one dose (48-96 h after intake)."""
    return terminal_half_life_hours(_single("MK-7", "1 mg", 5, params, step_h=1), "mk7_nmol_l", 2, 4)


def sato_mk4_peak_nmol_l(params=None) -> float:
    """Sato 2012: MK-4 420 ug once with breakfast; peak rise of serum MK-4 over 72 h (nmol/L)."""
    return float(excess(_single("MK-4", "420 ug", 3, params, step_h=0.1), "mk4_nmol_l").max())


def sato_mk7_profile(params=None) -> tuple[float, float]:
    """Sato 2012: MK-7 420 ug once; Tmax (h) and the rise at 48 h as a fraction of the peak."""
    r = _single("MK-7", "420 ug", 3, params)
    e = excess(r, "mk7_nmol_l")
    at48 = e[np.argmin(np.abs(r.timecourse.index.to_numpy() - 2.0))]
    return tmax_hours(r, "mk7_nmol_l"), float(at48 / e.max())


def novotny_k1_half_life_hours(params=None) -> float:
    """Novotny 2010: 156 nmol K1 in kale with 30 g oil; plasma half-time of the K1 excess,
    from the decline 12-36 h after the meal."""
    r = run(HEALTHY, [{"compound": "K1", "dose": f"{156 * 450.7 / 1000} ug", "on_days": [0],
                       "with_meal_fat_g": 30}], 3, params, times=hours(3, 0.5))
    return terminal_half_life_hours(r, "k1_nmol_l", 0.5, 1.5)


# Garber AK et al. 1999, J Nutr 129:1201: adults aged 22-30 took 500 ug K1 as a tablet, or
# 495 ug as 150 g raw spinach, with a 402 kcal test meal (27% of energy from fat, 12.1 g).
GARBER = Subject(age=26, weight_kg=70)
GARBER_MEAL_FAT_G = 402 * 0.27 / 9


def _auc_0_9h(regimen: dict, params) -> float:
    r = simulate(GARBER, Regimen.from_dict(regimen), days=1, times=hours(1, 0.25), parameters=params)
    h = r.timecourse.index.to_numpy() * 24.0
    sel = h <= 9.0 + 1e-9
    return float(np.trapezoid(excess(r, "k1_nmol_l")[sel], h[sel]))


def garber_tablet_auc(params=None) -> float:
    """Garber 1999: 9-h AUC of the plasma K1 rise after a 500 ug tablet with the meal (nmol.h/L)."""
    return _auc_0_9h({"supplements": [{"compound": "K1", "dose": "500 ug", "on_days": [0],
                                       "with_meal_fat_g": GARBER_MEAL_FAT_G}]}, params)


def garber_spinach_auc(params=None, grams: float = 150.0) -> float:
    """Garber 1999: the same AUC after raw spinach (150 g: 495 ug K1 in the study) with the meal."""
    return _auc_0_9h({"diet": [{"food": "spinach_raw", "grams": grams, "on_days": [0],
                                "with_meal_fat_g": GARBER_MEAL_FAT_G}]}, params)
