"""The metric registry: one entry per metric shown anywhere, and nothing else defines one.

Every figure on the pages, in the simulator's comparison, in the report, in the Spark path
and in the exports takes its label, unit, direction and written definition from here; each
has one implementation (named in its ``group``'s module: :mod:`loyalty.kpis.compute` for
the KPI groups, :mod:`loyalty.simulator.replay` for the replay totals,
:mod:`loyalty.clv` for customer value, :mod:`loyalty.members.features` for the member
features).

Units (``unit``): ``int`` a count, ``pct`` a fraction shown as a percentage, ``money``
currency, ``points`` loyalty points, ``num`` a plain decimal, ``score`` a signed index (NPS
-100..100), ``rating`` a mean rating (CSAT 1-5), ``years``, ``days``. Direction: ``up`` (a rise is good), ``down``
(a rise is bad), ``neutral`` (neither: a delta is shown uncoloured).

Resolved forks (each name has one definition):

* ``breakage_rate`` is the earn-cohort chain-ladder breakage of the points outstanding
  (:func:`loyalty.economics.estimate_breakage`) on the KPI page, the Points & liability page,
  in the simulator (on the replayed history) and in the report alike; ``urr`` is the same
  estimate's ultimate redemption rate. The former historical exit mix, expired / (expired +
  redeemed), is gone: backtested on the sample it said 0.5 % where at least 48.9 % of the
  outstanding points later expired, and it was 0 under "never expire". The KPI page's former
  "Breakage (period)", expired / issued in the period, mixes earn cohorts and is now
  ``expiry_rate``, "Points expired / issued (period)".
* ``liability`` is outstanding x (1 - breakage rate) x cost per point everywhere, and is not
  estimated when the breakage rate is not (the naive liability is always shown beside it).
* The KPI page's CLV is ``revenue_clv_period`` (period retention, revenue); the Customer
  value page's is ``classic_clv`` (history churn proxy, margin): two names, two definitions,
  one lifespan rule (:func:`loyalty.clv.expected_lifespan_years`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Unit = Literal["int", "pct", "money", "points", "num", "score", "rating", "years", "days"]
Direction = Literal["up", "down", "neutral"]


@dataclass(frozen=True)
class Metric:
    """One metric's definition.

    Attributes
    ----------
    key : str
        Stable identifier (column name in tables and exports).
    label : str
        Name shown to people.
    unit : str
        One of :data:`Unit`.
    direction : str
        ``up`` when a rise is good, ``down`` when it is bad, ``neutral`` otherwise.
    formula : str
        Written definition, shown as help text and in every export.
    group : str
        Where it is shown: a KPI page group, ``Simulator``, ``Customer value`` or ``Member features``.
    needs : str
        The table it needs (``transactions``, ``members``, ``ledger``, ``surveys``, ``costs``,
        ``campaigns``).
    """

    key: str
    label: str
    unit: Unit
    direction: Direction
    formula: str
    group: str
    needs: str = "transactions"

    @property
    def inverse(self) -> bool:
        """A rise is bad (deltas coloured inversely)."""
        return self.direction == "down"


#: The KPI page's groups, in page order.
KPI_GROUPS: tuple[str, ...] = ("Membership", "Sales", "Member vs non-member", "Points", "Value", "Voice")

_P = "Purchase = a transaction with amount > 0; returns (amount < 0) reduce revenue but are not purchases."

_KPIS: tuple[Metric, ...] = (
    Metric(
        "members_total",
        "Members",
        "int",
        "up",
        (
            "Members enrolled on or before the period end (without a members table: distinct member ids seen "
            "up to the end)."
        ),
        "Membership",
        "transactions",
    ),
    Metric(
        "new_members",
        "New members",
        "int",
        "up",
        ("Members whose enrolment date falls in the period."),
        "Membership",
        "members",
    ),
    Metric(
        "member_growth_rate",
        "Member growth",
        "pct",
        "up",
        ("New members / members enrolled before the period start."),
        "Membership",
        "members",
    ),
    Metric(
        "active_members",
        "Active members",
        "int",
        "up",
        ("Members with >= 1 purchase in the period.") + _P,
        "Membership",
        "transactions",
    ),
    Metric(
        "active_rate",
        "Active rate",
        "pct",
        "up",
        ("Active members / members (total at period end)."),
        "Membership",
        "transactions",
    ),
    Metric(
        "revenue",
        "Revenue",
        "money",
        "up",
        (
            "Sum of all transaction amounts in the period, net of returns (with a member filter: the selected "
            "members' transactions only)."
        ),
        "Sales",
        "transactions",
    ),
    Metric(
        "transactions",
        "Purchases",
        "int",
        "up",
        ("Number of purchases in the period (all customers).") + _P,
        "Sales",
        "transactions",
    ),
    Metric(
        "member_revenue_share",
        "Member revenue share",
        "pct",
        "up",
        ("Member revenue / revenue of all customers (members and guests)."),
        "Sales",
        "transactions",
    ),
    Metric(
        "aov",
        "Average order value",
        "money",
        "up",
        ("Revenue / purchases, all customers."),
        "Sales",
        "transactions",
    ),
    Metric(
        "member_aov",
        "Member AOV",
        "money",
        "up",
        ("Member revenue / member purchases."),
        "Sales",
        "transactions",
    ),
    Metric(
        "guest_aov",
        "Guest AOV",
        "money",
        "up",
        ("Guest (no member id) revenue / guest purchases."),
        "Sales",
        "transactions",
    ),
    Metric(
        "purchase_frequency",
        "Purchase frequency",
        "num",
        "up",
        ("Member purchases / active members (purchases per active member in the period)."),
        "Sales",
        "transactions",
    ),
    Metric(
        "repeat_purchase_rate",
        "Repeat purchase rate",
        "pct",
        "up",
        ("Active members with >= 2 purchases in the period / active members."),
        "Sales",
        "transactions",
    ),
    Metric(
        "retention_rate",
        "Retention",
        "pct",
        "up",
        (
            "Members active in the previous period (same number of days just before the start) who are active "
            "in this period / members active in the previous period."
        ),
        "Sales",
        "transactions",
    ),
    Metric(
        "churn_rate",
        "Churn",
        "pct",
        "down",
        ("1 - retention rate."),
        "Sales",
        "transactions",
    ),
    Metric(
        "member_spend_per_customer",
        "Spend per active member",
        "money",
        "up",
        ("Member revenue / active members."),
        "Member vs non-member",
        "transactions",
    ),
    Metric(
        "guest_spend_per_transaction",
        "Guest spend per purchase",
        "money",
        "up",
        (
            "Guest revenue / guest purchases (guests cannot be told apart, so per purchase is the only fair "
            "guest denominator)."
        ),
        "Member vs non-member",
        "transactions",
    ),
    Metric(
        "member_vs_guest_aov_uplift",
        "Member vs guest AOV",
        "pct",
        "up",
        ("Member AOV / guest AOV - 1."),
        "Member vs non-member",
        "transactions",
    ),
    Metric(
        "redeemers",
        "Redeemers",
        "int",
        "up",
        ("Active members with >= 1 redemption in the period."),
        "Member vs non-member",
        "ledger",
    ),
    Metric(
        "redeemer_spend_per_member",
        "Redeemer spend / member",
        "money",
        "up",
        ("Revenue of active redeemers / active redeemers."),
        "Member vs non-member",
        "ledger",
    ),
    Metric(
        "non_redeemer_spend_per_member",
        "Non-redeemer spend / member",
        "money",
        "up",
        ("Revenue of active non-redeemers / active non-redeemers."),
        "Member vs non-member",
        "ledger",
    ),
    Metric(
        "redeemer_frequency",
        "Redeemer frequency",
        "num",
        "up",
        ("Purchases of active redeemers / active redeemers."),
        "Member vs non-member",
        "ledger",
    ),
    Metric(
        "non_redeemer_frequency",
        "Non-redeemer frequency",
        "num",
        "up",
        ("Purchases of active non-redeemers / active non-redeemers."),
        "Member vs non-member",
        "ledger",
    ),
    Metric(
        "redeemer_aov",
        "Redeemer AOV",
        "money",
        "up",
        ("Revenue / purchases of active redeemers."),
        "Member vs non-member",
        "ledger",
    ),
    Metric(
        "non_redeemer_aov",
        "Non-redeemer AOV",
        "money",
        "up",
        ("Revenue / purchases of active non-redeemers."),
        "Member vs non-member",
        "ledger",
    ),
    Metric(
        "redeemer_uplift",
        "Redeemer spend uplift",
        "pct",
        "up",
        (
            "Redeemer spend per member / non-redeemer spend per member - 1 (the '+15-25%' industry claim, on "
            "your data; correlation, not causation)."
        ),
        "Member vs non-member",
        "ledger",
    ),
    Metric(
        "points_issued",
        "Points issued",
        "points",
        "neutral",
        "Points credited in the window: ledger 'earn' events, else the transactions' points_earned "
        "(simulator: the points the rules credit to purchases, rule 2).",
        "Points",
        "ledger",
    ),
    Metric(
        "points_redeemed",
        "Points redeemed",
        "points",
        "neutral",
        "Points spent on rewards in the window: ledger 'redeem' events, else the transactions' "
        "points_redeemed (simulator: each historical redemption asks its points and is granted "
        "min(asked, balance), rule 3).",
        "Points",
        "ledger",
    ),
    Metric(
        "points_expired",
        "Points expired",
        "points",
        "down",
        "Points that expired in the window: ledger 'expire' events only (simulator: deadlines on or before "
        "the end, rule 4).",
        "Points",
        "ledger",
    ),
    Metric(
        "issuance_ratio",
        "Issuance ratio",
        "num",
        "up",
        ("Points issued / member revenue (points per currency unit)."),
        "Points",
        "ledger",
    ),
    Metric(
        "redemption_rate",
        "Redemption rate",
        "pct",
        "up",
        (
            "Points redeemed / points issued in the period: a points ratio, not a share of members (see "
            "Redeemer rate). Points redeemed were partly earned in earlier periods, so it can exceed 100 %."
        ),
        "Points",
        "ledger",
    ),
    Metric(
        "redeemer_rate",
        "Redeemer rate",
        "pct",
        "up",
        (
            "Members with >= 1 redemption in the period / members (enrolled by the period end, as in "
            "Members): the share of the whole membership that redeemed, buyers or not. Not Redeemers / "
            "active members: Redeemers counts active members only, for the spend comparison."
        ),
        "Points",
        "ledger",
    ),
    Metric(
        "expiry_rate",
        "Points expired / issued (period)",
        "pct",
        "down",
        "Points expired in the period / points issued in the period. Not breakage: the points that expire in "
        "a period were mostly earned in earlier periods (see Breakage rate).",
        "Points",
        "ledger",
    ),
    Metric(
        "points_outstanding",
        "Outstanding points",
        "points",
        "down",
        "Points still in members' balances at the end: all points earned - redeemed - expired +/- adjusted "
        "up to the end (without a ledger: earned - redeemed; simulator: issued - redeemed - expired under "
        "the rules).",
        "Points",
        "ledger",
    ),
    Metric(
        "breakage_rate",
        "Breakage of outstanding points (cohort chain-ladder)",
        "pct",
        "neutral",
        "Expected share of the points outstanding at the end that will never be redeemed: 1 - expected future "
        "redemptions / points outstanding. Every redemption and expiry is attributed first in first out to "
        "the earn month of the points it used; a chain-ladder (volume-weighted age-to-age factors, tail fitted "
        "on the factors from age 6 months) develops each earn month's redemptions to ultimate, capped at "
        "what it still holds. KPI page: at the period end, on the ledger; simulator: on the replayed history "
        "at its end. Not estimated (blank) without a ledger or with fewer than 3 earn months of at least 12 "
        "months' development.",
        "Points",
        "ledger",
    ),
    Metric(
        "urr",
        "Ultimate redemption rate (URR)",
        "pct",
        "neutral",
        "Expected share of all the points issued up to the end that will ultimately be redeemed: chain-ladder "
        "ultimate redemptions / points issued, from the same earn-cohort development as the breakage of "
        "outstanding points. Not estimated when that breakage is not.",
        "Points",
        "ledger",
    ),
    Metric(
        "liability",
        "Points liability (URR-adjusted)",
        "money",
        "down",
        "Outstanding points x (1 - breakage of outstanding points) x cost per point: the expected cost of "
        "the points still held that will be redeemed. Cost per point = reward cost / points redeemed over "
        "the 12 months to the end when the costs file has 'rewards' rows, else the point value (simulator: "
        "the scenario's point value). Not estimated when the breakage is not (see the liability with no "
        "breakage).",
        "Points",
        "ledger",
    ),
    Metric(
        "liability_naive",
        "Liability (no breakage)",
        "money",
        "down",
        "Outstanding points x point value: every outstanding point assumed redeemed (the prudent upper bound).",
        "Points",
        "ledger",
    ),
    Metric(
        "revenue_clv_period",
        "Revenue CLV (period retention)",
        "money",
        "up",
        "Member AOV x annual purchase frequency x expected lifespan (years), from this period alone. Annual "
        "frequency = purchase frequency x 365.25 / period days; lifespan = 1 / annual churn, annual churn = "
        "1 - retention^(365.25 / period days), capped at 10 years (no figure when retention is unknown). "
        "When the cap applies (annual churn 0 or under 10 %) the figure is set by the cap, not measured, "
        "and the Value notes say so. Revenue, not margin; read it on a 12-month period. Not the Customer "
        "value page's classic CLV, which uses the whole history and the gross margin.",
        "Value",
        "transactions",
    ),
    Metric(
        "reward_cost",
        "Reward cost",
        "money",
        "down",
        "Points redeemed x point value, in the window (KPI page: the costs file's 'rewards' rows instead "
        "when present).",
        "Value",
        "ledger",
    ),
    Metric(
        "program_cost",
        "Program cost",
        "money",
        "down",
        (
            "Reward cost + costs-file amounts in the period (months prorated by days) + monthly platform cost "
            "input x months (prorated by days)."
        ),
        "Value",
        "costs",
    ),
    Metric(
        "cac",
        "CAC",
        "money",
        "down",
        ("Acquisition costs (costs category 'acquisition') in the period / new members."),
        "Value",
        "costs",
    ),
    Metric(
        "cost_per_retained_member",
        "Cost per retained member",
        "money",
        "down",
        (
            "Retention cost / retained members (active in the previous and this period). Retention cost = "
            "program cost without acquisition costs (costs category 'acquisition', counted in CAC): reward "
            "cost + other costs-file amounts + platform cost input, prorated by days."
        ),
        "Value",
        "costs",
    ),
    Metric(
        "incremental_revenue",
        "Incremental revenue (est.)",
        "money",
        "up",
        (
            "The best estimate available, named in the notes: (1) measured by randomised campaigns whose "
            "windows overlap the period (incremental spend per test member x test members, prorated by the "
            "days of each window in the period; it counts what the tests measured, not the program's "
            "always-on effect); else (2) the event study by enrolment month (observational: extra spend "
            "per member-month after enrolment x member-months enrolled in the period); else (3) (redeemer - "
            "non-redeemer spend per member) x redeemers, or without redemption data (member AOV - guest "
            "AOV) x member purchases: selection bias (heavy buyers redeem more), so an upper bound, not a "
            "causal effect."
        ),
        "Value",
        "transactions",
    ),
    Metric(
        "program_roi",
        "Program ROI",
        "pct",
        "up",
        (
            "(Incremental revenue x gross margin - program cost) / program cost. Needs the gross margin "
            "input; inherits the incremental revenue's source and caveat (randomised > event study > "
            "redeemer uplift, an upper bound)."
        ),
        "Value",
        "costs",
    ),
    Metric(
        "nps",
        "NPS",
        "score",
        "up",
        ("(% promoters (9-10) - % detractors (0-6)) x 100 over survey responses in the period."),
        "Voice",
        "surveys",
    ),
    Metric(
        "csat",
        "CSAT",
        "rating",
        "up",
        (
            "Mean CSAT rating (1-5) of the responses in the period with a CSAT answer (blank answers left "
            "out). A mean: see CSAT top-2 share for the share of satisfied responses."
        ),
        "Voice",
        "surveys",
    ),
    Metric(
        "csat_top2_share",
        "CSAT top-2 share (4-5)",
        "pct",
        "up",
        (
            "Responses in the period with CSAT 4 or 5 (satisfied or very satisfied) / responses with a CSAT "
            "answer: the usual 'CSAT %'. Unlike the mean, one very unhappy answer cannot hide many happy "
            "ones."
        ),
        "Voice",
        "surveys",
    ),
    Metric(
        "referral_rate",
        "Referral rate",
        "pct",
        "up",
        (
            "Distinct members who referred someone enrolled in the period / members (enrolled by the period "
            "end, as in Members). Referrers are counted among those members, so a referrer id unknown to "
            "the data is left out."
        ),
        "Voice",
        "members",
    ),
    Metric(
        "referred_share",
        "Referred share",
        "pct",
        "up",
        ("New members with a referrer / new members."),
        "Voice",
        "members",
    ),
)

#: The Points & liability page's point economics (:mod:`loyalty.economics`).
_ECONOMICS: tuple[Metric, ...] = (
    Metric(
        "cost_per_point",
        "Cost per point",
        "money",
        "down",
        "Reward cost / points redeemed over the 12 months to the end, with the reward cost from the costs "
        "file's 'rewards' rows (months prorated by days); the point value input when the file has none.",
        "Points & liability",
        "ledger",
    ),
    Metric(
        "effective_reward_rate",
        "Effective reward rate",
        "pct",
        "neutral",
        "Earn rate x point value: points issued / member sales over the 12 months to the end, times the point "
        "value (currency of rewards earned per currency spent).",
        "Points & liability",
        "ledger",
    ),
    Metric(
        "reward_attainability",
        "Reward attainability",
        "pct",
        "up",
        "Members whose balance ever reached the smallest redemption / members who ever earned points, up to "
        "the end (the smallest redemption in the ledger unless the rules set one).",
        "Points & liability",
        "ledger",
    ),
    Metric(
        "days_to_first_reward",
        "Median days to first reward",
        "days",
        "down",
        "Median over members who redeemed of the days from their first earn to their first redemption.",
        "Points & liability",
        "ledger",
    ),
    Metric(
        "liability_ifrs15",
        "IFRS 15 deferred revenue (points)",
        "money",
        "down",
        "Contract liability for the points (IFRS 15): member sales allocated to the points issued by relative "
        "stand-alone selling price (points x point value x expected redemption rate at issuance) minus the "
        "revenue recognised as points are redeemed (cumulative redeemed / expected redemptions, with "
        "cumulative catch-up when the URR estimate changes), month by month.",
        "Points & liability",
        "ledger",
    ),
    Metric(
        "points_expiring_30d",
        "Points expiring in 30 days",
        "points",
        "down",
        "Open points whose expiry date (the members do nothing more) falls in the 30 days after the end, "
        "under the expiry rules replayed (inactivity: last activity + months + grace; fixed: each lot's earn "
        "time + months + grace).",
        "Points & liability",
        "transactions",
    ),
    Metric(
        "points_expiring_90d",
        "Points expiring in 90 days",
        "points",
        "down",
        "Open points whose expiry date falls in the 90 days after the end (as for 30 days).",
        "Points & liability",
        "transactions",
    ),
)

_REPLAY: tuple[Metric, ...] = (
    Metric(
        "tier_benefit_cost",
        "Tier benefit cost (annual)",
        "money",
        "down",
        "Annual run-rate of tier benefits at the end: sum over tiers of annual benefit cost per member x "
        "members in the tier at the end (currency per year).",
        "Simulator",
    ),
    Metric(
        "total_cost",
        "Total cost",
        "money",
        "down",
        "Reward cost + tier benefit cost (currency).",
        "Simulator",
    ),
    Metric(
        "points_saved_by_grace",
        "Points saved by grace",
        "points",
        "neutral",
        "Points that would have expired with grace_days = 0 but did not with the grace period (expired "
        "without grace - expired with it).",
        "Simulator",
    ),
    Metric(
        "members",
        "Members with activity",
        "int",
        "up",
        "Members with at least one transaction or redemption up to the replay end.",
        "Simulator",
    ),
)

_VALUE: tuple[Metric, ...] = (
    Metric(
        "classic_clv",
        "Classic CLV (margin, whole history)",
        "money",
        "up",
        "AOV x purchases per year x expected lifespan x gross margin. AOV = net spend / purchases; purchases "
        "per year = purchases / member-years of tenure; annual churn = members whose last purchase is 365-730 "
        "days old / members with tenure > 365 days who purchased in the last 730 days; lifespan = 1 / annual "
        "churn capped at 10 years, flagged lifespan_capped when the cap applies (churn 0 or under 10 %: "
        "the CLV is then set by the cap, not measured; a segment of recent buyers has churn 0 by "
        "construction); no figure when no member is exposed (churn unknown). A quick benchmark that "
        "ignores who is still active.",
        "Customer value",
    ),
    Metric(
        "total_clv",
        "Total CLV",
        "money",
        "up",
        "Sum over members of the expected gross margin over the horizon (BG/NBD expected purchases x "
        "Gamma-Gamma expected spend x margin), discounted monthly.",
        "Customer value",
    ),
    Metric(
        "mean_clv",
        "Mean CLV per member",
        "money",
        "up",
        "Total CLV / members with at least one purchase.",
        "Customer value",
    ),
    Metric(
        "p_alive_repeat",
        "Mean P(alive), repeat buyers",
        "pct",
        "up",
        "BG/NBD probability that the member has not dropped out, averaged over members with a repeat "
        "purchase, overall and per segment (the model gives a one-time buyer P(alive) = 1 by construction, "
        "so they are left out and counted as one-time buyers instead).",
        "Customer value",
    ),
    Metric(
        "one_time_share",
        "One-time buyers",
        "pct",
        "neutral",
        "Share of members with a single purchase day: their value rests on the population averages.",
        "Customer value",
    ),
    Metric(
        "holdout_actual",
        "Actual holdout purchases",
        "int",
        "neutral",
        "Purchase days in the holdout window of the members first seen in the calibration window.",
        "Customer value",
    ),
    Metric(
        "holdout_predicted",
        "Predicted",
        "int",
        "neutral",
        "Purchases the model fitted on the calibration window predicts for the same members and window.",
        "Customer value",
    ),
    Metric(
        "holdout_error",
        "Total error",
        "pct",
        "neutral",
        "(predicted - actual) / actual, over all members first seen in the calibration window.",
        "Customer value",
    ),
)

_FEATURES: tuple[Metric, ...] = (
    Metric(
        "recency_days",
        "Recency",
        "days",
        "down",
        "Days since the member's last purchase (amount > 0), at the analysis date.",
        "Member features",
    ),
    Metric(
        "frequency",
        "Purchases",
        "int",
        "up",
        "Number of purchases (transactions with amount > 0).",
        "Member features",
    ),
    Metric(
        "monetary",
        "Net spend",
        "money",
        "up",
        "Net spend: sum of all amounts, returns included.",
        "Member features",
    ),
    Metric(
        "avg_basket",
        "Average basket",
        "money",
        "up",
        "Mean amount of a purchase (gross spend / purchases).",
        "Member features",
    ),
    Metric(
        "tenure_days",
        "Tenure",
        "days",
        "neutral",
        "Days since enrolment or first transaction, whichever is earlier.",
        "Member features",
    ),
    Metric(
        "purchases_90d",
        "Purchases (90 days)",
        "int",
        "up",
        "Purchases in the 90 days up to the analysis date.",
        "Member features",
    ),
    Metric(
        "points_balance",
        "Points balance",
        "points",
        "neutral",
        "Points outstanding: sum of signed ledger points.",
        "Member features",
        "ledger",
    ),
    Metric(
        "points_earned",
        "Points earned",
        "points",
        "neutral",
        "Points earned (ledger 'earn' entries).",
        "Member features",
        "ledger",
    ),
    Metric(
        "points_redeemed",
        "Points redeemed",
        "points",
        "neutral",
        "Points spent on rewards (ledger 'redeem' entries, positive).",
        "Member features",
        "ledger",
    ),
    Metric(
        "redemption_ratio",
        "Redemption ratio",
        "pct",
        "neutral",
        "Points redeemed / points earned.",
        "Member features",
        "ledger",
    ),
    Metric(
        "days_since_redemption",
        "Days since redemption",
        "days",
        "neutral",
        "Days since the last redemption (blank if never redeemed).",
        "Member features",
        "ledger",
    ),
)


_EXPERIMENTS: tuple[Metric, ...] = (
    Metric(
        "incremental_spend_per_member",
        "Incremental spend per test member",
        "money",
        "up",
        "Mean spend per test member over the campaign window minus the same for control members, CUPED-"
        "adjusted on each member's spend over the 12 months before the window; spend = amounts with returns, "
        "0 for a member without purchase; Welch 95% interval beside it.",
        "Experiments",
        "campaigns",
    ),
    Metric(
        "relative_lift",
        "Relative lift",
        "pct",
        "up",
        "Incremental spend per test member / control spend per member over the window.",
        "Experiments",
        "campaigns",
    ),
    Metric(
        "incremental_revenue_total",
        "Incremental revenue (campaign)",
        "money",
        "up",
        "Incremental spend per test member x test members: what the campaign added over its window.",
        "Experiments",
        "campaigns",
    ),
    Metric(
        "incremental_purchases_per_member",
        "Incremental purchases per test member",
        "num",
        "up",
        "Mean purchases (amount > 0) per test member over the window minus the same for control members, "
        "CUPED-adjusted on the purchases of the 12 months before.",
        "Experiments",
        "campaigns",
    ),
    Metric(
        "p_value",
        "p-value",
        "num",
        "neutral",
        "Two-sided Welch t-test of 'the campaign changed nothing': the chance of a difference at least this "
        "large if it had no effect (under 0.05: unlikely to be noise).",
        "Experiments",
        "campaigns",
    ),
    Metric(
        "variance_reduction",
        "Variance removed by CUPED",
        "pct",
        "up",
        "1 - (CUPED standard error / plain standard error)^2: the share of the noise that adjusting on pre-period "
        "spend removed (about corr(pre-period spend, window spend)^2).",
        "Experiments",
        "campaigns",
    ),
    Metric(
        "pre_spend_std_diff",
        "Balance before the campaign",
        "num",
        "neutral",
        "Standardised difference of pre-period spend (test mean - control mean) / pooled standard deviation; "
        "beyond +/-0.1 the groups differed before the campaign.",
        "Experiments",
        "campaigns",
    ),
    Metric(
        "mde",
        "Minimum detectable effect",
        "money",
        "down",
        "Smallest true incremental spend per test member a test detects with 80% power at the 5% level: "
        "(z(0.975) + z(0.8)) x sd x sqrt(1 - variance removed by CUPED) x sqrt(1/n_test + 1/n_control).",
        "Experiments",
        "transactions",
    ),
    Metric(
        "members_needed",
        "Members needed",
        "int",
        "down",
        "Test + control members for an 80% chance to detect the target effect at the 5% level, at the chosen "
        "control share (the MDE formula solved for n).",
        "Experiments",
        "transactions",
    ),
    Metric(
        "event_study_att",
        "Program effect per member-month (event study)",
        "money",
        "up",
        "Observational, not randomised: average over months 0-11 after enrolment of the change in enrolled "
        "members' monthly spend since the month before enrolment, minus the same change for members not yet "
        "enrolled (staggered difference-in-differences by enrolment month); 95% interval, members as clusters.",
        "Experiments",
        "members",
    ),
)


def _index(metrics: tuple[Metric, ...]) -> dict[str, Metric]:
    out: dict[str, Metric] = {}
    for m in metrics:
        if m.key in out:
            raise ValueError(f"metric {m.key!r} is defined twice")
        out[m.key] = m
    return out


#: Program-level metrics: KPI groups, simulator totals and customer value (one entry per key).
METRICS: dict[str, Metric] = _index(_KPIS + _ECONOMICS + _REPLAY + _VALUE + _EXPERIMENTS)

#: Member-level columns of :func:`loyalty.members.member_features` (a per-member table, not
#: program metrics: ``points_redeemed`` there is one member's, here the program's).
FEATURES: dict[str, Metric] = _index(_FEATURES)

#: The KPI page's metrics, in page order (keys of :func:`loyalty.kpis.compute_kpis`).
KPI_KEYS: tuple[str, ...] = tuple(m.key for m in _KPIS)

#: The replay's totals, in comparison-table order (fields of ``ReplayTotals``).
REPLAY_KEYS: tuple[str, ...] = (
    "points_issued",
    "points_redeemed",
    "points_expired",
    "points_outstanding",
    "reward_cost",
    "tier_benefit_cost",
    "total_cost",
    "liability",
    "liability_naive",
    "breakage_rate",
    "points_saved_by_grace",
    "members",
)


#: Unit names for people (table headers, exports).
UNIT_NAMES: dict[str, str] = {
    "int": "count",
    "pct": "share",
    "money": "currency",
    "points": "points",
    "num": "number",
    "score": "index",
    "rating": "rating",
    "years": "years",
    "days": "days",
}


def metric(key: str) -> Metric:
    """The registry entry of ``key`` (program metric or member feature); ``KeyError`` if none."""
    return METRICS[key] if key in METRICS else FEATURES[key]


def label(key: str) -> str:
    """The label of ``key``, or the key itself when it is not a registered metric."""
    m = METRICS.get(key) or FEATURES.get(key)
    return m.label if m else key


def definitions(keys) -> list[tuple[str, str]]:
    """``(label, formula)`` of each registered key, in order (for definition tables)."""
    return [(metric(k).label, metric(k).formula) for k in keys if k in METRICS or k in FEATURES]


def group_keys(group: str) -> tuple[str, ...]:
    """Keys of the metrics shown in ``group``, in registry order."""
    return tuple(k for k, m in METRICS.items() if m.group == group)


def currency_prefix(currency: str) -> str:
    """``currency`` as written before an amount: a symbol as is (``€``), a code with a space (``USD ``)."""
    currency = currency or ""
    return currency + " " if currency[-1:].isalpha() else currency


def format_number(value, unit: str, currency: str = "", *, delta: bool = False) -> str:
    """``value`` written for people in ``unit`` (a :data:`Unit`); an em dash when it is missing.

    ``pct`` is a 0-1 fraction shown as a percentage (one decimal), ``money`` has two
    decimals after ``currency``, counts and points are whole, ``score`` is signed, ``days``
    and ``years`` carry their unit. ``delta=True`` writes a difference: signed, and a
    percentage's difference in percentage points (``+5.2 pp``), since a change of a share is
    not a relative change. Unknown units get two decimals.
    """
    if value is None or isinstance(value, str):
        return "—" if value is None else value
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if v != v or v in (float("inf"), float("-inf")):  # NaN, or a ratio of a zero base
        return "—"
    a = abs(v)
    if unit in ("int", "points"):
        body = f"{a:,.0f}"
    elif unit == "pct":
        body = f"{a * 100:,.1f} pp" if delta else f"{a:,.1%}"
    elif unit == "money":
        body = f"{currency_prefix(currency)}{a:,.2f}"
    elif unit == "score":
        body, delta = f"{a:,.1f}", True  # NPS is a signed index: +12 and -12 read differently
    elif unit == "rating":
        body = f"{a:,.2f}"
    elif unit == "years":
        body = f"{a:,.1f} years"
    elif unit == "days":
        body = f"{a:,.0f} days"
    else:
        body = f"{a:,.2f}"
    # A figure that rounds to zero gets no sign, so there is no "-0.0%" or "+0".
    if not any(ch in "123456789" for ch in body):
        return body
    return ("-" if v < 0 else "+" if delta else "") + body
