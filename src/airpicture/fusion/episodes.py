"""De-duplication state of the alert engine: condition episodes and feed silences.

An *episode* is a stretch of time over which a condition holds, with gaps shorter than
``clear_s``: it starts when the condition first becomes true and ends once the condition has
been false for ``clear_s``. An alert is raised when an episode starts, never again within it,
so a condition that flickers, or clears and comes straight back, raises one alert.

:class:`Episodes` keeps integer-keyed episodes (vectorised over keys); :class:`FeedSilence`
the silence episodes of named feeds (a handful): a feed is silent once unheard for
``silent_s``, and its silence ends once it has been heard again for ``clear_s``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

__all__ = ["Episodes", "FeedSilence"]

I64 = NDArray[np.int64]


class Episodes:
    """Integer-keyed episodes: which keys are on, and when each was last true."""

    def __init__(self) -> None:
        self.keys = np.zeros(0, np.int64)
        self.last_true = np.zeros(0)

    def update(self, true_keys: I64, t: float, clear_s: float) -> NDArray[np.bool_]:
        """Record ``true_keys`` at ``t``; return which of ``np.unique(true_keys)`` start a
        new episode."""
        true_keys = np.unique(true_keys)
        alive = t - self.last_true <= clear_s
        keys, last = self.keys[alive], self.last_true[alive]
        new = ~np.isin(true_keys, keys)
        merged = np.union1d(keys, true_keys)
        last_true = np.full(len(merged), t)
        old = ~np.isin(merged, true_keys)
        last_true[old] = last[np.searchsorted(keys, merged[old])]
        self.keys, self.last_true = merged, last_true
        out = np.zeros(len(true_keys), bool)
        out[new] = True
        return out

    def open_keys(self, t: float, clear_s: float) -> I64:
        """Keys whose episode is still open at ``t`` (true within ``clear_s``)."""
        return self.keys[t - self.last_true <= clear_s]


class FeedSilence:
    """Silence episodes of named feeds (module docstring); times are data seconds."""

    def __init__(self, silent_s: float, clear_s: float) -> None:
        self.silent_s, self.clear_s = silent_s, clear_s
        # name -> (last heard, in a silence episode, heard again since (nan: not yet))
        self._feeds: dict[str, tuple[float, bool, float]] = {}

    def update(self, heard: Mapping[str, float], t: float) -> list[tuple[str, float]]:
        """Take in when each feed in ``heard`` was last heard; return ``(name, last heard)``
        of the silences that start at ``t``, by name."""
        for name, when in heard.items():
            last, silent, back = self._feeds.get(name, (-np.inf, False, np.nan))
            if when > last:
                self._feeds[name] = (when, silent, when if silent and np.isnan(back) else back)
        out = []
        for name in sorted(self._feeds):  # feeds: a handful
            last, silent, back = self._feeds[name]
            if t - last > self.silent_s:
                self._feeds[name] = (last, True, np.nan)
                if not silent:  # else the same silence, or one back too briefly to end it
                    out.append((name, last))
            elif silent and t - back >= self.clear_s:
                self._feeds[name] = (last, False, np.nan)  # heard again long enough: over
        return out
