"""NATS security as deployed: TLS with a CA the nodes trust, per-nation users, and subject
permissions so that a nation publishes only as itself.

One ``nats-server`` started here with a config file (``tls {}``, ``authorization {}``) on a
free 127.0.0.1 port; its CA and server certificate are made for the test with
``cryptography``. What must hold: a nation's node publishes on its own subject and reads the
whole audience log; publishing as another nation, on the shared subject, or creating streams
is refused at once with a ``BusError`` and nothing reaches the log; a client that does not
trust the server's CA, does not speak TLS, or has a wrong password cannot connect.

The same with nkeys (a second server whose users are public nkeys made here with the ``nkeys``
package): a node logged in with its seed publishes as itself, is refused on another nation's
subject, and a seed the server does not know (or a broken one) cannot connect.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from airpicture.bus import BusError, open_bus
from airpicture.bus.jetstream import NatsBus

from ..faults.servers import NATION_PUBLISH_API, Server, authorization, make_ca, make_server_cert

PASSWORDS = {"JPN": "jpn-secret", "USA": "usa-secret"}
ADMIN = "operator-secret"


class Deployment:
    def __init__(self, server: Server, ca: Path) -> None:
        self.server, self.ca = server, ca
        self.hostport = server.url.split("://", 1)[1]

    def url(self, user: str, password: str, nation: str | None = None) -> str:
        query = f"?tls_ca={self.ca}" + (f"&nation={nation}" if nation else "")
        return f"tls://{user}:{password}@{self.hostport}{query}"


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    root = tmp_path_factory.mktemp("nats-tls")
    ca, ca_key, ca_cert = make_ca(root)
    cert, key = make_server_cert(root, ca_key, ca_cert)
    config = (
        f'tls {{ cert_file: "{cert}", key_file: "{key}", timeout: 5 }}\n'
        + authorization(PASSWORDS, ADMIN)
    )
    server = Server(root / "server", config, scheme="tls")
    with server:
        dep = Deployment(server, ca)
        with open_bus(dep.url("admin", ADMIN)) as admin:  # the operator makes the stream
            admin.subscribe("coalition").close()
        yield dep


def test_a_nation_publishes_as_itself_over_tls_and_reads_the_log(deployment: Deployment) -> None:
    with open_bus(deployment.url("JPN", PASSWORDS["JPN"], nation="JPN")) as jpn, open_bus(
        deployment.url("USA", PASSWORDS["USA"], nation="USA")
    ) as usa:
        assert isinstance(jpn, NatsBus) and jpn.nation == "JPN"
        first = jpn.publish("coalition", b"jpn-1", "JPN-1")
        second = usa.publish("coalition", b"usa-1", "USA-1")
        assert second == first + 1
        got = [r.data for r in usa.subscribe("coalition", start_seq=first).fetch(10, 2.0)]
        assert got == [b"jpn-1", b"usa-1"]


@pytest.mark.parametrize(
    ("nation", "audience"),
    [("USA", "coalition"), (None, "coalition"), ("JPN", "brand_new_audience")],
    ids=["as-another-nation", "on-the-shared-subject", "create-a-stream"],
)
def test_a_nation_without_permission_is_refused_at_once(
    deployment: Deployment, nation: str | None, audience: str
) -> None:
    with NatsBus(deployment.url("JPN", PASSWORDS["JPN"]), nation=nation) as jpn, open_bus(
        deployment.url("admin", ADMIN)
    ) as admin:
        before = admin.subscribe("coalition").fetch(1000, 1.0)
        t0 = time.monotonic()
        with pytest.raises(BusError, match="not permitted"):
            jpn.publish(audience, b"forged", f"forged-{nation}-{audience}")
        assert time.monotonic() - t0 < 4.0  # refused, not retried until a timeout
        assert jpn.denied  # the refusal is visible on the bus object
        after = admin.subscribe("coalition").fetch(1000, 1.0)
        assert [r.data for r in after] == [r.data for r in before]  # nothing reached the log
        assert b"forged" not in [r.data for r in after]


@pytest.mark.parametrize("case", ["no-tls", "untrusted-ca", "wrong-password"])
def test_untrusted_or_unauthenticated_clients_cannot_connect(
    deployment: Deployment, tmp_path: Path, case: str
) -> None:
    other_ca, _, _ = make_ca(tmp_path, "someone else's CA")
    urls = {
        "no-tls": f"nats://JPN:{PASSWORDS['JPN']}@{deployment.hostport}",
        "untrusted-ca": f"tls://JPN:{PASSWORDS['JPN']}@{deployment.hostport}?tls_ca={other_ca}",
        "wrong-password": deployment.url("JPN", "guess"),
    }
    with pytest.raises(BusError, match="cannot connect"):
        NatsBus(urls[case], connect_attempts=2, backoff_s=0.05)


def test_unknown_url_options_are_named() -> None:
    with pytest.raises(ValueError, match="tls_cafile"):
        open_bus("nats://127.0.0.1:1?tls_cafile=/x")
    with pytest.raises(ValueError, match="nats:// URLs only"):
        open_bus("memory://", tls_ca="/x")


# -- nkeys: each nation logs in with its own key pair; the server holds only public keys ----

def new_user_seed(directory: Path, name: str) -> tuple[Path, str]:
    """A fresh nkey user seed written to ``directory/name.nk`` (0600), and its public key."""
    nkeys = pytest.importorskip("nkeys")  # the test extra has it; skip only these tests
    seed = nkeys.encode_seed(os.urandom(32), nkeys.PREFIX_BYTE_USER)
    path = directory / f"{name}.nk"
    path.write_bytes(seed)
    path.chmod(0o600)
    return path, nkeys.from_seed(bytearray(seed)).public_key.decode()


class NkeyDeployment:
    def __init__(self, server: Server, seeds: dict[str, Path]) -> None:
        self.server, self.seeds = server, seeds

    def url(self, nation: str, seed: Path | None = None, as_nation: str | None = None) -> str:
        seed = seed or self.seeds[nation]
        return f"{self.server.url}?nkeys_seed={seed}&nation={as_nation or nation}"


@pytest.fixture(scope="module")
def nkey_deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NkeyDeployment]:
    root = tmp_path_factory.mktemp("nats-nkeys")
    seeds, users = {}, [f'    {{ user: "admin", password: "{ADMIN}" }}']
    for nation in PASSWORDS:
        seeds[nation], public = new_user_seed(root, nation)
        allow = ", ".join(f'"{s}"' for s in (f"airpicture.*.{nation}", *NATION_PUBLISH_API))
        users.append(f'    {{ nkey: "{public}", permissions: {{ publish: {{ allow: [{allow}] }}'
                     ', subscribe: { allow: ["_INBOX.>"] } } }')
    config = "authorization {\n  users: [\n" + "\n".join(users) + "\n  ]\n}\n"
    with Server(root / "server", config) as server:
        with open_bus(f"nats://admin:{ADMIN}@{server.url.split('://', 1)[1]}") as admin:
            admin.subscribe("coalition").close()
        yield NkeyDeployment(server, seeds)


def _log(deployment: NkeyDeployment) -> list[bytes]:
    with open_bus(f"nats://admin:{ADMIN}@{deployment.server.url.split('://', 1)[1]}") as admin:
        return [r.data for r in admin.subscribe("coalition").fetch(1000, 1.0)]


def test_a_nation_with_its_nkey_publishes_as_itself(nkey_deployment: NkeyDeployment) -> None:
    with open_bus(nkey_deployment.url("JPN")) as jpn, open_bus(nkey_deployment.url("USA")) as usa:
        first = jpn.publish("coalition", b"jpn-nkey-1", "JPN-nkey-1")
        assert usa.publish("coalition", b"usa-nkey-1", "USA-nkey-1") == first + 1
        got = [r.data for r in usa.subscribe("coalition", start_seq=first).fetch(10, 2.0)]
    assert got == [b"jpn-nkey-1", b"usa-nkey-1"]


def test_an_nkey_is_refused_on_another_nations_subject(nkey_deployment: NkeyDeployment) -> None:
    with NatsBus(nkey_deployment.url("JPN", as_nation="USA")) as jpn:
        t0 = time.monotonic()
        with pytest.raises(BusError, match="not permitted"):
            jpn.publish("coalition", b"jpn-as-usa", "forged-nkey")
        assert time.monotonic() - t0 < 4.0 and jpn.denied == ["airpicture.coalition.usa"]
    assert b"jpn-as-usa" not in _log(nkey_deployment)


def test_a_wrong_or_broken_seed_cannot_connect(
    nkey_deployment: NkeyDeployment, tmp_path: Path
) -> None:
    stranger, _ = new_user_seed(tmp_path, "stranger")  # a valid seed the server does not know
    t0 = time.monotonic()
    with pytest.raises(BusError, match="cannot connect"):
        NatsBus(nkey_deployment.url("JPN", seed=stranger), connect_attempts=3, backoff_s=0.05)
    assert time.monotonic() - t0 < 5.0  # refused credentials are not retried
    broken = tmp_path / "broken.nk"
    broken.write_bytes(b"SUNOTAVALIDSEED")
    with pytest.raises(BusError, match="no valid nkeys seed"):
        NatsBus(nkey_deployment.url("JPN", seed=broken))
    with pytest.raises(BusError, match="cannot read"):
        NatsBus(nkey_deployment.url("JPN", seed=tmp_path / "missing.nk"))
