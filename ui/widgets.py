"""Shared widgets used by every page (no copy-paste between pages)."""

from __future__ import annotations

import math
from collections.abc import Callable

import pandas as pd
import streamlit as st

from loyalty.export import pseudonymise_frame, to_csv_bytes, to_excel_bytes
from loyalty.metrics import Metric
from loyalty.schema import SPECS
from ui.router import ensure_router
from ui.state import current_dataset, link_dataset_mismatch, pseudonymise_exports
from ui.text import md_escape, plain


def dataset_caption() -> str:
    ds = current_dataset()
    t = ds.transactions
    if len(t):
        start, end = ds.date_range()
        span = f"{start:%d %b %Y} – {end:%d %b %Y}"
    else:
        span = "no transactions"
    members = t["member_id"].nunique()
    return f"Dataset: **{md_escape(ds.name)}** · {len(t):,} transactions · {members:,} members · {span}"


def page_header(title: str, caption: str | None = None) -> None:
    """Page title plus the banner saying which dataset is shown (every page calls it first).

    When the session was opened from a link made on other data, the banner says so: the
    link's inputs and view apply, but the numbers are this dataset's.
    """
    ensure_router()
    st.title(title)
    st.caption(dataset_caption())
    other = link_dataset_mismatch()
    if other is not None:
        fp, name = other
        if name == current_dataset().name:  # e.g. the sample program of another version of the app
            what = f"another version of **{md_escape(name)}** (fingerprint `{md_escape(fp)}`)"
        else:
            what = f"an uploaded dataset (**{md_escape(name)}**, fingerprint `{md_escape(fp)}`)"
        st.warning(
            f"This link was made on {what}; upload it on the Data page to see the same numbers. The figures "
            f"below are for **{md_escape(current_dataset().name)}**, with the link's inputs and view.",
            icon="🔗",
        )
    if caption:
        st.caption(caption)


def format_value(value: float | None, fmt: str, currency: str = "€") -> str:
    """Format a KPI or a change.

    ``fmt`` is one of money, int, points, pct, days, score, rating or float for values, and
    ``pp`` (a change of a rate, in percentage points: 0.052 -> "+5.2 pp") or ``pts`` (a
    change of a score: 3.5 -> "+3.5 pts") for changes.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if fmt == "money":
        sign = "-" if value < 0 else ""  # "-€2,618.00", not "€-2,618.00"
        if 0 < abs(value) < 0.1:  # a cost per point: €0.0115, not €0.01
            return f"{sign}{currency}{abs(value):.4f}"
        return f"{sign}{currency}{abs(value):,.2f}" if abs(value) < 1e5 else f"{sign}{currency}{abs(value):,.0f}"
    if fmt in ("int", "points"):
        return f"{value:,.0f}"
    if fmt == "pct":
        return f"{value:,.1%}"
    if fmt == "pp":
        return f"{value * 100:+,.1f} pp"
    if fmt == "pts":
        return f"{value:+,.1f} pts"
    if fmt == "days":
        return f"{value:,.0f} d"
    if fmt == "score":
        return f"{value:+.1f}"
    if fmt == "rating":
        return f"{value:.2f}"
    return f"{value:,.2f}"


_DELTA_COLOR = {"up": "normal", "down": "inverse", "neutral": "off"}
_TILE_FMT = {"num": "float", "years": "float"}


def metric_tile(
    m: Metric,
    value: float,
    previous: float = math.nan,
    *,
    currency: str = "€",
    label: str | None = None,
    help_extra: str = "",
    no_comparison: str = "",
) -> None:
    """A tile for registry metric ``m``: its label, unit, direction and formula (as help).

    The change vs ``previous`` is a difference for rates (percentage points, "+5.2 pp"),
    scores ("+3.5 pts") and ratings ("+0.12"), and a relative change ("+12.3%") otherwise;
    none when either value is unknown or ``previous`` is 0.

    Parameters
    ----------
    no_comparison : str
        Why the period has no comparison (e.g. "data starts 01 Nov 2023", from
        :func:`loyalty.kpis.kpi_comparison`): the tile says "no comparison (...)" instead of
        a change, so a missing comparison is not mistaken for "no change".
    """
    fmt = _TILE_FMT.get(m.unit, m.unit)
    color, arrow = _DELTA_COLOR[m.direction], "auto"
    dtext = None
    if no_comparison:
        dtext, color, arrow = f"no comparison ({no_comparison})", "off", "off"
    elif m.unit in ("pct", "score", "rating"):
        delta = value - previous
        if not math.isnan(delta):
            # A rate's change is in percentage points: "+5.0%" would read as a relative change.
            unit = {"pct": "pp", "score": "pts"}.get(m.unit)
            dtext = format_value(delta, unit) if unit else f"{delta:+.2f}"
    elif previous and not math.isnan(previous) and not math.isnan(value):
        dtext = format_value((value - previous) / abs(previous), "pct")
        dtext = dtext if dtext.startswith("-") else "+" + dtext
    if dtext and not no_comparison and not any(c in "123456789" for c in dtext):
        dtext, color, arrow = dtext.lstrip("+-"), "off", "off"  # rounds to zero: no arrow, no colour
    st.metric(
        label or m.label,
        format_value(value, fmt, currency),
        delta=dtext,
        delta_color=color,
        delta_arrow=arrow,
        help=m.formula + (f"\n\n{help_extra}" if help_extra else ""),
        border=True,
    )


def _export_frame(df: pd.DataFrame) -> pd.DataFrame:
    if pseudonymise_exports():
        return pseudonymise_frame(df, salt=current_dataset().fingerprint)
    return df


def download_table(
    df: pd.DataFrame | Callable[[], pd.DataFrame],
    basename: str,
    *,
    index: bool = False,
    label: str = "",
    key: str | None = None,
) -> None:
    """CSV and Excel download buttons; files are built only when clicked and are formula-safe."""
    key = key or f"dl_{basename}"
    getter = df if callable(df) else (lambda: df)
    what = f" {label}" if label else ""
    c1, c2 = st.columns(2)
    c1.download_button(
        f"⬇ CSV{what}",
        data=lambda: to_csv_bytes(_export_frame(getter()), index=index),
        file_name=f"{basename}.csv",
        mime="text/csv",
        key=f"{key}_csv",
        on_click="ignore",
    )
    c2.download_button(
        f"⬇ Excel{what}",
        data=lambda: to_excel_bytes({basename: _export_frame(getter())}, index=index),
        file_name=f"{basename}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=f"{key}_xlsx",
        on_click="ignore",
    )


def missing_tables_panel(kinds) -> None:
    """One panel listing the optional tables this dataset lacks and what each would unlock."""
    kinds = [k for k in kinds if k in SPECS]
    if not kinds:
        return
    st.info(
        f"**{len(kinds)} optional table(s) not in this dataset.** Upload them on the Data page to unlock:\n"
        + "\n".join(f"- the **{SPECS[k].title.lower()}** table: {SPECS[k].unlocks}" for k in kinds),
        icon="📎",
    )


def needs_table_caption(kind: str) -> None:
    """A one-line pointer for a chart or tile group that needs a missing table (see the panel above)."""
    st.caption(f"Needs the {SPECS[kind].title.lower()} table (not in this dataset; see the panel at the top).")


def missing_table_notice(kind: str) -> None:
    """Say which optional table is missing and what it would unlock."""
    spec = SPECS[kind]
    st.info(
        f"No **{spec.title.lower()}** table in this dataset. Upload one on the Data page to unlock: "
        f"{spec.unlocks}",
        icon="📎",
    )


def show_problem(message: str) -> None:
    """A user-facing problem (never a traceback)."""
    st.error(message, icon="⚠️")


# --- data import (used by the Data page) ---
#: Upload limit in MB, same as ``server.maxUploadSize`` in .streamlit/config.toml.
MAX_UPLOAD_MB = 200
UPLOAD_TYPES = ["csv", "tsv", "txt", "xlsx", "parquet", "pq", "gz", "zip"]
TOO_BIG = (
    "Files are limited to {mb} MB. For a bigger export, save it as **Parquet** (typically 5-10× smaller "
    "than CSV), compress the CSV (**.csv.gz** or **.zip** are accepted), or export a shorter date range."
)
DATE_ORDER_LABELS: dict[str | None, str] = {
    None: "Infer from the data",
    "dayfirst": "Day first (31/12/2024)",
    "monthfirst": "Month first (12/31/2024)",
    "iso": "Year first only (2024-12-31)",
}
NOT_MAPPED = "— not mapped —"
_HELPER_HELP = {
    "quantity": "Line-item exports: quantity of the line (negative for a return).",
    "unit_price": "Line-item exports: price of one unit; amount = quantity x unit price, summed per transaction "
    "(only when no line-total column is mapped as amount).",
    "product_id": "Line-item exports: the line's product. Lines of one receipt that differ in it are lines, "
    "summed per receipt, never duplicates.",
    "discount_1": "A discount column (e.g. retail_disc): summed per receipt into `discount`, never subtracted "
    "from the amount again.",
    "discount_2": "A second discount column (e.g. coupon_disc).",
    "discount_3": "A third discount column.",
}
#: The Data page's separator choice (None = sniffed from the file).
SEPARATOR_LABELS: dict[str | None, str] = {
    None: "Detect from the file",
    ",": "Comma ,",
    ";": "Semicolon ;",
    "\t": "Tab",
    "|": "Pipe |",
    "whitespace": "Runs of spaces",
    "fixed": "Fixed-width columns",
}
_CONFIDENCE_ICON = {"confirmed": "✔ confirmed", "high": "high", "medium": "medium", "low": "low: confirm"}


def mapping_form(kind: str, columns: tuple[str, ...], current: dict[str, str], key: str) -> dict | None:
    """One selectbox per canonical (and line-item helper) column; returns the mapping when applied."""
    from loyalty.ingest.mapping import targets

    spec = SPECS[kind]
    options = [NOT_MAPPED, *columns]
    chosen: dict[str, str] = {}
    with st.form(key, border=False):
        cells = st.columns(2)
        for i, target in enumerate(targets(kind)):
            meaning = spec.column(target).meaning if target in spec.names else _HELPER_HELP.get(target, "")
            source = current.get(target)
            label = f"{target} (required)" if target in spec.required else target
            chosen[target] = cells[i % 2].selectbox(
                label, options, index=options.index(source) if source in columns else 0,
                help=meaning, key=f"{key}_{target}",
            )
        applied = st.form_submit_button("Apply this mapping", key=f"{key}_apply")
    if not applied:
        return None
    return {t: (None if v == NOT_MAPPED else v) for t, v in chosen.items()}


def mapping_table(report) -> pd.DataFrame:
    """Field, source column, confidence and why, of the mapping an import used."""
    rows = [
        {"field": target, "column": column, "confidence": _CONFIDENCE_ICON.get(conf, conf), "why": why}
        for target, column in report.mapping.items()
        for conf, why in [report.confidence.get(target, ("", ""))]
    ]
    return pd.DataFrame(rows, columns=["field", "column", "confidence", "why"])


def import_report(report, key: str) -> None:
    """Counts, aggregation, mapping, warnings and the rejected rows (with reasons and downloads) of one import."""
    from loyalty.ingest import SEPARATOR_NAMES

    cells = st.columns(4 if report.line_items else 3)
    cells[0].metric("Rows read", f"{report.rows_read:,}", help="Non-blank data rows in the file(s).")
    cells[1].metric("Rows kept", f"{report.rows_kept:,}")
    cells[2].metric("Rows rejected", f"{report.rows_rejected:,}", help="Rows read = rows kept + rows rejected.")
    if report.line_items:
        cells[3].metric("Receipts built", f"{report.rows_output:,}", help="Kept lines summed per receipt.")
    if report.aggregation:
        st.info(md_escape(report.aggregation), icon="🧾")
    if report.amount_file_total is not None and report.amount_kept_total is not None:
        gap = 0.0 if abs(report.amount_gap) < 5e-5 else -report.amount_gap  # no "-0.00%"
        st.caption(f"Amount column: file total {report.amount_file_total:,.2f}, kept {report.amount_kept_total:,.2f} "
                   f"({gap:+.2%}).")
    st.dataframe(mapping_table(report), hide_index=True, width="stretch")
    sep = SEPARATOR_NAMES.get(report.separator or "", "")
    details = [report.format.upper(), report.encoding, f"{sep}-separated" if sep else None,
               f"sheet {report.sheet}" if report.sheet else None,
               f"dates {DATE_ORDER_LABELS.get(report.date_order, 'ISO').lower()}" if report.date_order else None]
    st.caption(md_escape(" · ".join(d for d in details if d)))
    for text in report.warnings:
        st.warning(plain(text), icon="⚠️")
    if report.rows_rejected:
        st.markdown("**Rejected rows** (original values, file row number and reason)")
        st.dataframe(report.reason_counts().rename_axis("reason").reset_index(), hide_index=True)
        shown = report.rejected.head(5000)
        st.dataframe(shown, hide_index=True, height=min(400, 40 + 35 * len(shown)))
        if len(shown) < report.rows_rejected:
            st.caption(f"First {len(shown):,} of {report.rows_rejected:,} rejected rows shown; download for all.")
        download_table(report.rejected, f"rejected_{report.kind}", label="rejected rows", key=f"dl_rej_{key}")


# --- the analysis period, shared by the pages that have one (kept for the session and in the URL) ------
def period_picker(ds, key: str, label: str, help: str, container=None) -> tuple:
    """A start/end date picker: the period this session chose (on any page), else the link's
    (``kpi_from``/``kpi_to``), else the last 12 months.

    The KPI dashboard and the report share one period: each picker keeps the chosen period for
    the session (a widget's state goes when its page is left) and in the URL so a shared link
    reproduces it. Stops the page while only the first day has been picked. Returns
    ``(start, end)`` dates.
    """
    from loyalty.kpis.frame import default_period
    from ui.state import keep_view, query_param, session_view, set_query_param

    box = container or st
    first, last = (t.date() for t in ds.date_range())
    d_start, d_end = (t.date() for t in default_period(ds))

    def valid(period) -> bool:
        return isinstance(period, tuple) and len(period) == 2 and first <= period[0] <= period[1] <= last

    def from_url(name: str, default):
        try:
            stamp = pd.Timestamp(query_param(name, str(default)))
        except (ValueError, TypeError, OverflowError):
            return default
        if pd.isna(stamp):  # "NaT" parses to a missing date, not an error
            return default
        return min(max(stamp.date(), first), last)

    # Seed the widget: the session's period for this dataset, else the link's; reset it when a
    # new dataset makes the held dates invalid.
    if not valid(st.session_state.get(key)):
        kept_fp, *kept = session_view("period", (None, None, None))
        url = (from_url("kpi_from", d_start), from_url("kpi_to", d_end))
        seed = tuple(kept) if kept_fp == ds.fingerprint and valid(tuple(kept)) else url
        st.session_state[key] = seed if valid(seed) else (d_start, d_end)
    picked = box.date_input(label, key=key, min_value=first, max_value=last, help=help)
    if not isinstance(picked, tuple) or len(picked) != 2:
        st.info("Pick the last day of the period.")
        st.stop()
    start, end = picked
    keep_view("period", (ds.fingerprint, start, end))
    set_query_param("kpi_from", start.isoformat())
    set_query_param("kpi_to", end.isoformat())
    return start, end
