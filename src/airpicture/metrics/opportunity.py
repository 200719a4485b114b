"""Truth of opportunity: high-integrity ADS-B reports as the reference when there is no truth.

Without simulated truth, the cooperative traffic's own ADS-B position reports, when their
navigation accuracy is high (NACp >= 8: 95 % horizontal error under 92.6 m), are a usable
reference. :func:`opportunity_truth` turns them into truth samples on a regular grid: per ICAO
address, a report at or between grid times is linearly interpolated between the two reports
around each grid time when they are at most ``max_gap`` seconds apart (velocity from the
reports where given, else from the two positions). The label is the ICAO address, so
ID-SIAP on ICAO addresses needs no object table.

Limits, to keep in mind when reading the scores: only ADS-B-equipped traffic is scored (so
completeness says nothing about non-cooperative objects); the reference has its own error
(tens of metres); and when the tracker also uses ADS-B the reference is not independent of
the tracks. The same function serves a live node over a sliding window of recent plots.
"""

from __future__ import annotations

import numpy as np

from airpicture.messages import SensorKind
from airpicture.metrics.samples import Samples, dense_labels, group_order, make_samples
from airpicture.plot_table import KIND_CODE, PlotTable


def opportunity_truth(
    plots: PlotTable, *, min_nacp: int = 8, step: float = 1.0, max_gap: float = 10.0
) -> Samples:
    """Truth samples ``(N,)`` from ADS-B plots with ``nacp >= min_nacp`` (module docstring).

    Parameters
    ----------
    plots : PlotTable
        Plots of any sensors; only ADS-B rows with a valid ICAO address and finite position
        are used.
    min_nacp : int
        Lowest accepted navigation accuracy category for position.
    step : float
        Grid spacing (s), > 0; grid times are multiples of ``step``.
    max_gap : float
        Longest interval (s) between two reports to interpolate across, >= 0.

    Returns
    -------
    Samples
        Label = ICAO address; ECEF position and velocity (m, m/s); time order.
    """
    if not (np.isfinite(step) and step > 0) or not (np.isfinite(max_gap) and max_gap >= 0):
        raise ValueError(f"step must be > 0 and max_gap >= 0, got {step!r}, {max_gap!r}")
    use = (
        (plots.kind == KIND_CODE[SensorKind.ADSB]) & (plots.nacp >= min_nacp) & (plots.icao >= 0)
        & np.isfinite(plots.z[:, :3]).all(axis=1) & np.isfinite(plots.time)
    )
    p = plots.take(np.flatnonzero(use))
    empty = make_samples(np.zeros(0), np.zeros(0, np.int64), np.zeros((0, 3)), name="truth")
    if len(p) == 0:
        return empty
    by_time = np.argsort(p.time, kind="stable")
    distinct, dense = dense_labels(p.icao.astype(np.int64)[by_time])
    order, starts = group_order(dense, len(distinct))
    order = by_time[order]
    t_all, lab_all, pos_all, vel_all = [], [], [], []
    for g in range(len(distinct)):
        rows = order[starts[g] : starts[g + 1]]
        t = p.time[rows]
        keep = np.r_[t[1:] != t[:-1], True]  # one report per time: the last
        rows, t = rows[keep], t[keep]
        grid = np.arange(np.ceil(t[0] / step), np.floor(t[-1] / step) + 1) * step
        if not len(grid):
            continue
        hi = np.clip(np.searchsorted(t, grid, side="left"), 0, len(t) - 1)
        lo = np.where(t[hi] == grid, hi, np.maximum(hi - 1, 0))
        gap = t[hi] - t[lo]
        ok = (t[lo] <= grid) & (grid <= t[hi]) & (gap <= max_gap)
        lo, hi, grid, gap = lo[ok], hi[ok], grid[ok], gap[ok]
        w = np.where(gap > 0, (grid - t[lo]) / np.where(gap > 0, gap, 1.0), 0.0)
        z = p.z[rows]
        pos = (1 - w)[:, None] * z[lo, :3] + w[:, None] * z[hi, :3]
        vel = (1 - w)[:, None] * z[lo, 3:6] + w[:, None] * z[hi, 3:6]
        diff = np.where(gap[:, None] > 0,
                        (z[hi, :3] - z[lo, :3]) / np.where(gap > 0, gap, 1.0)[:, None], np.nan)
        vel = np.where(np.isfinite(vel), vel, diff)
        t_all.append(grid)
        lab_all.append(np.full(len(grid), distinct[g], np.int64))
        pos_all.append(pos)
        vel_all.append(vel)
    if not t_all:
        return empty
    t_cat = np.concatenate(t_all)
    o = np.argsort(t_cat, kind="stable")
    return make_samples(t_cat[o], np.concatenate(lab_all)[o], np.concatenate(pos_all)[o],
                        np.concatenate(vel_all)[o], name="truth of opportunity")
