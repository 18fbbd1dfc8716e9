"""The vascular rows of calibration.csv: each has a case with an honest role, and the
Shea 2009 acceptance ("direction and magnitude within 2x") is coded as the table says.

The simulations themselves run in test_calibration_rows (every case within its band)."""
from k2d3.analyses import validate
from k2d3.analyses import vascular_cases as vasc

ROWS = validate.calibration_rows()
CASES = {c.id: c for c in validate.CASES}


def test_every_vascular_row_has_a_case():
    assert {i for i, r in ROWS.items() if r["subsystem"] == "vascular"} <= set(CASES)


def test_roles_say_which_row_set_a_parameter():
    # cac_mgp_gam is fitted to Shea's 6%; nothing is fitted to Knapen 2015 or Braam 2004
    assert CASES["cac_shea2009"].role == "calibration"
    assert CASES["mgp_knapen2015"].role == "validation"
    assert CASES["stiffness_braam2004"].role == "validation"


def test_shea_acceptance_is_direction_and_every_number_within_2x():
    assert vasc.shea_accept((27.0, 37.0, 6.0))
    assert vasc.shea_accept((13.5, 18.5 + 1, 3.0)) and vasc.shea_accept((54.0, 74.0, 12.0))
    assert not vasc.shea_accept((37.0, 27.0, 6.0))          # wrong direction
    assert not vasc.shea_accept((13.0, 37.0, 6.0))          # K1 arm below half of 27
    assert not vasc.shea_accept((27.0, 75.0, 6.0))          # control arm above twice 37
    assert not vasc.shea_accept((27.0, 37.0, 2.9)) and not vasc.shea_accept((27.0, 37.0, 12.1))


def test_braam_acceptance_is_the_direction_of_both_measures():
    case = CASES["stiffness_braam2004"]
    assert case.accept((8.8, -6.3)) and not case.accept((-1.0, -6.3)) and not case.accept((8.8, 0.5))
