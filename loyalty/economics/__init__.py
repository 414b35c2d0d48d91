"""Points economics: earn cohorts, breakage, the points liability, IFRS 15 and expiring points.

``cohorts`` (FIFO attribution of every redemption and expiry to the earn month of the points it
used, the development triangle), ``chainladder`` (volume-weighted factors, tail, ultimates),
``breakage`` (:func:`estimate_breakage`: URR and breakage of the outstanding points, backtest),
``liability`` (naive, URR-adjusted and IFRS 15 views), ``ifrs15`` (:func:`ifrs15_schedule`),
``expiring`` (points expiring next, and whose), ``unit_economics`` (cost per point, reward rate,
attainability). The KPI engine, the simulator and the report all call these, so a breakage rate
or a liability means the same thing on every page, in the report and on Spark. Pure functions of
point flows: this room imports only the shared leaves.
"""

from loyalty.economics.breakage import (
    BACKTEST_MONTHS,
    DEVELOPED_MONTHS,
    MIN_DEVELOPED_COHORTS,
    TAIL_FIT_FROM,
    BreakageEstimate,
    backtest_breakage,
    estimate_breakage,
    estimate_from_cells,
    flows_of,
    month_end_estimates,
    not_estimated,
)
from loyalty.economics.chainladder import ChainLadder, chain_ladder, exponential_tail, volume_weighted_factors
from loyalty.economics.cohorts import (
    CohortCells,
    CohortFlows,
    FifoAttribution,
    LedgerIssues,
    PointsEvents,
    attribute_fifo,
    cohort_cells,
    cohort_flows,
    combine_flows,
    development_table,
    events_from_arrays,
    events_from_ledger,
    ledger_attribution,
)
from loyalty.economics.expiring import WINDOWS, expiring_by_month, expiring_members, expiring_summary
from loyalty.economics.ifrs15 import ifrs15_schedule, program_ifrs15
from loyalty.economics.liability import (
    VIEW_FORMULAS,
    Liability,
    LiabilityViews,
    liability_views,
    points_liability,
)
from loyalty.economics.unit_economics import PointEconomics, point_economics

__all__ = [
    "BACKTEST_MONTHS",
    "DEVELOPED_MONTHS",
    "MIN_DEVELOPED_COHORTS",
    "TAIL_FIT_FROM",
    "VIEW_FORMULAS",
    "WINDOWS",
    "BreakageEstimate",
    "ChainLadder",
    "CohortCells",
    "CohortFlows",
    "FifoAttribution",
    "LedgerIssues",
    "Liability",
    "LiabilityViews",
    "PointEconomics",
    "PointsEvents",
    "attribute_fifo",
    "backtest_breakage",
    "chain_ladder",
    "cohort_cells",
    "cohort_flows",
    "combine_flows",
    "development_table",
    "estimate_breakage",
    "estimate_from_cells",
    "events_from_arrays",
    "events_from_ledger",
    "expiring_by_month",
    "flows_of",
    "expiring_members",
    "expiring_summary",
    "exponential_tail",
    "ifrs15_schedule",
    "ledger_attribution",
    "liability_views",
    "month_end_estimates",
    "not_estimated",
    "point_economics",
    "points_liability",
    "program_ifrs15",
    "volume_weighted_factors",
]
