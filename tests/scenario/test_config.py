"""Scenario files: the built-in loads; bad files are rejected naming file, key and reason, and
``airpicture simulate`` then writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from airpicture.cli.main import main
from airpicture.scenario.config import ScenarioError, load_scenario, parse_scenario

GOOD = """
[scenario]
name = "tiny"
start = 2026-06-01T00:00:00Z
duration_s = 30.0

[region]
lat_min_deg = 10.0
lat_max_deg = 30.0
lon_west_deg = 170.0
lon_east_deg = -170.0

[traffic]
airliners = 5
noncooperative = 2
airports = { NFFN = 1.0, NSFA = 1.0, NSTU = 1.0 }
min_route_km = 100.0

[nations.USA]
name = "United States"

[[sensors]]
id = "R1"
nation = "USA"
kind = "radar"
lat_deg = -14.33
lon_deg = -170.71
max_range_km = 400.0
sigma_range_m = 60.0
"""


def test_builtin_western_pacific_has_four_nations_and_every_kind() -> None:
    sc = load_scenario("western-pacific")
    assert set(sc.nations) == {"JPN", "AUS", "USA", "PHL"}
    kinds = {(s.nation, type(s).__name__) for s in sc.sensors}
    for nation in sc.nations:
        assert {k for n, k in kinds if n == nation} == {
            "RadarConfig", "SsrConfig", "AdsbConfig", "EsmConfig"}
    assert sc.region.lon_east_deg < sc.region.lon_west_deg  # crosses the antimeridian


def test_good_file_parses() -> None:
    sc = parse_scenario(GOOD, "tiny.toml")
    assert sc.sensors[0].id == "R1" and sc.traffic.airliners == 5


@pytest.mark.parametrize(
    ("old", "new", "key", "reason"),
    [
        ('sigma_range_m = 60.0', 'sigma_range_m = 60.0\nbeam_width = 1.0',
         "sensors[0].beam_width", "unknown field"),
        ('lat_deg = -14.33\n', '', "sensors[0].lat_deg", "missing required field"),
        ('sigma_range_m = 60.0', 'sigma_range_m = nan', "sensors[0].sigma_range_m",
         "finite number"),
        ('lat_deg = -14.33', 'lat_deg = 95.0', "sensors[0].lat_deg", "<= 90.0"),
        ('sigma_range_m = 60.0', 'sigma_range_m = -5.0', "sensors[0].sigma_range_m", "> 0.0"),
        ('nation = "USA"', 'nation = "FRA"', "sensors[0].nation", "unknown nation"),
        ('kind = "radar"', 'kind = "sonar"', "sensors[0].kind", "Invalid value 'sonar'"),
        ('duration_s = 30.0', 'duration_s = inf', "scenario.duration_s", "finite number"),
        ('name = "tiny"', 'name = "tiny', "(syntax)", ""),
    ],
)
def test_bad_files_name_file_key_and_reason(old: str, new: str, key: str, reason: str) -> None:
    assert old in GOOD
    with pytest.raises(ScenarioError) as info:
        parse_scenario(GOOD.replace(old, new, 1), "bad.toml")
    err = info.value
    assert err.file == "bad.toml" and err.key == key and reason in err.reason
    assert str(err).startswith(f"bad.toml: {key}: ")


@pytest.mark.parametrize("edit", [("lat_deg = -14.33", "lat_deg = 95.0"),
                                  ("sigma_range_m = 60.0", "sigma_range_m = -1.0")])
def test_simulate_writes_no_output_for_a_bad_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: tuple[str, str]
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(GOOD.replace(*edit))
    out = tmp_path / "run"
    assert main(["simulate", "--scenario", str(path), "--out", str(out)]) == 2
    assert not out.exists()
    assert str(path) in capsys.readouterr().err


def test_unknown_scenario_name() -> None:
    with pytest.raises(ScenarioError, match="no such file or built-in scenario"):
        load_scenario("atlantis")
