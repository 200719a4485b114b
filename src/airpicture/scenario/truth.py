"""Truth of a scenario: every object's state at every step, and the objects' attributes.

Composes the three kinds of traffic (airliners, recorded flights, non-cooperative objects)
into one set of arrays indexed by object id (``0 .. n-1``), stepped on the scenario's grid.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from airpicture.geo_kernels import geodetic_state
from airpicture.scenario.airliners import Airliners
from airpicture.scenario.airports import Airport, airports
from airpicture.scenario.config import Scenario
from airpicture.scenario.noncooperative import FAST, LOW, NonCooperative
from airpicture.scenario.recorded import Flight, Recorded, load_flights, relocate
from airpicture.truth_table import ObjectClass, ObjectTable

F64 = NDArray[np.float64]
AIRLINE_PREFIXES: dict[str, tuple[str, ...]] = {
    "JP": ("JAL", "ANA", "SKY", "APJ"),
    "PH": ("PAL", "CEB", "APG"),
    "AU": ("QFA", "VOZ", "JST"),
    "US": ("UAL", "DAL", "HAL"),
}
OTHER_PREFIXES = ("KAL", "CAL", "CPA", "FJI", "ANZ", "SIA", "EVA", "AAR")
EMERGENCY_CODES = (0o7500, 0o7600, 0o7700)


@dataclasses.dataclass(frozen=True)
class TruthStep:
    """States of all objects at one instant; rows of inactive objects are meaningless.

    ``llh`` geodetic (rad, rad, m), ``position`` ECEF (m), ``velocity`` ECEF (m/s), all
    ``(n_objects, 3)``; ``active`` ``(n_objects,)``.
    """

    time: float
    active: NDArray[np.bool_]
    llh: F64
    position: F64
    velocity: F64


class TruthModel:
    """All objects of a scenario, generated from one random generator."""

    def __init__(
        self,
        scenario: Scenario,
        rng: np.random.Generator,
        data_dir: Path | None = None,
        anchors: F64 | None = None,
    ) -> None:
        sc = scenario.scenario
        self.t0 = sc.start.timestamp()
        self.dt = sc.step_s
        self.n_steps = round(sc.duration_s / sc.step_s)
        self.notes: list[str] = []
        tr = scenario.traffic
        ports = [airports()[code] for code in tr.airports]
        weights = np.array(list(tr.airports.values()), dtype=np.float64)
        self.airliners = Airliners(
            tr.airliners, ports, weights, rng, self.t0, sc.duration_s,
            tr.airborne_fraction, tr.min_route_km * 1e3, tr.max_route_km * 1e3,
        ) if tr.airliners else None
        flights = self._flights(scenario, rng, data_dir, ports, weights)
        grid = self.t0 + self.dt * np.arange(self.n_steps + 1)
        starts = np.array(dtype=np.float64, object=[
            self.t0 + rng.uniform(-0.5, 0.8) * min(sc.duration_s, f.time[-1] - f.time[0])
            for f in flights
        ])
        self.recorded = Recorded(flights, starts, grid.astype(np.float64)) if flights else None
        if anchors is None or len(anchors) == 0:
            anchors = np.array([[p.lat, p.lon] for p in ports])
        self.noncoop = NonCooperative(
            tr.noncooperative, anchors, rng, self.t0, sc.duration_s
        ) if tr.noncooperative else None
        self.objects = self._objects(rng, ports, flights)

    def _flights(
        self, scenario: Scenario, rng: np.random.Generator, data_dir: Path | None,
        ports: list[Airport], weights: F64,
    ) -> list[Flight]:
        rec = scenario.traffic.recorded
        if rec is None or rec.count == 0:
            return []
        path = (data_dir or Path(".")) / rec.source
        if not path.is_file():
            msg = f"recorded flights: {path} not found; no recorded flights replayed"
            if rec.required:
                raise FileNotFoundError(msg)
            self.notes.append(msg)
            return []
        flights = load_flights(path, rec.min_duration_s)
        take = rng.choice(len(flights), size=min(rec.count, len(flights)), replace=False)
        chosen = [flights[i] for i in np.sort(take)]
        if rec.relocate and ports:
            origins = [airports()[c] for c in scenario.traffic.airports]
            picks = rng.choice(len(origins), size=len(chosen), p=weights / weights.sum())
            chosen = [
                relocate(f, np.array([origins[p].lat, origins[p].lon])
                         + rng.normal(0, 0.01, 2))
                for f, p in zip(chosen, picks, strict=True)
            ]
        return chosen

    def _objects(
        self, rng: np.random.Generator, ports: list[Airport], flights: list[Flight]
    ) -> ObjectTable:
        n_air = len(self.airliners.spawn) if self.airliners else 0
        n_rec = len(flights)
        n_nc = len(self.noncoop.spawn) if self.noncoop else 0
        n = n_air + n_rec + n_nc
        t = ObjectTable(
            id=np.arange(n, dtype=np.int64),
            cls=np.repeat(
                np.array([ObjectClass.AIRLINER, ObjectClass.RECORDED, ObjectClass.NONCOOPERATIVE],
                         np.uint8), [n_air, n_rec, n_nc]),
            icao=np.full(n, -1, np.int32), mode3a=np.full(n, -1, np.int16),
            callsign=np.zeros(n, "S8"), transponder=np.zeros(n, bool), adsb=np.zeros(n, bool),
            emitter=np.zeros(n, bool), rcs=np.ones(n), nacp=np.full(n, -1, np.int8),
            nacv=np.full(n, -1, np.int8),
        )
        taken = {f.icao for f in flights}
        pool = rng.choice(np.arange(0x100000, 0xFFFFFF), size=n_air + len(taken), replace=False)
        icao = np.array([a for a in pool if a not in taken][:n_air], np.int32)
        coop = slice(0, n_air + n_rec)
        t.icao[:n_air] = icao
        t.icao[n_air:n_air + n_rec] = [f.icao for f in flights]
        codes = rng.integers(0o1000, 0o7000, n_air)
        t.mode3a[:n_air] = np.where(np.isin(codes, EMERGENCY_CODES), 0o2000, codes)
        t.mode3a[n_air:n_air + n_rec] = [f.squawk for f in flights]
        t.callsign[n_air:n_air + n_rec] = [f.callsign.encode("ascii", "replace") for f in flights]
        if self.airliners is not None:
            country = [ports[int(i)].country for i in self.airliners.origin_port]
            numbers = rng.integers(1, 9999, n_air)
            t.callsign[:n_air] = [
                f"{_prefix(c, rng)}{k}".encode() for c, k in zip(country, numbers, strict=True)
            ]
        t.transponder[coop] = True
        t.adsb[coop] = rng.random(n_air + n_rec) < 0.99
        t.nacp[coop] = rng.choice([8, 9, 10], n_air + n_rec, p=[0.2, 0.5, 0.3])
        t.nacv[coop] = rng.choice([1, 2], n_air + n_rec, p=[0.4, 0.6])
        t.rcs[coop] = np.exp(rng.uniform(np.log(10.0), np.log(100.0), n_air + n_rec))
        if self.noncoop is not None:
            b = self.noncoop.behaviour
            nc = slice(n_air + n_rec, n)
            t.emitter[nc] = rng.random(n_nc) < 0.8
            lo = np.select([b == LOW, b == FAST], [0.1, 1.0], 2.0)
            hi = np.select([b == LOW, b == FAST], [1.0, 3.0], 10.0)
            t.rcs[nc] = np.exp(rng.uniform(np.log(lo), np.log(hi)))
        return t

    def steps(self) -> Iterator[TruthStep]:
        """States at ``t0 + k dt`` for ``k = 0 .. n_steps`` (advancing the groups)."""
        for k in range(self.n_steps + 1):
            t = self.t0 + k * self.dt
            yield self._snapshot(t, k)
            if k < self.n_steps:
                if self.airliners is not None:
                    self.airliners.advance(t, self.dt)
                if self.noncoop is not None:
                    self.noncoop.advance(t, self.dt)

    def _snapshot(self, t: float, k: int) -> TruthStep:
        parts_llh, parts_vel, parts_act = [], [], []
        if self.airliners is not None:
            a = self.airliners
            parts_llh.append(a.agents.llh())
            parts_vel.append(a.agents.velocity_enu())
            parts_act.append(a.active_at(t))
        if self.recorded is not None:
            r = self.recorded
            r.advance(k)
            parts_llh.append(r.llh[k])
            parts_vel.append(r.velocity_enu[k])
            parts_act.append(r.active)
        if self.noncoop is not None:
            nc = self.noncoop
            parts_llh.append(nc.agents.llh())
            parts_vel.append(nc.agents.velocity_enu())
            parts_act.append(nc.active_at(t))
        if not parts_llh:
            z = np.zeros((0, 3))
            return TruthStep(t, np.zeros(0, bool), z, z, z)
        llh = np.concatenate(parts_llh)
        position, velocity = geodetic_state(llh, np.concatenate(parts_vel))
        return TruthStep(time=t, active=np.concatenate(parts_act), llh=llh,
                         position=position, velocity=velocity)


def _prefix(country: str, rng: np.random.Generator) -> str:
    options = AIRLINE_PREFIXES.get(country, OTHER_PREFIXES)
    return str(options[int(rng.integers(0, len(options)))])
