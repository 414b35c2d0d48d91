"""KPI dashboard: every program KPI for a period, against the previous period or the same period last year."""

import math

import pandas as pd
import streamlit as st

from loyalty.kpis import kpi_comparison, kpi_notes, kpi_table
from loyalty.kpis.series import (
    filter_members,
    member_guest_comparison,
    redeemer_comparison,
)
from loyalty.metrics import KPI_GROUPS, METRICS, group_keys
from loyalty.periods import COMPARISON_BASES
from ui import cache, charts
from ui.state import (
    current_dataset,
    keep_view,
    program_inputs,
    query_param,
    segment_filter,
    set_query_param,
    view_choice,
)
from ui.widgets import (
    download_table,
    metric_tile,
    missing_tables_panel,
    needs_table_caption,
    page_header,
    period_picker,
    show_problem,
)

page_header(
    "KPI dashboard",
    "Membership, sales, points, value and voice KPIs for a period, compared with the previous period of the "
    "same length or the same period last year. Hover the ⓘ of a tile for its formula.",
)
ds = current_dataset()
inp = program_inputs()
cur_sym = inp.currency
if ds.transactions.empty:
    show_problem("This dataset has no transactions, so there is nothing to measure. Upload transactions on the Data page.")
    st.stop()

# --- period and comparison (kept for the session and in the URL) -----------------------------------
c_period, c_prev = st.columns([2, 3])
start, end = period_picker(
    ds,
    "kpi_period",
    "Period (both days included)",
    "Default: the last 12 months of data. KPIs are compared with the same number of days just before, or "
    "with the same days a year earlier.",
    container=c_period,
)
if "kpi_vs" not in st.session_state:
    st.session_state["kpi_vs"] = view_choice("kpi_vs", COMPARISON_BASES, "previous")
basis = c_prev.radio("Compare with", list(COMPARISON_BASES), key="kpi_vs", horizontal=True,
                     format_func=lambda b: COMPARISON_BASES[b].capitalize())
keep_view("kpi_vs", basis)
set_query_param("kpi_vs", None if basis == "previous" else basis)
cmp = kpi_comparison(ds, start, end, basis)
compared = f"{cmp.label} **{cmp.start:%d %b %Y} – {cmp.end:%d %b %Y}** ({cmp.days} days)"
c_prev.caption(
    (f"Compared with the {compared}. " if cmp.available else
     f"**No comparison**: the {compared} is not covered by the data ({cmp.missing}), so no change is shown. ")
    + f"Point value {cur_sym}{inp.point_value:g}/point · gross margin {inp.gross_margin:.0%} · platform "
    f"cost {cur_sym}{inp.monthly_platform_cost:,.0f}/month (sidebar). Changes: relative; for rates, in "
    "percentage points (pp); for scores, in points (pts)."
)

# --- member filters (tier/channel/region when present; kept in the URL) ---------------------
options = cache.filter_options(ds)
chosen: dict[str, list[str]] = {}
if options:
    fcols = st.columns(len(options))
    for col, (name, values) in zip(fcols, options.items(), strict=True):
        key = f"kpi_f_{name}"
        if key not in st.session_state:
            st.session_state[key] = [v for v in (query_param(f"kpi_{name}", "") or "").split("|") if v in values]
        st.session_state[key] = [v for v in st.session_state[key] if v in values]  # drop stale options
        chosen[name] = col.multiselect(f"Member {name}", values, key=key)
        set_query_param(f"kpi_{name}", "|".join(chosen[name]) or None)
members_filter = filter_members(ds, **chosen)
seg = segment_filter()
if seg is not None:
    members_filter = seg if members_filter is None else members_filter & seg
if members_filter is not None:
    st.caption(
        f"Filtered to {len(members_filter):,} members: member KPIs and revenue cover them only; guest figures "
        "stay unfiltered as the comparison group."
    )

# --- KPIs -----------------------------------------------------------------------------------
kw = dict(point_value=inp.point_value, margin=inp.gross_margin, monthly_platform_cost=inp.monthly_platform_cost)
with st.spinner("Computing KPIs…"):
    cur = cache.compute_kpis(ds, str(start), str(end), members_filter=members_filter, **kw)
    # No comparison KPIs when the data does not cover the comparison period (kpi_comparison says why).
    prev = None
    if cmp.available:
        prev = cache.compute_kpis(ds, str(cmp.start.date()), str(cmp.end.date()), members_filter=members_filter,
                                  **kw)
notes = kpi_notes(ds, end, cur, members_filter=members_filter)
missing = set(ds.missing())


def _tile(key: str) -> None:
    m = METRICS[key]
    value = cur.get(key, math.nan)
    extra = f"Needs the {m.needs} table: upload it on the Data page." if math.isnan(value) and m.needs in missing else ""
    metric_tile(m, value, (prev or {}).get(key, math.nan), currency=cur_sym, help_extra=extra,
                no_comparison=cmp.missing)


missing_tables_panel([k for k in ("members", "ledger", "surveys", "costs", "campaigns") if k in missing])
GROUP_NOTES = {"Points": notes["breakage"], "Value": notes["roi"] + " " + notes["clv"]}
for group in KPI_GROUPS:
    keys = group_keys(group)
    st.subheader(group)
    for i in range(0, len(keys), 4):
        for col, key in zip(st.columns(4), keys[i : i + 4], strict=False):
            with col:
                _tile(key)
    needs = {METRICS[k].needs for k in keys if math.isnan(cur.get(k, math.nan))}
    for kind in sorted(needs & missing):
        if not (kind == "ledger" and not math.isnan(cur["points_issued"])):
            needs_table_caption(kind)
    if group in GROUP_NOTES:
        st.caption(GROUP_NOTES[group])

table = kpi_table(cur, prev)
with st.expander("All KPIs as a table (with formulas)"):
    st.dataframe(table, hide_index=True, width="stretch")
download_table(table, f"kpis_{start}_{end}", label="KPI table", key="dl_kpi_table")

# --- charts ---------------------------------------------------------------------------------
st.subheader("Trends and breakdowns")
monthly = cache.monthly_series(ds, str(start), str(end), members_filter=members_filter)
tabs = st.tabs(["Sales & members", "Points", "Cohorts", "Tiers & balances", "Comparisons"])


def _chart(chart, data: pd.DataFrame, name: str) -> None:
    st.altair_chart(chart, width="stretch")
    download_table(data, name, label="chart data", key=f"dl_{name}")


with tabs[0]:
    _chart(charts.revenue_active_chart(monthly, cur_sym), monthly[["month", "revenue", "transactions",
           "active_members"]], "monthly_revenue_active")
    if ds.members is None:
        needs_table_caption("members")
    else:
        _chart(charts.new_members_chart(monthly), monthly[["month", "new_members", "members_total",
               "member_growth_rate"]], "monthly_new_members")
with tabs[1]:
    pts = monthly[["month", "points_issued", "points_redeemed", "points_expired", "points_outstanding"]]
    if pts["points_issued"].isna().all() and pts["points_redeemed"].isna().all():
        needs_table_caption("ledger")
    else:
        _chart(charts.points_flow_chart(pts), pts, "monthly_points")
        _chart(charts.outstanding_chart(pts), pts[["month", "points_outstanding"]], "monthly_points_outstanding")
with tabs[2]:
    basis = cache.cohort_basis(ds)
    cohorts = cache.cohort_retention(ds, members_filter=members_filter)
    st.caption(f"Cohort = {basis}; cell = share of the cohort with >= 1 purchase that month (month 0 = joining month).")
    if cohorts.empty:
        st.info("No cohorts to show for this selection.")
    else:
        _chart(charts.cohort_heatmap(cohorts, basis), cohorts, "cohort_retention")
with tabs[3]:
    tiers = cache.tier_distribution(ds, members_filter=members_filter)
    if tiers.empty:
        if ds.members is None:
            needs_table_caption("members")
        else:
            st.info("The members table has no tier column.")
    else:
        _chart(charts.share_bar_chart(tiers, "tier", "Members by current tier", "Tier"), tiers, "tier_distribution")
    bal = cache.points_balance_distribution(ds, str(end), members_filter=members_filter)
    if bal.empty:
        needs_table_caption("ledger")
    else:
        _chart(charts.share_bar_chart(bal, "band", f"Members by points balance on {end:%d %b %Y}",
               "Points balance (points)"), bal, "points_balance_distribution")
with tabs[4]:
    mg = member_guest_comparison(cur)
    _chart(charts.comparison_bars(mg, {"aov": (f"AOV ({cur_sym}/purchase)", ",.2f"),
           "revenue": (f"Revenue ({cur_sym})", ",.0f"), "revenue_share": ("Share of revenue (%)", ".0%")},
           "Members vs guests in the period"), mg, "member_vs_guest")
    rc = redeemer_comparison(cur)
    if rc["members"].isna().all():
        needs_table_caption("ledger")
    else:
        _chart(charts.comparison_bars(rc, {"spend_per_member": (f"Spend per member ({cur_sym})", ",.0f"),
               "frequency": ("Purchases per member", ",.1f"), "aov": (f"AOV ({cur_sym}/purchase)", ",.2f")},
               "Active redeemers vs non-redeemers in the period"), rc, "redeemer_vs_non_redeemer")
        st.caption(
            f"Redeemers spent {cur['redeemer_uplift']:+.0%} per member vs non-redeemers. Members who redeem were "
            "already heavier buyers (selection bias): this is a correlation, not the program's causal effect."
        )
