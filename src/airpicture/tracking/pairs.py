"""What a round shares between its steps: the context, gated pairs and linearisation."""

from __future__ import annotations

import dataclasses

import numpy as np
from numpy.typing import NDArray

from airpicture.messages import SensorKind
from airpicture.tracking import filters, measurement
from airpicture.tracking.config import TrackerConfig
from airpicture.tracking.motion import MotionModel
from airpicture.tracking.sensors import SensorArrays

Array = NDArray[np.float64]
Index = NDArray[np.intp]


@dataclasses.dataclass(frozen=True)
class Context:
    """What every round needs besides tracks and plots."""

    config: TrackerConfig
    sensors: SensorArrays
    models: tuple[MotionModel, ...]

    @property
    def omegas(self) -> Array:
        """Turn rates ``(r,)`` (rad/s) of the models, 0 for CV."""
        return np.array([m.omega for m in self.models], np.float64)

    @property
    def qs(self) -> Array:
        """Process-noise densities ``(r,)`` (m^2/s^3) of the models."""
        return np.array([m.q for m in self.models], np.float64)

    @property
    def sojourns(self) -> Array:
        """Mean sojourn times ``[tau_cv, tau_turn]`` (s) of the CV mode and a turn mode."""
        return np.array([self.config.cv_sojourn_s, self.config.turn_sojourn_s], np.float64)


@dataclasses.dataclass(frozen=True)
class Pairs:
    """Gated pairs with their predictions: ``track``, ``plot`` ``(K,)``; ``x (K, r, 6)``,
    ``P (K, r, 6, 6)`` and ``c (K, r)`` the IMM prediction to the plot time; ``d2``,
    ``logdet``, ``gate`` ``(K,)`` from the combined prediction (from the best model's own,
    where only that gates the plot: :func:`airpicture.tracking.gating.imm_gate`)."""

    track: Index
    plot: Index
    x: Array
    P: Array
    c: Array
    d2: Array
    logdet: Array
    gate: Array

    def take(self, index: Index | NDArray[np.bool_]) -> Pairs:
        return Pairs(**{f.name: getattr(self, f.name)[index] for f in dataclasses.fields(self)})


def group_columns(code: int, m: int) -> Index:
    """Component indices present in a group ``code`` (bit ``i`` set: component ``i``)."""
    return np.flatnonzero([(code >> i) & 1 for i in range(m)]).astype(np.intp)


def sigma_of(zf: Array, R: Array) -> Array:
    """One-sigma noise of every full component, from the diagonal of ``R``."""
    return np.sqrt(np.diagonal(R, axis1=1, axis2=2)).reshape(zf.shape)


def linearise_pairs(
    kind: SensorKind, cols: Index, x: Array, P: Array, sensor: int, ctx: Context, z: Array,
    R: Array,
) -> tuple[filters.Linearisation, Array]:
    """Linearise ``cols`` of the model at ``x``, ``P`` and return it with the innovations."""
    n = len(x)
    sens = ctx.sensors
    site = np.broadcast_to(sens.site[sensor], (n, 3))
    rot = np.broadcast_to(sens.rot[sensor], (n, 3, 3))
    Rs = R[:, cols][:, :, cols]
    lin = filters.linearise(sens.filter[sensor], kind, cols, x, P, site, rot, Rs)
    return lin, filters.residual(kind, cols, z[:, cols], lin.zhat)


def model_distances(
    kind: SensorKind, cols: Index, xc: Array, Pc: Array, xm: Array, Pm: Array, sensor: int,
    ctx: Context, z: Array, R: Array,
) -> tuple[Array, Array]:
    """``d2`` and ``log det S`` of a model's predictions ``xm (K, 6)``, ``Pm`` for its own gate.

    With the EKF the model is linearised at the combined prediction ``xc``, ``Pc`` (one ``H``
    for all, as in :mod:`.kernels.gate`) with its own predicted measurement ``h(xm)``; with the
    UKF each model's own sigma points give ``zhat`` and ``S``.
    """
    if ctx.sensors.filter[sensor] is filters.FilterKind.UKF:
        lin, y = linearise_pairs(kind, cols, xm, Pm, sensor, ctx, z, R)
        return filters.mahalanobis(y, lin.S)
    lin, _ = linearise_pairs(kind, cols, xc, Pm, sensor, ctx, z, R)
    n = len(xm)
    site = np.broadcast_to(ctx.sensors.site[sensor], (n, 3))
    rot = np.broadcast_to(ctx.sensors.rot[sensor], (n, 3, 3))
    zhat = measurement.predict(kind, xm, site, rot)[:, cols]
    return filters.mahalanobis(filters.residual(kind, cols, z[:, cols], zhat), lin.S)
