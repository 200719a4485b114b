"""The picture depends on the log's content, not on the order records arrive in within the
fusion lateness: the disorder a delayed or reordered link causes (and a fault-free run's
different interleaving of partners) must give the same epochs and hashes. Truth: the same
records fused in time order."""

from __future__ import annotations

import numpy as np

from airpicture.fusion import FusionConfig, Picture

from ..fusion.synth import NATIONS, T0, coalition, record


def test_any_arrival_order_within_the_lateness_gives_the_same_picture() -> None:
    c = coalition(30, seed=3)
    rng = np.random.default_rng(9)
    # Nation i reports from second i on (its first confirmed tracks come later).
    records = [record(c, i, T0 + s + 0.1 + 0.2 * i, rng)
               for s in range(12) for i in range(len(NATIONS)) if s >= i]

    def fuse(order: list[int]) -> list[tuple[float, str]]:
        picture = Picture(FusionConfig(lateness_s=4.0))
        out = [r for k in order for r in picture.ingest(records[k])]
        assert picture.late == 0
        return [(r.time, r.hash) for r in out + picture.flush()]

    in_time = fuse(list(range(len(records))))
    assert len(in_time) == 12
    # Each nation's records held back (a slow link) up to 3.5 s: partners' go first.
    delays = [np.array([3.5, 0.0, 0.0, 0.0]),
              *(np.random.default_rng(seed).uniform(0.0, 3.5, len(NATIONS)) for seed in range(4))]
    for case, delay in enumerate(delays):
        arrival = [float(r.time.min()) + delay[NATIONS.index(bytes(r.source[0]))]
                   for r in records]
        assert fuse(list(np.argsort(arrival, kind="stable"))) == in_time, case
