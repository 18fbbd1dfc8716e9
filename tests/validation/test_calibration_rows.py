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


def test_every_vitamin_d_and_k_row_has_a_case():
    wanted = {i for i, r in ROWS.items() if r["subsystem"] in ("vitamin_d", "vitamin_k")}
    wanted |= {"vd_ul", "vd_rda"}
    assert wanted <= set(CASES)


@pytest.mark.parametrize("row_id", sorted(CASES))
def test_bands_match_the_table(row_id):
    m = re.fullmatch(r"\s*([+-]?[\d.]+) to ([+-]?[\d.]+)\s*", ROWS[row_id]["accept"])
    if not m:
        pytest.skip("accept column is not a plain range; the case encodes it (see validate.CASES)")
    lo, hi = float(m.group(1)), float(m.group(2))
    accept = CASES[row_id].accept
    eps = 1e-6 * max(1.0, abs(hi))
    assert accept(lo) and accept(hi) and not accept(lo - eps - abs(lo) * 1e-6) and not accept(hi + eps)
