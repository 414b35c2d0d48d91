"""Slow, obviously-correct replay: a plain per-member event loop.

Used ONLY by the tests, as the oracle that :func:`loyalty.simulator.replay`
(vectorised) must match on small random histories. It follows the issue 5
rules literally, one event at a time, with exact decimal spend sums.
"""

from __future__ import annotations

import math
from decimal import Decimal

import pandas as pd

from loyalty.simulator.rules import RewardRules


def _deadline(t: pd.Timestamp, months: int, grace_days: int) -> pd.Timestamp:
    return t + pd.DateOffset(months=months) + pd.Timedelta(days=grace_days)


def _tier(rules: RewardRules, spend: Decimal) -> int:
    best = 0
    for i, t in enumerate(rules.tiers):
        if Decimal(repr(float(t.threshold))) <= spend:
            best = i
    return best


def replay_reference(
    transactions: pd.DataFrame,
    rules: RewardRules,
    redemptions: pd.DataFrame | None = None,
    end: pd.Timestamp | None = None,
) -> dict:
    """Replay one event at a time. Returns ``totals`` and ``members`` dicts.

    ``members[id]`` = dict(issued, redeemed, expired, balance, tier, open): ``open`` lists the
    ``(points, expires_at)`` still open at the end (fixed: one per lot; otherwise the balance,
    expiring at the last activity's deadline, None when points never expire).
    """
    tx = transactions[transactions["member_id"].notna()]
    reds = redemptions if redemptions is not None else pd.DataFrame(columns=["member_id", "timestamp", "points"])
    times = list(tx["timestamp"]) + list(reds["timestamp"])
    if end is None:
        end = max(times) if times else pd.Timestamp(0)
    end = pd.Timestamp(end)
    window = pd.Timedelta(days=rules.qualification_days)
    exp = rules.expiry
    members: dict[str, dict] = {}
    ids = sorted(set(tx["member_id"].astype(str)) | set(reds["member_id"].astype(str)))
    for mid in ids:
        mtx = [
            (pd.Timestamp(t), float(a))
            for m, t, a in zip(tx["member_id"].astype(str), tx["timestamp"], tx["amount"], strict=True)
            if m == mid and pd.Timestamp(t) <= end
        ]
        mrd = [
            (pd.Timestamp(t), abs(float(p)))
            for m, t, p in zip(reds["member_id"].astype(str), reds["timestamp"], reds["points"], strict=True)
            if m == mid and pd.Timestamp(t) <= end
        ]
        if not mtx and not mrd:
            continue
        # events: (time, order, kind, value); earning (0) before redemption (1)
        events = []
        for t, a in mtx:
            if a > 0:
                spend = sum((Decimal(repr(b)) for s, b in mtx if t - window <= s < t), Decimal(0))
                tier = rules.tiers[_tier(rules, spend)]
                pts = math.floor(round(a * rules.earn_rate * tier.multiplier, 6))
                events.append((t, 0, "earn", pts))
        for t, p in mrd:
            events.append((t, 1, "redeem", p))
        events.sort(key=lambda e: (e[0], e[1]))

        issued = redeemed = expired = 0.0
        balance = 0.0
        lots: list[list] = []  # fixed: [deadline, remaining]
        deadline = None  # inactivity: deadline of the last activity
        for t, _, kind, value in events:
            if exp.mode == "inactivity" and deadline is not None and t > deadline:
                expired += balance
                balance = 0.0
            if exp.mode == "fixed":
                # lots whose deadline is strictly before t expire before t's events
                for lot in lots:
                    if lot[0] < t and lot[1] > 0:
                        expired += lot[1]
                        balance -= lot[1]
                        lot[1] = 0.0
            if kind == "earn":
                issued += value
                balance += value
                if exp.mode == "fixed":
                    lots.append([_deadline(t, exp.months, exp.grace_days), float(value)])
            else:
                grant = min(value, balance)
                redeemed += grant
                balance -= grant
                if exp.mode == "fixed":
                    left = grant
                    for lot in lots:  # oldest first
                        take = min(lot[1], left)
                        lot[1] -= take
                        left -= take
            if exp.mode == "inactivity":
                deadline = _deadline(t, exp.months, exp.grace_days)
        if exp.mode == "inactivity" and deadline is not None and deadline <= end:
            expired += balance
            balance = 0.0
        if exp.mode == "fixed":
            for lot in lots:
                if lot[0] <= end and lot[1] > 0:
                    expired += lot[1]
                    balance -= lot[1]
                    lot[1] = 0.0
        if exp.mode == "fixed":
            open_ = [(lot[1], lot[0]) for lot in lots if lot[1] > 0]
        elif balance > 0:
            open_ = [(balance, deadline if exp.mode == "inactivity" else None)]
        else:
            open_ = []
        spend_end = sum((Decimal(repr(a)) for s, a in mtx if end - window <= s <= end), Decimal(0))
        members[mid] = {
            "issued": issued,
            "redeemed": redeemed,
            "expired": expired,
            "balance": balance,
            "tier": rules.tiers[_tier(rules, spend_end)].name,
            "open": open_,
        }
    totals = {
        "points_issued": sum(m["issued"] for m in members.values()),
        "points_redeemed": sum(m["redeemed"] for m in members.values()),
        "points_expired": sum(m["expired"] for m in members.values()),
        "points_outstanding": sum(m["balance"] for m in members.values()),
    }
    return {"totals": totals, "members": members}
