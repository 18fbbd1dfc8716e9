"""Calcium is conserved: what enters the body minus what leaves equals the change in its
pools, through a supplement dose, absorption, bone exchange and the kidney."""
import numpy as np
import roadrunner

import k2d3
from k2d3.engine import equilibrium
from k2d3.model import build

POOLS = ["ca_supplement_gut", "ca_gut", "ca_plasma", "ca_bone_exchangeable", "ca_bone_nonexchangeable"]
FLUXES_IN = ["OralCa"]
FLUXES_OUT = ["Ca_faecal_transit", "Ca_endogenous_faecal", "Ca_filtration"]


def test_calcium_mass_balance_over_ten_days_with_a_supplement_and_menopause():
    rr = roadrunner.RoadRunner(build.sbml())
    equilibrium.equilibrate(rr, k2d3.Subject(age=50, baseline_25ohd_nmol_l=40))
    dose_mmol = 500.0 / 40.078
    before = sum(rr[p] for p in POOLS)
    rr["ca_supplement_gut"] = rr["ca_supplement_gut"] + dose_mmol
    t = np.linspace(0, 240, 4801)
    out = rr.simulate(times=list(t), selections=["time", *POOLS, *FLUXES_IN, *FLUXES_OUT])
    data = {name: np.asarray(out[:, i + 1]) for i, name in enumerate([*POOLS, *FLUXES_IN, *FLUXES_OUT])}
    inflow = np.trapezoid(data["OralCa"], t) + dose_mmol
    outflow = sum(np.trapezoid(data[f], t) for f in FLUXES_OUT)
    after = sum(data[p][-1] for p in POOLS)
    assert abs((after - before) - (inflow - outflow)) < 1e-4 * (inflow + outflow)
    # and the balance is not trivially zero: urine and faeces carry calcium away
    assert outflow > 0.5 * inflow
