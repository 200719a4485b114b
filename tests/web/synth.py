"""Small hand-placed pictures for the web tests (fast, exact positions)."""

from __future__ import annotations

import numpy as np

from airpicture import geo
from airpicture.messages import (
    LocalTrack,
    LocalTrackRef,
    SensorInfo,
    SensorKind,
    SystemTrack,
    TrackStatus,
)
from airpicture.web.recording import RecordedSource
from airpicture.web.source import PartnerStatus, PictureSnapshot

T0 = 1_780_272_000.0

# (stn, lat deg, lon deg, alt m): both sides of the antimeridian, and far from it
PLACES = [
    (101, 10.0, 179.5, 10_000.0),
    (102, -5.0, -179.5, 11_000.0),
    (103, 0.0, 170.0, 3_000.0),
    (104, 5.0, -170.5, 9_000.0),
    (105, 35.0, 139.8, 12_000.0),
    (106, -33.9, 151.2, 500.0),
    (107, 14.5, 121.0, 7_500.0),
    (108, 20.0, 160.0, 10_500.0),
]

SENSORS = [
    SensorInfo(id="FJI-R-1", nation="AUS", kind=SensorKind.RADAR, lat_deg=-17.8,
               lon_deg=178.4, alt_m=50.0, max_range_m=400e3, period_s=5.0),
    SensorInfo(id="JPN-R-1", nation="JPN", kind=SensorKind.RADAR, lat_deg=35.5,
               lon_deg=139.8, alt_m=50.0, max_range_m=400e3, period_s=5.0,
               sector_rad=[0.0, 3.0]),
]


def _state(lat: float, lon: float, alt: float, t: float) -> list[float]:
    llh = np.array([np.radians(lat), np.radians(lon), alt])
    vel = geo.enu2ecefv(np.array([200.0, 50.0, 0.0]), llh[:2])
    pos = geo.geodetic2ecef(llh) + vel * (t - T0)
    return [*pos.tolist(), *vel.tolist()]


def frame(k: int) -> PictureSnapshot:
    t = T0 + k
    cov = np.diag([300.0**2, 200.0**2, 100.0**2, 10.0, 10.0, 10.0]).ravel().tolist()
    tracks: list[SystemTrack] = []
    jpn: list[LocalTrack] = []
    aus: list[LocalTrack] = []
    for i, (stn, lat, lon, alt) in enumerate(PLACES):
        state = _state(lat, lon, alt, t)
        nation = "JPN" if i % 2 == 0 else "AUS"
        local = LocalTrack(nation=nation, track_id=i + 1, time=t, state=state, covariance=cov,
                           status=TrackStatus.CONFIRMED, quality=0.9, sensors=[f"{nation}-R-1"],
                           last_update=t - 1.0, callsign=f"TST{stn}")
        (jpn if nation == "JPN" else aus).append(local)
        tracks.append(SystemTrack(
            stn=stn, time=t, state=state, covariance=cov, status=TrackStatus.CONFIRMED,
            quality=0.9, nations=[nation], callsign=f"TST{stn}",
            contributors=[LocalTrackRef(nation=nation, track_id=i + 1)]))
    return PictureSnapshot(epoch=round(t), time=t, hash=f"h{k}", tracks=tracks,
                           local={"JPN": jpn, "AUS": aus},
                           partners=[PartnerStatus(nation="JPN", link="up", last_report=t),
                                     PartnerStatus(nation="AUS", link="stale")])


def synthetic_source(frames: int = 3) -> RecordedSource:
    return RecordedSource([frame(k) for k in range(frames)], SENSORS)


def crowd_source(n: int, frames: int = 2) -> RecordedSource:
    """``n`` tracks on a grid over the Philippine Sea (STN 1000..), no local tracks."""
    cov = np.diag([300.0**2, 200.0**2, 100.0**2, 10.0, 10.0, 10.0]).ravel().tolist()
    side = int(np.ceil(np.sqrt(n)))

    def snapshot(k: int) -> PictureSnapshot:
        t = T0 + k
        tracks = [SystemTrack(stn=1000 + i, time=t, state=_state(5.0 + 0.5 * (i // side),
                                                                  125.0 + 0.5 * (i % side),
                                                                  9_000.0, t),
                              covariance=cov, status=TrackStatus.CONFIRMED, quality=0.9,
                              nations=["JPN"])
                  for i in range(n)]
        return PictureSnapshot(epoch=round(t), time=t, hash=f"c{k}", tracks=tracks)

    return RecordedSource([snapshot(k) for k in range(frames)], SENSORS)
