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


# ---- the SBML of a run (k2d3.model.export) ----

import html  # noqa: E402

import libsbml  # noqa: E402
import pytest  # noqa: E402

import k2d3  # noqa: E402
from k2d3.engine import export_state  # noqa: E402
from k2d3.model import export, sbml_notes  # noqa: E402

#: libsbml unit warnings that say a unit could not be checked, not that units disagree: a bare
#: number of the published equations (99505), a variable whose unit is therefore undeclared
#: (99508 and, for those variables only, 20702/80701), the model's extent unit (99507)
NOT_CHECKABLE = {99505, 99507, 99508, 20702, 80701}
#: SBML has one extent unit for all reactions; k2d3's pools are molar, mass (drugs in mg) or
#: normalised (bone cells), so reactions of the latter differ from the others (10503)
ONE_EXTENT = 10503


@pytest.fixture(scope="module")
def run_sbml():
    regimen = k2d3.Regimen.from_dict({"supplements": [
        {"compound": "D3", "dose": "2000 IU", "every": "1 day"},
        {"compound": "MK-7", "dose": "180 ug", "every": "1 day"},
        {"compound": "D3", "dose": "50000 IU", "on_days": [0, 30, 45]}],
        "sun": {"minutes_per_day": 15, "skin_fraction": 0.25, "latitude": 52, "month": 6}})
    return export_state.sbml(k2d3.Subject(), regimen, 90)


def _warnings(doc):
    n = doc.checkConsistency()
    return [doc.getError(i) for i in range(n)]


def test_no_unit_warning_of_consequence(run_sbml):
    doc = libsbml.readSBMLFromString(run_sbml)
    model = doc.getModel()
    errors = _warnings(doc)
    assert not [e for e in errors if e.getSeverity() >= libsbml.LIBSBML_SEV_ERROR]
    ruled = {model.getRule(i).getVariable() for i in range(model.getNumRules())}
    table = set(build.parameters())
    consequence = []
    for e in errors:
        eid, msg = e.getErrorId(), e.getMessage()
        if eid in (20702, 80701):
            undeclared = msg.split("id '")[-1].split("'")[0] if "id '" in msg else msg
            if undeclared not in ruled:
                consequence.append(msg)
        elif eid == ONE_EXTENT:
            reaction = model.getReaction(msg.split("with id '")[1].split("'")[0])
            names = {reaction.getReactant(i).getSpecies() for i in range(reaction.getNumReactants())}
            names |= {reaction.getProduct(i).getSpecies() for i in range(reaction.getNumProducts())}
            ast = reaction.getKineticLaw().getMath()
            names |= {n.getName() for n in _names(ast)}
            molar = [s for s in names if model.getSpecies(s) is not None
                     and sbml_notes.species_table()[s]["unit"] not in ("nmol", "pmol", "mmol")]
            if not molar:
                consequence.append(msg)
        elif eid not in NOT_CHECKABLE and e.getCategory() == libsbml.LIBSBML_CAT_UNITS_CONSISTENCY:
            consequence.append(msg)
        elif e.getCategory() != libsbml.LIBSBML_CAT_UNITS_CONSISTENCY and eid not in (80701,):
            consequence.append(msg)
    assert consequence == []
    for pid in table:
        assert model.getParameter(pid).isSetUnits(), pid


def _names(ast):
    out = [ast] if ast.isName() else []
    for i in range(ast.getNumChildren()):
        out += _names(ast.getChild(i))
    return out


def test_every_parameter_species_and_compartment_has_units_and_each_parameter_its_source(run_sbml):
    doc = libsbml.readSBMLFromString(run_sbml)  # the document owns the model: keep it alive
    model = doc.getModel()
    table = build.parameters()
    for pid, p in table.items():
        sp = model.getParameter(pid)
        notes = " ".join(html.unescape(sp.getNotesString()).split())
        assert sp.isSetUnits() and model.getUnitDefinition(sp.getUnits()) is not None, pid
        assert f"Source: {' '.join(p.source.split())}" in notes, pid
        assert " ".join(p.description.split()) in notes, pid
        assert f"Evidence: {p.evidence}." in notes, pid
    for s in model.getListOfSpecies():
        assert s.getHasOnlySubstanceUnits() and s.isSetInitialAmount(), s.getId()
        assert model.getUnitDefinition(s.getSubstanceUnits()) is not None, s.getId()
    assert all(c.getUnits() == "litre" for c in model.getListOfCompartments())
    assert model.getUnitDefinition(model.getTimeUnits()).getUnit(0).getMultiplier() == 3600
    # the unit strings become the right SBML units: 1/hour, nmol/L, mmHg
    assert sbml_units_of(model, "k_vk_reduction") == [("second", -1.0, 3600.0)]
    assert sbml_units_of(model, "ohd25_nmol_l") == [("mole", 1.0, 1e-9), ("litre", -1.0, 1.0)]


def sbml_units_of(model, pid):
    ud = model.getUnitDefinition(model.getParameter(pid).getUnits())
    return [(libsbml.UnitKind_toString(u.getKind()), u.getExponent(), u.getMultiplier() * 10.0 ** u.getScale())
            for u in ud.getListOfUnits()]


def test_vitamins_drugs_and_terms_are_annotated(run_sbml):
    doc = libsbml.readSBMLFromString(run_sbml)  # the document owns the model: keep it alive
    model = doc.getModel()

    def resources(sid):
        s = model.getSpecies(sid)
        return [s.getCVTerm(i).getResourceURI(j) for i in range(s.getNumCVTerms())
                for j in range(s.getCVTerm(i).getNumResources())]

    assert resources("d3") == ["http://identifiers.org/chebi/CHEBI:28940"]
    assert resources("ohd25") == ["http://identifiers.org/chebi/CHEBI:17933"]
    assert resources("mk7") == ["http://identifiers.org/chebi/CHEBI:44245"]
    assert resources("warfarin") == ["http://identifiers.org/chebi/CHEBI:10033"]
    assert resources("pth") == ["http://identifiers.org/uniprot/P01270"]
    assert model.getSpecies("d3").getSBOTermID() == "SBO:0000247"
    assert model.getParameter("t_half_k1").getSBOTermID() == "SBO:0000332"
    assert model.getParameter("km_cyp2r1").getSBOTermID() == "SBO:0000027"
    assert model.getReaction("ohd25_catabolism").getSBOTermID() == "SBO:0000179"
    assert model.getReaction("d3_absorption").getSBOTermID() == ""  # no term claimed for a transfer
    assert model.getReaction("warfarin_elimination").getSBOTermID() == "SBO:0000179"
    assert model.getCVTerm(0).getResourceURI(0) == "http://identifiers.org/taxonomy/9606"


def test_doses_are_time_geq_next_dose_events_with_their_schedule_as_parameters(run_sbml):
    doc = libsbml.readSBMLFromString(run_sbml)  # the document owns the model: keep it alive
    model = doc.getModel()
    events = {e.getId(): e for e in model.getListOfEvents()}
    # the daily D3, MK-7 and sun share their times: one event (the engine's one restart)
    assert set(events) == {"dosing_d3_mk7_sun", "dosing_d3"}
    for e in events.values():
        trigger = libsbml.formulaToL3String(e.getTrigger().getMath())
        assert trigger.startswith("(time >= next_dose_") and "==" not in trigger
        assert not e.getTrigger().getInitialValue() and not e.getUseValuesFromTriggerTime()
        assert {e.getEventAssignment(i).getVariable() for i in range(e.getNumEventAssignments())} >= \
            {s.getId() for s in model.getListOfSpecies()}  # each dose flushes as the engine does
    # a periodic series: first/interval/last dose as parameters
    value = {p: model.getParameter(p).getValue() for p in
             ("first_dose_d3_mk7_sun", "dose_interval_d3_mk7_sun", "last_dose_d3_mk7_sun", "dose_d3_mk7_sun_d3_gut")}
    assert value["first_dose_d3_mk7_sun"] == 0 and value["dose_interval_d3_mk7_sun"] == 24
    assert value["last_dose_d3_mk7_sun"] == 89 * 24
    assert value["dose_d3_mk7_sun_d3_gut"] == pytest.approx(
        2000 / 40 * 1000 / 384.64 * dosing_fat_factor("D3"), rel=1e-12)
    # irregular bolus days: a counted list, the next time from a piecewise of the count
    assert model.getParameter("dose_count_d3").getValue() == 3
    assert "next_dose_d3" in libsbml.formulaToL3String(events["dosing_d3"].getTrigger().getMath())


def dosing_fat_factor(compound):
    from k2d3.engine import dosing

    return dosing.fat_factor(compound, None)


def test_the_export_api_takes_any_state():
    """export.sbml needs no engine: a State made by hand (as a calibration problem might)."""
    doc = libsbml.readSBMLFromString(build.sbml())
    model = doc.getModel()
    species = {s.getId(): 1.0 for s in model.getListOfSpecies()}
    params = {p: v.value for p, v in build.parameters().items()}
    series = export.DoseSeries("pill", "a pill", (0.0, 12.0, 24.0), {"mk7_gut": (5.0, 5.0, 5.0)})
    state = export.State(species, params, {}, (series,), 2.0, "hand-made", 1e-12)
    out_doc = libsbml.readSBMLFromString(export.sbml(state))
    out = out_doc.getModel()
    assert out.getParameter("dose_interval_pill").getValue() == 12.0
    assert out.getParameter("last_dose_pill").getValue() == 24.0
    assert out.getSpecies("mk7").getInitialAmount() == 1.0
    with pytest.raises(ValueError, match="not an SBML id"):
        export.DoseSeries("2 pills", "x", (0.0,), {"mk7_gut": (1.0,)})
