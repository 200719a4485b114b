"""The parallel per-pair kernels give bit for bit the serial result, however the pairs are
cut into chunks (contiguous chunks, each compacting its own survivors, concatenated in
order)."""

from __future__ import annotations

import numpy as np
import pytest

from airpicture.messages import SensorKind
from airpicture.tracking import kernels
from airpicture.tracking.gating import chi2_gate
from airpicture.tracking.kernels.ekf import MIN_CHUNK, chunk_count

from .test_kernels import LAYOUT, MODELS, SOJOURN, _scene

CHUNKS = (1, 2, 3, 7)
"""Chunk counts compared: serial, then uneven cuts whose boundaries fall among survivors."""


@pytest.mark.parametrize("kind", [SensorKind.RADAR, SensorKind.ADSB])
def test_parallel_gate_equals_the_serial_gate_exactly(kind: SensorKind) -> None:
    rng = np.random.default_rng(31)
    x, P, mu, z, R, code, site, rot = _scene(kind, rng, n=40, m=50)
    ti, pj = (a.ravel().astype(np.intp) for a in np.meshgrid(
        np.arange(len(x)), np.arange(len(z)), indexing="ij"))
    dt = rng.uniform(0.5, 10.0, len(ti))
    gates = np.array([chi2_gate(0.9995, k) if k else 0.0 for k in range(7)])
    omegas, qs = np.array([m.omega for m in MODELS]), np.array([m.q for m in MODELS])
    results = [kernels.imm_ekf_gate(LAYOUT[kind], x, P, mu, ti, pj, dt, omegas, qs, SOJOURN,
                                    code, z, R, site, rot, gates, chunks)
               for chunks in CHUNKS]
    serial = results[0]
    assert 20 <= len(serial[0]) <= 0.5 * len(ti)  # survivors in every chunk, and gaps
    for result in results[1:]:
        for got, want in zip(result, serial, strict=True):
            np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("kind", [SensorKind.RADAR, SensorKind.ADSB])
def test_parallel_update_equals_the_serial_update_exactly(kind: SensorKind) -> None:
    rng = np.random.default_rng(32)
    x, P, _, z, R, code, site, rot = _scene(kind, rng, n=60, m=60)
    plot = rng.permutation(60).astype(np.intp)
    results = [kernels.ekf_update(LAYOUT[kind], x, P, plot, code, z, R, site, rot, chunks)
               for chunks in CHUNKS]
    assert results[0][3]
    for result in results[1:]:
        for got, want in zip(result, results[0], strict=True):
            np.testing.assert_array_equal(got, want)


def test_small_inputs_stay_serial() -> None:
    assert chunk_count(0) == chunk_count(2 * MIN_CHUNK - 1) == 1
