"""Observational estimate of the program's effect: an event study by enrolment month.

**Not a randomised measurement.** Without a test/control split, the program's effect on spend is
estimated by comparing members' spend before and after they enrol with the spend, over the same
calendar months, of members who had not enrolled yet (a staggered difference-in-differences,
Callaway & Sant'Anna 2021, with not-yet-enrolled members as the comparison group).

Definitions
-----------
* Panel: each member's net spend per calendar month (currency; 0 in a month without purchase),
  from the first to the last month of the transactions. Cohort ``g`` = members enrolled in month
  ``g``; month ``g - 1`` is their reference month.
* ``ATT(g, e)`` = [mean change of cohort ``g``'s spend from month ``g - 1`` to month ``g + e``]
  minus [the same change for the members of the cohorts enrolled after month ``g + e``] (for
  ``e < 0``: after month ``g``).
* Event-study coefficient ``theta(e)`` = average of ``ATT(g, e)`` over the cohorts, weighted by
  cohort size; ``theta(-1) = 0`` by construction; months ``e < -1`` test the assumptions (they
  should be near 0). ``e = 0`` is the enrolment month itself (partly before enrolment).
* ``att`` = mean of ``theta(e)`` over ``e = 0 .. post_months - 1``: the average extra spend per
  member and month in the first ``post_months`` months after enrolment (currency / member-month).
* Standard errors treat members as independent (all of a member's months are one cluster): the
  estimates are linear in the cohort means, whose covariance comes from each cohort's
  member-level covariance matrix.

Assumptions (:data:`ASSUMPTIONS`): parallel trends, no anticipation, purchases before enrolment
recorded under the member's id, enrolment timing not driven by a spend shock. The estimate is
not given (``identified`` False, with the reason) when members' purchases before enrolment are
missing from the data -- then every purchase would look like an effect of the program.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats as _st

from loyalty.experiments.windows import member_codes
from loyalty.schema import Dataset

NAN = float("nan")
#: Members a cohort's comparison group needs (cohorts enrolled later) for a month to be estimated.
MIN_CONTROLS = 30
#: Members with a cohort, a reference month and a comparison group needed for any estimate.
MIN_MEMBERS = 200
#: Pre-enrolment purchases are taken as missing when the share of members buying in the 6 months
#: before enrolment is under this fraction of the share buying in the 6 months after.
MIN_PRE_ACTIVITY = 0.25

ASSUMPTIONS: tuple[str, ...] = (
    "Parallel trends: without the program, enrolled members' spend would have moved like that of "
    "members not yet enrolled in the same calendar months (the months before enrolment test this: "
    "their coefficients should be near 0).",
    "No anticipation: members do not change their spend before enrolling. Enrolling at the till "
    "during a big purchase breaks it for the enrolment month (month 0), which is shown but "
    "read with care.",
    "Purchases before enrolment are in the data under the member's id (e.g. a customer account "
    "that existed before the loyalty card).",
    "When a member enrols is not driven by a change in their spend (a move, a life event).",
    "The comparison group is members who enrolled later, so the effect is that of enrolling "
    "earlier; members never enrolled are not in the data.",
)


@dataclass(frozen=True)
class EventStudy:
    """Result of :func:`event_study`.

    Attributes
    ----------
    identified : bool
        False when the data cannot support the estimate (``reason`` says why); the other
        figures are then NaN / empty.
    reason : str
        Why not identified ("" when identified).
    coefficients : DataFrame
        ``event_month`` (months since enrolment; -1 is the reference), ``estimate``, ``ci_low``,
        ``ci_high``, ``standard_error`` (currency per member and month), ``cohorts``,
        ``members`` (treated members behind the month).
    att, att_se, att_ci_low, att_ci_high : float
        Average effect over months ``0 .. post_months - 1`` (currency per member-month), 95%.
    att_relative : float
        ``att`` / the enrolled members' spend per month without the effect (0-1).
    pre_trend_p : float
        p-value of the joint test that the coefficients before enrolment (``e < -1``) are 0:
        small values (< 0.05) cast doubt on parallel trends.
    cohorts, members : int
        Enrolment cohorts and members used.
    post_months, pre_months : int
    method : str
    assumptions : tuple of str
    notes : tuple of str
    """

    identified: bool
    reason: str
    coefficients: pd.DataFrame
    att: float = NAN
    att_se: float = NAN
    att_ci_low: float = NAN
    att_ci_high: float = NAN
    att_relative: float = NAN
    pre_trend_p: float = NAN
    cohorts: int = 0
    members: int = 0
    post_months: int = 12
    pre_months: int = 6
    method: str = (
        "Staggered difference-in-differences by enrolment month (Callaway & Sant'Anna), "
        "comparison = members not yet enrolled; observational, not randomised."
    )
    assumptions: tuple[str, ...] = ASSUMPTIONS
    notes: tuple[str, ...] = field(default=())


def _empty(reason: str, pre: int, post: int, notes: tuple[str, ...] = ()) -> EventStudy:
    coef = pd.DataFrame(
        columns=["event_month", "estimate", "ci_low", "ci_high", "standard_error", "cohorts", "members"]
    )
    return EventStudy(False, reason, coef, pre_months=pre, post_months=post, notes=notes)


def event_study_from_arrays(
    tx_member: np.ndarray,
    tx_ts: np.ndarray,
    tx_amount: np.ndarray,
    enrolled_ns: np.ndarray,
    *,
    pre_months: int = 6,
    post_months: int = 12,
) -> EventStudy:
    """:func:`event_study` on encoded arrays (what the KPI engine already holds).

    Parameters
    ----------
    tx_member : int array (transactions,)
        Member code of each transaction (``-1`` for a guest).
    tx_ts : int64 array
        Timestamps, ns since the epoch (any order).
    tx_amount : float array
        Amounts (currency; returns negative).
    enrolled_ns : int64 array (members,)
        Enrolment time of each member code (ns); a member without a known date holds a value
        outside the data (e.g. the int64 maximum) and is left out.
    pre_months, post_months : int
        Months before (``e = -pre_months .. -2``) and after (``e = 0 .. post_months - 1``)
        enrolment to estimate.
    """
    if pre_months < 2 or post_months < 1:
        raise ValueError("pre_months must be >= 2 and post_months >= 1")
    tx_member = np.asarray(tx_member, dtype=np.int64)
    tx_ts = np.asarray(tx_ts, dtype=np.int64)
    ok_tx = tx_ts != np.iinfo(np.int64).min
    if not ok_tx.any():
        return _empty("There are no transactions.", pre_months, post_months)
    month_of = lambda ns: ns.astype("datetime64[ns]").astype("datetime64[M]").astype(np.int64)  # noqa: E731
    tx_month = month_of(tx_ts[ok_tx])
    m0 = int(tx_month.min())
    n_months = int(tx_month.max()) - m0 + 1
    enrolled_ns = np.asarray(enrolled_ns, dtype=np.int64)
    first_ns, last_ns = int(tx_ts[ok_tx].min()), int(tx_ts[ok_tx].max())
    in_data = (enrolled_ns >= first_ns) & (enrolled_ns <= last_ns)
    cohort = np.full(len(enrolled_ns), -1, dtype=np.int64)
    cohort[in_data] = month_of(enrolled_ns[in_data]) - m0
    # A cohort needs its reference month (g - 1) in the data.
    usable = cohort >= 1
    if usable.sum() < MIN_MEMBERS:
        return _empty(
            f"Only {int(usable.sum()):,} members enrolled after the first month of the data (at least "
            f"{MIN_MEMBERS} needed, with their spend before enrolment).",
            pre_months,
            post_months,
        )
    members = np.flatnonzero(usable)
    pos = np.full(len(enrolled_ns) + 1, -1, dtype=np.int64)
    pos[members] = np.arange(len(members))
    sel = ok_tx & (tx_member >= 0) & (tx_member < len(enrolled_ns))
    sel[sel] &= pos[tx_member[sel]] >= 0
    rows = pos[tx_member[sel]]
    months = month_of(tx_ts[sel]) - m0
    n = len(members)
    amount = np.asarray(tx_amount, dtype=np.float64)[sel]
    g = cohort[members]

    # Identification first (cheap): are purchases before enrolment recorded at all?
    checked = (g >= 6) & (g + 6 < n_months)
    if checked.sum() < 50:
        return _empty(
            "Too few members enrolled at least 6 months after the data starts to check that their purchases "
            "before enrolment are recorded.",
            pre_months,
            post_months,
        )
    rel = months - g[rows]
    buy = (amount > 0) & checked[rows]
    bought_before = np.bincount(rows[buy & (rel >= -6) & (rel <= -1)], minlength=n) > 0
    bought_after = np.bincount(rows[buy & (rel >= 1) & (rel <= 6)], minlength=n) > 0
    pre_share = float(bought_before[checked].mean())
    post_share = float(bought_after[checked].mean())
    if post_share > 0 and pre_share < MIN_PRE_ACTIVITY * post_share:
        return _empty(
            f"Purchases before enrolment are not in the data under the members' ids: {pre_share:.0%} of the "
            f"members bought in the 6 months before enrolling against {post_share:.0%} in the 6 months "
            "after, so a before/after comparison would count all their spend as the program's effect. "
            "An event study needs purchases recorded before enrolment (e.g. customer accounts that "
            "predate the card); a randomised holdout does not.",
            pre_months,
            post_months,
        )
    # Panel of the usable members: net spend per member x month.
    panel = np.bincount(rows * n_months + months, weights=amount, minlength=n * n_months).reshape(n, n_months)

    # Cohort means and member-level covariance matrices.
    T = n_months
    counts = np.bincount(g, minlength=T).astype(np.float64)
    means = np.zeros((T, T))
    cov = np.zeros((T, T, T))
    order = np.argsort(g, kind="stable")
    bounds = np.r_[0, np.cumsum(np.bincount(g, minlength=T))]
    for h in range(T):  # a loop over cohorts (months), vectorised over members
        lo, hi = bounds[h], bounds[h + 1]
        if hi > lo:
            Y = panel[order[lo:hi]]
            means[h] = Y.mean(axis=0)
            if hi - lo >= 2:
                Y = Y - means[h]
                cov[h] = Y.T @ Y / (hi - lo - 1)
    later = np.cumsum(counts[::-1])[::-1]  # later[k] = members of cohorts >= k

    events = [e for e in range(-pre_months, post_months) if e != -1]
    L = np.zeros((len(events), T, T))
    estimates = np.full(len(events), np.nan)
    n_cohorts = np.zeros(len(events), dtype=np.int64)
    n_treated = np.zeros(len(events), dtype=np.int64)
    observed = np.full(len(events), np.nan)
    for k, e in enumerate(events):  # a loop over event months x cohorts, vectorised over members
        terms = []
        for gg in range(1, T):
            t = gg + e
            if counts[gg] == 0 or not 0 <= t < T:
                continue
            first_control = (t if e >= 0 else gg) + 1
            if first_control >= T or later[first_control] < MIN_CONTROLS:
                continue
            terms.append((gg, t, first_control))
        if not terms:
            continue
        w = np.array([counts[gg] for gg, _, _ in terms])
        w = w / w.sum()
        obs = 0.0
        for wi, (gg, t, fc) in zip(w, terms, strict=True):
            b = gg - 1
            L[k, gg, t] += wi / counts[gg]
            L[k, gg, b] -= wi / counts[gg]
            nh = later[fc]
            L[k, fc:, t] -= wi / nh
            L[k, fc:, b] += wi / nh
            obs += wi * means[gg, t]
        estimates[k] = float(np.einsum("ht,h,ht->", L[k], counts, means))
        n_cohorts[k] = len(terms)
        n_treated[k] = int(sum(counts[gg] for gg, _, _ in terms))
        observed[k] = obs
    # Covariance of the coefficients: sum over cohorts of n_h L_h' Sigma_h L_h (cohort totals are n_h x means).
    V = np.einsum("aht,h,htu,bhu->ab", L, counts, cov, L)
    se = np.sqrt(np.clip(np.diag(V), 0, None))
    done = ~np.isnan(estimates)
    ev = np.array(events)
    post = done & (ev >= 0)
    if not post.any():
        return _empty(
            f"No month after enrolment has a comparison group of at least {MIN_CONTROLS} members enrolled later.",
            pre_months,
            post_months,
        )
    z = float(_st.norm.ppf(0.975))
    coef = pd.DataFrame(
        {
            "event_month": np.r_[ev[done], -1],
            "estimate": np.r_[estimates[done], 0.0],
            "ci_low": np.r_[estimates[done] - z * se[done], 0.0],
            "ci_high": np.r_[estimates[done] + z * se[done], 0.0],
            "standard_error": np.r_[se[done], 0.0],
            "cohorts": np.r_[n_cohorts[done], 0],
            "members": np.r_[n_treated[done], 0],
        }
    ).sort_values("event_month").reset_index(drop=True)
    wpost = post / post.sum()
    att = float(wpost @ np.nan_to_num(estimates))
    att_se = float(np.sqrt(max(wpost @ V @ wpost, 0.0)))
    counterfactual = float(wpost @ np.nan_to_num(observed)) - att
    pre_idx = np.flatnonzero(done & (ev < -1))
    pre_p = NAN
    if len(pre_idx):
        Vp = V[np.ix_(pre_idx, pre_idx)]
        bp = estimates[pre_idx]
        try:
            stat = float(bp @ np.linalg.pinv(Vp) @ bp)
            pre_p = float(_st.chi2.sf(stat, np.linalg.matrix_rank(Vp)))
        except np.linalg.LinAlgError:
            pre_p = NAN
    notes = []
    if not np.isnan(pre_p) and pre_p < 0.05:
        notes.append(
            f"The months before enrolment are not flat (joint test p = {pre_p:.3f}): members who enrol were "
            "already changing their spend, so parallel trends is doubtful and the estimate may be biased."
        )
    used = np.unique(np.concatenate([[gg for gg in range(1, T) if counts[gg] and L[:, gg].any()]]))
    return EventStudy(
        identified=True,
        reason="",
        coefficients=coef,
        att=att,
        att_se=att_se,
        att_ci_low=att - z * att_se,
        att_ci_high=att + z * att_se,
        att_relative=att / counterfactual if counterfactual > 0 else NAN,
        pre_trend_p=pre_p,
        cohorts=int(len(used)),
        members=int(counts[used.astype(np.int64)].sum()) if len(used) else 0,
        post_months=post_months,
        pre_months=pre_months,
        notes=tuple(notes),
    )


_CACHE: weakref.WeakKeyDictionary[Dataset, EventStudy] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def event_study(dataset: Dataset, *, pre_months: int = 6, post_months: int = 12) -> EventStudy:
    """Event-study estimate of the program's effect on members' monthly spend (observational).

    Parameters
    ----------
    dataset : Dataset
        Needs a members table with ``enrolled_at`` and members' purchases before they enrolled.
    pre_months, post_months : int
        Months before / after enrolment estimated.

    Returns
    -------
    EventStudy
        See the module docstring; ``identified`` is False (with the reason) when the data cannot
        support the comparison. Memoised per dataset object for the default months.
    """
    default = pre_months == 6 and post_months == 12
    if default:
        with _LOCK:
            hit = _CACHE.get(dataset)
        if hit is not None:
            return hit
    if dataset.members is None:
        result = _empty(
            "The event study needs a members table with enrolment dates.", pre_months, post_months
        )
    else:
        tx = dataset.transactions
        m = dataset.members.dropna(subset=["member_id"]).drop_duplicates("member_id")
        tx_member = member_codes(tx["member_id"], m["member_id"].astype("str").to_numpy(dtype=object))
        enrolled = m["enrolled_at"].to_numpy(dtype="datetime64[ns]").view("i8").copy()
        enrolled[enrolled == np.iinfo(np.int64).min] = np.iinfo(np.int64).max
        result = event_study_from_arrays(
            tx_member,
            tx["timestamp"].to_numpy(dtype="datetime64[ns]").view("i8"),
            tx["amount"].to_numpy(dtype="float64", na_value=0.0),
            enrolled,
            pre_months=pre_months,
            post_months=post_months,
        )
    if default:
        with _LOCK:
            _CACHE[dataset] = result
    return result
