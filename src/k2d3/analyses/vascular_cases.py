"""The vascular rows of calibration.csv as simulations (see ``vitamin_d_cases``): MGP,
coronary calcium and arterial stiffness over three-year trials."""
from __future__ import annotations

from k2d3.analyses._trial import run
from k2d3.engine.simulate import simulate
from k2d3.inputs.regimen import Regimen
from k2d3.inputs.subject import Subject
from k2d3.model.build import parameters

YEARS_3 = 1095.0
KNAPEN = Subject(age=60, sex="female", weight_kg=70, height_cm=165)  # Knapen 2015: 55-65 y
# Shea 2009: 60-80 y, mean about 68; 59% women (Shea 2011, J Nutr 141:1529, same trial)
SHEA_AGE, SHEA_MEN = 68.0, 0.41
BRAAM = Subject(age=55, sex="female", weight_kg=70, height_cm=165)  # Braam 2004: 50-60 y
MK7_180 = {"compound": "MK-7", "dose": "180 ug", "every": "1 day"}
K1_500 = {"compound": "K1", "dose": "500 ug", "every": "1 day"}


def _end(subject: Subject, supplements: list[dict], days: float, params=None):
    return run(subject, supplements, days, params, times=[0, days]).timecourse


def knapen_dp_ucmgp_pct(params=None) -> float:
    """Knapen 2015: healthy postmenopausal women, MK-7 180 ug/day for 3 years; dp-ucMGP at
    the end, % vs placebo (both arms start from the same day-0 value)."""
    mk7 = _end(KNAPEN, [MK7_180], YEARS_3, params)["dp_ucmgp_pmol_l"].iloc[-1]
    placebo = _end(KNAPEN, [], YEARS_3, params)["dp_ucmgp_pmol_l"].iloc[-1]
    return float(100.0 * (mk7 / placebo - 1.0))


def _cac_progression(sex: str, supplements: list[dict], params=None) -> float:
    tc = _end(Subject(age=SHEA_AGE, sex=sex), supplements, YEARS_3, params)["cac_agatston"]
    return float(tc.iloc[-1] - tc.iloc[0])


def shea_cac(params=None) -> tuple[float, float, float]:
    """Shea 2009: K1 500 ug/day (with a multivitamin; the control arm took the multivitamin
    alone, left out of both arms here) for 3 years in adults of 60-80 years. Returns the
    mean 3-year CAC progression (Agatston units) of the K1 and control arms, each from the
    typical day-0 score of a 68-year-old man and woman weighted 41:59, and the % less
    progression on K1, 100 * (1 - K1/control), the quantity of the CAC > 10 subgroup
    (growth is proportional to the score, so the % is the same at any baseline above 0)."""
    arms = {}
    for name, supp in (("k1", [K1_500]), ("control", [])):
        arms[name] = (SHEA_MEN * _cac_progression("male", supp, params)
                      + (1 - SHEA_MEN) * _cac_progression("female", supp, params))
    return arms["k1"], arms["control"], 100.0 * (1.0 - arms["k1"] / arms["control"])


def shea_accept(v: tuple[float, float, float]) -> bool:
    """Direction, and every number within 2x of the published one (27, 37 AU; 6% less)."""
    k1, control, less = v
    return k1 < control and 27 / 2 <= k1 <= 27 * 2 and 37 / 2 <= control <= 37 * 2 and 3 <= less <= 12


BRAAM_MDK = [{"compound": "K1", "dose": "1 mg", "every": "1 day"},
             {"compound": "D3", "dose": "8 ug", "every": "1 day"},
             {"compound": "calcium", "dose": "500 mg", "every": "1 day"}]


def braam_stiffness(params=None) -> tuple[float, float]:
    """Braam 2004: postmenopausal women, K1 1 mg + vitamin D 8 ug + minerals (calcium 500 mg;
    magnesium and zinc are not modelled) vs placebo for 3 years. Returns the % difference at
    3 years of carotid distensibility, taken as 1/PWV^2 (Bramwell-Hill), and of pulse
    pressure (sbp minus the fixed diastolic pressure), treated vs placebo."""
    treated = _end(BRAAM, BRAAM_MDK, YEARS_3, params).iloc[-1]
    placebo = _end(BRAAM, [], YEARS_3, params).iloc[-1]
    distensibility = 100.0 * ((placebo["pwv_m_s"] / treated["pwv_m_s"]) ** 2 - 1.0)
    dbp = (params or {}).get("dbp_ref_mmhg", parameters()["dbp_ref_mmhg"].value)
    pulse_pressure = 100.0 * ((treated["sbp_mmhg"] - dbp) / (placebo["sbp_mmhg"] - dbp) - 1.0)
    return float(distensibility), float(pulse_pressure)


def dalmeijer_dp_ucmgp_pct(params=None) -> tuple[float, float]:
    """Dalmeijer 2012: adults of 40-65 years, MK-7 180 or 360 ug/day for 12 weeks; % change
    of dp-ucMGP in each arm (placebo unchanged in the trial and in the model)."""
    out = []
    for ug in (180, 360):
        tc = _end(Subject(age=53), [{"compound": "MK-7", "dose": f"{ug} ug", "every": "1 day"}], 84, params)
        out.append(float(100.0 * (tc["dp_ucmgp_pmol_l"].iloc[-1] / tc["dp_ucmgp_pmol_l"].iloc[0] - 1.0)))
    return out[0], out[1]


def vka_dp_ucmgp_fold(params=None) -> float:
    """dp-ucMGP after 6 months of warfarin titrated to INR 2.5, relative to day 0 (Delanaye
    2014 compared haemodialysis patients on and off a vitamin K antagonist)."""
    reg = Regimen.from_dict({"medications": [{"drug": "warfarin", "target_inr": 2.5}]})
    tc = simulate(Subject(age=65, sex="male"), reg, days=180, times=[0, 180], parameters=params).timecourse
    return float(tc["dp_ucmgp_pmol_l"].iloc[-1] / tc["dp_ucmgp_pmol_l"].iloc[0])
