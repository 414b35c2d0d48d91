"""Chart builders for the strategy report: the pages' own Altair charts, keyed as
:data:`loyalty.report.sections.CHART_KEYS` asks (each takes ``(frame, currency)``)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from ui import charts, model_charts


def scenario_cost_chart(tidy: pd.DataFrame, currency: str = "€") -> alt.Chart:
    """Reward cost, liability and tier benefit cost per scenario (grouped bars, currency)."""
    order = list(dict.fromkeys(tidy["scenario"]))
    return (
        alt.Chart(tidy)
        .mark_bar()
        .encode(
            y=alt.Y("scenario:N", title="Scenario", sort=order),
            x=alt.X("value:Q", title=f"Amount ({currency})"),
            yOffset="measure:N",
            color=alt.Color("measure:N", title="Measure"),
            tooltip=[
                alt.Tooltip("scenario:N", title="Scenario"),
                alt.Tooltip("measure:N", title="Measure"),
                alt.Tooltip("value:Q", title=f"Amount ({currency})", format=",.0f"),
            ],
        )
        .properties(title="Cost and liability by scenario (replay of the history)", height=max(240, 60 * len(order)))
    )


REPORT_CHARTS = {
    "revenue_active": charts.revenue_active_chart,
    "points_flow": lambda df, currency: charts.points_flow_chart(df),
    "segment_sizes": lambda df, currency: model_charts.size_revenue_chart(df),
    "clv_by_segment": model_charts.clv_segment_chart,
    "scenario_costs": scenario_cost_chart,
}
