"""Published human data vs the model: one case per row of calibration.csv.

``k2d3 validate`` prints, for every case, the row id, the published value, the simulated
value and whether it falls in the row's acceptance band. The bands are the table's own;
``role`` says whether the row was used to calibrate parameters (see
scripts/calibrate_vitamin_d.py) or is an independent check.
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from k2d3.analyses import vitamin_d_cases as vd
from k2d3.analyses import vitamin_k_cases as vk
from k2d3.engine.summary import intake_limits
from k2d3.errors import InputError


@dataclass(frozen=True)
class Case:
    id: str
    run: Callable[[dict | None], object]
    accept: Callable[[object], bool]
    show: Callable[[object], str]
    role: str  # "calibration" | "validation" | "constant"


def _band(lo: float, hi: float) -> Callable[[float], bool]:
    return lambda v: lo <= v <= hi


def _fmt(unit: str, digits: int = 2) -> Callable[[object], str]:
    return lambda v: f"{v:.{digits}f} {unit}"


def _limit(group: str, key: str) -> Callable[[dict | None], float]:
    return lambda _p=None: intake_limits()[group][key]


CASES: list[Case] = [
    Case("vd_slope_heaney2003", vd.heaney_slope, _band(0.5, 0.9), _fmt("nmol/L per ug/day"), "calibration"),
    Case("vd_halflife_jones2014", vd.jones_half_life_days, _band(10, 20), _fmt("days", 1), "validation"),
    Case("vd_nonlinear_ekwaru2014", vd.ekwaru_increments, lambda v: v[1] < v[0] / 4,
         lambda v: f"{v[0]:.1f} vs {v[1]:.1f} nmol/L per 1000 IU/day", "calibration"),
    Case("vd_bmi_ekwaru2014", vd.ekwaru_bmi_differences,
         lambda v: -12.0 <= v[0] <= -4.0 and -29.7 <= v[1] <= -9.9,
         lambda v: f"{v[0]:.1f} (overweight) and {v[1]:.1f} (obese) nmol/L", "validation"),
    Case("vd_obese_drincic2013", vd.drincic_iu_per_kg, _band(1.5, 4.0), _fmt("IU/kg per ng/mL"), "validation"),
    Case("vd_d2d_2019", vd.d2d_level_ng_ml, _band(46, 62), _fmt("ng/mL", 1), "validation"),
    Case("vd_bolus_ilahi2008", vd.ilahi_peak_ng_ml, _band(36, 48), _fmt("ng/mL", 1), "calibration"),
    Case("vd_bolus_tmax_armas2004", vd.armas_tmax_days, _band(7, 21), _fmt("days", 1), "calibration"),
    Case("vd_fat_dawsonhughes2015", vd.fat_meal_ratio_pct, _band(15, 50), _fmt("%", 0), "validation"),
    Case("vd_crohn_farraye2011", vd.crohn_absorption_pct, _band(-45, -15), _fmt("%", 0), "calibration"),
    Case("vd_ul", lambda p=None: _limit("vitamin_d", "ul_ug_day")() * 40, lambda v: v == 4000,
         _fmt("IU/day", 0), "constant"),
    Case("vd_rda", lambda p=None: _limit("vitamin_d", "rda_ug_day")() * 40, lambda v: v == 600,
         _fmt("IU/day", 0), "constant"),
    Case("vk_tmax_schurgers2007", vk.schurgers_tmax_hours, lambda v: all(2 <= x <= 8 for x in v),
         lambda v: f"K1 {v[0]:.1f} h, MK-7 {v[1]:.1f} h", "calibration"),
    Case("vk_mk7_accumulation_schurgers2007", vk.schurgers_accumulation_fold, _band(5, 11), _fmt("fold", 1),
         "validation"),
    Case("vk_mk7_halflife", vk.mk7_half_life_hours, _band(48, 96), _fmt("hours", 0), "calibration"),
    Case("vk_mk4_sato2012", vk.sato_mk4_peak_nmol_l, lambda v: v < 1.0, _fmt("nmol/L peak"), "calibration"),
    Case("vk_mk7_sato2012", vk.sato_mk7_profile, lambda v: 2 <= v[0] <= 8 and v[1] > 0.25,
         lambda v: f"Tmax {v[0]:.1f} h, {100 * v[1]:.0f}% of peak at 48 h", "validation"),
    Case("vk_k1_halflife_novotny2010", vk.novotny_k1_half_life_hours, _band(2, 12), _fmt("hours", 1),
         "calibration"),
]


def calibration_table_path() -> Path:
    """calibration.csv: $K2D3_CALIBRATION, else ``shared/data`` beside or above the cwd or the package."""
    env = os.environ.get("K2D3_CALIBRATION")
    if env:
        return Path(env)
    for base in (Path.cwd(), Path(__file__).resolve()):
        for parent in (base, *base.parents):
            for candidate in (parent / "shared" / "data" / "calibration.csv",
                              parent.parent / "shared" / "data" / "calibration.csv"):
                if candidate.is_file():
                    return candidate
    raise InputError("calibration", "cannot find shared/data/calibration.csv; set K2D3_CALIBRATION")


def calibration_rows() -> dict[str, dict]:
    with open(calibration_table_path(), newline="") as f:
        return {row["id"]: row for row in csv.DictReader(f)}


@dataclass(frozen=True)
class Outcome:
    id: str
    published: str
    accept: str
    simulated: str
    accepted: bool
    role: str
    source: str


def run_case(case: Case, rows: dict[str, dict] | None = None) -> Outcome:
    rows = rows if rows is not None else calibration_rows()
    row = rows[case.id]
    value = case.run(None)
    return Outcome(case.id, f"{row['published']} {row['unit']}".strip(), row["accept"], case.show(value),
                   bool(case.accept(value)), case.role, row["source"])


def validate(ids: list[str] | None = None) -> list[Outcome]:
    rows = calibration_rows()
    chosen = [c for c in CASES if ids is None or c.id in ids]
    return [run_case(c, rows) for c in chosen]
