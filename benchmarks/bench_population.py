"""A virtual population on one regimen: the population engine beside libroadrunner.

N subjects drawn by ``k2d3.Population`` (covariates and between-subject variability), each
on a year of daily D3 2000 IU + MK-7 180 ug, each starting from its own steady state (a
measured 25(OH)D). The reference is the serial loop of single-subject runs in
libroadrunner (``k2d3.simulate``: equilibration to the subject's day 0, then the dosed
year; the SBML compiled once). The population engine runs the same subjects in compiled
code on all cores (``k2d3.engine.population_engine``; its compilation is cached and not
timed). Both are timed in the same run; the load average is printed beside them, because
other work on the machine slows both. The largest difference of the two engines' end
values, relative to each observable's scale, is printed as a check.

Run:  python benchmarks/bench_population.py [N ...]      (default 400)
"""
from __future__ import annotations

import os
import sys
import time

import numpy as np

import k2d3
from k2d3.engine import population_engine
from k2d3.model import observables

DAYS = 365
REGIMEN = {"supplements": [{"compound": "D3", "dose": "2000 IU", "every": "1 day"},
                           {"compound": "MK-7", "dose": "180 ug", "every": "1 day"}]}


def scale(ref: np.ndarray) -> np.ndarray:
    out = np.abs(ref).max(axis=0)
    for j, name in enumerate(observables.names()):
        rng = observables.observables()[name].range
        out[j] = (rng[1] - rng[0]) if rng else out[j]
    return np.where(out > 0, out, 1.0)


def main(sizes: list[int]) -> None:
    regimen = k2d3.Regimen.from_dict(REGIMEN)
    population_engine.simulate_many([k2d3.Subject()], regimen, days=1)  # compile (or load) once
    k2d3.simulate(k2d3.Subject(), regimen, days=1)                      # and libroadrunner's JIT
    cores = os.cpu_count() or 1
    print(f"{DAYS} days of daily D3 2000 IU + MK-7 180 ug per subject; {cores} cores")
    for n in sizes:
        sample = k2d3.Population(n=n, seed=1).sample(k2d3.Subject(age=60))
        subjects = [s for s, _ in sample]
        params = [p for _, p in sample]
        load0 = os.getloadavg()[0]
        start = time.perf_counter()
        ref = np.stack([k2d3.simulate(s, regimen, days=DAYS, parameters=p).timecourse.to_numpy()[-1]
                        for s, p in sample])
        loop = time.perf_counter() - start
        start = time.perf_counter()
        out, _ = population_engine.simulate_many(subjects, regimen, days=DAYS, parameters=params)
        fast = time.perf_counter() - start
        load1 = os.getloadavg()[0]
        dev = float(np.max(np.abs(out[:, -1, :] - ref) / scale(ref)))
        years = n * DAYS / 365.0
        print(f"{n} subjects: libroadrunner loop {loop:.1f} s ({loop / years:.3f} s per subject-year), "
              f"population engine {fast:.1f} s ({fast / years:.4f} s per subject-year), "
              f"ratio {loop / fast:.1f}x; load average {load0:.2f} before, {load1:.2f} after; "
              f"largest end-value difference {dev:.1e} of scale")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [400])
