"""Fused Numba kernels for the per-pair hot path, one module per concept.

Each kernel loops over (track, plot) pairs, or over tracks, doing the small-matrix algebra of
one pair in registers instead of stacking ``(K, 6, 6)`` temporaries; the NumPy modules
(:mod:`..imm`, :mod:`..motion`, :mod:`..measurement`, :mod:`..filters`) stay the reference.
Kernels are compiled with ``cache=True`` and without ``fastmath``, so results are
deterministic and agree with the NumPy path to rounding.

* :mod:`.inline`: second, always-inlined compilations of small kernels for the hot loops;
* :mod:`.linalg`: Cholesky, forward substitution, Mahalanobis distance;
* :mod:`.imm`: IMM mixing, model-wise prediction, moment matching, per-track summaries;
* :mod:`.combine`: the combined (moment-matched) output estimate of every track;
* :mod:`.ekf`: radar and ADS-B measurement models, innovations, Joseph updates;
* :mod:`.bound`: the one-component bound of the gate, from the mixed means alone;
* :mod:`.gate`: fused IMM prediction and chi-square gate with an exact early rejection;
* :mod:`.grid`: the hash-grid pre-gate;
* :mod:`.gnn`: clusters and the small-cluster Hungarian assignment;
* :mod:`.manage`: missed opportunities and track status, one pass over the tracks.
"""

from airpicture.tracking.kernels.ekf import ADSB, RADAR, ekf_update
from airpicture.tracking.kernels.gate import imm_ekf_gate
from airpicture.tracking.kernels.gnn import gnn_assign
from airpicture.tracking.kernels.grid import ball_pairs
from airpicture.tracking.kernels.imm import (
    commit_updates,
    imm_predict_pairs,
    summarise,
    track_balls,
)
from airpicture.tracking.kernels.manage import count_misses, update_status

__all__ = [
    "ADSB",
    "RADAR",
    "ball_pairs",
    "commit_updates",
    "count_misses",
    "ekf_update",
    "gnn_assign",
    "imm_ekf_gate",
    "imm_predict_pairs",
    "summarise",
    "track_balls",
    "update_status",
]
