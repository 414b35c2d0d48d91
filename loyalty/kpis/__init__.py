"""Program KPIs for a period: the per-dataset frame, the KPI engine, monthly series and points flows.

``frame`` (numeric indexes built once per dataset), ``compute`` (:func:`compute_kpis`: every KPI of
the metric registry for a period), ``series`` (monthly trends, cohorts, distributions, filters),
``flows`` (points issued / redeemed / expired / adjusted, balances, redeemers).
"""

from loyalty.kpis.compute import compute_kpi_table, compute_kpis, kpi_comparison, kpi_notes, kpi_table
from loyalty.kpis.flows import (
    BinnedFlows,
    PointsFlows,
    binned_flows,
    history_flows,
    member_balances,
    outstanding_points,
    points_flows,
    redeemers_in_period,
)
from loyalty.kpis.frame import KpiFrame, as_frame, default_period, prepare_kpi_frame
from loyalty.kpis.series import (
    BALANCE_EDGES,
    FILTER_COLUMNS,
    cohort_basis,
    cohort_retention,
    filter_members,
    filter_options,
    member_guest_comparison,
    monthly_series,
    points_balance_distribution,
    redeemer_comparison,
    tier_distribution,
)

__all__ = [
    "BALANCE_EDGES",
    "BinnedFlows",
    "FILTER_COLUMNS",
    "KpiFrame",
    "PointsFlows",
    "as_frame",
    "binned_flows",
    "cohort_basis",
    "cohort_retention",
    "compute_kpi_table",
    "compute_kpis",
    "default_period",
    "filter_members",
    "filter_options",
    "history_flows",
    "kpi_comparison",
    "kpi_notes",
    "kpi_table",
    "member_balances",
    "member_guest_comparison",
    "monthly_series",
    "outstanding_points",
    "points_balance_distribution",
    "points_flows",
    "prepare_kpi_frame",
    "redeemer_comparison",
    "redeemers_in_period",
    "tier_distribution",
]
