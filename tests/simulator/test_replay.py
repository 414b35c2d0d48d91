"""Replay semantics (issue 5, rules 1-5) on hand-computed histories, plus the
sample-ledger reproduction and the rules model (JSON, validation)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from loyalty.simulator import (
    SAMPLE_RULES,
    ExpiryPolicy,
    RewardRules,
    RulesError,
    Tier,
    history,
    prepare,
    redemptions_from_ledger,
    replay,
)
from loyalty.simulator.kernels import (
    add_months,
    clamped_running_sum,
    deadlines,
    deadlines_from_days,
    segmented_clamp_scan,
    split_days,
)
from tests.simulator.oracle import replay_reference


def tx(*rows) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["member_id", "timestamp", "amount"])
    df["member_id"] = df["member_id"].astype("str")
    df["timestamp"] = pd.to_datetime(df["timestamp"], format="ISO8601").astype("datetime64[ns]")
    df["amount"] = df["amount"].astype("float64")
    return df


def red(*rows) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["member_id", "timestamp", "points"])
    df["member_id"] = df["member_id"].astype("str")
    df["timestamp"] = pd.to_datetime(df["timestamp"], format="ISO8601").astype("datetime64[ns]")
    df["points"] = df["points"].astype("float64")
    return df


TWO_TIERS = (Tier("Base", 0.0, 1.0), Tier("Silver", 100.0, 2.0, 10.0))


def rules(**kw) -> RewardRules:
    base = {"tiers": TWO_TIERS, "qualification_days": 10}
    base.update(kw)
    return RewardRules(**base)


def totals(res) -> tuple[float, float, float, float]:
    t = res.totals
    return (t.points_issued, t.points_redeemed, t.points_expired, t.points_outstanding)


def check_reference(t, r, reds=None, end=None):
    """The vectorised replay agrees with the event loop on this case too."""
    ref = replay_reference(t, r, reds, end)["totals"]
    got = replay(t, r, reds, end=end).totals
    assert (got.points_issued, got.points_redeemed, got.points_expired, got.points_outstanding) == (
        ref["points_issued"],
        ref["points_redeemed"],
        ref["points_expired"],
        ref["points_outstanding"],
    )


# -- rule 1: qualifying spend window ------------------------------------------------
def test_window_start_is_inclusive_and_purchase_itself_excluded():
    t = tx(
        ("A", "2024-01-01 00:00", 100.0),
        ("A", "2024-01-11 00:00", 10.0),  # t0 = t - 10 days is inside [t - 10d, t): Silver, x2
        ("A", "2024-01-11 00:01", 10.0),  # t0 now outside; only 10 in window: Base
    )
    res = replay(t, rules())
    assert res.totals.points_issued == 100 + 20 + 10
    check_reference(t, rules())


def test_equal_timestamps_do_not_count_each_other():
    t = tx(
        ("A", "2024-01-01 09:00", 100.0),
        ("A", "2024-01-01 09:00", 100.0),  # same minute: strictly earlier only -> Base
        ("A", "2024-01-01 09:01", 10.0),  # 200 earlier -> Silver
    )
    assert replay(t, rules()).totals.points_issued == 100 + 100 + 20


def test_returns_count_in_spend_but_earn_nothing():
    t = tx(
        ("A", "2024-01-01", 150.0),
        ("A", "2024-01-02", -60.0),  # spend 90 afterwards
        ("A", "2024-01-03", 10.0),  # Base
    )
    res = replay(t, rules())
    assert res.totals.points_issued == 150 + 10
    m = res.members.iloc[0]
    assert m["qualifying_spend"] == pytest.approx(100.0)  # over [end - 10d, end]


def test_negative_spend_falls_back_to_first_tier():
    t = tx(("A", "2024-01-01", -50.0), ("A", "2024-01-02", 10.0))
    res = replay(t, rules())
    assert res.totals.points_issued == 10
    assert res.members["tier"].tolist() == ["Base"]


# -- rule 2: earning ---------------------------------------------------------------
def test_points_are_floored_after_rounding_to_6_decimals():
    # 1.15 * 100 = 114.99999999999999 in binary: the 6-decimal rounding makes it 115.
    t = tx(("A", "2024-01-01", 1.15), ("B", "2024-01-01", 0.99), ("C", "2024-01-01", 10.5))
    r = RewardRules(earn_rate=100.0)
    assert replay(t, r).totals.points_issued == 115 + 99 + 1050
    r = RewardRules(earn_rate=1.5)
    assert replay(t, r).totals.points_issued == 1 + 1 + 15  # 1.725, 1.485, 15.75
    check_reference(t, r)


def test_guest_rows_are_ignored_and_noted():
    t = tx(("A", "2024-01-01", 10.0), (None, "2024-01-01", 500.0))
    p = prepare(t)
    assert replay(p, RewardRules()).totals.points_issued == 10
    assert any("guest" in n for n in p.notes)


# -- rule 3: redemptions -------------------------------------------------------------
def test_redemption_capped_by_balance():
    t = tx(("A", "2024-01-01", 100.0), ("A", "2024-01-03", 50.0))
    r = red(("A", "2024-01-02", 150))
    res = replay(t, RewardRules(), r)
    assert totals(res) == (150, 100, 0, 50)
    check_reference(t, RewardRules(), r)


def test_earning_before_redemption_at_equal_timestamp():
    t = tx(("A", "2024-01-01 12:00", 100.0))
    r = red(("A", "2024-01-01 12:00", 100))
    assert totals(replay(t, RewardRules(), r)) == (100, 100, 0, 0)


def test_redemption_sign_is_ignored():
    t = tx(("A", "2024-01-01", 100.0))
    r = red(("A", "2024-01-02", -40))
    assert totals(replay(t, RewardRules(), r)) == (100, 40, 0, 60)


# -- rule 4: inactivity expiry -------------------------------------------------------
INACT_1M = ExpiryPolicy("inactivity", months=1, grace_days=0)


def test_activity_exactly_at_deadline_keeps_balance():
    # Jan 31 + 1 month = Feb 29 (2024, clipped to month end), same time of day.
    t = tx(("A", "2024-01-31 10:00", 100.0), ("A", "2024-02-29 10:00", 10.0))
    res = replay(t, RewardRules(expiry=INACT_1M))
    assert totals(res) == (110, 0, 0, 110)


def test_activity_after_deadline_expires_whole_balance_at_deadline():
    t = tx(("A", "2024-01-31 10:00", 100.0), ("A", "2024-02-29 10:01", 10.0))
    res = replay(t, RewardRules(expiry=INACT_1M))
    assert totals(res) == (110, 0, 100, 10)
    assert res.monthly.set_index("month").loc["2024-02-01", "expired"] == 100


def test_returns_are_not_activity_but_redemptions_are():
    t = tx(("A", "2024-01-01", 100.0), ("A", "2024-01-25", -5.0), ("A", "2024-03-01", 10.0))
    assert replay(t, RewardRules(expiry=INACT_1M)).totals.points_expired == 100
    r = red(("A", "2024-01-25", 5))  # a redemption on Jan 25 moves the deadline to Feb 25
    res = replay(t, RewardRules(expiry=INACT_1M), r)
    assert totals(res) == (110, 5, 95, 10)
    check_reference(t, RewardRules(expiry=INACT_1M), r)


def test_grace_period_saves_points():
    t = tx(("A", "2024-01-10", 100.0), ("A", "2024-02-12", 10.0))
    no_grace = replay(t, RewardRules(expiry=INACT_1M))
    grace = replay(t, RewardRules(expiry=ExpiryPolicy("inactivity", 1, 5)))
    assert no_grace.totals.points_expired == 100
    assert grace.totals.points_expired == 0
    assert grace.totals.points_saved_by_grace == 100
    assert no_grace.totals.points_saved_by_grace == 0


def test_end_of_horizon():
    t = tx(("A", "2024-01-15", 100.0), ("B", "2024-01-20", 30.0))
    r = RewardRules(expiry=INACT_1M)
    # A's deadline Feb 15 == end: expires; B's Feb 20 > end: outstanding.
    res = replay(t, r, end="2024-02-15")
    assert totals(res) == (130, 0, 100, 30)
    # default end = last timestamp: nothing has reached its deadline
    assert replay(t, r).totals.points_expired == 0
    # events after the end are ignored
    assert replay(t, r, end="2024-01-16").totals.points_issued == 100
    check_reference(t, r, end=pd.Timestamp("2024-02-15"))


# -- rule 4: fixed-term lots -------------------------------------------------------
FIXED_1M = ExpiryPolicy("fixed", months=1, grace_days=0)


def test_fifo_lots_and_use_at_deadline():
    t = tx(("A", "2024-01-01", 100.0), ("A", "2024-01-20", 50.0))
    r = red(("A", "2024-01-25", 120), ("A", "2024-02-20", 10))  # 2nd at lot 2's deadline: allowed
    res = replay(t, RewardRules(expiry=FIXED_1M), r, end="2024-03-01")
    # lot1 fully used, lot2 30 left -> 10 used at its deadline, 20 expire right after.
    assert totals(res) == (150, 130, 20, 0)
    check_reference(t, RewardRules(expiry=FIXED_1M), r, end=pd.Timestamp("2024-03-01"))


def test_fifo_oldest_lot_expires_partially():
    t = tx(("A", "2024-01-01", 100.0), ("A", "2024-01-15", 100.0))
    r = red(("A", "2024-01-10", 50), ("A", "2024-02-05", 80))
    res = replay(t, RewardRules(expiry=FIXED_1M), r, end="2024-03-01")
    # lot1: 50 used, 50 expire Feb 1; lot2: 80 used Feb 5, 20 expire Feb 15.
    assert totals(res) == (200, 130, 70, 0)
    m = res.monthly.set_index("month")
    assert m.loc["2024-02-01", "expired"] == 70
    # a redemption after lot 1 expired cannot use it
    r2 = red(("A", "2024-02-02", 500))
    assert totals(replay(t, RewardRules(expiry=FIXED_1M), r2, end="2024-02-02")) == (200, 100, 100, 0)


# -- rule 5: tier at end -----------------------------------------------------------
def test_tier_at_end_window_includes_both_ends():
    t = tx(("A", "2024-01-01", 60.0), ("A", "2024-01-11", 40.0), ("B", "2024-01-01 00:01", 60.0))
    res = replay(t, rules(), end="2024-01-11")
    tiers = res.members.set_index("member_id")["tier"]
    assert tiers["A"] == "Silver"  # 60 at end - 10d (included) + 40 at end (included)
    assert res.totals.tiers == {"Base": 1, "Silver": 1}
    assert res.totals.tier_benefit_cost == 10.0


# -- results consistency -------------------------------------------------------------
def test_members_and_monthly_add_up_to_totals():
    ds_t = tx(
        ("A", "2024-01-01", 100.0), ("A", "2024-03-15", 50.0), ("B", "2024-02-01", 700.0), ("B", "2024-06-01", 5.0)
    )
    r = red(("B", "2024-02-10", 300), ("A", "2024-03-16", 1000))
    res = replay(ds_t, RewardRules(expiry=ExpiryPolicy("inactivity", 2, 3)), r)
    t = res.totals
    assert t.points_issued == t.points_redeemed + t.points_expired + t.points_outstanding
    m = res.members
    assert m["points_issued"].sum() == t.points_issued
    assert m["balance"].sum() == t.points_outstanding
    assert res.monthly["issued"].sum() == t.points_issued
    assert res.monthly["expired"].sum() == t.points_expired
    assert res.monthly["outstanding"].iloc[-1] == t.points_outstanding
    assert t.reward_cost == pytest.approx(t.points_redeemed * 0.01)
    # Breakage is the earn-cohort chain-ladder estimate of the replayed history: six months of cohorts are
    # too young to develop, so neither it nor the liability is invented.
    assert math.isnan(t.breakage_rate) and math.isnan(t.liability)
    assert "too young" in res.breakage.method
    assert t.liability_naive == pytest.approx(t.points_outstanding * 0.01)
    assert res.layer == "replay"


# -- kernels ------------------------------------------------------------------------
def test_add_months_matches_pandas_dateoffset():
    ts = pd.to_datetime(
        ["2024-01-31 10:30", "2023-01-31", "2024-02-29 23:59:59", "2023-12-31", "2024-03-31 00:00:01", "2020-05-15"], format="ISO8601"
    ).astype("datetime64[ns]")
    for m in (1, 2, 11, 12, 13, 24):
        got = add_months(ts.to_numpy().view(np.int64), m)
        want = (pd.Series(ts) + pd.DateOffset(months=m)).to_numpy().view(np.int64)
        np.testing.assert_array_equal(got, want)
        # the memoised split (day, time of day) + lookup gives the same deadlines, grace included
        t = ts.to_numpy().view(np.int64)
        np.testing.assert_array_equal(deadlines_from_days(*split_days(t), m, 30), deadlines(t, m, 30))
        np.testing.assert_array_equal(deadlines(t, m, 30), want + 30 * 86_400 * 10**9)


def test_clamped_running_sum_and_clamp_scan_match_loops():
    rng = np.random.default_rng(0)
    x = rng.integers(-50, 60, 300)
    start = rng.random(300) < 0.1
    start[0] = True
    got = clamped_running_sum(x, start)
    b, want = 0, []
    for xi, s in zip(x, start, strict=True):
        b = max(0, (0 if s else b) + xi)
        want.append(b)
    np.testing.assert_array_equal(got, want)
    lo = rng.integers(-100, 100, 300)
    hi = lo + rng.integers(0, 50, 300)
    L, H = segmented_clamp_scan(lo, hi, start)
    for x0 in (-1000, 0, 37, 1000):
        v, want = x0, []
        for i in range(300):
            v = x0 if start[i] else v
            v = min(max(v, lo[i]), hi[i])
            want.append(v)
        np.testing.assert_array_equal(np.minimum(np.maximum(x0, L), H), want)


def test_rank_encoded_times_give_the_same_replay(monkeypatch):
    t = tx(("A", "2024-01-01 00:00:00.000001", 100.0), ("A", "2024-01-20", 50.0), ("B", "2024-01-05", 300.0))
    r = red(("A", "2024-01-25", 120))
    rr = RewardRules(expiry=FIXED_1M, tiers=TWO_TIERS, qualification_days=30)
    want = totals(replay(t, rr, r, end="2024-03-01"))
    monkeypatch.setattr(history, "_FORCE_RANK", True)
    assert totals(replay(t, rr, r, end="2024-03-01")) == want


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match="amount"):
        prepare(pd.DataFrame({"member_id": ["A"], "timestamp": [pd.Timestamp("2024-01-01")]}))


# -- rules model ---------------------------------------------------------------------
def test_rules_json_round_trip():
    for r in (SAMPLE_RULES, RewardRules(), rules(expiry=FIXED_1M, name="x", min_redemption=200)):
        assert RewardRules.from_json(r.to_json()) == r
        assert RewardRules.from_json(r.to_json()).to_json() == r.to_json()


@pytest.mark.parametrize(
    "kwargs, field, text",
    [
        ({"earn_rate": -1.0}, "earn_rate", "negative"),
        ({"point_value": -0.01}, "point_value", "negative"),
        ({"tiers": (Tier("A", 0, 1), Tier("B", 0, 2))}, "tiers[1].threshold", "increase"),
        ({"tiers": (Tier("A", 0, 1), Tier("B", 500, 2), Tier("C", 100, 3))}, "tiers[2].threshold", "increase"),
        ({"tiers": (Tier("A", 10, 1),)}, "tiers[0].threshold", "threshold 0"),
        ({"tiers": (Tier("A", 0, 1), Tier("A", 5, 1))}, "tiers.name", "unique"),
        ({"expiry": {"mode": "inactivity", "months": 0}}, "expiry.months", "from 1 to"),
        ({"expiry": {"mode": "fixed", "months": 12, "grace_days": -1}}, "expiry.grace_days", "from 0"),
        ({"qualification_days": 0}, "qualification_days", "from 1"),
    ],
)
def test_invalid_rules_name_the_input(kwargs, field, text):
    with pytest.raises(RulesError, match=text) as exc:
        if "expiry" in kwargs:
            ExpiryPolicy(**kwargs["expiry"])
        else:
            RewardRules(**kwargs)
    assert exc.value.field == field
    assert isinstance(exc.value, ValueError)


def test_bad_json_is_a_rules_error():
    with pytest.raises(RulesError):
        RewardRules.from_json("{not json")
    with pytest.raises(RulesError):
        RewardRules.from_json('{"earn_rate": 1, "bogus": 2}')


# -- the sample program's ledger -----------------------------------------------------
@pytest.fixture(scope="module")
def sample():
    from loyalty import load_sample

    return load_sample()


def test_replay_reproduces_the_sample_ledger_exactly(sample):
    led = sample.ledger
    res = replay(sample.transactions, SAMPLE_RULES, redemptions_from_ledger(led))
    flows = led.groupby("event")["points"].sum()
    assert res.totals.points_issued == flows["earn"]
    assert res.totals.points_redeemed == -flows["redeem"]
    assert res.totals.points_expired == -flows["expire"]
    assert res.totals.points_outstanding == led["points"].sum()
    # per member balances and end tiers too
    bal = led.groupby("member_id")["points"].sum()
    got = res.members.set_index("member_id")
    assert (got["balance"].reindex(bal.index) == bal).all()
    tiers = sample.members.set_index("member_id")["tier"]
    assert (got["tier"] == tiers.reindex(got.index)).all()


@pytest.mark.parametrize("mode", ["none", "inactivity", "fixed"])
def test_non_cent_amounts_and_fractional_asks_take_the_float_path(mode):
    # Amounts in mills (not whole cents) and a fractional redemption: float sums and
    # the pandas group-wise minimum instead of the integer fast paths.
    t = tx(
        ("A", "2024-01-01", 60.125), ("A", "2024-01-05", 40.0), ("A", "2024-02-20", 10.001),
        ("B", "2024-01-02", 99.999), ("B", "2024-01-03", 0.001), ("B", "2024-01-04 12:00", 5.5),
    )
    r = red(("A", "2024-01-06", 12.5), ("B", "2024-01-04", 200.25), ("A", "2024-02-21", 1000))
    rr = RewardRules(tiers=TWO_TIERS, qualification_days=10, expiry=ExpiryPolicy(mode, 1, 3))
    assert prepare(t, r).tx_cents is None
    res = replay(t, rr, r, end="2024-04-30")
    m = res.members.set_index("member_id")
    assert m.loc["A", "points_issued"] == 60 + 40 + 10
    assert m.loc["B", "points_issued"] == 99 + 0 + 11  # 99.999 + 0.001 reaches the 100 threshold: Silver x2
    check_reference(t, rr, r, end=pd.Timestamp("2024-04-30"))
