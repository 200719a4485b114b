"""The bridge to ``libasterix``: the editions we speak and record parsing from the specs.

``libasterix`` (MIT, pure Python) parses and builds ASTERIX from the machine-readable
EUROCONTROL specifications. We use it for the low-rate categories (CAT021, CAT034, CAT062,
CAT063, CAT065) and as the reference that the compiled CAT048 walker is cross-checked against
(:func:`cat048_reference_rows`). It never raises on bad input; it returns ``ValueError``
values, which we turn into counted rejections.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from asterix import generated as gen
from asterix.base import Bits
from numpy.typing import NDArray

from airpicture.io import asterix_cat048_scan as scan

EDITIONS: dict[int, Any] = {
    21: gen.Cat_021_2_6,
    34: gen.Cat_034_1_29,
    48: gen.Cat_048_1_32,
    62: gen.Cat_062_1_20,
    63: gen.Cat_063_1_7,
    65: gen.Cat_065_1_6,
}
"""Category -> the ``libasterix`` edition we decode and encode."""


def parse_records(category: int, records: bytes) -> list[Any] | str:
    """Parse the records of one datablock payload; a string says why it was rejected."""
    spec = EDITIONS.get(category)
    if spec is None:
        return f"unsupported category {category}"
    try:
        result = spec.cv_uap.parse(Bits.from_bytes(records))
    except (IndexError, KeyError, ValueError, TypeError) as exc:  # defensive: never crash
        return f"libasterix raised {type(exc).__name__}: {exc}"
    if isinstance(result, ValueError):
        return str(result)
    return list(result)


def build_block(category: int, records: Sequence[Any]) -> bytes:
    """Unparse ``records`` (built with the edition's ``cv_record.create``) as one datablock."""
    return bytes(EDITIONS[category].create(list(records)).unparse().to_bytes())


def item_uint(record: Any, name: str) -> int | None:
    """The raw bits of a top-level item as an unsigned integer (``None`` when absent)."""
    item = record.get_item(name)
    return None if item is None else int(item.as_uint())


def item_octets(record: Any, name: str) -> bytes | None:
    """The octets of a top-level item as on the wire (``None`` when absent)."""
    item = record.get_item(name)
    return None if item is None else bytes(item.unparse().to_bytes())


def subitem_quantity(record: Any, path: Sequence[str], unit: str) -> float | None:
    """A quantity subitem, e.g. ``("105", "LAT")`` in ``"°"``; ``None`` when absent."""
    node = record.get_item(path[0])
    if node is None:
        return None
    for name in path[1:]:
        node = node.variation.get_item(name)
        if node is None:
            return None
    return float(node.variation.content.as_quantity(unit))


def cat048_reference_rows(blocks: Sequence[bytes]) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """The raw rows of :func:`airpicture.io.asterix_cat048_scan.scan_blocks`, by libasterix.

    Slow (pure Python); for cross-checking only. Returns ``(rows, block_ok)``; rows of
    rejected blocks are absent; the offset and length columns are not filled.
    """
    rows: list[NDArray[np.int64]] = []
    ok = np.ones(len(blocks), bool)
    for i, payload in enumerate(blocks):
        recs = parse_records(48, payload)
        if isinstance(recs, str):
            ok[i] = False
            continue
        for rec in recs:
            rows.append(_cat048_row(rec, i))
    out = np.stack(rows) if rows else np.zeros((0, scan.N_COLUMNS), np.int64)
    return out, ok


_FRN = {name: frn for frn, name in enumerate(
    ["010", "140", "020", "040", "070", "090", "130", "220", "240", "250", "161", "042", "200",
     "170", "210", "030", "080", "100", "110", "120", "230", "260", "055", "050", "065", "060",
     "SP", "RE"])}

_FIXED_COLUMNS = {
    "010": scan.C_010, "140": scan.C_140, "070": scan.C_070, "090": scan.C_090,
    "220": scan.C_220, "240": scan.C_240, "161": scan.C_161, "100": scan.C_100,
    "110": scan.C_110, "230": scan.C_230,
}


def _cat048_row(rec: Any, block: int) -> NDArray[np.int64]:
    row = np.full(scan.N_COLUMNS, -1, np.int64)
    row[scan.C_BLOCK] = block
    mask = 0
    for name in rec.items_regular:
        mask |= 1 << _FRN[name]
    row[scan.C_FSPEC] = mask
    for name, col in _FIXED_COLUMNS.items():
        v = item_uint(rec, name)
        if v is not None:
            row[col] = v
    for name, (c1, c2) in {"040": (scan.C_RHO, scan.C_THETA), "042": (scan.C_X, scan.C_Y),
                           "200": (scan.C_GSP, scan.C_HDG)}.items():
        v = item_uint(rec, name)
        if v is not None:
            row[c1], row[c2] = v >> 16, v & 0xFFFF
    for name, c1, c2 in (("020", scan.C_020A, scan.C_020B), ("170", scan.C_170, -1)):
        octets = item_octets(rec, name)
        if octets is not None:
            row[c1] = octets[0]
            if c2 >= 0 and len(octets) > 1:
                row[c2] = octets[1]
    i250 = rec.get_item("250")
    if i250 is not None:
        row[scan.C_NBDS] = len(i250.variation.get_list())
    i120 = rec.get_item("120")
    if i120 is not None:
        cal = i120.variation.get_item("CAL")
        if cal is not None:
            row[scan.C_CAL] = int(cal.as_uint())
    return row
