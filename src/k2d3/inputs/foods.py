"""The food composition table (``data/foods.csv``): vitamin D and K forms, calcium and fat
per 100 g, with a source for each row. An empty cell means "not reported" (None), which
the engine treats as none eaten and the listing shows as "-".
"""
from __future__ import annotations

import csv
import difflib
import functools
from dataclasses import dataclass
from importlib import resources

from k2d3.errors import InputError

#: Nutrient columns (per 100 g) and the compound each is dosed as.
NUTRIENTS = {
    "d3_ug": "D3", "d2_ug": "D2", "ohd25_ug": "calcifediol", "k1_ug": "K1", "mk4_ug": "MK-4",
    "mk7_ug": "MK-7", "mk8_ug": "MK-8", "mk9_ug": "MK-9",
}


@dataclass(frozen=True)
class Food:
    name: str
    aliases: tuple[str, ...]
    group: str
    per_100g: dict[str, float | None]   # nutrient column -> amount, None if not reported
    calcium_mg: float | None
    fat_g: float | None
    mk_range_ug: tuple[float, float] | None
    source: str


def _num(text: str | None) -> float | None:
    text = (text or "").strip()
    return float(text) if text else None


@functools.cache
def foods() -> dict[str, Food]:
    path = resources.files("k2d3.inputs").joinpath("data/foods.csv")
    if not path.is_file():
        return {}
    out = {}
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            lo, hi = _num(row.get("mk_low_ug")), _num(row.get("mk_high_ug"))
            out[row["food"]] = Food(
                name=row["food"],
                aliases=tuple(a.strip() for a in (row.get("aliases") or "").split(";") if a.strip()),
                group=row.get("group", ""),
                per_100g={col: _num(row.get(col)) for col in NUTRIENTS},
                calcium_mg=_num(row.get("calcium_mg")),
                fat_g=_num(row.get("fat_g")),
                mk_range_ug=(lo, hi) if lo is not None and hi is not None else None,
                source=row.get("source", ""),
            )
    return out


def _key(text: str) -> str:
    return text.lower().strip().replace("-", " ").replace("_", " ")


@functools.cache
def _index() -> dict[str, str]:
    idx = {}
    for food in foods().values():
        for name in (food.name, *food.aliases):
            idx[_key(name)] = food.name
    return idx


def find(name: object, field: str = "food") -> Food:
    """The food called ``name`` (or an alias), or a one-line error suggesting close names."""
    if not isinstance(name, str) or not name.strip():
        raise InputError(field, f"expected a food name, got {name!r}")
    hit = _index().get(_key(name))
    if hit is None:
        key = _key(name)
        contained = [k for k in _index() if k in key or key in k]
        close = contained or difflib.get_close_matches(key, list(_index()), n=3, cutoff=0.6)
        names = sorted({_index()[c] for c in close})[:5]
        hint = f"; did you mean {', '.join(names)}?" if names else ""
        raise InputError(field, f"unknown food {name!r}{hint} (k2d3 foods lists them)")
    return foods()[hit]


def search(text: str | None = None) -> list[Food]:
    """Foods whose name, alias or group contains ``text`` (all foods without it)."""
    if not text:
        return list(foods().values())
    k = _key(text)
    return [f for f in foods().values()
            if k in _key(f.name) or k in _key(f.group) or any(k in _key(a) for a in f.aliases)]
