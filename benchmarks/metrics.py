"""Benchmark: GOSPA and SIAP over one hour of 10,000 objects at 1 s steps.

Synthetic, seeded: objects fly straight lines over Europe (0.5-12 km altitude, 100-250 m/s);
each has a track with 50 m / 5 m/s noise that drops out in spells, about a tenth of them change
track number once, and 300 false tracks wander. GOSPA (c = 2 km, p = 2, switching penalty
1 km) and SIAP (association threshold 2 km, k = 3, m = 2) run on the whole hour.

Usage::

    .venv/bin/python benchmarks/metrics.py [--objects 10000] [--seconds 3600]

Prints a table of timings and scores, then, last, one JSON line with the figures.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from rich.console import Console
from rich.table import Table

from airpicture import geo
from airpicture.metrics.association import associate
from airpicture.metrics.gospa import gospa_series
from airpicture.metrics.pairs import close_pairs
from airpicture.metrics.samples import Samples, make_samples, time_grid
from airpicture.metrics.siap import siap


def scenario(n_obj: int, seconds: int, seed: int = 7) -> tuple[Samples, Samples]:
    """Truth and track samples, both on the 1 s grid, in (time, label) order."""
    rng = np.random.default_rng(seed)
    llh = np.column_stack([
        np.radians(rng.uniform(44.0, 56.0, n_obj)),
        np.radians(rng.uniform(-2.0, 18.0, n_obj)),
        rng.uniform(500.0, 12_000.0, n_obj),
    ])
    p0 = geo.geodetic2ecef(llh)
    heading = rng.uniform(0.0, 2 * np.pi, n_obj)
    speed = rng.uniform(100.0, 250.0, n_obj)
    enu = np.column_stack([speed * np.sin(heading), speed * np.cos(heading),
                           rng.normal(0.0, 2.0, n_obj)])
    v = geo.enu2ecefv(enu, llh[:, :2])
    t = np.arange(seconds, dtype=np.float64)
    n = seconds * n_obj
    time_col = np.repeat(t, n_obj)
    label = np.tile(np.arange(n_obj, dtype=np.int64), seconds)
    pos = (p0[None, :, :] + t[:, None, None] * v[None, :, :]).reshape(n, 3)
    vel = np.broadcast_to(v, (seconds, n_obj, 3)).reshape(n, 3)
    truth = make_samples(time_col, label, pos, vel, name="truth")

    # tracks: present unless in a dropout spell; some change number at a random time
    present = np.ones((seconds, n_obj), bool)
    n_spells = n_obj // 2
    obj = rng.integers(0, n_obj, n_spells)
    start = rng.integers(0, seconds, n_spells)
    length = rng.integers(5, 60, n_spells)
    for o, s, ln in zip(obj, start, length, strict=True):
        present[s : s + ln, o] = False
    change_at = np.where(rng.random(n_obj) < 0.1, rng.integers(0, seconds, n_obj), seconds)
    ids = np.arange(n_obj)
    track_label = np.where(t[:, None] >= change_at[None, :], n_obj + ids, ids)
    keep = present.reshape(-1)
    k_pos = pos[keep] + rng.normal(0.0, 50.0, (int(keep.sum()), 3))
    k_vel = vel[keep] + rng.normal(0.0, 5.0, (int(keep.sum()), 3))
    k_time = time_col[keep]
    k_label = track_label.reshape(-1)[keep]
    # false tracks
    n_false = 300
    f_llh = np.column_stack([np.radians(rng.uniform(44.0, 56.0, n_false)),
                             np.radians(rng.uniform(-2.0, 18.0, n_false)),
                             rng.uniform(500.0, 12_000.0, n_false)])
    f_p0 = geo.geodetic2ecef(f_llh)
    f_v = geo.enu2ecefv(rng.normal(0.0, 150.0, (n_false, 3)) * [1, 1, 0.01], f_llh[:, :2])
    f_pos = (f_p0[None] + t[:, None, None] * f_v[None]).reshape(-1, 3)
    f_time = np.repeat(t, n_false)
    f_label = np.tile(np.arange(n_false, dtype=np.int64) + 2 * n_obj, seconds)
    f_vel = np.broadcast_to(f_v, (seconds, n_false, 3)).reshape(-1, 3)
    # merge in time order: per second, object tracks then false tracks
    all_time = np.concatenate([k_time, f_time])
    order = np.argsort(all_time, kind="stable")
    tracks = make_samples(
        all_time[order], np.concatenate([k_label, f_label])[order],
        np.concatenate([k_pos, f_pos])[order], np.concatenate([k_vel, f_vel])[order],
        name="tracks",
    )
    return truth, tracks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=3600)
    args = parser.parse_args()
    console = Console()
    timings: dict[str, float] = {}

    t0 = time.perf_counter()
    truth, tracks = scenario(args.objects, args.seconds)
    timings["generate_s"] = time.perf_counter() - t0

    # warm the JIT on a tiny case so compile time is not counted as metric time
    small_truth, small_tracks = scenario(5, 10, seed=1)
    g_small = time_grid(small_truth, small_tracks)
    gospa_series(small_truth, small_tracks, 2000.0, 2.0, 1000.0, grid=g_small)
    a_small = associate(small_truth, small_tracks, 2000.0, grid=g_small)
    siap(small_truth, small_tracks, a_small, g_small)

    t1 = time.perf_counter()
    grid = time_grid(truth, tracks)
    timings["time_grid_s"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    pairs = close_pairs(truth, tracks, grid, 2000.0)
    timings["close_pairs_s"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    g = gospa_series(truth, tracks, c=2000.0, p=2.0, switching_penalty=1000.0, grid=grid,
                     pairs=pairs)
    timings["gospa_s"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    a = associate(truth, tracks, threshold=2000.0, k=3, m=2, grid=grid, pairs=pairs)
    timings["association_s"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    s = siap(truth, tracks, a, grid)
    timings["siap_measures_s"] = time.perf_counter() - t1
    timings["gospa_and_siap_s"] = (
        timings["time_grid_s"] + timings["close_pairs_s"] + timings["gospa_s"]
        + timings["association_s"]
        + timings["siap_measures_s"]
    )

    table = Table(title=f"metrics benchmark: {args.objects} objects x {args.seconds} s")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("truth rows", f"{len(truth):,}")
    table.add_row("track rows", f"{len(tracks):,}")
    for k, val in timings.items():
        table.add_row(k, f"{val:.2f}")
    gs = g.summary()
    table.add_row("GOSPA mean (m)", f"{gs['gospa_mean_m']:.1f}")
    table.add_row("switches", f"{gs['switches_total']:.0f}")
    for k in ("completeness", "ambiguity", "spuriousness", "position_accuracy_m",
              "velocity_accuracy_mps", "track_number_changes_per_object_hour",
              "longest_track_segment"):
        table.add_row(k, f"{s.scores[k]:.4f}")
    console.print(table)
    figures = {
        "objects": args.objects, "seconds": args.seconds, "truth_rows": len(truth),
        "track_rows": len(tracks), **{k: round(v, 3) for k, v in timings.items()},
        "gospa_mean_m": round(gs["gospa_mean_m"], 3),
        **{k: round(v, 6) for k, v in s.scores.items()},
        "under_one_minute": timings["gospa_and_siap_s"] < 60.0,
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
