"""The COP page in headless Chromium (Debian's, never a downloaded browser), driven by
Playwright against a server on 127.0.0.1 fed by a short simulated run."""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import ImageChops

from airpicture.web.recording import RecordedSource
from tests.web.pagekit import (
    ARTIFACTS,
    CHROMIUM,
    FILL,
    PAGE_MARKS,
    Cop,
    fill_share,
    map_pixels,
    open_page,
)
from tests.web.synth import synthetic_source

pytestmark = PAGE_MARKS


@pytest.fixture(scope="module")
def cop(browser: Any, recording: RecordedSource) -> Iterator[Cop]:
    source = RecordedSource(recording.frames, recording.sensors(), position=10)
    yield from open_page(browser, source)


def test_page_loads_and_shows_every_track_as_a_symbol(cop: Cop) -> None:
    cop.settle()
    assert cop.errors == []
    assert cop.js("() => !!document.querySelector('#map canvas').getContext('webgl2') "
                  "|| !!document.querySelector('#map canvas')")
    tracks = cop.api("/api/tracks")["tracks"]
    assert len(tracks) >= 30
    assert cop.js("() => window.cop.visibleCount()") == len(tracks)
    assert sorted(cop.js("() => window.cop.visibleKeys()")) == sorted(t["key"] for t in tracks)
    rows = cop.page.locator("#tracks tbody tr").count()
    assert rows == len(tracks)
    assert cop.page.locator("#st-tracks").inner_text() == str(len(tracks))


def test_nation_toggle_shows_what_that_nation_alone_sees(cop: Cop) -> None:
    shared = cop.js("() => window.cop.visibleCount()")
    counts = {}
    for nation in cop.api("/api/status")["nations"]:
        own = cop.api("/api/tracks", view=nation)["tracks"]
        applied = cop.js("() => window.cop.applied")
        cop.page.click(f"#views button[data-view='{nation}']")
        cop.page.wait_for_function(f"window.cop.state.view === '{nation}' && "
                                   f"window.cop.state.head && window.cop.state.head.view === "
                                   f"'{nation}'")
        cop.settle(applied)
        counts[nation] = cop.js("() => window.cop.visibleCount()")
        assert counts[nation] == len(own), nation
        assert sorted(cop.js("() => window.cop.visibleKeys()")) == sorted(t["key"] for t in own)
    assert all(n < shared for n in counts.values())
    applied = cop.js("() => window.cop.applied")
    cop.page.click("#views button[data-view='picture']")
    cop.page.wait_for_function("window.cop.state.head.view === 'picture'")
    cop.settle(applied)
    assert cop.js("() => window.cop.visibleCount()") == shared


def _isolated_key(cop: Cop) -> str:
    """A fused track whose symbol is far from every other (so a click cannot miss)."""
    pos = cop.js("""() => Object.fromEntries([...window.cop.state.tracks.keys()]
                     .map(k => [k, window.cop.screenPosition(k)]))""")
    width, height = 1000, 810
    best, best_d = "", -1.0
    detail = {t["key"]: t for t in cop.api("/api/tracks")["tracks"]}
    for k, p in pos.items():
        if not (60 < p["x"] < width - 60 and 80 < p["y"] < height - 60):
            continue
        if not detail[k].get("nations"):
            continue
        d = min((math.dist((p["x"], p["y"]), (q["x"], q["y"])) for j, q in pos.items()
                 if j != k), default=1e9)
        if d > best_d:
            best, best_d = k, d
    assert best_d > 20, "no track far enough from the others to click"
    return best


def test_clicking_a_track_opens_its_provenance(cop: Cop) -> None:
    key = _isolated_key(cop)
    p = cop.js("(k) => window.cop.screenPosition(k)", key)
    cop.page.mouse.click(p["x"], p["y"])
    cop.page.wait_for_function(f"window.cop.state.selected === '{key}'")
    stn = int(key[1:])
    detail = cop.api(f"/api/tracks/{stn}")
    cop.page.wait_for_selector("#detail:not(.hidden) .contrib")
    text = cop.page.locator("#detail").inner_text()
    assert f"STN {stn}" in text
    assert "Provenance" in text
    for c in detail["contributors"]:
        assert c["nation"] in text
        for s in c.get("sensors", []):
            assert s["id"] in text


def test_a_websocket_update_moves_a_symbol(cop: Cop) -> None:
    key = cop.js("() => window.cop.state.selected")
    before = cop.js("(k) => window.cop.renderedPosition(k)", key)
    applied = cop.js("() => window.cop.applied")
    assert cop.source.advance(5)
    cop.settle(applied)
    after = cop.js("(k) => window.cop.renderedPosition(k)", key)
    api = next(t for t in cop.api("/api/tracks")["tracks"] if t["key"] == key)
    assert after != before
    assert after[0] == pytest.approx(api["lon"], abs=0.01)
    assert after[1] == pytest.approx(api["lat"], abs=0.01)
    assert cop.page.locator("#st-epoch").inner_text() == str(cop.api("/api/status")["epoch"])


def test_an_identity_set_in_the_page_reaches_the_api(cop: Cop) -> None:
    key = cop.js("() => window.cop.state.selected")
    stn = int(key[1:])
    assert cop.api(f"/api/tracks/{stn}")["view"]["identity"] != "hostile"
    cop.page.select_option("#d-identity", "hostile")
    cop.page.fill("#d-operator", "watch-1")
    cop.page.fill("#d-reason", "test decision")
    # a picture update re-renders the panel before the operator clicks: the choice stays
    loaded = cop.js("() => window.cop.panelsLoaded")
    assert cop.source.advance()
    cop.page.wait_for_function(f"window.cop.panelsLoaded > {loaded}")
    assert cop.page.input_value("#d-identity") == "hostile"
    cop.page.click("#d-set")
    cop.page.wait_for_selector("#d-msg:has-text('hostile recorded')")
    detail = cop.api(f"/api/tracks/{stn}")
    assert detail["view"]["identity"] == "hostile"
    assert detail["identity_history"][-1]["operator"] == "watch-1"
    assert cop.source.overrides[-1].stn == stn
    cop.page.wait_for_function(
        f"window.cop.state.tracks.get('{key}').identity === 'hostile'")
    cop.page.wait_for_selector("#detail .hist:has-text('watch-1')")
    # a few more identities, so the screenshot shows the frames and colours
    for t, identity in zip(cop.api("/api/tracks")["tracks"][:12],
                           ["friend", "neutral", "suspect", "assumed_friend", "unknown"] * 3,
                           strict=False):
        if t["stn"] != stn:
            httpx.post(f"{cop.server.url}/api/tracks/{t['stn']}/identity",
                       json={"identity": identity, "operator": "watch-1"}).raise_for_status()
    cop.page.check("#ly-coverage")
    cop.page.wait_for_function(
        "[...window.cop.state.tracks.values()].filter(t => t.identity === 'friend').length > 0")
    cop.settle()
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "cop.png"
    cop.page.screenshot(path=str(shot))
    assert shot.stat().st_size > 50_000
    assert cop.errors == []


def test_compact_deltas_keep_the_page_equal_to_the_api(cop: Cop) -> None:
    """After several binary deltas (moves, identity rows, tracks coming and going) the
    page holds exactly what the API serves, and draws it there."""
    for _ in range(3):
        assert cop.source.advance()
        epoch = cop.api("/api/status")["epoch"]
        cop.page.wait_for_function(f"window.cop.state.head.epoch === {epoch}")
    cop.settle()
    api = {t["key"]: t for t in cop.api("/api/tracks")["tracks"]}
    page = cop.js("() => JSON.parse(JSON.stringify([...window.cop.state.tracks.values()]))")
    assert {t["key"]: t for t in page} == api
    assert cop.js("() => window.cop.state.head.format") == "compact"
    assert sorted(cop.js("() => window.cop.visibleKeys()")) == sorted(api)
    for key in list(api)[:5]:
        lon, lat = cop.js("(k) => window.cop.renderedPosition(k)", key)
        assert (lon - api[key]["lon"] + 180) % 360 - 180 == pytest.approx(0, abs=1e-4)
        assert lat == pytest.approx(api[key]["lat"], abs=1e-4)  # float32 mercator
    assert cop.errors == []


def test_time_slider_replays_the_recording(cop: Cop) -> None:
    times = cop.api("/api/history")["times"]
    assert len(times) == cop.source.position + 1
    cop.page.locator("#slider").evaluate(
        "(el) => { el.value = 0; el.dispatchEvent(new Event('input')); }")
    cop.page.wait_for_function("document.querySelector('#mode').textContent === 'REPLAY'")
    old = cop.api("/api/replay", time=times[0])
    cop.page.wait_for_function(
        f"window.cop.state.head && window.cop.state.head.time === {old['time']}")
    cop.settle()
    assert cop.js("() => window.cop.visibleCount()") == len(old["tracks"])
    cop.page.click("#live")
    cop.page.wait_for_function("document.querySelector('#mode').textContent === 'LIVE'")
    assert cop.errors == []
    assert shutil.which("chromium") or CHROMIUM.exists()


def test_symbols_are_drawn_in_their_identity_colours(cop: Cop) -> None:
    """The layer's pixels: at each isolated track's position, its identity's fill colour."""
    cop.js("() => { window.cop.select(null); }")
    cop.page.uncheck("#ly-labels")  # a neighbour's label could cover a symbol
    cop.settle()
    pos = cop.js("""() => Object.fromEntries([...window.cop.state.tracks.keys()]
                     .map(k => [k, window.cop.screenPosition(k)]))""")
    box = cop.page.locator("#map").bounding_box()
    isolated = [k for k, p in pos.items()
                if 20 < p["x"] - box["x"] < box["width"] - 20
                and 20 < p["y"] - box["y"] < box["height"] - 20
                and min(math.dist((p["x"], p["y"]), (q["x"], q["y"]))
                        for j, q in pos.items() if j != k) > 26]
    assert len(isolated) >= 4
    wanted = dict(zip(isolated, ["friend", "neutral", "hostile", "unknown"] * 8, strict=False))
    for key, identity in wanted.items():
        httpx.post(f"{cop.server.url}/api/tracks/{key[1:]}/identity",
                   json={"identity": identity, "operator": "watch-2"}).raise_for_status()
    cop.page.wait_for_function("(w) => Object.entries(w).every(([k, i]) => "
                               "window.cop.state.tracks.get(k).identity === i)", arg=wanted)
    cop.settle()
    image, box = map_pixels(cop)
    for key, identity in wanted.items():
        p = cop.js("(k) => window.cop.screenPosition(k)", key)
        x, y = p["x"] - box["x"], p["y"] - box["y"]
        assert fill_share(image, x, y, FILL[identity]) > 0.8, (key, identity)
        for other in set(FILL.values()) - {FILL[identity]}:
            assert fill_share(image, x, y, other) == 0.0, (key, identity, other)
    blank = fill_share(image, 3, box["height"] / 2, FILL["pending"], half=2)
    assert blank == 0.0
    cop.page.check("#ly-labels")


def test_the_frame_cache_draws_what_a_fresh_frame_draws(cop: Cop) -> None:
    """At rest, the map drawn through the track layer's frame cache (a texture drawn over
    the map) is the map drawn directly, within rounding: symbols, ellipses, trails."""
    cop.page.uncheck("#ly-labels")
    try:
        cop.settle()
        assert cop.js("() => window.cop.layer.exact && !!window.cop.layer.frame")
        cached, _ = map_pixels(cop, "map-cached.png")
        cop.js("() => { window.cop.layer.useCache = false; }")
        cop.settle()
        assert cop.js("() => window.cop.layer.frame") is None
        direct, _ = map_pixels(cop, "map-direct.png")
    finally:
        cop.js("() => { window.cop.layer.useCache = true; }")
        cop.page.check("#ly-labels")
    diff = ImageChops.difference(cached, direct).convert("L")
    histogram = diff.histogram()
    assert sum(histogram[4:]) <= 0.001 * cached.width * cached.height, histogram[:16]
    assert cop.errors == []


FRAME_SHOWN = """(move) => new Promise((resolve) => {
  const c = window.cop, fresh = c.layer.fresh;
  c.map.once("render", () => resolve({ exact: c.layer.exact, fresh: c.layer.fresh - fresh }));
  if (move === "pan") c.map.panBy([37.3, -21.6], { animate: false });
  else c.map.zoomTo(c.map.getZoom() + 0.08, { animate: false });
})"""


def test_a_pan_or_zoom_drawn_from_the_frame_cache_keeps_every_symbol_in_place(cop: Cop) -> None:
    """A pan, then a small zoom, each drawn from the frame cache (no fresh frame): every
    isolated symbol's fill colour (as drawn at rest) is at its new screen position; at rest
    the layer draws an exact frame again."""
    cop.page.uncheck("#ly-labels")
    cop.js("() => { window.cop.select(null); window.cop.layer.settleMs = 1e9; }")
    try:
        cop.settle()
        box = cop.page.locator("#map").bounding_box()
        pos = cop.js("""() => Object.fromEntries([...window.cop.state.tracks.keys()]
                         .map(k => [k, window.cop.screenPosition(k)]))""")
        isolated = [k for k, p in pos.items()
                    if 60 < p["x"] - box["x"] < box["width"] - 60
                    and 60 < p["y"] - box["y"] < box["height"] - 60
                    and min(math.dist((p["x"], p["y"]), (q["x"], q["y"]))
                            for j, q in pos.items() if j != k) > 26]
        rest, box = map_pixels(cop, "map-rest.png")
        colour: dict[str, tuple[int, int, int]] = {}
        for key in isolated:  # each symbol's fill colour at rest, where its centre is uniform
            x, y = pos[key]["x"] - box["x"], pos[key]["y"] - box["y"]
            c = rest.getpixel((round(x), round(y)))
            assert isinstance(c, tuple)
            rgb = (int(c[0]), int(c[1]), int(c[2]))
            if fill_share(rest, x, y, rgb, half=3) > 0.8:
                colour[key] = rgb
        assert len(colour) >= 4
        for move in ("pan", "zoom"):
            shown = cop.js(FRAME_SHOWN, move)
            assert shown == {"exact": False, "fresh": 0}, move
            image, box = map_pixels(cop, f"map-{move}.png")
            for key, rgb in colour.items():
                p = cop.js("(k) => window.cop.screenPosition(k)", key)
                x, y = p["x"] - box["x"], p["y"] - box["y"]
                assert fill_share(image, x, y, rgb, half=3) > 0.8, (move, key)
        fresh = cop.js("() => window.cop.layer.fresh")
    finally:
        cop.js("() => { window.cop.layer.settleMs = 300; }")
        cop.page.check("#ly-labels")
    cop.settle()
    assert cop.js("() => window.cop.layer.exact")
    assert cop.js("() => window.cop.layer.fresh") > fresh
    assert cop.errors == []


@pytest.fixture(scope="module")
def synth(browser: Any) -> Iterator[Cop]:
    """The page on the small hand-placed picture (tests/web/synth.py)."""
    yield from open_page(browser, synthetic_source())


def test_tracks_across_the_antimeridian_are_drawn_side_by_side(synth: Cop) -> None:
    """Tracks at 179.5 E and 179.5 W sit one degree apart on the screen (not a world
    apart), are drawn there, and a click on the western one selects it."""
    c = synth
    c.js("() => window.cop.map.jumpTo({ center: [180, 2.5], zoom: 5 })")
    c.settle()
    east, west = (c.js("(k) => window.cop.screenPosition(k)", k) for k in ("S101", "S102"))
    per_degree = 512 * 2**5 / 360  # Web Mercator pixels per degree of longitude at zoom 5
    assert west["x"] - east["x"] == pytest.approx(per_degree, abs=1.5)
    image, box = map_pixels(c)
    for p in (east, west):
        assert fill_share(image, p["x"] - box["x"], p["y"] - box["y"], FILL["pending"]) > 0.8
    assert c.js("() => window.cop.visibleCount()") >= 2
    c.page.mouse.click(west["x"], west["y"])
    c.page.wait_for_function("window.cop.state.selected === 'S102'")
    assert c.errors == []


ELLIPSE_VERTICES = """(key) => {
  const L = window.cop.layer, g = L.lines, out = [];
  const i0 = L.tracks.index.get(key), x0 = L.tracks.data[3 * i0], y0 = L.tracks.data[3 * i0 + 1];
  for (let i = 0; i < g.n; i++) {
    const x = g.f32[3 * i], y = g.f32[3 * i + 1];
    if (g.u8[12 * i + 11] === 115 && Math.abs(x - x0) < 1e-3 && Math.abs(y - y0) < 1e-3) {
      out.push([x - x0, y - y0]);
    }
  }
  return out;
}"""


@pytest.mark.parametrize("key", ["S101", "S102", "S105"])
def test_ellipse_geometry_matches_the_api_2_sigma_axes(synth: Cop, key: str) -> None:
    """The layer's ellipse outline around a track, turned back into metres east and north,
    has the API's semi-axes (longest and shortest radius) and orientation (of the longest)."""
    synth.settle()
    track = next(t for t in synth.api("/api/tracks")["tracks"] if t["key"] == key)
    a, b, bearing = track["ell"]
    metres = 2 * math.pi * 6378137.0 * math.cos(math.radians(track["lat"]))  # per mercator unit
    ring = [(dx * metres, -dy * metres) for dx, dy in synth.js(ELLIPSE_VERTICES, key)]
    assert len(ring) == 64  # 32 segments, two vertices each
    radii = [math.hypot(e, n) for e, n in ring]
    assert max(radii) == pytest.approx(a, rel=0.01)
    assert min(radii) == pytest.approx(b, rel=0.01)
    e, n = ring[radii.index(max(radii))]
    along = math.degrees(math.atan2(e, n)) - bearing
    assert (along + 90) % 180 - 90 == pytest.approx(0, abs=1.0)
