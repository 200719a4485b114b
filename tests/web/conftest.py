"""Fixtures of the web tests: a short simulated run (once per session) and servers on it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

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


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium (tests/web/pagekit.py), one for the page tests."""
    from tests.web.pagekit import ARGS, CHROMIUM

    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is a test extra")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()
