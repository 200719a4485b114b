"""Sensor registration: online estimates of every radar's systematic errors, jointly, from ADS-B
aircraft and from objects that several radars see.

A radar (or secondary radar) with range offset ``b_r``, range gain ``g``, azimuth bias
``b_az`` and a time stamp ``b_t`` late measures an aircraft at true range ``r`` and azimuth
``az`` as ``r (1 + g) + b_r`` and ``az + b_az`` and stamps the plot ``t + b_t``. Against an
ADS-B report extrapolated to the stamp (:mod:`~airpicture.fusion.reference`), the residual is
linear in the sensor's ``theta = [b_r, g, b_az, b_t]``::

    y_r  = b_r + r g - rdot b_t + noise        y_az = b_az - azdot b_t + noise

Against a reference made of another radar's plots of the same object, linked scan to scan
(:mod:`~airpicture.fusion.plot_links`: common objects, cooperative or not), the residual is
linear in *both* sensors' biases, ``y = H_U theta_U + L_R theta_R``: the relative bias terms.
So the estimator is joint over all sensors: the stacked ``Theta`` (4 per sensor) has the
information form of a weighted least-squares estimate with fading memory (time constant
``time_constant_s``) and a weak prior::

    A <- lambda A + sum J' W J,   b <- lambda b + sum J' W y,   Theta = (A + P0^-1)^-1 b

with ``J`` the residual's row of ``[H_U, L_R]`` placed at the two sensors' columns and ``W``
the inverse residual noise. A radar that no ADS-B receiver covers is registered through its
overlap with one that is: the ADS-B pairs pin the latter, the relative terms carry it over.
Each pair of radars is compared once (plots of the later sensor in the list against
references from the earlier). Plots are paired with links once the link after them can
exist (``link_lag_s`` late).

Pairs whose residual, corrected by the current estimate, fails a chi-square gate that
includes the estimate's own uncertainty are left out (wrong pairings, spoofed ADS-B). The sums
are ``np.add.at`` over pairs. :meth:`Registration.correct` applies the estimates to plots.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from scipy.stats import chi2

from airpicture.fusion.plot_links import link_jacobian, link_plots
from airpicture.fusion.reference import AdsbReports, RadarPairs, Sites, pair_by_position
from airpicture.messages import BiasEstimate, SensorInfo, SensorKind
from airpicture.plot_table import KIND_CODE, PlotTable

__all__ = ["BiasEstimates", "Registration", "RegistrationConfig"]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
PARAMETERS = ("range_offset_m", "range_gain", "azimuth_rad", "time_s")


@dataclasses.dataclass(frozen=True)
class RegistrationConfig:
    """Registration parameters.

    - ``prior_sigma``: one-sigma prior of ``[range offset m, gain, azimuth rad, time s]``.
    - ``time_constant_s``: fading memory of the information (data time).
    - ``gate_probability``: chi-square gate (2 dof) on corrected residuals.
    - ``min_pairs``: a sensor's estimate is applied once this many pairs stand behind it.
    - ``gate_m``, ``max_dt_s``: the pairing search (:func:`pair_by_position`).
    - ``keep_s``: how long ADS-B reports are kept to pair later plots with.
    - ``use_links``: also pair radars with each other on common objects.
    - ``link_lag_s``: how long plots wait for the links they pair with (default: the longest
      antenna period of the measuring sensors); ``link_max_dt_s``: the largest time from a
      link's mean time to a plot paired with it (default: 0.6 of that period).
    """

    prior_sigma: tuple[float, float, float, float] = (2000.0, 2e-3, float(np.radians(1.0)), 3.0)
    time_constant_s: float = 3600.0
    gate_probability: float = 0.999
    min_pairs: int = 50
    gate_m: float = 6000.0
    max_dt_s: float = 2.0
    keep_s: float = 5.0
    use_links: bool = True
    link_lag_s: float | None = None
    link_max_dt_s: float | None = None

    def __post_init__(self) -> None:
        if not all(s > 0 for s in self.prior_sigma) or len(self.prior_sigma) != 4:
            raise ValueError(f"prior_sigma must be four positive numbers, got {self.prior_sigma}")
        if not (self.time_constant_s > 0 and 0 < self.gate_probability < 1
                and self.min_pairs >= 0 and self.gate_m > 0 and self.max_dt_s > 0):
            raise ValueError("RegistrationConfig: invalid values")


@dataclasses.dataclass(frozen=True)
class BiasEstimates:
    """Per sensor (rows as the plots' ``sensor`` index): ``theta`` ``(S, 4)`` = [range
    offset m, range gain, azimuth rad, time stamp s], its ``covariance`` ``(S, 4, 4)``, the
    number of ``pairs`` behind it (``link_pairs`` of them against other radars), whether it is
    ``applied`` (enough pairs, radar or SSR)."""

    time: float
    sensor_ids: tuple[str, ...]
    theta: F64
    covariance: F64
    pairs: NDArray[np.int64]
    link_pairs: NDArray[np.int64]
    applied: NDArray[np.bool_]

    def messages(self) -> list[BiasEstimate]:
        """The applied estimates as publishable messages (one per sensor)."""
        out = []
        for s in np.flatnonzero(self.applied).tolist():
            th = self.theta[s]
            out.append(BiasEstimate(
                sensor_id=self.sensor_ids[s], time=self.time, range_offset_m=float(th[0]),
                range_gain=float(th[1]), azimuth_rad=float(th[2]), time_s=float(th[3]),
                sigma=np.sqrt(np.diag(self.covariance[s])).tolist(),
                samples=int(self.pairs[s]),
            ))
        return out


class Registration:
    """Online bias estimation for a set of sensors (see the module docstring).

    Call :meth:`update` with each batch of plots (radar and SSR plots to register, ADS-B plots
    as reference, any order; batches in data-time order); :meth:`correct` applies the current
    estimates to plots.
    """

    def __init__(self, sensors: Sequence[SensorInfo], config: RegistrationConfig | None = None
                 ) -> None:
        cfg = self.config = config or RegistrationConfig()
        self.sites = Sites.from_sensors(sensors)
        n = len(sensors)
        self._info = np.zeros((4 * n, 4 * n))
        self._vector = np.zeros(4 * n)
        self._pairs = np.zeros(n, np.int64)
        self._link_pairs = np.zeros(n, np.int64)
        self._prior = np.diag(np.tile(1.0 / np.square(cfg.prior_sigma), n))
        self._reports = AdsbReports.empty()
        self._held = PlotTable.empty()
        self._linked_until = -np.inf
        self._time = -np.inf
        self._gate = float(chi2.ppf(cfg.gate_probability, 2))
        self._measuring = np.isin(self.sites.kind, [KIND_CODE[SensorKind.RADAR],
                                                    KIND_CODE[SensorKind.SSR]])
        period = float(self.sites.period[self._measuring].max()) if self._measuring.any() else 0
        self._lag = cfg.link_lag_s if cfg.link_lag_s is not None else period
        self._link_dt = cfg.link_max_dt_s if cfg.link_max_dt_s is not None else 0.6 * period
        self._keep_held = self._lag + 2.0 * period
        self._solve()

    def _solve(self) -> None:
        """``Theta`` and its joint covariance from the information: :attr:`estimates`."""
        n = len(self._pairs)
        P = self._joint_cov = np.asarray(np.linalg.inv(self._info + self._prior), np.float64)
        theta = (P @ self._vector).reshape(n, 4)
        blocks = P.reshape(n, 4, n, 4)[np.arange(n), :, np.arange(n), :]
        applied = self._measuring & (self._pairs >= self.config.min_pairs)
        self.estimates = BiasEstimates(self._time, self.sites.ids, theta, blocks,
                                       self._pairs.copy(), self._link_pairs.copy(), applied)

    def update(self, plots: PlotTable) -> BiasEstimates:
        """Take in a batch of plots; return the new estimates (also :attr:`estimates`)."""
        cfg = self.config
        if len(plots) == 0:
            return self.estimates
        t_new = float(plots.time.max())
        self._reports = self._reports.merged(AdsbReports.from_plots(plots), t_new - cfg.keep_s
                                             - float(np.ptp(plots.time)))
        est = self.estimates
        pairs = pair_by_position(plots, self._reports, self.sites, gate_m=cfg.gate_m,
                                 max_dt_s=cfg.max_dt_s, bias=est.theta)
        H = pairs.H()
        parts = [(pairs, np.concatenate([H, np.zeros_like(H)], axis=2), pairs.sensor)]
        if cfg.use_links:
            parts.append(self._link_pairs_of(plots, t_new, est.theta))
        if np.isfinite(self._time):
            fade = np.exp(-max(t_new - self._time, 0.0) / cfg.time_constant_s)
            self._info *= fade
            self._vector *= fade
        self._time = max(self._time, t_new)
        self._accumulate(parts, est)
        self._solve()
        return self.estimates

    def _link_pairs_of(self, plots: PlotTable, t_new: float, theta: F64
                       ) -> tuple[RadarPairs, F64, I64]:
        """Pairs of the held plots now due with links among the held plots: the pairs, their
        Jacobians ``[H_U, L_R]`` ``(P, 2, 8)`` and the reference sensors."""
        mine = plots.take(self._measuring[plots.sensor]
                          & np.isfinite(plots.z[:, :2]).all(axis=1))
        held = PlotTable.concat([self._held.take(self._held.time >= t_new - self._keep_held),
                                 mine])
        self._held = held
        links = link_plots(held, self.sites)
        due = (held.time >= self._linked_until) & (held.time < t_new - self._lag)
        self._linked_until = max(self._linked_until, t_new - self._lag)
        due_plots = held.take(due)
        pairs = pair_by_position(due_plots, links.reports, self.sites, gate_m=self.config.gate_m,
                                 max_dt_s=self._link_dt, bias=theta, ref_sensor=links.sensor)
        J = np.concatenate([pairs.H(), link_jacobian(pairs, links, due_plots, self.sites)],
                           axis=2)
        return pairs, J, links.sensor[pairs.ref]

    def _accumulate(self, parts: list[tuple[RadarPairs, F64, I64]], est: BiasEstimates) -> None:
        """Gate the pairs against the current estimate and add the survivors' information."""
        y = np.concatenate([p.y for p, _, _ in parts])
        if len(y) == 0:
            return
        J = np.concatenate([j for _, j, _ in parts])
        sigma = np.concatenate([p.sigma for p, _, _ in parts])
        u = np.concatenate([p.sensor for p, _, _ in parts])
        r = np.concatenate([ref for _, _, ref in parts])
        cols = np.concatenate([4 * u[:, None] + np.arange(4), 4 * r[:, None] + np.arange(4)], 1)
        theta = est.theta.reshape(-1)
        y_c = y - np.einsum("nij,nj->ni", J, theta[cols])
        # Gate: residual covariance = noise + the estimate's own uncertainty.
        P = self._joint_cov[cols[:, :, None], cols[:, None, :]]
        S = np.einsum("nij,njk,nlk->nil", J, P, J)
        S[:, 0, 0] += sigma[:, 0] ** 2
        S[:, 1, 1] += sigma[:, 1] ** 2
        d2 = np.einsum("ni,ni->n", y_c, np.linalg.solve(S, y_c[..., None])[..., 0])
        ok = d2 <= self._gate
        J, y, w, cols = J[ok], y[ok], 1.0 / sigma[ok] ** 2, cols[ok]
        np.add.at(self._info, (cols[:, :, None], cols[:, None, :]),
                  np.einsum("nki,nk,nkj->nij", J, w, J))
        np.add.at(self._vector, cols, np.einsum("nki,nk,nk->ni", J, w, y))
        np.add.at(self._pairs, u[ok], 1)
        np.add.at(self._link_pairs, u[ok], (r != u)[ok].astype(np.int64))

    def correct(self, plots: PlotTable) -> PlotTable:
        """Plots with the applied estimates removed (radar and SSR rows; others unchanged):
        ``t - b_t``, ``(range - b_r) / (1 + g)``, ``azimuth - b_az``."""
        est = self.estimates
        if len(plots) == 0 or not est.applied.any():
            return plots
        s = plots.sensor.astype(np.int64)
        th = np.where(est.applied[s][:, None], est.theta[s], 0.0)
        z = plots.z.copy()
        z[:, 0] = np.where(est.applied[s], (z[:, 0] - th[:, 0]) / (1.0 + th[:, 1]), z[:, 0])
        z[:, 1] = np.where(est.applied[s], np.mod(z[:, 1] - th[:, 2], 2 * np.pi), z[:, 1])
        time = plots.time - th[:, 3]
        return PlotTable(**{**plots.columns(), "z": z, "time": time})
