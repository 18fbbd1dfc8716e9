"""Any regimen (or several arms) over a virtual population, in chunks of subjects.

``simulate_population(population, base, arms, days)`` samples the subjects once (so the
same seed gives the same people however the run is split), cuts them into chunks, runs
every chunk's subjects x arms in the population engine (locally, or on a Dask cluster
through ``chunks``), and keeps or streams the subject-level time courses as Parquet parts
(``subject, arm, day, <observables>``) beside ``subjects.parquet`` (covariates and sampled
parameters, one row per subject). Summaries (mean, SD and percentiles per arm and day)
read the parts back one observable at a time, so a run far larger than memory still
summarises.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from k2d3.analyses import chunks
from k2d3.analyses.population import Population
from k2d3.errors import InputError
from k2d3.files import write_atomic
from k2d3.inputs.regimen import Regimen
from k2d3.inputs.subject import Subject
from k2d3.model import observables
from k2d3.model.build import model_hash

#: Doubles one chunk's engine output may hold (runs x times x observables): about 100 MB.
CHUNK_VALUES = 12_000_000
MAX_CHUNK_RUNS = 2048
SUBJECT_COLUMNS = ("age", "sex", "bmi", "weight_kg", "height_cm", "baseline_25ohd_nmol_l", "menopause_age",
                   "dietary_k1_ug_day", "dietary_menaquinones_ug_day", "dietary_calcium_mg_day", "egfr_ml_min",
                   "type2_diabetes", "prediabetes", "cyp2c9", "vkorc1", "skin_type", "malabsorption")


def output_days(days: float) -> np.ndarray:
    """The default output grid: weekly up to a year, else every 30 days; the last day always."""
    step = 7.0 if days <= 365 else 30.0
    grid = np.arange(0.0, days, step)
    return np.append(grid, days) if grid[-1] < days else grid


def chunk_subjects(n_arms: int, n_times: int) -> int:
    """Subjects per chunk: as many as keep the chunk's output near ``CHUNK_VALUES`` doubles."""
    runs = max(1, min(MAX_CHUNK_RUNS, CHUNK_VALUES // max(1, n_times * len(observables.names()))))
    return max(1, runs // max(1, n_arms))


@dataclass
class PopulationResult:
    """What a population run returns: who was simulated, and where the values are."""

    subjects: pd.DataFrame                 # one row per subject: covariates and sampled parameters
    drawn: list[str]                       # the covariates that were drawn (not the base subject's)
    arms: list[str]
    days: np.ndarray                       # output days
    values: pd.DataFrame | None = None     # subject, arm, day, observables (None: streamed to out_dir)
    out_dir: Path | None = None
    provenance: dict = field(default_factory=dict)

    def observable(self, name: str) -> pd.DataFrame:
        """One observable for every subject, arm and day (read from the parts if streamed)."""
        if name not in observables.names():
            raise InputError("observable", f"unknown observable {name!r}")
        if self.values is not None:
            return self.values[["subject", "arm", "day", name]]
        return pd.read_parquet(self.out_dir / "values", columns=["subject", "arm", "day", name])

    def summary(self, names: list[str] | None = None, day: float | None = None) -> pd.DataFrame:
        """Per arm and observable at ``day`` (default: the last): n, mean, SD and the
        2.5th, 50th and 97.5th percentiles over subjects."""
        day = float(self.days[-1] if day is None else day)
        rows = []
        for name in names or observables.names():
            frame = self.observable(name)
            at = frame[np.isclose(frame["day"], day)]
            for arm in self.arms:
                v = at.loc[at["arm"] == arm, name].to_numpy(dtype=float)
                rows.append({"arm": arm, "observable": name, "day": day, "n": v.size, "mean": v.mean(),
                             "sd": v.std(ddof=1) if v.size > 1 else 0.0,
                             "p2_5": np.percentile(v, 2.5), "p50": np.percentile(v, 50),
                             "p97_5": np.percentile(v, 97.5)})
        return pd.DataFrame(rows)

    def bands(self, name: str, quantiles=(5, 50, 95)) -> dict[str, pd.DataFrame]:
        """Per arm: the percentiles of ``name`` over subjects at each output day."""
        frame = self.observable(name)
        out = {}
        for arm in self.arms:
            sub = frame[frame["arm"] == arm].pivot(index="day", columns="subject", values=name)
            out[arm] = pd.DataFrame({f"p{q:g}": np.percentile(sub.to_numpy(), q, axis=1) for q in quantiles},
                                    index=sub.index)
        return out


def _work(task) -> pd.DataFrame:
    """One chunk: its subjects x arms, as a long table (runs in a Dask worker too)."""
    first, sample, arms, days, times, engine = task
    runs = [(s, p, name, regimen) for s, p in sample for name, regimen in arms.items()]
    if engine == "reference":
        from k2d3.engine.simulate import simulate

        frames = [simulate(s, r, days=days, times=times, parameters=p or None).timecourse for s, p, _, r in runs]
        values, out_days = np.stack([f.to_numpy() for f in frames]), frames[0].index.to_numpy()
    else:
        from k2d3.engine.population_engine import simulate_many

        values, out_days = simulate_many([r[0] for r in runs], [r[3] for r in runs], days, times,
                                         [r[1] for r in runs])
    n_runs, n_t, n_obs = values.shape
    table = pd.DataFrame(values.reshape(-1, n_obs), columns=observables.names())
    table.insert(0, "day", np.tile(out_days, n_runs))
    table.insert(0, "arm", np.repeat([r[2] for r in runs], n_t))
    table.insert(0, "subject", np.repeat(first + np.arange(len(sample)).repeat(len(arms)), n_t))
    return table


def subjects_table(sample, drawn: list[str]) -> pd.DataFrame:
    """Covariates and sampled parameters, one row per subject (``drawn`` in the frame's attrs)."""
    rows = []
    for i, (s, params) in enumerate(sample):
        row = {"subject": i, **{c: getattr(s, c) for c in SUBJECT_COLUMNS}}
        row.update({f"param:{k}": v for k, v in params.items()})
        rows.append(row)
    frame = pd.DataFrame(rows)
    frame.attrs["drawn"] = list(drawn)
    return frame


def simulate_population(population: Population, base: Subject | None, arms: dict[str, Regimen] | Regimen,
                        days: float, *, times=None, overrides: dict | None = None, out_dir: Path | None = None,
                        resume: bool = False, client=None, engine: str = "compiled",
                        chunk_size: int | None = None, keep: bool | None = None, sample=None,
                        provenance: dict | None = None) -> PopulationResult:
    """Simulate every subject of ``population`` on every arm for ``days``.

    ``arms``: one regimen or {name: regimen}. ``times``: output days (default
    ``output_days``). ``out_dir``: stream the subject-level values there as Parquet (and
    ``subjects.parquet``); ``keep`` (default: only without ``out_dir``) also returns them.
    ``client``: a Dask client to run the chunks on. ``sample``: subjects already drawn
    (a trial's included subjects), instead of ``population.sample(base, overrides)``.
    """
    base = base or Subject()
    if isinstance(arms, Regimen):
        arms = {"regimen": arms}
    if not arms:
        raise InputError("arms", "needs at least one regimen")
    if engine not in ("compiled", "reference"):
        raise InputError("engine", f"must be compiled or reference, got {engine!r}")
    days = float(days)
    if not math.isfinite(days) or days <= 0:
        raise InputError("days", f"must be a positive number, got {days!r}")
    grid = output_days(days) if times is None else np.unique(np.asarray(times, dtype=float))
    if grid.size == 0 or grid[0] < 0 or grid[-1] > days:
        raise InputError("times", f"must lie within 0 and days={days:g}")
    drawn = population.drawn(base)
    sample = sample if sample is not None else population.sample(base, overrides)
    size = chunk_size or chunk_subjects(len(arms), grid.size)
    if size < 1:
        raise InputError("chunk_size", f"must be at least 1, got {size}")
    starts = list(range(0, len(sample), size))
    tasks = [(i, sample[i:i + size], arms, days, grid, engine) for i in starts]
    keep = out_dir is None if keep is None else keep
    subjects = subjects_table(sample, drawn)
    key = {"model": model_hash(), "population": repr(population), "base": base.model_dump_json(),
           "arms": {k: v.model_dump_json() for k, v in arms.items()}, "days": days, "times": grid.tolist(),
           "overrides": sorted((overrides or {}).items()), "chunk_size": size, "engine": engine,
           "subjects": int(len(sample)), **(provenance or {})}
    if out_dir is not None:
        out_dir = chunks.ensure_dir(out_dir)
        values_dir = out_dir / "values"
        write_atomic(out_dir / "subjects.parquet", lambda tmp: subjects.to_parquet(tmp, index=False))
    else:
        values_dir = None
    tables = chunks.run(tasks, _work, out_dir=values_dir, key=key, resume=resume, client=client,
                        weights=[len(t[1]) * len(arms) * days for t in tasks], keep=keep,
                        units=[len(t[1]) for t in tasks])
    values = pd.concat(tables, ignore_index=True) if keep else None
    return PopulationResult(subjects, drawn, list(arms), grid, values, out_dir, key)
