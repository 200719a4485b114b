"""One fusion epoch: partner reports in, the system picture out. A pure function.

:func:`fuse_epoch` takes the previous :class:`~airpicture.fusion.state.PictureState`, the
partner reports of the epoch (a :class:`~airpicture.track_table.TrackTable`, one row per
report, ``source`` = nation, ``track`` = the nation's local track id) and the epoch's end
time, and returns the new state and the :class:`~airpicture.fusion.state.EpochResult`.

1. **Newest report per partner track.** Reports join the remembered ones; per (nation,
   track) the newest by data time is kept (ties: the one already held, then the smallest
   position), so the order of reports inside an epoch does not matter.
2. **Continuity.** A partner track keeps its system track number while it is reported,
   unless it has moved out of its system track's (loose) gate or its ICAO address conflicts.
   A remembered binding to a number no longer in the picture brings that number back.
3. **Association** of unbound partner tracks, nation by nation in name order: identity
   first, then chi-square gating and optimal assignment against the system tracks that have
   no *current* track of that nation (one in the nation's latest report, ``current_s``; a
   track the nation stopped reporting leaves room for its successor on the same object)
   (:mod:`~airpicture.fusion.association`). What is left founds new system tracks
   (:mod:`~airpicture.fusion.numbering`).
4. **Fusion.** Every active partner track (updated within ``max_age_s``) is predicted to the
   epoch time and the tracks of each system track are fused by covariance intersection in
   nation order (:mod:`~airpicture.fusion.covariance_intersection`). System tracks with no
   active contributor coast for ``coast_s`` and then leave the picture.

Identity is the most severe any contributor reports (pending < unknown < neutral <
assumed friend < friend < suspect < hostile); ICAO address, Mode 3/A and callsign come from
the first contributor (in nation order) that has one; quality is the best.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from airpicture.fusion.association import (
    assign_gated,
    chi2_gate,
    mahalanobis3_pairs,
    match_identity,
)
from airpicture.fusion.covariance_intersection import ci_fuse_groups
from airpicture.fusion.merge import group_starts, merge_reports
from airpicture.fusion.motion import predict_cv
from airpicture.fusion.numbering import assign_stns, stn_candidates
from airpicture.fusion.state import EpochResult, FusionConfig, PictureState, picture_hash
from airpicture.messages import TRACK_ID_LIMIT, TrackStatus
from airpicture.track_table import STATUS_CODES, TrackTable

__all__ = ["TRACK_ID_LIMIT", "fuse_epoch"]


_CONFIRMED = STATUS_CODES.index(TrackStatus.CONFIRMED)
_COASTING = STATUS_CODES.index(TrackStatus.COASTING)
# Identity codes (declaration order of messages.Identity) -> severity rank, and back.
_RANK_OF_CODE = np.array([0, 1, 3, 4, 2, 5, 6], np.int64)
_CODE_OF_RANK = np.argsort(_RANK_OF_CODE).astype(np.uint8)

Index = NDArray[np.int64]


def _first_valid(valid: NDArray[np.bool_], starts: Index) -> Index:
    """Per group, the index of the first valid row (or -1)."""
    big = np.iinfo(np.int64).max
    idx = np.where(valid, np.arange(len(valid)), big)
    first = np.minimum.reduceat(idx, starts) if starts.size else np.zeros(0, np.int64)
    return np.where(first == big, -1, first)


def fuse_epoch(
    state: PictureState, reports: TrackTable, time: float, config: FusionConfig
) -> tuple[PictureState, EpochResult]:
    """Close the epoch ending at ``time`` (see the module docstring); inputs are not changed.

    ``reports`` must be valid (finite, symmetric positive definite covariances, track ids in
    ``[0, TRACK_ID_LIMIT)``, times not after ``time``): :class:`~airpicture.fusion.Picture`
    checks them at the boundary.
    """
    cfg, t = config, float(time)
    counts: dict[str, int] = {"reports": len(reports)}
    gate = chi2_gate(cfg.gate_probability)
    break_gate = chi2_gate(cfg.break_probability)
    merged = merge_reports(
        state.nations,
        state.contributions,
        state.contribution_key,
        state.contribution_stn,
        reports,
        t - cfg.memory_s,
    )
    contrib, stn, key, nations = merged.table, merged.stn.copy(), merged.key, merged.nations
    code = key >> 40
    counts["stale"], counts["forgotten"] = merged.stale, merged.forgotten

    # Active partner tracks, predicted to the epoch time.
    a = np.flatnonzero(contrib.time >= t - cfg.max_age_s)
    xr, Pr = predict_cv(contrib.state, contrib.covariance, t - contrib.time[a], cfg.q, a)
    stn_a, code_a, icao_a = stn[a], code[a], contrib.icao[a].astype(np.int64)
    newest = np.full(len(nations), -np.inf)
    np.maximum.at(newest, code_a, contrib.time[a])
    current = contrib.time[a] >= newest[code_a] - cfg.current_s

    # Previous system tracks, predicted.
    prev = state.systems
    xs, Ps = predict_cv(prev.state, prev.covariance, t - prev.time, cfg.q)
    live = prev.track
    pos = np.clip(np.searchsorted(live, stn_a), 0, max(len(live) - 1, 0))
    is_live = (stn_a > 0) & (live[pos] == stn_a) if len(live) else np.zeros(len(a), bool)
    li, lp = np.flatnonzero(is_live), pos[is_live]
    d2 = mahalanobis3_pairs(xr, Pr, li, xs, Ps, lp)
    conflict = (icao_a[li] >= 0) & (prev.icao[lp] >= 0) & (icao_a[li] != prev.icao[lp])
    broken = li[(d2 > break_gate) | conflict]
    stn_a[broken] = 0
    counts["broken"] = len(broken)

    # Candidates: live system tracks, plus numbers brought back by remembered bindings.
    revived = np.flatnonzero((stn_a > 0) & ~is_live)
    rev_stn, rev_first = np.unique(stn_a[revived], return_index=True)
    rev = revived[rev_first]
    counts["revived"] = len(rev_stn)
    cand_stn = np.concatenate([live, rev_stn])
    cand_x = np.concatenate([xs[:, :3], xr[rev, :3]])
    cand_P = np.concatenate([Ps[:, :3, :3], Pr[rev, :3, :3]])
    cand_icao = np.concatenate([prev.icao, icao_a[rev]]).astype(np.int64)
    counts["new"] = counts["by_identity"] = counts["by_gate"] = 0

    for c in np.unique(code_a[stn_a == 0]):
        mine = code_a == c
        r = np.flatnonzero(mine & (stn_a == 0))
        allowed = np.flatnonzero(~np.isin(cand_stn, stn_a[mine & (stn_a > 0) & current]))
        # Identity first, inside the loose gate.
        ri, si = match_identity(icao_a[r], cand_icao[allowed])
        ok = mahalanobis3_pairs(xr, Pr, r[ri], cand_x, cand_P, allowed[si]) <= break_gate
        ri, si = ri[ok], si[ok]
        stn_a[r[ri]] = cand_stn[allowed[si]]
        counts["by_identity"] += len(ri)
        allowed = np.delete(allowed, si)
        r = np.delete(r, ri)
        # Gated optimal assignment.
        ri, si, _ = assign_gated(
            xr[r, :3],
            Pr[r, :3, :3],
            cand_x[allowed],
            cand_P[allowed],
            gate,
            cfg.neighbours,
            cfg.max_radius_m,
            icao_a[r],
            cand_icao[allowed],
        )
        stn_a[r[ri]] = cand_stn[allowed[si]]
        counts["by_gate"] += len(ri)
        r = np.delete(r, ri)
        # The rest found new system tracks.
        if r.size:
            wanted = stn_candidates(contrib.source[a[r]], contrib.track[a[r]], cfg.stn_modulus)
            in_use = np.concatenate([cand_stn, stn[stn > 0], stn_a[stn_a > 0]])
            new = assign_stns(wanted, in_use, cfg.stn_modulus)
            stn_a[r] = new
            cand_stn = np.concatenate([cand_stn, new])
            cand_x = np.concatenate([cand_x, xr[r, :3]])
            cand_P = np.concatenate([cand_P, Pr[r, :3, :3]])
            cand_icao = np.concatenate([cand_icao, icao_a[r]])
            counts["new"] += len(r)
    stn[a] = stn_a

    # Fuse the active partner tracks of each system track, in nation order.
    order = np.lexsort((key[a], stn_a))
    g_stn = stn_a[order]
    starts = group_starts(g_stn)
    xf, Pf, ok = ci_fuse_groups(xr, Pr, np.r_[starts, len(order)], order)
    counts["not_fused"] = int(np.count_nonzero(~ok))
    rows = a[order]
    fused_stn = g_stn[starts]
    last_seen = np.maximum.reduceat(contrib.time[rows], starts) if starts.size else np.zeros(0)
    fused_cols = _attributes(contrib, rows, starts)

    # Coast the system tracks nobody reports any more, for a while.
    gone = ~np.isin(live, fused_stn)
    coast = np.flatnonzero(gone & (state.last_seen >= t - cfg.coast_s))
    counts["coasting"] = len(coast)
    counts["dropped"] = int(np.count_nonzero(gone)) - len(coast)

    all_stn = np.concatenate([fused_stn, live[coast]])
    by_stn = np.argsort(all_stn, kind="stable")
    n = len(all_stn)
    status = np.r_[np.full(len(fused_stn), _CONFIRMED), np.full(len(coast), _COASTING)]
    picture = TrackTable(
        time=np.full(n, t),
        track=all_stn[by_stn],
        source=np.full(n, b"picture", "S16"),
        state=np.concatenate([xf, xs[coast]])[by_stn],
        covariance=np.concatenate([Pf, Ps[coast]])[by_stn],
        status=status.astype(np.uint8)[by_stn],
        quality=np.concatenate([fused_cols["quality"], prev.quality[coast]])[by_stn],
        identity=np.concatenate([fused_cols["identity"], prev.identity[coast]])[by_stn],
        icao=np.concatenate([fused_cols["icao"], prev.icao[coast]])[by_stn],
        mode3a=np.concatenate([fused_cols["mode3a"], prev.mode3a[coast]])[by_stn],
        callsign=np.concatenate([fused_cols["callsign"], prev.callsign[coast]])[by_stn],
    )
    seen = np.concatenate([last_seen, state.last_seen[coast]])[by_stn]
    c_stn, c_nation, c_track = g_stn, nations[code[rows]], contrib.track[rows]
    digest = picture_hash(t, picture, c_stn, c_nation, c_track)
    new_state = PictureState(
        time=t,
        nations=nations,
        contributions=contrib,
        contribution_key=key,
        contribution_stn=stn,
        systems=picture,
        last_seen=seen,
    )
    result = EpochResult(
        time=t,
        picture=picture,
        contributor_stn=c_stn,
        contributor_nation=c_nation,
        contributor_track=c_track,
        hash=digest,
        counts=counts,
    )
    return new_state, result


def _attributes(contrib: TrackTable, rows: Index, starts: Index) -> dict[str, NDArray[np.generic]]:
    """Identity, quality and identifiers of each system track from its contributors."""
    if starts.size == 0:
        empty = TrackTable.empty()
        return {k: getattr(empty, k) for k in ("quality", "identity", "icao", "mode3a", "callsign")}
    out: dict[str, NDArray[np.generic]] = {
        "quality": np.maximum.reduceat(contrib.quality[rows], starts),
        "identity": _CODE_OF_RANK[
            np.maximum.reduceat(_RANK_OF_CODE[contrib.identity[rows]], starts)
        ],
    }
    for name, missing in (("icao", -1), ("mode3a", -1), ("callsign", b"")):
        col = getattr(contrib, name)[rows]
        valid = col != missing
        first = _first_valid(valid, starts)
        values = col[np.maximum(first, 0)]
        out[name] = np.where(first >= 0, values, np.asarray(missing, dtype=col.dtype))
    return out
