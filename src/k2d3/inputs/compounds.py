"""The compounds a regimen may name (``data/compounds.yaml``), found by name or alias."""
from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass
from importlib import resources

import yaml

from k2d3.errors import InputError


@dataclass(frozen=True)
class Compound:
    name: str
    molar_mass_g_mol: float
    iu_per_ug: float | None
    target: str
    source: str
    amount_scale: float = 1.0  # model units per nmol: 1e-6 where the depot counts mmol



@functools.cache
def compounds() -> dict[str, Compound]:
    raw = yaml.safe_load(resources.files("k2d3.inputs").joinpath("data/compounds.yaml").read_text())
    scale = {"nmol": 1.0, "mmol": 1e-6}
    return {name: Compound(name, e["molar_mass_g_mol"], e.get("iu_per_ug"), e["target"], e["source"],
                           scale[e.get("amount_unit", "nmol")])
            for name, e in raw.items()}


@functools.cache
def _aliases() -> dict[str, str]:
    raw = yaml.safe_load(resources.files("k2d3.inputs").joinpath("data/compounds.yaml").read_text())
    out = {}
    for name, e in raw.items():
        for alias in [name, *e.get("aliases", [])]:
            out[_key(alias)] = name
    return out


def _key(text: str) -> str:
    return text.lower().replace("-", "").replace(" ", "").replace("_", "")


def find(name: object, field: str) -> Compound:
    """The compound called ``name`` (case and dashes ignored), or a one-line error."""
    if not isinstance(name, str):
        raise InputError(field, f"expected a compound name, got {name!r}")
    hit = _aliases().get(_key(name))
    if hit is None:
        close = difflib.get_close_matches(name, list(compounds()), n=3, cutoff=0.4)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise InputError(field, f"unknown compound {name!r} (known: {', '.join(compounds())}){hint}")
    return compounds()[hit]
