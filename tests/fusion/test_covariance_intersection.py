"""Covariance intersection: consistency against truth (NEES), no double counting, and a
cross-check of the Numba kernel against a NumPy implementation of the same formulas."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from airpicture.fusion import ci_fuse, ci_fuse_groups, is_spd


def random_spd(rng: np.random.Generator, n: int, dim: int = 6) -> NDArray[np.float64]:
    a = rng.normal(size=(n, dim, dim)) * rng.uniform(1.0, 100.0, size=(n, dim, 1))
    return a @ a.transpose(0, 2, 1) + np.eye(dim)


def reference_ci(x1, P1, x2, P2):  # type: ignore[no-untyped-def]
    """The same CI with NumPy's general linear algebra, one pair at a time: the improved
    fast CI weight, then one Newton step on log det Y(w) with g' = tr(Y^-1 D) and
    g'' = -tr((Y^-1 D)^2), clipped to [0, 1]."""
    Y1, Y2 = np.linalg.inv(P1), np.linalg.inv(P2)
    d, d1, d2 = np.linalg.det(Y1 + Y2), np.linalg.det(Y1), np.linalg.det(Y2)
    w = np.clip((d - d2 + d1) / (2 * d), 0.0, 1.0)
    M = np.linalg.solve(w * Y1 + (1 - w) * Y2, Y1 - Y2)
    w = np.clip(w + np.trace(M) / np.trace(M @ M), 0.0, 1.0)
    Y = w * Y1 + (1 - w) * Y2
    P = np.linalg.inv(Y)
    return P @ (w * Y1 @ x1 + (1 - w) * Y2 @ x2), P, w


def test_fusing_an_estimate_with_itself_gives_it_back() -> None:
    rng = np.random.default_rng(1)
    P = random_spd(rng, 200)
    x = rng.normal(size=(200, 6)) * 1e6  # ECEF-sized numbers
    xf, Pf = ci_fuse(x, P, x, P)
    np.testing.assert_allclose(xf, x, rtol=0, atol=1e-6)
    np.testing.assert_allclose(Pf, P, rtol=1e-9, atol=1e-9 * np.abs(P).max())


def test_kernel_matches_numpy_reference() -> None:
    rng = np.random.default_rng(2)
    n = 50
    P1, P2 = random_spd(rng, n), random_spd(rng, n)
    x1, x2 = rng.normal(size=(n, 6)) * 10, rng.normal(size=(n, 6)) * 10
    xf, Pf = ci_fuse(x1, P1, x2, P2)
    for i in range(n):
        xr, Pr, _ = reference_ci(x1[i], P1[i], x2[i], P2[i])
        np.testing.assert_allclose(xf[i], xr, rtol=1e-7, atol=1e-7)
        np.testing.assert_allclose(Pf[i], Pr, rtol=1e-7, atol=1e-9 * np.abs(Pr).max())


def test_weight_is_close_to_the_determinant_optimum() -> None:
    rng = np.random.default_rng(3)
    n = 200
    P1, P2 = random_spd(rng, n), random_spd(rng, n)
    _, Pf = ci_fuse(np.zeros((n, 6)), P1, np.zeros((n, 6)), P2)
    grid = np.linspace(0.0, 1.0, 1001)
    Y1, Y2 = np.linalg.inv(P1), np.linalg.inv(P2)
    logdet_best = np.array(
        [
            np.linalg.slogdet(grid[:, None, None] * Y1[i] + (1 - grid[:, None, None]) * Y2[i])[
                1
            ].max()
            for i in range(n)
        ]
    )
    ratio = np.exp(logdet_best + np.linalg.slogdet(Pf)[1])  # det P / det P_best (grid)
    assert ratio.min() > 1.0 - 1e-4  # the grid cannot beat it by more than its resolution
    assert np.percentile(ratio, 90) < 1.01 and ratio.max() < 1.15


def test_fold_of_groups_is_sequential_pairwise_fusion() -> None:
    rng = np.random.default_rng(4)
    P = random_spd(rng, 9)
    x = rng.normal(size=(9, 6))
    starts = np.array([0, 1, 4, 9])
    xf, Pf, ok = ci_fuse_groups(x, P, starts)
    assert ok.all()
    np.testing.assert_array_equal(xf[0], x[0])
    a, A = x[1:2], P[1:2]
    for m in (2, 3):
        a, A = ci_fuse(a, A, x[m : m + 1], P[m : m + 1])
    np.testing.assert_allclose(xf[1], a[0], rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(Pf[1], A[0], rtol=1e-10, atol=1e-10)
    # Rows given explicitly: the same groups gathered from a permuted array.
    perm = rng.permutation(9)
    inv = np.argsort(perm)
    xf2, Pf2, _ = ci_fuse_groups(x[perm], P[perm], starts, inv)
    np.testing.assert_array_equal(xf2, xf)
    np.testing.assert_array_equal(Pf2, Pf)


@pytest.mark.parametrize("rho", [0.0, 0.5, 0.9])
def test_ci_is_consistent_where_naive_fusion_is_not(rho: float) -> None:
    """Errors share a common part (correlation ``rho``): CI's NEES stays at or below the
    dimension, the independence-assuming combination's exceeds it once rho is large."""
    rng = np.random.default_rng(5)
    n, dim = 4000, 6
    Pc = random_spd(rng, 1)[0]
    P1 = Pc + random_spd(rng, 1)[0] * 0.3
    P2 = Pc * 0.5 + random_spd(rng, 1)[0] * 0.3
    # e1 = sqrt(rho) c + u1,  e2 = sqrt(rho) c + u2, with cov(e_i) = P_i exactly.
    common = np.sqrt(rho) * rng.normal(size=(n, dim)) @ np.linalg.cholesky(Pc * 0.5).T
    e1 = common + rng.normal(size=(n, dim)) @ np.linalg.cholesky(P1 - rho * Pc * 0.5).T
    e2 = common + rng.normal(size=(n, dim)) @ np.linalg.cholesky(P2 - rho * Pc * 0.5).T
    xf, Pf = ci_fuse(e1, np.broadcast_to(P1, (n, dim, dim)), e2, np.broadcast_to(P2, (n, dim, dim)))
    nees = np.einsum("ni,nij,nj->n", xf, np.linalg.inv(Pf), xf)
    bound = dim * (1 + 4 * np.sqrt(2 / (dim * n)))  # 4-sigma upper bound of the mean
    assert nees.mean() <= bound
    Pn = np.linalg.inv(np.linalg.inv(P1) + np.linalg.inv(P2))
    xn = e1 @ (Pn @ np.linalg.inv(P1)).T + e2 @ (Pn @ np.linalg.inv(P2)).T
    nees_naive = np.einsum("ni,ij,nj->n", xn, np.linalg.inv(Pn), xn).mean()
    if rho >= 0.9:
        assert nees_naive > bound  # double counting shows as overconfidence
    assert nees.mean() > 0.3 * dim  # and CI is not absurdly pessimistic


def test_is_spd_flags_bad_covariances() -> None:
    good = random_spd(np.random.default_rng(6), 3)
    bad = good.copy()
    bad[0, 0, 1] += 1.0  # asymmetric
    bad[1] = -np.eye(6)  # negative definite
    bad[2, 3, 3] = np.nan
    assert is_spd(good).all()
    assert not is_spd(bad).any()
