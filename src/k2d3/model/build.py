"""Compose the subsystem Antimony files and ``parameters.yaml`` into one SBML model.

The SBML string is what every backend simulates and what ``k2d3 export-sbml`` starts from
(``model.export`` adds a run's day-0 state and doses); it is built once per process (and
per set of subsystems) and cached.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources

import yaml

#: Subsystems in composition order; each is ``<name>.ant`` beside this file.
SUBSYSTEMS = ("vitamin_d", "vitamin_k", "calcium_bone", "vascular", "coagulation", "metabolic", "brain")

_MODEL_RE = re.compile(r"^\s*model\s+\*?(\w+)\s*(\(\s*\))?\s*$", re.M)
_END_RE = re.compile(r"^\s*end\s*$", re.M)


@dataclass(frozen=True)
class Parameter:
    name: str
    value: float
    unit: str
    description: str
    source: str
    evidence: str
    cv: float | None = None
    cv_source: str | None = None  # where the between-subject CV comes from, and its conversion
    prior: float | None = None    # for a jointly calibrated parameter: its parameters.yaml value
    prior_source: str | None = None
    interval: tuple[float, float] | None = None  # 5th-95th percentile of the calibration's ensemble


EVIDENCE_LEVELS = ("clinical", "observational", "preclinical", "assumed")


def _read(name: str) -> str:
    return resources.files("k2d3.model").joinpath(name).read_text()


@functools.cache
def parameters() -> dict[str, Parameter]:
    """The parameter table, validated: every entry has a value, unit, source and evidence,
    and a between-subject ``cv`` only together with its ``cv_source``."""
    raw = yaml.safe_load(_read("parameters.yaml"))
    table = {}
    for name, e in raw.items():
        missing = [k for k in ("value", "unit", "description", "source", "evidence") if k not in e]
        if missing:
            raise ValueError(f"parameters.yaml: {name} lacks {', '.join(missing)}")
        if e["evidence"] not in EVIDENCE_LEVELS:
            raise ValueError(f"parameters.yaml: {name} has unknown evidence {e['evidence']!r}")
        cv, cv_source = e.get("cv"), e.get("cv_source")
        if cv is not None and not (isinstance(cv, (int, float)) and not isinstance(cv, bool) and 0 < cv < 2):
            raise ValueError(f"parameters.yaml: {name} has cv {cv!r}; it must be a number between 0 and 2")
        if (cv is None) != (cv_source is None):
            raise ValueError(f"parameters.yaml: {name} needs cv and cv_source together")
        table[name] = Parameter(name, float(e["value"]), str(e["unit"]), e["description"].strip(),
                                str(e["source"]).strip(), e["evidence"],
                                None if cv is None else float(cv),
                                None if cv_source is None else str(cv_source).strip())
    return _calibrated(table)


def _calibrated(table: dict[str, Parameter]) -> dict[str, Parameter]:
    """The joint calibration's estimates (``calibrated.yaml``, written by
    scripts/calibrate.py) replace the values they estimate; each keeps its parameters.yaml
    value and source as its prior."""
    path = resources.files("k2d3.model").joinpath("calibrated.yaml")
    if not path.is_file():
        return table
    fit = yaml.safe_load(path.read_text())
    for name, e in fit["parameters"].items():
        if name not in table:
            raise ValueError(f"calibrated.yaml: {name} is not in parameters.yaml")
        p = table[name]
        table[name] = Parameter(
            name, float(e["estimate"]), p.unit, p.description,
            f"calibrated jointly by scripts/calibrate.py (commit {fit['commit']}) to data/trials.csv; "
            f"prior: lognormal, median {p.value:g}, SD of log {e['prior_sd_log']:g}, from: {p.source}",
            p.evidence, p.cv, p.cv_source, p.value, p.source, tuple(e["interval_90"]))
    return table


def subsystem_body(name: str) -> str:
    """The statements of one subsystem file, without its ``model ... end`` wrapper."""
    text = _read(f"{name}.ant")
    start = _MODEL_RE.search(text)
    ends = list(_END_RE.finditer(text))
    if start is None or not ends:
        raise ValueError(f"{name}.ant must hold one 'model {name} ... end' block")
    body = text[start.end():ends[-1].start()]
    # The shared compartment is declared once, by the composed model.
    return re.sub(r"^\s*compartment\s+body\s*=\s*1\s*$", "", body, flags=re.M)


@functools.cache
def antimony_source(subsystems: tuple[str, ...] = SUBSYSTEMS) -> str:
    """One Antimony model: the subsystems' statements, then every parameter's value."""
    parts = ["// k2d3 — composed from " + ", ".join(f"{s}.ant" for s in subsystems),
             "model k2d3", "  compartment body = 1"]
    for s in subsystems:
        parts += [f"  // ---- {s}.ant ----", subsystem_body(s)]
    parts.append("  // ---- parameters.yaml ----")
    for p in parameters().values():
        parts.append(f"  {p.name} = {p.value!r}")
    parts.append("end")
    return "\n".join(parts)


@functools.cache
def sbml(subsystems: tuple[str, ...] = SUBSYSTEMS) -> str:
    """The composed model as an SBML Level 3 string (antimony does the translation)."""
    import antimony

    antimony.clearPreviousLoads()
    if antimony.loadAntimonyString(antimony_source(subsystems)) < 0:
        raise ValueError("model does not compile: " + antimony.getLastError())
    out = antimony.getSBMLString("k2d3")
    if not out:
        raise ValueError("model does not translate to SBML: " + antimony.getLastError())
    return out


@functools.cache
def ensemble():
    """The calibration's parameter ensemble (``posterior.parquet``: one row per draw, one
    column per estimated parameter), or None where no calibration was installed."""
    path = resources.files("k2d3.model").joinpath("posterior.parquet")
    if not path.is_file():
        return None
    import pandas as pd

    with resources.as_file(path) as p:
        return pd.read_parquet(p)


@functools.cache
def model_hash(subsystems: tuple[str, ...] = SUBSYSTEMS) -> str:
    """A short hash of the composed model (equations and every parameter value): results
    record it, so that a number can be traced to the model that made it."""
    import hashlib

    return hashlib.sha256(sbml(subsystems).encode()).hexdigest()[:16]


def undefined_symbols(subsystems: tuple[str, ...] = SUBSYSTEMS) -> list[str]:
    """Parameters the model uses but neither the files nor parameters.yaml define."""
    import libsbml

    doc = libsbml.readSBMLFromString(sbml(subsystems))
    model = doc.getModel()
    ruled = {model.getRule(i).getVariable() for i in range(model.getNumRules())}
    ruled |= {model.getInitialAssignment(i).getSymbol() for i in range(model.getNumInitialAssignments())}
    return sorted(p.getId() for p in model.getListOfParameters()
                  if not p.isSetValue() and p.getId() not in ruled)
