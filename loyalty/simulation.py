"""Deterministic replay of a program's history under reward rules (issue 5).

``prepare`` does the per-dataset work once (encoding member ids, sorting by
member then time, merging purchases and redemptions into one activity
stream); ``replay`` then applies a :class:`RewardRules` in a handful of
vectorised numpy passes (see :mod:`loyalty.replay_kernels`).

Semantics, exactly (units: currency, points, days, calendar months):

1. Qualifying spend of a purchase at ``t`` = sum of the member's transaction
   amounts (returns included, negative) with timestamp in
   ``[t - qualification_days, t)``. Tier = highest tier whose threshold <=
   that spend (the first tier when none, e.g. negative spend). Sums are exact
   in integer cents when every amount is whole cents.
2. Points earned = ``floor(round(amount * earn_rate * multiplier, 6))`` for
   ``amount > 0``; other rows earn nothing.
3. A historical redemption asks for its points (sign ignored: ledger redeem
   rows are negative) and is granted ``min(asked, balance)``. Earning is
   processed before redemption at equal timestamps.
4. Activity = a purchase with amount > 0 or a redemption.
   ``inactivity``: deadline = last activity + ``months`` calendar months
   (``pd.DateOffset`` clipping) + ``grace_days`` days; activity at or before
   it keeps the balance, else the whole balance expires at the deadline.
   ``fixed``: each lot expires at its earn time + months + grace days;
   redemptions consume the oldest lots first; a lot is usable by events at
   exactly its deadline. Deadlines at or before ``end`` expire.
5. Tier at end = tier of the qualifying spend over ``[end - qualification_days, end]``.

Events after ``end`` are ignored. ``min_redemption`` does not change the
replay (historical redemptions are replayed as they happened, capped by the
balance); it is used by the projection layer (:mod:`loyalty.behaviour`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from loyalty import replay_kernels as K
from loyalty.rules import SAMPLE_RULES, ExpiryPolicy, RewardRules, RulesError, Tier

__all__ = [
    "SAMPLE_RULES",
    "ExpiryPolicy",
    "PreparedHistory",
    "ReplayTotals",
    "RewardRules",
    "RulesError",
    "SimulationResult",
    "Tier",
    "KPI_DEFINITIONS",
    "prepare",
    "replay",
    "redemptions_from_ledger",
]

LAYER_REPLAY = "replay"
_I64_MAX = np.iinfo(np.int64).max

#: Written definition of every total (shown as help text in the app).
KPI_DEFINITIONS: dict[str, str] = {
    "points_issued": "Points earned by purchases under the rules (rule 2), summed over the history up to the end.",
    "points_redeemed": "Points granted to historical redemptions: each asks its points, granted min(asked, balance).",
    "points_expired": "Points that expired at deadlines on or before the end (rule 4).",
    "points_outstanding": "Points still in members' balances at the end = issued - redeemed - expired.",
    "reward_cost": "Points redeemed x point value (currency).",
    "tier_benefit_cost": "Annual run-rate of tier benefits at the end: sum over tiers of annual benefit cost "
    "per member x members in the tier at the end (currency per year).",
    "total_cost": "Reward cost + tier benefit cost (currency).",
    "liability": "Outstanding points x point value x (1 - breakage rate): the expected cost of the "
    "points still held, if they leave the balance in the same mix as past points did (currency).",
    "liability_naive": "Outstanding points x point value, assuming every point is redeemed (currency).",
    "breakage_rate": "Points expired / (points expired + points redeemed): the share of points that left "
    "balances by expiring rather than being redeemed (0-1).",
    "points_saved_by_grace": "Points that would have expired with grace_days = 0 but did not with the "
    "grace period (expired without grace - expired with it).",
    "members": "Members with at least one transaction or redemption up to the end.",
}


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


def _to_ns(value: Any) -> int:
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
    ordn = _Ordinals(origin, unit, [all_t], n_members)
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
        h = _horizon(prep, prep.last_time)
        _memo(prep, ("ev_days",), lambda: K.split_days(prep.ev_time))
        for days in warm_windows:
            _trailing_spend(prep, days)
            _spend_at_end(prep, h, days, prep.last_time)
    return prep


def _as_str(ids: pd.Series) -> pd.Series:
    return ids if pd.api.types.is_string_dtype(ids.dtype) else ids.astype(str)


def _factorize(ids: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer code per member id (first-appearance order) and the ids as an Index."""
    codes, uniques = pd.factorize(_as_str(ids))
    return codes.astype(np.int64), pd.Index(uniques, dtype="str")


class _Ordinals:
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


#: Tests set this to exercise the rank-encoded fallback of :class:`_Ordinals`.
_FORCE_RANK = False


# ---------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ReplayTotals:
    """Program totals of one replay (points, currency, members). See :data:`KPI_DEFINITIONS`."""

    points_issued: float
    points_redeemed: float
    points_expired: float
    points_outstanding: float
    reward_cost: float
    tier_benefit_cost: float
    total_cost: float
    liability: float
    liability_naive: float
    breakage_rate: float
    points_saved_by_grace: float
    members: int
    members_per_tier: tuple[tuple[str, int], ...]

    def __getitem__(self, name: str) -> Any:
        if name.startswith("members_") and name[8:] in dict(self.members_per_tier):
            return dict(self.members_per_tier)[name[8:]]
        return getattr(self, name)

    @property
    def tiers(self) -> dict[str, int]:
        """Members per tier at the end."""
        return dict(self.members_per_tier)

    def as_dict(self) -> dict[str, float]:
        """Flat KPI -> value, with ``members_<tier>`` entries."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "members_per_tier"}
        out.update({f"members_{k}": v for k, v in self.members_per_tier})
        return out


@dataclass(frozen=True, eq=False)
class SimulationResult:
    """Outcome of :func:`replay` (layer ``"replay"``: history under the rules, no behaviour change).

    ``monthly`` has one row per calendar month: ``month`` (first day),
    ``issued``, ``redeemed``, ``expired`` (points in the month),
    ``outstanding`` (points at month end) and ``members_<tier>`` = members who
    purchased in the month, by the tier applied to their last purchase of it.
    """

    rules: RewardRules
    totals: ReplayTotals
    monthly: pd.DataFrame
    end: pd.Timestamp
    _member_ids: pd.Index = field(repr=False)
    _member_arrays: dict = field(repr=False)
    layer: str = LAYER_REPLAY

    @cached_property
    def members(self) -> pd.DataFrame:
        """One row per member: ``member_id``, ``points_issued``, ``points_redeemed``,
        ``points_expired``, ``balance`` (points at the end), ``tier`` (at the end),
        ``qualifying_spend`` (currency over the window ending at ``end``)."""
        a = self._member_arrays
        keep = a["present"]
        names = np.array(self.rules.tier_names, dtype=object)
        return pd.DataFrame(
            {
                "member_id": pd.array(self._member_ids[keep], dtype="str"),
                "points_issued": a["issued"][keep].astype(np.float64),
                "points_redeemed": a["redeemed"][keep].astype(np.float64),
                "points_expired": a["expired"][keep].astype(np.float64),
                "balance": a["outstanding"][keep].astype(np.float64),
                "tier": pd.array(names[a["tier"][keep]], dtype="str"),
                "qualifying_spend": a["spend_end"][keep].astype(np.float64),
            }
        )


# ---------------------------------------------------------------------------
# replay
# ---------------------------------------------------------------------------
_MEMO_LIMIT = 8


def _memo(prep: PreparedHistory, key: tuple, fn) -> Any:
    """Rules-independent intermediate result, computed once per prepared history.

    Bounded (oldest entry dropped) so sweeping e.g. the qualification window
    cannot grow memory without limit. Entries are never modified after.
    """
    memo = prep._memo
    if key not in memo:
        value = fn()
        while len(memo) >= _MEMO_LIMIT:
            memo.pop(next(iter(memo)))
        memo[key] = value
    return memo[key]


def _trailing_spend(prep: PreparedHistory, days: int) -> np.ndarray:
    """Qualifying spend of every transaction over ``[t - days, t)`` (cents if exact, else currency)."""

    def compute() -> np.ndarray:
        t = prep.tx_time
        start = t - np.int64(days) * K.DAY_NS
        ordn = _Ordinals(prep.origin, prep.unit, [t, start], prep.n_members)
        keys = ordn.key(prep.tx_member, t)
        left = np.searchsorted(keys, ordn.key(prep.tx_member, start), side="left")
        vals = prep.tx_cents if prep.tx_cents is not None else prep.tx_amount
        cum = np.zeros(len(vals) + 1, dtype=vals.dtype)
        cum[1:] = np.cumsum(vals)
        spend = cum[prep.tx_first_eq] - cum[left]
        if prep.tx_cents is None:
            spend = np.round(spend, 6)  # float sums: don't let 499.99999999 miss 500
        return spend

    return _memo(prep, ("spend", days), compute)


@dataclass(frozen=True)
class _Horizon:
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


def _horizon(prep: PreparedHistory, end: int) -> _Horizon:
    def compute() -> _Horizon:
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
        return _Horizon(
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

    return _memo(prep, ("horizon", end), compute)


def _spend_at_end(prep: PreparedHistory, h: _Horizon, days: int, end: int) -> np.ndarray:
    """Per member: sum of amounts over ``[end - days, end]`` (cents if exact)."""

    def compute() -> np.ndarray:
        t = prep.tx_time[h.tx]
        win = t >= end - np.int64(days) * K.DAY_NS
        vals = (prep.tx_cents if prep.tx_cents is not None else prep.tx_amount)[h.tx]
        out = K.sum_by(prep.tx_member[h.tx][win], vals[win], prep.n_members)
        return out if prep.tx_cents is not None else np.round(out, 6)

    return _memo(prep, ("spend_end", days, end), compute)


def _tier_index(spend: np.ndarray, rules: RewardRules, cents: bool) -> np.ndarray:
    thr = np.array([t.threshold for t in rules.tiers], dtype=np.float64)
    if cents:
        thr = np.ceil(np.round(thr * 100.0, 6)).astype(np.int64)
    return np.maximum(np.searchsorted(thr, spend, side="right") - 1, 0)


def _earn(amount: np.ndarray, earn_rate: float, mult: np.ndarray) -> np.ndarray:
    """``floor(round(amount * earn_rate * multiplier, 6))`` for amount > 0, else 0.

    The 6-decimal rounding only changes the floor when the product lies just
    below a whole number (binary error, e.g. 1.15 x 100 = 114.99999999999999),
    so only those rows are rounded; exact half-way ties, where ``np.round`` is
    not correctly rounded, use Python's ``round``.
    """
    y = amount * earn_rate * mult
    pts = np.floor(y)
    near = np.flatnonzero(y - pts >= 1.0 - 1.5e-6)
    if near.size:
        yn = y[near]
        r = np.round(yn, 6)
        frac = yn * 1e6 - np.floor(yn * 1e6)
        tie = np.flatnonzero(np.abs(frac - 0.5) < 1e-3)
        if tie.size:
            r[tie] = [round(float(v), 6) for v in yn[tie]]
        pts[near] = np.floor(r)
    pts = np.maximum(pts, 0.0)  # amount <= 0 earns nothing
    if pts.size and float(pts.max()) < 2**52:
        return pts.astype(np.int64)
    return pts


def _as_int_if_whole(a: np.ndarray) -> np.ndarray:
    if a.size == 0 or (np.all(np.abs(a) < 2**52) and np.all(a == np.rint(a))):
        return a.astype(np.int64)
    return a


def _event_deadlines(prep: PreparedHistory, ev: np.ndarray, months: int, grace_days: int) -> np.ndarray:
    """Deadlines of the events ``ev`` (the day split of all events is memoised)."""
    day_rel, d0, tod = _memo(prep, ("ev_days",), lambda: K.split_days(prep.ev_time))
    if len(ev) != len(day_rel):  # a subset (horizon before the data end, or the no-grace rerun)
        day_rel, tod = day_rel[ev], tod[ev]
    return K.deadlines_from_days(day_rel, d0, tod, months, grace_days)


def _expiry(
    prep: PreparedHistory,
    ev: np.ndarray,
    x: np.ndarray,
    expiry: ExpiryPolicy,
    end: int,
) -> dict[str, np.ndarray]:
    """Run the expiry mode over the activity events ``ev`` (indices into ``prep.ev_*``).

    Returns per member ``redeemed``, ``expired``, ``outstanding``; per
    redemption (``red_index`` into ``ev``) the ``granted`` points; the expiry
    events ``exp_time``/``exp_points``; and the deadlines used (``deadline``).
    """
    n = prep.n_members
    member, time, is_red = prep.ev_member[ev], prep.ev_time[ev], prep.ev_is_redeem[ev]
    if expiry.mode in ("none", "inactivity"):
        if expiry.mode == "none":
            dl = np.full(len(ev), _I64_MAX, dtype=np.int64)
        else:
            dl = _event_deadlines(prep, ev, expiry.months, expiry.grace_days)
        r = K.inactivity_balances(member, time, x, is_red, dl, end, n)
        ei = r["exp_index"]
        return {
            "red_index": r["red_index"],
            "granted": r["granted"],
            "redeemed": K.sum_by(member[r["red_index"]], r["granted"], n),
            "expired": K.sum_by(member[ei], r["exp_points"], n),
            "outstanding": r["outstanding"],
            "exp_time": dl[ei],
            "exp_points": r["exp_points"],
            "deadline": dl,
        }
    # fixed-term lots
    lots = np.flatnonzero(~is_red)
    reds = np.flatnonzero(is_red)
    l_member = member[lots]
    l_dead = _event_deadlines(prep, ev[lots], expiry.months, expiry.grace_days)
    ordn = _Ordinals(prep.origin, prep.unit, [time[reds], l_dead, np.array([end])], n)
    end_key = np.arange(n, dtype=np.int64) * ordn.span + ordn(np.array([end]))[0]
    r = K.fifo_fixed_term(
        l_member,
        ordn.key(l_member, l_dead),
        x[lots],
        member[reds],
        ordn.key(member[reds], time[reds]),
        reds - np.arange(len(reds)),  # lots before each redemption in the merged stream
        -x[reds],
        end_key,
        n,
    )
    hit = r["group_expired"] != 0
    dl = np.full(len(ev), _I64_MAX, dtype=np.int64)
    dl[lots] = l_dead
    return {
        "red_index": reds,
        "granted": r["granted"],
        "redeemed": r["redeemed"],
        "expired": r["expired"],
        "outstanding": r["outstanding"],
        "exp_time": l_dead[r["group_first"][hit]],
        "exp_points": r["group_expired"][hit],
        "deadline": dl,
    }


def _saved_by_grace(
    prep: PreparedHistory, ev: np.ndarray, x: np.ndarray, expiry: ExpiryPolicy, end: int, res: dict
) -> float:
    """Points expired with ``grace_days = 0`` minus points expired with the grace period.

    Only members whose outcome can differ are replayed again: (inactivity) a
    next activity or the horizon falls between the two deadlines; (fixed) a
    lot's two deadlines straddle the horizon, or the member redeems.
    """
    if expiry.mode == "none" or expiry.grace_days == 0 or ev.size == 0:
        return 0.0
    member, is_red = prep.ev_member[ev], prep.ev_is_redeem[ev]
    dg = res["deadline"]
    d0 = dg - np.int64(expiry.grace_days) * K.DAY_NS
    at_end = (d0 <= end) & (end < dg)
    if expiry.mode == "inactivity":
        time = prep.ev_time[ev]
        _, last = K.segment_flags(member)
        nxt = np.empty_like(time)
        nxt[:-1] = time[1:]
        differs = np.where(last, at_end, (d0 < nxt) & (nxt <= dg))
    else:
        differs = is_red | at_end
    affected = np.zeros(prep.n_members, dtype=bool)
    affected[member[differs]] = True
    sub = affected[member]
    r0 = _expiry(prep, ev[sub], x[sub], ExpiryPolicy(expiry.mode, expiry.months, 0), end)
    return float(r0["expired"].sum() - res["expired"][affected].sum())


def make_totals(
    rules: RewardRules,
    *,
    issued: float,
    redeemed: float,
    expired: float,
    outstanding: float,
    tier_counts,
    saved_by_grace: float,
    members: int,
) -> ReplayTotals:
    """Program totals from the point flows (one definition for the embedded and the Spark path).

    Breakage = expired / (expired + redeemed); liability = outstanding x point value x
    (1 - breakage), or the naive value while no point has left yet.
    """
    exits = expired + redeemed
    breakage = expired / exits if exits > 0 else float("nan")
    pv = rules.point_value
    counts = [int(c) for c in tier_counts]
    benefit = float(sum(t.annual_benefit_cost * c for t, c in zip(rules.tiers, counts, strict=True)))
    naive = outstanding * pv
    return ReplayTotals(
        points_issued=issued,
        points_redeemed=redeemed,
        points_expired=expired,
        points_outstanding=outstanding,
        reward_cost=redeemed * pv,
        tier_benefit_cost=benefit,
        total_cost=redeemed * pv + benefit,
        liability=naive * (1.0 - breakage) if exits > 0 else naive,
        liability_naive=naive,
        breakage_rate=breakage,
        points_saved_by_grace=saved_by_grace,
        members=members,
        members_per_tier=tuple((t.name, c) for t, c in zip(rules.tiers, counts, strict=True)),
    )


def replay(
    transactions: pd.DataFrame | PreparedHistory,
    rules: RewardRules,
    redemptions: pd.DataFrame | None = None,
    end: Any = None,
) -> SimulationResult:
    """Replay the history under ``rules`` (issue 5 semantics; see the module docstring).

    Parameters
    ----------
    transactions : DataFrame or PreparedHistory
        Canonical transactions, or the output of :func:`prepare` (preferred:
        prepare once per dataset, replay per scenario).
    rules : RewardRules
    redemptions : DataFrame, optional
        Historical redemptions (``member_id``, ``timestamp``, ``points``); only
        with a DataFrame (a PreparedHistory already holds them).
    end : timestamp, optional
        Horizon; defaults to the last member transaction or redemption
        (guest rows are ignored, so they never move it).

    Returns
    -------
    SimulationResult
        Totals, per-member and monthly results; layer ``"replay"``.
    """
    if not isinstance(rules, RewardRules):
        raise TypeError("rules must be a RewardRules.")
    if isinstance(transactions, PreparedHistory):
        if redemptions is not None:
            raise ValueError("Pass redemptions to prepare(); a PreparedHistory already holds them.")
        prep = transactions
    else:
        prep = prepare(transactions, redemptions)
    end_ns = prep.last_time if end is None else _to_ns(end)
    cents = prep.tx_cents is not None
    h = _horizon(prep, end_ns)

    # 1-2. tier of each purchase and points earned
    spend = _trailing_spend(prep, rules.qualification_days)
    tier = _tier_index(spend, rules, cents)
    mult = np.array([t.multiplier for t in rules.tiers], dtype=np.float64)[tier]
    earned = _earn(prep.tx_amount, rules.earn_rate, mult)
    asks = _as_int_if_whole(prep.rd_points)
    if earned.dtype != asks.dtype:
        earned, asks = earned.astype(np.float64), asks.astype(np.float64)
    x = np.empty(len(h.ev), dtype=earned.dtype)
    x[h.earn_pos] = earned[h.earn_src]
    x[h.red_pos] = -asks[h.red_src]

    # 3-4. balances, redemptions and expiry
    res = _expiry(prep, h.ev, x, rules.expiry, end_ns)
    saved = _saved_by_grace(prep, h.ev, x, rules.expiry, end_ns, res)
    earned_h = earned[h.tx]
    cum = np.zeros(len(earned_h) + 1, dtype=earned_h.dtype)
    cum[1:] = np.cumsum(earned_h)
    issued_m = cum[h.tx_off[1:]] - cum[h.tx_off[:-1]]

    # 5. tier at end: qualifying spend over [end - window, end]
    spend_end = _spend_at_end(prep, h, rules.qualification_days, end_ns)
    tier_end = _tier_index(spend_end, rules, cents)
    tier_counts = np.bincount(tier_end[h.present], minlength=len(rules.tiers))

    totals = make_totals(
        rules,
        issued=float(cum[-1]),
        redeemed=float(res["granted"].sum()),
        expired=float(res["exp_points"].sum()),
        outstanding=float(res["outstanding"].sum()),
        tier_counts=tier_counts,
        saved_by_grace=saved,
        members=int(h.present.sum()),
    )
    arrays = {
        "present": h.present,
        "issued": issued_m,
        "redeemed": res["redeemed"],
        "expired": res["expired"],
        "outstanding": res["outstanding"],
        "tier": tier_end,
        "spend_end": spend_end / 100.0 if cents else spend_end,
    }
    return SimulationResult(
        rules=rules,
        totals=totals,
        monthly=_monthly(prep, rules, h, earned_h, tier[h.tx], res),
        end=pd.Timestamp(end_ns),
        _member_ids=prep.member_ids,
        _member_arrays=arrays,
    )


def _monthly(
    prep: PreparedHistory,
    rules: RewardRules,
    h: _Horizon,
    earned: np.ndarray,
    tier: np.ndarray,
    res: dict[str, np.ndarray],
) -> pd.DataFrame:
    nm, m0 = h.n_months, h.m0
    issued = np.bincount(h.tx_month, weights=earned, minlength=nm)
    red_t = prep.ev_time[h.ev[res["red_index"]]]
    redeemed = np.bincount(K.month_index(red_t) - m0, weights=res["granted"], minlength=nm)
    expired = np.bincount(K.month_index(res["exp_time"]) - m0, weights=res["exp_points"], minlength=nm)
    out = pd.DataFrame(
        {
            "month": pd.to_datetime(np.arange(m0, m0 + nm).astype("datetime64[M]")).astype("datetime64[ns]"),
            "issued": issued[:nm],
            "redeemed": redeemed[:nm],
            "expired": expired[:nm],
        }
    )
    out["outstanding"] = (out["issued"] - out["redeemed"] - out["expired"]).cumsum()
    # Members purchasing in the month, by the tier of their last purchase in it.
    nt = len(rules.tiers)
    lb = h.last_buy
    counts = np.bincount(h.tx_month[lb] * nt + tier[lb], minlength=nm * nt).reshape(nm, nt)
    for i, name in enumerate(rules.tier_names):
        out[f"members_{name}"] = counts[:, i]
    return out


_SCENARIO_NAMES = ("compare", "infer_baseline_rules", "presets", "sensitivity")


def __getattr__(name: str) -> Any:
    """``compare``, ``infer_baseline_rules``, ``presets``, ``sensitivity`` live in
    :mod:`loyalty.scenarios` (which imports this module); re-exported lazily."""
    if name in _SCENARIO_NAMES:
        from loyalty import scenarios

        return getattr(scenarios, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
