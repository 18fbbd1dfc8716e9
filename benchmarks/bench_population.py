"""A virtual-population 2x2 comparison: serial vs the local process pool.

Each subject runs four arms (placebo, D3, MK-7, both) of one year through the
single-subject engine. The pool spawns fresh workers that compile the model once each, so
its gain shows only when the runs outweigh that start-up. There is no batched population
engine yet (DESIGN.md); when it exists, this is the baseline it is measured against.
Run:  python benchmarks/bench_population.py [N]
"""
from __future__ import annotations

import os
import sys
import time

import k2d3

DAYS = 365


def main(n: int = 8) -> None:
    regimen = k2d3.Regimen.from_dict({"supplements": [
        {"compound": "D3", "dose": "2000 IU", "every": "1 day"},
        {"compound": "MK-7", "dose": "180 ug", "every": "1 day"}]})
    subject = k2d3.Subject(age=60)
    k2d3.simulate(subject, regimen, days=1)  # compile the model in this process first
    times = {}
    for workers in (1, os.cpu_count() or 1):
        start = time.perf_counter()
        k2d3.compare(subject, regimen, days=DAYS, population=k2d3.Population(n=n, seed=1), workers=workers)
        times[workers] = time.perf_counter() - start
        print(f"{n} subjects x 4 arms x {DAYS} days, workers={workers}: {times[workers]:.1f} s "
              f"({times[workers] / n:.2f} s per subject)")
    if len(times) > 1:
        serial, pooled = times[1], times[max(times)]
        print(f"pool speed-up: {serial / pooled:.2f}x on {max(times)} cores")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 8)
