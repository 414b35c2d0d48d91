"""Data: upload the program's exports. A thin UI over :func:`loyalty.ingest.load_table`.

Uploaded bytes stay in this session's memory (Streamlit's upload manager and a
bounded in-memory cache keyed by their hash): nothing is written to disk and
nothing goes into the URL.
"""

from __future__ import annotations

import streamlit as st

from loyalty.ingest import (
    ImportProblem,
    ImportSettings,
    LoadResult,
    build_dataset,
    combine_results,
    suggest_mapping,
)
from loyalty.schema import OPTIONAL_KINDS, SPECS
from ui.cache import import_upload, preview_upload, upload_digest
from ui.spark_source import render_spark_source
from ui.state import is_sample, set_dataset, use_sample
from ui.widgets import (
    DATE_ORDER_LABELS,
    MAX_UPLOAD_MB,
    SEPARATOR_LABELS,
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
_SETTINGS = "import_settings"  # ImportSettings confirmed in this session, by file signature

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


def _saved_settings() -> dict[str, ImportSettings]:
    """Import settings confirmed in this session, by file shape (signature)."""
    return st.session_state.setdefault(_SETTINGS, {})


def _apply_settings(settings: ImportSettings, k: str, sheet: str | None) -> None:
    """Put saved settings into this file's widgets and mapping, then rerun."""
    st.session_state[f"saved_{k}"] = settings
    st.session_state[f"mapping_{k}_{sheet}"] = settings.mapping_dict
    st.session_state[f"sep_{k}"] = settings.separator
    st.session_state[f"order_{k}"] = settings.date_order
    st.session_state[f"keep_{k}"] = settings.keep_personal
    st.rerun()


def _options(kind: str, preview, k: str) -> tuple[str | None, str | None, bool]:
    """Separator, date order and personal-data choice of this file."""
    c1, c2, c3 = st.columns(3)
    seps = list(SEPARATOR_LABELS)
    separator = c1.selectbox(
        "Separator", seps, format_func=SEPARATOR_LABELS.get, key=f"sep_{k}", disabled=preview.format != "csv",
        help=f"Detected: {preview.separator_name or 'n/a (not a text file)'}. Choose it by hand when the "
        "columns come out wrong (e.g. one single column).",
    )
    order = c2.selectbox(
        "Date order", list(DATE_ORDER_LABELS), format_func=DATE_ORDER_LABELS.get, key=f"order_{k}",
        help="How dates like 01/02/2024 are read. Inferred from values above 12 when possible; 19970101 and "
        "Excel serial days are recognised.",
    )
    keep = c3.checkbox(
        "Keep personal data", key=f"keep_{k}",
        help="Columns that look like names, emails or phone numbers are dropped unless you tick this.",
    )
    return (separator if preview.format == "csv" else None), order, keep


def table_section(kind: str) -> LoadResult | None:
    """Uploader, options, mapping and import report of one table; its result when it imported."""
    spec = SPECS[kind]
    st.caption(f"**Unlocks:** {spec.unlocks}")
    optional = [c for c in spec.names if c not in spec.required]
    st.caption("Required columns: " + ", ".join(f"`{c}`" for c in spec.required)
               + (". Optional: " + ", ".join(f"`{c}`" for c in optional) if optional else "")
               + ". Header names in English or French are recognised; one row per purchase or one row per "
               "product line.")
    ups = st.file_uploader(
        f"{spec.title} file(s)", type=UPLOAD_TYPES, key=f"up_{kind}", max_upload_size=MAX_UPLOAD_MB,
        accept_multiple_files=True,
        help=TOO_BIG.format(mb=MAX_UPLOAD_MB) + " Several files of the same shape (e.g. monthly exports) "
        "are appended; an id already imported from an earlier file is counted and dropped.",
    )
    ups = [u for u in ups or [] if u is not None]
    if not ups:
        return None
    too_big = [u.name for u in ups if u.size > MAX_UPLOAD_MB * 1024 * 1024]
    if too_big:
        show_problem(plain(f"{', '.join(too_big)}: " + TOO_BIG.format(mb=MAX_UPLOAD_MB)))
        return None
    files = [(u.name, u.getvalue()) for u in ups]
    first_name, first_data = files[0]
    k = f"{kind}_{upload_digest(b''.join(upload_digest(d).encode() for _, d in files))[:12]}"
    with st.spinner(f"Reading {first_name}…"):
        preview, problem = preview_upload(first_data, first_name, None, st.session_state.get(f"sep_{k}"))
    if problem:
        show_problem(plain(problem))
        return None
    sheet = None
    if len(preview.sheets) > 1:
        sheet = st.selectbox("Sheet", preview.sheets, key=f"sheet_{k}", help="Which sheet of the workbook to import.")
        with st.spinner(f"Reading sheet {sheet}…"):
            preview, problem = preview_upload(first_data, first_name, sheet)
        if problem:
            show_problem(plain(problem))
            return None

    # --- saved settings: suggested for a file of the same shape, or uploaded -------------------------
    saved_key = f"saved_{k}"
    saved = st.session_state.get(saved_key)
    known = _saved_settings().get(preview.signature)
    if saved is None and known is not None and known.kind == kind and known.fits(preview.columns):
        st.info("This file has the shape of one whose import you confirmed earlier in this session.", icon="💾")
        if st.button("Apply the saved import settings", key=f"apply_known_{k}"):
            _apply_settings(known, k, sheet)
    with st.popover("Saved import settings (JSON)"):
        up_settings = st.file_uploader("Apply saved settings", type=["json"], key=f"set_up_{k}")
        if up_settings is not None:
            try:
                loaded = ImportSettings.from_json(up_settings.getvalue())
                if loaded.kind != kind or not loaded.fits(preview.columns):
                    raise ImportProblem(
                        f"These settings are for a {loaded.kind} file with the columns "
                        f"{', '.join(c for _, c in loaded.mapping)}: not this file."
                    )
            except ImportProblem as exc:
                show_problem(plain(str(exc)))
            else:
                if st.button("Apply", key=f"apply_up_{k}"):
                    _apply_settings(loaded, k, sheet)
    separator, order, keep = _options(kind, preview, k)

    # --- mapping (confidence shown; content guesses only on confirmation) -----------------------------
    mapping_key = f"mapping_{k}_{sheet}"
    applied = st.session_state.get(mapping_key)
    results, problems = [], []
    with st.spinner(f"Importing {len(files)} file(s)…" if len(files) > 1 else f"Importing {first_name}…"):
        for name, data in files:
            res, prob = import_upload(data, kind, mapping=applied, sheet=sheet, date_order=order, keep_personal=keep,
                                      name=name, separator=separator)
            if res is not None:
                results.append(res)
            else:
                problems.append(prob)
    guesses = [g for g in preview.guesses(kind) if g.confidence == "low"] if results == [] else []
    current = results[0].report.mapping if results else (applied or suggest_mapping(preview.columns, kind))
    if guesses and applied is None:
        st.warning(
            "Guessed from the columns' content, to confirm: "
            + "; ".join(f"**{g.target}** ← `{plain(g.column)}` ({plain(g.reason)})" for g in guesses),
            icon="🔎",
        )
        if st.button("Use these guesses", key=f"guess_{k}"):
            st.session_state[mapping_key] = {**current, **{g.target: g.column for g in guesses}}
            st.rerun()
    with st.expander("Column mapping", expanded=not results):
        st.caption("Which column of your file holds each field: inferred from the headers (confidence in the "
                   "import report); change it and apply.")
        st.dataframe(preview.head, hide_index=True)
        new = mapping_form(kind, preview.columns, {**current, **{g.target: g.column for g in guesses}},
                           key=f"map_{k}")
        if new is not None:
            st.session_state[mapping_key] = new
            st.rerun()
    for prob in problems:
        show_problem(plain(prob))
    if problems:
        return None
    result = combine_results(results)
    import_report(result.report, key=k)
    settings = ImportSettings(kind, preview.signature, tuple(result.report.mapping.items()), separator, order,
                              sheet, keep)
    _saved_settings()[preview.signature] = settings
    st.download_button("⬇ Import settings (JSON)", settings.to_json(), f"import_settings_{kind}.json",
                       "application/json", key=f"set_dl_{k}", on_click="ignore",
                       help="The mapping, separator and date order confirmed here: apply them to next month's "
                       "export of the same shape in one click.")
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
    alerts = [(k, a) for k, r in results.items() for a in r.report.alerts()]
    confirmed = True
    if alerts:
        st.warning(
            "**Check this import before using it.**  \n"
            + "  \n".join(f"{SPECS[k].title}: {plain(a)}" for k, a in alerts),
            icon="🚨",
        )
        confirmed = st.checkbox("I have checked the rejected rows and totals: use this data anyway",
                                key="data_confirm_alerts")
    if st.button(f"Use this data ({tables})", type="primary", key="data_use", disabled=not confirmed):
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
