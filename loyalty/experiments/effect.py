"""The program's incremental revenue over a period from the best measurement available.

Order of preference (what the KPI page's ROI uses, :func:`program_effect`):

1. ``randomised`` -- campaigns with test/control groups whose windows overlap the period: sum over
   them of (incremental spend per test member x test members), each prorated by the share of its
   window inside the period, with the 95% interval of the sum (campaigns independent). It counts
   what the tests measured, not the always-on effect of the program outside them.
2. ``event_study`` -- without such tests, the observational event study by enrolment month
   (:mod:`loyalty.experiments.event_study`) when the data supports it: average extra spend per
   member-month after enrolment x member-months enrolled in the period.
3. Otherwise None: the caller falls back to the redeemer uplift, an upper bound (selection).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import pandas as pd

from loyalty.experiments.event_study import EventStudy
from loyalty.experiments.lift import CampaignAnalysis

NAN = float("nan")
_DAY = pd.Timedelta(days=1)
_MONTH_DAYS = 365.25 / 12


@dataclass(frozen=True)
class ProgramEffect:
    """Incremental revenue of a period and where it comes from.

    Attributes
    ----------
    source : {"randomised", "event_study"}
    incremental_revenue : float
        Currency over the period.
    ci_low, ci_high : float
        95% interval (currency).
    campaigns : int
        Randomised campaigns behind it (0 for the event study).
    member_months : float
        Member-months of enrolment in the period (event study; NaN otherwise).
    """

    source: str
    incremental_revenue: float
    ci_low: float
    ci_high: float
    campaigns: int = 0
    member_months: float = NAN


def randomised_effect(
    analysis: CampaignAnalysis,
    start: pd.Timestamp,
    end: pd.Timestamp,
    campaigns: pd.DataFrame | None = None,
    members_filter: Collection[str] | None = None,
) -> ProgramEffect | None:
    """Incremental revenue of the measured campaigns overlapping ``[start, end]`` (days included).

    With ``members_filter`` (and the ``campaigns`` table), each campaign counts only its test
    members in the filter (the per-member effect is assumed the same for them).
    """
    lift = analysis.lift
    if lift.empty:
        return None
    s, e = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize() + _DAY
    w_start, w_end = lift["start"], lift["end"] + _DAY
    overlap = (w_end.clip(upper=e) - w_start.clip(lower=s)).dt.days.clip(lower=0)
    share = overlap / lift["days"]
    hit = share > 0
    if not hit.any():
        return None
    n_test = lift["n_test"].astype("float64")
    if members_filter is not None and campaigns is not None:
        wanted = set(members_filter)
        tests = campaigns[(campaigns["group"] == "test") & campaigns["member_id"].isin(wanted)]
        n_test = lift["campaign"].map(tests.groupby("campaign")["member_id"].nunique()).fillna(0.0)
        n_test = np.minimum(n_test, lift["n_test"]).astype("float64")
    scale = (share * n_test)[hit]
    total = float((lift.loc[hit, "incremental_spend_per_member"] * scale).sum())
    se = float(np.sqrt(((lift.loc[hit, "standard_error"] * scale) ** 2).sum()))
    return ProgramEffect("randomised", total, total - 1.96 * se, total + 1.96 * se, campaigns=int(hit.sum()))


def event_study_effect(study: EventStudy, member_months: float) -> ProgramEffect | None:
    """Event-study ATT per member-month x ``member_months`` (None when not identified)."""
    if not study.identified or not np.isfinite(study.att):
        return None
    return ProgramEffect(
        "event_study",
        study.att * member_months,
        study.att_ci_low * member_months,
        study.att_ci_high * member_months,
        member_months=float(member_months),
    )


def member_months(enrolled_ns: np.ndarray, start_ns: int, end_ns: int, mask: np.ndarray | None = None) -> float:
    """Member-months enrolled within ``[start_ns, end_ns)``: sum of each member's enrolled days / 30.44."""
    enrolled_ns = np.asarray(enrolled_ns, dtype=np.int64)
    if mask is not None:
        enrolled_ns = enrolled_ns[mask]
    days = np.clip(end_ns - np.maximum(enrolled_ns, start_ns), 0, None) / _DAY.value
    return float(days.sum() / _MONTH_DAYS)


def program_effect(
    analysis: CampaignAnalysis | None,
    study: EventStudy | None,
    start: pd.Timestamp,
    end: pd.Timestamp,
    *,
    enrolled_ns: np.ndarray | None = None,
    mask: np.ndarray | None = None,
    campaigns: pd.DataFrame | None = None,
    members_filter: Collection[str] | None = None,
) -> ProgramEffect | None:
    """The best available estimate of the program's incremental revenue over ``[start, end]``.

    Randomised campaigns overlapping the period first, then the event study (needs
    ``enrolled_ns``, one per member code, and optionally a member ``mask``); None when neither
    applies. See the module docstring.
    """
    if analysis is not None:
        r = randomised_effect(analysis, start, end, campaigns, members_filter)
        if r is not None:
            return r
    if study is not None and study.identified and enrolled_ns is not None:
        s = pd.Timestamp(start).normalize().value
        e = (pd.Timestamp(end).normalize() + _DAY).value
        return event_study_effect(study, member_months(enrolled_ns, s, e, mask))
    return None
