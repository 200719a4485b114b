"""The ADS-B consistency check with radar and ESM together: who may make a case.

The flights, ADS-B reports and ESM bearings are those of :mod:`.test_spoofing_esm`; radar
plots (range and azimuth of the true positions, with pymap3d's ``ecef2aer``, not the code
under test) are added here. Aircraft 0 is the one spoofed (2 km east from 120 s) or escorted.
"""

from __future__ import annotations

import numpy as np
import pymap3d
import pytest

from airpicture.fusion.spoofing import SpoofingMonitor
from airpicture.messages import SensorInfo, SensorKind
from airpicture.plot_table import KIND_CODE, PlotTable

from .test_spoofing_esm import ADSB, ESM, FLIGHTS, SPOOF_FROM, T0, esm_plots, truth

# A radar with a 10-s antenna turn, and a coarse primary radar (over-the-horizon class: 2 km,
# 0.5 deg) turning every 4 s, which cannot see a 2 km offset.
RADAR = SensorInfo(id="R", nation="AAA", kind=SensorKind.RADAR, lat_deg=35.4, lon_deg=137.4,
                    alt_m=100.0, max_range_m=400e3, period_s=10.0,
                    sigma=[80.0, float(np.radians(0.12))])
COARSE = SensorInfo(id="O", nation="AAA", kind=SensorKind.RADAR, lat_deg=34.2, lon_deg=136.2,
                    alt_m=100.0, max_range_m=400e3, period_s=4.0,
                    sigma=[2000.0, float(np.radians(0.5))])


def _radar(site: SensorInfo, index: int, seconds: float, addressed: bool,
           rng: np.random.Generator) -> PlotTable:
    """Plots of every flight's true position by radar ``site`` (sensor ``index``), one per
    antenna turn (phases spread over the turn), with the site's noise."""
    phase = np.linspace(0.0, site.period_s, len(FLIGHTS), endpoint=False)
    t = (T0 + np.arange(0.0, seconds - site.period_s, site.period_s)[:, None]
         + phase[None, :]).ravel()
    which = np.tile(np.arange(len(FLIGHTS)), len(t) // len(FLIGHTS))
    p = truth(t)[0][np.arange(len(t)), which]
    az, _, r = pymap3d.ecef2aer(p[:, 0], p[:, 1], p[:, 2], np.radians(site.lat_deg),
                                np.radians(site.lon_deg), site.alt_m, deg=False)
    plots = PlotTable.blank(len(t))
    plots.time[:] = t
    plots.sensor[:] = index
    plots.kind[:] = KIND_CODE[SensorKind.RADAR]
    plots.z[:, 0] = r + rng.normal(0.0, site.sigma[0], len(t))
    plots.z[:, 1] = np.mod(az + rng.normal(0.0, site.sigma[1], len(t)), 2 * np.pi)
    plots.baro_alt[:] = 9000.0
    plots.icao[:] = 0x840000 + which if addressed else -1
    return plots


def _flags(monitor: SpoofingMonitor, plots: PlotTable, seconds: int) -> list[tuple[int, float]]:
    """``(address, data time - T0)`` of every flag, feeding one batch per second."""
    out = []
    for k in range(seconds):
        f = monitor.update(plots.take((plots.time >= T0 + k) & (plots.time < T0 + k + 1)))
        out += [(int(i), float(t) - T0) for i, t in zip(f.icao, f.time, strict=True)]
    return out


@pytest.mark.parametrize(("radar", "expected"), [(True, []), (False, [0x840000])])
def test_an_emitter_beside_an_aircraft_radar_sees_makes_no_case(radar: bool,
                                                                expected: list[int]) -> None:
    # Aircraft 0 emits (its bearing line is confirmed) until 150 s; from then on an emitter
    # without ADS-B flies 2 km east of it and emits, 6 sigma off its line every 2 s. Where a
    # radar sees aircraft 0 (a primary plot every 10 s) the radar judges it and finds it where
    # it says it is; where none does, the bearings alone cannot tell this from a spoof.
    rng = np.random.default_rng(5)
    parts = [esm_plots(400.0, False, rng, spoof_from=1e9, escorted=0, escort_from=150.0)]
    sensors = [ESM, ADSB]
    if radar:
        parts.append(_radar(RADAR, 2, 400.0, False, rng))
        sensors.append(RADAR)
    plots = PlotTable.concat(parts).sorted_by_time()
    assert [i for i, _ in _flags(SpoofingMonitor(sensors), plots, 400)] == expected


def test_a_spoof_seen_by_a_10_s_radar_and_a_coarse_one_is_flagged_within_30_s() -> None:
    # No ESM. The 10-s primary radar (plots without address, paired by position with the
    # aircraft's newest report) sees the 2 km offset at ~20 sigma on every turn; the coarse
    # radar plots (every 4 s, below 1 sigma off) come in between. Measured (seed 7): flagged
    # at 140 s, 23 sigma, on the third turn after the spoof starts.
    rng = np.random.default_rng(7)
    adsb = esm_plots(400.0, True, rng)
    plots = PlotTable.concat([adsb.take(adsb.sensor == 1), _radar(RADAR, 2, 400.0, False, rng),
                              _radar(COARSE, 3, 400.0, False, rng)]).sorted_by_time()
    monitor = SpoofingMonitor([ESM, ADSB, RADAR, COARSE])
    flags = _flags(monitor, plots, 400)
    assert [i for i, _ in flags] == [0x840000], flags
    assert SPOOF_FROM < flags[0][1] <= SPOOF_FROM + 30.0, flags


def test_radar_plots_before_any_adsb_report_are_not_judged() -> None:
    monitor = SpoofingMonitor([ESM, ADSB, RADAR])
    flags = monitor.update(_radar(RADAR, 2, 30.0, False, np.random.default_rng(1)))
    assert len(flags) == 0 and monitor.samples == 0
