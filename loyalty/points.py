"""Points KPIs: flows, balances, breakage and liability.

Points come from the ledger when there is one (signed: earn > 0, redeem < 0,
expire < 0, adjust +/-), else from the transactions' ``points_earned`` /
``points_redeemed`` columns (which carry no expiries, so expired points and
breakage are unknown there). All quantities are in points unless stated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from loyalty.kpi_frame import EARN, EXPIRE, REDEEM, KpiFrame

NAN = float("nan")


@dataclass(frozen=True)
class PointsFlows:
    """Points moved in a period (all >= 0 except ``adjusted``; NaN = unknown)."""

    issued: float
    redeemed: float
    expired: float
    adjusted: float
    source: str | None


@dataclass(frozen=True)
class BreakageEstimate:
    """Estimated share (0-1) of outstanding points that will never be redeemed."""

    value: float
    method: str
    expired: float
    redeemed: float


def _led_slice(kf: KpiFrame, start_ns: int, end_ns: int) -> slice:
    i0, i1 = np.searchsorted(kf.led_ts, [start_ns, end_ns], side="left")
    return slice(int(i0), int(i1))


def _tx_slice(kf: KpiFrame, start_ns: int, end_ns: int) -> slice:
    i0, i1 = np.searchsorted(kf.tx_ts, [start_ns, end_ns], side="left")
    return slice(int(i0), int(i1))


def _row_mask(codes: np.ndarray, mask: np.ndarray | None) -> np.ndarray | None:
    """Rows whose member is in ``mask`` (guests / unknown ids excluded)."""
    if mask is None:
        return None
    return (codes >= 0) & mask[np.maximum(codes, 0)]


def points_flows(kf: KpiFrame, start_ns: int, end_ns: int, mask: np.ndarray | None = None) -> PointsFlows:
    """Points issued (earn), redeemed, expired and net adjusted in ``[start_ns, end_ns)``."""
    src = kf.points_source
    if src == "ledger":
        sl = _led_slice(kf, start_ns, end_ns)
        ev = kf.led_event[sl]
        pts = kf.led_points[sl]
        rm = _row_mask(kf.led_member[sl], mask)
        if rm is not None:
            ev, pts = ev[rm], pts[rm]
        # One pass: sum signed points per event code.
        sums = np.bincount(np.where(ev < 0, 4, ev), weights=pts, minlength=5)
        return PointsFlows(
            issued=float(sums[EARN]),
            redeemed=float(-sums[REDEEM]),
            expired=float(-sums[EXPIRE]),
            adjusted=float(sums[3]),
            source=src,
        )
    if src == "transactions":
        sl = _tx_slice(kf, start_ns, end_ns)
        rm = _row_mask(kf.tx_member[sl], mask)

        def tot(a: np.ndarray | None) -> float:
            if a is None:
                return NAN
            a = a[sl]
            return float(a[rm].sum() if rm is not None else a.sum())

        return PointsFlows(tot(kf.tx_points_earned), tot(kf.tx_points_redeemed), NAN, NAN, src)
    return PointsFlows(NAN, NAN, NAN, NAN, None)


def outstanding_points(kf: KpiFrame, end_ns: int, mask: np.ndarray | None = None) -> float:
    """Balance of all points before ``end_ns`` (earned - redeemed - expired +/- adjusted)."""
    src = kf.points_source
    if src is None:
        return NAN
    f = points_flows(kf, np.iinfo(np.int64).min, end_ns, mask)
    if src == "ledger":
        return f.issued - f.redeemed - f.expired + f.adjusted
    # Transaction point columns: no expiries known, so earned - redeemed.
    return float(np.nan_to_num(f.issued) - np.nan_to_num(f.redeemed))


def member_balances(kf: KpiFrame, end_ns: int) -> np.ndarray | None:
    """Points balance per member code at ``end_ns`` (float array, len ``n_members``)."""
    src = kf.points_source
    if src == "ledger":
        j = int(np.searchsorted(kf.led_ts, end_ns, side="left"))
        codes = kf.led_member[:j]
        ok = codes >= 0
        return np.bincount(codes[ok], weights=kf.led_points[:j][ok], minlength=kf.n_members)
    if src == "transactions":
        j = int(np.searchsorted(kf.tx_ts, end_ns, side="left"))
        codes = kf.tx_member[:j]
        ok = codes >= 0
        net = np.zeros(j)
        if kf.tx_points_earned is not None:
            net = net + kf.tx_points_earned[:j]
        if kf.tx_points_redeemed is not None:
            net = net - kf.tx_points_redeemed[:j]
        return np.bincount(codes[ok], weights=net[ok], minlength=kf.n_members)
    return None


def redeemers_in_period(kf: KpiFrame, start_ns: int, end_ns: int) -> np.ndarray | None:
    """Boolean per member code: >= 1 redemption in ``[start_ns, end_ns)``; None if unknown."""
    src = kf.points_source
    if src == "ledger":
        sl = _led_slice(kf, start_ns, end_ns)
        sel = (kf.led_event[sl] == REDEEM) & (kf.led_member[sl] >= 0)
        codes = kf.led_member[sl][sel]
    elif src == "transactions" and kf.tx_points_redeemed is not None:
        sl = _tx_slice(kf, start_ns, end_ns)
        sel = (kf.tx_points_redeemed[sl] > 0) & (kf.tx_member[sl] >= 0)
        codes = kf.tx_member[sl][sel]
    else:
        return None
    out = np.zeros(kf.n_members, dtype=bool)
    out[codes] = True
    return out


BREAKAGE_METHOD = (
    "Historical exit mix: points expired / (points expired + points redeemed) over the whole "
    "ledger history up to the period end. Assumes the points outstanding today will leave the "
    "balance in the same proportions as past points did."
)


def estimate_ultimate_breakage(kf: KpiFrame, end_ns: int, mask: np.ndarray | None = None) -> BreakageEstimate:
    """Estimate ultimate breakage (share of points never redeemed), with its method.

    Uses the historical exit mix ``expired / (expired + redeemed)`` up to
    ``end_ns`` (see :data:`BREAKAGE_METHOD`). Without a ledger there is no
    expiry data, so the estimate is NaN (liability then falls back to the
    naive figure on the page, clearly labelled).
    """
    if kf.points_source != "ledger":
        return BreakageEstimate(
            NAN,
            "Not estimated: breakage needs expiry events, which only a points ledger carries "
            "(upload the ledger).",
            NAN,
            NAN,
        )
    f = points_flows(kf, np.iinfo(np.int64).min, end_ns, mask)
    exits = f.expired + f.redeemed
    if exits <= 0:
        return BreakageEstimate(
            NAN, "Not estimated: no points have been redeemed or expired yet.", f.expired, f.redeemed
        )
    if f.expired == 0:
        method = (
            BREAKAGE_METHOD
            + " No expiries recorded so far, so the estimate is 0 (every point assumed redeemed: conservative)."
        )
    else:
        method = BREAKAGE_METHOD
    return BreakageEstimate(f.expired / exits, method, f.expired, f.redeemed)
