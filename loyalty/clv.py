"""Customer lifetime value: the classic formula and the BG/NBD + Gamma-Gamma models.

Probabilistic models follow Fader, Hardie & Lee (2005) "Counting Your Customers the
Easy Way" (BG/NBD) and Fader & Hardie (2013) "The Gamma-Gamma Model of Monetary
Value", fitted by maximum likelihood with scipy (log-parameters, numerically stable
log-likelihoods built from ``gammaln``/``betaln``/``logaddexp``). Data conventions
match lifetimes / pymc-marketing (:func:`rfm_summary`).

Time units: ``recency``, ``T`` and every model horizon ``t`` are in *periods* of
``freq_multiplier`` x ``freq`` (e.g. days / 7 = weeks for ``freq="D", freq_multiplier=7``).
The period length in days is stored in ``summary.attrs["period_days"]``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, special

#: Fewer repeat buyers than this and a probabilistic fit is refused.
MIN_REPEAT_BUYERS = 50


class ModelError(ValueError):
    """A model cannot be fitted or used on this data (message says why, for the user)."""


# --------------------------------------------------------------------------- classic
@dataclass(frozen=True)
class SimpleCLV:
    """Classic CLV = AOV x purchases per year x expected lifespan (years) x margin.

    ``table`` has one row per group (``All members`` first, then one per segment) with
    the inputs shown: ``members``, ``aov`` (net spend / purchases, currency),
    ``purchases_per_year`` (purchases / member-years of tenure), ``annual_churn``
    (see :func:`clv_simple`), ``lifespan_years`` (1 / annual churn, capped),
    ``margin`` and ``clv`` (currency per member).
    """

    table: pd.DataFrame
    margin: float
    lifespan_cap_years: float


def _simple_row(f: pd.DataFrame, margin: float, lifespan_years: float | None, cap: float) -> dict:
    purchases = float(f["frequency"].sum())
    member_years = float(f["tenure_days"].clip(lower=1).sum()) / 365.25
    aov = float(f["monetary"].sum()) / purchases if purchases else np.nan
    per_year = purchases / len(f) / (member_years / len(f)) if member_years else np.nan
    rec = f["recency_days"]
    lapsed = rec.between(365, 730, inclusive="right").sum()
    exposed = ((f["tenure_days"] > 365) & (rec <= 730)).sum()
    churn = lapsed / exposed if exposed else np.nan
    if lifespan_years is None:
        life = min(1.0 / churn, cap) if churn and np.isfinite(churn) and churn > 0 else cap
    else:
        life = float(lifespan_years)
    return {
        "members": len(f),
        "aov": aov,
        "purchases_per_year": per_year,
        "annual_churn": churn,
        "lifespan_years": life,
        "margin": margin,
        "clv": aov * per_year * life * margin,
    }


def clv_simple(
    features: pd.DataFrame,
    segments: pd.Series | None = None,
    *,
    margin: float = 1.0,
    lifespan_years: float | None = None,
    lifespan_cap_years: float = 10.0,
) -> SimpleCLV:
    """Classic CLV per member, overall and per segment.

    Definitions (from :func:`loyalty.features.member_features`):

    * AOV = sum(monetary) / sum(frequency) (net spend per purchase);
    * purchases per year = sum(frequency) / sum(tenure_days / 365.25);
    * annual churn = members whose last purchase is 365-730 days old / members with
      tenure > 365 days who purchased in the last 730 days (a one-snapshot proxy for
      "active a year ago, gone since");
    * lifespan = ``lifespan_years`` if given, else 1 / annual churn capped at
      ``lifespan_cap_years``;
    * CLV = AOV x purchases per year x lifespan x ``margin`` (1.0 = revenue CLV).
    """
    rows = [{"group": "All members", **_simple_row(features, margin, lifespan_years, lifespan_cap_years)}]
    if segments is not None:
        seg = segments.reindex(features.index)
        for name, part in features.groupby(seg, sort=True, observed=True):
            rows.append({"group": str(name), **_simple_row(part, margin, lifespan_years, lifespan_cap_years)})
    return SimpleCLV(pd.DataFrame(rows).set_index("group"), margin, lifespan_cap_years)


# --------------------------------------------------------------------------- RFM summary
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


# --------------------------------------------------------------------------- BG/NBD
def _xtT(summary: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
    x, tx, T = _xtT(summary)
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
    x, tx, T = _xtT(summary)
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


# --------------------------------------------------------------------------- dataset-level helpers
def member_rfm_summary(
    dataset,
    period_days: int = 7,
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


def fit_models(dataset, period_days: int = 7) -> CLVModels:
    """Fit BG/NBD and Gamma-Gamma on a dataset's member purchases (raises :class:`ModelError`)."""
    summary = member_rfm_summary(dataset, period_days)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the correlation warning is kept in .notes
        gg = fit_gamma_gamma(summary)
    return CLVModels(summary, fit_bgnbd(summary), gg, period_days)


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


def clv_by_segment(values: pd.DataFrame, labels: pd.Series, names: dict[int, str]) -> pd.DataFrame:
    """CLV per segment: ``members``, ``mean_clv``, ``total_clv``, ``share_of_clv``, ``mean_p_alive``.

    Members of a segment without a purchase (not in ``values``) count with CLV 0 and
    are reported in ``without_purchase``.
    """
    seg = labels.map(names).rename("segment")
    v = values.reindex(labels.index)
    frame = pd.DataFrame({"segment": seg, "clv": v["clv"].fillna(0.0), "p_alive": v["p_alive"]})
    frame["no_purchase"] = v["clv"].isna()
    out = frame.groupby("segment", sort=False).agg(
        members=("clv", "size"),
        without_purchase=("no_purchase", "sum"),
        mean_clv=("clv", "mean"),
        total_clv=("clv", "sum"),
        mean_p_alive=("p_alive", "mean"),
    )
    total = out["total_clv"].sum()
    out["share_of_clv"] = out["total_clv"] / total if total else np.nan
    return out.sort_values("total_clv", ascending=False)


def member_calibration_check(
    dataset, calibration_end: pd.Timestamp | str, holdout_end: pd.Timestamp | str, period_days: int = 7
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
