"""Fuzz benchmark: random mutations of real and synthetic inputs through every decoder and
the envelope verifier (the node's read path: verify, decode, fuse); any exception other than
a documented, counted refusal is a crash.

    .venv/bin/python benchmarks/fuzz.py [--inputs 1200000] [--workers 2] [--seed 1]

Targets and their seeds are in ``tests/security_suite/targets.py`` (ASTERIX datagrams and
records of CAT048/021/034/062/063/065, Beast + Mode S, Mode S hex, SBS, pcap, sensor config,
signed envelopes of local-track batches, and bare batch payloads as a partner with a valid key
might send them). Four in five inputs are mutations of a seed (flips, insertions, deletions,
truncations, splices, noise, interesting bytes), one in five is random bytes. ``--inputs`` is
the total, split over the targets by a fixed weight (the slow decoders get fewer). Prints a
table, then one JSON line; exits 1 on any crash (a NumPy RuntimeWarning counts as one).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
import traceback
import warnings
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.security_suite.targets import Targets, mutate, random_bytes

WEIGHTS = {
    "envelope": 0.24,
    "batch_payload": 0.10,
    "asterix_datagram": 0.15,
    "mode_s_hex": 0.12,
    "sbs": 0.14,
    "sensor_config": 0.14,
    "asterix_records": 0.05,
    "beast_mode_s": 0.03,
    "pcap": 0.03,
}


def run_target(job: tuple[str, int, int]) -> dict[str, object]:
    name, n_inputs, seed = job
    # A NumPy warning (overflow, invalid cast) on bad input is silent corruption: a crash.
    warnings.simplefilter("error", RuntimeWarning)
    rng = np.random.default_rng(seed)
    targets = Targets()
    seeds = targets.seeds[name]
    crashes: list[str] = []
    t0 = time.perf_counter()
    for i in range(n_inputs):
        data = (random_bytes(rng) if i % 5 == 4
                else mutate(seeds[int(rng.integers(len(seeds)))], rng))
        try:
            targets.run(name, data)
        except Exception:
            crashes.append(f"{data.hex()[:400]}\n{traceback.format_exc(limit=4)}")
    return {
        "target": name,
        "inputs": n_inputs,
        "crashes": len(crashes),
        "rejections": (targets.rejections.total() + sum(targets.verifier.rejections.values())
                       + sum(targets.batch_rejections.values())),
        "accepted_envelopes": targets.accepted,
        "envelope_rejections": dict(targets.verifier.rejections),
        "seconds": time.perf_counter() - t0,
        "first_crash": crashes[0] if crashes else "",
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inputs", type=int, default=1_200_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--chunks", type=int, default=4, help="jobs per target")
    args = ap.parse_args()
    jobs = []
    for k, (name, weight) in enumerate(WEIGHTS.items()):
        total = round(args.inputs * weight)
        for c in range(args.chunks):
            part = total // args.chunks + (1 if c < total % args.chunks else 0)
            jobs.append((name, part, args.seed * 1000 + 10 * k + c))
    t0 = time.perf_counter()
    if args.workers > 1:
        with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
            parts = pool.map(run_target, jobs, chunksize=1)
    else:
        parts = [run_target(job) for job in jobs]
    wall = time.perf_counter() - t0
    rows: dict[str, dict[str, object]] = {}
    for part in parts:
        row = rows.setdefault(str(part["target"]), {"inputs": 0, "crashes": 0, "rejections": 0,
                                                    "seconds": 0.0, "accepted": 0,
                                                    "first_crash": ""})
        for key in ("inputs", "crashes", "rejections"):
            row[key] = int(row[key]) + int(part[key])  # type: ignore[call-overload]
        row["accepted"] = int(row["accepted"]) + int(part["accepted_envelopes"])  # type: ignore[call-overload]
        row["seconds"] = float(row["seconds"]) + float(part["seconds"])  # type: ignore[arg-type]
        row["first_crash"] = row["first_crash"] or part["first_crash"]
    envelope_reasons: dict[str, int] = {}
    for part in parts:
        for reason, n in dict(part["envelope_rejections"]).items():  # type: ignore[call-overload]
            envelope_reasons[reason] = envelope_reasons.get(reason, 0) + n
    table = Table(title="airpicture fuzz benchmark")
    for col in ("target", "inputs", "crashes", "rejections", "inputs/s (one core)"):
        table.add_column(col, justify="left" if col == "target" else "right")
    for name, row in rows.items():
        rate = int(row["inputs"]) / max(float(row["seconds"]), 1e-9)  # type: ignore[call-overload]
        table.add_row(name, f"{row['inputs']:,}", str(row["crashes"]), f"{row['rejections']:,}",
                      f"{rate:,.0f}")
    Console().print(table)
    crashes = sum(int(r["crashes"]) for r in rows.values())  # type: ignore[call-overload]
    for name, row in rows.items():
        if row["first_crash"]:
            print(f"first crash in {name}:\n{row['first_crash']}", file=sys.stderr)
    result = {
        "fuzz_inputs": sum(int(r["inputs"]) for r in rows.values()),  # type: ignore[call-overload]
        "fuzz_crashes": crashes,
        "fuzz_targets": len(rows),
        "by_target": {n: {"inputs": r["inputs"], "crashes": r["crashes"]}
                      for n, r in rows.items()},
        "envelope_rejections": envelope_reasons,
        "envelopes_accepted_genuine": sum(int(r["accepted"]) for r in rows.values()),  # type: ignore[call-overload]
        "workers": args.workers,
        "wall_s": round(wall, 1),
    }
    print(json.dumps(result, sort_keys=True))
    return 0 if crashes == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
