"""Kalman updates: EKF and UKF linearisation, one Joseph-form update, innovation statistics.

Both filters reduce a nonlinear measurement ``z = h(x) + w``, ``w ~ N(0, R)`` to the same
linear-Gaussian form, so that gating, association and the update share one code path:

* EKF: ``zhat = h(x)``, ``H = dh/dx (x)``, ``S = H P H^T + R``, ``Pxz = P H^T``, ``Re = R``.
* UKF (unscented transform, ``alpha = 1``, ``beta = 2``, ``kappa = 0``): sigma points
  ``x +- sqrt(n) L_i`` (``L`` the Cholesky factor of ``P``); ``zhat``, ``S`` and ``Pxz`` are
  their weighted moments; ``H = Pxz^T P^-1`` is the statistical linearisation and
  ``Re = S - H P H^T`` the noise plus linearisation error.

The update is Joseph's form, which keeps ``P`` symmetric positive semi-definite whatever the
gain::

    y  = z - zhat                     (azimuths wrapped into [-pi, pi))
    K  = Pxz S^-1
    x+ = x + K y
    P+ = (I - K H) P (I - K H)^T + K Re K^T

and is followed by explicit symmetrisation.
"""

from __future__ import annotations

import enum
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from airpicture import geo
from airpicture.messages import SensorKind
from airpicture.tracking import measurement

Array = NDArray[np.float64]
LOG_2PI = float(np.log(2.0 * np.pi))


class FilterKind(enum.StrEnum):
    """Which nonlinear filter updates tracks with a sensor's plots."""

    EKF = "ekf"
    UKF = "ukf"


class Linearisation(NamedTuple):
    """A measurement model linearised at predicted states, ``K`` rows of ``m`` components.

    ``zhat (K, m)``, ``H (K, m, 6)``, ``S (K, m, m)`` (including ``R``), ``Pxz (K, 6, m)``,
    ``Re (K, m, m)`` (the noise term of the Joseph form).
    """

    zhat: Array
    H: Array
    S: Array
    Pxz: Array
    Re: Array


def residual(kind: SensorKind, cols: NDArray[np.intp], z: Array, zhat: Array) -> Array:
    """Innovation ``z - zhat (K, m)`` with azimuth components wrapped into ``[-pi, pi)``."""
    y = z - zhat
    for a in measurement.ANGLES[kind]:
        hit = np.flatnonzero(cols == a)
        if hit.size:
            y[:, hit[0]] = geo.wrap_angle(y[:, hit[0]])
    return y


def ekf_linearise(
    kind: SensorKind, cols: NDArray[np.intp], x: Array, P: Array, site: Array, rot: Array,
    R: Array,
) -> Linearisation:
    """EKF linearisation of the ``cols`` components of ``kind`` at ``x (K, 6)``, ``P``."""
    zhat = measurement.predict(kind, x, site, rot)[:, cols]
    H = measurement.jacobian(kind, x, site, rot)[:, cols]
    Pxz = P @ H.transpose(0, 2, 1)
    S = H @ Pxz + R
    return Linearisation(zhat, H, 0.5 * (S + S.transpose(0, 2, 1)), Pxz, R)


def ukf_linearise(
    kind: SensorKind, cols: NDArray[np.intp], x: Array, P: Array, site: Array, rot: Array,
    R: Array,
) -> Linearisation:
    """Unscented-transform linearisation of the ``cols`` components of ``kind`` (see module)."""
    K, n = x.shape
    L = np.linalg.cholesky(P) * np.sqrt(float(n))
    dev = np.concatenate([L.transpose(0, 2, 1), -L.transpose(0, 2, 1)], axis=1)  # (K, 2n, n)
    points = np.concatenate([x[:, None, :], x[:, None, :] + dev], axis=1)  # (K, 2n+1, n)
    flat = points.reshape(-1, n)
    rep_site = np.repeat(site, 2 * n + 1, axis=0)
    rep_rot = np.repeat(rot, 2 * n + 1, axis=0)
    Z = measurement.predict(kind, flat, rep_site, rep_rot)[:, cols].reshape(K, 2 * n + 1, -1)
    for a in measurement.ANGLES[kind]:
        hit = np.flatnonzero(cols == a)
        if hit.size:
            j = hit[0]
            Z[:, :, j] = Z[:, :1, j] + geo.wrap_angle(Z[:, :, j] - Z[:, :1, j])
    w = np.full(2 * n + 1, 1.0 / (2 * n))
    w[0] = 0.0
    wc = w.copy()
    wc[0] = 2.0  # beta = 2, alpha = 1: (1 - alpha^2 + beta)
    zhat = np.einsum("p,kpm->km", w, Z)
    dz = Z - zhat[:, None, :]
    dx = points - x[:, None, :]
    S = np.einsum("p,kpa,kpb->kab", wc, dz, dz) + R
    Pxz = np.einsum("p,kpa,kpb->kab", wc, dx, dz)
    H = np.linalg.solve(P, Pxz).transpose(0, 2, 1)
    Re = S - H @ P @ H.transpose(0, 2, 1)
    S = 0.5 * (S + S.transpose(0, 2, 1))
    return Linearisation(zhat, H, S, Pxz, 0.5 * (Re + Re.transpose(0, 2, 1)))


def linearise(
    filter_kind: FilterKind, kind: SensorKind, cols: NDArray[np.intp], x: Array, P: Array,
    site: Array, rot: Array, R: Array,
) -> Linearisation:
    """Dispatch to :func:`ekf_linearise` or :func:`ukf_linearise`."""
    if filter_kind is FilterKind.UKF:
        return ukf_linearise(kind, cols, x, P, site, rot, R)
    return ekf_linearise(kind, cols, x, P, site, rot, R)


def mahalanobis(y: Array, S: Array) -> tuple[Array, Array]:
    """Squared Mahalanobis distances ``d2 (K,)`` and ``log det S (K,)`` for ``y (K, m)``."""
    L = np.linalg.cholesky(S)
    u = np.linalg.solve(L, y[:, :, None])[:, :, 0]
    logdet = 2.0 * np.sum(np.log(np.diagonal(L, axis1=1, axis2=2)), axis=1)
    return np.einsum("km,km->k", u, u), logdet


def log_likelihood(d2: Array, logdet: Array, m: int | NDArray[np.intp]) -> Array:
    """Gaussian log-likelihood ``log N(y; 0, S)`` from :func:`mahalanobis` outputs."""
    return -0.5 * (d2 + logdet + m * LOG_2PI)


def joseph_update(x: Array, P: Array, y: Array, lin: Linearisation) -> tuple[Array, Array]:
    """Joseph-form Kalman update of ``x (K, 6)``, ``P (K, 6, 6)`` with innovations ``y (K, m)``."""
    gain = np.linalg.solve(lin.S, lin.Pxz.transpose(0, 2, 1)).transpose(0, 2, 1)  # Pxz S^-1
    x_new = x + np.einsum("kam,km->ka", gain, y)
    A = np.eye(x.shape[1]) - gain @ lin.H
    P_new = A @ P @ A.transpose(0, 2, 1) + gain @ lin.Re @ gain.transpose(0, 2, 1)
    return x_new, 0.5 * (P_new + P_new.transpose(0, 2, 1))
