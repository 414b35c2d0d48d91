"""The strategy report: its sections (built from the shared table builders) and the offline HTML."""

from loyalty.report.html import ReportSection, build_report_html, chart_to_svg
from loyalty.report.sections import (
    CHART_KEYS,
    ReportSegments,
    StrategyReport,
    build_report,
    clv_part,
    kpi_part,
    recommended_segments,
    rules_table,
    scenario_part,
    scenarios_from_json,
    scenarios_json,
    scope_text,
    segment_part,
)

__all__ = [
    "CHART_KEYS",
    "ReportSection",
    "ReportSegments",
    "StrategyReport",
    "build_report",
    "build_report_html",
    "chart_to_svg",
    "clv_part",
    "kpi_part",
    "recommended_segments",
    "rules_table",
    "scenario_part",
    "scenarios_from_json",
    "scenarios_json",
    "scope_text",
    "segment_part",
]
