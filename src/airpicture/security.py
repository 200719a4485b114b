"""Envelopes and their security: Ed25519 signing, sequence numbers, replay windows, verification.

A sender seals each publication into an :class:`~airpicture.messages.Envelope` carrying its
nation, a sequence number (one per sender and audience, starting at 1), the data time, the
kind and the MessagePack payload, then signs it with its Ed25519 key. The signature covers the
MessagePack encoding of the envelope with an empty ``signature`` field and the payload replaced
by its SHA-256 digest (:func:`signed_bytes`), so no field can be changed without breaking it,
and a large payload is hashed once, by SHA-256, instead of twice by Ed25519's SHA-512.

A receiver's :class:`Verifier` checks, in this order, and rejects with a counted reason:

======================  ==================================================================
reason                  meaning
======================  ==================================================================
``oversized``           more bytes than ``max_bytes`` (checked before decoding)
``malformed``           not a decodable envelope (truncated, garbage, wrong types)
``bad_version``         a schema version this build does not read
``unknown_sender``      no key is configured for the claimed sender
``unsigned``            empty signature
``impersonation``       signed by another configured partner's key, not the sender's
``bad_signature``       forged, tampered with, or signed by an unknown key
``wrong_audience``      addressed to an audience this receiver does not read
``replayed``            a sequence number already seen (or older than the replay window)
``out_of_window``       data time too far behind or ahead of the log's data time
======================  ==================================================================

The time window is taken on data time so that verification, like the picture, is a pure
function of the log: the reference is the newest data time accepted so far (or ``now`` when
the caller passes it, in live use).
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
from collections.abc import Iterable, Mapping

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from airpicture.audit import AuditLog
from airpicture.messages import SCHEMA_VERSION, Envelope, decode_msgpack, encode_msgpack

__all__ = [
    "REASONS",
    "Rejected",
    "Sealer",
    "Verifier",
    "VerifierConfig",
    "load_private_key",
    "load_public_key",
    "new_private_key",
    "private_key_pem",
    "public_key_pem",
    "signed_bytes",
]

REASONS: tuple[str, ...] = (
    "oversized",
    "malformed",
    "bad_version",
    "unknown_sender",
    "unsigned",
    "impersonation",
    "bad_signature",
    "wrong_audience",
    "replayed",
    "out_of_window",
)
"""Every rejection reason, in the order the checks run."""

DEFAULT_MAX_BYTES = 1 << 20
"""Default largest accepted envelope: 1 MiB (the NATS default payload limit)."""


class Rejected(Exception):
    """An envelope was refused; ``reason`` is one of :data:`REASONS`."""

    def __init__(self, reason: str, sender: str, detail: str = "") -> None:
        super().__init__(f"{reason}: sender {sender or '?'}" + (f": {detail}" if detail else ""))
        self.reason = reason
        self.sender = sender


# -- keys ----------------------------------------------------------------------------------


def new_private_key() -> Ed25519PrivateKey:
    """A fresh Ed25519 private key."""
    return Ed25519PrivateKey.generate()


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    """PKCS#8 PEM of a private key (unencrypted: protect the file)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_key_pem(key: Ed25519PublicKey) -> bytes:
    """SubjectPublicKeyInfo PEM of a public key."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_private_key(pem: bytes) -> Ed25519PrivateKey:
    """Read a PEM private key; raises ``ValueError`` unless it is Ed25519."""
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"not an Ed25519 private key: {type(key).__name__}")
    return key


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    """Read a PEM public key; raises ``ValueError`` unless it is Ed25519."""
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"not an Ed25519 public key: {type(key).__name__}")
    return key


def signed_bytes(envelope: Envelope) -> bytes:
    """The bytes an envelope's signature covers: its encoding with an empty signature and
    the payload replaced by the payload's SHA-256 digest (32 bytes)."""
    digest = hashlib.sha256(envelope.payload).digest()
    return encode_msgpack(msgspec.structs.replace(envelope, payload=digest, signature=b""))


# -- sending -------------------------------------------------------------------------------


class Sealer:
    """A sender: numbers, signs and encodes envelopes, and records each in the audit log.

    Sequence numbers start at ``1`` per audience (or after ``start_seq[audience]`` when a node
    resumes an earlier log).
    """

    def __init__(
        self,
        nation: str,
        key: Ed25519PrivateKey,
        audit: AuditLog | None = None,
        start_seq: Mapping[str, int] | None = None,
    ) -> None:
        self.nation = nation
        self._key = key
        self._seq: dict[str, int] = dict(start_seq or {})
        self.audit = audit

    def seal(self, audience: str, time: float, kind: str, payload: bytes, count: int = 1) -> bytes:
        """Encode and sign one envelope; ``count`` (messages in the payload) goes to the audit."""
        seq = self._seq.get(audience, 0) + 1
        self._seq[audience] = seq
        unsigned = Envelope(
            sender=self.nation, audience=audience, seq=seq, time=time, kind=kind, payload=payload
        )
        signature = self._key.sign(signed_bytes(unsigned))
        if self.audit is not None:
            self.audit.record_release(unsigned, count)
        return encode_msgpack(msgspec.structs.replace(unsigned, signature=signature))


# -- receiving -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class VerifierConfig:
    """Limits of a :class:`Verifier`.

    ``max_past_s`` and ``max_future_s`` bound an envelope's data time around the reference
    (the newest data time accepted, or ``now``); ``replay_window`` is how many sequence numbers
    behind the newest one may still arrive (out of order) once each.
    """

    max_bytes: int = DEFAULT_MAX_BYTES
    max_past_s: float = 300.0
    max_future_s: float = 30.0
    replay_window: int = 1024

    def __post_init__(self) -> None:
        if self.max_bytes <= 0 or self.replay_window <= 0:
            raise ValueError("max_bytes and replay_window must be positive")
        if not (self.max_past_s >= 0 and self.max_future_s >= 0):
            raise ValueError("max_past_s and max_future_s must be >= 0")


class _ReplayWindow:
    """Sliding window of sequence numbers seen (RFC 4303 style, as a set of recent numbers)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.highest = 0
        self.seen: set[int] = set()

    def fresh(self, seq: int) -> bool:
        if seq <= 0 or seq <= self.highest - self.size:
            return False
        return seq not in self.seen

    def mark(self, seq: int) -> None:
        self.seen.add(seq)
        if seq > self.highest:
            self.highest = seq
            floor = seq - self.size
            if len(self.seen) > 2 * self.size:
                self.seen = {s for s in self.seen if s > floor}


class Verifier:
    """A receiver: checks envelopes against the partners' keys and counts every rejection.

    ``partners`` maps nation -> Ed25519 public key; ``audiences`` are the audiences this node
    reads (``None``: any). :attr:`rejections` counts by reason, :attr:`rejections_by_sender`
    by ``(sender, reason)``; :attr:`accepted` counts by sender.
    """

    def __init__(
        self,
        partners: Mapping[str, Ed25519PublicKey],
        audiences: Iterable[str] | None = None,
        config: VerifierConfig | None = None,
    ) -> None:
        self.partners = dict(partners)
        self.audiences = None if audiences is None else frozenset(audiences)
        self.config = config or VerifierConfig()
        self.rejections: collections.Counter[str] = collections.Counter()
        self.rejections_by_sender: collections.Counter[tuple[str, str]] = collections.Counter()
        self.accepted: collections.Counter[str] = collections.Counter()
        self.reference_time: float | None = None
        self._windows: dict[tuple[str, str], _ReplayWindow] = {}

    def verify(self, data: bytes, now: float | None = None) -> Envelope:
        """Return the envelope in ``data`` if it passes every check; else count and raise.

        Raises :class:`Rejected` (never anything else) for bad input.
        """
        try:
            envelope = self._check(data, now)
        except Rejected as exc:
            self.rejections[exc.reason] += 1
            self.rejections_by_sender[(exc.sender, exc.reason)] += 1
            raise
        self.accepted[envelope.sender] += 1
        return envelope

    def accept(self, data: bytes, now: float | None = None) -> Envelope | None:
        """Like :meth:`verify` but returns ``None`` for a (counted) rejection."""
        try:
            return self.verify(data, now)
        except Rejected:
            return None

    def _check(self, data: bytes, now: float | None) -> Envelope:
        cfg = self.config
        if len(data) > cfg.max_bytes:
            raise Rejected("oversized", "", f"{len(data)} bytes > {cfg.max_bytes}")
        try:
            env = decode_msgpack(data, Envelope)
        except (msgspec.MsgspecError, ValueError) as exc:  # ValueError: bad UTF-8 and kin
            raise Rejected("malformed", "", str(exc)) from None
        sender = env.sender
        if env.v != SCHEMA_VERSION:
            raise Rejected("bad_version", sender, f"v={env.v}")
        key = self.partners.get(sender)
        if key is None:
            raise Rejected("unknown_sender", sender)
        if not env.signature:
            raise Rejected("unsigned", sender)
        message = signed_bytes(env)
        if not _valid(key, env.signature, message):
            for other, other_key in sorted(self.partners.items()):
                if other != sender and _valid(other_key, env.signature, message):
                    raise Rejected("impersonation", sender, f"signed by {other}")
            raise Rejected("bad_signature", sender)
        if self.audiences is not None and env.audience not in self.audiences:
            raise Rejected("wrong_audience", sender, env.audience)
        window = self._windows.setdefault((sender, env.audience), _ReplayWindow(cfg.replay_window))
        if not window.fresh(env.seq):
            raise Rejected("replayed", sender, f"seq {env.seq}")
        reference = now if now is not None else self.reference_time
        if reference is not None and not (
            reference - cfg.max_past_s <= env.time <= reference + cfg.max_future_s
        ):
            raise Rejected("out_of_window", sender, f"time {env.time} vs {reference}")
        window.mark(env.seq)
        if self.reference_time is None or env.time > self.reference_time:
            self.reference_time = env.time
        return env


def _valid(key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        key.verify(signature, message)
    except InvalidSignature:
        return False
    return True
