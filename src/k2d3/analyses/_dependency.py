"""Which parameters an observable can depend on, read from the SBML's structure.

An observable depends on a symbol when the symbol appears in its assignment rule, in the
rate law of a reaction that changes a species it depends on, or in that species' initial
value; the engine's day-0 steps add their own links (``equilibrium``: each day-0 reference
is set from a model value, each cumulative store from a parameter, and a measured 25(OH)D
sets the background D3 input). The closure of these links is what the observable can
depend on; a parameter outside it cannot move it.

A regimen leaves some depots empty (no dose of that compound, drug or route): those
species stay exactly zero, and so does every term that multiplies or divides one. Such
terms are dropped before the links are read, so that, for example, warfarin's parameters
do not reach the INR of a regimen without warfarin. The subject's parameters that are 0
(``sex_male`` of a woman, a measured value not given) are zeros in the same way.
"""
from __future__ import annotations

import functools
from collections import defaultdict

from k2d3.engine import equilibrium
from k2d3.model.build import sbml


@functools.cache
def _model():
    import libsbml

    doc = libsbml.readSBMLFromString(sbml())
    return libsbml, doc, doc.getModel()


def _value(model, name: str) -> float | None:
    p = model.getParameter(name)
    return p.getValue() if p is not None and p.isSetValue() else None


def _is_zero(L, model, node, zero: set[str]) -> bool:
    """True when ``node`` is exactly zero whenever the symbols in ``zero`` are."""
    t = node.getType()
    kids = [node.getChild(i) for i in range(node.getNumChildren())]
    if t == L.AST_NAME:
        return node.getName() in zero
    if t in (L.AST_INTEGER, L.AST_REAL, L.AST_REAL_E, L.AST_RATIONAL):
        return node.getValue() == 0
    if t == L.AST_TIMES:
        return any(_is_zero(L, model, k, zero) for k in kids)
    if t == L.AST_DIVIDE:
        return _is_zero(L, model, kids[0], zero)
    if t in (L.AST_POWER, L.AST_FUNCTION_POWER):  # 0^e = 0 for a positive constant exponent
        e = kids[1]
        exponent = (e.getValue() if e.isNumber() else _value(model, e.getName()) if e.getType() == L.AST_NAME
                    else None)
        return exponent is not None and exponent > 0 and _is_zero(L, model, kids[0], zero)
    if t in (L.AST_PLUS, L.AST_MINUS, L.AST_FUNCTION_MAX, L.AST_FUNCTION_MIN):
        return bool(kids) and all(_is_zero(L, model, k, zero) for k in kids)
    if t == L.AST_FUNCTION_PIECEWISE:  # values at even positions, and the "otherwise" last
        values = kids[0::2]
        return all(_is_zero(L, model, k, zero) for k in values)
    return False


def _names(L, model, node, zero: set[str], out: set[str]) -> set[str]:
    """The symbols ``node`` depends on, leaving out the terms that are exactly zero."""
    if _is_zero(L, model, node, zero):
        return out
    if node.getType() == L.AST_NAME:
        out.add(node.getName())
    for i in range(node.getNumChildren()):
        _names(L, model, node.getChild(i), zero, out)
    return out


def _initial(species) -> float:
    """A species' initial amount (compartment ``body`` has volume 1; unset means 0, as
    libroadrunner reads it)."""
    if species.isSetInitialAmount():
        return species.getInitialAmount()
    return species.getInitialConcentration() if species.isSetInitialConcentration() else 0.0


def _empty_species(L, model, dosed: frozenset[str], zero: frozenset[str]) -> set[str]:
    """Species (and rule variables) that stay exactly zero: those that start empty, take
    no dose and are fed by no reaction that can run, found to a fixed point (an undosed
    depot first, then whatever only it feeds)."""
    init = {a.getSymbol() for a in model.getListOfInitialAssignments()}
    candidates = {s.getId() for s in model.getListOfSpecies()
                  if _initial(s) == 0 and s.getId() not in init
                  and s.getId() not in dosed and s.getId() not in equilibrium.CUMULATIVE_STORES}
    rules = {r.getVariable(): r.getMath() for r in model.getListOfRules()}
    found: set[str] = set(zero)
    while True:
        live = [r for r in model.getListOfReactions() if not _is_zero(L, model, r.getKineticLaw().getMath(), found)]
        fed = {p.getSpecies() for r in live for p in r.getListOfProducts()}
        grown = set(zero) | {s for s in candidates if s not in fed}
        grown |= {v for v, m in rules.items() if _is_zero(L, model, m, grown)}
        if grown == found:
            return found
        found = grown


@functools.cache
def _graph(dosed: frozenset[str], measured_baseline: bool, zero: frozenset[str]) -> dict[str, set[str]]:
    L, _, model = _model()
    zero = _empty_species(L, model, dosed, zero)
    links: dict[str, set[str]] = defaultdict(set)
    for r in model.getListOfRules():
        links[r.getVariable()] |= _names(L, model, r.getMath(), zero, set())
    for a in model.getListOfInitialAssignments():
        links[a.getSymbol()] |= _names(L, model, a.getMath(), zero, set())
    for r in model.getListOfReactions():
        used = _names(L, model, r.getKineticLaw().getMath(), zero, set())
        for ref in (*r.getListOfReactants(), *r.getListOfProducts()):
            links[ref.getSpecies()] |= used
    for parameter, source in equilibrium.DAY0_REFERENCES.items():
        links[parameter].add(source)
    for store, start in equilibrium.CUMULATIVE_STORES.items():
        if isinstance(start, str):
            links[store].add(start)
    if measured_baseline:  # the engine solves the background input for the measured value
        links["d3_background_input"].add("ohd25_nmol_l")
    return dict(links)


def reachable(output: str, dosed: frozenset[str], measured_baseline: bool,
              zero: frozenset[str] = frozenset()) -> set[str]:
    """Every symbol ``output`` can depend on, for a regimen that doses the depots ``dosed``
    in a subject whose parameters ``zero`` are 0 (``sex_male`` for a woman)."""
    links = _graph(dosed, measured_baseline, zero)
    seen, todo = {output}, [output]
    while todo:
        for other in links.get(todo.pop(), ()):
            if other not in seen:
                seen.add(other)
                todo.append(other)
    return seen


@functools.cache
def sbml_symbols() -> frozenset[str]:
    """Parameters that the SBML's math uses at all (the rest act only in the engine's
    Python: doses, the sun's skin D3, titration, genotype factors)."""
    L, _, model = _model()
    used: set[str] = set()
    for r in model.getListOfRules():
        _names(L, model, r.getMath(), set(), used)
    for a in model.getListOfInitialAssignments():
        _names(L, model, a.getMath(), set(), used)
    for r in model.getListOfReactions():
        _names(L, model, r.getKineticLaw().getMath(), set(), used)
    return frozenset(used)
