"""Day 0 as the subject's own steady state.

libroadrunner's steady-state solver refuses models with events, and this model has none:
doses are applied by the engine between segments. A long undosed run reaches the same state
far faster than the Newton solver (see ``_steady``). A measured 25(OH)D sets the background
D3 input (diet and sun not described in the regimen) so that the steady state is at that
value; the input is found by a bracketing root search because the steady state is a
monotone, non-linear function of it.
"""
from __future__ import annotations

import math

from scipy.optimize import brentq

from k2d3.errors import InputError
from k2d3.inputs import compounds
from k2d3.inputs.subject import Subject
from k2d3.engine.runner import flush_denormals
from k2d3.model.build import parameters

_MALABSORPTION = {"none": None, "crohn": "malabsorption_crohn",
                  "coeliac": "malabsorption_coeliac", "bariatric": "malabsorption_bariatric"}


def _ug_day_to_nmol_h(ug_day: float, compound: str) -> float:
    return compounds.compounds()[compound].nmol(ug_day) / 24.0


def genotype_factors(subject: Subject) -> dict[str, float]:
    """Warfarin pharmacogenetics as in Hamberg 2010: clearance and EC50 are each the sum of
    the two alleles' contributions, here relative to the *1/*1 and G/G values of the table."""
    p = parameters()
    cl = {"*1": p["cl_warfarin_cyp2c9_1"].value, "*2": p["cl_warfarin_cyp2c9_2"].value,
          "*3": p["cl_warfarin_cyp2c9_3"].value}
    ec50 = {"G": p["ec50_vkorc1_g"].value, "A": p["ec50_vkorc1_a"].value}
    a, b = subject.cyp2c9.split("/")
    return {"cyp2c9_ke_factor": (cl[a] + cl[b]) / (2 * cl["*1"]),
            "vkorc1_ec50_factor": (ec50[subject.vkorc1[0]] + ec50[subject.vkorc1[1]]) / (2 * ec50["G"])}


def subject_parameters(subject: Subject) -> dict[str, float]:
    """Model parameters that describe this subject (everything else keeps its table value)."""
    p = parameters()
    key = _MALABSORPTION[subject.malabsorption]
    mal = 1.0 if key is None else p[key].value
    return {
        "weight_kg": subject.weight_kg,
        "height_cm": subject.height_cm,
        "age_years": subject.age,
        "sex_male": 1.0 if subject.sex == "male" else 0.0,
        "body_fat_pct": subject.body_fat_pct or 0.0,
        "malabsorption_factor_d": mal,
        "malabsorption_factor_k": mal,
        "k1_diet_input": _ug_day_to_nmol_h(subject.dietary_k1_ug_day, "K1") * p["f_abs_k1_food"].value * mal,
        "mkn_diet_input": _ug_day_to_nmol_h(subject.dietary_menaquinones_ug_day, "MK-9") * p["f_abs_mk9"].value * mal,
        "OralCa": _ug_day_to_nmol_h(1000.0 * subject.dietary_calcium_mg_day, "calcium") * 1e-6,  # mmol/h
        "menopause_age": subject.menopause_age if subject.menopause_age is not None else p["menopause_age"].value,
        # metabolic.ant: glycaemic status and measured values (0 = not measured)
        "glycaemic_status": 2.0 if subject.type2_diabetes else 1.0 if subject.prediabetes else 0.0,
        "fpg_measured_mg_dl": subject.fasting_glucose_mg_dl or 0.0,
        "hba1c_measured_pct": subject.hba1c_pct or 0.0,
        "egfr_ml_min": subject.egfr_ml_min,
        **genotype_factors(subject),
    }


#: Length of the undosed run that settles the state: a hundred times the slowest time
#: constant of the model (the adipose D3 store of a very obese subject, about 60 days).
SETTLE_HOURS = 24.0 * 365.25 * 20
SETTLE_STEPS = (24.0, 24.0 * 30, 24.0 * 365.25, SETTLE_HOURS)


#: Stores that integrate a balance and have no steady state of their own: bone mineral
#: drains for as long as calcium balance is negative. After settling, each is set to its
#: day-0 value (the parameter named here), so that a run reports the change from day 0.
CUMULATIVE_STORES = {
    "ca_bone_exchangeable": "Q0",
    "ca_bone_nonexchangeable": "QboneInit",
    "bmd_lumbar_spine": 1.0,
    "bmd_femoral_neck": 1.0,
    # clotting factor activities are relative to day 0 (set with vkh2_liver_day0 below)
    "factor_ii": 1.0, "factor_vii": 1.0, "factor_ix": 1.0, "factor_x": 1.0,
    # the metabolic indices are relative to the day-0 references below, so HbA1c starts at
    # the value its day-0 mean glucose sustains
    "hba1c": "hba1c_target",
    # coronary calcium only grows: day 0 is the typical (or given) score for age and sex
    "cac": "cac_day0",
}

#: Day-0 references of the "% change from baseline" observables: parameter <- model value.
DAY0_REFERENCES = {
    "ob_day0": "Osteoblast",
    "oc_day0": "Osteoclast",
    "ucoc_fraction_day0": "ucoc_fraction",
    "vkh2_liver_day0": "vkh2_liver_all",
    "ohd25_day0": "ohd25_nmol_l",
    "vkh2_ext_day0": "vkh2_ext",
    "calcitriol_day0": "C8",
}


def _check_glycaemic_baseline(rr, subject: Subject) -> None:
    """HOMA1 (metabolic.ant) holds only for fasting glucose above its 63 mg/dL offset."""
    fpg, offset = rr["fpg_base"], rr["homa_b_glucose_offset"]
    if fpg <= offset:
        if subject.fasting_glucose_mg_dl:
            field, given = "fasting_glucose_mg_dl", ""
        elif subject.hba1c_pct:
            field, given = "hba1c_pct", f" (the fasting glucose that HbA1c {subject.hba1c_pct:g}% implies)"
        else:  # neither measured: parameter overrides moved the typical fasting glucose
            field, given = "parameters", " (the fasting glucose that the parameter values give)"
        raise InputError(field, f"{fpg:.0f} mg/dL{given} is at or below {offset:.0f} mg/dL, where the "
                                f"glucose model (HOMA1) no longer holds")


def _reset_stores(rr) -> None:
    # references first: a store may start at a model value that uses them (HbA1c)
    for parameter, source in DAY0_REFERENCES.items():
        rr[parameter] = rr[source]
    for species, value in CUMULATIVE_STORES.items():
        rr[species] = value if isinstance(value, float) else rr[value]


def _steady(rr) -> None:
    """Settle to steady state by a long undosed run: libroadrunner's Newton solver with
    moiety analysis takes ~100 ms here, the run a few ms, to the same 1e-10. The run is cut
    into growing pieces with the denormal flush between them (emptying pools otherwise
    stall CVODE's corrector, as they do between doses)."""
    rr["age_clock"] = 0.0  # the subject does not age while day 0 is settled
    start = 0.0
    for end in SETTLE_STEPS:
        flush_denormals(rr)
        rr.simulate(start, end, 2, selections=["time"])
        start = end
    rr.model.setTime(0.0)  # day 0: the clock of the run starts here
    rr["age_clock"] = 1.0
    _reset_stores(rr)


def equilibrate(rr, subject: Subject, overrides: dict[str, float] | None = None) -> dict[str, float]:
    """Set ``rr`` to the subject's steady state; returns the parameters that were set.

    ``overrides`` replace table values (unknown names are an error)."""
    rr.resetAll()
    values = subject_parameters(subject)
    table = parameters()
    for name, v in (overrides or {}).items():
        if name not in table:
            raise InputError("parameters", f"unknown model parameter {name!r}")
        values[name] = float(v)
    for name, v in values.items():
        rr[name] = v
    _check_glycaemic_baseline(rr, subject)
    target = subject.baseline_25ohd_nmol_l
    if target is None:
        _steady(rr)
        return values

    def gap(log_input: float) -> float:
        rr["d3_background_input"] = math.exp(log_input)
        _steady(rr)
        return rr["ohd25_nmol_l"] - target

    # bracket from the default input, doubling outwards (25(OH)D rises monotonically with it)
    x0 = math.log(rr["d3_background_input"])
    step = math.log(2.0)
    lo, hi = (x0, x0 + step) if gap(x0) < 0 else (x0 - step, x0)
    while gap(hi) < 0:
        lo, hi, step = hi, hi + step, 2 * step
        if hi > math.log(1e6):
            raise InputError("baseline_25ohd_nmol_l", f"{target} nmol/L cannot be a steady state of this model")
    while gap(lo) > 0:
        hi, lo, step = lo, lo - step, 2 * step
        if lo < math.log(1e-8):
            raise InputError("baseline_25ohd_nmol_l", f"{target} nmol/L is below what the model can hold at steady state")
    x = brentq(gap, lo, hi, xtol=1e-6, rtol=1e-8)
    rr["d3_background_input"] = math.exp(x)
    _steady(rr)
    values["d3_background_input"] = math.exp(x)
    return values
