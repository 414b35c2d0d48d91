"""Report: one click to a self-contained HTML strategy report, and every table as Excel."""

import pandas as pd
import streamlit as st

from loyalty.clv import PERIOD_DAYS
from loyalty.members.segmentation import DEFAULT_COLUMNS, rename
from loyalty.report.sections import ReportSegments
from loyalty.simulator.rules import RulesError
from ui import cache
from ui.scenario_editor import from_link
from ui.scenario_editor import scenarios as editor_scenarios
from ui.state import (
    clv_view,
    current_dataset,
    current_scenarios,
    current_segments,
    program_inputs,
    pseudonymise_exports,
    query_param,
    segment_filter,
)
from ui.widgets import page_header, period_picker, show_problem

page_header(
    "Report",
    "One click builds a strategy-session report: a single HTML file that opens offline (charts are embedded "
    "images, no scripts, no network) and an Excel workbook with every table of the report.",
)
ds = current_dataset()
inp = program_inputs()
fp = ds.fingerprint
if ds.transactions.empty:
    show_problem("This dataset has no transactions, so there is nothing to report. Upload transactions on the Data page.")
    st.stop()

# --- this session's choices first (period from the KPI dashboard, horizon and discount from the Customer
# value page), the link's second, else the defaults ------------------------------------------------------
start, end = period_picker(
    ds,
    "report_period",
    "KPI period (both days included)",
    "Default: the period chosen on the KPI dashboard in this session, else the link's, else the last 12 "
    "months of data. KPIs are compared with the same number of days just before.",
)
horizon, discount_pct = clv_view()
discount = discount_pct / 100

# --- what goes in ------------------------------------------------------------------------------------
published = current_segments()


def _scenarios() -> list:
    """The simulator's rule sets: as last published, else from a shared link (``sc``), else as stored."""
    if current_scenarios():
        return list(current_scenarios())
    if query_param("sc"):
        try:
            return [r for r, _ in from_link(query_param("sc"))]
        except RulesError as exc:
            show_problem(f"The scenarios in this link were ignored: {exc}")
    return [item["rules"] for item in editor_scenarios()]


scen_rules = _scenarios()
if published is not None:
    labels, names = published
    h = int(pd.util.hash_pandas_object(labels, index=True).sum())
    segments_key = f"user:{len(names)}:{h}:{sorted(names.items())!r}"
    seg_text = f"your segmentation from the Segments page ({len(names)} segments, with your names)"
else:
    segments_key = "recommended"
    seg_text = "the recommended segmentation (no segmentation made on the Segments page in this session)"
if len(scen_rules) > 1:
    scen_text = f"your {len(scen_rules)} What-if simulator scenarios (the first is the baseline)"
elif scen_rules:
    scen_text = "the What-if simulator's baseline compared with the strategy presets"
else:
    scen_text = "the baseline inferred from the data compared with the strategy presets"

st.markdown(
    f"""**The report will include**, each section with definitions, the dataset's name and date range:
- **KPI summary** for {start:%d %b %Y} – {end:%d %b %Y}: every KPI with the previous period, the change and its
  formula; monthly revenue and active members; points issued, redeemed and expired.
- **Segments**: {seg_text}: sizes, revenue shares, names, suggested actions, profiles and stability.
- **Customer value**: classic CLV and BG/NBD + Gamma-Gamma CLV by segment over {horizon} months (discount
  {discount:.0%}/year, gross margin {inp.gross_margin:.0%}), top members, model parameters and fit diagnostics.
- **Scenario comparison**: {scen_text}, replayed on the history.
"""
)
if segment_filter() is not None:
    st.caption("The report covers all members: the sidebar segment filter does not apply to it.")
pseudo = pseudonymise_exports()
st.caption(
    "Member ids are pseudonymised in both files (sidebar setting)." if pseudo
    else "Member ids appear as in the data; turn on 'Pseudonymise member ids in exports' in the sidebar to hide them."
)


def _segments() -> ReportSegments:
    """The session's segmentation (full profile when it is the default-feature K-means), else the recommended one."""
    feats = cache.member_features(ds)
    cols = tuple(c for c in DEFAULT_COLUMNS if c in feats.columns)
    source = "Segmentation chosen on the Segments page"
    if published is not None:
        labels, names = published
        try:
            base = cache.segmentation(ds, len(names), cols)
        except ValueError:
            base = None
        if base is not None and base.labels.equals(labels):
            return ReportSegments.from_segmentation(rename(base, names), source)
        return ReportSegments.from_labels(feats, labels, names, source)
    kc = cache.k_choice(ds, cols)
    return ReportSegments.from_segmentation(cache.segmentation(ds, kc.recommended, cols),
                                            f"Recommended segmentation: {kc.reason}")


args = (str(start), str(end), inp, (horizon, discount), segments_key, tuple(scen_rules) or None, pseudo)
build_key = (fp, ds.name, *args)

if st.button("Build report", type="primary", key="report_build"):
    try:
        with st.status("Building the report…", expanded=True) as status:
            st.write("Member features and segments…")
            segs = _segments()
            st.write("Customer value models…")
            cache.clv_models(ds, PERIOD_DAYS)
            st.write("KPIs, scenario replays, charts and the Excel workbook…")
            cache.report_files(ds, *args, _segments=lambda: segs)
            status.update(label="Report ready", state="complete", expanded=False)
    except ValueError as exc:  # bad rules or data the engines refuse: say why, no traceback
        show_problem(f"The report could not be built: {exc}")
        st.stop()
    st.session_state["report_key"] = build_key

if st.session_state.get("report_key") == build_key:
    with st.spinner("Preparing the files…"):  # a cache hit unless the entry expired
        html, xlsx = cache.report_files(ds, *args, _segments=_segments)
    stem = f"loyalty_report_{start}_{end}"
    c1, c2 = st.columns(2)
    c1.download_button("⬇ HTML report", data=html, file_name=f"{stem}.html", mime="text/html",
                       key="report_dl_html", on_click="ignore", type="primary")
    c2.download_button("⬇ Every table as Excel (one sheet per table)", data=xlsx, file_name=f"{stem}_tables.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       key="report_dl_xlsx", on_click="ignore")
    st.caption(f"HTML {len(html) / 1024:,.0f} KB · Excel {len(xlsx) / 1024:,.0f} KB. The HTML opens in any browser, "
               "offline; print it to PDF from the browser if needed.")
elif st.session_state.get("report_key") is not None:
    st.info("The period, inputs, segments or scenarios changed since the last build: build the report again.")
