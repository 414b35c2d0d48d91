"""Breakage: the share of points that will never be redeemed (registry key ``breakage_rate``)."""

from __future__ import annotations

import math
from dataclasses import dataclass

NAN = float("nan")

BREAKAGE_METHOD = (
    "Historical exit mix: points expired / (points expired + points redeemed) over the whole "
    "history up to the end. Assumes the points outstanding today will leave the balance in the "
    "same proportions as past points did."
)


@dataclass(frozen=True)
class BreakageEstimate:
    """Estimated share (0-1) of outstanding points that will never be redeemed, with its method.

    ``value`` is NaN when it cannot be estimated (``method`` says why); ``expired`` and
    ``redeemed`` are the points behind it (NaN when unknown).
    """

    value: float
    method: str
    expired: float
    redeemed: float


def exit_mix_breakage(expired: float, redeemed: float, *, expiry_known: bool = True) -> BreakageEstimate:
    """Breakage as the historical exit mix, ``expired / (expired + redeemed)``.

    Parameters
    ----------
    expired, redeemed : float
        Points that left balances by expiring and by being redeemed, over the history
        up to the end (points, >= 0).
    expiry_known : bool
        False when the source carries no expiry events (transactions' point columns):
        the estimate is then not made rather than silently 0.

    Returns
    -------
    BreakageEstimate
        NaN with the reason when expiries are unknown or no point has left a balance yet;
        0 (conservative: every point assumed redeemed) when nothing has expired so far.
    """
    if not expiry_known:
        return BreakageEstimate(
            NAN,
            "Not estimated: breakage needs expiry events, which only a points ledger carries "
            "(upload the ledger).",
            NAN,
            NAN,
        )
    exits = expired + redeemed
    if not exits > 0 or math.isnan(exits):
        return BreakageEstimate(NAN, "Not estimated: no points have been redeemed or expired yet.", expired, redeemed)
    method = BREAKAGE_METHOD
    if expired == 0:
        method += " No expiries recorded so far, so the estimate is 0 (every point assumed redeemed: conservative)."
    return BreakageEstimate(expired / exits, method, expired, redeemed)
