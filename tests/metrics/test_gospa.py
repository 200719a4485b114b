"""GOSPA / OSPA: brute force on small cases, hand examples, the time series, bad input."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from airpicture.metrics.gospa import gospa, gospa_series, ospa
from airpicture.metrics.samples import make_samples


def brute_gospa(x: np.ndarray, y: np.ndarray, c: float, p: float) -> float:
    """min over all partial assignments of sum d^p + c^p/2 (n + m - 2|gamma|)."""
    n, m = len(x), len(y)
    best = np.inf
    for k in range(min(n, m) + 1):
        for rows in itertools.combinations(range(n), k):
            for cols in itertools.permutations(range(m), k):
                cost = sum(min(float(np.linalg.norm(x[i] - y[j])), c) ** p
                           for i, j in zip(rows, cols, strict=True))
                best = min(best, cost + c**p / 2 * (n + m - 2 * k))
    return float(best ** (1 / p))


def brute_ospa(x: np.ndarray, y: np.ndarray, c: float, p: float) -> float:
    n, m = len(x), len(y)
    if n == 0 and m == 0:
        return 0.0
    small, big = (x, y) if n <= m else (y, x)
    best = min(
        sum(min(float(np.linalg.norm(small[i] - big[j])), c) ** p for i, j in enumerate(perm))
        for perm in itertools.permutations(range(len(big)), len(small))
    )
    return float(((best + c**p * (len(big) - len(small))) / len(big)) ** (1 / p))


def test_gospa_equals_brute_force_on_240_seeded_cases() -> None:
    rng = np.random.default_rng(20240601)
    worst = 0.0
    for _ in range(240):
        n, m = (int(v) for v in rng.integers(0, 5, 2))
        d = int(rng.integers(2, 4))
        c = float(rng.uniform(0.5, 4.0))
        p = float(rng.choice([1.0, 1.5, 2.0, 3.0]))
        x, y = rng.uniform(0, 5, (n, d)), rng.uniform(0, 5, (m, d))
        r = gospa(x, y, c, p)
        worst = max(worst, abs(r.distance - brute_gospa(x, y, c, p)))
        assert r.localisation + r.missed + r.false == pytest.approx(r.distance**p, rel=1e-12)
    assert worst < 1e-9


def test_ospa_equals_brute_force_on_200_seeded_cases() -> None:
    rng = np.random.default_rng(7)
    for _ in range(200):
        n, m = (int(v) for v in rng.integers(0, 5, 2))
        c, p = float(rng.uniform(0.5, 4.0)), float(rng.choice([1.0, 2.0, 3.0]))
        x, y = rng.uniform(0, 5, (n, 3)), rng.uniform(0, 5, (m, 3))
        assert ospa(x, y, c, p) == pytest.approx(brute_ospa(x, y, c, p), abs=1e-9)


def test_hand_example() -> None:
    # truth (0,0); tracks (3,4) at 5 and (100,0) beyond c = 10: one pair, one false track
    r = gospa([[0.0, 0.0]], [[3.0, 4.0], [100.0, 0.0]], c=10.0, p=2)
    assert (r.localisation, r.missed, r.false) == (25.0, 0.0, 50.0)
    assert r.distance == pytest.approx(np.sqrt(75.0))
    assert list(r.assignment) == [0]
    assert ospa([[0.0, 0.0]], [[3.0, 4.0], [100.0, 0.0]], c=10.0, p=1) == 7.5
    assert gospa(np.zeros((0, 3)), np.zeros((0, 3)), c=1.0).distance == 0.0
    assert ospa(np.zeros((0, 3)), np.zeros((0, 3)), c=1.0) == 0.0
    # only misses: sqrt(3 * c^2 / 2)
    assert gospa(np.zeros((3, 3)), np.zeros((0, 3)), c=2.0).distance == pytest.approx(np.sqrt(6))


def _series_case(seed: int, steps: int = 300, most: int = 7):
    rng = np.random.default_rng(seed)
    rows = [(t, rng.uniform(0, 8, (int(rng.integers(0, most)), 3)),
             rng.uniform(0, 8, (int(rng.integers(0, most)), 3))) for t in range(steps)]
    def cat(k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        t = np.concatenate([np.full(len(r[k]), r[0], float) for r in rows])
        lab = np.concatenate([np.arange(len(r[k])) for r in rows])
        return t, lab, np.concatenate([r[k] for r in rows])
    return rows, make_samples(*cat(1)), make_samples(*cat(2))


@pytest.mark.parametrize(("c", "p"), [(1.0, 1.0), (2.0, 2.0), (3.0, 3.0)])
def test_series_equals_per_step_dense_solution(c: float, p: float) -> None:
    # dense clusters: many components with several truths and tracks (scipy and 2x2 paths)
    rows, truth, tracks = _series_case(5)
    s = gospa_series(truth, tracks, c, p)
    present = [r for r in rows if len(r[1]) + len(r[2])]
    ref = np.array([gospa(r[1], r[2], c, p).distance for r in present])
    ref_ospa = np.array([ospa(r[1], r[2], c, p) for r in present])
    assert np.abs(s.distance - ref).max() < 1e-9
    assert np.abs(s.ospa - ref_ospa).max() < 1e-9
    assert s.n_truth.sum() == len(truth) and s.n_tracks.sum() == len(tracks)


def test_switching_hand_example() -> None:
    # one truth, 4 steps; held by track 7, 7, 8, then no track near: a full then a half switch
    t = np.arange(4.0)
    truth = make_samples(t, np.zeros(4, np.int64), np.zeros((4, 3)))
    tracks = make_samples(t, np.array([7, 7, 8, 9]), [[1, 0, 0], [1, 0, 0], [0, 2, 0], [50, 0, 0]])
    s = gospa_series(truth, tracks, c=10.0, p=2, switching_penalty=3.0)
    assert list(s.switches) == [0.0, 0.0, 1.0, 0.5]
    assert list(s.switching) == [0.0, 0.0, 9.0, 4.5]
    assert s.distance[2] == pytest.approx(np.sqrt(4.0 + 9.0))
    assert s.distance[3] == pytest.approx(np.sqrt(50.0 + 50.0 + 4.5))


def test_bad_parameters_and_points() -> None:
    with pytest.raises(ValueError, match="cut-off"):
        gospa([[0.0, 0.0]], [[1.0, 1.0]], c=0.0)
    with pytest.raises(ValueError, match="order"):
        gospa([[0.0, 0.0]], [[1.0, 1.0]], c=1.0, p=0.5)
    with pytest.raises(ValueError, match="non-finite"):
        gospa([[np.nan, 0.0]], [[1.0, 1.0]], c=1.0)
    with pytest.raises(ValueError, match="dimension"):
        gospa([[0.0, 0.0]], [[1.0, 1.0, 1.0]], c=1.0)
