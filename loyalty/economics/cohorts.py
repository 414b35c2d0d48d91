"""Earn-cohort development of a points ledger: every redemption and expiry attributed, first in
first out (FIFO), to the earn month of the points it used.

Maths
-----
Per member, number the points in earn order. Lot ``j`` (an earn, or a positive adjustment) holds
the positions ``[E_{j-1}, E_j)`` with ``E_j = e_1 + ... + e_j`` (``e`` the lots' points, in earn
order); outflow ``k`` (a redemption, an expiry or a negative adjustment, in time order) removes the
positions ``[O_{k-1}, O_k)`` with ``O_k = o_1 + ... + o_k``. FIFO means an outflow uses the oldest
open points, and the positions before ``O_{k-1}`` have been removed by the earlier outflows, so
outflow ``k`` removes exactly ``[O_{k-1}, O_k)``: attribution is the overlap of two partitions of
one line. The lots overlapping outflow ``k`` are the run from the first lot with ``E_j > O_{k-1}``
to the first with ``E_j >= O_k`` (two binary searches of the sorted ``E``), and each overlap is a
*piece* lying in one lot and one outflow; the part of a lot beyond ``O_total`` is still open, the
part of an outflow beyond ``E_total`` is *unmatched* (the member removed more points than were
ever earned). All members are laid end to end on one line (member ``m`` starts at
``B_m = sum over earlier members of max(E_total, O_total)``), so one ``searchsorted`` serves every
member: no Python loop over rows or members.

*Overdrafts*: when an outflow removes more than the balance, its excess is taken from the next
lots earned (the negative balance is repaid by later earning). Such a piece has its lot earned
after the outflow; it is counted at age 0 and reported (:class:`LedgerIssues`).

*Causality*: the attribution of the outflows up to a time ``t`` never depends on later events
(later lots only ever repay overdrafts), so the development at any ``as_of`` is the subset of
the pieces with lot and outflow at or before ``as_of`` (:func:`cohort_cells`): one attribution
serves every cutoff of a backtest and every month of an IFRS 15 schedule.

Units: points; times int64 ns; months are calendar months counted from 1970-01 (``month``) and the
age of a piece is ``outflow month - earn month`` (0 = the earn month itself).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from loyalty.periods import month_index
from loyalty.schema import Dataset, DatasetMemo

#: Piece kinds (outflow kinds); lots are earns or positive adjustments.
REDEEMED, EXPIRED, ADJUSTED = 0, 1, 2
KIND_NAMES: tuple[str, ...] = ("redeemed", "expired", "adjusted")


# ---------------------------------------------------------------------------
# calendar
# ---------------------------------------------------------------------------
def month_start(month: np.ndarray | int) -> pd.DatetimeIndex | pd.Timestamp:
    """First day of calendar month(s) counted from 1970-01."""
    if np.ndim(month) == 0:
        return pd.Timestamp(np.datetime64(int(month), "M"))
    return pd.DatetimeIndex(np.asarray(month, dtype=np.int64).astype("datetime64[M]").astype("datetime64[ns]"))


# ---------------------------------------------------------------------------
# input: points events and their quality
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class LedgerIssues:
    """What in a points ledger does not fit a plain earn-then-spend history (counts of rows).

    Attributes
    ----------
    rows : int
        Rows read.
    dropped : int
        Rows left out: unknown event, missing member, time or points, or an earn with negative points.
    adjustments : int
        ``adjust`` rows (positive ones are treated as lots earned that month, negative ones as
        points removed, first in first out, neither redeemed nor expired).
    negative_balance : int
        Rows after which the member's balance is below zero.
    before_first_earn : int
        Redemptions or expiries of a member before the member's first earn.
    overdraft_points : float
        Points removed beyond the balance and repaid by later earning (attributed at age 0).
    unmatched_points : float
        Points removed beyond everything the member ever earned (attributed to no cohort).
    gap_months : tuple of str
        Calendar months (``YYYY-MM``) inside the ledger's span with no row at all.
    """

    rows: int = 0
    dropped: int = 0
    adjustments: int = 0
    negative_balance: int = 0
    before_first_earn: int = 0
    overdraft_points: float = 0.0
    unmatched_points: float = 0.0
    gap_months: tuple[str, ...] = ()

    @property
    def affected_rows(self) -> int:
        """Rows concerned by any issue (an upper bound: a row may have several)."""
        return self.dropped + self.adjustments + self.negative_balance + self.before_first_earn

    def messages(self) -> list[str]:
        """One plain sentence per issue found, each with its count (empty when the ledger is clean)."""
        out = []
        if self.dropped:
            out.append(
                f"{self.dropped:,} of {self.rows:,} ledger rows were left out (unknown event, missing member, "
                "time or points, or an earn with negative points)."
            )
        if self.adjustments:
            out.append(
                f"{self.adjustments:,} adjustment rows: positive ones count as points earned that month, "
                "negative ones as points removed (oldest first), neither redeemed nor expired."
            )
        if self.negative_balance:
            out.append(
                f"{self.negative_balance:,} rows leave a member's balance below zero; the excess is taken from "
                f"the points earned next ({self.overdraft_points:,.0f} points, counted at age 0)."
            )
        if self.before_first_earn:
            out.append(
                f"{self.before_first_earn:,} redemptions or expiries come before the member's first earn "
                "(the ledger probably starts after the program did: the opening balances are missing)."
            )
        if self.unmatched_points:
            out.append(
                f"{self.unmatched_points:,.0f} points were removed beyond everything their members ever earned; "
                "they are attributed to no cohort."
            )
        if self.gap_months:
            shown = ", ".join(self.gap_months[:6]) + (" ..." if len(self.gap_months) > 6 else "")
            out.append(f"{len(self.gap_months)} months inside the ledger's span have no row at all: {shown}.")
        return out


@dataclass(frozen=True)
class PointsEvents:
    """Lots and outflows of a points history, each sorted by member then time (read-only arrays).

    ``lot_*``: earns and positive adjustments (points > 0). ``out_*``: redemptions, expiries and
    negative adjustments (``out_kind`` :data:`REDEEMED` / :data:`EXPIRED` / :data:`ADJUSTED`,
    points > 0 removed; redemptions before expiries at equal times). Members are codes
    ``0..n_members-1`` of ``ids`` (None when the caller keeps the ids).
    """

    lot_member: np.ndarray
    lot_time: np.ndarray
    lot_points: np.ndarray
    out_member: np.ndarray
    out_time: np.ndarray
    out_kind: np.ndarray
    out_points: np.ndarray
    n_members: int
    ids: pd.Index | None = None
    issues: LedgerIssues = field(default_factory=LedgerIssues)

    @property
    def last_time(self) -> int | None:
        """Time (ns) of the last event, None when there is none."""
        ts = [a.max() for a in (self.lot_time, self.out_time) if a.size]
        return int(max(ts)) if ts else None


_EVENTS = {"earn": 0, "redeem": 1, "expire": 2, "adjust": 3}


def events_from_ledger(ledger: pd.DataFrame) -> PointsEvents:
    """Points events of a canonical ledger (``member_id, timestamp, event, points``; points signed).

    Rows with an unknown event, a missing member, time or points, or an earn with negative points,
    are dropped and counted; adjustments, negative balances, outflows before a member's first
    earn and months with no row are counted too (:class:`LedgerIssues`).
    """
    ev = ledger["event"].astype("str").str.strip().str.lower().map(_EVENTS).to_numpy(dtype="float64", na_value=-1)
    pts = ledger["points"].to_numpy(dtype="float64", na_value=np.nan)
    ts = ledger["timestamp"].to_numpy(dtype="datetime64[ns]").view("i8")
    codes, uniques = pd.factorize(ledger["member_id"], use_na_sentinel=True)
    return events_from_arrays(codes, ts, ev, pts, pd.Index(uniques, dtype="str"))


def events_from_arrays(
    member: np.ndarray, time: np.ndarray, event: np.ndarray, points: np.ndarray, ids: pd.Index | int
) -> PointsEvents:
    """:func:`events_from_ledger` on arrays: member codes (-1 missing), int64 ns times (int64 min = NaT),
    event codes 0-3 (earn, redeem, expire, adjust; -1 unknown), signed points; ``ids`` (or their count)."""
    ev = np.asarray(event, dtype="float64")
    pts = np.asarray(points, dtype="float64")
    ts = np.asarray(time, dtype=np.int64)
    codes = np.asarray(member)
    n_rows = len(ev)
    valid = (ev >= 0) & np.isfinite(pts) & (ts != np.iinfo(np.int64).min) & (codes >= 0)
    valid &= ~((ev == 0) & (pts < 0))
    dropped = int(n_rows - np.count_nonzero(valid))
    ok = valid & (pts != 0)  # rows of 0 points move nothing
    ev, pts, ts, codes = ev[ok].astype(np.int8), pts[ok], ts[ok], codes[ok].astype(np.int64)
    # Signed points by event: earn +, redeem and expire -, adjust either sign.
    is_lot = (ev == 0) | ((ev == 3) & (pts > 0))
    kind = np.where(ev == 1, REDEEMED, np.where(ev == 2, EXPIRED, ADJUSTED)).astype(np.int8)
    mag = np.abs(pts)
    signed = np.where(is_lot, mag, -mag)
    n = ids if isinstance(ids, int) else len(ids)
    ids = None if isinstance(ids, int) else ids
    # Member-major, then time, lots before outflows, redemptions before expiries at equal times.
    order_key = np.where(is_lot, 0, 1 + kind).astype(np.int8)
    o = np.lexsort((order_key, ts, codes))
    codes, ts, signed, is_lot, kind, ev = codes[o], ts[o], signed[o], is_lot[o], kind[o], ev[o]
    mag = np.abs(signed)

    # Quality: running balance per member, outflows before the first earn, empty months.
    first = np.ones(len(codes), dtype=bool)
    first[1:] = codes[1:] != codes[:-1]
    cs = np.cumsum(signed)
    start_idx = np.maximum.accumulate(np.where(first, np.arange(len(codes)), 0)) if len(codes) else codes
    bal = cs - (cs - signed)[start_idx] if len(codes) else cs
    first_earn = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    lot_rows = np.flatnonzero(is_lot)
    if lot_rows.size:
        m_l = codes[lot_rows]
        firsts = lot_rows[np.r_[True, m_l[1:] != m_l[:-1]]]
        first_earn[codes[firsts]] = ts[firsts]
    outs = ~is_lot
    before = int(np.count_nonzero(outs & (kind != ADJUSTED) & (ts < first_earn[codes])))
    months = month_index(ts)
    gaps: tuple[str, ...] = ()
    if months.size:
        span = np.arange(months.min(), months.max() + 1)
        empty = span[~np.isin(span, months)]
        gaps = tuple(str(m) for m in empty.astype("datetime64[M]"))
    issues = LedgerIssues(
        rows=n_rows,
        dropped=dropped,
        adjustments=int(np.count_nonzero(ev == 3)),
        negative_balance=int(np.count_nonzero(bal < -1e-9)),
        before_first_earn=before,
        gap_months=gaps,
    )
    return PointsEvents(
        lot_member=codes[is_lot],
        lot_time=ts[is_lot],
        lot_points=mag[is_lot],
        out_member=codes[outs],
        out_time=ts[outs],
        out_kind=kind[outs],
        out_points=mag[outs],
        n_members=n,
        ids=ids,
        issues=issues,
    )


# ---------------------------------------------------------------------------
# FIFO attribution
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class FifoAttribution:
    """Every point of a history in one piece: which lot it came from and which outflow (if any) took it.

    ``piece_lot`` indexes the lots of :attr:`events` (-1: unmatched, no lot), ``piece_out`` its
    outflows (-1: still open at the end of the history); ``piece_points`` > 0.
    """

    events: PointsEvents
    piece_lot: np.ndarray
    piece_out: np.ndarray
    piece_points: np.ndarray

    @property
    def issues(self) -> LedgerIssues:
        """The events' issues, with the overdraft and unmatched points found by the attribution."""
        ev = self.events
        lot, out, p = self.piece_lot, self.piece_out, self.piece_points
        both = (lot >= 0) & (out >= 0)
        late = both.copy()
        late[both] = ev.lot_time[lot[both]] > ev.out_time[out[both]]
        unmatched = (lot < 0) & (out >= 0)
        return replace(
            ev.issues, overdraft_points=float(p[late].sum()), unmatched_points=float(p[unmatched].sum())
        )


def _segment_cumsum(member: np.ndarray, x: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(inclusive running sum of ``x`` restarting at each member, per-member total); member-sorted input."""
    cs = np.cumsum(x)
    tot = np.bincount(member, weights=x, minlength=n)
    base = np.concatenate([[0.0], np.cumsum(tot)[:-1]]) if n else np.zeros(0)
    return cs - base[member], tot


def _global_bounds(member: np.ndarray, end: np.ndarray, base: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Global (end, start) of each interval: a start is the previous interval's end (the same float) or
    the member's start, so pieces are compared exactly."""
    g_end = end + base[member]
    g_start = np.empty_like(g_end)
    if len(g_end):
        g_start[1:] = g_end[:-1]
        first = np.ones(len(member), dtype=bool)
        first[1:] = member[1:] != member[:-1]
        g_start[first] = base[member[first]]
    return g_end, g_start


def attribute_fifo(events: PointsEvents) -> FifoAttribution:
    """Cut every member's points into pieces (lot, outflow) first in first out (see the module docstring).

    Outflow ``k`` of member ``m`` takes the positions ``[O_{k-1}, min(O_k, E_total))`` of the member's
    line; the lots it overlaps are the run from the first lot whose end is past ``O_{k-1}`` to the first
    whose end reaches the outflow's end (two ``searchsorted`` of the outflows into the lots), and each
    overlap is one piece. A lot's part beyond ``O_total`` is open; an outflow's part beyond
    ``E_total`` is unmatched. Cost: two binary searches per outflow and ``O(pieces)`` vectorised work,
    no sort and no Python loop.
    """
    ev = events
    n = ev.n_members
    lot_end, e_tot = _segment_cumsum(ev.lot_member, ev.lot_points.astype(np.float64), n)
    out_end, o_tot = _segment_cumsum(ev.out_member, ev.out_points.astype(np.float64), n)
    width = np.maximum(e_tot, o_tot)
    base = np.concatenate([[0.0], np.cumsum(width)])  # member m's positions start at base[m]
    g_lot, g_lot_start = _global_bounds(ev.lot_member, lot_end, base)
    g_out, g_out_start = _global_bounds(ev.out_member, out_end, base)
    # Matched part of each outflow: [a, b) with b capped at the member's total earned.
    a = g_out_start
    b = np.minimum(g_out, base[ev.out_member] + e_tot[ev.out_member])
    k = np.flatnonzero(b > a)
    j0 = np.searchsorted(g_lot, a[k], side="right")
    j1 = np.searchsorted(g_lot, b[k], side="left")
    cnt = j1 - j0 + 1
    off = np.concatenate([[0], np.cumsum(cnt)])
    p_out = np.repeat(k, cnt)
    p_lot = np.repeat(j0, cnt) + (np.arange(off[-1]) - np.repeat(off[:-1], cnt))
    p_pts = np.minimum(b[p_out], g_lot[p_lot]) - np.maximum(a[p_out], g_lot_start[p_lot])
    # Open tail of each lot and unmatched tail of each outflow.
    open_lo = np.maximum(g_lot_start, base[ev.lot_member] + o_tot[ev.lot_member])
    lo = np.flatnonzero(g_lot > open_lo)
    un_lo = np.maximum(g_out_start, b)
    uo = np.flatnonzero(g_out > un_lo)
    piece_lot = np.concatenate([p_lot, lo, np.full(len(uo), -1)]).astype(np.int64)
    piece_out = np.concatenate([p_out, np.full(len(lo), -1), uo]).astype(np.int64)
    pts = np.concatenate([p_pts, (g_lot - open_lo)[lo], (g_out - un_lo)[uo]])
    keep = pts > 0
    return FifoAttribution(ev, piece_lot[keep], piece_out[keep], pts[keep])


# ---------------------------------------------------------------------------
# development cells: the additive summary the estimates are made from
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class CohortCells:
    """Points by earn-month cohort and age at ``as_of`` (additive over members, so buckets can be summed).

    Attributes
    ----------
    as_of : pandas.Timestamp
        Only lots and outflows at or before it are counted.
    first_month : int
        Month (since 1970-01) of cohort 0.
    issued : ndarray, shape (n_cohorts,)
        Points earned in each cohort month up to ``as_of``.
    exits : ndarray, shape (n_cohorts, n_cohorts, 3)
        Points of cohort ``c`` that left at age ``a`` (months) by kind (redeemed, expired,
        adjusted), up to ``as_of``; ages past the diagonal are 0.
    unmatched : float
        Points removed up to ``as_of`` with no open point to take them from (no cohort).
    """


    as_of: pd.Timestamp
    first_month: int
    issued: np.ndarray
    exits: np.ndarray
    unmatched: float = 0.0

    @property
    def n_cohorts(self) -> int:
        return len(self.issued)

    @property
    def as_of_month(self) -> int:
        return int(month_index(np.array([pd.Timestamp(self.as_of).value]))[0])

    @property
    def cohort_months(self) -> np.ndarray:
        return self.first_month + np.arange(self.n_cohorts)

    @property
    def latest_age(self) -> np.ndarray:
        """Age (months) of each cohort at ``as_of``: the last observed development age."""
        return self.as_of_month - self.cohort_months

    @property
    def open(self) -> np.ndarray:
        """Points of each cohort still open at ``as_of``."""
        return np.maximum(self.issued - self.exits.sum(axis=(1, 2)), 0.0)

    def cumulative(self, kind: int) -> np.ndarray:
        """Cumulative points of ``kind`` by cohort x age; NaN past the diagonal (not yet observed)."""
        c = np.cumsum(self.exits[:, :, kind], axis=1)
        ages = np.arange(self.n_cohorts)
        return np.where(ages[None, :] <= self.latest_age[:, None], c, np.nan)


@dataclass(frozen=True)
class CohortFlows:
    """Points of each earn month by the calendar month they left in (additive over members).

    The month-level summary of a :class:`FifoAttribution`: enough for the development at every
    month end (:meth:`cells`), the backtest's realised fate (:meth:`fate`) and an IFRS 15 schedule,
    in a few hundred kB whatever the history's size. Months are indexed from ``first_month``.

    Attributes
    ----------
    first_month : int
        Month (since 1970-01) of index 0: the first month with an event.
    last_time : int
        Time (ns) of the last event: the history's end.
    issued : ndarray, shape (n,)
        Points earned in each month.
    flows : ndarray, shape (n, n, 3)
        ``flows[c, m, k]``: points earned in month ``c`` that left in month ``m`` by kind ``k``
        (redeemed, expired, adjusted). ``m < c`` only for overdrafts repaid by a later lot.
    unmatched : ndarray, shape (n,)
        Points removed in each month with no lot to take them from.
    redeemed_by_month : ndarray, shape (n,)
        Points redeemed in each month (all of them, matched or not).
    """

    first_month: int
    last_time: int
    issued: np.ndarray
    flows: np.ndarray
    unmatched: np.ndarray
    redeemed_by_month: np.ndarray

    @property
    def n_months(self) -> int:
        return len(self.issued)

    @property
    def months(self) -> pd.DatetimeIndex:
        """First day of each month."""
        return month_start(self.first_month + np.arange(self.n_months))

    def month_end(self, i: int) -> int:
        """Last instant (ns) of month ``i`` (the history's end for the last month)."""
        if i >= self.n_months - 1:
            return int(self.last_time)
        return int(month_start(self.first_month + i + 1).value) - 1

    def cells(self, i: int | None = None) -> CohortCells | None:
        """The development at the end of month ``i`` (default: the last, i.e. the history's end)."""
        i = self.n_months - 1 if i is None else int(i)
        if i < 0 or not self.issued[: i + 1].sum() > 0:
            return None
        c0 = int(np.flatnonzero(self.issued[: i + 1] > 0)[0])
        n = i - c0 + 1
        exits = np.zeros((n, n, 3))
        f = self.flows[c0 : i + 1, : i + 1, :]
        c = np.arange(n)[:, None]
        age = np.clip(np.arange(i + 1)[None, :] - (c + c0), 0, n - 1)
        for k in range(3):
            w = f[:, :, k]
            np.add.at(exits[:, :, k], (np.broadcast_to(c, w.shape), age), w)
        before = self.flows[:c0, : i + 1, :].sum()
        unmatched = float(self.unmatched[: i + 1].sum() + self.flows[i + 1 :, : i + 1, :].sum() + before)
        return CohortCells(pd.Timestamp(self.month_end(i)), self.first_month + c0, self.issued[c0 : i + 1].copy(),
                           exits, unmatched)

    def fate(self, i: int) -> dict[str, float]:
        """What became of the points outstanding at the end of month ``i``, by the history's end.

        Keys (points): ``outstanding``, ``redeemed_later``, ``gone_later`` (expired or adjusted away
        later), ``still_open`` (open at the history's end).
        """
        f = self.flows[: i + 1]
        issued = float(self.issued[: i + 1].sum())
        out_by = float(f[:, : i + 1, :].sum())
        later = f[:, i + 1 :, :]
        red = float(later[:, :, REDEEMED].sum())
        gone = float(later[:, :, EXPIRED].sum() + later[:, :, ADJUSTED].sum())
        return {
            "outstanding": issued - out_by,
            "redeemed_later": red,
            "gone_later": gone,
            "still_open": issued - out_by - red - gone,
        }

    def to_json(self) -> str:
        """Compact JSON (the Spark path sends one per member bucket)."""
        nz = np.argwhere(self.flows != 0)
        return json.dumps(
            {
                "first_month": int(self.first_month),
                "last_time": int(self.last_time),
                "issued": self.issued.tolist(),
                "flows": [[int(c), int(m), int(k), float(self.flows[c, m, k])] for c, m, k in nz],
                "unmatched": self.unmatched.tolist(),
                "redeemed_by_month": self.redeemed_by_month.tolist(),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> CohortFlows:
        d = json.loads(text)
        n = len(d["issued"])
        flows = np.zeros((n, n, 3))
        for c, m, k, v in d["flows"]:
            flows[c, m, k] = v
        return cls(int(d["first_month"]), int(d["last_time"]), np.asarray(d["issued"], float), flows,
                   np.asarray(d["unmatched"], float), np.asarray(d["redeemed_by_month"], float))


def combine_flows(parts: list[CohortFlows | None]) -> CohortFlows | None:
    """Sum the flows of disjoint member sets (e.g. Spark buckets); None when no part has any."""
    parts = [p for p in parts if p is not None]
    if not parts:
        return None
    m0 = min(p.first_month for p in parts)
    n = max(p.first_month + p.n_months for p in parts) - m0
    issued, unmatched, red = np.zeros(n), np.zeros(n), np.zeros(n)
    flows = np.zeros((n, n, 3))
    for p in parts:
        o, k = p.first_month - m0, p.n_months
        issued[o : o + k] += p.issued
        unmatched[o : o + k] += p.unmatched
        red[o : o + k] += p.redeemed_by_month
        flows[o : o + k, o : o + k, :] += p.flows
    return CohortFlows(m0, max(p.last_time for p in parts), issued, flows, unmatched, red)


#: Longest history (months, first event to the end) developed by earn cohort: 30 years.
MAX_COHORT_MONTHS = 360


def cohort_flows(attr: FifoAttribution, end: int | None = None) -> CohortFlows | None:
    """:class:`CohortFlows` of an attribution (events after ``end`` ns left out).

    None when there is no event, or when the history spans more than :data:`MAX_COHORT_MONTHS`.
    """
    ev = attr.events
    last = ev.last_time if end is None else min(int(end), ev.last_time or int(end))
    if ev.last_time is None:
        return None
    lm, om = month_index(ev.lot_time), month_index(ev.out_time)
    lots, outs = ev.lot_time <= last, ev.out_time <= last
    if not (lots.any() or outs.any()):
        return None
    m0 = int(min(lm[lots].min() if lots.any() else 1 << 40, om[outs].min() if outs.any() else 1 << 40))
    n = int(month_index(np.array([last]))[0]) - m0 + 1
    if n > MAX_COHORT_MONTHS:
        # An n x n x 3 array: a history from 1900 to 2200 would take 300 MB and minutes. Dates that far
        # apart are a data problem, not a points history to develop.
        return None
    issued = np.bincount(lm[lots] - m0, weights=ev.lot_points[lots], minlength=n)[:n]
    pl, po, pp = attr.piece_lot, attr.piece_out, attr.piece_points
    has_out = po >= 0
    ok_out = np.zeros(len(po), dtype=bool)
    ok_out[has_out] = outs[po[has_out]]
    matched = ok_out & (pl >= 0)
    matched[matched] = lots[pl[matched]]
    c = lm[pl[matched]] - m0
    m = om[po[matched]] - m0
    k = ev.out_kind[po[matched]].astype(np.int64)
    flows = np.bincount((c * n + m) * 3 + k, weights=pp[matched], minlength=n * n * 3)[: n * n * 3].reshape(n, n, 3)
    lone = ok_out & ~matched
    unmatched = np.bincount(om[po[lone]] - m0, weights=pp[lone], minlength=n)[:n]
    red = outs & (ev.out_kind == REDEEMED)
    redeemed = np.bincount(om[red] - m0, weights=ev.out_points[red], minlength=n)[:n]
    return CohortFlows(m0, int(last), issued, flows, unmatched, redeemed)


def as_of_ns(as_of, last_ns: int | None) -> int:
    """The cutoff in ns: a timestamp as is, a date (midnight) as the end of that day, None as ``last_ns``."""
    if as_of is None:
        return int(last_ns) if last_ns is not None else 0
    t = pd.Timestamp(as_of)
    if t == t.normalize():
        t = t + pd.Timedelta(days=1) - pd.Timedelta(1, "ns")
    return int(t.as_unit("ns").value)


def cohort_cells(
    attr: FifoAttribution, as_of: int | None = None, member_mask: np.ndarray | None = None
) -> CohortCells | None:
    """The development at ``as_of`` (ns; default the last event) from one attribution (None: no lot by then).

    Pieces whose lot and outflow are both at or before ``as_of`` are exits; a piece whose outflow is
    at or before ``as_of`` but whose lot is later is an overdraft not yet repaid (unmatched at that
    date); every other piece of a lot at or before ``as_of`` is open. ``member_mask`` (bool per
    member code) keeps those members only (FIFO works member by member, so a subset's development
    is the subset of the pieces).
    """
    ev = attr.events
    t = ev.last_time if as_of is None else as_of
    if t is None:
        return None
    lots = ev.lot_time <= t
    if member_mask is not None:
        lots &= member_mask[ev.lot_member]
    if not lots.any():
        return None
    lot_m = month_index(ev.lot_time)
    m0 = int(lot_m[lots].min())
    m_as = int(month_index(np.array([t]))[0])
    n = m_as - m0 + 1
    issued = np.bincount(lot_m[lots] - m0, weights=ev.lot_points[lots], minlength=n)[:n]
    pl, po, pp = attr.piece_lot, attr.piece_out, attr.piece_points
    has_out = po >= 0
    out_ok = np.zeros(len(po), dtype=bool)
    out_ok[has_out] = ev.out_time[po[has_out]] <= t
    if member_mask is not None:
        out_ok[has_out] &= member_mask[ev.out_member[po[has_out]]]
    has_lot = pl >= 0
    lot_ok = np.zeros(len(pl), dtype=bool)
    lot_ok[has_lot] = lots[pl[has_lot]]
    ex = out_ok & lot_ok
    c = lot_m[pl[ex]] - m0
    out_m = month_index(ev.out_time[po[ex]]) if ex.any() else np.zeros(0, dtype=np.int64)
    age = np.clip(out_m - (c + m0), 0, n - 1)
    kind = ev.out_kind[po[ex]].astype(np.int64)
    exits = np.bincount((c * n + age) * 3 + kind, weights=pp[ex], minlength=n * n * 3)[: n * n * 3].reshape(n, n, 3)
    unmatched = float(pp[out_ok & ~lot_ok].sum())
    return CohortCells(pd.Timestamp(t), m0, issued, exits, unmatched)


def development_table(cells: CohortCells) -> pd.DataFrame:
    """The triangle in long form: one row per cohort and observed age.

    Columns: ``cohort`` (first day of the earn month), ``age`` (months), ``issued`` (points of the
    cohort), ``redeemed`` and ``expired`` (cumulative points by that age), ``redeemed_share`` and
    ``expired_share`` (of issued, 0-1), ``open_share`` (still open at that age, 0-1).
    """
    rc = cells.cumulative(REDEEMED)
    xc = cells.cumulative(EXPIRED)
    ac = cells.cumulative(ADJUSTED)
    c_idx, a_idx = np.nonzero(~np.isnan(rc))
    issued = cells.issued[c_idx]
    with np.errstate(invalid="ignore", divide="ignore"):
        red = rc[c_idx, a_idx]
        exp = xc[c_idx, a_idx]
        adj = ac[c_idx, a_idx]
        df = pd.DataFrame(
            {
                "cohort": month_start(cells.first_month + c_idx),
                "age": a_idx.astype(np.int64),
                "issued": issued,
                "redeemed": red,
                "expired": exp,
                "redeemed_share": np.where(issued > 0, red / issued, np.nan),
                "expired_share": np.where(issued > 0, exp / issued, np.nan),
                "open_share": np.where(issued > 0, (issued - red - exp - adj) / issued, np.nan),
            }
        )
    return df


# ---------------------------------------------------------------------------
# per-dataset memo
# ---------------------------------------------------------------------------
_ATTRIBUTIONS: DatasetMemo[FifoAttribution] = DatasetMemo()


def ledger_attribution(dataset: Dataset) -> FifoAttribution | None:
    """FIFO attribution of ``dataset``'s points ledger, once per dataset object (None without a ledger)."""
    if dataset.ledger is None:
        return None
    return _ATTRIBUTIONS.get(dataset, lambda ds: attribute_fifo(events_from_ledger(ds.ledger)))
