"""Classic CLV's lifespan cap made visible, and per-segment P(alive) without one-time buyers (by hand)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loyalty.clv import LIFESPAN_CAP_YEARS, clv_by_segment, clv_simple, clv_summary, expected_lifespan_years


def test_lifespan_capped_rule():
    from loyalty.clv import lifespan_capped

    assert lifespan_capped(0.0)  # nobody lapsed: the lifespan is the cap
    assert lifespan_capped(0.05)  # 1 / 0.05 = 20 years > 10
    assert not lifespan_capped(0.1)  # 1 / 0.1 = 10 years: the cap is reached, not imposed
    assert not lifespan_capped(0.25)
    assert not lifespan_capped(float("nan"))  # unknown churn: no lifespan at all, nothing capped
    assert lifespan_capped(0.25, cap=2.0)  # 4 years > a 2-year cap
    # The flag says exactly when the lifespan is the cap rather than 1 / churn.
    for churn in (0.0, 0.01, 0.05, 0.1, 0.2, 0.5, 1.0):
        assert lifespan_capped(churn) == (churn == 0 or expected_lifespan_years(churn) < 1 / churn)


def _features() -> pd.DataFrame:
    """Segment "recent": 2 exposed members, none lapsed (churn 0); "mixed": 1 lapsed of 2 (churn 0.5);
    "new": nobody with tenure > 365 days (churn unknown)."""
    return pd.DataFrame(
        {
            "frequency": [4, 6, 2, 1, 3],
            "monetary": [400.0, 300.0, 100.0, 50.0, 90.0],
            "tenure_days": [730.5, 730.5, 365.25 * 2, 730.5, 100.0],
            "recency_days": [10.0, 30.0, 400.0, 20.0, 5.0],
        },
        index=pd.Index(list("abcde"), name="member_id"),
    )


def test_clv_simple_flags_the_capped_lifespan():
    f = _features()
    groups = pd.Series(["recent", "recent", "mixed", "mixed", "new"], index=f.index)
    res = clv_simple(f, groups, margin=1.0)
    t = res.table
    assert {"lifespan_capped", "churn_exposed"} <= set(t.columns)
    # recent: a, b exposed, none lapsed -> churn 0 -> lifespan = the cap, flagged
    assert t.loc["recent", "churn_exposed"] == 2 and t.loc["recent", "annual_churn"] == 0
    assert t.loc["recent", "lifespan_years"] == LIFESPAN_CAP_YEARS
    assert bool(t.loc["recent", "lifespan_capped"])
    # CLV = AOV 700 / 10 x purchases per year 10 / 4 x 10 years: the cap's figure, shown as such
    assert t.loc["recent", "clv"] == pytest.approx(70 * 2.5 * 10)
    # mixed: c lapsed (400 days), d not -> churn 0.5 -> 2 years, not capped
    assert t.loc["mixed", "annual_churn"] == pytest.approx(0.5) and not t.loc["mixed", "lifespan_capped"]
    # new: nobody exposed -> churn unknown -> no lifespan, no CLV, and not "capped"
    assert t.loc["new", "churn_exposed"] == 0 and np.isnan(t.loc["new", "clv"])
    assert not t.loc["new", "lifespan_capped"]
    # All members: 1 lapsed of 4 exposed -> 0.25 -> 4 years
    assert t.loc["All members", "annual_churn"] == pytest.approx(0.25)
    assert not t.loc["All members", "lifespan_capped"]
    assert res.capped_groups == ("recent",)
    note = res.cap_note()
    assert "recent (annual churn 0.0%)" in note and "capped at 10 years" in note and "not measured" in note
    # A lifespan given by the user is an assumption, never flagged as the cap.
    given = clv_simple(f, groups, lifespan_years=10.0)
    assert not given.table["lifespan_capped"].any() and given.cap_note() == ""


def _values() -> pd.DataFrame:
    """customer_value-like rows: segment 0 has two repeat buyers (0.4, 0.6) and a one-time buyer (1.0)."""
    return pd.DataFrame(
        {
            "clv": [10.0, 20.0, 5.0, 3.0],
            "p_alive": [0.4, 0.6, 1.0, 1.0],
            "one_time_buyer": [False, False, True, True],
        },
        index=pd.Index(["a", "b", "c", "d"], name="customer_id"),
    )


def test_clv_by_segment_p_alive_leaves_out_one_time_buyers():
    labels = pd.Series([0, 0, 0, 1, 1], index=["a", "b", "c", "d", "e"])  # e: no purchase, not modelled
    out = clv_by_segment(_values(), labels, {0: "Regulars", 1: "Newcomers"})
    assert "mean_p_alive" not in out.columns
    r, n = out.loc["Regulars"], out.loc["Newcomers"]
    # (0.4 + 0.6) / 2, not (0.4 + 0.6 + 1.0) / 3 = 0.667: the one-time buyer's P(alive) = 1 is by construction
    assert r["p_alive_repeat"] == pytest.approx(0.5) and r["one_time_buyers"] == 1
    assert r["members"] == 3 and r["without_purchase"] == 0 and r["total_clv"] == pytest.approx(35)
    # Newcomers: one one-time buyer (d) and one member without a purchase (e): no repeat buyer -> no P(alive)
    assert np.isnan(n["p_alive_repeat"]) and n["one_time_buyers"] == 1 and n["without_purchase"] == 1
    assert n["mean_clv"] == pytest.approx(1.5)  # (3 + 0) / 2
    # Same rule as the page's overall tile: (0.4 + 0.6) / 2 over the repeat buyers.
    assert clv_summary(_values()).loc[0, "p_alive_repeat"] == pytest.approx(0.5)
