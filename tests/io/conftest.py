"""Fixtures of the interoperability tests: the shared real recordings and sensor sets."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from airpicture import geo
from airpicture.io.sensor_config import parse_sensors
from airpicture.messages import Identity, SensorInfo, SystemTrack, TrackStatus

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

# CroatiaControl radars of the cat_034_048.pcap capture (SAC 25). The sites are real Croatian
# radar sites, but their positions are approximate (about 1 km) and which SIC is which site is
# our guess: good enough for decoding tests, not for registration or accuracy studies.
CROATIA_TOML = """
nation = "HR"
[[sensor]]
id = "HR-SLJEME"
kind = "ssr"
lat_deg = 45.90
lon_deg = 15.97
alt_m = 1030.0
sac = 25
sic = 11
[[sensor]]
id = "HR-UCKA"
kind = "ssr"
lat_deg = 45.28
lon_deg = 14.20
alt_m = 1400.0
sac = 25
sic = 12
[[sensor]]
id = "HR-PSUNJ"
kind = "ssr"
lat_deg = 45.40
lon_deg = 17.33
alt_m = 985.0
sac = 25
sic = 13
[[sensor]]
id = "HR-SPLIT"
kind = "ssr"
lat_deg = 43.54
lon_deg = 16.30
alt_m = 650.0
sac = 25
sic = 14
[[sensor]]
id = "HR-ZAGREB-PSR"
kind = "radar"
lat_deg = 45.74
lon_deg = 16.07
alt_m = 110.0
sac = 25
sic = 201
sigma_range_m = 120.0
sigma_azimuth_deg = 0.15
[[sensor]]
id = "HR-PULA"
kind = "ssr"
lat_deg = 44.90
lon_deg = 13.92
alt_m = 80.0
sac = 25
sic = 204
[[sensor]]
id = "HR-DUBROVNIK"
kind = "ssr"
lat_deg = 42.56
lon_deg = 18.27
alt_m = 160.0
sac = 25
sic = 205
[[sensor]]
id = "HR-ADSB-TEST"
kind = "adsb"
lat_deg = 45.80
lon_deg = 16.00
sac = 0
sic = 1
"""


def _data_file(*parts: str) -> Path:
    path = DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real recording {path} is absent (see ../shared/data/README.md)")
    return path


@pytest.fixture(scope="session")
def data_file() -> Callable[..., Path]:
    """``data_file("folder", "file")``: a file of ../shared/data, or skip with the reason."""
    return _data_file


@pytest.fixture(scope="session")
def croatia_sensors() -> list[SensorInfo]:
    return parse_sensors(CROATIA_TOML, "croatia.toml")


@pytest.fixture
def croatia_toml(tmp_path: Path) -> Path:
    path = tmp_path / "croatia.toml"
    path.write_text(CROATIA_TOML)
    return path


def _track(stn: int, lat: float, lon: float, h: float, identity: Identity,
           v_enu: tuple[float, float, float] = (100.0, 100.0, 0.0),
           status: TrackStatus = TrackStatus.CONFIRMED, **kw: object) -> SystemTrack:
    llh = np.array([np.deg2rad(lat), np.deg2rad(lon), h])
    x = geo.geodetic2ecef(llh)
    v = geo.enu2ecefv(np.array(v_enu), llh[:2])
    return SystemTrack(stn=stn, time=1_720_000_000.0, state=[*x, *v],
                       covariance=list((np.eye(6) * 100.0).ravel()),
                       status=status, quality=0.9, identity=identity,
                       **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def picture() -> list[SystemTrack]:
    """Four system tracks: friend (civil), suspect, hostile, and a deleted one."""
    return [
        _track(1, 45.5, 16.0, 10_000.0, Identity.FRIEND, callsign="DLH65A", icao=0x3C660C),
        _track(2, 44.0, 14.5, 3_000.0, Identity.SUSPECT, (-50.0, 0.0, 0.0)),
        _track(3, 43.0, 17.0, 8_000.0, Identity.HOSTILE, (0.0, -200.0, 0.0)),
        _track(4, 42.0, 18.0, 500.0, Identity.PENDING, (0.0, 0.0, 0.0), TrackStatus.DELETED),
    ]
