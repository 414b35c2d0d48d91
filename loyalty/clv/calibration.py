"""Calibration / holdout check of the purchase model on the program's own history."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from loyalty.clv.bgnbd import BGNBDFit, conditional_expected_purchases, fit_bgnbd
from loyalty.clv.errors import ModelError
from loyalty.clv.summary import PERIOD_DAYS, rfm_summary


# --------------------------------------------------------------------------- calibration check
@dataclass(frozen=True)
class CalibrationCheck:
    """Fit on the calibration window, predict the holdout, compare.

    ``table`` (by calibration repeat-purchase bucket): ``customers``, ``actual``
    and ``predicted`` mean holdout purchases per customer. ``mae`` is the mean
    absolute error per customer (purchases), ``total_pct_error`` = (predicted total -
    actual total) / actual total.
    """

    table: pd.DataFrame
    fit: BGNBDFit
    calibration_repeat_purchases: float
    actual_total: float
    predicted_total: float
    mae: float
    total_pct_error: float
    holdout_periods: float


def calibration_holdout(
    transactions: pd.DataFrame,
    calibration_end: pd.Timestamp | str,
    holdout_end: pd.Timestamp | str,
    *,
    freq: str = "D",
    freq_multiplier: float = 1,
    max_bucket: int = 7,
    **cols,
) -> CalibrationCheck:
    """Fit BG/NBD up to ``calibration_end``; predict purchases in ``(calibration_end, holdout_end]``.

    Only customers whose first purchase is in the calibration window are scored.
    Frequency buckets are 0, 1, ..., ``max_bucket - 1`` and ``max_bucket+``.
    """
    s = rfm_summary(transactions, holdout_end, freq, freq_multiplier, calibration_end, **cols)
    fit = fit_bgnbd(s)
    pred = conditional_expected_purchases(
        fit, s["duration_holdout"].to_numpy(), s["frequency"], s["recency"], s["T"]
    )
    actual = s["frequency_holdout"].to_numpy()
    bucket = np.minimum(s["frequency"].to_numpy(), max_bucket).astype(int)
    labels = [str(i) for i in range(max_bucket)] + [f"{max_bucket}+"]
    frame = pd.DataFrame(
        {
            "bucket": np.array(labels, dtype=object)[bucket],
            "order": bucket,
            "actual": actual,
            "predicted": pred,
        }
    )
    table = (
        frame.groupby(["order", "bucket"])
        .agg(customers=("actual", "size"), actual=("actual", "mean"), predicted=("predicted", "mean"))
        .reset_index(level="order", drop=True)
    )
    table.index.name = "calibration_repeat_purchases"
    tot_a, tot_p = float(actual.sum()), float(pred.sum())
    return CalibrationCheck(
        table,
        fit,
        float(s["frequency"].sum()),
        tot_a,
        tot_p,
        float(np.mean(np.abs(pred - actual))),
        (tot_p - tot_a) / tot_a if tot_a else float("nan"),
        float(s["duration_holdout"].iloc[0]) if len(s) else 0.0,
    )


def member_calibration_check(
    dataset, calibration_end: pd.Timestamp | str, holdout_end: pd.Timestamp | str, period_days: int = PERIOD_DAYS
) -> CalibrationCheck:
    """:func:`calibration_holdout` on a dataset's member purchases (``amount > 0``)."""
    tx = dataset.member_transactions
    tx = tx.loc[tx["amount"] > 0, ["member_id", "timestamp", "amount"]]
    if pd.Timestamp(calibration_end) >= pd.Timestamp(holdout_end):
        raise ModelError("The calibration window must end before the holdout window ends.")
    return calibration_holdout(tx, calibration_end, holdout_end, freq="D", freq_multiplier=period_days)


def default_calibration_end(dataset, holdout_days: int = 182) -> pd.Timestamp:
    """Calibration end leaving ``holdout_days`` (at most a third of the history) for the holdout."""
    start, end = dataset.date_range()
    span = (end.normalize() - start.normalize()).days
    return end.normalize() - pd.Timedelta(days=min(holdout_days, max(span // 3, 1)))
