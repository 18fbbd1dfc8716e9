"""The exported SBML is the model every backend runs: it loads and simulates elsewhere."""
import roadrunner

from k2d3.model import build


def test_exported_sbml_runs_in_a_fresh_roadrunner():
    rr = roadrunner.RoadRunner(build.sbml())
    rr.simulate(0, 24 * 365 * 20, 2)
    # the default reference adult settles at the US adult mean 25(OH)D (ohd25_ref, 70 nmol/L)
    assert 60 < rr["ohd25_nmol_l"] < 80
    assert 43 <= rr["calcitriol_pmol_l"] <= 144


def test_subsystem_files_are_standalone_antimony_models():
    import antimony

    for name in build.SUBSYSTEMS:
        antimony.clearPreviousLoads()
        src = (build.resources.files("k2d3.model") / f"{name}.ant").read_text()
        assert antimony.loadAntimonyString(src) >= 0, antimony.getLastError()
