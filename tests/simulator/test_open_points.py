"""``SimulationResult.open_points`` equals a plain per-member loop (the oracle) on generated programs,
for every expiry mode, and adds up to the outstanding balances."""

from __future__ import annotations

import pandas as pd
from hypothesis import given

from loyalty.simulator import replay
from tests.simulator.oracle import replay_reference
from tests.simulator.test_replay_properties import ENDS, SETTINGS, histories, rule_sets


def _rows(df: pd.DataFrame) -> list[tuple]:
    return sorted(
        (m, round(float(p), 6), None if pd.isna(t) else pd.Timestamp(t))
        for m, p, t in zip(df["member_id"], df["points"], df["expires_at"], strict=True)
    )


@SETTINGS
@given(histories(), rule_sets(), ENDS)
def test_open_points_equal_a_plain_loop(data, rules, end):
    tx, rd = data
    ref = replay_reference(tx, rules, rd, end)
    got = replay(tx, rules, rd, end=end)
    want = sorted(
        (mid, round(float(p), 6), None if t is None else pd.Timestamp(t))
        for mid, m in ref["members"].items()
        for p, t in m["open"]
    )
    op = got.open_points
    assert list(op.columns) == ["member_id", "points", "expires_at"]
    assert _rows(op) == want
    assert op["points"].sum() == got.totals.points_outstanding
    # expiry dates are after the end: what is due has expired
    assert (op["expires_at"].dropna() > got.end).all()
