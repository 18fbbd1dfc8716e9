"""The article's testable claims (``data/claims.yaml``) against the model and human data.

For every claim: what the model predicts for a matching subject and regimen, what the
published rows of calibration.csv say, and a verdict computed from those numbers and the
criteria written in the YAML (never stated there).

Grades of one number against a claim's criterion (``expect``):

- ``meets``: the claimed direction (against ``no_effect``, 0 unless stated: 1 for a ratio),
  a confidence interval that excludes no effect where one is given, and the claimed magnitude (``at_least``: x >= a for an
  increase, x <= -a for a decrease; ``claimed`` within ``within`` of the article's number;
  or inside ``range``);
- ``direction``: the direction holds but the magnitude does not, or the row may only speak
  to direction (``judge: direction_only``: observational data, another vitamin K form or
  another endpoint);
- ``no effect shown``: the direction of the point estimate holds but the interval includes
  the null;
- ``contradicts``: the other direction (or outside the claimed range).

A part's data grade: every row meets -> meets; else any meets/direction -> direction; else
any contradicts -> contradicts; else no effect shown; no row -> no data. The verdict:

- ``untestable in the model``: an observable the claim needs is not in the model (yet);
- ``supported``: every part meets;
- ``partly supported``: some part meets or holds in direction;
- ``not supported by human data``: no part does (contradicted, no effect shown, no data).
"""
from __future__ import annotations

import functools
import importlib
import math
from dataclasses import dataclass, field
from importlib import resources

import yaml

from k2d3.errors import InputError

VERDICTS = ("supported", "partly supported", "not supported by human data", "untestable in the model")
GRADES = ("meets", "direction", "no effect shown", "contradicts", "no data")


@functools.cache
def claims() -> list[dict]:
    return yaml.safe_load(resources.files("k2d3.analyses").joinpath("data/claims.yaml").read_text())


def quotes(claim: dict) -> list[str]:
    q = claim["quote"]
    return [q] if isinstance(q, str) else list(q)


def item_value(item: dict) -> float:
    v = item["value"]
    if isinstance(v, dict):
        a, b = v["ratio"]
        return a / b
    return float(v)


def item_rows(item: dict) -> list[str]:
    return list(item.get("rows") or [item["row"]])


# ---------------------------------------------------------------- grading (pure)

def grade(x: float | None, expect: dict, ci=None, no_effect: float | None = None,
          judge: str | None = None) -> str:
    """One number against the claim's criterion (see the module docstring)."""
    if x is None or not math.isfinite(x):
        return "no data"
    if "range" in expect:
        lo, hi = expect["range"]
        return "meets" if lo <= x <= hi else "contradicts"
    null = expect.get("no_effect", 0.0) if no_effect is None else no_effect
    sign = 1.0 if expect["direction"] == "increase" else -1.0
    if sign * (x - null) <= 0:
        return "contradicts"
    if judge == "direction_only":
        return "direction"
    if ci is not None:
        near = min(ci) if sign > 0 else max(ci)
        if sign * (near - null) <= 0:
            return "no effect shown"
    if "at_least" in expect and sign * x < expect["at_least"]:
        return "direction"
    if "claimed" in expect and abs(x - expect["claimed"]) > expect.get("within", 0.0) * abs(expect["claimed"]):
        return "direction"
    return "meets"


def combine(grades: list[str]) -> str:
    """The data grade of one part from its rows' grades."""
    if not grades:
        return "no data"
    if all(g == "meets" for g in grades):
        return "meets"
    if any(g in ("meets", "direction") for g in grades):
        return "direction"
    if any(g == "contradicts" for g in grades):
        return "contradicts"
    return "no effect shown"


def verdict(part_grades: list[str], missing: list[str]) -> str:
    if missing:
        return "untestable in the model"
    if part_grades and all(g == "meets" for g in part_grades):
        return "supported"
    if any(g in ("meets", "direction") for g in part_grades):
        return "partly supported"
    return "not supported by human data"


# ---------------------------------------------------------------- the model's numbers

def _effect(spec: dict, names: list[str]) -> dict[str, float]:
    from k2d3.engine.simulate import simulate
    from k2d3.inputs.regimen import Regimen
    from k2d3.inputs.subject import Subject

    subject = Subject.from_dict(spec.get("subject") or {})
    runs = {k: simulate(subject, Regimen.from_dict(spec.get(k) or {}), days=spec["days"]).timecourse
            for k in ("treatment", "control")}
    out = {}
    for n in names:
        t0, t, c = (float(runs["treatment"][n].iloc[0]), float(runs["treatment"][n].iloc[-1]),
                    float(runs["control"][n].iloc[-1]))
        out.update({f"{n}.difference": t - c, f"{n}.treatment_end": t, f"{n}.control_end": c,
                    f"{n}.relative_pct": 100.0 * (t / c - 1.0) if c else math.nan,
                    f"{n}.treatment_change": t - t0,
                    f"{n}.treatment_change_pct": 100.0 * (t / t0 - 1.0) if t0 else math.nan})
    return out


def _factorial(spec: dict, names: list[str]) -> dict[str, float]:
    from k2d3.analyses.compare import compare
    from k2d3.inputs.regimen import Regimen
    from k2d3.inputs.subject import Subject

    table = compare(Subject.from_dict(spec.get("subject") or {}), Regimen.from_dict(spec["regimen"]),
                    days=spec["days"]).table
    out = {}
    for n in names:
        r = table.loc[n]
        out.update({f"{n}.effect_D": r["effect_D"], f"{n}.effect_K": r["effect_K"],
                    f"{n}.effect_DK": r["end_DK"] - r["end_placebo"], f"{n}.interaction": r["interaction"],
                    f"{n}.interaction_over_tolerance": r["interaction"] / r["tolerance"] if r["tolerance"] else math.nan})
    return {k: float(v) for k, v in out.items()}


def _cases(spec: dict, names: list[str]) -> dict[str, float]:
    out = {}
    for key, ref in spec["cases"].items():
        module, func = ref.rsplit(".", 1)
        out[key] = float(getattr(importlib.import_module(f"k2d3.analyses.{module}"), func)(None))
    return out


KINDS = {"effect": _effect, "factorial": _factorial, "cases": _cases}


def model_numbers(claim: dict) -> dict[str, float]:
    spec = claim["model"]
    return KINDS[spec["kind"]](spec, list(claim["requires"]))


def part_value(expr: str, numbers: dict[str, float]) -> float | None:
    """A part's number: a key of ``numbers``, or ``a / b``."""
    if "/" in expr:
        a, b = (numbers.get(s.strip()) for s in expr.split("/"))
        return None if a is None or b in (None, 0) else a / b
    return numbers.get(expr)


# ---------------------------------------------------------------- outcomes

@dataclass(frozen=True)
class Published:
    rows: list[str]
    value: float
    ci: tuple[float, float] | None
    grade: str
    because: str = ""


@dataclass(frozen=True)
class Part:
    label: str
    model_value: float | None
    model_grade: str
    published: list[Published]
    data_grade: str


@dataclass(frozen=True)
class Outcome:
    id: str
    claim: str
    quote: list[str]
    verdict: str
    reason: str
    missing: list[str]
    parts: list[Part] = field(default_factory=list)


def _num(v: float | None) -> str:
    if v is None or not math.isfinite(v):
        return "-"
    return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"


def _reason(claim: dict, parts: list[Part], missing: list[str]) -> str:
    bits = []
    for p in parts:
        label = p.label.split(";")[0].split(" (")[0]
        if p.published:
            data = ", ".join(f"{_num(x.value)} ({f'CI {_num(x.ci[0])} to {_num(x.ci[1])}, ' if x.ci else ''}"
                             f"{' / '.join(x.rows)})" for x in p.published)
            data = f"data {data}: {p.data_grade}"
        else:
            data = "no human data in calibration.csv"
        model = "model lacks the observable" if missing else f"model {_num(p.model_value)}: {p.model_grade}"
        bits.append(f"{label}: {data}; {model}")
    head = f"untestable until the model has {', '.join(missing)} ({'; '.join(bits)})" if missing else "; ".join(bits)
    return head + "."


def evaluate(claim: dict, present: set[str] | None = None, numbers: dict[str, float] | None = None) -> Outcome:
    """One claim. ``present``: the model's observables (default: observables.yaml);
    ``numbers``: the model's numbers (default: simulate them; tests pass their own)."""
    if present is None:
        from k2d3.model import observables

        present = set(observables.names())
    missing = [o for o in claim["requires"] if o not in present]
    if numbers is None:
        numbers = {} if missing else model_numbers(claim)
    parts = []
    for p in claim["parts"]:
        pubs = [Published(item_rows(item), item_value(item), tuple(item["ci"]) if item.get("ci") else None,
                          grade(item_value(item), p["expect"], item.get("ci"), item.get("no_effect"), item.get("judge")),
                          item.get("because", ""))
                for item in p.get("published") or []]
        mv = None if missing else part_value(p["value"], numbers)
        mgrade = "no data" if missing else grade(mv, p.get("model_expect") or p["expect"])
        parts.append(Part(p["label"], mv, mgrade, pubs, combine([x.grade for x in pubs])))
    v = verdict([p.data_grade for p in parts], missing)
    return Outcome(claim["id"], claim["claim"], quotes(claim), v, _reason(claim, parts, missing), missing, parts)


def check(claim_list: list[dict] | None = None) -> None:
    """Every claim's rows exist in calibration.csv and hold the numbers quoted from them."""
    from k2d3.analyses.validate import calibration_rows

    rows = calibration_rows()
    for c in claim_list or claims():
        for p in c["parts"]:
            for item in p.get("published") or []:
                texts = item["text"] if isinstance(item["text"], list) else [item["text"]]
                for row_id, text in zip(item_rows(item) * len(texts) if len(item_rows(item)) == 1 else item_rows(item),
                                        texts):
                    if row_id not in rows:
                        raise ValueError(f"claims.yaml {c['id']}: no calibration.csv row {row_id!r}")
                    where = f"{rows[row_id]['published']} {rows[row_id]['accept']}"
                    if text not in where:
                        raise ValueError(f"claims.yaml {c['id']}: {text!r} is not in row {row_id}")


def run(ids: list[str] | None = None) -> list[Outcome]:
    known = [c["id"] for c in claims()]
    for i in ids or []:
        if i not in known:
            raise InputError("id", f"no claim {i!r} (known: {', '.join(known)})")
    check()
    return [evaluate(c) for c in claims() if not ids or c["id"] in ids]
