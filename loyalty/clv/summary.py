"""Per-customer frequency / recency / T / monetary value (the lifetimes data conventions)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from loyalty.clv.errors import ModelError

# --------------------------------------------------------------------------- RFM summary
#: Model time unit of the app, in days: weeks, as in the literature (same-day purchases merged).
PERIOD_DAYS = 7
_PERIOD_DAYS = {"D": 1.0, "W": 7.0, "h": 1 / 24, "H": 1 / 24}


def rfm_summary(
    transactions: pd.DataFrame,
    observation_end: pd.Timestamp | str | None = None,
    freq: str = "D",
    freq_multiplier: float = 1,
    calibration_end: pd.Timestamp | str | None = None,
    *,
    customer_id_col: str = "member_id",
    datetime_col: str = "timestamp",
    monetary_value_col: str = "amount",
) -> pd.DataFrame:
    """Per-customer frequency / recency / T / monetary value (lifetimes conventions).

    Transactions are bucketed into periods of ``freq`` (``"D"`` or ``"W"``); purchases in
    the same period are merged (amounts summed). With ``calibration_end`` set, the
    summary uses data up to it and holdout columns describe ``(calibration_end,
    observation_end]``. Rows with a missing customer id are excluded (guests).

    Returns
    -------
    DataFrame indexed by customer id with

    * ``frequency``: repeat purchase periods (periods with a purchase - 1);
    * ``recency``: first to last purchase, periods / ``freq_multiplier``;
    * ``T``: first purchase to the (calibration) end, periods / ``freq_multiplier``;
    * ``monetary_value``: mean amount of the repeat periods (0 if ``frequency == 0``);
    * with ``calibration_end``: ``frequency_holdout`` (purchase periods in the holdout),
      ``monetary_value_holdout`` (their mean amount, 0 if none), ``duration_holdout``.

    ``attrs["period_days"]`` holds the length of one time unit in days.
    """
    if freq not in _PERIOD_DAYS:
        raise ValueError(f"freq must be one of {sorted(_PERIOD_DAYS)} (got {freq!r}).")
    for col in (customer_id_col, datetime_col, monetary_value_col):
        if col not in transactions.columns:
            raise ValueError(f"rfm_summary: column {col!r} is missing from the transactions.")
    tx = transactions.loc[transactions[customer_id_col].notna()]
    ts = pd.to_datetime(tx[datetime_col])
    end = pd.Timestamp(observation_end) if observation_end is not None else ts.max()
    cal_end = pd.Timestamp(calibration_end) if calibration_end is not None else end
    if cal_end > end:
        raise ValueError("calibration_end must be on or before observation_end.")
    unit = "D" if freq == "D" else "W"
    # Period index as an integer count of periods since the epoch: vectorised and exact.
    per = ts.dt.to_period(unit).astype("int64")
    end_p = end.to_period(unit).ordinal
    cal_p = cal_end.to_period(unit).ordinal
    df = pd.DataFrame(
        {
            "id": tx[customer_id_col].to_numpy(),
            "p": per.to_numpy(),
            "amt": tx[monetary_value_col].to_numpy(float),
        }
    )
    df = df[df["p"] <= end_p]
    merged = df.groupby(["id", "p"], sort=True, observed=True)["amt"].sum().reset_index()
    cal = merged[merged["p"] <= cal_p]
    g = cal.groupby("id", sort=True)
    first = g["p"].min()
    last = g["p"].max()
    n = g.size()
    total = g["amt"].sum()
    first_amt = g["amt"].first()  # merged frame is sorted by (id, p)
    freq_ = n - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        mon = np.where(freq_ > 0, (total - first_amt) / freq_.clip(lower=1), 0.0)
    out = pd.DataFrame(
        {
            "frequency": freq_.astype("float64"),
            "recency": (last - first) / freq_multiplier,
            "T": (cal_p - first) / freq_multiplier,
            "monetary_value": mon,
        }
    )
    out.index.name = "customer_id"
    if calibration_end is not None:
        hold = merged[(merged["p"] > cal_p) & merged["id"].isin(out.index)]
        hg = hold.groupby("id")
        out["frequency_holdout"] = hg.size().reindex(out.index, fill_value=0).astype("float64")
        out["monetary_value_holdout"] = hg["amt"].mean().reindex(out.index, fill_value=0.0)
        out["duration_holdout"] = (end_p - cal_p) / freq_multiplier
    out.attrs["period_days"] = _PERIOD_DAYS[freq] * freq_multiplier
    return out


# --------------------------------------------------------------------------- dataset-level helpers
def member_rfm_summary(
    dataset,
    period_days: int = PERIOD_DAYS,
    *,
    calibration_end: pd.Timestamp | str | None = None,
    observation_end: pd.Timestamp | str | None = None,
) -> pd.DataFrame:
    """:func:`rfm_summary` of a :class:`~loyalty.schema.Dataset`'s member purchases.

    Purchases = member transactions with ``amount > 0`` (returns and guests are not
    purchases); days are bucketed (same-day purchases merged) and time is measured in
    periods of ``period_days`` days (7 = weeks, as in the literature).
    """
    tx = dataset.member_transactions
    tx = tx.loc[tx["amount"] > 0, ["member_id", "timestamp", "amount"]]
    if tx.empty:
        raise ModelError("No member purchases (transactions with a member id and amount > 0) to model.")
    end = observation_end if observation_end is not None else tx["timestamp"].max().normalize()
    return rfm_summary(tx, end, "D", period_days, calibration_end)
