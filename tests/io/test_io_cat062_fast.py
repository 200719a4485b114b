"""The NumPy CAT062 encoder against libasterix's, octet for octet; BiasEstimate as CAT063."""

from __future__ import annotations

import math

import numpy as np
import pytest

from airpicture import geo
from airpicture.io.asterix_bias import bias_estimates2cat063, cat0632bias_estimates
from airpicture.io.asterix_cat062 import SdpsIdentity, TrackExtras, encode_cat062
from airpicture.io.asterix_cat062_decode import decode_cat062
from airpicture.io.asterix_cat062_fast import encode_cat062_fast
from airpicture.io.asterix_common import NM
from airpicture.io.rejections import Rejections
from airpicture.messages import (
    BiasEstimate,
    LocalTrackRef,
    SensorInfo,
    SensorKind,
    SystemTrack,
    TrackStatus,
)

IDENT = SdpsIdentity(sac=7, sic=9, service=3, ref_lat_deg=45.0, ref_lon_deg=16.0,
                     nation_units={"HR": 1, "SI": 2, "AT": 3})
STATUSES = list(TrackStatus)
NATIONS = ["HR", "SI", "AT", "HU"]  # HU has no unit: 0 on the wire


def _tracks(n: int, seed: int, spread_deg: float = 3.0, wild: bool = False
            ) -> tuple[list[SystemTrack], dict[int, TrackExtras]]:
    """``n`` tracks around the reference point; ``wild`` adds values that saturate."""
    rng = np.random.default_rng(seed)
    llh = np.column_stack([np.deg2rad(45.0 + rng.uniform(-spread_deg, spread_deg, n)),
                           np.deg2rad(16.0 + rng.uniform(-spread_deg, spread_deg, n)),
                           rng.uniform(-200.0, 14_000.0, n)])
    v_enu = np.column_stack([rng.normal(0, 150, (n, 2)), rng.normal(0, 5, n)])
    if wild:
        llh[: n // 4, 2] = rng.uniform(2e5, 1e6, n // 4)          # altitude saturates
        v_enu[n // 4: n // 2] *= 200.0                             # speeds saturate
    x = geo.geodetic2ecef(llh)
    v = geo.enu2ecefv(v_enu, llh[:, :2])
    a = rng.normal(size=(n, 6, 6)) * rng.uniform(1.0, 400.0 if not wild else 4e4, (n, 1, 1))
    cov = a @ a.transpose(0, 2, 1)
    tracks, extras = [], {}
    for i in range(n):
        k = int(rng.integers(0, 4))
        refs = [LocalTrackRef(nation=NATIONS[int(j)], track_id=int(rng.integers(0, 70_000)))
                for j in rng.integers(0, 4, k)]
        stn = int(rng.integers(0, 200_000))
        letters = "".join(rng.choice(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 "),
                                     int(rng.integers(1, 9))))
        tracks.append(SystemTrack(
            stn=stn, time=1_720_000_000.0 + float(rng.uniform(0, 86_400 * 2)),
            state=[*x[i], *v[i]], covariance=cov[i].ravel().tolist(),
            status=STATUSES[int(rng.integers(len(STATUSES)))], quality=0.5,
            nations=sorted({r.nation for r in refs}) or (["HR"] if i % 2 else []),
            contributors=refs,
            icao=int(rng.integers(0, 1 << 24)) if rng.random() < 0.6 else None,
            mode3a=int(rng.integers(0, 4096)) if rng.random() < 0.6 else None,
            callsign=(letters.lower() if i % 5 == 0 else letters) if rng.random() < 0.6
            else (None if i % 2 else ""),
        ))
        if rng.random() < 0.5:
            extras[stn] = TrackExtras(
                age_s=float(rng.uniform(0, 100)) if rng.random() < 0.7 else None,
                last_sensor=(int(rng.integers(256)), int(rng.integers(256)))
                if rng.random() < 0.7 else None)
    return tracks, extras


def _realistic() -> list[SystemTrack]:
    """Airliners over Croatia with full identification, as a node's picture holds them."""
    out = []
    for i, (lat, lon, fl, kt, course) in enumerate([(45.81, 15.98, 350, 450, 120.0),
                                                    (45.33, 14.44, 120, 280, 300.0),
                                                    (43.51, 16.44, 390, 470, 0.0),
                                                    (42.64, 18.11, 20, 140, 185.0)]):
        llh = np.array([math.radians(lat), math.radians(lon), fl * 30.48])
        c = math.radians(course)
        v = geo.enu2ecefv(np.array([kt * 0.5144 * math.sin(c), kt * 0.5144 * math.cos(c), -2.0]),
                          llh[:2])
        out.append(SystemTrack(
            stn=4980 + i, time=1_720_000_000.0 + i, state=[*geo.geodetic2ecef(llh), *v],
            covariance=(np.diag([90.0**2, 120.0**2, 60.0**2, 9.0, 16.0, 1.0])).ravel().tolist(),
            status=TrackStatus.CONFIRMED, quality=0.9, nations=["HR", "SI"][: 1 + i % 2],
            contributors=[LocalTrackRef(nation="HR", track_id=100 + i)]
            + ([LocalTrackRef(nation="SI", track_id=7 + i)] if i % 2 else []),
            icao=0x3C0000 + i, mode3a=0o2535 + i, callsign=f"SXD472{i}"))
    return out


@pytest.mark.parametrize("max_octets", [1400, 200, 60])
def test_realistic_picture_is_octet_for_octet_libasterix(max_octets: int) -> None:
    tracks = _realistic()
    extras = {4980: TrackExtras(age_s=1.5, last_sensor=(25, 13)), 4982: TrackExtras(age_s=0.2)}
    ref = encode_cat062(tracks, IDENT, extras, max_octets)
    assert encode_cat062_fast(tracks, IDENT, extras, max_octets) == ref
    assert len(decode_cat062([b[3:] for b in ref], Rejections())) == len(tracks)


@pytest.mark.parametrize(("seed", "wild"), [(1, False), (2, False), (3, True), (4, True)])
def test_random_pictures_are_octet_for_octet_libasterix(seed: int, wild: bool) -> None:
    tracks, extras = _tracks(150, seed, spread_deg=30.0 if wild else 3.0, wild=wild)
    ident = IDENT if seed % 2 else SdpsIdentity(sac=200, sic=1, ref_lat_deg=45.0,
                                                ref_lon_deg=16.0)  # units by name
    for max_octets in (1400, 300):
        assert encode_cat062_fast(tracks, ident, extras, max_octets) == encode_cat062(
            tracks, ident, extras, max_octets)


def test_edge_cases_match_libasterix() -> None:
    tracks, _ = _tracks(3, 5)
    assert encode_cat062_fast([], IDENT) == encode_cat062([], IDENT) == []
    for t in tracks:
        assert encode_cat062_fast([t], IDENT) == encode_cat062([t], IDENT)
    bad = [SystemTrack(**{**{f: getattr(tracks[0], f) for f in tracks[0].__struct_fields__},
                          "callsign": "ÄBC"})]
    with pytest.raises(ValueError, match="ICAO 6-bit"):
        encode_cat062_fast(bad, IDENT)
    with pytest.raises(ValueError):
        encode_cat062(bad, IDENT)


# --- CAT063 out of registration --------------------------------------------------------------

SENSORS = [
    SensorInfo(id="HR-PSR", nation="HR", kind=SensorKind.RADAR, lat_deg=45.9, lon_deg=15.97,
               alt_m=1030.0, max_range_m=4e5, period_s=4.0, sac=25, sic=11),
    SensorInfo(id="HR-SSR", nation="HR", kind=SensorKind.SSR, lat_deg=43.5, lon_deg=16.4,
               alt_m=300.0, max_range_m=4e5, period_s=5.0, sac=25, sic=12),
    SensorInfo(id="HR-RX", nation="HR", kind=SensorKind.ADSB, lat_deg=45.0, lon_deg=16.0,
               alt_m=100.0, max_range_m=4e5, period_s=1.0, sac=25, sic=13),
    SensorInfo(id="HR-NOID", nation="HR", kind=SensorKind.SSR, lat_deg=45.0, lon_deg=17.0,
               alt_m=100.0, max_range_m=4e5, period_s=5.0),
]


def test_bias_estimates_round_trip_through_cat063() -> None:
    t = 1_720_000_123.25
    sent = [BiasEstimate(sensor_id="HR-PSR", time=t, range_offset_m=-120.0, range_gain=2.3e-4,
                         azimuth_rad=1.2e-3, time_s=0.012, sigma=[5.0, 1e-5, 1e-4, 1e-3],
                         samples=400),
            BiasEstimate(sensor_id="HR-SSR", time=t - 4.0, range_offset_m=37.0,
                         range_gain=-5e-5, azimuth_rad=-4e-4, time_s=-0.2)]
    block = bias_estimates2cat063(sent, SENSORS, sac=7, sic=9, service=3)
    assert block[0] == 63 and int.from_bytes(block[1:3], "big") == len(block)
    rej = Rejections()
    got = cat0632bias_estimates(block, SENSORS, t, rej)
    assert rej.total() == 0 and [g.sensor_id for g in got] == ["HR-PSR", "HR-SSR"]
    for s, g in zip(sent, got, strict=True):
        assert g.range_offset_m == pytest.approx(s.range_offset_m, abs=NM / 128 / 2 + 1e-9)
        assert g.range_gain == pytest.approx(s.range_gain, abs=0.5e-5 + 1e-12)
        assert g.azimuth_rad == pytest.approx(s.azimuth_rad, abs=math.pi / 65536 + 1e-12)
        assert g.time_s == pytest.approx(s.time_s, abs=0.5e-3 + 1e-12)


def test_bias_estimates_that_cannot_go_out_are_refused() -> None:
    est = BiasEstimate(sensor_id="HR-PSR", time=0.0, range_offset_m=1.0, range_gain=0.0,
                       azimuth_rad=0.0, time_s=0.0)
    for sensor_id, match in [("nope", "unknown sensor"), ("HR-NOID", "no SAC/SIC"),
                             ("HR-RX", "only radar and SSR")]:
        with pytest.raises(ValueError, match=match):
            bias_estimates2cat063([msgspec_replace(est, sensor_id)], SENSORS, 7, 9)
    rej = Rejections()
    assert cat0632bias_estimates(b"\x30\x00\x03", SENSORS, 0.0, rej) == []
    block = bias_estimates2cat063([est], SENSORS, 7, 9)
    assert cat0632bias_estimates(block, SENSORS[1:], 0.0, rej) == []
    assert rej.total() == 2


def msgspec_replace(est: BiasEstimate, sensor_id: str) -> BiasEstimate:
    import msgspec

    return msgspec.structs.replace(est, sensor_id=sensor_id)
