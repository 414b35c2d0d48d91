"""IFRS 15 loyalty points: Illustrative Example 52 reproduced to the unit, and the program schedule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import loyalty
from loyalty.economics import ifrs15_schedule, program_ifrs15

EXAMPLE_52 = pd.DataFrame(
    {
        "period": ["Year 1", "Year 2"],
        "sales": [100_000.0, 0.0],
        "points_issued": [10_000.0, 0.0],
        "points_redeemed": [4_500.0, 4_000.0],  # 4,500 then 8,500 cumulative
        "expected_redemption_rate": [0.95, 0.97],
    }
)


def test_illustrative_example_52_to_the_unit():
    s = ifrs15_schedule(EXAMPLE_52, value_per_point=1.0)
    assert list(s.columns) == ["period", "allocated_to_points", "revenue_from_points", "deferred_revenue"]
    r = s.round(0)
    assert r["allocated_to_points"].tolist() == [8_676, 0]
    assert r["revenue_from_points"].tolist() == [4_110, 3_493]
    assert r["deferred_revenue"].tolist() == [4_566, 1_073]
    # the goods get the rest of the sales: 91,324
    assert round(100_000 - s["allocated_to_points"].sum()) == 91_324


def test_catch_up_and_full_redemption():
    p = EXAMPLE_52.copy()
    p["expected_redemption_rate"] = [0.95, 0.85]  # fewer expected redemptions: 8,500 is all of them
    s = ifrs15_schedule(p, 1.0)
    assert s["deferred_revenue"].iloc[-1] == pytest.approx(0.0)
    assert s["revenue_from_points"].sum() == pytest.approx(s["allocated_to_points"].sum())


def test_bad_periods_are_refused():
    with pytest.raises(ValueError, match="columns"):
        ifrs15_schedule(EXAMPLE_52.drop(columns="sales"), 1.0)
    p = EXAMPLE_52.copy()
    p.loc[0, "expected_redemption_rate"] = np.nan
    with pytest.raises(ValueError, match="between 0 and 1"):
        ifrs15_schedule(p, 1.0)


def test_program_schedule_on_the_sample():
    ds = loyalty.load_sample()
    s = program_ifrs15(ds, 0.01)
    assert len(s) == 36 and s["period"].iloc[0] == pd.Timestamp("2023-11-01")
    led = ds.ledger
    assert s["points_issued"].sum() == led.loc[led["event"] == "earn", "points"].sum()
    assert s["points_redeemed"].sum() == -led.loc[led["event"] == "redeem", "points"].sum()
    # months before the first estimate use it, and say so
    first = s.index[s["rate_source"] == "estimated at the month end"][0]
    assert (s.loc[: first - 1, "expected_redemption_rate"] == s.loc[first, "expected_redemption_rate"]).all()
    assert s["deferred_revenue"].iloc[-1] > 0
    assert s["allocated_to_points"].sum() == pytest.approx(
        s["revenue_from_points"].sum() + s["deferred_revenue"].iloc[-1]
    )
