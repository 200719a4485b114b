"""Parquet recordings of a node: plots, local tracks and the picture, in small complete files.

A recording directory holds ``sensors.json`` (the sensor list the plot table's ``sensor``
column indexes) and three parts folders (:mod:`airpicture.io.parquet`): ``plots.parquet/``
(:class:`PlotTable`), ``local_tracks.parquet/`` and ``picture.parquet/`` (:class:`TrackTable`).
Each holds ``part-000000.parquet``, ``part-000001.parquet``, ...: every part is a complete
Parquet file, written whole (to a hidden ``.part-NNNNNN.parquet.partial``, flushed to disk,
then renamed) once ``part_records`` records (calls) or ``part_s`` wall seconds have gathered.
:func:`airpicture.io.parquet.read_table` reads a folder as one table, so readers take a
recording folder where they took a file.

What a fault costs: a process killed loses only the records not yet in a part (at most
``part_records`` records or ``part_s`` seconds); every part on disk reads. A write that
fails (a full disk: ``ENOSPC``, or any other ``OSError``) is counted, its partial file
removed, and the records are kept in memory and written with the next part once space
returns (retried every ``part_s``): nothing recorded before the last complete record is
lost. Records held past ``max_pending_bytes`` (a disk full for long) are dropped oldest
first and counted. A folder that holds parts is continued after them (a restarted node). The
recorder never raises from :meth:`Recorder.plots`, :meth:`Recorder.local_tracks` or
:meth:`Recorder.picture`: a node keeps running on a full disk.
"""

from __future__ import annotations

import os
import re
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from airpicture.columns import ColumnTable
from airpicture.io.parquet import _WRITE_OPTIONS, PART_GLOB, part_files, read_table, to_arrow
from airpicture.io.picture import tracks2table
from airpicture.messages import LocalTrack, SensorInfo, SystemTrack, decode_json, encode_json
from airpicture.plot_table import PlotTable
from airpicture.track_table import TrackTable

PLOTS, LOCAL_TRACKS, PICTURE, SENSORS = (
    "plots.parquet", "local_tracks.parquet", "picture.parquet", "sensors.json")
_PART = re.compile(r"part-(\d+)\.parquet")


class PartWriter:
    """Records tables of one type into a parts folder (see the module docstring).

    Parameters
    ----------
    directory : path
        The parts folder (created); a folder that already holds parts is continued after
        its last one, and leftover ``.partial`` files of a killed run are removed.
    cls : type of ColumnTable
    part_records : int
        Records (non-empty :meth:`write` calls) per part.
    part_s : float
        Wall seconds after which the records gathered so far make a part.
    max_pending_bytes : int
        Most bytes of records held while parts cannot be written.
    clock : callable
        Wall clock in seconds (injectable for tests).
    """

    def __init__(self, directory: str | Path, cls: type[ColumnTable], *, part_records: int = 30,
                 part_s: float = 10.0, max_pending_bytes: int = 256 << 20,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if part_records < 1 or not part_s > 0 or max_pending_bytes < 1:
            raise ValueError("part_records, part_s and max_pending_bytes must be positive")
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        for stale in self.directory.glob(f".{PART_GLOB}.partial"):
            stale.unlink()
        done = [int(m.group(1)) for f in part_files(self.directory)
                if (m := _PART.fullmatch(f.name))]
        self._next = max(done, default=-1) + 1
        self._schema = to_arrow(cls.empty()).schema
        self._pending: deque[pa.Table] = deque()
        self._pending_bytes = 0
        self._since = 0.0
        self._failing = False  # after a failure, retry every part_s only
        self._clock = clock
        self.part_records = part_records
        self.part_s = part_s
        self.max_pending_bytes = max_pending_bytes
        self.accepted_rows = 0
        """Rows taken by :meth:`write` (in parts, pending or dropped)."""
        self.records = 0
        """Records written into parts."""
        self.rows = 0
        """Rows written into parts."""
        self.parts = 0
        """Parts written by this writer."""
        self.failures = 0
        """Part writes that failed (the records stayed pending)."""
        self.dropped = 0
        """Records dropped, oldest first, past ``max_pending_bytes``."""
        self.last_error = ""
        """The newest failure, as text."""

    @property
    def pending(self) -> int:
        """Records gathered but not yet in a part."""
        return len(self._pending)

    def write(self, table: ColumnTable) -> None:
        """Gather the rows of ``table`` as one record (skipped when empty); write a part when
        one is due."""
        if len(table) == 0:
            return
        data = to_arrow(table).cast(self._schema)
        self.accepted_rows += data.num_rows
        if not self._pending:
            self._since = self._clock()
        self._pending.append(data)
        self._pending_bytes += data.nbytes
        while self._pending_bytes > self.max_pending_bytes and len(self._pending) > 1:
            self._pending_bytes -= self._pending.popleft().nbytes
            self.dropped += 1
        full = len(self._pending) >= self.part_records and not self._failing
        if full or self._clock() - self._since >= self.part_s:
            self.flush()

    def flush(self) -> bool:
        """Write what is gathered as one part now; ``False`` if that failed (counted; the
        records stay gathered and go with the next part)."""
        if not self._pending:
            return True
        name = f"part-{self._next:06d}.parquet"
        partial = self.directory / f".{name}.partial"
        data = pa.concat_tables(self._pending)
        try:
            with partial.open("wb") as fh:
                pq.write_table(data, fh, **_WRITE_OPTIONS)
                fh.flush()
                os.fsync(fh.fileno())
            partial.rename(self.directory / name)
        except OSError as exc:
            self.failures += 1
            self.last_error = f"{name}: {exc}"
            partial.unlink(missing_ok=True)  # frees what the failed write took
            self._since = self._clock()  # retry in part_s, not with every record
            self._failing = True
            return False
        self._next += 1
        self._failing = False
        self.parts += 1
        self.records += len(self._pending)
        self.rows += data.num_rows
        self._pending.clear()
        self._pending_bytes = 0
        return True


class Recorder:
    """Records a node's plots, local tracks and picture into a recording directory.

    ``part_records``, ``part_s`` and ``max_pending_bytes`` apply to each of the three
    streams (see :class:`PartWriter`). Writing ``sensors.json`` happens here and raises
    ``OSError`` when it fails (at start, before any record).
    """

    def __init__(self, directory: str | Path, sensors: Sequence[SensorInfo], *,
                 part_records: int = 30, part_s: float = 10.0,
                 max_pending_bytes: int = 256 << 20) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / SENSORS).write_bytes(encode_json(list(sensors)))

        def writer(name: str, cls: type[ColumnTable]) -> PartWriter:
            return PartWriter(self.directory / name, cls, part_records=part_records,
                              part_s=part_s, max_pending_bytes=max_pending_bytes)

        self._writers = {"plots": writer(PLOTS, PlotTable),
                         "local_tracks": writer(LOCAL_TRACKS, TrackTable),
                         "picture": writer(PICTURE, TrackTable)}

    def plots(self, table: PlotTable) -> None:
        self._writers["plots"].write(table)

    def local_tracks(self, tracks: Sequence[LocalTrack] | TrackTable) -> None:
        table = tracks if isinstance(tracks, TrackTable) else tracks2table(tracks)
        self._writers["local_tracks"].write(table)

    def picture(self, tracks: Sequence[SystemTrack] | TrackTable) -> None:
        table = tracks if isinstance(tracks, TrackTable) else tracks2table(tracks)
        self._writers["picture"].write(table)

    @property
    def rows(self) -> dict[str, int]:
        """Rows taken, per stream (in parts or still pending)."""
        return {name: w.accepted_rows for name, w in self._writers.items()}

    def counters(self) -> dict[str, int]:
        """``<stream>_<counter>`` for every stream and counter: ``records``, ``rows`` and
        ``parts`` written, ``pending`` records, ``failures`` and ``dropped`` records."""
        return {f"{name}_{what}": int(getattr(w, what)) for name, w in self._writers.items()
                for what in ("records", "rows", "parts", "pending", "failures", "dropped")}

    @property
    def last_error(self) -> str:
        """A write failure, the first stream's that has one (``""``: none)."""
        return next((w.last_error for w in self._writers.values() if w.last_error), "")

    def flush(self) -> bool:
        """Write every gathered record now; whether all of it reached the disk."""
        return all([w.flush() for w in self._writers.values()])

    def close(self) -> bool:
        """The last parts (the recorder stays usable); whether everything reached the disk."""
        return self.flush()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_recording(directory: str | Path) -> tuple[
        list[SensorInfo], PlotTable, TrackTable, TrackTable]:
    """``(sensors, plots, local tracks, picture)`` of a recording directory."""
    d = Path(directory)
    sensors = decode_json((d / SENSORS).read_bytes(), list[SensorInfo])
    return (sensors, read_table(d / PLOTS, PlotTable), read_table(d / LOCAL_TRACKS, TrackTable),
            read_table(d / PICTURE, TrackTable))
