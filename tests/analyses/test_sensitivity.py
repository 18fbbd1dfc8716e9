"""Sensitivity analysis: which parameters are varied and over what range, Morris rankings
that follow from the model's structure, and Sobol' indices against a case solved exactly."""
import math

import numpy as np
import pytest
from scipy.integrate import quad

import k2d3
from k2d3.analyses import sensitivity as sa
from k2d3.engine import equilibrium
from k2d3.engine.population_engine import simulate_many
from k2d3.errors import InputError
from k2d3.model.build import parameters

D3_DAILY = k2d3.Regimen.from_dict({
    "subject": {"age": 60, "sex": "female", "weight_kg": 70, "height_cm": 165, "baseline_25ohd_nmol_l": 50},
    "supplements": [{"compound": "D3", "dose": "2000 IU", "every": "1 day"}]})
WARFARIN = ("ka_warfarin", "v_warfarin", "ke_warfarin", "ec50_warfarin", "gamma_warfarin")


def test_subject_and_engine_entries_are_never_varied():
    """Every value the engine sets per subject or at day 0 is in an excluded class of the data file."""
    never, _ = sa._excluded_classes()
    assert set(equilibrium.subject_parameters(k2d3.Subject())) <= set(never)
    assert set(equilibrium.DAY0_REFERENCES) <= set(never)
    assert set(never) <= set(parameters())


def test_eligible_for_25ohd_is_the_vitamin_d_path_only():
    factors, excluded, _ = sa.eligible(D3_DAILY, D3_DAILY.subject, ("ohd25_nmol_l",), 365)
    names = {f.name for f in factors}
    assert {"cl_ohd25_70kg", "vmax_cyp2r1", "km_cyp2r1", "f_abs_d3_base", "ka_d3"} <= names
    for w in WARFARIN + ("t_half_mk7", "k_vk_reduction", "T69"):
        assert excluded[w] == sa.NOT_REACHING
    # a measured 25(OH)D: the engine solves the background D3 input, so it is not varied
    assert excluded["d3_background_input"] == sa.MEASURED_BASELINE
    assert excluded["weight_kg"].startswith("a property of the subject")
    assert excluded["fat_free_rel_d3"] == sa.OUTSIDE_SBML
    # no sun in the regimen: skin D3 release cannot matter; nor, in a woman, the Deurenberg
    # equation's term for men
    assert excluded["k_skin_d3"] == sa.NOT_REACHING
    assert excluded["deurenberg_male"] == sa.NOT_REACHING
    man = D3_DAILY.subject.model_copy(update={"sex": "male"})
    assert "deurenberg_male" in {f.name for f in sa.eligible(D3_DAILY, man, ("ohd25_nmol_l",), 365)[0]}


def test_warfarin_reaches_the_inr_only_when_taken():
    on = k2d3.Regimen.from_dict({"medications": [{"drug": "warfarin", "dose": "5 mg", "every": "1 day"}]})
    off = k2d3.Regimen.from_dict({"supplements": [{"compound": "MK-7", "dose": "180 ug", "every": "1 day"}]})
    with_drug = {f.name for f in sa.eligible(on, k2d3.Subject(), ("inr",), 30)[0]}
    without = {f.name for f in sa.eligible(off, k2d3.Subject(), ("inr",), 30)[0]}
    assert set(WARFARIN) <= with_drug
    assert not set(WARFARIN) & without
    assert {"t_half_factor_vii", "k_vk_reduction", "t_half_mk7"} <= without


def test_ranges_from_cv_and_assumed_factor():
    f = {x.name: x for x in sa.eligible(D3_DAILY, D3_DAILY.subject, ("ohd25_nmol_l", "bmd_lumbar_spine_pct_change"),
                                          365)[0]}
    cl = f["cl_ohd25_70kg"]  # cv 0.21: the 2.5% and 97.5% quantiles of its log-normal
    sigma = math.sqrt(math.log(1 + 0.21 ** 2))
    assert cl.low == pytest.approx(0.0153 * math.exp(-1.959964 * sigma), rel=1e-6)
    assert cl.high == pytest.approx(0.0153 * math.exp(1.959964 * sigma), rel=1e-6)
    assert cl.basis.startswith("cv 0.21")
    ka = f["ka_d3"]
    assert (ka.low, ka.high) == pytest.approx((0.323 / 1.5, 0.323 * 1.5))
    assert ka.basis.startswith("assumed")
    # fractions vary on the odds and stay below 1
    fa = f["f_abs_d3_base"]
    assert fa.scale == "odds"
    assert fa.high / (1 - fa.high) == pytest.approx(1.5 * 0.75 / 0.25)
    assert 0.9999 < f["oc_bone_binding"].high < 1


def test_explicit_parameters_are_checked():
    with pytest.raises(InputError, match="unknown parameter 'cl_ohd25'"):
        sa.eligible(D3_DAILY, D3_DAILY.subject, ("ohd25_nmol_l",), 30, ["cl_ohd25"])
    with pytest.raises(InputError, match="weight_kg cannot be varied: a property of the subject"):
        sa.eligible(D3_DAILY, D3_DAILY.subject, ("ohd25_nmol_l",), 30, ["weight_kg"])
    with pytest.raises(InputError, match="IO cannot be varied: value 0"):
        sa.eligible(D3_DAILY, D3_DAILY.subject, ("ohd25_nmol_l",), 30, ["IO"])
    # a published constant is left out of the default set but may be named
    factors, _, _ = sa.eligible(D3_DAILY, D3_DAILY.subject, ("bmd_lumbar_spine_pct_change",), 30, ["EmaxL"])
    assert [f.name for f in factors] == ["EmaxL"]


@pytest.mark.parametrize("method, n, field", [("morris", 0, "n"), ("morris", 101, "n"), ("sobol", 300, "n"),
                                              ("sobol", 8192, "n"), ("fast", None, "method")])
def test_bad_n_and_method(method, n, field):
    with pytest.raises(InputError) as e:
        sa.check_n(method, n)
    assert e.value.field == field


def test_morris_ranks_25ohd_clearance_and_hydroxylation_first():
    """60 days of 2000 IU/day from a measured 50 nmol/L: the end 25(OH)D is set by how much
    D3 becomes 25(OH)D and how fast 25(OH)D is cleared."""
    r = sa.analyse(D3_DAILY, ["ohd25_nmol_l"], "morris", 4, days=60, seed=3)
    ranked = list(r.indices.parameter)
    assert r.runs == 4 * (len(r.factors) + 1)
    assert set(ranked[:3]) >= {"cl_ohd25_70kg", "vmax_cyp2r1"}
    assert not set(WARFARIN) & set(ranked)
    t = r.indices.set_index("parameter")
    assert t.mu_star.max() == t.loc[ranked[0], "mu_star"] > 5  # nmol/L, a move across 2/3 of the range
    assert t.loc[ranked[0], "mu_star_rel"] == 1.0
    # directions: more absorbed or hydroxylated raises it, faster clearance lowers it (every
    # elementary effect of these has the same sign: mu = +-mu*)
    for name in ("f_abs_d3_base", "vmax_cyp2r1"):
        assert t.loc[name, "mu"] == t.loc[name, "mu_star"] > 0
    for name in ("cl_ohd25_70kg", "km_cyp2r1", "cl_d3_other"):
        assert -t.loc[name, "mu"] == t.loc[name, "mu_star"] > 0


def test_parameters_that_cannot_reach_have_zero_effect():
    """The dependency rule checked against runs: named anyway, warfarin's parameters move
    25(OH)D by exactly nothing."""
    r = sa.analyse(D3_DAILY, ["ohd25_nmol_l"], "morris", 3, ["cl_ohd25_70kg", "ke_warfarin", "ec50_warfarin"],
                   days=20, seed=1)
    t = r.indices.set_index("parameter")
    assert t.loc["ke_warfarin", "mu_star"] == 0.0 and t.loc["ec50_warfarin", "mu_star"] == 0.0
    assert t.loc["cl_ohd25_70kg", "mu_star"] > 0
    assert not t.loc["ke_warfarin", "reaches"]
    assert any("ke_warfarin cannot reach" in note for note in r.notes)


def _moments():
    """dp-ucMGP = c x A x B with A = mgp_serum_ref (log-uniform, /1.5 to x1.5) and
    B = 1 - mgp_phosphorylated_fraction (its log-odds uniform, +-ln 1.5 about 0)."""
    L = math.log(1.5)
    ea, ea2 = math.sinh(L) / L, math.sinh(2 * L) / (2 * L)
    eb = quad(lambda w: 1 / (1 + math.exp(w)), -L, L)[0] / (2 * L)
    eb2 = quad(lambda w: 1 / (1 + math.exp(w)) ** 2, -L, L)[0] / (2 * L)
    return ea, ea2, eb, eb2


def test_dp_ucmgp_is_proportional_to_its_scale_and_unphosphorylated_share():
    """The premise of the exact Sobol' indices below, checked by runs."""
    regimen = k2d3.Regimen.from_dict({"supplements": [{"compound": "MK-7", "dose": "180 ug", "every": "1 day"}]})
    col = k2d3.model.observables.names().index("dp_ucmgp_pmol_l")
    sets = [{}, {"mgp_serum_ref": 2505.6 * 1.3}, {"mgp_phosphorylated_fraction": 0.6},
            {"mgp_nonrenal_fraction": 0.22}]
    v, _ = simulate_many([k2d3.Subject()] * 4, regimen, 10, times=[10], parameters=sets)
    y = v[:, 0, col]
    assert y[1] / y[0] == pytest.approx(1.3, rel=1e-9)
    assert y[2] / y[0] == pytest.approx(0.4 / 0.5, rel=1e-9)
    assert y[3] / y[0] == pytest.approx(1.0, rel=1e-12)  # at eGFR = its reference, clearance is 1


def test_sobol_matches_the_exact_indices_of_a_product():
    """Y = c A B with A, B independent: S1_A = Var(A) E[B]^2 / Var(Y), ST_A = Var(A) E[B^2] / Var(Y);
    mgp_nonrenal_fraction has no effect at the reference eGFR (all indices 0)."""
    ea, ea2, eb, eb2 = _moments()
    var = ea2 * eb2 - ea ** 2 * eb ** 2
    exact = {"mgp_serum_ref": ((ea2 - ea ** 2) * eb ** 2 / var, (ea2 - ea ** 2) * eb2 / var),
             "mgp_phosphorylated_fraction": ((eb2 - eb ** 2) * ea ** 2 / var, (eb2 - eb ** 2) * ea2 / var)}
    assert exact["mgp_serum_ref"][0] == pytest.approx(0.7923, abs=1e-4)
    regimen = k2d3.Regimen.from_dict({"supplements": [{"compound": "MK-7", "dose": "180 ug", "every": "1 day"}]})
    r = sa.analyse(regimen, ["dp_ucmgp_pmol_l"], "sobol", 256,
                   ["mgp_serum_ref", "mgp_phosphorylated_fraction", "mgp_nonrenal_fraction"], days=10, seed=0)
    assert r.runs == 256 * 5 and r.screen is None
    t = r.indices.set_index("parameter")
    for name, (s1, st) in exact.items():
        assert t.loc[name, "S1"] == pytest.approx(s1, abs=0.02)
        assert t.loc[name, "ST"] == pytest.approx(st, abs=0.02)
        assert t.loc[name, "S1_conf"] > 0 and t.loc[name, "ST_conf"] > 0
    assert abs(t.loc["mgp_nonrenal_fraction", "ST"]) < 1e-12
    assert list(t.index) == ["mgp_serum_ref", "mgp_phosphorylated_fraction", "mgp_nonrenal_fraction"]


def test_failed_runs_are_dropped_with_their_trajectory_and_said():
    """A run that failed (NaN) takes its whole trajectory with it, and the note says so."""
    Z = np.array([[0.0], [1.0], [0.0], [1.0]])
    Y = np.array([[1.0], [np.nan], [2.0], [3.0]])
    notes = []
    z, y, kept = sa._complete_blocks(Z, Y, 2, "trajectories", notes)
    assert kept == 1 and y.ravel().tolist() == [2.0, 3.0]
    assert notes[0].startswith("1 of 4 runs failed") and "the 1 trajectories holding them were left out" in notes[0]


def test_sobol_without_a_list_keeps_the_top_of_a_morris_screen():
    r = sa.analyse(D3_DAILY, ["ohd25_nmol_l"], "sobol", 32, days=20, seed=2)
    kept = r.screen["kept"]
    assert len(kept) == sa.SOBOL_TOP and {f.name for f in r.factors} == set(kept)
    assert {"cl_ohd25_70kg", "vmax_cyp2r1"} <= set(kept)
    assert r.runs == 32 * (sa.SOBOL_TOP + 2)
    assert r.screen["runs"] == sa.DEFAULT_N["morris"] * (len(kept) + len(
        [n for n, why in r.excluded.items() if why.startswith("not among")]) + 1)
    assert set(r.indices.parameter) == set(kept)


def test_published_constants_varied_together_often_leave_the_model():
    """Why the fitted constants of the calcium and bone equations are not in the default set:
    drawn together over their default ranges, many parameter sets have no steady state."""
    _, by_name = sa._excluded_classes()
    factors = [sa.factor(n, ()) for n in by_name if parameters()[n].value != 0]
    bounds = np.array([f.bounds() for f in factors])
    rng = np.random.default_rng(0)
    Z = bounds[:, 0] + rng.uniform(size=(60, len(factors))) * (bounds[:, 1] - bounds[:, 0])
    sets = [{f.name: float(f.at(np.array(z))) for f, z in zip(factors, row)} for row in Z]
    status = np.zeros(60, dtype=np.int64)
    simulate_many([k2d3.Subject()] * 60, k2d3.Regimen(), 1, times=[1], parameters=sets, status=status)
    assert (status != 0).sum() > 60 / 4
    # each alone at either end of its range: nearly all settle
    ends = [{f.name: v} for f in factors for v in (f.low, f.high)]
    alone = np.zeros(len(ends), dtype=np.int64)
    simulate_many([k2d3.Subject()] * len(ends), k2d3.Regimen(), 1, times=[1], parameters=ends, status=alone)
    assert (alone != 0).sum() < (status != 0).sum() / 4
