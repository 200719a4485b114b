"""The COP page's track table with more tracks than it renders rows (panels.js)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.web.pagekit import PAGE_MARKS, Cop, open_page
from tests.web.synth import crowd_source

pytestmark = PAGE_MARKS

TRACKS = 600
ROWS = "() => document.querySelectorAll('#tracks tbody tr').length"


@pytest.fixture(scope="module")
def crowd(browser: Any) -> Iterator[Cop]:
    yield from open_page(browser, crowd_source(TRACKS))


def test_the_table_renders_rows_as_it_is_scrolled(crowd: Cop) -> None:
    """With 600 tracks the table renders 100 rows (STN order) at first; scrolled to the end
    it renders more, up to 400; every row is a track."""
    crowd.settle()
    assert crowd.js("() => window.cop.state.tracks.size") == TRACKS
    crowd.page.wait_for_function(f"({ROWS})() === 100")
    first = crowd.page.locator("#tracks tbody tr td").first.inner_text()
    assert first == "1000"
    counts = []
    for _ in range(12):
        crowd.js("() => { const w = document.querySelector('.tablewrap'); "
                 "w.scrollTop = w.scrollHeight; w.dispatchEvent(new Event('scroll')); }")
        counts.append(crowd.js(ROWS))
    assert counts[0] > 100
    assert counts == sorted(counts)
    assert counts[-1] == 400
    stns = crowd.js("() => [...document.querySelectorAll('#tracks tbody tr')]"
                    ".map((r) => Number(r.cells[0].textContent))")
    assert stns == list(range(1000, 1400))
    assert crowd.errors == []
