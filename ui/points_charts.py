"""Altair charts of the Points & liability page (titles, axis units, tooltips).

Builders take frames computed in :mod:`loyalty.economics` and only reshape them.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

_H = 280


def triangle_heatmap(tri: pd.DataFrame, measure: str = "redeemed_share") -> alt.Chart:
    """Earn month x age heat map of the cumulative share redeemed (or expired) of each earn month's points."""
    what = {"redeemed_share": "redeemed", "expired_share": "expired", "open_share": "still open"}[measure]
    df = tri.assign(cohort_label=tri["cohort"].dt.strftime("%Y-%m"))
    return (
        alt.Chart(df)
        .mark_rect()
        .encode(
            x=alt.X("age:O", title="Age (months since the earn month)"),
            y=alt.Y("cohort_label:O", title="Earn month", sort="ascending"),
            color=alt.Color(f"{measure}:Q", title=f"Share {what}", scale=alt.Scale(scheme="viridis", domain=[0, 1]),
                            legend=alt.Legend(format="%")),
            tooltip=[
                alt.Tooltip("cohort_label:O", title="Earn month"),
                alt.Tooltip("age:O", title="Age (months)"),
                alt.Tooltip("issued:Q", title="Points issued", format=",.0f"),
                alt.Tooltip("redeemed_share:Q", title="Cumulative share redeemed", format=".1%"),
                alt.Tooltip("expired_share:Q", title="Cumulative share expired", format=".1%"),
                alt.Tooltip("open_share:Q", title="Share still open", format=".1%"),
            ],
        )
        .properties(title=f"Earn-cohort development: cumulative share of each month's points {what}",
                    height=max(_H, 14 * df["cohort_label"].nunique()))
    )


def backtest_chart(bt: pd.DataFrame) -> alt.LayerChart:
    """Realised range (bar) and the estimate made at each cutoff (point), share of the outstanding points."""
    df = bt.assign(cutoff_label=bt["months_before_end"].astype(str) + " months before (" +
                   bt["cutoff"].dt.strftime("%d %b %Y") + ")")
    base = alt.Chart(df).encode(y=alt.Y("cutoff_label:N", title="Cutoff", sort=None, axis=alt.Axis(labelLimit=260)))
    tips = [
        alt.Tooltip("cutoff_label:N", title="Cutoff"),
        alt.Tooltip("estimate:Q", title="Estimated breakage", format=".1%"),
        alt.Tooltip("realised_lower:Q", title="Realised, at least", format=".1%"),
        alt.Tooltip("realised_upper:Q", title="Realised, at most", format=".1%"),
        alt.Tooltip("outstanding:Q", title="Points outstanding", format=",.0f"),
    ]
    rng = base.mark_bar(height=14, opacity=0.4).encode(
        x=alt.X("realised_lower:Q", title="Share of the points outstanding at the cutoff never redeemed",
                axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        x2="realised_upper:Q",
        tooltip=tips,
    )
    pt = base.mark_point(filled=True, size=120, color="black").encode(x="estimate:Q", tooltip=tips)
    return (rng + pt).properties(title="Backtest: estimate (dot) against what then happened (bar)",
                                 height=45 * len(df) + 20)


def ifrs15_chart(sched: pd.DataFrame, currency: str) -> alt.Chart:
    """Deferred revenue at each month end and revenue recognised from points in the month."""
    long = sched[["period", "revenue_from_points", "deferred_revenue"]].melt("period", var_name="what",
                                                                            value_name="amount")
    long["what"] = long["what"].map({"revenue_from_points": "Revenue from points (month)",
                                     "deferred_revenue": "Deferred revenue (month end)"})
    return (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X("period:T", title="Month", axis=alt.Axis(format="%b %Y", tickCount={"interval": "month", "step": 1}, labelOverlap=True)),
            y=alt.Y("amount:Q", title=f"Amount ({currency})"),
            color=alt.Color("what:N", title=None),
            tooltip=[
                alt.Tooltip("period:T", title="Month", format="%b %Y"),
                alt.Tooltip("what:N", title="Measure"),
                alt.Tooltip("amount:Q", title=f"Amount ({currency})", format=",.2f"),
            ],
        )
        .properties(title="IFRS 15: points revenue recognised and deferred, month by month", height=_H)
    )


def expiring_chart(by_month: pd.DataFrame, currency: str) -> alt.Chart:
    """Points expiring in each of the next months (bars), if members do nothing more."""
    return (
        alt.Chart(by_month)
        .mark_bar()
        .encode(
            x=alt.X("month:T", title="Month", axis=alt.Axis(format="%b %Y", tickCount={"interval": "month", "step": 1}, labelOverlap=True), timeUnit="yearmonth"),
            y=alt.Y("points:Q", title="Points expiring"),
            tooltip=[
                alt.Tooltip("month:T", title="Month", format="%b %Y"),
                alt.Tooltip("points:Q", title="Points expiring", format=",.0f"),
                alt.Tooltip("members:Q", title="Members", format=",.0f"),
                alt.Tooltip("value:Q", title=f"Value ({currency})", format=",.2f"),
            ],
        )
        .properties(title="Points expiring per month over the next 12 months (if members do nothing more)",
                    height=_H)
    )
