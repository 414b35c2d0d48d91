"""The KPI engine: every program KPI for a period, defined in :mod:`loyalty.metrics`.

Period convention: ``[start, end]`` with both days included (``end`` covers the
whole end day); the previous period is the same number of whole days just
before ``start`` (:func:`~loyalty.kpis.frame.previous_period`).

A *purchase* is a transaction with ``amount > 0``; returns (``amount < 0``)
reduce revenue but are not purchases, so a member with only returns in the
period is not active. Guests are transactions without a member id.

Member filter (``members_filter``, a set of member ids, e.g. a tier/region or
segment): member KPIs cover the selected members only, ``revenue``/``aov``/
``transactions`` cover the selected members' transactions, ``member_revenue_share``
is their share of *all* revenue, and guest KPIs are unfiltered (they are the
comparison group).

Every ratio with a zero or unknown denominator is NaN; KPIs whose table is
missing are NaN (see ``Metric.needs`` in :mod:`loyalty.metrics`).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from loyalty.clv.classic import LIFESPAN_CAP_YEARS, expected_lifespan_years
from loyalty.economics import BreakageEstimate, exit_mix_breakage, points_liability
from loyalty.kpis.flows import (
    history_flows,
    outstanding_points,
    points_flows,
    redeemers_in_period,
)
from loyalty.kpis.frame import KpiFrame, as_frame
from loyalty.metrics import KPI_KEYS, METRICS
from loyalty.periods import DateLike, ns, period_bounds, previous_period
from loyalty.schema import Dataset

NAN = float("nan")
_YEAR_DAYS = 365.25


def _div(a: float, b: float) -> float:
    """a / b, NaN when b is 0 or either side is NaN."""
    if b == 0 or np.isnan(a) or np.isnan(b):
        return NAN
    return float(a) / float(b)


def _tx_slice(kf: KpiFrame, s: int, e: int) -> slice:
    i0, i1 = np.searchsorted(kf.tx_ts, [s, e], side="left")
    return slice(int(i0), int(i1))


def _member_sel(codes: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    sel = codes >= 0
    if mask is not None:
        sel &= mask[np.maximum(codes, 0)]
    return sel


def _purchases_per_member(kf: KpiFrame, s: int, e: int, mask: np.ndarray | None) -> np.ndarray:
    sl = _tx_slice(kf, s, e)
    codes = kf.tx_member[sl]
    keep = _member_sel(codes, mask) & (kf.tx_amount[sl] > 0)
    return np.bincount(codes[keep], minlength=kf.n_members)


def _month_fraction(month_ns: np.ndarray, s: int, e: int) -> np.ndarray:
    """Share of each calendar month (given by any timestamp in it) inside ``[s, e)``."""
    m = month_ns.astype("datetime64[ns]").astype("datetime64[M]")
    m0 = m.astype("datetime64[ns]").view("i8")
    m1 = (m + 1).astype("datetime64[ns]").view("i8")
    overlap = np.clip(np.minimum(m1, e) - np.maximum(m0, s), 0, None)
    return overlap / (m1 - m0)


def _period_costs(kf: KpiFrame, s: int, e: int, monthly_platform_cost: float) -> dict[str, float]:
    """Prorated costs in ``[s, e)`` by kind: rewards, platform, acquisition, other (NaN = no data)."""
    out = {"rewards": NAN, "platform": NAN, "acquisition": NAN, "file_total": NAN}
    c = kf.costs
    if c is not None:
        frac = _month_fraction(c["month"].to_numpy(dtype="datetime64[ns]").view("i8"), s, e)
        amt = c["amount"].to_numpy(dtype="float64", na_value=0.0) * frac
        cat = c["category"].astype("str").str.strip().str.lower().to_numpy()
        out["file_total"] = float(amt.sum())
        for kind, names in (
            ("rewards", ("rewards", "reward")),
            ("platform", ("platform",)),
            ("acquisition", ("acquisition",)),
        ):
            hit = np.isin(cat, names)
            if hit.any():
                out[kind] = float(amt[hit].sum())
    if monthly_platform_cost:
        months = (
            np.arange(
                np.datetime64(s, "ns").astype("datetime64[M]"),
                np.datetime64(e - 1, "ns").astype("datetime64[M]") + 1,
            )
            .astype("datetime64[ns]")
            .view("i8")
        )
        out["platform_input"] = float(monthly_platform_cost * _month_fraction(months, s, e).sum())
    return out


def sales_kpis_from_counts(
    *,
    revenue: float,
    purchases: float,
    all_revenue: float,
    member_revenue: float,
    member_purchases: float,
    guest_revenue: float,
    guest_purchases: float,
    active_members: float,
    repeat_members: float,
    retained_members: float,
    previous_active: float,
) -> dict[str, float]:
    """The sales and member-vs-guest KPIs from a period's counts and sums (the one place their ratios live).

    Shared by :func:`compute_kpis` and the Spark path, which computes the same counts as Spark
    aggregations. Inputs: ``revenue``/``purchases`` in scope (all customers, or the filtered
    members), ``all_revenue`` of every customer, member and guest sums and purchase counts,
    ``active_members`` (>= 1 purchase), ``repeat_members`` (>= 2 purchases),
    ``retained_members`` (active in the previous period and in this one) and
    ``previous_active`` (active in the previous period). Currency and counts.
    """
    k = {
        "active_members": float(active_members),
        "revenue": float(revenue),
        "transactions": float(purchases),
        "member_revenue": float(member_revenue),
        "guest_revenue": float(guest_revenue),
        "member_transactions": float(member_purchases),
        "guest_transactions": float(guest_purchases),
        "member_revenue_share": _div(member_revenue, all_revenue),
        "aov": _div(revenue, purchases),
        "member_aov": _div(member_revenue, member_purchases),
        "guest_aov": _div(guest_revenue, guest_purchases),
        "purchase_frequency": _div(member_purchases, active_members),
        "repeat_purchase_rate": _div(repeat_members, active_members),
        "retained_members": float(retained_members),
        "retention_rate": _div(retained_members, previous_active),
        "member_spend_per_customer": _div(member_revenue, active_members),
    }
    k["churn_rate"] = 1.0 - k["retention_rate"]
    k["guest_spend_per_transaction"] = k["guest_aov"]
    return k


def compute_kpis(
    dataset: Dataset | KpiFrame,
    start: DateLike,
    end: DateLike,
    point_value: float = 0.01,
    margin: float | None = None,
    *,
    monthly_platform_cost: float = 0.0,
    members_filter: Iterable[str] | None = None,
) -> dict[str, float]:
    """All KPIs of ``[start, end]`` (inclusive days) as ``{key: value}``.

    Parameters
    ----------
    dataset : Dataset or KpiFrame
        The program (a prepared :class:`KpiFrame` skips the one-off preparation).
    start, end : date-like
        First and last day of the period, both included.
    point_value : float
        Currency per point (reward cost, liability).
    margin : float, optional
        Gross margin 0-1; ``program_roi`` is NaN without it.
    monthly_platform_cost : float
        Currency per month, prorated by days; added to the costs file's
        amounts (the sidebar input's definition, shared by every page).
    members_filter : iterable of str, optional
        Restrict member KPIs to these member ids (see module docstring).

    Returns
    -------
    dict[str, float]
        Keys of :data:`~loyalty.metrics.KPI_KEYS`; NaN when the data to
        compute one is absent or its denominator is zero.
    """
    kf = as_frame(dataset)
    s_ts, e_ts = period_bounds(start, end)
    s, e = ns(s_ts), ns(e_ts)
    days = (e_ts - s_ts).days
    ps_ts, _ = previous_period(start, end)
    ps = ns(ps_ts)
    mask = kf.member_mask(members_filter)
    n = kf.n_members
    k: dict[str, float] = {}

    # --- Membership ---
    in_scope = mask if mask is not None else np.ones(n, dtype=bool)
    enrolled = kf.enrolled
    k["members_total"] = float(np.count_nonzero(in_scope & (enrolled < e)))
    if kf.has_members:
        new = in_scope & (enrolled >= s) & (enrolled < e)
        k["new_members"] = float(np.count_nonzero(new))
        k["member_growth_rate"] = _div(k["new_members"], np.count_nonzero(in_scope & (enrolled < s)))
    else:
        new = None
        k["new_members"] = k["member_growth_rate"] = NAN

    # --- Sales (one pass over the period slice) ---
    sl = _tx_slice(kf, s, e)
    amt = kf.tx_amount[sl]
    codes = kf.tx_member[sl]
    purch = amt > 0
    is_guest = codes < 0
    msel = _member_sel(codes, mask)
    mc, ma, mp = codes[msel], amt[msel], purch[msel]
    n_purch = np.bincount(mc[mp], minlength=n)
    spend = np.bincount(mc, weights=ma, minlength=n)
    active = n_purch > 0
    n_active = int(np.count_nonzero(active))
    member_rev = float(ma.sum())
    member_purch = float(np.count_nonzero(mp))
    guest_rev = float(amt[is_guest].sum())
    guest_purch = float(np.count_nonzero(purch & is_guest))
    all_rev = float(amt.sum())
    if mask is None:
        revenue, purchases = all_rev, float(np.count_nonzero(purch))
    else:
        revenue, purchases = member_rev, member_purch

    prev_active = _purchases_per_member(kf, ps, s, mask) > 0
    k.update(
        sales_kpis_from_counts(
            revenue=revenue,
            purchases=purchases,
            all_revenue=all_rev,
            member_revenue=member_rev,
            member_purchases=member_purch,
            guest_revenue=guest_rev,
            guest_purchases=guest_purch,
            active_members=n_active,
            repeat_members=int(np.count_nonzero(n_purch >= 2)),
            retained_members=int(np.count_nonzero(prev_active & active)),
            previous_active=int(np.count_nonzero(prev_active)),
        )
    )
    k["active_rate"] = _div(n_active, k["members_total"])
    k["member_vs_guest_aov_uplift"] = _div(k["member_aov"], k["guest_aov"]) - 1.0
    redeemed_any = redeemers_in_period(kf, s, e)
    if redeemed_any is not None:
        red = active & redeemed_any
        non = active & ~redeemed_any
        for name, grp in (("redeemer", red), ("non_redeemer", non)):
            cnt = np.count_nonzero(grp)
            g_rev, g_pur = float(spend[grp].sum()), float(n_purch[grp].sum())
            k[f"{name}_spend_per_member"] = _div(g_rev, cnt)
            k[f"{name}_frequency"] = _div(g_pur, cnt)
            k[f"{name}_aov"] = _div(g_rev, g_pur)
        k["redeemers"] = float(np.count_nonzero(red))
        k["non_redeemers"] = float(np.count_nonzero(non))
        k["redeemer_uplift"] = _div(k["redeemer_spend_per_member"], k["non_redeemer_spend_per_member"]) - 1.0
        k["redeemer_rate"] = _div(k["redeemers"], n_active)
    else:
        for key in (
            "redeemer_spend_per_member",
            "non_redeemer_spend_per_member",
            "redeemer_frequency",
            "non_redeemer_frequency",
            "redeemer_aov",
            "non_redeemer_aov",
            "redeemers",
            "non_redeemers",
            "redeemer_uplift",
            "redeemer_rate",
        ):
            k[key] = NAN

    # --- Points ---
    f = points_flows(kf, s, e, mask)
    k["points_issued"], k["points_redeemed"], k["points_expired"] = f.issued, f.redeemed, f.expired
    k["issuance_ratio"] = _div(f.issued, member_rev)
    k["redemption_rate"] = _div(f.redeemed, f.issued)
    k["expiry_rate"] = _div(f.expired, f.issued)
    k["points_outstanding"] = outstanding_points(kf, e, mask)
    b = _breakage(kf, e, mask)
    k["breakage_rate"] = b.value
    li = points_liability(k["points_outstanding"], point_value, b.value)
    k["liability_naive"], k["liability"] = li.naive, li.adjusted

    # --- Value ---
    annual_freq = k["purchase_frequency"] * _YEAR_DAYS / days
    annual_churn = 1.0 - k["retention_rate"] ** (_YEAR_DAYS / days)
    lifespan = expected_lifespan_years(annual_churn, LIFESPAN_CAP_YEARS)
    k["expected_lifespan_years"] = lifespan
    k["revenue_clv_period"] = k["member_aov"] * annual_freq * lifespan

    costs = _period_costs(kf, s, e, monthly_platform_cost)
    reward = costs["rewards"] if not np.isnan(costs["rewards"]) else f.redeemed * point_value
    k["reward_cost"] = reward
    parts = [
        reward if np.isnan(costs["rewards"]) else NAN,
        costs["file_total"],
        costs.get("platform_input", NAN),
    ]
    k["program_cost"] = float(np.nansum(parts)) if not np.all(np.isnan(parts)) else NAN
    k["cac"] = _div(costs["acquisition"], k["new_members"])
    k["cost_per_retained_member"] = _div(k["program_cost"], k["retained_members"])
    if redeemed_any is not None and k["redeemers"] > 0 and k["non_redeemers"] > 0:
        incr = (k["redeemer_spend_per_member"] - k["non_redeemer_spend_per_member"]) * k["redeemers"]
    else:
        incr = (k["member_aov"] - k["guest_aov"]) * member_purch
    k["incremental_revenue"] = incr
    k["program_roi"] = NAN if margin is None else _div(incr * margin - k["program_cost"], k["program_cost"])

    # --- Voice ---
    k.update(_voice(kf, s, e, mask))
    if kf.referrer is not None and new is not None:
        # Referrers of everyone enrolled in the period; with a filter, only
        # referrers inside the selection count (the referred may be anyone).
        ref = kf.referrer[(enrolled >= s) & (enrolled < e)]
        ref = ref[ref >= 0]
        if mask is not None:
            ref = ref[(ref < n) & mask[np.minimum(ref, n - 1)]]
        k["referral_rate"] = _div(len(np.unique(ref)), n_active)
        k["referred_share"] = _div(np.count_nonzero(kf.referrer[new] >= 0), np.count_nonzero(new))
    else:
        k["referral_rate"] = k["referred_share"] = NAN
    return {key: float(v) for key, v in k.items()}


def _voice(kf: KpiFrame, s: int, e: int, mask: np.ndarray | None) -> dict[str, float]:
    sv = kf.surveys
    if sv is None:
        return {"nps": NAN, "csat": NAN, "survey_responses": NAN}
    t = sv["date"].to_numpy(dtype="datetime64[ns]").view("i8")
    keep = (t >= s) & (t < e)
    if mask is not None:
        idx = kf.ids.get_indexer(sv["member_id"])
        keep &= (idx >= 0) & mask[np.maximum(idx, 0)]
    score = sv["nps_score"].to_numpy(dtype="float64", na_value=np.nan)[keep]
    score = score[~np.isnan(score)]
    nps = (
        NAN
        if len(score) == 0
        else 100.0 * (np.count_nonzero(score >= 9) - np.count_nonzero(score <= 6)) / len(score)
    )
    csat = NAN
    if "csat" in sv.columns:
        c = sv["csat"].to_numpy(dtype="float64", na_value=np.nan)[keep]
        c = c[~np.isnan(c)]
        csat = float(c.mean()) if len(c) else NAN
    return {"nps": nps, "csat": csat, "survey_responses": float(len(score))}


def _breakage(kf: KpiFrame, end_ns: int, mask: np.ndarray | None) -> BreakageEstimate:
    """Breakage rate over the history up to ``end_ns`` (registry key ``breakage_rate``)."""
    f = history_flows(kf, end_ns, mask)
    return exit_mix_breakage(f.expired, f.redeemed, expiry_known=kf.points_source == "ledger")


def kpi_notes(
    dataset: Dataset | KpiFrame,
    end: DateLike,
    kpis: dict[str, float] | None = None,
    *,
    members_filter: Iterable[str] | None = None,
) -> dict[str, str]:
    """Plain-language methods behind the estimated KPIs (breakage, ROI, CLV)."""
    kf = as_frame(dataset)
    _, e = period_bounds(end, end)
    b = _breakage(kf, ns(e), kf.member_mask(members_filter))
    redeemer_based = kpis is not None and kpis.get("redeemers", 0) > 0 and kpis.get("non_redeemers", 0) > 0
    roi = (
        "Incremental revenue = (redeemer spend per member - non-redeemer spend per member) x redeemers, "
        "among members active in the period."
        if redeemer_based
        else "Incremental revenue = (member AOV - guest AOV) x member purchases."
    ) + (
        " Caveat (selection bias): members who redeem, or join, are already heavier buyers, so the gap "
        "overstates what the program causes; treat ROI as an upper bound. A holdout test measures it properly."
    )
    clv = (
        f"Lifespan = 1 / annual churn, annual churn = 1 - retention^(365.25 / period days), capped at "
        f"{LIFESPAN_CAP_YEARS:g} years (a program with near-zero churn would otherwise get an unbounded CLV); "
        "no figure when retention is unknown."
    )
    return {"breakage": b.method, "roi": roi, "clv": clv}


def kpi_table(
    current: dict[str, float],
    previous: dict[str, float] | None = None,
) -> pd.DataFrame:
    """Tidy KPI table for download: kpi, label, group, value, previous, delta, delta_pct, unit, formula."""
    keys = [key for key in KPI_KEYS if key in current]
    d = METRICS
    val = np.array([current[key] for key in keys], dtype=float)
    prev = np.array([(previous or {}).get(key, NAN) for key in keys], dtype=float)
    delta = val - prev
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(prev != 0, delta / np.abs(prev), np.nan)
    return pd.DataFrame(
        {
            "kpi": keys,
            "label": [d[key].label for key in keys],
            "group": [d[key].group for key in keys],
            "value": val,
            "previous": prev,
            "delta": delta,
            "delta_pct": pct,
            "unit": [d[key].unit for key in keys],
            "formula": [d[key].formula for key in keys],
        }
    )


def compute_kpi_table(
    dataset: Dataset | KpiFrame,
    start: DateLike,
    end: DateLike,
    point_value: float = 0.01,
    margin: float | None = None,
    *,
    monthly_platform_cost: float = 0.0,
    members_filter: Iterable[str] | None = None,
) -> pd.DataFrame:
    """:func:`kpi_table` of ``[start, end]`` against the previous period of the same length."""
    kw = dict(
        point_value=point_value,
        margin=margin,
        monthly_platform_cost=monthly_platform_cost,
        members_filter=members_filter,
    )
    cur = compute_kpis(dataset, start, end, **kw)
    ps, pe = previous_period(start, end)
    return kpi_table(cur, compute_kpis(dataset, ps, pe, **kw))
