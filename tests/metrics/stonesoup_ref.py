"""Stone Soup as the independent reference: our samples as its paths, tracks and metrics."""

from __future__ import annotations

import datetime
from typing import Any

import numpy as np
import pytest

from airpicture.metrics.samples import Samples

ss = pytest.importorskip("stonesoup")
from stonesoup.dataassociator.tracktotrack import TrackToTruth  # noqa: E402
from stonesoup.measures import Euclidean  # noqa: E402
from stonesoup.metricgenerator.manager import MultiManager  # noqa: E402
from stonesoup.metricgenerator.ospametric import GOSPAMetric, OSPAMetric  # noqa: E402
from stonesoup.metricgenerator.tracktotruthmetrics import IDSIAPMetrics, SIAPMetrics  # noqa: E402
from stonesoup.types.groundtruth import GroundTruthPath, GroundTruthState  # noqa: E402
from stonesoup.types.state import State  # noqa: E402
from stonesoup.types.track import Track  # noqa: E402

EPOCH = datetime.datetime(2024, 1, 1)
POS = Euclidean(mapping=(0, 1, 2))
VEL = Euclidean(mapping=(3, 4, 5))


def _stamp(t: float) -> datetime.datetime:
    return EPOCH + datetime.timedelta(seconds=float(t))


def to_paths(s: Samples, kind: str, ids: dict[int, Any] | None = None) -> list[Any]:
    out = []
    for lab in np.unique(s.label):
        rows = np.flatnonzero(s.label == lab)
        vec = [np.concatenate([s.position[r], s.velocity[r]]).reshape(6, 1) for r in rows]
        if kind == "truth":
            md = {} if ids is None else {"id": ids.get(int(lab))}
            states = [GroundTruthState(v, timestamp=_stamp(s.time[r]), metadata=dict(md))
                      for v, r in zip(vec, rows, strict=True)]
            out.append(GroundTruthPath(states))
        else:
            states = [State(v, timestamp=_stamp(s.time[r])) for v, r in zip(vec, rows, strict=True)]
            track = Track(states)
            if ids is not None:
                for i, r in enumerate(rows):
                    track.metadatas[i].update({"id": ids.get(int(r))})
            out.append(track)
    return out


def gospa_values(
    truth: Samples, tracks: Samples, c: float, p: float, switching: float = 0.0
) -> Any:
    gen = GOSPAMetric(c=c, p=p, switching_penalty=switching, measure=POS)
    manager = MultiManager([gen])
    manager.add_data({"tracks": to_paths(tracks, "track"),
                      "groundtruth_paths": to_paths(truth, "truth")})
    metrics = manager.generate_metrics()["gospa_generator"]
    if "GOSPA Metrics" not in metrics:  # a single time step gives a single metric
        m = metrics["GOSPA Metric"]
        return [(m.timestamp, m.value)]
    return [(m.timestamp, m.value) for m in metrics["GOSPA Metrics"].value]


def ospa_values(truth: Samples, tracks: Samples, c: float, p: float) -> Any:
    gen = OSPAMetric(c=c, p=p, measure=POS)
    manager = MultiManager([gen])
    manager.add_data({"tracks": to_paths(tracks, "track"),
                      "groundtruth_paths": to_paths(truth, "truth")})
    metric = manager.generate_metrics()["ospa_generator"]["OSPA distances"]
    return [(m.timestamp, m.value) for m in metric.value]


def siap_values(truth: Samples, tracks: Samples, threshold: float, k: int = 3, m: int = 2,
                truth_ids: dict[int, Any] | None = None,
                track_ids: dict[int, Any] | None = None) -> dict[str, float]:
    assoc = TrackToTruth(association_threshold=threshold, consec_pairs_confirm=k,
                         consec_misses_end=m, measure=POS)
    if truth_ids is None:
        gen: Any = SIAPMetrics(position_measure=POS, velocity_measure=VEL)
        key = "siap_generator"
    else:
        gen = IDSIAPMetrics(position_measure=POS, velocity_measure=VEL, truth_id="id",
                            track_id="id")
        key = "Id_siap_generator"
    manager = MultiManager([gen], associator=assoc)
    manager.add_data({"tracks": to_paths(tracks, "track", track_ids),
                      "groundtruth_paths": to_paths(truth, "truth", truth_ids)})
    metrics = manager.generate_metrics()[key]
    return {title: m.value for title, m in metrics.items() if not isinstance(m.value, list)}
