"""ID-SIAP and commonality on hand-computed examples."""

from __future__ import annotations

import numpy as np
import pytest

from airpicture.messages import Identity
from airpicture.metrics.association import associate
from airpicture.metrics.commonality import commonality
from airpicture.metrics.id_siap import id_siap, standard_identity_codes
from airpicture.metrics.samples import Samples, make_samples, time_grid
from airpicture.track_table import IDENTITY_CODES

T = np.arange(4.0)


def truth_two() -> Samples:
    """Truth 1 at x = 0 and truth 2 at x = 1 km, t = 0..3."""
    pos = np.array([[0.0, 0.0, 0.0], [1000.0, 0.0, 0.0]] * 4)
    return make_samples(np.repeat(T, 2), np.tile([1, 2], 4), pos)


def tracks_of(entries: list[tuple[int, float]], offset: float = 0.0) -> Samples:
    rows = [(t, lab, x + offset) for t in T for lab, x in entries]
    return make_samples([r[0] for r in rows], [r[1] for r in rows],
                        [[r[2], 0.0, 0.0] for r in rows])


def test_id_siap_by_hand() -> None:
    truth = truth_two()
    # tracks 10 and 11 both on truth 1, track 12 on truth 2
    tracks = tracks_of([(10, 5.0), (11, -5.0), (12, 1005.0)])
    grid = time_grid(truth, tracks)
    assoc = associate(truth, tracks, 100.0, k=1, m=1, grid=grid)
    truth_id = np.where(truth.label == 1, 0xABC, 0x123)
    # truth 1: track 10 says 0xABC, track 11 nothing -> ambiguous;
    # truth 2: track 12 says 0x999 -> incorrect
    track_id = np.select([tracks.label == 10, tracks.label == 11], [0xABC, -1], 0x999)
    r = id_siap(assoc, grid, truth_id, track_id)
    assert r.counts == {"JT": 8, "JU": 0, "JC": 0, "JI": 4, "JA": 4}
    assert r.scores == {"id_completeness": 1.0, "id_correctness": 0.0,
                        "id_ambiguity": 0.5, "id_incorrectness": 0.5}
    # now track 11 also says 0xABC and track 12 nothing: truth 1 correct, truth 2 unknown
    track_id = np.select([tracks.label == 12], [-1], 0xABC)
    r = id_siap(assoc, grid, truth_id, track_id)
    assert r.scores == {"id_completeness": 0.5, "id_correctness": 0.5,
                        "id_ambiguity": 0.0, "id_incorrectness": 0.0}
    # nothing held: documented zeros
    none = tracks.take(np.zeros(0, np.int64))
    g = time_grid(truth, none)
    r = id_siap(associate(truth, none, 100.0, grid=g), g, truth_id, np.zeros(0, np.int64))
    assert r.scores["id_completeness"] == 0.0 and r.counts["JT"] == 0


def test_standard_identity_codes() -> None:
    codes = [IDENTITY_CODES.index(i) for i in Identity]
    out = standard_identity_codes([*codes, 200])
    assert out[IDENTITY_CODES.index(Identity.PENDING)] == -1
    assert out[IDENTITY_CODES.index(Identity.UNKNOWN)] == -1
    assert out[IDENTITY_CODES.index(Identity.SUSPECT)] == IDENTITY_CODES.index(Identity.SUSPECT)
    assert out[-1] == -1


def test_commonality_by_hand() -> None:
    truth = truth_two()
    # node A: STN 1 on truth 1, STN 2 on truth 2; node B: STN 1 on truth 1 (3 m off),
    # STN 7 on truth 2; node C holds only truth 1, as STN 1
    pics = []
    for entries, off in (([(1, 0.0), (2, 1000.0)], 0.0), ([(1, 3.0), (7, 1003.0)], 0.0),
                         ([(1, -4.0)], 0.0)):
        tr = tracks_of(entries, off)
        g = time_grid(truth, tr)
        ident = np.where(tr.label == 7, 5, 2)  # node B calls truth 2 something else
        pics.append((tr, associate(truth, tr, 100.0, k=1, m=1, grid=g), ident))
    c = commonality(len(truth), pics)
    # shared samples: truth 1 (3 nodes) and truth 2 (2 nodes) at 4 times = 8
    assert c["shared_samples"] == 8.0 and c["held_samples"] == 8.0
    assert c["stn_commonality"] == 0.5  # truth 2 has STN 2 on A and 7 on B
    assert c["identity_commonality"] == 0.5
    assert c["max_position_disagreement_m"] == pytest.approx(7.0)  # B +3 vs C -4
    assert c["mean_position_disagreement_m"] == pytest.approx((7.0 + 3.0) / 2)
    assert c["holding_commonality"] == 0.5  # only truth 1 is held by all three
    empty = commonality(len(truth), [])
    assert empty["shared_samples"] == 0.0 and empty["stn_commonality"] == 0.0
