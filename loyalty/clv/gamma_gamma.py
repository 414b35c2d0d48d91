"""Gamma-Gamma spend model (Fader & Hardie 2013), fitted by maximum likelihood."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, special

from loyalty.clv.errors import MIN_REPEAT_BUYERS, ModelError


# --------------------------------------------------------------------------- Gamma-Gamma
def gamma_gamma_loglik(params: tuple[float, float, float], x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Per-customer Gamma-Gamma log-likelihood of mean spend ``m`` over ``x`` transactions."""
    p, q, v = params
    px = p * x
    return (
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * np.log(v)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(x * m + v)
    )


@dataclass(frozen=True)
class GammaGammaFit:
    """Fitted Gamma-Gamma spend model (Fader & Hardie 2013): shape p, and v ~ Gamma(q, v)."""

    p: float
    q: float
    v: float
    log_likelihood: float
    converged: bool
    message: str
    n_customers: int
    spend_frequency_corr: float
    warnings: tuple[str, ...] = field(default=())

    @property
    def params(self) -> dict[str, float]:
        return {"p": self.p, "q": self.q, "v": self.v}

    def expected_spend(self, x, m) -> np.ndarray:
        """E[M | x, m] = p (v + x m) / (p x + q - 1); the population mean p v / (q - 1) when x = 0."""
        return expected_spend(self, x, m)


def fit_gamma_gamma(
    summary: pd.DataFrame, *, min_repeat_buyers: int = MIN_REPEAT_BUYERS, corr_threshold: float = 0.3
) -> GammaGammaFit:
    """Fit Gamma-Gamma by maximum likelihood on repeat buyers (``frequency > 0``).

    Customers with ``monetary_value <= 0`` (net returns) are left out and counted in
    the warnings. A warning (also issued with :mod:`warnings`) is added when
    |Pearson r(frequency, monetary_value)| > ``corr_threshold``: the model assumes
    spend is independent of frequency.
    """
    if "monetary_value" not in summary.columns or "frequency" not in summary.columns:
        raise ModelError("The summary lacks frequency/monetary_value columns (use rfm_summary).")
    x = summary["frequency"].to_numpy(float)
    m = summary["monetary_value"].to_numpy(float)
    rep = x > 0
    notes: list[str] = []
    bad = rep & ~(m > 0)
    if bad.any():
        notes.append(
            f"{int(bad.sum())} repeat buyers with zero or negative mean spend were left out of the spend model."
        )
    use = rep & (m > 0) & np.isfinite(m)
    if use.sum() < min_repeat_buyers:
        raise ModelError(
            f"Only {int(use.sum())} repeat buyers with positive spend (at least {min_repeat_buyers} are "
            "needed to fit the Gamma-Gamma spend model)."
        )
    x, m = x[use], m[use]
    corr = float(np.corrcoef(x, m)[0, 1]) if x.std() > 0 and m.std() > 0 else 0.0
    if abs(corr) > corr_threshold:
        msg = (
            f"Spend and purchase frequency are correlated (Pearson r = {corr:.2f}); the Gamma-Gamma "
            "model assumes they are independent, so expected spend may be biased."
        )
        notes.append(msg)
        warnings.warn(msg, stacklevel=2)
    scale = float(np.mean(m))  # fit v on a unit scale: keeps the optimiser well conditioned

    ms = m / scale
    log_x, log_m = np.log(x), np.log(ms)

    def nll(logp: np.ndarray) -> tuple[float, np.ndarray]:
        p, q, v = np.exp(logp)
        px = p * x
        log_xmv = np.log(x * ms + v)
        val = -np.mean(gamma_gamma_loglik((p, q, v), x, ms))
        dpsi = special.digamma(px + q)
        grad = -np.array(
            [
                np.mean(x * (dpsi - special.digamma(px) + log_m + log_x - log_xmv)) * p,
                np.mean(dpsi - special.digamma(q) + np.log(v) - log_xmv) * q,
                np.mean(q / v - (px + q) / (x * ms + v)) * v,
            ]
        )
        if not (np.isfinite(val) and np.isfinite(grad).all()):
            return 1e100, np.zeros(3)
        return val, grad

    res = optimize.minimize(nll, np.zeros(3), jac=True, method="L-BFGS-B", bounds=[(-12, 12)] * 3)
    if not res.success:
        res2 = optimize.minimize(lambda z: nll(z)[0], res.x, method="Nelder-Mead", options={"maxiter": 4000})
        if res2.fun <= res.fun:
            res = res2
    p, q, v = np.exp(res.x)
    v *= scale
    converged = bool(res.success) and not np.any(np.abs(res.x) > 11.9)
    if not converged:
        raise ModelError(f"The Gamma-Gamma spend model did not converge ({res.message}).")
    ll = float(np.sum(gamma_gamma_loglik((p, q, v), x, m)))
    if q <= 1:
        notes.append(
            "Fitted q <= 1: the mean spend of the population is undefined; expected spend is unreliable."
        )
    return GammaGammaFit(
        float(p), float(q), float(v), ll, converged, str(res.message), int(len(x)), corr, tuple(notes)
    )


def expected_spend(fit: GammaGammaFit, x, m) -> np.ndarray:
    """Conditional expected mean spend per transaction (Fader & Hardie 2013, eq. 5)."""
    x = np.asarray(x, float)
    m = np.asarray(m, float)
    p, q, v = fit.p, fit.q, fit.v
    with np.errstate(invalid="ignore", divide="ignore"):
        return (p * (v + x * np.where(x > 0, m, 0.0))) / (p * x + q - 1)
