"""``airpicture track`` end to end on a small seeded scene."""

from __future__ import annotations

from pathlib import Path

import msgspec
import numpy as np

from airpicture.cli.main import main
from airpicture.io.parquet import read_table, write_table
from airpicture.messages import TrackStatus
from airpicture.track_table import STATUS_CODES, TrackTable

from . import synth


def test_track_command_writes_confirmed_tracks(tmp_path: Path) -> None:
    rng = np.random.default_rng(21)
    p0 = np.array([[2e4, 3e4, 5e3], [-4e4, 1e4, 9e3], [1e4, -6e4, 3e3]])
    v0 = np.array([[100.0, 50.0, 0.0], [0.0, 200.0, 0.0], [-150.0, 0.0, 0.0]])
    scan = synth.radar_scans(synth.linear(p0, v0), 15, rng)
    write_table(tmp_path / "plots.parquet", scan.plots)
    other = synth.radar(id="b1")
    sensors = [synth.radar(), msgspec.structs.replace(other, nation="B")]
    (tmp_path / "sensors.json").write_bytes(msgspec.json.encode(sensors))
    rc = main(["track", "--plots", str(tmp_path / "plots.parquet"), "--sensors",
               str(tmp_path / "sensors.json"), "--out", str(tmp_path / "tracks.parquet"),
               "--nation", "A"])
    assert rc == 0
    tracks = read_table(tmp_path / "tracks.parquet", TrackTable)
    confirmed = np.unique(tracks.track[tracks.status == STATUS_CODES.index(
        TrackStatus.CONFIRMED)])
    assert len(confirmed) == 3
    assert set(np.char.decode(tracks.source, "ascii")) == {"A"}
