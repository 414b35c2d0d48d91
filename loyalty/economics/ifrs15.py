"""IFRS 15 customer-loyalty points: allocation at issuance, recognition on redemption, deferred revenue.

Maths (IFRS 15.B39-B43; Illustrative Example 52)
------------------------------------------------
Points granted with a sale are a separate performance obligation (a material right). In period ``t``
with sales ``S_t`` (currency), ``P_t`` points issued worth ``v`` each and an expected redemption
rate ``r_t`` (the expected ultimate share of the points issued to date that will be redeemed, as
estimated at the end of ``t``):

* stand-alone selling price of the points issued: ``SSP_t = P_t * v * r_t``; of the goods: ``S_t``;
* allocated to points (relative stand-alone selling prices): ``A_t = S_t * SSP_t / (S_t + SSP_t)``;
* revenue recognised to date = ``(A_1 + ... + A_t) * min(1, Q_t / (r_t * (P_1 + ... + P_t)))`` with
  ``Q_t`` the points redeemed to date: recognition in proportion to the redemptions expected in
  total, so a change of ``r_t`` is a cumulative catch-up in that period;
* revenue from points in ``t`` = recognised to date at ``t`` - at ``t - 1``;
* deferred revenue (the contract liability) = allocated to date - recognised to date.

Example 52: sales 100,000, 10,000 points worth 1, 95 % expected then 97 %, 4,500 then 8,500 points
redeemed to date: 8,676 allocated, 4,110 then 3,493 recognised, 1,073 deferred at the end of year 2.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from loyalty.economics.breakage import flows_of, month_end_estimates
from loyalty.economics.cohorts import CohortFlows
from loyalty.schema import Dataset

IFRS15_COLUMNS = ("period", "allocated_to_points", "revenue_from_points", "deferred_revenue")


def ifrs15_schedule(periods: pd.DataFrame, value_per_point: float) -> pd.DataFrame:
    """IFRS 15 allocation and recognition of loyalty points, period by period (see the module docstring).

    Parameters
    ----------
    periods : DataFrame
        Columns ``period`` (label or date), ``sales`` (currency), ``points_issued`` and
        ``points_redeemed`` (points in the period), ``expected_redemption_rate`` (0-1: expected
        ultimate share of the points issued to date that will be redeemed, as estimated at the
        period's end), in time order.
    value_per_point : float
        Stand-alone selling price of one point if redeemed (currency).

    Returns
    -------
    DataFrame
        ``period``, ``allocated_to_points`` (sales allocated to the points issued in the period),
        ``revenue_from_points`` (recognised in the period, catch-up included) and
        ``deferred_revenue`` (contract liability at the period's end), currency.

    Raises
    ------
    ValueError
        When a column is missing or an expected redemption rate is missing or outside 0-1.
    """
    need = ["period", "sales", "points_issued", "points_redeemed", "expected_redemption_rate"]
    missing = [c for c in need if c not in periods.columns]
    if missing:
        raise ValueError(f"periods needs the columns {', '.join(missing)}.")
    rate = periods["expected_redemption_rate"].to_numpy(dtype="float64", na_value=np.nan)
    if np.isnan(rate).any() or (rate < 0).any() or (rate > 1).any():
        raise ValueError("Every period needs an expected redemption rate between 0 and 1.")
    sales = periods["sales"].to_numpy(dtype="float64", na_value=0.0)
    issued = periods["points_issued"].to_numpy(dtype="float64", na_value=0.0)
    redeemed = periods["points_redeemed"].to_numpy(dtype="float64", na_value=0.0)
    ssp = issued * float(value_per_point) * rate
    total = sales + ssp
    alloc = np.where(total > 0, sales * ssp / np.where(total > 0, total, 1.0), 0.0)
    cum_alloc = np.cumsum(alloc)
    expected = rate * np.cumsum(issued)
    progress = np.where(expected > 0, np.minimum(1.0, np.cumsum(redeemed) / np.where(expected > 0, expected, 1.0)), 1.0)
    recognised = cum_alloc * progress
    revenue = np.diff(np.concatenate([[0.0], recognised]))
    return pd.DataFrame(
        {
            "period": periods["period"].to_numpy(),
            "allocated_to_points": alloc,
            "revenue_from_points": revenue,
            "deferred_revenue": cum_alloc - recognised,
        }
    )


def program_ifrs15(
    dataset: Dataset,
    value_per_point: float,
    *,
    flows: CohortFlows | None = None,
    horizon_months: int | None = None,
) -> pd.DataFrame:
    """:func:`ifrs15_schedule` of the program month by month, with the URR estimated at each month end.

    Sales are the members' transaction amounts in the month (returns included); points issued and
    redeemed come from ``flows`` (default: the dataset's ledger). A month whose end is too early
    for an estimate uses the first estimate that could be made (``rate_source`` says so).

    Returns
    -------
    DataFrame
        ``period`` (first day of the month), ``sales``, ``points_issued``, ``points_redeemed``,
        ``expected_redemption_rate``, ``rate_source``, then the schedule's columns. Empty when there
        is no points history or no month-end estimate at all.
    """
    if flows is None:
        flows, _ = flows_of(dataset)
    cols = ["period", "sales", "points_issued", "points_redeemed", "expected_redemption_rate", "rate_source",
            *IFRS15_COLUMNS[1:]]
    if flows is None:
        return pd.DataFrame(columns=cols)
    est = month_end_estimates(flows, horizon_months=horizon_months)
    rate = est["urr"].to_numpy(dtype="float64")
    ok = np.flatnonzero(np.isfinite(rate))
    if not ok.size:
        return pd.DataFrame(columns=cols)
    src = np.where(np.isfinite(rate), "estimated at the month end", "first estimate made (cohorts too young then)")
    rate = np.where(np.isfinite(rate), rate, rate[ok[0]])
    months = flows.months
    tx = dataset.transactions
    member = tx["member_id"].notna().to_numpy()
    t = tx["timestamp"].to_numpy(dtype="datetime64[ns]")[member]
    amt = tx["amount"].to_numpy(dtype="float64", na_value=0.0)[member]
    m = t.astype("datetime64[M]").astype(np.int64) - flows.first_month
    keep = (m >= 0) & (m < flows.n_months)
    sales = np.bincount(m[keep], weights=amt[keep], minlength=flows.n_months)
    periods = pd.DataFrame(
        {
            "period": months,
            "sales": sales,
            "points_issued": flows.issued,
            "points_redeemed": flows.redeemed_by_month,
            "expected_redemption_rate": rate,
            "rate_source": src,
        }
    )
    sched = ifrs15_schedule(periods, value_per_point)
    return pd.concat([periods, sched.drop(columns="period")], axis=1)[cols]
