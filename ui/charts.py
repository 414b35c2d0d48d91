"""Altair chart builders shared by the pages (titles, axis units, tooltips).

Builders take tidy frames computed in :mod:`loyalty` and return charts; they
never compute figures themselves. Pages render them with
``st.altair_chart(chart, width="stretch")``.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

_MONTH = alt.X("month:T", title="Month", axis=alt.Axis(format="%b %Y", tickCount={"interval": "month", "step": 1}, labelOverlap=True))
# Bars + line layers share a banded month axis so bars are month-wide and the line hits their centres.
_MONTH_BAND = alt.X("yearmonth(month):O", title="Month", axis=alt.Axis(format="%b %Y", labelAngle=-45))
_H = 280


def _money(currency: str) -> str:
    return f"Revenue ({currency})"


def revenue_active_chart(monthly: pd.DataFrame, currency: str = "€") -> alt.LayerChart:
    """Monthly revenue (bars, left axis) and active members (line, right axis)."""
    base = alt.Chart(monthly).encode(x=_MONTH_BAND)
    tip = [
        alt.Tooltip("month:T", title="Month", format="%b %Y"),
        alt.Tooltip("revenue:Q", title=_money(currency), format=",.0f"),
        alt.Tooltip("transactions:Q", title="Purchases", format=","),
        alt.Tooltip("active_members:Q", title="Active members", format=","),
    ]
    bars = base.mark_bar(opacity=0.6).encode(
        y=alt.Y("revenue:Q", title=_money(currency)), tooltip=tip
    )
    line = base.mark_line(point=alt.OverlayMarkDef(color="#d62728"), color="#d62728").encode(
        y=alt.Y("active_members:Q", title="Active members (count)"), tooltip=tip
    )
    return (
        alt.layer(bars, line)
        .resolve_scale(y="independent")
        .properties(title="Monthly revenue (bars) and active members (line)", height=_H)
    )


def points_flow_chart(monthly: pd.DataFrame) -> alt.Chart:
    """Points issued, redeemed and expired per month (lines)."""
    cols = ["points_issued", "points_redeemed", "points_expired"]
    long = monthly.melt("month", value_vars=cols, var_name="flow", value_name="points").dropna()
    long["flow"] = long["flow"].str.removeprefix("points_").str.capitalize()
    return (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=_MONTH,
            y=alt.Y("points:Q", title="Points per month"),
            color=alt.Color("flow:N", title="Flow", sort=["Issued", "Redeemed", "Expired"]),
            tooltip=[
                alt.Tooltip("month:T", title="Month", format="%b %Y"),
                alt.Tooltip("flow:N", title="Flow"),
                alt.Tooltip("points:Q", title="Points", format=",.0f"),
            ],
        )
        .properties(title="Points issued, redeemed and expired per month", height=_H)
    )


def outstanding_chart(monthly: pd.DataFrame) -> alt.Chart:
    """Outstanding points balance at each month end (area)."""
    return (
        alt.Chart(monthly)
        .mark_area(opacity=0.5, line=True)
        .encode(
            x=_MONTH,
            y=alt.Y("points_outstanding:Q", title="Outstanding points (balance)"),
            tooltip=[
                alt.Tooltip("month:T", title="Month end", format="%b %Y"),
                alt.Tooltip("points_outstanding:Q", title="Outstanding points", format=",.0f"),
            ],
        )
        .properties(title="Outstanding points balance at month end", height=_H)
    )


def cohort_heatmap(cohorts: pd.DataFrame, basis: str = "enrolment month") -> alt.Chart:
    """Share of each cohort active k months after joining (heatmap)."""
    return (
        alt.Chart(cohorts)
        .mark_rect()
        .encode(
            x=alt.X("months_since:O", title=f"Months since {basis.split(' (')[0].replace(' month', '')}"),
            y=alt.Y("yearmonth(cohort):O", title=f"Cohort ({basis})"),
            color=alt.Color(
                "share_active:Q", title="Share active", scale=alt.Scale(scheme="blues"),
                legend=alt.Legend(format=".0%"),
            ),
            tooltip=[
                alt.Tooltip("yearmonth(cohort):O", title="Cohort"),
                alt.Tooltip("months_since:O", title="Months since joining"),
                alt.Tooltip("cohort_size:Q", title="Cohort size", format=","),
                alt.Tooltip("active_members:Q", title="Active", format=","),
                alt.Tooltip("share_active:Q", title="Share active", format=".1%"),
            ],
        )
        .properties(title="Cohort retention: share of members with a purchase, by months since joining")
    )


def new_members_chart(monthly: pd.DataFrame) -> alt.LayerChart:
    """New members per month (bars) and member growth rate (line, %)."""
    base = alt.Chart(monthly).encode(x=_MONTH_BAND)
    tip = [
        alt.Tooltip("month:T", title="Month", format="%b %Y"),
        alt.Tooltip("new_members:Q", title="New members", format=","),
        alt.Tooltip("members_total:Q", title="Members at month end", format=","),
        alt.Tooltip("member_growth_rate:Q", title="Growth", format=".1%"),
    ]
    bars = base.mark_bar(opacity=0.6, color="#2ca02c").encode(
        y=alt.Y("new_members:Q", title="New members (count)"), tooltip=tip
    )
    line = base.mark_line(point=alt.OverlayMarkDef(color="#9467bd"), color="#9467bd").encode(
        y=alt.Y("member_growth_rate:Q", title="Monthly growth (%)", axis=alt.Axis(format="%")),
        tooltip=tip,
    )
    return (
        alt.layer(bars, line)
        .resolve_scale(y="independent")
        .properties(title="New members (bars) and monthly growth rate (line)", height=_H)
    )


def share_bar_chart(df: pd.DataFrame, category: str, title: str, category_title: str) -> alt.Chart:
    """Members per category (bars, count) with share in the tooltip; keeps the frame's order."""
    return (
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=alt.X(f"{category}:N", title=category_title, sort=list(df[category]), axis=alt.Axis(labelAngle=0)),
            y=alt.Y("members:Q", title="Members (count)"),
            tooltip=[
                alt.Tooltip(f"{category}:N", title=category_title),
                alt.Tooltip("members:Q", title="Members", format=","),
                alt.Tooltip("share:Q", title="Share of members", format=".1%"),
            ],
        )
        .properties(title=title, height=_H)
    )


def comparison_bars(df: pd.DataFrame, metrics: dict[str, tuple[str, str]], title: str) -> alt.HConcatChart:
    """One small bar chart per metric comparing the rows of ``df`` (column ``group``).

    ``metrics`` maps column -> (axis title with unit, d3 number format).
    """
    charts = [
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=alt.X("group:N", title=None, sort=list(df["group"]), axis=alt.Axis(labelAngle=0)),
            y=alt.Y(f"{col}:Q", title=axis, axis=alt.Axis(format=fmt)),
            color=alt.Color("group:N", legend=None),
            tooltip=[alt.Tooltip("group:N", title="Group"), alt.Tooltip(f"{col}:Q", title=axis, format=fmt)],
        )
        .properties(width=160, height=220)
        for col, (axis, fmt) in metrics.items()
    ]
    return alt.hconcat(*charts).properties(title=title)
