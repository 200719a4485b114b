"""A node's configuration: nation, audience, keys, partners, release policies.

Release policies come from a TOML file (``--policy``) with one ``[[release]]`` table per
audience (fields of :class:`airpicture.policy.ReleasePolicy`)::

    [[release]]
    audience = "coalition"
    withheld_fields = ["sensors"]
    precision_m = 500.0

Without a file the node releases everything it confirms to ``coalition``. Keys come from a
directory written by ``airpicture keys new NATION`` (``NATION.key`` for the node itself,
``*.pub`` for every partner, its own included: a node reads its own releases), or, for the
embedded demo only, from :func:`demo_keys` (derived from the run's seed: not secret).
"""

from __future__ import annotations

import dataclasses
import hashlib
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from airpicture.bus import check_audience
from airpicture.fusion import FusionConfig
from airpicture.policy import ReleasePolicy, policy_from_mapping
from airpicture.security import VerifierConfig, load_private_key, load_public_key

__all__ = [
    "DEFAULT_AUDIENCE",
    "NodeConfig",
    "default_policies",
    "demo_keys",
    "load_keys",
    "load_policy_file",
]

DEFAULT_AUDIENCE = "coalition"
"""The releasability group every node of the default set-up reads and releases to."""


def default_policies(audience: str = DEFAULT_AUDIENCE) -> list[ReleasePolicy]:
    """Release every confirmed or coasting track, all fields, full precision, to ``audience``."""
    return [ReleasePolicy(audience=check_audience(audience))]


def load_policy_file(path: str | Path) -> list[ReleasePolicy]:
    """Read ``[[release]]`` tables from a TOML file; ``ValueError`` names the file and key."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{p}: cannot read policy file: {exc}") from None
    unknown = sorted(set(data) - {"release"})
    if unknown:
        raise ValueError(f"{p}: unknown top-level keys {unknown} (expected [[release]] tables)")
    tables = data.get("release")
    if not isinstance(tables, list) or not tables:
        raise ValueError(f"{p}: release: need at least one [[release]] table")
    policies = []
    for i, table in enumerate(tables):
        if not isinstance(table, dict):
            raise ValueError(f"{p}: release[{i}]: must be a table")
        policy = policy_from_mapping(table, f"{p}: release[{i}]")
        try:
            check_audience(policy.audience)
        except ValueError as exc:
            raise ValueError(f"{p}: release[{i}].audience: {exc}") from None
        policies.append(policy)
    audiences = [x.audience for x in policies]
    if len(set(audiences)) != len(audiences):
        raise ValueError(f"{p}: release: one table per audience, got {audiences}")
    return policies


def demo_keys(nations: Iterable[str], seed: int) -> dict[str, Ed25519PrivateKey]:
    """Deterministic Ed25519 keys per nation for one demo run (derived from ``seed``).

    For the embedded demo and tests only: anyone who knows the seed knows the keys.
    """
    out = {}
    for nation in nations:
        secret = hashlib.sha256(f"airpicture-demo-key/{seed}/{nation}".encode()).digest()
        out[nation] = Ed25519PrivateKey.from_private_bytes(secret)
    return out


def load_keys(
    directory: str | Path, nation: str
) -> tuple[Ed25519PrivateKey, dict[str, Ed25519PublicKey]]:
    """``NATION.key`` and every ``*.pub`` of ``directory`` (partner nation = file stem)."""
    d = Path(directory)
    private = d / f"{nation}.key"
    try:
        key = load_private_key(private.read_bytes())
    except (OSError, ValueError) as exc:
        raise ValueError(f"{private}: cannot load the node's private key: {exc}") from None
    partners: dict[str, Ed25519PublicKey] = {}
    for pub in sorted(d.glob("*.pub")):
        try:
            partners[pub.stem] = load_public_key(pub.read_bytes())
        except ValueError as exc:
            raise ValueError(f"{pub}: {exc}") from None
    partners.setdefault(nation, key.public_key())
    return key, partners


@dataclasses.dataclass(frozen=True, kw_only=True)
class NodeConfig:
    """What one national node needs besides its sensors, keys and bus.

    Attributes
    ----------
    nation : str
        The node's nation code (the sender of its envelopes).
    audience : str
        The releasability group whose log this node reads and fuses.
    policies : list of ReleasePolicy
        One per audience released to (default: everything to ``audience``).
    fusion : FusionConfig
        Must be the same on every node reading ``audience`` (same log + same config = same
        picture).
    verifier : VerifierConfig
    release_interval_s : float
        Data seconds between two releases of the node's confirmed tracks.
    chunk_tracks : int
        Most tracks in one envelope.
    stale_s : float
        A partner silent for this much data time (against the log's newest) counts as down.
    """

    nation: str
    audience: str = DEFAULT_AUDIENCE
    policies: tuple[ReleasePolicy, ...] = ()
    fusion: FusionConfig = dataclasses.field(default_factory=FusionConfig)
    verifier: VerifierConfig = dataclasses.field(default_factory=VerifierConfig)
    release_interval_s: float = 1.0
    chunk_tracks: int = 1000
    stale_s: float = 15.0

    def __post_init__(self) -> None:
        check_audience(self.audience)
        if not self.policies:
            object.__setattr__(self, "policies", tuple(default_policies(self.audience)))
        if not (self.release_interval_s > 0 and self.chunk_tracks > 0 and self.stale_s > 0):
            raise ValueError("release_interval_s, chunk_tracks and stale_s must be positive")


def partner_names(partners: Mapping[str, Ed25519PublicKey], nation: str) -> list[str]:
    """Configured partners other than the node itself, sorted."""
    return sorted(p for p in partners if p != nation)
