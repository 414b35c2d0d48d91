"""Altair charts of the what-if simulator (titles, axis units, tooltips).

Builders take frames computed in :mod:`loyalty` and only reshape them.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

_H = 260


#: Room above a chart for its title (Streamlit clips it otherwise).
_PAD = {"top": 14, "left": 5, "right": 5, "bottom": 5}


def cost_liability_chart(table: pd.DataFrame, names: list[str], currency: str) -> alt.Chart:
    """Grouped bars: total cost and URR-adjusted liability per scenario (replay layer)."""
    rows = table.set_index("kpi").loc[["reward_cost", "tier_benefit_cost", "liability"], names]
    long = rows.reset_index().melt("kpi", var_name="scenario", value_name="value")
    long["measure"] = long["kpi"].map(
        {"reward_cost": "Reward cost", "tier_benefit_cost": "Tier benefits (annual)", "liability": "Liability"}
    )
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("scenario:N", title=None, sort=names, axis=alt.Axis(labelAngle=-30, labelLimit=160)),
            xOffset=alt.XOffset("measure:N"),
            y=alt.Y("value:Q", title=f"Amount ({currency})"),
            color=alt.Color("measure:N", title="Measure"),
            tooltip=[
                alt.Tooltip("scenario:N", title="Scenario"),
                alt.Tooltip("measure:N", title="Measure"),
                alt.Tooltip("value:Q", title=f"Amount ({currency})", format=",.0f"),
            ],
        )
        .properties(title="Cost and liability by scenario (replay)", height=_H, padding=_PAD)
    )


def flows_chart(monthly: dict[str, pd.DataFrame]) -> alt.Chart:
    """Points issued / redeemed / expired per month, one line per scenario, one panel per flow."""
    frames = [m[["month", "issued", "redeemed", "expired"]].assign(scenario=n) for n, m in monthly.items()]
    long = pd.concat(frames).melt(["month", "scenario"], var_name="flow", value_name="points")
    long["flow"] = long["flow"].str.capitalize()
    return (
        alt.Chart(long)
        .mark_line()
        .encode(
            x=alt.X("month:T", title="Month", axis=alt.Axis(format="%b %Y", tickCount={"interval": "month", "step": 1}, labelOverlap=True)),
            y=alt.Y("points:Q", title="Points per month"),
            color=alt.Color("scenario:N", title="Scenario", sort=list(monthly)),
            tooltip=[
                alt.Tooltip("month:T", title="Month", format="%b %Y"),
                alt.Tooltip("scenario:N", title="Scenario"),
                alt.Tooltip("flow:N", title="Flow"),
                alt.Tooltip("points:Q", title="Points", format=",.0f"),
            ],
        )
        .properties(height=130, width=540)
        .facet(row=alt.Row("flow:N", title=None, sort=["Issued", "Redeemed", "Expired"]))
        .resolve_scale(y="independent")
        .properties(title="Points issued, redeemed and expired over time (replay)", padding=_PAD)
    )


def tier_mix_chart(tiers: pd.DataFrame, names: list[str]) -> alt.Chart:
    """Stacked share of members per tier at the end, per scenario (``scenario, tier, members``)."""
    return (
        alt.Chart(tiers)
        .mark_bar()
        .encode(
            x=alt.X("scenario:N", title=None, sort=names, axis=alt.Axis(labelAngle=-30, labelLimit=160)),
            y=alt.Y("members:Q", stack="normalize", title="Share of members (%)", axis=alt.Axis(format="%")),
            color=alt.Color("tier:N", title="Tier", sort=None),
            order=alt.Order("order:Q"),
            tooltip=[
                alt.Tooltip("scenario:N", title="Scenario"),
                alt.Tooltip("tier:N", title="Tier"),
                alt.Tooltip("members:Q", title="Members", format=","),
            ],
        )
        .properties(title="Tier mix at the end (replay)", height=_H, padding=_PAD)
    )


def breakage_chart(table: pd.DataFrame, names: list[str]) -> alt.Chart:
    """Breakage of the outstanding points (earn-cohort chain-ladder of the replayed history) per scenario."""
    row = table.set_index("kpi").loc["breakage_rate", names]
    df = pd.DataFrame({"scenario": names, "breakage": row.to_numpy()})
    return (
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=alt.X("scenario:N", title=None, sort=names, axis=alt.Axis(labelAngle=-30, labelLimit=160)),
            y=alt.Y("breakage:Q", title="Breakage of outstanding points (%)", axis=alt.Axis(format="%")),
            tooltip=[alt.Tooltip("scenario:N", title="Scenario"), alt.Tooltip("breakage:Q", title="Breakage", format=".1%")],
        )
        .properties(title="Breakage by scenario (replay)", height=_H, padding=_PAD)
    )


def sensitivity_chart(sweep: pd.DataFrame, param_label: str, currency: str) -> alt.Chart:
    """Total cost, liability and (projection) net benefit against the swept parameter."""
    cols = {"total_cost": "Total cost", "liability": "Liability", "net_benefit": "Net benefit vs baseline (projection)"}
    keep = [c for c in cols if c in sweep.columns]
    long = sweep[["value", *keep]].melt("value", var_name="measure", value_name="amount").dropna()
    long["measure"] = long["measure"].map(cols)
    return (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X("value:Q", title=param_label),
            y=alt.Y("amount:Q", title=f"Amount ({currency})"),
            color=alt.Color("measure:N", title="Measure"),
            tooltip=[
                alt.Tooltip("value:Q", title=param_label, format=",.4g"),
                alt.Tooltip("measure:N", title="Measure"),
                alt.Tooltip("amount:Q", title=f"Amount ({currency})", format=",.0f"),
            ],
        )
        .properties(title=f"Sensitivity to {param_label.lower()}", height=_H, padding=_PAD)
    )


def projection_chart(band: pd.DataFrame, metric: str, label: str, currency: str) -> alt.LayerChart:
    """p10-p90 band and median of one projected metric by month ahead (projection layer)."""
    df = band[band["metric"] == metric]
    base = alt.Chart(df).encode(x=alt.X("month_ahead:Q", title="Months ahead"))
    area = base.mark_area(opacity=0.25).encode(
        y=alt.Y("p10:Q", title=f"{label} ({currency}, cumulative)"),
        y2="p90:Q",
        tooltip=[
            alt.Tooltip("month_ahead:Q", title="Months ahead"),
            alt.Tooltip("p10:Q", title="p10", format=",.0f"),
            alt.Tooltip("p50:Q", title="Median", format=",.0f"),
            alt.Tooltip("p90:Q", title="p90", format=",.0f"),
        ],
    )
    line = base.mark_line().encode(y="p50:Q")
    return alt.layer(area, line).properties(title=f"{label} (projection, p10-p90)", height=_H, padding=_PAD)
