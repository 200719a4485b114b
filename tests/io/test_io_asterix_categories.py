"""CAT021, CAT034, CAT062, CAT063, CAT065: real recordings decode; our encodings round-trip
through libasterix and through an independent decoder (asterix4py, installed for tests)."""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pytest

from airpicture import geo
from airpicture.io.asterix import AsterixDecoder
from airpicture.io.asterix_blocks import split_stream
from airpicture.io.asterix_cat021 import decode_cat021
from airpicture.io.asterix_cat062 import SdpsIdentity, TrackExtras, encode_cat062
from airpicture.io.asterix_cat062_decode import decode_cat062
from airpicture.io.asterix_common import FT, icao6_encode
from airpicture.io.asterix_lib import EDITIONS, build_block
from airpicture.io.asterix_status import (
    SensorBias,
    ServiceStatus,
    decode_cat063,
    decode_cat065,
    encode_cat063,
    encode_cat065,
)
from airpicture.io.rejections import Rejections
from airpicture.io.replay import read_asterix_file
from airpicture.messages import LocalTrackRef, SensorInfo, SystemTrack, TrackStatus


def test_croatia_cat062_and_cat065_decode(data_file: Callable[..., Path]) -> None:
    rej = Rejections()
    blocks = split_stream(data_file("asterix_croatiacontrol", "cat062cat065.raw").read_bytes(),
                          rej)
    assert [b.category for b in blocks] == [62, 65]
    tracks = decode_cat062([blocks[0].records], rej)
    assert [t.track_number for t in tracks] == [4980, 7977]
    assert all((t.sac, t.sic) == (25, 100) for t in tracks)
    t = tracks[1]
    assert t.callsign == "SXD4723" and t.icao == 3934805 and t.mode3a == 0o2535
    assert t.lat_deg == pytest.approx(45.40081, abs=1e-5)
    assert t.lon_deg == pytest.approx(15.13318, abs=1e-5)
    assert (t.vx_ms, t.vy_ms) == (141.5, -170.75)
    assert t.measured_sensor == (25, 13)
    status = decode_cat065([blocks[1].records], rej)
    assert len(status) == 1 and status[0].message_type == 2 and status[0].batch == 24
    assert rej.total() == 0


def test_croatia_pcap_cat034_and_cat062(data_file: Callable[..., Path],
                                        croatia_sensors: list[SensorInfo]) -> None:
    rej = Rejections()
    dec = AsterixDecoder(croatia_sensors, rej)
    batch = dec.decode(read_asterix_file(data_file("asterix_croatiacontrol",
                                                   "cat_034_048.pcap"), rej))
    assert len(batch.sensor_status) == 34
    assert {s.message for s in batch.sensor_status} <= {"north_marker", "sector_crossing"}
    assert len(batch.plots) == 126
    batch2 = dec.decode(read_asterix_file(data_file("asterix_croatiacontrol",
                                                    "cat_062_065.pcap"), rej))
    assert len(batch2.system_tracks) == 2 and len(batch2.service_status) == 1


def test_cat021_real_reports_lack_height_and_are_counted(
    data_file: Callable[..., Path], croatia_sensors: list[SensorInfo]
) -> None:
    rej = Rejections()
    blocks = split_stream(data_file("asterix_croatiacontrol", "cat21_re.ast").read_bytes(), rej)
    plots = decode_cat021([b.records for b in blocks], croatia_sensors, 1.46e9, rej)
    assert len(plots) == 0 and rej.by_reason() == {"cat021.no_height": 2}


def test_cat021_generated_report_to_plot(croatia_sensors: list[SensorInfo]) -> None:
    spec = EDITIONS[21]
    lat, lon, h_ft = 45.123456, 15.654321, 35000.0
    rec = spec.cv_record.create({
        "010": (("SAC", 0), ("SIC", 1)),
        "073": round(3600.5 * 128),
        "131": (("LAT", round(lat / (180 / 2**30))), ("LON", round(lon / (180 / 2**30)))),
        "140": round(h_ft / 6.25),
        "160": (("RE", 0), ("GS", round(250 / 1852 * 2**14)), ("TA", round(90 / 360 * 2**16))),
        "080": 0x3C660C,
        "170": icao6_encode("DLH65A"),
        "090": (0, 0b0001001 << 1 | 0),
    })
    block = build_block(21, [rec])
    rej = Rejections()
    plots = decode_cat021([block[3:]], croatia_sensors, 0.5 * 86400 + 3000, rej)
    assert rej.total() == 0 and len(plots) == 1
    assert plots.time[0] == pytest.approx(3600.5)  # the midnight nearest the reference
    llh = geo.ecef2geodetic(plots.z[0, :3])
    assert np.rad2deg(llh[0]) == pytest.approx(lat, abs=1e-6)
    assert np.rad2deg(llh[1]) == pytest.approx(lon, abs=1e-6)
    assert llh[2] == pytest.approx(h_ft * FT, abs=1.0)
    v_enu = geo.ecef2enuv(plots.z[0, 3:], llh[:2])
    assert v_enu[0] == pytest.approx(250.0, abs=0.5) and abs(v_enu[1]) < 0.5
    assert plots.icao[0] == 0x3C660C and plots.callsign[0] == b"DLH65A"


# --- CAT062 out ----------------------------------------------------------------------------

def _track(stn: int, lat: float, lon: float, h: float, v_enu: list[float],
           status: TrackStatus = TrackStatus.CONFIRMED, **kw: Any) -> SystemTrack:
    llh = np.array([np.deg2rad(lat), np.deg2rad(lon), h])
    x = geo.geodetic2ecef(llh)
    rot = geo.ecef2enu_rotation(llh[:2])
    p_enu = np.diag([30.0**2, 40.0**2, 50.0**2])
    p = np.zeros((6, 6))
    p[:3, :3] = rot.T @ p_enu @ rot
    p[3:, 3:] = rot.T @ np.diag([4.0, 9.0, 1.0]) @ rot
    return SystemTrack(stn=stn, time=1_720_000_000.0 + stn, state=[*x, *geo.enu2ecefv(
        v_enu, llh[:2])], covariance=list(p.ravel()), status=status, quality=0.8, **kw)


TRACKS = [
    _track(1, 45.5, 16.0, 10_000.0, [200.0, -50.0, 3.0], icao=0x3C660C, mode3a=0o4276,
           callsign="DLH65A", nations=["HR", "SI"],
           contributors=[LocalTrackRef(nation="HR", track_id=11),
                         LocalTrackRef(nation="SI", track_id=4321)]),
    _track(2, 44.0, 14.5, 3_000.0, [-80.0, 120.0, -5.0], status=TrackStatus.COASTING,
           nations=["HR"], contributors=[LocalTrackRef(nation="HR", track_id=12)]),
    _track(70_001, -33.9, 151.2, 500.0, [0.0, 0.0, 0.0], status=TrackStatus.TENTATIVE),
]
IDENT = SdpsIdentity(sac=7, sic=9, service=3, ref_lat_deg=45.0, ref_lon_deg=16.0,
                     nation_units={"HR": 1, "SI": 2})


def test_cat062_round_trip_libasterix() -> None:
    blocks = encode_cat062(TRACKS, IDENT, {1: TrackExtras(age_s=1.5, last_sensor=(25, 13))})
    rej = Rejections()
    out = decode_cat062([b[3:] for b in blocks], rej)
    assert rej.total() == 0 and len(out) == 3
    a, b, c = out
    assert (a.sac, a.sic, a.service, a.track_number) == (7, 9, 3, 1)
    assert a.lat_deg == pytest.approx(45.5, abs=6e-6) and a.lon_deg == pytest.approx(16.0, abs=6e-6)
    assert a.vx_ms == pytest.approx(200.0, abs=0.13) and a.vy_ms == pytest.approx(-50.0, abs=0.13)
    assert a.geo_alt_m == pytest.approx(10_000.0, abs=1.0)
    assert a.roc_ms == pytest.approx(3.0, abs=0.02)
    assert (a.mode3a, a.icao, a.callsign) == (0o4276, 0x3C660C, "DLH65A")
    assert a.sigma_x_m == pytest.approx(30.0, abs=0.3)
    assert a.sigma_y_m == pytest.approx(40.0, abs=0.3)
    assert a.sigma_vx_ms == pytest.approx(2.0, abs=0.13)
    assert a.sigma_vy_ms == pytest.approx(3.0, abs=0.13)
    assert a.composed == [(9, 1), (1, 11), (2, 4321)]
    assert a.age_trk_s == 1.5 and a.age_mda_s == 1.5 and a.measured_sensor == (25, 13)
    assert a.status_octets is not None and a.status_octets[0] >> 7 == 0  # MON 0: two sources
    assert a.vert == 1
    enu = geo.ecef2enu(TRACKS[0].state[:3], np.array([np.deg2rad(45.0), np.deg2rad(16.0), 0]))
    assert a.x_m == pytest.approx(enu[0], abs=0.3) and a.y_m == pytest.approx(enu[1], abs=0.3)
    assert b.status_octets is not None and b.status_octets[3] >> 7 == 1  # CST: coasting
    assert b.status_octets[0] >> 7 == 1  # MON: one contributor
    assert b.vert == 2 and b.icao is None and b.callsign is None and b.age_trk_s is None
    assert c.track_number == 70_001 & 0xFFFF and c.composed[0] == (9, 70_001 & 0x7FFF)
    assert c.status_octets is not None and c.status_octets[0] >> 1 & 1 == 1  # CNF: tentative
    assert c.lat_deg == pytest.approx(-33.9, abs=6e-6)


def test_cat062_blocks_stay_under_the_datagram_limit() -> None:
    many = [_track(i, 40 + i * 0.01, 10.0, 9000.0, [100.0, 0.0, 0.0], callsign="ABC123",
                   icao=i) for i in range(200)]
    blocks = encode_cat062(many, IDENT, max_block_octets=1000)
    assert len(blocks) > 1 and all(len(b) <= 1000 for b in blocks)
    assert len(decode_cat062([b[3:] for b in blocks], Rejections())) == 200


def test_cat062_round_trip_independent_decoder() -> None:
    asterix4py = pytest.importorskip("asterix4py", reason="asterix4py (test extra) not installed")
    parser_module = importlib.import_module("asterix4py.AsterixParser")
    # asterix4py 1.0.6 cannot load its own CAT062 1.18 file; its 1.16 file covers our items.
    files = dict(parser_module.astXmlFiles)
    parser_module.astXmlFiles[62] = "asterix_cat062_1_16.xml"
    try:
        # asterix4py reads an I062/510 of at most two entries: one contributor here.
        track = msgspec.structs.replace(TRACKS[0], contributors=TRACKS[0].contributors[:1])
        block = encode_cat062([track], IDENT, {1: TrackExtras(age_s=1.5,
                                                              last_sensor=(25, 13))})[0]
        with warnings.catch_warnings():  # it reads its specs with a deprecated API
            warnings.simplefilter("ignore", DeprecationWarning)
            rec = asterix4py.AsterixParser(block).get_result()[1]
    finally:
        parser_module.astXmlFiles.clear()
        parser_module.astXmlFiles.update(files)
    assert rec["010"] == {"SAC": 7, "SIC": 9} and rec["015"]["SID"] == 3
    assert rec["040"]["TrkN"] == 1 and rec["060"]["Mode3A"] == "4276"
    assert rec["105"]["Lat"] == pytest.approx(45.5, abs=6e-6)
    assert rec["105"]["Lon"] == pytest.approx(16.0, abs=6e-6)
    assert rec["185"]["Vx"] == pytest.approx(200.0, abs=0.13)
    assert rec["185"]["Vy"] == pytest.approx(-50.0, abs=0.13)
    assert rec["130"]["Alt"] * FT == pytest.approx(10_000.0, abs=1.0)
    assert rec["380"]["ADR"] == 0x3C660C and rec["380"]["ACID"].strip() == "DLH65A"
    assert rec["245"]["TId"].strip() == "DLH65A"
    assert rec["290"]["TRK"] == 1.5 and rec["295"]["MDA"] == 1.5
    assert (rec["340"]["SAC"], rec["340"]["SIC"]) == (25, 13)
    assert rec["500"]["APC_X"] == pytest.approx(30.0, abs=0.3)
    assert rec["500"]["APC_Y"] == pytest.approx(40.0, abs=0.3)
    assert rec["500"]["ATV_X"] == pytest.approx(2.0, abs=0.13)
    # asterix4py keeps only the last I062/510 entry (it merges repetitions into one dict).
    assert (rec["510"]["SDPSUID"], rec["510"]["STN"]) == (1, 11)
    assert rec["080"]["MON"] == 1 and rec["080"]["CNF"] == 0 and rec["080"]["CST"] == 0
    assert rec["200"]["VERTA"] == 1


def test_cat063_and_cat065_round_trip() -> None:
    bias = SensorBias(sac=25, sic=13, time_bias_s=0.012, ssr_range_gain=1e-4,
                      ssr_range_bias_m=-120.0, ssr_azimuth_bias_rad=1e-3,
                      psr_range_bias_m=50.0, psr_elevation_bias_rad=-2e-3)
    block = encode_cat063(7, 9, 3, 1_720_000_000.0, [bias, SensorBias(sac=25, sic=14,
                                                                     connected=False)])
    rej = Rejections()
    got = decode_cat063([block[3:]], rej)
    assert len(got) == 2 and not got[1].connected and got[1].ssr_range_bias_m is None
    g = got[0]
    assert g.time_bias_s == pytest.approx(0.012)
    assert g.ssr_range_gain == pytest.approx(1e-4)
    assert g.ssr_range_bias_m == pytest.approx(-120.0, abs=7.3)
    assert g.ssr_azimuth_bias_rad == pytest.approx(1e-3, abs=5e-5)
    assert g.psr_range_bias_m == pytest.approx(50.0, abs=7.3)
    assert g.psr_elevation_bias_rad == pytest.approx(-2e-3, abs=5e-5)
    status = ServiceStatus(sac=7, sic=9, service=3, tod_s=1000.5, batch=7, nogo=1,
                           overload=True, report=2)
    back = decode_cat065([encode_cat065(status)[3:]], rej)
    assert back == [status]
    assert rej.total() == 0
