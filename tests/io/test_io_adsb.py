"""ADS-B ingest: the Beast capture, the raw Mode S frames of full_flight_short (direct, in
Beast framing, and as SBS lines) against that flight's recorded trajectory."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from airpicture import geo
from airpicture.io.beast import decode_beast, encode_beast
from airpicture.io.modes import ModeSDecoder
from airpicture.io.rejections import Rejections
from airpicture.io.sbs import SbsDecoder
from airpicture.messages import SensorInfo, SensorKind
from airpicture.plot_table import PlotTable

# A receiver at Paris-CDG, where the recorded flight starts (its frames were decoded there).
CDG = [SensorInfo(id="rx-cdg", nation="FR", kind=SensorKind.ADSB, lat_deg=49.0097,
                  lon_deg=2.5479, alt_m=119.0, max_range_m=4.5e5, period_s=1.0)]
# The Beast sample was recorded near Toulouse-Blagnac (LFBO), approximate position.
LFBO = [SensorInfo(id="rx-lfbo", nation="FR", kind=SensorKind.ADSB, lat_deg=43.63,
                   lon_deg=1.37, alt_m=150.0, max_range_m=4.5e5, period_s=1.0)]


@pytest.fixture(scope="module")
def flight(data_file: Callable[..., Path]) -> list[dict[str, Any]]:
    path = data_file("traffic_samples", "full_flight_short.jsonl.gz")
    with gzip.open(path, "rt") as fh:
        return [json.loads(line) for line in fh]


def _horizontal_error(plots: PlotTable, rows: list[dict[str, Any]]) -> np.ndarray:
    recorded = {r["timestamp"]: (r["latitude"], r["longitude"]) for r in rows
                if "latitude" in r}
    ref = np.array([recorded[t] for t in plots.time])
    ref_llh = np.column_stack([np.deg2rad(ref), np.zeros(len(ref))])
    enu = geo.ecef2enu(plots.z[:, :3], ref_llh)
    return np.hypot(enu[:, 0], enu[:, 1])


def _n_positions(rows: list[dict[str, Any]]) -> int:
    return sum("latitude" in r for r in rows)


def test_full_flight_frames_match_the_recorded_trajectory(flight: list[dict[str, Any]]) -> None:
    rej = Rejections()
    dec = ModeSDecoder(CDG, 0, rej)
    frames = [r["frame"] for r in flight]
    times = np.array([r["timestamp"] for r in flight])
    plots = PlotTable.concat([dec.decode(frames[k:k + 4000], times[k:k + 4000])
                              for k in range(0, len(frames), 4000)])
    assert len(plots) == _n_positions(flight) == 8324
    assert np.max(_horizontal_error(plots, flight)) < 50.0
    assert rej.total() == 0
    assert dec.padded_short > 20_000  # DF0/4/5 replies stored in 112-bit containers
    assert set(plots.icao.tolist()) == {0x393322}
    assert b"AFR34ZG" in plots.callsign.tolist()
    has_v = ~np.isnan(plots.z[:, 3])
    assert has_v.mean() > 0.9
    # Heights above the ellipsoid (barometric + reported GNSS-baro difference) stay within a
    # plausible band of the barometric altitude (this July flight reports up to +1,100 ft).
    h = geo.ecef2geodetic(plots.z[:, :3])[:, 2]
    airborne = ~np.isnan(plots.baro_alt)
    assert np.all(np.abs(h[airborne] - plots.baro_alt[airborne]) < 400.0)


def test_full_flight_through_beast_framing(flight: list[dict[str, Any]]) -> None:
    t0 = flight[0]["timestamp"]
    stream = b"".join(
        encode_beast(0x33 if len(r["frame"]) == 28 else 0x32, round((r["timestamp"] - t0) * 12e6),
                     0x1A if i % 7 == 0 else 0x80, bytes.fromhex(r["frame"]))
        for i, r in enumerate(flight))
    rej = Rejections()
    frames = decode_beast(stream, rej)
    assert len(frames) == len(flight) and rej.total() == 0
    times = t0 + frames.stamp / 12e6
    dec = ModeSDecoder(CDG, 0, rej)
    plots = dec.decode(frames.hex_frames(), times)
    assert len(plots) == _n_positions(flight)
    recorded_t = np.array([r["timestamp"] for r in flight if "latitude" in r])
    np.testing.assert_allclose(plots.time, recorded_t, atol=1e-6)
    plots.time[:] = recorded_t  # 12 MHz quantisation; look the truth up by exact stamp
    assert np.max(_horizontal_error(plots, flight)) < 50.0


def test_full_flight_as_sbs_lines(flight: list[dict[str, Any]]) -> None:
    import datetime as dt

    lines = []
    for r in flight:
        if "latitude" not in r or r.get("bds") != "05":
            continue
        stamp = dt.datetime.fromtimestamp(r["timestamp"], tz=dt.UTC)
        d, t = stamp.strftime("%Y/%m/%d"), stamp.strftime("%H:%M:%S.%f")[:-3]
        lines.append(f"MSG,3,1,1,{r['icao24'].upper()},1,{d},{t},{d},{t},,{r['altitude']},,,"
                     f"{r['latitude']:.5f},{r['longitude']:.5f},,,0,0,0,0")
    rej = Rejections()
    dec = SbsDecoder(CDG, 0, rej)
    plots = dec.feed(("\n".join(lines) + "\n").encode(), 0.0)
    assert len(plots) == len(lines) and rej.total() == 0
    # SBS times carry milliseconds (truncated); positions five decimals (about 1 m).
    recorded_t = np.array([r["timestamp"] for r in flight if "latitude" in r])
    nearest = recorded_t[np.clip(np.searchsorted(recorded_t, plots.time - 1e-6), 0,
                                 len(recorded_t) - 1)]
    assert np.all(np.abs(nearest - plots.time) < 1e-3)
    plots.time[:] = nearest
    assert np.max(_horizontal_error(plots, flight)) < 50.0


def test_beast_capture(data_file: Callable[..., Path]) -> None:
    rej = Rejections()
    frames = decode_beast(data_file("traffic_samples", "sample_dump1090.bin").read_bytes(), rej)
    assert len(frames) == 239 and rej.total() == 0
    assert int(np.sum(frames.kind == 0x32)) == 185 and int(np.sum(frames.kind == 0x33)) == 54
    times = 1_700_000_000.0 + (frames.stamp - frames.stamp[0]) / 12e6
    assert 20.0 < times[-1] - times[0] < 30.0
    dec = ModeSDecoder(LFBO, 0, rej)
    plots = dec.decode(frames.hex_frames(), times)
    # 48520a sends four airborne positions; the first pairs with nothing earlier.
    assert len(plots) == 3 and set(plots.icao.tolist()) == {0x48520A}
    llh = geo.ecef2geodetic(plots.z[:, :3])
    lat, lon = np.rad2deg(llh[:, 0]), np.rad2deg(llh[:, 1])
    assert np.all(np.abs(lat - 43.65) < 0.05) and np.all(np.abs(lon - 1.23) < 0.05)
    # No recorded trajectory exists for this aircraft: check the positions against its own
    # reported velocity instead (dead reckoning between fixes, within 50 m per second).
    v = plots.z[:-1, 3:]
    dt_s = np.diff(plots.time)
    with_v = ~np.isnan(v[:, 0])
    assert with_v.sum() >= 1
    predicted = plots.z[:-1, :3] + v * dt_s[:, None]
    miss = np.linalg.norm(predicted - plots.z[1:, :3], axis=1)[with_v]
    assert np.all(miss < 50.0 * np.maximum(dt_s[with_v], 1.0))
    assert {int(a) for a in dec.aircraft} >= {0x48520A, 0x3981E4}
