"""The model as a file another tool runs: SBML with a subject's day-0 state and a regimen's
doses as events; a COMBINE archive with the SED-ML simulation of it (``omex``).

An export is the model (DESIGN): the composed SBML that every backend runs, plus
- the values a k2d3 run starts from (every species amount and every parameter: the subject's,
  the overrides, the steady state, the day-0 references) instead of the model files'
  initial assignments;
- each dose series as an event ``time >= next_dose_X`` that adds the dose and moves
  ``next_dose_X`` on, never an equality trigger on time (roadrunner would miss it);
- the engine's flush of vanishing amounts at each dose (``flush``), so that the solver
  restarts from the same state as the engine's;
- units, notes (description, source, evidence) and MIRIAM/SBO annotations (``sbml_notes``).

This module does not run the model: the engine computes the ``State``
(``k2d3.engine.export_state``), so that a calibration problem can ask for the SBML of any
subject and regimen through the same function.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from k2d3.model import build

#: Model time is in hours; SED-ML outputs add the day.
HOURS_PER_DAY = 24.0


@dataclass(frozen=True)
class DoseSeries:
    """Doses of one source (or of sources dosed at the same times) as one event.

    ``amounts[depot][i]`` is added to ``depot`` at ``times_h[i]`` (model units). A depot in
    ``formulas`` instead receives an SBML (L3 text) expression of ``day``, the day of the
    dose (the sun's daily D3, which follows the season); ``inputs`` are the parameters such
    a formula uses beyond the model's: id -> (value, unit, description).
    """

    name: str
    label: str
    times_h: tuple[float, ...]
    amounts: dict[str, tuple[float, ...]] = field(default_factory=dict)
    formulas: dict[str, str] = field(default_factory=dict)
    inputs: dict[str, tuple[float, str, str]] = field(default_factory=dict)

    def __post_init__(self):
        if not re.fullmatch(r"[A-Za-z_]\w*", self.name):
            raise ValueError(f"dose series name {self.name!r} is not an SBML id")
        for depot, values in self.amounts.items():
            if len(values) != len(self.times_h):
                raise ValueError(f"dose series {self.name}: {depot} has {len(values)} amounts "
                                 f"for {len(self.times_h)} times")


@dataclass(frozen=True)
class State:
    """What a run starts from and what it doses: species amounts and parameter values at
    day 0 (a parameter left out keeps its table value), why each parameter differs from ``parameters.yaml`` (``changed``), the dose series,
    the run's length, a title, and the amount below which the engine sets a pool to zero at
    each dose (``flush_below``)."""

    species: dict[str, float]
    parameters: dict[str, float]
    changed: dict[str, str]
    doses: tuple[DoseSeries, ...]
    days: float
    title: str
    flush_below: float


def sbml(state: State) -> str:
    """The SBML (Level 3 Version 2) that reproduces a k2d3 run from ``state``."""
    import libsbml

    from k2d3.model import sbml_notes

    doc = libsbml.readSBMLFromString(build.sbml())
    doc.setLevelAndVersion(3, 2, False)
    model = doc.getModel()
    model.setName(state.title)
    _set_day0(model, state)
    _add_doses(model, state)
    sbml_notes.annotate(model, state)
    return libsbml.writeSBMLToString(doc)


def _set_day0(model, state: State) -> None:
    """Initial values are the run's day 0: the model files' initial assignments (the
    published reference state) give way to the values the engine starts from."""
    while model.getNumInitialAssignments():
        model.removeInitialAssignment(0)
    missing = [s.getId() for s in model.getListOfSpecies() if s.getId() not in state.species]
    if missing:
        raise ValueError(f"state lacks species {missing}")
    for s in model.getListOfSpecies():
        s.setHasOnlySubstanceUnits(True)  # amounts; the compartment is a placeholder of size 1
        s.unsetInitialConcentration()
        s.setInitialAmount(float(state.species[s.getId()]))
    ruled = {model.getRule(i).getVariable() for i in range(model.getNumRules())}
    for p in model.getListOfParameters():
        if p.getId() not in ruled:  # a parameter the state does not give keeps its table value
            p.setValue(float(state.parameters.get(p.getId(), p.getValue())))


def _periodic_end(times: tuple[float, ...]) -> tuple[float, float] | None:
    """(interval, last) when adding one interval to the first time again and again gives
    ``times`` (to 1e-9 h; last is the value that addition reaches, which the event compares
    with the same arithmetic); else None."""
    if len(times) < 2:
        return None
    step = times[1] - times[0]
    if step <= 0:
        return None
    t = times[0]
    for x in times:
        if abs(t - x) > 1e-9 * max(1.0, abs(x)):
            return None
        last = t
        t = t + step
    return step, last


def _constant(values: tuple[float, ...]) -> bool:
    return all(v == values[0] for v in values)


def _merge(series: list[DoseSeries]) -> list[DoseSeries]:
    """Series dosed at exactly the same times become one event (doses at one time merged, as
    the engine merges them into one solver restart)."""
    by_times: dict[tuple[float, ...], list[DoseSeries]] = {}
    for s in series:
        if s.times_h:
            by_times.setdefault(s.times_h, []).append(s)
    out = []
    for times, group in by_times.items():
        if len(group) == 1:
            out.append(group[0])
            continue
        amounts: dict[str, list[float]] = {}
        for s in group:
            for depot, values in s.amounts.items():
                acc = amounts.setdefault(depot, [0.0] * len(times))
                for i, v in enumerate(values):
                    acc[i] += v
        formulas: dict[str, str] = {}
        for s in group:
            for depot, f in s.formulas.items():
                formulas[depot] = f"{formulas[depot]} + ({f})" if depot in formulas else f
        names = [s.name for s in group]
        name = "_".join(names) if len(names) <= 3 else f"{names[0]}_and_{len(names) - 1}_more"
        out.append(DoseSeries(name, "; ".join(s.label for s in group), times,
                              {d: tuple(v) for d, v in amounts.items()}, formulas,
                              {k: v for s in group for k, v in s.inputs.items()}))
    return out


def _unique_names(series: list[DoseSeries]) -> list[DoseSeries]:
    seen: dict[str, int] = {}
    out = []
    for s in series:
        n = seen.get(s.name, 0) + 1
        seen[s.name] = n
        out.append(s if n == 1 else DoseSeries(f"{s.name}_{n}", s.label, s.times_h, s.amounts, s.formulas, s.inputs))
    return out


def _parameter(model, pid: str, value: float, constant: bool = True, units: str | None = None,
               note: str | None = None):
    p = model.createParameter()
    p.setId(pid)
    p.setValue(float(value))
    p.setConstant(constant)
    if units:
        p.setUnits(units)
    if note:
        p.setNotes(f'<body xmlns="http://www.w3.org/1999/xhtml"><p>{_xml(note)}</p></body>')
    return p


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _math(text: str):
    import libsbml

    ast = libsbml.parseL3Formula(text)
    if ast is None:
        raise ValueError(f"cannot parse {text!r}: {libsbml.getLastParseL3Error()}")
    return ast


def _piecewise_by_count(values: list[float], counter: str, otherwise: str) -> str:
    """values[k] while ``counter`` is k (compared with k + 1/2: counts are whole numbers)."""
    pieces = ", ".join(f"{v!r}, {counter} < {k + 0.5!r}" for k, v in enumerate(values))
    return f"piecewise({pieces}, {otherwise})"


def _add_doses(model, state: State) -> None:
    """One event per dose series: ``time >= next_dose_X`` (with a guard for the last dose)
    adds the dose to each depot, flushes vanishing pools as the engine does at every dosing
    time, and moves ``next_dose_X`` to the next dose.

    Periodic series with one amount (and the sun, whose amount is a formula of the day) get
    ``first_dose_X``, ``dose_interval_X``, ``last_dose_X`` and ``next_dose_X += interval``;
    other series (a bolus, a list of days, changing amounts) count ``doses_given_X`` and take
    the next time and amount from a piecewise list. Assignments use the values at the moment
    the event runs, so events at the same time (a daily and a weekly dose) add up.
    """
    from k2d3.model import sbml_notes

    species = [s.getId() for s in model.getListOfSpecies()]
    if state.doses:
        fd = model.createFunctionDefinition()
        fd.setId("flush")
        fd.setMath(_math(f"lambda(x, piecewise(0, abs(x) < {state.flush_below!r}, x))"))
        fd.setNotes('<body xmlns="http://www.w3.org/1999/xhtml"><p>The engine sets amounts smaller than '
                    f'{state.flush_below:g} (in magnitude) to zero before it restarts the solver at a dose: '
                    'emptied depots decay towards 1e-300 and round-off leaves some slightly negative, '
                    'which stalls the stiff solver on restart.</p></body>')
    time_unit = sbml_notes.unit_definition(model, "hour")
    for s in _unique_names(_merge(list(state.doses))):
        x = s.name
        for pid, (value, unit, description) in s.inputs.items():
            if model.getParameter(pid) is None:
                _parameter(model, pid, value, units=sbml_notes.unit_definition(model, unit), note=description)
        periodic = _periodic_end(s.times_h)
        if periodic and not all(_constant(v) for v in s.amounts.values()):
            periodic = None
        e = model.createEvent()
        e.setId(f"dosing_{x}")
        e.setName(s.label)
        e.setUseValuesFromTriggerTime(False)
        trig = e.createTrigger()
        trig.setInitialValue(False)   # a dose at time 0 fires at the start
        trig.setPersistent(True)
        nxt = f"next_dose_{x}"
        _parameter(model, nxt, s.times_h[0], constant=False, units=time_unit,
                   note=f"time of the next dose of {s.label} (h)")
        if periodic:
            step, last = periodic
            _parameter(model, f"first_dose_{x}", s.times_h[0], units=time_unit, note="time of the first dose (h)")
            _parameter(model, f"dose_interval_{x}", step, units=time_unit, note="hours between doses")
            _parameter(model, f"last_dose_{x}", last, units=time_unit,
                       note="time of the last dose (h): the last one before the end of the run")
            ia = model.createInitialAssignment()
            ia.setSymbol(nxt)
            ia.setMath(_math(f"first_dose_{x}"))
            trig.setMath(_math(f"time >= {nxt} && {nxt} <= last_dose_{x}"))
            added = {}
            for depot, values in s.amounts.items():
                pid = f"dose_{x}_{depot}"
                _parameter(model, pid, values[0], units=sbml_notes.species_unit(model, depot),
                           note=f"amount added to {depot} at each dose of {s.label}")
                added[depot] = pid
            advance = f"{nxt} + dose_interval_{x}"
        else:
            given, count = f"doses_given_{x}", f"dose_count_{x}"
            _parameter(model, count, len(s.times_h), units="dimensionless", note=f"number of doses of {s.label}")
            _parameter(model, given, 0, constant=False, units="dimensionless", note="doses given so far")
            trig.setMath(_math(f"time >= {nxt} && {given} < {count}"))
            added = {}
            for depot, values in s.amounts.items():
                if _constant(values):
                    pid = f"dose_{x}_{depot}"
                    _parameter(model, pid, values[0], units=sbml_notes.species_unit(model, depot),
                               note=f"amount added to {depot} at each dose of {s.label}")
                    added[depot] = pid
                else:
                    added[depot] = _piecewise_by_count(list(values), given, "0")
            advance = _piecewise_by_count(list(s.times_h[1:]), given, nxt)
            ea = e.createEventAssignment()
            ea.setVariable(given)
            ea.setMath(_math(f"{given} + 1"))
        day = f"({nxt} / {HOURS_PER_DAY!r})"  # the day of this dose
        for depot, f in s.formulas.items():
            expr = f"({_with_day(f, day)})"
            added[depot] = f"{added[depot]} + {expr}" if depot in added else expr
        for sid in species:
            ea = e.createEventAssignment()
            ea.setVariable(sid)
            ea.setMath(_math(f"flush({sid} + {added[sid]})" if sid in added else f"flush({sid})"))
        ea = e.createEventAssignment()
        ea.setVariable(nxt)
        ea.setMath(_math(advance))


def _with_day(formula: str, day: str) -> str:
    return re.sub(r"\bday\b", day, formula)
