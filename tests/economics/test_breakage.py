"""Breakage by earn cohort on the sample program: the backtest evidence, too-young cohorts, as_of,
the replay's own ledger, and the three liability views."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

import loyalty
from loyalty.economics import (
    backtest_breakage,
    estimate_breakage,
    liability_views,
    month_end_estimates,
    point_economics,
    program_ifrs15,
)
from loyalty.simulator import SAMPLE_RULES, ExpiryPolicy, prepare, redemptions_from_ledger, replay


@pytest.fixture(scope="module")
def ds():
    return loyalty.load_sample()


def test_backtest_puts_the_estimate_inside_the_realised_bounds(ds):
    bt = backtest_breakage(ds)
    assert bt["months_before_end"].tolist() == [6, 12, 18]
    assert bt["cutoff"].dt.strftime("%Y-%m-%d").tolist() == ["2026-04-30", "2025-10-31", "2025-04-30"]
    assert bt["inside"].all(), bt.drop(columns="method")
    assert (bt["realised_lower"] <= bt["realised_upper"]).all()
    # the fate of the outstanding points adds up
    np.testing.assert_allclose(bt["redeemed_later"] + bt["expired_later"] + bt["still_open"], bt["outstanding"])


def test_the_issue_headline_figures(ds):
    """At 2024-12-31 at least 48.9 % of the outstanding points later expired; the cohorts were too young then."""
    bt = backtest_breakage(ds, (22,))
    assert bt["cutoff"].iloc[0] == pd.Timestamp("2024-12-31 23:59:59")
    assert round(bt["realised_lower"].iloc[0], 3) == 0.489
    e = estimate_breakage(ds, "2024-12-31")
    assert math.isnan(e.outstanding_breakage) and math.isnan(e.urr)
    assert "too young" in e.method and "2 earn month(s)" in e.method
    assert e.outstanding == bt["outstanding"].iloc[0]


def test_estimate_at_the_data_end(ds):
    e = estimate_breakage(ds)
    assert e.as_of == pd.Timestamp("2026-10-31 22:58")
    assert 0.5 < e.outstanding_breakage < 0.7 and 0.6 < e.urr < 0.75
    led = ds.ledger
    assert e.outstanding == led["points"].sum()  # every point attributed: no adjustment, no overdraft
    assert e.issued == led.loc[led["event"] == "earn", "points"].sum()
    bc = e.by_cohort
    assert len(bc) == 36 and (bc["method"] == "chain-ladder").all()
    assert bc["future_redeemed"].sum() == pytest.approx((1 - e.outstanding_breakage) * e.outstanding)
    assert (bc["ultimate_redeemed"] <= bc["redeemed"] + bc["open"] + 1e-9).all()
    assert "chain-ladder" in e.method and "tail" in e.method


def test_as_of_uses_only_the_data_up_to_it(ds):
    e1 = estimate_breakage(ds, "2025-10-31")
    cut = ds.ledger[ds.ledger["timestamp"] < pd.Timestamp("2025-11-01")]
    e2 = estimate_breakage(cut)
    assert e1.outstanding_breakage == pytest.approx(e2.outstanding_breakage, rel=1e-12)
    assert e1.urr == pytest.approx(e2.urr, rel=1e-12)
    me = month_end_estimates(ds).set_index("month")
    assert me.loc["2025-10-01", "outstanding_breakage"] == pytest.approx(e1.outstanding_breakage, rel=1e-12)


def test_no_ledger_and_bad_ledgers_say_why(ds):
    e = estimate_breakage(ds.replace(ledger=None))
    assert math.isnan(e.value) and "needs a points ledger" in e.method
    young = ds.ledger[ds.ledger["timestamp"] < pd.Timestamp("2024-03-01")]
    assert "too young" in estimate_breakage(young).method
    bad = pd.concat([ds.ledger, pd.DataFrame({"member_id": pd.Series(["ZZ"], dtype="str"),
                                              "timestamp": [pd.Timestamp("2024-01-01")],
                                              "event": pd.Series(["redeem"], dtype="str"), "points": [-700.0]})])
    e = estimate_breakage(bad)
    assert e.issues.before_first_earn == 1 and e.issues.unmatched_points == 700
    assert "before the member's first earn" in e.method and np.isfinite(e.value)


def test_the_replayed_history_gives_the_same_estimate_and_never_expire_is_not_zero(ds):
    prep = prepare(ds.transactions, redemptions_from_ledger(ds.ledger))
    r = replay(prep, SAMPLE_RULES)
    e = estimate_breakage(ds)
    assert r.totals.breakage_rate == pytest.approx(e.outstanding_breakage, rel=1e-12)
    assert r.breakage.source == "replay" and "replayed history" in r.breakage.method
    never = replay(prep, replace(SAMPLE_RULES, expiry=ExpiryPolicy("none")))
    assert never.totals.points_expired == 0 and never.totals.breakage_rate > 0.3  # dormant points
    fixed = replay(prep, replace(SAMPLE_RULES, expiry=ExpiryPolicy("fixed", 12, 30)))
    assert fixed.breakage.tail == 1.0 and "horizon" in fixed.breakage.method
    t = r.totals
    assert t.liability == pytest.approx(t.points_outstanding * (1 - t.breakage_rate) * SAMPLE_RULES.point_value)


def test_three_liability_views_on_the_sample(ds):
    e = estimate_breakage(ds)
    pe = point_economics(ds, 0.01)
    assert pe.cost_per_point == pytest.approx(0.0115, rel=1e-3)  # rewards rows carry a 15 % fulfilment overhead
    deferred = program_ifrs15(ds, 0.01)["deferred_revenue"].iloc[-1]
    v = liability_views(e.outstanding, 0.01, e.outstanding_breakage, pe.cost_per_point, deferred)
    assert v.naive == pytest.approx(e.outstanding * 0.01)
    assert v.urr_adjusted == pytest.approx(e.outstanding * (1 - e.outstanding_breakage) * pe.cost_per_point)
    assert 0 < v.urr_adjusted < v.naive and 0 < v.ifrs15_deferred < v.naive
    assert list(v.table()["view"]) == ["Naive (face value)", "URR-adjusted (expected cost)", "IFRS 15 deferred revenue"]
    # the KPI page shows the same liability at the data end
    k = loyalty.compute_kpis(ds, "2025-11-01", "2026-10-31", 0.01)
    assert k["breakage_rate"] == pytest.approx(e.outstanding_breakage, rel=1e-12)
    assert k["liability"] == pytest.approx(v.urr_adjusted, rel=1e-9)


def test_point_economics_on_the_sample(ds):
    pe = point_economics(ds, 0.01, min_redemption=500)
    assert pe.smallest_redemption == 500 and point_economics(ds, 0.01).smallest_redemption == 500
    assert 0 < pe.reward_attainability < 1 and pe.days_to_first_reward > 0
    assert pe.effective_reward_rate == pytest.approx(pe.earn_rate * 0.01)
    none = point_economics(ds.replace(ledger=None, costs=None), 0.01)
    assert math.isnan(none.reward_attainability) and none.cost_per_point_source == "no points ledger"
