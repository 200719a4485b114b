"""``airpicture keys new NATION``: make a nation's Ed25519 signing key pair.

Writes ``NATION.key`` (PKCS#8 PEM private key, mode 0600) and ``NATION.pub`` (PEM public key,
to hand to the partners) into ``--dir`` and prints the public key. Refuses to overwrite an
existing key unless ``--force`` is given.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

from airpicture.security import new_private_key, private_key_pem, public_key_pem

_NATION = re.compile(r"^[A-Za-z0-9_-]{1,16}$")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    new = sub.add_parser("new", help="make a nation's signing key pair")
    new.add_argument("nation", metavar="NATION", help="nation code, e.g. JPN")
    new.add_argument("--dir", default="keys", help="directory for the key files (default: keys)")
    new.add_argument("--force", action="store_true", help="overwrite existing key files")


def run(args: argparse.Namespace) -> int:
    nation = str(args.nation)
    if not _NATION.match(nation):
        print(f"keys new: bad nation {nation!r}: 1-16 of A-Z a-z 0-9 _ -", file=sys.stderr)
        return 2
    directory = Path(args.dir)
    private_path = directory / f"{nation}.key"
    public_path = directory / f"{nation}.pub"
    if not args.force and (private_path.exists() or public_path.exists()):
        print(f"keys new: {private_path} or {public_path} exists (use --force)", file=sys.stderr)
        return 1
    directory.mkdir(parents=True, exist_ok=True)
    key = new_private_key()
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(private_key_pem(key))
    public = public_key_pem(key.public_key())
    public_path.write_bytes(public)
    print(f"wrote {private_path} (keep secret) and {public_path}")
    print(public.decode().strip())
    return 0
