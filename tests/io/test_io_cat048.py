"""CAT048: the real CroatiaControl capture, and the compiled walker cross-checked against
libasterix record for record (real records, generated records, mutated records)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from airpicture import geo
from airpicture.io.asterix import AsterixDecoder
from airpicture.io.asterix_blocks import split_datagram
from airpicture.io.asterix_cat048 import decode_cat048, reports2plots, scan_cat048
from airpicture.io.asterix_lib import EDITIONS, cat048_reference_rows
from airpicture.io.pcap import read_pcap
from airpicture.io.rejections import Rejections
from airpicture.messages import SensorInfo, SensorKind
from airpicture.plot_table import KIND_CODE

COMPARED = [c for c in range(25) if c not in (1, 2)]  # offsets/lengths are walker-only


def _blocks(path: Path) -> tuple[list[bytes], list[float]]:
    rej = Rejections()
    blocks, times = [], []
    for d in read_pcap(path, rej):
        for b in split_datagram(d.payload, rej):
            if b.category == 48:
                blocks.append(b.records)
                times.append(d.time)
    assert rej.total() == 0
    return blocks, times


def test_croatia_capture_decodes_to_128_reports_7_radars_63_addresses(
    data_file: Callable[..., Path], croatia_sensors: list[SensorInfo]
) -> None:
    blocks, times = _blocks(data_file("asterix_croatiacontrol", "cat_034_048.pcap"))
    rej = Rejections()
    reports = decode_cat048(blocks, rej)
    assert len(reports) == 128
    assert rej.total() == 0
    radars = set(zip(reports.sac.tolist(), reports.sic.tolist(), strict=True))
    assert radars == {(25, s) for s in (11, 12, 13, 14, 201, 204, 205)}
    assert len(set(reports.icao[reports.icao >= 0].tolist())) == 63
    assert 27336 <= np.nanmin(reports.tod) and np.nanmax(reports.tod) <= 27357
    # Two of the 128 are track-only reports (I020 TYP 0, no I040): counted, not plotted.
    plots = reports2plots(reports, croatia_sensors, np.array(times), rej)
    assert len(plots) == 126
    assert rej.by_reason() == {"cat048.no_position": 2}
    assert len(np.unique(plots.sensor)) == 7
    # One aircraft of the 63 appears only in a track-only report: 62 addresses have plots.
    assert len(set(plots.icao[plots.icao >= 0].tolist())) == 62
    assert np.all(np.abs(plots.time - np.median(times)) < 60.0)
    ssr = plots.kind == KIND_CODE[SensorKind.SSR]
    assert np.all(ssr)  # every report in this capture is SSR / Mode S
    assert np.all((plots.z[:, 0] > 0) & (plots.z[:, 0] < 480e3))
    assert np.all((plots.z[:, 1] >= 0) & (plots.z[:, 1] < 2 * np.pi))
    assert np.all(np.isfinite(plots.sigma[:, :2]))
    assert np.nanmax(plots.baro_alt) < 14_000.0
    # DLH65A / 3C660C is the single record of cat048.raw as well.
    assert b"DLH65A" in plots.callsign.tolist() and 0x3C660C in plots.icao.tolist()


def test_plots_land_in_the_region_of_their_radar(
    data_file: Callable[..., Path], croatia_sensors: list[SensorInfo]
) -> None:
    blocks, times = _blocks(data_file("asterix_croatiacontrol", "cat_034_048.pcap"))
    rej = Rejections()
    plots = reports2plots(decode_cat048(blocks, rej), croatia_sensors, np.array(times), rej)
    site = np.array([[np.deg2rad(s.lat_deg), np.deg2rad(s.lon_deg), s.alt_m]
                     for s in croatia_sensors])[plots.sensor]
    # Slant range and azimuth at the flight level give a point on the map near Croatia.
    el = np.arcsin(np.clip((plots.baro_alt - site[:, 2]) / plots.z[:, 0], -1, 1))
    llh = geo.ecef2geodetic(geo.aer2ecef(np.stack([plots.z[:, 1], np.nan_to_num(el),
                                                   plots.z[:, 0]], -1), site))
    lat, lon = np.rad2deg(llh[:, 0]), np.rad2deg(llh[:, 1])
    assert np.all((lat > 38) & (lat < 52) & (lon > 8) & (lon < 25))


def test_walker_matches_libasterix_on_the_real_capture(data_file: Callable[..., Path]) -> None:
    blocks, _ = _blocks(data_file("asterix_croatiacontrol", "cat_034_048.pcap"))
    raw, errors, _ = scan_cat048(blocks, Rejections())
    ref, ok = cat048_reference_rows(blocks)
    assert ok.all() and not errors.any()
    np.testing.assert_array_equal(raw[:, COMPARED], ref[:, COMPARED])


def test_single_record_file(data_file: Callable[..., Path],
                            croatia_sensors: list[SensorInfo]) -> None:
    data = data_file("asterix_croatiacontrol", "cat048.raw").read_bytes()
    batch = AsterixDecoder(croatia_sensors).decode_blocks(
        [(1.46e9, b) for b in split_datagram(data, Rejections())])
    assert len(batch.plots) == 1
    assert batch.plots.callsign[0] == b"DLH65A" and batch.plots.icao[0] == 0x3C660C


# --- generated records: every item of the edition, random raw values ---------------------

U = st.integers
SPEC = EDITIONS[48]


def _group(bits: int) -> st.SearchStrategy[int]:
    return U(0, (1 << bits) - 1)


ITEMS: dict[str, st.SearchStrategy[Any]] = {
    "010": _group(16), "140": _group(24), "040": _group(32), "070": _group(16),
    "090": _group(16), "220": _group(24), "240": _group(48), "161": _group(16),
    "042": _group(32), "200": _group(32), "210": _group(32), "080": _group(16),
    "100": _group(32), "110": _group(16), "230": _group(16), "260": _group(56),
    "055": _group(8), "050": _group(16), "065": _group(8), "060": _group(16),
    "020": st.lists(_group(7), min_size=1, max_size=6).map(tuple),
    "170": st.lists(_group(7), min_size=1, max_size=2).map(tuple),
    "250": st.lists(_group(64), max_size=3),
    "030": st.lists(_group(7), min_size=1, max_size=3),
    "130": st.dictionaries(st.sampled_from(["SRL", "SRR", "SAM", "PRL", "PAM", "RPD", "APD"]),
                           _group(8), min_size=1),
    "120": st.fixed_dictionaries({}, optional={"CAL": _group(16),
                                               "RDS": st.lists(_group(48), max_size=2)}),
    "SP": st.binary(min_size=0, max_size=4), "RE": st.binary(min_size=0, max_size=4),
}
RECORD = st.dictionaries(st.sampled_from(sorted(ITEMS)), st.none()).flatmap(
    lambda keys: st.fixed_dictionaries({k: ITEMS[k] for k in keys}))


def _record_bytes(items: dict[str, Any]) -> bytes:
    if "120" in items and not items["120"]:
        items = {k: v for k, v in items.items() if k != "120"}
    return bytes(SPEC.cv_record.create(items).unparse().to_bytes())


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(RECORD, min_size=1, max_size=4), min_size=1, max_size=4))
def test_walker_matches_libasterix_on_generated_records(
    block_items: list[list[dict[str, Any]]],
) -> None:
    blocks = [b"".join(_record_bytes(r) for r in records) for records in block_items]
    raw, errors, _ = scan_cat048(blocks, Rejections())
    ref, ok = cat048_reference_rows(blocks)
    assert ok.all() and not errors.any()
    np.testing.assert_array_equal(raw[:, COMPARED], ref[:, COMPARED])


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=1, max_size=48))
def test_walker_and_libasterix_agree_on_arbitrary_bytes(payload: bytes) -> None:
    raw, errors, _ = scan_cat048([payload], Rejections())
    ref, ok = cat048_reference_rows([payload])
    assert bool(ok[0]) == (errors[0] == 0)
    if ok[0]:
        np.testing.assert_array_equal(raw[:, COMPARED], ref[:, COMPARED])


def test_mutated_real_blocks_agree_record_for_record(data_file: Callable[..., Path]) -> None:
    real, _ = _blocks(data_file("asterix_croatiacontrol", "cat_034_048.pcap"))
    rng = np.random.default_rng(7)
    blocks: list[bytes] = []
    for _ in range(1500):
        b = bytearray(real[rng.integers(len(real))])
        for _ in range(rng.integers(1, 4)):
            b[rng.integers(len(b))] = rng.integers(256)
        blocks.append(bytes(b[: rng.integers(1, len(b) + 1)]))
    rej = Rejections()
    raw, errors, _ = scan_cat048(blocks, rej)
    ref, ok = cat048_reference_rows(blocks)
    np.testing.assert_array_equal(errors == 0, ok)
    np.testing.assert_array_equal(raw[:, COMPARED], ref[:, COMPARED])
    assert rej.total() == int(np.sum(~ok)) > 0
