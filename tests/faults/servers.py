"""Real ``nats-server`` processes for the fault and security suites: free 127.0.0.1 ports,
optional config file (TLS, users and subject permissions), stop/kill/restart on the same
port and JetStream store. Skips the calling test when the binary is absent."""

from __future__ import annotations

import datetime
import ipaddress
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

BINARY = shutil.which("nats-server") or (
    "/usr/sbin/nats-server" if Path("/usr/sbin/nats-server").exists() else None
)


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (never the NATS default 4222)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port != 4222:
            return port


def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


class Server:
    """One JetStream server on 127.0.0.1; ``config`` is extra nats-server config text."""

    def __init__(self, store: Path, config: str = "", scheme: str = "nats") -> None:
        if BINARY is None:
            pytest.skip("nats-server not installed (Debian package nats-server)")
        self.port = free_port()
        self.store = store
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self.config = store / "server.conf"
        store.mkdir(parents=True, exist_ok=True)
        self.config.write_text(
            f'listen: "127.0.0.1:{self.port}"\n'
            f'jetstream {{ store_dir: "{store / "js"}" }}\n' + config
        )
        self.process: subprocess.Popen[bytes] | None = None
        self.log = store / "server.log"

    def start(self) -> None:
        assert BINARY is not None
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [BINARY, "-c", str(self.config)], stdout=log, stderr=subprocess.STDOUT
            )
        wait_port(self.port)

    def stop(self, hard: bool = False) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL if hard else signal.SIGTERM)
            self.process.wait(15)
            self.process = None

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_ca(
    directory: Path, cn: str = "airpicture test CA"
) -> tuple[Path, ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A throwaway self-signed CA (P-256, valid one day); returns its PEM path, key and cert."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
        )
        .sign(key, hashes.SHA256())
    )
    path = directory / f"{cn.replace(' ', '_')}.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path, key, cert


def make_server_cert(
    directory: Path, ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate
) -> tuple[Path, Path]:
    """A server certificate for 127.0.0.1 and localhost signed by the CA: (cert, key) PEMs."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .sign(ca_key, hashes.SHA256())
    )
    cert_path, key_path = directory / "server-cert.pem", directory / "server-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


NATION_PUBLISH_API = (
    "$JS.API.INFO",
    "$JS.API.STREAM.INFO.*",
    "$JS.API.CONSUMER.CREATE.>",
    "$JS.API.CONSUMER.DURABLE.CREATE.>",
    "$JS.API.CONSUMER.INFO.>",
    "$JS.API.CONSUMER.MSG.NEXT.>",
    "$JS.ACK.>",
)
"""What a nation's node needs of the JetStream API: read stream info, make and read its
consumers, acknowledge. Not: create, purge or delete streams (the operator's account does)."""


def authorization(nations: dict[str, str], admin_password: str, prefix: str = "airpicture") -> str:
    """nats-server ``authorization`` block: an operator user, and one user per nation who may
    publish only on ``<prefix>.<audience>.<nation>`` (and use its consumers)."""
    users = [f'    {{ user: "admin", password: "{admin_password}" }}']
    for nation, password in nations.items():
        allow = ", ".join(f'"{s}"' for s in (f"{prefix}.*.{nation}", *NATION_PUBLISH_API))
        users.append(
            f'    {{ user: "{nation}", password: "{password}", permissions: {{\n'
            f"        publish: {{ allow: [{allow}] }}\n"
            f'        subscribe: {{ allow: ["_INBOX.>"] }} }} }}'
        )
    return "authorization {\n  users: [\n" + "\n".join(users) + "\n  ]\n}\n"
