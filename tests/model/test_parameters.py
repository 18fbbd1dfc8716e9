"""The parameter table is complete and sourced; the model uses nothing undefined."""
import re

import libsbml
import pytest

from k2d3.model import build, observables

TABLE = build.parameters()


@pytest.mark.parametrize("name", sorted(TABLE))
def test_every_parameter_has_a_source_and_evidence(name):
    p = TABLE[name]
    assert p.source.strip(), f"{name} has no source"
    assert "PENDING" not in p.source
    assert p.evidence in build.EVIDENCE_LEVELS
    assert p.unit.strip() and p.description.strip()


def test_sources_are_citations_or_say_why_not():
    # a source names a DOI, PMID, PMC, URL, a journal reference (year), or is 'assumed:'/'calibrated:'
    # /'derived'/'set by the engine' with its reasoning
    pattern = re.compile(r"(doi|pmid|pmc\d|https?://|\b(19|20)\d\d\b|^assumed: .{20,}|^calibrated: |^derived|^set by the engine)",
                         re.I)
    bad = [n for n, p in TABLE.items() if not pattern.search(p.source)]
    assert bad == []


def test_model_has_no_undefined_parameter():
    assert build.undefined_symbols() == []


def test_every_model_parameter_is_in_the_table():
    doc = libsbml.readSBMLFromString(build.sbml())
    model = doc.getModel()
    ruled = {model.getRule(i).getVariable() for i in range(model.getNumRules())}
    constants = {p.getId() for p in model.getListOfParameters() if p.getId() not in ruled}
    assert constants - set(TABLE) == set()


def test_sbml_is_valid_level3():
    doc = libsbml.readSBMLFromString(build.sbml())
    assert doc.getLevel() == 3
    errors = [doc.getError(i) for i in range(doc.getNumErrors())
              if doc.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR]
    assert errors == []


def test_every_observable_is_an_assignment_in_the_model():
    model = libsbml.readSBMLFromString(build.sbml()).getModel()
    ruled = {model.getRule(i).getVariable() for i in range(model.getNumRules())}
    assert set(observables.names()) <= ruled


def test_observable_names_carry_their_unit():
    for name, obs in observables.observables().items():
        suffix = obs.unit.lower().replace("/", "_").replace(" ", "")
        assert name.endswith(suffix), (name, obs.unit)  # the INR is its own unit


def test_docs_model_lists_every_parameter():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "model.md").read_text()
    missing = [n for n in TABLE if f"`{n}`" not in doc]
    assert missing == [], "regenerate the table: python scripts/parameter_table.py"


def test_calcium_molar_mass_is_the_same_in_the_model_and_the_compound_table():
    # the model needs it for urine calcium in mg/day; the inputs for doses
    from k2d3.inputs import compounds

    assert TABLE["ca_molar_mass"].value == compounds.compounds()["calcium"].molar_mass_g_mol
