"""Customer value from the fitted models: expected purchases x expected spend x margin, discounted."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from loyalty.clv.bgnbd import BGNBDFit, conditional_expected_purchases, fit_bgnbd, p_alive, xtT
from loyalty.clv.gamma_gamma import GammaGammaFit, expected_spend, fit_gamma_gamma
from loyalty.clv.summary import PERIOD_DAYS, member_rfm_summary


# --------------------------------------------------------------------------- CLV
def customer_value(
    summary: pd.DataFrame,
    bgnbd: BGNBDFit,
    gg: GammaGammaFit,
    horizon_months: int = 12,
    margin: float = 0.3,
    annual_discount_rate: float = 0.10,
    *,
    period_days: float | None = None,
) -> pd.DataFrame:
    """Per-customer CLV over ``horizon_months``, discounted monthly.

    CLV = sum over months i = 1..H of margin x E[spend] x (E[Y(t_i)] - E[Y(t_{i-1})])
    / (1 + d)^i, with t_i = i x 30.4375 days expressed in the summary's periods and
    monthly rate d = (1 + ``annual_discount_rate``)^(1/12) - 1.

    Returns a DataFrame indexed like ``summary``: ``frequency``, ``recency``, ``T``,
    ``monetary_value``, ``p_alive``, ``expected_purchases`` (over the horizon),
    ``expected_spend`` (per purchase, currency), ``clv`` (currency, margin-based),
    ``one_time_buyer`` (frequency == 0).
    """
    if horizon_months < 1:
        raise ValueError("The horizon must be at least one month.")
    if not 0 <= margin <= 1:
        raise ValueError("Margin must be between 0 and 1.")
    if annual_discount_rate < 0:
        raise ValueError("The discount rate cannot be negative.")
    x, tx, T = xtT(summary)
    pdays = period_days or float(summary.attrs.get("period_days", bgnbd.period_days))
    month = 365.25 / 12 / pdays
    d = (1 + annual_discount_rate) ** (1 / 12) - 1
    spend = expected_spend(gg, x, summary["monetary_value"].to_numpy(float))
    prev = np.zeros_like(x)
    clv = np.zeros_like(x)
    # A loop over months (<= a few dozen), each step vectorised over customers.
    for i in range(1, horizon_months + 1):
        cum = conditional_expected_purchases(bgnbd, i * month, x, tx, T)
        clv += (cum - prev) / (1 + d) ** i
        prev = cum
    clv *= margin * spend
    return pd.DataFrame(
        {
            "frequency": x,
            "recency": tx,
            "T": T,
            "monetary_value": summary["monetary_value"].to_numpy(float),
            "p_alive": p_alive(bgnbd, x, tx, T),
            "expected_purchases": prev,
            "expected_spend": spend,
            "clv": clv,
            "one_time_buyer": x == 0,
        },
        index=summary.index,
    )


@dataclass(frozen=True)
class CLVModels:
    """The fitted purchase (BG/NBD) and spend (Gamma-Gamma) models of a program."""

    summary: pd.DataFrame
    bgnbd: BGNBDFit
    gamma_gamma: GammaGammaFit
    period_days: int

    @property
    def notes(self) -> tuple[str, ...]:
        return self.gamma_gamma.warnings


def fit_models(dataset, period_days: int = PERIOD_DAYS) -> CLVModels:
    """Fit BG/NBD and Gamma-Gamma on a dataset's member purchases (raises :class:`ModelError`)."""
    summary = member_rfm_summary(dataset, period_days)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the correlation warning is kept in .notes
        gg = fit_gamma_gamma(summary)
    return CLVModels(summary, fit_bgnbd(summary), gg, period_days)


def clv_by_segment(values: pd.DataFrame, labels: pd.Series, names: dict[int, str]) -> pd.DataFrame:
    """CLV and P(alive) per segment, largest total CLV first.

    Parameters
    ----------
    values : DataFrame
        :func:`customer_value` output (members with a purchase).
    labels : Series
        Member id -> segment number, for every member.
    names : dict
        Segment number -> name.

    Returns
    -------
    DataFrame
        Indexed by ``segment`` (name): ``members``, ``without_purchase`` (members not in
        ``values``, counted with CLV 0), ``one_time_buyers`` (modelled members without a
        repeat purchase), ``mean_clv`` and ``total_clv`` (currency), ``p_alive_repeat``
        (mean P(alive), 0-1, over the segment's repeat buyers; NaN when it has none) and
        ``share_of_clv`` (segment total / all segments' total).

    Notes
    -----
    The BG/NBD model gives a member without a repeat purchase P(alive) = 1 by
    construction (drop-out can only follow a repeat purchase), so a plain mean over all
    members rises with the share of one-time buyers rather than with activity; they are
    counted in ``one_time_buyers`` instead (same rule as :func:`loyalty.clv.clv_summary`).
    """
    seg = labels.map(names).rename("segment")
    v = values.reindex(labels.index)
    one_time = v["one_time_buyer"].eq(True)  # False for members without a purchase (NaN after reindex)
    frame = pd.DataFrame(
        {
            "segment": seg,
            "clv": v["clv"].fillna(0.0),
            # NaN for one-time buyers and members without a purchase: the mean skips them.
            "p_alive_repeat": v["p_alive"].where(~one_time),
            "one_time": one_time,
            "no_purchase": v["clv"].isna(),
        }
    )
    out = frame.groupby("segment", sort=False).agg(
        members=("clv", "size"),
        without_purchase=("no_purchase", "sum"),
        one_time_buyers=("one_time", "sum"),
        mean_clv=("clv", "mean"),
        total_clv=("clv", "sum"),
        p_alive_repeat=("p_alive_repeat", "mean"),
    )
    total = out["total_clv"].sum()
    out["share_of_clv"] = out["total_clv"] / total if total else np.nan
    return out.sort_values("total_clv", ascending=False)
