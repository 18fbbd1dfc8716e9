"""Daily intake of each vitamin form and of calcium, by source, compared with IOM and EFSA
reference intakes and upper levels.

Sources: the subject's usual diet (``dietary_*`` fields), the foods of the regimen, its
supplements, and sun (skin D3 as the oral D3 that would give the same amount, from the
engine's sun model). Amounts are as eaten or taken, before absorption: that is what the
reference values refer to.
"""
from __future__ import annotations

from collections import defaultdict

from k2d3.engine import dosing
from k2d3.inputs import compounds, limits
from k2d3.inputs.regimen import Regimen
from k2d3.inputs.subject import Subject

SOURCES = ("usual_diet", "foods", "supplements", "sun")
#: The forms shown, and the compounds each sums.
FORMS = {"D3": ("D3",), "D2": ("D2",), "25(OH)D3": ("calcifediol",), "K1": ("K1",), "MK-4": ("MK-4",),
         "MK-7": ("MK-7",), "MK-8/9": ("MK-8", "MK-9"), "calcium": ("calcium",)}
#: Group totals compared with the reference values (sun is not an intake: shown, not summed).
TOTALS = {"vitamin D (D3+D2)": "vitamin_d", "vitamin K (K1+MK)": "vitamin_k", "calcium": "calcium"}


def by_source(subject: Subject, regimen: Regimen, days: float) -> dict[str, dict[str, float]]:
    """Mean daily amount (ug/day) per source and compound over ``days``."""
    horizon = days * dosing.HOURS_PER_DAY
    out: dict[str, dict[str, float]] = {s: defaultdict(float) for s in SOURCES}
    out["usual_diet"].update({"K1": subject.dietary_k1_ug_day, "MK-9": subject.dietary_menaquinones_ug_day,
                              "calcium": 1000.0 * subject.dietary_calcium_mg_day})
    out["supplements"].update(dosing.mean_daily_intake_ug(regimen.model_copy(update={"diet": []}), horizon))
    out["foods"].update(dosing.mean_daily_intake_ug(regimen.model_copy(update={"supplements": []}), horizon))
    if regimen.sun is not None and regimen.sun.minutes_per_day > 0:
        nmol = sum(d.amount_nmol for d in dosing.sun_doses(regimen.sun, subject, horizon))
        out["sun"]["D3"] = compounds.compounds()["D3"].ug(nmol) / max(days, 1.0)
    return {s: dict(v) for s, v in out.items()}


def _status(total: float, lim: limits.Limit) -> str:
    if lim.value is None:
        return "no value set"
    if lim.upper:
        return "ABOVE" if total > lim.value * (1 + 1e-9) else "below"
    return "meets" if total >= lim.value else "below"


def report(subject: Subject, regimen: Regimen, days: float) -> dict:
    """Rows per form (ug/day; calcium mg/day) by source, and group totals against the limits."""
    src = by_source(subject, regimen, days)
    scale = {"calcium": 1e-3}
    rows = []
    for form, comps in FORMS.items():
        k = scale.get(form, 1.0)
        amounts = {s: k * sum(src[s].get(c, 0.0) for c in comps) for s in SOURCES}
        rows.append({"form": form, "unit": "mg/day" if form == "calcium" else "ug/day", **amounts,
                     "total": sum(amounts.values())})
    totals = []
    lims = limits.for_subject(subject)
    for label, group in TOTALS.items():
        comps = limits.table()[group]["compounds"]
        k = 1e-3 if group == "calcium" else 1.0
        intake = k * sum(src[s].get(c, 0.0) for s in SOURCES if s != "sun" for c in comps)
        refs = []
        for lim in (x for x in lims if x.group == group):
            value = k * sum(src[s].get(c, 0.0) for s in SOURCES if s != "sun" for c in lim.compounds)
            refs.append({"body": lim.body, "kind": lim.kind, "value": lim.value, "applies_to": list(lim.compounds),
                         "intake": value, "status": _status(value, lim), "source": lim.source})
        entry = {"group": label, "unit": "mg/day" if group == "calcium" else "ug/day", "intake": intake,
                 "limits": refs}
        if group == "vitamin_d":
            entry["sun_d3_equivalent"] = src["sun"].get("D3", 0.0)
        totals.append(entry)
    return {"days": days, "subject": {"age": subject.age, "sex": subject.sex, "weight_kg": subject.weight_kg,
                                      "pregnant": subject.pregnant, "breastfeeding": subject.breastfeeding},
            "forms": rows, "totals": totals}
