"""What a round shares between its steps: the context, gated pairs and linearisation."""

from __future__ import annotations

import dataclasses

import numpy as np
from numpy.typing import NDArray

from airpicture.messages import SensorKind
from airpicture.tracking import filters
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


@dataclasses.dataclass(frozen=True)
class Pairs:
    """Gated pairs with their predictions: ``track``, ``plot`` ``(K,)``; ``x (K, r, 6)``,
    ``P (K, r, 6, 6)`` and ``c (K, r)`` the IMM prediction to the plot time; ``d2``,
    ``logdet``, ``gate`` ``(K,)`` from the combined prediction."""

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
