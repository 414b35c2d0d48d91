"""What-if simulator: replay the program's history under new reward rules, side by side."""

from dataclasses import replace

import numpy as np
import pandas as pd
import streamlit as st

from loyalty.metrics import REPLAY_KEYS, UNIT_NAMES, definitions
from loyalty.simulator import (
    MAX_SCENARIOS,
    PRESETS,
    SENSITIVITY_PARAMS,
    compare,
    encode_scenarios,
    presets,
    scenarios_from_json,
    scenarios_to_json,
    with_param,
)
from loyalty.simulator.behaviour import BehaviourAssumptions
from loyalty.simulator.rules import RewardRules, RulesError
from ui import cache, sim_charts
from ui import scenario_editor as ed
from ui.state import current_dataset, program_inputs, publish_scenarios, query_param, set_query_param
from ui.widgets import download_table, md_escape, page_header, show_problem

page_header(
    "What-if simulator",
    "**Replay** (exact): your transaction and redemption history replayed under each rule set — what these rules "
    "would have cost on past behaviour. **Projection** (assumed): how members might react, under the behaviour "
    "assumptions you set (default: no reaction). Every figure says which layer it comes from.",
)
ds = current_dataset()
if not ds.transactions["member_id"].notna().any():
    show_problem("This dataset has no member transactions, so there is nothing to replay.")
    st.stop()
fp = ds.fingerprint
inputs = program_inputs()
cur = inputs.currency
with st.spinner("Preparing the history (once per dataset)…"):
    prep = cache.prepared_history(ds)
    baseline, base_notes = cache.baseline_rules(ds, inputs.point_value)
problem = ed.init_scenarios(baseline, query_param("sc"), fp)
if problem:
    show_problem(md_escape(problem))
with st.expander("How the baseline was inferred from the data", expanded=False):
    for note in (*base_notes, *prep.notes):
        st.text(f"• {note}")
    if ds.ledger is None:
        st.caption("No points ledger: historical redemptions are unknown, so replays redeem nothing.")

# --- presets, files ------------------------------------------------------------------------------
st.subheader("Scenarios")
st.caption(f"The first column is the baseline; add up to {MAX_SCENARIOS - 1} scenarios from a preset or a copy.")
labels = [*PRESETS, "Copy of baseline"]
pcols = st.columns(3)
for i, label in enumerate(labels):
    col = pcols[i % 3]
    if col.button(label, key=f"sim_preset_{label}", width="stretch"):
        first = st.session_state.get("sim_last_baseline") or baseline  # the baseline as last edited
        new = presets(first)[label] if label in PRESETS else replace(first, name="Scenario")
        if ed.add_scenario(new):
            st.rerun()
        show_problem(f"At most {MAX_SCENARIOS} scenarios (the baseline + {MAX_SCENARIOS - 1}). Remove one first.")

top = st.container()  # the comparison, filled once the editors below have been read
items = ed.scenarios()
edited: list[tuple[dict, RewardRules | None, BehaviourAssumptions]] = []
cols = st.columns(len(items))
for col, item in zip(cols, items, strict=True):
    with col.container(border=True):
        st.markdown("**Baseline**" if item is items[0] else "**Scenario**")
        rules, assumptions = ed.rules_editor(item, st)
        edited.append((item, rules, assumptions))
        if item is not items[0] and st.button("Remove", key=f"sim_rm_{item['id']}"):
            ed.remove_scenario(item["id"])
            st.rerun()

if edited[0][1] is not None:
    st.session_state["sim_last_baseline"] = edited[0][1]
valid = [(r, a) for _, r, a in edited if r is not None]
publish_scenarios([r for r, _ in valid])  # the report builds on the rule sets shown here
if len(valid) == len(edited):
    set_query_param("sc", encode_scenarios(valid))
f1, f2 = st.columns(2)
f1.download_button("⬇ Scenarios (JSON)", scenarios_to_json(valid), "scenarios.json", "application/json",
                   on_click="ignore", help="Save these rule sets and assumptions; upload them later or share them.")
up = f2.file_uploader("Upload scenarios (JSON)", type=["json"], key="sim_upload")
if up is not None and st.session_state.get("sim_upload_done") != up.file_id:
    st.session_state["sim_upload_done"] = up.file_id
    try:
        ed.set_scenarios(scenarios_from_json(up.getvalue()))
        st.rerun()
    except RulesError as exc:
        show_problem(md_escape(f"{up.name}: {exc}"))

if edited[0][1] is None:
    st.info("Fix the baseline's inputs (see the message in its column) to see the comparison.")
    st.stop()
names = []
for _, r, _ in edited:
    if r is not None and r.name in names:
        show_problem(f"Two scenarios are named '{md_escape(r.name)}': give each a different name.")
        st.stop()
    if r is not None:
        names.append(r.name)
with st.spinner("Replaying the history under each rule set…"):
    results = {r.name: cache.replay(ds, r) for _, r, _ in edited if r is not None}
base_name = names[0]

# --- comparison ----------------------------------------------------------------------------------
table = compare(results, base_name)
with top:
    st.subheader("Comparison (replay)")
    if len(results) < len(edited):
        st.warning("A scenario with invalid inputs is left out of the comparison until they are fixed (see the "
                   "message in its column).", icon="⚠️")
    st.caption(f"History up to {results[base_name].end:%d %b %Y}. Δ = scenario − baseline; Δ% relative to the "
               "baseline. Edit the scenarios below; each column's rules are replayed on the whole history.")
    show = table.drop(columns=["kpi"]).rename(columns={"label": "KPI", "unit": "Unit"})
    show["Unit"] = show["Unit"].map(UNIT_NAMES)
    # Numbers stay numbers (sortable, exact); an unknown value is an empty cell, never "None".
    config = {c: st.column_config.NumberColumn(c, format="localized") for c in show.columns if c not in ("KPI", "Unit")}
    config.update({c: st.column_config.NumberColumn(c, format="%+.1f%%") for c in show.columns if c.startswith("Δ% ")})
    st.dataframe(show, hide_index=True, width="stretch", key="sim_table", column_config=config)
    with st.expander("Definitions"):
        st.text("\n".join(f"{label}: {formula}" for label, formula in definitions(REPLAY_KEYS)))
    download_table(table, "scenario_comparison", key="sim_dl")

st.subheader("Charts")
c1, c2 = st.columns(2)
c1.altair_chart(sim_charts.cost_liability_chart(table, names, cur), width="stretch")
c2.altair_chart(sim_charts.breakage_chart(table, names), width="stretch")
tiers = pd.DataFrame(
    [(n, t, c, i) for n, res in results.items() for i, (t, c) in enumerate(res.totals.members_per_tier)],
    columns=["scenario", "tier", "members", "order"],
)
c1.altair_chart(sim_charts.tier_mix_chart(tiers, names), width="stretch")
c2.caption("Tier mix: members by the tier of their qualifying spend over the window ending at the end date (rule 5).")
st.altair_chart(sim_charts.flows_chart({n: r.monthly for n, r in results.items()}), width="stretch")

# --- sensitivity -----------------------------------------------------------------------------------
st.subheader("Sensitivity sweep")


def sensitivity_section() -> None:
    s1, s2, s3 = st.columns(3)
    which = s1.selectbox("Scenario", names, key="sim_sens_scn")
    param = s2.selectbox("Parameter", list(SENSITIVITY_PARAMS), format_func=SENSITIVITY_PARAMS.get, key="sim_sens_param")
    rules_s, assume_s = next((r, a) for _, r, a in edited if r is not None and r.name == which)
    current = {"point_value": rules_s.point_value, "earn_rate": rules_s.earn_rate,
               "grace_days": rules_s.expiry.grace_days, "expiry_months": rules_s.expiry.months,
               "qualification_days": rules_s.qualification_days, "top_multiplier": rules_s.tiers[-1].multiplier,
               "top_threshold": rules_s.tiers[-1].threshold}[param]
    span = s3.slider("Range (x current value)", 0.0, 3.0, (0.5, 1.5), 0.1, key="sim_sens_span")
    grid = np.linspace(current * span[0], current * span[1], 7) if current else np.linspace(0, 10, 7)
    if param in ("grace_days", "expiry_months", "qualification_days"):
        grid = np.unique(np.maximum(np.round(grid), 0 if param == "grace_days" else 1)).astype(int)
    try:
        with_param(rules_s, param, grid[0])
    except RulesError as exc:
        show_problem(md_escape(str(exc)))
        return
    with st.spinner("Sweeping…"):
        sweep = cache.sensitivity(ds, rules_s, param, tuple(grid.tolist()), edited[0][1], assume_s,
                                  inputs.gross_margin)
    st.altair_chart(sim_charts.sensitivity_chart(sweep, SENSITIVITY_PARAMS[param], cur), width="stretch")
    st.caption("Total cost and liability: replay. Net benefit vs baseline: projection = margin on the assumed extra "
               "spend − extra cost over the last 12 months (with no reaction assumed it is simply the cost saved).")
    bad = sweep[sweep["error"] != ""]
    if len(bad):
        st.caption(f"Values skipped as invalid rules: {', '.join(map(str, bad['value']))}.")


# Each sweep is 7 replays: on big programs it runs only when asked, so editing stays snappy.
if st.toggle("Run the sensitivity sweep", value=prep.n_transactions <= 500_000, key="sim_sens_on"):
    sensitivity_section()

# --- projection ----------------------------------------------------------------------------------
st.subheader("Projection (assumed behaviour)")
if len(names) < 2:
    st.info("Add a scenario to project it against the baseline.")
else:
    which_p = st.selectbox("Scenario to project", names[1:], key="sim_proj_scn")
    rules_p, assume_p = next((r, a) for _, r, a in edited if r is not None and r.name == which_p)
    with st.spinner("Bootstrapping recent months…"):
        proj = cache.projection(ds, edited[0][1], rules_p, assume_p, inputs.gross_margin)
    st.caption(f"{' '.join(proj.notes)} Spend factor {proj.factors['spend_factor']:.3f}, redemption factor "
               f"{proj.factors['redemption_factor']:.3f} (from the assumptions in the scenario's column). "
               f"Gross margin {inputs.gross_margin:.0%} (sidebar).")
    p1, p2 = st.columns(2)
    p1.altair_chart(sim_charts.projection_chart(proj.band, "net_benefit", "Net benefit vs baseline", cur), width="stretch")
    p2.altair_chart(sim_charts.projection_chart(proj.band, "reward_cost", "Reward cost", cur), width="stretch")
    st.caption(f"At {assume_p.horizon_months} months ahead (cumulative flows; outstanding = balance then), "
               "points in points, money in currency.")
    st.dataframe(proj.summary.style.format({c: "{:,.0f}" for c in ("p10", "p50", "p90")}), hide_index=True,
                 width="stretch", key="sim_proj_table")
