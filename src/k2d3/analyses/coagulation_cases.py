"""The coagulation rows of calibration.csv as simulations (see ``vitamin_d_cases``)."""
from __future__ import annotations

from scipy.optimize import brentq

from k2d3.engine.simulate import simulate
from k2d3.inputs.regimen import Regimen
from k2d3.inputs.subject import Subject

ADULT = Subject(age=45, sex="male", weight_kg=75, height_cm=178)  # healthy volunteers (approximate)
RUN_IN = 56.0  # days of anticoagulant before the vitamin K arm starts
TRIAL_DRUG = "acenocoumarol"  # Schurgers 2004 and Theuwissen 2013 both used acenocoumarol


def _drug(mg: float, drug: str = "warfarin") -> dict:
    return {"drug": drug, "dose": f"{mg} mg", "every": "1 day"}


def drug_inr(mg: float, params=None, days: float = RUN_IN, drug: str = "warfarin", subject: Subject = ADULT) -> float:
    """INR after ``days`` of a fixed daily dose of ``drug`` (trough)."""
    r = simulate(subject, Regimen.from_dict({"medications": [_drug(mg, drug)]}), days=days, times=[0, days],
                 parameters=params)
    return float(r.timecourse["inr"].iloc[-1])


def warfarin_inr(mg: float, params=None, days: float = RUN_IN) -> float:
    """INR after ``days`` of a fixed daily warfarin dose (trough)."""
    return drug_inr(mg, params, days)


def dose_for_inr(target: float, params=None, drug: str = "warfarin", subject: Subject = ADULT) -> float:
    """The daily dose of ``drug`` that gives ``target`` after the run-in (as a clinic titrates)."""
    return brentq(lambda mg: drug_inr(mg, params, drug=drug, subject=subject) - target, 0.01, 40.0, xtol=1e-4)


def _vitamin_k_change_pct(supplement: dict, weeks: float, params=None, target: float = 2.0,
                          drug: str = TRIAL_DRUG) -> float:
    mg = dose_for_inr(target, params, drug)
    days = RUN_IN + 7 * weeks
    reg = Regimen.from_dict({"medications": [_drug(mg, drug)],
                             "supplements": [{**supplement, "every": "1 day", "start_day": RUN_IN}]})
    r = simulate(ADULT, reg, days=days, times=[RUN_IN, days], parameters=params)
    inr = r.timecourse["inr"].to_numpy()
    return float(100 * (inr[-1] / inr[0] - 1))


def theuwissen_inr_change_pct(ug: float, params=None) -> float:
    """Theuwissen 2013: MK-7 ``ug``/day for 6 weeks on stable acenocoumarol at INR 2.0."""
    return _vitamin_k_change_pct({"compound": "MK-7", "dose": f"{ug} ug"}, 6, params)


def theuwissen_dose_response(params=None) -> tuple[float, float, float]:
    return tuple(theuwissen_inr_change_pct(ug, params) for ug in (10.0, 20.0, 45.0))


def schurgers_k1(params=None) -> tuple[float, float]:
    """Schurgers 2004: K1 100 and 150 ug/day for a week each on stable acenocoumarol;
    % INR change."""
    return tuple(_vitamin_k_change_pct({"compound": "K1", "dose": f"{ug} ug"}, 1, params) for ug in (100.0, 150.0))


# IWPC pharmacogenetic dosing algorithm (International Warfarin Pharmacogenetics Consortium
# 2009, N Engl J Med 360:753, PMID 19228618): sqrt(weekly dose, mg) = the sum below. Published
# coefficients, used as an independent reference for how genotype and age change the dose need.
IWPC = {"intercept": 5.6044, "age_decades": -0.2614, "height_cm": 0.0087, "weight_kg": 0.0128,
        "GA": -0.8677, "AA": -1.6974, "*1/*2": -0.5211, "*1/*3": -0.9357, "*2/*2": -1.0616,
        "*2/*3": -1.9206, "*3/*3": -2.3312}


def iwpc_daily_dose_mg(subject: Subject) -> float:
    """The IWPC algorithm's stable warfarin dose for a white patient without interacting drugs."""
    root = (IWPC["intercept"] + IWPC["age_decades"] * (subject.age // 10) + IWPC["height_cm"] * subject.height_cm
            + IWPC["weight_kg"] * subject.weight_kg + IWPC.get(subject.vkorc1, 0.0) + IWPC.get(subject.cyp2c9, 0.0))
    return root ** 2 / 7.0


def genotype_dose_ratio(cyp2c9: str, vkorc1: str, params=None) -> tuple[float, float]:
    """Model and IWPC: the stable dose (INR 2.5) of a ``cyp2c9``/``vkorc1`` carrier relative to a
    *1/*1 G/G subject of the same age and size."""
    other = ADULT.model_copy(update={"cyp2c9": cyp2c9, "vkorc1": vkorc1})
    model = dose_for_inr(2.5, params, subject=other) / dose_for_inr(2.5, params)
    return model, iwpc_daily_dose_mg(other) / iwpc_daily_dose_mg(ADULT)


def hamberg_values(_params=None) -> dict[str, float]:
    """The model's Hamberg 2010 values: typical PK/PD and the genotype factors the engine sets."""
    from k2d3.engine.equilibrium import genotype_factors
    from k2d3.model.build import parameters

    p = {n: parameters()[n].value for n in ("v_warfarin", "ke_warfarin", "gamma_warfarin", "inr_max")}
    p["ec50_gg"] = 2 * parameters()["ec50_vkorc1_g"].value
    for g in ("*2/*2", "*3/*3"):
        p[g] = genotype_factors(ADULT.model_copy(update={"cyp2c9": g}))["cyp2c9_ke_factor"]
    p["AA"] = genotype_factors(ADULT.model_copy(update={"vkorc1": "AA"}))["vkorc1_ec50_factor"]
    return p


def hamberg_matches(v: dict[str, float]) -> bool:
    """Hamberg 2010's values; the row's '*2/*2 x0.495, *3/*3 x0.757, AA x0.532' are 1 - factor."""
    return (v["v_warfarin"] == 14.3 and v["ke_warfarin"] == 0.0243 and v["gamma_warfarin"] == 1.15
            and v["inr_max"] == 20 and abs(v["ec50_gg"] - 4.1) < 1e-9 and abs(1 - v["*2/*2"] - 0.495) < 0.002
            and abs(1 - v["*3/*3"] - 0.757) < 0.002 and abs(1 - v["AA"] - 0.532) < 0.002)


def wajima_values(_params=None) -> dict[str, float]:
    from k2d3.model.build import parameters

    return {n: parameters()[n].value for n in ("k_vk_reduction", "k_vk_carboxylation", "k_vko_reduction")}
