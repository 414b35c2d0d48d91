"""Tests of the seeded sample-program generator and ``loyalty.load_sample``."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from loyalty import SAMPLE_RULES, load_sample
from loyalty.schema import SPECS, canonical_dtype
from sample_data.generate import SAMPLE_DIR_FILES, generate_program, main, n_members_for


@pytest.fixture(scope="module")
def ds():
    return load_sample()


@pytest.fixture(scope="module")
def small():
    return generate_program(n_members=300, seed=7)


def _ref_ledger_totals(tx: pd.DataFrame, redemptions: pd.DataFrame, rules=SAMPLE_RULES) -> dict:
    """Slow, independent replay of semantics 1-4 (inactivity expiry) per member.

    Redemptions are historical: each asks for its points, granted min(asked, balance).
    """
    end = tx["timestamp"].max()
    window = pd.Timedelta(days=rules.qualification_days)
    offset = pd.DateOffset(months=rules.expiry.months)
    grace = pd.Timedelta(days=rules.expiry.grace_days)
    issued = redeemed = expired = 0
    red_by_member = {m: g for m, g in redemptions.groupby("member_id")}
    for mid, g in tx[tx["member_id"].notna()].groupby("member_id"):
        ts = g["timestamp"].tolist()
        amounts = g["amount"].tolist()
        events = []  # (time, order, kind, value); order: earn 0 < redeem 1
        for t, a in zip(ts, amounts, strict=True):
            if a > 0:
                qs = round(sum(x for s, x in zip(ts, amounts, strict=True) if t - window <= s < t), 2)
                mult = rules.tier_for(qs).multiplier
                events.append((t, 0, "earn", math.floor(round(a * rules.earn_rate * mult, 6))))
        if mid in red_by_member:
            for t, p in zip(red_by_member[mid]["timestamp"], red_by_member[mid]["points"], strict=True):
                events.append((t, 1, "redeem", p))
        events.sort(key=lambda e: (e[0], e[1]))
        balance, last = 0, None
        for t, _, kind, value in events:
            if last is not None and last + offset + grace < t:
                expired += balance
                balance = 0
            if kind == "earn":
                issued += value
                balance += value
            else:
                granted = min(value, balance)
                redeemed += granted
                balance -= granted
            last = t
        if last is not None and last + offset + grace <= end:
            expired += balance
    return {"issued": issued, "redeemed": redeemed, "expired": expired}


def test_regeneration_is_byte_identical(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    main(["--members", "200", "--out", str(a)])
    main(["--members", "200", "--out", str(b)])
    for name in SAMPLE_DIR_FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_bundled_files_match_the_generator(tmp_path):
    """The committed sample is exactly what the documented command writes."""
    from loyalty.sample import SAMPLE_DIR

    main(["--out", str(tmp_path)])
    for name in SAMPLE_DIR_FILES:
        assert (tmp_path / name).read_bytes() == (SAMPLE_DIR / name).read_bytes(), name


def test_canonical_columns_and_dtypes(ds, small):
    assert ds.name == "Sample program (bundled)"
    for kind in SPECS:
        for df in (getattr(ds, kind), small[kind]):
            assert df is not None
            for col in df.columns:
                expected = canonical_dtype(SPECS[kind].column(col).dtype)
                assert str(df[col].dtype) == expected, (kind, col, df[col].dtype)
            assert set(SPECS[kind].required) <= set(df.columns)
    assert "points_earned" not in ds.transactions


def test_loaded_equals_generated(ds):
    gen = generate_program()
    for kind in SPECS:
        pd.testing.assert_frame_equal(getattr(ds, kind), gen[kind], check_like=False)


def test_realistic_shape(ds):
    tx, m = ds.transactions, ds.members
    assert 50_000 <= len(tx) <= 80_000
    assert len(m) == 5000 and m["member_id"].is_unique
    assert tx["transaction_id"].is_unique
    assert tx["timestamp"].is_monotonic_increasing
    assert 0.23 <= tx["member_id"].isna().mean() <= 0.27
    assert 0.02 <= (tx["amount"] < 0).mean() <= 0.04
    assert 30 <= tx.loc[tx["amount"] > 0, "amount"].median() <= 50
    assert set(tx["channel"]) == {"store", "web", "app"}
    assert 3 <= tx["store"].nunique() <= 10
    assert tx["timestamp"].max() <= pd.Timestamp("2026-10-31 23:59")
    assert (tx["timestamp"].dt.second == 0).all()
    assert np.allclose(tx["amount"] * 100, np.round(tx["amount"] * 100))
    # the data end is a member transaction (guests do not move the replay horizon)
    assert pd.notna(tx["member_id"].iloc[-1])
    # December is the busiest month of the last year
    last_year = tx[tx["timestamp"] > tx["timestamp"].max() - pd.Timedelta(days=365)]
    assert last_year["timestamp"].dt.month.value_counts().idxmax() == 12
    # heavy-tailed frequency: the top 10% of members make well over a quarter of purchases
    counts = tx["member_id"].value_counts()
    assert counts.nlargest(len(counts) // 10).sum() > 0.3 * counts.sum()
    # referrals point to earlier-enrolled members
    ref = m[m["referred_by"].notna()]
    assert 0.07 <= len(ref) / len(m) <= 0.13
    when = m.set_index("member_id")["enrolled_at"]
    assert (when.loc[ref["referred_by"]].to_numpy() <= ref["enrolled_at"].to_numpy()).all()
    # member transactions never precede enrolment
    mt = tx[tx["member_id"].notna()]
    assert (mt["timestamp"].to_numpy() >= when.loc[mt["member_id"]].to_numpy()).all()
    # surveys and costs
    s = ds.surveys
    assert 2000 <= len(s) and s["nps_score"].between(0, 10).all()
    assert s["csat"].dropna().between(1, 5).all()
    assert set(ds.costs["category"]) == {"platform", "marketing", "acquisition", "rewards"}
    assert (ds.costs["month"].dt.day == 1).all() and ds.costs["month"].nunique() == 36


def test_returns_reference_a_previous_purchase(ds):
    tx = ds.transactions
    for _, r in tx[tx["amount"] < 0].head(200).iterrows():
        same = tx["member_id"].isna() if pd.isna(r["member_id"]) else tx["member_id"] == r["member_id"]
        before = tx[same & (tx["timestamp"] < r["timestamp"]) & (tx["amount"] >= -r["amount"] - 1e-9)]
        assert len(before), r["transaction_id"]


def test_ledger_balances_never_negative_and_totals_add_up(ds):
    led = ds.ledger
    assert set(led["event"]) <= {"earn", "redeem", "expire"}
    assert (led.loc[led["event"] == "earn", "points"] > 0).all()
    assert (led.loc[led["event"] != "earn", "points"] < 0).all()
    assert (led["points"] % 1 == 0).all()
    assert (led.loc[led["event"] == "redeem", "points"] % SAMPLE_RULES.min_redemption == 0).all()
    order = {"earn": 0, "redeem": 1, "expire": 2}
    led = led.assign(_o=led["event"].map(order)).sort_values(["member_id", "timestamp", "_o"], kind="stable")
    running = led.groupby("member_id")["points"].cumsum()
    assert running.min() >= 0
    tot = led.groupby("event")["points"].sum()
    outstanding = tot["earn"] + tot["redeem"] + tot["expire"]
    assert outstanding == running.groupby(led["member_id"]).last().sum() >= 0
    assert led["timestamp"].max() <= ds.transactions["timestamp"].max()


@pytest.mark.parametrize("which", ["small", "ds"])
def test_ledger_matches_independent_replay(which, small, ds):
    if which == "small":
        tx, led = small["transactions"], small["ledger"]
    else:
        tx, led = ds.transactions, ds.ledger
    red = led[led["event"] == "redeem"].assign(points=lambda d: -d["points"])
    ref = _ref_ledger_totals(tx, red)
    tot = led.groupby("event")["points"].sum()
    assert ref["issued"] == tot["earn"]
    assert ref["redeemed"] == -tot["redeem"]
    assert ref["expired"] == -tot.get("expire", 0)


def test_member_tier_is_tier_of_trailing_spend_at_end(ds, small):
    for tx, m in ((ds.transactions, ds.members), (small["transactions"], small["members"])):
        end = tx["timestamp"].max()
        w = tx[tx["timestamp"] >= end - pd.Timedelta(days=SAMPLE_RULES.qualification_days)]
        spend = w.groupby("member_id")["amount"].sum().round(2)
        spend = spend.reindex(m["member_id"], fill_value=0.0)
        expected = [SAMPLE_RULES.tier_for(s).name for s in spend]
        assert m["tier"].tolist() == expected
    assert ds.members["tier"].nunique() == 3


def test_scaled_generation_without_ledger():
    n = n_members_for(20_000)
    d = generate_program(n_members=n, seed=1, with_ledger=False)
    assert "ledger" not in d
    assert 15_000 <= len(d["transactions"]) <= 25_000
    assert set(d["costs"]["category"]) == {"platform", "marketing", "acquisition", "rewards"}
