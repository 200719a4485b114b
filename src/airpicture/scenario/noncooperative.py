"""Non-cooperative air objects: no transponder, no ADS-B; low flyers, fast high flyers and
manoeuvring objects that fly coordinated turns of up to 5 g.

Each object works around an anchor point (a sensor site named in the scenario): it flies to
random waypoints within ``AREA_M`` of the anchor. Manoeuvring objects break off into hard turns
(heading changes of 60-180 degrees at load factors of 2-5 g) every 20-60 s.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from airpicture.geo import bearing_distance, destination_points
from airpicture.scenario.kinematics import Agents, approach, move, steer, turn_rate_for_load

F64 = NDArray[np.float64]
LOW, FAST, MANOEUVRING = 0, 1, 2
AREA_M = 200e3
MAX_LOAD = 5.0


class NonCooperative:
    """A group of non-cooperative objects, advanced in place by :meth:`advance`."""

    def __init__(
        self,
        n: int,
        anchors: F64,
        rng: np.random.Generator,
        t0: float,
        duration: float,
    ) -> None:
        self.rng = rng
        self.behaviour = rng.choice([LOW, FAST, MANOEUVRING], size=n, p=[0.25, 0.25, 0.5])
        self.anchor = anchors[rng.integers(0, len(anchors), n)]
        start = destination_points(
            self.anchor, rng.uniform(0, 2 * np.pi, n), rng.uniform(30e3, 150e3, n)
        )
        b = self.behaviour
        self.h_cmd = np.select(
            [b == LOW, b == FAST],
            [rng.uniform(300, 600, n), rng.uniform(12e3, 18e3, n)],
            rng.uniform(3e3, 10e3, n),
        )
        self.v_cmd = np.select(
            [b == LOW, b == FAST],
            [rng.uniform(200, 280, n), rng.uniform(500, 750, n)],
            rng.uniform(200, 300, n),
        )
        self.load = np.select([b == LOW, b == FAST], [2.5, 2.0], rng.uniform(2.0, MAX_LOAD, n))
        self.waypoint = self._new_waypoints(n)
        psi, _ = bearing_distance(start, self.waypoint)
        self.psi_cmd = psi
        self.timer = rng.uniform(20, 60, n)
        self.spawn = np.where(rng.random(n) < 0.7, t0, t0 + rng.uniform(0, duration, n))
        self.active = np.zeros(n, bool)
        self.agents = Agents(
            start[:, 0], start[:, 1], self.h_cmd.copy(), psi, self.v_cmd.copy(), np.zeros(n)
        )

    def _new_waypoints(self, n: int, rows: NDArray[np.int64] | None = None) -> F64:
        anchor = self.anchor if rows is None else self.anchor[rows]
        return destination_points(
            anchor, self.rng.uniform(0, 2 * np.pi, n), self.rng.uniform(0, AREA_M, n)
        )

    def active_at(self, t: float) -> NDArray[np.bool_]:
        """Objects present at ``t`` (s): spawned (they never leave)."""
        return self.spawn <= t

    def advance(self, t: float, dt: float) -> None:
        """Advance active objects from ``t`` to ``t + dt``."""
        self.active = self.active_at(t)
        a = self.agents
        pos = np.stack([a.lat, a.lon], axis=1)
        brg, dist = bearing_distance(pos, self.waypoint)
        reached = np.flatnonzero(self.active & (dist < 5e3))
        if len(reached):
            self.waypoint[reached] = self._new_waypoints(len(reached), reached)
        # Manoeuvring objects: a hard turn when their timer runs out, else head for the waypoint.
        self.timer = self.timer - np.where(self.active, dt, 0.0)
        breaking = np.flatnonzero(
            self.active & (self.behaviour == MANOEUVRING) & (self.timer <= 0)
        )
        if len(breaking):
            k = len(breaking)
            turn = self.rng.uniform(np.radians(60), np.pi, k) * self.rng.choice([-1.0, 1.0], k)
            self.psi_cmd[breaking] = a.psi[breaking] + turn
            self.load[breaking] = self.rng.uniform(2.0, MAX_LOAD, k)
            self.timer[breaking] = self.rng.uniform(20, 60, k)
        in_break = (self.behaviour == MANOEUVRING) & (self.timer > 10.0)
        self.psi_cmd = np.where(in_break, self.psi_cmd, brg)
        rate = turn_rate_for_load(a.v, self.load)
        psi_new = steer(a.psi, self.psi_cmd, rate, dt)
        vz = np.clip((self.h_cmd - a.h) / 20.0, -30.0, 30.0)
        v_new = approach(a.v, self.v_cmd, 5.0, dt)
        move(a, psi_new, v_new, vz, dt, self.active)
