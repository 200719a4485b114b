"""M-of-N track management on hand-made hit histories (bit 0 the latest opportunity)."""

from __future__ import annotations

import pytest

from airpicture.tracking import TrackerConfig
from airpicture.tracking.management import update_status
from airpicture.tracking.state import CONFIRMED, DELETED, TENTATIVE, TrackArrays

# (history oldest -> latest, expected status) under 3-of-4
CASES = [
    ("HHH", CONFIRMED),
    ("HMH", TENTATIVE),
    ("HHMH", CONFIRMED),
    ("HMHM", DELETED),
    ("HHMM", DELETED),
    ("HMMH", TENTATIVE),  # just hit: it keeps its plot and may confirm with the next one
    ("HMMHM", DELETED),
    ("HMMHH", TENTATIVE),  # last four M M H H: two hits, the latest a hit
    ("HMMHHH", CONFIRMED),
]


@pytest.mark.parametrize(("history", "expected"), CASES)
def test_three_of_four(history: str, expected: int) -> None:
    tracks = TrackArrays.blank(1, 1)
    bits = 0
    for c in history:
        bits = (bits << 1) | (c == "H")
    tracks.hits[0] = bits
    tracks.opportunities[0] = len(history)
    tracks.misses[0] = len(history) - len(history.rstrip("M"))
    update_status(tracks, 0.0, TrackerConfig(sensors=[], confirm_m=3, confirm_n=4))
    assert int(tracks.status[0]) == expected, history
