"""Data: upload the program's exports. A thin UI over :func:`loyalty.ingest.load_table`.

Uploaded bytes stay in this session's memory (Streamlit's upload manager and a
bounded in-memory cache keyed by their hash): nothing is written to disk and
nothing goes into the URL.
"""

from __future__ import annotations

import streamlit as st

from loyalty.ingest import ImportProblem, LoadResult, build_dataset, suggest_mapping
from loyalty.schema import OPTIONAL_KINDS, SPECS
from ui.cache import import_upload, preview_upload, upload_digest
from ui.spark_source import render_spark_source
from ui.state import is_sample, set_dataset, use_sample
from ui.widgets import (
    DATE_ORDER_LABELS,
    MAX_UPLOAD_MB,
    TOO_BIG,
    UPLOAD_TYPES,
    import_report,
    mapping_form,
    page_header,
    plain,
    show_problem,
)

KINDS = ("transactions", *OPTIONAL_KINDS)
_FLASH = "data_flash"

page_header(
    "Data",
    "Upload your program's exports (CSV, Excel or Parquet; English or French headers). Files stay in this "
    "browser session's memory: nothing is written to disk, shared with other sessions or put in links.",
)

flash = st.session_state.pop(_FLASH, None)
if flash is not None:
    message, notes = flash
    st.success(plain(message), icon="✅")
    for note in notes:
        st.warning(plain(note), icon="🔗")

if not is_sample() and st.button("Back to the sample program", key="data_use_sample"):
    use_sample()
    st.rerun()


def table_section(kind: str) -> LoadResult | None:
    """Uploader, options, mapping and import report of one table; its result when it imported."""
    spec = SPECS[kind]
    st.caption(f"**Unlocks:** {spec.unlocks}")
    optional = [c for c in spec.names if c not in spec.required]
    st.caption("Required columns: " + ", ".join(f"`{c}`" for c in spec.required)
               + (". Optional: " + ", ".join(f"`{c}`" for c in optional) if optional else "")
               + ". Header names in English or French are recognised.")
    up = st.file_uploader(
        f"{spec.title} file", type=UPLOAD_TYPES, key=f"up_{kind}", max_upload_size=MAX_UPLOAD_MB,
        help=TOO_BIG.format(mb=MAX_UPLOAD_MB),
    )
    if up is None:
        return None
    if up.size > MAX_UPLOAD_MB * 1024 * 1024:
        show_problem(TOO_BIG.format(mb=MAX_UPLOAD_MB))
        return None
    data = up.getvalue()
    k = f"{kind}_{upload_digest(data)[:12]}"  # widget keys: a new file starts with fresh options
    with st.spinner(f"Reading {up.name}…"):
        preview, problem = preview_upload(data, up.name)
    if problem:
        show_problem(plain(problem))
        return None
    sheet = None
    if len(preview.sheets) > 1:
        sheet = st.selectbox("Sheet", preview.sheets, key=f"sheet_{k}", help="Which sheet of the workbook to import.")
        with st.spinner(f"Reading sheet {sheet}…"):
            preview, problem = preview_upload(data, up.name, sheet)
        if problem:
            show_problem(plain(problem))
            return None
    c1, c2 = st.columns(2)
    order = c1.selectbox(
        "Date order", list(DATE_ORDER_LABELS), format_func=DATE_ORDER_LABELS.get, key=f"order_{k}",
        help="How dates like 01/02/2024 are read. Inferred from values above 12 when possible.",
    )
    keep = c2.checkbox(
        "Keep personal data", key=f"keep_{k}",
        help="Columns that look like names, emails or phone numbers are dropped unless you tick this.",
    )
    mapping_key = f"mapping_{k}_{sheet}"
    applied = st.session_state.get(mapping_key)
    with st.spinner(f"Importing {up.name}…"):
        result, problem = import_upload(data, kind, mapping=applied, sheet=sheet, date_order=order,
                                        keep_personal=keep, name=up.name)
    current = result.report.mapping if result is not None else (applied or suggest_mapping(preview.columns, kind))
    with st.expander("Column mapping", expanded=result is None):
        st.caption("Which column of your file holds each field: inferred from the headers; change it and apply.")
        st.dataframe(preview.head, hide_index=True)
        new = mapping_form(kind, preview.columns, current, key=f"map_{k}")
        if new is not None:
            st.session_state[mapping_key] = new
            st.rerun()
    if problem:
        show_problem(plain(problem))
        return None
    import_report(result.report, key=k)
    return result


results: dict[str, LoadResult] = {}
labels = [SPECS[k].title + (" (required)" if k == "transactions" else " (optional)") for k in KINDS]
for kind, tab in zip(KINDS, st.tabs(labels), strict=True):
    with tab:
        res = table_section(kind)
        if res is not None and len(res.data):
            results[kind] = res

st.divider()
tx = results.get("transactions")
if tx is None:
    st.info("Upload a transactions file (with at least one importable row) to analyse your own program.", icon="📥")
else:
    name = st.text_input("Name of this dataset", value=tx.report.source_name, key="data_name", max_chars=80)
    tables = ", ".join(SPECS[k].title.lower() for k in results)
    if st.button(f"Use this data ({tables})", type="primary", key="data_use"):
        try:
            ds = build_dataset(results, name.strip() or "Uploaded program")
        except ImportProblem as exc:
            show_problem(plain(str(exc)))
        else:
            set_dataset(ds)
            st.session_state[_FLASH] = (
                f"Now analysing '{ds.name}': {len(ds.transactions):,} transactions"
                + "".join(f", {len(ds.table(k)):,} {SPECS[k].title.lower()} rows" for k in OPTIONAL_KINDS
                          if ds.table(k) is not None) + ".",
                ds.notes,
            )
            st.rerun()

with st.expander("Spark: a program too big for this app's machine"):
    render_spark_source()
