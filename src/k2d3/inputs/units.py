"""Units at the boundary: text such as "2000 IU", "180 ug" or "7 days" into model units.

The model counts amounts in nmol and time in hours. pint parses and converts; the only
thing it cannot know is the International Unit, which is defined per compound (vitamin D
only), so IU is its own dimension here and converted with the compound's factor.
"""
from __future__ import annotations

import functools
import math

import pint

from k2d3.errors import InputError

_ureg = pint.UnitRegistry()
_ureg.define("international_unit = [vitamin_activity] = IU")
_ureg.define("mcg = microgram")
Quantity = _ureg.Quantity

#: 1 ng/mL 25(OH)D = 2.496 nmol/L (molar mass 400.6 g/mol); used where published data are in ng/mL.
NG_ML_25OHD_IN_NMOL_L = 2.496  # 1 ng/mL 25(OH)D = 2.496 nmol/L (molar mass 400.6 g/mol)


@functools.lru_cache(maxsize=2048)
def _parse(text: str) -> pint.Quantity:
    return Quantity(text.replace("µ", "u").replace("μ", "u"))


def quantity(value: object, field: str) -> pint.Quantity:
    """Parse ``value`` ("180 ug", "2000 IU", "1 day") or fail with a one-line error."""
    if isinstance(value, bool) or value is None:
        raise InputError(field, f"expected a quantity with a unit such as '180 ug', got {value!r}")
    if isinstance(value, (int, float)):
        raise InputError(field, f"{value!r} has no unit; write it as e.g. '{value} ug'")
    if not isinstance(value, str) or not value.strip():
        raise InputError(field, f"expected a quantity with a unit, got {value!r}")
    try:
        q = _parse(value.strip())
    except Exception:  # pint raises several unrelated types for bad text
        raise InputError(field, f"cannot read {value!r} as a quantity with a unit") from None
    if not isinstance(q, pint.Quantity) or q.dimensionless:
        raise InputError(field, f"{value!r} has no unit; write it as e.g. '{value} ug'")
    if not math.isfinite(q.magnitude):
        raise InputError(field, f"{value!r} is not a finite number")
    return q


def amount_nmol(value: object, field: str, molar_mass_g_mol: float, iu_per_ug: float | None,
                compound: str) -> float:
    """A dose as nmol of ``compound``: mass units always, IU only where defined."""
    q = quantity(value, field)
    if q.magnitude < 0:
        raise InputError(field, f"dose must not be negative, got {value!r}")
    if q.check("[vitamin_activity]"):
        if iu_per_ug is None:
            raise InputError(field, f"IU is not defined for {compound}; give the dose in ug or mg")
        ug = q.to("IU").magnitude / iu_per_ug
    elif q.check("[mass]"):
        ug = q.to("microgram").magnitude
    else:
        raise InputError(field, f"unit of {value!r} is not a mass (ug, mg, g) or IU")
    return ug * 1000.0 / molar_mass_g_mol  # ug -> nmol: ug * 1e3 ng/ug / (g/mol)


def mass_mg(value: object, field: str) -> float:
    """A mass in mg (calcium doses, food grams)."""
    q = quantity(value, field)
    if not q.check("[mass]"):
        raise InputError(field, f"unit of {value!r} is not a mass")
    if q.magnitude < 0:
        raise InputError(field, f"must not be negative, got {value!r}")
    return q.to("milligram").magnitude


def duration_hours(value: object, field: str) -> float:
    """A duration ("1 day", "7 days", "12 h") in hours; a bare number means days."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        hours = float(value) * 24.0
    else:
        q = quantity(value, field)
        if not q.check("[time]"):
            raise InputError(field, f"{value!r} is not a duration")
        hours = q.to("hour").magnitude
    if not math.isfinite(hours) or hours <= 0:
        raise InputError(field, f"must be a positive duration, got {value!r}")
    return hours
