"""What the web page and the HTML report show, as JSON-ready dicts.

The page draws these dicts (``web/static/render.js``) and the report embeds the same dicts
and the same drawing code, so page and report cannot disagree. Words are written here,
once: plain language for the page, technical names kept beside them for hover.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from k2d3.inputs import compounds
from k2d3.model import observables

NOT_MEDICAL_ADVICE = ("k2d3 is a research model, not medical advice. Its projections are for one "
                      "modelled person like you, not for you; talk to a clinician before you start, "
                      "stop or change a supplement or a medication.")
NO_BAND = ("no uncertainty band: no calibrated parameter ensemble is installed, so each line is the "
           "model's single best projection")
BAND_LABEL = ("5th-95th percentile over the calibration's parameter ensemble: what the published data "
              "leave undetermined, not how people differ")


@dataclass(frozen=True)
class Chart:
    name: str        # the observable
    title: str       # plain words
    what: str        # one plain sentence
    anticoagulated_only: bool = False


#: The time courses the page and the report draw, in this order.
CHARTS = (
    Chart("ohd25_nmol_l", "Vitamin D level", "the vitamin D level a blood test measures"),
    Chart("calcium_mmol_l", "Blood calcium", "the calcium in your blood, which the body keeps in a narrow range"),
    Chart("pth_pmol_l", "Parathyroid hormone", "the hormone that pulls calcium out of bone when blood calcium "
                                               "or vitamin D is low"),
    Chart("ucoc_ng_ml", "Inactive osteocalcin (bone)", "the bone protein that stays inactive without "
                                                        "enough vitamin K; lower is better supplied"),
    Chart("dp_ucmgp_pmol_l", "Inactive matrix Gla protein (arteries)",
          "the artery-wall protein that stays inactive without enough vitamin K; lower is better supplied"),
    Chart("inr", "Blood clotting time (INR)", "how much longer blood takes to clot than usual; what warfarin "
                                              "changes and what vitamin K pushes back", anticoagulated_only=True),
    Chart("bmd_lumbar_spine_pct_change", "Bone density change (lower spine)",
          "the change in bone mineral density of the lower spine since day 0"),
    Chart("fasting_glucose_mg_dl", "Fasting blood sugar", "blood sugar after a night without food"),
)


def _clean(value):
    """JSON-safe: numpy scalars to Python, non-finite floats to None (JSON has no NaN)."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_clean(v) for v in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value


def fmt(v: float | None) -> str:
    """A number as people read it: three significant figures, no exponent for everyday sizes."""
    if v is None or not math.isfinite(v):
        return "-"
    if abs(v) < 1e-9:
        return "0"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.3g}"


def dose_text(form: str, ug: float) -> str:
    """A daily dose of ``form`` in ug (mg for calcium), with IU where IU is defined."""
    if form == "calcium":
        return f"{ug / 1000:.0f} mg/day"
    iu = compounds.compounds()[form].iu_per_ug if form in compounds.compounds() else None
    return f"{ug:.3g} ug/day" + (f" ({ug * iu:.0f} IU)" if iu else "")


def anticoagulated(regimen) -> bool:
    return bool(regimen.medications)


def _charts(regimen, days: float) -> list[Chart]:
    return [c for c in CHARTS if not c.anticoagulated_only or anticoagulated(regimen)]


def _chart_meta(chart: Chart, regimen, days: float, band=None) -> dict:
    obs = observables.observables()[chart.name]
    names = obs.label if obs.label == obs.unit else f"{obs.label}, {obs.unit}"
    caption = f"{chart.title} ({names}) over {days:g} days: {chart.what}."
    if obs.range:
        caption += (f" Shaded: the reference range {obs.range[0]:g}-{obs.range[1]:g} {obs.unit} "
                    f"({obs.range_source}).")
    targets = [m.target_inr for m in regimen.medications if m.target_inr is not None]
    target = None
    if chart.name == "inr" and targets:
        target = {"value": targets[0], "label": f"your target INR {targets[0]:g}"}
        caption += (f" Dashed: your target INR of {targets[0]:g}; the model adjusts the dose weekly for "
                    f"8 weeks to reach it, then holds the dose.")
    caption += f" Evidence: {obs.evidence}."
    return {"name": chart.name, "title": chart.title, "what": chart.what, "technical": obs.label,
            "description": obs.description, "unit": obs.unit, "evidence": obs.evidence,
            "reference_range": list(obs.range) if obs.range else None, "range_source": obs.range_source,
            "target": target, "caption": caption,
            # The uncertainty band ({"lower": [...], "upper": [...], "label": ...}, aligned with
            # the days) where the run has one (``simulate(uncertainty=True)``), else None.
            "band": None if band is None else {"lower": band["p5"][chart.name].to_numpy(dtype=float),
                                               "upper": band["p95"][chart.name].to_numpy(dtype=float),
                                               "label": BAND_LABEL}}


def _columns(frame, names) -> dict:
    return {"day": frame.index.to_numpy(dtype=float), **{n: frame[n].to_numpy(dtype=float) for n in names}}


def simulation(result, warnings: list[dict], regimen=None) -> dict:
    """A run: the charts' metadata, the whole time course, the summary and every warning.
    ``regimen``: as entered (``result.regimen`` has target-INR medications replaced by the
    titrated doses)."""
    regimen = regimen or result.regimen
    summary = result.summary()
    flags = summary.pop("flags") + list(warnings)
    charts = [_chart_meta(c, regimen, result.days, result.band) for c in _charts(regimen, result.days)]
    return _clean({
        "days": result.days,
        "subject": result.subject.model_dump(),
        "charts": charts,
        "band_note": NO_BAND if result.band is None else BAND_LABEL,
        "timecourse": _columns(result.timecourse, list(result.timecourse.columns)),
        "summary": summary,
        "warnings": flags,
        "not_medical_advice": NOT_MEDICAL_ADVICE,
    })


_CLASS_WORDS = {
    "additive": "the same as the two effects added together",
    "synergy": "more than the two effects added together, in their direction",
    "antagonism": "less than the two effects added together",
    "inconclusive": "not settled: the 95% interval of the mean interaction spans more than one class",
}


def _amount(v: float, floor: float) -> str:
    """A difference, or "about 0" below the comparison's floor (0.1% of the observable's scale),
    where the integrator's round-off lives."""
    return "about 0" if abs(v) < floor else fmt(v)


def _change_words(v: float, unit: str, floor: float, plural: bool = False) -> str:
    s = "" if plural else "s"
    if abs(v) < floor:
        return f"leave{s} it about unchanged"
    return f"{'raise' if v > 0 else 'lower'}{s} it by {fmt(abs(v))} {unit}"


def comparison_sentence(title: str, row: dict, labels: dict, days: float) -> str:
    u, floor = row["unit"], row["floor"]
    ends = ", ".join(f"{labels[a]} {fmt(row[f'end_{a}'])}" for a in ("placebo", "D", "K", "DK"))
    both = row["effect_D"] + row["effect_K"] + row["interaction"]
    return (f"{title} after {days:g} days: {ends} {u}. Compared with placebo, {labels['D']} "
            f"{_change_words(row['effect_D'], u, floor)}, {labels['K']} {_change_words(row['effect_K'], u, floor)}, "
            f"and both together {_change_words(both, u, floor, plural=True)}: {_CLASS_WORDS.get(row['class'], row['class'])} "
            f"({row['class']}; interaction {_amount(row['interaction'], floor)} {u}).")


def comparison(c, regimen) -> dict:
    """The 2x2 comparison: the table, a sentence per charted observable, the arms' time courses."""
    charts = [_chart_meta(ch, regimen, c.days) for ch in _charts(regimen, c.days)
              if ch.name in c.table.index]
    table = c.to_dict()
    names = [ch["name"] for ch in charts]
    out = {
        **table,
        "charts": charts,
        "sentences": {ch["name"]: comparison_sentence(ch["title"], table["observables"][ch["name"]], c.labels, c.days)
                      for ch in charts},
        "timecourses": {arm: _columns(tc, names) for arm, tc in c.timecourses.items()},
        "bands": {arm: {"label": "10th-90th percentile of the virtual subjects (people differ)",
                        "lower": _columns(lo, names), "upper": _columns(hi, names)}
                  for arm, (lo, hi) in c.bands.items()},
        "not_medical_advice": NOT_MEDICAL_ADVICE,
    }
    return _clean(out)


def intake(report: dict) -> dict:
    """The intake report, with one plain sentence per group total; a limit that applies to
    part of a group (EFSA's vitamin K AI is for K1) names that part (``only``)."""
    sentences = []
    report = {**report, "totals": [dict(g) for g in report["totals"]]}
    for g in report["totals"]:
        widest = max((len(lim["applies_to"]) for lim in g["limits"]), default=0)
        g["limits"] = [{**lim, "only": ", ".join(lim["applies_to"]) if len(lim["applies_to"]) < widest else None}
                       for lim in g["limits"]]
        above = [f"{lim['body']} {lim['kind']} {fmt(lim['value'])}" for lim in g["limits"] if lim["status"] == "ABOVE"]
        meets = [f"{lim['body']} {lim['kind']}" for lim in g["limits"]
                 if lim["status"] == "meets" and lim["kind"] != "UL"]
        text = f"{g['group']}: {fmt(g['intake'])} {g['unit']} on average"
        if above:
            text += f", ABOVE the upper level ({'; '.join(above)})"
        elif meets:
            text += f", meets the {', '.join(meets)}"
        else:
            text += ", below the recommended intake"
        sentences.append(text + ".")
    return _clean({**report, "sentences": sentences})


def plan(p) -> dict:
    """The dose finder's answer, in words as well as numbers."""
    d = p.as_dict()
    when = "at steady state (after a year of the dose)" if p.steady_state else f"by day {p.days:g}"
    doses = [f"{f} {dose_text(f, ug)}" for f, ug in p.doses_ug_day.items() if ug > 0]
    if not p.safe:
        answer = (f"No safe daily dose of {', '.join(p.forms)} reaches {', '.join(map(str, p.targets))} "
                  f"{when}: the smallest doses that do ({', '.join(doses)}) fire a safety rule.")
    elif doses:
        answer = f"To reach {', '.join(map(str, p.targets))} {when}, the smallest daily doses are " \
                 f"{', '.join(doses)}."
    else:
        answer = f"{', '.join(map(str, p.targets))} is reached {when} without added doses."
    d["answer"] = answer
    d["rules_of_thumb"] = [{**r, "dose_text": dose_text("D3", r["dose_ug_day"])} for r in d["rules_of_thumb"]]
    return _clean(d)


# --- running the analyses: one function per section, shared by the web API and `k2d3 report`

def has_band() -> bool:
    """Whether the model has an uncertainty band to draw (a calibrated parameter ensemble)."""
    from k2d3.model.build import ensemble

    return ensemble() is not None


def run_simulation(regimen, days: float, uncertainty: bool = True) -> dict:
    """``uncertainty``: draw the band where the model has one."""
    import k2d3
    from k2d3.analyses.safety import vka_warnings

    result = k2d3.simulate(None, regimen, days=days, uncertainty=uncertainty and has_band())
    return simulation(result, vka_warnings(result), regimen)


def run_comparison(regimen, days: float, population=None, engine: str = "auto") -> dict:
    """``engine``: as ``compare``'s; the web takes "reference" (one process, a run time it
    can estimate beforehand, no first-use compilation of the population engine)."""
    import k2d3

    c = k2d3.compare(None, regimen, days=days, population=population, workers=1, engine=engine)
    return comparison(c, regimen)


def run_intake(regimen, days: float) -> dict:
    from k2d3.engine import intake as engine_intake
    from k2d3.inputs.subject import Subject

    return intake(engine_intake.report(regimen.subject or Subject(), regimen, days))


def run_plan(regimen, targets, forms, horizon_days: float | None) -> dict:
    """``regimen``: the subject, diet, sun and supplements already taken, which the plan adds to."""
    from k2d3.analyses import plan as planner
    from k2d3.inputs.subject import Subject

    base = regimen.model_copy(update={"subject": None, "days": None})
    return plan(planner.plan(regimen.subject or Subject(), targets, forms, horizon_days, base))


def has_two_by_two(regimen) -> bool:
    from k2d3.analyses.compare import D_FORMS, K_FORMS

    have = {s.compound for s in regimen.supplements}
    return bool(have & set(D_FORMS)) and bool(have & set(K_FORMS))


def collect(regimen, days: float, plan_request: dict | None = None) -> dict:
    """Every section of the report: the run, the 2x2 comparison (when the regimen has a vitamin
    D and a vitamin K supplement), the intake and, when asked, the dose finder.
    ``plan_request``: {"targets": [Target], "forms": [...], "horizon_days": float | None}."""
    from k2d3.analyses.compare import D_FORMS, K_FORMS

    out = {"simulation": run_simulation(regimen, days), "intake": run_intake(regimen, days),
           "regimen": regimen.model_dump(mode="json", exclude_none=True), "days": days}
    if has_two_by_two(regimen):
        out["comparison"] = run_comparison(regimen, days)
    else:
        out["comparison_note"] = (f"no 2x2 comparison: it needs a vitamin D supplement ({', '.join(D_FORMS)}) "
                                  f"and a vitamin K supplement ({', '.join(K_FORMS)})")
    if plan_request:
        out["plan"] = run_plan(regimen, **plan_request)
    return out
