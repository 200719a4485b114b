"""``airpicture ingest`` and ``airpicture export`` end to end, files and 127.0.0.1 only."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from airpicture.cli.main import main
from airpicture.io.beast import encode_beast
from airpicture.io.parquet import read_table, write_table
from airpicture.io.pcap import read_pcap
from airpicture.io.picture import tracks2table
from airpicture.io.rejections import Rejections
from airpicture.io.transports import TcpServer
from airpicture.messages import SystemTrack
from airpicture.plot_table import PlotTable


def _last_json(capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    out = capsys.readouterr().out.strip().splitlines()
    return dict(json.loads(out[-1]))


def test_ingest_asterix_pcap_to_parquet(tmp_path: Path, data_file: Callable[..., Path],
                                        croatia_toml: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    pcap = data_file("asterix_croatiacontrol", "cat_034_048.pcap")
    out = tmp_path / "plots.parquet"
    assert main(["ingest", "asterix", "--file", str(pcap), "--sensors",
                 str(croatia_toml), "--out", str(out), "--record",
                 str(tmp_path / "copy.pcap")]) == 0
    summary = _last_json(capsys)
    assert summary["plots"] == 126 and summary["rejected"] == {"cat048.no_position": 2}
    assert summary["cat048_blocks"] == 86 and summary["sensor_status"] == 34
    assert len(read_table(out, PlotTable)) == 126
    assert len(list(read_pcap(tmp_path / "copy.pcap", Rejections()))) == 100


def test_ingest_asterix_over_tcp(data_file: Callable[..., Path], croatia_toml: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    payloads = [d.payload for d in read_pcap(data_file("asterix_croatiacontrol",
                                                       "cat_034_048.pcap"), Rejections())]
    server = TcpServer("127.0.0.1", 0)

    def serve() -> None:
        server.accept(timeout=10.0)
        server.send(b"\x00\x01garbage" + b"".join(payloads))
        server.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert main(["ingest", "asterix", "--tcp", f"127.0.0.1:{server.port}", "--sensors",
                 str(croatia_toml), "--duration", "10"]) == 0
    thread.join(timeout=5.0)
    summary = _last_json(capsys)
    assert summary["plots"] == 126
    assert "asterix.resync" in summary["rejected"]  # type: ignore[operator]


def test_ingest_beast_and_sbs_files(tmp_path: Path, data_file: Callable[..., Path],
                                    capsys: pytest.CaptureFixture[str]) -> None:
    rx = tmp_path / "rx.toml"
    rx.write_text('nation = "FR"\n[[sensor]]\nid = "rx"\nkind = "adsb"\nlat_deg = 49.0\n'
                  'lon_deg = 2.55\nalt_m = 120.0\n')
    beast = data_file("traffic_samples", "sample_dump1090.bin")
    assert main(["ingest", "beast", "--file", str(beast), "--sensors", str(rx),
                 "--start-time", "1700000000"]) == 0
    summary = _last_json(capsys)
    assert summary["messages"] == 239 and summary["plots"] == 3
    with gzip.open(data_file("traffic_samples", "full_flight_short.jsonl.gz"), "rt") as fh:
        rows = [json.loads(line) for line in fh][:3000]
    t0 = rows[0]["timestamp"]
    path = tmp_path / "flight.beast"
    path.write_bytes(b"".join(encode_beast(0x33 if len(r["frame"]) == 28 else 0x32,
                                           round((r["timestamp"] - t0) * 12e6), 100,
                                           bytes.fromhex(r["frame"])) for r in rows))
    out = tmp_path / "adsb.parquet"
    assert main(["ingest", "beast", "--file", str(path), "--sensors", str(rx),
                 "--receiver", "rx", "--start-time", str(t0), "--out", str(out)]) == 0
    summary = _last_json(capsys)
    assert summary["plots"] == sum("latitude" in r for r in rows) > 0
    sbs = tmp_path / "feed.sbs"
    sbs.write_text("MSG,3,1,1,4CA2D6,1,2024/07/06,12:00:00.000,2024/07/06,12:00:00.000,,"
                   "37000,,,48.5,2.5,,,0,0,0,0\nnot sbs at all\n")
    assert main(["ingest", "sbs", "--file", str(sbs), "--sensors", str(rx)]) == 0
    summary = _last_json(capsys)
    assert summary["plots"] == 1 and summary["rejected"] == {"sbs.bad_line": 1}


def test_export_geojson_asterix_cot(tmp_path: Path, croatia_toml: Path,
                                    picture: list[SystemTrack],
                                    capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "picture.parquet"
    write_table(path, tracks2table(picture))
    geo_out = tmp_path / "snap.geojson"
    assert main(["export", "geojson", "--picture", str(path), "--out", str(geo_out)]) == 0
    assert len(json.loads(geo_out.read_text())["features"]) == 3
    ast = tmp_path / "picture.ast"
    assert main(["export", "asterix", "--picture", str(path), "--out", str(ast),
                 "--sac", "7", "--sic", "9"]) == 0
    capsys.readouterr()
    assert main(["ingest", "asterix", "--file", str(ast), "--sensors",
                 str(croatia_toml), "--start-time", "1720000000"]) == 0
    summary = _last_json(capsys)
    assert summary["system_tracks"] == 4 and summary["cat065_blocks"] == 1
    cot = tmp_path / "events.xml"
    assert main(["export", "cot", "--picture", str(path), "--out", str(cot)]) == 0
    assert cot.read_text().count("<event ") == 3
    assert main(["export", "asterix", "--picture", str(path), "--out",
                 str(tmp_path / "p.pcap"), "--time", "1720000000"]) == 0
    assert len(list(read_pcap(tmp_path / "p.pcap", Rejections()))) == 2
