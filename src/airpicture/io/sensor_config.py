"""Real sensors of a node, from TOML: where each radar and receiver is, and its SAC/SIC.

Decoders of real feeds look radars up by SAC/SIC here (a CAT048 plot is useless without the
radar's position) and give ADS-B receivers their position. Angles are degrees in the file and
radians in the resulting :class:`airpicture.messages.SensorInfo` (its ``sigma`` follows the
plot layout of the sensor kind)::

    nation = "HR"                 # default nation of the sensors below

    [[sensor]]
    id = "HR-25-13"
    kind = "ssr"                  # radar | ssr | adsb | esm
    lat_deg = 45.90
    lon_deg = 15.97
    alt_m = 1030.0
    sac = 25
    sic = 13
    max_range_m = 460000.0        # optional, default 460 km
    period_s = 4.0                # optional, default 4 s (1 s for adsb)
    sigma_range_m = 70.0          # optional: radar/ssr
    sigma_azimuth_deg = 0.08      # optional: radar/ssr/esm
    sigma_elevation_deg = 1.0     # optional: radar/esm
    sigma_range_rate_ms = 2.0     # optional: radar

Errors name the file, the key and the reason (:class:`SensorConfigError`).
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import msgspec

from airpicture.messages import SensorInfo, SensorKind


class SensorConfigError(ValueError):
    """A sensor configuration that cannot be used: says where and why."""

    def __init__(self, file: str, key: str, reason: str) -> None:
        super().__init__(f"{file}: {key}: {reason}")
        self.file, self.key, self.reason = file, key, reason


class _Sensor(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    id: str
    kind: SensorKind
    lat_deg: float
    lon_deg: float
    alt_m: float = 0.0
    nation: str | None = None
    name: str = ""
    sac: int | None = None
    sic: int | None = None
    max_range_m: float = 460_000.0
    period_s: float | None = None
    sigma_range_m: float | None = None
    sigma_azimuth_deg: float | None = None
    sigma_elevation_deg: float | None = None
    sigma_range_rate_ms: float | None = None


class _File(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    nation: str = ""
    sensor: list[_Sensor] = msgspec.field(default_factory=list)


def _sigma(s: _Sensor) -> list[float]:
    def rad(v: float | None) -> float:
        return math.nan if v is None else math.radians(v)

    def val(v: float | None) -> float:
        return math.nan if v is None else v

    layout = {
        SensorKind.RADAR: [val(s.sigma_range_m), rad(s.sigma_azimuth_deg),
                           rad(s.sigma_elevation_deg), val(s.sigma_range_rate_ms)],
        SensorKind.SSR: [val(s.sigma_range_m), rad(s.sigma_azimuth_deg)],
        SensorKind.ESM: [rad(s.sigma_azimuth_deg), rad(s.sigma_elevation_deg)],
        SensorKind.ADSB: [],
    }[s.kind]
    # Keep the leading values that were given; decoders fill the rest with defaults.
    while layout and math.isnan(layout[-1]):
        layout.pop()
    return layout


def parse_sensors(text: str, file: str = "<string>") -> list[SensorInfo]:
    """Sensors of a TOML document (see the module docstring)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SensorConfigError(file, "(document)", f"not valid TOML: {exc}") from None
    try:
        cfg = msgspec.convert(raw, _File)
    except msgspec.ValidationError as exc:
        msg = str(exc)
        key = msg.rsplit("at `", 1)[-1].rstrip("`") if "at `" in msg else "(document)"
        key = key.replace("$.", "").replace("$", "(document)")
        if "unknown field `" in msg:
            key += "." + msg.split("unknown field `", 1)[1].split("`", 1)[0]
        raise SensorConfigError(file, key, msg) from None
    out: list[SensorInfo] = []
    seen_id: set[str] = set()
    seen_code: dict[tuple[int, int], str] = {}
    for i, s in enumerate(cfg.sensor):
        where = f"sensor[{i}]"
        if s.id in seen_id:
            raise SensorConfigError(file, f"{where}.id", f"duplicate sensor id {s.id!r}")
        seen_id.add(s.id)
        if not (-90.0 <= s.lat_deg <= 90.0) or not (-180.0 <= s.lon_deg <= 180.0):
            raise SensorConfigError(file, f"{where}.lat_deg", "position outside -90..90/-180..180")
        if (s.sac is None) != (s.sic is None):
            raise SensorConfigError(file, f"{where}.sac", "give both sac and sic, or neither")
        if s.sac is not None and s.sic is not None:
            if not (0 <= s.sac < 256 and 0 <= s.sic < 256):
                raise SensorConfigError(file, f"{where}.sac", "sac and sic must be 0..255")
            if (s.sac, s.sic) in seen_code:
                raise SensorConfigError(
                    file, f"{where}.sic",
                    f"SAC/SIC {s.sac}/{s.sic} already used by {seen_code[(s.sac, s.sic)]!r}")
            seen_code[(s.sac, s.sic)] = s.id
        nation = s.nation or cfg.nation
        if not nation:
            raise SensorConfigError(file, f"{where}.nation", "no nation (set it here or on top)")
        period = s.period_s if s.period_s is not None else (
            1.0 if s.kind is SensorKind.ADSB else 4.0)
        out.append(SensorInfo(
            id=s.id, nation=nation, kind=s.kind, lat_deg=s.lat_deg, lon_deg=s.lon_deg,
            alt_m=s.alt_m, max_range_m=s.max_range_m, period_s=period, name=s.name,
            sigma=_sigma(s), sac=s.sac, sic=s.sic,
        ))
    return out


def load_sensors(path: str | Path) -> list[SensorInfo]:
    """Sensors of a TOML file (see the module docstring)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise SensorConfigError(str(p), "(file)", f"cannot read: {exc.strerror}") from None
    return parse_sensors(text, str(p))
