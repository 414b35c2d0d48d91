"""The program's current rules inferred from its data (tiers, earn rate, expiry)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from loyalty.schema import Dataset
from loyalty.simulator import kernels as K
from loyalty.simulator.rules import ExpiryPolicy, RewardRules, Tier

#: Name of the rules :func:`infer_baseline_rules` infers: true only of the data they came from.
INFERRED_NAME = "Baseline (inferred)"


# ---------------------------------------------------------------------------
# baseline inferred from the data
# ---------------------------------------------------------------------------
def _nice_between(lo: float, hi: float) -> float:
    """The roundest number in ``(lo, hi]`` (a tier threshold between two tiers' spends)."""
    for step in (10000, 5000, 1000, 500, 250, 100, 50, 25, 10, 5, 1, 0.5, 0.1, 0.01):
        c = math.floor(lo / step + 1) * step
        if lo < c <= hi:
            return float(c)
    return float(hi)


def _member_spend_at_end(tx: pd.DataFrame, days: int = 365) -> pd.Series:
    end = tx["timestamp"].max()
    win = tx[tx["member_id"].notna() & (tx["timestamp"] >= end - pd.Timedelta(days=days))]
    return win.groupby("member_id")["amount"].sum()


def _infer_tiers(ds: Dataset, earned: pd.DataFrame | None, notes: list[str]) -> tuple[Tier, ...] | None:
    """Tiers from ``members.tier`` (names, thresholds) and the earn ledger (multipliers)."""
    if ds.members is None or "tier" not in ds.members.columns or ds.members["tier"].notna().sum() == 0:
        return None
    tiers = ds.members.set_index("member_id")["tier"].dropna().astype(str)
    spend = _member_spend_at_end(ds.transactions).reindex(tiers.index).fillna(0.0)
    order = spend.groupby(tiers).median().sort_values()
    names = list(order.index)
    thresholds = [0.0]
    for lower, upper in zip(names[:-1], names[1:], strict=True):
        lo = float(spend[tiers == lower].max())
        hi = float(spend[tiers == upper].min())
        if hi <= lo:
            lo = float(spend[tiers == lower].quantile(0.95))
            hi = max(float(spend[tiers == upper].quantile(0.05)), lo + 0.01)
        thresholds.append(max(_nice_between(lo, hi), thresholds[-1] + 0.01))
    mults = [1.0] * len(names)
    if earned is not None and len(earned):
        # Large purchases pin the per-purchase rate to 2 decimals: earn_rate x multiplier.
        big = earned[earned["amount"] >= 100]
        level = np.ceil(big["points"] / big["amount"] * 100 - 1e-9) / 100
        share = level.value_counts(normalize=True)
        levels = sorted(share[share >= 0.02].index)
        if len(levels) == len(names):
            mults = [lv / levels[0] for lv in levels]
            notes.append(
                f"Tier multipliers {', '.join(f'{m:g}' for m in mults)} inferred from the points earned per "
                "currency unit on purchases of 100 or more."
            )
        else:
            notes.append(
                f"Tier multipliers not identifiable ({len(levels)} earn levels for {len(names)} tiers): "
                "assumed x1 for every tier — set them by hand."
            )
    notes.append(
        f"Tiers {', '.join(names)} taken from members.tier, ordered by members' spend over the last 365 days; "
        "thresholds placed between the tiers' spends (rounded); qualification window assumed 365 days."
    )
    return tuple(Tier(n, th, m) for n, th, m in zip(names, thresholds, mults, strict=True))


def _infer_expiry(ds: Dataset, notes: list[str]) -> ExpiryPolicy:
    led = ds.ledger
    exp = led[led["event"] == "expire"] if led is not None else None
    if exp is None or exp.empty:
        notes.append("No expiry events in the data: expiry assumed 'none'.")
        return ExpiryPolicy("none")
    led = led[led["member_id"].notna()].sort_values(["timestamp"], kind="stable")
    # Whole-balance expiry leaves a zero balance right after each expire row.
    bal = led.groupby("member_id")["points"].cumsum()
    whole = float((bal[exp.index.intersection(bal.index)] == 0).mean())
    tx = ds.transactions
    act = pd.concat(
        [
            tx.loc[tx["member_id"].notna() & (tx["amount"] > 0), ["member_id", "timestamp"]],
            led.loc[led["event"] == "redeem", ["member_id", "timestamp"]],
        ]
    ).sort_values("timestamp")
    e = exp[["member_id", "timestamp"]].rename(columns={"timestamp": "expired_at"}).sort_values("expired_at")
    m = pd.merge_asof(
        e, act.rename(columns={"timestamp": "last"}), left_on="expired_at", right_on="last",
        by="member_id", direction="backward", allow_exact_matches=False,
    ).dropna(subset=["last"])
    if m.empty:
        notes.append("Expiry events found but no earlier activity to measure from: expiry assumed 12 months.")
        return ExpiryPolicy("inactivity" if whole >= 0.9 else "fixed", 12, 0)
    last = m["last"].astype("datetime64[ns]").to_numpy().view(np.int64)
    at = m["expired_at"].astype("datetime64[ns]").to_numpy().view(np.int64)
    best = (0, 12, 0)
    for months in range(1, 61):  # a loop over candidate rule values, not rows
        gap = at - K.add_months(last, months)
        days = gap[(gap >= 0) & (gap % K.DAY_NS == 0)] // K.DAY_NS
        if days.size:
            vals, counts = np.unique(days, return_counts=True)
            i = int(np.argmax(counts))
            if counts[i] > best[0]:
                best = (int(counts[i]), months, int(vals[i]))
    share, months, grace = best[0] / len(m), best[1], best[2]
    mode = "inactivity" if whole >= 0.9 else "fixed"
    if mode == "inactivity" and share >= 0.5:
        notes.append(
            f"Inactivity expiry inferred: {share:.0%} of expiries fall exactly {months} months + {grace} days "
            f"after the member's last activity, and {whole:.0%} of them empty the balance."
        )
        return ExpiryPolicy("inactivity", months, grace)
    gaps = (at - last) / K.DAY_NS
    months = max(1, round(float(np.median(gaps)) / 30.44))
    notes.append(
        f"Expiry events found ({mode}, {whole:.0%} empty the balance) but no exact rule fits: "
        f"expiry estimated at {months} months from the median gap, grace 0 days — check it."
    )
    return ExpiryPolicy(mode, months, 0)


def infer_baseline_rules(dataset: Dataset, point_value: float = 0.01) -> tuple[RewardRules, list[str]]:
    """The program's current rules as far as the data shows them.

    Earn rate = points earned / member spend on purchases (ledger earn events,
    else the transactions' ``points_earned``); tiers from ``members.tier``;
    expiry from the ledger's expire events (inactivity months + grace estimated
    from the gap between the last activity and the expiry). Everything not in
    the data is a stated default.

    Returns
    -------
    (RewardRules, list of str)
        The rules and notes saying what was inferred and what was assumed.
    """
    notes: list[str] = []
    tx = dataset.transactions
    buys = tx[tx["member_id"].notna() & (tx["amount"] > 0)]
    spend = float(buys["amount"].sum())
    led = dataset.ledger
    earned = None
    points = None
    if led is not None and (led["event"] == "earn").any():
        ev = led[(led["event"] == "earn") & led["member_id"].notna()]
        points = float(ev["points"].sum())
        # Purchases matched one-to-one with their earn row (same member and time).
        b1 = buys[~buys.duplicated(["member_id", "timestamp"], keep=False)]
        e1 = ev[~ev.duplicated(["member_id", "timestamp"], keep=False)]
        earned = b1[["member_id", "timestamp", "amount"]].merge(e1[["member_id", "timestamp", "points"]])
        source = "the ledger's earn events"
    elif "points_earned" in tx.columns and tx["points_earned"].notna().any():
        points = float(buys["points_earned"].sum())
        earned = buys[["member_id", "timestamp", "amount"]].assign(points=buys["points_earned"]).dropna()
        source = "the transactions' points_earned"
    tiers = _infer_tiers(dataset, earned, notes)
    if points is not None and spend > 0:
        rate = points / spend
        if tiers is not None and earned is not None and len(earned):
            big = earned[earned["amount"] >= 100]
            if len(big):
                rate = float((np.ceil(big["points"] / big["amount"] * 100 - 1e-9) / 100).min())
        rate = float(f"{rate:.3g}")
        notes.insert(0, f"Earn rate {rate:g} points per currency unit inferred from {source} ({points:,.0f} points on {spend:,.0f} of member purchases).")
    else:
        rate = 1.0
        notes.insert(0, "No points data: earn rate assumed 1 point per currency unit.")
    if tiers is None:
        tiers = (Tier("Base", 0.0, 1.0),)
        notes.append("No member tiers in the data: a single 'Base' tier assumed.")
    notes.append("Tier benefit costs assumed 0 (not in the data): enter them to see their cost.")
    expiry = _infer_expiry(dataset, notes)
    min_red = 0.0
    if led is not None and (led["event"] == "redeem").any():
        red = led.loc[led["event"] == "redeem", "points"].abs()
        min_red = float(red.min())
        notes.append(f"Minimum redemption {min_red:,.0f} points = the smallest redemption in the ledger.")
    notes.append(f"Point value {point_value:g} from the program inputs (sidebar).")
    rules = RewardRules(
        earn_rate=rate,
        point_value=point_value,
        tiers=tiers,
        qualification_days=365,
        expiry=expiry,
        min_redemption=min_red,
        name=INFERRED_NAME,
    )
    return rules, notes


