"""Print what docs/model.md says about the export: libsbml's consistency warnings of the bare
composed model and of an exported run, by kind, and how closely a fresh libroadrunner running
the export reproduces k2d3.simulate over a year (largest deviation, relative to each
observable's range, for the default subject, titrated warfarin, D3 + MK-7 + calcium and the
README example with sun).
Run:  python scripts/export_check.py
"""
from __future__ import annotations

import collections
from pathlib import Path

import libsbml
import numpy as np
import roadrunner

import k2d3
from k2d3.engine import export_state
from k2d3.model import build, observables

#: warnings that say a unit could not be checked (bare numbers of the published equations,
#: the variables they define, the model's extent unit), not that units disagree
NOT_CHECKABLE = {99505: "bare number: expression not fully checkable",
                 99507: "extent unit not declared (one for all reactions)",
                 99508: "unit of a variable defined with a bare number not checkable",
                 20702: "variable defined with a bare number has no unit",
                 80701: "same, as a modelling-practice warning"}
ONE_EXTENT = {10503: "reaction of a non-molar pool (mg, normalised) in other units than the molar ones"}
#: what the bare model lacks and the export declares
DECLARED = {20513: "compartment without units", 20616: "species without units",
            80601: "species without an initial value", 99506: "model time units not declared"}


def counts(xml: str) -> collections.Counter:
    doc = libsbml.readSBMLFromString(xml)
    n = doc.checkConsistency()
    return collections.Counter(doc.getError(i).getErrorId() for i in range(n))


def deviation(subject, regimen, days: float) -> tuple[float, str]:
    result = k2d3.simulate(subject, regimen, days=days)
    rr = roadrunner.RoadRunner(export_state.sbml(subject, regimen, days))
    names = observables.names()
    out = rr.simulate(0, days * 24.0, int(days) + 1, selections=names)
    worst = (0.0, "")
    for j, name in enumerate(names):
        ours = result.timecourse[name].to_numpy()
        obs = observables.observables()[name]
        scale = obs.range[1] - obs.range[0] if obs.range else max(np.max(np.abs(ours)), 1e-9)
        worst = max(worst, (float(np.max(np.abs(out[:, j] - ours)) / scale), name))
    return worst


def main() -> None:
    before = counts(build.sbml())
    after = counts(export_state.sbml(k2d3.Subject(), k2d3.Regimen(), 365))
    print(f"libsbml checkConsistency warnings: bare composed model {sum(before.values())}, "
          f"export of the default subject {sum(after.values())}")
    for eid in sorted(set(before) | set(after)):
        why = NOT_CHECKABLE.get(eid) or ONE_EXTENT.get(eid) or DECLARED.get(eid) or "OF CONSEQUENCE"
        print(f"  {eid}: {before[eid]:5d} -> {after[eid]:5d}  {why}")
    consequence = sum(n for eid, n in after.items() if eid not in NOT_CHECKABLE and eid not in ONE_EXTENT)
    print("(in the bare model 20702/80701 count every parameter, the 334 of parameters.yaml included; in the "
          "export only variables that assignment rules define with a bare number)")
    print(f"of consequence in the export: {consequence}")
    examples = Path(__file__).resolve().parents[1] / "examples"
    cases = {
        "default subject, no regimen": (k2d3.Subject(), k2d3.Regimen()),
        "warfarin to INR 2.5, MK-7 from day 70": (k2d3.Subject(age=60, sex="male", weight_kg=80, height_cm=178),
                                                  k2d3.Regimen.from_yaml(examples / "warfarin_mk7.yaml")),
        "D3 2000 IU + MK-7 180 ug + calcium 500 mg daily": (k2d3.Subject(), k2d3.Regimen.from_dict({"supplements": [
            {"compound": "D3", "dose": "2000 IU", "every": "1 day"},
            {"compound": "MK-7", "dose": "180 ug", "every": "1 day"},
            {"compound": "calcium", "dose": "500 mg", "every": "1 day"}]})),
        "examples/d3_mk7_daily.yaml (with sun)": (None, k2d3.Regimen.from_yaml(examples / "d3_mk7_daily.yaml")),
    }
    print("fresh libroadrunner on the export vs k2d3.simulate, 365 days (largest |difference| / range):")
    for label, (subject, regimen) in cases.items():
        dev, name = deviation(subject, regimen, 365.0)
        print(f"  {label}: {dev:.1e} ({name})")


if __name__ == "__main__":
    main()
