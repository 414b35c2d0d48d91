"""Vectorised numpy kernels of the rules replay (see :mod:`loyalty.simulator`).

No function here loops over rows or members in Python. Arrays are sorted by
member, then time ("member-major"); a member's rows form one contiguous
segment. Times are int64 nanoseconds since the epoch. Points are int64 when
every input is a whole number (the usual case: earned points are floored),
which keeps every sum exact; float64 otherwise.

The two non-trivial kernels:

* :func:`clamped_running_sum` -- a balance where redemptions are capped by
  the balance and resets zero it, ``b_k = max(0, b_{k-1} + x_k)``. Its closed
  form (the Lindley / Skorokhod reflection) is
  ``b_k = S_k - min(0, min_{j<=k} S_j)`` with ``S`` the running sum since the
  segment start, so a segmented cumulative minimum is all it takes.
* :func:`fifo_fixed_term` -- fixed-term lots consumed oldest first. In terms of
  ``R`` = points removed from the front of the lot queue (redeemed or
  expired), a redemption is ``R <- min(R + ask, earned so far)`` and the
  expiry of every lot with deadline before ``t`` is ``R <- max(R, F(t))``
  with ``F(t)`` the points earned in those lots (lots expire in earn order,
  so expiries only ever push ``R`` up to a known cumulative). With
  ``G = R - cumulative asks`` each redemption is a pure clamp of ``G``; clamps
  compose into clamps, so a segmented parallel-prefix scan over the
  redemptions (``log2`` of the most redemptions any member has passes)
  gives every ``R`` at once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from loyalty.periods import month_index  # noqa: F401  (K.month_index: the replay's calendar)

DAY_NS = 86_400 * 1_000_000_000
#: Largest combined (member, time) key we allow; above it the caller switches
#: to rank-encoded times.
MAX_KEY = 2**62


# ---------------------------------------------------------------------------
# calendar
# ---------------------------------------------------------------------------
def _shifted_day_table(d0: int, n_days: int, months: int) -> np.ndarray:
    """Day number of ``day + months`` calendar months for days ``d0 .. d0 + n_days - 1``.

    The day of month is clipped to the target month's length (Jan 31 + 1 month =
    Feb 28/29), exactly like ``pd.DateOffset``.
    """
    days = np.arange(d0, d0 + n_days).astype("datetime64[D]")
    month = days.astype("datetime64[M]")
    dom = (days - month.astype("datetime64[D]")).astype(np.int64)
    target = month + months
    start = target.astype("datetime64[D]").astype(np.int64)
    length = (target + 1).astype("datetime64[D]").astype(np.int64) - start
    return start + np.minimum(dom, length - 1)


def add_months(t_ns: np.ndarray, months: int) -> np.ndarray:
    """``t + pd.DateOffset(months=months)`` on int64 ns times.

    Time of day is kept; the day of month is clipped like pandas. A lookup table
    over the days spanned keeps it one gather per element.
    """
    t_ns = np.asarray(t_ns, dtype=np.int64)
    if t_ns.size == 0:
        return t_ns.copy()
    day_rel, d0, tod = split_days(t_ns)
    return deadlines_from_days(day_rel, d0, tod, months, 0)


def deadlines(t_ns: np.ndarray, months: int, grace_days: int) -> np.ndarray:
    """Expiry deadline ``t + months calendar months + grace_days days`` (ns)."""
    return add_months(t_ns, months) + np.int64(grace_days) * DAY_NS


def split_days(t_ns: np.ndarray) -> tuple[np.ndarray, int, np.ndarray]:
    """(day - first day, first day, time of day in ns): the rules-independent half of :func:`deadlines`."""
    day = t_ns // DAY_NS
    d0 = int(day.min()) if day.size else 0
    return day - d0, d0, t_ns - day * DAY_NS


def deadlines_from_days(day_rel: np.ndarray, d0: int, tod: np.ndarray, months: int, grace_days: int) -> np.ndarray:
    """:func:`deadlines` from :func:`split_days` output: one table lookup per element."""
    if day_rel.size == 0:
        return tod.copy()
    lut = (_shifted_day_table(d0, int(day_rel.max()) + 1, months) + grace_days) * DAY_NS
    return lut[day_rel] + tod


# ---------------------------------------------------------------------------
# segment helpers
# ---------------------------------------------------------------------------
def segment_flags(member: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first, last) boolean flags of each member segment in a member-sorted array."""
    n = len(member)
    first = np.ones(n, dtype=bool)
    last = np.ones(n, dtype=bool)
    if n > 1:
        diff = member[1:] != member[:-1]
        first[1:] = diff
        last[:-1] = diff
    return first, last


def segment_start_index(start: np.ndarray) -> np.ndarray:
    """Index of the segment start each position belongs to."""
    idx = np.where(start, np.arange(len(start)), 0)
    return np.maximum.accumulate(idx) if len(idx) else idx


def segmented_cumsum(x: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Inclusive running sum of ``x`` restarting at every ``start``."""
    cs = np.cumsum(x)
    base = (cs - x)[segment_start_index(start)]
    return cs - base


def segmented_cummin(v: np.ndarray, start: np.ndarray, seg: np.ndarray | None = None) -> np.ndarray:
    """Running minimum of ``v`` restarting at every ``start``.

    Integers: each segment is shifted below all earlier ones by more than the
    value range, so one global ``minimum.accumulate`` never carries across a
    segment start (exact). Floats (or a range too wide to shift): pandas'
    group-wise cummin.
    """
    if v.size == 0:
        return v.copy()
    if seg is None:
        seg = np.cumsum(start) - 1
    if v.dtype.kind == "i":
        width = int(v.max()) - int(v.min()) + 1
        if (int(seg[-1]) + 1) * width < MAX_KEY:
            off = seg.astype(np.int64) * width
            return np.minimum.accumulate(v - off) + off
    return pd.Series(v).groupby(seg, sort=False).cummin().to_numpy()


def clamped_running_sum(x: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Balance after each step of ``b_k = max(0, b_{k-1} + x_k)``, ``b = 0`` before a ``start``.

    Earning is ``x > 0``; a redemption asking ``a`` is ``x = -a`` and is granted
    ``min(a, b)``. Closed form: ``b_k = S_k - min(0, min_{j<=k} S_j)`` with
    ``S`` the running sum of ``x`` since the segment start. With the global
    running sum ``G`` and ``B`` its value just before the segment,
    ``S = G - B``, so ``b_k = G_k - min(B, min_{seg start<=j<=k} G_j)``.
    """
    if x.size == 0:
        return x.copy()
    g = np.cumsum(x)
    seg = np.cumsum(start) - 1
    first = np.flatnonzero(start)
    before = (g[first] - x[first])[seg]
    return g - np.minimum(before, segmented_cummin(g, start, seg))


def segmented_clamp_scan(lo: np.ndarray, hi: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Compose ``x -> clip(x, lo_j, hi_j)`` over each segment, for every prefix.

    Returns ``(L, H)`` such that applying the clamps of the segment's elements
    ``start..i`` in order to ``x`` equals ``clip(x, L[i], H[i])``. Uses
    ``clip(clip(x, a, b), l, h) = clip(x, clip(a, l, h), clip(b, l, h))`` in a
    Hillis-Steele scan: ``ceil(log2(longest segment))`` vectorised passes.
    Requires ``lo <= hi``.
    """
    lo = lo.copy()
    hi = hi.copy()
    n = len(lo)
    if n == 0:
        return lo, hi
    pos = np.arange(n)
    depth = pos - segment_start_index(start)  # elements before i in its segment
    d = 1
    idx = np.flatnonzero(depth >= d)
    while idx.size:
        j = idx - d
        lp, hp, li, hi_i = lo[j], hi[j], lo[idx], hi[idx]
        lo[idx] = np.minimum(np.maximum(lp, li), hi_i)
        hi[idx] = np.minimum(np.maximum(hp, li), hi_i)
        d *= 2
        idx = idx[depth[idx] >= d]
    return lo, hi


# ---------------------------------------------------------------------------
# expiry kernels
# ---------------------------------------------------------------------------
def inactivity_balances(
    member: np.ndarray,
    time: np.ndarray,
    x: np.ndarray,
    is_redeem: np.ndarray,
    deadline: np.ndarray,
    end: int,
    n_members: int,
) -> dict[str, np.ndarray]:
    """Replay activity events under whole-balance inactivity expiry.

    Parameters
    ----------
    member, time : ndarray
        Member code and time (ns) of each activity event, member-major sorted,
        earning before redemption at equal times.
    x : ndarray
        Points earned (>= 0) or minus the points asked by a redemption.
    is_redeem : ndarray of bool
    deadline : ndarray
        Deadline (ns) set by each event; ``int64 max`` for no expiry.
    end : int
        Horizon (ns): deadlines at or before it expire.
    n_members : int

    Returns
    -------
    dict
        ``red_index`` (redemption events) and their ``granted`` points;
        ``exp_index`` (events after which the balance expires, at their
        deadline: the member's next activity comes later, or it is the last
        event and the deadline is within the horizon) and ``exp_points``;
        ``outstanding`` per member (balance at the horizon).
    """
    n = len(x)
    first, last = segment_flags(member)
    gap = np.zeros(n, dtype=bool)
    if n > 1:
        gap[1:] = ~first[1:] & (time[1:] > deadline[:-1])
    start = first | gap
    bal = clamped_running_sum(x, start)
    ri = np.flatnonzero(is_redeem)
    prev = np.where(start[ri], 0, bal[np.maximum(ri - 1, 0)])
    li = np.flatnonzero(last)
    due = deadline[li] <= end
    ei = np.concatenate([np.flatnonzero(gap) - 1, li[due]])
    outstanding = np.zeros(n_members, dtype=bal.dtype)
    outstanding[member[li[~due]]] = bal[li[~due]]
    return {
        "red_index": ri,
        "granted": prev - bal[ri],
        "exp_index": ei,
        "exp_points": bal[ei],
        "outstanding": outstanding,
    }


def fifo_fixed_term(
    lot_member: np.ndarray,
    lot_dkey: np.ndarray,
    earned: np.ndarray,
    red_member: np.ndarray,
    red_key: np.ndarray,
    red_lots_before: np.ndarray,
    ask: np.ndarray,
    end_key: np.ndarray,
    n_members: int,
) -> dict[str, np.ndarray]:
    """Replay fixed-term lots consumed first-in first-out.

    Keys are ``member * span + time ordinal`` (globally sorted), so one
    ``searchsorted`` answers a per-member question for all rows at once.

    Parameters
    ----------
    lot_member, lot_dkey : ndarray
        Member code and key of the deadline of each lot (member-major, earn
        order; deadlines are non-decreasing in earn time).
    earned : ndarray
        Points in each lot.
    red_member, red_key, ask : ndarray
        Redemptions (member-major, time order), key of their time and the
        points each asks.
    red_lots_before : ndarray
        Per redemption, the number of lots (all members) earned before it
        (earning first at equal times): its position in the merged stream.
    end_key : ndarray
        Per member, the key of the horizon ``end``.
    n_members : int

    Returns
    -------
    dict
        ``granted`` per redemption; per member ``issued``, ``redeemed``,
        ``expired``, ``outstanding``; per lot-deadline group ``group_first``
        (index of its first lot) and ``group_expired`` (points expiring at that
        deadline; only groups with deadline <= end are non-zero).
    """
    lot_off = np.zeros(n_members + 1, dtype=np.int64)
    lot_off[1:] = np.cumsum(np.bincount(lot_member, minlength=n_members))
    ce = np.zeros(len(earned) + 1, dtype=earned.dtype)
    ce[1:] = np.cumsum(earned)
    zero = earned.dtype.type(0)

    # Per redemption: earned so far (earn before redeem at equal time) and
    # earned in lots whose deadline is strictly before it (usable at the deadline).
    base = ce[lot_off[red_member]]
    e_now = ce[red_lots_before] - base
    f_now = ce[np.searchsorted(lot_dkey, red_key, side="left")] - base
    r_first, r_last = segment_flags(red_member)
    ask = ask.astype(np.result_type(ask, earned))
    cum_ask = segmented_cumsum(ask, r_first)
    lo = f_now - (cum_ask - ask)
    hi = e_now - cum_ask
    lo = np.minimum(lo, hi)
    lc, hc = segmented_clamp_scan(lo, hi, r_first)
    removed = np.minimum(np.maximum(zero, lc), hc) + cum_ask  # R after each redemption
    r_prev = np.zeros_like(removed)
    r_prev[1:] = removed[:-1]
    r_prev[r_first] = 0
    granted = removed - np.maximum(r_prev, f_now)

    issued = ce[lot_off[1:]] - ce[lot_off[:-1]]
    r_last_m = np.zeros(n_members, dtype=removed.dtype)
    r_last_m[red_member[r_last]] = removed[r_last]
    f_end = ce[np.searchsorted(lot_dkey, end_key, side="right")] - ce[lot_off[:-1]]
    r_end = np.maximum(r_last_m, f_end)
    redeemed = sum_by(red_member, granted, n_members)

    # Expiry per (member, deadline) group, for the time series.
    l_first, _ = segment_flags(lot_member)
    gstart = l_first.copy()
    if len(gstart) > 1:
        gstart[1:] |= lot_dkey[1:] != lot_dkey[:-1]
    gfirst = np.flatnonzero(gstart)
    glast = np.r_[gfirst[1:], len(earned)] - 1
    gm = lot_member[gfirst]
    gbase = ce[lot_off[gm]]
    e_before = ce[gfirst] - gbase
    e_group = ce[glast + 1] - gbase
    due = lot_dkey[gfirst] <= end_key[gm]
    # Removed so far (R) at each due deadline: from the member's last redemption
    # at or before it; members who never redeem lose whole lots.
    r_at = np.zeros(len(gfirst), dtype=removed.dtype)
    redeems = np.zeros(n_members, dtype=bool)
    redeems[red_member] = True
    q = np.flatnonzero(due & redeems[gm])
    j = np.searchsorted(red_key, lot_dkey[gfirst[q]], side="right") - 1
    ok = (j >= 0) & (red_member[np.maximum(j, 0)] == gm[q]) if len(removed) else np.zeros(len(q), dtype=bool)
    r_at[q[ok]] = removed[j[ok]]
    gexp = np.where(due, np.maximum(e_group - np.maximum(r_at, e_before), 0), 0)
    return {
        "granted": granted,
        "issued": issued,
        "redeemed": redeemed,
        "expired": r_end - redeemed,
        "outstanding": issued - r_end,
        "group_first": gfirst,
        "group_expired": gexp,
    }


def sum_by(codes: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Per-code sum of ``values`` (length ``n``), keeping int64 for integer input.

    ``bincount`` sums in float64, exact for whole numbers below 2**53 points.
    """
    out = np.bincount(codes, weights=values, minlength=n)
    return np.rint(out).astype(np.int64) if values.dtype.kind == "i" else out
