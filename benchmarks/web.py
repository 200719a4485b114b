"""COP page benchmark: N system tracks updating at 1 Hz, served to headless Chromium.

    .venv/bin/python benchmarks/web.py [--tracks 10000] [--seconds 20] [--period 1.0] [--direct]

A synthetic :class:`~airpicture.web.source.PictureSource` moves ``--tracks`` system tracks
(straight ECEF lines, 150 to 250 m/s, spread over the Western Pacific across the
antimeridian) and swaps in a new snapshot every ``--period`` seconds from its own thread;
the state is propagated vectorised, then one ``SystemTrack`` per track is built (what a node
hands the server). The COP server (:func:`airpicture.web.start_server`) runs in this
process; Debian's Chromium (never a downloaded browser; software GL, SwiftShader) opens the
page with its default layers (symbols from the page's custom WebGL layer; 2-sigma ellipses,
leaders and trails for the tracks in view when few enough are; labels likewise).

Measured after the page has applied its first updates, in two phases of ``--seconds`` each:

- ``fps``: ``requestAnimationFrame`` callbacks per second in the page while updates arrive
  **and the map pans and zooms every frame** (a small circle in position, a slow zoom
  oscillation), so MapLibre re-renders every frame: the figure the 30 fps goal is about.
  ``frame_p95_ms``/``frame_max_ms`` are the frame intervals, ``rendered_fps`` the map's own
  render passes per second (the layer counts them: it equals ``fps`` when every frame
  rendered), ``long_frames`` intervals over 50 ms. ``fresh_fps`` is how many of those frames
  per second the track layer drew afresh rather than from its frame cache (framecache.js),
  ``fresh_reasons`` why (counts over the phase).
- ``fps_still``: the same while the map stands still (it renders only when an update arrives);
  ``rendered_fps_still`` its render passes, ``browser_cpu_ms_per_frame_still`` the browser's
  CPU per render pass there (a picture update's whole cost: decoding, panels, drawing).
- ``fps_map_only``, ``browser_cpu_ms_per_frame_map_only``: moving again (at most 10 s) with
  the symbols taken out of the track layer (the updates' moves then find none): what the map
  itself (land, coast, borders, drawn by the same layer through its frame cache; the sea is
  the page's background) costs, so the tracks' share of a frame is the difference.
- ``browser_cpu_ms_per_frame``: CPU time of all Chromium processes (utime + stime from
  ``/proc``, every thread, SwiftShader's included) per rendered frame in the moving phase:
  the cost of a frame independent of how busy the machine is.
- ``load_1min``: ``os.getloadavg()`` before and after (the machine is shared); on a loaded
  machine compare runs by ``browser_cpu_ms_per_frame`` (``browser_cpu_cores`` is the share of
  the CPUs the browser got).
- ``--direct``: the track layer without its frame cache (every frame drawn afresh), to compare.
- ``ws_bytes_per_s``: WebSocket payload bytes received by the page (Playwright frame
  events), and ``ws_messages``. A page that falls behind receives fewer deltas (the server
  sends the newest picture when the socket is free), so ``ws_bytes_per_s_nominal`` is the
  mean delta size times the update rate: what a page keeping up would receive.
- ``server_cpu_ms_per_update``: CPU time of the server's event-loop thread per picture
  update (views, delta, JSON), from its thread CPU clock; ``source_cpu_ms_per_update`` is
  the synthetic source's own time to build a snapshot (not the server's).

Prints a summary table (still, panning, panning without tracks), a table of every measure,
then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from airpicture import geo
from airpicture.messages import (
    Identity,
    IdentityOverride,
    SensorInfo,
    SensorKind,
    SystemTrack,
    TrackStatus,
)
from airpicture.web import IdentityBook, IdentityChange, PictureSnapshot, start_server

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync",
        "--use-gl=swiftshader", "--enable-unsafe-swiftshader"]
T0 = 1_780_272_000.0
GOAL_FPS = 30.0
HISTORY = 4  # snapshots kept for replay and trails (the page asks for trails on load)

COUNT_FRAMES = """async ([seconds, move]) => {
  const cop = window.cop, map = cop.map;
  const applied0 = cop.applied, rendered0 = cop.layer.frames, fresh0 = cop.layer.fresh;
  const reasons0 = { ...cop.layer.redraws };
  const times = [];
  const start = performance.now();
  const c0 = map.getCenter(), z0 = map.getZoom();
  await new Promise((resolve) => {
    function tick(now) {
      times.push(now);
      if (move) {  // a circle of 0.5 degrees every 4 s, zoom +-0.25 every 6 s
        const a = (now - start) / 4000 * 2 * Math.PI, b = (now - start) / 6000 * 2 * Math.PI;
        map.jumpTo({ center: [c0.lng + 0.5 * Math.cos(a), c0.lat + 0.5 * Math.sin(a)],
                     zoom: z0 + 0.25 * Math.sin(b) });
      }
      if (now - start >= seconds * 1000) resolve(); else requestAnimationFrame(tick);
    }
    requestAnimationFrame(tick);
  });
  if (move) map.jumpTo({ center: c0, zoom: z0 });
  const dt = [];
  for (let i = 1; i < times.length; i++) dt.push(times[i] - times[i - 1]);
  dt.sort((a, b) => a - b);
  const span = (times[times.length - 1] - times[0]) / 1000;
  return { frames: times.length - 1, seconds: span, fps: (times.length - 1) / span,
           p95: dt[Math.floor(dt.length * 0.95)] || 0, max: dt[dt.length - 1] || 0,
           long: dt.filter((x) => x > 50).length, applied: cop.applied - applied0,
           rendered: cop.layer.frames - rendered0, fresh: cop.layer.fresh - fresh0,
           reasons: Object.fromEntries(Object.entries(cop.layer.redraws)
             .map(([k, v]) => [k, v - (reasons0[k] || 0)]).filter(([, v]) => v > 0)) };
}"""


class MovingSource:
    """``n`` system tracks on straight lines, a new snapshot every ``period_s`` (a thread)."""

    def __init__(self, n: int, period_s: float, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        llh = np.column_stack([np.radians(rng.uniform(-10.0, 45.0, n)),
                               np.radians(rng.uniform(100.0, 200.0, n)),
                               rng.uniform(500.0, 12_500.0, n)])
        speed, heading = rng.uniform(150.0, 250.0, n), rng.uniform(0.0, 2 * np.pi, n)
        enu = np.column_stack([speed * np.sin(heading), speed * np.cos(heading),
                               rng.normal(0.0, 2.0, n)])
        self.x0 = geo.geodetic2ecef(llh)
        self.v = geo.enu2ecefv(enu, llh[:, :2])
        self.stn = np.arange(1000, 1000 + n)
        sig = rng.uniform(100.0, 600.0, n)
        # one covariance list per sigma bucket: the structs share them (never mutated)
        self._covs = [np.diag([s**2, s**2, (s / 2) ** 2, 25.0, 25.0, 4.0]).ravel().tolist()
                      for s in np.linspace(100.0, 600.0, 16)]
        self._cov_of = np.digitize(sig, np.linspace(100.0, 600.0, 16)[1:]).tolist()
        kinds = [i for i in Identity if i is not Identity.HOSTILE]
        self._ident = [kinds[j] for j in rng.integers(0, len(kinds), n).tolist()]
        self._callsign = [f"BM{i:05d}" if i % 3 else None for i in range(n)]
        self._icao = [0x7C0000 + i if i % 3 else None for i in range(n)]
        self.period_s = period_s
        self.book = IdentityBook()
        self._lock = threading.Lock()
        self._frames: list[PictureSnapshot] = []
        self._k = 0
        self.build_cpu_s = 0.0
        self.builds = 0
        self._stop = threading.Event()
        self._sensors = [SensorInfo(id="BM-R-1", nation="JPN", kind=SensorKind.RADAR,
                                    lat_deg=35.5, lon_deg=139.8, alt_m=50.0,
                                    max_range_m=400e3, period_s=5.0)]
        self._step()
        self._thread = threading.Thread(target=self._run, name="bench-source", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5.0)

    def _build(self, k: int) -> PictureSnapshot:
        t = T0 + k * self.period_s
        x = self.x0 + self.v * (k * self.period_s)
        states = np.hstack([x, self.v]).tolist()
        ident, covs, cov_of = self._ident, self._covs, self._cov_of
        calls, icaos = self._callsign, self._icao
        tracks = [SystemTrack(stn=s, time=t, state=states[i], covariance=covs[cov_of[i]],
                              status=TrackStatus.CONFIRMED, quality=0.9,
                              identity=ident[i], nations=["JPN"],
                              callsign=calls[i], icao=icaos[i])
                  for i, s in enumerate(self.stn.tolist())]
        return PictureSnapshot(epoch=round(t), time=t, hash=f"bench{k}", tracks=tracks)

    def _step(self) -> None:
        c0 = time.thread_time()
        snap = self._build(self._k)
        with self._lock:
            self._frames = [*self._frames[-(HISTORY - 1):], snap]
            self._k += 1
        self.build_cpu_s += time.thread_time() - c0
        self.builds += 1

    def _run(self) -> None:
        nxt = time.monotonic() + self.period_s
        while not self._stop.wait(max(nxt - time.monotonic(), 0.0)):
            nxt += self.period_s
            self._step()

    # -- PictureSource -------------------------------------------------------------------

    def snapshot(self) -> PictureSnapshot | None:
        with self._lock:
            return self._frames[-1]

    def sensors(self) -> Sequence[SensorInfo]:
        return self._sensors

    def history(self) -> Sequence[float]:
        with self._lock:
            return [f.time for f in self._frames]

    def snapshot_at(self, time_s: float) -> PictureSnapshot | None:
        with self._lock:
            older = [f for f in self._frames if f.time <= time_s]
        return older[-1] if older else None

    def identity_history(self, stn: int) -> Sequence[IdentityChange]:
        return self.book.history(stn)

    def apply_identity(self, override: IdentityOverride) -> None:
        self.book.record(override)


def _thread_cpu(thread: threading.Thread) -> float:
    assert thread.ident is not None
    return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))


def _chromium_cpu_s() -> float:
    """CPU seconds (user + system) of every Chromium process descending from this one."""
    parent: dict[int, int] = {}
    ticks: dict[int, int] = {}
    names: dict[int, str] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        name_end = stat.rindex(")")
        fields = stat[name_end + 2:].split()
        pid = int(entry.name)
        names[pid] = stat[stat.index("(") + 1:name_end]
        parent[pid] = int(fields[1])
        ticks[pid] = int(fields[11]) + int(fields[12])  # utime, stime
    me, total = os.getpid(), 0
    for pid, name in names.items():
        p = pid
        while p > 1 and p != me:
            p = parent.get(p, 0)
        if p == me and "chrom" in name:
            total += ticks[pid]
    return total / os.sysconf("SC_CLK_TCK")


def run(n: int, seconds: float, period_s: float, direct: bool = False) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    source = MovingSource(n, period_s)
    server = start_server(source, "127.0.0.1", 0)
    source.start()
    ws = {"bytes": 0, "messages": 0}

    def on_frame(payload: str | bytes) -> None:
        ws["bytes"] += len(payload.encode() if isinstance(payload, str) else payload)
        ws["messages"] += 1

    errors: list[str] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 850})
            page.set_default_timeout(120_000)
            page.on("websocket", lambda w: w.on("framereceived", on_frame))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            t_load = time.perf_counter()
            page.goto(server.url)
            page.wait_for_function("window.cop && window.cop.ready")
            load_s = time.perf_counter() - t_load
            page.wait_for_function("window.cop.applied >= 3")  # a few deltas in
            shown = page.evaluate("() => window.cop.state.tracks.size")
            if direct:
                page.evaluate("() => { window.cop.layer.useCache = false; }")

            load0 = os.getloadavg()[0]
            ws["bytes"] = ws["messages"] = 0
            cpu0, builds0, build0 = _thread_cpu(server.thread), source.builds, source.build_cpu_s
            browser0 = _chromium_cpu_s()
            t0 = time.perf_counter()
            moving = page.evaluate(COUNT_FRAMES, [seconds, True])
            wall = time.perf_counter() - t0
            browser_cpu = _chromium_cpu_s() - browser0
            cpu = _thread_cpu(server.thread) - cpu0
            updates = max(source.builds - builds0, 1)
            build = source.build_cpu_s - build0
            ws_bytes, ws_messages = ws["bytes"], ws["messages"]
            browser0 = _chromium_cpu_s()
            still = page.evaluate(COUNT_FRAMES, [seconds, False])
            still_cpu = _chromium_cpu_s() - browser0
            page.evaluate("() => { window.cop.layer.tracks.clear(); "
                          "window.cop.map.triggerRepaint(); }")
            browser0 = _chromium_cpu_s()
            bare = page.evaluate(COUNT_FRAMES, [min(seconds, 10.0), True])
            bare_cpu = _chromium_cpu_s() - browser0
            load1 = os.getloadavg()[0]
            browser.close()
    finally:
        source.stop()
        server.stop()
    return {
        "tracks": n, "shown": shown, "seconds": round(wall, 1), "period_s": period_s,
        "page_load_s": load_s,
        "fps": moving["fps"], "frame_p95_ms": moving["p95"], "frame_max_ms": moving["max"],
        "rendered_fps": moving["rendered"] / moving["seconds"],
        "fresh_fps": moving["fresh"] / moving["seconds"], "fresh_reasons": moving["reasons"],
        "frame_cache": not direct,
        "long_frames": moving["long"], "updates_applied": moving["applied"],
        "browser_cpu_ms_per_frame": 1e3 * browser_cpu / max(moving["rendered"], 1),
        "browser_cpu_cores": browser_cpu / wall,
        "fps_still": still["fps"], "frame_p95_ms_still": still["p95"],
        "rendered_fps_still": still["rendered"] / still["seconds"],
        "browser_cpu_ms_per_frame_still": 1e3 * still_cpu / max(still["rendered"], 1),
        "fps_map_only": bare["fps"],
        "browser_cpu_ms_per_frame_map_only": 1e3 * bare_cpu / max(bare["frames"], 1),
        "ws_bytes_per_s": ws_bytes / wall, "ws_messages": ws_messages,
        "ws_bytes_per_update": ws_bytes / max(ws_messages, 1),
        "ws_bytes_per_s_nominal": ws_bytes / max(ws_messages, 1) / period_s,
        "server_cpu_ms_per_update": 1e3 * cpu / updates,
        "source_cpu_ms_per_update": 1e3 * build / updates,
        "page_errors": len(errors), "cpus": os.cpu_count(),
        "load_1min": [round(load0, 2), round(load1, 2)],
        "goal_30fps_met": moving["fps"] >= GOAL_FPS,
    }


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tracks", type=int, default=10_000)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--period", type=float, default=1.0, help="seconds between updates")
    ap.add_argument("--direct", action="store_true",
                    help="track layer without its frame cache (every frame drawn afresh)")
    args = ap.parse_args(argv)
    if not CHROMIUM.exists():
        print(f"benchmarks/web.py needs Debian's chromium at {CHROMIUM}", file=sys.stderr)
        return 2
    results = run(args.tracks, args.seconds, args.period, args.direct)
    r = results
    summary = Table(title=f"airpicture COP page: {args.tracks:,} tracks at "
                          f"{1 / args.period:g} Hz, headless Chromium (SwiftShader), "
                          f"load {r['load_1min'][0]:g} on {r['cpus']} CPUs")
    for column in ("map", "fps", "frame p95 ms", "rendered fps", "browser CPU ms / frame"):
        summary.add_column(column, justify="left" if column == "map" else "right")
    summary.add_row("still (draws on each update)", f"{r['fps_still']:.1f}",
                    f"{r['frame_p95_ms_still']:.1f}", f"{r['rendered_fps_still']:.1f}",
                    f"{r['browser_cpu_ms_per_frame_still']:.1f}")
    summary.add_row("panning and zooming", f"{r['fps']:.1f}", f"{r['frame_p95_ms']:.1f}",
                    f"{r['rendered_fps']:.1f}", f"{r['browser_cpu_ms_per_frame']:.1f}")
    summary.add_row("panning, tracks hidden", f"{r['fps_map_only']:.1f}", "", "",
                    f"{r['browser_cpu_ms_per_frame_map_only']:.1f}")
    table = Table(title="all measures")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in results.items():
        table.add_row(key, f"{value:,.1f}" if isinstance(value, float) else str(value))
    console = Console()
    console.print(summary)
    console.print(table)
    print(json.dumps(results, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
