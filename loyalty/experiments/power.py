"""Planning a test: minimum detectable effect and the group sizes a target effect needs.

Normal approximation of a two-sided test at level ``alpha`` with power ``power`` (defaults 5% and
80%): a test with ``n_t`` test and ``n_c`` control members, outcome standard deviation ``sd`` per
member, detects effects of at least

    MDE = (z(1 - alpha / 2) + z(power)) * sd * sqrt(1 - r) * sqrt(1 / n_t + 1 / n_c)

where ``r`` is the share of the variance CUPED removes (``corr(pre-period spend, window spend)^2``;
``r = 0`` for the plain difference). :func:`required_group_size` inverts it. :func:`spend_variance`
measures ``sd`` and ``r`` on the program's own data: the spend of each member over the last window
of the planned length against their spend over the 12 months before it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as _st

from loyalty.experiments.windows import span_transactions
from loyalty.schema import Dataset

NAN = float("nan")
#: Months of spend before a window used as the CUPED covariate (and by the balance check).
PRE_PERIOD_MONTHS = 12


def _z(alpha: float, power: float) -> float:
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise ValueError("alpha and power must be between 0 and 1 (exclusive).")
    return float(_st.norm.ppf(1 - alpha / 2) + _st.norm.ppf(power))


def minimum_detectable_effect(
    n_test: int,
    n_control: int,
    sd: float,
    *,
    variance_reduction: float = 0.0,
    alpha: float = 0.05,
    power: float = 0.8,
) -> float:
    """Smallest true difference in mean outcome a test detects with probability ``power``.

    Parameters
    ----------
    n_test, n_control : int
        Planned group sizes (members).
    sd : float
        Standard deviation of the outcome per member (e.g. spend over the window, currency).
    variance_reduction : float
        Share of the variance removed by CUPED (0-1; 0 for the plain difference).
    alpha : float
        Two-sided significance level.
    power : float
        Probability of detecting an effect of exactly the MDE.

    Returns
    -------
    float
        The MDE in outcome units (currency per member for spend); NaN when a group is empty.
    """
    if n_test <= 0 or n_control <= 0 or not math.isfinite(sd):
        return NAN
    r = min(max(float(variance_reduction), 0.0), 1.0)
    return _z(alpha, power) * sd * math.sqrt(1.0 - r) * math.sqrt(1.0 / n_test + 1.0 / n_control)


def required_group_size(
    effect: float,
    sd: float,
    *,
    control_share: float = 0.5,
    variance_reduction: float = 0.0,
    alpha: float = 0.05,
    power: float = 0.8,
) -> tuple[int, int]:
    """Members needed in the test and control groups to detect ``effect`` with ``power``.

    Parameters
    ----------
    effect : float
        Target difference in mean outcome (currency per member for spend), > 0.
    sd : float
        Standard deviation of the outcome per member.
    control_share : float
        Share of the members in the control group (0-1, e.g. 0.1 for a 10% holdout).
    variance_reduction, alpha, power
        As in :func:`minimum_detectable_effect`.

    Returns
    -------
    (n_test, n_control) : tuple of int
        Rounded up; ``(0, 0)`` when the effect is not positive or ``sd`` is unknown.
    """
    if not effect or effect <= 0 or not math.isfinite(sd) or not 0 < control_share < 1:
        return (0, 0)
    r = min(max(float(variance_reduction), 0.0), 1.0)
    # MDE^2 = z^2 sd^2 (1 - r) (1/n_t + 1/n_c) with n_c = n p / (1 - p) ... solved for the total n.
    z2 = _z(alpha, power) ** 2
    total = z2 * sd**2 * (1.0 - r) / effect**2 / (control_share * (1.0 - control_share))
    n_c = math.ceil(total * control_share)
    n_t = math.ceil(total * (1.0 - control_share))
    return (max(n_t, 2), max(n_c, 2))


@dataclass(frozen=True)
class SpendVariance:
    """Spend per member over a window of the planned length, measured on the program's data.

    Attributes
    ----------
    window_days : int
        Planned window length (days).
    window_start, window_end : Timestamp
        The window measured (the last ``window_days`` whole days of the data, end included).
    members : int
        Members measured (the planned test population; see :func:`spend_variance`).
    mean, sd : float
        Mean and standard deviation of spend per member over the window (currency).
    pre_correlation : float
        Correlation of that spend with the same members' spend over the 12 months before.
    variance_reduction : float
        ``pre_correlation ** 2``: the share of the variance CUPED removes.
    population : str
        Who was measured, in words.
    """

    window_days: int
    window_start: pd.Timestamp
    window_end: pd.Timestamp
    members: int
    mean: float
    sd: float
    pre_correlation: float
    variance_reduction: float
    population: str


def spend_variance(dataset: Dataset, window_days: int = 28, *, population: str = "active") -> SpendVariance:
    """Standard deviation of members' spend over ``window_days`` and how much CUPED would remove.

    Parameters
    ----------
    dataset : Dataset
        The program.
    window_days : int
        Length of the planned test window (days, >= 1).
    population : {"active", "all"}
        ``active``: members with a purchase in the 12 months before the window (the usual target of a
        campaign); ``all``: every member enrolled before the window (members table), or without one,
        every member with a transaction in the 12 months before it.

    Returns
    -------
    SpendVariance
        Measured on the last ``window_days`` whole days of the data (members without a purchase in
        the window count as 0).
    """
    if window_days < 1:
        raise ValueError("window_days must be at least 1.")
    tx = dataset.transactions
    stamps = tx["timestamp"]
    last = stamps.max() if len(tx) else pd.NaT
    if pd.isna(last) or not tx["member_id"].notna().any():
        return SpendVariance(window_days, pd.NaT, pd.NaT, 0, NAN, NAN, NAN, 0.0, population)
    end = last.normalize() + pd.Timedelta(days=1)
    start = end - pd.Timedelta(days=window_days)
    pre = start - pd.DateOffset(months=PRE_PERIOD_MONTHS)
    members = dataset.members
    if members is not None:
        ids = members["member_id"].astype("str").reset_index(drop=True)
    else:  # the members of the covered span, found in one hash pass over it
        inside = (stamps >= pre) & (stamps < end)
        ids = pd.Series(pd.unique(tx.loc[inside, "member_id"].dropna()), dtype="str")
    span = span_transactions(tx, ids, pre.value, end.value)
    n = len(ids)
    edges = np.column_stack([np.full(n, pre.value), np.full(n, start.value), np.full(n, end.value)])
    spend, buys = span.interval_sums(np.arange(n), edges, n)
    x, y = spend[:, 0], spend[:, 1]
    if population == "all" and members is not None:
        keep = (members["enrolled_at"] < start).to_numpy(dtype=bool) & members["member_id"].notna().to_numpy()
        who = "members enrolled before the window"
    elif population == "all":
        keep = np.bincount(span.codes[span.ts < start.value], minlength=n) > 0
        who = "members with a transaction in the 12 months before the window"
    else:
        keep = buys[:, 0] > 0
        who = "members with a purchase in the 12 months before the window"
    y, x = y[keep], x[keep]
    if len(y) < 3:
        return SpendVariance(window_days, start, end - pd.Timedelta(days=1), len(y), NAN, NAN, NAN, 0.0, who)
    sd = float(y.std(ddof=1))
    rho = float(np.corrcoef(x, y)[0, 1]) if x.std() > 0 and sd > 0 else 0.0
    return SpendVariance(
        window_days=window_days,
        window_start=start,
        window_end=end - pd.Timedelta(days=1),
        members=int(len(y)),
        mean=float(y.mean()),
        sd=sd,
        pre_correlation=rho,
        variance_reduction=rho**2,
        population=who,
    )


@dataclass(frozen=True)
class PowerPlan:
    """What a planned test can detect, and what a target effect would need.

    Attributes
    ----------
    n_test, n_control : int
        Planned group sizes.
    mde_plain, mde_cuped : float
        Minimum detectable effect in spend per test member over the window (currency), with
        the plain difference and with CUPED.
    mde_relative_cuped : float
        ``mde_cuped`` / mean spend per member (0-1+).
    target_effect : float
        Target effect (currency per member over the window).
    needed_plain, needed_cuped : tuple of int
        (test, control) members needed for the target, at the planned control share.
    alpha, power : float
    variance : SpendVariance
        Where ``sd`` and the CUPED reduction come from.
    """

    n_test: int
    n_control: int
    mde_plain: float
    mde_cuped: float
    mde_relative_cuped: float
    target_effect: float
    needed_plain: tuple[int, int]
    needed_cuped: tuple[int, int]
    alpha: float
    power: float
    variance: SpendVariance


def plan_test(
    variance: SpendVariance,
    n_test: int,
    n_control: int,
    target_effect: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
) -> PowerPlan:
    """MDE of a planned ``n_test`` / ``n_control`` split and the sizes ``target_effect`` needs.

    Parameters
    ----------
    variance : SpendVariance
        From :func:`spend_variance` (the program's own spend variance for the window length).
    n_test, n_control : int
        Planned group sizes.
    target_effect : float
        Effect to detect, currency per test member over the window.
    alpha, power : float
        Two-sided level and power.
    """
    sd, r = variance.sd, variance.variance_reduction
    mde_p = minimum_detectable_effect(n_test, n_control, sd, alpha=alpha, power=power)
    mde_c = minimum_detectable_effect(n_test, n_control, sd, variance_reduction=r, alpha=alpha, power=power)
    share = n_control / (n_test + n_control) if n_test + n_control > 0 else 0.5
    share = min(max(share, 0.01), 0.99)
    return PowerPlan(
        n_test=int(n_test),
        n_control=int(n_control),
        mde_plain=mde_p,
        mde_cuped=mde_c,
        mde_relative_cuped=mde_c / variance.mean if variance.mean else NAN,
        target_effect=float(target_effect),
        needed_plain=required_group_size(target_effect, sd, control_share=share, alpha=alpha, power=power),
        needed_cuped=required_group_size(
            target_effect, sd, control_share=share, variance_reduction=r, alpha=alpha, power=power
        ),
        alpha=alpha,
        power=power,
        variance=variance,
    )


def detectable_at(se: float, *, alpha: float = 0.05, power: float = 0.8) -> float:
    """MDE of a finished test from its standard error: ``(z(1 - alpha/2) + z(power)) * se``."""
    return _z(alpha, power) * se if math.isfinite(se) else NAN
