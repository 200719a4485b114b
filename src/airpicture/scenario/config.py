"""Scenario files: TOML, validated on load, errors that name the file, the key and the reason.

Units in scenario files are the ones users write: degrees, kilometres for ranges, metres for
heights and range noise, seconds. The sensor models convert to radians and metres.
A longitude box whose east edge is less than its west edge crosses the antimeridian.
"""

from __future__ import annotations

import datetime
import math
import re
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

Lat = Annotated[float, msgspec.Meta(ge=-90.0, le=90.0)]
Lon = Annotated[float, msgspec.Meta(ge=-180.0, le=180.0)]
Positive = Annotated[float, msgspec.Meta(gt=0.0)]
NonNegative = Annotated[float, msgspec.Meta(ge=0.0)]
Probability = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
Count = Annotated[int, msgspec.Meta(ge=0, le=20_000)]
NationCode = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2,8}$")]


class ScenarioError(ValueError):
    """A scenario file that cannot be used: names the file, the key and the reason."""

    def __init__(self, file: str, key: str, reason: str) -> None:
        super().__init__(f"{file}: {key}: {reason}")
        self.file, self.key, self.reason = file, key, reason


class _Strict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class ScenarioSection(_Strict):
    name: str
    start: datetime.datetime
    duration_s: Positive = 3600.0
    step_s: Positive = 1.0
    truth_interval_s: Positive = 1.0
    coverage_interval_s: Positive = 10.0


class Region(_Strict):
    lat_min_deg: Lat
    lat_max_deg: Lat
    lon_west_deg: Lon
    lon_east_deg: Lon


class RecordedTraffic(_Strict):
    count: Count
    source: str = "quickstart.json.gz"
    relocate: bool = True
    required: bool = False
    min_duration_s: Positive = 900.0


class Traffic(_Strict):
    airliners: Count
    noncooperative: Count = 0
    airborne_fraction: Probability = 0.85
    min_route_km: Positive = 300.0
    max_route_km: Positive = 8000.0
    airports: dict[str, Positive] = msgspec.field(default_factory=dict)
    noncooperative_anchors: list[str] = msgspec.field(default_factory=list)
    recorded: RecordedTraffic | None = None


class Nation(_Strict):
    name: str


class _SensorBase(_Strict, tag_field="kind"):
    id: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.-]{1,32}$")]
    nation: NationCode
    lat_deg: Lat
    lon_deg: Lon
    max_range_km: Positive
    alt_m: Annotated[float, msgspec.Meta(ge=-500.0, le=1_000_000.0)] = 10.0
    name: str = ""
    min_elevation_deg: Annotated[float, msgspec.Meta(ge=-90.0, le=90.0)] = -90.0
    """Elevation mask of the site (degrees); the default, -90, leaves only the horizon."""
    refraction_k: Annotated[float, msgspec.Meta(ge=0.5, le=4.0)] = 4.0 / 3.0
    sector_deg: Annotated[list[Lon], msgspec.Meta(min_length=2, max_length=2)] | None = None
    """Covered azimuth sector [from, to], clockwise, degrees; absent for all round."""
    sac: Annotated[int, msgspec.Meta(ge=0, le=255)] | None = None
    sic: Annotated[int, msgspec.Meta(ge=0, le=255)] | None = None


class RadarConfig(_SensorBase, tag="radar"):
    """Primary surveillance radar (rotating), radar-equation detection, clutter and biases."""

    rotation_period_s: Positive = 10.0
    min_range_km: NonNegative = 0.5
    sigma_range_m: Positive = 60.0
    sigma_azimuth_deg: Positive = 0.1
    sigma_elevation_deg: Positive = 0.3
    measures_elevation: bool = True
    sigma_range_rate_mps: Positive | None = None
    pd_ref: Annotated[float, msgspec.Meta(gt=0.0, lt=1.0)] = 0.9
    ref_range_km: Positive = 200.0
    ref_rcs_m2: Positive = 1.0
    pfa: Annotated[float, msgspec.Meta(gt=0.0, lt=0.1)] = 1e-6
    clutter_per_scan: NonNegative = 0.0
    clutter_max_elevation_deg: NonNegative = 3.0
    bias_range_m: float = 0.0
    bias_range_gain: float = 0.0
    bias_azimuth_deg: float = 0.0
    bias_time_s: float = 0.0
    over_the_horizon: bool = False


class SsrConfig(_SensorBase, tag="ssr"):
    """Secondary radar / Mode S: replies from transponder-equipped aircraft only."""

    rotation_period_s: Positive = 5.0
    sigma_range_m: Positive = 30.0
    sigma_azimuth_deg: Positive = 0.05
    pd: Probability = 0.97
    mode_s: bool = True


class AdsbConfig(_SensorBase, tag="adsb"):
    """ADS-B ground receiver: positions, velocity and identity from equipped aircraft."""

    period_s: Positive = 1.0
    pd: Probability = 0.95
    sigma_vertical_m: Positive = 15.0
    sigma_vertical_rate_mps: Positive = 0.5
    dropout_interval_s: Positive = 900.0
    dropout_mean_s: NonNegative = 15.0


class EsmConfig(_SensorBase, tag="esm"):
    """Passive ESM: bearings (and optionally elevation) of emitting objects only."""

    period_s: Positive = 2.0
    pd: Probability = 0.9
    sigma_azimuth_deg: Positive = 1.0
    sigma_elevation_deg: Positive | None = None


SensorConfig = RadarConfig | SsrConfig | AdsbConfig | EsmConfig


class Zone(_Strict):
    """A protected zone: a polygon (vertices ``[lat, lon]`` in degrees, in order, at least
    three, not closed; it may cross the antimeridian) and an altitude band (m above the
    ellipsoid)."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    vertices_deg: Annotated[
        list[Annotated[list[float], msgspec.Meta(min_length=2, max_length=2)]],
        msgspec.Meta(min_length=3, max_length=256),
    ]
    min_alt_m: float = -500.0
    max_alt_m: float = 30_000.0


class Friendly(_Strict):
    """The friendly list: 24-bit addresses (hex strings) and Mode 3/A codes (octal strings),
    and the addresses of aircraft that answer the simulated secure IFF (Mode 5)."""

    icao: list[Annotated[str, msgspec.Meta(pattern=r"^[0-9A-Fa-f]{6}$")]] = msgspec.field(
        default_factory=list
    )
    mode3a: list[Annotated[str, msgspec.Meta(pattern=r"^[0-7]{4}$")]] = msgspec.field(
        default_factory=list
    )
    secure_iff_icao: list[Annotated[str, msgspec.Meta(pattern=r"^[0-9A-Fa-f]{6}$")]] = (
        msgspec.field(default_factory=list)
    )


class Event(_Strict):
    """Something that happens to one truth object from ``time_s`` (seconds after the start):
    ``squawk`` sets its Mode 3/A code (octal string, e.g. ``"7700"``); ``spoof`` shifts its
    ADS-B positions by ``offset_m`` = [east, north] metres."""

    kind: Literal["squawk", "spoof"]
    object: Annotated[int, msgspec.Meta(ge=0)]
    time_s: NonNegative = 0.0
    code: Annotated[str, msgspec.Meta(pattern=r"^[0-7]{4}$")] | None = None
    offset_m: Annotated[list[float], msgspec.Meta(min_length=2, max_length=2)] | None = None


class Scenario(_Strict):
    """A whole scenario file."""

    scenario: ScenarioSection
    region: Region
    traffic: Traffic
    nations: dict[NationCode, Nation]
    sensors: list[SensorConfig]
    zones: list[Zone] = msgspec.field(default_factory=list)
    friendly: Friendly = msgspec.field(default_factory=Friendly)
    events: list[Event] = msgspec.field(default_factory=list)


BUILTIN = ("western-pacific",)
_PATH_RE = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_FIELD_RE = re.compile(r"field `(?P<field>[^`]+)`")


def _key_and_reason(message: str) -> tuple[str, str]:
    """Split msgspec's message into (key path, reason)."""
    m = _PATH_RE.search(message)
    path = m.group("path").lstrip(".") if m else ""
    reason = message[: m.start()] if m else message
    field = _FIELD_RE.search(reason)
    if field and ("unknown field" in reason or "missing required field" in reason):
        path = f"{path}.{field.group('field')}" if path else field.group("field")
    return path or "(top level)", reason


def _check_finite(node: Any, path: str, file: str) -> None:
    """Reject NaN and infinities anywhere in the decoded file."""
    if isinstance(node, float) and not math.isfinite(node):
        raise ScenarioError(file, path, f"must be a finite number, got {node}")
    if isinstance(node, dict):
        for k, v in node.items():
            _check_finite(v, f"{path}.{k}" if path else str(k), file)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            _check_finite(v, f"{path}[{i}]", file)


def _check_semantics(sc: Scenario, file: str) -> None:
    ids: set[str] = set()
    for i, s in enumerate(sc.sensors):
        where = f"sensors[{i}]"
        if s.id in ids:
            raise ScenarioError(file, f"{where}.id", f"duplicate sensor id {s.id!r}")
        ids.add(s.id)
        if s.nation not in sc.nations:
            raise ScenarioError(file, f"{where}.nation", f"unknown nation {s.nation!r}")
        period = s.rotation_period_s if isinstance(s, RadarConfig | SsrConfig) else s.period_s
        if sc.scenario.step_s > period:
            raise ScenarioError(
                file, "scenario.step_s", f"must not exceed sensor {s.id}'s period {period} s"
            )
        if isinstance(s, RadarConfig) and s.min_range_km >= s.max_range_km:
            raise ScenarioError(file, f"{where}.min_range_km", "must be less than max_range_km")
    if sc.region.lat_min_deg >= sc.region.lat_max_deg:
        raise ScenarioError(file, "region.lat_min_deg", "must be less than lat_max_deg")
    if sc.traffic.min_route_km >= sc.traffic.max_route_km:
        raise ScenarioError(file, "traffic.min_route_km", "must be less than max_route_km")
    if sc.traffic.airliners and len(sc.traffic.airports) < 2:
        raise ScenarioError(file, "traffic.airports", "airliners need at least two airports")
    names: set[str] = set()
    for i, z in enumerate(sc.zones):
        if z.name in names:
            raise ScenarioError(file, f"zones[{i}].name", f"duplicate zone name {z.name!r}")
        names.add(z.name)
        if z.min_alt_m >= z.max_alt_m:
            raise ScenarioError(file, f"zones[{i}].min_alt_m", "must be less than max_alt_m")
        for j, (lat, lon) in enumerate(z.vertices_deg):
            if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
                raise ScenarioError(file, f"zones[{i}].vertices_deg[{j}]",
                                    "latitude must lie in [-90, 90], longitude in [-180, 180]")
    for i, e in enumerate(sc.events):
        if e.kind == "squawk" and e.code is None:
            raise ScenarioError(file, f"events[{i}].code", "a squawk event needs a code")
        if e.kind == "spoof" and e.offset_m is None:
            raise ScenarioError(file, f"events[{i}].offset_m", "a spoof event needs an offset")
    ratio = sc.scenario.truth_interval_s / sc.scenario.step_s
    if abs(ratio - round(ratio)) > 1e-9:
        raise ScenarioError(file, "scenario.truth_interval_s", "must be a multiple of step_s")


def parse_scenario(text: str | bytes, file: str = "<string>") -> Scenario:
    """Decode and validate a scenario from TOML text; raises :class:`ScenarioError`."""
    raw = text.encode() if isinstance(text, str) else text
    try:
        untyped = msgspec.toml.decode(raw)
    except msgspec.DecodeError as exc:
        raise ScenarioError(file, "(syntax)", str(exc)) from None
    _check_finite(untyped, "", file)
    try:
        sc = msgspec.convert(untyped, type=Scenario)
    except msgspec.ValidationError as exc:
        key, reason = _key_and_reason(str(exc))
        raise ScenarioError(file, key, reason) from None
    _check_semantics(sc, file)
    return sc


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load a built-in scenario by name (e.g. ``western-pacific``) or a TOML file by path."""
    if str(name_or_path) in BUILTIN:
        ref = resources.files("airpicture.scenario") / "builtin" / f"{name_or_path}.toml"
        return parse_scenario(ref.read_bytes(), f"builtin:{name_or_path}")
    path = Path(name_or_path)
    if not path.is_file():
        raise ScenarioError(
            str(path), "(file)", f"no such file or built-in scenario (built-ins: {BUILTIN})"
        )
    return parse_scenario(path.read_bytes(), str(path))


def sensor_kind(cfg: SensorConfig) -> Literal["radar", "ssr", "adsb", "esm"]:
    """The ``kind`` tag of a sensor configuration."""
    tag = type(cfg).__struct_config__.tag
    assert isinstance(tag, str)
    return tag  # type: ignore[return-value]


def with_duration(scenario: Scenario, duration_s: float) -> Scenario:
    """The same scenario with another duration (s); raises ``ValueError`` unless positive."""
    if not (math.isfinite(duration_s) and duration_s > 0):
        raise ValueError(f"duration must be a positive number of seconds, got {duration_s}")
    section = msgspec.structs.replace(scenario.scenario, duration_s=duration_s)
    return msgspec.structs.replace(scenario, scenario=section)
