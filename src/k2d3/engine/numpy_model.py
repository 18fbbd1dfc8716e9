"""The composed SBML model as numpy code over columns (subjects x regimens).

The model is the same SBML that libroadrunner runs (``model.build.sbml``). Its rate laws
and assignment rules are translated once per process into numpy source that evaluates
every column at once: a state ``Y`` of shape (species, columns) and constant parameters
``P`` of shape (parameters, columns). Parts that depend on constants only are computed once
per run (``statics``). The translator is hand-written because no library turns SBML into
batched numpy code (SBML to ODE translators such as sbmltoodejax target JAX, which is not a
dependency of k2d3).
"""
from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from k2d3.model import build, observables


_UNARY = {"exp": "np.exp", "ln": "np.log", "abs": "np.abs", "floor": "np.floor", "ceiling": "np.ceil",
          "sin": "np.sin", "cos": "np.cos", "tan": "np.tan"}
_COMPARE = {"gt": ">", "lt": "<", "geq": ">=", "leq": "<=", "eq": "==", "neq": "!="}


def _var(sid: str) -> str:
    return f"v_{sid}"


class _Translator:
    """libsbml AST -> a numpy expression; records the names each expression uses."""

    def __init__(self, libsbml):
        self.sbml = libsbml
        self.names: set[str] = set()
        self.time = False

    def __call__(self, node) -> str:
        return self.combine(node, [self(node.getChild(i)) for i in range(node.getNumChildren())])

    def combine(self, node, args: list[str]) -> str:
        """The expression of ``node`` given its children's expressions ``args``."""
        L = self.sbml
        t = node.getType()
        if t == L.AST_NAME:
            self.names.add(node.getName())
            return _var(node.getName())
        if t == L.AST_NAME_TIME:
            self.time = True
            return "t"
        if t == L.AST_INTEGER:
            return repr(float(node.getInteger()))
        if t in (L.AST_REAL, L.AST_REAL_E, L.AST_RATIONAL):
            return repr(float(node.getReal()))
        if t == L.AST_CONSTANT_PI:
            return repr(math.pi)
        if t == L.AST_CONSTANT_E:
            return repr(math.e)
        if t == L.AST_CONSTANT_TRUE:
            return "True"
        if t == L.AST_CONSTANT_FALSE:
            return "False"
        if t == L.AST_PLUS:
            return "(" + " + ".join(args) + ")" if args else "0.0"
        if t == L.AST_MINUS:
            return f"(-{args[0]})" if len(args) == 1 else f"({args[0]} - {args[1]})"
        if t == L.AST_TIMES:
            return "(" + " * ".join(args) + ")" if args else "1.0"
        if t == L.AST_DIVIDE:
            return f"({args[0]} / {args[1]})"
        if t in (L.AST_POWER, L.AST_FUNCTION_POWER):
            return f"np.power({args[0]}, {args[1]})"
        if t == L.AST_FUNCTION_ROOT:
            return f"np.sqrt({args[0]})" if len(args) == 1 else f"np.power({args[1]}, 1.0 / {args[0]})"
        if t == L.AST_FUNCTION_LOG:
            return f"np.log10({args[0]})" if len(args) == 1 else f"(np.log({args[1]}) / np.log({args[0]}))"
        if t in (L.AST_FUNCTION_MAX, L.AST_FUNCTION_MIN):
            fn = "np.maximum" if t == L.AST_FUNCTION_MAX else "np.minimum"
            return functools.reduce(lambda a, b: f"{fn}({a}, {b})", args)
        if t == L.AST_FUNCTION_PIECEWISE:
            otherwise = args[-1] if len(args) % 2 else "np.nan"
            pairs = list(zip(args[0:len(args) - len(args) % 2:2], args[1::2]))
            expr = otherwise
            for value, cond in reversed(pairs):
                expr = f"np.where({cond}, {value}, {expr})"
            return expr
        if t == L.AST_LOGICAL_AND:
            return functools.reduce(lambda a, b: f"np.logical_and({a}, {b})", args)
        if t == L.AST_LOGICAL_OR:
            return functools.reduce(lambda a, b: f"np.logical_or({a}, {b})", args)
        if t == L.AST_LOGICAL_NOT:
            return f"np.logical_not({args[0]})"
        rel = {getattr(L, f"AST_RELATIONAL_{k.upper()}"): v for k, v in _COMPARE.items()}
        if t in rel and len(args) == 2:
            return f"({args[0]} {rel[t]} {args[1]})"
        name = node.getName()
        if name in _UNARY and len(args) == 1:
            return f"{_UNARY[name]}({args[0]})"
        raise NotImplementedError(f"batch engine: SBML math {name or t!r} is not translated")


_ATOM = re.compile(r"^(v_\w+|-?[0-9.e+-]+|t)$")


class _Hoister(_Translator):
    """Translates like ``_Translator`` but lifts every part of an expression that depends on
    constants only (parameters, compartments, rules of those) out into ``hoisted``: the
    batch computes those once per run instead of at every right-hand-side call."""

    def __init__(self, libsbml, static: set[str], hoisted: list[str]):
        super().__init__(libsbml)
        self.static, self.hoisted = static, hoisted

    def lift(self, expr: str) -> str:
        if _ATOM.match(expr):
            return expr
        if expr not in self.hoisted:
            self.hoisted.append(expr)
        return f"h{self.hoisted.index(expr)}"

    def part(self, node) -> tuple[str, bool]:
        L = self.sbml
        parts = [self.part(node.getChild(i)) for i in range(node.getNumChildren())]
        t = node.getType()
        if not parts:
            expr = self.combine(node, [])
            return expr, (t != L.AST_NAME_TIME and (t != L.AST_NAME or node.getName() in self.static))
        if all(st for _, st in parts):
            return self.combine(node, [e for e, _ in parts]), True
        if t in (L.AST_TIMES, L.AST_PLUS):
            fixed = [e for e, st in parts if st]
            moving = [e for e, st in parts if not st]
            if len(fixed) > 1:
                fixed = [self.lift(self.combine(node, fixed))]
            else:
                fixed = [self.lift(e) for e in fixed]
            return self.combine(node, fixed + moving), False
        return self.combine(node, [self.lift(e) if st else e for e, st in parts]), False

    def __call__(self, node) -> str:
        expr, static = self.part(node)
        return self.lift(expr) if static else expr


@dataclass(frozen=True)
class _Compiled:
    species: tuple[str, ...]       # state rows, amounts
    constants: tuple[str, ...]     # parameter rows: constant parameters and compartments
    volumes: tuple[int, ...]       # per species: its compartment's row in P (-1: amount in math)
    pattern: np.ndarray            # (species, species) bool: d(dY_i)/d(Y_j) may be non-zero
    statics: object                # statics(P) -> H, what rhs needs that does not change in a run
    rhs: object                    # rhs(t, Y, H, V) -> dY/dt, amounts per hour (V: 1/volume)
    observe: object                # observe(t, Y, P) -> (observables, columns)
    source: str


def _order(rules: dict[str, tuple[str, set[str]]], needed: set[str]) -> list[str]:
    """Rules needed (transitively) by ``needed``, each after the rules it reads."""
    out: list[str] = []
    seen: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in seen or name not in rules:
            return
        if name in path:
            raise ValueError(f"batch engine: assignment rules form a cycle through {name}")
        for dep in sorted(rules[name][1]):
            visit(dep, path + (name,))
        seen.add(name)
        out.append(name)

    for name in sorted(needed):
        visit(name, ())
    return out


@functools.cache
def compiled() -> _Compiled:
    """Translate the model once per process (about a second)."""
    import libsbml

    doc = libsbml.readSBMLFromString(build.sbml())
    m = doc.getModel()
    if m.getNumEvents() or m.getNumFunctionDefinitions():
        raise NotImplementedError("batch engine: events and function definitions are not translated")
    if any(r.getTypeCode() != libsbml.SBML_ASSIGNMENT_RULE for r in m.getListOfRules()):
        raise NotImplementedError("batch engine: only assignment rules are translated")
    species = [s for s in m.getListOfSpecies() if not s.getConstant() and not s.getBoundaryCondition()]
    if len(species) != m.getNumSpecies():
        raise NotImplementedError("batch engine: boundary or constant species are not translated")
    sid = [s.getId() for s in species]
    rules: dict[str, tuple[str, set[str]]] = {}
    timed: set[str] = set()
    for r in m.getListOfRules():
        tr = _Translator(libsbml)
        rules[r.getVariable()] = (tr(r.getMath()), tr.names)
        if tr.time:
            timed.add(r.getVariable())
    constants = [p.getId() for p in m.getListOfParameters() if p.getConstant()]
    constants += [c.getId() for c in m.getListOfCompartments()]
    if not all(c.getConstant() for c in m.getListOfCompartments()):
        raise NotImplementedError("batch engine: variable compartments are not translated")

    reactions = []
    stoich = np.zeros((len(sid), m.getNumReactions()))
    index = {s: i for i, s in enumerate(sid)}
    for j, r in enumerate(m.getListOfReactions()):
        law = r.getKineticLaw()
        if law.getNumLocalParameters():
            raise NotImplementedError(f"batch engine: local parameters in reaction {r.getId()}")
        tr = _Translator(libsbml)
        reactions.append((tr(law.getMath()), tr.names, law.getMath()))
        for ref, sign in [(x, -1.0) for x in r.getListOfReactants()] + [(x, 1.0) for x in r.getListOfProducts()]:
            if not ref.isSetStoichiometry() or not ref.getConstant():
                raise NotImplementedError(f"batch engine: variable stoichiometry in reaction {r.getId()}")
            stoich[index[ref.getSpecies()], j] += sign * ref.getStoichiometry()
    reaction_ids = {r.getId() for r in m.getListOfReactions()}
    used = set().union(*(n for _, n, _ in reactions), *(n for _, n in rules.values()))
    if used & reaction_ids:
        raise NotImplementedError("batch engine: reaction ids in math are not translated")

    # species are referenced as concentrations unless hasOnlySubstanceUnits
    volume_of = {s.getId(): s.getCompartment() for s in species if not s.getHasOnlySubstanceUnits()}

    def preamble(needed_rules: list[str], direct: set[str]) -> list[str]:
        names = set(direct).union(*(rules[r][1] for r in needed_rules))
        lines = [f"    {_var(c)} = P[{constants.index(c)}]" for c in constants
                 if c in names or c in {volume_of.get(s) for s in names}]
        for i, s in enumerate(sid):
            if s in names:
                lines.append(f"    {_var(s)} = Y[{i}]" + (f" / {_var(volume_of[s])}" if s in volume_of else ""))
        lines += [f"    {_var(r)} = {rules[r][0]}" for r in needed_rules]
        return lines

    # rules that depend on constants only (not on species or time) are computed once per run
    static = set(constants)
    for r in _order(rules, set(rules)):
        if r not in timed and rules[r][1] <= static:
            static.add(r)
    math_of = {r.getVariable(): r.getMath() for r in m.getListOfRules()}
    rate_names = set().union(*(n for _, n, _ in reactions))
    moving = [r for r in _order(rules, rate_names) if r not in static]
    hoisted: list[str] = []
    lines = []
    for r in moving:
        lines.append(f"    {_var(r)} = {_Hoister(libsbml, static, hoisted)(math_of[r])}")
    lines.append(f"    R = np.empty(({len(reactions)}, Y.shape[1]))")
    for j, (_, _, node) in enumerate(reactions):
        lines.append(f"    R[{j}] = {_Hoister(libsbml, static, hoisted)(node)}")
    lines.append("    return STOICH @ R")
    inputs = set().union(*(rules[r][1] for r in moving), rate_names) & static
    reads = sorted(inputs) + [n for h in hoisted for n in re.findall(r"\bv_(\w+)", h) if n not in inputs]
    reads = list(dict.fromkeys(reads))
    head = [f"    ({', '.join([*(_var(n) for n in reads), *(f'h{k}' for k in range(len(hoisted)))])},) = H"]
    head.append(f"    ({', '.join(_var(x) for x in sid)},) = Y * V")  # concentrations
    src = ["def rhs(t, Y, H, V):"] + head + lines
    needed_static = _order(rules, set(reads))
    src += ["", "", "def statics(P):"] + preamble(needed_static, set(reads))
    src += [f"    h{k} = {h}" for k, h in enumerate(hoisted)]
    src.append(f"    return [{', '.join([*(_var(n) for n in reads), *(f'h{k}' for k in range(len(hoisted)))])}]")
    obs = observables.names()
    obs_rules = _order(rules, set(obs))
    src += ["", "", "def observe(t, Y, P):"] + preamble(obs_rules, set(obs))
    src.append(f"    out = np.empty(({len(obs)}, Y.shape[1]))")
    for k, o in enumerate(obs):
        if o in index and o not in rules:  # a species observable: its amount, as roadrunner's selection
            src.append(f"    out[{k}] = Y[{index[o]}]")
        else:
            src.append(f"    out[{k}] = {_var(o)}")
    src.append("    return out")
    source = "\n".join(src) + "\n"
    volumes = [constants.index(volume_of[x]) if x in volume_of else -1 for x in sid]
    namespace = {"np": np, "STOICH": sp.csr_matrix(stoich)}
    exec(compile(source, "<k2d3 batch model>", "exec"), namespace)

    # sparsity: dY_i depends on Y_j if a reaction changing i reads j, directly or via rules
    reach: dict[str, set[str]] = {}

    def species_in(name: str) -> set[str]:
        if name in index:
            return {name}
        if name not in rules:
            return set()
        if name not in reach:
            reach[name] = set().union(*(species_in(n) for n in rules[name][1])) if rules[name][1] else set()
        return reach[name]

    pattern = np.eye(len(sid), dtype=bool)
    for j, (_, names, _) in enumerate(reactions):
        reads = [index[s] for s in set().union(*(species_in(n) for n in names))] if names else []
        for i in np.flatnonzero(stoich[:, j]):
            pattern[i, reads] = True
    return _Compiled(tuple(sid), tuple(constants), tuple(volumes), pattern, namespace["statics"],
                     namespace["rhs"], namespace["observe"], source)
