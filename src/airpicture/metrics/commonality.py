"""Commonality: is the multi-node picture the same on every node?

Every node's system picture is associated with the same truth (SIAP association, same
parameters); a truth sample is *held* by a node when one of the node's system tracks holds it.
Over the truth samples inside coverage:

- **shared samples**: truth samples held by two or more nodes;
- **STN commonality**: share of shared samples where every holding track, on every holding
  node, carries the same system track number (STN);
- **identity commonality**: share of shared samples where every holding track carries the same
  standard identity;
- **position disagreement**: the largest distance (m) between the positions that two holding
  tracks give for the object, per shared sample; reported as its maximum, mean and 95th
  percentile over the shared samples;
- **holding commonality**: share of the samples held by at least one node that are held by
  every node.

With no shared sample, the three shares over shared samples are 0 and the disagreements 0 (the
documented empty values; ``shared_samples`` says so). Withheld releases make pictures differ
by design: holding commonality then measures exactly that difference.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import ArrayLike

from airpicture.metrics.association import Association
from airpicture.metrics.samples import BoolArray, FloatArray, IntArray, Samples, group_order


@numba.njit(cache=True)
def _per_truth(
    order: IntArray, starts: IntArray, node: IntArray, stn: IntArray, ident: IntArray,
    pos: FloatArray,
) -> tuple[IntArray, BoolArray, BoolArray, FloatArray]:  # pragma: no cover - numba
    n_g = starts.shape[0] - 1
    n_nodes = np.zeros(n_g, np.int64)
    same_stn = np.ones(n_g, np.bool_)
    same_id = np.ones(n_g, np.bool_)
    spread = np.zeros(n_g)
    for g in range(n_g):
        a, b = starts[g], starts[g + 1]
        for u in range(a, b):
            i = order[u]
            first_of_node = True
            for w in range(a, u):
                if node[order[w]] == node[i]:
                    first_of_node = False
            if first_of_node:
                n_nodes[g] += 1
            if stn[i] != stn[order[a]]:
                same_stn[g] = False
            if ident[i] != ident[order[a]]:
                same_id[g] = False
            for w in range(a, u):
                j = order[w]
                d = np.sqrt((pos[i, 0] - pos[j, 0]) ** 2 + (pos[i, 1] - pos[j, 1]) ** 2
                            + (pos[i, 2] - pos[j, 2]) ** 2)
                if d > spread[g]:
                    spread[g] = d
    return n_nodes, same_stn, same_id, spread


def commonality(
    n_truth: int,
    pictures: list[tuple[Samples, Association, ArrayLike]],
    *,
    covered: BoolArray | None = None,
) -> dict[str, float]:
    """Commonality measures (module docstring) of several nodes' pictures.

    Parameters
    ----------
    n_truth : int
        Number of truth rows ``N`` all associations refer to.
    pictures : list of (Samples, Association, array_like)
        Per node: its system tracks (label = STN), their association with the truth, and the
        standard identity code of each track row ``(M_n,)``.
    covered : ndarray, shape (N,), bool, optional
        Truth rows inside coverage (default: all).

    Returns
    -------
    dict
        ``nodes``, ``shared_samples``, ``held_samples``, ``stn_commonality``,
        ``identity_commonality``, ``max_position_disagreement_m``,
        ``mean_position_disagreement_m``, ``p95_position_disagreement_m``,
        ``holding_commonality``.
    """
    cov = np.ones(n_truth, bool) if covered is None else np.asarray(covered, bool)
    rows, nodes, stns, idents, poss = [], [], [], [], []
    for k, (tracks, assoc, ident) in enumerate(pictures):
        ident_arr = np.asarray(ident).astype(np.int64)
        if ident_arr.shape != (len(tracks),):
            raise ValueError(f"picture {k}: identity must have shape ({len(tracks)},)")
        pk, pt = assoc.pair_track_row, assoc.pair_truth_row
        if len(pt) and pt.max() >= n_truth:
            raise ValueError(f"picture {k}: association refers to truth row {pt.max()}")
        rows.append(pt)
        nodes.append(np.full(len(pt), k, np.int64))
        stns.append(tracks.label[pk])
        idents.append(ident_arr[pk])
        poss.append(tracks.position[pk])
    n_nodes_total = len(pictures)
    if not rows:
        rows, nodes, stns, idents = ([np.zeros(0, np.int64)] for _ in range(4))
        poss = [np.zeros((0, 3))]
    truth_row = np.concatenate(rows)
    order, starts = group_order(truth_row, n_truth)
    n_nodes, same_stn, same_id, spread = _per_truth(
        order, starts, np.concatenate(nodes), np.concatenate(stns), np.concatenate(idents),
        np.ascontiguousarray(np.concatenate(poss)),
    )
    shared = (n_nodes >= 2) & cov
    held = (n_nodes >= 1) & cov
    n_shared = int(np.count_nonzero(shared))
    n_held = int(np.count_nonzero(held))
    sp = spread[shared]
    return {
        "nodes": float(n_nodes_total),
        "shared_samples": float(n_shared),
        "held_samples": float(n_held),
        "stn_commonality": float(np.mean(same_stn[shared])) if n_shared else 0.0,
        "identity_commonality": float(np.mean(same_id[shared])) if n_shared else 0.0,
        "max_position_disagreement_m": float(sp.max()) if n_shared else 0.0,
        "mean_position_disagreement_m": float(sp.mean()) if n_shared else 0.0,
        "p95_position_disagreement_m": float(np.percentile(sp, 95)) if n_shared else 0.0,
        "holding_commonality": (
            float(np.count_nonzero(held & (n_nodes == n_nodes_total)) / n_held) if n_held else 0.0
        ),
    }
