"""The vitamin D rows of calibration.csv as simulations: each function takes optional
parameter overrides and returns the simulated counterpart of the published quantity.

Trial populations are described by their published means; where a paper's abstract does
not give a mean (weight, height), the value used is marked "approximate".
"""
from __future__ import annotations

import numpy as np

from k2d3.analyses._trial import excess, hours, run, tmax_hours, terminal_half_life_hours
from k2d3.inputs.subject import Subject
from k2d3.inputs.units import NG_ML_25OHD_IN_NMOL_L

D3_DAILY = "1 day"


def heaney_slope(params=None) -> float:
    """Heaney 2003: healthy men in winter, baseline 70.3 nmol/L, D3 0/25/125/250 ug/day for
    20 weeks; slope of the 25(OH)D rise on dose (nmol/L per ug/day)."""
    men = Subject(sex="male", age=39, weight_kg=84, height_cm=178,  # approximate
                  baseline_25ohd_nmol_l=70.3)
    doses = [0, 25, 125, 250]
    rises = []
    for d in doses:
        supp = [{"compound": "D3", "dose": f"{d} ug", "every": D3_DAILY}] if d else []
        r = run(men, supp, 140, params, times=[0, 140])
        rises.append(excess(r, "ohd25_nmol_l")[-1])
    return float(np.polyfit(doses, rises, 1)[0])


def ekwaru_levels(params=None, weight_kg: float = 65.0, height_cm: float = 170.0,
                  doses_iu=(0, 1000, 15000, 20000)) -> list[float]:
    """Steady-state 25(OH)D (after 2 years) at the given daily D3 intakes, for an adult
    without a measured baseline (the default background input)."""
    adult = Subject(age=50, weight_kg=weight_kg, height_cm=height_cm)
    out = []
    for iu in doses_iu:
        supp = [{"compound": "D3", "dose": f"{iu} IU", "every": D3_DAILY}] if iu else []
        out.append(float(run(adult, supp, 730, params, times=[0, 730]).timecourse["ohd25_nmol_l"].iloc[-1]))
    return out


def default_serum_d3(params=None) -> float:
    """Serum D3 (nmol/L) of a 70 kg adult at the default background input."""
    r = run(Subject(age=50, weight_kg=70), [], 1, params, times=[0, 1])
    return float(r.timecourse["d3_nmol_l"].iloc[0])


def ekwaru_increments(params=None) -> tuple[float, float]:
    """Ekwaru 2014: increment per 1000 IU/day at 0-1000 IU/day and at 15000-20000 IU/day."""
    c0, c1, c15, c20 = ekwaru_levels(params)
    return c1 - c0, (c20 - c15) / 5.0


def ekwaru_bmi_differences(params=None) -> tuple[float, float]:
    """Ekwaru 2014: 25(OH)D of overweight (BMI 27.5) and obese (BMI 35) minus normal-weight
    (BMI 22) adults at the same intake (no supplement), nmol/L."""
    h = 1.70
    normal, over, obese = (ekwaru_levels(params, weight_kg=b * h * h, doses_iu=(0,))[0] for b in (22, 27.5, 35))
    return over - normal, obese - normal


def drincic_iu_per_kg(params=None) -> float:
    """Drincic 2013: obese adults, D3 5000 IU/day for 21 weeks; IU/day per kg of body weight
    needed per ng/mL rise in 25(OH)D. Subject approximate (BMI about 40, baseline 50 nmol/L)."""
    weight = 115.0
    obese = Subject(age=45, weight_kg=weight, height_cm=170, baseline_25ohd_nmol_l=50)
    r = run(obese, [{"compound": "D3", "dose": "5000 IU", "every": D3_DAILY}], 147, params, times=[0, 147])
    rise_ng_ml = excess(r, "ohd25_nmol_l")[-1] / NG_ML_25OHD_IN_NMOL_L
    return 5000.0 / weight / rise_ng_ml


def d2d_level_ng_ml(params=None) -> float:
    """D2d 2019: adults with prediabetes (age 60, BMI 32.1, baseline 27.7 ng/mL), D3 4000 IU/day
    for 24 months; 25(OH)D on treatment (ng/mL)."""
    subject = Subject(age=60, sex="male", weight_kg=32.1 * 1.72 ** 2, height_cm=172,  # height approximate
                      baseline_25ohd_nmol_l=27.7 * NG_ML_25OHD_IN_NMOL_L)
    r = run(subject, [{"compound": "D3", "dose": "4000 IU", "every": D3_DAILY}], 730, params, times=[0, 730])
    return float(r.timecourse["ohd25_nmol_l"].iloc[-1] / NG_ML_25OHD_IN_NMOL_L)


def _bolus(params, iu: float, baseline_ng_ml: float, days: float, sex: str = "female"):
    subject = Subject(age=40, sex=sex, weight_kg=75 if sex == "male" else 68,  # approximate
                      baseline_25ohd_nmol_l=baseline_ng_ml * NG_ML_25OHD_IN_NMOL_L)
    return run(subject, [{"compound": "D3", "dose": f"{iu} IU", "on_days": [0]}], days, params,
               times=np.arange(0, days + 0.5, 0.5))


def ilahi_peak_ng_ml(params=None) -> float:
    """Ilahi 2008: 100000 IU once, baseline 27.1 ng/mL; peak 25(OH)D over 4 months (ng/mL)."""
    r = _bolus(params, 100000, 27.1, 120)
    return float(r.timecourse["ohd25_nmol_l"].max() / NG_ML_25OHD_IN_NMOL_L)


def armas_tmax_days(params=None) -> float:
    """Armas 2004: healthy men, 50000 IU once; days to the 25(OH)D peak."""
    r = _bolus(params, 50000, 25.0, 60, sex="male")  # baseline approximate
    return tmax_hours(r, "ohd25_nmol_l") / 24.0


def jones_half_life_days(params=None) -> float:
    """Jones 2014: 40 nmol deuterated 25(OH)D3 tracer; terminal half-life of the excess (days)."""
    r = run(Subject(sex="male", age=30, weight_kg=75), [{"compound": "calcifediol", "dose": f"{40 * 400.64 / 1000} ug",
                                                          "on_days": [0]}], 60, params, times=np.arange(0, 61))
    return terminal_half_life_hours(r, "ohd25_nmol_l", 5, 60) / 24.0


def fat_meal_ratio_pct(params=None) -> float:
    """Dawson-Hughes 2015: 50000 IU D3 with a 30%-fat-energy meal (about 20 g fat, assumed)
    vs a fat-free meal; relative difference of peak plasma D3 (%)."""
    subject = Subject(age=62, weight_kg=72)
    peaks = []
    for fat in (20.0, 0.0):
        r = run(subject, [{"compound": "D3", "dose": "50000 IU", "on_days": [0], "with_meal_fat_g": fat}],
                2, params, times=hours(2, 1))
        peaks.append(excess(r, "d3_nmol_l").max())
    return 100.0 * (peaks[0] / peaks[1] - 1.0)


def crohn_absorption_pct(params=None) -> float:
    """Farraye 2011: 50000 IU D2 once; serum vitamin D at 12 h in Crohn's disease vs controls (%)."""
    values = []
    for condition in ("crohn", "none"):
        r = run(Subject(age=40, malabsorption=condition), [{"compound": "D2", "dose": "50000 IU", "on_days": [0]}],
                1, params, times=[0, 0.5])
        values.append(excess(r, "d3_nmol_l")[-1])
    return 100.0 * (values[0] / values[1] - 1.0)


def aloia_slope(params=None) -> float:
    """Aloia 2008: adults given D3 (mean 86 ug/day) for 9 weeks from a winter baseline
    (about 50 nmol/L, approximate); rise in 25(OH)D per ug/day."""
    subject = Subject(age=55, weight_kg=75, baseline_25ohd_nmol_l=50)
    r = run(subject, [{"compound": "D3", "dose": "86 ug", "every": D3_DAILY}], 63, params, times=[0, 63])
    return float(excess(r, "ohd25_nmol_l")[-1] / 86.0)


def roth_bolus_rise(params=None) -> float:
    """Roth 2012: 34 non-pregnant women in Dhaka, 70000 IU once, baseline 54 nmol/L; peak rise
    of 25(OH)D (nmol/L). Age and body size approximate (25 y, 50 kg, 152 cm)."""
    subject = Subject(age=25, weight_kg=50, height_cm=152, baseline_25ohd_nmol_l=54, skin_type=4)
    r = run(subject, [{"compound": "D3", "dose": "70000 IU", "on_days": [0]}], 60, params,
            times=np.arange(0, 60.5, 0.5))
    return float(excess(r, "ohd25_nmol_l").max())
