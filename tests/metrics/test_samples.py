"""Input validation: bad arrays raise errors that name the problem; empty sets are values."""

from __future__ import annotations

import numpy as np
import pytest

from airpicture.metrics import gospa_series, make_samples, time_grid
from airpicture.metrics.pairs import close_pairs

P = np.zeros((2, 3))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"time": [0.0, np.nan]}, "truth: time is not finite in row 1"),
        ({"position": [[0, 0, 0], [np.nan, 0, 0]]}, "truth: position is not finite in row 1"),
        ({"position": np.zeros((2, 2))}, r"position must have shape \(2, 3\)"),
        ({"label": [0.5, 1.5]}, "label must be integers"),
        ({"label": [4, 4], "time": [1.0, 1.0]}, "label 4 appears twice at time 1.0"),
        ({"velocity": [[0, 0, 0], [np.inf, 0, 0]]}, "velocity row 1 is infinite"),
        ({"covariance": np.zeros((2, 3, 3))}, r"covariance must have shape \(2, 6, 6\)"),
    ],
)
def test_bad_samples_raise_named_errors(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"time": [0.0, 1.0], "label": [1, 2], "position": P}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        make_samples(name="truth", **args)  # type: ignore[arg-type]


def test_unsorted_input_is_sorted_by_time() -> None:
    s = make_samples([2.0, 0.0, 1.0], [1, 1, 1], [[2, 0, 0], [0, 0, 0], [1, 0, 0]])
    assert s.time.tolist() == [0.0, 1.0, 2.0] and s.position[:, 0].tolist() == [0, 1, 2]


def test_disjoint_times_are_an_error_and_empty_sets_are_values() -> None:
    truth = make_samples([0.0, 1.0], [1, 1], P)
    tracks = make_samples([0.5, 1.5], [7, 7], P)
    with pytest.raises(ValueError, match="share no sample time"):
        time_grid(truth, tracks)
    empty = make_samples(np.zeros(0), np.zeros(0, np.int64), np.zeros((0, 3)))
    g = gospa_series(truth, empty, c=10.0, p=2)
    assert g.distance.tolist() == pytest.approx([np.sqrt(50.0)] * 2)
    assert g.missed.tolist() == [50.0, 50.0] and g.false.tolist() == [0.0, 0.0]
    g = gospa_series(empty, empty, c=10.0)
    assert len(g.times) == 0 and g.summary()["gospa_mean_m"] == 0.0
    with pytest.raises(ValueError, match="radius"):
        close_pairs(truth, truth, time_grid(truth, truth), radius=np.nan)
