"""The joint calibration: every calibration-split number of data/trials.csv, one fit.

    python scripts/calibrate.py            # 20 starts, then an adaptive Metropolis run; about 1-2 h
    python scripts/calibrate.py --quick    # 3 starts of a few steps and a Laplace ensemble; minutes
    python scripts/calibrate.py --write    # also write src/k2d3/model/calibrated.yaml and posterior.parquet

Steps: load the calibration split (the validation split is never read here); build the
objective (the population engine, smooth dosing as the surrogate); state the surrogate's
error against exact dosing on every number at the prior medians, and run exactly every arm
where it exceeds a quarter of a sigma; fit with pyPESTO (multi-start least squares); report
the Fisher information of the data at the optimum (which parameters the data inform); draw
the ensemble (adaptive Metropolis, or the Laplace approximation with --quick); with
--write, save the estimates (with the commit they were fitted on) and the ensemble into the
package, and the waterfall plot to docs/figures/.
"""
from __future__ import annotations

import argparse
import datetime
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "src" / "k2d3" / "model"
ENSEMBLE = 200
SURROGATE_LIMIT = 0.25  # |smooth - exact| / sigma above which an arm runs with exact dosing


def commit() -> str:
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "src"], capture_output=True,
                               text=True).stdout.strip()
        return out + ("+changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3 starts of a few steps, Laplace ensemble")
    ap.add_argument("--starts", type=int, default=None)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--samples", type=int, default=3000, help="adaptive Metropolis iterations (full run)")
    ap.add_argument("--write", action="store_true", help="write calibrated.yaml and posterior.parquet")
    args = ap.parse_args(argv)

    from k2d3.calibration import data, fit
    from k2d3.calibration.objective import Objective

    t0 = time.perf_counter()
    measurements = data.load("calibration")
    objective = Objective(measurements)
    print(f"{len(measurements)} calibration numbers from {len({m.study for m in measurements})} studies, "
          f"{len(objective.conditions)} arms; {len(objective.names)} estimated parameters", flush=True)
    err = objective.surrogate_error()
    exact = {key for key, e in zip(objective.cond_of, err) if abs(e) > SURROGATE_LIMIT}
    objective.exact = exact
    print(f"surrogate (smooth dosing) vs exact at the prior medians: largest |error| {np.max(np.abs(err)):.2f} "
          f"sigma ({measurements[int(np.argmax(np.abs(err)))].id}); median {np.median(np.abs(err)):.3f}; "
          f"{len(exact)} arm(s) above {SURROGATE_LIMIT} sigma run exactly", flush=True)
    starts = args.starts or (3 if args.quick else 20)
    fitted = fit.optimize(objective, n_starts=starts, seed=args.seed, max_nfev=8 if args.quick else 60)
    fvals = sorted(float(r.fval) for r in fitted.result.optimize_result.list)
    print(f"best objective {fitted.fval:.3f} (starts: {', '.join(f'{v:.2f}' for v in fvals)}); "
          f"{objective.evaluations} evaluations, {time.perf_counter() - t0:.0f} s", flush=True)
    info = fitted.identifiability()
    print(f"Fisher information of the data: rank {info['rank']} of {len(objective.names)}")
    if args.quick:
        draws = fit.laplace(fitted, ENSEMBLE // 4, args.seed)
        method = "Laplace approximation at the optimum"
    else:
        draws = fit.sample(objective, fitted, args.samples, args.seed, ENSEMBLE)
        method = f"adaptive Metropolis, {args.samples} iterations, burn-in dropped, thinned to {ENSEMBLE}"
    ens = np.exp(draws)
    lo, hi = np.percentile(ens, 5, axis=0), np.percentile(ens, 95, axis=0)
    rows = []
    for i, p in enumerate(objective.priors):
        est = math.exp(fitted.x[i])
        rows.append({"name": p.name, "prior_median": p.median, "prior_sd_log": p.sd_log, "estimate": est,
                     "moved_sd": (fitted.x[i] - math.log(p.median)) / p.sd_log, "p5": lo[i], "p95": hi[i],
                     "data_only_sd_log": info["data_only_sd_log"][p.name]})
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    elapsed = time.perf_counter() - t0
    print(f"done in {elapsed / 60:.1f} min ({objective.evaluations} objective evaluations)")
    if not args.write:
        return
    from k2d3.files import write_atomic

    record = {"commit": commit(), "date": datetime.date.today().isoformat(), "objective": round(fitted.fval, 6),
              "method": f"pyPESTO ls_trf, {starts} starts (seed {args.seed}); ensemble: {method}",
              "minutes": round(elapsed / 60, 1), "measurements": len(measurements),
              "parameters": {r["name"]: {"estimate": float(r["estimate"]), "prior_sd_log": float(r["prior_sd_log"]),
                                         "interval_90": [float(r["p5"]), float(r["p95"])]} for r in rows}}
    write_atomic(MODEL / "calibrated.yaml", "# written by scripts/calibrate.py; do not edit by hand\n"
                 + yaml.safe_dump(record, sort_keys=False))
    frame = pd.DataFrame(ens, columns=objective.names)
    write_atomic(MODEL / "posterior.parquet", lambda tmp: frame.to_parquet(tmp, index=False))
    ax = fit.waterfall(fitted)
    (ROOT / "docs" / "figures").mkdir(exist_ok=True)
    ax.figure.savefig(ROOT / "docs" / "figures" / "waterfall.png", dpi=100)
    print("wrote src/k2d3/model/calibrated.yaml, posterior.parquet and docs/figures/waterfall.png")


if __name__ == "__main__":
    sys.exit(main())
