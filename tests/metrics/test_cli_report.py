"""``airpicture evaluate`` end to end: report, JSON summary, bad input, headless Chromium."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from airpicture.cli.main import main
from airpicture.io.parquet import read_table, write_table
from airpicture.track_table import TrackTable
from tests.metrics.run_dir import write_run


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    paths = write_run(tmp_path_factory.mktemp("run"))
    out = paths["truth"].parent / "report.html"
    code = main(["evaluate", "--truth", str(paths["truth"]), "--tracks", str(paths["tracks"]),
                 "--picture", str(paths["node-fr"]), str(paths["node-de"]),
                 "--out", str(out), "--switching", "500"])
    assert code == 0
    return {**paths, "report": out, "summary": out.with_suffix(".json")}


def test_summary_numbers(run: dict[str, Path]) -> None:
    sm = json.loads(run["summary"].read_text())
    assert set(sm["sets"]) == {"FR", "DE", "node-fr", "node-de"}
    assert sm["truth_objects"] == 6 and sm["steps"] == 120
    fr, de = sm["sets"]["FR"], sm["sets"]["DE"]
    # FR covers objects 0-3 (radar); DE 2-5 (radar) and the cooperative 0-4 (ADS-B)
    assert fr["covered_truth_samples"] == 4 * 120 and de["covered_truth_samples"] == 6 * 120
    # FR tracks its four from t = 0.3 s, DE only 2-5 from t = 0.7 s (sampled from t = 1 s)
    assert fr["siap"]["completeness"] == pytest.approx(4 * 119 / (4 * 120), abs=1e-9)
    assert de["siap"]["completeness"] == pytest.approx(4 * 119 / (6 * 120), abs=1e-9)
    assert fr["siap"]["spuriousness"] == 0.0 and fr["siap"]["ambiguity"] == 1.0
    # 50 m per axis noise plus extrapolation: mean error ~ 80 m
    assert 40.0 < fr["siap"]["position_accuracy_m"] < 150.0
    assert fr["id_siap"]["icao"]["id_correctness"] == 1.0
    assert de["id_siap"]["identity"]["id_correctness"] == 1.0
    # FR is bounded with its one radar, the pictures with every sensor (ADS-B included)
    # (the synthetic tracks are truth plus noise, not filter output: they may beat a bound)
    assert 0.0 < sm["sets"]["node-fr"]["pcrb_mean_m"] < 0.5 * fr["pcrb_mean_m"]
    assert fr["siap"]["longest_track_segment"] == pytest.approx(119 / 119, abs=0.01)
    nees = fr["nees"]["position"]
    assert nees["samples"] > 0 and nees["invalid"] == 0
    c = sm["commonality"]
    assert c["stn_commonality"] == pytest.approx(5 / 6, abs=0.02)
    assert c["identity_commonality"] == 1.0
    assert c["holding_commonality"] == pytest.approx(1.0, abs=0.02)
    assert c["max_position_disagreement_m"] > 0.0
    assert sm["notes"] == []


def test_report_is_self_contained(run: dict[str, Path]) -> None:
    page = run["report"].read_text()
    assert page.count("data:image/png;base64,") == 4
    assert "http://" not in page and "https://" not in page
    assert "SIAP scorecard" in page and "Commonality" in page


def test_bad_inputs_give_clear_errors(run: dict[str, Path], tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path / "r.html")
    truth = str(run["truth"])
    # a track file of another schema (the truth file)
    assert main(["evaluate", "--truth", truth, "--tracks", truth, "--out", out]) == 2
    assert "not a TrackTable file" in capsys.readouterr().err
    # not a Parquet file at all
    junk = tmp_path / "junk.parquet"
    junk.write_text("hello")
    assert main(["evaluate", "--truth", truth, "--tracks", str(junk), "--out", out]) == 2
    assert "not a Parquet file" in capsys.readouterr().err
    # NaN state
    tracks = read_table(run["tracks"], TrackTable)
    tracks.state[3, 0] = np.nan
    bad = tmp_path / "nan.parquet"
    write_table(bad, tracks)
    assert main(["evaluate", "--truth", truth, "--tracks", str(bad), "--out", out]) == 2
    assert "state is not finite in row" in capsys.readouterr().err
    # missing file
    assert main(["evaluate", "--truth", truth, "--tracks", str(tmp_path / "no.parquet"),
                 "--out", out]) == 2
    assert "no such file" in capsys.readouterr().err


def test_tracks_at_other_times_score_as_nothing_held(run: dict[str, Path],
                                                     tmp_path: Path) -> None:
    tracks = read_table(run["tracks"], TrackTable)
    shifted = TrackTable(**{**tracks.columns(), "time": tracks.time + 1e6})
    path = tmp_path / "late.parquet"
    write_table(path, shifted)
    out = tmp_path / "late.html"
    shutil.copy(run["truth"], tmp_path / "truth.parquet")
    assert main(["evaluate", "--truth", str(tmp_path / "truth.parquet"), "--tracks", str(path),
                 "--out", str(out)]) == 0
    sm = json.loads(out.with_suffix(".json").read_text())
    assert sm["sets"]["FR"]["siap"]["completeness"] == 0.0
    assert sm["sets"]["FR"]["track_samples"] == 0
    assert "no coverage given" in sm["notes"][0]


def test_report_renders_in_headless_chromium(run: dict[str, Path], tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    requests: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(chromium),
            args=["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--no-first-run"],
        )
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.on("request", lambda r: requests.append(r.url))
        page.goto(run["report"].as_uri())
        widths = page.eval_on_selector_all("img", "els => els.map(e => e.naturalWidth)")
        shot = tmp_path / "report.png"
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert len(widths) == 4 and min(widths) > 300
    assert all(u.startswith(("file:", "data:")) for u in requests)
    assert shot.stat().st_size > 50_000


def test_truth_of_opportunity_from_adsb_plots(run: dict[str, Path], tmp_path: Path) -> None:
    from airpicture.messages import SensorKind
    from airpicture.plot_table import KIND_CODE, PlotTable
    from airpicture.truth_table import ObjectTable, TruthTable

    truth = read_table(run["truth"], TruthTable)
    objects = read_table(run["objects"], ObjectTable)
    coop = np.isin(truth.object, objects.id[objects.adsb])
    plots = PlotTable.blank(int(coop.sum()))
    plots.time[:] = truth.time[coop] + 0.25
    plots.kind[:] = KIND_CODE[SensorKind.ADSB]
    plots.z[:, :3] = truth.position[coop] + 0.25 * truth.velocity[coop]
    plots.z[:, 3:6] = truth.velocity[coop]
    plots.icao[:] = objects.icao[truth.object[coop]]
    plots.nacp[:] = 9
    path = tmp_path / "plots.parquet"
    write_table(path, plots)
    out = tmp_path / "opp.html"
    assert main(["evaluate", "--opportunity", str(path), "--tracks", str(run["tracks"]),
                 "--out", str(out)]) == 0
    sm = json.loads(out.with_suffix(".json").read_text())
    assert sm["truth_objects"] == 5  # the ADS-B-equipped ones
    fr = sm["sets"]["FR"]
    assert fr["siap"]["completeness"] > 0.95 * 4 / 5  # FR tracks four of the five
    assert fr["id_siap"]["icao"]["id_correctness"] == 1.0  # labels are ICAO addresses
    assert any("truth of opportunity" in n for n in sm["notes"])
