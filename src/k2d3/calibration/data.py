"""The published trial numbers the joint calibration fits, and the validation set it never sees.

``data/trials.csv`` (beside the repository's ``src``; or ``$K2D3_TRIALS``) holds one row per
published number that k2d3 can simulate: an observable at a day in a trial arm (a subject
and a regimen), read as a statistic of that arm, optionally against a second arm. ``load``
turns the rows into ``Measurement`` objects whose subject and regimen went through k2d3's
own schemas, with the standard error of each published mean; ``conditions`` groups them
into the arms to simulate, each once. data/trials_README.md describes the columns.

Statistics of an arm whose observable reads y(t), with t0 = ``baseline_day``:
``value`` y(day); ``change`` y(day) - y(t0); ``pct_change`` 100 (y(day) / y(t0) - 1);
``ratio_to_baseline`` y(day) / y(t0). A contrast compares the arm's statistic s with the
same statistic of the ``versus`` arm (same subject): ``difference`` s - s_versus,
``pct_difference`` 100 (s / s_versus - 1).
"""
from __future__ import annotations

import csv
import hashlib
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from k2d3.calibration.split import split_of
from k2d3.errors import InputError
from k2d3.inputs.regimen import Regimen
from k2d3.inputs.subject import Subject
from k2d3.model.observables import observables

STATISTICS = ("value", "change", "pct_change", "ratio_to_baseline")
CONTRASTS = ("none", "difference", "pct_difference")
SPREAD_KINDS = ("SD", "SE", "CI95", "IQR", "range", "none")
SPLITS = ("calibration", "validation")
ESTIMATES = ("mean", "median", "individual")

#: A normal distribution's interquartile range in standard deviations (2 x 0.6745).
IQR_PER_SD = 1.349
Z95 = 1.96


@dataclass(frozen=True)
class Measurement:
    """One published number and how to compute its counterpart from simulated arms."""

    id: str
    study: str
    split: str
    observable: str
    statistic: str
    contrast: str
    day: float
    baseline_day: float
    subject: Subject
    regimen: Regimen
    versus: Regimen | None
    n: int | None
    value: float
    sd_of_mean: float | None
    source: str
    unit: str
    estimate: str
    spread_kind: str

    @property
    def arm(self) -> str:
        """The key of the condition this measurement reads."""
        return condition_key(self.subject, self.regimen)

    @property
    def reference(self) -> str | None:
        """The key of the comparison arm's condition, if the number is a contrast."""
        return None if self.versus is None else condition_key(self.subject, self.versus)

    def predicted(self, arm: Callable[[float], float], versus: Callable[[float], float] | None = None) -> float:
        """The simulated counterpart of ``value``; ``arm`` and ``versus`` give the observable
        of each arm at a day."""
        s = _statistic(self.statistic, arm, self.day, self.baseline_day)
        if self.contrast == "none":
            return s
        if versus is None:
            raise ValueError(f"{self.id}: a {self.contrast} needs the versus arm")
        r = _statistic(self.statistic, versus, self.day, self.baseline_day)
        return s - r if self.contrast == "difference" else 100.0 * (s / r - 1.0)


@dataclass(frozen=True)
class Condition:
    """One arm to simulate: a subject on a regimen until ``days``, read at ``times``."""

    key: str
    subject: Subject
    regimen: Regimen
    days: float
    times: tuple[float, ...]


def _statistic(kind: str, y: Callable[[float], float], day: float, t0: float) -> float:
    if kind == "value":
        return y(day)
    if kind == "change":
        return y(day) - y(t0)
    if kind == "pct_change":
        return 100.0 * (y(day) / y(t0) - 1.0)
    return y(day) / y(t0)


def condition_key(subject: Subject, regimen: Regimen) -> str:
    text = json.dumps([subject.model_dump(mode="json"), regimen.model_dump(mode="json")], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def trials_path() -> Path:
    """data/trials.csv: $K2D3_TRIALS, else ``data/`` in a directory above the package or the cwd."""
    env = os.environ.get("K2D3_TRIALS")
    if env:
        return Path(env)
    for base in (Path(__file__).resolve(), Path.cwd()):
        for parent in (base, *base.parents):
            candidate = parent / "data" / "trials.csv"
            if candidate.is_file():
                return candidate
    raise InputError("trials", "cannot find data/trials.csv; set K2D3_TRIALS")


def load(split: str | None = None, path: str | Path | None = None) -> list[Measurement]:
    """The rows of trials.csv as Measurements (one split, or all); a bad row fails with one
    line naming the row id and the field."""
    if split is not None and split not in SPLITS:
        raise InputError("split", f"must be one of {', '.join(SPLITS)} or None, got {split!r}")
    path = Path(path) if path is not None else trials_path()
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as exc:
        raise InputError("trials", f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    out, seen = [], set()
    for i, row in enumerate(rows, start=2):
        rid = (row.get("id") or "").strip() or f"line {i}"
        if rid in seen:
            raise InputError(f"{rid}.id", "appears more than once")
        seen.add(rid)
        m = _measurement(rid, row)
        if split is None or m.split == split:
            out.append(m)
    return out


def conditions(measurements: Iterable[Measurement]) -> list[Condition]:
    """The unique (subject, regimen) arms the measurements read, each with the last day
    and every day any of them needs (day, baseline_day), in first-seen order."""
    arms: dict[str, list] = {}
    for m in measurements:
        for regimen in (m.regimen, m.versus):
            if regimen is None:
                continue
            key = condition_key(m.subject, regimen)
            entry = arms.setdefault(key, [m.subject, regimen, set()])
            entry[2].update((m.day, m.baseline_day))
    return [Condition(k, s, r, max(t) if max(t) > 0 else 1.0, tuple(sorted(t))) for k, (s, r, t) in arms.items()]


def _measurement(rid: str, row: dict) -> Measurement:
    def field(name: str) -> str:
        if name not in row or row[name] is None:
            raise InputError(f"{rid}.{name}", "column is missing")
        return row[name].strip()

    def choice(name: str, allowed: tuple[str, ...]) -> str:
        v = field(name)
        if v not in allowed:
            raise InputError(f"{rid}.{name}", f"{v!r} is not one of {', '.join(allowed)}")
        return v

    def number(name: str, text: str | None = None) -> float:
        text = field(name) if text is None else text
        try:
            v = float(text)
        except ValueError:
            raise InputError(f"{rid}.{name}", f"{text!r} is not a number") from None
        if not math.isfinite(v):
            raise InputError(f"{rid}.{name}", f"{text!r} is not a finite number")
        return v

    def parsed(name: str) -> dict | None:
        text = field(name)
        if not text and name == "versus":
            return None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{rid}.{name}", f"not valid JSON ({exc.msg})") from None
        if not isinstance(data, dict):
            raise InputError(f"{rid}.{name}", "must be a JSON object")
        return data

    def schema(name: str, build: Callable):
        data = parsed(name)
        if data is None:
            return None
        if name != "subject" and ({"subject", "days"} & set(data)):
            raise InputError(f"{rid}.{name}", "the subject and days belong in their own columns")
        try:
            return build(data)
        except InputError as exc:
            raise InputError(f"{rid}.{name}.{exc.field}".rstrip("."), exc.problem) from None

    observable = field("observable")
    if observable not in observables():
        raise InputError(f"{rid}.observable", f"{observable!r} is not a k2d3 observable")
    unit = field("unit")
    if unit != observables()[observable].unit:
        raise InputError(f"{rid}.unit", f"{unit!r} is not the unit of {observable} ({observables()[observable].unit})")
    statistic, contrast = choice("statistic", STATISTICS), choice("contrast", CONTRASTS)
    if observable.endswith("_pct_change") and statistic != "value":
        raise InputError(f"{rid}.statistic", f"{observable} is already a % change from day 0: use value")
    day, baseline_day = number("day"), number("baseline_day")
    if day < 0 or baseline_day < 0 or baseline_day > day:
        raise InputError(f"{rid}.day", f"needs 0 <= baseline_day ({baseline_day:g}) <= day ({day:g})")
    study = field("study")
    split = choice("split", SPLITS)
    if split != split_of(study):
        raise InputError(f"{rid}.split", f"{split!r} but the split rule puts study {study!r} in {split_of(study)!r}")
    subject = schema("subject", lambda d: Subject.from_dict(d, prefix=""))
    regimen = schema("regimen", Regimen.from_dict)
    versus = schema("versus", Regimen.from_dict)
    if (versus is None) != (contrast == "none"):
        raise InputError(f"{rid}.versus", "a contrast needs a versus arm, and only a contrast has one")
    n_text = field("n")
    n = None if not n_text else int(number("n", n_text))
    if n is not None and n < 1:
        raise InputError(f"{rid}.n", f"must be at least 1, got {n}")
    value = number("published")
    for name in ("source", "url", "quote"):
        if not field(name):
            raise InputError(f"{rid}.{name}", "is empty")
    kind = choice("spread_kind", SPREAD_KINDS)
    return Measurement(rid, study, split, observable, statistic, contrast, day, baseline_day, subject, regimen,
                       versus, n, value, _sd_of_mean(rid, kind, field("spread"), n), field("source"), unit,
                       choice("estimate", ESTIMATES), kind)


def _sd_of_mean(rid: str, kind: str, spread: str, n: int | None) -> float | None:
    """The standard error of the published number from its spread: SE as given, SD / sqrt(n),
    a 95% CI's half-width / 1.96, an IQR / 1.349 / sqrt(n); none without a spread, a range
    (across subjects, not a precision), or an n for SD and IQR."""
    if kind in ("none", "range"):
        if kind == "none" and spread:
            raise InputError(f"{rid}.spread", "given but spread_kind is none")
        return None
    parts = spread.split(" to ")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise InputError(f"{rid}.spread", f"{spread!r} is not a number or 'low to high'") from None
    if kind in ("SD", "SE"):
        if len(numbers) != 1 or numbers[0] < 0:
            raise InputError(f"{rid}.spread", f"{kind} must be one non-negative number, got {spread!r}")
        if kind == "SE":
            return numbers[0]
        return numbers[0] / math.sqrt(n) if n else None
    if len(numbers) != 2 or numbers[0] > numbers[1]:
        raise InputError(f"{rid}.spread", f"{kind} must be 'low to high', got {spread!r}")
    lo, hi = numbers
    if kind == "CI95":
        return (hi - lo) / 2.0 / Z95
    return (hi - lo) / IQR_PER_SD / math.sqrt(n) if n else None
