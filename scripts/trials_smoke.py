"""Simulate every arm of data/trials.csv once with today's parameters and write, per study,
published vs simulated into data/trials_README.md (between the smoke markers).

A smoke check of the data layer and a map of where the model's structure fails before any
refit; it fits nothing. Arms run in the compiled population engine, one call per run
length (the first call compiles the engine: minutes in a fresh cache).
Run:  python scripts/trials_smoke.py [--readme data/trials_README.md]
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from collections import defaultdict
from pathlib import Path

from k2d3.calibration import conditions, load
from k2d3.calibration.data import trials_path
from k2d3.engine.population_engine import simulate_many
from k2d3.files import write_atomic
from k2d3.model import observables

START, END = "<!-- smoke:start -->", "<!-- smoke:end -->"


def simulate_all(measurements):
    """{condition key: {(observable, day): value}} for every arm, or {key: error text}."""
    names = observables.names()
    by_days = defaultdict(list)
    for c in conditions(measurements):
        by_days[c.days].append(c)
    values, failed = {}, {}
    for days, group in sorted(by_days.items()):
        times = sorted({t for c in group for t in c.times})
        try:
            runs = [(group, simulate_many([c.subject for c in group], [c.regimen for c in group], days=days,
                                          times=times))]
        except Exception:  # one bad arm stops the batch: run the arms one by one to name it
            runs = []
            for c in group:
                try:
                    runs.append(([c], simulate_many([c.subject], [c.regimen], days=days, times=times)))
                except Exception as exc:
                    failed[c.key] = f"{type(exc).__name__}: {exc}".splitlines()[0]
        for arms, (v, out_days) in runs:
            for i, c in enumerate(arms):
                values[c.key] = {(name, float(d)): float(v[i, j, k]) for j, d in enumerate(out_days)
                                 for k, name in enumerate(names)}
    return values, failed


def predict(m, values, failed):
    for key in (m.arm, m.reference):
        if key in failed:
            return None, failed[key]
    arm = lambda d: values[m.arm][(m.observable, d)]  # noqa: E731
    ref = None if m.reference is None else (lambda d: values[m.reference][(m.observable, d)])  # noqa: E731
    try:
        return m.predicted(arm, ref), ""
    except ZeroDivisionError:
        return None, "division by zero (a reference value of 0)"


def _z(m, sim):
    return None if sim is None or not m.sd_of_mean else (sim - m.value) / m.sd_of_mean


def _fmt(v, digits=4):
    if v is None:
        return "–"
    return "0" if abs(v) < 1e-9 else f"{v:.{digits}g}"


def report(measurements, values, failed, seconds: float) -> str:
    rows = [(m, *predict(m, values, failed)) for m in measurements]
    with_se = [(m, s) for m, s, _ in rows if s is not None and m.sd_of_mean]
    within = sum(1 for m, s in with_se if abs(_z(m, s)) <= 2)
    sd_rows = [(m, s, sd) for m, s, _ in rows if s is not None and (sd := _published_sd(m)) is not None]
    within_sd = sum(1 for m, s, sd in sd_rows if abs(s - m.value) <= 2 * sd)
    simulated = sum(1 for _, s, _ in rows if s is not None)
    lines = [START, "",
             f"Today's model (parameters.yaml as on this branch, before any refit), {len(conditions(measurements))} "
             f"arms simulated once with `simulate_many` ({seconds:.0f} s on this machine); "
             f"{simulated} of {len(rows)} rows simulated.", "",
             f"- **{within} of {len(with_se)} rows with a standard error lie within 2 standard errors of the "
             f"published mean** (z = (simulated - published) / sd_of_mean); by split: "
             + ", ".join(f"{sp} {sum(1 for m, s in with_se if m.split == sp and abs(_z(m, s)) <= 2)} of "
                         f"{sum(1 for m, _ in with_se if m.split == sp)}" for sp in ("calibration", "validation")) + ".",
             f"- {within_sd} of {len(sd_rows)} rows with a published SD lie within 2 SD (the spread between "
             f"subjects, a looser test).",
             f"- {len(rows) - len(with_se) - (len(rows) - simulated)} rows have no standard error (no spread, or an "
             "SD without n): the table gives their relative error.", ""]
    by_study = defaultdict(list)
    for r in rows:
        by_study[(r[0].split, r[0].study)].append(r)
    for (split, study), group in sorted(by_study.items()):
        lines += [f"#### {study} ({split})", "",
                  "| id | observable | statistic | day | published | sd of mean | simulated | z | rel. error |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for m, sim, why in group:
            stat = m.statistic if m.contrast == "none" else f"{m.statistic}, {m.contrast}"
            rel = None if sim is None or m.value == 0 else (sim - m.value) / abs(m.value)
            z = _z(m, sim)
            lines.append(f"| {m.id} | {m.observable} | {stat} | {m.day:g} | {_fmt(m.value)} | {_fmt(m.sd_of_mean, 3)} | "
                         f"{_fmt(sim) if sim is not None else 'failed: ' + why} | {_fmt(z, 2)} | "
                         f"{'–' if rel is None else f'{100 * rel:+.0f}%'} |")
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


def _published_sd(m):
    """The published between-subject SD of an arm, where the row gives one."""
    if m.spread_kind != "SD" or m.sd_of_mean is None or m.n is None:
        return None
    return m.sd_of_mean * math.sqrt(m.n)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--readme", type=Path, default=trials_path().with_name("trials_README.md"))
    args = ap.parse_args()
    measurements = load()
    t0 = time.perf_counter()
    values, failed = simulate_all(measurements)
    table = report(measurements, values, failed, time.perf_counter() - t0)
    text = args.readme.read_text()
    if START not in text or END not in text:
        sys.exit(f"{args.readme}: the markers {START} and {END} are missing")
    head, rest = text.split(START, 1)
    write_atomic(args.readme, head + table + rest.split(END, 1)[1])
    print(table.splitlines()[4])


if __name__ == "__main__":
    main()
