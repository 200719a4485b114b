"""The COP page's basemap and coverage, drawn by the track layer (shapes.js, basemap.js) under
the tracks through its frame cache, against the API's GeoJSON, in headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from tests.web.pagekit import PAGE_MARKS, Cop, map_pixels, open_page
from tests.web.synth import synthetic_source

pytestmark = PAGE_MARKS

LAND = (34, 50, 64)   # #223240, basemap.js
SEA = (13, 34, 51)    # #0d2233, the map element's background (cop.css)
GRID_PX = 20          # sample spacing, CSS px

UNPROJECT = """(step) => {
  const m = window.cop.map, c = m.getCanvas(), out = [];
  for (let y = step / 2; y < c.clientHeight; y += step) {
    for (let x = step / 2; x < c.clientWidth; x += step) {
      const p = m.unproject([x, y]);
      out.push([x, y, p.lng, p.lat]);
    }
  }
  return out;
}"""


@pytest.fixture(scope="module")
def synth(browser: Any) -> Iterator[Cop]:
    """The page on the small hand-placed picture (tests/web/synth.py), labels off."""
    for c in open_page(browser, synthetic_source()):
        c.page.uncheck("#ly-labels")
        yield c


def _inside(rings: list[NDArray[np.float64]], lon: NDArray[np.float64],
            lat: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Even-odd point-in-polygon of the points (degrees) over all the rings together."""
    odd = np.zeros(lon.shape, dtype=bool)
    for ring in rings:
        a, b = ring[:-1], ring[1:]
        up = (a[:, 1][:, None] <= lat) != (b[:, 1][:, None] <= lat)
        with np.errstate(divide="ignore", invalid="ignore"):  # level edges: never `up`
            t = (lat - a[:, 1][:, None]) / (b[:, 1] - a[:, 1])[:, None]
            x = a[:, 0][:, None] + t * (b[:, 0] - a[:, 0])[:, None]
        odd ^= (np.count_nonzero(up & (lon < x), axis=0) % 2).astype(bool)
    return odd


def _classes(cop: Cop, image: Any, samples: list[list[float]]) -> tuple[NDArray[np.int_], ...]:
    """Per sample: 1 land colour, 0 sea colour, -1 neither (a line, a symbol); and the
    samples' longitudes (wrapped to -180..180) and latitudes."""
    pix = np.array([image.getpixel((round(x), round(y))) for x, y, _, _ in samples])
    near = [np.all(np.abs(pix - np.array(rgb)) <= 3, axis=1) for rgb in (LAND, SEA)]
    seen = np.where(near[0], 1, np.where(near[1], 0, -1))
    lon = (np.array([s[2] for s in samples]) + 180.0) % 360.0 - 180.0
    return seen, lon, np.array([s[3] for s in samples])


@pytest.mark.parametrize(("center", "zoom", "resolution"), [
    ([180.0, 62.0], 3.5, "50m"),     # Chukotka, Kamchatka, Alaska: across the antimeridian
    ([120.0, 5.0], 2.5, "110m"),     # South-East Asia, Australia
])
def test_land_is_drawn_where_the_basemap_has_land(
        synth: Cop, center: list[float], zoom: float, resolution: str) -> None:
    """Sampled every GRID_PX over the map, each pixel shows the land colour inside the API's
    land polygons and the sea colour outside them (lines and symbols aside), on both sides
    of the antimeridian."""
    synth.js("([c, z]) => window.cop.map.jumpTo({ center: c, zoom: z })", [center, zoom])
    synth.settle()
    image, _ = map_pixels(synth, f"basemap-{resolution}.png")
    land = synth.api("/api/basemap/land", resolution=resolution)["features"][0]["geometry"]
    rings = [np.asarray(r, dtype=np.float64) for poly in land["coordinates"] for r in poly]
    seen, lon, lat = _classes(synth, image, synth.js(UNPROJECT, GRID_PX))
    expected = _inside(rings, lon, lat)
    shown = seen >= 0
    assert shown.mean() > 0.85
    agree = (seen[shown] == 1) == expected[shown]
    assert agree.mean() > 0.99, (agree.size - agree.sum(), agree.size)
    for side in (lon > 0, lon < 0) if center[0] == 180.0 else (lon > -999,):
        assert np.count_nonzero(shown & side & expected) > 20   # land drawn on this side
        assert np.count_nonzero(shown & side & ~expected) > 20  # and sea
    assert synth.errors == []


def test_coverage_is_drawn_under_the_tracks_when_shown(synth: Cop) -> None:
    """Showing coverage tints the map inside a sensor's area by a few levels and leaves the
    symbols' pixels as they were; hiding it restores the map exactly."""
    synth.js("() => window.cop.map.jumpTo({ center: [160, 10], zoom: 3 })")  # Japan to Fiji
    synth.settle()
    before, _ = map_pixels(synth, "coverage-off.png")
    synth.page.check("#ly-coverage")
    synth.settle()
    shown, _ = map_pixels(synth, "coverage-on.png")
    synth.page.uncheck("#ly-coverage")
    synth.settle()
    after, _ = map_pixels(synth, "coverage-off-again.png")
    a, b, c = (np.asarray(i, dtype=np.int16) for i in (before, shown, after))
    changed = np.any(a != b, axis=2)
    assert changed.mean() > 0.005                  # two 400-km circles: about 1.4 %
    tint = np.abs(b - a).max(axis=2)[changed]
    assert np.median(tint) <= 12                   # a faint fill (5 %) over most of it
    assert np.array_equal(a, c)
    keys = synth.js("() => [...window.cop.state.tracks.keys()]")
    box = synth.page.locator("#map").bounding_box()
    for key in keys:  # symbols drawn over the coverage: their centre pixels unchanged
        p = synth.js("(k) => window.cop.screenPosition(k)", key)
        x, y = round(p["x"] - box["x"]), round(p["y"] - box["y"])
        if 2 <= x < a.shape[1] - 2 and 2 <= y < a.shape[0] - 2:
            assert np.array_equal(a[y, x], b[y, x]), key
    assert synth.errors == []
