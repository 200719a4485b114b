"""Writing a simulation run to a directory (the documented layout of ``airpicture simulate``).

``DIR/plots.parquet`` (:class:`~airpicture.plot_table.PlotTable`), ``DIR/truth.parquet``
(:class:`~airpicture.truth_table.TruthTable`), ``DIR/objects.parquet``
(:class:`~airpicture.truth_table.ObjectTable`), ``DIR/coverage.parquet``
(:class:`~airpicture.truth_table.CoverageTable`), ``DIR/sensors.json`` (a JSON list of
:class:`~airpicture.messages.SensorInfo`), ``DIR/nations.json`` (nation codes in bit order of the
coverage masks) and ``DIR/summary.json``. Files are first written under temporary names and
renamed when the run completes, so a failed run leaves no partial output behind.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import msgspec

from airpicture.io.parquet import TableWriter, write_table
from airpicture.messages import SensorInfo
from airpicture.plot_table import PlotTable
from airpicture.scenario.simulator import Summary
from airpicture.truth_table import CoverageTable, ObjectTable, TruthTable

PARTIAL = ".partial"
ROW_GROUP_ROWS = 250_000


class DiscardSink:
    """A sink that keeps nothing (for a run whose summary is all that is wanted)."""

    def plots(self, table: PlotTable) -> None:
        pass

    def truth(self, table: TruthTable) -> None:
        pass

    def coverage(self, table: CoverageTable) -> None:
        pass


class ParquetSink:
    """A :class:`~airpicture.scenario.simulator.Sink` streaming into Parquet files in ``out``."""

    def __init__(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        self.out = out
        self._plots = TableWriter(out / f"plots.parquet{PARTIAL}", PlotTable)
        self._truth = TableWriter(out / f"truth.parquet{PARTIAL}", TruthTable)
        self._coverage = TableWriter(out / f"coverage.parquet{PARTIAL}", CoverageTable)
        self._buffer: list[PlotTable] = []
        self._buffered = 0

    def plots(self, table: PlotTable) -> None:
        # The simulator hands plots over step by step; rows are written in large row groups.
        self._buffer.append(table)
        self._buffered += len(table)
        if self._buffered >= ROW_GROUP_ROWS:
            self._write_plots()

    def _write_plots(self) -> None:
        self._plots.write(PlotTable.concat(self._buffer))
        self._buffer, self._buffered = [], 0

    def truth(self, table: TruthTable) -> None:
        self._truth.write(table)

    def coverage(self, table: CoverageTable) -> None:
        self._coverage.write(table)

    def finish(
        self,
        sensors: list[SensorInfo],
        objects: ObjectTable,
        nations: list[str],
        summary: Summary,
    ) -> None:
        """Close the streams, write the small files, and rename everything into place."""
        self._write_plots()
        for w in (self._plots, self._truth, self._coverage):
            w.close()
        write_table(self.out / f"objects.parquet{PARTIAL}", objects)
        (self.out / f"sensors.json{PARTIAL}").write_bytes(
            msgspec.json.format(msgspec.json.encode(sensors), indent=1)
        )
        (self.out / f"nations.json{PARTIAL}").write_text(json.dumps(nations) + "\n")
        (self.out / f"summary.json{PARTIAL}").write_text(
            json.dumps(dataclasses.asdict(summary), indent=1, sort_keys=True) + "\n"
        )
        for name in ("plots.parquet", "truth.parquet", "coverage.parquet", "objects.parquet",
                     "sensors.json", "nations.json", "summary.json"):
            (self.out / f"{name}{PARTIAL}").replace(self.out / name)

    def abort(self) -> None:
        """Remove partial files after a failure."""
        for w in (self._plots, self._truth, self._coverage):
            try:
                w.close()
            except Exception:
                pass
        for p in self.out.glob(f"*{PARTIAL}"):
            p.unlink()


def load_sensors(path: Path) -> list[SensorInfo]:
    """Read ``sensors.json`` written by a run."""
    return msgspec.json.decode(path.read_bytes(), type=list[SensorInfo])
