"""The regimen as doses: (time, depot, amount) triples the engine adds between segments.

Dosing lives here and not in the model files (DESIGN: the model is data; the protocol is
kept apart). Doses at the same time are merged, so each dosing time costs one restart of
the stiff solver, whatever it holds.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from k2d3.inputs import compounds, foods
from k2d3.inputs.regimen import DietItem, Regimen, Schedule, Sun, Supplement
from k2d3.inputs.subject import Subject
from k2d3.model.build import parameters

HOURS_PER_DAY = 24.0
DAYS_PER_YEAR = 365.25
_VITAMIN_K = ("K1", "MK-4", "MK-5", "MK-6", "MK-7", "MK-8", "MK-9", "MK-10", foods.UNSPECIFIED_MK)
FAT_SOLUBLE = ("D3", "D2", "calcifediol", *_VITAMIN_K)


@dataclass(frozen=True)
class Dose:
    time_h: float
    depot: str
    amount_nmol: float
    compound: str


def _p(name: str) -> float:
    return parameters()[name].value


def fat_factor(compound: str, fat_g: float | None) -> float:
    """Absorption with ``fat_g`` of meal fat relative to a meal with ample fat.

    A hyperbola from the fat-free value to 1: the published contrasts are fat-free vs
    fat-containing meals; None means a usual meal (``usual_meal_fat_g``).
    """
    rel0 = _p("fat_free_rel_k") if compound in _VITAMIN_K else _p("fat_free_rel_d3")
    g = _p("usual_meal_fat_g") if fat_g is None else fat_g
    return rel0 + (1.0 - rel0) * g / (g + _p("fat_half_g"))


def _times(s: Schedule, horizon_h: float) -> list[float]:
    """Dose times in hours before the horizon (a dose at the horizon has no effect)."""
    if s.on_days is not None:
        return sorted(d * HOURS_PER_DAY for d in s.on_days if d * HOURS_PER_DAY < horizon_h)
    start = s.start_day * HOURS_PER_DAY
    stop = horizon_h if s.stop_day is None else min(horizon_h, s.stop_day * HOURS_PER_DAY + 1e-6)
    step = s.every_hours
    return [t for t in (start + i * step for i in range(int((stop - start) // step) + 1))
            if t < horizon_h] if stop >= start else []


def supplement_doses(s: Supplement, horizon_h: float) -> list[Dose]:
    c = compounds.compounds()[s.compound]
    amount = s.dose_nmol * c.amount_scale
    if c.name in FAT_SOLUBLE:
        amount *= fat_factor(c.name, s.with_meal_fat_g)
    if c.name == "D2":
        amount *= _p("rel_potency_d2")
    if c.name == "calcium" and s.form == "citrate":
        amount *= _p("ca_citrate_rel_absorption")
    return [Dose(t, c.target, amount, c.name) for t in _times(s, horizon_h)]


def food_matrix_factor(compound: str) -> float:
    """Absorption from a food relative to a supplement: lower for K1 bound in vegetables
    (4.7% vs 13%); no difference is assumed for the other forms."""
    if compound == "K1":
        return _p("f_abs_k1_food") / _p("f_abs_k1")
    return 1.0


def diet_doses(item: DietItem, horizon_h: float) -> list[Dose]:
    """The vitamins and calcium in a portion of food as doses (``foods.dosed_per_100g``); the
    food's own fat (plus any stated meal fat) sets the fat factor."""
    food = foods.foods()[item.food]
    fat = (food.fat_g or 0.0) * item.grams / 100.0 + (item.with_meal_fat_g or 0.0)
    times = _times(item, horizon_h)
    out = []
    for compound, per_100g in foods.dosed_per_100g(food).items():
        c = compounds.compounds()[compound]
        amount = c.nmol(per_100g * item.grams / 100.0) * c.amount_scale
        if c.name in FAT_SOLUBLE:
            amount *= fat_factor(c.name, fat) * food_matrix_factor(c.name)
        if c.name == "D2":
            amount *= _p("rel_potency_d2")
        out += [Dose(t, c.target, amount, c.name) for t in times]
    return out


def uv_index(sun: Sun, day: float) -> float:
    """Clear-sky noon UV index on ``day`` (Madronich's cos(SZA) power law), or the given one."""
    if sun.uv_index is not None:
        return sun.uv_index
    day_of_year = (sun.month - 0.5) * DAYS_PER_YEAR / 12 + day
    declination = _p("earth_axial_tilt_deg") * math.sin(2 * math.pi * (day_of_year - 81) / DAYS_PER_YEAR)
    zenith = math.radians(abs(sun.latitude - declination))
    if zenith >= math.pi / 2:
        return 0.0
    ozone = (_p("ozone_column_du") / 300.0) ** _p("uvi_ozone_exponent")
    return _p("uvi_clear_sky_scale") * math.cos(zenith) ** _p("uvi_cos_exponent") * ozone


def skin_d3_nmol(sun: Sun, subject: Subject, day: float) -> float:
    """D3 made in skin on ``day``: erythemal dose as a fraction of the subject's MED (at most
    one MED a day: previtamin D3 reaches photo-equilibrium), times exposed skin and an
    age factor, scaled by the oral-equivalent D3 of one whole-body MED."""
    joules = uv_index(sun, day) * _p("erythemal_w_m2_per_uvi") * 60.0 * sun.minutes_per_day
    med_fraction = min(1.0, joules / _p(f"med_type{subject.skin_type}"))
    age = subject.age + day / DAYS_PER_YEAR
    decades = max(0.0, age - _p("skin_synthesis_age_ref")) / 10.0
    age_factor = max(0.0, 1.0 - _p("skin_synthesis_decline_per_decade") * decades)
    iu = _p("iu_per_med_whole_body") * sun.skin_fraction * med_fraction * age_factor
    d3 = compounds.compounds()["D3"]
    return d3.nmol(iu / d3.iu_per_ug)


def _sun_days(sun: Sun, n_days: int) -> list[int]:
    """Days with exposure, spread evenly through each week."""
    per_day = sun.days_per_week / 7.0
    return [d for d in range(n_days) if math.floor((d + 1) * per_day + 1e-9) > math.floor(d * per_day + 1e-9)]


def sun_doses(sun: Sun, subject: Subject, horizon_h: float) -> list[Dose]:
    n_days = int(math.floor(horizon_h / HOURS_PER_DAY + 1e-9))
    out = []
    for d in _sun_days(sun, n_days):
        amount = skin_d3_nmol(sun, subject, d)
        if amount > 0:
            out.append(Dose(d * HOURS_PER_DAY, "d3_skin", amount, "sun"))
    return out


def by_source(regimen: Regimen, subject: Subject, horizon_h: float) -> list[tuple[str, list[Dose]]]:
    """The doses up to ``horizon_h`` of each source (a supplement, a food, a medication, the
    sun), named for what it is, in the order of the regimen."""
    out: list[tuple[str, list[Dose]]] = []
    for s in regimen.supplements:
        out.append((s.compound, supplement_doses(s, horizon_h)))
    for item in regimen.diet:
        out.append((item.food, diet_doses(item, horizon_h)))
    for m in regimen.medications:
        c = compounds.compounds()[m.drug]
        out.append((m.drug, [Dose(t, c.target, m.dose_nmol * c.amount_scale, c.name) for t in _times(m, horizon_h)]))
    if regimen.sun is not None and regimen.sun.minutes_per_day > 0:
        out.append(("sun", sun_doses(regimen.sun, subject, horizon_h)))
    return out


def doses(regimen: Regimen, subject: Subject, horizon_h: float) -> list[Dose]:
    """Every dose of the regimen up to ``horizon_h``, in time order."""
    return sorted((d for _, source in by_source(regimen, subject, horizon_h) for d in source),
                  key=lambda d: d.time_h)


def grouped(dose_list: list[Dose]) -> list[tuple[float, dict[str, float]]]:
    """Doses merged by time: [(time_h, {depot: nmol})]."""
    by_time: dict[float, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for d in dose_list:
        by_time[d.time_h][d.depot] += d.amount_nmol
    return [(t, dict(v)) for t, v in sorted(by_time.items())]


def mean_daily_intake_ug(regimen: Regimen, horizon_h: float) -> dict[str, float]:
    """Mean daily oral intake per compound over the run, in ug (as written, before absorption)."""
    days = max(horizon_h / HOURS_PER_DAY, 1.0)
    out: dict[str, float] = defaultdict(float)
    for s in regimen.supplements:
        c = compounds.compounds()[s.compound]
        n = len(_times(s, horizon_h))
        out[c.name] += n * c.ug(s.dose_nmol) / days
    for item in regimen.diet:
        n = len(_times(item, horizon_h))
        for compound, per_100g in foods.dosed_per_100g(foods.foods()[item.food]).items():
            out[compound] += n * per_100g * item.grams / 100.0 / days
    return dict(out)


def mean_calcium_supplement_mmol_h(regimen: Regimen, horizon_h: float) -> float:
    """The run's mean supplemental calcium (mmol/h): it only scales the absorbed-fraction
    observable (parameter ``ca_supplement_mean_mmol_h``)."""
    ca_ug = mean_daily_intake_ug(regimen, horizon_h).get("calcium", 0.0)
    return compounds.compounds()["calcium"].nmol(ca_ug) * 1e-6 / HOURS_PER_DAY
