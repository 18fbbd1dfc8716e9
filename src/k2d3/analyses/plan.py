"""The dose finder: the smallest daily doses of the allowed forms that reach every target,
at steady state or by a horizon, without firing a safety rule.

Doses act monotonically on the levels they move, so each form is one dimension searched by
root finding (scipy's brentq) on the simulated value: a handful of runs per form. Forms are
searched in the order given, each holding the doses found before it; every target goes to
the first form that moves it the needed way. The found regimen is then simulated once more
and passed through the safety advisor: a rule it fires that the subject's regimen without
the planned doses does not fire makes the plan unsafe, and then no safe regimen of these
forms reaches the target (a larger dose only fires it harder). Rules about the subject
(pregnancy, kidney disease, ...) are reported with the plan, as advice.
"""
from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml
from scipy.optimize import brentq

from k2d3.engine import advisor
from k2d3.engine.simulate import simulate
from k2d3.errors import InputError
from k2d3.inputs import compounds
from k2d3.inputs.regimen import Regimen
from k2d3.inputs.subject import Subject
from k2d3.inputs.units import NG_ML_25OHD_IN_NMOL_L
from k2d3.model import observables

_TARGET = re.compile(r"^\s*([A-Za-z0-9_]+)\s*(<=|>=|=)\s*([-+0-9.eE]+)\s*$")
_RELATIVE_MOVE = 1e-3     # a form "moves" an observable if its largest dose changes it by 0.1%
DEFAULT_FORMS = ("D3", "MK-7")


@functools.cache
def settings() -> dict:
    return yaml.safe_load(resources.files("k2d3.analyses").joinpath("data/plan.yaml").read_text())


@dataclass(frozen=True)
class Target:
    observable: str
    op: str          # "=" (reach), ">=" or "<="
    value: float

    def __str__(self) -> str:
        return f"{self.observable}{self.op}{self.value:g}"

    def met(self, value: float, start: float) -> bool:
        """Is ``value`` on the target's side? "=" means: moved from ``start`` to the value."""
        up = self.op == ">=" or (self.op == "=" and self.value >= start)
        return value >= self.value if up else value <= self.value


def parse_target(text: str) -> Target:
    """``observable=value``, ``observable>=value`` or ``observable<=value``, or a one-line error."""
    m = _TARGET.match(text or "")
    if not m:
        raise InputError("--target", f"{text!r} is not OBSERVABLE=VALUE, OBSERVABLE>=VALUE or OBSERVABLE<=VALUE")
    name, op, number = m.groups()
    if name not in observables.observables():
        raise InputError("--target", f"unknown observable {name!r} (k2d3 observables lists them)")
    try:
        value = float(number)
    except ValueError:
        raise InputError("--target", f"{text!r}: {number!r} is not a number") from None
    if not math.isfinite(value):
        raise InputError("--target", f"{text!r}: the value must be a finite number")
    if value < 0 and observables.observables()[name].unit != "pct_change":
        raise InputError("--target", f"{text!r}: {name} cannot be negative")
    return Target(name, op, value)


def parse_forms(forms: list[str] | tuple[str, ...] | str) -> tuple[str, ...]:
    items = forms.split(",") if isinstance(forms, str) else list(forms)
    out = []
    for item in items:
        c = compounds.find(item.strip(), "--forms")
        if c.name not in settings()["search_max_ug_day"]:
            raise InputError("--forms", f"{c.name} cannot be planned (forms: "
                                        f"{', '.join(settings()['search_max_ug_day'])})")
        if c.name not in out:
            out.append(c.name)
    if not out:
        raise InputError("--forms", "give at least one form, e.g. D3,MK-7")
    return tuple(out)


def load_subject_file(path: str | Path) -> tuple[Subject, Regimen]:
    """A subject file: subject fields at the top level, or a regimen file (subject, diet, sun,
    supplements already taken). Returns the subject and the regimen the plan adds to."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise InputError("--subject", f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    except yaml.YAMLError:
        raise InputError("--subject", f"{path.name} is not valid YAML") from None
    data = data or {}
    if not isinstance(data, dict):
        raise InputError("--subject", f"{path.name}: expected a mapping of fields")
    if set(data) & set(Regimen.model_fields):
        regimen = Regimen.from_dict(data)
        return regimen.subject or Subject(), regimen.model_copy(update={"subject": None, "days": None})
    return Subject.from_dict(data), Regimen()


@dataclass
class Plan:
    subject: Subject
    targets: list[Target]
    forms: tuple[str, ...]
    days: float
    steady_state: bool
    doses_ug_day: dict[str, float] = field(default_factory=dict)
    assigned: dict[str, str] = field(default_factory=dict)       # target -> form
    start: dict[str, float] = field(default_factory=dict)        # target observable at zero doses
    reached: dict[str, float] = field(default_factory=dict)      # with the planned doses
    safe: bool = True                                             # no rule fired by the planned doses
    met: bool = True                                              # every target reached
    notes: list[str] = field(default_factory=list)
    blocking: list[dict] = field(default_factory=list)            # rules the planned doses fire
    advice: list[dict] = field(default_factory=list)              # subject rules, pre-existing flags
    runs: int = 0
    rules_of_thumb: list[dict] = field(default_factory=list)

    @property
    def regimen_supplements(self) -> list[dict]:
        return [{"compound": f, "dose": f"{ug:.6g} ug", "every": "1 day"}
                for f, ug in self.doses_ug_day.items() if ug > 0]

    def as_dict(self) -> dict:
        return {"targets": [str(t) for t in self.targets], "supplements": self.regimen_supplements, "forms": list(self.forms), "days": self.days,
                "steady_state": self.steady_state, "doses_ug_day": self.doses_ug_day,
                "assigned": self.assigned, "start": self.start, "reached": self.reached, "safe": self.safe, "met": self.met, "notes": self.notes,
                "blocking": self.blocking, "advice": self.advice, "rules_of_thumb": self.rules_of_thumb,
                "simulations": self.runs}


class _Runner:
    """Simulations of base regimen + daily doses, counted and cached by dose."""

    def __init__(self, subject: Subject, base: Regimen, days: float, parameters: dict | None = None):
        self.subject, self.base, self.days, self.parameters = subject, base, days, parameters
        self.cache: dict[tuple, object] = {}

    def regimen(self, doses: dict[str, float]) -> Regimen:
        data = self.base.model_dump(exclude_none=True)
        data["supplements"] = list(data.get("supplements", [])) + [
            {"compound": f, "dose": f"{ug!r} ug", "every": "1 day"} for f, ug in doses.items() if ug > 0]
        data.pop("subject", None)
        data.pop("days", None)
        return Regimen.from_dict(data)

    def result(self, doses: dict[str, float], full: bool = False):
        key = (tuple(sorted((f, round(ug, 9)) for f, ug in doses.items() if ug > 0)), full)
        if key not in self.cache:
            times = None if full else [self.days]
            self.cache[key] = simulate(self.subject, self.regimen(doses), days=self.days, times=times,
                                       parameters=self.parameters)
        return self.cache[key]

    def value(self, doses: dict[str, float], name: str) -> float:
        return float(self.result(doses).timecourse[name].iloc[-1])

    @property
    def runs(self) -> int:
        return len(self.cache)


def _minimal_dose(run: _Runner, doses: dict, form: str, target: Target, start: float, top: float) -> float | None:
    """Smallest daily dose of ``form`` (others held) meeting ``target``; None if even ``top`` does not."""
    def at(ug: float) -> float:
        return run.value({**doses, form: ug}, target.observable)

    if target.met(at(0.0), start):
        return 0.0
    if not target.met(at(top), start):
        return None
    tol = max(1e-3, 1e-4 * top)
    root = brentq(lambda ug: at(ug) - target.value, 0.0, top, xtol=tol, rtol=1e-4, maxiter=40)
    for step in (0.0, tol, 2 * tol, 10 * tol):  # the root's far side of the tolerance meets the target
        if target.met(at(root + step), start):
            return root + step
    return None


def _rules_of_thumb(subject: Subject, target: Target, start: float) -> list[dict]:
    if target.observable != "ohd25_nmol_l" or target.value <= start:
        return []
    rot = settings()["rules_of_thumb"]
    rise = target.value - start                    # nmol/L
    ng_ml = rise / NG_ML_25OHD_IN_NMOL_L
    a = rot["per_100_iu"]
    b = rot["obesity_iu_per_kg"]
    iu_b = b["iu_per_kg_per_ng_ml"] * subject.weight_kg * ng_ml
    return [{"rule": a["label"], "dose_ug_day": rise / a["nmol_l_per_ug_day"],
             "why": "ignores body size, baseline and the flattening of the response at higher doses",
             "source": a["source"]},
            {"rule": b["label"], "dose_ug_day": iu_b / compounds.compounds()["D3"].iu_per_ug,
             "why": "scales with body weight; derived in obese adults (BMI 30+), so it overstates doses in lean people",
             "source": b["source"]}]


def plan(subject: Subject, targets: list[Target], forms=DEFAULT_FORMS, horizon_days: float | None = None,
         base: Regimen | None = None, parameters: dict[str, float] | None = None) -> Plan:
    """The smallest safe daily doses of ``forms`` reaching every target (see the module doc).
    ``parameters``: the person's own parameters (``k2d3 fit``), else the table's."""
    if not targets:
        raise InputError("--target", "give at least one target, e.g. ohd25_nmol_l=75")
    if horizon_days is not None and (not math.isfinite(horizon_days) or horizon_days <= 0):
        raise InputError("--horizon-days", f"must be a positive number of days, got {horizon_days:g}")
    forms = parse_forms(forms)
    days = float(horizon_days or settings()["steady_state_days"])
    base = base or Regimen()
    run = _Runner(subject, base, days, parameters)
    out = Plan(subject, list(targets), forms, days, horizon_days is None)
    tops = {f: settings()["search_max_ug_day"][f]["value"] for f in forms}
    zero: dict[str, float] = {}
    for t in targets:
        out.start[str(t)] = run.value(zero, t.observable)

    # which form moves which target the needed way (probe each form at its largest dose)
    for t in targets:
        start = out.start[str(t)]
        if t.met(start, start):
            out.assigned[str(t)] = "-"
            continue
        movers, best = [], {}
        for f in forms:  # the first form that moves the target the needed way takes it
            v = run.value({f: tops[f]}, t.observable)
            best[f] = v
            if abs(v - start) > _RELATIVE_MOVE * max(abs(start), 1e-12) and t.met(v, start):
                movers.append(f)
                break
        tol = _RELATIVE_MOVE * max(abs(start), 1e-12)
        if not movers and t.op == "=" and t.value < start and all(v > start - tol for v in best.values()):
            out.assigned[str(t)] = "-"
            out.notes.append(f"{t}: already {start:.4g} without added doses, and these forms only raise it")
            continue
        if not movers:
            moved = [f for f in forms if abs(best[f] - start) > _RELATIVE_MOVE * max(abs(start), 1e-12)]
            if not moved:
                raise InputError("--target", f"{t}: {t.observable} is not moved by {', '.join(forms)}")
            reach = ", ".join(f"{f} {tops[f]:g} ug/day gives {best[f]:.4g}" for f in moved)
            raise InputError("--target", f"{t} cannot be reached with {', '.join(forms)} ({reach}; "
                                         f"start {start:.4g})")
        out.assigned[str(t)] = movers[0]

    doses: dict[str, float] = {f: 0.0 for f in forms}
    for f in forms:
        for t in (t for t in targets if out.assigned[str(t)] == f):
            d = _minimal_dose(run, doses, f, t, out.start[str(t)], tops[f])
            if d is None:  # cannot happen for a monotone response; kept as a plain error, not a guess
                raise InputError("--target", f"{t} cannot be reached with {f} up to {tops[f]:g} ug/day")
            doses[f] = max(doses[f], d)
    out.doses_ug_day = doses

    final = run.result(doses, full=True)
    baseline = run.result(zero, full=True)
    for t in targets:
        out.reached[str(t)] = float(final.timecourse[t.observable].iloc[-1])
    before = {f["code"] for f in advisor.advise(baseline)}
    for flag in advisor.advise(final):
        rule = next((r for r in advisor.rules() if r.id == flag["code"]), None)
        if flag["code"] in before or (rule is not None and rule.kind == "subject"):
            out.advice.append(flag)
        else:
            out.blocking.append(flag)
    out.safe = not out.blocking
    out.met = all(t.met(out.reached[str(t)], out.start[str(t)]) for t in targets)
    out.rules_of_thumb = [r for t in targets for r in _rules_of_thumb(subject, t, out.start[str(t)])]
    out.runs = run.runs
    return out
