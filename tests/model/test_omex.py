"""The COMBINE archive of a run: the SED-ML parses, names every output it promises, and
executed as written (model from the archive, its time course, its data generators) gives
k2d3.simulate's numbers; the manifest lists the files."""
import io
import xml.etree.ElementTree as ET
import zipfile

import libsedml
import numpy as np
import pytest
import roadrunner

import k2d3
from k2d3.engine import export_state
from k2d3.model import observables, omex

DAYS = 30


@pytest.fixture(scope="module")
def regimen():
    return k2d3.Regimen.from_dict({"supplements": [{"compound": "D3", "dose": "4000 IU", "every": "1 day"},
                                                   {"compound": "MK-7", "dose": "90 ug", "every": "1 day"}]})


@pytest.fixture(scope="module")
def archive(regimen):
    return zipfile.ZipFile(io.BytesIO(omex.omex(export_state.state(None, regimen, DAYS))))


def test_manifest_lists_each_file(archive):
    ns = {"m": "http://identifiers.org/combine.specifications/omex-manifest"}
    entries = {c.get("location"): c for c in ET.fromstring(archive.read("manifest.xml")).findall("m:content", ns)}
    files = set(archive.namelist())
    assert files == {"model.xml", "simulation.sedml", "manifest.xml"}
    assert {f"./{f}" for f in files - {"manifest.xml"}} | {"."} == set(entries)
    assert entries["./simulation.sedml"].get("master") == "true"
    assert entries["./model.xml"].get("format").endswith("sbml.level-3.version-2")


def test_sedml_parses_and_names_every_output_it_promises(archive):
    doc = libsedml.readSedMLFromString(archive.read("simulation.sedml").decode())
    assert doc.getNumErrors(libsedml.LIBSEDML_SEV_ERROR) == 0, doc.getErrorLog().toString()
    outputs = [doc.getOutput(i).getId() for i in range(doc.getNumOutputs())]
    assert outputs == omex.outputs()
    report = doc.getOutput(omex.REPORT_ID)
    labels = [report.getDataSet(i).getLabel() for i in range(report.getNumDataSets())]
    assert labels == ["day", *observables.names()]
    sim = doc.getSimulation(0)
    assert sim.getOutputEndTime() == DAYS * 24 and sim.getNumberOfPoints() == DAYS
    assert sim.getAlgorithm().getKisaoID() == "KISAO:0000019"
    assert doc.getModel(0).getSource() == "model.xml"


def test_sedml_executed_as_written_gives_k2d3s_numbers(archive, regimen):
    """A small SED-ML interpreter (libsedml + libroadrunner, no k2d3 code): the report's
    columns match k2d3.simulate within 1e-4 of each observable's range."""
    doc = libsedml.readSedMLFromString(archive.read("simulation.sedml").decode())
    task = doc.getTask(0)
    model = doc.getModel(task.getModelReference())
    sim = doc.getSimulation(task.getSimulationReference())
    rr = roadrunner.RoadRunner(archive.read(model.getSource()).decode())
    alg = sim.getAlgorithm()
    assert alg.getKisaoID() == "KISAO:0000019"
    names = {"KISAO:0000209": "relative_tolerance", "KISAO:0000211": "absolute_tolerance"}
    for i in range(alg.getNumAlgorithmParameters()):
        p = alg.getAlgorithmParameter(i)
        rr.integrator.setValue(names[p.getKisaoID()], float(p.getValue()))
    ids = {}
    for i in range(doc.getNumDataGenerators()):
        dg = doc.getDataGenerator(i)
        for j in range(dg.getNumVariables()):
            v = dg.getVariable(j)
            ids[v.getId()] = "time" if v.getSymbol() == "urn:sedml:symbol:time" else \
                v.getTarget().split("@id='")[1].rstrip("']")
    selections = list(dict.fromkeys(ids.values()))
    res = rr.simulate(sim.getOutputStartTime(), sim.getOutputEndTime(), sim.getNumberOfPoints() + 1,
                      selections=selections)
    columns = {name: res[:, k] for k, name in enumerate(selections)}
    report = doc.getOutput(omex.REPORT_ID)
    table = {}
    for i in range(report.getNumDataSets()):
        ds = report.getDataSet(i)
        dg = doc.getDataGenerator(ds.getDataReference())
        formula = libsedml.formulaToL3String(dg.getMath())
        table[ds.getLabel()] = eval(formula, {}, {v: columns[ids[v]] for v in ids})  # t / 24, or a name
    result = k2d3.simulate(None, regimen, days=DAYS)
    assert np.allclose(table["day"], result.timecourse.index.to_numpy())
    for name, obs in observables.observables().items():
        ours = result.timecourse[name].to_numpy()
        scale = obs.range[1] - obs.range[0] if obs.range else max(np.max(np.abs(ours)), 1e-9)
        assert np.max(np.abs(table[name] - ours)) / scale < 1e-4, name


def test_sedml_export_leaves_libsbml_working_whichever_was_imported_first():
    """python-libsedml imported after python-libsbml breaks libsbml's ASTNode.getType() in
    that process; k2d3 imports libsedml first, or writes the SED-ML in a child process."""
    import subprocess
    import sys

    code = ("import libsbml; import k2d3; from k2d3.engine import export_state; from k2d3.model import omex; "
            "text = omex.sedml(export_state.state(None, None, 2)); "
            "import sys; assert 'libsedml' not in sys.modules; "
            "assert isinstance(libsbml.parseL3Formula('x + 1').getType(), int); print(len(text))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 10000
    import libsbml

    assert isinstance(libsbml.parseL3Formula("x + 1").getType(), int)  # here k2d3 imported libsedml first
