"""The ``airpicture`` command line: ``main(argv) -> int`` with lazily loaded subcommands.

Each subcommand is a module in :mod:`airpicture.cli` with ``add_arguments(parser)`` and
``run(args) -> int``; only the chosen one is imported.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("airpicture.cli.demo", "run the four-nation demo on the built-in scenario"),
    "simulate": ("airpicture.cli.simulate", "simulate a scenario; write truth and plots"),
    "evaluate": ("airpicture.cli.evaluate", "score tracks against truth; write an HTML report"),
    "keys": ("airpicture.cli.keys", "make a nation's Ed25519 signing key pair (keys new NATION)"),
    "ingest": ("airpicture.cli.ingest", "decode a real feed (asterix | beast | sbs) into plots"),
    "export": ("airpicture.cli.export", "send a recorded picture as cot | asterix | geojson"),
    "track": ("airpicture.cli.track", "track recorded plots of one nation's sensors into tracks"),
    "node": ("airpicture.cli.node", "run one nation's node as its own process on a shared bus"),
    "serve": ("airpicture.cli.serve", "serve the COP web page over a short simulated run"),
}
"""Subcommand name -> (module, one-line help)."""


def build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    """The top-level parser, with the arguments of the chosen subcommand only."""
    parser = argparse.ArgumentParser(prog="airpicture", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    chosen = next((a for a in argv if not a.startswith("-")), None)
    for name, (module, help_) in COMMANDS.items():
        p = sub.add_parser(name, help=help_, description=help_)
        if name == chosen:
            importlib.import_module(module).add_arguments(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the subcommand; returns the process exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(args_list).parse_args(args_list)
    module = importlib.import_module(COMMANDS[args.command][0])
    return int(module.run(args))


if __name__ == "__main__":
    raise SystemExit(main())
