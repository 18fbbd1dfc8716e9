"""Target-INR medications: the engine titrates the daily dose during a run-in, as a clinic
would (one INR check a week, a bounded proportional change), then holds it fixed, so that
what is added later (K1, MK-7) shows as INR drift.

Each week's INR check sees the doses decided so far (``run``: ``simulate.titrate`` continues
one run week by week); the result is an ordinary regimen of fixed doses, which ``simulate``
then runs in full.
"""
from __future__ import annotations

from k2d3.engine.equilibrium import genotype_factors
from k2d3.inputs.regimen import Medication, Regimen
from k2d3.model.build import parameters


def _p(name: str) -> float:
    return parameters()[name].value


def start_mg(drug: str, subject) -> float:
    """The first daily dose: the usual start, scaled by what the subject's genotype (and, for
    warfarin, age) predicts for the dose need, as genotype-guided initiation does (CPIC 2011).
    Without it a CYP2C9 *3/*3 VKORC1 A/A patient, who needs about a tenth of the usual dose,
    would still be far above target after 8 weeks of 20% steps."""
    g = genotype_factors(subject)
    if drug == "warfarin":
        age = 1 - _p("warfarin_cl_age_slope") * (subject.age - _p("warfarin_cl_age_ref"))
        return _p("titration_start_mg") * g["cyp2c9_ke_factor"] * age * g["vkorc1_ec50_factor"]
    return _p(f"titration_start_mg_{drug}") * g["vkorc1_ec50_factor"]


def _fixed(m: Medication, weekly_mg: list[float]) -> list[dict]:
    """The medication as fixed daily doses: one entry per run-in week, then the held dose."""
    out = []
    for week, mg in enumerate(weekly_mg[:-1]):
        out.append({"drug": m.drug, "dose": f"{mg} mg", "every": "1 day",
                    "start_day": 7.0 * week, "stop_day": 7.0 * week + 6.0})
    out.append({"drug": m.drug, "dose": f"{weekly_mg[-1]} mg", "every": "1 day",
                "start_day": 7.0 * (len(weekly_mg) - 1)})
    return out


def _with(regimen: Regimen, fixed: list[dict], keep: list[Medication]) -> Regimen:
    data = regimen.model_dump(exclude_none=True)
    data["medications"] = [k.model_dump(exclude_none=True) for k in keep] + fixed
    return Regimen.from_dict(data)


def titrate(subject, regimen: Regimen, run) -> tuple[Regimen, dict[str, float]]:
    """Replace target-INR medications by titrated fixed doses; returns the new regimen and
    the held daily dose (mg) per drug. ``run(regimen, days)`` returns the INR at ``days``."""
    targets = [m for m in regimen.medications if m.target_inr is not None]
    if not targets:
        return regimen, {}
    fixed_meds = [m for m in regimen.medications if m.target_inr is None]
    weeks = int(_p("titration_weeks"))
    step = _p("titration_max_step")
    held: dict[str, float] = {}
    fixed: list[dict] = []
    for m in targets:
        weekly = [round(start_mg(m.drug, subject), 3)]
        for week in range(1, weeks + 1):
            trial = _with(regimen, fixed + _fixed(m, weekly), fixed_meds)
            inr = run(trial, 7.0 * week)
            change = min(step, max(-step, (m.target_inr - inr) / m.target_inr))
            weekly.append(round(float(weekly[-1] * (1 + change)), 3))
        fixed += _fixed(m, weekly)
        held[m.drug] = weekly[-1]
    return _with(regimen, fixed, fixed_meds), held
