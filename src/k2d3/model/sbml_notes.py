"""Units, notes and annotations of the exported SBML, from the model's tables.

- Units: every parameter from ``parameters.yaml``, every species from ``species.yaml``, every
  observable from ``observables.yaml`` (converted by ``sbml_units``); the other variables that
  assignment rules define get the unit libsbml derives from their rule; time is in hours.
- Notes (XHTML): each parameter's description, unit, source, evidence level and
  between-subject CV, and, where the run sets another value, why (the subject, an override,
  the steady state, a day-0 reference).
- Annotations: ChEBI/UniProt identifiers of the species that are defined molecules
  (``species.yaml``), the taxon of the model (human, NCBI taxonomy 9606), and SBO terms where
  a standard term fits: kinetic constant, half-life, Michaelis constant, maximal velocity,
  EC50, exponent, volume; simple chemical, polypeptide chain; physical compartment;
  degradation.
"""
from __future__ import annotations

import functools
import html
from importlib import resources

import yaml

from k2d3.model import build, observables
from k2d3.model.sbml_units import sbml_units, unit_id

_XHTML = "http://www.w3.org/1999/xhtml"
HUMAN_TAXON = "http://identifiers.org/taxonomy/9606"

#: observables.yaml writes some units as labels; these are their SBML meanings.
_OBSERVABLE_UNITS = {"pct_change": "percent", "pct": "percent", "INR": "dimensionless",
                     "HOMA_IR": "dimensionless", "Agatston": "Agatston units", "uIU/mL": "uU/mL"}


@functools.cache
def species_table() -> dict[str, dict]:
    """species.yaml: unit, description and annotation of each species."""
    return yaml.safe_load(resources.files("k2d3.model").joinpath("species.yaml").read_text())


def unit_definition(model, text: str) -> str:
    """The id of the unit definition for ``text`` in ``model`` (created when absent)."""
    import libsbml

    uid = unit_id(text)
    if model.getUnitDefinition(uid) is None:
        ud = model.createUnitDefinition()
        ud.setId(uid)
        ud.setName(text)
        for kind, exponent, multiplier in sbml_units(text):
            u = ud.createUnit()
            u.setKind(libsbml.UnitKind_forName(kind))
            u.setExponent(exponent)
            u.setScale(0)
            u.setMultiplier(multiplier)
    return uid


def species_unit(model, sid: str) -> str:
    return unit_definition(model, species_table()[sid]["unit"])


def _notes(*paragraphs: str) -> str:
    body = "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paragraphs if p)
    return f'<body xmlns="{_XHTML}">{body}</body>'


def _cv(sbase, qualifier: str, resource: str) -> None:
    import libsbml

    if not sbase.isSetMetaId():
        sbase.setMetaId(f"meta_{sbase.getId()}")
    term = libsbml.CVTerm(libsbml.BIOLOGICAL_QUALIFIER)
    term.setBiologicalQualifierType({"is": libsbml.BQB_IS, "is_version_of": libsbml.BQB_IS_VERSION_OF,
                                     "has_taxon": libsbml.BQB_HAS_TAXON}[qualifier])
    term.addResource(resource)
    if sbase.addCVTerm(term) != libsbml.LIBSBML_OPERATION_SUCCESS:
        raise ValueError(f"cannot annotate {sbase.getId()} with {resource}")


def parameter_sbo(p: build.Parameter) -> str | None:
    """The SBO term of a table parameter, from its name and unit; None where none fits."""
    name, unit = p.name, p.unit
    per_time = unit.startswith("1/") and any(w in unit for w in ("hour", "year", "decade", "day"))
    if name.startswith("t_half") and unit in ("hour", "day", "year"):
        return "SBO:0000332"   # half-life of an exponential decay
    if name.startswith("km_"):
        return "SBO:0000027"   # Michaelis constant
    if name.startswith("vmax_"):
        return "SBO:0000186"   # maximal velocity
    if name.startswith("ec50_"):
        return "SBO:0000287"   # EC50
    if name.startswith(("gamma_", "n_carbox")) or name.endswith(("_hill", "gam", "Gam", "GAM", "_exponent")):
        return "SBO:0000382"   # biochemical exponential coefficient
    if per_time:
        return "SBO:0000009"   # kinetic constant
    if unit == "L":
        return "SBO:0000468"   # volume
    return "SBO:0000002"       # quantitative systems description parameter


def _reaction_sbo(reaction) -> str | None:
    name = reaction.getId().lower()
    if reaction.getNumProducts() == 0 and any(w in name for w in ("degradation", "elimination", "catabolism")):
        return "SBO:0000179"   # degradation
    return None


def annotate(model, state) -> None:
    """Units, notes and annotations on every part of ``model`` (see the module docstring)."""
    model.setTimeUnits(unit_definition(model, "hour"))
    model.setSubstanceUnits(unit_definition(model, "nmol"))
    model.setVolumeUnits("litre")
    _model_notes(model, state)
    for c in model.getListOfCompartments():
        c.setUnits("litre")
        c.setSBOTerm("SBO:0000290")
        c.setNotes(_notes("The body as one placeholder compartment of size 1: every species is an amount "
                          "(hasOnlySubstanceUnits); concentrations divide by the distribution volumes "
                          "of the model (v_d3, v_ohd25, V1, ...)."))
    table = species_table()
    for s in model.getListOfSpecies():
        entry = table[s.getId()]
        s.setSubstanceUnits(species_unit(model, s.getId()))
        s.setNotes(_notes(entry["description"], f"Unit: {entry['unit']}.",
                          "Initial amount: this subject's day 0 (k2d3's steady state)."))
        if entry.get("sbo"):
            s.setSBOTerm(entry["sbo"])
        for qualifier in ("is", "is_version_of"):
            if entry.get(qualifier):
                _cv(s, qualifier, f"http://identifiers.org/{entry[qualifier]}")
    params = build.parameters()
    for pid, p in params.items():
        sp = model.getParameter(pid)
        sp.setUnits(unit_definition(model, p.unit))
        sp.setSBOTerm(parameter_sbo(p))
        run = state.changed.get(pid)
        value = state.parameters.get(pid, p.value)
        sp.setNotes(_notes(
            p.description,
            f"Unit: {p.unit}. Table value: {p.value:g}."
            + (f" Value in this export: {value:.10g} ({run})." if run else ""),
            f"Source: {p.source}",
            f"Evidence: {p.evidence}.",
            f"Between-subject CV: {p.cv:g} ({p.cv_source})." if p.cv is not None else ""))
    for r in model.getListOfReactions():
        sbo = _reaction_sbo(r)
        if sbo:
            r.setSBOTerm(sbo)
    _declare_pure_numbers(model)
    _rule_units(model)


def _model_notes(model, state) -> None:
    model.setNotes(_notes(
        f"k2d3 {state.title}.",
        "The composed k2d3 model (vitamin_d, vitamin_k, calcium_bone, vascular, coagulation, metabolic, "
        "brain) with the subject's parameters and the subject's day-0 steady state as initial values, "
        f"and the regimen's doses over {state.days:g} days as events. Time in hours.",
        "Each dose event fires on time >= next_dose_X and adds the dose; a pool smaller than the flush "
        "threshold is set to zero at each dose, as the k2d3 engine does between integration segments.",
        "Observables are the parameters named in observables.yaml (ohd25_nmol_l, inr, ...)."))
    _cv(model, "has_taxon", HUMAN_TAXON)


def _pure_numbers(ast) -> None:
    """Declare dimensionless the bare numbers that cannot be anything else: exponents
    (x^2) and whole arguments of logarithms and exponentials (ln(2)). Other bare numbers of
    the published equations (0.693 per hour, 24 hours a day, 1000 pmol per nmol) are left
    undeclared rather than given a unit they may not have."""
    import libsbml

    power = (libsbml.AST_POWER, libsbml.AST_FUNCTION_POWER)
    whole = (libsbml.AST_FUNCTION_LN, libsbml.AST_FUNCTION_LOG, libsbml.AST_FUNCTION_EXP)
    for i in range(ast.getNumChildren()):
        child = ast.getChild(i)
        pure = (ast.getType() in power and i == 1) or ast.getType() in whole
        if pure and child.isNumber() and not child.hasUnits():
            child.setUnits("dimensionless")
        _pure_numbers(child)


def _declare_pure_numbers(model) -> None:
    holders = [model.getRule(i) for i in range(model.getNumRules())]
    holders += [r.getKineticLaw() for r in model.getListOfReactions() if r.isSetKineticLaw()]
    holders += [ea for e in model.getListOfEvents() for ea in e.getListOfEventAssignments()]
    for h in holders:
        if h.isSetMath():
            ast = h.getMath().deepCopy()
            _pure_numbers(ast)
            h.setMath(ast)


def _rule_units(model) -> None:
    """Units of the variables assignment rules define: an observable's from observables.yaml,
    the others as libsbml derives them from the rule (repeated until nothing more resolves;
    a rule with a bare number has no derivable unit and keeps none)."""
    obs = observables.observables()
    rules = {model.getRule(i).getVariable(): model.getRule(i) for i in range(model.getNumRules())}
    for name, o in obs.items():
        p = model.getParameter(name)
        if p is not None:
            p.setUnits(unit_definition(model, _OBSERVABLE_UNITS.get(o.unit, o.unit)))
            p.setNotes(_notes(o.description, f"Observable ({o.label}); unit: {o.unit}; evidence: {o.evidence}."))
            p.setSBOTerm("SBO:0000002")
    todo = [v for v in rules if model.getParameter(v) is not None and not model.getParameter(v).isSetUnits()]
    while todo:
        left = []
        for v in todo:
            unit = _derive(model, rules[v].getMath())
            if unit is None:
                left.append(v)
                continue
            model.getParameter(v).setUnits(_unit_definition_for(model, unit))
        if len(left) == len(todo):
            break
        todo = left
    for v in rules:
        p = model.getParameter(v)
        if p is not None and not p.isSetNotes():
            p.setNotes(_notes("Defined by its assignment rule (see the model's .ant files)."))


def _canonical(ud) -> tuple:
    """A unit definition as SI kinds with exponents and one factor (libsbml's areIdentical
    does not tell nmol/L from pmol/L)."""
    import libsbml

    si = libsbml.UnitDefinition.convertToSI(ud)
    libsbml.UnitDefinition.simplify(si)
    factor, kinds = 1.0, []
    for i in range(si.getNumUnits()):
        u = si.getUnit(i)
        factor *= (u.getMultiplier() * 10.0 ** u.getScale()) ** u.getExponent()
        if u.getKind() != libsbml.UNIT_KIND_DIMENSIONLESS:
            kinds.append((libsbml.UnitKind_toString(u.getKind()), round(u.getExponent(), 9)))
    return tuple(sorted(kinds)), float(f"{factor:.12g}")


Canonical = tuple  # (((kind, exponent), ...), factor): a unit as SI kinds and one factor


def _declared(model, sid: str) -> Canonical | None:
    import libsbml

    if sid == "time":
        return _canonical(model.getUnitDefinition(model.getTimeUnits()))
    obj = model.getParameter(sid) or model.getSpecies(sid) or model.getCompartment(sid)
    if obj is None:
        return None
    units = obj.getSubstanceUnits() if isinstance(obj, libsbml.Species) else obj.getUnits()
    if not units:
        return None
    if units == "dimensionless":
        return ((), 1.0)
    ud = model.getUnitDefinition(units)
    return None if ud is None else _canonical(ud)


def _times(a: Canonical, b: Canonical, sign: float = 1.0) -> Canonical:
    kinds = dict(a[0])
    for k, e in b[0]:
        kinds[k] = round(kinds.get(k, 0.0) + sign * e, 9)
    return tuple(sorted((k, e) for k, e in kinds.items() if e)), float(f"{a[1] * b[1] ** sign:.12g}")


def _power(a: Canonical, p: float) -> Canonical:
    return tuple((k, round(e * p, 9)) for k, e in a[0]), float(f"{a[1] ** p:.12g}")


_ONE: Canonical = ((), 1.0)


def _derive(model, ast) -> Canonical | None:
    """The unit of an expression from the declared units of what it names; None when a part
    has none (a bare number without a declared unit, or an undeclared variable)."""
    import libsbml

    t = ast.getType()
    kids = [ast.getChild(i) for i in range(ast.getNumChildren())]
    if ast.isNumber():
        if ast.hasUnits():
            u = ast.getUnits()
            return _ONE if u == "dimensionless" else _canonical(model.getUnitDefinition(u))
        return None
    if t == libsbml.AST_NAME_TIME:
        return _declared(model, "time")
    if ast.isName():
        return _declared(model, ast.getName())
    if t == libsbml.AST_CONSTANT_PI or t == libsbml.AST_CONSTANT_E:
        return _ONE
    if t in (libsbml.AST_FUNCTION_LN, libsbml.AST_FUNCTION_LOG, libsbml.AST_FUNCTION_EXP):
        # of dimensionless arguments only: exp(ln(x)/g), the published equations' g-th root
        # of a concentration, has the unit of x^(1/g), which is left undeclared
        return _ONE if all(_derive(model, k) == _ONE for k in kids) else None
    if ast.isRelational() or ast.isLogical():
        return _ONE
    parts = [_derive(model, k) for k in kids]
    if t == libsbml.AST_TIMES:
        out = _ONE
        for p in parts:
            if p is None:
                return None
            out = _times(out, p)
        return out
    if t == libsbml.AST_DIVIDE:
        if None in parts:
            return None
        return _times(parts[0], parts[1], -1.0)
    if t in (libsbml.AST_POWER, libsbml.AST_FUNCTION_POWER):
        if parts[0] is None:
            return None
        e = kids[1]
        if e.isNumber():
            return _power(parts[0], e.getValue())
        if e.isName() and model.getParameter(e.getName()) is not None and model.getParameter(e.getName()).getConstant():
            return _power(parts[0], model.getParameter(e.getName()).getValue())
        return _ONE if parts[0] == _ONE else None
    if t == libsbml.AST_FUNCTION_ROOT:
        return None if parts[-1] is None else _power(parts[-1], 0.5)
    if t in (libsbml.AST_PLUS, libsbml.AST_MINUS, libsbml.AST_FUNCTION_MAX, libsbml.AST_FUNCTION_MIN,
             libsbml.AST_FUNCTION_ABS):
        known = [p for p in parts if p is not None]
        if len(known) != len(parts) or any(p != known[0] for p in known):
            return None
        return known[0]
    if t == libsbml.AST_FUNCTION_PIECEWISE:
        values = [parts[i] for i in range(0, len(parts), 2)]
        if None in values or any(v != values[0] for v in values):
            return None
        return values[0]
    return None


def _unit_definition_for(model, unit: Canonical) -> str:
    """The id of a unit definition equal to ``unit`` (created when absent)."""
    import libsbml

    kinds, factor = unit
    if not kinds and factor == 1.0:
        return "dimensionless"
    for ud in model.getListOfUnitDefinitions():
        if _canonical(ud) == unit:
            return ud.getId()
    parts = [k if e == 1 else f"{k}_pow_{e:g}".replace("-", "m").replace(".", "_") for k, e in kinds]
    base = "u_derived_" + ("_".join(parts) or "dimensionless")
    uid, n = base, 1
    while model.getUnitDefinition(uid) is not None:
        n += 1
        uid = f"{base}_{n}"
    ud = model.createUnitDefinition()
    ud.setId(uid)
    for i, (k, e) in enumerate(kinds or [("dimensionless", 1.0)]):
        u = ud.createUnit()
        u.setKind(libsbml.UnitKind_forName(k))
        u.setExponent(e)
        u.setScale(0)
        u.setMultiplier(factor ** (1.0 / e) if i == 0 else 1.0)
    return uid
