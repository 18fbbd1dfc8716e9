"""Which studies the joint calibration may see: the split of data/trials.csv.

The rule is fixed before any fitting and looks only at a study's identity, never at how
well the model fits it (data/trials_README.md states it with the resulting lists):

1. Studies of the same participants form one unit (``SAME_PARTICIPANTS``); the rules
   below apply to units, so a trial is never on both sides.
2. A unit whose numbers set today's parameter values (a row of calibration.csv or of
   ``k2d3 validate``'s extra checks with role "calibration" or "source") is calibration:
   its information is already in the priors, so it cannot be out of sample.
3. Otherwise a unit that ``k2d3 validate`` uses as an independent check (role
   "validation") is validation, so today's independent checks stay independent.
4. Every other unit is validation when its SHA-256 hash, read as a number in [0, 1), is
   below ``VALIDATION_FRACTION``: a fixed draw per study id, stable when studies are added.
"""
from __future__ import annotations

import hashlib

VALIDATION_FRACTION = 1.0 / 3.0

#: Papers that report the same participants, mapped to the unit id they share.
SAME_PARTICIPANTS = {
    "knapen2013": "knapen2015",          # one 3-year MK-7 trial in 244 postmenopausal women
    "braam2004": "braam2003",            # one 3-year K1 + minerals + vitamin D trial in 181 women
    "jetter2014": "bischoffferrari2012",  # Zurich calcifediol studies, possibly shared participants
}

#: Units with a number that set a parameter of today's model (role calibration or source
#: in k2d3.analyses.validate; tests/calibration/test_data.py checks the roles).
CALIBRATION_TARGETS = frozenset({
    # vitamin D (scripts/calibrate_vitamin_d.py) and parameter sources
    "heaney2003", "ekwaru2014", "drincic2013", "d2d2019", "ilahi2008", "armas2004",
    "jones2014", "dawsonhughes2015", "farraye2011",
    # calcium absorption, bone (scripts/calibrate_calcium.py, calibrate_bone.py)
    "heaney1989", "greendale2012", "sohouli2023",
    # vitamin K pharmacokinetics and osteocalcin (calibrate_osteocalcin.py) and sources
    "schurgers2007", "sato2012", "novotny2010", "knapen2015", "jiang2014", "rasekhi2015",
    # coagulation (calibrate_coagulation.py) and sources
    "hamberg2010", "wajima2009", "delanaye2014",
    # glucose and vessels (calibrate_metabolic.py, calibrate_vascular.py)
    "glucose_d3_t2d_meta2022", "shahdadian2018", "shea2009",
})

#: Units that k2d3 validate uses today as independent checks (role validation) and that
#: set no parameter.
INDEPENDENT_CHECKS = frozenset({
    "heaney2003ca", "saliba2011", "theuwissen2013", "schurgers2004", "braam2003",
    "aloia2008", "roth2012", "sowers2010", "aloia2005", "bestd_pilot2017", "moslehi2015",
    "reid2014", "leboff2020", "burt2019", "garber1999", "dalmeijer2012", "iwpc2009",
})


def unit_of(study: str) -> str:
    return SAME_PARTICIPANTS.get(study, study)


def hash_fraction(unit: str) -> float:
    """The unit id's SHA-256 as a number in [0, 1): its first 8 hex digits over 16**8."""
    return int(hashlib.sha256(unit.encode("utf-8")).hexdigest()[:8], 16) / 16 ** 8


def split_of(study: str) -> str:
    """'calibration' or 'validation' for a study id, by the rule above."""
    unit = unit_of(study)
    if unit in CALIBRATION_TARGETS:
        return "calibration"
    if unit in INDEPENDENT_CHECKS:
        return "validation"
    return "validation" if hash_fraction(unit) < VALIDATION_FRACTION else "calibration"
