"""Chain-ladder on a cumulative development triangle: volume-weighted age-to-age factors, a tail, ultimates.

Maths
-----
``C[c, a]`` is the cumulative amount of origin ``c`` (here: points of an earn-month cohort redeemed)
by development age ``a`` (months since the earn month), observed for ``a <= A_c`` (the diagonal;
NaN past it). The volume-weighted age-to-age factor from age ``a`` to ``a + 1`` is

    f_a = sum_c C[c, a + 1] / sum_c C[c, a]

over the origins observed at both ages (undefined, NaN, when that denominator is 0 and the numerator
is not; 1 when both are 0). When the oldest origins are not fully developed, a tail factor ``T``
carries the development past the last observed age ``n - 1``: the exponential decay of the
development portions, ``ln(f_a - 1) = alpha + beta * (a + 1)``, is fitted by least squares over the
factors above 1.00001 and extrapolated over 100 more ages,

    T = prod_{x = n}^{n + 99} (1 + exp(alpha + beta * x)),

which is ``chainladder.TailCurve(curve="exponential")``'s tail (the test suite checks it against the
CAS ``chainladder`` package). A decay that does not decay (``beta >= 0``) has no finite tail: the
tail is then NaN and the method says so. Under an expiry rule with a horizon ``H`` (months after
which no point of a cohort is left), development ends there: ``f_a = 1`` for ``a >= H`` and
``T = 1`` once the triangle reaches ``H`` (the natural tail).

The cumulative development factor to ultimate is ``F_a = f_a * f_{a+1} * ... * f_{n-2} * T`` and the
ultimate of origin ``c`` is ``U_c = C[c, A_c] * F_{A_c}``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Factors at or below this are left out of the tail fit (as in ``chainladder.TailCurve``).
TAIL_FIT_THRESHOLD = 1.00001
#: Ages the tail curve is extrapolated over.
TAIL_EXTRAP_PERIODS = 100


@dataclass(frozen=True)
class ChainLadder:
    """Result of :func:`chain_ladder` (arrays indexed by origin or by age).

    Attributes
    ----------
    factors : ndarray, shape (n_ages - 1,)
        Volume-weighted age-to-age factors ``f_a`` (age ``a`` to ``a + 1``); NaN when undefined.
    tail : float
        Tail factor past the last observed age (1 under a reached horizon, NaN when not estimable).
    cdf : ndarray, shape (n_ages,)
        Cumulative factor to ultimate from each age, ``F_a``.
    latest : ndarray, shape (n_origins,)
        Last observed value of each origin, ``C[c, A_c]``.
    latest_age : ndarray of int
        ``A_c``.
    ultimate : ndarray, shape (n_origins,)
        ``U_c = C[c, A_c] * F_{A_c}``.
    tail_method : str
        How the tail was set.
    """

    factors: np.ndarray
    tail: float
    cdf: np.ndarray
    latest: np.ndarray
    latest_age: np.ndarray
    ultimate: np.ndarray
    tail_method: str


def volume_weighted_factors(cum: np.ndarray) -> np.ndarray:
    """``f_a = sum_c C[c, a+1] / sum_c C[c, a]`` over origins observed at both ages (NaN when undefined)."""
    cum = np.asarray(cum, dtype=np.float64)
    if cum.shape[1] < 2:
        return np.zeros(0)
    both = ~np.isnan(cum[:, 1:]) & ~np.isnan(cum[:, :-1])
    num = np.where(both, cum[:, 1:], 0.0).sum(axis=0)
    den = np.where(both, cum[:, :-1], 0.0).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    f[(den == 0) & (num == 0)] = 1.0
    f[~both.any(axis=0)] = np.nan
    return f


def exponential_tail(factors: np.ndarray, extrap_periods: int = TAIL_EXTRAP_PERIODS) -> tuple[float, str]:
    """Tail factor from the exponential decay of ``f_a - 1`` (see the module docstring) and how it was set."""
    f = np.asarray(factors, dtype=np.float64)
    n = len(f)
    x = np.arange(1, n + 1, dtype=np.float64)
    ok = np.isfinite(f) & (f > TAIL_FIT_THRESHOLD)
    if ok.sum() < 2:
        return 1.0, "no tail: fewer than two factors above 1 to fit a decay on (development has ended)"
    beta, alpha = np.polyfit(x[ok], np.log(f[ok] - 1.0), 1)
    if not beta < 0:
        return float("nan"), "no tail: the development factors do not decay with age, so no finite tail exists"
    xs = np.arange(n + 1, n + extrap_periods + 1, dtype=np.float64)
    tail = float(np.prod(1.0 + np.exp(alpha + beta * xs)))
    return tail, f"exponential decay of the factors fitted on {int(ok.sum())} ages, extrapolated {extrap_periods} ages"


def chain_ladder(cum: np.ndarray, *, horizon: int | None = None, tail="exponential") -> ChainLadder:
    """Chain-ladder ultimates of a cumulative triangle (NaN past each origin's diagonal).

    Parameters
    ----------
    cum : ndarray, shape (n_origins, n_ages)
        Cumulative amounts; row ``c`` observed up to its last non-NaN age.
    horizon : int, optional
        Age (months) at which development ends (an expiry horizon): factors from it on are 1.
    tail : ``"exponential"``, ``"none"``, a float or a callable
        The tail past the last observed age (ignored when the triangle reaches ``horizon``); a
        callable maps the factors to ``(tail, how it was set)``.
    """
    cum = np.asarray(cum, dtype=np.float64)
    n_o, n_a = cum.shape
    f = volume_weighted_factors(cum)
    ages = np.arange(n_a - 1)
    if horizon is not None:
        f = np.where(ages >= horizon, 1.0, f)
    if horizon is not None and n_a - 1 >= horizon:
        t, how = 1.0, f"none needed: the triangle reaches the expiry horizon ({horizon} months), where development ends"
    elif callable(tail):
        t, how = tail(f)
    elif isinstance(tail, int | float) and not isinstance(tail, bool):
        t, how = float(tail), f"given: {float(tail):g}"
    elif tail == "none":
        t, how = 1.0, "none (development assumed complete at the last observed age)"
    else:
        t, how = exponential_tail(f)
    # F_a = prod_{b >= a} f_b * T; an undefined factor makes every earlier F undefined.
    rev = np.cumprod(f[::-1])[::-1] if len(f) else np.zeros(0)
    cdf = np.append(rev, 1.0) * t
    observed = ~np.isnan(cum)
    latest_age = np.where(observed.any(axis=1), n_a - 1 - np.argmax(observed[:, ::-1], axis=1), -1)
    latest = np.where(latest_age >= 0, cum[np.arange(n_o), np.maximum(latest_age, 0)], np.nan)
    with np.errstate(invalid="ignore"):
        ult = np.where(latest_age >= 0, latest * cdf[np.maximum(latest_age, 0)], np.nan)
    ult = np.where(latest == 0, 0.0, ult)  # nothing to develop (0 x an undefined factor)
    return ChainLadder(f, t, cdf, latest, latest_age.astype(np.int64), ult, how)
