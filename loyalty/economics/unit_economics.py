"""Point economics: what a point costs, what members get back per unit of spend, and how reachable
the first reward is (registry keys ``cost_per_point``, ``effective_reward_rate``,
``reward_attainability``, ``days_to_first_reward``).

Definitions, over the ``months`` months up to ``as_of`` unless said otherwise:

* cost per point = reward cost / points redeemed, with the reward cost from the costs table's
  ``rewards`` rows (months prorated by days) when it has any; else the point value input;
* earn rate = points issued / member sales (points per currency unit); effective reward rate =
  earn rate x point value (currency of rewards per currency spent);
* reward attainability = members whose balance ever reached the smallest redemption / members who
  ever earned, over the whole history up to ``as_of``; the smallest redemption is the smallest
  redemption in the ledger unless given;
* days to first reward = median over members who redeemed of (first redemption - first earn), days.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from loyalty.economics.cohorts import as_of_ns
from loyalty.schema import Dataset

NAN = float("nan")
_DAY_NS = 86_400 * 10**9


@dataclass(frozen=True)
class PointEconomics:
    """The point-economics figures (see the module docstring); NaN when the data cannot give one."""

    cost_per_point: float
    cost_per_point_source: str
    earn_rate: float
    effective_reward_rate: float
    smallest_redemption: float
    reward_attainability: float
    days_to_first_reward: float
    window_start: pd.Timestamp
    window_end: pd.Timestamp


def _costs_in(costs: pd.DataFrame | None, s: int, e: int) -> float:
    """Reward costs (rows 'rewards'/'reward') in ``[s, e)`` ns, months prorated by days; NaN without rows."""
    if costs is None or costs.empty:
        return NAN
    cat = costs["category"].astype("str").str.strip().str.lower()
    c = costs[cat.isin(["rewards", "reward"]).to_numpy()]
    if c.empty:
        return NAN
    m = c["month"].to_numpy(dtype="datetime64[ns]").astype("datetime64[M]")
    m0 = m.astype("datetime64[ns]").view("i8")
    m1 = (m + 1).astype("datetime64[ns]").view("i8")
    frac = np.clip(np.minimum(m1, e) - np.maximum(m0, s), 0, None) / (m1 - m0)
    return float((c["amount"].to_numpy(dtype="float64", na_value=0.0) * frac).sum())


def point_economics(
    dataset: Dataset,
    point_value: float,
    *,
    ledger: pd.DataFrame | None = None,
    as_of=None,
    months: int = 12,
    min_redemption: float | None = None,
) -> PointEconomics:
    """Point economics of ``dataset`` (see the module docstring).

    Parameters
    ----------
    dataset : Dataset
        Transactions (member sales) and costs; its ledger unless ``ledger`` is given.
    point_value : float
        Currency per point (the fallback cost per point and the value in the reward rate).
    ledger : DataFrame, optional
        A canonical ledger to use instead (e.g. the replay's, when the dataset has none).
    as_of : date-like, optional
        End of the window (default: the last ledger event).
    months : int
        Window length for the cost per point and the earn rate.
    min_redemption : float, optional
        Smallest redemption (points); default the smallest in the ledger.
    """
    led = dataset.ledger if ledger is None else ledger
    nan_pe = PointEconomics(NAN, "no points ledger", NAN, NAN, NAN, NAN, NAN, pd.NaT, pd.NaT)
    if led is None or led.empty:
        return nan_pe
    ts = led["timestamp"].to_numpy(dtype="datetime64[ns]").view("i8")
    # The window ends with the as_of day (as the KPI page's period end), the last event's day by default.
    day = pd.Timestamp(as_of_ns(as_of, int(ts.max()))).normalize()
    end = day + pd.Timedelta(days=1)
    e_ns = int(end.value)
    start = end - pd.DateOffset(months=months)
    s_ns = int(start.value)
    ev = led["event"].astype("str").str.strip().str.lower().to_numpy()
    pts = led["points"].to_numpy(dtype="float64", na_value=0.0)
    inwin = (ts >= s_ns) & (ts < e_ns)
    redeemed = float(-pts[inwin & (ev == "redeem")].sum())
    issued = float(pts[inwin & (ev == "earn")].sum())
    reward = _costs_in(dataset.costs, s_ns, e_ns)
    if np.isfinite(reward) and redeemed > 0:
        cpp, src = reward / redeemed, f"costs table: reward cost / points redeemed, {months} months"
    else:
        cpp, src = float(point_value), "point value input (no reward costs in the costs table)"
    tx = dataset.transactions
    tts = tx["timestamp"].to_numpy(dtype="datetime64[ns]").view("i8")
    sel = tx["member_id"].notna().to_numpy() & (tts >= s_ns) & (tts < e_ns)
    sales = float(tx["amount"].to_numpy(dtype="float64", na_value=0.0)[sel].sum())
    earn_rate = issued / sales if sales > 0 else NAN
    # Attainability and first reward, whole history up to as_of: running balance per member.
    hist = ts < e_ns
    codes, _ = pd.factorize(led["member_id"], use_na_sentinel=True)
    keep = hist & (codes >= 0) & np.isin(ev, ["earn", "redeem", "expire", "adjust"])
    c, t, p, e = codes[keep], ts[keep], pts[keep], ev[keep]
    order = np.lexsort((np.where(e == "earn", 0, 1), t, c))
    c, t, p, e = c[order], t[order], p[order], e[order]
    red = e == "redeem"
    smallest = float(min_redemption) if min_redemption is not None else (float(np.abs(p[red]).min()) if red.any() else NAN)
    attain = days = NAN
    if len(c):
        first = np.r_[True, c[1:] != c[:-1]]
        starts = np.flatnonzero(first)
        cs = np.cumsum(p)
        base = (cs - p)[np.maximum.accumulate(np.where(first, np.arange(len(c)), 0))]
        bal = cs - base
        peak = np.maximum.reduceat(bal, starts)
        m_of = c[starts]
        earned = np.zeros(int(c.max()) + 1, dtype=bool)
        earned[c[e == "earn"]] = True
        ever = earned[m_of]
        if ever.any() and np.isfinite(smallest):
            attain = float(np.count_nonzero(ever & (peak >= smallest - 1e-9)) / np.count_nonzero(ever))
        n = int(c.max()) + 1
        first_earn = np.full(n, np.iinfo(np.int64).max)
        first_red = np.full(n, np.iinfo(np.int64).max)
        np.minimum.at(first_earn, c[e == "earn"], t[e == "earn"])
        np.minimum.at(first_red, c[red], t[red])
        both = (first_red < np.iinfo(np.int64).max) & (first_earn < np.iinfo(np.int64).max)
        if both.any():
            days = float(np.median((first_red[both] - first_earn[both]) / _DAY_NS))
    return PointEconomics(
        cost_per_point=float(cpp),
        cost_per_point_source=src,
        earn_rate=earn_rate,
        effective_reward_rate=earn_rate * float(point_value),
        smallest_redemption=smallest,
        reward_attainability=attain,
        days_to_first_reward=days,
        window_start=start,
        window_end=day,
    )
