"""The food composition table (``data/foods.csv``) and its references (``data/food_sources.yaml``).

Per 100 g: vitamin D forms, K1, each menaquinone MK-4..MK-10, total menaquinones with the
range across analyses, calcium and fat; portion weights; and for each value the source it
comes from. An empty cell is "not reported" (None): the engine doses nothing for it and the
intake report names the food as not counted.

Menaquinones go to the model's depots by chain length (the model has K1, MK-4, MK-7 and a
long-chain MK-8/MK-9 pool): MK-5 to MK-4 (nearest chain), MK-6 to MK-7 (nearest chain),
MK-8, MK-9 and MK-10 to the long-chain pool. Where an analysis gives total menaquinones
but not their forms (most cheeses), that total is dosed as ``MK-unspecified`` into the
long-chain pool: cheese menaquinones are mostly MK-8 to MK-11. The depots are set in
``data/compounds.yaml``; docs/model.md explains the mapping.
"""
from __future__ import annotations

import csv
import difflib
import functools
import math
import re
from dataclasses import dataclass
from importlib import resources

import yaml

from k2d3.errors import InputError

#: Nutrient columns (per 100 g) and the compound each is dosed as.
NUTRIENTS = {
    "d3_ug": "D3", "d2_ug": "D2", "ohd25_ug": "calcifediol", "k1_ug": "K1", "mk4_ug": "MK-4",
    "mk5_ug": "MK-5", "mk6_ug": "MK-6", "mk7_ug": "MK-7", "mk8_ug": "MK-8", "mk9_ug": "MK-9",
    "mk10_ug": "MK-10",
}
MK_COLUMNS = ("mk4_ug", "mk5_ug", "mk6_ug", "mk7_ug", "mk8_ug", "mk9_ug", "mk10_ug")
#: Menaquinones an analysis reports only as a total (dosed into the long-chain pool).
UNSPECIFIED_MK = "MK-unspecified"
#: Nutrient groups for "not reported": a food lacks a group when every column of it is empty.
GROUPS = {"vitamin D": ("d3_ug", "d2_ug", "ohd25_ug"), "K1": ("k1_ug",),
          "menaquinones (K2)": (*MK_COLUMNS, "mk_total_ug"), "calcium": ("calcium_mg",)}
VALUE_COLUMNS = (*NUTRIENTS, "mk_total_ug", "mk_low_ug", "mk_high_ug", "calcium_mg", "fat_g")
_ROUNDING_UG = 0.05  # per-form values are rounded in the sources


@dataclass(frozen=True)
class Food:
    name: str
    aliases: tuple[str, ...]
    group: str
    country: str
    fortification: str
    per_100g: dict[str, float | None]   # nutrient column -> amount, None if not reported
    mk_total_ug: float | None           # central total menaquinones (what intake uses)
    mk_range_ug: tuple[float, float] | None
    calcium_mg: float | None
    fat_g: float | None
    portions: dict[str, float]          # portion label (as in the table) -> grams
    sources: tuple[tuple[tuple[str, ...], str, str], ...]  # (columns, reference key, detail)
    notes: tuple[str, ...]

    @property
    def source(self) -> str:
        """All references of the row, one line."""
        return "; ".join([f"{k}: {d}" for _, k, d in self.sources] + list(self.notes))

    def source_of(self, column: str) -> list[tuple[str, str]]:
        """(reference key, detail) for one column."""
        return [(k, d) for cols, k, d in self.sources if column in cols]

    def value(self, column: str) -> float | None:
        return {"mk_total_ug": self.mk_total_ug, "calcium_mg": self.calcium_mg,
                "fat_g": self.fat_g}.get(column, self.per_100g.get(column))

    def reported(self, group: str) -> bool:
        return any(self.value(c) is not None for c in GROUPS[group])


def _num(text: str | None) -> float | None:
    text = (text or "").strip()
    return float(text) if text else None


def _sources(text: str) -> tuple[tuple, tuple]:
    refs, notes = [], []
    for entry in (e.strip() for e in (text or "").split(" | ")):
        if not entry:
            continue
        cols, sep, rest = entry.partition("=")
        key, colon, detail = rest.partition(":")
        if sep and colon and re.fullmatch(r"[a-z0-9_,]+", cols):
            refs.append((tuple(cols.split(",")), key.strip(), detail.strip()))
        else:
            notes.append(entry)
    return tuple(refs), tuple(notes)


def _portions(text: str) -> dict[str, float]:
    out = {}
    for part in (p for p in (text or "").split(";") if p.strip()):
        label, _, grams = part.rpartition("=")
        out[label.strip()] = float(grams)
    return out


@functools.cache
def foods() -> dict[str, Food]:
    path = resources.files("k2d3.inputs").joinpath("data/foods.csv")
    out = {}
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            lo, hi = _num(row.get("mk_low_ug")), _num(row.get("mk_high_ug"))
            refs, notes = _sources(row.get("sources", ""))
            out[row["food"]] = Food(
                name=row["food"],
                aliases=tuple(a.strip() for a in (row.get("aliases") or "").split(";") if a.strip()),
                group=row.get("group", ""), country=row.get("country", ""),
                fortification=row.get("fortification", ""),
                per_100g={col: _num(row.get(col)) for col in NUTRIENTS},
                mk_total_ug=_num(row.get("mk_total_ug")),
                mk_range_ug=(lo, hi) if lo is not None and hi is not None else None,
                calcium_mg=_num(row.get("calcium_mg")), fat_g=_num(row.get("fat_g")),
                portions=_portions(row.get("portions", "")), sources=refs, notes=notes)
    return out


@functools.cache
def references() -> dict[str, dict]:
    """Reference key -> {citation, doi/pmid/url, seen}: what each source key in foods.csv means."""
    text = resources.files("k2d3.inputs").joinpath("data/food_sources.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def citation(key: str) -> str:
    ref = references().get(key, {})
    ids = ", ".join(f"{k}:{ref[k]}" for k in ("doi", "pmid") if ref.get(k)) or ref.get("url", "")
    return f"{ref.get('citation', key)}" + (f" ({ids})" if ids else "")


def dosed_per_100g(food: Food) -> dict[str, float]:
    """Compound -> ug per 100 g as the engine doses it: the per-form values, plus any total
    menaquinones not accounted for by them as ``MK-unspecified``."""
    out = {NUTRIENTS[c]: v for c, v in food.per_100g.items() if v}
    if food.mk_total_ug:
        rest = food.mk_total_ug - sum(food.per_100g[c] or 0.0 for c in MK_COLUMNS)
        if rest > _ROUNDING_UG:
            out[UNSPECIFIED_MK] = rest
    if food.calcium_mg:
        out["calcium"] = 1000.0 * food.calcium_mg
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


def _unit_key(text: str) -> str:
    """'Slices' -> 'slice', 'cup, diced' -> 'cup diced': case, punctuation and plural 's' dropped."""
    words = re.sub(r"[^a-z0-9 ]+", " ", text.lower()).split()
    return " ".join(w[:-2] if w.endswith(("ches", "shes")) else w[:-1] if w.endswith("s") and len(w) > 3
                    and not w.endswith("ss") else w for w in words)


def _portion_grams(food: Food, unit: str) -> float | None:
    """The weight of one ``unit`` of ``food``: a table label matched whole, or by its head word
    ('slice' for 'slice (1 oz)', 'cup' for the first 'cup, ...' entry)."""
    want = _unit_key(unit)
    for label, grams in food.portions.items():
        if _unit_key(label) == want:
            return grams
    for label, grams in food.portions.items():
        if _unit_key(re.split(r"[,(]", label)[0]) == want:
            return grams
    return None


_AMOUNT = re.compile(r"^\s*(?:(\d+(?:\.\d*)?|\.\d+)(?:\s*/\s*(\d+(?:\.\d*)?))?|(-\S*))\s*(.*?)\s*$")


def portion_grams(food: Food, text: object, field: str = "portion") -> float:
    """Grams in ``text`` ('2 slices', '1 egg', '1/2 cup', '30 g') of ``food``, or a one-line error
    listing the food's portions."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        text = f"{text} g"
    if not isinstance(text, str) or not text.strip():
        raise InputError(field, f"expected an amount and a portion such as '1 cup' or '30 g', got {text!r}")
    m = _AMOUNT.match(text)
    if not m or m.group(3) is not None:
        raise InputError(field, f"{text!r}: give a positive number then a portion, e.g. '2 slices' or '30 g'")
    count = float(m.group(1)) / (float(m.group(2)) if m.group(2) else 1.0)
    unit = m.group(4)
    if not math.isfinite(count) or count <= 0:
        raise InputError(field, f"{text!r}: the amount must be positive")
    if _unit_key(unit) in ("g", "gram", "gramme"):
        grams = count
    elif not unit:
        raise InputError(field, f"{text!r}: name the portion ({_known(food)}) or give grams")
    else:
        one = _portion_grams(food, unit)
        if one is None:
            raise InputError(field, f"no portion {unit!r} for {food.name}; known: {_known(food)}")
        grams = count * one
    if grams > 5000:
        raise InputError(field, f"{text!r} is {grams:g} g, more than 5000 g of one food at once")
    return grams


def _known(food: Food) -> str:
    return ", ".join(f"{k} ({v:g} g)" for k, v in food.portions.items()) + ", or grams ('30 g')" \
        if food.portions else "grams only ('30 g'): the table lists no portions for this food"


#: ``k2d3 foods --rich-in``: name -> compounds summed (as dosed, ug; calcium mg).
RICH_IN = {"D": ("D3", "D2", "calcifediol"), "D3": ("D3",), "D2": ("D2",), "K1": ("K1",),
           "K2": ("MK-4", "MK-5", "MK-6", "MK-7", "MK-8", "MK-9", "MK-10", UNSPECIFIED_MK),
           "MK-4": ("MK-4",), "MK-7": ("MK-7",), "MK-9": ("MK-9",), "calcium": ("calcium",)}


def rich_in(nutrient: str, per: str = "100g") -> list[tuple[Food, float, str]]:
    """Foods ranked by ``nutrient`` per 100 g or per the food's first listed portion:
    [(food, amount, basis)], largest first; foods without it are left out."""
    key = {k.lower(): k for k in RICH_IN}.get(nutrient.strip().lower())
    if key is None:
        raise InputError("--rich-in", f"unknown nutrient {nutrient!r}; known: {', '.join(RICH_IN)}")
    if per not in ("100g", "portion"):
        raise InputError("--per", f"expected '100g' or 'portion', got {per!r}")
    scale = 1e-3 if key == "calcium" else 1.0
    out = []
    for food in foods().values():
        amount = scale * sum(dosed_per_100g(food).get(c, 0.0) for c in RICH_IN[key])
        if amount <= 0:
            continue
        if per == "portion":
            if not food.portions:
                continue
            label, grams = next(iter(food.portions.items()))
            out.append((food, amount * grams / 100.0, f"1 {label} ({grams:g} g)"))
        else:
            out.append((food, amount, "100 g"))
    return sorted(out, key=lambda t: -t[1])
