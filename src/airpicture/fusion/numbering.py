"""System track numbers (STN): deterministic, stable, and the same on every node.

A new system track takes the number hashed from the partner track that founded it,
``1 + splitmix64(blake2b(nation) ^ track_id) mod (modulus - 1)``, so two nodes that see the
same founding report give the object the same number whatever else they hold. A number in
use (by a live system track or one still remembered) moves up to a free one
(:func:`assign_stns`), in the canonical order of the new tracks, which keeps the result a
function of the log alone.
"""

from __future__ import annotations

import hashlib

import numpy as np
from numpy.typing import NDArray

__all__ = ["DEFAULT_MODULUS", "assign_stns", "stn_candidates"]

DEFAULT_MODULUS = 2**31 - 1
"""STNs run from 1 to ``modulus - 1`` (fits a signed 32-bit integer)."""

_U64 = np.uint64


def _nation_salt(nation: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(nation, digest_size=8).digest(), "little")


def _splitmix64(z: NDArray[np.uint64]) -> NDArray[np.uint64]:
    with np.errstate(over="ignore"):
        z = z + _U64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> _U64(27))) * _U64(0x94D049BB133111EB)
        return z ^ (z >> _U64(31))


def stn_candidates(
    nation: NDArray[np.bytes_], track: NDArray[np.int64], modulus: int = DEFAULT_MODULUS
) -> NDArray[np.int64]:
    """Preferred STN of a system track founded by local track ``track`` of ``nation``."""
    names, inverse = np.unique(nation, return_inverse=True)
    salts = np.array([_nation_salt(bytes(n)) for n in names], dtype=np.uint64)
    mixed = _splitmix64(salts[inverse] ^ track.astype(np.int64).view(np.uint64))
    return (1 + mixed % _U64(modulus - 1)).astype(np.int64)


def assign_stns(
    candidates: NDArray[np.int64], in_use: NDArray[np.int64], modulus: int = DEFAULT_MODULUS
) -> NDArray[np.int64]:
    """Distinct STNs for new tracks (in priority order) avoiding ``in_use``.

    In rounds: every pending track whose number is free, and not also wanted by an earlier
    pending track, takes it; the others move one number up (wrapping to 1) and try again. The
    loop runs only while collisions remain (rare: numbers are hashed over 2^31).
    """
    stn = candidates.astype(np.int64).copy()
    taken = np.unique(in_use)
    pending = np.arange(len(stn))
    while pending.size:
        values = stn[pending]
        _, first = np.unique(values, return_index=True)
        is_first = np.zeros(len(pending), bool)
        is_first[first] = True
        free = is_first & ~np.isin(values, taken)
        taken = np.union1d(taken, values[free])
        pending = pending[~free]
        stn[pending] = stn[pending] % (modulus - 1) + 1
    return stn
