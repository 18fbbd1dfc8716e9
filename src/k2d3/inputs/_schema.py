"""Pydantic plumbing shared by the input schemas: strict models and one-line errors."""
from __future__ import annotations

import pydantic

from k2d3.errors import InputError


class Strict(pydantic.BaseModel):
    """Unknown fields are errors (a typo must not be silently ignored)."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)


def as_input_error(exc: pydantic.ValidationError, prefix: str = "") -> InputError:
    """The first problem of a pydantic error as an ``InputError`` naming its field."""
    return error_of(exc.errors()[0], prefix)


def error_of(err: dict, prefix: str = "") -> InputError:
    """One entry of a pydantic error list (``exc.errors()``) as an ``InputError``; the web
    layer formats each problem of a request body with it."""
    parts = [str(p) for p in err["loc"] if p != "__root__"]
    inner = (err.get("ctx") or {}).get("error")
    if isinstance(inner, InputError):  # raised by our own validators: keep its field name
        if not parts or parts[-1] != inner.field:
            parts.append(inner.field)
        return InputError(".".join(x for x in (prefix, *parts) if x), inner.problem)
    field = ".".join(x for x in (prefix, *parts) if x) or "input"
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    if err["type"] == "extra_forbidden":
        msg = "unknown field"
    elif err["type"] == "missing":
        msg = "required field is missing"
    elif "input" in err and err["type"] not in ("value_error",):
        msg = f"{msg} (got {err['input']!r})"
    return InputError(field, msg)


def build(model: type[pydantic.BaseModel], data: object, prefix: str):
    """Validate ``data`` into ``model`` or raise a one-line ``InputError``."""
    if not isinstance(data, dict):
        raise InputError(prefix or "input", f"expected a mapping of fields, got {type(data).__name__}")
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise as_input_error(exc, prefix) from None
    except InputError as exc:
        raise InputError(".".join(x for x in (prefix, exc.field) if x), exc.problem) from None
