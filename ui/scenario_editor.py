"""Scenario editor widgets of the what-if simulator page.

A scenario lives in ``st.session_state["sim_scenarios"]`` as
``{"id": int, "rules": RewardRules, "assumptions": BehaviourAssumptions}``:
the values its widgets START from. Widgets are keyed by the scenario id, so a
new scenario (preset, upload, link) gets fresh widgets, and the edited rules
are rebuilt from the widgets on every rerun. Invalid input is reported next to
the widget it came from (the :class:`RulesError` ``field``).
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from loyalty.simulator import MAX_SCENARIOS, PRESETS, decode_scenarios, presets
from loyalty.simulator.baseline import INFERRED_NAME
from loyalty.simulator.behaviour import BehaviourAssumptions
from loyalty.simulator.rules import ExpiryPolicy, RewardRules, RulesError, Tier
from ui.state import link_dataset_mismatch
from ui.text import md_escape

STATE = "sim_scenarios"
_NEXT = "sim_next_id"
EXPIRY_LABELS = {
    "none": "Never expire",
    "inactivity": "Expire after inactivity",
    "fixed": "Each earning expires (fixed term, FIFO)",
}
TIER_COLUMNS = ["name", "threshold", "multiplier", "annual_benefit_cost"]


def _new_id() -> int:
    st.session_state[_NEXT] = st.session_state.get(_NEXT, 0) + 1
    return st.session_state[_NEXT]


def set_scenarios(items: list[tuple[RewardRules, BehaviourAssumptions]]) -> None:
    """Replace all scenarios (first = baseline); widgets restart from these values."""
    st.session_state[STATE] = [{"id": _new_id(), "rules": r, "assumptions": a} for r, a in items[:MAX_SCENARIOS]]


def scenarios() -> list[dict]:
    return st.session_state.get(STATE, [])


def add_scenario(rules: RewardRules, assumptions: BehaviourAssumptions | None = None) -> bool:
    """Append a scenario; False when the page already holds the maximum."""
    items = scenarios()
    if len(items) >= MAX_SCENARIOS:
        return False
    names = {s["rules"].name for s in items}
    name, i = rules.name or "Scenario", 2
    while name in names:
        name, i = f"{rules.name} ({i})", i + 1
    items.append({"id": _new_id(), "rules": replace(rules, name=name), "assumptions": assumptions or BehaviourAssumptions()})
    return True


def remove_scenario(sid: int) -> None:
    st.session_state[STATE] = [s for s in scenarios() if s["id"] != sid]


#: What the sender's inferred baseline is called when the link was made on other data.
LINKED_BASELINE_NAME = "Baseline (from the link)"


def from_link(code: str) -> list[tuple[RewardRules, BehaviourAssumptions]]:
    """The scenarios of a link's ``sc`` code; a damaged code raises :class:`RulesError`.

    When the link was made on other data than the session's (its ``ds`` fingerprint differs),
    the sender's "Baseline (inferred)" was inferred from *their* data, not from the data shown:
    it is renamed so it is not taken for this dataset's current rules.
    """
    items = decode_scenarios(code)
    if link_dataset_mismatch() is None or LINKED_BASELINE_NAME in {r.name for r, _ in items}:
        return items
    return [(replace(r, name=LINKED_BASELINE_NAME) if r.name == INFERRED_NAME else r, a) for r, a in items]


def init_scenarios(baseline: RewardRules, url_code: str | None, fingerprint: str) -> str | None:
    """Start from the link's scenarios when valid, else the baseline and a first preset to compare.

    Returns a problem message (damaged link) or None.
    """
    if STATE in st.session_state and st.session_state.get("sim_fp") == fingerprint:
        return None
    st.session_state["sim_fp"] = fingerprint
    if url_code:
        try:
            set_scenarios(from_link(url_code))
            return None
        except RulesError as exc:
            _default(baseline)
            return str(exc)
    _default(baseline)
    return None


def _default(baseline: RewardRules) -> None:
    first = presets(baseline)[PRESETS[0]]
    set_scenarios([(baseline, BehaviourAssumptions()), (first, _with_measured(BehaviourAssumptions()))])


#: A measured campaign lift chosen on the Experiments page: (relative uplift, label), or absent.
MEASURED_UPLIFT = "sim_measured_uplift"


def _with_measured(a: BehaviourAssumptions) -> BehaviourAssumptions:
    chosen = st.session_state.get(MEASURED_UPLIFT)
    if chosen is None:
        return a
    return replace(a, spend_uplift=chosen[0], spend_uplift_source=chosen[1])


def use_measured_uplift(uplift: float, label: str) -> float:
    """Take the spend uplift of every scenario but the baseline from a measured campaign lift (one click).

    The lift is clipped to the assumption's range (-50% .. +100%); the scenarios' sliders restart
    from it and show ``label``. Scenarios created later start from it too. Returns the value used.
    """
    value = float(min(max(uplift, -0.5), 1.0))
    st.session_state[MEASURED_UPLIFT] = (value, label[:200])
    for item in scenarios()[1:]:
        item["assumptions"] = _with_measured(item["assumptions"])
        st.session_state.pop(f"sim_{item['id']}_su", None)
    return value


def _tiers_frame(rules: RewardRules) -> pd.DataFrame:
    return pd.DataFrame([[t.name, t.threshold, t.multiplier, t.annual_benefit_cost] for t in rules.tiers], columns=TIER_COLUMNS)


def _tiers_from_frame(df: pd.DataFrame) -> tuple[Tier, ...]:
    tiers = []
    for i, row in enumerate(df.itertuples(index=False), 1):  # a handful of tier rows, not data rows
        try:
            name = "" if pd.isna(row.name) else str(row.name)
            vals = [float("nan") if pd.isna(v) else float(v) for v in (row.threshold, row.multiplier, row.annual_benefit_cost)]
            tiers.append(Tier(name, *vals))
        except RulesError as exc:
            raise RulesError(f"Tier row {i}: {exc}", exc.field) from exc
    return tuple(tiers)


def _slot_of(field: str) -> str:
    for prefix in ("tiers", "expiry", "earn_rate", "point_value", "qualification_days", "min_redemption"):
        if field.startswith(prefix):
            return prefix
    return "name"


def rules_editor(item: dict, container) -> tuple[RewardRules | None, BehaviourAssumptions | None]:
    """Draw one scenario's inputs in ``container``; returns (rules, assumptions) or None where invalid."""
    sid, r0, a0 = item["id"], item["rules"], item["assumptions"]
    k = f"sim_{sid}_"
    c = container
    slots = {}
    name = c.text_input("Scenario name", r0.name, key=k + "name", max_chars=40)
    slots["name"] = c.empty()
    earn = c.number_input("Earn rate (points per currency unit)", value=float(r0.earn_rate), step=0.1,
                          format="%.3f", key=k + "earn", help="Points earned per currency unit spent, before the tier multiplier.")
    slots["earn_rate"] = c.empty()
    pv = c.number_input("Point value (currency per point)", value=float(r0.point_value), step=0.001, format="%.4f",
                        key=k + "pv", help="What one redeemed point costs the program.")
    slots["point_value"] = c.empty()
    c.caption("Tiers (threshold = qualifying spend over the window; multiplier on the earn rate; annual benefit cost per member)")
    tiers_df = c.data_editor(_tiers_frame(r0), num_rows="dynamic", key=k + "tiers", hide_index=True, width="stretch",
                             column_config={
                                 "name": st.column_config.TextColumn("Tier"),
                                 "threshold": st.column_config.NumberColumn("Threshold", format="%.2f"),
                                 "multiplier": st.column_config.NumberColumn("Multiplier", format="%.2f"),
                                 "annual_benefit_cost": st.column_config.NumberColumn("Benefit cost / yr", format="%.2f"),
                             })
    slots["tiers"] = c.empty()
    qd = c.number_input("Qualification window (days)", value=int(r0.qualification_days), step=1, key=k + "qd",
                        help="Tier = qualifying spend over this many days before each purchase.")
    slots["qualification_days"] = c.empty()
    modes = list(EXPIRY_LABELS)
    mode = c.selectbox("Expiry", modes, index=modes.index(r0.expiry.mode), format_func=EXPIRY_LABELS.get, key=k + "mode")
    e1, e2 = c.columns(2)
    months = e1.number_input("Months", value=int(r0.expiry.months), step=1, key=k + "months", disabled=mode == "none",
                             help="Calendar months after the last activity (inactivity) or after earning (fixed).")
    grace = e2.number_input("Grace days", value=int(r0.expiry.grace_days), step=1, key=k + "grace", disabled=mode == "none",
                            help="Extra days after the months before points expire.")
    slots["expiry"] = c.empty()
    with c.expander("Behaviour assumptions (projection layer)"):
        se = st.slider("Spend elasticity", -2.0, 2.0, float(a0.spend_elasticity), 0.05, key=k + "se",
                       help="% change in member spend per % change in the effective reward rate. 0 = no reaction.")
        tu = st.slider("Extra spend of members near the next tier", 0.0, 0.5, float(a0.tier_reach_uplift), 0.01,
                       key=k + "tu", help="Fraction more spend by members within 80% of the next threshold. 0 = none.")
        re = st.slider("Redemption elasticity", -2.0, 2.0, float(a0.redemption_elasticity), 0.05, key=k + "re",
                       help="% change in points redeemed per % change in point value. 0 = no reaction.")
        hm = st.slider("Projection horizon (months)", 3, 24, int(a0.horizon_months), key=k + "hm")
        su = st.slider("Spend uplift", -0.5, 1.0, float(a0.spend_uplift), 0.005, key=k + "su", format="%.3f",
                       help="Extra member spend of this scenario (0.04 = +4%). Take it from a measured campaign lift "
                       "on the Experiments page ('Use this lift in the simulator'). 0 = none.")
        source = a0.spend_uplift_source if float(su) == float(a0.spend_uplift) else ""
        if source:
            st.caption(f"Spend uplift {float(su):+.1%}: {md_escape(source)}")
    slots["min_redemption"] = slots["name"]
    try:
        tiers = _tiers_from_frame(tiers_df)
        expiry = ExpiryPolicy(mode, int(months), int(grace))
        rules = RewardRules(earn_rate=float(earn), point_value=float(pv), tiers=tiers, qualification_days=int(qd),
                            expiry=expiry, min_redemption=r0.min_redemption, name=name.strip() or f"Scenario {sid}")
    except RulesError as exc:
        slots[_slot_of(exc.field)].error(str(exc), icon="⚠️")
        rules = None
    assumptions = BehaviourAssumptions(float(se), float(tu), float(re), int(hm), spend_uplift=float(su),
                                       spend_uplift_source=source)
    return rules, assumptions
