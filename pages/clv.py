"""Customer value: classic CLV and the BG/NBD + Gamma-Gamma model, with a holdout check."""

import pandas as pd
import streamlit as st

from loyalty.clv import (
    PERIOD_DAYS,
    clv_by_segment,
    clv_simple,
    clv_summary,
    default_calibration_end,
    fit_diagnostics,
    p_alive_matrix,
    parameter_table,
    top_members,
)
from loyalty.metrics import METRICS
from ui import cache, model_charts
from ui.state import (
    CLV_DISCOUNT,
    CLV_HORIZON,
    clv_view,
    current_dataset,
    current_segments,
    program_inputs,
    segment_filter,
    set_query_param,
)
from ui.widgets import download_table, metric_tile, page_header, show_problem

page_header(
    "Customer value (CLV)",
    "Expected future gross margin per member. Purchases = member transactions with amount > 0; returns count in "
    "net spend only.",
)
ds = current_dataset()
inp = program_inputs()
cur = inp.currency
if ds.member_transactions.empty:
    show_problem("This dataset has no member transactions, so there is no customer value to estimate.")
    st.stop()


# --- inputs (horizon and discount kept in the URL; margin defaults to the sidebar's) --------------
c1, c2, c3 = st.columns(3)
url_horizon, url_discount = clv_view()
st.session_state.setdefault("clv_horizon", url_horizon)
st.session_state.setdefault("clv_discount", url_discount)
horizon = int(c1.slider("Horizon (months)", CLV_HORIZON[2], CLV_HORIZON[3], key="clv_horizon",
                        help="How far ahead value is counted."))
discount = c2.number_input(
    "Annual discount rate (%)", CLV_DISCOUNT[2], CLV_DISCOUNT[3], step=0.5, key="clv_discount",
    help="Future margin is discounted monthly at (1 + rate)^(1/12) - 1.",
)
margin_pct = c3.number_input(
    "Gross margin (%)", 0.0, 100.0, value=float(round(inp.gross_margin * 100, 2)), step=1.0,
    help="Default: the gross margin set in the sidebar. CLV = margin x expected spend.",
)
set_query_param(CLV_HORIZON[0], horizon)
set_query_param(CLV_DISCOUNT[0], f"{discount:g}")
margin = margin_pct / 100
members_filter = segment_filter()
if members_filter is not None:
    st.caption(f"Sidebar segment filter: showing {len(members_filter):,} members of the chosen segments.")

# --- classic CLV ------------------------------------------------------------------------------------
st.subheader(METRICS["classic_clv"].label)
feats = cache.member_features(ds)
seg = current_segments()
labels = seg[0].map(seg[1]) if seg is not None else None
simple = clv_simple(feats, labels, margin=margin)
st.caption(
    METRICS["classic_clv"].formula
    + f" (The KPI dashboard's {METRICS['revenue_clv_period'].label} uses the chosen period's retention instead.)"
)
st.dataframe(
    simple.table,
    width="stretch",
    column_config={
        "aov": st.column_config.NumberColumn(f"AOV ({cur})", format="%.2f"),
        "purchases_per_year": st.column_config.NumberColumn("purchases / year", format="%.2f"),
        "churn_exposed": st.column_config.NumberColumn(
            "churn measured on", help="Members with tenure > 365 days who purchased in the last 730 days."
        ),
        "annual_churn": st.column_config.NumberColumn("annual churn", format="percent"),
        "lifespan_years": st.column_config.NumberColumn("lifespan (years)", format="%.1f"),
        "lifespan_capped": st.column_config.CheckboxColumn(
            "lifespan capped",
            help=f"The lifespan is the {simple.lifespan_cap_years:g}-year cap, not 1 / churn.",
        ),
        "clv": st.column_config.NumberColumn(f"CLV ({cur})", format="%.2f"),
    },
)
if simple.cap_note():
    st.warning(simple.cap_note(), icon="⚠️")

# --- probabilistic CLV ------------------------------------------------------------------------------
st.subheader("Probabilistic CLV (BG/NBD + Gamma-Gamma)")
with st.spinner("Fitting the purchase and spend models…"):
    models, error = cache.clv_models(ds, PERIOD_DAYS)
if models is None:
    show_problem(f"The probabilistic model could not be fitted: {error} The classic CLV above still applies.")
    st.stop()
values = cache.clv_values(ds, PERIOD_DAYS, horizon, margin, discount / 100)
for note in models.notes:
    st.warning(note, icon="⚠️")
shown = values if members_filter is None else values[values.index.isin(members_filter)]
if shown.empty:
    st.info("No modelled member in the chosen segments (members need at least one purchase).")
    st.stop()
summary = clv_summary(shown).iloc[0]
for col, key in zip(st.columns(4), ("total_clv", "mean_clv", "p_alive_repeat", "one_time_share"), strict=True):
    with col:
        metric_tile(METRICS[key], summary[key], currency=cur)
st.caption(
    f"{len(shown):,} members with a purchase. Purchase model fitted on weekly periods, same-day purchases merged. "
    "One-time buyers are flagged in the tables and the download: their CLV is a population-level guess."
)
with st.expander("Model parameters"):
    b, g = models.bgnbd, models.gamma_gamma
    st.dataframe(parameter_table(models), hide_index=True)
    st.dataframe(fit_diagnostics(models), hide_index=True)
    st.caption(
        f"BG/NBD on {b.n_customers:,} members (purchase rate ~ Gamma(r, alpha) per week, drop-out after a purchase "
        f"~ Beta(a, b)); Gamma-Gamma on {g.n_customers:,} repeat buyers (spend-frequency correlation "
        f"{g.spend_frequency_corr:+.2f})."
    )

c1, c2 = st.columns(2)
c1.altair_chart(model_charts.clv_histogram(shown, cur), width="stretch")
s = models.summary
matrix = p_alive_matrix(models.bgnbd, int(s["frequency"].quantile(0.95)), float(s["T"].max()))
c2.altair_chart(model_charts.p_alive_heatmap(matrix, "weeks"), width="stretch")
c2.caption("For a member who first bought at the start of the data: recent, frequent buyers are most likely active.")

st.markdown("**Top members by CLV**")
st.dataframe(
    top_members(shown, 20),
    hide_index=True,
    width="stretch",
    column_config={
        "clv": st.column_config.NumberColumn(f"CLV ({cur})", format="%.2f"),
        "p_alive": st.column_config.NumberColumn("P(alive)", format="%.2f"),
        "expected_purchases": st.column_config.NumberColumn(f"purchases next {horizon} mo", format="%.1f"),
        "expected_spend": st.column_config.NumberColumn(f"spend / purchase ({cur})", format="%.2f"),
        "frequency": st.column_config.NumberColumn("repeat purchase days", help="Days with a purchase after the "
                                                   "first one (same-day purchases merged)."),
    },
)

st.markdown("**CLV by segment**")
if seg is None:
    st.info("Create segments on the Segments page to see customer value by segment.")
else:
    by_seg = clv_by_segment(values, seg[0], seg[1])
    c1, c2 = st.columns([2, 3])
    c1.altair_chart(model_charts.clv_segment_chart(by_seg, cur), width="stretch")
    c2.dataframe(
        by_seg,
        width="stretch",
        column_config={
            "share_of_clv": st.column_config.NumberColumn(format="percent"),
            "one_time_buyers": st.column_config.NumberColumn("one-time buyers"),
            "p_alive_repeat": st.column_config.NumberColumn(
                "P(alive), repeat buyers", format="%.2f", help=METRICS["p_alive_repeat"].formula
            ),
        },
    )
    c2.caption(
        "Members without any purchase are in their segment with CLV 0 (column without_purchase). P(alive) is "
        "averaged over repeat buyers only: the model gives one-time buyers P(alive) = 1 by construction, so "
        "they are counted apart (one-time buyers)."
    )

download_table(
    lambda: shown.reset_index().rename(columns={"customer_id": "member_id"}), "member_clv", label="per-member CLV"
)

# --- calibration / holdout check ------------------------------------------------------------------
st.subheader("Does the model predict well here? Calibration / holdout check")
first, last = (t.date() for t in ds.date_range())
default_end = default_calibration_end(ds).date()
cal_end = st.date_input(
    "Calibration window ends on", value=default_end, min_value=first, max_value=last,
    help="The model is refitted on purchases up to this day and predicts each member's purchases afterwards.",
)
if st.toggle("Run the check", key="clv_run_check"):
    with st.spinner("Refitting on the calibration window…"):
        check, err = cache.clv_calibration(ds, str(cal_end), str(pd.Timestamp(last)), PERIOD_DAYS)
    if check is None:
        show_problem(f"The check could not run: {err}")
    else:
        figures = {"holdout_actual": check.actual_total, "holdout_predicted": check.predicted_total,
                   "holdout_error": check.total_pct_error}
        for col, (key, value) in zip(st.columns(3), figures.items(), strict=True):
            with col:
                metric_tile(METRICS[key], value)
        st.altair_chart(model_charts.calibration_chart(check.table), width="stretch")
        st.caption(
            f"Mean absolute error per member: {check.mae:.2f} purchases over {check.holdout_periods:.0f} weeks. "
            "Bars close together in every bucket mean the model is fit for this program."
        )
