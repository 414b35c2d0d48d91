"""Points economics: breakage and the points liability (formulas on point flows, no data access).

``breakage`` (the share of points that will never be redeemed, with its method) and
``liability`` (what the outstanding points are expected to cost). The KPI engine and the
simulator both call these, so a breakage rate or a liability means the same thing on every
page, in the report and on Spark.
"""

from loyalty.economics.breakage import BREAKAGE_METHOD, BreakageEstimate, exit_mix_breakage
from loyalty.economics.liability import Liability, points_liability

__all__ = ["BREAKAGE_METHOD", "BreakageEstimate", "Liability", "exit_mix_breakage", "points_liability"]
