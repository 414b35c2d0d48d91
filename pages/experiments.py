"""Experiments: what the program and its campaigns really add, measured with test and control groups."""

import streamlit as st

from loyalty.experiments import MAX_STD_DIFF, MIN_GROUP_SIZE, plan_test
from loyalty.metrics import METRICS, format_number
from ui import cache, experiment_charts
from ui.scenario_editor import use_measured_uplift
from ui.state import current_dataset, program_inputs
from ui.text import md_escape, plain
from ui.widgets import download_table, metric_tile, missing_table_notice, page_header

page_header(
    "Experiments",
    "Incrementality: what campaigns and the program add beyond what members would have spent anyway. A test "
    "group gets the campaign, a randomly chosen control group does not; the difference is the effect. "
    "Spend = amounts in the window, returns included; a member without a purchase counts as 0.",
)
ds = current_dataset()
inp = program_inputs()
cur = inp.currency


def money(v: float) -> str:
    return format_number(v, "money", cur)


_PLAN_KEYS = ("exp_plan_days", "exp_plan_nt", "exp_plan_nc", "exp_plan_target")


def _reset_plan() -> None:
    """A newly chosen campaign restarts the planner from its window and group sizes."""
    for key in _PLAN_KEYS:
        st.session_state.pop(key, None)


# --- campaign lift ----------------------------------------------------------------------------------
st.subheader("Campaign lift (randomised test vs control)")
selected = None
if ds.campaigns is None:
    missing_table_notice("campaigns")
else:
    analysis = cache.campaign_analysis(ds)
    lift = analysis.lift
    st.caption(f"Method: {analysis.method}")
    if analysis.problems:
        with st.expander(f"Checks of the campaigns table ({len(analysis.problems)} messages)",
                         expanded=not len(lift)):
            st.markdown("\n".join(f"- {md_escape(p)}" for p in analysis.problems))
    if len(analysis.left_out):
        st.warning(
            "Left out (not guessed):  \n"
            + "  \n".join(f"**{md_escape(r.campaign)}**: {md_escape(r.reason)}" for r in analysis.left_out.itertuples()),
            icon="⚠️",
        )
    if lift.empty:
        st.info("No campaign could be measured: see the checks above.", icon="ℹ️")
    else:
        shown = lift[["campaign", "start", "end", "n_test", "n_control", "incremental_spend_per_member", "ci_low",
                      "ci_high", "relative_lift", "incremental_revenue_total", "p_value", "variance_reduction",
                      "pre_spend_std_diff", "warnings"]]
        st.dataframe(
            shown,
            width="stretch",
            hide_index=True,
            column_config={
                "start": st.column_config.DateColumn("first day", format="YYYY-MM-DD"),
                "end": st.column_config.DateColumn("last day", format="YYYY-MM-DD"),
                "n_test": st.column_config.NumberColumn("test members", format="%d"),
                "n_control": st.column_config.NumberColumn("control members", format="%d"),
                "incremental_spend_per_member": st.column_config.NumberColumn(
                    f"incremental spend / test member ({cur})", format="%.2f",
                    help=METRICS["incremental_spend_per_member"].formula),
                "ci_low": st.column_config.NumberColumn("95% low", format="%.2f"),
                "ci_high": st.column_config.NumberColumn("95% high", format="%.2f"),
                "relative_lift": st.column_config.NumberColumn("relative lift", format="percent",
                                                               help=METRICS["relative_lift"].formula),
                "incremental_revenue_total": st.column_config.NumberColumn(
                    f"incremental revenue ({cur})", format="%.0f", help=METRICS["incremental_revenue_total"].formula),
                "p_value": st.column_config.NumberColumn("p-value", format="%.3f", help=METRICS["p_value"].formula),
                "variance_reduction": st.column_config.NumberColumn(
                    "variance removed by CUPED", format="percent", help=METRICS["variance_reduction"].formula),
                "pre_spend_std_diff": st.column_config.NumberColumn(
                    "balance (std. diff.)", format="%+.2f", help=METRICS["pre_spend_std_diff"].formula),
            },
        )
        download_table(lambda: lift, "campaign_lift", key="exp_lift_dl", label="(lift table)")
        st.altair_chart(experiment_charts.lift_overview_chart(lift, cur), width="stretch")

        names = lift["campaign"].tolist()
        name = st.selectbox("Campaign", names, key="exp_campaign", on_change=_reset_plan,
                            help="The tiles, the curves and the planner below follow this campaign.")
        selected = analysis.row(name)
        r = selected
        c1, c2, c3, c4 = st.columns(4)
        with c1:
            metric_tile(METRICS["incremental_spend_per_member"], r["incremental_spend_per_member"], currency=cur,
                        help_extra=f"95% interval {money(r['ci_low'])} to {money(r['ci_high'])}.")
        with c2:
            metric_tile(METRICS["relative_lift"], r["relative_lift"], currency=cur)
        with c3:
            metric_tile(METRICS["incremental_revenue_total"], r["incremental_revenue_total"], currency=cur)
        with c4:
            metric_tile(METRICS["p_value"], r["p_value"], currency=cur)
        c5, c6, c7, c8 = st.columns(4)
        with c5:
            metric_tile(METRICS["incremental_purchases_per_member"], r["incremental_purchases_per_member"],
                        currency=cur)
        with c6:
            metric_tile(METRICS["variance_reduction"], r["variance_reduction"], currency=cur)
        with c7:
            metric_tile(METRICS["pre_spend_std_diff"], r["pre_spend_std_diff"], currency=cur)
        with c8:
            metric_tile(METRICS["mde"], r["mde"], currency=cur,
                        help_extra="For this test's group sizes and noise (its CUPED standard error).")
        plain_w, cuped_w = r["plain_ci_high"] - r["plain_ci_low"], r["ci_high"] - r["ci_low"]
        narrowed = 1 - cuped_w / plain_w if plain_w > 0 else float("nan")
        verdict = (
            "The interval excludes 0: the campaign changed spend." if r["ci_low"] > 0 or r["ci_high"] < 0
            else "The interval includes 0: no effect can be told from noise at this size."
        )
        st.markdown(
            f"**{md_escape(name)}** ({r['start']:%d %b %Y} – {r['end']:%d %b %Y}, {r['days']} days): "
            f"{r['n_test']:,} test and {r['n_control']:,} control members. Incremental spend per test member "
            f"**{md_escape(money(r['incremental_spend_per_member']))}** (95%: {md_escape(money(r['ci_low']))} to "
            f"{md_escape(money(r['ci_high']))}). Without CUPED: {md_escape(money(r['plain_difference']))} "
            f"({md_escape(money(r['plain_ci_low']))} to {md_escape(money(r['plain_ci_high']))}); CUPED narrowed "
            f"the interval by {narrowed:.0%}. {verdict}"
        )
        if r["warnings"]:
            st.warning(plain(r["warnings"]), icon="⚠️")
        curves = cache.campaign_curves(ds, name)
        if len(curves):
            st.altair_chart(experiment_charts.lift_curves_chart(curves, cur), width="stretch")
            st.altair_chart(experiment_charts.lift_difference_chart(curves, cur), width="stretch")
            download_table(lambda: curves, f"campaign_curves_{name}"[:60], key="exp_curves_dl", label="(curves)")
        label = (
            f"measured: {name} ({r['start']:%Y-%m-%d} – {r['end']:%Y-%m-%d}), CUPED lift "
            f"{r['relative_lift']:+.1%} of control spend"
        )
        if st.button("Use this lift in the simulator", key="exp_use_lift",
                     help="Sets the spend uplift of every what-if scenario (not the baseline) to this campaign's "
                     "measured relative lift, labelled with where it comes from."):
            used = use_measured_uplift(float(r["relative_lift"]), label)
            st.success(f"The what-if simulator's scenarios now assume a spend uplift of {used:+.1%} "
                       f"({md_escape(label)}).", icon="✅")

# --- planning the next test -------------------------------------------------------------------------
st.subheader("Plan the next test")
st.caption(
    "From this program's own spend: the noise of spend per member over a window of the planned length (the last "
    "such window of the data) and how much of it CUPED removes. "
    f"Under {MIN_GROUP_SIZE} members per group or beyond a balance of ±{MAX_STD_DIFF} the results above are flagged."
)
p1, p2, p3 = st.columns(3)
default_days = int(selected["days"]) if selected is not None else 28
days = int(p1.number_input("Window (days)", 1, 365, default_days, key="exp_plan_days"))
population = p2.radio("Population", ["active", "all"], key="exp_plan_pop", horizontal=True,
                      format_func={"active": "active in the last 12 months", "all": "all members"}.get)
variance = cache.spend_variance(ds, days, population)
if variance.members < 3:
    st.info("Too few members with a purchase to measure the noise of spend.", icon="ℹ️")
else:
    default_n = int(selected["n_test"]) if selected is not None else max(variance.members // 2, 2)
    default_c = int(selected["n_control"]) if selected is not None else max(variance.members // 2, 2)
    q1, q2, q3 = st.columns(3)
    n_test = int(q1.number_input("Test members", 2, 10_000_000, default_n, key="exp_plan_nt"))
    n_control = int(q2.number_input("Control members", 2, 10_000_000, default_c, key="exp_plan_nc"))
    target = float(q3.number_input(f"Target effect ({cur} per test member over the window)", 0.01, 1e6,
                                   float(round(max(variance.mean * 0.05, 0.01), 2)), key="exp_plan_target"))
    plan = plan_test(variance, n_test, n_control, target)
    t1, t2, t3, t4 = st.columns(4)
    with t1:
        metric_tile(METRICS["mde"], plan.mde_plain, currency=cur, label="Minimum detectable effect (plain)")
    with t2:
        metric_tile(METRICS["mde"], plan.mde_cuped, currency=cur, label="Minimum detectable effect (CUPED)",
                    help_extra=f"{plan.mde_relative_cuped:.1%} of the mean spend per member over the window.")
    with t3:
        metric_tile(METRICS["members_needed"], float(sum(plan.needed_plain)), currency=cur,
                    label="Members needed (plain)")
    with t4:
        metric_tile(METRICS["members_needed"], float(sum(plan.needed_cuped)), currency=cur,
                    label="Members needed (CUPED)",
                    help_extra=f"{plan.needed_cuped[0]:,} test + {plan.needed_cuped[1]:,} control.")
    st.caption(
        f"Measured on {variance.members:,} {variance.population} over {variance.window_start:%d %b %Y} – "
        f"{variance.window_end:%d %b %Y}: mean spend per member {md_escape(money(variance.mean))}, standard "
        f"deviation {md_escape(money(variance.sd))}; correlation with the 12 months before "
        f"{variance.pre_correlation:.2f}, so CUPED removes {variance.variance_reduction:.0%} of the variance. "
        f"To detect {md_escape(money(target))} per test member: {plan.needed_cuped[0]:,} test + "
        f"{plan.needed_cuped[1]:,} control members with CUPED ({plan.needed_plain[0]:,} + {plan.needed_plain[1]:,} "
        "without), 80% power, 5% two-sided."
    )

# --- without a randomised test: the event study -------------------------------------------------------
st.subheader("Without a test: event study by enrolment month (observational)")
es = cache.event_study(ds)
if not es.identified:
    st.info(f"No event-study estimate for this data. {es.reason}", icon="ℹ️")
else:
    e1, e2, e3 = st.columns(3)
    with e1:
        metric_tile(METRICS["event_study_att"], es.att, currency=cur,
                    help_extra=f"95% interval {money(es.att_ci_low)} to {money(es.att_ci_high)}.")
    with e2:
        st.metric("Relative to spend without the program", format_number(es.att_relative, "pct"), border=True,
                  help="Effect / the enrolled members' monthly spend minus the effect.")
    with e3:
        st.metric("Pre-enrolment months flat? (p-value)", format_number(es.pre_trend_p, "num"), border=True,
                  help="Joint test that the months before enrolment (-6 to -2) are 0: under 0.05 casts doubt on "
                  "parallel trends.")
    st.altair_chart(experiment_charts.event_study_chart(es.coefficients, cur), width="stretch")
    for note in es.notes:
        st.warning(plain(note), icon="⚠️")
    st.markdown(
        f"**Observational, not randomised.** {md_escape(es.method)} {es.members:,} members in {es.cohorts} enrolment "
        "cohorts. Assumptions:\n" + "\n".join(f"- {md_escape(a)}" for a in es.assumptions)
    )
    download_table(lambda: es.coefficients, "event_study", key="exp_es_dl", label="(coefficients)")

st.caption(
    "The KPI dashboard's ROI uses the best of these: randomised campaigns in its period, else this event study, "
    "else the redeemer uplift (an upper bound)."
)
