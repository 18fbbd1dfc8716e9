"""The compiled model, built once per process and reused by every simulation.

Compiling the SBML is the expensive step (JIT); a run only resets the state and sets the
subject's parameters, which libroadrunner does in well under a millisecond.
"""
from __future__ import annotations

import functools

from k2d3.model import build, observables

#: Integrator tolerances. Amounts span 1e-3 (vitamin K hydroquinone) to 1e4 nmol (adipose D3).
RELATIVE_TOLERANCE = 1e-6
ABSOLUTE_TOLERANCE = 1e-9


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
