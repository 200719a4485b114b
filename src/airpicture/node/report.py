"""Rich tables of a :class:`~airpicture.node.summary.RunSummary` (the demo's printout)."""

from __future__ import annotations

from rich.table import Table

from airpicture.node.summary import RunSummary

__all__ = ["summary_tables"]


def _pct(x: float) -> str:
    return f"{100.0 * x:.1f} %"


def summary_tables(s: RunSummary) -> list[Table]:
    """The per-nation table and the run table."""
    nations = Table(
        title=f"airpicture demo: {s.scenario}, {s.duration_s:g} s, seed {s.seed} "
              f"(scored from {s.scored_from_s:g} s, every {s.interval_s:g} s)"
    )
    for name, justify in (
        ("nation", "left"), ("own\ncover", "right"), ("complete\nalone", "right"),
        ("complete\nshared", "right"), ("GOSPA m\nalone", "right"),
        ("GOSPA m\nshared", "right"), ("system\ntracks", "right"), ("picture\nhash", "left"),
    ):
        nations.add_column(name, justify=justify)  # type: ignore[arg-type]
    for n in s.nations:
        nations.add_row(
            n.nation, _pct(n.own_coverage), _pct(n.completeness_alone),
            _pct(n.completeness_shared), f"{n.gospa_alone_m:,.0f}", f"{n.gospa_shared_m:,.0f}",
            f"{n.system_tracks:,}", n.final_hash[:10],
        )
    run = Table(title="shared picture")
    run.add_column("measure")
    run.add_column("value", justify="right")
    run.add_row("objects / truth samples in joint coverage",
                f"{s.objects:,} / {s.truth_samples:,}")
    run.add_row("joint coverage (share of truth samples)", _pct(s.joint_coverage))
    run.add_row("STN commonality across nodes", _pct(s.stn_commonality))
    run.add_row("  same, counting duplicates on a node as disagreement",
                _pct(s.stn_commonality_strict))
    run.add_row("held by every node (of held by any)", _pct(s.holding_commonality))
    run.add_row("epochs", f"{s.epochs:,}")
    run.add_row("picture hashes equal on every node, every epoch",
                "[green]yes[/green]" if s.hashes_equal else "[red]NO[/red]")
    run.add_row("envelopes published", f"{s.envelopes:,}")
    for reason, count in sorted(s.rejections.items()):
        run.add_row(f"rejected: {reason}", f"{count:,}")
    run.add_row("wall time", f"{s.wall_s:.0f} s")
    return [nations, run]
