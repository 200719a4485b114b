r"""Posterior Cramér–Rao bound (PCRB) on position error along the true trajectories.

For a nearly-constant-velocity model :math:`x_{k+1} = F x_k + w_k`,
:math:`F = \begin{bmatrix} I & \Delta t\, I \\ 0 & I \end{bmatrix}`,
:math:`Q = q \begin{bmatrix} \Delta t^3/3\, I & \Delta t^2/2\, I \\ \Delta t^2/2\, I & \Delta t\, I
\end{bmatrix}` (``q`` in m²/s³ per ECEF axis), the Fisher information of the state obeys the
recursion of Tichavský et al. (1998), here with a detection probability (the information
reduction factor for no clutter, Hernandez et al. 2004):

.. math::
    J_{k+1} = \bigl(Q + F J_k^{-1} F^T\bigr)^{-1}
        + \sum_s P_{D,s}\, n_{s,k}\, v_{s,k}\, H_s^T R_s^{-1} H_s ,

where, for sensor ``s``, :math:`n_{s,k}` counts its scans in :math:`(t_k, t_{k+1}]` (period
``period_s``, phase 0), :math:`v_{s,k}` says whether the object is visible to it, and
:math:`H_s` is the measurement Jacobian at the true state:

- radar: range, azimuth, elevation (and range-rate when its sigma is given) from the site;
  a component whose sigma is 0 or missing is not measured (a 2D radar has no elevation);
- ssr: range, azimuth, and height (barometric; sigma ``sigma[2]`` or 30 m);
- adsb: ECEF position (and velocity when sigmas are given), sigmas along local E, N, U;
- esm: azimuth (and elevation when its sigma is given).

:math:`J_0` is a diagonal prior (``prior_sigma``: position m, velocity m/s). The bound on the
position RMSE of any unbiased estimator is :math:`\sqrt{\operatorname{tr}[J^{-1}]_{pos}}`.
Without per-sensor sigmas, the defaults of :data:`DEFAULT_SIGMA` apply.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np

from airpicture import geo
from airpicture.messages import SensorInfo, SensorKind
from airpicture.metrics.samples import BoolArray, FloatArray, Samples, dense_labels

DEFAULT_PD: dict[SensorKind, float] = {
    SensorKind.RADAR: 0.9, SensorKind.SSR: 0.95, SensorKind.ADSB: 0.95, SensorKind.ESM: 0.8,
}
DEFAULT_SIGMA: dict[SensorKind, tuple[float, ...]] = {
    SensorKind.RADAR: (100.0, 0.002, 0.003),
    SensorKind.SSR: (50.0, 0.001, 30.0),
    SensorKind.ADSB: (40.0, 40.0, 60.0),
    SensorKind.ESM: (0.005,),
}


def _sigma(sensor: SensorInfo) -> list[float]:
    s = [float(v) for v in sensor.sigma] or list(DEFAULT_SIGMA[sensor.kind])
    return s


def cv_transition(dt: FloatArray, q: float) -> tuple[FloatArray, FloatArray]:
    """``F`` and ``Q`` ``(n, 6, 6)`` of the constant-velocity model for intervals ``dt`` (s)."""
    n = len(dt)
    eye = np.eye(3)
    f = np.broadcast_to(np.eye(6), (n, 6, 6)).copy()
    f[:, :3, 3:] = dt[:, None, None] * eye
    qm = np.zeros((n, 6, 6))
    qm[:, :3, :3] = (q * dt**3 / 3.0)[:, None, None] * eye
    qm[:, :3, 3:] = (q * dt**2 / 2.0)[:, None, None] * eye
    qm[:, 3:, :3] = qm[:, :3, 3:]
    qm[:, 3:, 3:] = (q * dt)[:, None, None] * eye
    return f, qm


def aer_jacobian(d_enu: FloatArray) -> FloatArray:
    """Jacobian ``(n, 3, 3)`` of [range m, azimuth rad, elevation rad] by ENU offset (m)."""
    e, n, u = d_enu[:, 0], d_enu[:, 1], d_enu[:, 2]
    rho2 = np.maximum(e * e + n * n, 1e-9)
    rho = np.sqrt(rho2)
    r2 = rho2 + u * u
    r = np.sqrt(r2)
    jac = np.zeros((len(e), 3, 3))
    jac[:, 0] = d_enu / r[:, None]
    jac[:, 1, 0] = n / rho2
    jac[:, 1, 1] = -e / rho2
    jac[:, 2, 0] = -u * e / (r2 * rho)
    jac[:, 2, 1] = -u * n / (r2 * rho)
    jac[:, 2, 2] = rho / r2
    return jac


def measurement_information(
    sensor: SensorInfo, position: FloatArray, velocity: FloatArray,
    ll: FloatArray | None = None,
) -> FloatArray:
    """``H^T R^-1 H`` ``(n, 6, 6)`` of one plot of ``sensor`` on objects at ECEF ``(n, 3)``
    moving at ``velocity`` ``(n, 3)``; ``ll`` ``(n, 2)`` their [lat, lon] (rad) if known."""
    sig = _sigma(sensor)
    n = len(position)
    info = np.zeros((n, 6, 6))
    if ll is None:
        ll = geo.ecef2geodetic(position)[:, :2]
    if sensor.kind == SensorKind.ADSB:
        rot = geo.ecef2enu_rotation(ll)  # ENU <- ECEF
        for block, sd in ((slice(0, 3), sig[0:3]), (slice(3, 6), sig[3:6])):
            if len(sd) < 3 or not (np.all(np.isfinite(sd)) and np.all(np.asarray(sd) > 0)):
                continue
            w = np.diag(1.0 / np.square(sd))
            info[:, block, block] = np.swapaxes(rot, 1, 2) @ w @ rot
        return info
    site = np.radians([sensor.lat_deg, sensor.lon_deg])
    site_llh = np.array([site[0], site[1], sensor.alt_m])
    rot = geo.ecef2enu_rotation(site)
    d = (position - geo.geodetic2ecef(site_llh)) @ rot.T
    jac = aer_jacobian(d)
    rows: list[FloatArray] = []
    var: list[float] = []
    if sensor.kind == SensorKind.RADAR:
        rows = [jac[:, 0] @ rot, jac[:, 1] @ rot, jac[:, 2] @ rot]
        var = [sig[0] ** 2, sig[1] ** 2, sig[2] ** 2]
    elif sensor.kind == SensorKind.SSR:
        up = geo.up_vectors(ll[:, 0], ll[:, 1])
        rows = [jac[:, 0] @ rot, jac[:, 1] @ rot, up]
        var = [sig[0] ** 2, sig[1] ** 2, (sig[2] if len(sig) > 2 else 30.0) ** 2]
    elif sensor.kind == SensorKind.ESM:
        rows = [jac[:, 1] @ rot, jac[:, 2] @ rot]
        var = [sig[0] ** 2, (sig[1] if len(sig) > 1 else 0.0) ** 2]
    # a component with a zero or non-finite sigma is not measured (e.g. a 2D radar)
    keep = [i for i, v in enumerate(var) if np.isfinite(v) and v > 0]
    rows = [rows[i] for i in keep]
    var = [var[i] for i in keep]
    h = np.zeros((n, len(rows), 6))
    for i, row in enumerate(rows):
        h[:, i, :3] = row
    if sensor.kind == SensorKind.RADAR and len(sig) > 3 and np.isfinite(sig[3]) and sig[3] > 0:
        w = velocity @ rot.T
        r = np.linalg.norm(d, axis=1)
        rr = np.einsum("ij,ij->i", d, w) / r
        rr_pos = ((w - rr[:, None] * d / r[:, None]) / r[:, None]) @ rot
        rr_vel = (d / r[:, None]) @ rot
        h = np.concatenate([h, np.concatenate([rr_pos, rr_vel], axis=1)[:, None, :]], axis=1)
        var.append(sig[3] ** 2)
    rinv = 1.0 / np.array(var)
    return np.asarray(np.einsum("nim,i,nil->nml", h, rinv, h))


def geometric_visibility(
    truth: Samples,
    sensors: Sequence[SensorInfo],
    *,
    transponder: BoolArray | None = None,
    adsb: BoolArray | None = None,
    emitter: BoolArray | None = None,
) -> BoolArray:
    """Visibility ``(N, S)``: within [min, max] range and above the radar horizon (4/3 earth,
    ``min_elevation_rad``); SSR needs a transponder, ADS-B an ADS-B equipage, ESM an emitter
    (per truth row masks ``(N,)``, default all)."""
    n = len(truth)
    out = np.zeros((n, len(sensors)), bool)
    if n == 0:
        return out
    llh = geo.ecef2geodetic(truth.position)
    equip = {SensorKind.SSR: transponder, SensorKind.ADSB: adsb, SensorKind.ESM: emitter}
    for s, sensor in enumerate(sensors):
        site = np.array([np.radians(sensor.lat_deg), np.radians(sensor.lon_deg), sensor.alt_m])
        rng = geo.ecef2aer(truth.position, site)[:, 2]
        vis = (rng >= sensor.min_range_m) & (rng <= sensor.max_range_m)
        vis &= geo.effective_elevation(site, llh) >= sensor.min_elevation_rad
        mask = equip.get(sensor.kind)
        if mask is not None:
            vis &= np.asarray(mask, bool)
        out[:, s] = vis
    return out


def pcrb_position(
    truth: Samples,
    sensors: Sequence[SensorInfo],
    visible: BoolArray,
    *,
    q: float = 1.0,
    pd: Mapping[str, float] | None = None,
    prior_sigma: tuple[float, float] = (1000.0, 100.0),
) -> FloatArray:
    """PCRB on position RMSE (m) at every truth row (module docstring).

    Parameters
    ----------
    truth : Samples
        True states ``(N,)`` in time order (label = object).
    sensors : sequence of SensorInfo
        The ``S`` sensors.
    visible : ndarray, shape (N, S), bool
        Whether each truth row is visible to each sensor (see :func:`geometric_visibility`).
    q : float
        Process-noise spectral density (m²/s³) per ECEF axis, >= 0.
    pd : mapping, optional
        Detection probability per sensor id (default by kind, :data:`DEFAULT_PD`).
    prior_sigma : (float, float)
        One-sigma prior on position (m) and velocity (m/s) at an object's first sample.

    Returns
    -------
    ndarray, shape (N,)
        :math:`\\sqrt{\\operatorname{tr}[J^{-1}]_{pos}}` (m).
    """
    vis = np.asarray(visible, bool)
    if vis.shape != (len(truth), len(sensors)):
        raise ValueError(f"visible must have shape ({len(truth)}, {len(sensors)}), got {vis.shape}")
    if not (np.isfinite(q) and q >= 0):
        raise ValueError(f"q must be finite and >= 0, got {q!r}")
    if not np.isfinite(truth.velocity).all():
        raise ValueError("PCRB needs finite truth velocities")
    pd_map = dict(pd or {})
    pds = np.array([pd_map.get(s.id, DEFAULT_PD[s.kind]) for s in sensors])
    periods = np.array([max(s.period_s, 1e-9) for s in sensors])
    distinct, dense = dense_labels(truth.label)
    j_all = np.zeros((len(distinct), 6, 6))
    last = np.full(len(distinct), np.nan)
    j0 = np.diag(np.r_[np.full(3, prior_sigma[0] ** -2.0), np.full(3, prior_sigma[1] ** -2.0)])
    bound = np.zeros(len(truth))
    bounds = np.flatnonzero(np.r_[True, truth.time[1:] != truth.time[:-1], True])
    for a, b in itertools.pairwise(bounds):
        g = dense[a:b]
        t = truth.time[a]
        new = np.isnan(last[g])
        j = np.empty((b - a, 6, 6))
        j[new] = j0
        old = ~new
        if old.any():
            dt = t - last[g[old]]
            f, qm = cv_transition(dt, q)
            p = np.linalg.inv(j_all[g[old]])
            j[old] = np.linalg.inv(f @ p @ np.swapaxes(f, 1, 2) + qm)
        prev = np.where(new, t - periods.min(), last[g])
        ll = geo.ecef2geodetic(truth.position[a:b])[:, :2]
        for s, sensor in enumerate(sensors):
            scans = np.floor(t / periods[s]) - np.floor(prev / periods[s])
            scans = np.where(new, 1.0, scans)
            w = pds[s] * scans * vis[a:b, s]
            sel = np.flatnonzero(w > 0)
            if len(sel):
                info = measurement_information(
                    sensor, truth.position[a:b][sel], truth.velocity[a:b][sel], ll[sel]
                )
                j[sel] += w[sel, None, None] * info
        j_all[g] = j
        last[g] = t
        cov = np.linalg.inv(j)
        bound[a:b] = np.sqrt(np.trace(cov[:, :3, :3], axis1=1, axis2=2))
    return bound
