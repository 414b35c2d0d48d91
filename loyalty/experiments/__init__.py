"""Incrementality: what the program and its campaigns really add, measured with test/control groups.

``campaigns`` (checking a campaigns table against the data: what can be measured, what is left
out and why), ``windows`` (members' spend over member-specific windows, vectorised), ``stats``
(difference in means, CUPED, Welch's interval, balance), ``lift`` (:func:`campaign_lift`: one
row per campaign, and the cumulative test/control curves), ``power`` (minimum detectable effect
and group sizes for the next test, from the program's own variance), ``event_study`` (the
observational estimate by enrolment month when there is no randomised test), ``effect`` (the
best available incremental revenue for the KPI page's ROI: randomised > event study).
"""

from loyalty.experiments.campaigns import CampaignCheck, check_campaigns
from loyalty.experiments.effect import (
    ProgramEffect,
    event_study_effect,
    member_months,
    program_effect,
    randomised_effect,
)
from loyalty.experiments.event_study import ASSUMPTIONS, EventStudy, event_study, event_study_from_arrays
from loyalty.experiments.lift import (
    LIFT_COLUMNS,
    MAX_STD_DIFF,
    METHOD,
    MIN_GROUP_SIZE,
    CampaignAnalysis,
    analyse_campaigns,
    campaign_curves,
    campaign_lift,
    campaign_members,
)
from loyalty.experiments.power import (
    PRE_PERIOD_MONTHS,
    PowerPlan,
    SpendVariance,
    detectable_at,
    minimum_detectable_effect,
    plan_test,
    required_group_size,
    spend_variance,
)
from loyalty.experiments.stats import LiftEstimate, cuped_welch, cuped_welch_arrays, standardised_difference
from loyalty.experiments.windows import SpanTransactions, member_codes, span_transactions

__all__ = [
    "ASSUMPTIONS",
    "LIFT_COLUMNS",
    "MAX_STD_DIFF",
    "METHOD",
    "MIN_GROUP_SIZE",
    "PRE_PERIOD_MONTHS",
    "CampaignAnalysis",
    "CampaignCheck",
    "EventStudy",
    "LiftEstimate",
    "PowerPlan",
    "ProgramEffect",
    "SpanTransactions",
    "SpendVariance",
    "analyse_campaigns",
    "campaign_curves",
    "campaign_lift",
    "campaign_members",
    "check_campaigns",
    "cuped_welch",
    "cuped_welch_arrays",
    "detectable_at",
    "event_study",
    "event_study_effect",
    "event_study_from_arrays",
    "member_codes",
    "member_months",
    "minimum_detectable_effect",
    "plan_test",
    "program_effect",
    "randomised_effect",
    "required_group_size",
    "span_transactions",
    "spend_variance",
    "standardised_difference",
]
