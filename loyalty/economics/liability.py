"""The points liability: what the points still held are expected to cost (registry keys ``liability``,
``liability_naive`` and ``liability_ifrs15``), in three views a finance team compares side by side.

* naive = outstanding x point value: every outstanding point assumed redeemed at its face value
  (the prudent upper bound);
* URR-adjusted = outstanding x (1 - breakage of the outstanding points) x cost per point: the
  expected cost of the points that will be redeemed (:func:`loyalty.economics.estimate_breakage`);
* IFRS 15 deferred revenue: the part of past sales allocated to points and not yet recognised
  (:func:`loyalty.economics.ifrs15_schedule`): a revenue deferral, not a cost.

Units: points and currency.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

NAN = float("nan")

#: Written formula of each view (shown beside the figures).
VIEW_FORMULAS: dict[str, str] = {
    "naive": "Outstanding points x point value (every point assumed redeemed at face value).",
    "urr_adjusted": "Outstanding points x (1 - breakage of the outstanding points) x cost per point.",
    "ifrs15": "Sales allocated to points at issuance (relative stand-alone selling prices) - revenue recognised "
    "as points are redeemed (cumulative redeemed / expected redemptions), with cumulative catch-up.",
}


@dataclass(frozen=True)
class Liability:
    """Liability of outstanding points, in currency.

    ``naive`` = outstanding x point value; ``adjusted`` = outstanding x (1 - breakage) x cost per
    point (the point value when no cost per point is given), NaN when breakage is.
    """

    naive: float
    adjusted: float


def points_liability(
    outstanding: float, point_value: float, breakage: float, cost_per_point: float | None = None
) -> Liability:
    """Liability of ``outstanding`` points worth ``point_value`` each, given a breakage rate (0-1 or NaN)."""
    cpp = point_value if cost_per_point is None or math.isnan(cost_per_point) else cost_per_point
    return Liability(
        naive=float(outstanding) * float(point_value), adjusted=float(outstanding) * (1.0 - breakage) * float(cpp)
    )


@dataclass(frozen=True)
class LiabilityViews:
    """The three liability views at one date (currency), with what they rest on."""

    outstanding: float
    point_value: float
    cost_per_point: float
    breakage: float
    naive: float
    urr_adjusted: float
    ifrs15_deferred: float

    def table(self, currency: str = "") -> pd.DataFrame:
        """``view``, ``value`` and ``formula`` rows, for display and download."""
        return pd.DataFrame(
            {
                "view": ["Naive (face value)", "URR-adjusted (expected cost)", "IFRS 15 deferred revenue"],
                "value": [self.naive, self.urr_adjusted, self.ifrs15_deferred],
                "formula": [VIEW_FORMULAS["naive"], VIEW_FORMULAS["urr_adjusted"], VIEW_FORMULAS["ifrs15"]],
            }
        )


def liability_views(
    outstanding: float,
    point_value: float,
    breakage: float,
    cost_per_point: float,
    deferred_revenue: float = NAN,
) -> LiabilityViews:
    """The naive, URR-adjusted and IFRS 15 views of the same outstanding points (see the module docstring)."""
    li = points_liability(outstanding, point_value, breakage, cost_per_point)
    return LiabilityViews(
        outstanding=float(outstanding),
        point_value=float(point_value),
        cost_per_point=float(cost_per_point),
        breakage=float(breakage),
        naive=li.naive,
        urr_adjusted=li.adjusted,
        ifrs15_deferred=float(deferred_revenue),
    )
