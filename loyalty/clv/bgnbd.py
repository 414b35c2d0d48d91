"""BG/NBD purchase model (Fader, Hardie & Lee 2005), fitted by maximum likelihood.

Time unit: periods of the summary (``summary.attrs['period_days']`` days).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special

from loyalty.clv.errors import MIN_REPEAT_BUYERS, ModelError


# --------------------------------------------------------------------------- BG/NBD
def xtT(summary: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    missing = [c for c in ("frequency", "recency", "T") if c not in summary.columns]
    if missing:
        raise ModelError(f"The summary lacks column(s) {', '.join(missing)} (use rfm_summary).")
    x = summary["frequency"].to_numpy(float)
    tx = summary["recency"].to_numpy(float)
    T = summary["T"].to_numpy(float)
    if not (np.isfinite(x).all() and np.isfinite(tx).all() and np.isfinite(T).all()):
        raise ModelError("The summary has missing or infinite frequency/recency/T values.")
    if (x < 0).any() or (tx < 0).any() or (tx > T + 1e-9).any():
        raise ModelError("Invalid summary: need frequency >= 0 and 0 <= recency <= T.")
    return x, tx, T


def bgnbd_loglik(
    params: tuple[float, float, float, float], x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """Per-customer BG/NBD log-likelihood (FHL 2005, eq. 6) for ``(r, alpha, a, b)``."""
    r, alpha, a, b = params
    x = np.asarray(x, float)
    t_x = np.asarray(t_x, float)
    T = np.asarray(T, float)
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = special.betaln(a, b + x) - special.betaln(a, b)  # B(a, b+x)/B(a, b)
    a3 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.where(
            x > 0,
            np.log(a) - np.log(b + np.maximum(x, 1) - 1) - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
    return a1 + a2 + np.logaddexp(a3, a4)


def bgnbd_loglik_grad(
    params: tuple[float, float, float, float], x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per-customer BG/NBD log-likelihood and its gradient wrt ``(r, alpha, a, b)`` (n x 4).

    With w3, w4 the weights of the two terms of the log-sum-exp (w3 + w4 = 1, w4 = 0
    when x = 0): d/dr = psi(r+x) - psi(r) + ln alpha - w3 ln(alpha+T) - w4 ln(alpha+t_x);
    d/dalpha = r/alpha - (r+x)(w3/(alpha+T) + w4/(alpha+t_x)); d/da = psi(a+b) - psi(a+b+x)
    + w4/a; d/db = psi(b+x) - psi(a+b+x) - psi(b) + psi(a+b) - w4/(b+x-1).
    """
    r, alpha, a, b = params
    x = np.asarray(x, float)
    t_x = np.asarray(t_x, float)
    T = np.asarray(T, float)
    ll = bgnbd_loglik(params, x, t_x, T)
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = special.betaln(a, b + x) - special.betaln(a, b)
    lse = ll - a1 - a2
    w3 = np.exp(-(r + x) * np.log(alpha + T) - lse)
    w4 = np.where(x > 0, 1.0 - w3, 0.0)
    psi = special.digamma
    g = np.empty((len(x), 4))
    g[:, 0] = psi(r + x) - psi(r) + np.log(alpha) - w3 * np.log(alpha + T) - w4 * np.log(alpha + t_x)
    g[:, 1] = r / alpha - (r + x) * (w3 / (alpha + T) + w4 / (alpha + t_x))
    g[:, 2] = psi(a + b) - psi(a + b + x) + w4 / a
    g[:, 3] = psi(b + x) - psi(a + b + x) - psi(b) + psi(a + b) - w4 / (b + np.maximum(x, 1) - 1)
    return ll, g


@dataclass(frozen=True)
class BGNBDFit:
    """Fitted BG/NBD model. Purchase rate ~ Gamma(r, alpha), dropout p ~ Beta(a, b).

    Time is in the summary's periods (``period_days`` days each).
    """

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    converged: bool
    message: str
    n_customers: int
    period_days: float = 1.0

    @property
    def params(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}

    def p_alive(self, x, t_x, T) -> np.ndarray:
        """P(customer still active at T | x repeat purchases, last at t_x). 1 when x = 0."""
        return p_alive(self, x, t_x, T)

    def expected_purchases(self, t) -> np.ndarray:
        """E[X(t)]: purchases in a period of length ``t`` by a new customer (FHL eq. 7)."""
        return expected_purchases(self, t)

    def conditional_expected_purchases(self, t, x, t_x, T) -> np.ndarray:
        """E[Y(t) | x, t_x, T]: purchases in the next ``t`` periods (FHL eq. 10)."""
        return conditional_expected_purchases(self, t, x, t_x, T)


def fit_bgnbd(
    summary: pd.DataFrame, *, min_repeat_buyers: int = MIN_REPEAT_BUYERS, initial=(1.0, 1.0, 1.0, 1.0)
) -> BGNBDFit:
    """Fit BG/NBD by maximum likelihood on ``frequency``, ``recency``, ``T``.

    Identical (x, t_x, T) rows are collapsed with counts, so the cost grows with the
    number of distinct histories, not customers. Raises :class:`ModelError` when
    there are fewer than ``min_repeat_buyers`` repeat buyers or the optimiser fails.
    """
    x, tx, T = xtT(summary)
    repeaters = int((x > 0).sum())
    if repeaters < min_repeat_buyers:
        raise ModelError(
            f"Only {repeaters} customers bought more than once (at least {min_repeat_buyers} are "
            "needed to fit the BG/NBD purchase model). Use a longer history or the simple CLV."
        )
    if (T <= 0).all():
        raise ModelError("Every customer's first purchase is at the end of the period (T = 0).")
    uniq, counts = np.unique(np.column_stack([x, tx, T]), axis=0, return_counts=True)
    ux, utx, uT = uniq.T
    w = counts.astype(float)
    total = w.sum()

    def nll(logp: np.ndarray) -> tuple[float, np.ndarray]:
        p = np.exp(logp)
        ll, g = bgnbd_loglik_grad(p, ux, utx, uT)
        val = -(w @ ll) / total
        grad = -(w @ g) / total * p  # chain rule for log-parameters
        if not (np.isfinite(val) and np.isfinite(grad).all()):
            return 1e100, np.zeros(4)
        return val, grad

    res = optimize.minimize(nll, np.log(initial), jac=True, method="L-BFGS-B", bounds=[(-12, 12)] * 4)
    if not res.success or not np.isfinite(res.fun):
        res2 = optimize.minimize(
            lambda z: nll(z)[0], res.x, method="Nelder-Mead", options={"maxiter": 4000, "xatol": 1e-7, "fatol": 1e-10}
        )
        if res2.fun <= res.fun:
            res = res2
    r, alpha, a, b = np.exp(res.x)
    at_bound = bool(np.any(np.abs(res.x) > 11.9))
    converged = bool(res.success) and np.isfinite(res.fun) and not at_bound
    if not converged:
        raise ModelError(
            "The BG/NBD purchase model did not converge on this data "
            f"({res.message}; parameters r={r:.3g}, alpha={alpha:.3g}, a={a:.3g}, b={b:.3g}). "
            "Typical causes: very short history, almost no repeat purchases, or a period unit "
            "far from the purchase rhythm (try weeks instead of days)."
        )
    return BGNBDFit(
        float(r),
        float(alpha),
        float(a),
        float(b),
        float(-res.fun * total),
        converged,
        str(res.message),
        int(total),
        float(summary.attrs.get("period_days", 1.0)),
    )


def p_alive(fit: BGNBDFit, x, t_x, T) -> np.ndarray:
    """P(alive | x, t_x, T) = 1 / (1 + a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x)), 1 if x = 0."""
    x = np.asarray(x, float)
    t_x = np.asarray(t_x, float)
    T = np.asarray(T, float)
    r, alpha, a, b = fit.r, fit.alpha, fit.a, fit.b
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = (
            np.log(a) - np.log(b + np.maximum(x, 1) - 1) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        )
    return np.where(x > 0, special.expit(-log_ratio), 1.0)


def expected_purchases(fit: BGNBDFit, t) -> np.ndarray:
    """E[X(t)] for a newly acquired customer (FHL 2005 eq. 7)."""
    t = np.asarray(t, float)
    r, alpha, a, b = fit.r, fit.alpha, fit.a, fit.b
    hyp = special.hyp2f1(r, b, a + b - 1, t / (alpha + t))
    return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp)


def conditional_expected_purchases(fit: BGNBDFit, t, x, t_x, T) -> np.ndarray:
    """E[Y(t) | x, t_x, T]: expected purchases in (T, T + t] (FHL 2005 eq. 10)."""
    t = np.asarray(t, float)
    x = np.asarray(x, float)
    t_x = np.asarray(t_x, float)
    T = np.asarray(T, float)
    r, alpha, a, b = fit.r, fit.alpha, fit.a, fit.b
    z = t / (alpha + T + t)
    hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
    head = (a + b + x - 1) / (a - 1)
    body = 1 - np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t))) * hyp
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        odds = np.where(
            x > 0,
            np.exp(
                np.log(a)
                - np.log(b + np.maximum(x, 1) - 1)
                + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
            ),
            0.0,
        )
    return head * body / (1 + odds)


def p_alive_matrix(fit: BGNBDFit, max_frequency: int, T: float, n_recency: int = 25) -> pd.DataFrame:
    """P(alive) on a grid of frequency 0..``max_frequency`` x recency 0..``T`` (periods), age ``T``.

    Tidy frame: ``frequency``, ``recency`` (periods), ``p_alive``. Frequency-0 cells are
    only defined at recency 0 (no repeat purchase yet) and are returned there only.
    """
    freq = np.arange(0, max(int(max_frequency), 1) + 1)
    rec = np.linspace(0, T, n_recency)
    F, R = np.meshgrid(freq, rec, indexing="ij")
    keep = (F > 0) | (R == 0)
    F, R = F[keep], R[keep]
    return pd.DataFrame({"frequency": F, "recency": R, "p_alive": p_alive(fit, F, R, np.full(F.shape, T))})
