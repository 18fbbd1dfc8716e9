"""Reference intakes (RDA/AI/PRI) and tolerable upper intakes (UL) of IOM and EFSA for one
subject (``data/intake_limits.yaml``): they depend on age, sex, body weight and pregnancy,
so they are looked up per subject, never hard-coded where they are used.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

import yaml

from k2d3.inputs.subject import Subject

#: Compound groups the limits apply to (intakes of these compounds are summed).
GROUPS = ("vitamin_d", "vitamin_k", "calcium")


@dataclass(frozen=True)
class Limit:
    group: str
    body: str                 # IOM | EFSA
    kind: str                 # RDA | AI | PRI | UL
    value: float | None       # ug/day (calcium: mg/day); None: no value set
    unit: str
    compounds: tuple[str, ...]
    source: str

    @property
    def upper(self) -> bool:
        return self.kind == "UL"


@functools.cache
def table() -> dict:
    return yaml.safe_load(resources.files("k2d3.inputs").joinpath("data/intake_limits.yaml").read_text())


def _applies(entry: dict, subject: Subject) -> bool:
    if "sex" in entry and entry["sex"] != subject.sex:
        return False
    if subject.age < entry.get("age_min", 0) or subject.age > entry.get("age_max", 200) + 0.999:
        return False
    return True


def for_subject(subject: Subject) -> list[Limit]:
    """The limits that apply to ``subject``: one per (group, body, kind), first match wins."""
    raw = table()
    seen: set[tuple[str, str, str]] = set()
    out = []
    for e in raw["references"]:
        key = (e["group"], e["body"], e["kind"])
        if key in seen or not _applies(e, subject):
            continue
        seen.add(key)
        value = e.get("value")
        if e.get("per_kg") is not None:
            value = e["per_kg"] * subject.weight_kg
        group = raw[e["group"]]
        unit = group.get("unit", "ug/day")
        out.append(Limit(e["group"], e["body"], e["kind"], value, unit,
                         tuple(e.get("compounds", group["compounds"])), e["source"]))
    return out


def lowest_upper(subject: Subject, group: str) -> Limit | None:
    """The strictest UL of ``group`` that applies to ``subject`` (None if none is set)."""
    uls = [lim for lim in for_subject(subject) if lim.group == group and lim.upper and lim.value is not None]
    if not uls:
        return None
    low = min(uls, key=lambda lim: lim.value)
    bodies = " and ".join(lim.body for lim in uls if lim.value == low.value)
    return Limit(low.group, bodies, low.kind, low.value, low.unit, low.compounds,
                 "; ".join(lim.source for lim in uls if lim.value == low.value))
