"""Conversions shared by the ASTERIX categories: time of day, ICAO 6-bit text, units.

- Time of day (I048/140, I062/070, I021/073 ...) is seconds since the last UTC midnight in
  units of 1/128 s, 24 bits unsigned. :func:`tod2unix` places it on the Unix time line next to
  a reference time (the capture or receive time), choosing the midnight that puts it within
  half a day of the reference.
- Callsigns (I048/240, I062/245, I062/380 ID, I021/170) are 8 characters of the ICAO 6-bit
  alphabet packed into 48 bits: A-Z are 1-26, space 32, digits 48-57.
- Mode 3/A codes are 12 bits, four octal digits ``ABCD`` with A in the most significant three;
  we carry them as that integer (so squawk 7700 is ``0o7700``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

DAY = 86_400.0
TOD_LSB = 1.0 / 128.0
NM = 1852.0
FT = 0.3048
KT = NM / 3600.0
FL = 100.0 * FT

_ICAO_CHARS = np.full(64, ord("?"), np.uint8)
_ICAO_CHARS[1:27] = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", np.uint8)
_ICAO_CHARS[32] = ord(" ")
_ICAO_CHARS[48:58] = np.frombuffer(b"0123456789", np.uint8)
_ICAO_CODES = {int(c): i for i, c in enumerate(_ICAO_CHARS) if c != ord("?")}


def tod2unix(tod: ArrayLike, ref_time: ArrayLike) -> NDArray[np.float64]:
    """Seconds since UTC midnight to Unix seconds, within half a day of ``ref_time``."""
    tod_a = np.asarray(tod, dtype=np.float64)
    ref = np.asarray(ref_time, dtype=np.float64)
    midnight = np.floor(ref / DAY) * DAY
    t = midnight + tod_a
    t = np.where(t - ref > DAY / 2, t - DAY, t)
    return np.where(ref - t > DAY / 2, t + DAY, t)


def unix2tod(t: ArrayLike) -> NDArray[np.float64]:
    """Unix seconds to seconds since the preceding UTC midnight."""
    return np.mod(np.asarray(t, dtype=np.float64), DAY)


def icao6_decode(raw: ArrayLike) -> NDArray[np.bytes_]:
    """48-bit packed ICAO 6-bit callsigns to ``S8`` strings, trailing spaces removed.

    Codes outside the alphabet decode to ``?``; negative inputs (absent) decode to ``b""``.
    """
    r = np.asarray(raw, dtype=np.int64)
    shifts = np.arange(42, -1, -6, dtype=np.int64)
    codes = (np.maximum(r, 0)[:, None] >> shifts[None, :]) & 63
    chars = _ICAO_CHARS[codes]
    out = np.ascontiguousarray(chars).view("S8").reshape(len(r))
    out = np.char.rstrip(out, b" ").astype("S8")
    out[r < 0] = b""
    return out


def icao6_encode(text: str) -> int:
    """One callsign (up to 8 characters, padded with spaces) to its 48-bit ICAO 6-bit form."""
    t = text.upper().ljust(8)[:8]
    v = 0
    for ch in t:
        code = _ICAO_CODES.get(ord(ch))
        if code is None:
            raise ValueError(f"character {ch!r} of {text!r} is not in the ICAO 6-bit alphabet")
        v = (v << 6) | code
    return v


def signed(raw: NDArray[np.int64], bits: int) -> NDArray[np.int64]:
    """Two's-complement ``bits``-bit raw values to signed integers (negative raw stays -1)."""
    r = raw & ((1 << bits) - 1)
    return np.where(r >= 1 << (bits - 1), r - (1 << bits), r)


def mode3a_to_str(code: int) -> str:
    """The four octal digits of a 12-bit Mode 3/A code."""
    return f"{code:04o}"
