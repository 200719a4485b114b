"""Track-to-track fusion: partner local tracks in, the shared system picture out.

Pure and vectorised: no I/O, clocks or globals. :class:`Picture` closes epochs on data time
(watermark with bounded lateness) and calls :func:`fuse_epoch`: association (identity
first, then chi-square gating and optimal assignment), covariance intersection, and stable,
deterministic system track numbers. Every epoch carries a picture state hash.
"""

from airpicture.fusion.association import (
    assign_gated,
    chi2_gate,
    mahalanobis3,
    mahalanobis3_pairs,
    match_identity,
)
from airpicture.fusion.covariance_intersection import ci_fuse, ci_fuse_groups, is_spd, spd_status
from airpicture.fusion.epoch import TRACK_ID_LIMIT, fuse_epoch
from airpicture.fusion.motion import predict_cv
from airpicture.fusion.numbering import DEFAULT_MODULUS, assign_stns, stn_candidates
from airpicture.fusion.picture import Picture, validate_reports
from airpicture.fusion.reports import local_tracks_to_table, system_tracks, table_to_local_tracks
from airpicture.fusion.state import EpochResult, FusionConfig, PictureState, picture_hash

__all__ = [
    "DEFAULT_MODULUS",
    "TRACK_ID_LIMIT",
    "EpochResult",
    "FusionConfig",
    "Picture",
    "PictureState",
    "assign_gated",
    "assign_stns",
    "chi2_gate",
    "ci_fuse",
    "ci_fuse_groups",
    "fuse_epoch",
    "is_spd",
    "local_tracks_to_table",
    "mahalanobis3",
    "mahalanobis3_pairs",
    "match_identity",
    "picture_hash",
    "predict_cv",
    "spd_status",
    "stn_candidates",
    "system_tracks",
    "table_to_local_tracks",
    "validate_reports",
]
