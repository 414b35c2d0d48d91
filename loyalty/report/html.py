"""A self-contained HTML report for a strategy session.

Charts are rendered to inline SVG with ``vl-convert`` (the Vega project's own
converter, what Altair uses to save charts), so the file opens offline with no
JavaScript and no network. All text from the data is HTML-escaped.

Tables are written for people: headers are labels, figures are formatted by unit
(:class:`loyalty.export.TableFormat`, carried with each table) and right-aligned, and a
missing value is an em dash.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from loyalty.export import ROW, TableFormat, format_cell

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#1f2933}
h1{color:#2E6F95}h2{border-bottom:2px solid #2E6F95;padding-bottom:.2rem;margin-top:2.5rem}
table{border-collapse:collapse;margin:.8rem 0;font-size:.85rem}th,td{border:1px solid #d0d7de;padding:.25rem .5rem}
th{background:#f1f5f9;text-align:left;vertical-align:bottom}th.num,td.num{text-align:right;white-space:nowrap}
td.num{font-variant-numeric:tabular-nums}tbody tr:nth-child(even){background:#f8fafc}
.meta{color:#52606d}.chart{margin:1rem 0}
dl{font-size:.85rem}dt{font-weight:600;margin-top:.4rem}dd{margin-left:1rem;color:#3e4c59}
.caption{font-style:italic;color:#52606d;margin-top:1rem}
"""


@dataclass(frozen=True)
class ReportSection:
    """One section: intro text, tables, Vega-Lite chart specs and definitions.

    A table is ``(caption, frame)`` or ``(caption, frame, TableFormat)``; without a format
    its columns are labelled and formatted from the metric registry and their dtypes.
    """

    title: str
    intro: str = ""
    tables: tuple[tuple, ...] = ()
    charts: tuple[dict, ...] = ()
    definitions: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = field(default=())


def chart_to_svg(spec: dict) -> str:
    """Render a Vega-Lite spec to an SVG string (no network, no browser)."""
    import vl_convert as vlc

    return vlc.vegalite_to_svg(spec)


def _table_html(
    caption: str, df: pd.DataFrame, fmt: TableFormat | None = None, *, currency: str = "", max_rows: int = 60
) -> str:
    """``df`` as an HTML table: labelled headers, figures formatted by unit, every string escaped.

    Columns in ``fmt.hidden`` are left out; a column of unit ``row`` takes each row's unit from
    ``fmt.row_unit``. Figures are right-aligned (a column is numeric unless all its cells are text).
    """
    fmt = fmt or TableFormat()
    shown = df.head(max_rows)
    more = f"<p class='meta'>First {max_rows} of {len(df):,} rows.</p>" if len(df) > max_rows else ""
    row_units = shown[fmt.row_unit] if fmt.row_unit in shown.columns else None
    head, columns = [], []
    for col in shown.columns:
        if str(col) in fmt.hidden:
            continue
        unit = fmt.unit(col, shown[col])
        if unit == ROW:
            units = [u if isinstance(u, str) else "num" for u in row_units] if row_units is not None else ["num"]
        else:
            units = [unit]
        units = units * len(shown) if len(units) == 1 else units
        cls = "" if all(u in ("text", "bool") for u in units) else " class='num'"
        delta = str(col) in fmt.deltas
        head.append(f"<th{cls}>{html.escape(fmt.label(col))}</th>")
        columns.append([f"<td{cls}>{html.escape(format_cell(v, u, currency, delta=delta))}</td>"
                        for v, u in zip(shown[col].tolist(), units, strict=False)])
    rows = "".join(f"<tr>{''.join(cells)}</tr>" for cells in zip(*columns, strict=True))
    body = f"<table><thead><tr>{''.join(head)}</tr></thead><tbody>{rows}</tbody></table>"
    return f"<p class='caption'>{html.escape(caption)}</p>{body}{more}"


def build_report_html(
    dataset_name: str,
    period: tuple[pd.Timestamp, pd.Timestamp] | None,
    sections: Sequence[ReportSection],
    *,
    generated_at: datetime | None = None,
    render_svg=chart_to_svg,
    currency: str = "",
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
    currency : str
        Symbol written before amounts (``money`` columns).
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
        for caption, df, *fmt in sec.tables:
            parts.append(_table_html(caption, df, fmt[0] if fmt else None, currency=currency))
        for note in sec.notes:
            parts.append(f"<p class='meta'>{html.escape(note)}</p>")
        if sec.definitions:
            parts.append("<details open><summary>Definitions</summary><dl>")
            for term, text in sec.definitions:
                parts.append(f"<dt>{html.escape(term)}</dt><dd>{html.escape(text)}</dd>")
            parts.append("</dl></details>")
    parts.append("</body></html>")
    return "\n".join(parts)
