"""Our tracker against Stone Soup's EKF + GNN on the identical scenario and plots.

One 10 s radar (PD 0.95, 10 clutter plots per scan, no range-rate) sees ``--targets``
straight-flying targets (the scene of ``benchmarks/tracker.py``) for ``--scans`` revolutions.
Both trackers get the same plots in the same 1 s batches:

* ours: :class:`airpicture.tracking.Tracker` with a CV model (``--imm`` for the 3-model IMM),
  EKF, GNN, 3-of-``--confirm-n`` confirmation (default 5: the M-of-N closest to Stone Soup's
  initiator, which confirms at the third point and keeps a tentative track 3.5 revisits
  without one, so hit-miss-hit-miss-hit confirms; the tracker's own default, 3-of-4, deletes
  that track at its second miss and starts again a scan later);
* Stone Soup 1.9: ``MultiTargetTracker`` with a constant-velocity ``ExtendedKalmanPredictor``,
  ``ExtendedKalmanUpdater`` on ``CartesianToElevationBearingRange``, a Mahalanobis
  ``DistanceHypothesiser`` with the same chi-square gate, GNN by 2-D assignment, a
  ``MultiMeasurementInitiator`` (3 points) and an ``UpdateTimeDeleter`` (3 revisits). Stone
  Soup works in the radar's local east/north/up frame (its bearing is counter-clockwise from
  east), ours in ECEF. By default Stone Soup gets its own pre-gate, as we have ours:
  ``DetectionKDTreeGNN2D`` hands the hypothesiser only the plots whose
  (elevation, bearing, range) lies within ``KD_TRACK_M`` (``KD_INITIATOR_M`` for the
  initiator's tentative tracks) of the track's predicted measurement, which in those mixed
  units is a range window: a true plot is never that far off, so the associations are the
  same (``--plain``: every track against every plot, Stone Soup's textbook set-up).

Accuracy: GOSPA (p = 2, c = 2 km, alpha = 2) of the confirmed tracks' positions (ours coasting
or not, as Stone Soup's), predicted to
the end of each of the last ``--scored`` scans, against the truth then (ours converted to the
radar's ENU frame), averaged over those scans. Throughput: plots over the wall time of all
scans. With ``--plain`` Stone Soup is slow: one of its scans took 372 s at 500 targets and
692 s at 1,000 (wall, on the shared 2-core machine under load).
Prints a table and, last, one JSON line.

    .venv/bin/python benchmarks/vs_stonesoup.py [--targets 1000] [--scans 5] [--plain]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
import time
from types import ModuleType
from typing import Any

import numpy as np
from numpy.typing import NDArray
from rich.console import Console
from rich.table import Table
from scipy.stats import chi2

from airpicture import geo
from airpicture.metrics.gospa import gospa as project_gospa
from airpicture.plot_table import PlotTable
from airpicture.tracking import Tracker, TrackerConfig
from airpicture.tracking.state import COASTING, CONFIRMED
from tracker import PERIOD, load_synth, radar_scene  # benchmarks/tracker.py, beside this file

T0 = 1.7e9
GOSPA_C = 2000.0
KD_TRACK_M = 5_000.0
"""Stone Soup's kd-tree pre-gate for confirmed tracks (m of range; module docstring)."""
KD_INITIATOR_M = 20_000.0
"""... and for the initiator's tentative tracks (velocity still 0 +- 200 m/s)."""
Array = NDArray[np.float64]
HELD = (CONFIRMED, COASTING)
"""Our tracks scored: confirmed ones, coasting or not (Stone Soup's tracker holds a confirmed
track until its deleter drops it, missed plots or not)."""


def scene(synth: ModuleType, n: int, scans: int, seed: int = 1) -> tuple[Any, PlotTable]:
    """Trajectories (ENU, times relative to ``T0``) and radar plots of ``n`` targets: the same
    scene as ``benchmarks/tracker.py``."""
    traj, plots, _ = radar_scene(synth, n, scans, seed)
    return traj, plots


def gospa(truth: Array, est: Array, c: float = GOSPA_C) -> float:
    """GOSPA (p = 2, alpha = 2, m) of two position sets (:mod:`airpicture.metrics.gospa`)."""
    return float(project_gospa(truth, est, c=c, p=2.0).distance)


def batches(plots: PlotTable) -> list[tuple[float, PlotTable]]:
    """The plots in 1 s data-time batches: (batch end, plots)."""
    b = np.floor(plots.time).astype(np.int64)
    out = []
    for k in np.unique(b):
        out.append((float(k + 1), plots.take(b == k)))
    return out


def run_ours(synth: ModuleType, plots: PlotTable, eval_t: list[float], imm: bool,
             confirm_n: int) -> tuple[float, dict[float, Array]]:
    """Wall time and confirmed ENU positions at each evaluation time."""
    cfg = TrackerConfig(sensors=[synth.radar(max_range=4e5, period=PERIOD)], nation="A",
                        confirm_n=confirm_n, **({} if imm else {"turn_rates": ()}))
    warm = Tracker(cfg)  # loads the compiled kernels outside the timing
    warm.process(plots.take(plots.time < plots.time.min() + 2 * PERIOD))
    warm.flush()
    tracker = Tracker(cfg)
    llh = synth.site_llh()
    out: dict[float, Array] = {}
    elapsed = 0.0
    pending = sorted(eval_t)
    for end, chunk in batches(plots):
        started = time.perf_counter()
        tracker.process(chunk, now=end)
        tracker.flush()
        elapsed += time.perf_counter() - started
        while pending and pending[0] <= end:
            t = pending.pop(0)
            pic = tracker.picture(t, confirmed_only=False)
            pic = pic.take(np.isin(pic.status, HELD))
            out[t] = geo.ecef2enu(pic.state[:, :3], llh) if len(pic) else np.zeros((0, 3))
    return elapsed, out


def run_stonesoup(synth: ModuleType, plots: PlotTable, eval_t: list[float], plain: bool,
                  ) -> tuple[float, list[float], dict[float, Array]]:
    """Wall time, per-scan times and confirmed ENU positions at each evaluation time."""
    from stonesoup.dataassociator.neighbour import GNNWith2DAssignment
    from stonesoup.dataassociator.tree import DetectionKDTreeGNN2D
    from stonesoup.deleter.time import UpdateTimeDeleter
    from stonesoup.hypothesiser.distance import DistanceHypothesiser
    from stonesoup.initiator.simple import MultiMeasurementInitiator
    from stonesoup.measures import Mahalanobis
    from stonesoup.models.measurement.nonlinear import CartesianToElevationBearingRange
    from stonesoup.models.transition.linear import (
        CombinedLinearGaussianTransitionModel,
        ConstantVelocity,
    )
    from stonesoup.predictor.kalman import ExtendedKalmanPredictor
    from stonesoup.tracker.simple import MultiTargetTracker
    from stonesoup.types.detection import Detection
    from stonesoup.types.state import GaussianState
    from stonesoup.updater.kalman import ExtendedKalmanUpdater

    s_r, s_az, s_el = synth.RADAR_SIGMA[:3]
    model = CartesianToElevationBearingRange(
        ndim_state=6, mapping=(0, 2, 4), noise_covar=np.diag([s_el**2, s_az**2, s_r**2]))
    transition = CombinedLinearGaussianTransitionModel([ConstantVelocity(1.0)] * 3)
    predictor = ExtendedKalmanPredictor(transition)
    updater = ExtendedKalmanUpdater(model)
    gate = math.sqrt(chi2.ppf(TrackerConfig(sensors=[]).gate_probability, 3))

    def associator(reach_m: float) -> Any:
        hypothesiser = DistanceHypothesiser(predictor, updater, Mahalanobis(),
                                            missed_distance=gate)
        if plain:
            return GNNWith2DAssignment(hypothesiser)
        return DetectionKDTreeGNN2D(hypothesiser=hypothesiser, predictor=predictor,
                                    updater=updater, max_distance=reach_m)

    deleter = UpdateTimeDeleter(dt.timedelta(seconds=3.5 * PERIOD))
    prior = GaussianState(np.zeros((6, 1)), np.diag([0.0, 200.0**2] * 3))
    initiator = MultiMeasurementInitiator(prior, deleter, associator(KD_INITIATOR_M), updater,
                                          measurement_model=model, min_points=3)

    def stamp(t: float) -> dt.datetime:
        return dt.datetime.fromtimestamp(t, dt.UTC)

    steps = []
    for end, chunk in batches(plots):
        dets = set()
        bearing = geo.wrap_angle(np.pi / 2 - chunk.z[:, 1])
        for k in range(len(chunk)):
            z = np.array([[chunk.z[k, 2]], [bearing[k]], [chunk.z[k, 0]]])
            dets.add(Detection(z, timestamp=stamp(float(chunk.time[k])),
                               measurement_model=model))
        steps.append((stamp(end), dets))
    tracker = MultiTargetTracker(initiator=initiator, deleter=deleter, detector=steps,
                                 data_associator=associator(KD_TRACK_M), updater=updater)
    out: dict[float, Array] = {}
    per_scan: list[float] = []
    elapsed = 0.0
    scan_start = 0.0
    pending = sorted(eval_t)
    iterator = iter(tracker)
    for end, _ in batches(plots):
        started = time.perf_counter()
        _, tracks = next(iterator)
        elapsed += time.perf_counter() - started
        if (end - T0) % PERIOD == 0.0:
            per_scan.append(elapsed - scan_start)
            scan_start = elapsed
            print(f"Stone Soup scan {len(per_scan)}: {per_scan[-1]:.1f} s", file=sys.stderr,
                  flush=True)
        while pending and pending[0] <= end:
            t = pending.pop(0)
            pos = []
            for track in tracks:
                st = track.state
                lag = (stamp(t) - st.timestamp).total_seconds()
                v = np.asarray(st.state_vector, float).ravel()
                pos.append([v[0] + lag * v[1], v[2] + lag * v[3], v[4] + lag * v[5]])
            out[t] = np.array(pos).reshape(-1, 3)
    return elapsed, per_scan, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=1000)
    parser.add_argument("--scans", type=int, default=5)
    parser.add_argument("--scored", type=int, default=2, help="last scans scored by GOSPA")
    parser.add_argument("--imm", action="store_true", help="our 3-model IMM instead of CV")
    parser.add_argument("--confirm-n", type=int, default=5,
                        help="our confirmation window: 3 hits of this many (module docstring)")
    parser.add_argument("--seed", type=int, default=1, help="scene seed")
    parser.add_argument("--plain", action="store_true",
                        help="Stone Soup without its kd-tree pre-gate (every track, every plot)")
    args = parser.parse_args()
    synth = load_synth()
    traj, plots = scene(synth, args.targets, args.scans, args.seed)
    eval_t = [T0 + PERIOD * k for k in range(args.scans - args.scored + 1, args.scans + 1)]
    ours_s, ours_pos = run_ours(synth, plots, eval_t, args.imm, args.confirm_n)
    ss_s, ss_scans, ss_pos = run_stonesoup(synth, plots, eval_t, args.plain)
    truth = {t: traj(np.full((1, args.targets), t - T0))[0, :, :3] for t in eval_t}
    in_range = {t: p[np.linalg.norm(p, axis=1) <= 4e5] for t, p in truth.items()}
    g_ours = float(np.mean([gospa(in_range[t], ours_pos[t]) for t in eval_t]))
    g_ss = float(np.mean([gospa(in_range[t], ss_pos[t]) for t in eval_t]))
    n = len(plots)
    table = Table(title=f"{args.targets:,} targets, {args.scans} scans, {n:,} plots "
                        f"(GOSPA c = {GOSPA_C:.0f} m, p = 2, last {args.scored} scans)")
    for col in ("tracker", "plots/s", "s/scan", "GOSPA (m)", "tracks at end"):
        table.add_column(col, justify="right")
    name = f"airpicture {'IMM' if args.imm else 'CV'} 3-of-{args.confirm_n}"
    table.add_row(name, f"{n / ours_s:,.0f}", f"{ours_s / args.scans:.4f}", f"{g_ours:,.0f}",
                  f"{len(ours_pos[eval_t[-1]]):,}")
    ss_name = "Stone Soup EKF+GNN" + (" (plain)" if args.plain else " (kd-tree)")
    table.add_row(ss_name, f"{n / ss_s:,.1f}", f"{ss_s / args.scans:.2f}",
                  f"{g_ss:,.0f}", f"{len(ss_pos[eval_t[-1]]):,}")
    console = Console()
    console.print(table)
    console.print("Stone Soup seconds per scan: " + ", ".join(f"{s:.1f}" for s in ss_scans))
    print(json.dumps({"targets": args.targets, "scans": args.scans, "plots": n,
                      "seed": args.seed, "confirm": f"3-of-{args.confirm_n}",
                      "ours_plots_per_s": round(n / ours_s), "stonesoup_plots_per_s":
                      round(n / ss_s, 1), "ratio": round(ss_s / ours_s, 1),
                      "gospa_ours_m": round(g_ours, 1), "gospa_stonesoup_m": round(g_ss, 1),
                      "stonesoup_s_per_scan": [round(s, 2) for s in ss_scans],
                      "stonesoup_pregate": "none" if args.plain else "kd-tree"}))


if __name__ == "__main__":
    main()
