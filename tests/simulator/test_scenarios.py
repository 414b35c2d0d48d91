"""Presets, comparison table, sensitivity sweep, inferred baseline and the behaviour layer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loyalty.schema import Dataset
from loyalty.simulator import (
    PRESETS,
    compare,
    infer_baseline_rules,
    prepare,
    presets,
    redemptions_from_ledger,
    replay,
    sensitivity,
    with_param,
)
from loyalty.simulator.behaviour import BehaviourAssumptions, behaviour_factors, project, scenario_economics
from loyalty.simulator.rules import SAMPLE_RULES, ExpiryPolicy, RewardRules, RulesError


def _tx(rows):
    df = pd.DataFrame(rows, columns=["member_id", "timestamp", "amount"])
    df["member_id"] = df["member_id"].astype("str")
    df["timestamp"] = pd.to_datetime(df["timestamp"]).astype("datetime64[ns]")
    return df


@pytest.fixture(scope="module")
def sample():
    from loyalty import load_sample

    return load_sample()


@pytest.fixture(scope="module")
def prepared(sample):
    return prepare(sample.transactions, redemptions_from_ledger(sample.ledger))


def test_presets_change_what_they_say():
    p = presets(SAMPLE_RULES)
    assert tuple(p) == PRESETS
    assert p["Devalue points 20%"].point_value == pytest.approx(0.008)
    top = p["Add a top tier"].tiers[-1]
    assert (top.name, top.threshold, top.multiplier) == ("Platinum", 3000.0, 2.0)
    assert p["Extend expiry to 24 months"].expiry == ExpiryPolicy("inactivity", 24, 30)
    assert p["Add a 30-day grace period"].expiry.grace_days == 60
    assert p["Double points for Gold"].tiers[-1].multiplier == 3.0
    assert all(r.name == k for k, r in p.items())
    # from a bare program without expiry
    bare = presets(RewardRules())
    assert bare["Add a 30-day grace period"].expiry == ExpiryPolicy("inactivity", 12, 30)
    assert bare["Add a top tier"].tiers[-1].threshold == 1000.0


def test_compare_has_deltas_in_units_and_percent():
    t = _tx([("A", "2024-01-01", 100.0), ("A", "2024-02-01", 100.0)])
    base = RewardRules(point_value=0.01)
    red = pd.DataFrame({"member_id": ["A"], "timestamp": [pd.Timestamp("2024-02-02")], "points": [150.0]})
    res = {"Base": replay(t, base, red), "Dear": replay(t, RewardRules(point_value=0.02), red)}
    df = compare(res, "Base").set_index("kpi")
    assert df.loc["reward_cost", "Base"] == pytest.approx(1.5)
    assert df.loc["reward_cost", "Δ Dear"] == pytest.approx(1.5)
    assert df.loc["reward_cost", "Δ% Dear"] == pytest.approx(100.0)
    assert np.isnan(df.loc["points_expired", "Δ% Dear"])  # baseline 0
    assert "members_Base" in df.index
    with pytest.raises(ValueError, match="Baseline"):
        compare(res, "nope")


def test_sensitivity_sweeps_one_parameter(prepared):
    df = sensitivity(prepared, SAMPLE_RULES, "point_value", [0.005, 0.01, 0.02])
    assert df["reward_cost"].tolist() == pytest.approx([v * df["points_redeemed"].iloc[0] for v in (0.005, 0.01, 0.02)])
    g = sensitivity(prepared, SAMPLE_RULES, "grace_days", [0, 30, 90])
    assert g["points_expired"].is_monotonic_decreasing
    bad = sensitivity(prepared, SAMPLE_RULES, "expiry_months", [0, 12])
    assert bad["error"].iloc[0] and not bad["error"].iloc[1]
    with pytest.raises(ValueError, match="Unknown"):
        with_param(SAMPLE_RULES, "nope", 1)
    with pytest.raises(RulesError):
        with_param(RewardRules(), "top_threshold", 5)


def test_inferred_baseline_recovers_the_sample_rules(sample):
    rules, notes = infer_baseline_rules(sample, point_value=0.01)
    assert rules.earn_rate == 1.0
    assert [(t.name, t.threshold, t.multiplier) for t in rules.tiers] == [
        (t.name, t.threshold, t.multiplier) for t in SAMPLE_RULES.tiers
    ]
    assert rules.expiry == SAMPLE_RULES.expiry
    assert rules.min_redemption == 500
    assert any("assumed" in n for n in notes) and any("inferred" in n for n in notes)


def test_inferred_baseline_without_points_data_uses_stated_defaults():
    ds = Dataset(_tx([("A", "2024-01-01", 10.0)]))
    rules, notes = infer_baseline_rules(ds)
    assert rules.earn_rate == 1.0 and rules.expiry.mode == "none" and len(rules.tiers) == 1
    assert any("assumed 1 point" in n for n in notes)
    assert any("'none'" in n for n in notes)


# -- behaviour layer --------------------------------------------------------------------
def test_assumptions_default_to_no_reaction_and_validate():
    a = BehaviourAssumptions()
    assert (a.spend_elasticity, a.tier_reach_uplift, a.redemption_elasticity) == (0, 0, 0)
    with pytest.raises(RulesError) as exc:
        BehaviourAssumptions(tier_reach_uplift=2)
    assert exc.value.field == "tier_reach_uplift"
    with pytest.raises(RulesError):
        BehaviourAssumptions(horizon_months=48)


def test_factors_follow_the_elasticities(prepared):
    base = replay(prepared, SAMPLE_RULES)
    dear = replay(prepared, with_param(SAMPLE_RULES, "point_value", 0.02))
    spend = float(prepared.tx_amount[prepared.tx_amount > 0].sum())
    none = behaviour_factors(base, dear, spend, BehaviourAssumptions())
    assert none["spend_factor"] == 1.0 and none["redemption_factor"] == 1.0
    f = behaviour_factors(base, dear, spend, BehaviourAssumptions(spend_elasticity=0.5, redemption_elasticity=1.0))
    assert f["effective_rate_scenario"] == pytest.approx(2 * f["effective_rate_baseline"])
    assert f["spend_factor"] == pytest.approx(2**0.5)
    assert f["redemption_factor"] == pytest.approx(2.0)
    econ = scenario_economics(base, dear, prepared, BehaviourAssumptions(), 0.3)
    assert econ["incremental_margin"] == 0 and econ["incremental_cost"] > 0 and econ["roi"] == pytest.approx(-1.0)


def test_projection_band_is_ordered_labelled_and_reproducible(prepared, sample):
    a = BehaviourAssumptions(spend_elasticity=0.3, horizon_months=6)
    dev = presets(SAMPLE_RULES)["Devalue points 20%"]
    p1 = project(prepared, SAMPLE_RULES, dev, a, n_boot=200, random_state=1)
    p2 = project(prepared, SAMPLE_RULES, dev, a, n_boot=200, random_state=1)
    pd.testing.assert_frame_equal(p1.band, p2.band)
    assert p1.layer == "projection" and set(p1.band["layer"]) == {"projection"}
    assert (p1.band["p10"] <= p1.band["p50"]).all() and (p1.band["p50"] <= p1.band["p90"]).all()
    assert p1.band["month_ahead"].max() == 6
    # no reaction, same rules: nothing incremental
    p0 = project(sample, SAMPLE_RULES, SAMPLE_RULES, n_boot=50)
    s = p0.summary.set_index("metric")
    assert s.loc["net_benefit", ["p10", "p90"]].tolist() == [0.0, 0.0]
    assert (s.loc["outstanding", "p10"]) > 0


# -- scenario files and links -------------------------------------------------------------
def test_scenarios_json_and_link_round_trip():
    from loyalty.simulator import decode_scenarios, encode_scenarios, scenarios_from_json, scenarios_to_json

    items = [(SAMPLE_RULES, BehaviourAssumptions()), *((r, BehaviourAssumptions(0.2, 0.1, -0.5, 6)) for r in list(presets(SAMPLE_RULES).values())[:4])]
    assert scenarios_from_json(scenarios_to_json(items)) == items
    code = encode_scenarios(items)
    assert decode_scenarios(code) == items
    assert all(ch.isalnum() or ch in "-_" for ch in code) and len(code) < 2000


@pytest.mark.parametrize(
    "text, message",
    [
        ("{oops", "not valid JSON"),
        ('{"scenarios": []}', "no 'scenarios'"),
        ('{"scenarios": [{"rules": {"earn_rate": -1}}]}', "Scenario 1: Earn rate cannot be negative"),
        ('{"scenarios": [{"rules": {}, "assumptions": {"bogus": 1}}]}', "Scenario 1: unexpected"),
        ('{"scenarios": [' + ",".join(['{"rules": {}}'] * 6) + "]}", "At most 5"),
    ],
)
def test_bad_scenario_files_are_explained(text, message):
    from loyalty.simulator import scenarios_from_json

    with pytest.raises(RulesError, match=message):
        scenarios_from_json(text)


def test_damaged_link_is_a_rules_error():
    from loyalty.simulator import decode_scenarios

    for code in ("x", "not-a-valid-code", "eJyLjgUAARUAuQ"):
        with pytest.raises(RulesError, match="damaged"):
            decode_scenarios(code)
