"""Daily intake of each vitamin form and of calcium, by source, compared with IOM and EFSA
reference intakes and upper levels.

Sources: the subject's usual diet (``dietary_*`` fields), the foods of the regimen, its
supplements, and sun (skin D3 as the oral D3 that would give the same amount, from the
engine's sun model). Amounts are as eaten or taken, before absorption: that is what the
reference values refer to.

Per form, the report names the foods that contributed (with the sources of their values)
and, per nutrient group, the eaten foods whose table row has no value for it ("not
reported"), so a person sees what was not counted.
"""
from __future__ import annotations

from collections import defaultdict

from k2d3.engine import dosing
from k2d3.inputs import compounds, foods, limits
from k2d3.inputs.regimen import Regimen
from k2d3.inputs.subject import Subject

SOURCES = ("usual_diet", "foods", "supplements", "sun")
#: The forms shown, and the compounds each sums.
FORMS = {"D3": ("D3",), "D2": ("D2",), "25(OH)D3": ("calcifediol",), "K1": ("K1",), "MK-4": ("MK-4",),
         "MK-5": ("MK-5",), "MK-6": ("MK-6",), "MK-7": ("MK-7",), "MK-8": ("MK-8",), "MK-9": ("MK-9",),
         "MK-10": ("MK-10",), "MK, form not reported": (foods.UNSPECIFIED_MK,), "calcium": ("calcium",)}
#: The food-table columns behind each dosed compound (for the sources shown per contribution).
_COLUMNS = {**{c: col for col, c in foods.NUTRIENTS.items()}, foods.UNSPECIFIED_MK: "mk_total_ug",
            "calcium": "calcium_mg"}
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


def by_food(regimen: Regimen, days: float) -> dict[str, dict[str, float]]:
    """Mean daily amount (ug/day) per eaten food and compound."""
    horizon = days * dosing.HOURS_PER_DAY
    out: dict[str, dict[str, float]] = {}
    for item in regimen.diet:
        one = regimen.model_copy(update={"supplements": [], "diet": [item]})
        acc = out.setdefault(item.food, defaultdict(float))
        for c, ug in dosing.mean_daily_intake_ug(one, horizon).items():
            acc[c] += ug
    return {f: dict(v) for f, v in out.items()}


def _contributions(per_food: dict[str, dict[str, float]], comps: tuple[str, ...], scale: float) -> list[dict]:
    rows = []
    for name, amounts in per_food.items():
        amount = scale * sum(amounts.get(c, 0.0) for c in comps)
        if amount > 0:
            food = foods.foods()[name]
            refs = [{"key": k, "detail": d, "citation": foods.citation(k)}
                    for c in comps for k, d in food.source_of(_COLUMNS[c])]
            rows.append({"food": name, "amount": amount, "sources": refs})
    return sorted(rows, key=lambda r: -r["amount"])


def _status(total: float, lim: limits.Limit) -> str:
    if lim.value is None:
        return "no value set"
    if lim.upper:
        return "ABOVE" if total > lim.value * (1 + 1e-9) else "below"
    return "meets" if total >= lim.value else "below"


def report(subject: Subject, regimen: Regimen, days: float) -> dict:
    """Rows per form (ug/day; calcium mg/day) by source, and group totals against the limits."""
    src = by_source(subject, regimen, days)
    per_food = by_food(regimen, days)
    scale = {"calcium": 1e-3}
    rows = []
    for form, comps in FORMS.items():
        k = scale.get(form, 1.0)
        amounts = {s: k * sum(src[s].get(c, 0.0) for c in comps) for s in SOURCES}
        rows.append({"form": form, "unit": "mg/day" if form == "calcium" else "ug/day", **amounts,
                     "total": sum(amounts.values()), "food_contributions": _contributions(per_food, comps, k)})
    not_reported = {g: [f for f in per_food if not foods.foods()[f].reported(g)] for g in foods.GROUPS}
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
            "forms": rows, "not_reported": not_reported, "totals": totals}
