"""Points & liability: earn-cohort breakage (chain-ladder URR) with its backtest, three liability views,
IFRS 15 deferred revenue, point economics and the points about to expire."""

import math

import pandas as pd
import streamlit as st

from loyalty.economics import WINDOWS, expiring_by_month, expiring_members, expiring_summary, liability_views
from loyalty.economics.liability import VIEW_FORMULAS
from loyalty.metrics import METRICS
from ui import cache, points_charts
from ui.state import current_dataset, program_inputs, query_param, set_query_param
from ui.widgets import download_table, md_escape, metric_tile, page_header, show_problem

page_header(
    "Points & liability",
    "What the points still held will cost, estimated the way a finance team does: every redemption and expiry "
    "is attributed, oldest points first, to the month the points were earned, and a chain-ladder develops each "
    "earn month to its ultimate redemption rate. The backtest below checks the method on your own history.",
)
ds = current_dataset()
inp = program_inputs()
cur = inp.currency
if not ds.transactions["member_id"].notna().any():
    show_problem("This dataset has no member transactions, so there are no points to analyse.")
    st.stop()

with st.spinner("Attributing every point to its earn month (once per dataset)…"):
    rules, _ = cache.baseline_rules(ds, inp.point_value)
    result = cache.replay(ds, rules)
    est = cache.points_breakage(ds, rules)
    pe = cache.points_economics(ds, rules, inp.point_value)
    sched = cache.points_ifrs15(ds, rules, inp.point_value)

if ds.ledger is None:
    st.info(
        "No points ledger: the figures come from the replay of your transactions under the inferred rules "
        f"(**{md_escape(rules.name or 'baseline')}**, see the What-if simulator). Upload the ledger for the "
        "program's own redemptions and expiries.",
        icon="📎",
    )
for msg in est.issues.messages():
    st.warning(md_escape(msg), icon="⚠️")

# --- breakage and point economics ------------------------------------------------------------------
st.subheader("Breakage by earn cohort")
c = st.columns(4)
with c[0]:
    metric_tile(METRICS["urr"], est.urr)
with c[1]:
    metric_tile(METRICS["breakage_rate"], est.outstanding_breakage)
with c[2]:
    metric_tile(METRICS["points_outstanding"], est.outstanding)
with c[3]:
    metric_tile(METRICS["cost_per_point"], pe.cost_per_point, currency=cur,
                help_extra=f"{cur}{pe.cost_per_point:.4f} per point; {pe.cost_per_point_source}.")
c = st.columns(3)
with c[0]:
    metric_tile(METRICS["effective_reward_rate"], pe.effective_reward_rate)
with c[1]:
    metric_tile(METRICS["reward_attainability"], pe.reward_attainability,
                help_extra=f"Smallest redemption: {pe.smallest_redemption:,.0f} points.")
with c[2]:
    metric_tile(METRICS["days_to_first_reward"], pe.days_to_first_reward)
st.caption(md_escape(est.method))

# --- three liability views ----------------------------------------------------------------------------
st.subheader("Liability: three views")
deferred = float(sched["deferred_revenue"].iloc[-1]) if len(sched) else math.nan
views = liability_views(est.outstanding, inp.point_value, est.outstanding_breakage, pe.cost_per_point, deferred)
c = st.columns(3)
with c[0]:
    metric_tile(METRICS["liability_naive"], views.naive, currency=cur, help_extra=VIEW_FORMULAS["naive"])
with c[1]:
    metric_tile(METRICS["liability"], views.urr_adjusted, currency=cur, help_extra=VIEW_FORMULAS["urr_adjusted"])
with c[2]:
    metric_tile(METRICS["liability_ifrs15"], views.ifrs15_deferred, currency=cur, help_extra=VIEW_FORMULAS["ifrs15"])
vt = views.table()
st.dataframe(vt, hide_index=True, width="stretch",
             column_config={"value": st.column_config.NumberColumn(f"Value ({cur})", format="%.2f")})
download_table(vt, "liability_views", label="liability views")

# --- triangle ---------------------------------------------------------------------------------------------
st.subheader("Earn-cohort development")
tri = cache.points_triangle(ds, rules)
if tri.empty:
    st.info("No points were issued yet, so there is no development to show.")
else:
    measures = {"redeemed_share": "Share redeemed", "expired_share": "Share expired", "open_share": "Share still open"}
    default = query_param("tri", "redeemed_share")
    pick = st.radio("Show", list(measures), index=list(measures).index(default) if default in measures else 0,
                    format_func=measures.get, horizontal=True, key="pts_tri")
    set_query_param("tri", pick)
    st.altair_chart(points_charts.triangle_heatmap(tri, pick), width="stretch")
    with st.expander("Age-to-age factors and cohorts", expanded=False):
        st.dataframe(est.factors, hide_index=True, width="stretch")
        st.dataframe(est.by_cohort, hide_index=True, width="stretch")
    download_table(tri, "earn_cohort_triangle", label="triangle")

# --- backtest -----------------------------------------------------------------------------------------
st.subheader("Backtest on your history")
bt = cache.points_backtest(ds, rules)
if bt.empty:
    st.info("The history is too short for a backtest.")
else:
    ok = bt["estimate"].notna()
    if ok.any():
        st.altair_chart(points_charts.backtest_chart(bt[ok]), width="stretch")
    show = bt.drop(columns=["method"]).rename(columns={
        "months_before_end": "months before end", "estimate": "estimated breakage", "urr": "URR",
        "realised_lower": "realised (at least)", "realised_upper": "realised (at most)"})
    st.dataframe(show, hide_index=True, width="stretch")
    st.caption(
        "At each cutoff the estimate is made with the data up to it, then compared with what happened to the points "
        "outstanding then: at least the share that expired later, at most that plus the share still open today. "
        "A blank estimate means the cohorts were too young at that date."
    )
    download_table(bt, "breakage_backtest", label="backtest")

# --- IFRS 15 -----------------------------------------------------------------------------------------------
st.subheader("IFRS 15 deferred revenue")
if sched.empty:
    st.info("Not computed: no month-end estimate of the redemption rate could be made yet.")
else:
    st.altair_chart(points_charts.ifrs15_chart(sched, cur), width="stretch")
    st.caption(
        "Member sales are allocated between the goods and the points at issuance by relative stand-alone selling "
        "price (points × point value × expected redemption rate); revenue is recognised as points are redeemed "
        "(cumulative redeemed / expected redemptions), with a cumulative catch-up when the URR estimate changes "
        "(IFRS 15, Illustrative Example 52). Months before the first estimate use it (column rate_source)."
    )
    download_table(sched, "ifrs15_schedule", label="IFRS 15 schedule")

# --- expiring points -------------------------------------------------------------------------------------
st.subheader("Points about to expire")
op = result.open_points
as_of = result.end
if op["expires_at"].notna().sum() == 0:
    st.info("Under the inferred rules points never expire, so nothing is about to expire.")
else:
    summ = expiring_summary(op, as_of, inp.point_value)
    c = st.columns(3)
    with c[0]:
        metric_tile(METRICS["points_expiring_30d"], float(summ.loc[summ["within_days"] == 30, "points"].iloc[0]))
    with c[1]:
        metric_tile(METRICS["points_expiring_90d"], float(summ.loc[summ["within_days"] == 90, "points"].iloc[0]))
    with c[2]:
        st.metric("Members with points expiring in 90 days", f"{int(summ['members'].iloc[-1]):,}", border=True,
                  help="Members with open points whose expiry date falls in the 90 days after the data end.")
    st.altair_chart(points_charts.expiring_chart(expiring_by_month(op, as_of, 12, inp.point_value), cur),
                    width="stretch")
    w_default = query_param("exp", "90")
    window = st.radio("Reminder list: points expiring within", list(WINDOWS), horizontal=True, key="pts_window",
                      index=list(WINDOWS).index(int(w_default)) if w_default in {str(w) for w in WINDOWS} else 2,
                      format_func=lambda d: f"{d} days")
    set_query_param("exp", window)
    lst = expiring_members(op, as_of, window, inp.point_value)
    st.dataframe(lst, hide_index=True, width="stretch",
                 column_config={"value": st.column_config.NumberColumn(f"Value ({cur})", format="%.2f")})
    download_table(lst, f"points_expiring_{window}d", label="reminder list")
    extra = st.select_slider("Grace period to add (days)", options=[15, 30, 60, 90], value=30, key="pts_grace")
    g = cache.grace_saving(ds, rules, int(extra))
    share = g["saved_share"]
    pts = float(lst["points"].sum())
    if math.isnan(share):
        st.caption("Nothing expired in the history, so the effect of a longer grace period cannot be measured.")
    else:
        st.markdown(
            f"Replayed on your history, **{extra} more days of grace** would have saved **{share:.1%}** of the "
            f"points that expired ({g['saved']:,.0f} points). Applied to the {pts:,.0f} points expiring within "
            f"{window} days, that is about **{share * pts:,.0f} points** ({cur}{share * pts * inp.point_value:,.2f}) "
            "kept by members who come back in time: a grace period or a reminder before expiry is the usual remedy."
        )
    st.caption(
        f"As of {pd.Timestamp(as_of):%d %b %Y}, under the inferred rules ({md_escape(rules.expiry.mode)} expiry, "
        f"{rules.expiry.months} months + {rules.expiry.grace_days} days of grace): each date is when the points "
        "expire if the member does nothing more."
    )
