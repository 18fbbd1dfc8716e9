"""The dose finder's cost: wall time and number of simulations for typical plans.

Each simulation is a year of daily doses (about 0.6 s on the reference machine); the finder
should need about a dozen per target.
Run:  python benchmarks/bench_plan.py
"""
from __future__ import annotations

import time

import k2d3
from k2d3.analyses import plan as planner

CASES = {
    "70 kg, 50 -> 75 nmol/L, D3": (k2d3.Subject(weight_kg=70, baseline_25ohd_nmol_l=50), ["ohd25_nmol_l=75"], ("D3",)),
    "108 kg, 40 -> 75 nmol/L, D3 or MK-7": (k2d3.Subject(weight_kg=108, height_cm=176, baseline_25ohd_nmol_l=40),
                                            ["ohd25_nmol_l=75"], ("D3", "MK-7")),
    "25(OH)D 75 and ucOC fraction <= 0.3": (k2d3.Subject(baseline_25ohd_nmol_l=50),
                                            ["ohd25_nmol_l=75", "ucoc_fraction<=0.3"], ("D3", "MK-7")),
}

if __name__ == "__main__":
    k2d3.simulate(k2d3.Subject(), k2d3.Regimen(), days=1)  # JIT outside the timings
    for name, (subject, targets, forms) in CASES.items():
        t0 = time.perf_counter()
        p = planner.plan(subject, [planner.parse_target(t) for t in targets], forms)
        dt = time.perf_counter() - t0
        doses = ", ".join(f"{f} {ug:.3g} ug/day" for f, ug in p.doses_ug_day.items())
        print(f"{name}: {doses}; {p.runs} simulations, {dt:.1f} s ({dt / p.runs:.2f} s each)")
