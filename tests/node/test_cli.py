"""``airpicture demo --json`` on a small scenario: one JSON line with the summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airpicture.cli.main import main

from .scenarios import write_small_scenario


def test_demo_json_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = write_small_scenario(tmp_path / "small.toml", airliners=60, noncooperative=4,
                                    duration_s=60.0)
    code = main(["demo", "--scenario", str(scenario), "--duration", "40", "--warmup", "20",
                 "--json", "--out", str(tmp_path / "log")])
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    summary = json.loads(lines[0])
    assert summary["duration_s"] == 40.0
    assert summary["hashes_equal"] is True
    assert [n["nation"] for n in summary["nations"]] == ["JPN", "AUS", "USA", "PHL"]
    assert len({n["final_hash"] for n in summary["nations"]}) == 1
    assert (tmp_path / "log" / "coalition.log").stat().st_size > 0


def test_demo_rejects_a_bad_policy_argument(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--policy", "no-equals-sign", "--json"]) == 2
    assert "NATION=FILE" in capsys.readouterr().err
