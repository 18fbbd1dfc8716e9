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


def test_every_between_subject_cv_has_its_source_and_conversion():
    # a cv drives the virtual population's spread: it must cite where it comes from
    pattern = re.compile(r"(doi|pmid|pmc\d|https?://|\b(19|20)\d\d\b)", re.I)
    varying = {n: p for n, p in TABLE.items() if p.cv is not None}
    assert {"cl_ohd25_70kg", "ke_warfarin"} <= set(varying)
    for name, p in varying.items():
        assert 0 < p.cv < 2, name
        assert p.cv_source and pattern.search(p.cv_source), name
        assert "cv" in p.cv_source.lower(), f"{name}: say how the published spread became the cv"
    assert all(p.cv_source is None for p in TABLE.values() if p.cv is None)


def test_cv_without_a_source_is_refused(tmp_path, monkeypatch):
    text = "x:\n  value: 1\n  unit: L\n  description: d\n  source: \"assumed: a test entry without any real source at all\"\n  evidence: assumed\n  cv: 0.2\n"
    monkeypatch.setattr(build, "_read", lambda name: text)
    build.parameters.cache_clear()
    try:
        with pytest.raises(ValueError, match="cv and cv_source together"):
            build.parameters()
        monkeypatch.setattr(build, "_read", lambda name: text.replace("cv: 0.2", "cv: -1\n  cv_source: s 2014"))
        build.parameters.cache_clear()
        with pytest.raises(ValueError, match="between 0 and 2"):
            build.parameters()
    finally:
        monkeypatch.undo()
        build.parameters.cache_clear()


def test_docs_table_shows_each_cv():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "model.md").read_text()
    table = doc[doc.index("| parameter | value | unit | description | evidence | source |"):]  # the generated one
    for name, p in TABLE.items():
        if p.cv is not None:
            row = next(line for line in table.splitlines() if line.startswith(f"| `{name}` |"))
            assert f"between-subject CV {p.cv:g}" in row, name
