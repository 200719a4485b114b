"""Batched multi-sensor tracking: plots of one nation's sensors in, local tracks out.

One module per role: :mod:`.motion` (CV and coordinated-turn models), :mod:`.imm`,
:mod:`.measurement` (radar, SSR, ADS-B, ESM models and Jacobians), :mod:`.filters` (EKF/UKF,
Joseph update), :mod:`.gating` and :mod:`.pregate`, :mod:`.association` (identity first, GNN),
:mod:`.jpda`, :mod:`.initiation`, :mod:`.management`, :mod:`.state` (the struct-of-arrays track
table), :mod:`.scan` (one sensor's round) and :mod:`.tracker` (batches, late plots, output);
:mod:`.kernels` holds the compiled per-pair hot paths.
"""

from airpicture.tracking.config import Association, Logic, SensorParams, TrackerConfig
from airpicture.tracking.filters import FilterKind
from airpicture.tracking.state import TrackArrays
from airpicture.tracking.tracker import Tracker, TrackerOutput
from airpicture.tracking.validation import REASONS

__all__ = [
    "REASONS",
    "Association",
    "FilterKind",
    "Logic",
    "SensorParams",
    "TrackArrays",
    "Tracker",
    "TrackerConfig",
    "TrackerOutput",
]
