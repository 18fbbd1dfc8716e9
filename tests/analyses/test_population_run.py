"""Population runs in chunks: local and Dask agree bit for bit, a killed run resumes, the
covariates a user fixed are kept, bad input is one line."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import k2d3
from k2d3.analyses import chunks
from k2d3.analyses.population import Population
from k2d3.analyses.population_run import simulate_population
from k2d3.errors import InputError

D3 = k2d3.Regimen.from_dict({"supplements": [{"compound": "D3", "dose": "2000 IU", "every": "1 day"}]})
ARMS = {"D3": D3, "placebo": k2d3.Regimen()}


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["subject", "arm", "day"]).reset_index(drop=True)


def test_chunked_parquet_equals_one_run_in_memory(tmp_path):
    pop = Population(n=12, seed=4, age=(40, 70))
    whole = simulate_population(pop, None, ARMS, 60)
    parts = simulate_population(pop, None, ARMS, 60, out_dir=tmp_path, chunk_size=5)
    assert sorted(p.name for p in (tmp_path / "values").glob("part-*.parquet")) == \
        ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    streamed = pd.read_parquet(tmp_path / "values")
    assert streamed.shape == whole.values.shape == (12 * 2 * len(whole.days), 3 + len(k2d3.model.observables.names()))
    pd.testing.assert_frame_equal(_sorted(streamed), _sorted(whole.values))
    # the D3 arm ends higher than placebo in every subject; the subjects differ
    end = whole.values[whole.values["day"] == 60].pivot(index="subject", columns="arm", values="ohd25_nmol_l")
    assert (end["D3"] - end["placebo"] > 10).all()
    assert end["placebo"].std() > 5
    summary = parts.summary(["ohd25_nmol_l"])
    assert summary.set_index("arm").loc["D3", "mean"] == pytest.approx(end["D3"].mean())
    assert oct(os.stat(tmp_path / "subjects.parquet").st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask() -> int:
    m = os.umask(0)
    os.umask(m)
    return m


def test_dask_local_cluster_equals_the_local_run_bit_for_bit():
    distributed = pytest.importorskip("distributed")  # a test dependency: never skipped in CI
    pop = Population(n=6, seed=9)
    local = simulate_population(pop, None, ARMS, 30, chunk_size=2)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        remote = simulate_population(pop, None, ARMS, 30, chunk_size=2, client=client)
    pd.testing.assert_frame_equal(_sorted(remote.values), _sorted(local.values), check_exact=True)


def test_user_fixed_covariates_are_kept_and_the_output_says_what_was_drawn():
    base = k2d3.Subject(age=62, sex="male", baseline_25ohd_nmol_l=40.0, cyp2c9="*1/*3")
    pop = Population(n=40, seed=2)
    sample = pop.sample(base)
    assert all(s.baseline_25ohd_nmol_l == 40.0 and s.cyp2c9 == "*1/*3" and s.age == 62 for s, _ in sample)
    drawn = pop.drawn(base)
    assert "baseline_25ohd_nmol_l" not in drawn and "cyp2c9" not in drawn and "vkorc1" in drawn
    assert len({s.vkorc1 for s, _ in sample}) > 1 and len({round(s.bmi, 3) for s, _ in sample}) == 40
    result = simulate_population(pop, base, D3, 5, times=[0, 5])
    assert result.subjects.attrs["drawn"] == drawn
    assert result.subjects["param:cl_ohd25_70kg"].nunique() == 40


def test_genotypes_follow_the_ancestry_frequencies():
    """4000 draws: CYP2C9 *1/*1 at 0.645 (European, Hardy-Weinberg of 1000 Genomes
    frequencies) and VKORC1 AA at 0.783 (East Asian); 3 SE is about 0.02."""
    eu = Population(n=4000, seed=3).sample(k2d3.Subject())
    ea = Population(n=4000, seed=3, ancestry="east_asian").sample(k2d3.Subject())
    assert np.mean([s.cyp2c9 == "*1/*1" for s, _ in eu]) == pytest.approx(0.645, abs=0.025)
    assert np.mean([s.vkorc1 == "AA" for s, _ in ea]) == pytest.approx(0.783, abs=0.02)


RUN = """
import sys
from pathlib import Path
import k2d3
from k2d3.analyses.population import Population
from k2d3.analyses.population_run import simulate_population
D3 = k2d3.Regimen.from_dict({"supplements": [{"compound": "D3", "dose": "2000 IU", "every": "1 day"}]})
simulate_population(Population(n=16, seed=1), None, {"D3": D3}, 200, out_dir=Path(sys.argv[1]),
                    chunk_size=2, resume=sys.argv[2] == "resume", keep=False)
"""


def test_a_killed_run_resumes_from_its_finished_chunks(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-c", RUN, str(out), "fresh"])
    parts = out / "values"
    deadline = time.time() + 600
    while len(list(parts.glob("part-*.parquet"))) < 2 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = {p.name: p.stat().st_mtime_ns for p in parts.glob("part-*.parquet")}
    assert 2 <= len(before) < 8, "the run was not killed halfway"
    subprocess.run([sys.executable, "-c", RUN, str(out), "resume"], check=True)
    after = {p.name: p.stat().st_mtime_ns for p in parts.glob("part-*.parquet")}
    assert len(after) == 8
    assert all(after[name] == stamp for name, stamp in before.items())  # none computed twice
    assert not list(parts.glob(".*")) and not list(out.glob(".*"))     # nothing half-written left
    whole = simulate_population(Population(n=16, seed=1), None, {"D3": D3}, 200, chunk_size=2)
    pd.testing.assert_frame_equal(_sorted(pd.read_parquet(parts)), _sorted(whole.values), check_exact=True)


def test_resuming_another_run_is_refused(tmp_path):
    simulate_population(Population(n=2, seed=1), None, D3, 3, out_dir=tmp_path, times=[0, 3])
    with pytest.raises(InputError) as e:
        simulate_population(Population(n=2, seed=2), None, D3, 3, out_dir=tmp_path, times=[0, 3], resume=True)
    assert e.value.field == "resume"


@pytest.mark.parametrize("kwargs, field", [
    ({"n": 0}, "population"), ({"n": 10 ** 6}, "population"), ({"n": 3, "age": (10, 40)}, "population.age"),
    ({"n": 3, "ancestry": "martian"}, "population.ancestry"), ({"n": 3, "female_fraction": 1.5},
                                                               "population.female_fraction")])
def test_bad_populations_are_one_line_errors(kwargs, field):
    with pytest.raises(InputError) as e:
        Population(**kwargs)
    assert e.value.field == field


def test_an_unreachable_scheduler_is_a_one_line_error():
    with pytest.raises(InputError) as e:
        chunks.connect("tcp://127.0.0.1:9")
    assert e.value.field == "scheduler"


def test_a_file_in_place_of_the_output_directory_is_refused(tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(InputError) as e:
        simulate_population(Population(n=2, seed=1), None, D3, 3, out_dir=target)
    assert e.value.field == "out"
