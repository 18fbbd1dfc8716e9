"""A virtual-population 2x2 comparison: the batched engine vs libroadrunner.

Each of N subjects runs four arms (placebo, D3, MK-7, both) of one year. The reference is
the serial loop of single-subject runs in libroadrunner (the same SBML, compiled once);
the batch integrates all N x 4 arms as one array (``k2d3.engine.batch``), in one process
and split over the machine's cores (one batch per process while each keeps
``population.BATCH_MIN_RUNS`` runs; with fewer runs the split does nothing). All include
each subject's equilibration to its own day 0 (the batch settles a subject once for its
four arms, the reference once per arm). The largest difference between the two engines'
mean end values (relative to the observable's scale) is printed as a check.
Run:  python benchmarks/bench_population.py [N ...]
"""
from __future__ import annotations

import os
import sys
import time

import numpy as np

import k2d3
from k2d3.engine.numpy_model import compiled

DAYS = 365


def main(sizes: list[int]) -> None:
    regimen = k2d3.Regimen.from_dict({"supplements": [
        {"compound": "D3", "dose": "2000 IU", "every": "1 day"},
        {"compound": "MK-7", "dose": "180 ug", "every": "1 day"}]})
    subject = k2d3.Subject(age=60)
    k2d3.simulate(subject, regimen, days=1)  # compile the model for libroadrunner first
    compiled()                               # and translate it for the batch
    for n in sizes:
        runs = {}
        cores = os.cpu_count() or 1
        for label, engine, workers in (("reference", "reference", 1), ("batch", "batch", 1),
                                       ("batch_pool", "batch", cores)):
            start = time.perf_counter()
            runs[label] = k2d3.compare(subject, regimen, days=DAYS, population=k2d3.Population(n=n, seed=1),
                                       engine=engine, workers=workers)
            runs[label + "_s"] = time.perf_counter() - start
        ref, bat = runs["reference"].table, runs["batch"].table
        cols = [f"end_{a}" for a in ("placebo", "D", "K", "DK")]
        scale = ref[cols].astype(float).abs().max(axis=1).replace(0.0, 1.0)
        dev = float(np.max(np.abs(bat[cols].astype(float) - ref[cols].astype(float)).max(axis=1) / scale))
        r, b, bp = runs["reference_s"], runs["batch_s"], runs["batch_pool_s"]
        print(f"{n} subjects x 4 arms x {DAYS} days: libroadrunner (serial loop) {r:.1f} s, "
              f"batch {b:.1f} s (ratio {r / b:.2f}x), batch on {cores} processes {bp:.1f} s "
              f"(ratio {r / bp:.2f}x); largest relative difference of mean end values {dev:.1e}")

if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [8])
