"""Breakage by earn cohort: the ultimate redemption rate (URR) by chain-ladder and the expected breakage
of the points outstanding (registry keys ``urr`` and ``breakage_rate``), with a backtest.

Definitions
-----------
For earn-month cohort ``c`` at ``as_of``: ``I_c`` points issued, ``R_c`` redeemed so far (FIFO, see
:mod:`loyalty.economics.cohorts`), ``O_c`` still open. The chain-ladder
(:mod:`loyalty.economics.chainladder`) on the cumulative redemption triangle gives the cumulative
factor to ultimate ``F_a`` and each cohort's ultimate redeemed points

    U_c = R_c * F_{A_c}                       (chain-ladder), or
    U_c = R_c + I_c * u * (1 - 1 / F_{A_c})   (Bornhuetter-Ferguson, only for a cohort the chain-ladder
                                               cannot develop: nothing redeemed yet or an undefined factor),

with ``u = sum U / sum I`` over the chain-ladder cohorts, and ``U_c`` capped at ``R_c + O_c`` (a cohort
cannot redeem more than it holds). Then

* ``urr = sum_c U_c / sum_c I_c``: the ultimate share of the points issued to ``as_of`` that will be
  redeemed;
* ``outstanding_breakage = 1 - sum_c (U_c - R_c) / sum_c O_c``: the expected share of the points
  outstanding at ``as_of`` that will never be redeemed (expire, are adjusted away or stay unused).

The tail is the exponential decay of the age-to-age factors fitted from age :data:`TAIL_FIT_FROM`
months on: the first months' factors measure how fast members reach their first reward, a different
mechanism from the slow run-off that the tail extrapolates. Under an expiry rule with a known horizon
(fixed-term lots: months + grace), development ends at it and no tail is needed.

No estimate (NaN, with the reason in ``method``) when fewer than :data:`MIN_DEVELOPED_COHORTS` cohorts
have :data:`DEVELOPED_MONTHS` months of development (or the horizon when it is known): the
development pattern would be guessed rather than measured.

Backtest (:func:`backtest_breakage`): at cutoffs ``k`` months before the data end, the estimate made
with the data up to the cutoff is compared with what then happened to the points outstanding at the
cutoff (the same FIFO attribution on the full history): realised lower bound = (expired or adjusted
away later) / outstanding, upper bound = (that + still open at the data end) / outstanding.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from loyalty.economics.chainladder import chain_ladder, exponential_tail
from loyalty.economics.cohorts import (
    ADJUSTED,
    EXPIRED,
    REDEEMED,
    CohortCells,
    CohortFlows,
    FifoAttribution,
    LedgerIssues,
    PointsEvents,
    as_of_ns,
    attribute_fifo,
    cohort_cells,
    cohort_flows,
    events_from_ledger,
    ledger_attribution,
    month_index,
    month_start,
)
from loyalty.schema import Dataset

NAN = float("nan")
#: Cohorts needed with enough development before an estimate is made.
MIN_DEVELOPED_COHORTS = 3
#: Months of development that make a cohort count as developed (without a known expiry horizon).
DEVELOPED_MONTHS = 12
#: First age (months) whose age-to-age factor enters the tail fit.
TAIL_FIT_FROM = 6
#: Default backtest cutoffs, months before the data end.
BACKTEST_MONTHS = (6, 12, 18)


@dataclass(frozen=True)
class BreakageEstimate:
    """Breakage of a points program at ``as_of`` by earn cohort (points and 0-1 shares).

    Attributes
    ----------
    as_of : pandas.Timestamp
        The data up to it was used.
    urr : float
        Ultimate redemption rate: expected share of the points issued up to ``as_of`` that will be
        redeemed (NaN when not estimated).
    outstanding_breakage : float
        Expected share of the points outstanding at ``as_of`` that will never be redeemed (NaN when
        not estimated).
    outstanding, issued, redeemed, expired : float
        Points open at ``as_of`` and issued, redeemed, expired (or adjusted away) up to it.
    by_cohort : DataFrame
        One row per earn month: ``cohort`` (first day), ``age`` (months at ``as_of``), ``issued``,
        ``redeemed``, ``expired``, ``open``, ``ultimate_redeemed``, ``urr``, ``future_redeemed``,
        ``method`` (chain-ladder / Bornhuetter-Ferguson) and ``developed``.
    factors : DataFrame
        ``age``, ``factor`` (volume-weighted, age to age + 1), ``cdf`` (to ultimate) and ``cohorts``
        (how many cohorts inform the factor).
    tail : float
        Tail factor past the last observed age.
    method : str
        How the figures were made, or why they were not.
    developed_cohorts : int
        Cohorts with enough development (see the module docstring).
    issues : LedgerIssues
        Data-quality counts of the ledger the estimate was made from.
    source : str
        ``"ledger"`` (the user's points ledger) or ``"replay"`` (the simulator's replayed history).
    """

    as_of: pd.Timestamp
    urr: float
    outstanding_breakage: float
    outstanding: float
    issued: float
    redeemed: float
    expired: float
    by_cohort: pd.DataFrame
    factors: pd.DataFrame
    tail: float
    method: str
    developed_cohorts: int
    issues: LedgerIssues = field(default_factory=LedgerIssues)
    source: str = "ledger"

    @property
    def value(self) -> float:
        """The breakage rate shown as ``breakage_rate``: :attr:`outstanding_breakage`."""
        return self.outstanding_breakage

    @property
    def estimated(self) -> bool:
        return not np.isnan(self.outstanding_breakage)


def not_estimated(reason: str, as_of, issues: LedgerIssues | None = None, source: str = "ledger") -> BreakageEstimate:
    """An estimate that was not made: NaN figures, ``method`` = "Not estimated: " + ``reason``."""
    return BreakageEstimate(
        pd.Timestamp(as_of) if as_of is not None else pd.NaT, NAN, NAN, NAN, NAN, NAN, NAN,
        pd.DataFrame(), pd.DataFrame(), NAN, "Not estimated: " + reason, 0, issues or LedgerIssues(), source,
    )


def estimate_from_cells(
    cells: CohortCells | None,
    *,
    horizon_months: int | None = None,
    issues: LedgerIssues | None = None,
    source: str = "ledger",
) -> BreakageEstimate:
    """:class:`BreakageEstimate` from the development cells at their ``as_of`` (see the module docstring).

    Parameters
    ----------
    cells : CohortCells or None
        The development (None: no point issued by then).
    horizon_months : int, optional
        Age after which no point of a cohort is left (fixed-term expiry: months + grace, rounded up):
        development ends there.
    issues : LedgerIssues, optional
        Data-quality counts to carry (and mention in ``method``).
    source : str
        ``"ledger"`` or ``"replay"``.
    """
    if cells is None or not cells.issued.sum() > 0:
        return not_estimated("no points were issued by this date.", None if cells is None else cells.as_of,
                              issues, source)
    n = cells.n_cohorts
    age = cells.latest_age
    iss, opn = cells.issued, cells.open
    R = cells.exits[:, :, REDEEMED].sum(axis=1)
    X = cells.exits[:, :, EXPIRED].sum(axis=1) + cells.exits[:, :, ADJUSTED].sum(axis=1)
    dev_age = DEVELOPED_MONTHS if horizon_months is None else int(horizon_months)
    developed = (age >= dev_age) & (iss > 0)
    n_dev = int(developed.sum())
    cum = cells.cumulative(REDEEMED)
    cl = chain_ladder(cum, horizon=horizon_months, tail=_TailFrom(TAIL_FIT_FROM))
    observed = ~np.isnan(cum)
    n_inform = (observed[:, 1:] & observed[:, :-1]).sum(axis=0) if n > 1 else np.zeros(0, dtype=int)
    factors = pd.DataFrame(
        {
            "age": np.arange(n - 1, dtype=np.int64),
            "factor": cl.factors,
            "cdf": cl.cdf[:-1] if n > 1 else np.zeros(0),
            "cohorts": n_inform.astype(np.int64),
        }
    )
    base = pd.DataFrame(
        {
            "cohort": month_start(cells.cohort_months),
            "age": age.astype(np.int64),
            "issued": iss,
            "redeemed": R,
            "expired": X,
            "open": opn,
        }
    )
    totals = dict(outstanding=float(opn.sum()), issued=float(iss.sum()), redeemed=float(R.sum()), expired=float(X.sum()))
    note = " " + " ".join(issues.messages()) if issues is not None and issues.messages() else ""
    if n_dev < MIN_DEVELOPED_COHORTS:
        why = (
            f"cohorts too young to develop: {n_dev} earn month(s) with at least {dev_age} months of development, "
            f"{MIN_DEVELOPED_COHORTS} needed (the data starts {month_start(cells.first_month):%b %Y})."
        )
        return BreakageEstimate(pd.Timestamp(cells.as_of), NAN, NAN, by_cohort=base.assign(developed=developed),
                                factors=factors, tail=cl.tail, method="Not estimated: " + why + note,
                                developed_cohorts=n_dev, issues=issues or LedgerIssues(), source=source, **totals)
    if not np.isfinite(cl.tail):
        return BreakageEstimate(pd.Timestamp(cells.as_of), NAN, NAN, by_cohort=base.assign(developed=developed),
                                factors=factors, tail=cl.tail, method="Not estimated: " + cl.tail_method + "." + note,
                                developed_cohorts=n_dev, issues=issues or LedgerIssues(), source=source, **totals)
    cdf_at = cl.cdf[np.clip(age, 0, n - 1)]
    can_cl = (R > 0) & np.isfinite(cdf_at)
    ult = np.where(can_cl, R * np.where(np.isfinite(cdf_at), cdf_at, 1.0), np.nan)
    ult = np.minimum(ult, R + opn)
    used = can_cl & (iss > 0)
    u = float(np.nansum(ult[used]) / iss[used].sum()) if used.any() else NAN
    if np.isnan(u):
        return BreakageEstimate(pd.Timestamp(cells.as_of), NAN, NAN, by_cohort=base.assign(developed=developed),
                                factors=factors, tail=cl.tail,
                                method="Not estimated: no cohort has redeemed anything yet." + note,
                                developed_cohorts=n_dev, issues=issues or LedgerIssues(), source=source, **totals)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct_dev = np.where(np.isfinite(cdf_at) & (cdf_at > 0), 1.0 / cdf_at, 0.0)
    bf = R + iss * u * (1.0 - pct_dev)
    ult = np.where(can_cl, ult, np.minimum(bf, R + opn))
    fut = np.maximum(ult - R, 0.0)
    urr = float(ult.sum() / iss.sum())
    ob = float(1.0 - fut.sum() / opn.sum()) if opn.sum() > 0 else NAN
    by_cohort = base.assign(
        ultimate_redeemed=ult,
        urr=np.where(iss > 0, ult / np.where(iss > 0, iss, 1.0), np.nan),
        future_redeemed=fut,
        method=np.where(can_cl, "chain-ladder", "Bornhuetter-Ferguson"),
        developed=developed,
    )
    n_bf = int((~can_cl & (iss > 0)).sum())
    src = "the replayed history (no points ledger)" if source == "replay" else "the points ledger"
    method = (
        f"Earn-cohort chain-ladder on {src} at {pd.Timestamp(cells.as_of):%d %b %Y}: every redemption and expiry "
        f"attributed first in first out to the earn month of the points it used; volume-weighted age-to-age "
        f"factors of the cumulative redemption triangle ({n} earn months, {n_dev} with at least {dev_age} months "
        f"of development); tail {cl.tail:.4f} ({cl.tail_method}). URR = ultimate redeemed / issued; breakage "
        f"of the outstanding points = 1 - expected future redemptions / points outstanding."
    )
    if n_bf:
        method += (
            f" {n_bf} cohort(s) with nothing redeemed yet use the Bornhuetter-Ferguson expected URR "
            f"({u:.1%}) instead of the chain-ladder."
        )
    if not np.isfinite(ob):
        method += " No point is outstanding, so breakage of the outstanding points is not defined."
    return BreakageEstimate(pd.Timestamp(cells.as_of), urr, ob, by_cohort=by_cohort, factors=factors,
                            tail=cl.tail, method=method + note, developed_cohorts=n_dev,
                            issues=issues or LedgerIssues(), source=source, **totals)


@dataclass(frozen=True)
class _TailFrom:
    """Exponential tail fitted on the factors from age ``start`` on (a ``tail=`` option of :func:`chain_ladder`)."""

    start: int

    def __call__(self, factors: np.ndarray) -> tuple[float, str]:
        f = np.asarray(factors, dtype=np.float64)
        if len(f) <= self.start:
            return exponential_tail(f)
        masked = f.copy()
        masked[: self.start] = np.nan
        t, how = exponential_tail(masked)
        return t, how.replace("fitted on", f"from age {self.start} months, fitted on")


PointsData = Dataset | pd.DataFrame | PointsEvents | FifoAttribution | CohortFlows


def _attribution(data) -> FifoAttribution | CohortFlows | None:
    if isinstance(data, FifoAttribution | CohortFlows):
        return data
    if isinstance(data, PointsEvents):
        return attribute_fifo(data)
    if isinstance(data, Dataset):
        return ledger_attribution(data)
    if isinstance(data, pd.DataFrame):
        return attribute_fifo(events_from_ledger(data))
    if data is None:
        return None
    raise TypeError("Pass a Dataset, a ledger DataFrame, PointsEvents, a FifoAttribution or CohortFlows.")


def flows_of(data) -> tuple[CohortFlows | None, LedgerIssues]:
    """(month-level :class:`CohortFlows`, ledger issues) of any points history accepted by :func:`estimate_breakage`."""
    a = _attribution(data)
    if a is None or isinstance(a, CohortFlows):
        return a, LedgerIssues()
    return cohort_flows(a), a.issues


def estimate_breakage(
    dataset: PointsData | None,
    as_of=None,
    *,
    horizon_months: int | None = None,
    source: str = "ledger",
) -> BreakageEstimate:
    """Breakage and URR of a program by earn cohort (see the module docstring).

    Parameters
    ----------
    dataset : Dataset, ledger DataFrame, PointsEvents, FifoAttribution or CohortFlows
        The points history: a dataset's ``ledger``, a canonical ledger frame, prepared events, or
        the month-level flows a replay keeps (:attr:`~loyalty.simulator.SimulationResult.cohort_flows`;
        ``as_of`` must then be a month end or None).
    as_of : date-like, optional
        Only the data up to it is used (a date means the end of that day); defaults to the last
        ledger event.
    horizon_months : int, optional
        Expiry horizon when every point expires a fixed time after it was earned (development ends).
    source : str
        ``"ledger"`` or ``"replay"``, for the method text.

    Returns
    -------
    BreakageEstimate
        NaN figures with the reason in ``method`` when there is no ledger or the cohorts are too young.
    """
    attr = _attribution(dataset)
    if attr is None:
        return not_estimated("breakage needs a points ledger (earn, redeem and expire events); upload one.",
                              as_of, source=source)
    if isinstance(attr, CohortFlows):
        i = None
        if as_of is not None:
            t = as_of_ns(as_of, attr.last_time)
            i = int(month_index(np.array([t]))[0]) - attr.first_month
            if i < attr.n_months - 1 and t != attr.month_end(i):
                raise ValueError("Month-level flows give the estimate at month ends only.")
        return estimate_from_cells(attr.cells(i), horizon_months=horizon_months, source=source)
    t = as_of_ns(as_of, attr.events.last_time)
    return estimate_from_cells(cohort_cells(attr, t), horizon_months=horizon_months, issues=attr.issues,
                               source=source)


#: Month ends re-estimated by :func:`month_end_estimates` (each one is a chain-ladder on a triangle).
MAX_MONTH_END_ESTIMATES = 60


def month_end_estimates(data: PointsData | None, *, horizon_months: int | None = None) -> pd.DataFrame:
    """The estimate as it would have been made at every month end of the history.

    Columns: ``month`` (first day), ``as_of`` (its last instant, the history's end for the last
    month), ``urr``, ``outstanding_breakage``, ``outstanding`` (points), ``method``.
    """
    flows, _ = flows_of(data)
    cols = ["month", "as_of", "urr", "outstanding_breakage", "outstanding", "method"]
    if flows is None:
        return pd.DataFrame(columns=cols)
    rows = []
    first = max(flows.n_months - MAX_MONTH_END_ESTIMATES, 0)
    for i in range(flows.n_months):
        if i < first:  # bounded work on decades of history: earlier months are left unestimated
            rows.append((flows.months[i], pd.Timestamp(flows.month_end(i)), np.nan, np.nan, np.nan,
                         f"not estimated: only the last {MAX_MONTH_END_ESTIMATES} month ends are"))
            continue
        e = estimate_from_cells(flows.cells(i), horizon_months=horizon_months)
        rows.append((flows.months[i], pd.Timestamp(flows.month_end(i)), e.urr, e.outstanding_breakage,
                     e.outstanding, e.method))
    return pd.DataFrame(rows, columns=cols)


def backtest_breakage(
    data: PointsData | None,
    months: tuple[int, ...] = BACKTEST_MONTHS,
    *,
    horizon_months: int | None = None,
) -> pd.DataFrame:
    """Re-estimate at month-end cutoffs ``months`` before the data end and compare with what then happened.

    The cutoff ``k`` is the last day of the month ``k`` months before the month of the data end
    (the data end itself when that is a month's last day).

    Returns
    -------
    DataFrame
        One row per cutoff: ``months_before_end``, ``cutoff``, ``outstanding`` (points open at the
        cutoff), ``estimate`` (outstanding breakage estimated with the data up to the cutoff),
        ``urr``, ``redeemed_later``, ``expired_later`` (expired or adjusted away after the cutoff),
        ``still_open`` (at the data end; points), ``realised_lower`` = expired_later / outstanding,
        ``realised_upper`` = (expired_later + still_open) / outstanding, ``inside`` (lower <=
        estimate <= upper; False when not estimated) and ``method``.
    """
    flows, _ = flows_of(data)
    cols = ["months_before_end", "cutoff", "outstanding", "estimate", "urr", "redeemed_later", "expired_later",
            "still_open", "realised_lower", "realised_upper", "inside", "method"]
    if flows is None:
        return pd.DataFrame(columns=cols)
    rows = []
    for k in months:
        i = flows.n_months - 1 - int(k)
        if i < 0:
            continue
        est = estimate_from_cells(flows.cells(i), horizon_months=horizon_months)
        f = flows.fate(i)
        o = f["outstanding"]
        lo = f["gone_later"] / o if o > 0 else NAN
        hi = (f["gone_later"] + f["still_open"]) / o if o > 0 else NAN
        e = est.outstanding_breakage
        rows.append((int(k), pd.Timestamp(flows.month_end(i)).floor("s"), o, e, est.urr, f["redeemed_later"],
                     f["gone_later"], f["still_open"], lo, hi,
                     bool(np.isfinite(e) and lo - 1e-12 <= e <= hi + 1e-12), est.method))
    return pd.DataFrame(rows, columns=cols)
