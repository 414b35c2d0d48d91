"""Altair charts of the Experiments page (titles, axis units, tooltips); figures come from loyalty.experiments."""

from __future__ import annotations

import altair as alt
import pandas as pd

_H = 300
_SERIES = {"test": "Test", "control": "Control"}
_COLORS = alt.Scale(domain=["Test", "Control"], range=["#1f77b4", "#7f7f7f"])


def _x(curves: pd.DataFrame) -> tuple[alt.X, alt.Tooltip]:
    if curves["date"].notna().all():
        return (alt.X("date:T", title="Day of the campaign window", axis=alt.Axis(format="%d %b")),
                alt.Tooltip("date:T", title="Day", format="%d %b %Y"))
    return alt.X("day:Q", title="Days since the member's window started"), alt.Tooltip("day:Q", title="Day")


def lift_curves_chart(curves: pd.DataFrame, currency: str = "€") -> alt.LayerChart:
    """Cumulative spend per member of the test and control groups through the window, 95% bands."""
    df = curves[curves["series"].isin(list(_SERIES))].copy()
    df["group"] = df["series"].map(_SERIES)
    x, xtip = _x(df)
    tip = [
        xtip,
        alt.Tooltip("group:N", title="Group"),
        alt.Tooltip("value:Q", title=f"Cumulative spend per member ({currency})", format=",.2f"),
        alt.Tooltip("ci_low:Q", title="95% interval, low", format=",.2f"),
        alt.Tooltip("ci_high:Q", title="95% interval, high", format=",.2f"),
        alt.Tooltip("members:Q", title="Members", format=","),
    ]
    color = alt.Color("group:N", title="Group", scale=_COLORS)
    base = alt.Chart(df).encode(x=x, color=color, tooltip=tip)
    band = base.mark_area(opacity=0.18).encode(y=alt.Y("ci_low:Q", title=f"Cumulative spend per member ({currency})"),
                                               y2="ci_high:Q")
    line = base.mark_line(point=True).encode(y="value:Q")
    return alt.layer(band, line).properties(
        title="Cumulative spend per member through the window: test vs control (95% bands of each mean)", height=_H
    )


def lift_difference_chart(curves: pd.DataFrame, currency: str = "€") -> alt.LayerChart:
    """Incremental spend per test member to date (CUPED test - control) with its 95% Welch band."""
    df = curves[curves["series"] == "difference"]
    x, xtip = _x(df)
    tip = [
        xtip,
        alt.Tooltip("value:Q", title=f"Incremental spend per test member ({currency})", format=",.2f"),
        alt.Tooltip("ci_low:Q", title="95% interval, low", format=",.2f"),
        alt.Tooltip("ci_high:Q", title="95% interval, high", format=",.2f"),
    ]
    base = alt.Chart(df).encode(x=x, tooltip=tip)
    band = base.mark_area(opacity=0.2, color="#2ca02c").encode(
        y=alt.Y("ci_low:Q", title=f"Incremental spend per test member ({currency})"), y2="ci_high:Q"
    )
    line = base.mark_line(point=True, color="#2ca02c").encode(y="value:Q")
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(strokeDash=[4, 4], color="#444").encode(y="y:Q")
    return alt.layer(band, line, zero).properties(
        title="Incremental spend per test member to date (CUPED, 95% Welch interval)", height=_H
    )


def lift_overview_chart(lift: pd.DataFrame, currency: str = "€") -> alt.LayerChart:
    """Each campaign's incremental spend per test member: CUPED and plain 95% intervals side by side."""
    common = lift[["campaign"]].assign(n=lift["n_test"] + lift["n_control"])
    df = pd.concat(
        [
            common.assign(estimate="CUPED", value=lift["incremental_spend_per_member"], low=lift["ci_low"],
                          high=lift["ci_high"]),
            common.assign(estimate="plain difference", value=lift["plain_difference"], low=lift["plain_ci_low"],
                          high=lift["plain_ci_high"]),
        ],
        ignore_index=True,
    )
    tip = [
        alt.Tooltip("campaign:N", title="Campaign"),
        alt.Tooltip("estimate:N", title="Estimate"),
        alt.Tooltip("value:Q", title=f"Incremental spend per test member ({currency})", format=",.2f"),
        alt.Tooltip("low:Q", title="95% interval, low", format=",.2f"),
        alt.Tooltip("high:Q", title="95% interval, high", format=",.2f"),
        alt.Tooltip("n:Q", title="Members", format=","),
    ]
    y = alt.Y("campaign:N", title=None, axis=alt.Axis(labelLimit=260))
    off = alt.YOffset("estimate:N", title="Estimate")
    color = alt.Color("estimate:N", title="Estimate", scale=alt.Scale(domain=["CUPED", "plain difference"],
                                                                     range=["#2ca02c", "#bbbbbb"]))
    base = alt.Chart(df).encode(y=y, yOffset=off, color=color, tooltip=tip)
    bars = base.mark_rule(strokeWidth=3).encode(
        x=alt.X("low:Q", title=f"Incremental spend per test member over the window ({currency})"), x2="high:Q"
    )
    points = base.mark_point(filled=True, size=70).encode(x="value:Q")
    zero = alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(strokeDash=[4, 4], color="#444").encode(x="x:Q")
    return alt.layer(bars, points, zero).properties(
        title="Lift per campaign with 95% intervals: CUPED vs plain difference", height=max(120, 60 * len(lift))
    )


def event_study_chart(coefficients: pd.DataFrame, currency: str = "€") -> alt.LayerChart:
    """Event-study coefficients by months since enrolment, with 95% intervals (month -1 = reference)."""
    df = coefficients.assign(
        period=lambda d: d["event_month"].map(lambda e: "reference" if e == -1 else ("before" if e < 0 else "after"))
    )
    tip = [
        alt.Tooltip("event_month:Q", title="Months since enrolment"),
        alt.Tooltip("estimate:Q", title=f"Effect on monthly spend per member ({currency})", format=",.2f"),
        alt.Tooltip("ci_low:Q", title="95% interval, low", format=",.2f"),
        alt.Tooltip("ci_high:Q", title="95% interval, high", format=",.2f"),
        alt.Tooltip("cohorts:Q", title="Enrolment cohorts"),
        alt.Tooltip("members:Q", title="Members", format=","),
    ]
    x = alt.X("event_month:Q", title="Months since enrolment (0 = enrolment month, -1 = reference)")
    color = alt.Color("period:N", title="Months", scale=alt.Scale(domain=["before", "reference", "after"],
                                                                 range=["#7f7f7f", "#000000", "#d62728"]))
    base = alt.Chart(df).encode(x=x, color=color, tooltip=tip)
    bars = base.mark_rule(strokeWidth=2).encode(
        y=alt.Y("ci_low:Q", title=f"Effect on spend per member and month ({currency})"), y2="ci_high:Q"
    )
    points = base.mark_point(filled=True, size=60).encode(y="estimate:Q")
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(strokeDash=[4, 4], color="#444").encode(y="y:Q")
    enrol = alt.Chart(pd.DataFrame({"x": [-0.5]})).mark_rule(color="#d62728", opacity=0.4).encode(x="x:Q")
    return alt.layer(bars, points, zero, enrol).properties(
        title="Event study: spend per member vs not-yet-enrolled members, by months since enrolment (95%)",
        height=_H,
    )
