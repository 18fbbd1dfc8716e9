"""What an export needs from the engine: a run's day-0 state and its doses, as
``k2d3.model.export.State``; and ``sbml(subject, regimen, days)``, the SBML of that run.

Everything a run does between integration segments is carried over: the subject's
equilibrated state (``simulate.day0``: steady state, reset stores, day-0 references, the
run's mean supplemental calcium), the titrated doses of a target-INR medication (the doses
actually given), every dose series of the regimen, the sun's daily skin D3 (as a formula of
the day, ``sun_d3_formula``), and the flush of vanishing pools at each dose.
"""
from __future__ import annotations

import re

from k2d3.engine import dosing, equilibrium, simulate
from k2d3.engine.runner import DENORMAL, flush_denormals, runner
from k2d3.inputs import compounds
from k2d3.inputs.regimen import Regimen, Sun
from k2d3.inputs.subject import Subject
from k2d3.model import build, export

#: Why a parameter of the run differs from parameters.yaml (beyond the subject's own).
_WHY = {
    "age_clock": "1 during a run: age advances with simulated time (0 while day 0 is settled)",
    "ca_supplement_mean_mmol_h": "the mean supplemental calcium of this regimen over the run",
    "d3_background_input": "the background D3 input that makes the measured 25(OH)D a steady state",
    **{p: f"day-0 reference: {source} at this subject's day 0" for p, source in equilibrium.DAY0_REFERENCES.items()},
}


def state(subject: Subject | None = None, regimen: Regimen | None = None, days: float | None = None,
          parameters: dict[str, float] | None = None) -> export.State:
    """The day-0 state and doses of ``simulate(subject, regimen, days, parameters=parameters)``."""
    subject, regimen, days = simulate.resolve(subject, regimen, days)
    regimen, titrated = simulate.titrate(subject, regimen, parameters)
    horizon = days * dosing.HOURS_PER_DAY
    rr = runner()
    subject_values = simulate.day0(rr, subject, regimen, horizon, parameters)
    flush_denormals(rr)  # as the engine does before its first segment
    species = dict(zip(rr.model.getFloatingSpeciesIds(), map(float, rr.model.getFloatingSpeciesAmounts())))
    values = dict(zip(rr.model.getGlobalParameterIds(), map(float, rr.model.getGlobalParameterValues())))
    table = build.parameters()
    values = {k: v for k, v in values.items() if k in table}
    overrides = set(parameters or {})
    changed = {}
    for name, v in values.items():
        if v == table[name].value:
            continue
        if name in overrides:
            changed[name] = "parameter override of this run"
        elif name in _WHY:
            changed[name] = _WHY[name]
        elif name in subject_values:
            changed[name] = "this subject"
        else:
            changed[name] = "set by the engine"
    series = [s for name, doses in dosing.by_source(regimen, subject, horizon) if name != "sun"
              for s in _series(name, doses)]
    if regimen.sun is not None and regimen.sun.minutes_per_day > 0:
        series += _sun_series(regimen.sun, subject, horizon)
    title = _title(subject, regimen, days, titrated)
    return export.State(species, values, changed, tuple(series), days, title, DENORMAL)


def sbml(subject: Subject | None = None, regimen: Regimen | None = None, days: float | None = None,
         parameters: dict[str, float] | None = None) -> str:
    """The SBML of ``simulate(subject, regimen, days, parameters=parameters)``: run in any
    SBML tool, it gives k2d3's time course."""
    return export.sbml(state(subject, regimen, days, parameters))


def _slug(text: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "_", text.lower().replace("-", "")).strip("_")
    return s if s and not s[0].isdigit() else f"x_{s}"


def _series(name: str, doses: list[dosing.Dose]) -> list[export.DoseSeries]:
    """A source's doses as one series per depot set (a food doses several depots at once)."""
    if not doses:
        return []
    times = tuple(sorted({d.time_h for d in doses}))
    index = {t: i for i, t in enumerate(times)}
    amounts: dict[str, list[float]] = {}
    for d in doses:
        acc = amounts.setdefault(d.depot, [0.0] * len(times))
        acc[index[d.time_h]] += d.amount_nmol
    return [export.DoseSeries(_slug(name), name, times, {k: tuple(v) for k, v in amounts.items()})]


#: The sun's daily skin D3 as an SBML formula of ``day``, term for term ``dosing.uv_index``
#: and ``dosing.skin_d3_nmol`` (tests compare the two at every day of several years).
_SUN_UVI = ("piecewise(0, abs(sun_latitude_deg - earth_axial_tilt_deg * sin(2 * pi * ((sun_month - 0.5) * "
            "{year!r} / 12 + day - 81) / {year!r})) * pi / 180 >= pi / 2, uvi_clear_sky_scale * "
            "cos(abs(sun_latitude_deg - earth_axial_tilt_deg * sin(2 * pi * ((sun_month - 0.5) * {year!r} / 12 "
            "+ day - 81) / {year!r})) * pi / 180)^uvi_cos_exponent * (ozone_column_du / 300)^uvi_ozone_exponent)")
_SUN_NMOL = ("iu_per_med_whole_body * sun_skin_fraction * min(1, {uvi} * erythemal_w_m2_per_uvi * 60 * "
             "sun_minutes_per_day / {med}) * max(0, 1 - skin_synthesis_decline_per_decade * max(0, age_years + "
             "day / {year!r} - skin_synthesis_age_ref) / 10) / d3_iu_per_ug * 1000 / d3_molar_mass_g_mol")
#: days with exposure spread evenly through the week (``dosing._sun_days``)
_SUN_DAY = ("floor((day + 1) * sun_days_per_week / 7 + 1e-9) > floor(day * sun_days_per_week / 7 + 1e-9)")


def sun_d3_formula(sun: Sun, subject: Subject) -> str:
    """SBML (L3 text) of the nmol of D3 made in skin on ``day`` (0 on days without sun)."""
    uvi = "sun_uv_index" if sun.uv_index is not None else _SUN_UVI.format(year=dosing.DAYS_PER_YEAR)
    nmol = _SUN_NMOL.format(uvi=uvi, med=f"med_type{subject.skin_type}", year=dosing.DAYS_PER_YEAR)
    return f"piecewise({nmol}, {_SUN_DAY}, 0)"


def _sun_series(sun: Sun, subject: Subject, horizon_h: float) -> list[export.DoseSeries]:
    n_days = int(horizon_h / dosing.HOURS_PER_DAY + 1e-9)
    if n_days < 1:
        return []
    d3 = compounds.compounds()["D3"]
    inputs = {
        "sun_minutes_per_day": (sun.minutes_per_day, "dimensionless", "minutes of sun a day around solar noon"),
        "sun_skin_fraction": (sun.skin_fraction, "fraction", "fraction of the skin exposed"),
        "sun_days_per_week": (sun.days_per_week, "dimensionless", "days with sun exposure a week"),
        "d3_molar_mass_g_mol": (d3.molar_mass_g_mol, "g/mol", f"molar mass of vitamin D3 ({d3.source})"),
        "d3_iu_per_ug": (d3.iu_per_ug, "dimensionless", f"International Units per ug of vitamin D3 ({d3.source})"),
    }
    if sun.uv_index is not None:
        inputs["sun_uv_index"] = (sun.uv_index, "dimensionless", "noon UV index (given)")
    else:
        inputs["sun_latitude_deg"] = (sun.latitude, "degree", "latitude (degrees north)")
        inputs["sun_month"] = (float(sun.month), "dimensionless", "month of the year at day 0 (1-12)")
    times = tuple(d * dosing.HOURS_PER_DAY for d in range(n_days))
    label = (f"sun: {sun.minutes_per_day:g} min/day, {sun.skin_fraction:g} of the skin, "
             f"{sun.days_per_week:g} days/week; skin D3 follows the season")
    return [export.DoseSeries("sun", label, times, {}, {"d3_skin": sun_d3_formula(sun, subject)}, inputs)]


def _title(subject: Subject, regimen: Regimen, days: float, titrated: dict[str, float]) -> str:
    who = f"{subject.age:g}-year-old {subject.sex}, {subject.weight_kg:g} kg"
    if subject.baseline_25ohd_nmol_l is not None:
        who += f", 25(OH)D {subject.baseline_25ohd_nmol_l:g} nmol/L"
    parts = [f"{len(regimen.supplements)} supplement(s)"] if regimen.supplements else []
    parts += [f"{len(regimen.diet)} food(s)"] if regimen.diet else []
    parts += [m.drug for m in regimen.medications]
    parts += ["sun"] if regimen.sun is not None and regimen.sun.minutes_per_day > 0 else []
    what = ", ".join(parts) or "no regimen"
    held = "".join(f"; {d} titrated to {mg:g} mg/day" for d, mg in titrated.items())
    return f"run of {days:g} days: {who}; {what}{held}"
