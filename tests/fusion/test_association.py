"""Gating, identity-first matching, optimal sparse assignment (checked against a dense
``linear_sum_assignment`` on small seeded cases), and system track numbering."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from airpicture.fusion import (
    assign_gated,
    assign_stns,
    chi2_gate,
    mahalanobis3,
    mahalanobis3_pairs,
    match_identity,
    stn_candidates,
)


def spd3(rng: np.random.Generator, n: int, scale: float) -> np.ndarray:
    a = rng.normal(size=(n, 3, 3)) * scale
    return a @ a.transpose(0, 2, 1) + np.eye(3) * scale**2


def test_mahalanobis3_matches_solve() -> None:
    rng = np.random.default_rng(0)
    S = spd3(rng, 500, 100.0)
    d = rng.normal(size=(500, 3)) * 300
    expected = np.einsum("ni,ni->n", d, np.linalg.solve(S, d[..., None])[..., 0])
    np.testing.assert_allclose(mahalanobis3(d, S), expected, rtol=1e-9)
    assert mahalanobis3(np.ones((1, 3)), np.zeros((1, 3, 3)))[0] == np.inf


def test_mahalanobis3_pairs_matches_solve_on_gathered_rows() -> None:
    """6-D states and covariances, pairs by index: only the position block counts."""
    rng = np.random.default_rng(4)
    xa, xb = rng.normal(size=(300, 6)) * 500, rng.normal(size=(80, 6)) * 500
    a, b = rng.normal(size=(300, 6, 6)) * 30, rng.normal(size=(80, 6, 6)) * 30
    Pa, Pb = a @ a.transpose(0, 2, 1) + np.eye(6), b @ b.transpose(0, 2, 1) + np.eye(6)
    ia, ib = rng.integers(0, 300, 1000), rng.integers(0, 80, 1000)
    d = xa[ia, :3] - xb[ib, :3]
    S = Pa[ia, :3, :3] + Pb[ib, :3, :3]
    expected = np.einsum("ni,ni->n", d, np.linalg.solve(S, d[..., None])[..., 0])
    got = mahalanobis3_pairs(xa, Pa, ia, xb, Pb, ib)
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    np.testing.assert_array_equal(got, mahalanobis3(d, S))  # the same arithmetic
    zero = np.zeros((1, 6, 6))
    assert mahalanobis3_pairs(xa, zero, [0], xb, zero, [0])[0] == np.inf
    with pytest.raises(ValueError, match="differ in shape"):
        mahalanobis3_pairs(xa, Pa, [0, 1], xb, Pb, [0])


def dense_reference(xr, Sr, xs, Ss, gate):  # type: ignore[no-untyped-def]
    """Dense rectangular assignment with dummy rows and columns (cost gate / 2 each)."""
    R, S = len(xr), len(xs)
    d2 = np.array(
        [
            [mahalanobis3((xr[i] - xs[j])[None], (Sr[i] + Ss[j])[None])[0] for j in range(S)]
            for i in range(R)
        ]
    )
    big = 1e12
    cost = np.full((R + S, S + R), big)
    cost[:R, :S] = np.where(d2 < gate, d2, big)
    cost[np.arange(R), S + np.arange(R)] = gate / 2
    cost[R + np.arange(S), np.arange(S)] = gate / 2
    cost[R:, S:] = np.where((d2 < gate).T, 0.0, big)
    rows, cols = linear_sum_assignment(cost)
    pairs = [(r, c) for r, c in zip(rows, cols, strict=True) if r < R and c < S]
    total = sum(d2[r, c] for r, c in pairs) + gate / 2 * (R + S - 2 * len(pairs))
    return pairs, total, d2


@pytest.mark.parametrize("seed", range(12))
def test_sparse_assignment_is_optimal(seed: int) -> None:
    rng = np.random.default_rng(seed)
    S, R = int(rng.integers(3, 12)), int(rng.integers(3, 12))
    xs = rng.uniform(0, 3000, size=(S, 3))
    Ss = spd3(rng, S, 150.0)
    pick = rng.choice(S, size=min(R, S), replace=False)
    xr = np.concatenate(
        [
            xs[pick] + rng.normal(size=(len(pick), 3)) * 200,
            rng.uniform(0, 3000, size=(R - len(pick), 3)),
        ]
    )
    Sr = spd3(rng, R, 150.0)
    gate = chi2_gate(0.99)
    ri, si, d2 = assign_gated(xr, Sr, xs, Ss, gate, k=S)
    pairs, best_total, dense_d2 = dense_reference(xr, Sr, xs, Ss, gate)
    total = d2.sum() + gate / 2 * (R + S - 2 * len(ri))
    assert total == pytest.approx(best_total, rel=1e-9, abs=1e-9)
    assert sorted(pairs) == sorted(zip(ri.tolist(), si.tolist(), strict=True))  # no ties here
    assert np.all(d2 < gate)
    np.testing.assert_allclose(d2, dense_d2[ri, si])
    assert len(set(ri.tolist())) == len(ri) and len(set(si.tolist())) == len(si)


def test_icao_conflict_is_not_an_edge() -> None:
    xs = np.zeros((1, 3))
    S = np.eye(3)[None] * 100.0
    ri, _, _ = assign_gated(
        xs, S, xs, S, chi2_gate(0.99), report_icao=np.array([5]), system_icao=np.array([6])
    )
    assert ri.size == 0
    ri, _, _ = assign_gated(
        xs, S, xs, S, chi2_gate(0.99), report_icao=np.array([5]), system_icao=np.array([-1])
    )
    assert ri.tolist() == [0]


def test_identity_match_is_unique_and_first_wins() -> None:
    ri, si = match_identity(np.array([7, -1, 9, 7, 3]), np.array([3, 9, 9, 7, -1]))
    # 9 is held by two system tracks: ambiguous; the first report with 7 wins.
    assert list(zip(ri.tolist(), si.tolist(), strict=True)) == [(0, 3), (4, 0)]


def test_stn_candidates_are_stable_and_spread() -> None:
    nation = np.array([b"JPN", b"JPN", b"USA"], "S16")
    track = np.array([1, 2, 1], np.int64)
    c = stn_candidates(nation, track)
    # Regression values: STNs must not change between versions or machines.
    assert c.tolist() == stn_candidates(nation.copy(), track.copy()).tolist()
    assert len(set(c.tolist())) == 3 and np.all((c >= 1) & (c < 2**31 - 1))
    many = stn_candidates(np.full(10_000, b"AUS", "S16"), np.arange(10_000, dtype=np.int64))
    assert len(np.unique(many)) >= 9_998


def test_assign_stns_resolves_collisions_deterministically() -> None:
    got = assign_stns(np.array([5, 5, 6, 9]), in_use=np.array([6, 7]), modulus=10)
    # Round 1: 5 and 9 free; the second 5 and the 6 move up. Then 8 goes to the earlier
    # pending one that reaches it first (the 6), and the second 5 wraps round to 1.
    assert got.tolist() == [5, 1, 8, 9]
    again = assign_stns(np.array([5, 5, 6, 9]), in_use=np.array([6, 7]), modulus=10)
    assert again.tolist() == got.tolist()
    assert len(set(got.tolist()) | {6, 7}) == 6
