"""The KPI engine: every program KPI for a period, defined in :mod:`loyalty.metrics`.

Period convention: ``[start, end]`` with both days included (``end`` covers the
whole end day); the previous period is the same number of whole days just
before ``start`` (:func:`~loyalty.periods.previous_period`). A period is compared
with the previous period or the same period last year only when the data covers
that period entirely (:func:`kpi_comparison`); retention and the KPIs built on it
are NaN when the previous period starts before the data.

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

import threading
import weakref
from collections.abc import Iterable

import numpy as np
import pandas as pd

from loyalty.clv.classic import LIFESPAN_CAP_YEARS, expected_lifespan_years, lifespan_capped
from loyalty.economics import (
    BreakageEstimate,
    FifoAttribution,
    attribute_fifo,
    cohort_cells,
    estimate_from_cells,
    events_from_arrays,
    not_estimated,
    points_liability,
)
from loyalty.experiments import ProgramEffect, analyse_campaigns, event_study, program_effect
from loyalty.kpis.flows import (
    outstanding_points,
    points_flows,
    redeemers_in_period,
)
from loyalty.kpis.frame import KpiFrame, as_frame
from loyalty.metrics import KPI_KEYS, METRICS
from loyalty.periods import (
    Comparison,
    DateLike,
    comparison,
    coverage_gap,
    ns,
    period_bounds,
    previous_period,
)
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
    """Prorated costs in ``[s, e)`` (currency) by kind (NaN = no data).

    Keys: ``rewards``, ``platform``, ``acquisition`` (rows of that category), ``file_total``
    (every row of the costs file), ``file_retention`` (every row but acquisition: the
    file's part of the retention cost; NaN when the file has no other row) and
    ``platform_input`` (the monthly input, prorated; only when it is set).
    """
    out = {"rewards": NAN, "platform": NAN, "acquisition": NAN, "file_total": NAN, "file_retention": NAN}
    c = kf.costs
    if c is not None:
        frac = _month_fraction(c["month"].to_numpy(dtype="datetime64[ns]").view("i8"), s, e)
        amt = c["amount"].to_numpy(dtype="float64", na_value=0.0) * frac
        cat = c["category"].astype("str").str.strip().str.lower().to_numpy()
        out["file_total"] = float(amt.sum())
        other = cat != "acquisition"
        if other.any():
            out["file_retention"] = float(amt[other].sum())
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
    ``previous_active`` (active in the previous period). Currency and counts. Pass NaN for
    the last two when the data does not cover the previous period (it starts before the
    first day with data): retention and churn are then unknown rather than measured on the
    few days that have data.
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
        compute one is absent or its denominator is zero. Helper keys that
        qualify a KPI: ``annual_churn`` (0-1) and ``expected_lifespan_years`` (years,
        behind ``revenue_clv_period``), ``lifespan_capped`` (1.0 when that lifespan is
        the cap rather than 1 / annual churn, 0.0 when not, NaN when unknown) and
        ``retention_cost`` (currency: program cost without acquisition costs,
        the numerator of ``cost_per_retained_member``).
    """
    kf = as_frame(dataset)
    s_ts, e_ts = period_bounds(start, end)
    s, e = ns(s_ts), ns(e_ts)
    days = (e_ts - s_ts).days
    ps_ts, pe_ts = previous_period(start, end)
    ps = ns(ps_ts)
    # Retention compares with the previous period: when that period starts before the data, the
    # members "active" in it are those of its last few days (100% retention from one day of data).
    span = kf.data_span
    previous_known = not coverage_gap(ps_ts, pe_ts, None if span is None else span[0])
    mask = kf.member_mask(members_filter)
    n = kf.n_members
    k: dict[str, float] = {}

    # --- Membership ---
    in_scope = mask if mask is not None else np.ones(n, dtype=bool)
    enrolled = kf.enrolled
    # Program members at the period end: the denominator of the member-share rates below.
    counted = in_scope & (enrolled < e)
    k["members_total"] = float(np.count_nonzero(counted))
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
            retained_members=int(np.count_nonzero(prev_active & active)) if previous_known else NAN,
            previous_active=int(np.count_nonzero(prev_active)) if previous_known else NAN,
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
        # Share of the whole membership that redeemed (the usual definition), not of the active
        # members: a member may redeem without buying, and dividing by the active would move the
        # rate with purchase activity rather than with redemption.
        k["redeemer_rate"] = _div(np.count_nonzero(redeemed_any & counted), k["members_total"])
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
    k["urr"] = b.urr
    k["cost_per_point"] = _cost_per_point(kf, e, point_value)
    li = points_liability(k["points_outstanding"], point_value, b.value, k["cost_per_point"])
    k["liability_naive"], k["liability"] = li.naive, li.adjusted

    # --- Value ---
    annual_freq = k["purchase_frequency"] * _YEAR_DAYS / days
    annual_churn = 1.0 - k["retention_rate"] ** (_YEAR_DAYS / days)
    lifespan = expected_lifespan_years(annual_churn, LIFESPAN_CAP_YEARS)
    k["annual_churn"] = annual_churn
    k["expected_lifespan_years"] = lifespan
    # The cap is a guard, not a measurement: flag it so the tile and the notes can say so.
    capped = lifespan_capped(annual_churn, LIFESPAN_CAP_YEARS)
    k["lifespan_capped"] = NAN if np.isnan(lifespan) else float(capped)
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
    # Retention cost = program cost without acquisition: winning new members (CAC) is not a
    # cost of keeping the existing ones.
    retention_parts = [parts[0], costs["file_retention"], parts[2]]
    k["retention_cost"] = (
        float(np.nansum(retention_parts)) if not np.all(np.isnan(retention_parts)) else NAN
    )
    k["cost_per_retained_member"] = _div(k["retention_cost"], k["retained_members"])
    # Incremental revenue: the best estimate available (randomised > event study > redeemer uplift).
    measured = _measured_effect(dataset, kf, s_ts, e_ts, mask, members_filter)
    k["incremental_revenue_low"] = k["incremental_revenue_high"] = NAN
    k["roi_campaigns"], k["roi_member_months"] = 0.0, NAN
    if measured is not None:
        incr = measured.incremental_revenue
        k["roi_basis"] = ROI_BASIS[measured.source]
        k["incremental_revenue_low"], k["incremental_revenue_high"] = measured.ci_low, measured.ci_high
        k["roi_campaigns"], k["roi_member_months"] = float(measured.campaigns), measured.member_months
    elif redeemed_any is not None and k["redeemers"] > 0 and k["non_redeemers"] > 0:
        incr = (k["redeemer_spend_per_member"] - k["non_redeemer_spend_per_member"]) * k["redeemers"]
        k["roi_basis"] = ROI_BASIS["redeemer_uplift"]
    else:
        incr = (k["member_aov"] - k["guest_aov"]) * member_purch
        k["roi_basis"] = ROI_BASIS["member_vs_guest"]
    k["incremental_revenue"] = incr
    k["program_roi"] = NAN if margin is None else _div(incr * margin - k["program_cost"], k["program_cost"])

    # --- Voice ---
    k.update(_voice(kf, s, e, mask))
    if kf.referrer is not None and new is not None:
        # Referrers of everyone enrolled in the period; with a filter, only
        # referrers inside the selection count (the referred may be anyone).
        ref = kf.referrer[(enrolled >= s) & (enrolled < e)]
        # Referrers are counted among the program members (the denominator), so a referrer id
        # unknown to the data (code n) or enrolled after the period is left out.
        ref = ref[(ref >= 0) & (ref < n)]
        ref = ref[counted[ref]]
        k["referral_rate"] = _div(len(np.unique(ref)), k["members_total"])
        k["referred_share"] = _div(np.count_nonzero(kf.referrer[new] >= 0), np.count_nonzero(new))
    else:
        k["referral_rate"] = k["referred_share"] = NAN
    return {key: float(v) for key, v in k.items()}


def _voice(kf: KpiFrame, s: int, e: int, mask: np.ndarray | None) -> dict[str, float]:
    """NPS, CSAT (mean and top-2 share) and the response count of the surveys in ``[s, e)``."""
    sv = kf.surveys
    if sv is None:
        return {"nps": NAN, "csat": NAN, "csat_top2_share": NAN, "survey_responses": NAN}
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
    csat = top2 = NAN
    if "csat" in sv.columns:
        c = sv["csat"].to_numpy(dtype="float64", na_value=np.nan)[keep]
        c = c[~np.isnan(c)]
        if len(c):
            csat = float(c.mean())
            # The usual "CSAT %": satisfied (4) or very satisfied (5) responses / responses.
            top2 = float(np.count_nonzero(c >= 4)) / len(c)
    return {"nps": nps, "csat": csat, "csat_top2_share": top2, "survey_responses": float(len(score))}


_ATTRIBUTION: weakref.WeakKeyDictionary[KpiFrame, FifoAttribution] = weakref.WeakKeyDictionary()
_ATTR_LOCK = threading.Lock()


def _attribution(kf: KpiFrame) -> FifoAttribution:
    """FIFO earn-cohort attribution of the frame's ledger, once per frame."""
    with _ATTR_LOCK:
        hit = _ATTRIBUTION.get(kf)
    if hit is None:
        hit = attribute_fifo(events_from_arrays(kf.led_member, kf.led_ts, kf.led_event, kf.led_points, kf.n_members))
        with _ATTR_LOCK:
            _ATTRIBUTION[kf] = hit
    return hit


def _breakage(kf: KpiFrame, end_ns: int, mask: np.ndarray | None) -> BreakageEstimate:
    """Earn-cohort breakage of the points outstanding at ``end_ns`` (registry keys ``breakage_rate``, ``urr``).

    The chain-ladder estimate of :func:`loyalty.economics.estimate_breakage`, on the ledger up to
    the period end (the members in ``mask`` only). Without a ledger, not estimated: the transactions'
    point columns carry no expiries.
    """
    if kf.points_source != "ledger":
        return _no_ledger_breakage()
    attr = _attribution(kf)
    return estimate_from_cells(cohort_cells(attr, end_ns - 1, mask), issues=attr.issues)


def _no_ledger_breakage() -> BreakageEstimate:
    return not_estimated(
        "breakage needs a points ledger (earn, redeem and expire events); the transactions' point columns "
        "carry no expiries. Upload the ledger.",
        None,
    )


def _cost_per_point(kf: KpiFrame, end_ns: int, point_value: float) -> float:
    """Reward cost / points redeemed over the 12 months to ``end_ns`` (costs table 'rewards' rows, prorated by
    days; the whole program, whatever the member filter), else ``point_value`` (registry key ``cost_per_point``)."""
    start = ns(pd.Timestamp(end_ns) - pd.DateOffset(months=12))
    rewards = _period_costs(kf, start, end_ns, 0.0)["rewards"]
    redeemed = points_flows(kf, start, end_ns).redeemed
    if np.isfinite(rewards) and redeemed > 0:
        return float(rewards / redeemed)
    return float(point_value)


def kpi_notes(
    dataset: Dataset | KpiFrame,
    end: DateLike,
    kpis: dict[str, float] | None = None,
    *,
    members_filter: Iterable[str] | None = None,
) -> dict[str, str]:
    """Plain-language methods behind the estimated KPIs.

    Keys: ``breakage``, ``roi``, ``clv`` (the lifespan rule, plus the cap sentence when it
    applies) and ``clv_cap``: when ``kpis`` (from :func:`compute_kpis`) has its lifespan
    capped, one sentence saying that ``revenue_clv_period`` is set by the cap rather than
    measured, for the tile's help; empty otherwise.
    """
    kf = as_frame(dataset)
    _, e = period_bounds(end, end)
    b = _breakage(kf, ns(e), kf.member_mask(members_filter))
    roi = roi_note(kpis)
    clv = (
        f"Lifespan = 1 / annual churn, annual churn = 1 - retention^(365.25 / period days), capped at "
        f"{LIFESPAN_CAP_YEARS:g} years (a program with near-zero churn would otherwise get an unbounded CLV); "
        "no figure when retention is unknown."
    )
    cap = ""
    if kpis is not None and kpis.get("lifespan_capped") == 1:
        churn = kpis.get("annual_churn", NAN)
        why = "nobody lapsed" if churn == 0 else f"1 / churn = {1 / churn:,.0f} years"
        cap = (
            f"Lifespan capped this period: retention {kpis.get('retention_rate', NAN):.1%} gives an annual "
            f"churn of {churn:.1%} ({why}), so {METRICS['revenue_clv_period'].label} uses the "
            f"{LIFESPAN_CAP_YEARS:g}-year cap: the figure is set by the cap, not measured."
        )
        clv += " " + cap
    return {"breakage": b.method, "roi": roi, "clv": clv, "clv_cap": cap}


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
    basis: str = "previous",
) -> pd.DataFrame:
    """:func:`kpi_table` of ``[start, end]`` against its comparison period (:func:`kpi_comparison`).

    ``basis`` is ``"previous"`` (the same number of days just before) or ``"last_year"``.
    When the data does not cover the comparison period, ``previous`` and the changes are NaN.
    """
    kw = dict(
        point_value=point_value,
        margin=margin,
        monthly_platform_cost=monthly_platform_cost,
        members_filter=members_filter,
    )
    cur = compute_kpis(dataset, start, end, **kw)
    cmp = kpi_comparison(dataset, start, end, basis)
    return kpi_table(cur, compute_kpis(dataset, cmp.start, cmp.end, **kw) if cmp.available else None)


def kpi_comparison(dataset: Dataset | KpiFrame, start: DateLike, end: DateLike,
                   basis: str = "previous") -> Comparison:
    """The period ``[start, end]`` is compared with, and why there is none when the data cannot give one.

    Parameters
    ----------
    dataset : Dataset or KpiFrame
        The program; its activity data (transactions and points ledger) sets what is covered.
    start, end : date-like
        The period, both days included.
    basis : str
        ``"previous"`` (the same number of days just before ``start``) or ``"last_year"``
        (the same calendar days one year earlier).

    Returns
    -------
    Comparison
        The comparison period; ``available`` is False (``missing`` says why, e.g. "data starts
        01 Nov 2023") unless the data covers every day of it and of the period. Callers show no
        change then: a comparison period with one day of data gives a +50,000% revenue change.
    """
    first, last = as_frame(dataset).data_span or (None, None)
    return comparison(start, end, first, last, basis)


# --- incremental revenue: the best measurement available ------------------------------------------
#: ``roi_basis`` helper key of :func:`compute_kpis`: where ``incremental_revenue`` comes from.
ROI_BASIS: dict[str, float] = {"randomised": 3.0, "event_study": 2.0, "redeemer_uplift": 1.0, "member_vs_guest": 0.0}


def _measured_effect(
    data: Dataset | KpiFrame,
    kf: KpiFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    mask: np.ndarray | None,
    members_filter: Iterable[str] | None,
) -> ProgramEffect | None:
    """Randomised campaigns overlapping the period, else the event study (a :class:`Dataset` is needed).

    ``end`` is the exclusive end of the period (``period_bounds``); both analyses are memoised per dataset.
    """
    if not isinstance(data, Dataset):
        return None
    analysis = analyse_campaigns(data) if data.campaigns is not None else None
    last_day = pd.Timestamp(end) - pd.Timedelta(days=1)
    wanted = None if members_filter is None else set(pd.Series(list(members_filter), dtype="str").dropna())
    effect = program_effect(analysis, None, start, last_day, campaigns=data.campaigns, members_filter=wanted)
    if effect is not None or not kf.has_members:
        return effect
    study = event_study(data)
    if not study.identified:
        return None
    return program_effect(None, study, start, last_day, enrolled_ns=_enrolled_by_table(kf), mask=mask)


def _enrolled_by_table(kf: KpiFrame) -> np.ndarray:
    """Enrolment time per member code from the members table only (others: never, so not counted)."""
    out = np.full(kf.n_members, np.iinfo(np.int64).max, dtype=np.int64)
    m = kf.members
    if m is None:
        return out
    codes = kf.ids.get_indexer(m["member_id"].astype("str"))
    ts = m["enrolled_at"].to_numpy(dtype="datetime64[ns]").view("i8")
    ok = (codes >= 0) & (ts != np.iinfo(np.int64).min)
    out[codes[ok]] = ts[ok]
    return out


def roi_note(kpis: dict[str, float] | None) -> str:
    """How ``incremental_revenue`` (and so ``program_roi``) was estimated, from :func:`compute_kpis`'s helper keys.

    ``roi_basis``: 3 randomised campaigns, 2 event study, 1 redeemer uplift, 0 member vs guest AOV.
    """
    k = kpis or {}
    basis = k.get("roi_basis", NAN)
    if basis == ROI_BASIS["randomised"]:
        n = int(k.get("roi_campaigns", 0))
        return (
            f"Incremental revenue = measured by {n} randomised campaign test{'s' if n != 1 else ''} in the period "
            "(test vs control groups, Experiments page): incremental spend per test member (CUPED) x test "
            "members, prorated by the days of each window inside the period; 95% interval "
            f"{k.get('incremental_revenue_low', NAN):,.0f} to {k.get('incremental_revenue_high', NAN):,.0f}. It "
            "counts what those tests measured, not the program's always-on effect outside them, so ROI compares "
            "the measured gain with the whole program cost."
        )
    if basis == ROI_BASIS["event_study"]:
        mm = k.get("roi_member_months", NAN)
        att = k.get("incremental_revenue", NAN) / mm if mm else NAN
        return (
            "Incremental revenue = observational event study by enrolment month, not a randomised test "
            f"(Experiments page): {att:,.2f} extra spend per member-month after enrolment x {mm:,.0f} "
            "member-months enrolled in the period; 95% interval "
            f"{k.get('incremental_revenue_low', NAN):,.0f} to {k.get('incremental_revenue_high', NAN):,.0f}. It "
            "assumes enrolled members' spend would otherwise have moved like that of members not yet enrolled "
            "(parallel trends) and no change of spend before enrolling; a holdout test would measure it."
        )
    head = (
        "Incremental revenue = (redeemer spend per member - non-redeemer spend per member) x redeemers, "
        "among members active in the period."
        if basis == ROI_BASIS["redeemer_uplift"]
        or (basis != basis and k.get("redeemers", 0) > 0 and k.get("non_redeemers", 0) > 0)
        else "Incremental revenue = (member AOV - guest AOV) x member purchases."
    )
    return head + (
        " Caveat (selection bias): members who redeem, or join, are already heavier buyers, so the gap "
        "overstates what the program causes; treat ROI as an upper bound. No randomised campaign covers the "
        "period and no event study could be estimated: a campaigns table with test/control groups (Experiments "
        "page) measures it properly."
    )
