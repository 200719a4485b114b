"""Seeded synthetic truth/track cases shared by the metric tests."""

from __future__ import annotations

import dataclasses

import numpy as np

from airpicture.metrics.samples import Samples, make_samples

ORIGIN = np.array([4_000_000.0, 500_000.0, 4_900_000.0])
"""An ECEF point near 50 N, 7 E: cases are small offsets from it."""


@dataclasses.dataclass(frozen=True)
class Case:
    truth: Samples
    tracks: Samples


def random_case(seed: int, steps: int = 30, n_truth: int = 4, spread: float = 120.0,
                noise: float = 12.0) -> Case:
    """Truths on random constant-velocity paths in a small box, each followed for random
    spells by noisy tracks; some tracks jump to another truth; a few false tracks wander."""
    rng = np.random.default_rng(seed)
    times = np.arange(steps, dtype=np.float64)
    t_rows: list[tuple[float, int, np.ndarray, np.ndarray]] = []
    paths = {}
    for j in range(n_truth):
        a = int(rng.integers(0, steps // 3))
        b = int(rng.integers(2 * steps // 3, steps + 1))
        p0 = rng.uniform(-spread, spread, 3)
        v = rng.normal(0.0, 4.0, 3)
        paths[j] = (a, b, p0, v)
        for t in times[a:b]:
            t_rows.append((t, 10 + j, ORIGIN + p0 + v * t, v))
    k_rows: list[tuple[float, int, np.ndarray, np.ndarray]] = []
    label = 100
    for j in range(n_truth):
        a, b, p0, v = paths[j]
        for _ in range(int(rng.integers(0, 3))):
            s = int(rng.integers(a, max(a + 1, b - 3)))
            e = int(rng.integers(s + 1, b + 1))
            other = int(rng.integers(0, n_truth)) if rng.random() < 0.3 else j
            jump = int(rng.integers(s, e + 1))
            for t in times[s:e]:
                swap = t >= jump and paths[other][0] <= t < paths[other][1]
                src = paths[other] if swap else paths[j]
                _, _, q0, w = src
                k_rows.append((t, label, ORIGIN + q0 + w * t + rng.normal(0, noise, 3),
                               w + rng.normal(0, 1.0, 3)))
            label += 1
    for _ in range(int(rng.integers(0, 3))):
        s = int(rng.integers(0, steps - 2))
        e = int(rng.integers(s + 1, steps + 1))
        q0 = rng.uniform(-spread, spread, 3)
        w = rng.normal(0, 4.0, 3)
        for t in times[s:e]:
            k_rows.append((t, label, ORIGIN + q0 + w * t, w))
        label += 1
    return Case(_samples(t_rows, "truth"), _samples(k_rows, "tracks"))


def _samples(rows: list[tuple[float, int, np.ndarray, np.ndarray]], name: str) -> Samples:
    if not rows:
        return make_samples(np.zeros(0), np.zeros(0, np.int64), np.zeros((0, 3)), np.zeros((0, 3)))
    rows = sorted(rows, key=lambda r: (r[0], r[1]))
    return make_samples(
        np.array([r[0] for r in rows]), np.array([r[1] for r in rows], np.int64),
        np.array([r[2] for r in rows]), np.array([r[3] for r in rows]), name=name,
    )
