"""``airpicture serve``: the COP page over a short simulated run, played on the wall clock.

For trying the page without a node: simulates, tracks per nation and fuses a short run of
the built-in scenario, then serves it and moves one recorded picture on per second (looping).
``airpicture demo`` and ``airpicture node`` serve their live picture the same way.
"""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default %(default)s)")
    p.add_argument("--port", type=int, default=8062, help="port (default %(default)s)")
    p.add_argument("--duration", type=float, default=120.0, help="simulated seconds")
    p.add_argument("--airliners", type=int, default=200)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--period", type=float, default=1.0,
                   help="wall seconds per recorded picture (default %(default)s)")


def run(args: argparse.Namespace) -> int:
    from airpicture.web.recording import simulate_recording
    from airpicture.web.server import serve

    if not (args.duration > 20 and args.period > 0 and 0 <= args.port < 65536):
        print("error: need --duration > 20, --period > 0 and a port in 0..65535")
        return 2
    print(f"simulating {args.duration:.0f} s with {args.airliners} airliners...", flush=True)
    source = simulate_recording(args.duration, airliners=args.airliners, seed=args.seed)
    source.play(args.period, loop=True)
    print(f"COP on http://{args.host}:{args.port}/ ({len(source.frames)} pictures, looping)",
          flush=True)
    try:
        serve(source, args.host, args.port)
    finally:
        source.stop()
    return 0
