"""Compiled record walker for ASTERIX CAT048 (monoradar target reports), edition 1.32.

This is the hot loop of CAT048 decoding, compiled with Numba: it walks the FSPEC and every
item of every record of many datablocks at once and writes the raw integer value of the hot
items into one ``int64`` array (``-1`` where absent). Scaling to SI units is vectorised NumPy
in :mod:`airpicture.io.asterix_cat048`. It is cross-checked record for record against
``libasterix`` in the tests.

Record layout (UAP, FRN: item, octets)::

    FSPEC  1..4 octets, FRN 7k+1..7k+7 in bits 8..2 of octet k, bit 1 = FX
     1 I010 2  SAC, SIC              15 I210 4  track quality
     2 I140 3  time of day, 1/128 s  16 I030 1+ warnings (7 bits + FX per octet)
     3 I020 1+ descriptor (FX), <= 6 17 I080 2  Mode 3/A confidence
     4 I040 4  rho 1/256 NM, theta   18 I100 4  Mode C code + confidence
               360/2^16 deg          19 I110 2  3D height, 25 ft, signed 14 bits
     5 I070 2  V G L - Mode 3/A (12) 20 I120 1+ compound: CAL 2, RDS 1 + 6 n
     6 I090 2  V G FL (14 bits, 1/4) 21 I230 2  comms / ACAS capability
     7 I130 1+ compound, 7 x 1 octet 22 I260 7  ACAS RA report
     8 I220 3  aircraft address      23 I055 1  Mode 1 code
     9 I240 6  callsign, 8 x 6 bits  24 I050 2  Mode 2 code
    10 I250 1+8n Mode S MB data      25 I065 1  Mode 1 confidence
    11 I161 2  track number (12)     26 I060 2  Mode 2 confidence
    12 I042 4  x, y 1/128 NM signed  27 SP   explicit (length octet counts itself)
    13 I200 4  gs 2^-14 NM/s, hdg    28 RE   explicit
    14 I170 1+ track status (FX), <= 2

Block error codes (whole datablock rejected, as libasterix does): 1 FSPEC longer than 4
octets, 2 a record runs past the end of its datablock, 3 an extended item longer than its
edition defines, 4 a compound item with an extended primary subfield, 5 an explicit item of
length 0, 6 a compound primary subfield announcing an undefined subfield.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

# Column indices of the raw output (one row per record).
C_BLOCK, C_OFFSET, C_LENGTH, C_FSPEC = 0, 1, 2, 3
C_010, C_140, C_020A, C_020B, C_RHO, C_THETA = 4, 5, 6, 7, 8, 9
C_070, C_090, C_220, C_240, C_161, C_X, C_Y = 10, 11, 12, 13, 14, 15, 16
C_GSP, C_HDG, C_170, C_110, C_CAL, C_230, C_NBDS, C_100 = 17, 18, 19, 20, 21, 22, 23, 24
N_COLUMNS = 25

ERR_FSPEC, ERR_OVERRUN, ERR_EXTENDED, ERR_COMPOUND, ERR_EXPLICIT, ERR_SUBFIELD = 1, 2, 3, 4, 5, 6
ERROR_REASONS: dict[int, str] = {
    ERR_FSPEC: "cat048.fspec_too_long",
    ERR_OVERRUN: "cat048.record_overruns_block",
    ERR_EXTENDED: "cat048.extended_item_too_long",
    ERR_COMPOUND: "cat048.compound_fspec_too_long",
    ERR_EXPLICIT: "cat048.bad_explicit_length",
    ERR_SUBFIELD: "cat048.undefined_subfield",
}

# Fixed item lengths by FRN - 1; 0 marks variable-length items handled in code.
_FIXED = np.array(
    [2, 3, 0, 4, 2, 2, 0, 3, 6, 0, 2, 4, 4, 0, 4, 0, 2, 4, 2, 0, 2, 7, 1, 2, 1, 2, 0, 0],
    dtype=np.int64,
)


@numba.njit(cache=True, inline="always")
def _be(buf: NDArray[np.uint8], p: int, n: int) -> int:
    v = 0
    for k in range(n):
        v = (v << 8) | buf[p + k]
    return v


@numba.njit(cache=True, inline="always")
def _extended(buf: NDArray[np.uint8], p: int, end: int, max_octets: int) -> int:
    """Octets of an FX-extended item at ``p`` (negative: -ERR code)."""
    k = 0
    while True:
        if p + k >= end:
            return -ERR_OVERRUN
        b = buf[p + k]
        k += 1
        if b & 1 == 0:
            return k
        if max_octets > 0 and k >= max_octets:
            return -ERR_EXTENDED


@numba.njit(cache=True)
def _record(
    buf: NDArray[np.uint8], p: int, end: int, row: NDArray[np.int64], fixed: NDArray[np.int64]
) -> int:
    """Walk one record at ``p``; fill ``row``; return the next offset (negative: -ERR code)."""
    mask = 0
    k = 0
    while True:
        if p >= end:
            return -ERR_OVERRUN
        b = buf[p]
        p += 1
        for j in range(7):
            if b & (0x80 >> j):
                mask |= 1 << (7 * k + j)
        k += 1
        if b & 1 == 0:
            break
        if k >= 4:
            return -ERR_FSPEC
    row[C_FSPEC] = mask
    for frn in range(28):
        if not (mask >> frn) & 1:
            continue
        size = fixed[frn]
        if size > 0:
            if p + size > end:
                return -ERR_OVERRUN
            if frn == 0:
                row[C_010] = _be(buf, p, 2)
            elif frn == 1:
                row[C_140] = _be(buf, p, 3)
            elif frn == 3:
                row[C_RHO] = _be(buf, p, 2)
                row[C_THETA] = _be(buf, p + 2, 2)
            elif frn == 4:
                row[C_070] = _be(buf, p, 2)
            elif frn == 5:
                row[C_090] = _be(buf, p, 2)
            elif frn == 7:
                row[C_220] = _be(buf, p, 3)
            elif frn == 8:
                row[C_240] = _be(buf, p, 6)
            elif frn == 10:
                row[C_161] = _be(buf, p, 2)
            elif frn == 11:
                row[C_X] = _be(buf, p, 2)
                row[C_Y] = _be(buf, p + 2, 2)
            elif frn == 12:
                row[C_GSP] = _be(buf, p, 2)
                row[C_HDG] = _be(buf, p + 2, 2)
            elif frn == 17:
                row[C_100] = _be(buf, p, 4)
            elif frn == 18:
                row[C_110] = _be(buf, p, 2)
            elif frn == 20:
                row[C_230] = _be(buf, p, 2)
            p += size
            continue
        if frn == 2 or frn == 13:  # I020 (<= 6 octets), I170 (<= 2 octets)
            n = _extended(buf, p, end, 6 if frn == 2 else 2)
            if n < 0:
                return n
            if frn == 2:
                row[C_020A] = buf[p]
                if n > 1:
                    row[C_020B] = buf[p + 1]
            else:
                row[C_170] = buf[p]
            p += n
        elif frn == 15:  # I030: 7-bit codes with FX, unbounded
            n = _extended(buf, p, end, 0)
            if n < 0:
                return n
            p += n
        elif frn == 6:  # I130: compound, one primary octet, 7 one-octet subfields
            if p >= end:
                return -ERR_OVERRUN
            prim = buf[p]
            if prim & 1:
                return -ERR_COMPOUND
            n = 0
            for j in range(7):
                if prim & (0x80 >> j):
                    n += 1
            if p + 1 + n > end:
                return -ERR_OVERRUN
            p += 1 + n
        elif frn == 9:  # I250: repetition factor, 8 octets each
            if p >= end:
                return -ERR_OVERRUN
            n = buf[p]
            if p + 1 + 8 * n > end:
                return -ERR_OVERRUN
            row[C_NBDS] = n
            p += 1 + 8 * n
        elif frn == 19:  # I120: compound, CAL (2 octets), RDS (1 + 6 n)
            if p >= end:
                return -ERR_OVERRUN
            prim = buf[p]
            if prim & 1:
                return -ERR_COMPOUND
            if prim & 0x3E:
                return -ERR_SUBFIELD
            p += 1
            if prim & 0x80:
                if p + 2 > end:
                    return -ERR_OVERRUN
                row[C_CAL] = _be(buf, p, 2)
                p += 2
            if prim & 0x40:
                if p >= end:
                    return -ERR_OVERRUN
                n = buf[p]
                if p + 1 + 6 * n > end:
                    return -ERR_OVERRUN
                p += 1 + 6 * n
        else:  # SP, RE: explicit, the length octet counts itself
            if p >= end:
                return -ERR_OVERRUN
            n = buf[p]
            if n == 0:
                return -ERR_EXPLICIT
            if p + n > end:
                return -ERR_OVERRUN
            p += n
    return p


@numba.njit(cache=True)
def scan_blocks(
    buf: NDArray[np.uint8],
    starts: NDArray[np.int64],
    ends: NDArray[np.int64],
    out: NDArray[np.int64],
    block_error: NDArray[np.int8],
) -> int:
    """Walk the records of the datablock payloads ``buf[starts[i]:ends[i]]`` (headers removed).

    ``out`` is ``(capacity, N_COLUMNS)``; rows of a rejected block are rolled back and its
    code is written to ``block_error``. Returns the number of rows written.
    """
    fixed = _FIXED
    n = 0
    for i in range(starts.shape[0]):
        p = starts[i]
        end = ends[i]
        first = n
        while p < end:
            row = out[n]
            row[:] = -1
            row[C_BLOCK] = i
            row[C_OFFSET] = p
            q = _record(buf, p, end, row, fixed)
            if q < 0:
                block_error[i] = -q
                n = first
                break
            row[C_LENGTH] = q - p
            p = q
            n += 1
    return n
