"""Points flows: issued, redeemed, expired and adjusted points per time bin, balances, redeemers.

Points come from the ledger when there is one (signed: earn > 0, redeem < 0, expire < 0,
adjust +/-), else from the transactions' ``points_earned`` / ``points_redeemed`` columns
(which carry no expiries, so expired points are unknown there). Without a member filter every
row counts, guest rows included: the export says those points moved.
One kernel, :func:`binned_flows`, serves the period KPIs (one bin), the monthly series (one
bin per month) and the balances. All quantities are in points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from loyalty.kpis.frame import ADJUST, EARN, EXPIRE, REDEEM, KpiFrame

NAN = float("nan")
_N_CODES = 5  # the four events, then "unknown event" (code -1), which moves no balance


@dataclass(frozen=True)
class PointsFlows:
    """Points moved in a period (all >= 0 except ``adjusted``; NaN = unknown)."""

    issued: float
    redeemed: float
    expired: float
    adjusted: float
    source: str | None


@dataclass(frozen=True)
class BinnedFlows:
    """Points moved in each bin ``[edges[i], edges[i+1])`` and the balance before the first edge.

    Arrays have one value per bin (NaN = unknown for this source); ``opening`` is the
    balance before ``edges[0]`` (NaN when not asked for or no points data).
    """

    issued: np.ndarray
    redeemed: np.ndarray
    expired: np.ndarray
    adjusted: np.ndarray
    net: np.ndarray
    opening: float
    source: str | None

    @property
    def closing(self) -> np.ndarray:
        """Balance at the end of each bin: opening + cumulative net flows."""
        return self.opening + np.cumsum(self.net)


def _row_mask(codes: np.ndarray, mask: np.ndarray | None) -> np.ndarray | None:
    """Rows whose member is in ``mask`` (guests / unknown ids excluded); None = every row."""
    if mask is None:
        return None
    return (codes >= 0) & mask[np.maximum(codes, 0)]


def binned_flows(
    kf: KpiFrame, edges: np.ndarray, mask: np.ndarray | None = None, *, opening: bool = False
) -> BinnedFlows:
    """Points flows of ``kf`` per bin of the sorted ns ``edges`` (members in ``mask`` only).

    Parameters
    ----------
    kf : KpiFrame
        The prepared dataset.
    edges : array of int64 ns
        Sorted bin edges; ``len(edges) - 1`` bins, each half-open.
    mask : bool array per member code, optional
        Members to count; None counts every row.
    opening : bool
        Also compute the balance before ``edges[0]`` (a pass over the earlier rows).
    """
    edges = np.asarray(edges, dtype=np.int64)
    nb = len(edges) - 1
    nan = np.full(nb, np.nan)
    src = kf.points_source
    if src == "ledger":
        ts, codes, pts, ev = kf.led_ts, kf.led_member, kf.led_points, kf.led_event
        j0, j1 = (int(x) for x in np.searchsorted(ts, [edges[0], edges[-1]], side="left"))
        code = np.where(ev[j0:j1] < 0, _N_CODES - 1, ev[j0:j1])
        p = pts[j0:j1]
        b = np.searchsorted(edges, ts[j0:j1], side="right") - 1
        rm = _row_mask(codes[j0:j1], mask)
        if rm is not None:
            code, p, b = code[rm], p[rm], b[rm]
        sums = np.bincount(b * _N_CODES + code, weights=p, minlength=nb * _N_CODES).reshape(nb, _N_CODES)
        open_bal = NAN
        if opening:
            before = ev[:j0] >= 0
            orm = _row_mask(codes[:j0], mask)
            if orm is not None:
                before &= orm
            open_bal = float(pts[:j0][before].sum())
        return BinnedFlows(
            issued=sums[:, EARN],
            redeemed=-sums[:, REDEEM],
            expired=-sums[:, EXPIRE],
            adjusted=sums[:, ADJUST],
            net=sums[:, : _N_CODES - 1].sum(axis=1),
            opening=open_bal,
            source=src,
        )
    if src == "transactions":
        ts, codes = kf.tx_ts, kf.tx_member
        j0, j1 = (int(x) for x in np.searchsorted(ts, [edges[0], edges[-1]], side="left"))
        rm = _row_mask(codes[j0:j1], mask)
        keep = rm if rm is not None else np.ones(j1 - j0, dtype=bool)
        b = (np.searchsorted(edges, ts[j0:j1], side="right") - 1)[keep]

        def per_bin(a: np.ndarray | None) -> np.ndarray:
            return nan if a is None else np.bincount(b, weights=a[j0:j1][keep], minlength=nb)

        iss, red = per_bin(kf.tx_points_earned), per_bin(kf.tx_points_redeemed)
        open_bal = NAN
        if opening:
            orm = _row_mask(codes[:j0], mask)
            okeep = orm if orm is not None else np.ones(j0, dtype=bool)
            open_bal = sum(
                sign * float(a[:j0][okeep].sum())
                for a, sign in ((kf.tx_points_earned, 1.0), (kf.tx_points_redeemed, -1.0))
                if a is not None
            )
        return BinnedFlows(iss, red, nan, nan, np.nan_to_num(iss) - np.nan_to_num(red), open_bal, src)
    return BinnedFlows(nan, nan, nan, nan, nan, NAN, None)


def points_flows(kf: KpiFrame, start_ns: int, end_ns: int, mask: np.ndarray | None = None) -> PointsFlows:
    """Points issued (earn), redeemed, expired and net adjusted in ``[start_ns, end_ns)``."""
    f = binned_flows(kf, np.array([start_ns, end_ns]), mask)
    return PointsFlows(float(f.issued[0]), float(f.redeemed[0]), float(f.expired[0]), float(f.adjusted[0]), f.source)


def outstanding_points(kf: KpiFrame, end_ns: int, mask: np.ndarray | None = None) -> float:
    """Balance of all points before ``end_ns`` (earned - redeemed - expired +/- adjusted)."""
    return binned_flows(kf, np.array([end_ns, end_ns]), mask, opening=True).opening


def history_flows(kf: KpiFrame, end_ns: int, mask: np.ndarray | None = None) -> PointsFlows:
    """Points flows over all history before ``end_ns`` (the basis of breakage)."""
    return points_flows(kf, np.iinfo(np.int64).min, end_ns, mask)


def member_balances(kf: KpiFrame, end_ns: int) -> np.ndarray | None:
    """Points balance per member code at ``end_ns`` (float array, len ``n_members``)."""
    src = kf.points_source
    if src == "ledger":
        j = int(np.searchsorted(kf.led_ts, end_ns, side="left"))
        codes = kf.led_member[:j]
        ok = (codes >= 0) & (kf.led_event[:j] >= 0)
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
        i0, i1 = np.searchsorted(kf.led_ts, [start_ns, end_ns], side="left")
        sl = slice(int(i0), int(i1))
        sel = (kf.led_event[sl] == REDEEM) & (kf.led_member[sl] >= 0)
        codes = kf.led_member[sl][sel]
    elif src == "transactions" and kf.tx_points_redeemed is not None:
        i0, i1 = np.searchsorted(kf.tx_ts, [start_ns, end_ns], side="left")
        sl = slice(int(i0), int(i1))
        sel = (kf.tx_points_redeemed[sl] > 0) & (kf.tx_member[sl] >= 0)
        codes = kf.tx_member[sl][sel]
    else:
        return None
    out = np.zeros(kf.n_members, dtype=bool)
    out[codes] = True
    return out
