"""The human form of a simulation summary: a rich table."""

from __future__ import annotations

from rich.table import Table

from airpicture.scenario.simulator import Summary


def summary_tables(s: Summary) -> list[Table]:
    """Objects, plots per sensor kind, and coverage per nation alone and together."""
    objects = Table(title=f"{s.scenario}: objects (seed {s.seed}, {s.duration_s:.0f} s)")
    objects.add_column("class")
    objects.add_column("count", justify="right")
    for k, v in s.objects.items():
        objects.add_row(k, f"{v:,}")
    plots = Table(title="plots per sensor type")
    plots.add_column("kind")
    plots.add_column("plots", justify="right")
    for k, v in s.plots.items():
        plots.add_row(k, f"{v:,}")
    plots.add_row("total", f"{s.total_plots:,}")
    cov = Table(title="coverage (share of object samples seen by radar, SSR or ADS-B)")
    cov.add_column("nation")
    cov.add_column("coverage", justify="right")
    for nation, share in s.coverage.items():
        cov.add_row(f"{nation} alone", f"{share:.1%}")
    cov.add_row("all together", f"{s.coverage_together:.1%}")
    return [objects, plots, cov]
