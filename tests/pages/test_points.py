"""The Points & liability page: breakage tiles, three liability views, triangle, backtest, IFRS 15 and
the expiring-points list, on the sample and on a dataset without a ledger."""

from __future__ import annotations

import pytest

import loyalty
from loyalty.economics import backtest_breakage, estimate_breakage
from loyalty.metrics import METRICS
from tests.pages.apptest import open_app_page


def _metric(at, label: str):
    return next(m for m in at.metric if m.label == label)


@pytest.fixture(scope="module")
def at():
    return open_app_page("points.py")


def test_tiles_show_the_cohort_estimate(at):
    e = estimate_breakage(loyalty.load_sample())
    assert _metric(at, METRICS["urr"].label).value == f"{e.urr:.1%}"
    assert _metric(at, METRICS["breakage_rate"].label).value == f"{e.outstanding_breakage:.1%}"
    for key in ("liability_naive", "liability", "liability_ifrs15", "cost_per_point", "reward_attainability",
                "days_to_first_reward", "effective_reward_rate", "points_expiring_30d", "points_expiring_90d"):
        assert _metric(at, METRICS[key].label).value != "—", key
    assert "chain-ladder" in " ".join(c.value for c in at.caption)


def test_tables_and_downloads(at):
    frames = [df.value for df in at.dataframe]
    views = next(f for f in frames if "view" in f.columns)
    assert list(views["view"]) == ["Naive (face value)", "URR-adjusted (expected cost)", "IFRS 15 deferred revenue"]
    bt = next(f for f in frames if "realised (at least)" in f.columns)
    want = backtest_breakage(loyalty.load_sample())
    assert bt["months before end"].tolist() == [6, 12, 18] and bt["inside"].all()
    assert bt["estimated breakage"].tolist() == pytest.approx(want["estimate"].tolist())
    reminder = next(f for f in frames if "days_left" in f.columns)
    assert len(reminder) > 0 and (reminder["days_left"] <= 90).all()
    labels = [b.label for b in at.get("download_button")]
    for what in ("liability views", "triangle", "backtest", "IFRS 15 schedule", "reminder list"):
        assert f"⬇ CSV {what}" in labels, what
    assert len(at.get("vega_lite_chart")) >= 4


def test_window_choice_changes_the_list_and_the_link(at):
    at.radio(key="pts_window").set_value(30).run()
    assert not at.exception
    reminder = next(df.value for df in at.dataframe if "days_left" in df.value.columns)
    assert (reminder["days_left"] <= 30).all()
    assert at.query_params["exp"] in ("30", ["30"])


def test_without_a_ledger_the_replay_is_used():
    ds = loyalty.load_sample()
    at = open_app_page("points.py", dataset=ds.replace(ledger=None, name="No ledger"))
    assert any("No points ledger" in i.value for i in at.info)
    # the replay has no historical redemption to replay, so the estimate is not invented
    assert _metric(at, METRICS["breakage_rate"].label).value == "—"
    assert "Not estimated" in " ".join(c.value for c in at.caption)
    assert _metric(at, METRICS["liability_naive"].label).value != "—"
