"""Property tests: the vectorised replay equals the slow reference event loop
on random small histories for every expiry mode, and the issue's invariants hold."""

from __future__ import annotations

import os
from dataclasses import replace

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty.simulator import ExpiryPolicy, RewardRules, Tier, prepare, replay
from tests.simulator.oracle import replay_reference

T0 = pd.Timestamp("2023-01-31 10:00")  # a month end, so calendar clipping is exercised
# A few times of day only, so equal timestamps, window edges and deadlines coincide often.
MINUTES = (0, 1, 600, 1439)


@st.composite
def histories(draw):
    n_members = draw(st.integers(1, 3))
    tx_rows, rd_rows = [], []
    for m in range(n_members):
        for _ in range(draw(st.integers(0, 9))):
            day = draw(st.integers(0, 500))
            minute = draw(st.sampled_from(MINUTES))
            cents = draw(st.one_of(st.integers(-8000, 40000), st.sampled_from([0, 50, 100, 10000, 50000])))
            tx_rows.append((f"M{m}", T0 + pd.Timedelta(days=day, minutes=minute), cents / 100))
        for _ in range(draw(st.integers(0, 4))):
            day = draw(st.integers(0, 520))
            minute = draw(st.sampled_from(MINUTES))
            rd_rows.append((f"M{m}", T0 + pd.Timedelta(days=day, minutes=minute), float(draw(st.integers(1, 400)))))
    if draw(st.booleans()):
        tx_rows.append((None, T0 + pd.Timedelta(days=3), 99.0))  # guest
    if not tx_rows:
        tx_rows.append(("M0", T0, 10.0))
    tx = pd.DataFrame(tx_rows, columns=["member_id", "timestamp", "amount"])
    tx["member_id"] = tx["member_id"].astype("str")
    tx["timestamp"] = tx["timestamp"].astype("datetime64[ns]")
    rd = pd.DataFrame(rd_rows, columns=["member_id", "timestamp", "points"])
    rd["member_id"] = rd["member_id"].astype("str")
    rd["timestamp"] = pd.to_datetime(rd["timestamp"]).astype("datetime64[ns]")
    rd["points"] = rd["points"].astype("float64")
    return tx, rd


@st.composite
def rule_sets(draw, mode=None):
    n_tiers = draw(st.integers(1, 3))
    thresholds = sorted(draw(st.sets(st.sampled_from([100.0, 250.0, 300.5, 500.0, 1000.0]), min_size=n_tiers - 1, max_size=n_tiers - 1)))
    thresholds = [0.0, *thresholds]
    tiers = tuple(
        Tier(f"T{i}", th, draw(st.sampled_from([0.5, 1.0, 1.25, 1.5, 2.0, 3.3])), 1.0 * i) for i, th in enumerate(thresholds)
    )
    expiry = ExpiryPolicy(
        mode or draw(st.sampled_from(["none", "inactivity", "fixed"])),
        draw(st.integers(1, 14)),
        draw(st.sampled_from([0, 1, 5, 30, 45])),
    )
    return RewardRules(
        earn_rate=draw(st.sampled_from([0.5, 1.0, 1.1, 2.0, 10.0])),
        point_value=0.01,
        tiers=tiers,
        qualification_days=draw(st.sampled_from([1, 30, 31, 90, 365])),
        expiry=expiry,
    )


# REPLAY_EXAMPLES=2000 for a deeper search (the default keeps the suite quick).
SETTINGS = settings(max_examples=int(os.environ.get("REPLAY_EXAMPLES", "120")), deadline=None, suppress_health_check=[HealthCheck.too_slow])


ENDS = st.one_of(st.none(), st.integers(0, 600).map(lambda d: T0 + pd.Timedelta(days=d, minutes=600)))


def _check_equal(tx, rd, rules, end):
    ref = replay_reference(tx, rules, rd, end)
    got = replay(tx, rules, rd, end=end)
    t = got.totals
    assert (t.points_issued, t.points_redeemed, t.points_expired, t.points_outstanding) == (
        ref["totals"]["points_issued"],
        ref["totals"]["points_redeemed"],
        ref["totals"]["points_expired"],
        ref["totals"]["points_outstanding"],
    )
    members = got.members.set_index("member_id")
    assert set(members.index) == set(ref["members"])
    for mid, want in ref["members"].items():
        row = members.loc[mid]
        assert (row["points_issued"], row["points_redeemed"], row["points_expired"], row["balance"]) == (
            want["issued"],
            want["redeemed"],
            want["expired"],
            want["balance"],
        ), mid
        assert row["tier"] == want["tier"], mid
    # the time series adds up to the totals
    assert got.monthly["expired"].sum() == t.points_expired
    assert got.monthly["redeemed"].sum() == t.points_redeemed


@SETTINGS
@given(histories(), rule_sets(mode="none"), ENDS)
def test_matches_reference_no_expiry(h, rules, end):
    _check_equal(*h, rules, end)


@SETTINGS
@given(histories(), rule_sets(mode="inactivity"), ENDS)
def test_matches_reference_inactivity(h, rules, end):
    _check_equal(*h, rules, end)


@SETTINGS
@given(histories(), rule_sets(mode="fixed"), ENDS)
def test_matches_reference_fixed(h, rules, end):
    _check_equal(*h, rules, end)


@SETTINGS
@given(histories(), rule_sets(), ENDS)
def test_conservation_and_issued_independent_of_expiry(h, rules, end):
    p = prepare(*h)
    res = replay(p, rules, end=end)
    t = res.totals
    assert t.points_issued == t.points_redeemed + t.points_expired + t.points_outstanding
    assert min(t.points_redeemed, t.points_expired, t.points_outstanding) >= 0
    for mode in ("none", "inactivity", "fixed"):
        other = replace(rules, expiry=ExpiryPolicy(mode, rules.expiry.months, rules.expiry.grace_days))
        assert replay(p, other, end=end).totals.points_issued == t.points_issued


@SETTINGS
@given(histories(), rule_sets(), st.integers(0, 60), st.integers(0, 60), ENDS)
def test_longer_grace_never_expires_more(h, rules, g1, g2, end):
    p = prepare(*h)
    lo, hi = sorted((g1, g2))
    e = rules.expiry
    short = replay(p, replace(rules, expiry=ExpiryPolicy(e.mode, e.months, lo)), end=end).totals
    long = replay(p, replace(rules, expiry=ExpiryPolicy(e.mode, e.months, hi)), end=end).totals
    assert long.points_expired <= short.points_expired
    assert long.points_saved_by_grace >= 0
    if lo == 0:  # saved by grace = expired without grace - expired with it
        assert long.points_saved_by_grace == short.points_expired - long.points_expired


@SETTINGS
@given(histories(), rule_sets(), st.data())
def test_higher_multiplier_never_earns_less(h, rules, data):
    p = prepare(*h)
    i = data.draw(st.integers(0, len(rules.tiers) - 1))
    bump = data.draw(st.sampled_from([0.01, 0.25, 1.0, 2.5]))
    tiers = list(rules.tiers)
    tiers[i] = replace(tiers[i], multiplier=tiers[i].multiplier + bump)
    higher = replace(rules, tiers=tuple(tiers))
    assert replay(p, higher).totals.points_issued >= replay(p, rules).totals.points_issued
