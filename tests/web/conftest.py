"""Fixtures of the web tests: a short simulated run (once per session) and servers on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from airpicture.web.recording import RecordedSource, simulate_recording


@pytest.fixture(scope="session")
def recording() -> RecordedSource:
    """Simulated, tracked per nation and fused: about 25 one-second frames, ~60 tracks."""
    return simulate_recording(40.0)


@pytest.fixture
def fresh(recording: RecordedSource) -> Iterator[RecordedSource]:
    """A source of its own over the session's frames (identity overrides do not leak)."""
    yield RecordedSource(recording.frames, recording.sensors(), position=5)
