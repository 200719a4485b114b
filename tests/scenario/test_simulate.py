"""``airpicture simulate``: documented outputs, byte-identical for the same seed, and the
built-in scenario's coverage layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from airpicture.cli.main import main
from airpicture.io.parquet import read_table
from airpicture.plot_table import PlotTable
from airpicture.scenario.config import load_scenario, with_duration
from airpicture.scenario.output import load_sensors
from airpicture.scenario.sensors.base import StepContext
from airpicture.scenario.simulator import Simulation
from airpicture.truth_table import CoverageTable, ObjectTable, TruthTable
from tests.scenario.test_config import GOOD

FILES = ("plots.parquet", "truth.parquet", "objects.parquet", "coverage.parquet",
         "sensors.json", "nations.json", "summary.json")
SMALL = GOOD.replace('sigma_range_m = 60.0', '''sigma_range_m = 60.0
clutter_per_scan = 5.0

[[sensors]]
id = "A1"
nation = "USA"
kind = "adsb"
lat_deg = -17.76
lon_deg = 177.44
max_range_km = 450.0

[[sensors]]
id = "S1"
nation = "USA"
kind = "ssr"
lat_deg = -13.83
lon_deg = -172.01
max_range_km = 400.0

[[sensors]]
id = "E1"
nation = "USA"
kind = "esm"
lat_deg = -14.0
lon_deg = -171.0
max_range_km = 400.0''').replace("airliners = 5", "airliners = 40").replace(
    "duration_s = 30.0", "duration_s = 120.0")


def _simulate(tmp: Path, name: str, seed: int) -> Path:
    scenario = tmp / "small.toml"
    scenario.write_text(SMALL)
    out = tmp / name
    assert main(["simulate", "--scenario", str(scenario), "--seed", str(seed), "--out",
                 str(out), "--json"]) == 0
    return out


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    a = _simulate(tmp_path, "a", 7)
    b = _simulate(tmp_path, "b", 7)
    c = _simulate(tmp_path, "c", 8)
    for name in FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / "plots.parquet").read_bytes() != (c / "plots.parquet").read_bytes()


def test_outputs_follow_the_documented_schema(tmp_path: Path) -> None:
    out = _simulate(tmp_path, "run", 3)
    plots = read_table(out / "plots.parquet", PlotTable)
    truth = read_table(out / "truth.parquet", TruthTable)
    objects = read_table(out / "objects.parquet", ObjectTable)
    coverage = read_table(out / "coverage.parquet", CoverageTable)
    sensors = load_sensors(out / "sensors.json")
    assert (out / "scenario.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [s.id for s in sensors] == ["R1", "A1", "S1", "E1"]
    assert len(plots) > 1000 and np.all(np.diff(plots.time) >= 0)
    assert set(np.unique(plots.kind)) == {0, 1, 2, 3}
    esm_truth = plots.truth[plots.kind == 3]
    assert objects.emitter[esm_truth].all() and (objects.cls[esm_truth] == 2).all()
    ssr_truth = plots.truth[plots.kind == 1]
    assert objects.transponder[ssr_truth].all()
    assert np.all((plots.sensor >= 0) & (plots.sensor < 4))
    assert np.all(plots.truth[plots.truth >= 0] < len(objects))
    assert (plots.truth == -1).sum() > 0  # clutter
    assert np.all(np.diff(truth.time) >= 0) and len(np.unique(truth.time)) == 120
    assert len(coverage) > 0 and set(np.unique(coverage.nations)) <= {0, 1}
    # ADS-B plots sit within a few hundred metres of truth at their time stamps.
    ads = plots.take(plots.kind == 2)
    t_index = {(t, o): i for i, (t, o) in enumerate(zip(truth.time, truth.object, strict=True))}
    rows = [t_index[(np.floor(t), o)] for t, o in zip(ads.time, ads.truth, strict=True)]
    dt = ads.time - truth.time[rows]
    predicted = truth.position[rows] + truth.velocity[rows] * dt[:, None]
    assert np.median(np.linalg.norm(ads.z[:, :3] - predicted, axis=1)) < 100.0


def test_builtin_layout_no_nation_alone_above_60_percent_all_together_95() -> None:
    sc = with_duration(load_scenario("western-pacific"), 900.0)
    sim = Simulation(sc, 1, Path("/nonexistent"))  # no recorded flights: airliners + others
    covered = np.zeros(5)
    samples = 0
    steps = sim.truth.steps()
    for k, step in enumerate(steps):
        if k % 60:
            continue
        ctx = StepContext.build(step.time, 1.0, step.active, step.llh, step.position,
                                step.velocity, np.zeros_like(step.position), sim.objects)
        _, counts = sim._coverage(ctx)
        covered += counts
        samples += int(step.active.sum())
    share = covered / samples
    assert share[:4].max() <= 0.60, dict(zip(sim.nations, share, strict=False))
    assert share[4] >= 0.95, share[4]


def test_missing_recorded_flights_are_reported_not_silent() -> None:
    sc = with_duration(load_scenario("western-pacific"), 10.0)
    sim = Simulation(sc, 1, Path("/nonexistent"))
    assert any("not found" in n for n in sim.truth.notes)


@pytest.mark.parametrize("duration", ["0", "-5", "nan"])
def test_bad_duration_is_rejected(tmp_path: Path, duration: str) -> None:
    assert main(["simulate", "--duration", duration, "--out", str(tmp_path / "x")]) == 2
    assert not (tmp_path / "x").exists()
