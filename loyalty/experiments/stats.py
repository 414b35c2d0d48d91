"""The test/control statistics: difference in means, CUPED adjustment, Welch's interval.

Everything is vectorised over members (and, for :func:`cuped_welch`, also over a leading axis of
repeated experiments, which the coverage study uses).

CUPED (Deng et al., 2013, "Improving the sensitivity of online controlled experiments by utilizing
pre-experiment data"): with ``y`` a member's spend in the window and ``x`` the same member's spend
over the 12 months before it, the adjusted outcome is ``y - theta * (x - mean(x))`` with
``theta = cov(x, y) / var(x)`` estimated on both groups pooled. ``x`` is measured before the
campaign, so it cannot be changed by it: the adjusted difference in means estimates the same effect
as the plain difference, with the variance multiplied by about ``1 - corr(x, y)^2``.

The interval is Welch's: ``diff +/- t(0.975, df) * se`` with ``se = sqrt(s_t^2 / n_t + s_c^2 / n_c)``
and Welch-Satterthwaite degrees of freedom (no equal-variance assumption; groups of different sizes
are fine). The p-value is the two-sided Welch t-test of "no effect".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as _st

NAN = float("nan")


@dataclass(frozen=True)
class LiftEstimate:
    """Test minus control difference in mean outcome, with its 95% (or ``level``) interval.

    Attributes
    ----------
    n_test, n_control : int
        Members in each group.
    test_mean, control_mean : float
        Plain mean outcome per member in each group (outcome units: currency for spend).
    difference : float
        CUPED-adjusted test - control difference (equal to the plain one when ``theta`` is 0).
    se : float
        Its standard error (Welch).
    ci_low, ci_high : float
        Welch interval at ``level``.
    p_value : float
        Two-sided Welch t-test p-value of difference = 0.
    df : float
        Welch-Satterthwaite degrees of freedom.
    theta : float
        CUPED coefficient cov(x, y) / var(x) (0: no adjustment).
    plain_difference, plain_se, plain_ci_low, plain_ci_high : float
        The same without CUPED.
    variance_reduction : float
        1 - (se / plain_se)^2: share of the variance CUPED removed (0-1; can be slightly
        negative when the pre-period says nothing).
    level : float
        Confidence level (0.95).
    """

    n_test: int
    n_control: int
    test_mean: float
    control_mean: float
    difference: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    df: float
    theta: float
    plain_difference: float
    plain_se: float
    plain_ci_low: float
    plain_ci_high: float
    variance_reduction: float
    level: float = 0.95

    @property
    def relative(self) -> float:
        """difference / control mean (NaN when the control mean is 0)."""
        return self.difference / self.control_mean if self.control_mean else NAN


def _welch(yt: np.ndarray, yc: np.ndarray, level: float) -> tuple[np.ndarray, ...]:
    """(diff, se, low, high, p, df) along the last axis; NaN where a group has < 2 members."""
    nt, nc = yt.shape[-1], yc.shape[-1]
    diff = yt.mean(axis=-1) - yc.mean(axis=-1)
    if nt < 2 or nc < 2:
        nan = np.full(np.shape(diff), np.nan)
        return diff, nan, nan, nan, nan, nan
    vt = yt.var(axis=-1, ddof=1) / nt
    vc = yc.var(axis=-1, ddof=1) / nc
    var = vt + vc
    se = np.sqrt(var)
    with np.errstate(divide="ignore", invalid="ignore"):
        df = var**2 / (vt**2 / (nt - 1) + vc**2 / (nc - 1))
        df = np.where(np.isfinite(df), df, nt + nc - 2)
        tcrit = _st.t.ppf(0.5 + level / 2, df)
        tstat = np.where(se > 0, diff / np.where(se > 0, se, 1.0), np.where(diff == 0, 0.0, np.inf))
    p = 2 * _st.t.sf(np.abs(tstat), df)
    return diff, se, diff - tcrit * se, diff + tcrit * se, p, df


def cuped_theta(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """cov(x, y) / var(x) along the last axis, pooled over both groups (0 where var(x) = 0)."""
    xc = x - x.mean(axis=-1, keepdims=True)
    yc = y - y.mean(axis=-1, keepdims=True)
    vx = (xc * xc).sum(axis=-1)
    cxy = (xc * yc).sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(vx > 0, cxy / np.where(vx > 0, vx, 1.0), 0.0)


def cuped_welch_arrays(
    y: np.ndarray, x: np.ndarray | None, is_test: np.ndarray, level: float = 0.95
) -> dict[str, np.ndarray]:
    """:func:`cuped_welch` on arrays of shape ``(..., members)`` sharing one ``is_test`` mask.

    Returns a dict of arrays of shape ``(...)`` with the fields of :class:`LiftEstimate`
    (except the group sizes and ``level``).
    """
    y = np.asarray(y, dtype=np.float64)
    is_test = np.asarray(is_test, dtype=bool)
    theta = np.zeros(y.shape[:-1]) if x is None else cuped_theta(y, np.asarray(x, dtype=np.float64))
    if x is None:
        adj = y
    else:
        x = np.asarray(x, dtype=np.float64)
        adj = y - theta[..., None] * (x - x.mean(axis=-1, keepdims=True))
    d, se, lo, hi, p, df = _welch(adj[..., is_test], adj[..., ~is_test], level)
    pd_, pse, plo, phi, _, _ = _welch(y[..., is_test], y[..., ~is_test], level)
    with np.errstate(divide="ignore", invalid="ignore"):
        vr = np.where(pse > 0, 1.0 - (se / np.where(pse > 0, pse, 1.0)) ** 2, 0.0)
    return {
        "test_mean": y[..., is_test].mean(axis=-1) if is_test.any() else np.full(y.shape[:-1], np.nan),
        "control_mean": y[..., ~is_test].mean(axis=-1) if (~is_test).any() else np.full(y.shape[:-1], np.nan),
        "difference": d,
        "se": se,
        "ci_low": lo,
        "ci_high": hi,
        "p_value": p,
        "df": df,
        "theta": theta,
        "plain_difference": pd_,
        "plain_se": pse,
        "plain_ci_low": plo,
        "plain_ci_high": phi,
        "variance_reduction": vr,
    }


def cuped_welch(y: np.ndarray, x: np.ndarray | None, is_test: np.ndarray, level: float = 0.95) -> LiftEstimate:
    """Test - control difference in mean ``y``, CUPED-adjusted on ``x``, with Welch's interval.

    Parameters
    ----------
    y : array (members,)
        Outcome per member (e.g. spend in the campaign window, currency; 0 for no purchase).
    x : array (members,) or None
        Pre-period covariate per member (e.g. spend over the 12 months before the window);
        None for the plain difference.
    is_test : bool array (members,)
        True for test members, False for control members.
    level : float
        Confidence level of the interval (0.95).

    Returns
    -------
    LiftEstimate
    """
    is_test = np.asarray(is_test, dtype=bool)
    r = cuped_welch_arrays(y, x, is_test, level)
    return LiftEstimate(
        n_test=int(is_test.sum()),
        n_control=int((~is_test).sum()),
        level=level,
        **{k: float(v) for k, v in r.items()},
    )


def standardised_difference(x: np.ndarray, is_test: np.ndarray) -> float:
    """(mean_test - mean_control) / sqrt((var_test + var_control) / 2) of a pre-period measure.

    The balance check of a randomised split: |d| above 0.1 is the usual sign that the groups
    differ before the campaign (Austin, 2009). With both variances 0: 0 when the means agree,
    +/-inf otherwise; NaN when a group has fewer than 2 members.
    """
    x = np.asarray(x, dtype=np.float64)
    is_test = np.asarray(is_test, dtype=bool)
    xt, xc = x[is_test], x[~is_test]
    if len(xt) < 2 or len(xc) < 2:
        return NAN
    pooled = np.sqrt((xt.var(ddof=1) + xc.var(ddof=1)) / 2)
    diff = xt.mean() - xc.mean()
    if pooled == 0:  # no spread within the groups: any gap between them is total imbalance
        return 0.0 if diff == 0 else float(np.copysign(np.inf, diff))
    return float(diff / pooled)
