"""A small recorded run on disk, as ``airpicture simulate`` + trackers + fusion would leave it."""

from __future__ import annotations

from pathlib import Path

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from airpicture import geo
from airpicture.io.parquet import write_table
from airpicture.messages import Identity, SensorInfo, SensorKind
from airpicture.track_table import IDENTITY_CODES, TrackTable
from airpicture.truth_table import ObjectClass, ObjectTable, TruthTable

T0 = 1_700_000_000.0
STEPS = 120
N_OBJ = 6

SENSORS = [
    SensorInfo(id="FR-R1", nation="FR", kind=SensorKind.RADAR, lat_deg=49.6, lon_deg=6.6,
               alt_m=200.0, max_range_m=250e3, period_s=4.0, sigma=[60.0, 0.0015, 0.003]),
    SensorInfo(id="DE-R1", nation="DE", kind=SensorKind.RADAR, lat_deg=50.4, lon_deg=7.4,
               alt_m=200.0, max_range_m=250e3, period_s=5.0, sigma=[60.0, 0.0015, 0.003]),
    SensorInfo(id="DE-A1", nation="DE", kind=SensorKind.ADSB, lat_deg=50.0, lon_deg=7.0,
               alt_m=100.0, max_range_m=300e3, period_s=1.0, sigma=[40.0, 40.0, 60.0]),
]


def write_run(out: Path, seed: int = 11) -> dict[str, Path]:
    """Write truth, objects, sensors, coverage, tracks (FR, DE) and two node pictures."""
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    llh = np.column_stack([np.radians(49.8 + 0.08 * np.arange(N_OBJ)),
                           np.radians(6.8 + 0.08 * np.arange(N_OBJ)),
                           np.full(N_OBJ, 8000.0)])
    p0 = geo.geodetic2ecef(llh)
    heading = np.linspace(0.0, 2 * np.pi, N_OBJ, endpoint=False)
    v = geo.enu2ecefv(np.column_stack([150 * np.sin(heading), 150 * np.cos(heading),
                                       np.zeros(N_OBJ)]), llh[:, :2])
    t = T0 + np.arange(STEPS, dtype=float)
    time = np.repeat(t, N_OBJ)
    obj = np.tile(np.arange(N_OBJ), STEPS)
    pos = p0[obj] + (time - T0)[:, None] * v[obj]
    vel = v[obj]
    write_table(out / "truth.parquet", TruthTable(time, obj.astype(np.int64), pos, vel))
    cls = np.full(N_OBJ, ObjectClass.AIRLINER, np.uint8)
    cls[5] = ObjectClass.NONCOOPERATIVE
    coop = cls != ObjectClass.NONCOOPERATIVE
    objects = ObjectTable(
        id=np.arange(N_OBJ, dtype=np.int64), cls=cls,
        icao=np.where(coop, 0x400000 + np.arange(N_OBJ), -1).astype(np.int32),
        mode3a=np.where(coop, 0o1000 + np.arange(N_OBJ), -1).astype(np.int16),
        callsign=np.array([f"AP{i}".encode() for i in range(N_OBJ)], "S8"),
        transponder=coop, adsb=coop, emitter=~coop, rcs=np.full(N_OBJ, 10.0),
        nacp=np.where(coop, 9, -1).astype(np.int8), nacv=np.where(coop, 2, -1).astype(np.int8),
    )
    write_table(out / "objects.parquet", objects)
    (out / "sensors.json").write_bytes(msgspec.json.encode(SENSORS))
    # coverage: FR's radar sees objects 0-3, DE's radar 2-5, ADS-B the cooperative ones
    cover = {"FR-R1": obj <= 3, "DE-R1": obj >= 2, "DE-A1": coop[obj]}
    pq.write_table(pa.table({k: pa.array(c) for k, c in cover.items()}),
                   str(out / "coverage.parquet"))
    neutral = IDENTITY_CODES.index(Identity.NEUTRAL)
    suspect = IDENTITY_CODES.index(Identity.SUSPECT)

    def tracks(source: str, objs: list[int], period: float, phase: float,
               stn: dict[int, int]) -> TrackTable:
        times = T0 + phase + np.arange(0.0, STEPS - phase, period)
        rows = [(tt, o) for tt in times for o in objs]
        n = len(rows)
        tab = TrackTable.blank(n)
        tt = np.array([r[0] for r in rows])
        oo = np.array([r[1] for r in rows])
        tab.time[:] = tt
        tab.track[:] = [stn.get(o, 100 + o) for o in oo]
        tab.source[:] = source.encode()
        tab.state[:, :3] = p0[oo] + (tt - T0)[:, None] * v[oo] + rng.normal(0, 50.0, (n, 3))
        tab.state[:, 3:] = v[oo] + rng.normal(0, 3.0, (n, 3))
        tab.covariance[:] = np.diag([2500.0] * 3 + [9.0] * 3)
        tab.identity[:] = np.where(coop[oo], neutral, suspect)
        tab.icao[:] = objects.icao[oo]
        tab.mode3a[:] = objects.mode3a[oo]
        return tab

    local = TrackTable.concat([tracks("FR", [0, 1, 2, 3], 4.0, 0.3, {}),
                               tracks("DE", [2, 3, 4, 5], 5.0, 0.7, {})])
    write_table(out / "tracks.parquet", local)
    stn = {o: 5000 + o for o in range(N_OBJ)}
    write_table(out / "node-fr.parquet", tracks("node-fr", list(range(N_OBJ)), 2.0, 0.5, stn))
    stn_de = dict(stn)
    stn_de[4] = 6004  # the DE node numbers object 4 differently
    write_table(out / "node-de.parquet", tracks("node-de", list(range(N_OBJ)), 2.0, 0.5,
                                                stn_de))
    return {name: out / f"{name}.parquet"
            for name in ("truth", "objects", "tracks", "node-fr", "node-de", "coverage")}
