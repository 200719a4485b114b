"""Standard identities of the system tracks: rules over the picture, operator overrides, reasons.

:class:`IdentityRules` classifies every system track of an epoch, vectorised over tracks, and
remembers per system track number (STN) what the rules need over time (first seen, a reference
velocity for the manoeuvre test, a latched suspicion). The rules, first match wins:

1. **Operator override** (an :class:`~airpicture.messages.IdentityOverride` from the log,
   effective from its data time; the newest wins; an override to ``pending`` hands the track
   back to the rules). The only way to ``hostile``.
2. **Secure IFF**: a valid secure (Mode 5) reply, from the ``secure_iff`` evidence or an
   address in ``secure_iff_icao`` (the simulated interrogator) -> ``friend``.
3. **Friendly list**: the 24-bit address on the list -> ``friend``; the Mode 3/A code on the
   list -> ``assumed friend`` (codes are easily set, so they earn less).
4. **Partner report**: a contributor's reported identity (friend, assumed friend, neutral,
   suspect; ``hostile`` is capped at ``suspect``) when it says more than the rules below.
5. **Civil address**: a valid Mode S / ADS-B address outside the configured military blocks
   -> ``neutral``.
6. **Behaviour**: no cooperative reply (no address, no Mode 3/A) and, once the track is
   ``min_age_s`` old, speed, altitude or manoeuvre outside civil envelopes -> ``suspect``
   (latched: it stays suspect until an operator decides). Envelopes: speed above
   ``max_speed_mps``; above ``max_speed_low_mps`` below ``low_altitude_m``; altitude above
   ``max_altitude_m``; acceleration (velocity change over at least ``manoeuvre_window_s``)
   above ``max_acceleration_mps2``.
7. A Mode 3/A code without an address -> ``unknown``; no cooperative reply within the
   envelopes for ``min_age_s`` -> ``unknown``; else ``pending``.

Automatic rules never go past ``suspect``. Every identity carries a reason code
(:class:`Reason`) and the numbers behind it; :meth:`IdentityResult.reasons` writes them as
text at the edge. Determinism: the result is a function of the epochs and overrides given, in
order; overrides act by data time, so nodes that ingest them in log order agree.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from airpicture.fusion.state import EpochResult, picture_hash
from airpicture.geo import ecef2geodetic
from airpicture.messages import Identity, IdentityOverride
from airpicture.track_table import IDENTITY_CODES, TrackTable

__all__ = [
    "IdentityConfig",
    "IdentityResult",
    "IdentityRules",
    "Reason",
    "identity_code",
    "with_identity",
]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
G = 9.80665
EMERGENCY_CODES = (0o7500, 0o7600, 0o7700)


def identity_code(identity: Identity) -> int:
    """The integer code of a standard identity in track tables."""
    return IDENTITY_CODES.index(identity)


PENDING, UNKNOWN, ASSUMED_FRIEND, FRIEND, NEUTRAL, SUSPECT, HOSTILE = (
    identity_code(i) for i in Identity
)


class Reason(enum.IntEnum):
    """Why a track has its identity (the templates are filled by :meth:`IdentityResult.reasons`)."""

    AWAITING = 0
    OVERRIDE = 1
    SECURE_IFF = 2
    FRIENDLY_ICAO = 3
    FRIENDLY_MODE3A = 4
    PARTNER = 5
    CIVIL = 6
    FAST = 7
    LOW_FAST = 8
    HIGH = 9
    MANOEUVRE = 10
    MODE3A_ONLY = 11
    NO_REPLY = 12


_TEMPLATES = {
    Reason.AWAITING: "awaiting evidence (track {age:.0f} s old)",
    Reason.OVERRIDE: "operator decision",
    Reason.SECURE_IFF: "valid secure IFF (Mode 5) reply",
    Reason.FRIENDLY_ICAO: "address {icao:06X} is on the friendly list",
    Reason.FRIENDLY_MODE3A: "Mode 3/A {mode3a:04o} is on the friendly list",
    Reason.PARTNER: "identity reported by a partner",
    Reason.CIVIL: "civil Mode S / ADS-B address {icao:06X}",
    Reason.FAST: "no cooperative reply; {speed:.0f} m/s is above civil speeds",
    Reason.LOW_FAST: "no cooperative reply; {speed:.0f} m/s at {alt:.0f} m is above civil "
    "speeds at low level",
    Reason.HIGH: "no cooperative reply; {alt:.0f} m is above the civil ceiling",
    Reason.MANOEUVRE: "no cooperative reply; manoeuvre of {accel_g:.1f} g is beyond civil "
    "aircraft",
    Reason.MODE3A_ONLY: "Mode 3/A {mode3a:04o} without a civil address",
    Reason.NO_REPLY: "no cooperative reply; kinematics within civil envelopes",
}


@dataclasses.dataclass(frozen=True)
class IdentityConfig:
    """Identity rule parameters (SI units; see the module docstring).

    ``friendly_mode3a`` holds codes as integers of their octal digits (``0o4401``);
    ``military_icao_blocks`` are inclusive address ranges that are not civil.
    """

    friendly_icao: tuple[int, ...] = ()
    friendly_mode3a: tuple[int, ...] = ()
    secure_iff_icao: tuple[int, ...] = ()
    military_icao_blocks: tuple[tuple[int, int], ...] = ()
    max_speed_mps: float = 300.0
    max_speed_low_mps: float = 180.0
    low_altitude_m: float = 3000.0
    max_altitude_m: float = 14_000.0
    max_acceleration_mps2: float = 1.0 * G
    manoeuvre_window_s: float = 10.0
    min_age_s: float = 20.0

    def __post_init__(self) -> None:
        for name in ("max_speed_mps", "max_speed_low_mps", "max_acceleration_mps2",
                     "manoeuvre_window_s"):
            if not getattr(self, name) > 0.0:
                raise ValueError(f"IdentityConfig.{name} must be > 0, got {getattr(self, name)}")
        if self.min_age_s < 0.0:
            raise ValueError(f"IdentityConfig.min_age_s must be >= 0, got {self.min_age_s}")
        bad = [a for a in self.friendly_icao + self.secure_iff_icao if not 0 <= a < 1 << 24]
        if bad:
            raise ValueError(f"IdentityConfig: addresses out of 24-bit range: {bad}")
        if any(not 0 <= c <= 0o7777 for c in self.friendly_mode3a):
            raise ValueError("IdentityConfig.friendly_mode3a: codes must lie in 0000..7777")

    @classmethod
    def from_lists(
        cls,
        icao_hex: Sequence[str] = (),
        mode3a_octal: Sequence[str] = (),
        secure_iff_hex: Sequence[str] = (),
        **kwargs: float,
    ) -> IdentityConfig:
        """From the strings configuration files hold (hex addresses, octal codes)."""
        return cls(
            friendly_icao=tuple(int(a, 16) for a in icao_hex),
            friendly_mode3a=tuple(int(c, 8) for c in mode3a_octal),
            secure_iff_icao=tuple(int(a, 16) for a in secure_iff_hex),
            **kwargs,  # type: ignore[arg-type]
        )


@dataclasses.dataclass(frozen=True)
class IdentityResult:
    """Identities of one epoch's system tracks, row by row as in the picture.

    ``code``: identity codes (:data:`~airpicture.track_table.IDENTITY_CODES` indices);
    ``reason``: :class:`Reason` codes; ``speed`` (m/s), ``altitude`` (m, ellipsoid),
    ``acceleration`` (largest seen, m/s^2), ``age`` (s) the numbers behind them;
    ``override`` the index into ``overrides`` of the operator decision behind a row (-1).
    """

    time: float
    stn: I64
    code: NDArray[np.uint8]
    reason: NDArray[np.uint8]
    icao: NDArray[np.int64]
    mode3a: NDArray[np.int64]
    speed: F64
    altitude: F64
    acceleration: F64
    age: F64
    override: I64
    overrides: tuple[IdentityOverride, ...]

    def reasons(self) -> list[str]:
        """The reasons as text, one per row (an edge conversion: one string per track)."""
        out = []
        for i in range(len(self.stn)):
            r = Reason(int(self.reason[i]))
            if r is Reason.OVERRIDE:
                o = self.overrides[int(self.override[i])]
                why = f": {o.reason}" if o.reason else ""
                out.append(f"operator {o.operator} ({o.nation}) designated {o.identity}{why}")
                continue
            out.append(_TEMPLATES[r].format(
                icao=max(int(self.icao[i]), 0), mode3a=max(int(self.mode3a[i]), 0),
                speed=float(self.speed[i]), alt=float(self.altitude[i]),
                accel_g=float(self.acceleration[i]) / G, age=float(self.age[i]),
            ))
        return out

    def identities(self) -> list[Identity]:
        return [IDENTITY_CODES[int(c)] for c in self.code]


@dataclasses.dataclass(frozen=True)
class _Memory:
    """Per-STN memory, sorted by STN."""

    stn: I64
    first_seen: F64
    ref_time: F64
    ref_velocity: F64
    max_accel: F64
    latched: NDArray[np.uint8]
    """Reason code of a latched suspicion (0: none)."""
    latched_speed: F64
    latched_alt: F64

    @classmethod
    def empty(cls) -> _Memory:
        z = np.zeros(0)
        return cls(np.zeros(0, np.int64), z, z, np.zeros((0, 3)), z, np.zeros(0, np.uint8), z, z)


class IdentityRules:
    """Classifies the system tracks epoch by epoch (see the module docstring)."""

    def __init__(self, config: IdentityConfig | None = None) -> None:
        self.config = config or IdentityConfig()
        self._memory = _Memory.empty()
        self._overrides: list[IdentityOverride] = []
        cfg = self.config
        self._friendly_icao = np.array(sorted(cfg.friendly_icao), np.int64)
        self._friendly_m3 = np.array(sorted(cfg.friendly_mode3a), np.int64)
        self._iff_icao = np.array(sorted(cfg.secure_iff_icao), np.int64)
        self._mil = np.array(cfg.military_icao_blocks, np.int64).reshape(-1, 2)

    def override(self, message: IdentityOverride) -> None:
        """Record an operator's decision from the log (effective from ``message.time``)."""
        self._overrides.append(message)

    @property
    def overrides(self) -> tuple[IdentityOverride, ...]:
        return tuple(self._overrides)

    def _override_index(self, stn: I64, t: float) -> I64:
        """Per STN the index of the effective override (newest by time, then log order)."""
        out = np.full(len(stn), -1, np.int64)
        if not self._overrides:
            return out
        o_stn = np.array([o.stn for o in self._overrides], np.int64)
        o_time = np.array([o.time for o in self._overrides], np.float64)
        idx = np.flatnonzero(o_time <= t)
        if idx.size == 0:
            return out
        order = idx[np.lexsort((idx, o_time[idx], o_stn[idx]))]
        s = o_stn[order]
        last = np.r_[s[1:] != s[:-1], True]
        keys, newest = s[last], order[last]
        pos = np.clip(np.searchsorted(keys, stn), 0, len(keys) - 1)
        found = keys[pos] == stn
        out[found] = newest[pos[found]]
        return out

    def classify(
        self, result: EpochResult, secure_iff: NDArray[np.bool_] | None = None
    ) -> IdentityResult:
        """Identities of ``result.picture``'s tracks; updates the per-STN memory.

        ``secure_iff``: optional per-row evidence of a valid secure IFF reply.
        """
        cfg, pic, t = self.config, result.picture, float(result.time)
        n = len(pic)
        if secure_iff is not None and np.shape(secure_iff) != (n,):
            raise ValueError(f"secure_iff must have shape ({n},), got {np.shape(secure_iff)}")
        stn = pic.track.astype(np.int64)
        v = pic.state[:, 3:]
        speed_3d = np.linalg.norm(v, axis=1)
        llh = ecef2geodetic(pic.state[:, :3]).reshape(-1, 3)
        alt = llh[:, 2]
        mem = self._update_memory(stn, t, v)
        age = t - mem.first_seen
        icao = pic.icao.astype(np.int64)
        m3 = pic.mode3a.astype(np.int64)

        # Behaviour (only with no cooperative reply and once the track has settled).
        noncoop = (icao < 0) & (m3 < 0)
        settled = age >= cfg.min_age_s
        speed = speed_3d
        high = alt > cfg.max_altitude_m
        fast = speed > cfg.max_speed_mps
        low_fast = (alt < cfg.low_altitude_m) & (speed > cfg.max_speed_low_mps)
        manoeuvre = mem.max_accel > cfg.max_acceleration_mps2
        behaviour = np.select(
            [fast, low_fast, high, manoeuvre],
            [Reason.FAST, Reason.LOW_FAST, Reason.HIGH, Reason.MANOEUVRE], 0,
        ).astype(np.uint8)
        fresh = noncoop & settled & (behaviour > 0) & (mem.latched == 0)
        latched = np.where(fresh, behaviour, np.where(noncoop, mem.latched, 0)).astype(np.uint8)
        l_speed = np.where(fresh, speed, mem.latched_speed)
        l_alt = np.where(fresh, alt, mem.latched_alt)
        self._memory = dataclasses.replace(
            mem, latched=latched, latched_speed=l_speed, latched_alt=l_alt
        )

        # The rules, first match wins.
        ov = self._override_index(stn, t)
        ov_code = np.array(
            [identity_code(o.identity) for o in self._overrides] or [PENDING], np.int64
        )[np.maximum(ov, 0)]
        has_override = (ov >= 0) & (ov_code != PENDING)
        iff = np.isin(icao, self._iff_icao) & (icao >= 0)
        if secure_iff is not None:
            iff |= np.asarray(secure_iff, bool)
        friend_icao = np.isin(icao, self._friendly_icao) & (icao >= 0)
        friend_m3 = np.isin(m3, self._friendly_m3) & (m3 >= 0)
        military = np.any(
            (icao[:, None] >= self._mil[None, :, 0]) & (icao[:, None] <= self._mil[None, :, 1]),
            axis=1,
        )
        civil = (icao > 0) & (icao < 0xFFFFFF) & ~military
        reported = pic.identity.astype(np.int64)
        partner = np.isin(reported, [ASSUMED_FRIEND, FRIEND, NEUTRAL, SUSPECT, HOSTILE])
        partner_code = np.minimum(reported, SUSPECT)  # hostile only by an override here
        conditions = [
            has_override, iff, friend_icao, friend_m3, partner & ~(civil & (reported == NEUTRAL)),
            civil, latched > 0, (m3 >= 0) & (icao < 0), noncoop & settled,
        ]
        codes = np.select(conditions, [
            ov_code, FRIEND, FRIEND, ASSUMED_FRIEND, partner_code, NEUTRAL, SUSPECT, UNKNOWN,
            UNKNOWN,
        ], PENDING).astype(np.uint8)
        reasons = np.select(conditions, [
            Reason.OVERRIDE, Reason.SECURE_IFF, Reason.FRIENDLY_ICAO, Reason.FRIENDLY_MODE3A,
            Reason.PARTNER, Reason.CIVIL, latched, Reason.MODE3A_ONLY, Reason.NO_REPLY,
        ], Reason.AWAITING).astype(np.uint8)
        show_latched = (latched > 0) & (reasons == latched)
        return IdentityResult(
            time=t, stn=stn, code=codes, reason=reasons, icao=icao, mode3a=m3,
            speed=np.where(show_latched, l_speed, speed),
            altitude=np.where(show_latched, l_alt, alt),
            acceleration=mem.max_accel, age=age,
            override=np.where(has_override, ov, -1), overrides=tuple(self._overrides),
        )

    def _update_memory(self, stn: I64, t: float, v: F64) -> _Memory:
        """Carry the per-STN memory to this epoch's tracks (``stn`` sorted)."""
        cfg, m = self.config, self._memory
        if len(m.stn) == 0:  # one dummy row so that the lookups below need no special case
            m = _Memory(np.array([-1]), np.zeros(1), np.zeros(1), np.zeros((1, 3)), np.zeros(1),
                        np.zeros(1, np.uint8), np.zeros(1), np.zeros(1))
        pos = np.clip(np.searchsorted(m.stn, stn), 0, len(m.stn) - 1)
        known = m.stn[pos] == stn
        first = np.where(known, m.first_seen[pos], t)
        ref_t = np.where(known, m.ref_time[pos], t)
        ref_v = np.where(known[:, None], m.ref_velocity[pos], v)
        max_a = np.where(known, m.max_accel[pos], 0.0)
        latched = np.where(known, m.latched[pos], 0).astype(np.uint8)
        l_speed = np.where(known, m.latched_speed[pos], 0.0)
        l_alt = np.where(known, m.latched_alt[pos], 0.0)
        # Before the track settles its velocity is still the prior's: keep moving the reference.
        young = (t - first) < cfg.min_age_s
        dt = t - ref_t
        due = ~young & (dt >= cfg.manoeuvre_window_s)
        accel = np.linalg.norm(v - ref_v, axis=1) / np.maximum(dt, 1e-9)
        max_a = np.where(due, np.maximum(max_a, accel), max_a)
        move = young | due
        ref_t = np.where(move, t, ref_t)
        ref_v = np.where(move[:, None], v, ref_v)
        return _Memory(stn.copy(), first, ref_t, ref_v, max_a, latched, l_speed, l_alt)


def with_identity(result: EpochResult, identity: IdentityResult) -> EpochResult:
    """The epoch with the picture's identity column replaced and its hash recomputed, so the
    picture hash also covers identities (and operator overrides)."""
    if not np.array_equal(identity.stn, result.picture.track):
        raise ValueError("identity result does not belong to this epoch's picture")
    picture = TrackTable(**{**result.picture.columns(), "identity": identity.code.copy()})
    digest = picture_hash(
        result.time, picture, result.contributor_stn, result.contributor_nation,
        result.contributor_track,
    )
    return dataclasses.replace(result, picture=picture, hash=digest)
