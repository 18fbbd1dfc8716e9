"""scipy's BDF over a batch of independent columns with one block pattern.

The Newton matrices are block-diagonal (a subject's rates read only its own states) with
one fixed block pattern, so the finite-difference Jacobian costs about as many
right-hand-side calls as one subject's, and the LU runs as generated straight-line numpy
code over columns (``BlockLinear``), whatever the batch size. scipy's sparse LU would
factor the whole block-diagonal matrix at every step (7 ms at 256 columns against 0.3 ms).

The step-size control is per column: the error norm is the largest per-column RMS norm,
not the RMS over the whole batch (scipy's default), so a column is integrated to the same
tolerance as it would be alone and a quiet batch does not dilute one busy subject's error.
scipy has no option for the norm; ``column_bdf`` rebinds its private BDF step to one.
"""
from __future__ import annotations

import functools
import math
import types

import numpy as np
import scipy.sparse as sp


def unsupported() -> str | None:
    """Why this scipy cannot run the batch (the private BDF pieces ``column_bdf`` rebinds
    are missing), or None. scipy has kept them unchanged since 1.0; a test runs the batch."""
    import scipy
    from scipy.integrate._ivp import bdf

    missing = [n for n in ("norm", "solve_bdf_system") if not callable(getattr(bdf, n, None))]
    if not callable(getattr(getattr(bdf, "BDF", None), "_step_impl", None)):
        missing.append("BDF._step_impl")
    return f"scipy {scipy.__version__} lacks {', '.join(missing)}" if missing else None


@functools.cache
def column_bdf(n_species: int):
    """scipy's BDF with the error norm taken per column (the max of the columns' RMS norms).

    scipy's ``_step_impl`` and ``solve_bdf_system`` call the module's ``norm``; copies of the
    two functions see a namespace where ``norm`` is the per-column one."""
    from scipy.integrate._ivp import bdf

    def norm(x):
        x = x.reshape(n_species, -1)
        return float(np.sqrt(np.max(np.mean(x * x, axis=0))))

    g = dict(vars(bdf))
    g["norm"] = norm
    g["solve_bdf_system"] = types.FunctionType(bdf.solve_bdf_system.__code__, g, "solve_bdf_system",
                                               bdf.solve_bdf_system.__defaults__)
    step = bdf.BDF._step_impl

    def __init__(self, fun, t0, y0, t_bound, linear: BlockLinear, **options):
        template = sp.identity(y0.size, format="csc")  # replaced below: no Jacobian is assembled
        bdf.BDF.__init__(self, fun, t0, y0, t_bound, jac=lambda t, y: template, **options)
        self.njev = 0
        self.jac = linear.jacobian
        self.J = linear.jacobian(t0, y0)
        self.I = linear.identity
        self.lu = linear.factor
        self.solve_lu = linear.solve

    return type("ColumnBDF", (bdf.BDF,), {
        "__init__": __init__,
        "_step_impl": types.FunctionType(step.__code__, g, "_step_impl", step.__defaults__, step.__closure__)})


def _groups(pattern: np.ndarray) -> np.ndarray:
    """Greedy colouring of the columns of ``pattern``: columns in one group share no row,
    so one perturbed right-hand side gives all their Jacobian columns."""
    group = np.full(pattern.shape[1], -1)
    rows_of: list[np.ndarray] = []
    for j in range(pattern.shape[1]):
        for k, used in enumerate(rows_of):
            if not (used & pattern[:, j]).any():
                group[j] = k
                rows_of[k] = used | pattern[:, j]
                break
        else:
            group[j] = len(rows_of)
            rows_of.append(pattern[:, j].copy())
    return group


def _minimum_degree(pattern: np.ndarray) -> np.ndarray:
    """A fill-reducing elimination order of the symmetrised pattern (greedy minimum degree)."""
    g = pattern | pattern.T
    np.fill_diagonal(g, False)
    left = list(range(g.shape[0]))
    order = []
    while left:
        k = min(left, key=lambda i: (int(g[i, left].sum()), i))
        nb = [i for i in left if g[k, i]]
        for i in nb:  # eliminating k joins its neighbours
            g[i, nb] = True
            g[i, i] = False
        left.remove(k)
        order.append(k)
    return np.array(order)


class _Block:
    """Values of a block-diagonal matrix over the fixed block pattern: (entries, columns)."""

    def __init__(self, values: np.ndarray):
        self.values = values

    def __rmul__(self, c: float) -> "_Block":
        return _Block(c * self.values)


class _Identity:
    def __init__(self, diagonal: np.ndarray):
        self.diagonal = diagonal

    def __sub__(self, other: _Block) -> _Block:
        v = -other.values
        v[self.diagonal] += 1.0
        return _Block(v)


class BlockLinear:
    """The Newton systems of BDF, ``I - c J``, factored and solved for all columns at once.

    Every column's block has the same pattern, so one symbolic LU (no pivoting, in a
    minimum-degree order; ``I - c J`` is dominated by its diagonal at the step sizes BDF
    takes, and a failed Newton iteration makes BDF retry with a smaller step) is computed
    once and the numeric work is straight-line numpy code over columns (``_lu_code``): a
    few hundred array operations per factorisation or solve whatever the batch size. SuperLU
    on the assembled sparse matrix took 7 ms per factorisation at 256 columns, this about
    0.3 ms. The finite-difference Jacobian perturbs one colour group of every column at once (about as many
    right-hand sides as for one subject), with a step of sqrt(eps) relative to each amount
    (absolute for a zero amount): the Jacobian only steers Newton's iteration."""

    def __init__(self, fun, pattern: np.ndarray, n: int):
        self.fun, self.n, self.n_s = fun, n, pattern.shape[0]
        self.bi, self.bj = np.nonzero(pattern)
        self.group = _groups(pattern)
        self.by_group = [np.flatnonzero(self.group[self.bj] == k) for k in range(self.group.max() + 1)]
        self.identity = _Identity(np.flatnonzero(self.bi == self.bj))
        perm = _minimum_degree(pattern)
        fill = pattern[np.ix_(perm, perm)].copy()
        m = perm.size
        for k in range(m):  # symbolic elimination
            lower = np.flatnonzero(fill[k + 1:, k]) + k + 1
            upper = np.flatnonzero(fill[k, k + 1:]) + k + 1
            fill[np.ix_(lower, upper)] = True
        self._factor, self._solve = _lu_code(fill.tobytes(), m, tuple(perm), tuple(zip(self.bi, self.bj)))
        self.nlu = 0  # factorisations, as scipy's BDF counts them

    def jacobian(self, t, y) -> _Block:
        n_s, n = self.n_s, self.n
        Y = y.reshape(n_s, n)
        f0 = self.fun(t, y).reshape(n_s, n)
        h = math.sqrt(np.finfo(float).eps) * np.where(Y != 0.0, np.abs(Y), 1.0)
        h = (Y + h) - Y
        values = np.empty((self.bi.size, n))
        for k, entries in enumerate(self.by_group):
            Yp = Y.copy()
            sel = self.group == k
            Yp[sel] += h[sel]
            df = self.fun(t, Yp.ravel()).reshape(n_s, n) - f0
            values[entries] = df[self.bi[entries]] / h[self.bj[entries]]
        return _Block(values)

    def factor(self, a: _Block):
        self.nlu += 1
        return self._factor(a.values)

    def solve(self, lu, b: np.ndarray) -> np.ndarray:
        return self._solve(lu, b.reshape(self.n_s, self.n)).ravel()


@functools.cache
def _lu_code(fill_bytes: bytes, m: int, perm: tuple[int, ...], entries: tuple[tuple[int, int], ...]):
    """Straight-line numpy source of the LU factorisation (no pivoting, rows and columns in
    the order ``perm``) and of the two triangular solves for the fill pattern: one line per
    non-zero, each an operation on all columns at once."""
    fill = np.frombuffer(fill_bytes, dtype=bool).reshape(m, m)
    inv = {p: i for i, p in enumerate(perm)}
    fi, fj = np.nonzero(fill)
    at = {(int(i), int(j)): e for e, (i, j) in enumerate(zip(fi, fj))}
    src = ["def factor(A):", f"    ({', '.join(f'a{e}' for e in range(len(entries)))},) = A"]
    given = {at[(inv[int(i)], inv[int(j)])]: e for e, (i, j) in enumerate(entries)}
    src += [f"    f{e} = a{given[e]}" if e in given else f"    f{e} = 0.0" for e in range(len(at))]
    for k in range(m):
        src.append(f"    d{k} = 1.0 / f{at[(k, k)]}")
        lower = [i for i in range(k + 1, m) if fill[i, k]]
        upper = [j for j in range(k + 1, m) if fill[k, j]]
        for i in lower:
            src.append(f"    f{at[(i, k)]} = f{at[(i, k)]} * d{k}")
            src += [f"    f{at[(i, j)]} = f{at[(i, j)]} - f{at[(i, k)]} * f{at[(k, j)]}" for j in upper]
    src.append(f"    return [{', '.join(f'f{e}' for e in range(len(at)))}], [{', '.join(f'd{k}' for k in range(m))}]")
    src += ["", "", "def solve(lu, b):", "    F, D = lu",
            f"    ({', '.join(f'f{e}' for e in range(len(at)))},) = F",
            f"    ({', '.join(f'd{k}' for k in range(m))},) = D",
            f"    ({', '.join(f'b{k}' for k in range(m))},) = b"]
    for i in range(m):  # L z = P b, L unit lower triangular
        terms = "".join(f" - f{at[(i, k)]} * z{k}" for k in range(i) if fill[i, k])
        src.append(f"    z{i} = b{perm[i]}{terms}")
    for i in range(m - 1, -1, -1):  # U x = z
        terms = "".join(f" - f{at[(i, j)]} * x{j}" for j in range(i + 1, m) if fill[i, j])
        src.append(f"    x{i} = (z{i}{terms}) * d{i}" if terms else f"    x{i} = z{i} * d{i}")
    src.append(f"    return np.array([{', '.join(f'x{inv[k]}' for k in range(m))}])")
    namespace = {"np": np}
    exec(compile("\n".join(src) + "\n", "<k2d3 batch LU>", "exec"), namespace)
    return namespace["factor"], namespace["solve"]
