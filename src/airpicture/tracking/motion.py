"""Motion models in ECEF, batched over tracks: nearly-constant velocity and horizontal turns.

The state is ``x = [x, y, z, vx, vy, vz]`` (m, m/s, WGS84 ECEF). Every function takes a time
step per row, ``dt (K,)`` in seconds, and returns stacked matrices ``(K, 6, 6)``.

Nearly-constant velocity (CV), with continuous white-noise acceleration of power spectral
density ``q`` (m^2/s^3) on each axis::

    F = [[I, dt I], [0, I]]
    Q = q [[dt^3/3 I, dt^2/2 I], [dt^2/2 I, dt I]]

Horizontal coordinated turn (CT) at a known rate ``omega`` (rad/s, positive counter-clockwise
seen from above) about the local vertical ``u`` (the geocentric unit radial at the track,
within 0.2 degrees of the ellipsoid normal). With ``K`` the cross-product matrix of ``u``,
Rodrigues' rotation ``R(a) = I + sin(a) K + (1 - cos(a)) K^2`` turns the velocity, and the
position integrates it::

    v(t + dt) = R(omega dt) v
    p(t + dt) = p + B v,   B = dt I + (1 - cos(omega dt)) / omega K
                               + (dt - sin(omega dt) / omega) K^2

so ``F = [[I, B], [0, R]]``; its process noise is the CV form with its own ``q``. A negative
``dt`` (a plot a little older than the track, inside one batch) uses ``F(dt)`` and ``Q(|dt|)``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


@dataclasses.dataclass(frozen=True, kw_only=True)
class MotionModel:
    """One motion hypothesis: a turn rate (0 for CV) and its process-noise density.

    Attributes
    ----------
    omega : float
        Turn rate in rad/s about the local vertical; 0 is nearly-constant velocity.
    q : float
        Acceleration power spectral density per axis, m^2/s^3.
    """

    omega: float
    q: float

    def transition(self, dt: Array, position: Array) -> Array:
        """Transition matrices ``F (K, 6, 6)`` for steps ``dt (K,)`` at ``position (K, 3)``."""
        if self.omega == 0.0:
            return cv_transition(dt)
        return ct_transition(dt, self.omega, position)

    def noise(self, dt: Array) -> Array:
        """Process noise ``Q (K, 6, 6)`` for steps ``dt (K,)``."""
        return white_acceleration_noise(dt, self.q)


def cv_transition(dt: Array) -> Array:
    """Constant-velocity transition ``F (K, 6, 6)`` for steps ``dt (K,)`` (s)."""
    F = np.broadcast_to(np.eye(6), (len(dt), 6, 6)).copy()
    idx = np.arange(3)
    F[:, idx, idx + 3] = dt[:, None]
    return F


def white_acceleration_noise(dt: Array, q: float) -> Array:
    """Discretised continuous white-noise acceleration ``Q (K, 6, 6)``; ``q`` in m^2/s^3."""
    a = np.abs(dt)
    Q = np.zeros((len(dt), 6, 6))
    idx = np.arange(3)
    Q[:, idx, idx] = (q * a**3 / 3.0)[:, None]
    Q[:, idx, idx + 3] = (q * a**2 / 2.0)[:, None]
    Q[:, idx + 3, idx] = Q[:, idx, idx + 3]
    Q[:, idx + 3, idx + 3] = (q * a)[:, None]
    return Q


def cross_matrix(u: Array) -> Array:
    """Cross-product matrices ``K (K, 3, 3)`` with ``K @ v = u x v`` for ``u (K, 3)``."""
    K = np.zeros((len(u), 3, 3))
    K[:, 0, 1], K[:, 0, 2] = -u[:, 2], u[:, 1]
    K[:, 1, 0], K[:, 1, 2] = u[:, 2], -u[:, 0]
    K[:, 2, 0], K[:, 2, 1] = -u[:, 1], u[:, 0]
    return K


def ct_transition(dt: Array, omega: float, position: Array) -> Array:
    """Coordinated-turn transition ``F (K, 6, 6)`` at rate ``omega`` (rad/s) about the vertical.

    Parameters
    ----------
    dt : (K,) array
        Time steps, s.
    omega : float
        Turn rate, rad/s, non-zero; positive turns left (counter-clockwise from above).
    position : (K, 3) array
        ECEF positions (m) defining the local vertical of each row.
    """
    u = position / np.linalg.norm(position, axis=1, keepdims=True)
    K = cross_matrix(u)
    K2 = K @ K
    a = omega * dt
    s, c = np.sin(a), np.cos(a)
    eye = np.eye(3)
    R = eye + s[:, None, None] * K + (1.0 - c)[:, None, None] * K2
    B = (
        dt[:, None, None] * eye
        + ((1.0 - c) / omega)[:, None, None] * K
        + (dt - s / omega)[:, None, None] * K2
    )
    F = np.zeros((len(dt), 6, 6))
    F[:, :3, :3] = eye
    F[:, :3, 3:] = B
    F[:, 3:, 3:] = R
    return F
