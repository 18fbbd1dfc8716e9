"""Every vitamin D and vitamin K row of ../shared/data/calibration.csv, within its band.

The bands come from the table; test_bands_match_the_table keeps the code's acceptance
functions identical to the published 'accept' column wherever that column is a range.
"""
import re

import pytest

from k2d3.analyses import validate

ROWS = validate.calibration_rows()
CASES = {c.id: c for c in validate.CASES}


@pytest.mark.parametrize("row_id", sorted(CASES))
def test_row_within_its_acceptance_band(row_id):
    outcome = validate.run_case(CASES[row_id], ROWS)
    assert outcome.accepted, f"{row_id}: published {outcome.published}, accept {outcome.accept}, simulated {outcome.simulated}"


def test_every_vitamin_d_k_calcium_and_bone_row_has_a_case():
    wanted = {i for i, r in ROWS.items() if r["subsystem"] in ("vitamin_d", "vitamin_k", "calcium", "bone")}
    wanted |= {"vd_ul", "vd_rda"}
    assert wanted <= set(CASES)


RANGE = re.compile(r"\s*([+-]?[\d.]+) to ([+-]?[\d.]+)(\s.*)?$")


def test_bands_match_the_table():
    """Where the table's accept column is a range, the case declares exactly that band."""
    for row_id, case in CASES.items():
        m = RANGE.match(ROWS[row_id]["accept"])
        if m:
            assert case.band == tuple(sorted((float(m.group(1)), float(m.group(2))))), row_id
            lo, hi = case.band
            assert case.accept(lo) and case.accept(hi)
            assert not case.accept(lo - 1e-6 * max(1, abs(lo))) and not case.accept(hi + 1e-6 * max(1, abs(hi)))
        else:
            assert case.band is None, row_id

KNOWN_MISSES = {
    # An independent check the model fails, kept visible: the 25(OH)D rise after a bolus
    # scales too steeply with small body size (47 vs 28 nmol/L at an assumed 50 kg; 28 at
    # 70 kg). docs/validation.md, "Known discrepancies". strict: the mark fails once fixed.
    "vd_bolus_roth2012": "bolus response over-predicted in small lean women (body-size scaling)",
    # Femoral neck BMD turns over ~20 years in the Peterson & Riggs 2012 indirect-response
    # model (bmd_fn_kout): it loses 2.2% where SWAN measured 5.8% over the transmenopause and
    # gains only +0.15% with vitamin D where Reid 2014 pooled +0.8%. docs/model.md, section 3.
    "bone_menopause_neck_greendale2012": "femoral neck BMD responds too slowly",
    "d3_neck_bmd_reid2014": "femoral neck BMD responds too slowly",
    # K1 exposure after a 500 ug tablet is 6.5 times Garber 1999's (178 vs 27.6 nmol.h/L);
    # the spinach arm is 20 times over, while Novotny 2010's kale peak is under: the two
    # absolute sources disagree. docs/model.md, "K1 supplement exposure: the sources conflict".
    "k1_auc_garber1999": "K1 supplement exposure over-predicted against Garber 1999 (sources conflict)",
}


@pytest.mark.parametrize("extra", validate.EXTRA, ids=lambda e: e.case.id)
def test_independent_published_result(extra):
    outcome = validate.run_extra(extra)
    if extra.case.id in KNOWN_MISSES:
        assert not outcome.accepted, "a known miss now passes: remove it from KNOWN_MISSES and the docs"
        return
    assert outcome.accepted, f"{extra.case.id}: published {outcome.published}, simulated {outcome.simulated}"
