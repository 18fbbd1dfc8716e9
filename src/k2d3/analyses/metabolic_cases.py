"""The metabolic rows of calibration.csv as simulations: vitamin D and fasting glucose in
type 2 diabetes, vitamin K and fasting glucose without diabetes, and the %ucOC of Rasekhi
2015 (see ``vitamin_d_cases``). Each meta-analysis pools trials of many doses and lengths;
the regimen simulated for it is a representative one, named in each function."""
from __future__ import annotations

from k2d3.analyses import bone_cases
from k2d3.analyses._trial import run
from k2d3.inputs.subject import Subject

#: A type 2 diabetes trial participant: about 58 years, BMI 31, 25(OH)D 45 nmol/L at entry
#: (assumed: typical of the trials pooled; most enrolled insufficient or deficient people).
T2D = Subject(age=58, sex="female", weight_kg=88, height_cm=168, type2_diabetes=True, baseline_25ohd_nmol_l=45)
#: A non-diabetic older adult as in the vitamin K trials pooled (Yoshida 2008: 60-80 y).
NON_DIABETIC = Subject(age=65, sex="female", weight_kg=72, height_cm=163)

_MARKERS = ("fasting_glucose_mg_dl", "homa_ir", "hba1c_pct", "crp_mg_l")


def _arm_difference(subject: Subject, supplements: list[dict], days: float, params=None) -> dict[str, float]:
    """End of the treated arm minus end of the placebo arm, per marker."""
    treated = run(subject, supplements, days, params, times=[0, days]).timecourse.iloc[-1]
    placebo = run(subject, [], days, params, times=[0, days]).timecourse.iloc[-1]
    return {m: float(treated[m] - placebo[m]) for m in _MARKERS}


def d3_t2d(params=None) -> dict[str, float]:
    """BMC Endocr Disord 2022 (46 RCTs in type 2 diabetes): D3 2000 IU/day for 24 weeks
    (representative of 8-week to 1-year trials), differences from placebo."""
    return _arm_difference(T2D, [{"compound": "D3", "dose": "2000 IU", "every": "1 day"}], 168, params)


def d3_t2d_fpg_change(params=None) -> float:
    return d3_t2d(params)["fasting_glucose_mg_dl"]


def vitamin_k(params=None) -> dict[str, float]:
    """Shahdadian 2018 (5 RCTs, n = 533, mostly without diabetes): K1 500 ug/day for a year
    (as Yoshida 2008, the largest trial pooled), differences from placebo."""
    return _arm_difference(NON_DIABETIC, [{"compound": "K1", "dose": "500 ug", "every": "1 day"}], 365, params)


def k_fpg_change(params=None) -> float:
    return vitamin_k(params)["fasting_glucose_mg_dl"]


def rasekhi_ucoc_pct(params=None) -> tuple[float, float]:
    """Rasekhi 2015: %ucOC at 4 weeks (K1 1000 ug/day arm, placebo arm)."""
    return bone_cases.rasekhi_ucoc_pct(params)
