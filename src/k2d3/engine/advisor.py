"""The safety advisor: the rules of ``inputs/data/safety_rules.yaml`` applied to a run.

Rules are data (condition, severity, message, source, clinician) so that each warning can
be read, cited and tested on its own. The advisor reports; it never changes a regimen.
Conditions that need only the inputs (intakes, subject) and those that need the projected
levels are evaluated by the same function, so the dose finder applies exactly these rules.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

import yaml

from k2d3.engine import intake
from k2d3.inputs import compounds, limits
from k2d3.inputs.regimen import Regimen
from k2d3.inputs.subject import Subject
from k2d3.model import observables

SEVERITIES = ("info", "caution", "warning", "toxicity")
_KINDS = ("intake_above_ul", "level_above", "vka_with_vitamin_k", "vka_intake_at_least", "subject")
_CLINICIAN = "Talk to a clinician before you start, stop or change it."


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    args: object
    severity: str
    message: str
    source: str
    clinician: bool
    article: str | None = None
    supersedes: tuple[str, ...] = ()

    @property
    def needs_levels(self) -> bool:
        """True when the rule looks at projected levels (needs a simulation)."""
        return self.kind == "level_above"


@functools.cache
def rules() -> tuple[Rule, ...]:
    raw = yaml.safe_load(resources.files("k2d3.inputs").joinpath("data/safety_rules.yaml").read_text())
    out = []
    for e in raw:
        (kind, args), = e["condition"].items()
        if kind not in _KINDS:
            raise ValueError(f"safety_rules.yaml: {e['id']} has unknown condition {kind!r}")
        if e["severity"] not in SEVERITIES:
            raise ValueError(f"safety_rules.yaml: {e['id']} has unknown severity {e['severity']!r}")
        if kind == "level_above" and args["observable"] not in observables.observables():
            raise ValueError(f"safety_rules.yaml: {e['id']} names unknown observable {args['observable']!r}")
        if kind == "subject" and not hasattr(Subject(), args["field"]):
            raise ValueError(f"safety_rules.yaml: {e['id']} names unknown subject field {args['field']!r}")
        out.append(Rule(e["id"], kind, args, e["severity"], e["message"], e["source"], bool(e["clinician"]),
                        e.get("article"), tuple(e.get("supersedes", ()))))
    return tuple(out)


def _regimen_intake(src: dict[str, dict[str, float]]) -> dict[str, float]:
    """What the regimen adds (foods and supplements), per compound, ug/day."""
    out: dict[str, float] = {}
    for s in ("foods", "supplements"):
        for c, v in src[s].items():
            out[c] = out.get(c, 0.0) + v
    return out


def _check(rule: Rule, subject: Subject, regimen: Regimen, src, maxima) -> dict | None:
    """The values to format the message with when ``rule`` fires, else None."""
    a = rule.args
    added = _regimen_intake(src)
    vka = [m.drug for m in regimen.medications if m.drug in a.get("drugs", ())] if isinstance(a, dict) else []
    if rule.kind == "intake_above_ul":
        ul = limits.lowest_upper(subject, a)
        if ul is None:
            return None
        scale = 1e-3 if a == "calcium" else 1.0
        total = scale * sum(src[s].get(c, 0.0) for s in ("usual_diet", "foods", "supplements") for c in ul.compounds)
        if total > ul.value * (1 + 1e-9):  # a dose at the UL, through unit conversion, is not above it
            return {"intake": total, "intake_iu": compounds.compounds()["D3"].iu_per_ug * total, "limit": ul.value, "body": ul.body}
    elif rule.kind == "level_above":
        if maxima is not None and maxima.get(a["observable"], float("-inf")) > a["value"]:
            return {"value": maxima[a["observable"]]}
    elif rule.kind == "vka_with_vitamin_k":
        forms = [c for c in a["compounds"] if added.get(c, 0.0) > 0]
        if vka and forms:
            return {"drug": vka[0], "forms": ", ".join(forms)}
    elif rule.kind == "vka_intake_at_least":
        if vka and added.get(a["compound"], 0.0) >= a["ug_day"]:
            return {"drug": vka[0], "intake": added[a["compound"]]}
    elif rule.kind == "subject":
        value = getattr(subject, a["field"])
        hit = value == a["equals"] if "equals" in a else value >= a["at_least"]
        supplements = a.get("supplements")
        if hit and (supplements is None or any(s.compound in supplements for s in regimen.supplements)):
            return {"value": value}
    return None


def evaluate(subject: Subject, regimen: Regimen, days: float, maxima: dict[str, float] | None = None,
             only: str | None = None) -> list[dict]:
    """The flags raised by the rules for these inputs; ``maxima`` (observable -> the run's
    maximum) enables the level rules. ``only``: "inputs" or "levels" to apply one part."""
    src = intake.by_source(subject, regimen, days)
    fired = []
    for rule in rules():
        if only == "inputs" and rule.needs_levels or only == "levels" and not rule.needs_levels:
            continue
        values = _check(rule, subject, regimen, src, maxima)
        if values is not None:
            fired.append((rule, values))
    dropped = {s for rule, _ in fired for s in rule.supersedes}
    out = []
    for rule, values in fired:
        if rule.id in dropped:
            continue
        message = rule.message.format(**values)
        if rule.clinician:
            message += f". {_CLINICIAN}"
        out.append({"code": rule.id, "severity": rule.severity, "message": message, "source": rule.source,
                    "clinician": rule.clinician})
    return out


def advise(result) -> list[dict]:
    """The flags for a simulation result (its inputs and its projected maxima)."""
    tc = result.timecourse
    maxima = {name: float(tc[name].max()) for name in tc.columns}
    return evaluate(result.subject, result.regimen, result.days, maxima)
