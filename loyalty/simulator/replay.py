"""Deterministic replay of a program's history under reward rules (issue 5).

``prepare`` does the per-dataset work once (encoding member ids, sorting by
member then time, merging purchases and redemptions into one activity
stream); ``replay`` then applies a :class:`RewardRules` in a handful of
vectorised numpy passes (see :mod:`loyalty.simulator.kernels`).

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
balance); it is used by the projection layer (:mod:`loyalty.simulator.behaviour`).

6. The replayed history is a points ledger of its own (earn, redeem, expire
   events: :func:`replay_ledger`). Its earn cohorts (every redemption and
   expiry attributed first in first out to the earn month of the points it
   used; :mod:`loyalty.economics.cohorts`) give the breakage rate of the
   totals: the chain-ladder breakage of the points outstanding at ``end``
   (:func:`loyalty.economics.estimate_breakage`), as on the KPI page.
   ``open_points`` lists what is open at ``end`` with the date it expires if
   the member does nothing more: inactivity, one row per member with a
   balance, expiring at the deadline of the member's last activity; fixed,
   one row per open lot, expiring at its earn time + months + grace days;
   never, one row per member, ``expires_at`` NaT.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from loyalty.economics import (
    BreakageEstimate,
    CohortFlows,
    PointsEvents,
    attribute_fifo,
    cohort_flows,
    estimate_breakage,
    points_liability,
)
from loyalty.simulator import kernels as K
from loyalty.simulator.history import (
    Horizon,
    Ordinals,
    PreparedHistory,
    horizon,
    memo,
    prepare,
    spend_at_end,
    to_ns,
    trailing_spend,
)
from loyalty.simulator.rules import MAX_DAYS, ExpiryPolicy, RewardRules

LAYER_REPLAY = "replay"
_I64_MAX = np.iinfo(np.int64).max



# ---------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ReplayTotals:
    """Program totals of one replay (points, currency, members); definitions in :data:`loyalty.metrics.METRICS`."""

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
    #: Month-level earn-cohort flows of the replayed history (the breakage estimate's input).
    cohort_flows: CohortFlows | None = field(default=None, repr=False)
    _open: dict | None = field(default=None, repr=False)

    @cached_property
    def breakage(self) -> BreakageEstimate:
        """Earn-cohort breakage of the replayed history at ``end`` (``totals.breakage_rate`` is its value)."""
        return estimate_breakage(self.cohort_flows, source="replay", horizon_months=horizon_months(self.rules))

    @cached_property
    def open_points(self) -> pd.DataFrame:
        """Points open at ``end``: ``member_id``, ``points``, ``expires_at`` (see rule 6 of the module docstring).

        Inactivity and never: one row per member with a balance; fixed: one row per open lot,
        members in id-code order, lots in earn order.
        """
        o = self._open or {"member": np.zeros(0, np.int64), "points": np.zeros(0), "expires": np.zeros(0, np.int64)}
        exp = o["expires"].copy()
        never = exp == _I64_MAX
        exp[never] = np.iinfo(np.int64).min  # NaT
        return pd.DataFrame(
            {
                "member_id": pd.array(self._member_ids[o["member"]], dtype="str"),
                "points": o["points"].astype(np.float64),
                "expires_at": exp.view("datetime64[ns]"),
            }
        )

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
    day_rel, d0, tod = memo(prep, ("ev_days",), lambda: K.split_days(prep.ev_time))
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
            "exp_member": member[ei],
            "deadline": dl,
        }
    # fixed-term lots
    lots = np.flatnonzero(~is_red)
    reds = np.flatnonzero(is_red)
    l_member = member[lots]
    l_dead = _event_deadlines(prep, ev[lots], expiry.months, expiry.grace_days)
    ordn = Ordinals(prep.origin, prep.unit, [time[reds], l_dead, np.array([end])], n)
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
        "exp_member": l_member[r["group_first"][hit]],
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
    breakage: float = float("nan"),
) -> ReplayTotals:
    """Program totals from the point flows (one definition for the embedded and the Spark path).

    Breakage and liability come from :mod:`loyalty.economics`, as on the KPI page: ``breakage`` is
    the earn-cohort chain-ladder breakage of the points outstanding at the end
    (:attr:`SimulationResult.breakage`; NaN when the replayed cohorts are too young); liability =
    outstanding x (1 - breakage) x point value (the scenario's point value is its cost per point),
    NaN when breakage is.
    """
    pv = rules.point_value
    counts = [int(c) for c in tier_counts]
    benefit = float(sum(t.annual_benefit_cost * c for t, c in zip(rules.tiers, counts, strict=True)))
    li = points_liability(outstanding, pv, breakage)
    return ReplayTotals(
        points_issued=issued,
        points_redeemed=redeemed,
        points_expired=expired,
        points_outstanding=outstanding,
        reward_cost=redeemed * pv,
        tier_benefit_cost=benefit,
        total_cost=redeemed * pv + benefit,
        liability=li.adjusted,
        liability_naive=li.naive,
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
    prep = _prep(transactions, redemptions)
    end_ns = prep.last_time if end is None else to_ns(end)
    cents = prep.tx_cents is not None
    h, earned, tier, x, res = _points_stream(prep, rules, end_ns)
    saved = _saved_by_grace(prep, h.ev, x, rules.expiry, end_ns, res)
    # 6. the replayed history's earn cohorts and open points
    # Fixed-term open lots need the lot-level pieces; otherwise month-level runs are enough.
    events, lot_ev = _replay_events(prep, h.ev, x, res, collapse=rules.expiry.mode != "fixed")
    attr = attribute_fifo(events)
    flows = cohort_flows(attr, end_ns)
    breakage = estimate_breakage(flows, source="replay", horizon_months=horizon_months(rules))
    earned_h = earned[h.tx]
    cum = np.zeros(len(earned_h) + 1, dtype=earned_h.dtype)
    cum[1:] = np.cumsum(earned_h)
    issued_m = cum[h.tx_off[1:]] - cum[h.tx_off[:-1]]

    # 5. tier at end: qualifying spend over [end - window, end]
    spend_end = spend_at_end(prep, h, rules.qualification_days, end_ns)
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
        breakage=breakage.value,
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
        cohort_flows=flows,
        _open=_open_points(prep, h.ev, rules.expiry, res, attr, lot_ev),
    )


def horizon_months(rules: RewardRules) -> int | None:
    """Months after which no point of an earn month is left, when the rules set one (fixed-term lots:
    months + grace days rounded up to months, + 1 for a lot earned at the start of its month); None otherwise
    (inactivity expiry keeps the points of members who stay active)."""
    e = rules.expiry
    if e.mode != "fixed":
        return None
    return int(e.months + -(-e.grace_days // 28) + 1)


def _replay_events(
    prep: PreparedHistory, ev: np.ndarray, x: np.ndarray, res: dict, collapse: bool = False
) -> tuple[PointsEvents, np.ndarray]:
    """The replayed history as points events (earns = lots; granted redemptions and expiries = outflows),
    and the position in ``ev`` of each lot (of each event when ``collapse`` is False: with it, lots and
    outflows are merged by member and month, exact for the month-level cohort flows and ~2x cheaper)."""
    member, time = prep.ev_member[ev], prep.ev_time[ev]
    is_red = prep.ev_is_redeem[ev]
    lots = np.flatnonzero(~is_red & (x > 0))
    ri, granted = res["red_index"], res["granted"]
    g = granted > 0
    ri, granted = ri[g], granted[g]
    ep = res["exp_points"] > 0
    o_member = np.concatenate([member[ri], res["exp_member"][ep]])
    o_time = np.concatenate([time[ri], res["exp_time"][ep]])
    o_kind = np.concatenate([np.zeros(len(ri), np.int8), np.ones(int(ep.sum()), np.int8)])
    o_pts = np.concatenate([granted.astype(np.float64), res["exp_points"][ep].astype(np.float64)])
    o = np.lexsort((o_kind, o_time, o_member))
    l_member, l_time, l_pts = member[lots], time[lots], x[lots].astype(np.float64)
    o_member, o_time, o_kind, o_pts = o_member[o], o_time[o], o_kind[o], o_pts[o]
    if collapse:
        # Consecutive lots of a member in one month, and consecutive outflows of one kind in one month, are
        # contiguous intervals of the FIFO line: merging them changes no month-level flow (each run keeps
        # its last time, so the history's end is kept too).
        l_member, l_time, l_pts = _runs(l_member, K.month_index(l_time), l_time, l_pts)
        key = K.month_index(o_time) * 4 + o_kind
        o_member, o_time, o_pts, o_kind = _runs(o_member, key, o_time, o_pts, o_kind)
    events = PointsEvents(
        lot_member=l_member,
        lot_time=l_time,
        lot_points=l_pts,
        out_member=o_member,
        out_time=o_time,
        out_kind=o_kind,
        out_points=o_pts,
        n_members=prep.n_members,
    )
    return events, lots


def _runs(member: np.ndarray, key: np.ndarray, time: np.ndarray, pts: np.ndarray, *extra: np.ndarray):
    """Merge consecutive rows with equal (member, key): (member, last time, summed points, *extra of the run)."""
    if len(member) == 0:
        return (member, time, pts, *extra)
    start = np.ones(len(member), dtype=bool)
    start[1:] = (member[1:] != member[:-1]) | (key[1:] != key[:-1])
    first = np.flatnonzero(start)
    last = np.r_[first[1:], len(member)] - 1
    return (member[first], time[last], np.add.reduceat(pts, first), *(e[first] for e in extra))


def _open_points(
    prep: PreparedHistory, ev: np.ndarray, expiry: ExpiryPolicy, res: dict, attr, lot_ev: np.ndarray
) -> dict:
    """Open lots (fixed) or balances (inactivity, never) at the end, with the time they expire (ns)."""
    out = res["outstanding"]
    if expiry.mode == "fixed":
        # The open pieces of the FIFO attribution are what is left of each lot (at most one per lot).
        open_pc = (attr.piece_out < 0) & (attr.piece_lot >= 0)
        lot = attr.piece_lot[open_pc]
        return {
            "member": attr.events.lot_member[lot],
            "points": attr.piece_points[open_pc],
            "expires": res["deadline"][lot_ev[lot]],
        }
    keep = np.flatnonzero(out > 0)
    member = prep.ev_member[ev]
    _, last = K.segment_flags(member)
    li = np.flatnonzero(last)
    expires = np.full(prep.n_members, _I64_MAX, dtype=np.int64)
    if expiry.mode == "inactivity":
        expires[member[li]] = res["deadline"][li]
    return {"member": keep.astype(np.int64), "points": out[keep], "expires": expires[keep]}


def _prep(transactions, redemptions) -> PreparedHistory:
    if isinstance(transactions, PreparedHistory):
        if redemptions is not None:
            raise ValueError("Pass redemptions to prepare(); a PreparedHistory already holds them.")
        return transactions
    return prepare(transactions, redemptions)


def _points_stream(prep: PreparedHistory, rules: RewardRules, end_ns: int):
    """Rules 1-4: (horizon, points earned per transaction, tier per transaction, signed points per
    activity event, the expiry result)."""
    cents = prep.tx_cents is not None
    h = horizon(prep, end_ns)
    # 1-2. tier of each purchase and points earned
    spend = trailing_spend(prep, rules.qualification_days)
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
    return h, earned, tier, x, _expiry(prep, h.ev, x, rules.expiry, end_ns)


def replay_ledger(
    transactions: pd.DataFrame | PreparedHistory,
    rules: RewardRules,
    redemptions: pd.DataFrame | None = None,
    end: Any = None,
) -> pd.DataFrame:
    """The replayed history as a canonical points ledger (``member_id, timestamp, event, points``, signed).

    One ``earn`` row per purchase that earns points, one ``redeem`` row per redemption granted (its
    granted points), one ``expire`` row per expiry (at its deadline), sorted by member then time.
    What the Points & liability page uses as the ledger of a dataset that has none.
    """
    prep = _prep(transactions, redemptions)
    end_ns = prep.last_time if end is None else to_ns(end)
    h, _, _, x, res = _points_stream(prep, rules, end_ns)
    ev, _ = _replay_events(prep, h.ev, x, res)
    member = np.concatenate([ev.lot_member, ev.out_member])
    time = np.concatenate([ev.lot_time, ev.out_time])
    code = np.concatenate([np.zeros(len(ev.lot_member), np.int8), (ev.out_kind + 1).astype(np.int8)])
    pts = np.concatenate([ev.lot_points, -ev.out_points])
    o = np.lexsort((code, time, member))
    events = np.array(["earn", "redeem", "expire"], dtype=object)
    return pd.DataFrame(
        {
            "member_id": pd.array(prep.member_ids[member[o]], dtype="str"),
            "timestamp": time[o].view("datetime64[ns]"),
            "event": pd.array(events[code[o]], dtype="str"),
            "points": pts[o].astype(np.float64),
        }
    )


def grace_saving(
    transactions: pd.DataFrame | PreparedHistory, rules: RewardRules, extra_days: int, end: Any = None
) -> dict[str, float]:
    """What ``extra_days`` more grace would have saved on the replayed history (points).

    Returns ``expired`` (points expired under ``rules``), ``expired_with_grace`` (with the grace
    period lengthened by ``extra_days``), ``saved`` (their difference) and ``saved_share`` (saved /
    expired: the share of expiring points a longer grace period rescued historically; NaN when
    nothing expired). Never-expire rules save nothing.
    """
    prep = _prep(transactions, None)
    end_ns = prep.last_time if end is None else to_ns(end)
    base = float(_points_stream(prep, rules, end_ns)[4]["exp_points"].sum())
    if rules.expiry.mode == "none" or extra_days <= 0:
        more = base
    else:
        e = rules.expiry
        longer = replace(rules, expiry=ExpiryPolicy(e.mode, e.months, min(e.grace_days + int(extra_days), MAX_DAYS)))
        more = float(_points_stream(prep, longer, end_ns)[4]["exp_points"].sum())
    return {
        "expired": base,
        "expired_with_grace": more,
        "saved": base - more,
        "saved_share": (base - more) / base if base > 0 else float("nan"),
    }


def _monthly(
    prep: PreparedHistory,
    rules: RewardRules,
    h: Horizon,
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
