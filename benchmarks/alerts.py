"""Alert benchmark: alert counts by kind, false-alert rate against truth and registration
estimates against the injected biases, on the default Western Pacific run.

    .venv/bin/python benchmarks/alerts.py [--duration 3600] [--seed 1] [--nation JPN]

Runs the built-in ``western-pacific`` scenario with the embedded four-node demo
(:func:`airpicture.node.embedded.run_embedded`, as ``airpicture demo`` does) for
``--duration`` data seconds. The built-in scenario has no zones, events or outages, so this
adds, scaled to the duration (``D``), what makes every alert kind possible:

- two protected zones: 2 x 2 degree boxes (0-20 km altitude) centred on the first two
  non-cooperative anchors (the non-cooperative objects work within 200 km of them);
- emergency squawks 7700 at 0.2 D and 7600 at 0.35 D, and ADS-B spoofing (2 km north at
  0.3 D, 5 km east at 0.5 D), each on a cooperative aircraft that is airborne, inside radar
  or SSR coverage and in reach of an ADS-B receiver from its event time to at least 300 s
  after it (picked by stepping a copy of the scenario's truth);
- a link outage of the last nation (``USA``; the zones are in Japan) from 0.55 D for 120 s.

The alert pipeline runs on ``--nation``'s node (every node holds the same picture): every
plot goes through :class:`~airpicture.fusion.registration.Registration` (estimates applied)
into :class:`~airpicture.fusion.spoofing.SpoofingMonitor`; every closed epoch through
:class:`~airpicture.fusion.identity.IdentityRules` and
:class:`~airpicture.fusion.alerts.AlertEngine` (zones, radar/SSR coverage, newly flagged and
still flagged addresses).

An alert is judged **false** against truth (sampled every 10 s and extrapolated with its
velocity; the object a track follows is the nearest truth object within 5 km of it):

- ``emergency``: the object carrying the track's address had no squawk event of that code
  in force at the alert time (or the track follows no object with an address);
- ``zone_intrusion``: the object the track follows was not inside the zone's polygon and
  altitude band at the alert time (or the track follows no object);
- ``adsb_inconsistent``: the flagged address's object was not being spoofed at that time;
- ``track_lost``: the track followed no object (none within 5 km of it at any truth sample of
  its last ten minutes), or the object it last followed had left the joint coverage (no
  nation's radar, SSR or ADS-B covers it), had landed (below 300 m, or its flight ended
  below 300 m), or was still held in the picture (another track within 5 km of it) at the
  alert time. The object is found from the track's history, not from its last reported
  position: a track whose tracker lost its object in a manoeuvre drifts kilometres off it on
  predictions before it ends. A recorded flight that ends airborne is an object the picture
  did lose there: its alert is true (printed as a note);
- ``feed_silent``: no outage of that partner was in force from ``silent_s`` before the
  alert (the feed was not in fact cut).

Prints each false alert (the first 30) with its explanation, a table of alerts, false
alerts, false rate and alerts per hour by kind, the seconds from each spoofing event's start
to its ``adsb_inconsistent`` alert (``None``: never raised), a table of the registration
estimates of the biased radars against the injected biases, then one JSON line. Timing: wall
clock and process CPU time of the whole run.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import msgspec
import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from airpicture.cli.simulate import DEFAULT_DATA_DIR  # noqa: E402
from airpicture.fusion import EpochResult  # noqa: E402
from airpicture.fusion.alerts import ALERT_KINDS, AlertEngine  # noqa: E402
from airpicture.fusion.identity import IdentityConfig, IdentityRules  # noqa: E402
from airpicture.fusion.registration import Registration  # noqa: E402
from airpicture.fusion.spoofing import AdsbFlags, SpoofingMonitor  # noqa: E402
from airpicture.fusion.zones import Coverage, ZoneSet  # noqa: E402
from airpicture.geo import ecef2geodetic, geodetic2ecef  # noqa: E402
from airpicture.messages import Alert, SensorInfo, SensorKind, TrackStatus  # noqa: E402
from airpicture.node.embedded import Outage, run_embedded  # noqa: E402
from airpicture.plot_table import PlotTable  # noqa: E402
from airpicture.scenario.config import (  # noqa: E402
    Event,
    RadarConfig,
    Scenario,
    Zone,
    load_scenario,
    with_duration,
)
from airpicture.scenario.simulator import Simulation  # noqa: E402
from airpicture.track_table import STATUS_CODES, TrackTable  # noqa: E402
from airpicture.truth_table import CoverageTable, TruthTable  # noqa: E402

F64 = NDArray[np.float64]
_COASTING = STATUS_CODES.index(TrackStatus.COASTING)
FOLLOW_M = 5000.0
HOLD_S = 300.0


def _zones(sc: Scenario) -> list[Zone]:
    sites = {s.id: s for s in sc.sensors}
    out = []
    for name in sc.traffic.noncooperative_anchors[:2]:
        s = sites[name]
        lat, lon = s.lat_deg, s.lon_deg
        out.append(Zone(name=f"ZONE-{name}", min_alt_m=0.0, max_alt_m=20_000.0, vertices_deg=[
            [lat - 1, lon - 1], [lat - 1, lon + 1], [lat + 1, lon + 1], [lat + 1, lon - 1]]))
    return out


def _adsb_coverage(sensors: list[SensorInfo]) -> Coverage:
    """Where the ADS-B receivers hear (range and radio horizon, as for radar)."""
    keep = [s for s in sensors if s.kind == SensorKind.ADSB]
    llh = np.array([[np.radians(s.lat_deg), np.radians(s.lon_deg), s.alt_m] for s in keep])
    return Coverage(ecef=geodetic2ecef(llh), height=llh[:, 2], lat=llh[:, 0],
                    max_range=np.array([s.max_range_m for s in keep]),
                    min_range=np.zeros(len(keep)))


def _pick_objects(sc: Scenario, seed: int, times: list[float]) -> list[int]:
    """One cooperative object per event time (distinct), airborne, inside radar or SSR
    coverage and heard by an ADS-B receiver at every truth step from the time to ``HOLD_S``
    after it."""
    sim = Simulation(sc, seed, DEFAULT_DATA_DIR)
    coverage, heard = Coverage.from_sensors(sim.sensor_infos), _adsb_coverage(sim.sensor_infos)
    coop = sim.objects.icao >= 0
    t0 = sc.scenario.start.timestamp()
    ok: dict[float, NDArray[np.bool_]] = {}
    for step in sim.truth.steps():
        t = step.time - t0
        seen = step.active & coop
        seen[seen] = coverage.contains(step.position[seen], 0.8)
        seen[seen] = heard.contains(step.position[seen], 0.8)
        seen[seen] &= ecef2geodetic(step.position[seen]).reshape(-1, 3)[:, 2] > 1000.0
        for when in times:
            if when <= t <= when + HOLD_S:
                ok[when] = seen & ok.get(when, np.ones_like(seen))
        if t > max(times) + HOLD_S:
            break
    chosen: list[int] = []
    for when in times:
        free = np.flatnonzero(ok[when] & ~np.isin(np.arange(len(coop)), chosen))
        chosen.append(int(free[0]))
    return chosen


def build_scenario(duration: float, seed: int) -> tuple[Scenario, list[Outage]]:
    """The built-in scenario with the zones, events and outage of the module docstring."""
    sc = with_duration(load_scenario("western-pacific"), duration)
    d = duration
    times = [0.2 * d, 0.35 * d, 0.3 * d, 0.5 * d]
    objs = _pick_objects(sc, seed, times)
    events = [
        Event(kind="squawk", object=objs[0], time_s=times[0], code="7700"),
        Event(kind="squawk", object=objs[1], time_s=times[1], code="7600"),
        Event(kind="spoof", object=objs[2], time_s=times[2], offset_m=[0.0, 2000.0]),
        Event(kind="spoof", object=objs[3], time_s=times[3], offset_m=[5000.0, 0.0]),
    ]
    sc = msgspec.structs.replace(sc, zones=_zones(sc), events=events)
    start = sc.scenario.start.timestamp() + 0.55 * d
    return sc, [Outage(sorted(sc.nations)[-1], start, start + 120.0)]


@dataclasses.dataclass
class _Raised:
    """An alert and what judging it needs: the track's row (address, position, its time)."""

    alert: Alert
    icao: int
    position: F64 | None
    time: float
    picture: F64 | None = None  # track_lost: positions of the picture's tracks at the alert
    trail: list[tuple[float, F64]] = dataclasses.field(default_factory=list)  # (t, position)


class AlertTap:
    """The simulator tap and epoch hook: registration, ADS-B checks, identities, alerts."""

    def __init__(self, sim: Simulation, sc: Scenario, nation: str) -> None:
        self.nation = nation
        self.registration = Registration(sim.sensor_infos)
        self.spoofing = SpoofingMonitor(sim.sensor_infos)
        friendly = sc.friendly
        self.rules = IdentityRules(IdentityConfig.from_lists(
            friendly.icao, friendly.mode3a, friendly.secure_iff_icao))
        self.engine = AlertEngine(zones=ZoneSet.from_config(sc.zones),
                                  coverage=Coverage.from_sensors(sim.sensor_infos))
        self.flags: list[AdsbFlags] = []
        self.raised: list[_Raised] = []
        self.truth_parts: list[TruthTable] = []
        self.coverage_parts: list[CoverageTable] = []
        self._held = TrackTable.empty()  # each STN's last reported (not coasting) row
        self.history: list[tuple[float, NDArray[np.int64], F64]] = []  # last 10 min, every 10 s

    def _trail(self, stn: int | None) -> list[tuple[float, F64]]:
        """The track's positions at the truth sample times of the last ten minutes."""
        out = []
        for t, track, pos in self.history:
            rows = np.flatnonzero(track == stn)
            if rows.size:
                out.append((t, pos[rows[0]]))
        return out

    def plots(self, table: PlotTable) -> None:
        if len(table):
            self.registration.update(table)
            self.flags.append(self.spoofing.update(self.registration.correct(table)))

    def truth(self, table: TruthTable) -> None:
        self.truth_parts.append(table.take(np.asarray(table.time % 10.0 == 0.0)))

    def coverage(self, table: CoverageTable) -> None:
        self.coverage_parts.append(table)

    def epoch(self, nation: str, result: EpochResult) -> None:
        if nation != self.nation:
            return
        flags = [f for f in self.flags if len(f)]
        self.flags = []
        adsb = AdsbFlags(**{f.name: np.concatenate([getattr(x, f.name) for x in flags])
                            for f in dataclasses.fields(AdsbFlags)}) if flags else None
        new = self.engine.update(result, self.rules.classify(result), adsb=adsb,
                                 adsb_flagged=self.spoofing.flagged)
        for a in new:
            lost = a.kind == "track_lost"
            pic = self._held if lost else result.picture
            rows = np.flatnonzero(pic.track == (a.stn if a.stn is not None else -1))
            i = int(rows[0]) if len(rows) else -1
            self.raised.append(_Raised(a, int(pic.icao[i]) if i >= 0 else -1,
                                       pic.state[i, :3].copy() if i >= 0 else None,
                                       float(pic.time[i]) if i >= 0 else a.time,
                                       result.picture.state[:, :3].copy() if lost else None,
                                       self._trail(a.stn) if lost else []))
        pic = result.picture
        if result.time % 10.0 == 0.0:
            self.history.append((result.time, pic.track.copy(), pic.state[:, :3].copy()))
            if len(self.history) > 60:
                self.history.pop(0)
        now = pic.take(pic.status != _COASTING)
        old = self._held.take(~np.isin(self._held.track, now.track))
        self._held = TrackTable.concat([old.take(old.time >= result.time - 600.0), now])


def judge(tap: AlertTap, sc: Scenario, sim_objects_icao: NDArray[np.int64],
          outages: list[Outage]) -> tuple[dict[str, tuple[int, int]], list[str], list[str]]:
    """``{kind: (alerts, false alerts)}`` by the module docstring's criteria, the false
    alerts as text, and notes on the true ones a reader may question."""
    truth = TruthTable.concat(tap.truth_parts)
    cover = CoverageTable.concat(tap.coverage_parts)
    t0 = sc.scenario.start.timestamp()
    zones = ZoneSet.from_config(sc.zones)

    def at(t: float) -> tuple[NDArray[np.int64], F64]:
        s = 10.0 * (t // 10.0)
        m = truth.time == s
        return truth.object[m], truth.position[m] + truth.velocity[m] * (t - s)

    def follows(t: float, p: F64 | None) -> int:
        if p is None:
            return -1
        obj, pos = at(t)
        d = np.linalg.norm(pos - p, axis=1) if len(pos) else np.zeros(0)
        return int(obj[np.argmin(d)]) if len(d) and d.min() < FOLLOW_M else -1

    out = {k: [0, 0] for k in ALERT_KINDS}
    falses: list[str] = []
    notes: list[str] = []
    for r in tap.raised:
        a, t = r.alert, r.alert.time
        false, why = True, ""
        if a.kind == "emergency":
            obj = np.flatnonzero((sim_objects_icao == r.icao) & (r.icao >= 0))
            code = a.reason.split()[-1]
            false = not any(e.kind == "squawk" and e.code == code and e.object in obj
                            and t0 + e.time_s <= t for e in sc.events)
        elif a.kind == "zone_intrusion":
            o = follows(t, r.position)
            if o >= 0:
                obj, pos = at(t)
                k = zones.names.index(a.reason.split()[-1])
                false = not bool(zones.inside(pos[obj == o])[0, k])
        elif a.kind == "adsb_inconsistent":
            icao = int(a.id.split(":")[1], 16)
            obj = np.flatnonzero(sim_objects_icao == icao)
            false = not any(e.kind == "spoof" and e.object in obj and t0 + e.time_s <= t
                            for e in sc.events)
        elif a.kind == "track_lost":
            o = next((f for f in (follows(s, p) for s, p in reversed(r.trail)) if f >= 0), -1)
            obj, pos = at(t)
            here = np.flatnonzero(obj == o)
            c = cover.nations[(cover.object == o) & (np.abs(cover.time - t) <= 10.0)]
            held = here.size > 0 and r.picture is not None and bool(
                np.any(np.linalg.norm(r.picture - pos[here[0]], axis=1) < FOLLOW_M))
            mine = np.flatnonzero((truth.object == o) & (truth.time <= t))
            last = truth.position[mine[np.argmax(truth.time[mine])]] if mine.size else None
            why = ("followed no object" if o < 0
                   else "object landed" if last is None or ecef2geodetic(last)[2] < 300.0
                   else "" if here.size == 0  # its flight ends airborne: it was lost there
                   else "object uncovered" if c.size == 0 or not c.any()
                   else "object landed" if ecef2geodetic(pos[here[0]])[2] < 300.0
                   else "object still held" if held else "")
            false = bool(why)
            if here.size == 0 and not false:
                notes.append(f"track_lost at {t - t0:.0f} s: object {o}'s flight ends airborne")
        elif a.kind == "feed_silent":
            nation = (a.source or "").removeprefix("partner:")
            silent = tap.engine.config.silent_s
            false = not any(o.nation == nation and o.start <= t - silent + 1e-6 <= o.end
                            for o in outages)
        out[a.kind][0] += 1
        out[a.kind][1] += int(false)
        if false:
            falses.append(f"{a.kind} at {t - t0:.0f} s ({a.source or why}): {a.explanation}")
    return {k: (v[0], v[1]) for k, v in out.items()}, falses, notes


def spoof_delays(tap: AlertTap, sc: Scenario, sim_objects_icao: NDArray[np.int64]
                 ) -> list[float | None]:
    """Per spoofing event, the seconds from its start to the first ``adsb_inconsistent``
    alert on the spoofed address (``None``: never flagged)."""
    t0 = sc.scenario.start.timestamp()
    out: list[float | None] = []
    for e in (e for e in sc.events if e.kind == "spoof"):
        name = f"{int(sim_objects_icao[e.object]):06X}"
        when = [r.alert.time - t0 - e.time_s for r in tap.raised
                if r.alert.kind == "adsb_inconsistent" and r.alert.id.split(":")[1] == name
                and r.alert.time - t0 >= e.time_s]
        out.append(round(min(when), 1) if when else None)
    return out


def bias_rows(tap: AlertTap, sc: Scenario) -> list[dict[str, object]]:
    """Registration estimates of the radars with an injected bias, against it."""
    est = tap.registration.estimates
    rows: list[dict[str, object]] = []
    for s in sc.sensors:
        if not isinstance(s, RadarConfig) or not (s.bias_range_m or s.bias_azimuth_deg
                                                  or s.bias_time_s or s.bias_range_gain):
            continue
        i = est.sensor_ids.index(s.id)
        th, sd = est.theta[i], np.sqrt(np.diag(est.covariance[i]))
        rows.append({"sensor": s.id, "pairs": int(est.pairs[i]),
                     "range_m": [s.bias_range_m, round(float(th[0]), 1), round(float(sd[0]), 1)],
                     "azimuth_deg": [s.bias_azimuth_deg, round(float(np.degrees(th[2])), 4),
                                     round(float(np.degrees(sd[2])), 4)],
                     "time_s": [s.bias_time_s, round(float(th[3]), 3), round(float(sd[3]), 3)]})
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--duration", type=float, default=3600.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--nation", default="JPN", help="the node whose alerts are judged")
    args = p.parse_args(argv)
    wall, cpu = time.perf_counter(), time.process_time()
    sc, outages = build_scenario(args.duration, args.seed)
    sim = Simulation(sc, args.seed, DEFAULT_DATA_DIR)
    tap = AlertTap(sim, sc, args.nation)
    run_embedded(sc, args.seed, DEFAULT_DATA_DIR, outages=outages, tap=tap, on_epoch=tap.epoch)
    icao = sim.objects.icao.astype(np.int64)
    counts, falses, notes = judge(tap, sc, icao, outages)
    delays = spoof_delays(tap, sc, icao)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    hours = args.duration / 3600.0
    table = Table("kind", "alerts", "false", "false rate", "per hour",
                  title=f"alerts, western-pacific, {args.duration:.0f} s, seed {args.seed}")
    total = [sum(v[0] for v in counts.values()), sum(v[1] for v in counts.values())]
    for kind, (n, f) in [*counts.items(), ("all", (total[0], total[1]))]:
        table.add_row(kind, str(n), str(f), f"{f / n:.2f}" if n else "-", f"{n / hours:.1f}")
    biases = bias_rows(tap, sc)
    btable = Table("sensor", "pairs", "range m", "azimuth deg", "time s",
                   title="registration: injected, estimated, one sigma")
    for b in biases:
        btable.add_row(str(b["sensor"]), str(b["pairs"]), str(b["range_m"]),
                       str(b["azimuth_deg"]), str(b["time_s"]))
    console = Console()
    for line in falses[:30]:
        console.print(f"false: {line}", highlight=False)
    for line in notes:
        console.print(f"true: {line}", highlight=False)
    console.print(table)
    console.print(btable)
    events = [(e.kind, e.object, e.time_s, e.code or e.offset_m) for e in sc.events]
    console.print(f"spoofing flagged after (s): {delays}", highlight=False)
    console.print(f"events: {events}; outage: {outages[0].nation} for 120 s; "
                  f"wall {wall:.0f} s, cpu {cpu:.0f} s")
    print(json.dumps({
        "benchmark": "alerts", "duration_s": args.duration, "seed": args.seed,
        "nation": args.nation, "alerts": {k: v[0] for k, v in counts.items()},
        "false": {k: v[1] for k, v in counts.items()},
        "false_rate": total[1] / total[0] if total[0] else 0.0,
        "alerts_per_hour": total[0] / hours, "biases": biases, "spoof_delay_s": delays,
        "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
    }, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
