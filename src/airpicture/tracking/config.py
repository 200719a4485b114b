"""Tracker configuration: frozen dataclasses, validated once when the tracker is built.

Units are SI and radians. Defaults suit air surveillance with rotating radars (periods of
4-12 s), secondary radars, ADS-B (about 1 Hz) and passive ESM.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Mapping, Sequence

from airpicture.messages import SensorInfo
from airpicture.tracking.filters import FilterKind


class Logic(enum.StrEnum):
    """Track confirmation and deletion logic."""

    M_OF_N = "m_of_n"
    """Confirm with ``m`` hits in the last ``n`` opportunities."""
    SLLR = "sllr"
    """Sequential log-likelihood ratio: confirm above ``log((1 - beta) / alpha)``."""


class Association(enum.StrEnum):
    """Plot-to-track association method."""

    GNN = "gnn"
    """Global nearest neighbour (optimal 2-D assignment per cluster)."""
    JPDA = "jpda"
    """Joint probabilistic data association (Fitzgerald's cheap JPDA weights)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class SensorParams:
    """How the tracker treats one sensor's plots.

    Attributes
    ----------
    filter : FilterKind
        EKF or UKF update for this sensor's plots.
    pd : float
        Detection probability, used by the SLLR score and JPDA.
    false_alarms_per_scan : float
        Expected clutter plots per scan over the coverage, for the SLLR score and JPDA.
    """

    filter: FilterKind = FilterKind.EKF
    pd: float = 0.9
    false_alarms_per_scan: float = 10.0


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrackerConfig:
    """Everything a :class:`airpicture.tracking.tracker.Tracker` needs.

    Attributes
    ----------
    sensors : sequence of SensorInfo
        The nation's sensors; a plot's ``sensor`` column indexes this list.
    nation : str
        Written as ``source`` of the output tracks.
    params : mapping of sensor id to SensorParams
        Per-sensor settings; sensors not named use ``SensorParams()``.
    turn_rates : tuple of float
        Turn rates (rad/s) of the IMM's coordinated-turn models besides CV; empty for CV alone.
    q_cv, q_ct : float
        Acceleration spectral densities (m^2/s^3) of the CV and turn models. The turn models
        also cover the turns between their rates and straight flight: a 2 g turn at 250 m/s
        (0.078 rad/s) misses the predictions of a 10 s radar by ``|omega - omega_j| v T^2 / 2``,
        980 m for CV and 520 m for 0.12 rad/s; ``q_ct = 200`` gives the turn model a position
        sigma ``sqrt(q_ct T^3 / 3)`` of 260 m per axis and a velocity sigma ``sqrt(q_ct T)`` of
        45 m/s over those 10 s, so the plot stays in its gate and the velocity follows. With
        +-0.15 rad/s and 50 m^2/s^3 neither model gated the plots once the mode sequence had
        drifted (at the end of the turn) and the track was lost in half the runs. ``q_ct`` also
        sets the reach of every track's pre-gate
        (:func:`airpicture.tracking.kernels.track_balls`).
    cv_sojourn_s, turn_sojourn_s : float
        Mean time (s) the IMM stays in the constant-velocity mode and in a turn mode (a turn
        ends in CV; see :mod:`airpicture.tracking.imm`). Sojourns as short as a 10 s revisit
        make the mode prior uniform at every scan and the velocity flip between aliases.
    gate_probability : float
        Chi-square gate probability.
    association : Association
    logic : Logic
    confirm_m, confirm_n : int
        M-of-N confirmation (``confirm_n <= 30``); a tentative track that has had ``confirm_n``
        opportunities without confirming is deleted at its next miss.
    delete_misses : int
        Consecutive missed opportunities that delete a confirmed or coasting track.
    miss_tolerance : float
        An opportunity counts as missed after ``miss_tolerance`` revisit periods without a hit.
    max_position_sigma_m : float
        A track whose position sigma (root of the trace) grows past this is deleted.
    sllr_alpha, sllr_beta : float
        False-confirmation and false-deletion probabilities of the SLLR test.
    sllr_drop : float
        A confirmed track is deleted when its score falls this far below its maximum.
    init_speed_sigma : float
        Prior sigma (m/s, per axis) of the velocity of a one-plot track.
    baro_sigma_m : float
        Noise (m) of a barometric altitude used as height.
    height_hold_sigma_mps : float
        A track updated by a plot without height information (2-D radar) also gets a
        pseudo-measurement "vertical rate 0" with this sigma (m/s), so that its unobserved
        height holds instead of drifting on process noise (and biasing the ground range);
        0 turns it off.
    batch_s : float
        Length of the data-time batches (s); batch boundaries are multiples of it.
    lag_s : float
        Plots up to this much older than the processed data time are re-processed in order;
        older ones are counted as late.
    max_future_s : float
        Plots more than this far after the reference time are rejected.
    """

    sensors: Sequence[SensorInfo]
    nation: str = ""
    params: Mapping[str, SensorParams] = dataclasses.field(default_factory=dict)
    turn_rates: tuple[float, ...] = (0.12, -0.12)
    q_cv: float = 1.0
    q_ct: float = 200.0
    cv_sojourn_s: float = 60.0
    turn_sojourn_s: float = 20.0
    gate_probability: float = 0.9995
    association: Association = Association.GNN
    logic: Logic = Logic.M_OF_N
    confirm_m: int = 3
    confirm_n: int = 4
    delete_misses: int = 3
    miss_tolerance: float = 1.5
    max_position_sigma_m: float = 30_000.0
    sllr_alpha: float = 1e-4
    sllr_beta: float = 0.1
    sllr_drop: float = 12.0
    init_speed_sigma: float = 200.0
    baro_sigma_m: float = 60.0
    height_hold_sigma_mps: float = 10.0
    batch_s: float = 1.0
    lag_s: float = 5.0
    max_future_s: float = 60.0

    def __post_init__(self) -> None:
        ids = [s.id for s in self.sensors]
        if len(set(ids)) != len(ids):
            raise ValueError(f"TrackerConfig.sensors: duplicate sensor ids in {ids}")
        unknown = sorted(set(self.params) - set(ids))
        if unknown:
            raise ValueError(f"TrackerConfig.params: unknown sensor ids {unknown}")
        checks = {
            "gate_probability": 0.0 < self.gate_probability < 1.0,
            "confirm_m": 1 <= self.confirm_m <= self.confirm_n,
            "confirm_n": 1 <= self.confirm_n <= 30,
            "delete_misses": 1 <= self.delete_misses <= 30,
            "batch_s": self.batch_s > 0.0,
            "lag_s": self.lag_s >= 0.0,
            "height_hold_sigma_mps": self.height_hold_sigma_mps >= 0.0,
            "cv_sojourn_s": self.cv_sojourn_s > 0.0 and self.turn_sojourn_s > 0.0,
            "q_cv": self.q_cv > 0.0 and self.q_ct > 0.0,
            "turn_rates": all(w != 0.0 and math.isfinite(w) for w in self.turn_rates),
            "sllr_alpha": 0.0 < self.sllr_alpha < 1.0 and 0.0 < self.sllr_beta < 1.0,
        }
        bad = [k for k, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"TrackerConfig: invalid values for {bad}")

    def sensor_params(self, index: int) -> SensorParams:
        """Parameters of the sensor at ``index`` in :attr:`sensors`."""
        return self.params.get(self.sensors[index].id, SensorParams())
