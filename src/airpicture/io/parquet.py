"""Columnar tables to and from Parquet (pyarrow), with a documented, flat schema.

Two-dimensional columns are written as one scalar column per component, named by the table's
``COMPONENTS`` map (for example ``position`` becomes ``x``, ``y``, ``z``); fixed-width byte
strings become UTF-8 strings. Writing is deterministic: the same table gives the same bytes.

A table is one Parquet file or a *parts folder*: a directory (named like the file it stands
for, e.g. ``picture.parquet/``) of complete Parquet files ``part-NNNNNN.parquet`` whose rows,
in name order, are the table (what :class:`airpicture.io.recorder.Recorder` writes). Names
starting with ``.`` or ``_`` (a part still being written) are not parts. The readers here
take either form.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from airpicture.columns import ColumnTable

T = TypeVar("T", bound=ColumnTable)

COMPONENTS: dict[str, tuple[str, ...]] = {
    "position": ("x", "y", "z"),
    "velocity": ("vx", "vy", "vz"),
    "z": tuple(f"z{i}" for i in range(6)),
    "sigma": tuple(f"sigma{i}" for i in range(6)),
    "state": ("x", "y", "z", "vx", "vy", "vz"),
    "covariance": tuple(f"p{i}{j}" for i in range(6) for j in range(6)),
}
"""Names of the components of the two-dimensional columns, in order."""

_WRITE_OPTIONS: dict[str, Any] = {"compression": "zstd", "write_statistics": True}


def to_arrow(table: ColumnTable) -> pa.Table:
    """Flatten a columnar table into an Arrow table (see the module docstring)."""
    arrays: dict[str, pa.Array] = {}
    for name, col in table.columns().items():
        if col.ndim >= 2:
            flat = col.reshape(len(col), len(COMPONENTS[name]))
            for j, comp in enumerate(COMPONENTS[name]):
                arrays[comp] = pa.array(np.ascontiguousarray(flat[:, j]))
        elif col.dtype.kind == "S":
            arrays[name] = pa.array(np.char.decode(col, "ascii"), type=pa.string())
        else:
            arrays[name] = pa.array(col)
    return pa.table(arrays)


def from_arrow(data: pa.Table, cls: type[T]) -> T:
    """Rebuild a columnar table of type ``cls`` from its flattened Arrow form."""
    kwargs: dict[str, Any] = {}
    empty = cls.empty()
    for f in dataclasses.fields(cls):
        proto = getattr(empty, f.name)
        if proto.ndim >= 2:
            comps = COMPONENTS[f.name]
            missing = [c for c in comps if c not in data.column_names]
            if missing:
                raise KeyError(f"{cls.__name__}: missing columns {missing}")
            cols = [data.column(c).to_numpy() for c in comps]
            flat = np.stack(cols, axis=1) if cols and len(data) else np.zeros((0, len(comps)))
            kwargs[f.name] = flat.astype(proto.dtype, copy=False).reshape(
                (len(data), *proto.shape[1:])
            )
        else:
            if f.name not in data.column_names:
                raise KeyError(f"{cls.__name__}: missing column {f.name!r}")
            col = data.column(f.name)
            if proto.dtype.kind == "S":
                values = np.array(col.to_pylist(), dtype=object)
                kwargs[f.name] = np.char.encode(values.astype(str), "ascii").astype(proto.dtype)
            else:
                kwargs[f.name] = col.to_numpy().astype(proto.dtype, copy=False)
    return cls(**kwargs)


def write_table(path: str | Path, table: ColumnTable) -> None:
    """Write one table to a Parquet file."""
    pq.write_table(to_arrow(table), str(path), **_WRITE_OPTIONS)


PART_GLOB = "part-*.parquet"
"""The complete files of a parts folder (see the module docstring)."""


def part_files(directory: str | Path) -> list[Path]:
    """The complete parts of a parts folder, in order (``[]`` when there are none)."""
    return sorted(Path(directory).glob(PART_GLOB))


def read_arrow(path: str | Path) -> pa.Table:
    """A Parquet file or a parts folder as one Arrow table (an empty folder: no columns)."""
    p = Path(path)
    if not p.is_dir():
        return pq.read_table(str(p))
    parts = [pq.read_table(str(f)) for f in part_files(p)]
    return pa.concat_tables(parts) if parts else pa.table({})


def read_table(path: str | Path, cls: type[T]) -> T:
    """Read a Parquet file written by :func:`write_table` or :class:`TableWriter`, or a parts
    folder (see the module docstring; an empty one is an empty table)."""
    data = read_arrow(path)
    if data.num_columns == 0:
        return cls.empty()
    return from_arrow(data, cls)


class TableWriter:
    """Streams tables of one type into one Parquet file, one row group per :meth:`write`."""

    def __init__(self, path: str | Path, cls: type[ColumnTable]) -> None:
        self._path = Path(path)
        self._schema = to_arrow(cls.empty()).schema
        self._writer = pq.ParquetWriter(str(self._path), self._schema, **_WRITE_OPTIONS)
        self.rows = 0

    def write(self, table: ColumnTable) -> None:
        """Append the rows of ``table`` (skipped when empty)."""
        if len(table) == 0:
            return
        self._writer.write_table(to_arrow(table).cast(self._schema))
        self.rows += len(table)

    def close(self) -> None:
        """Finish the file (footer and metadata)."""
        self._writer.close()

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
