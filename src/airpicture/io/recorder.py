"""Parquet recordings of a node: plots, local tracks and the picture, one file each.

A recording directory holds ``plots.parquet`` (:class:`PlotTable`), ``local_tracks.parquet``
and ``picture.parquet`` (:class:`TrackTable`) and ``sensors.json`` (the sensor list the plot
table's ``sensor`` column indexes). Files are streamed with
:class:`airpicture.io.parquet.TableWriter`, one row group per write, and read back with
:func:`airpicture.io.parquet.read_table`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from airpicture.io.parquet import TableWriter, read_table
from airpicture.io.picture import tracks2table
from airpicture.messages import LocalTrack, SensorInfo, SystemTrack, decode_json, encode_json
from airpicture.plot_table import PlotTable
from airpicture.track_table import TrackTable

PLOTS, LOCAL_TRACKS, PICTURE, SENSORS = (
    "plots.parquet", "local_tracks.parquet", "picture.parquet", "sensors.json")


class Recorder:
    """Streams a node's plots, local tracks and picture into a recording directory."""

    def __init__(self, directory: str | Path, sensors: Sequence[SensorInfo]) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / SENSORS).write_bytes(encode_json(list(sensors)))
        self._plots = TableWriter(self.directory / PLOTS, PlotTable)
        self._local = TableWriter(self.directory / LOCAL_TRACKS, TrackTable)
        self._picture = TableWriter(self.directory / PICTURE, TrackTable)

    def plots(self, table: PlotTable) -> None:
        self._plots.write(table)

    def local_tracks(self, tracks: Sequence[LocalTrack] | TrackTable) -> None:
        table = tracks if isinstance(tracks, TrackTable) else tracks2table(tracks)
        self._local.write(table)

    def picture(self, tracks: Sequence[SystemTrack] | TrackTable) -> None:
        table = tracks if isinstance(tracks, TrackTable) else tracks2table(tracks)
        self._picture.write(table)

    @property
    def rows(self) -> dict[str, int]:
        return {"plots": self._plots.rows, "local_tracks": self._local.rows,
                "picture": self._picture.rows}

    def close(self) -> None:
        for w in (self._plots, self._local, self._picture):
            w.close()

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
