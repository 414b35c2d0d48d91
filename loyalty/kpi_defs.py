"""Written definitions of every KPI: label, group, formula, unit and the table it needs.

The KPI page shows ``formula`` as help text; the downloadable KPI table
carries it too. Units (``unit``): ``int`` count, ``pct`` a fraction shown as a
percentage, ``money`` currency, ``points`` points, ``num`` a plain decimal,
``score`` an index (NPS -100..100, CSAT 1-5), ``years``.
"""

from __future__ import annotations

from typing import NamedTuple


class KpiDef(NamedTuple):
    """One KPI's definition (tuple: label, group, formula, unit, needs)."""

    label: str
    group: str
    formula: str
    unit: str
    needs: str


GROUPS: tuple[str, ...] = ("Membership", "Sales", "Member vs non-member", "Points", "Value", "Voice")

_P = "Purchase = a transaction with amount > 0; returns (amount < 0) reduce revenue but are not purchases."

KPI_DEFINITIONS: dict[str, KpiDef] = {
    # --- Membership ---
    "members_total": KpiDef(
        "Members",
        "Membership",
        "Members enrolled on or before the period end (without a members table: distinct member ids seen "
        "up to the end).",
        "int",
        "transactions",
    ),
    "new_members": KpiDef(
        "New members", "Membership", "Members whose enrolment date falls in the period.", "int", "members"
    ),
    "member_growth_rate": KpiDef(
        "Member growth",
        "Membership",
        "New members / members enrolled before the period start.",
        "pct",
        "members",
    ),
    "active_members": KpiDef(
        "Active members",
        "Membership",
        "Members with >= 1 purchase in the period. " + _P,
        "int",
        "transactions",
    ),
    "active_rate": KpiDef(
        "Active rate", "Membership", "Active members / members (total at period end).", "pct", "transactions"
    ),
    # --- Sales ---
    "revenue": KpiDef(
        "Revenue",
        "Sales",
        "Sum of all transaction amounts in the period, net of returns "
        "(with a member filter: the selected members' transactions only).",
        "money",
        "transactions",
    ),
    "transactions": KpiDef(
        "Purchases",
        "Sales",
        "Number of purchases in the period (all customers). " + _P,
        "int",
        "transactions",
    ),
    "member_revenue_share": KpiDef(
        "Member revenue share",
        "Sales",
        "Member revenue / revenue of all customers (members and guests).",
        "pct",
        "transactions",
    ),
    "aov": KpiDef(
        "Average order value", "Sales", "Revenue / purchases, all customers.", "money", "transactions"
    ),
    "member_aov": KpiDef(
        "Member AOV", "Sales", "Member revenue / member purchases.", "money", "transactions"
    ),
    "guest_aov": KpiDef(
        "Guest AOV", "Sales", "Guest (no member id) revenue / guest purchases.", "money", "transactions"
    ),
    "purchase_frequency": KpiDef(
        "Purchase frequency",
        "Sales",
        "Member purchases / active members (purchases per active member in the period).",
        "num",
        "transactions",
    ),
    "repeat_purchase_rate": KpiDef(
        "Repeat purchase rate",
        "Sales",
        "Active members with >= 2 purchases in the period / active members.",
        "pct",
        "transactions",
    ),
    "retention_rate": KpiDef(
        "Retention",
        "Sales",
        "Members active in the previous period (same number of days just before the "
        "start) who are active in this period / members active in the previous period.",
        "pct",
        "transactions",
    ),
    "churn_rate": KpiDef("Churn", "Sales", "1 - retention rate.", "pct", "transactions"),
    # --- Member vs non-member ---
    "member_spend_per_customer": KpiDef(
        "Spend per active member",
        "Member vs non-member",
        "Member revenue / active members.",
        "money",
        "transactions",
    ),
    "guest_spend_per_transaction": KpiDef(
        "Guest spend per purchase",
        "Member vs non-member",
        "Guest revenue / guest purchases (guests cannot be "
        "told apart, so per purchase is the only fair guest denominator).",
        "money",
        "transactions",
    ),
    "member_vs_guest_aov_uplift": KpiDef(
        "Member vs guest AOV", "Member vs non-member", "Member AOV / guest AOV - 1.", "pct", "transactions"
    ),
    "redeemers": KpiDef(
        "Redeemers",
        "Member vs non-member",
        "Active members with >= 1 redemption in the period.",
        "int",
        "ledger",
    ),
    "redeemer_spend_per_member": KpiDef(
        "Redeemer spend / member",
        "Member vs non-member",
        "Revenue of active redeemers / active redeemers.",
        "money",
        "ledger",
    ),
    "non_redeemer_spend_per_member": KpiDef(
        "Non-redeemer spend / member",
        "Member vs non-member",
        "Revenue of active non-redeemers / active non-redeemers.",
        "money",
        "ledger",
    ),
    "redeemer_frequency": KpiDef(
        "Redeemer frequency",
        "Member vs non-member",
        "Purchases of active redeemers / active redeemers.",
        "num",
        "ledger",
    ),
    "non_redeemer_frequency": KpiDef(
        "Non-redeemer frequency",
        "Member vs non-member",
        "Purchases of active non-redeemers / active non-redeemers.",
        "num",
        "ledger",
    ),
    "redeemer_aov": KpiDef(
        "Redeemer AOV", "Member vs non-member", "Revenue / purchases of active redeemers.", "money", "ledger"
    ),
    "non_redeemer_aov": KpiDef(
        "Non-redeemer AOV",
        "Member vs non-member",
        "Revenue / purchases of active non-redeemers.",
        "money",
        "ledger",
    ),
    "redeemer_uplift": KpiDef(
        "Redeemer spend uplift",
        "Member vs non-member",
        "Redeemer spend per member / non-redeemer spend per "
        "member - 1 (the '+15-25%' industry claim, on your data; correlation, not causation).",
        "pct",
        "ledger",
    ),
    # --- Points ---
    "points_issued": KpiDef(
        "Points issued",
        "Points",
        "Points earned in the period (ledger 'earn' events, else the transactions' points_earned).",
        "points",
        "ledger",
    ),
    "points_redeemed": KpiDef(
        "Points redeemed",
        "Points",
        "Points redeemed in the period (ledger 'redeem', else points_redeemed).",
        "points",
        "ledger",
    ),
    "points_expired": KpiDef(
        "Points expired",
        "Points",
        "Points expired in the period (ledger 'expire' events only).",
        "points",
        "ledger",
    ),
    "issuance_ratio": KpiDef(
        "Issuance ratio",
        "Points",
        "Points issued / member revenue (points per currency unit).",
        "num",
        "ledger",
    ),
    "redemption_rate": KpiDef(
        "Redemption rate", "Points", "Points redeemed / points issued in the period.", "pct", "ledger"
    ),
    "redeemer_rate": KpiDef(
        "Redeemer rate",
        "Points",
        "Active members with >= 1 redemption in the period / active members.",
        "pct",
        "ledger",
    ),
    "breakage_rate": KpiDef(
        "Breakage (period)", "Points", "Points expired / points issued in the period.", "pct", "ledger"
    ),
    "outstanding_points": KpiDef(
        "Outstanding points",
        "Points",
        "Balance at period end: all points earned - redeemed - expired +/- "
        "adjusted up to the end (without a ledger: earned - redeemed).",
        "points",
        "ledger",
    ),
    "estimated_ultimate_breakage": KpiDef(
        "Estimated ultimate breakage",
        "Points",
        "Share of points that will never be redeemed: points expired / "
        "(expired + redeemed) over all history up to the end.",
        "pct",
        "ledger",
    ),
    "liability": KpiDef(
        "Points liability",
        "Points",
        "Outstanding points x point value x (1 - estimated ultimate breakage).",
        "money",
        "ledger",
    ),
    "liability_naive": KpiDef(
        "Liability (no breakage)", "Points", "Outstanding points x point value.", "money", "ledger"
    ),
    # --- Value ---
    "clv_simple": KpiDef(
        "Simple CLV",
        "Value",
        "Member AOV x annual purchase frequency x expected lifespan (years). Annual "
        "frequency = purchase frequency x 365.25 / period days; lifespan = 1 / annual churn, annual churn = "
        "1 - retention^(365.25 / period days), capped at 10 years. Revenue, not margin; read it on a "
        "12-month period.",
        "money",
        "transactions",
    ),
    "reward_cost": KpiDef(
        "Reward cost",
        "Value",
        "Points redeemed x point value (or the costs file's 'rewards' rows when present).",
        "money",
        "ledger",
    ),
    "program_cost": KpiDef(
        "Program cost",
        "Value",
        "Reward cost + costs-file amounts in the period (months prorated by days) + "
        "monthly platform cost input x months (prorated by days).",
        "money",
        "costs",
    ),
    "cac": KpiDef(
        "CAC",
        "Value",
        "Acquisition costs (costs category 'acquisition') in the period / new members.",
        "money",
        "costs",
    ),
    "cost_per_retained_member": KpiDef(
        "Cost per retained member",
        "Value",
        "Program cost / retained members (active in the previous and this period).",
        "money",
        "costs",
    ),
    "incremental_revenue": KpiDef(
        "Incremental revenue (est.)",
        "Value",
        "(Redeemer - non-redeemer spend per member) x redeemers; without "
        "redemption data (member AOV - guest AOV) x member purchases. Selection bias: heavy buyers redeem "
        "more, so this is an upper bound, not a causal effect.",
        "money",
        "transactions",
    ),
    "program_roi": KpiDef(
        "Program ROI",
        "Value",
        "(Incremental revenue x gross margin - program cost) / program cost. Needs "
        "the gross margin input; inherits the incremental revenue caveat (upper bound).",
        "pct",
        "costs",
    ),
    # --- Voice ---
    "nps": KpiDef(
        "NPS",
        "Voice",
        "(% promoters (9-10) - % detractors (0-6)) x 100 over survey responses in the period.",
        "score",
        "surveys",
    ),
    "csat": KpiDef("CSAT", "Voice", "Mean CSAT (1-5) of responses in the period.", "score", "surveys"),
    "referral_rate": KpiDef(
        "Referral rate",
        "Voice",
        "Distinct members who referred someone enrolled in the period / active members.",
        "pct",
        "members",
    ),
    "referred_share": KpiDef(
        "Referred share", "Voice", "New members with a referrer / new members.", "pct", "members"
    ),
}

#: KPIs where a rise is bad (the page colours their deltas inversely).
INVERSE_KPIS: frozenset[str] = frozenset(
    {
        "churn_rate",
        "cac",
        "cost_per_retained_member",
        "program_cost",
        "reward_cost",
        "liability",
        "liability_naive",
        "outstanding_points",
        "points_expired",
        "breakage_rate",
    }
)
