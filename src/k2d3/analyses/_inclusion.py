"""Inclusion criteria of a trial: ``NAME OP NUMBER`` clauses joined by ``and``.

A small grammar read with one regular expression per clause, never ``eval``: a name (a
numeric covariate of the subject, ``years_since_menopause``, or an observable at day 0,
before any dose), one of ``< <= > >= == !=``, and a number. ``or``, parentheses and
arithmetic are refused with a one-line error. A subject that lacks the covariate (a man's
``years_since_menopause``) does not meet the clause.
"""
from __future__ import annotations

import operator
import re
import typing
from dataclasses import dataclass

from k2d3.errors import InputError
from k2d3.inputs.subject import Subject
from k2d3.model import observables
from k2d3.model.build import parameters

OPERATORS = {"<=": operator.le, ">=": operator.ge, "==": operator.eq, "!=": operator.ne,
             "<": operator.lt, ">": operator.gt}
_CLAUSE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=|==|!=|<|>)\s*"
                     r"([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*$")
_AND = re.compile(r"\s+and\s+")
DERIVED = ("years_since_menopause",)


def covariate_names() -> tuple[str, ...]:
    """The subject's numeric fields (booleans read as 0 and 1), and the derived ones."""
    out = []
    for name, field in Subject.model_fields.items():
        args = set(typing.get_args(field.annotation)) or {field.annotation}
        if args & {float, int, bool}:
            out.append(name)
    return (*out, *DERIVED)


@dataclass(frozen=True)
class Criterion:
    name: str
    op: str
    value: float
    text: str

    @property
    def on_day0(self) -> bool:
        """True for an observable (needs the subject's simulated day 0), False for a covariate."""
        return self.name in observables.names()

    def holds(self, x: float | None) -> bool:
        return x is not None and bool(OPERATORS[self.op](float(x), self.value))


def parse(texts: list[str], field: str = "inclusion") -> list[Criterion]:
    """Every clause of every text, or a one-line error naming ``field.i``."""
    known = set(covariate_names()) | set(observables.names())
    out = []
    for i, text in enumerate(texts):
        where = f"{field}.{i}"
        if not isinstance(text, str) or not text.strip():
            raise InputError(where, "must be a criterion like 'ohd25_nmol_l < 50'")
        for clause in _AND.split(text.strip()):
            m = _CLAUSE.match(clause)
            if not m:
                hint = " (only 'and' combines clauses)" if re.search(r"\bor\b", clause) else ""
                raise InputError(where, f"cannot read {clause.strip()!r}: expected NAME OP NUMBER, OP one of "
                                        f"< <= > >= == !=, clauses joined by 'and'{hint}")
            name, op, number = m.groups()
            if name in Subject.model_fields and name not in known:
                raise InputError(where, f"{name!r} is not a number: fix it in population.subject "
                                        f"(sex: population.female_fraction)")
            if name not in known:
                raise InputError(where, f"unknown name {name!r}: a numeric subject field "
                                        f"({', '.join(covariate_names())}) or an observable (k2d3 observables)")
            out.append(Criterion(name, op, float(number), clause.strip()))
    return out


def covariate(subject: Subject, name: str) -> float | None:
    """A subject's value of covariate ``name`` (None where it has none)."""
    if name == "years_since_menopause":
        if subject.sex != "female":
            return None
        onset = subject.menopause_age if subject.menopause_age is not None else parameters()["menopause_age"].value
        return subject.age - onset
    value = getattr(subject, name)
    return None if value is None else float(value)
