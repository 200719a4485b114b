"""Interacting multiple models (IMM): mixing, model-wise prediction and moment matching.

A track holds ``r`` model-conditioned estimates ``x (K, r, 6)``, ``P (K, r, 6, 6)`` and mode
probabilities ``mu (K, r)`` (Blom and Bar-Shalom, 1988); model 0 is constant velocity (CV),
the others are turns. The mode switches as a Markov chain: over a step ``dt`` the CV mode is
left with probability ``1 - exp(-|dt| / tau_cv)``, for any turn evenly, and a turn with
probability ``1 - exp(-|dt| / tau_turn)``, for CV only (``tau`` the mean sojourn times). A
turn never becomes another turn within one step: a reversal passes through CV. With position
plots ``T`` seconds apart, a turn at ``omega`` predicts a chord ``omega T / 2`` off its
velocity, so alternating left and right turns (a zig-zag) fit a straight flight's plots as
well as CV does, with a velocity ``omega T / 2`` off the truth (34 degrees for 0.12 rad/s on a
10 s radar); a chain that lets a turn reverse at every step settles in that alias, and the
velocity estimate flips from scan to scan. Then::

    c_j    = sum_i Pi_ij mu_i                               (predicted mode probability)
    w_ij   = Pi_ij mu_i / c_j                               (mixing weights)
    x0_j   = sum_i w_ij x_i
    P0_j   = sum_i w_ij (P_i + (x_i - x0_j)(x_i - x0_j)^T)
    x_j^-  = F_j x0_j,   P_j^- = F_j P0_j F_j^T + Q_j       (model-wise prediction)

After the update with model likelihoods ``L_j``, ``mu_j+ = c_j L_j / sum_k c_k L_k``. With one
model the IMM is the plain Kalman filter of that model.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from airpicture.tracking.motion import MotionModel

Array = NDArray[np.float64]


def mode_transition(dt: Array, r: int, sojourn_s: Array) -> Array:
    """Markov mode-transition matrices ``Pi (K, r, r)`` over steps ``dt (K,)`` (s).

    ``Pi[k, i, j]`` is the probability of mode ``j`` after ``dt[k]`` given mode ``i`` before,
    for CV (mode 0) and ``r - 1`` turns with mean sojourn times ``sojourn_s = [tau_cv,
    tau_turn]`` (s); see the module docstring.
    """
    K = len(dt)
    if r == 1:
        return np.ones((K, 1, 1))
    stay_cv = np.exp(-np.abs(dt) / sojourn_s[0])
    stay_turn = np.exp(-np.abs(dt) / sojourn_s[1])
    Pi = np.zeros((K, r, r))
    Pi[:, 0, 0] = stay_cv
    Pi[:, 0, 1:] = ((1.0 - stay_cv) / (r - 1))[:, None]
    Pi[:, 1:, 0] = (1.0 - stay_turn)[:, None]
    turns = np.arange(1, r)
    Pi[:, turns, turns] = stay_turn[:, None]
    return Pi


def imm_predict(
    x: Array,
    P: Array,
    mu: Array,
    dt: Array,
    models: Sequence[MotionModel],
    sojourn_s: Array,
) -> tuple[Array, Array, Array]:
    """Mix and predict every model of ``K`` tracks over ``dt (K,)`` seconds.

    Parameters
    ----------
    x, P : (K, r, 6), (K, r, 6, 6) arrays
        Model-conditioned ECEF states and covariances.
    mu : (K, r) array
        Mode probabilities.
    dt : (K,) array
        Time steps, s (may be negative by a fraction of a batch).
    models : sequence of r MotionModel
    sojourn_s : (2,) array
        Mean sojourn times of the CV mode and of a turn mode, s.

    Returns
    -------
    x_pred, P_pred, c : (K, r, 6), (K, r, 6, 6), (K, r) arrays
        Predicted model states and covariances and the predicted mode probabilities.
    """
    r = len(models)
    if r == 1:
        x0, P0, c = x, P, mu
    else:
        Pi = mode_transition(dt, r, sojourn_s)
        c = np.einsum("ki,kij->kj", mu, Pi)
        w = Pi * mu[:, :, None] / np.maximum(c[:, None, :], 1e-300)
        x0 = np.einsum("kij,kid->kjd", w, x)
        d = x[:, :, None, :] - x0[:, None, :, :]
        spread = P[:, :, None, :, :] + d[..., :, None] * d[..., None, :]
        P0 = np.einsum("kij,kijab->kjab", w, spread)
    x_pred = np.empty_like(x)
    P_pred = np.empty_like(P)
    for j, model in enumerate(models):
        F = model.transition(dt, x0[:, j, :3])
        x_pred[:, j] = np.einsum("kab,kb->ka", F, x0[:, j])
        P_pred[:, j] = F @ P0[:, j] @ F.transpose(0, 2, 1) + model.noise(dt)
    return x_pred, P_pred, c


def imm_combine(x: Array, P: Array, mu: Array) -> tuple[Array, Array]:
    """Moment-matched combined estimate ``(K, 6)``, ``(K, 6, 6)`` of model estimates."""
    if x.shape[1] == 1:
        return x[:, 0], P[:, 0]
    xc = np.einsum("kj,kja->ka", mu, x)
    d = x - xc[:, None, :]
    Pc = np.einsum("kj,kjab->kab", mu, P + d[..., :, None] * d[..., None, :])
    return xc, Pc


def imm_mode_update(c: Array, log_likelihood: Array) -> Array:
    """Posterior mode probabilities ``(K, r)`` from predicted ``c`` and model log-likelihoods."""
    logw = np.log(np.maximum(c, 1e-300)) + log_likelihood
    logw -= logw.max(axis=1, keepdims=True)
    w = np.exp(logw)
    mu = w / w.sum(axis=1, keepdims=True)
    floored = np.maximum(mu, 1e-12)
    return np.asarray(floored / floored.sum(axis=1, keepdims=True), np.float64)
