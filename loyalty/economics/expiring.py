"""Points about to expire (« points sur le point d'expirer »): what expires when, and whose.

Input: open points, one row per open lot or balance at a date, ``member_id, points, expires_at``
(:attr:`loyalty.simulator.SimulationResult.open_points`): the date each expires if the member does
nothing more (NaT: never). Units: points, days, currency (``points x point value``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Reminder windows, days ahead.
WINDOWS: tuple[int, ...] = (30, 60, 90)


def _valid(open_points: pd.DataFrame) -> pd.DataFrame:
    op = open_points
    return op[op["expires_at"].notna() & (op["points"] > 0)]


def expiring_by_month(
    open_points: pd.DataFrame, start, months: int = 12, point_value: float = 0.0
) -> pd.DataFrame:
    """Points expiring in each of the next ``months`` calendar months after ``start``.

    Returns
    -------
    DataFrame
        ``month`` (first day), ``points`` (expiring in the month), ``members`` (distinct members
        with points expiring in it) and ``value`` (points x ``point_value``); one row per month, zeros
        included. The first month is the rest of ``start``'s month when some points expire in it
        (after ``start``), else the month after.
    """
    t0 = pd.Timestamp(start)
    op = _valid(open_points)
    op = op[op["expires_at"] > t0]
    first = t0.to_period("M").to_timestamp()
    if not (op["expires_at"] < first + pd.DateOffset(months=1)).any():
        first = first + pd.DateOffset(months=1)
    edges = pd.date_range(first, periods=months + 1, freq="MS")
    op = op[op["expires_at"] < edges[-1]]
    idx = np.searchsorted(edges.values, op["expires_at"].to_numpy(dtype="datetime64[ns]"), side="right") - 1
    pts = np.bincount(idx, weights=op["points"].to_numpy(dtype="float64"), minlength=months)[:months]
    mem = (
        pd.DataFrame({"i": idx, "m": op["member_id"].to_numpy()}).drop_duplicates().groupby("i").size()
        .reindex(range(months), fill_value=0).to_numpy()
    )
    return pd.DataFrame({"month": edges[:-1], "points": pts, "members": mem.astype(np.int64),
                         "value": pts * float(point_value)})


def expiring_members(
    open_points: pd.DataFrame, as_of, days: int = max(WINDOWS), point_value: float = 0.0
) -> pd.DataFrame:
    """Members with points expiring within ``days`` after ``as_of``, soonest first (a reminder list).

    Returns
    -------
    DataFrame
        ``member_id``, ``points`` (expiring within the window), ``expires_at`` (the first expiry in
        it), ``days_left`` (whole days from ``as_of``), ``value`` (points x ``point_value``) and
        ``window`` (``"0-30 days"``, ``"31-60 days"``, ``"61-90 days"``... by the first expiry).
    """
    t0 = pd.Timestamp(as_of)
    op = _valid(open_points)
    op = op[(op["expires_at"] > t0) & (op["expires_at"] <= t0 + pd.Timedelta(days=days))]
    cols = ["member_id", "points", "expires_at", "days_left", "value", "window"]
    if op.empty:
        return pd.DataFrame({c: pd.Series(dtype=d) for c, d in zip(
            cols, ["str", "float64", "datetime64[ns]", "int64", "float64", "str"], strict=True)})
    g = op.groupby("member_id", sort=False, observed=True).agg(points=("points", "sum"), expires_at=("expires_at", "min"))
    g = g.reset_index().sort_values(["expires_at", "member_id"], kind="stable").reset_index(drop=True)
    left = ((g["expires_at"] - t0) / pd.Timedelta(days=1)).to_numpy()
    g["days_left"] = np.ceil(left).astype(np.int64)
    g["value"] = g["points"] * float(point_value)
    bounds = [w for w in WINDOWS if w < days] + [days]
    labels, lo = [], 0
    for b in bounds:
        labels.append(f"{lo}-{b} days" if lo == 0 else f"{lo + 1}-{b} days")
        lo = b
    pos = np.searchsorted(np.array(bounds), g["days_left"].to_numpy(), side="left")
    g["window"] = pd.array(np.array(labels, dtype=object)[np.minimum(pos, len(labels) - 1)], dtype="str")
    g["member_id"] = g["member_id"].astype("str")
    return g[cols]


def expiring_summary(open_points: pd.DataFrame, as_of, point_value: float = 0.0) -> pd.DataFrame:
    """Points, members and value expiring within each of :data:`WINDOWS` days after ``as_of`` (cumulative)."""
    lst = expiring_members(open_points, as_of, max(WINDOWS), point_value)
    rows = []
    for w in WINDOWS:
        sel = lst[lst["days_left"] <= w]
        rows.append((w, float(sel["points"].sum()), int(len(sel)), float(sel["value"].sum())))
    return pd.DataFrame(rows, columns=["within_days", "points", "members", "value"])
