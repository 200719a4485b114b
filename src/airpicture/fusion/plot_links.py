"""Radar plots linked scan to scan: references for registering other radars on common objects.

An object seen by two radars lets each check the other even when it broadcasts nothing
(non-cooperative traffic, or cooperative traffic out of reach of any ADS-B receiver). A
sensor's plots are linked to the plot of the same object one antenna turn earlier (same
sensor, time difference within ``[0.5, 1.5]`` periods, distance within ``max_speed_mps`` times
it; only unambiguous links: the predecessor is the nearest one within the gate, the second
nearest is at least ``ambiguity`` times farther, and no other plot takes the same
predecessor). A link gives a reference like an ADS-B report: the midpoint of the two plot
positions at the mean time, and their difference over the time as the velocity.

Plot positions are the sensor's *raw* measurements, so a reference carries that sensor's
biases ``theta_R = [b_r, g, b_az, b_t]``; another sensor's residual against it (see
:mod:`~airpicture.fusion.reference`) is linear in both sensors' biases::

    y = H_U theta_U + L_R theta_R + noise,
    L_R = [-G_U u_R, -G_U u_R r_R, -G_U e_R rho_R, [rdot, azdot]]

with ``G_U`` the Jacobian of the other sensor's ``[range, azimuth]`` in ECEF position,
``u_R`` the reference radar's unit line of sight, ``e_R`` its horizontal unit vector of
increasing azimuth, ``r_R``, ``rho_R`` its slant and ground range, and ``rdot``, ``azdot``
the object's range and azimuth rate seen by the other sensor (a late reference stamp makes
the reference lag). :func:`link_jacobian` gives ``L_R``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from airpicture.fusion.reference import AdsbReports, RadarPairs, Sites, plot_positions
from airpicture.plot_table import PlotTable

__all__ = ["LINK_ID_BASE", "Links", "link_jacobian", "link_plots"]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
LINK_ID_BASE = 1 << 24
"""Links take identifiers from here on, past every 24-bit address (so no plot with an address
pairs with a link)."""


@dataclasses.dataclass(frozen=True)
class Links:
    """References from linked plots: ``reports`` (identifiers from :data:`LINK_ID_BASE`,
    ECEF position and velocity at the mean time, horizontal one-sigma from the sensor's noise
    at that range) and the ``sensor`` each came from, row for row."""

    reports: AdsbReports
    sensor: I64

    @classmethod
    def empty(cls) -> Links:
        return cls(AdsbReports.empty(), np.zeros(0, np.int64))


def link_plots(
    plots: PlotTable,
    sites: Sites,
    *,
    max_speed_mps: float = 400.0,
    ambiguity: float = 2.0,
    assumed_height_m: float = 8000.0,
) -> Links:
    """Links of ``plots`` (radar and SSR rows with finite range and azimuth, any order) to
    their predecessors one antenna turn earlier (module docstring)."""
    rows = np.flatnonzero(np.isfinite(plots.z[:, :2]).all(axis=1)
                          & (sites.period[plots.sensor] > 0))
    if rows.size < 2:
        return Links.empty()
    s = plots.sensor[rows].astype(np.int64)
    t, period = plots.time[rows], sites.period[s]
    pos = plot_positions(plots, rows, sites, assumed_height_m)
    # Search space: position, time one period back (scaled to metres), sensors far apart.
    scale, apart = max_speed_mps, 1e9
    tau = t - float(t.min())
    key = np.column_stack([pos, scale * tau, apart * s])
    query = np.column_stack([pos, scale * (tau - period), apart * s])
    radius = float(np.max(period)) * scale * 1.6
    k = min(3, rows.size)
    dist, idx = cKDTree(key).query(query, k=k, distance_upper_bound=radius)
    dist, idx = dist.reshape(rows.size, k), idx.reshape(rows.size, k)
    ok = idx < rows.size
    j = np.where(ok, idx, 0)
    dt = t[:, None] - t[j]
    step = np.linalg.norm(pos[:, None, :] - pos[j], axis=2)
    ok &= (dt >= 0.5 * period[:, None]) & (dt <= 1.5 * period[:, None])
    ok &= (s[j] == s[:, None]) & (step <= max_speed_mps * dt)
    d = np.where(ok, step, np.inf)
    order = np.argsort(d, axis=1)
    d = np.take_along_axis(d, order, axis=1)
    j = np.take_along_axis(j, order, axis=1)
    second = d[:, 1] if k > 1 else np.full(rows.size, np.inf)
    keep = np.isfinite(d[:, 0]) & (second >= ambiguity * np.maximum(d[:, 0], 1.0))
    succ, pred = np.flatnonzero(keep), j[keep, 0]
    claimed = np.bincount(pred, minlength=rows.size)
    succ, pred = succ[claimed[pred] == 1], pred[claimed[pred] == 1]
    if succ.size == 0:
        return Links.empty()
    span = (t[succ] - t[pred])[:, None]
    mid = 0.5 * (pos[succ] + pos[pred])
    enu = np.einsum("nij,nj->ni", sites.rotation[s[succ]], mid - sites.ecef[s[succ]])
    sigma = np.maximum(sites.sigma[s[succ], 0],
                       sites.sigma[s[succ], 1] * np.hypot(enu[:, 0], enu[:, 1]))
    n = succ.size
    reports = AdsbReports(0.5 * (t[succ] + t[pred]), LINK_ID_BASE + np.arange(n, dtype=np.int64),
                          mid, (pos[succ] - pos[pred]) / span, sigma)
    return Links(reports, s[succ])


def link_jacobian(pairs: RadarPairs, links: Links, plots: PlotTable, sites: Sites) -> F64:
    """``L_R`` ``(P, 2, 4)``: the residuals' derivatives in the biases of the sensor each
    pair's reference came from (module docstring); rows as ``pairs``."""
    n = len(pairs)
    rep, ref = links.reports, pairs.ref
    p = rep.position[ref] + rep.velocity[ref] * (plots.time[pairs.plot] - rep.time[ref])[:, None]
    u_s, r_s = pairs.sensor, links.sensor[ref]
    rot_u, rot_r = sites.rotation[u_s], sites.rotation[r_s]
    # G_U: rows d range / dp and d azimuth / dp, in ECEF.
    enu_u = np.einsum("nij,nj->ni", rot_u, p - sites.ecef[u_s])
    rho_u = np.maximum(np.hypot(enu_u[:, 0], enu_u[:, 1]), 1.0)
    az_u = np.arctan2(enu_u[:, 0], enu_u[:, 1])
    G = np.empty((n, 2, 3))
    G[:, 0] = np.einsum("nji,nj->ni", rot_u, enu_u / np.maximum(pairs.r, 1.0)[:, None])
    e_u = np.column_stack([np.cos(az_u), -np.sin(az_u), np.zeros(n)]) / rho_u[:, None]
    G[:, 1] = np.einsum("nji,nj->ni", rot_u, e_u)
    # The reference radar's bias directions, in ECEF.
    enu_r = np.einsum("nij,nj->ni", rot_r, p - sites.ecef[r_s])
    r_r = np.maximum(np.linalg.norm(enu_r, axis=1), 1.0)
    rho_r = np.hypot(enu_r[:, 0], enu_r[:, 1])
    az_r = np.arctan2(enu_r[:, 0], enu_r[:, 1])
    u = np.einsum("nji,nj->ni", rot_r, enu_r / r_r[:, None])
    e = np.einsum("nji,nj->ni", rot_r, np.column_stack([np.cos(az_r), -np.sin(az_r),
                                                       np.zeros(n)]))
    L = np.empty((n, 2, 4))
    L[:, :, 0] = -np.einsum("nij,nj->ni", G, u)
    L[:, :, 1] = L[:, :, 0] * r_r[:, None]
    L[:, :, 2] = -np.einsum("nij,nj->ni", G, e) * rho_r[:, None]
    L[:, 0, 3] = pairs.rdot
    L[:, 1, 3] = pairs.azdot
    return L
