"""Unit strings of the model's tables (``parameters.yaml``, ``species.yaml``,
``observables.yaml``) as SBML unit definitions, converted with pint.

The tables write units as people do ("nmol/L", "1/hour", "mg/dL x uU/mL", "normalised").
pint parses them after a few project words are spelled out; each factor then becomes SBML
base units with their multiplier (1 hour = 3600 second, 1 L = 1 litre, 1 mmHg = 133.3 Pa).
Units that count nothing physical (normalised cell numbers, fractions, Agatston units,
insulin micro-units) are dimensionless; the International Unit is the WHO mass of vitamin D
(0.025 ug), the only IU the model uses.
"""
from __future__ import annotations

import functools
import re

import pint



@functools.cache
def _registry() -> pint.UnitRegistry:
    ureg = pint.UnitRegistry()
    ureg.define("vitamin_d_iu = 0.025 * microgram")
    ureg.define("arbitrary = []")
    ureg.define("insulin_unit = []")
    ureg.define("agatston = []")
    ureg.define("dobson = 2.6867e20 / meter ** 2 / avogadro_number * mole")
    ureg.define("decade_of_years = 10 * year")  # pint's own "decade" is logarithmic
    return ureg

#: the project's dimensionless counting units (pint keeps them as units of their own)
_DIMENSIONLESS = {"arbitrary", "insulin_unit", "agatston"}

#: Project words and layouts pint does not read, in the order they are replaced.
_WORDS = (
    (r"\bmL/min/1\.73 m2\b", "mL/min"),   # eGFR: per the standard 1.73 m2 of body surface
    (r"\bAgatston units\b", "agatston"),
    (r"\bDobson unit\b", "dobson"),
    (r"\bnormalised\b", "arbitrary"),
    (r"\bfraction\b", "dimensionless"),
    (r"\bIU\b", "vitamin_d_iu"),
    (r"\buU\b", "microinsulin_unit"),
    (r"\bdecade\b", "decade_of_years"),
    (r"\bx\b", "*"),
    (r"([A-Za-z])([23])\b", r"\1**\2"),   # m2 -> m**2
    (r"\^", "**"),
)

#: pint base units -> SBML unit kinds (and the factor from pint's base to the SBML kind).
_KINDS = {"kilogram": ("gram", 1000.0), "meter": ("metre", 1.0), "second": ("second", 1.0),
          "mole": ("mole", 1.0), "kelvin": ("kelvin", 1.0), "ampere": ("ampere", 1.0),
          "candela": ("candela", 1.0), "radian": ("radian", 1.0)}


def _pint_text(text: str) -> str:
    out = text.strip()
    for pattern, repl in _WORDS:
        out = re.sub(pattern, repl, out)
    if " per " in out:  # "A per B/C" is A / (B/C)
        left, right = out.split(" per ", 1)
        out = f"({left}) / ({right})"
    return out


Unit = tuple[str, float, float]  # (SBML kind, exponent, multiplier): (multiplier * kind)^exponent


@functools.cache
def sbml_units(text: str) -> tuple[Unit, ...]:
    """The SBML units whose product is ``text`` (dimensionless with the factor, when no kind
    remains). A kind that appears in several factors (J/m2: metre^2 and metre^-2) is merged."""
    ureg = _registry()
    q = ureg.Quantity(1.0, _pint_text(text))
    parts: list[Unit] = []
    factor = 1.0
    for name, exponent in q.units._units.items():
        one = ureg.Quantity(1.0, name)
        if name in _DIMENSIONLESS:
            continue
        if name.endswith(("liter", "litre")):
            parts.append(("litre", float(exponent), one.to("liter").magnitude))
            continue
        base = one.to_base_units()
        items = [(b, e) for b, e in base.units._units.items() if b not in _DIMENSIONLESS]
        if len(items) == 1 and items[0][1] == 1 and items[0][0] in _KINDS:
            kind, k = _KINDS[items[0][0]]
            parts.append((kind, float(exponent), base.magnitude * k))
            continue
        scale = base.magnitude
        for b, e in items:
            if b not in _KINDS:
                raise ValueError(f"unit {text!r}: no SBML kind for {b!r}")
            kind, k = _KINDS[b]
            parts.append((kind, float(e * exponent), 1.0))
            scale *= k ** e
        factor *= scale ** exponent
    out: list[Unit] = []
    for kind in dict.fromkeys(k for k, _, _ in parts):
        mine = [(e, m) for k, e, m in parts if k == kind]
        if len(mine) == 1:
            out.append((kind, mine[0][0], _round(mine[0][1])))
            continue
        exponent = sum(e for e, _ in mine)
        for e, m in mine:
            factor *= m ** e
        if exponent:
            out.append((kind, exponent, 1.0))
    if _round(factor) != 1.0 or not out:
        out.append(("dimensionless", 1.0, _round(factor)))
    return tuple(out)


def _round(x: float) -> float:
    return float(f"{x:.15g}")


def unit_id(text: str) -> str:
    """An SBML id for the unit written ``text`` (u_nmol_per_L for "nmol/L")."""
    s = text.strip().replace("/", "_per_").replace("^", "").replace("*", "_x_").replace(".", "_")
    s = re.sub(r"[^A-Za-z0-9_]+", "_", s).strip("_")
    return "u_" + re.sub(r"_+", "_", s)
