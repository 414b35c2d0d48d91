"""KPI trends and breakdowns: monthly series, distributions, comparison frames, filters.

Same conventions as :mod:`loyalty.kpis` (purchase = amount > 0; a member filter
restricts member figures and the revenue columns to the selected members).
Months are calendar months labelled by their first day.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from loyalty.kpis.flows import binned_flows, member_balances
from loyalty.kpis.frame import NEVER, KpiFrame, as_frame
from loyalty.periods import DateLike, ns, period_bounds
from loyalty.schema import Dataset

FILTER_COLUMNS: tuple[str, ...] = ("tier", "channel", "region")


def _month_index(month_codes: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(month_codes.astype("datetime64[M]").astype("datetime64[ns]"))


def _months_of(ts_ns: np.ndarray) -> np.ndarray:
    return ts_ns.astype("datetime64[ns]").astype("datetime64[M]").astype(np.int64)


def monthly_series(
    dataset: Dataset | KpiFrame,
    start: DateLike | None = None,
    end: DateLike | None = None,
    *,
    members_filter: Iterable[str] | None = None,
) -> pd.DataFrame:
    """One row per calendar month overlapping ``[start, end]`` (default: all data).

    Columns: ``month`` (first day), ``revenue`` (net, currency), ``transactions``
    (purchases), ``member_revenue``, ``guest_revenue``, ``active_members``
    (members with >= 1 purchase in the month), ``new_members`` (enrolled in the
    month; NaN without a members table), ``members_total`` (enrolled by month
    end), ``member_growth_rate`` (new / members at month start),
    ``points_issued``/``points_redeemed``/``points_expired`` (points in the
    month, NaN when unknown) and ``points_outstanding`` (balance at month end).
    Months are whole calendar months even when ``start``/``end`` cut into them.
    """
    kf = as_frame(dataset)
    if kf.last_ts is None:
        return pd.DataFrame(columns=["month", "revenue", "transactions"])
    s_ts, e_ts = period_bounds(
        start if start is not None else pd.Timestamp(kf.first_ts),
        end if end is not None else pd.Timestamp(kf.last_ts),
    )
    m0 = int(_months_of(np.array([ns(s_ts)]))[0])
    m1 = int(_months_of(np.array([ns(e_ts) - 1]))[0])
    nm = m1 - m0 + 1
    lo = ns(_month_index(np.array([m0])).to_numpy()[0])
    hi = ns(_month_index(np.array([m1 + 1])).to_numpy()[0])
    mask = kf.member_mask(members_filter)
    n = kf.n_members

    i0, i1 = np.searchsorted(kf.tx_ts, [lo, hi])
    idx = kf.tx_month[i0:i1] - m0
    amt = kf.tx_amount[i0:i1]
    codes = kf.tx_member[i0:i1]
    purch = amt > 0
    msel = codes >= 0
    if mask is not None:
        msel &= mask[np.maximum(codes, 0)]
    scope = msel if mask is not None else np.ones(len(amt), dtype=bool)
    out = pd.DataFrame({"month": _month_index(np.arange(m0, m1 + 1))})
    out["revenue"] = np.bincount(idx[scope], weights=amt[scope], minlength=nm)
    out["transactions"] = np.bincount(idx[scope & purch], minlength=nm)
    out["member_revenue"] = np.bincount(idx[msel], weights=amt[msel], minlength=nm)
    guest = codes < 0
    out["guest_revenue"] = np.bincount(idx[guest], weights=amt[guest], minlength=nm)
    # Distinct (member, month) purchase pairs -> active members per month.
    sel = msel & purch
    pairs = pd.unique(codes[sel].astype(np.int64) * nm + idx[sel])
    out["active_members"] = np.bincount(pairs % nm, minlength=nm)

    in_scope = mask if mask is not None else np.ones(n, dtype=bool)
    enr = kf.enrolled[in_scope & (kf.enrolled != NEVER)]
    enr_m = _months_of(enr) - m0
    before = int(np.count_nonzero(enr_m < 0))
    per_month = np.bincount(enr_m[(enr_m >= 0) & (enr_m < nm)], minlength=nm)
    total = before + np.cumsum(per_month)
    out["members_total"] = total
    if kf.has_members:
        out["new_members"] = per_month.astype(float)
        start_total = total - per_month
        with np.errstate(divide="ignore", invalid="ignore"):
            out["member_growth_rate"] = np.where(start_total > 0, per_month / start_total, np.nan)
    else:
        out["new_members"] = np.nan
        out["member_growth_rate"] = np.nan

    _points_by_month(kf, out, m0, nm, lo, hi, mask)
    return out


def _points_by_month(
    kf: KpiFrame, out: pd.DataFrame, m0: int, nm: int, lo: int, hi: int, mask: np.ndarray | None
) -> None:
    edges = np.array([ns(m) for m in _month_index(np.arange(m0, m0 + nm + 1))], dtype=np.int64)
    f = binned_flows(kf, edges, mask, opening=True)
    out["points_issued"] = f.issued
    out["points_redeemed"] = f.redeemed
    out["points_expired"] = f.expired
    out["points_outstanding"] = f.closing if f.source is not None else np.full(nm, np.nan)


def cohort_basis(dataset: Dataset | KpiFrame) -> str:
    """What defines a cohort: enrolment month, or first activity without a members table."""
    return "enrolment month" if as_frame(dataset).has_members else "first purchase month (no members table)"


def cohort_retention(
    dataset: Dataset | KpiFrame,
    *,
    members_filter: Iterable[str] | None = None,
    max_months: int | None = 36,
) -> pd.DataFrame:
    """Share of each monthly cohort active (>= 1 purchase) k months after joining.

    Cohort = enrolment month (first activity month without a members table,
    see :func:`cohort_basis`); ``months_since`` 0 is the joining month.
    Returns long form: ``cohort``, ``months_since``, ``cohort_size``,
    ``active_members``, ``share_active`` (0-1), with zeros for observed months
    in which nobody from the cohort bought, and only months up to the last
    month of data. Cohorts before the first transaction month are left out
    (their early months were not observed).
    """
    kf = as_frame(dataset)
    cols = ["cohort", "months_since", "cohort_size", "active_members", "share_active"]
    if kf.last_ts is None or kf.n_members == 0:  # no transactions, or guests only: no cohorts
        return pd.DataFrame(columns=cols)
    mask = kf.member_mask(members_filter)
    first_m = int(kf.tx_month[0])
    last_m = int(kf.tx_month[-1])
    nm = last_m - first_m + 1
    has = kf.enrolled != NEVER
    if mask is not None:
        has &= mask
    coh = np.full(kf.n_members, -1, dtype=np.int64)
    coh[has] = _months_of(kf.enrolled[has]) - first_m
    coh[(coh < 0) | (coh >= nm)] = -1
    valid = coh >= 0
    sizes = np.bincount(coh[valid], minlength=nm)
    codes = kf.tx_member
    sel = (codes >= 0) & (kf.tx_amount > 0)
    sel &= valid[np.maximum(codes, 0)]
    c = codes[sel]
    pairs = pd.unique(c.astype(np.int64) * nm + (kf.tx_month[sel] - first_m))
    pc, pm = pairs // nm, pairs % nm
    cohort_of = coh[pc]
    off = pm - cohort_of
    ok = off >= 0
    active = np.bincount(cohort_of[ok] * nm + off[ok], minlength=nm * nm).reshape(nm, nm)
    ci, oi = np.nonzero(np.ones((nm, nm), dtype=bool))
    observed = (ci + oi < nm) & (sizes[ci] > 0)
    if max_months is not None:
        observed &= oi <= max_months
    ci, oi = ci[observed], oi[observed]
    size = sizes[ci]
    act = active[ci, oi]
    return pd.DataFrame(
        {
            "cohort": _month_index(ci + first_m),
            "months_since": oi.astype(np.int64),
            "cohort_size": size.astype(np.int64),
            "active_members": act.astype(np.int64),
            "share_active": act / size,
        }
    )


def tier_distribution(
    dataset: Dataset | KpiFrame, *, members_filter: Iterable[str] | None = None
) -> pd.DataFrame:
    """Members per current tier (members table ``tier``): ``tier``, ``members``, ``share`` (0-1).

    Empty when there is no members table or tier column; missing tiers are
    shown as "(no tier)".
    """
    kf = as_frame(dataset)
    m = kf.members
    if m is None or "tier" not in m.columns:
        return pd.DataFrame({"tier": pd.Series([], dtype="str"), "members": [], "share": []})
    if members_filter is not None:
        m = m[m["member_id"].isin(pd.Index(list(members_filter)))]
    counts = m["tier"].fillna("(no tier)").value_counts(sort=True)
    out = pd.DataFrame({"tier": counts.index.astype("str"), "members": counts.to_numpy(dtype=np.int64)})
    out["share"] = out["members"] / max(int(out["members"].sum()), 1)
    return out


BALANCE_EDGES: tuple[float, ...] = (0, 1, 100, 250, 500, 1000, 2500, 5000, np.inf)


def points_balance_distribution(
    dataset: Dataset | KpiFrame,
    end: DateLike | None = None,
    *,
    members_filter: Iterable[str] | None = None,
    edges: tuple[float, ...] = BALANCE_EDGES,
) -> pd.DataFrame:
    """Members by points balance at ``end`` (default: end of data).

    Columns: ``band`` (label, e.g. "500-999"), ``lower`` (points, inclusive),
    ``members``, ``points`` (sum of balances in the band), ``share`` (of
    members). A "negative" band appears only if some balance is below 0.
    Empty without points data.
    """
    kf = as_frame(dataset)
    end_ns = ns(period_bounds(end, end)[1]) if end is not None else np.iinfo(np.int64).max
    bal = member_balances(kf, end_ns)
    if bal is None:
        return pd.DataFrame(
            {"band": pd.Series([], dtype="str"), "lower": [], "members": [], "points": [], "share": []}
        )
    if (mask := kf.member_mask(members_filter)) is not None:
        bal = bal[mask]
    bal = np.round(bal, 6)
    e = np.asarray(edges, dtype=float)
    labels = []
    for lo_, hi_ in zip(e[:-1], e[1:], strict=True):
        if hi_ == lo_ + 1:
            labels.append(f"{lo_:,.0f}")
        elif np.isinf(hi_):
            labels.append(f"{lo_:,.0f}+")
        else:
            labels.append(f"{lo_:,.0f}-{hi_ - 1:,.0f}")
    band = np.searchsorted(e, bal, side="right") - 1  # -1 = negative
    nb = len(e) - 1
    b = np.where(band < 0, nb, np.minimum(band, nb - 1))
    members = np.bincount(b, minlength=nb + 1)
    points = np.bincount(b, weights=bal, minlength=nb + 1)
    out = pd.DataFrame(
        {
            "band": labels + ["negative"],
            "lower": list(e[:-1]) + [-np.inf],
            "members": members,
            "points": points,
        }
    )
    out = pd.concat([out.iloc[[nb]], out.iloc[:nb]]) if members[nb] else out.iloc[:nb]
    out = out.reset_index(drop=True)
    out["share"] = out["members"] / max(len(bal), 1)
    return out


def member_guest_comparison(kpis: dict[str, float]) -> pd.DataFrame:
    """Members vs guests in a period, from :func:`~loyalty.kpis.compute_kpis` output.

    Columns: ``group``, ``revenue``, ``purchases``, ``aov`` (revenue / purchases),
    ``revenue_share`` (0-1 of member + guest revenue).
    """
    rev = np.array([kpis["member_revenue"], kpis["guest_revenue"]])
    pur = np.array([kpis["member_transactions"], kpis["guest_transactions"]])
    with np.errstate(divide="ignore", invalid="ignore"):
        aov = np.where(pur > 0, rev / pur, np.nan)
        share = rev / rev.sum() if rev.sum() != 0 else np.full(2, np.nan)
    return pd.DataFrame(
        {"group": ["Members", "Guests"], "revenue": rev, "purchases": pur, "aov": aov, "revenue_share": share}
    )


def redeemer_comparison(kpis: dict[str, float]) -> pd.DataFrame:
    """Active redeemers vs active non-redeemers in a period (NaN without redemption data).

    Columns: ``group``, ``members``, ``spend_per_member`` (currency),
    ``frequency`` (purchases per member), ``aov`` (currency per purchase).
    """
    return pd.DataFrame(
        {
            "group": ["Redeemers", "Non-redeemers"],
            "members": [kpis["redeemers"], kpis["non_redeemers"]],
            "spend_per_member": [kpis["redeemer_spend_per_member"], kpis["non_redeemer_spend_per_member"]],
            "frequency": [kpis["redeemer_frequency"], kpis["non_redeemer_frequency"]],
            "aov": [kpis["redeemer_aov"], kpis["non_redeemer_aov"]],
        }
    )


def filter_options(dataset: Dataset) -> dict[str, list[str]]:
    """Distinct values of the members table's tier/channel/region columns that exist."""
    m = dataset.members
    if m is None:
        return {}
    return {
        c: sorted(m[c].dropna().astype("str").unique().tolist())
        for c in FILTER_COLUMNS
        if c in m.columns and m[c].notna().any()
    }


def filter_members(dataset: Dataset, **selected: Iterable[str] | None) -> set[str] | None:
    """Member ids whose tier/channel/region are in the selected values.

    ``filter_members(ds, tier=["Gold"], region=["North"])``; an empty or None
    selection does not filter on that column. Returns None when nothing is
    selected (= all members). Unknown columns raise ``ValueError`` naming them.
    """
    m = dataset.members
    active = {c: list(v) for c, v in selected.items() if v}
    if not active:
        return None
    bad = [c for c in active if c not in FILTER_COLUMNS or m is None or c not in m.columns]
    if bad:
        raise ValueError(f"Cannot filter members by {', '.join(bad)}: no such column in the members table.")
    keep = np.ones(len(m), dtype=bool)
    for c, vals in active.items():
        keep &= m[c].isin(vals).to_numpy()
    return set(m.loc[keep, "member_id"].dropna().tolist())
