"""Altair charts of the Segments and Customer value pages (titles, units, tooltips).

Builders only draw frames computed in :mod:`loyalty.members.segmentation` / :mod:`loyalty.clv`.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

_H = 280


#: Room above a chart for its title (Streamlit clips it otherwise).
_PAD = {"top": 14, "left": 5, "right": 5, "bottom": 5}


def k_sweep_charts(table: pd.DataFrame, recommended: int) -> tuple[alt.LayerChart, alt.LayerChart]:
    """Elbow (inertia) and silhouette against k, the recommended k marked (two charts)."""
    df = table.reset_index()
    tip = [
        alt.Tooltip("k:O", title="Segments (k)"),
        alt.Tooltip("inertia:Q", title="Inertia (mean sq. distance)", format=".3f"),
        alt.Tooltip("silhouette:Q", title="Silhouette", format=".3f"),
    ]
    x = alt.X("k:O", title="Number of segments (k)")
    rule = alt.Chart(pd.DataFrame({"k": [recommended]})).mark_rule(color="#d62728", strokeDash=[4, 3]).encode(x=x)
    elbow = alt.Chart(df).mark_line(point=True).encode(
        x=x, y=alt.Y("inertia:Q", title="Inertia (std. units², per member)"), tooltip=tip
    )
    sil = alt.Chart(df).mark_line(point=True, color="#2ca02c").encode(
        x=x, y=alt.Y("silhouette:Q", title="Silhouette (-1 to 1, higher = better)"), tooltip=tip
    )
    return (
        # Top padding: without it Streamlit's frame cuts the title of a layered chart in a column.
        (elbow + rule).properties(title="Elbow: inertia by k (red: recommended)", height=_H, padding=_PAD),
        (sil + rule).properties(title="Silhouette by k (higher = better)", height=_H, padding=_PAD),
    )


def profile_heatmap(profile: pd.DataFrame, features: list[str]) -> alt.Chart:
    """Segment x feature heatmap of z-scores, with the segment means in the tooltip."""
    rows = []
    for seg, r in profile.iterrows():  # k x features cells (<= 10 x 11), not members
        for f in features:
            rows.append({"segment": r["name"], "order": seg, "feature": f, "z": r[f"z_{f}"], "mean": r[f"mean_{f}"]})
    df = pd.DataFrame(rows)
    base = alt.Chart(df).encode(
        x=alt.X("feature:N", title="Feature", sort=features),
        y=alt.Y("segment:N", title="Segment", sort=alt.SortField("order")),
    )
    rect = base.mark_rect().encode(
        color=alt.Color("z:Q", title="z-score", scale=alt.Scale(scheme="redblue", domainMid=0)),
        tooltip=[
            alt.Tooltip("segment:N", title="Segment"),
            alt.Tooltip("feature:N", title="Feature"),
            alt.Tooltip("mean:Q", title="Segment mean", format=",.1f"),
            alt.Tooltip("z:Q", title="z-score", format="+.2f"),
        ],
    )
    text = base.mark_text(fontSize=11).encode(text=alt.Text("z:Q", format="+.1f"))
    return (rect + text).properties(
        title="Segment profiles: z-score of each feature vs the program average", height=alt.Step(34)
    )


def size_revenue_chart(profile: pd.DataFrame) -> alt.Chart:
    """Share of members vs share of revenue per segment (grouped bars)."""
    df = profile.reset_index()[["segment", "name", "share_members", "share_revenue"]].melt(
        ["segment", "name"], var_name="measure", value_name="share"
    )
    df["measure"] = df["measure"].map({"share_members": "Members", "share_revenue": "Net spend"})
    return (
        alt.Chart(df)
        .mark_bar()
        .encode(
            y=alt.Y("name:N", title="Segment", sort=alt.SortField("segment")),
            x=alt.X("share:Q", title="Share of the program (%)", axis=alt.Axis(format="%")),
            yOffset="measure:N",
            color=alt.Color("measure:N", title="Share of"),
            tooltip=[alt.Tooltip("name:N", title="Segment"), alt.Tooltip("measure:N", title="Share of"),
                     alt.Tooltip("share:Q", title="Share", format=".1%")],
        )
        .properties(title="Segment sizes and revenue shares", height=max(_H, 45 * profile.shape[0]))
    )


def pca_scatter(points: pd.DataFrame, explained: tuple[float, ...]) -> alt.Chart:
    """2-D PCA scatter of a member sample coloured by segment name (column ``segment_name``)."""
    ev = list(explained) + [0.0, 0.0]
    return (
        alt.Chart(points)
        .mark_circle(size=18, opacity=0.6)
        .encode(
            x=alt.X("pc1:Q", title=f"Component 1 ({ev[0]:.0%} of variance, std. units)"),
            y=alt.Y("pc2:Q", title=f"Component 2 ({ev[1]:.0%} of variance, std. units)"),
            color=alt.Color("segment_name:N", title="Segment", legend=alt.Legend(orient="bottom", columns=2)),
            tooltip=[alt.Tooltip("member_id:N", title="Member"), alt.Tooltip("segment_name:N", title="Segment")],
        )
        .properties(title=f"Members in 2-D (PCA, {len(points):,} sampled)", height=360)
    )


def clv_histogram(values: pd.DataFrame, currency: str, clip_quantile: float = 0.99) -> alt.Chart:
    """Distribution of per-member CLV, x-axis clipped at a high quantile for readability."""
    cap = float(values["clv"].quantile(clip_quantile))
    df = pd.DataFrame({"clv": values["clv"].clip(upper=cap)})
    return (
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=alt.X("clv:Q", bin=alt.Bin(maxbins=40), title=f"CLV per member ({currency}; top 1% shown at the cap)"),
            y=alt.Y("count():Q", title="Members"),
            tooltip=[alt.Tooltip("clv:Q", bin=alt.Bin(maxbins=40), title=f"CLV ({currency})", format=",.0f"),
                     alt.Tooltip("count():Q", title="Members")],
        )
        .properties(title="Distribution of customer lifetime value", height=_H)
    )


def p_alive_heatmap(matrix: pd.DataFrame, period: str) -> alt.Chart:
    """P(alive) over (repeat purchases, recency) for a member of the longest age."""
    return (
        alt.Chart(matrix)
        .mark_rect()
        .encode(
            x=alt.X("recency:Q", bin=alt.Bin(maxbins=25), title=f"Recency: first to last purchase ({period})"),
            y=alt.Y("frequency:O", title="Repeat purchases", sort="descending"),
            color=alt.Color("mean(p_alive):Q", title="P(alive)", scale=alt.Scale(scheme="viridis", domain=[0, 1])),
            tooltip=[alt.Tooltip("frequency:O", title="Repeat purchases"),
                     alt.Tooltip("recency:Q", title=f"Recency ({period})", format=".0f"),
                     alt.Tooltip("mean(p_alive):Q", title="P(alive)", format=".2f")],
        )
        .properties(title="P(alive) by repeat purchases and recency", height=_H)
    )


def clv_segment_chart(by_seg: pd.DataFrame, currency: str) -> alt.Chart:
    df = by_seg.reset_index()
    return (
        alt.Chart(df)
        .mark_bar()
        .encode(
            y=alt.Y("segment:N", title="Segment", sort="-x"),
            x=alt.X("total_clv:Q", title=f"Total CLV ({currency})"),
            tooltip=[alt.Tooltip("segment:N", title="Segment"), alt.Tooltip("members:Q", title="Members", format=","),
                     alt.Tooltip("mean_clv:Q", title=f"Mean CLV ({currency})", format=",.2f"),
                     alt.Tooltip("share_of_clv:Q", title="Share of CLV", format=".1%"),
                     *([alt.Tooltip("p_alive_repeat:Q", title="Mean P(alive), repeat buyers", format=".0%"),
                        alt.Tooltip("one_time_buyers:Q", title="One-time buyers", format=",")]
                       if {"p_alive_repeat", "one_time_buyers"} <= set(df.columns) else [])],
        )
        .properties(title="Customer value by segment", height=max(200, 35 * len(df)))
    )


def calibration_chart(table: pd.DataFrame) -> alt.Chart:
    """Mean holdout purchases, actual vs predicted, by calibration repeat purchases."""
    df = table.reset_index().melt(
        ["calibration_repeat_purchases", "customers"], ["actual", "predicted"], var_name="series", value_name="mean"
    )
    order = list(table.index)
    return (
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=alt.X("calibration_repeat_purchases:N", sort=order, title="Repeat purchases in the calibration window"),
            xOffset="series:N",
            y=alt.Y("mean:Q", title="Purchases per member in the holdout (mean)"),
            color=alt.Color("series:N", title=""),
            tooltip=[alt.Tooltip("calibration_repeat_purchases:N", title="Calibration repeat purchases"),
                     alt.Tooltip("customers:Q", title="Members", format=","), alt.Tooltip("series:N", title="Series"),
                     alt.Tooltip("mean:Q", title="Mean purchases", format=".2f")],
        )
        .properties(title="Calibration check: predicted vs actual holdout purchases", height=_H)
    )
