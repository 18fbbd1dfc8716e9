"""A COMBINE archive (OMEX) of a run: the SBML (``export.sbml``), a SED-ML file that
simulates it and names the outputs, and the manifest, so that tellurium or any SED-ML tool
runs what k2d3 runs.

SED-ML (Level 1 Version 3, python-libsedml): one uniform time course in hours from 0 to the
run's end with one output point a day, CVODE (KISAO:0000019) with libroadrunner's default
tolerances (relative 1e-6, KISAO:0000209; absolute 1e-12, KISAO:0000211), one report of
every observable against the day, and one plot per observable. The archive is written with
libcombine (python-libcombine), which also writes ``manifest.xml``.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from k2d3.model import export, observables

MODEL_FILE = "model.xml"
SEDML_FILE = "simulation.sedml"
SBML_FORMAT = "http://identifiers.org/combine.specifications/sbml.level-3.version-2"
SEDML_FORMAT = "http://identifiers.org/combine.specifications/sed-ml.level-1.version-3"
OMEX_FORMAT = "http://identifiers.org/combine.specifications/omex"

KISAO_CVODE = "KISAO:0000019"
#: libroadrunner's default CVODE tolerances (the tests run the export with them)
KISAO_TOLERANCES = {"KISAO:0000209": 1e-6, "KISAO:0000211": 1e-12}

REPORT_ID = "report_timecourse"
TASK_ID = "task_run"
_SBML_NS = "http://www.sbml.org/sbml/level3/version2/core"


def plot_id(observable: str) -> str:
    return f"plot_{observable}"


def outputs() -> list[str]:
    """The ids of the outputs the SED-ML promises: the report, then one plot per observable."""
    return [REPORT_ID, *(plot_id(n) for n in observables.names())]


def _check(status: int, what: str) -> None:
    import libsedml

    if status != libsedml.LIBSEDML_OPERATION_SUCCESS:
        raise ValueError(f"SED-ML: cannot set {what} ({libsedml.OperationReturnValue_toString(status)})")


def sedml(state: export.State, model_file: str = MODEL_FILE) -> str:
    """The SED-ML of the run of ``state``: simulation, task, data generators and outputs."""
    spec = {"title": state.title, "days": state.days, "model_file": model_file,
            "observables": [[o.name, o.label, o.unit] for o in observables.observables().values()]}
    if "libsedml" in sys.modules or "libsbml" not in sys.modules:
        return _write_sedml(spec)
    # libsbml came first: importing libsedml now would break it in this process (model/__init__)
    code = ("import json, sys; from k2d3.model.omex import _write_sedml; "
            "sys.stdout.write(_write_sedml(json.load(sys.stdin)))")
    done = subprocess.run([sys.executable, "-c", code], input=json.dumps(spec), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError("writing the SED-ML failed: " + done.stderr.strip().splitlines()[-1])
    return done.stdout


def _write_sedml(spec: dict) -> str:
    import libsedml

    doc = libsedml.SedDocument(1, 3)
    doc.getNamespaces().add(_SBML_NS, "sbml")
    model = doc.createModel()
    _check(model.setId("model"), "model id")
    model.setName(spec["title"])
    model.setSource(spec["model_file"])
    model.setLanguage("urn:sedml:language:sbml.level-3.version-2")

    days = spec["days"]
    sim = doc.createUniformTimeCourse()
    sim.setId("sim_timecourse")
    sim.setName(f"{days:g} days in hours, one output a day")
    sim.setInitialTime(0.0)
    sim.setOutputStartTime(0.0)
    sim.setOutputEndTime(days * export.HOURS_PER_DAY)
    sim.setNumberOfPoints(max(1, int(round(days))))  # L1V3: the number of intervals
    alg = sim.createAlgorithm()
    _check(alg.setKisaoID(KISAO_CVODE), "algorithm")
    for kisao, value in KISAO_TOLERANCES.items():
        p = alg.createAlgorithmParameter()
        p.setKisaoID(kisao)
        p.setValue(repr(value))

    task = doc.createTask()
    task.setId(TASK_ID)
    task.setModelReference("model")
    task.setSimulationReference("sim_timecourse")

    day = doc.createDataGenerator()
    day.setId("dg_day")
    day.setName("day")
    v = day.createVariable()
    v.setId("t")
    v.setSymbol("urn:sedml:symbol:time")
    v.setTaskReference(TASK_ID)
    day.setMath(libsedml.parseL3Formula(f"t / {export.HOURS_PER_DAY!r}"))

    report = doc.createReport()
    report.setId(REPORT_ID)
    report.setName("observables by day")
    ds = report.createDataSet()
    ds.setId("ds_day")
    ds.setLabel("day")
    ds.setDataReference("dg_day")
    for name, label, unit in spec["observables"]:
        dg = doc.createDataGenerator()
        dg.setId(f"dg_{name}")
        dg.setName(f"{label} ({unit})")
        var = dg.createVariable()
        var.setId(name)
        var.setTaskReference(TASK_ID)
        var.setTarget(f"/sbml:sbml/sbml:model/sbml:listOfParameters/sbml:parameter[@id='{name}']")
        dg.setMath(libsedml.parseL3Formula(name))
        ds = report.createDataSet()
        ds.setId(f"ds_{name}")
        ds.setLabel(name)
        ds.setDataReference(f"dg_{name}")
        plot = doc.createPlot2D()
        plot.setId(plot_id(name))
        plot.setName(f"{label} ({unit})")
        curve = plot.createCurve()
        curve.setId(f"curve_{name}")
        curve.setLogX(False)
        curve.setLogY(False)
        curve.setXDataReference("dg_day")
        curve.setYDataReference(f"dg_{name}")
    text = libsedml.writeSedMLToString(doc)
    if doc.getNumErrors(libsedml.LIBSEDML_SEV_ERROR):
        raise ValueError("SED-ML: " + doc.getErrorLog().toString())
    return text


def omex(state: export.State) -> bytes:
    """The COMBINE archive of the run of ``state``: model.xml, simulation.sedml (the master
    file) and manifest.xml, which lists them and the archive."""
    import libcombine

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / MODEL_FILE).write_text(export.sbml(state))
        (d / SEDML_FILE).write_text(sedml(state))
        archive = libcombine.CombineArchive()
        if not archive.addFile(str(d / MODEL_FILE), f"./{MODEL_FILE}", SBML_FORMAT, False):
            raise ValueError("cannot add the SBML to the archive")
        if not archive.addFile(str(d / SEDML_FILE), f"./{SEDML_FILE}", SEDML_FORMAT, True):
            raise ValueError("cannot add the SED-ML to the archive")
        # the archive itself; an entry for manifest.xml would make libcombine store an empty
        # second manifest.xml beside the one it writes
        entry = archive.getManifest().createContent()
        entry.setLocation(".")
        entry.setFormat(OMEX_FORMAT)
        out = d / "run.omex"
        if not archive.writeToFile(str(out)):
            raise ValueError("cannot write the COMBINE archive")
        archive.cleanUp()
        return out.read_bytes()
