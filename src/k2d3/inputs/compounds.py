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
    medication: bool = False   # a drug, given under `medications:`

    def nmol(self, ug: float) -> float:
        """Micrograms of this compound as nmol."""
        return ug * 1000.0 / self.molar_mass_g_mol

    def ug(self, nmol: float) -> float:
        """nmol of this compound as micrograms."""
        return nmol * self.molar_mass_g_mol / 1000.0



@functools.cache
def compounds() -> dict[str, Compound]:
    raw = yaml.safe_load(resources.files("k2d3.inputs").joinpath("data/compounds.yaml").read_text())
    def scale(e: dict) -> float:  # depot units per nmol
        unit = e.get("amount_unit", "nmol")
        return {"nmol": 1.0, "mmol": 1e-6, "mg": e["molar_mass_g_mol"] * 1e-6}[unit]

    return {name: Compound(name, e["molar_mass_g_mol"], e.get("iu_per_ug"), e["target"], e["source"],
                           scale(e), bool(e.get("medication", False)))
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


def find(name: object, field: str, medication: bool = False) -> Compound:
    """The compound (or, with ``medication``, the drug) called ``name`` (case and dashes
    ignored), or a one-line error."""
    kind = "drug" if medication else "compound"
    if not isinstance(name, str):
        raise InputError(field, f"expected a {kind} name, got {name!r}")
    known = [n for n, c in compounds().items() if c.medication == medication]
    hit = _aliases().get(_key(name))
    if hit is None or hit not in known:
        close = difflib.get_close_matches(name, known, n=3)  # difflib's 0.6: "aspirin" is not "warfarin"
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise InputError(field, f"unknown {kind} {name!r} (known: {', '.join(known)}){hint}")
    return compounds()[hit]
