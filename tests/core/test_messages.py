"""The wire contracts: every message round-trips through MessagePack and JSON, versioned."""

from __future__ import annotations

import msgspec
import pytest

from airpicture import messages as m

SAMPLES: list[object] = [
    m.SensorInfo(id="JPN-R-SADO", nation="JPN", kind=m.SensorKind.RADAR, lat_deg=38.05,
                 lon_deg=138.42, alt_m=1000.0, max_range_m=450e3, period_s=10.0,
                 sigma=[80.0, 0.002, 0.005, 0.0], sector_rad=[0.1, 2.0], sac=40, sic=1),
    m.Plot(time=1780272000.25, sensor_id="JPN-R-SADO", kind=m.SensorKind.RADAR,
           z=[1.2e5, 1.1, 0.05, -120.0], sigma=[80.0, 0.002, 0.005, 2.0]),
    m.Plot(time=1780272001.0, sensor_id="PHL-A-MANILA", kind=m.SensorKind.ADSB,
           z=[-3.1e6, 5.2e6, 1.6e6, 100.0, -50.0, 1.0], sigma=[40, 40, 15, 1, 1, 0.5],
           icao=0x758123, callsign="PAL101", nacp=9, nacv=2),
    m.LocalTrack(nation="AUS", track_id=17, time=1.7e9, state=[1.0] * 6,
                 covariance=[0.0] * 36, status=m.TrackStatus.CONFIRMED, quality=0.9,
                 identity=m.Identity.NEUTRAL, sensors=["AUS-R-BOYCE"],
                 mode_probabilities=[0.8, 0.2]),
    m.SystemTrack(stn=4001, time=1.7e9, state=[2.0] * 6, covariance=[1.0] * 36,
                  status=m.TrackStatus.COASTING, quality=0.5, identity=m.Identity.SUSPECT,
                  identity_reason="no cooperative reply at 650 m/s", nations=["JPN", "USA"],
                  contributors=[m.LocalTrackRef(nation="JPN", track_id=3)]),
    m.Alert(id="a1", kind="emergency", time=1.7e9, reason="squawk 7700",
            explanation="Mode 3/A 7700 reported by JPN-S-HANEDA", stn=4001),
    m.Envelope(sender="USA", audience="all", seq=7, time=1.7e9, kind="local_tracks",
               payload=b"\x91\x01", signature=b"\x00" * 64),
]


@pytest.mark.parametrize("msg", SAMPLES, ids=lambda x: type(x).__name__)
def test_round_trip_msgpack_and_json(msg: object) -> None:
    cls = type(msg)
    assert m.decode_msgpack(m.encode_msgpack(msg), cls) == msg
    assert m.decode_json(m.encode_json(msg), cls) == msg
    assert msgspec.to_builtins(msg)["v"] == m.SCHEMA_VERSION


def test_unknown_fields_and_wrong_types_are_rejected() -> None:
    good = msgspec.to_builtins(SAMPLES[1])
    with pytest.raises(msgspec.ValidationError, match="unknown field"):
        m.decode_json(msgspec.json.encode(good | {"extra": 1}), m.Plot)
    with pytest.raises(msgspec.ValidationError, match="Expected `float`"):
        m.decode_json(msgspec.json.encode(good | {"time": "noon"}), m.Plot)
    with pytest.raises(msgspec.ValidationError, match="Invalid enum"):
        m.decode_json(msgspec.json.encode(good | {"kind": "sonar"}), m.Plot)
