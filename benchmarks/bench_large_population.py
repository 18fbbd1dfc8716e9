"""A large virtual population, streamed: N subjects x Y years of daily D3 + MK-7 + calcium.

The subjects are drawn by ``k2d3.Population`` (all covariates and between-subject
variability), run in chunks by the population engine on all cores, and their monthly
values streamed to Parquet parts in a temporary directory (nothing held whole). Prints the
wall time, the time per subject-year, the peak resident memory of this process and the
load average before and after (other work on the machine slows the run).

Run:  python benchmarks/bench_large_population.py [N] [YEARS]      (default 10000 3)
"""
from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import k2d3
from k2d3.analyses.population_run import simulate_population
from k2d3.engine import population_engine

REGIMEN = {"supplements": [{"compound": "D3", "dose": "2000 IU", "every": "1 day"},
                           {"compound": "MK-7", "dose": "180 ug", "every": "1 day"},
                           {"compound": "calcium", "dose": "500 mg", "every": "1 day", "form": "carbonate"}]}


def main(n: int, years: float) -> None:
    regimen = k2d3.Regimen.from_dict(REGIMEN)
    population_engine.simulate_many([k2d3.Subject()], regimen, days=1)  # compile (or load) once
    days = 365.0 * years
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        result = simulate_population(k2d3.Population(n=n, seed=1, age=(50, 75), female_fraction=0.5), None,
                                     regimen, days, out_dir=Path(tmp), keep=False)
        wall = time.perf_counter() - start
        size = sum(p.stat().st_size for p in Path(tmp).rglob("*.parquet"))
        end = result.summary(["ohd25_nmol_l"]).iloc[0]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    load1 = os.getloadavg()[0]
    print(f"{n} subjects x {years:g} years of daily D3 2000 IU + MK-7 180 ug + calcium 500 mg "
          f"({os.cpu_count()} cores): {wall:.0f} s ({wall / 60:.1f} min), {wall / (n * years) * 1000:.1f} ms "
          f"per subject-year; peak memory {peak_mb:.0f} MB; Parquet {size / 1e6:.0f} MB; "
          f"load average {load0:.2f} before, {load1:.2f} after; 25(OH)D at the end "
          f"{end['mean']:.0f} +/- {end['sd']:.0f} nmol/L")


if __name__ == "__main__":
    args = sys.argv[1:]
    main(int(args[0]) if args else 10000, float(args[1]) if len(args) > 1 else 3.0)
