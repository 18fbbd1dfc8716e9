"""The composed SBML model as scalar Python source that numba compiles.

The population engine integrates one subject at a time inside compiled code, so the model
must be plain scalar functions: ``statics`` (what depends on constants only, once per run),
``rhs`` (species amounts per hour), ``observe`` (the observables and the day-0 probes of
``equilibrium``) and the sparse LU of the Rosenbrock matrix ``1/(gamma h) I - J``, as
straight-line code over the fixed sparsity pattern, and the analytic Jacobian
(``jacobian``, by forward-mode differentiation of the SBML math). The translation is hand-written: no
library turns SBML into numba code (SBML-to-code tools target C via CVODE or JAX).

The source is written to a file in the cache directory (``cache_dir``) and imported from
there, because numba caches compiled machine code only for functions defined in a file;
the Rosenbrock integrator's source (``rosenbrock.py``) is appended to the same file, since
numba caches a function only when what it calls is a global of its own module.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.util
import math
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from k2d3.model import build, observables

_COMPARE = {"gt": ">", "lt": "<", "geq": ">=", "leq": "<=", "eq": "==", "neq": "!="}
_UNARY = {"exp": "math.exp", "ln": "math.log", "abs": "abs", "floor": "math.floor",
          "ceiling": "math.ceil", "sin": "math.sin", "cos": "math.cos", "tan": "math.tan"}


class _Scalar:
    """libsbml AST -> a scalar Python expression, lifting parts that depend on constants
    only into ``hoisted`` (computed once per run by ``statics``) when ``hoist`` is set."""

    def __init__(self, libsbml, name_of, static: set[str] | None = None, hoisted: list[str] | None = None):
        self.L, self.name_of = libsbml, name_of
        self.static = static if static is not None else set()
        self.hoisted = hoisted
        self.names: set[str] = set()
        self.time = False

    def __call__(self, node) -> str:
        expr, static = self._part(node)
        return self._lift(expr) if static else expr

    def _lift(self, expr: str) -> str:
        # literals stay inline; a constant's name is hoisted too, so that rhs reads it from H
        if self.hoisted is None or re.fullmatch(r"-?[0-9.]+(e[+-]?[0-9]+)?|True|False", expr):
            return expr
        if expr not in self.hoisted:
            self.hoisted.append(expr)
        return f"H[{self.hoisted.index(expr)}]"

    def _part(self, node) -> tuple[str, bool]:
        L = self.L
        t = node.getType()
        parts = [self._part(node.getChild(i)) for i in range(node.getNumChildren())]
        if not parts:
            if t == L.AST_NAME:
                self.names.add(node.getName())
            if t == L.AST_NAME_TIME:
                self.time = True
            return self._combine(node, []), t != L.AST_NAME_TIME and (t != L.AST_NAME or node.getName() in self.static)
        if all(st for _, st in parts):
            return self._combine(node, [e for e, _ in parts]), True
        if self.hoisted is not None and t in (L.AST_TIMES, L.AST_PLUS):
            fixed = [e for e, st in parts if st]
            moving = [e for e, st in parts if not st]
            fixed = [self._lift(self._combine(node, fixed))] if len(fixed) > 1 else [self._lift(e) for e in fixed]
            return self._combine(node, fixed + moving), False
        return self._combine(node, [self._lift(e) if st else e for e, st in parts]), False

    def _combine(self, node, a: list[str]) -> str:
        L = self.L
        t = node.getType()
        if t == L.AST_NAME:
            return self.name_of(node.getName())
        if t == L.AST_NAME_TIME:
            return "t"
        if t == L.AST_INTEGER:
            return repr(float(node.getInteger()))
        if t in (L.AST_REAL, L.AST_REAL_E, L.AST_RATIONAL):
            return repr(float(node.getReal()))
        if t == L.AST_CONSTANT_PI:
            return repr(math.pi)
        if t == L.AST_CONSTANT_E:
            return repr(math.e)
        if t in (L.AST_CONSTANT_TRUE, L.AST_CONSTANT_FALSE):
            return "True" if t == L.AST_CONSTANT_TRUE else "False"
        if t == L.AST_PLUS:
            return "(" + " + ".join(a) + ")" if a else "0.0"
        if t == L.AST_MINUS:
            return f"(-{a[0]})" if len(a) == 1 else f"({a[0]} - {a[1]})"
        if t == L.AST_TIMES:
            return "(" + " * ".join(a) + ")" if a else "1.0"
        if t == L.AST_DIVIDE:
            return f"({a[0]} / {a[1]})"
        if t in (L.AST_POWER, L.AST_FUNCTION_POWER):
            return f"_pw({a[0]}, {a[1]})"
        if t == L.AST_FUNCTION_ROOT:
            return f"math.sqrt({a[0]})" if len(a) == 1 else f"_pw({a[1]}, 1.0 / {a[0]})"
        if t == L.AST_FUNCTION_LOG:
            return f"math.log10({a[0]})" if len(a) == 1 else f"(math.log({a[1]}) / math.log({a[0]}))"
        if t in (L.AST_FUNCTION_MAX, L.AST_FUNCTION_MIN):
            fn = "max" if t == L.AST_FUNCTION_MAX else "min"
            return functools.reduce(lambda x, y: f"{fn}({x}, {y})", a)
        if t == L.AST_FUNCTION_PIECEWISE:
            expr = a[-1] if len(a) % 2 else "math.nan"
            for value, cond in reversed(list(zip(a[0:len(a) - len(a) % 2:2], a[1::2]))):
                expr = f"({value} if {cond} else {expr})"
            return expr
        if t == L.AST_LOGICAL_AND:
            return "(" + " and ".join(a) + ")"
        if t == L.AST_LOGICAL_OR:
            return "(" + " or ".join(a) + ")"
        if t == L.AST_LOGICAL_NOT:
            return f"(not {a[0]})"
        rel = {getattr(L, f"AST_RELATIONAL_{k.upper()}"): v for k, v in _COMPARE.items()}
        if t in rel and len(a) == 2:
            return f"({a[0]} {rel[t]} {a[1]})"
        name = node.getName()
        if name in _UNARY and len(a) == 1:
            return f"{_UNARY[name]}({a[0]})"
        raise NotImplementedError(f"population engine: SBML math {name or t!r} is not translated")


def _order(rules: dict[str, set[str]], needed: set[str]) -> list[str]:
    """The rules ``needed`` (transitively), each after the rules it reads."""
    out: list[str] = []
    seen: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in seen or name not in rules:
            return
        if name in path:
            raise ValueError(f"population engine: assignment rules form a cycle through {name}")
        for dep in sorted(rules[name]):
            visit(dep, path + (name,))
        seen.add(name)
        out.append(name)

    for name in sorted(needed):
        visit(name, ())
    return out


def _local(name: str) -> str:
    return f"v_{name}"


@dataclass(frozen=True)
class Model:
    """What the engine needs to know of the generated code."""

    species: tuple[str, ...]           # state rows (amounts)
    constants: tuple[str, ...]         # the parameter vector P: constant parameters and compartments
    probes: tuple[str, ...]            # what ``observe`` returns: the observables, then ``extra``
    n_hoisted: int                     # length of H
    pattern: np.ndarray                # (species, species) bool: d(dY_i)/d(Y_j) may be non-zero
    perm: np.ndarray                   # elimination order of the LU
    n_lu: int                          # entries of the LU's fill pattern
    jac_entry: np.ndarray              # per pattern entry (row-major order of ``pattern``): its LU slot
    diag_entry: np.ndarray             # per species: the LU slot of its diagonal
    depots: tuple[int, ...]            # species rows solved in closed form (``_depots``)
    source: str                        # the generated model code (without the integrator)


def _lu_source(pattern: np.ndarray) -> tuple[list[str], np.ndarray, int, np.ndarray, np.ndarray]:
    """Straight-line LU factorisation (no pivoting, in a minimum-degree order) and the two
    triangular solves for ``pattern`` with a full diagonal. The Rosenbrock matrix
    ``1/(gamma h) I - J`` is dominated by its diagonal at the step sizes the error control
    allows; a vanishing pivot makes the step fail and the integrator retry with a smaller h."""
    n = pattern.shape[0]
    g = pattern | pattern.T
    np.fill_diagonal(g, False)
    left, perm = list(range(n)), []
    while left:  # greedy minimum degree on the symmetrised pattern
        k = min(left, key=lambda i: (int(g[i, left].sum()), i))
        nb = [i for i in left if g[k, i]]
        for i in nb:
            g[i, nb] = True
            g[i, i] = False
        left.remove(k)
        perm.append(k)
    perm = np.array(perm)
    fill = pattern[np.ix_(perm, perm)].copy()
    np.fill_diagonal(fill, True)
    for k in range(n):  # symbolic elimination
        lower = np.flatnonzero(fill[k + 1:, k]) + k + 1
        upper = np.flatnonzero(fill[k, k + 1:]) + k + 1
        fill[np.ix_(lower, upper)] = True
    fi, fj = np.nonzero(fill)
    at = {(int(i), int(j)): e for e, (i, j) in enumerate(zip(fi, fj))}
    src = ["@njit(**OPTIONS)", "def lu_factor(a):",
           "    # in place; returns False at a vanishing pivot"]
    for k in range(n):
        src.append(f"    if a[{at[(k, k)]}] == 0.0 or not math.isfinite(a[{at[(k, k)]}]):")
        src.append("        return False")
        src.append(f"    a[{at[(k, k)]}] = 1.0 / a[{at[(k, k)]}]")
        lower = [i for i in range(k + 1, n) if fill[i, k]]
        upper = [j for j in range(k + 1, n) if fill[k, j]]
        for i in lower:
            src.append(f"    a[{at[(i, k)]}] *= a[{at[(k, k)]}]")
            src += [f"    a[{at[(i, j)]}] -= a[{at[(i, k)]}] * a[{at[(k, j)]}]" for j in upper]
    src.append("    return True")
    src += ["", "", "@njit(**OPTIONS)", "def lu_solve(a, b, z):",
            "    # solves (LU) x = b in place of b (the diagonal holds the pivots' inverses)"]
    for i in range(n):
        terms = "".join(f" - a[{at[(i, k)]}] * z[{k}]" for k in range(i) if fill[i, k])
        src.append(f"    z[{i}] = b[{perm[i]}]{terms}")
    for i in range(n - 1, -1, -1):
        terms = "".join(f" - a[{at[(i, j)]}] * z[{j}]" for j in range(i + 1, n) if fill[i, j])
        src.append(f"    z[{i}] = (z[{i}]{terms}) * a[{at[(i, i)]}]")
    for i in range(n):
        src.append(f"    b[{perm[i]}] = z[{i}]")
    inv = np.empty(n, dtype=np.int64)
    inv[perm] = np.arange(n)
    bi, bj = np.nonzero(pattern)
    jac_entry = np.array([at[(int(inv[i]), int(inv[j]))] for i, j in zip(bi, bj)], dtype=np.int64)
    diag_entry = np.array([at[(int(inv[i]), int(inv[i]))] for i in range(n)], dtype=np.int64)
    return src, perm, len(at), jac_entry, diag_entry


class _Derivative:
    """Forward-mode differentiation of a libsbml AST into scalar code: the value of a node
    and its sparse gradient over the species (keys: species rows, ``TIME`` for t). Moving
    names carry the gradients of the statements before them (``grad_of``); sub-values used
    in more than one term go to temporaries (``lines``)."""

    TIME = -1

    def __init__(self, L, static: set[str], hoisted: list[str], grad_of: dict, lines: list[str], prefix: str):
        self.L, self.static, self.hoisted = L, static, hoisted
        self.grad_of, self.lines, self.prefix = grad_of, lines, prefix
        self.count = 0

    def _value(self, node) -> tuple[str, bool]:
        tr = _Scalar(self.L, _local, self.static, self.hoisted)
        expr, st = tr._part(node)
        return (tr._lift(expr) if st else expr), st

    def temp(self, expr: str) -> str:
        if re.fullmatch(r"[\w.\[\]]+|-?[0-9.]+(e[+-]?[0-9]+)?", expr):
            return expr
        self.count += 1
        name = f"{self.prefix}{self.count}"
        self.lines.append(f"    {name} = {expr}")
        return name

    def __call__(self, node) -> tuple[str, dict[int, str]]:
        L = self.L
        t = node.getType()
        value, static = self._value(node)
        if static:
            return value, {}
        if t == L.AST_NAME:
            return value, dict(self.grad_of.get(node.getName(), {}))
        if t == L.AST_NAME_TIME:
            return "t", {self.TIME: "1.0"}
        kids = [self(node.getChild(i)) for i in range(node.getNumChildren())]
        if t == L.AST_PLUS:
            return "(" + " + ".join(v for v, _ in kids) + ")", self._sum([(1.0, g) for _, g in kids])
        if t == L.AST_MINUS:
            if len(kids) == 1:
                return f"(-{kids[0][0]})", self._sum([(-1.0, kids[0][1])])
            return f"({kids[0][0]} - {kids[1][0]})", self._sum([(1.0, kids[0][1]), (-1.0, kids[1][1])])
        if t == L.AST_TIMES:
            vals = [self.temp(v) for v, _ in kids]
            grad: dict[int, list[str]] = {}
            for i, (_, g) in enumerate(kids):
                others = " * ".join(v for j, v in enumerate(vals) if j != i) or "1.0"
                for k, e in g.items():
                    grad.setdefault(k, []).append(f"{e} * {others}")
            return "(" + " * ".join(vals) + ")", {k: "(" + " + ".join(v) + ")" for k, v in grad.items()}
        if t == L.AST_DIVIDE:
            a, b = self.temp(kids[0][0]), self.temp(kids[1][0])
            q = self.temp(f"({a} / {b})")
            grad = {k: f"({kids[0][1].get(k, '0.0')} - {q} * {kids[1][1].get(k, '0.0')}) / {b}"
                    for k in set(kids[0][1]) | set(kids[1][1])}
            return q, grad
        if t == L.AST_FUNCTION_ROOT and len(kids) == 2:  # root(n, x) = x^(1/n)
            t, kids = L.AST_POWER, [kids[1], (f"(1.0 / {kids[0][0]})",
                                              {k: f"(-{e} / ({kids[0][0]}) ** 2)" for k, e in kids[0][1].items()})]
        if t in (L.AST_POWER, L.AST_FUNCTION_POWER):
            a, b = self.temp(kids[0][0]), self.temp(kids[1][0])
            val = self.temp(f"_pw({a}, {b})")
            grad = {}
            if kids[0][1]:  # d(a^b)/da = b a^(b-1); infinite at a = 0 for b < 1, taken as 0 there
                da = self.temp(f"({b} * _pw({a}, {b} - 1.0) if {a} != 0.0 or {b} >= 1.0 else 0.0)")
                grad = {k: f"{da} * {e}" for k, e in kids[0][1].items()}
            if kids[1][1]:
                la = self.temp(f"({val} * math.log({a}) if {a} > 0.0 else 0.0)")
                for k, e in kids[1][1].items():
                    grad[k] = f"({grad[k]} + {la} * {e})" if k in grad else f"{la} * {e}"
            return val, grad
        if t == L.AST_FUNCTION_ROOT and len(kids) == 1:
            val = self.temp(f"math.sqrt({kids[0][0]})")
            return val, {k: f"{e} / (2.0 * {val})" for k, e in kids[0][1].items()}
        if t in (L.AST_FUNCTION_MAX, L.AST_FUNCTION_MIN):
            op = ">=" if t == L.AST_FUNCTION_MAX else "<="
            val, grad = kids[0][0], kids[0][1]
            for v, g in kids[1:]:
                a, b = self.temp(val), self.temp(v)
                grad = {k: f"({grad.get(k, '0.0')} if {a} {op} {b} else {g.get(k, '0.0')})"
                        for k in set(grad) | set(g)}
                val = self.temp(f"({a} if {a} {op} {b} else {b})")
            return val, grad
        if t == L.AST_FUNCTION_PIECEWISE:
            n = len(kids)
            pairs = [(kids[i], self._value(node.getChild(i + 1))[0]) for i in range(0, n - n % 2, 2)]
            otherwise = kids[-1] if n % 2 else ("math.nan", {})
            keys = set(otherwise[1]).union(*(set(g) for (_, g), _ in pairs))
            grad = {}
            for k in keys:
                expr = otherwise[1].get(k, "0.0")
                for (_, g), cond in reversed(pairs):
                    expr = f"({g.get(k, '0.0')} if {cond} else {expr})"
                grad[k] = expr
            return value, grad
        name = node.getName()
        if name == "exp":
            val = self.temp(f"math.exp({kids[0][0]})")
            return val, {k: f"{val} * {e}" for k, e in kids[0][1].items()}
        if name == "ln":
            a = self.temp(kids[0][0])
            return f"math.log({a})", {k: f"{e} / {a}" for k, e in kids[0][1].items()}
        if name == "abs":
            a = self.temp(kids[0][0])
            return f"abs({a})", {k: f"(1.0 if {a} >= 0.0 else -1.0) * {e}" for k, e in kids[0][1].items()}
        if t == L.AST_FUNCTION_LOG and len(kids) == 1:
            a = self.temp(kids[0][0])
            return f"math.log10({a})", {k: f"{e} / ({a} * {math.log(10.0)!r})" for k, e in kids[0][1].items()}
        # relations and logic: piecewise conditions, no gradient of their own
        return value, {}

    @staticmethod
    def _sum(terms: list[tuple[float, dict[int, str]]]) -> dict[int, str]:
        out: dict[int, list[str]] = {}
        for c, g in terms:
            for k, e in g.items():
                out.setdefault(k, []).append(e if c == 1.0 else f"(-{e})")
        return {k: "(" + " + ".join(v) + ")" if len(v) > 1 else v[0] for k, v in out.items()}


@dataclass(frozen=True)
class _Coefficient:
    expr: str
    names: set[str]


def _factors(L, node) -> list:
    """The factors of a (nested) product."""
    if node.getType() == L.AST_TIMES:
        return [f for i in range(node.getNumChildren()) for f in _factors(L, node.getChild(i))]
    return [node]


def _depots(L, m, sid, stoich, reactions, static, volume_of):
    """Species that only first-order reactions with constant coefficients empty and no
    reaction fills (the gut and skin depots the engine doses into). Between doses their
    amount is ``A0 exp(-k (t - t0))``: the integrator uses that closed form instead of
    resolving each dose's absorption to its tolerance, which otherwise sets the step size
    for hours after every dose."""
    names, coefficients = [], []
    for i, s in enumerate(sid):
        if (stoich[i] > 0).any():
            continue
        cs = []
        for j in np.flatnonzero(stoich[i] < 0):
            factors = _factors(L, reactions[j])
            own = [f for f in factors if f.getType() == L.AST_NAME and f.getName() == s]
            rest = [f for f in factors if f not in own]
            tr = _Scalar(L, _local)
            exprs = [tr(f) for f in rest]
            if len(own) != 1 or stoich[i, j] != -1.0 or tr.time or not tr.names <= static:
                break
            cs.append(_Coefficient(" * ".join(exprs) if exprs else "1.0", tr.names))
        else:
            if cs:
                names.append(s)
                coefficients.append(cs)
    return names, coefficients


def translate(sbml: str, extra: tuple[str, ...] = ()) -> Model:
    """The model code for ``sbml``; ``observe`` also returns the quantities named in ``extra``."""
    import libsbml

    m = libsbml.readSBMLFromString(sbml).getModel()
    if m.getNumEvents() or m.getNumFunctionDefinitions():
        raise NotImplementedError("population engine: events and function definitions are not translated")
    if any(r.getTypeCode() != libsbml.SBML_ASSIGNMENT_RULE for r in m.getListOfRules()):
        raise NotImplementedError("population engine: only assignment rules are translated")
    species = [s for s in m.getListOfSpecies() if not s.getConstant() and not s.getBoundaryCondition()]
    if len(species) != m.getNumSpecies():
        raise NotImplementedError("population engine: boundary or constant species are not translated")
    if not all(c.getConstant() for c in m.getListOfCompartments()):
        raise NotImplementedError("population engine: variable compartments are not translated")
    sid = [s.getId() for s in species]
    index = {s: i for i, s in enumerate(sid)}
    constants = [p.getId() for p in m.getListOfParameters() if p.getConstant()]
    constants += [c.getId() for c in m.getListOfCompartments()]
    crow = {c: i for i, c in enumerate(constants)}
    volume_of = {s.getId(): s.getCompartment() for s in species if not s.getHasOnlySubstanceUnits()}

    math_of = {r.getVariable(): r.getMath() for r in m.getListOfRules()}
    reads: dict[str, set[str]] = {}
    timed: set[str] = set()
    for name, node in math_of.items():
        tr = _Scalar(libsbml, _local)
        tr(node)
        reads[name] = tr.names
        if tr.time:
            timed.add(name)
    static = set(constants)
    for r in _order(reads, set(reads)):
        if r not in timed and reads[r] <= static:
            static.add(r)

    reactions = []
    stoich = np.zeros((len(sid), m.getNumReactions()))
    for j, r in enumerate(m.getListOfReactions()):
        law = r.getKineticLaw()
        if law.getNumLocalParameters():
            raise NotImplementedError(f"population engine: local parameters in reaction {r.getId()}")
        reactions.append(law.getMath())
        for ref, sign in [(x, -1.0) for x in r.getListOfReactants()] + [(x, 1.0) for x in r.getListOfProducts()]:
            if not ref.isSetStoichiometry() or not ref.getConstant():
                raise NotImplementedError(f"population engine: variable stoichiometry in reaction {r.getId()}")
            stoich[index[ref.getSpecies()], j] += sign * ref.getStoichiometry()

    def reader(direct: set[str], rule_list: list[str]) -> list[str]:
        """Locals for the species and constants that ``direct`` and ``rule_list`` read."""
        names = set(direct).union(*(reads[r] for r in rule_list))
        lines = [f"    {_local(c)} = P[{crow[c]}]" for c in constants
                 if c in names or c in {volume_of.get(s) for s in names}]
        for i, s in enumerate(sid):
            if s in names:
                vol = f" / {_local(volume_of[s])}" if s in volume_of else ""
                lines.append(f"    {_local(s)} = Y[{i}]{vol}")
        return lines

    # rhs: rules that move (read species or time) computed each call; constant parts hoisted
    hoisted: list[str] = []
    rate_reads: set[str] = set()
    rate_exprs = []
    for node in reactions:
        tr = _Scalar(libsbml, _local, static, hoisted)
        rate_exprs.append(tr(node))
        rate_reads |= tr.names
    moving = [r for r in _order(reads, rate_reads) if r not in static]
    rule_lines = []
    for r in moving:
        tr = _Scalar(libsbml, _local, static, hoisted)
        rule_lines.append(f"    {_local(r)} = {tr(math_of[r])}")
    direct = (rate_reads | set().union(*(reads[r] for r in moving))) - static
    head = []
    for i, s in enumerate(sid):
        if s in direct:
            vol = f" / {_local(volume_of[s])}" if s in volume_of else ""
            head.append(f"    {_local(s)} = Y[{i}]{vol}")
    vols = {volume_of[s] for s in direct if s in volume_of}
    head = [f"    {_local(c)} = P[{crow[c]}]" for c in sorted(vols)] + head
    rhs = ["@njit(**OPTIONS)", "def rhs(t, Y, P, H, dY):"] + head + rule_lines
    rhs += [f"    r{j} = {e}" for j, e in enumerate(rate_exprs)]
    for i in range(len(sid)):
        terms = [(stoich[i, j], j) for j in np.flatnonzero(stoich[i])]
        expr = " ".join(("+ " if c > 0 else "- ") + (f"r{j}" if abs(c) == 1 else f"{abs(c)!r} * r{j}")
                        for c, j in terms) if terms else "0.0"
        rhs.append(f"    dY[{i}] = {expr.removeprefix('+ ')}")

    # observe: observables and the extra probes, straight from Y and P
    probes = tuple(observables.names()) + tuple(extra)
    obs_rules = _order(reads, set(probes))
    obs = ["@njit(**OPTIONS)", "def observe(t, Y, P, out):"] + reader(set(probes), obs_rules)
    obs += [f"    {_local(r)} = {_Scalar(libsbml, _local)(math_of[r])}" for r in obs_rules]
    for k, name in enumerate(probes):
        if name in index and name not in math_of:  # a species: its amount, as roadrunner's selection
            obs.append(f"    out[{k}] = Y[{index[name]}]")
        elif name in crow and name not in math_of:
            obs.append(f"    out[{k}] = P[{crow[name]}]")
        elif name in math_of:
            obs.append(f"    out[{k}] = {_local(name)}")
        else:
            raise ValueError(f"population engine: {name!r} is not a species, parameter or rule of the model")

    # depots: amounts only emptied by first-order reactions with constant coefficients
    depot_names, coefficients = _depots(libsbml, m, sid, stoich, reactions, static, volume_of)
    rates = ["@njit(**OPTIONS)", "def depot_rates(P, K):",
             "    # the total first-order loss rate (1/h) of each depot"]
    used = set().union(*(c.names for cs in coefficients for c in cs)) if coefficients else set()
    rate_rules = _order(reads, used)
    rates += reader(used, rate_rules)
    rates += [f"    {_local(r)} = {_Scalar(libsbml, _local)(math_of[r])}" for r in rate_rules]
    for d, (name, cs) in enumerate(zip(depot_names, coefficients)):
        total = " + ".join(c.expr for c in cs)
        vol = f" / {_local(volume_of[name])}" if name in volume_of else ""
        if name in volume_of and volume_of[name] not in used:
            rates.append(f"    {_local(volume_of[name])} = P[{crow[volume_of[name]]}]")
        rates.append(f"    K[{d}] = ({total}){vol}")
    if not depot_names:
        rates.append("    pass")

    # sparsity: dY_i depends on Y_j if a reaction changing i reads j, directly or through rules
    reach: dict[str, set[str]] = {}

    def species_in(name: str) -> set[str]:
        if name in index:
            return {name}
        if name not in reads:
            return set()
        if name not in reach:
            reach[name] = set().union(*(species_in(x) for x in reads[name])) if reads[name] else set()
        return reach[name]

    pattern = np.eye(len(sid), dtype=bool)
    for j, node in enumerate(reactions):
        tr = _Scalar(libsbml, _local)
        tr(node)
        cols = [index[s] for s in set().union(*(species_in(x) for x in tr.names))] if tr.names else []
        for i in np.flatnonzero(stoich[:, j]):
            pattern[i, cols] = True
    lu, perm, n_lu, jac_entry, diag_entry = _lu_source(pattern)

    # the analytic Jacobian into the LU's slots, and the explicit time derivative
    bi, bj = np.nonzero(pattern)
    slot = {(int(i), int(j)): int(e) for i, j, e in zip(bi, bj, jac_entry)}
    jlines: list[str] = []
    grad_of: dict[str, dict[int, str]] = {}
    for i, sp in enumerate(sid):
        if sp in direct or any(sp in reads[r] for r in moving):
            grad_of[sp] = {i: f"(1.0 / {_local(volume_of[sp])})" if sp in volume_of else "1.0"}
    diff = _Derivative(libsbml, static, hoisted, grad_of, jlines, "w")
    for r in moving:
        val, grad = diff(math_of[r])
        jlines.append(f"    {_local(r)} = {val}")
        grad_of[r] = {}
        for k, e in sorted(grad.items()):
            gname = f"g_{r}_{'t' if k == _Derivative.TIME else k}"
            jlines.append(f"    {gname} = {e}")
            grad_of[r][k] = gname
    for j, node in enumerate(reactions):
        _, grad = diff(node)
        for k, e in sorted(grad.items()):
            gname = diff.temp(e)
            for i in np.flatnonzero(stoich[:, j]):
                c = stoich[i, j]
                term = gname if c == 1.0 else f"-{gname}" if c == -1.0 else f"{c!r} * {gname}"
                target = f"ft[{i}]" if k == _Derivative.TIME else f"jac[{slot[(int(i), int(k))]}]"
                jlines.append(f"    {target} += {term}")
    jac = ["@njit(**OPTIONS)", "def jacobian(t, Y, P, H, jac, ft):",
           "    # adds d(dY)/dY into jac (the LU's slots) and d(dY)/dt into ft; both zeroed by the caller"]
    jac += head + jlines
    # statics: the hoisted expressions, from the constants and the constant rules
    hoist_reads = set(re.findall(r"\bv_(\w+)", " ".join(hoisted)))
    static_rules = _order(reads, hoist_reads)
    stat = ["@njit(**OPTIONS)", "def statics(P, H):"] + reader(hoist_reads, static_rules)
    stat += [f"    {_local(r)} = {_Scalar(libsbml, _local)(math_of[r])}" for r in static_rules]
    stat += [f"    H[{k}] = {h}" for k, h in enumerate(hoisted)] or ["    pass"]

    header = ["import math", "", "import numpy as np", "from numba import njit, prange", "",
              "# numpy's error model: a division by zero gives inf or nan (caught by the step control)",
              "# instead of a Python exception, which costs a branch at every division",
              'OPTIONS = dict(cache=True, error_model="numpy", fastmath={"contract", "arcp", "nsz"})',
              "PARALLEL = dict(OPTIONS, parallel=True)", "", "",
              "@njit(inline='always', **OPTIONS)",
              "def _pw(a, b):",
              "    # the Hill exponents of the bone model are often 1 or 2: a predictable branch costs",
              "    # far less than pow(), which was 80% of the right-hand side's time",
              "    if b == 1.0:",
              "        return a",
              "    if b == 2.0:",
              "        return a * a",
              "    if b == 0.0:",
              "        return 1.0",
              "    return a ** b", "",
              f"N_SPECIES = {len(sid)}", f"N_CONSTANTS = {len(constants)}", f"N_HOISTED = {max(len(hoisted), 1)}",
              f"N_PROBES = {len(probes)}", f"N_LU = {n_lu}", "", ""]
    header.insert(-2, f"N_DEPOTS = {len(depot_names)}")
    source = "\n".join(header + stat + ["", ""] + rhs + ["", ""] + jac + ["", ""] + obs + ["", ""] + rates
                       + ["", ""] + lu) + "\n"
    return Model(tuple(sid), tuple(constants), probes, max(len(hoisted), 1), pattern, perm, n_lu,
                 jac_entry, diag_entry, tuple(index[d] for d in depot_names), source)


def cache_dir() -> Path:
    """Where generated code and numba's compiled cache live: ``K2D3_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/k2d3`` (``~/.cache/k2d3``); a private temporary directory when that
    cannot be written."""
    base = os.environ.get("K2D3_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "k2d3")
    path = Path(base)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".probe-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
        return path
    except OSError:
        return Path(_private_tmp())


@functools.cache
def _private_tmp() -> str:
    return tempfile.mkdtemp(prefix="k2d3-cache-")


def load(model: Model, integrator_source: str):
    """Write the model code and the integrator into one module file (named by its content's
    hash, written atomically) and import it."""
    text = model.source + "\n\n" + integrator_source
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    name = f"k2d3_model_{digest}"
    if name in sys.modules:
        return sys.modules[name]
    folder = cache_dir()
    path = folder / f"{name}.py"
    if not path.exists() or path.read_text() != text:
        tmp = folder / f".{name}.{os.getpid()}.tmp"
        tmp.write_text(text)
        os.replace(tmp, path)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@functools.cache
def model_code(extra: tuple[str, ...] = ()) -> Model:
    return translate(build.sbml(), extra)
