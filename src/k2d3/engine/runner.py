"""The compiled model, built once per process and reused by every simulation.

Compiling the SBML is the expensive step (JIT); a run only resets the state and sets the
subject's parameters, which libroadrunner does in well under a millisecond.
"""
from __future__ import annotations

import functools

import numpy as np

from k2d3.model import build

#: Integrator tolerances. States span 1e-5 (bound OPG-RANKL, normalised) to 3e5 (bone
#: calcium, mmol); libroadrunner scales the absolute tolerance down for states whose
#: initial amount is below 1, so the small bone-cell states keep their accuracy.
RELATIVE_TOLERANCE = 1e-6
ABSOLUTE_TOLERANCE = 1e-7


@functools.cache
def runner():
    """A RoadRunner instance of the composed model (LLJIT backend where available)."""
    import roadrunner

    try:  # the LLJIT backend compiles several times faster than MCJIT
        roadrunner.Config.setValue(roadrunner.Config.LLVM_BACKEND, 1)
    except Exception:  # older libroadrunner: keep its default backend
        pass
    rr = roadrunner.RoadRunner(build.sbml())
    rr.integrator.relative_tolerance = RELATIVE_TOLERANCE
    rr.integrator.absolute_tolerance = ABSOLUTE_TOLERANCE
    rr.integrator.max_steps = 100000
    return rr


#: Amounts smaller than this (nmol, in magnitude) are set to zero before a restart.
DENORMAL = 1e-12


def flush_denormals(rr) -> None:
    """Set amounts below 1e-12 nmol in magnitude to zero before a restart.

    Emptied depots decay towards 1e-300 and round-off makes some of them slightly negative;
    CVODE's corrector then fails to converge on restart (seen here at about day 48 of daily
    dosing); so does a dose of a subnormal amount. Amounts this small are twelve orders
    below any level the model reports, and below the integrator's absolute tolerance.
    """
    x = rr.model.getFloatingSpeciesAmounts()
    tiny = np.abs(x) < DENORMAL
    if tiny.any():
        x[tiny] = 0.0
        rr.model.setFloatingSpeciesAmounts(x)
