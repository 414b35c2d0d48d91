"""The replayed history as a points ledger: on the sample it is the sample's own ledger, row for row, and
its earn-cohort estimate is the ledger's; a longer grace period saves what the replay says."""

from __future__ import annotations

from dataclasses import replace

import pytest

import loyalty
from loyalty.economics import estimate_breakage
from loyalty.simulator import (
    SAMPLE_RULES,
    ExpiryPolicy,
    grace_saving,
    prepare,
    redemptions_from_ledger,
    replay_ledger,
)


@pytest.fixture(scope="module")
def ds():
    return loyalty.load_sample()


def test_replayed_ledger_is_the_sample_ledger(ds):
    prep = prepare(ds.transactions, redemptions_from_ledger(ds.ledger))
    got = replay_ledger(prep, SAMPLE_RULES)
    assert list(got.columns) == ["member_id", "timestamp", "event", "points"]
    key = ["member_id", "timestamp", "event"]
    a = got.sort_values(key, kind="stable").reset_index(drop=True)
    b = ds.ledger.sort_values(key, kind="stable").reset_index(drop=True)
    assert (a["member_id"] == b["member_id"]).all() and (a["timestamp"] == b["timestamp"]).all()
    assert (a["event"] == b["event"]).all() and (a["points"] == b["points"]).all()
    assert estimate_breakage(got, source="replay").urr == pytest.approx(estimate_breakage(ds).urr, rel=1e-12)


def test_grace_saving(ds):
    prep = prepare(ds.transactions, redemptions_from_ledger(ds.ledger))
    g = grace_saving(prep, SAMPLE_RULES, 30)
    assert g["expired"] == -ds.ledger.loc[ds.ledger["event"] == "expire", "points"].sum()
    assert 0 < g["saved"] < g["expired"] and g["saved_share"] == pytest.approx(g["saved"] / g["expired"])
    never = grace_saving(prep, replace(SAMPLE_RULES, expiry=ExpiryPolicy("none")), 30)
    assert never["saved"] == 0 and never["expired"] == 0
