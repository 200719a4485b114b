"""A seeded synthetic coalition: objects on straight ECEF lines, nations that each see part of
them and report local tracks with known error covariances (errors drawn from them)."""

from __future__ import annotations

import dataclasses

import numpy as np
from numpy.typing import NDArray

from airpicture import geo
from airpicture.track_table import TrackTable

NATIONS = (b"AUS", b"JPN", b"PHL", b"USA")
T0 = 1_700_000_000.0


@dataclasses.dataclass(frozen=True)
class Coalition:
    x0: NDArray[np.float64]  # (M, 6) truth at T0
    sees: NDArray[np.bool_]  # (nations, M)
    track_ids: NDArray[np.int64]  # (nations, M) local ids
    cov: NDArray[np.float64]  # (nations, M, 6, 6) report covariances
    chol: NDArray[np.float64]
    nations: tuple[bytes, ...]
    icao: NDArray[np.int32]  # (M,) -1 for non-cooperative

    def truth(self, t: float) -> NDArray[np.float64]:
        x = self.x0.copy()
        x[:, :3] += (t - T0) * self.x0[:, 3:]
        return x


def coalition(n_objects: int, seed: int, nations: tuple[bytes, ...] = NATIONS) -> Coalition:
    rng = np.random.default_rng(seed)
    lat = np.radians(rng.uniform(15.0, 25.0, n_objects))
    lon = np.radians(rng.uniform(125.0, 135.0, n_objects))
    h = rng.uniform(2_000.0, 11_000.0, n_objects)
    llh = np.stack([lat, lon, h], axis=1)
    speed = rng.uniform(120.0, 250.0, n_objects)
    heading = rng.uniform(0.0, 2 * np.pi, n_objects)
    enu_v = np.stack([speed * np.sin(heading), speed * np.cos(heading), np.zeros(n_objects)], 1)
    x0 = np.concatenate([geo.geodetic2ecef(llh), geo.enu2ecefv(enu_v, llh[:, :2])], axis=1)
    k = len(nations)
    # Each object is seen by one to all nations; every nation sees about 60 %.
    sees = rng.random((k, n_objects)) < 0.6
    nobody = ~sees.any(axis=0)
    sees[rng.integers(0, k, n_objects)[nobody], np.flatnonzero(nobody)] = True
    track_ids = np.stack([rng.permutation(n_objects) + 100 * (i + 1) for i in range(k)])
    a = rng.normal(size=(k, n_objects, 6, 6)) * np.array([60.0] * 3 + [2.0] * 3)[:, None]
    cov = a @ a.transpose(0, 1, 3, 2) + np.diag([80.0**2] * 3 + [3.0**2] * 3)
    icao = np.where(rng.random(n_objects) < 0.5, rng.integers(0, 2**24, n_objects), -1)
    return Coalition(
        x0,
        sees,
        track_ids.astype(np.int64),
        cov,
        np.linalg.cholesky(cov),
        nations,
        icao.astype(np.int32),
    )


def record(c: Coalition, nation: int, t: float, rng: np.random.Generator) -> TrackTable:
    """One nation's report batch at data time ``t``: truth plus an error drawn from cov."""
    idx = np.flatnonzero(c.sees[nation])
    n = len(idx)
    err = (c.chol[nation, idx] @ rng.normal(size=(n, 6, 1)))[..., 0]
    blank = TrackTable.blank(n)
    return TrackTable(
        **{
            **blank.columns(),
            "time": np.full(n, t),
            "track": c.track_ids[nation, idx],
            "source": np.full(n, c.nations[nation], "S16"),
            "state": c.truth(t)[idx] + err,
            "covariance": c.cov[nation, idx].copy(),
            "icao": c.icao[idx],
            "quality": np.full(n, 0.9),
        }
    )


def log(
    c: Coalition,
    seconds: int,
    seed: int,
    outage: tuple[int, float, float] | None = None,
) -> list[TrackTable]:
    """Records in log order: every nation once per second, staggered by 0.1 s; ``outage`` =
    (nation, from, to) seconds after T0 during which that nation publishes nothing."""
    rng = np.random.default_rng(seed)
    out = []
    for s in range(seconds):
        for i in range(len(c.nations)):
            dt = s + 0.1 + 0.1 * i
            if outage is not None and outage[0] == i and outage[1] <= dt < outage[2]:
                continue
            out.append(record(c, i, T0 + dt, rng))
    return out
