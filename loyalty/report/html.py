"""A self-contained HTML report for a strategy session.

Charts are rendered to inline SVG with ``vl-convert`` (the Vega project's own
converter, what Altair uses to save charts), so the file opens offline with no
JavaScript and no network. All text from the data is HTML-escaped.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#1f2933}
h1{color:#2E6F95}h2{border-bottom:2px solid #2E6F95;padding-bottom:.2rem;margin-top:2.5rem}
table{border-collapse:collapse;margin:.8rem 0;font-size:.85rem}th,td{border:1px solid #d0d7de;padding:.25rem .5rem}
th{background:#f1f5f9;text-align:left}td.num{text-align:right}.meta{color:#52606d}.chart{margin:1rem 0}
dl{font-size:.85rem}dt{font-weight:600;margin-top:.4rem}dd{margin-left:1rem;color:#3e4c59}
.caption{font-style:italic;color:#52606d;margin-top:1rem}
"""


@dataclass(frozen=True)
class ReportSection:
    """One section: intro text, tables (caption, frame), Vega-Lite chart specs and definitions."""

    title: str
    intro: str = ""
    tables: tuple[tuple[str, pd.DataFrame], ...] = ()
    charts: tuple[dict, ...] = ()
    definitions: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = field(default=())


def chart_to_svg(spec: dict) -> str:
    """Render a Vega-Lite spec to an SVG string (no network, no browser)."""
    import vl_convert as vlc

    return vlc.vegalite_to_svg(spec)


def _table_html(caption: str, df: pd.DataFrame, max_rows: int = 60) -> str:
    shown = df.head(max_rows)
    more = f"<p class='meta'>First {max_rows} of {len(df):,} rows.</p>" if len(df) > max_rows else ""
    body = shown.to_html(
        escape=True,
        index=False,
        na_rep="—",
        float_format=lambda v: f"{v:,.4g}" if abs(v) < 1 else f"{v:,.2f}",
        border=0,
    )
    return f"<p class='caption'>{html.escape(caption)}</p>{body}{more}"


def build_report_html(
    dataset_name: str,
    period: tuple[pd.Timestamp, pd.Timestamp] | None,
    sections: Sequence[ReportSection],
    *,
    generated_at: datetime | None = None,
    render_svg=chart_to_svg,
) -> str:
    """Assemble the report. Every string from the data is escaped.

    Parameters
    ----------
    dataset_name : str
        Name of the dataset the figures come from.
    period : (start, end) or None
        Date range the KPIs cover.
    sections : sequence of ReportSection
    render_svg : callable
        Spec -> SVG; injectable for tests.
    """
    when = (generated_at or datetime.now()).strftime("%Y-%m-%d %H:%M")
    span = f"{period[0]:%Y-%m-%d} to {period[1]:%Y-%m-%d}" if period else "all dates"
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Loyalty Lab report: {html.escape(dataset_name)}</title><style>{_CSS}</style></head><body>",
        "<h1>Loyalty Lab: strategy report</h1>",
        f"<p class='meta'>Dataset: <b>{html.escape(dataset_name)}</b> · period {html.escape(span)} · "
        f"generated {when}</p>",
    ]
    for sec in sections:
        parts.append(f"<h2>{html.escape(sec.title)}</h2>")
        if sec.intro:
            parts.append(f"<p>{html.escape(sec.intro)}</p>")
        for spec in sec.charts:
            try:
                parts.append(f"<div class='chart'>{render_svg(spec)}</div>")
            except Exception as exc:  # a chart that cannot render must not lose the report
                parts.append(f"<p class='meta'>(chart unavailable: {html.escape(str(exc)[:200])})</p>")
        for caption, df in sec.tables:
            parts.append(_table_html(caption, df))
        for note in sec.notes:
            parts.append(f"<p class='meta'>{html.escape(note)}</p>")
        if sec.definitions:
            parts.append("<details open><summary>Definitions</summary><dl>")
            for term, text in sec.definitions:
                parts.append(f"<dt>{html.escape(term)}</dt><dd>{html.escape(text)}</dd>")
            parts.append("</dl></details>")
    parts.append("</body></html>")
    return "\n".join(parts)
