"""Airliner traffic: great-circle routes between the region's airports, flown with take-off,
climb, cruise, descent, landing and coordinated turns at a dog-leg waypoint.

Each route goes origin -> waypoint -> destination; the waypoint is displaced sideways from the
great circle so every flight turns at least once (and once more after take-off). The
vertical profile follows the distance flown (climb gradient) and the distance to go (a 3-degree
class descent), capped at the cruise level; speed follows height.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from airpicture.geo import (
    bearing_distance,
    bearing_distance_ecef,
    destination_points,
    geodetic2ecef,
    great_circle_points,
)
from airpicture.scenario.airports import Airport
from airpicture.scenario.kinematics import Agents, approach, move, steer, turn_rate_for_bank

F64 = NDArray[np.float64]
CLIMB_GRADIENT = 0.08
DESCENT_GRADIENT = 0.055
LANDING_SPEED = 75.0
MAX_BANK = np.radians(25.0)
MAX_TURN_RATE = np.radians(3.0)
VZ_CLIMB, VZ_DESCENT, VZ_TAU = 15.0, 12.0, 20.0
ACCELERATION = 1.2
GUIDANCE_INTERVAL_S = 4.0
"""Heading commands and distances are recomputed this often (s)."""


def _pairs(
    ports: list[Airport], weights: F64, min_m: float, max_m: float
) -> tuple[NDArray[np.int64], NDArray[np.int64], F64]:
    """All ordered airport pairs within the route-length limits, with sampling weights."""
    ll = np.array([[a.lat, a.lon] for a in ports])
    n = len(ports)
    i = np.repeat(np.arange(n, dtype=np.int64), n)
    j = np.tile(np.arange(n, dtype=np.int64), n)
    _, dist = bearing_distance(ll[i], ll[j])
    ok = (i != j) & (dist >= min_m) & (dist <= max_m)
    w = weights[i] * weights[j]
    return i[ok], j[ok], w[ok] / w[ok].sum()


class Airliners:
    """A group of airliners (one row per flight), advanced in place by :meth:`advance`."""

    def __init__(
        self,
        n: int,
        ports: list[Airport],
        weights: F64,
        rng: np.random.Generator,
        t0: float,
        duration: float,
        airborne_fraction: float,
        min_route_m: float,
        max_route_m: float,
    ) -> None:
        pi, pj, pw = _pairs(ports, weights, min_route_m, max_route_m)
        if len(pi) == 0:
            raise ValueError("no airport pair lies within the route length limits")
        pick = np.asarray(rng.choice(len(pi), size=n, p=pw), np.int64)
        ll = np.array([[a.lat, a.lon] for a in ports])
        elev = np.array([a.elevation_m for a in ports])
        self.origin_port = pi[pick]
        self.origin, self.dest = ll[pi[pick]], ll[pj[pick]]
        self.elev_o, self.elev_d = elev[pi[pick]], elev[pj[pick]]
        _, length = bearing_distance(self.origin, self.dest)
        mid = great_circle_points(self.origin, self.dest, rng.uniform(0.3, 0.7, n))
        side = rng.uniform(-0.12, 0.12, n) * length
        course, _ = bearing_distance(mid, self.dest)
        self.waypoint = destination_points(mid, course + np.pi / 2, side)
        self.waypoint_ecef = _ecef(self.waypoint)
        self.dest_ecef = _ecef(self.dest)
        _, self.leg1 = bearing_distance(self.origin, self.waypoint)
        _, self.leg2 = bearing_distance(self.waypoint, self.dest)
        self.cruise_h = np.where(
            length < 800e3, rng.uniform(7600, 10000, n), rng.uniform(9500, 12500, n)
        )
        self.cruise_v = rng.uniform(225.0, 255.0, n)
        self.leg = np.zeros(n, np.int64)
        airborne = rng.random(n) < airborne_fraction
        self.spawn = np.where(airborne, t0, t0 + rng.uniform(0.0, duration, n))
        total = self.leg1 + self.leg2
        self.flown = np.where(airborne, rng.uniform(0.03, 0.97, n) * total, 0.0)
        self.active = np.zeros(n, bool)
        self.done = np.zeros(n, bool)
        self.agents = self._initial_agents(airborne, rng)
        self._next_guidance = -np.inf
        self._psi_cmd, self._dist, self._to_go = self._guidance()

    def _initial_agents(self, airborne: NDArray[np.bool_], rng: np.random.Generator) -> Agents:
        n = len(self.flown)
        on_leg2 = airborne & (self.flown > self.leg1)
        self.leg = on_leg2.astype(np.int64)
        frac1 = np.clip(self.flown / np.maximum(self.leg1, 1.0), 0.0, 1.0)
        frac2 = np.clip((self.flown - self.leg1) / np.maximum(self.leg2, 1.0), 0.0, 1.0)
        p1 = great_circle_points(self.origin, self.waypoint, frac1)
        p2 = great_circle_points(self.waypoint, self.dest, frac2)
        pos = np.where(on_leg2[:, None], p2, p1)
        target = np.where(on_leg2[:, None], self.dest, self.waypoint)
        psi, _ = bearing_distance(pos, target)
        # Departures leave the runway up to 60 degrees off course: a turn after take-off.
        psi = np.where(airborne, psi, psi + rng.uniform(-1.0, 1.0, n) * np.radians(60.0))
        to_go = self._distance_to_go(pos)
        h = np.where(airborne, self._height_command(to_go), self.elev_o)
        v = np.where(airborne, self._speed_command(h), LANDING_SPEED)
        return Agents(pos[:, 0], pos[:, 1], h, psi, v, np.zeros(n))

    def _distance_to_go(self, pos: F64) -> F64:
        target = np.where(self.leg[:, None] == 0, self.waypoint, self.dest)
        _, d = bearing_distance(pos, target)
        return d + np.where(self.leg == 0, self.leg2, 0.0)

    def _refresh_guidance(self, rows: NDArray[np.int64] | None = None) -> None:
        """Recompute heading commands and distances (all rows every few seconds, or some)."""
        psi, dist, to_go = self._guidance(rows)
        if rows is None:
            self._psi_cmd, self._dist, self._to_go = psi, dist, to_go
        else:
            self._psi_cmd[rows], self._dist[rows], self._to_go[rows] = psi, dist, to_go

    def _guidance(self, rows: NDArray[np.int64] | None = None) -> tuple[F64, F64, F64]:
        """Bearing and distance to the active waypoint, and the distance to go (m)."""
        sel = slice(None) if rows is None else rows
        a = self.agents
        lat, lon, leg = a.lat[sel], a.lon[sel], self.leg[sel]
        here = geodetic2ecef(np.stack([lat, lon, np.zeros_like(lat)], axis=1))
        target = np.where(leg[:, None] == 0, self.waypoint_ecef[sel], self.dest_ecef[sel])
        psi, dist = bearing_distance_ecef(here, np.stack([lat, lon], axis=1), target)
        return psi, dist, dist + np.where(leg == 0, self.leg2[sel], 0.0)

    def _height_command(self, to_go: F64) -> F64:
        climb = self.elev_o + CLIMB_GRADIENT * self.flown
        descent = self.elev_d + DESCENT_GRADIENT * to_go
        return np.minimum(self.cruise_h, np.minimum(climb, descent))

    def _speed_command(self, h: F64) -> F64:
        above = np.clip((h - np.minimum(self.elev_o, self.elev_d)) / 9000.0, 0.0, 1.0)
        return np.asarray(LANDING_SPEED + (self.cruise_v - LANDING_SPEED) * above**0.6)

    def active_at(self, t: float) -> NDArray[np.bool_]:
        """Flights in the air at ``t`` (s): spawned and not finished."""
        return (self.spawn <= t) & ~self.done

    def advance(self, t: float, dt: float) -> None:
        """Advance active flights from ``t`` to ``t + dt``; start and finish flights."""
        self.active = self.active_at(t)
        a = self.agents
        if t >= self._next_guidance:
            self._refresh_guidance()
            self._next_guidance = t + GUIDANCE_INTERVAL_S - 1e-9
        else:
            # Between refreshes the distances shrink by the distance flown.
            self._dist -= a.v * dt
            self._to_go -= a.v * dt
        anticipate = np.square(a.v) / (9.81 * np.tan(MAX_BANK)) + a.v * GUIDANCE_INTERVAL_S
        switch = (self.leg == 0) & (self._dist < anticipate) & self.active
        if switch.any():
            self.leg = np.where(switch, 1, self.leg)
            self._refresh_guidance(np.flatnonzero(switch))
        to_go = self._to_go
        h_cmd = self._height_command(to_go)
        vz_cmd = np.clip((h_cmd - a.h) / VZ_TAU, -VZ_DESCENT, VZ_CLIMB)
        v_cmd = approach(a.v, self._speed_command(a.h), ACCELERATION, dt)
        rate = np.minimum(turn_rate_for_bank(a.v, MAX_BANK), MAX_TURN_RATE)
        psi_new = steer(a.psi, self._psi_cmd, rate, dt)
        move(a, psi_new, v_cmd, vz_cmd, dt, self.active)
        self.flown = self.flown + np.where(self.active, a.v * dt, 0.0)
        landed = (self.leg == 1) & (to_go < 3000.0) & (a.h - self.elev_d < 100.0)
        self.done |= self.active & (landed | (to_go < 500.0))


def _ecef(ll: F64) -> F64:
    """ECEF (m) of [lat, lon] points on the ellipsoid."""
    return geodetic2ecef(np.stack([ll[:, 0], ll[:, 1], np.zeros(len(ll))], axis=1))
