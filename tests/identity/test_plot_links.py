"""Plot links and the relative bias Jacobian against biased measurements made with pymap3d."""

from __future__ import annotations

import numpy as np
import pymap3d
import pytest

from airpicture.fusion.plot_links import LINK_ID_BASE, link_jacobian, link_plots
from airpicture.fusion.reference import Sites, pair_by_position
from airpicture.messages import SensorInfo, SensorKind
from airpicture.plot_table import KIND_CODE, PlotTable

T0 = 1_780_272_000.0
R_SITE = SensorInfo(id="R", nation="AAA", kind=SensorKind.RADAR, lat_deg=35.0, lon_deg=137.0,
                    alt_m=100.0, max_range_m=300e3, period_s=10.0,
                    sigma=[50.0, float(np.radians(0.08))])
U_SITE = SensorInfo(id="U", nation="BBB", kind=SensorKind.RADAR, lat_deg=35.9, lon_deg=138.1,
                    alt_m=300.0, max_range_m=300e3, period_s=10.0,
                    sigma=[50.0, float(np.radians(0.08))])
SITES = Sites.from_sensors([R_SITE, U_SITE])
# An object 9 km up, flying north-east at 240 m/s from (35.5 N, 137.3 E).
START = np.array(pymap3d.geodetic2ecef(35.5, 137.3, 9000.0))
VELOCITY = np.array(pymap3d.enu2uvw(170.0, 170.0, 0.0, 35.5, 137.3))


def _plot(site: SensorInfo, index: int, t: float, theta: np.ndarray) -> PlotTable:
    """A noise-free plot of the object at true time ``t`` by ``site`` with biases ``theta``
    = [range offset m, range gain, azimuth rad, time stamp s]."""
    p = START + VELOCITY * (t - T0)
    az_deg, el_deg, r = pymap3d.ecef2aer(*p, site.lat_deg, site.lon_deg, site.alt_m)
    az, el = np.radians(az_deg), np.radians(el_deg)
    out = PlotTable.blank(1)
    out.time[:] = t + theta[3]
    out.sensor[:] = index
    out.kind[:] = KIND_CODE[SensorKind.RADAR]
    out.z[0, :3] = [r * (1.0 + theta[1]) + theta[0], np.mod(az + theta[2], 2 * np.pi), el]
    return out


def _residual(theta_r: np.ndarray, theta_u: np.ndarray) -> tuple[np.ndarray, ...]:
    """U's plot at T0 + 4 s against the link of R's plots at T0 and T0 + 10 s: the residual,
    ``H_U`` and ``L_R``."""
    plots = PlotTable.concat([_plot(R_SITE, 0, T0, theta_r), _plot(R_SITE, 0, T0 + 10.0, theta_r),
                              _plot(U_SITE, 1, T0 + 4.0, theta_u)])
    links = link_plots(plots, SITES)
    assert links.sensor.tolist() == [0] and links.reports.icao.tolist() == [LINK_ID_BASE]
    pairs = pair_by_position(plots, links.reports, SITES, max_dt_s=6.0, ref_sensor=links.sensor)
    assert pairs.sensor.tolist() == [1]  # R's plots never pair with R's own link
    return pairs.y[0], pairs.H()[0], link_jacobian(pairs, links, plots, SITES)[0]


@pytest.mark.parametrize("k", range(4))
def test_the_relative_jacobian_matches_finite_differences(k: int) -> None:
    step = np.array([20.0, 1e-4, np.radians(0.02), 0.1])
    zero = np.zeros(4)
    y0, H, L = _residual(zero, zero)
    assert np.allclose(y0, 0.0, atol=[1e-3, 1e-9])  # no bias, no residual
    e = np.eye(4)[k] * step[k]
    dy_r = _residual(e, zero)[0] - y0
    dy_u = _residual(zero, e)[0] - y0
    # Within 0.2 % of linear (the steps move the residual by metres and 1e-4 rad).
    assert np.allclose(dy_r, L @ e, rtol=2e-3, atol=[0.01, 1e-9]), (dy_r, L @ e)
    assert np.allclose(dy_u, H @ e, rtol=2e-3, atol=[0.01, 1e-9]), (dy_u, H @ e)
    assert np.abs(L @ e).max() > 1e-6  # every bias of R moves U's residual


def test_links_need_one_antenna_turn_and_the_same_sensor() -> None:
    zero = np.zeros(4)
    too_soon = PlotTable.concat([_plot(R_SITE, 0, T0, zero), _plot(R_SITE, 0, T0 + 3.0, zero)])
    other = PlotTable.concat([_plot(R_SITE, 0, T0, zero), _plot(U_SITE, 1, T0 + 10.0, zero)])
    assert len(link_plots(too_soon, SITES).sensor) == 0
    assert len(link_plots(other, SITES).sensor) == 0
    one = link_plots(PlotTable.concat([_plot(R_SITE, 0, T0, zero),
                                       _plot(R_SITE, 0, T0 + 10.0, zero)]), SITES)
    # Noise-free plots: the link's velocity is the object's (elevation measured exactly).
    assert np.allclose(one.reports.velocity[0], VELOCITY, atol=0.05)
