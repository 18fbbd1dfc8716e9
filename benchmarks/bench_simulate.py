"""One subject, one year, daily D3 + MK-7: k2d3.simulate beside plain libroadrunner.

Both run the same SBML (k2d3's exported model) with the same 365 daily doses. The
libroadrunner loop is the least any wrapper could do: reset, settle, then one simulate
call per dosing day with the dose added in between. The ratio shows what k2d3's engine
(schemas, schedule, equilibration to a measured baseline, output frame) costs on top.
Run:  python benchmarks/bench_simulate.py
"""
from __future__ import annotations

import statistics
import time

import roadrunner

import k2d3
from k2d3.engine.runner import ABSOLUTE_TOLERANCE, RELATIVE_TOLERANCE
from k2d3.model.build import sbml

REPEATS = 7
DAYS = 365
D3_NMOL = 2000 / 40 * 1000 / 384.64 * 0.75 * 0.94  # 2000 IU, absorbed fraction x usual-meal fat factor
MK7_NMOL = 180 * 1000 / 649.0


def k2d3_run(subject, regimen):
    return k2d3.simulate(subject, regimen, days=DAYS)


def roadrunner_run(rr):
    rr.resetAll()
    rr.simulate(0, 24 * 365.25 * 20, 2, selections=["time"])
    for day in range(DAYS):
        rr["d3_gut"] = rr["d3_gut"] + D3_NMOL
        rr["mk7_gut"] = rr["mk7_gut"] + MK7_NMOL
        # without zeroing amounts below 1e-12 nmol CVODE fails on restart (see engine/runner.py)
        x = rr.model.getFloatingSpeciesAmounts()
        x[abs(x) < 1e-12] = 0.0
        rr.model.setFloatingSpeciesAmounts(x)
        rr.simulate(times=[day * 24.0, day * 24.0 + 24.0], selections=["time", "ohd25_nmol_l", "mk7_nmol_l"])


def best_of(fn, *args) -> float:
    times = []
    for _ in range(REPEATS):
        t = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - t)
    return min(times), statistics.median(times)


def main() -> None:
    subject = k2d3.Subject(age=60, baseline_25ohd_nmol_l=50)
    regimen = k2d3.Regimen.from_dict({"supplements": [
        {"compound": "D3", "dose": "2000 IU", "every": "1 day"},
        {"compound": "MK-7", "dose": "180 ug", "every": "1 day"},
    ]})
    t = time.perf_counter()
    k2d3_run(subject, regimen)
    first = time.perf_counter() - t
    rr = roadrunner.RoadRunner(sbml())
    rr.integrator.relative_tolerance = RELATIVE_TOLERANCE
    rr.integrator.absolute_tolerance = ABSOLUTE_TOLERANCE
    k_best, k_med = best_of(k2d3_run, subject, regimen)
    r_best, r_med = best_of(roadrunner_run, rr)
    print(f"one subject, {DAYS} days, daily D3 + MK-7 ({REPEATS} repeats)")
    print(f"  k2d3 first call (includes model build + JIT): {first:8.3f} s")
    print(f"  k2d3.simulate          best {k_best:8.4f} s   median {k_med:8.4f} s")
    print(f"  libroadrunner loop     best {r_best:8.4f} s   median {r_med:8.4f} s")
    print(f"  ratio k2d3 / libroadrunner (best): {k_best / r_best:6.2f}")


if __name__ == "__main__":
    main()
