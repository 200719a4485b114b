"""The evaluation report: a JSON summary and a self-contained HTML page with figures.

The page embeds its figures as base64 PNG and its style inline: it loads nothing from the
network and can be mailed or archived as one file. Figures (matplotlib, object API, no pyplot
state): map of truth and tracks; GOSPA parts over time; SIAP completeness over time per set;
position RMSE against the PCRB; and tables: SIAP scorecard, ID-SIAP, NEES and commonality.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from airpicture import geo
from airpicture.metrics.evaluation import Evaluation
from airpicture.metrics.samples import FloatArray

SIAP_ROWS: tuple[tuple[str, str], ...] = (
    ("completeness", "Completeness"),
    ("ambiguity", "Ambiguity"),
    ("spuriousness", "Spuriousness"),
    ("position_accuracy_m", "Positional accuracy, mean (m)"),
    ("position_rms_m", "Positional accuracy, RMS (m)"),
    ("position_horizontal_rms_m", "  horizontal RMS (m)"),
    ("position_vertical_rms_m", "  vertical RMS (m)"),
    ("velocity_accuracy_mps", "Velocity accuracy, mean (m/s)"),
    ("velocity_rms_mps", "Velocity accuracy, RMS (m/s)"),
    ("velocity_horizontal_rms_mps", "  horizontal RMS (m/s)"),
    ("velocity_vertical_rms_mps", "  vertical RMS (m/s)"),
    ("track_number_changes_per_object_hour", "Track-number changes per object-hour"),
    ("longest_track_segment", "Longest track segment"),
)


def _finite(x: float) -> float:
    return float(x) if math.isfinite(x) else 0.0


def _nanmean(a: FloatArray | None) -> float:
    if a is None:
        return 0.0
    ok = np.isfinite(a)
    return float(np.mean(a[ok])) if ok.any() else 0.0


def summary(ev: Evaluation) -> dict[str, Any]:
    """JSON-ready summary (no NaN: empty values are the documented 0 / 1 of each measure)."""
    sets: dict[str, Any] = {}
    for s in ev.sets:
        nees = None
        if s.nees is not None:
            nees = {k: v for k, v in s.nees.items() if k != "position_series"}
        sets[s.name] = {
            "kind": s.kind,
            "reports": s.reports,
            "track_samples": len(s.tracks),
            "covered_truth_samples": int(np.count_nonzero(s.covered)),
            "gospa": s.gospa.summary(),
            "siap": s.siap.scores,
            "siap_counts": s.siap.counts,
            "id_siap": {k: {**r.scores, **{f"n_{c}": v for c, v in r.counts.items()}}
                        for k, r in s.id_siap.items()},
            "nees": nees,
            "position_rmse_mean_m": _nanmean(s.rmse),
            "pcrb_mean_m": _nanmean(s.pcrb),
        }
    c = ev.config
    return {
        "config": {"c_m": c.c, "p": c.p, "switching_penalty_m": c.switching_penalty,
                   "association_threshold_m": c.threshold, "k": c.k, "m": c.m,
                   "max_age_s": c.max_age, "q_m2_s3": c.q},
        "truth_samples": len(ev.truth),
        "truth_objects": len(np.unique(ev.truth.label)),
        "steps": len(ev.times),
        "notes": list(ev.notes),
        "sets": sets,
        "commonality": ev.commonality,
    }


def _png(fig: Figure) -> str:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _thin(n: int, most: int) -> slice:
    return slice(None, None, max(1, n // most))


def _latlon(pos: FloatArray, lon0: float = 0.0) -> FloatArray:
    """[lat, lon] (deg), longitudes within 180 deg of ``lon0`` (no seam at the antimeridian)."""
    llh = geo.ecef2geodetic(pos) if len(pos) else np.zeros((0, 3))
    ll = np.degrees(llh[:, :2])
    ll[:, 1] = (ll[:, 1] - lon0 + 180.0) % 360.0 - 180.0 + lon0
    return ll


def figure_map(ev: Evaluation, most: int = 40_000) -> Figure:
    """Truth paths (grey) and track samples (one colour per set), longitude/latitude (deg)."""
    fig = Figure(figsize=(8, 6))
    ax = fig.add_subplot()
    t = ev.truth
    sel = _thin(len(t), most)
    lon = np.radians(_latlon(t.position[sel])[:, 1])
    lon0 = 0.0
    if len(lon):
        lon0 = float(np.degrees(np.arctan2(np.sin(lon).mean(), np.cos(lon).mean())))
    ll = _latlon(t.position[sel], lon0)
    ax.scatter(ll[:, 1], ll[:, 0], s=1, c="0.6", label="truth", rasterized=True)
    for s in ev.sets:
        sl = _thin(len(s.tracks), most // max(len(ev.sets), 1))
        tl = _latlon(s.tracks.position[sl], lon0)
        ax.scatter(tl[:, 1], tl[:, 0], s=1, label=s.name, rasterized=True)
    ax.set_xlabel("longitude (deg)")
    ax.set_ylabel("latitude (deg)")
    ax.set_title("Truth and tracks")
    ax.legend(markerscale=6, fontsize=8)
    return fig


def _rel(ev: Evaluation, times: FloatArray) -> FloatArray:
    t0 = ev.times[0] if len(ev.times) else 0.0
    return np.asarray(times - t0)


def figure_gospa(ev: Evaluation) -> Figure:
    """Stacked GOSPA parts (m^p) over time, one panel per set."""
    n = max(len(ev.sets), 1)
    fig = Figure(figsize=(8, 2.2 * n))
    for i, s in enumerate(ev.sets):
        ax = fig.add_subplot(n, 1, i + 1)
        g = s.gospa
        x = _rel(ev, g.times)
        ax.stackplot(x, g.localisation, g.missed, g.false, g.switching,
                     labels=["localisation", "missed", "false", "switching"])
        ax.set_ylabel(f"m^{g.p:g}")
        ax.set_title(f"{s.name}: GOSPA parts (mean GOSPA {g.summary()['gospa_mean_m']:.0f} m)",
                     fontsize=9)
        if i == 0:
            ax.legend(fontsize=7, loc="upper right")
    if fig.axes:
        fig.axes[-1].set_xlabel("time (s)")
    return fig


def figure_completeness(ev: Evaluation) -> Figure:
    """SIAP completeness over time for each set."""
    fig = Figure(figsize=(8, 3.5))
    ax = fig.add_subplot()
    for s in ev.sets:
        style = "-" if s.kind == "picture" else "--"
        ax.plot(_rel(ev, s.siap.times), s.siap.series["completeness"], style, label=s.name)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("completeness")
    ax.set_title("Completeness: each nation alone (dashed) and the shared picture (solid)")
    ax.legend(fontsize=8)
    return fig


def figure_rmse(ev: Evaluation) -> Figure:
    """Position RMSE of the held pairs and the PCRB over the same objects (m)."""
    fig = Figure(figsize=(8, 3.5))
    ax = fig.add_subplot()
    positive = False
    for s in ev.sets:
        (line,) = ax.plot(_rel(ev, s.siap.times), s.rmse, label=f"{s.name} RMSE")
        positive |= bool(np.any(s.rmse > 0))
        if s.pcrb is not None:
            ax.plot(_rel(ev, s.siap.times), s.pcrb, ":", color=line.get_color(),
                    label=f"{s.name} PCRB")
    if positive:
        ax.set_yscale("log")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("position error (m)")
    ax.set_title("Position RMSE against the posterior Cramér-Rao bound")
    ax.legend(fontsize=7, ncol=2)
    return fig


def _fmt(v: object) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return html.escape(str(v))


def _table(header: list[str], rows: Sequence[Sequence[object]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:3px 8px}
td{text-align:right}td:first-child{text-align:left;white-space:pre}th{background:#eee}
img{max-width:100%;display:block;margin:1em 0}.note{color:#864}
"""


def render_html(ev: Evaluation, title: str = "airpicture evaluation") -> str:
    """The report page (self-contained HTML)."""
    sm = summary(ev)
    names = [s.name for s in ev.sets]
    siap_rows = [[label, *(_finite(sm["sets"][n]["siap"][key]) for n in names)]
                 for key, label in SIAP_ROWS]
    gospa_rows = [[k, *(_finite(sm["sets"][n]["gospa"][k]) for n in names)]
                  for k in ("gospa_mean_m", "gospa_rms_m", "ospa_mean_m", "switches_total")]
    id_rows = []
    for kind in ("icao", "mode3a", "identity"):
        for key in ("id_completeness", "id_correctness", "id_ambiguity", "id_incorrectness"):
            id_rows.append([f"{kind}: {key}",
                            *(sm["sets"][n]["id_siap"][kind][key] for n in names)])
    nees_rows = []
    for part in ("position", "state"):
        for key in ("anees", "lower95", "upper95", "samples", "invalid"):
            nees_rows.append([f"{part}: {key}", *(
                (sm["sets"][n]["nees"] or {}).get(part, {}).get(key, "-") for n in names)])
    parts = [
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>",
        f"<p>{sm['truth_objects']} truth objects, {sm['truth_samples']} truth samples, "
        f"{sm['steps']} steps. Parameters: {html.escape(str(sm['config']))}</p>",
        *(f"<p class='note'>{html.escape(n)}</p>" for n in sm["notes"]),
        "<h2>SIAP scorecard</h2>", _table(["measure", *names], siap_rows),
        "<h2>GOSPA / OSPA</h2>", _table(["measure", *names], gospa_rows),
        f"<img alt='GOSPA parts over time' src='data:image/png;base64,{_png(figure_gospa(ev))}'>",
        "<h2>Completeness over time</h2>",
        f"<img alt='completeness' src='data:image/png;base64,{_png(figure_completeness(ev))}'>",
        "<h2>Accuracy against the PCRB</h2>",
        f"<img alt='RMSE vs PCRB' src='data:image/png;base64,{_png(figure_rmse(ev))}'>",
        "<h2>ID-SIAP</h2>", _table(["measure", *names], id_rows),
        "<h2>Filter consistency (ANEES)</h2>", _table(["measure", *names], nees_rows),
    ]
    if sm["commonality"] is not None:
        parts += ["<h2>Commonality across nodes</h2>",
                  _table(["measure", "value"], [[k, v] for k, v in sm["commonality"].items()])]
    parts += ["<h2>Map</h2>",
              f"<img alt='map of truth and tracks' src='data:image/png;base64,"
              f"{_png(figure_map(ev))}'>", "</body></html>"]
    return "\n".join(parts)
