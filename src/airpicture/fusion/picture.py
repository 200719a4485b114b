"""The system picture: partner reports in log order, epochs closed on data time.

:class:`Picture` is the stateful shell around the pure :func:`~airpicture.fusion.epoch.fuse_epoch`.
Epoch ``k`` spans data times ``[(k - 1) E, k E)`` (``E = epoch_s``; epochs end on whole
multiples of ``E`` since the Unix epoch, so every node cuts the same epochs). The **watermark**
is the newest data time ingested minus ``lateness_s``; an epoch closes when the watermark
reaches its end, with every pending report older than its end. A report older than an epoch
already closed is *late*: it is counted and fused in the next epoch (it is still the newest
word on its track). Once the picture is empty, the empty epochs up to the next report are
closed as one (they would change nothing but the time), so a gap in the data costs one epoch.

Determinism: the picture is a function of the sequence of :meth:`Picture.ingest` calls.
Call it once per log record (one envelope's reports), in log order, and every node reading
the same log closes the same epochs with the same reports. Inside one call the order of the
rows does not matter.

Bad rows (non-finite numbers, covariances that are not symmetric positive definite, track ids
out of range, empty nation, values beyond :func:`~airpicture.track_table.physical_rows`) are
dropped and counted in :attr:`Picture.rejected`; they never reach the picture.
"""

from __future__ import annotations

import collections
import math

import numpy as np
from numpy.typing import NDArray

from airpicture.fusion.covariance_intersection import spd_status
from airpicture.fusion.epoch import TRACK_ID_LIMIT, fuse_epoch
from airpicture.fusion.state import EpochResult, FusionConfig, PictureState
from airpicture.track_table import TrackTable, physical_rows

__all__ = ["Picture", "validate_reports"]


def validate_reports(reports: TrackTable) -> tuple[NDArray[np.bool_], dict[str, int], bool]:
    """Row mask of usable reports, the count of rejected rows per reason, and whether any
    usable covariance is not exactly symmetric.

    Covariances must be symmetric to within 1e-9 relative; they are used symmetrised.
    """
    n = len(reports)
    if reports.state.shape != (n, 6) or reports.covariance.shape != (n, 6, 6):
        raise ValueError(
            f"reports need state (N, 6) and covariance (N, 6, 6), got "
            f"{reports.state.shape} and {reports.covariance.shape}"
        )
    reasons: dict[str, NDArray[np.bool_]] = {}
    reasons["no_nation"] = np.asarray(reports.source == b"", dtype=bool)
    reasons["bad_track_id"] = (reports.track < 0) | (reports.track >= TRACK_ID_LIMIT)
    reasons["bad_time"] = np.asarray(~np.isfinite(reports.time), dtype=bool)
    reasons["bad_state"] = np.asarray(~np.isfinite(reports.state).all(axis=1), dtype=bool)
    status = spd_status(reports.covariance, 1e-9)
    reasons["bad_covariance"] = status == 0
    reasons["out_of_range"] = ~physical_rows(reports.time, reports.state, reports.covariance)
    bad = np.zeros(n, bool)
    counts = {}
    for reason, mask in reasons.items():
        fresh = mask & ~bad
        if fresh.any():
            counts[reason] = int(np.count_nonzero(fresh))
        bad |= mask
    return ~bad, counts, bool(np.any(status[~bad] == 2))


class Picture:
    """Fusion of partner reports into the system picture, epoch by epoch (module docstring).

    ``ingest`` returns the epochs its reports closed; ``close_epoch`` closes the next epoch
    now (end of data, or a live node's wall-clock deadline); ``flush`` closes every epoch
    that still holds reports.
    """

    def __init__(self, config: FusionConfig | None = None) -> None:
        self.config = config or FusionConfig()
        self.state = PictureState.empty()
        self.rejected: collections.Counter[str] = collections.Counter()
        self.late = 0
        self._pending: list[TrackTable] = []
        self._newest = -math.inf
        self._next_k: int | None = None

    @property
    def watermark(self) -> float:
        """Newest data time ingested minus the allowed lateness."""
        return self._newest - self.config.lateness_s

    @property
    def next_epoch_end(self) -> float | None:
        """End time of the epoch that closes next (``None`` before any report)."""
        return None if self._next_k is None else self._next_k * self.config.epoch_s

    def ingest(self, reports: TrackTable) -> list[EpochResult]:
        """Add one log record's reports; close and return the epochs the watermark passed."""
        ok, counts, asymmetric = validate_reports(reports)
        self.rejected.update(counts)
        if not ok.all():
            reports = reports.take(ok)
        if len(reports):
            if asymmetric:
                cov = reports.covariance
                sym = 0.5 * (cov + cov.transpose(0, 2, 1))
                reports = TrackTable(**{**reports.columns(), "covariance": sym})
            closed_end = self.state.time
            self.late += int(np.count_nonzero(reports.time < closed_end))
            self._pending.append(reports)
            self._newest = max(self._newest, float(reports.time.max()))
            first = math.floor(float(reports.time.min()) / self.config.epoch_s) + 1
            if self._next_k is None or (self.state.time == -math.inf and first < self._next_k):
                # Until an epoch closes, the first epoch is the earliest report's, whatever
                # the order the reports came in.
                self._next_k = first
        results = []
        while self._next_k is not None and self.watermark >= self._next_k * self.config.epoch_s:
            results.append(self._close())
            if not len(results[-1].picture):
                self._skip_empty()
        return results

    def close_epoch(self) -> EpochResult | None:
        """Close the next epoch whatever the watermark (``None`` before any report)."""
        return None if self._next_k is None else self._close()

    def flush(self) -> list[EpochResult]:
        """Close epochs until no report is pending."""
        results = []
        while self._pending and self._next_k is not None:
            results.append(self._close())
        return results

    def _skip_empty(self) -> None:
        """After an epoch that left the picture empty, go straight to the next epoch that
        holds a report or that the watermark closes, whichever is first.

        The epochs in between would change nothing but the time: an empty picture has no
        track to coast and no partner track recent enough to report, and the bindings they
        would forget are forgotten as well at the next epoch closed. So a gap in the data (a
        partner quiet for hours, a forged future time) costs one epoch, not one per
        ``epoch_s``.
        """
        assert self._next_k is not None
        last = math.floor(self.watermark / self.config.epoch_s)
        if self._pending:
            first = min(float(t.time.min()) for t in self._pending)
            last = min(last, math.floor(first / self.config.epoch_s) + 1)
        self._next_k = max(self._next_k, last)

    def _close(self) -> EpochResult:
        assert self._next_k is not None
        end = self._next_k * self.config.epoch_s
        due: list[TrackTable] = []
        later: list[TrackTable] = []
        for table in self._pending:  # one entry per ingested record, not per track
            if table.time.max() < end:
                due.append(table)
            elif table.time.min() >= end:
                later.append(table)
            else:
                now = table.time < end
                due.append(table.take(now))
                later.append(table.take(~now))
        self._pending = later
        reports = due[0] if len(due) == 1 else TrackTable.concat(due)
        self.state, result = fuse_epoch(self.state, reports, end, self.config)
        self._next_k += 1
        return result
