"""Shared widgets used by every page (no copy-paste between pages)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import pandas as pd
import streamlit as st

from loyalty.export import pseudonymise_frame, to_csv_bytes, to_excel_bytes
from loyalty.schema import SPECS
from ui.state import current_dataset, pseudonymise_exports

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$])")


def md_escape(text: object) -> str:
    """Escape text from the data so markdown/HTML in it is shown literally."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


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


def ensure_router() -> None:
    """Run pages through ``app.py`` even when a deep link is a fresh server's first request.

    Streamlit keeps a legacy mode for apps with a ``pages/`` folder that is only
    switched off once ``st.navigation`` has run; until then a link such as
    ``/kpis`` runs the page file alone (no sidebar, no program inputs, a file
    list as navigation). Leaving that mode and rerunning sends the request
    through the router, which resolves the same URL to the same page.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def page_header(title: str, caption: str | None = None) -> None:
    """Page title plus the banner saying which dataset is shown (every page calls it first)."""
    ensure_router()
    st.title(title)
    st.caption(dataset_caption())
    if caption:
        st.caption(caption)


def format_value(value: float | None, fmt: str, currency: str = "€") -> str:
    """Format a KPI: ``fmt`` is one of money, int, points, pct, days, score or float."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if fmt == "money":
        return f"{currency}{value:,.2f}" if abs(value) < 1e5 else f"{currency}{value:,.0f}"
    if fmt in ("int", "points"):
        return f"{value:,.0f}"
    if fmt == "pct":
        return f"{value:.1%}"
    if fmt == "days":
        return f"{value:,.0f} d"
    if fmt == "score":
        return f"{value:+.1f}"
    return f"{value:,.2f}"


def kpi_tile(
    label: str,
    value: float | None,
    *,
    fmt: str = "float",
    delta: float | None = None,
    delta_fmt: str | None = None,
    help: str | None = None,
    inverse: bool = False,
    currency: str = "€",
) -> None:
    """A metric tile; ``delta`` is the change vs the previous period, in ``delta_fmt`` units."""
    dtext = None
    if delta is not None and not (isinstance(delta, float) and math.isnan(delta)):
        dfmt = delta_fmt or fmt
        dtext = format_value(delta, dfmt, currency)
        if delta > 0 and not dtext.startswith("+"):
            dtext = "+" + dtext
    st.metric(
        label,
        format_value(value, fmt, currency),
        delta=dtext,
        delta_color="inverse" if inverse else "normal",
        help=help,
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
