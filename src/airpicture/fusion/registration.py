"""Sensor registration: online estimates of each radar's systematic errors, from ADS-B aircraft.

A radar (or secondary radar) with range offset ``b_r``, range gain ``g``, azimuth bias
``b_az`` and a time stamp ``b_t`` late measures an aircraft at true range ``r`` and azimuth
``az`` as ``r (1 + g) + b_r`` and ``az + b_az`` and stamps the plot ``t + b_t``. Against an
ADS-B report extrapolated to the stamp (:mod:`~airpicture.fusion.reference`), the residual is
linear in ``theta = [b_r, g, b_az, b_t]``::

    y_r  = b_r + r g - rdot b_t + noise        y_az = b_az - azdot b_t + noise

so each sensor keeps the information form of a weighted least-squares estimate with fading
memory (time constant ``time_constant_s``) and a weak prior::

    A <- lambda A + sum H' W H,   b <- lambda b + sum H' W y,   theta = (A + P0^-1)^-1 b

with ``W`` the inverse residual noise (sensor and ADS-B). Pairs whose residual, corrected by
the current estimate, fails a chi-square gate that includes the estimate's own uncertainty
are left out (wrong pairings, spoofed ADS-B). Every sensor is updated at once: the sums are
``np.add.at`` over pairs. :meth:`Registration.correct` applies the estimates to plots.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from scipy.stats import chi2

from airpicture.fusion.reference import AdsbReports, Sites, pair_by_position
from airpicture.messages import BiasEstimate, SensorInfo, SensorKind
from airpicture.plot_table import KIND_CODE, PlotTable

__all__ = ["BiasEstimates", "Registration", "RegistrationConfig"]

F64 = NDArray[np.float64]
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
    """

    prior_sigma: tuple[float, float, float, float] = (2000.0, 2e-3, float(np.radians(1.0)), 3.0)
    time_constant_s: float = 3600.0
    gate_probability: float = 0.999
    min_pairs: int = 50
    gate_m: float = 6000.0
    max_dt_s: float = 2.0
    keep_s: float = 5.0

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
    number of ``pairs`` behind it, whether it is ``applied`` (enough pairs, radar or SSR)."""

    time: float
    sensor_ids: tuple[str, ...]
    theta: F64
    covariance: F64
    pairs: NDArray[np.int64]
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
    as reference, any order); :meth:`correct` applies the current estimates to plots.
    """

    def __init__(self, sensors: Sequence[SensorInfo], config: RegistrationConfig | None = None
                 ) -> None:
        self.config = config or RegistrationConfig()
        self.sites = Sites.from_sensors(sensors)
        n = len(sensors)
        self._info = np.zeros((n, 4, 4))
        self._vector = np.zeros((n, 4))
        self._pairs = np.zeros(n, np.int64)
        self._prior = np.diag(1.0 / np.square(self.config.prior_sigma))
        self._reports = AdsbReports.empty()
        self._time = -np.inf
        self._gate = float(chi2.ppf(self.config.gate_probability, 2))
        self._measuring = np.isin(self.sites.kind, [KIND_CODE[SensorKind.RADAR],
                                                    KIND_CODE[SensorKind.SSR]])
        self.estimates = self._estimates()

    def _estimates(self) -> BiasEstimates:
        P = np.asarray(np.linalg.inv(self._info + self._prior), np.float64)
        theta = np.einsum("sij,sj->si", P, self._vector)
        applied = self._measuring & (self._pairs >= self.config.min_pairs)
        return BiasEstimates(self._time, self.sites.ids, theta, P, self._pairs.copy(), applied)

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
        if np.isfinite(self._time):
            fade = np.exp(-max(t_new - self._time, 0.0) / cfg.time_constant_s)
            self._info *= fade
            self._vector *= fade
        self._time = max(self._time, t_new)
        if len(pairs):
            H = pairs.H()
            s = pairs.sensor
            y_c = pairs.y - np.einsum("nij,nj->ni", H, est.theta[s])
            # Gate: residual covariance = noise + the estimate's own uncertainty.
            S = np.einsum("nij,njk,nlk->nil", H, est.covariance[s], H)
            S[:, 0, 0] += pairs.sigma[:, 0] ** 2
            S[:, 1, 1] += pairs.sigma[:, 1] ** 2
            d2 = np.einsum("ni,ni->n", y_c, np.linalg.solve(S, y_c[..., None])[..., 0])
            ok = d2 <= self._gate
            H, s, y, w = H[ok], s[ok], pairs.y[ok], 1.0 / pairs.sigma[ok] ** 2
            np.add.at(self._info, s, np.einsum("nki,nk,nkj->nij", H, w, H))
            np.add.at(self._vector, s, np.einsum("nki,nk,nk->ni", H, w, y))
            np.add.at(self._pairs, s, 1)
        self.estimates = self._estimates()
        return self.estimates

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
