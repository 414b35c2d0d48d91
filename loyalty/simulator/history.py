"""Per-dataset preparation of a replay: member-sorted, integer-encoded history (done once)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from loyalty.simulator import kernels as K


# ---------------------------------------------------------------------------
# preparation (per dataset)
# ---------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class PreparedHistory:
    """Member-sorted, integer-encoded history: the per-dataset part of a replay.

    Attributes
    ----------
    member_ids : Index of str
        Member id of each integer code.
    tx_member, tx_time, tx_amount : ndarray
        Transactions sorted by member code, then time (ns), then input order.
    tx_cents : ndarray or None
        Amounts in exact integer cents when every amount is whole cents.
    tx_first_eq : ndarray
        Index of the first transaction with the same member and timestamp.
    rd_member, rd_time, rd_points : ndarray
        Redemptions (points asked, >= 0), sorted like the transactions.
    ev_member, ev_time, ev_is_redeem, ev_src : ndarray
        Activity stream (purchases with amount > 0 and redemptions), earning
        before redemption at equal times; ``ev_src`` indexes ``tx_*`` or ``rd_*``.
    origin, unit : int
        Times are whole multiples of ``unit`` ns after ``origin`` (a midnight).
    last_time : int
        Latest member transaction or redemption (ns): the default horizon.
    notes : tuple of str
        What was ignored and why (guest rows, incomplete rows).
    """

    member_ids: pd.Index
    tx_member: np.ndarray
    tx_time: np.ndarray
    tx_amount: np.ndarray
    tx_cents: np.ndarray | None
    tx_first_eq: np.ndarray
    rd_member: np.ndarray
    rd_time: np.ndarray
    rd_points: np.ndarray
    ev_member: np.ndarray
    ev_time: np.ndarray
    ev_is_redeem: np.ndarray
    ev_src: np.ndarray
    origin: int
    unit: int
    last_time: int
    notes: tuple[str, ...] = ()
    # Rules-independent intermediate results (trailing spend per window length),
    # filled on first use; safe to share because entries are never modified.
    _memo: dict = field(default_factory=dict, repr=False, compare=False)
    _memo_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    _memo_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def n_members(self) -> int:
        return len(self.member_ids)

    @property
    def n_transactions(self) -> int:
        return len(self.tx_time)

    @property
    def n_redemptions(self) -> int:
        return len(self.rd_time)


def _require(df: pd.DataFrame, cols: tuple[str, ...], table: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"The {table} table needs column(s) {', '.join(missing)} for the replay.")


def _ns(series: pd.Series, table: str) -> np.ndarray:
    try:
        ts = pd.to_datetime(series)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"The {table} table's 'timestamp' column is not a date/time: {exc}") from exc
    if getattr(ts.dt, "tz", None) is not None:
        ts = ts.dt.tz_localize(None)
    return ts.astype("datetime64[ns]").to_numpy().view(np.int64)


def to_ns(value: Any) -> int:
    return int(pd.Timestamp(value).as_unit("ns").value)


def redemptions_from_ledger(ledger: pd.DataFrame | None) -> pd.DataFrame | None:
    """The ledger's ``redeem`` events as a redemptions table (points asked, > 0)."""
    if ledger is None or "event" not in ledger.columns:
        return None
    red = ledger.loc[ledger["event"] == "redeem", ["member_id", "timestamp", "points"]]
    return red.assign(points=red["points"].abs())


def prepare(
    transactions: pd.DataFrame,
    redemptions: pd.DataFrame | None = None,
    warm_windows: tuple[int, ...] = (365,),
) -> PreparedHistory:
    """Encode and sort a history once so that each ``replay`` is a few numpy passes.

    Parameters
    ----------
    transactions : DataFrame
        ``member_id``, ``timestamp``, ``amount`` (currency). Guest rows
        (missing ``member_id``) are ignored, and counted in ``notes``.
    redemptions : DataFrame, optional
        ``member_id``, ``timestamp``, ``points`` (asked; the sign is ignored).
    warm_windows : tuple of int
        Qualification windows (days) whose trailing spend is computed now, with
        the other rules-independent parts of a replay at the default horizon,
        so the first replay is as fast as the next ones. Other windows are
        computed (and kept) on first use.

    Returns
    -------
    PreparedHistory
    """
    _require(transactions, ("member_id", "timestamp", "amount"), "transactions")
    notes: list[str] = []
    t_mem = transactions["member_id"]
    t_time = _ns(transactions["timestamp"], "transactions")
    t_amt = pd.to_numeric(transactions["amount"], errors="coerce").to_numpy(dtype=np.float64)
    guest = t_mem.isna().to_numpy()
    bad = (t_time == np.iinfo(np.int64).min) | ~np.isfinite(t_amt)
    if guest.any():
        notes.append(f"{int(guest.sum()):,} guest transactions (no member id) ignored: they earn no points.")
    if (bad & ~guest).any():
        notes.append(f"{int((bad & ~guest).sum()):,} member transactions without a valid timestamp or amount ignored.")
    keep = ~guest & ~bad
    ids_tx = t_mem[keep]
    t_time, t_amt = t_time[keep], t_amt[keep]

    if redemptions is not None and len(redemptions):
        _require(redemptions, ("member_id", "timestamp", "points"), "redemptions")
        r_time = _ns(redemptions["timestamp"], "redemptions")
        r_pts = np.abs(pd.to_numeric(redemptions["points"], errors="coerce").to_numpy(dtype=np.float64))
        r_ok = redemptions["member_id"].notna().to_numpy() & (r_time != np.iinfo(np.int64).min) & np.isfinite(r_pts)
        if (~r_ok).any():
            notes.append(f"{int((~r_ok).sum()):,} redemptions without member id, timestamp or points ignored.")
        ids_rd = redemptions["member_id"][r_ok]
        r_time, r_pts = r_time[r_ok], r_pts[r_ok]
    else:
        ids_rd = pd.Series([], dtype="str")
        r_time = np.empty(0, dtype=np.int64)
        r_pts = np.empty(0, dtype=np.float64)

    # One factorisation of all ids (cheaper than matching redemptions to tx ids after).
    codes, uniques = _factorize(pd.concat([_as_str(ids_tx), _as_str(ids_rd)], ignore_index=True))
    c_tx, c_rd = codes[: len(ids_tx)], codes[len(ids_tx) :]
    n_members = len(uniques)
    all_t = np.concatenate([t_time, r_time])
    origin = int(all_t.min() // K.DAY_NS * K.DAY_NS) if all_t.size else 0
    unit = int(np.gcd(np.gcd.reduce(all_t - origin), K.DAY_NS)) if all_t.size else K.DAY_NS
    unit = unit or K.DAY_NS
    ordn = Ordinals(origin, unit, [all_t], n_members)
    key_tx = ordn.key(c_tx, t_time)
    key_rd = ordn.key(c_rd, r_time)
    # Unstable (fast) sort: rows with equal (member, time) are interchangeable
    # in every rule (same qualifying spend; redemptions at one time add up).
    o = np.argsort(key_tx)
    c_tx, t_time, t_amt, key_tx = c_tx[o], t_time[o], t_amt[o], key_tx[o]
    o = np.argsort(key_rd)
    c_rd, r_time, r_pts, key_rd = c_rd[o], r_time[o], r_pts[o], key_rd[o]

    run = np.ones(len(key_tx), dtype=bool)
    run[1:] = key_tx[1:] != key_tx[:-1]
    first_eq = K.segment_start_index(run)
    cents = np.round(t_amt * 100.0)
    tx_cents = cents.astype(np.int64) if np.all(np.abs(t_amt * 100.0 - cents) < 1e-6) else None

    # Merge purchases (amount > 0) and redemptions: earning first at equal keys.
    pos = np.flatnonzero(t_amt > 0)
    key_pos = key_tx[pos]
    at_tx = np.arange(len(pos)) + np.searchsorted(key_rd, key_pos, side="left")
    at_rd = np.arange(len(key_rd)) + np.searchsorted(key_pos, key_rd, side="right")
    n_ev = len(pos) + len(key_rd)
    ev_member = np.empty(n_ev, dtype=np.int64)
    ev_time = np.empty(n_ev, dtype=np.int64)
    ev_src = np.empty(n_ev, dtype=np.int64)
    ev_is_redeem = np.zeros(n_ev, dtype=bool)
    ev_member[at_tx], ev_time[at_tx], ev_src[at_tx] = c_tx[pos], t_time[pos], pos
    ev_member[at_rd], ev_time[at_rd], ev_src[at_rd] = c_rd, r_time, np.arange(len(key_rd))
    ev_is_redeem[at_rd] = True

    prep = PreparedHistory(
        member_ids=uniques,
        tx_member=c_tx,
        tx_time=t_time,
        tx_amount=t_amt,
        tx_cents=tx_cents,
        tx_first_eq=first_eq,
        rd_member=c_rd,
        rd_time=r_time,
        rd_points=r_pts,
        ev_member=ev_member,
        ev_time=ev_time,
        ev_is_redeem=ev_is_redeem,
        ev_src=ev_src,
        origin=origin,
        unit=unit,
        last_time=int(all_t.max()) if all_t.size else 0,
        notes=tuple(notes),
    )
    if warm_windows:
        h = horizon(prep, prep.last_time)
        memo(prep, ("ev_days",), lambda: K.split_days(prep.ev_time))
        for days in warm_windows:
            trailing_spend(prep, days)
            spend_at_end(prep, h, days, prep.last_time)
    return prep


def _as_str(ids: pd.Series) -> pd.Series:
    return ids if pd.api.types.is_string_dtype(ids.dtype) else ids.astype(str)


def _factorize(ids: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer code per member id (first-appearance order) and the ids as an Index."""
    codes, uniques = pd.factorize(_as_str(ids))
    return codes.astype(np.int64), pd.Index(uniques, dtype="str")


class Ordinals:
    """Order-preserving integer codes of times, small enough for ``member * span + ordinal`` keys.

    Normally ``(t - origin) // unit`` (every time of interest is a multiple of
    ``unit``); when members x span would overflow int64 (sub-second data on
    many members), the rank among all times of interest instead.
    """

    def __init__(self, origin: int, unit: int, arrays: list[np.ndarray], n_members: int) -> None:
        self.origin, self.unit, self.uni = origin, unit, None
        hi = max((int(a.max()) for a in arrays if a.size), default=origin)
        self.span = (hi - origin) // unit + 1
        if max(n_members, 1) * self.span >= K.MAX_KEY or _FORCE_RANK:
            self.uni = np.unique(np.concatenate(arrays))
            self.span = len(self.uni) + 1

    def __call__(self, t: np.ndarray) -> np.ndarray:
        if self.uni is None:
            return np.maximum((t - self.origin) // self.unit, 0)
        return np.searchsorted(self.uni, t, side="left")

    def key(self, member: np.ndarray, t: np.ndarray) -> np.ndarray:
        return member * self.span + self(t)


#: Tests set this to exercise the rank-encoded fallback of :class:`Ordinals`.
_FORCE_RANK = False


# --------------------------------------------------------------------------- derived arrays (memoised)
_MEMO_LIMIT = 8


def memo(prep: PreparedHistory, key: tuple, fn) -> Any:
    """Rules-independent intermediate result, computed once per prepared history.

    Bounded (oldest entry dropped) so sweeping e.g. the qualification window
    cannot grow memory without limit. Entries are never modified after.
    """
    store = prep._memo
    with prep._memo_lock:  # one prepared history is shared by every session on the same data
        if key in store:
            return store[key]
    value = fn()  # computed outside the lock: two sessions may both compute, the results are equal
    with prep._memo_lock:
        while len(store) >= _MEMO_LIMIT:
            store.pop(next(iter(store)))
        return store.setdefault(key, value)


def trailing_spend(prep: PreparedHistory, days: int) -> np.ndarray:
    """Qualifying spend of every transaction over ``[t - days, t)`` (cents if exact, else currency)."""

    def compute() -> np.ndarray:
        t = prep.tx_time
        start = t - np.int64(days) * K.DAY_NS
        ordn = Ordinals(prep.origin, prep.unit, [t, start], prep.n_members)
        keys = ordn.key(prep.tx_member, t)
        left = np.searchsorted(keys, ordn.key(prep.tx_member, start), side="left")
        vals = prep.tx_cents if prep.tx_cents is not None else prep.tx_amount
        cum = np.zeros(len(vals) + 1, dtype=vals.dtype)
        cum[1:] = np.cumsum(vals)
        spend = cum[prep.tx_first_eq] - cum[left]
        if prep.tx_cents is None:
            spend = np.round(spend, 6)  # float sums: don't let 499.99999999 miss 500
        return spend

    return memo(prep, ("spend", days), compute)


@dataclass(frozen=True)
class Horizon:
    """Rules-independent selections for a horizon ``end`` (memoised per end)."""

    tx: Any  # slice or boolean mask of transactions at or before end
    tx_off: np.ndarray  # member offsets into the selected transactions
    ev: np.ndarray  # activity events at or before end
    earn_pos: np.ndarray  # positions in ``ev`` of purchases, and their tx index
    earn_src: np.ndarray
    red_pos: np.ndarray  # positions in ``ev`` of redemptions, and their rd index
    red_src: np.ndarray
    present: np.ndarray  # member has a transaction or redemption by end
    m0: int  # first month (months since 1970-01)
    n_months: int
    tx_month: np.ndarray  # month - m0 of each selected transaction
    last_buy: np.ndarray  # selected tx: last purchase of its member in its month


def horizon(prep: PreparedHistory, end: int) -> Horizon:
    def compute() -> Horizon:
        full = end >= prep.last_time
        tx = slice(None) if full else prep.tx_time <= end
        ev = np.arange(len(prep.ev_time)) if full else np.flatnonzero(prep.ev_time <= end)
        member = prep.tx_member[tx]
        is_red = prep.ev_is_redeem[ev]
        src = prep.ev_src[ev]
        earn_pos, red_pos = np.flatnonzero(~is_red), np.flatnonzero(is_red)
        present = np.zeros(prep.n_members, dtype=bool)
        present[member] = True
        present[prep.ev_member[ev]] = True
        times = prep.tx_time[tx]
        first = min((a.min() for a in (times, prep.ev_time[ev]) if a.size), default=end)
        m0 = int(K.month_index(np.array([first]))[0])
        n_months = int(K.month_index(np.array([end]))[0]) - m0 + 1
        tx_month = K.month_index(times) - m0
        buy = np.flatnonzero(prep.tx_amount[tx] > 0)
        bm, bmo = member[buy], tx_month[buy]
        last = np.ones(len(buy), dtype=bool)
        if len(buy) > 1:
            last[:-1] = (bm[1:] != bm[:-1]) | (bmo[1:] != bmo[:-1])
        return Horizon(
            tx=tx,
            tx_off=np.searchsorted(member, np.arange(prep.n_members + 1)),
            ev=ev,
            earn_pos=earn_pos,
            earn_src=src[earn_pos],
            red_pos=red_pos,
            red_src=src[red_pos],
            present=present,
            m0=m0,
            n_months=max(n_months, 1),
            tx_month=tx_month,
            last_buy=buy[last],
        )

    return memo(prep, ("horizon", end), compute)


def spend_at_end(prep: PreparedHistory, h: Horizon, days: int, end: int) -> np.ndarray:
    """Per member: sum of amounts over ``[end - days, end]`` (cents if exact)."""

    def compute() -> np.ndarray:
        t = prep.tx_time[h.tx]
        win = t >= end - np.int64(days) * K.DAY_NS
        vals = (prep.tx_cents if prep.tx_cents is not None else prep.tx_amount)[h.tx]
        out = K.sum_by(prep.tx_member[h.tx][win], vals[win], prep.n_members)
        return out if prep.tx_cents is not None else np.round(out, 6)

    return memo(prep, ("spend_end", days, end), compute)
