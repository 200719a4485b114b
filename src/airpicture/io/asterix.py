"""ASTERIX ingest: datagrams (or stream blocks) in, plots and status out, by category.

:class:`AsterixDecoder` frames each datagram into datablocks, groups them by category and
hands each group to its decoder: CAT048 (compiled walker) and CAT021 become plots, CAT034
sensor status, CAT062 system tracks, CAT063 sensor biases, CAT065 service status. Other
categories are counted as ``asterix.unknown_category`` and skipped. Each datablock is timed
with its datagram's receive (or capture) time, which places the ASTERIX time of day on the
Unix time line.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from airpicture.io.asterix_blocks import Datablock, split_datagram
from airpicture.io.asterix_cat021 import decode_cat021
from airpicture.io.asterix_cat048 import decode_cat048, reports2plots
from airpicture.io.asterix_cat062_decode import Cat062Track, decode_cat062
from airpicture.io.asterix_status import (
    SensorBias,
    SensorStatus,
    ServiceStatus,
    decode_cat034,
    decode_cat063,
    decode_cat065,
)
from airpicture.io.pcap import Datagram
from airpicture.io.rejections import Rejections
from airpicture.messages import SensorInfo
from airpicture.plot_table import PlotTable

SUPPORTED = (21, 34, 48, 62, 63, 65)


@dataclass
class AsterixBatch:
    """What one call of :meth:`AsterixDecoder.decode` produced."""

    plots: PlotTable
    sensor_status: list[SensorStatus] = field(default_factory=list)
    system_tracks: list[Cat062Track] = field(default_factory=list)
    service_status: list[ServiceStatus] = field(default_factory=list)
    biases: list[SensorBias] = field(default_factory=list)
    records: Counter[int] = field(default_factory=Counter)
    """Datablocks seen, by category."""


class AsterixDecoder:
    """Decodes ASTERIX datagrams from the radars and stations listed in ``sensors``."""

    def __init__(
        self, sensors: Sequence[SensorInfo], rejections: Rejections | None = None,
        source: str = "",
    ) -> None:
        self.sensors = list(sensors)
        self.rejections = rejections if rejections is not None else Rejections()
        self.source = source

    def decode(self, datagrams: Iterable[Datagram]) -> AsterixBatch:
        """Decode datagrams (each with its receive time)."""
        timed: list[tuple[float, Datablock]] = []
        for d in datagrams:
            for block in split_datagram(d.payload, self.rejections, self.source):
                timed.append((d.time, block))
        return self.decode_blocks(timed)

    def decode_blocks(self, timed: Sequence[tuple[float, Datablock]]) -> AsterixBatch:
        """Decode datablocks, each with the time it was received (Unix s)."""
        rej, src = self.rejections, self.source
        by_cat: dict[int, list[tuple[float, bytes]]] = {}
        for t, block in timed:
            by_cat.setdefault(block.category, []).append((t, block.records))
        batch = AsterixBatch(plots=PlotTable.empty())
        batch.records.update({c: len(v) for c, v in by_cat.items()})
        plots: list[PlotTable] = []
        for cat, items in sorted(by_cat.items()):
            times = np.array([t for t, _ in items])
            payloads = [p for _, p in items]
            if cat == 48:
                reports = decode_cat048(payloads, rej, src)
                plots.append(reports2plots(reports, self.sensors, times, rej, src))
            elif cat == 21:
                plots.append(decode_cat021(payloads, self.sensors, times, rej, src))
            elif cat == 34:
                batch.sensor_status.extend(decode_cat034(payloads, rej, src))
            elif cat == 62:
                batch.system_tracks.extend(decode_cat062(payloads, rej, src))
            elif cat == 63:
                batch.biases.extend(decode_cat063(payloads, rej, src))
            elif cat == 65:
                batch.service_status.extend(decode_cat065(payloads, rej, src))
            else:
                rej.add("asterix.unknown_category", len(items), src)
        batch.plots = PlotTable.concat(plots).sorted_by_time() if plots else PlotTable.empty()
        return batch
