"""The observables (``observables.yaml``): names with units, labels, ranges, evidence."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

import yaml

from k2d3.model.build import EVIDENCE_LEVELS


@dataclass(frozen=True)
class Observable:
    name: str
    unit: str
    label: str
    description: str
    evidence: str
    range: tuple[float, float] | None
    range_source: str


@functools.cache
def observables() -> dict[str, Observable]:
    raw = yaml.safe_load(resources.files("k2d3.model").joinpath("observables.yaml").read_text())
    out = {}
    for name, e in raw.items():
        if e["evidence"] not in EVIDENCE_LEVELS:
            raise ValueError(f"observables.yaml: {name} has unknown evidence {e['evidence']!r}")
        rng = tuple(e["range"]) if e.get("range") else None
        out[name] = Observable(name, e["unit"], e["label"], e["description"], e["evidence"], rng,
                               e["range_source"])
    return out


def names() -> list[str]:
    return list(observables())
