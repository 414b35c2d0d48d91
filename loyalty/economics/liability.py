"""The points liability: what the points still held are expected to cost (registry keys
``liability`` and ``liability_naive``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Liability:
    """Liability of outstanding points, in currency.

    ``naive`` = outstanding x point value (every point assumed redeemed: the prudent upper
    bound); ``adjusted`` = naive x (1 - breakage), NaN when breakage is not estimated.
    """

    naive: float
    adjusted: float


def points_liability(outstanding: float, point_value: float, breakage: float) -> Liability:
    """Liability of ``outstanding`` points worth ``point_value`` each, given a breakage rate (0-1 or NaN)."""
    naive = float(outstanding) * float(point_value)
    return Liability(naive=naive, adjusted=naive * (1.0 - breakage))
