"""What the server's worker processes run. Outcomes come back as plain tuples, because an
``InputError`` does not survive pickling with its field: ("ok", payload), ("input", field,
problem) or ("error", text)."""
from __future__ import annotations

import traceback

from k2d3.errors import InputError


def warm() -> None:
    """Compile the model once per worker process, before the first request needs it."""
    from k2d3.engine.runner import runner

    runner()


def run(kind: str, args: dict) -> tuple:
    from k2d3.report import payload

    try:
        if kind == "simulate":
            return ("ok", payload.run_simulation(args["regimen"], args["days"], args["uncertainty"]))
        if kind == "compare":
            return ("ok", payload.run_comparison(args["regimen"], args["days"], args.get("population"),
                                                 engine="reference"))
        if kind == "plan":
            return ("ok", payload.run_plan(args["regimen"], args["targets"], args["forms"], args["horizon_days"]))
        raise ValueError(f"unknown task {kind!r}")
    except InputError as exc:
        return ("input", exc.field, exc.problem)
    except Exception as exc:  # reported to the server, which logs it and answers without a traceback
        return ("error", f"{type(exc).__name__}: {exc}", traceback.format_exc())
