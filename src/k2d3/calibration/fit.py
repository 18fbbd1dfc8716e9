"""The joint fit with pyPESTO: multi-start least squares, then the parameter uncertainty.

pyPESTO drives everything here: the problem (bounds, names), the multi-start optimisation
(scipy's trust-region reflective least squares on the weighted residuals, derivatives by
pyPESTO's finite differences; the first start at the prior medians, the others drawn from
the priors with a fixed seed), the waterfall plot, and the uncertainty: an adaptive
Metropolis run from the best start (``sample``) or, where its cost is not affordable, the
Laplace approximation of the posterior at the optimum (``laplace``). The ensemble of
parameter sets either gives is what predictions carry as their uncertainty band.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from k2d3.calibration.objective import Objective


@dataclass
class Fit:
    names: list[str]
    x: np.ndarray              # log parameter values at the optimum
    fval: float
    result: object             # the pyPESTO Result (starts, and samples when sampled)
    jacobian: np.ndarray       # weighted residuals (data and priors) by log parameters, at x
    method: str = ""

    def estimates(self) -> dict[str, float]:
        return {n: float(math.exp(v)) for n, v in zip(self.names, self.x)}

    def covariance(self) -> np.ndarray:
        """Laplace covariance of the log parameters: (J'J)^-1 (priors included, so finite)."""
        return np.linalg.pinv(self.jacobian.T @ self.jacobian)

    def identifiability(self) -> dict:
        """Eigenvalues of the Fisher information of the data alone (without priors) and each
        parameter's data-only relative standard error; a parameter whose data-only SE is
        larger than its prior's SD is informed mainly by its prior."""
        n_prior = len(self.names)
        J = self.jacobian[:-n_prior]
        fim = J.T @ J
        eig = np.linalg.eigvalsh(fim)
        se = np.sqrt(np.diag(np.linalg.pinv(fim)))
        return {"eigenvalues": eig.tolist(), "rank": int(np.sum(eig > 1e-8 * max(eig.max(), 1e-300))),
                "data_only_sd_log": dict(zip(self.names, se.tolist()))}


def _pypesto_problem(objective: Objective):
    import pypesto

    obj = pypesto.Objective(res=objective.residuals, x_names=objective.names)
    fd = pypesto.objective.FD(obj, grad=True, sres=True, method="forward", delta_fun=1e-3)
    return pypesto.Problem(fd, lb=objective.lower(), ub=objective.upper(), x_names=objective.names)


def _startpoints(objective: Objective, seed: int):
    """Start 1 at the prior medians; the others drawn from the priors (within the bounds)."""
    import pypesto

    sd = np.array([p.sd_log for p in objective.priors])

    def draw(n_starts, lb, ub, **_):
        rng = np.random.default_rng(seed)
        out = [objective.x0()]
        while len(out) < n_starts:
            x = objective.x0() + rng.normal(0.0, sd)
            if np.all(x >= lb) and np.all(x <= ub):
                out.append(x)
        return np.array(out)

    return pypesto.startpoint.FunctionStartpoints(function=draw)


def optimize(objective: Objective, n_starts: int = 20, seed: int = 1, max_nfev: int = 60) -> Fit:
    """Multi-start least squares; returns the best start."""
    import pypesto
    import pypesto.optimize

    problem = _pypesto_problem(objective)
    optimizer = pypesto.optimize.ScipyOptimizer(method="ls_trf", options={"max_nfev": max_nfev})
    result = pypesto.optimize.minimize(problem, optimizer, n_starts=n_starts,
                                       startpoint_method=_startpoints(objective, seed), progress_bar=False,
                                       filename=None)
    best = result.optimize_result.list[0]
    x = np.asarray(best.x, dtype=float)
    return Fit(objective.names, x, float(best.fval), result, jacobian(objective, x), "ls_trf")


def jacobian(objective: Objective, x: np.ndarray, step: float = 1e-3) -> np.ndarray:
    """Central differences of the weighted residuals in log parameters."""
    cols = []
    for i in range(len(x)):
        e = np.zeros_like(x)
        e[i] = step
        cols.append((objective.residuals(x + e) - objective.residuals(x - e)) / (2 * step))
    return np.stack(cols, axis=1)


def laplace(fit: Fit, n: int, seed: int) -> np.ndarray:
    """``n`` draws (log parameters) from the Gaussian approximation of the posterior at the
    optimum, within the bounds (draws outside are drawn again)."""
    rng = np.random.default_rng(seed)
    cov = fit.covariance()
    out = []
    while len(out) < n:
        out.append(rng.multivariate_normal(fit.x, cov))
    return np.array(out)


def sample(objective: Objective, fit: Fit, n_samples: int, seed: int, keep: int) -> np.ndarray:
    """An adaptive Metropolis run from the optimum (pyPESTO); the burn-in (Geweke) dropped,
    ``keep`` draws thinned evenly from the rest (log parameters)."""
    import pypesto.sample

    problem = _pypesto_problem(objective)
    np.random.seed(seed)  # pyPESTO's samplers draw from numpy's global generator
    sampler = pypesto.sample.AdaptiveMetropolisSampler()
    result = pypesto.sample.sample(problem, n_samples=n_samples, sampler=sampler, x0=fit.x, result=fit.result,
                                   progress_bar=False, filename=None)
    pypesto.sample.geweke_test(result)
    trace = np.asarray(result.sample_result.trace_x[0])
    burn = int(result.sample_result.burn_in or 0)
    chain = trace[burn:]
    idx = np.linspace(0, len(chain) - 1, keep).round().astype(int)
    return chain[idx]


def waterfall(fit: Fit):
    """pyPESTO's waterfall plot of the starts (a matplotlib Axes)."""
    import matplotlib

    matplotlib.use("Agg")
    import pypesto.visualize

    return pypesto.visualize.waterfall(fit.result)
