"""Continuity of system tracks: which other track went on holding a track's object.

A system track can leave the picture while its object is still held under another number.
Two cases are common, and neither shows at the moment the old number ends (by then the old
track has drifted kilometres off its object, so nothing is near it):

- **Successor.** A partner's tracker loses the object in a manoeuvre, keeps reporting its old
  track on a predicted, diverging path for tens of seconds, and meanwhile starts a new local
  track on the object. Fusion cannot give the new track the old number while the old partner
  track is still current, so a new system track is *born* a few kilometres from the old one,
  which drifts off and ends some 20-40 s later.
- **Companion.** Two system tracks on one object (a dual track: one partner's two tracks, or
  two partners' tracks that did not associate) run side by side, with about the same
  velocity, until one of them drifts off and ends.

:class:`TrackLinks` records both from the picture alone, epoch by epoch: *companions* are
pairs within ``gap_m`` of each other whose velocities differ by at most ``dv_mps``;
*successors* are pairs of a track born this epoch and another track within
``gap_m + v reacquire_s`` of it (``v`` the larger of the two speeds: how far the object can
have flown while the old track drifted before the new one was confirmed). A link is kept
``window_s`` after it was last seen. Everything is a function of the picture sequence, so
every node records the same links.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

__all__ = ["TrackLinks"]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
_SHIFT = 31  # STNs are below 2**31 (fusion.numbering.DEFAULT_MODULUS)


class TrackLinks:
    """Recent companion and successor links between system track numbers (module docstring).

    Parameters are in metres, metres per second and seconds of data time.
    """

    def __init__(self, gap_m: float, dv_mps: float, reacquire_s: float, window_s: float) -> None:
        self.gap_m, self.dv_mps = gap_m, dv_mps
        self.reacquire_s, self.window_s = reacquire_s, window_s
        self.keys = np.zeros(0, np.int64)  # (stn << 31) | partner stn, sorted, both directions
        self.time = np.zeros(0)  # data time each link was last seen

    def __len__(self) -> int:
        return len(self.keys)

    def update(self, stn: I64, state: F64, born: NDArray[np.bool_], t: float) -> None:
        """Record this epoch's links: ``stn`` ``(N,)``, ECEF ``state`` ``(N, 6)`` (m, m/s),
        ``born`` ``(N,)`` the tracks new in the picture this epoch, at data time ``t``."""
        stn = np.asarray(stn, np.int64)
        if len(stn) and not 0 <= int(stn.min()) <= int(stn.max()) < 1 << _SHIFT:
            raise ValueError(f"track numbers must lie in [0, 2**{_SHIFT}), got {stn.max()}")
        a = b = np.zeros(0, np.int64)
        if len(stn) > 1:
            pos, vel = state[:, :3], state[:, 3:]
            tree = cKDTree(pos)
            pairs = tree.query_pairs(self.gap_m, output_type="ndarray").astype(np.int64)
            i, j = pairs[:, 0], pairs[:, 1]
            alike = np.linalg.norm(vel[i] - vel[j], axis=1) <= self.dv_mps
            a, b = i[alike], j[alike]
            new = np.flatnonzero(born)
            if new.size:
                speed = np.linalg.norm(vel, axis=1)
                reach = self.gap_m + float(speed.max()) * self.reacquire_s
                near = cKDTree(pos[new]).sparse_distance_matrix(tree, reach, output_type="ndarray")
                n, o = new[near["i"]].astype(np.int64), near["j"].astype(np.int64)
                ok = (n != o) & (
                    near["v"] <= self.gap_m + np.maximum(speed[n], speed[o]) * self.reacquire_s
                )
                a, b = np.concatenate([a, n[ok]]), np.concatenate([b, o[ok]])
        keys = np.concatenate([self.keys, (stn[a] << _SHIFT) | stn[b], (stn[b] << _SHIFT) | stn[a]])
        times = np.concatenate([self.time, np.full(2 * len(a), t)])
        keys, inverse = np.unique(keys, return_inverse=True)
        last = np.full(len(keys), -np.inf)
        np.maximum.at(last, inverse, times)
        keep = last >= t - self.window_s
        self.keys, self.time = keys[keep], last[keep]

    def partners(self, stn: I64, t: float) -> tuple[I64, I64]:
        """Links of ``stn`` ``(M,)`` seen within ``window_s`` before ``t``: pairs of an index
        into ``stn`` and the linked track number, ordered by index then number."""
        stn = np.asarray(stn, np.int64)
        lo = np.searchsorted(self.keys, stn << _SHIFT)
        hi = np.searchsorted(self.keys, (stn + 1) << _SHIFT)
        count = hi - lo
        index = np.repeat(np.arange(len(stn), dtype=np.int64), count)
        offset = np.arange(int(count.sum()), dtype=np.int64) - np.repeat(
            np.cumsum(count) - count, count
        )
        rows = np.repeat(lo, count) + offset
        recent = self.time[rows] >= t - self.window_s
        return index[recent], self.keys[rows[recent]] & ((1 << _SHIFT) - 1)
