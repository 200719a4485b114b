"""Every decoder and the envelope path under hypothesis: arbitrary bytes and mutations of
real and synthetic inputs never raise anything but a documented, counted refusal (the long
run is ``benchmarks/fuzz.py``)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .targets import Targets, mutate

TARGETS = Targets()
NAMES = sorted(TARGETS.targets)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes(name: str, data: bytes) -> None:
    TARGETS.run(name, data)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_mutated_seeds(name: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    seeds = TARGETS.seeds[name]
    TARGETS.run(name, mutate(seeds[int(rng.integers(len(seeds)))], rng))


def test_seeds_are_accepted_or_counted() -> None:
    """The seeds themselves go through (sanity of the harness: it is not all rejections)."""
    fresh = Targets()
    for name, seeds in fresh.seeds.items():
        for data in seeds:
            fresh.run(name, data)
    assert fresh.accepted == len(fresh.seeds["envelope"])
    assert not fresh.verifier.rejections
    assert not fresh.batch_rejections
    assert fresh.picture.state is not None
