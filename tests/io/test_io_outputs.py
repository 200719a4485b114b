"""Outputs and transports: CoT to a local TCP listener, GeoJSON, Parquet recordings, pcap,
replay pacing, UDP and TCP on 127.0.0.1, the sensor configuration."""

from __future__ import annotations

import json
import socket
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from airpicture import geo
from airpicture.io.cot import cot_events, cot_type
from airpicture.io.geojson import geojson_snapshot, write_geojson
from airpicture.io.pcap import Datagram, read_pcap, write_pcap
from airpicture.io.picture import snapshot, table2tracks, tracks2table
from airpicture.io.recorder import Recorder, read_recording
from airpicture.io.rejections import Rejections
from airpicture.io.replay import paced
from airpicture.io.sensor_config import SensorConfigError, parse_sensors
from airpicture.io.transports import TcpClient, TcpServer, UdpReceiver, UdpSender
from airpicture.messages import Identity, SensorInfo, SystemTrack, TrackStatus
from airpicture.plot_table import PlotTable


def test_cot_types() -> None:
    assert cot_type(Identity.FRIEND, "C-F") == "a-f-A-C-F"
    assert cot_type(Identity.HOSTILE, None) == "a-h-A"
    assert cot_type(Identity.ASSUMED_FRIEND, "M-F") == "a-a-A-M-F"


def test_cot_events_over_tcp_to_a_local_listener(picture: list[SystemTrack]) -> None:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    received = bytearray()

    def listen() -> None:
        conn, _ = server.accept()
        with conn:
            while chunk := conn.recv(65536):
                received.extend(chunk)

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    client = TcpClient("127.0.0.1", server.getsockname()[1])
    events = cot_events(picture, update_interval_s=4.0, platforms={3: "M-F"})
    for e in events:
        client.send(e)
    client.close()
    thread.join(timeout=5.0)
    server.close()
    text = received.decode("utf-8")
    docs = ["<?xml" + part for part in text.split("<?xml")[1:]]
    assert len(docs) == 3  # the deleted track is not sent
    parsed = [ET.fromstring(d.encode()) for d in docs]
    by_uid = {e.get("uid"): e for e in parsed}
    assert by_uid["airpicture-1"].get("type") == "a-f-A-C-F"
    assert by_uid["airpicture-2"].get("type") == "a-s-A"
    assert by_uid["airpicture-3"].get("type") == "a-h-A-M-F"
    for e, tr in zip(parsed, picture[:3], strict=True):
        point, track = e.find("point"), e.find("detail/track")
        assert point is not None and track is not None
        llh = geo.ecef2geodetic(np.array(tr.state[:3]))
        assert float(point.get("lat", "nan")) == pytest.approx(np.rad2deg(llh[0]), abs=1e-6)
        assert float(point.get("lon", "nan")) == pytest.approx(np.rad2deg(llh[1]), abs=1e-6)
        assert float(point.get("hae", "nan")) == pytest.approx(llh[2], abs=0.1)
        assert e.get("how") == "m-f" and e.get("stale", "") > e.get("time", "")
    t1 = by_uid["airpicture-1"].find("detail/track")
    assert t1 is not None and float(t1.get("course", "0")) == pytest.approx(45.0, abs=0.01)
    assert float(t1.get("speed", "0")) == pytest.approx(np.hypot(100, 100), abs=0.01)
    contact = by_uid["airpicture-1"].find("detail/contact")
    assert contact is not None and contact.get("callsign") == "DLH65A"
    assert by_uid["airpicture-1"].get("stale") == "2024-07-03T09:46:52.000Z"  # +12 s


def test_geojson_snapshot(tmp_path: Path, picture: list[SystemTrack]) -> None:
    doc = geojson_snapshot(picture)
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == 3
    f = doc["features"][0]
    assert f["geometry"]["coordinates"][:2] == pytest.approx([16.0, 45.5], abs=1e-6)
    assert f["properties"]["icao"] == "3C660C" and f["properties"]["identity"] == "friend"
    n = write_geojson(tmp_path / "snap.geojson", picture)
    assert n == 3 and json.loads((tmp_path / "snap.geojson").read_text()) == doc


def test_recorder_round_trip_and_snapshot(tmp_path: Path,
                                          picture: list[SystemTrack]) -> None:
    sensors = [SensorInfo(id="r1", nation="HR", kind="ssr", lat_deg=45.0, lon_deg=16.0,  # type: ignore[arg-type]
                          alt_m=100.0, max_range_m=4e5, period_s=4.0, sac=25, sic=13)]
    plots = PlotTable.blank(3)
    plots.z[:, :2] = [[1e5, 1.0], [2e5, 2.0], [3e5, 3.0]]
    later = [SystemTrack(**{**_struct(t), "time": t.time + 4.0}) for t in picture]
    with Recorder(tmp_path / "rec", sensors) as rec:
        rec.plots(plots)
        rec.picture(picture)
        rec.picture(later)
        assert rec.rows == {"plots": 3, "local_tracks": 0, "picture": 8}
    got_sensors, got_plots, local, recorded = read_recording(tmp_path / "rec")
    assert got_sensors == sensors and got_plots.equals(plots) and len(local) == 0
    assert recorded.equals(tracks2table(picture + later))
    snap = snapshot(recorded, 1_720_000_002.0)
    assert len(snap) == 4 and np.all(snap.time == 1_720_000_000.0)
    back = table2tracks(snapshot(recorded))
    assert [t.stn for t in back] == [1, 2, 3, 4] and back[0].callsign == "DLH65A"
    assert back[2].identity is Identity.HOSTILE and back[3].status is TrackStatus.DELETED


def _struct(t: SystemTrack) -> dict[str, object]:
    return {f: getattr(t, f) for f in t.__struct_fields__}


def test_pcap_round_trip(tmp_path: Path) -> None:
    datagrams = [Datagram(1_700_000_000.25 + i, bytes([i]) * (10 + i), "10.0.0.1", "232.1.1.1",
                          5000 + i, 8600) for i in range(5)]
    assert write_pcap(tmp_path / "x.pcap", datagrams) == 5
    rej = Rejections()
    back = list(read_pcap(tmp_path / "x.pcap", rej))
    assert back == datagrams and rej.total() == 0


def test_paced_replay_on_a_fake_clock() -> None:
    now = [100.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    items = [(10.0, "a"), (12.0, "b"), (13.0, "c")]
    out = list(paced(items, speed=2.0, clock=lambda: now[0], sleep=sleep))
    assert out == items and slept == pytest.approx([1.0, 0.5])
    assert list(paced(items, speed=float("inf"), sleep=sleep)) == items and len(slept) == 2
    with pytest.raises(ValueError):
        list(paced(items, speed=0.0))


def test_udp_and_tcp_on_loopback() -> None:
    rx = UdpReceiver("127.0.0.1", 0)
    tx = UdpSender("127.0.0.1", rx.port)
    tx.send(b"\x30\x00\x04\x00")
    d = rx.receive(timeout=5.0)
    assert d is not None and d.payload == b"\x30\x00\x04\x00" and d.src == "127.0.0.1"
    assert rx.receive(timeout=0.01) is None
    rx.close()
    tx.close()
    server = TcpServer("127.0.0.1", 0)
    client = TcpClient("127.0.0.1", server.port)
    assert server.accept(timeout=5.0) == 1
    assert server.send(b"hello") == 1
    got = b""
    while len(got) < 5:
        chunk = client.read(timeout=5.0)
        assert chunk
        got += chunk
    assert got == b"hello"
    client.close()
    server.close()


def test_sensor_config_errors_name_file_and_key() -> None:
    good = 'nation = "HR"\n[[sensor]]\nid = "a"\nkind = "ssr"\nlat_deg = 45.0\nlon_deg = 16.0\n'
    sensors = parse_sensors(good + "sac = 25\nsic = 13\nsigma_azimuth_deg = 0.1\n", "x.toml")
    assert sensors[0].sac == 25 and sensors[0].sigma[1] == pytest.approx(np.deg2rad(0.1))
    cases = {
        good + "sac = 25\n": "sensor[0].sac",
        good + "bogus = 1\n": "sensor[0].bogus",
        good + "sac = 25\nsic = 300\n": "sensor[0].sac",
        good.replace("45.0", "95.0"): "sensor[0].lat_deg",
        good + good.split("\n", 1)[1]: "sensor[1].id",
        "nation = ": "(document)",
    }
    for text, key in cases.items():
        with pytest.raises(SensorConfigError) as info:
            parse_sensors(text, "x.toml")
        assert info.value.file == "x.toml" and key in info.value.key, (text, info.value)
