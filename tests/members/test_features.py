"""Member features on a tiny hand-computed dataset."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty.members.features import BASE_FEATURES, LEDGER_FEATURES, member_features
from loyalty.schema import Dataset


def _tx(rows):
    df = pd.DataFrame(rows, columns=["transaction_id", "member_id", "timestamp", "amount"])
    df["member_id"] = df["member_id"].astype("str")
    df["transaction_id"] = df["transaction_id"].astype("str")
    df["timestamp"] = pd.to_datetime(df["timestamp"]).astype("datetime64[ns]")
    df["amount"] = df["amount"].astype("float64")
    return df


@pytest.fixture
def tiny() -> Dataset:
    tx = _tx(
        [
            ("t1", "A", "2024-01-01", 100.0),
            ("t2", "A", "2024-03-01", 50.0),
            ("t3", "A", "2024-03-05", -20.0),  # a return: monetary only
            ("t4", "B", "2024-02-15", 30.0),
            ("t5", None, "2024-03-10", 99.0),  # guest: excluded
            ("t6", "A", "2024-04-01", 10.0),  # after as_of: ignored
        ]
    )
    members = pd.DataFrame(
        {
            "member_id": pd.array(["A", "B", "C", "D"], dtype="str"),
            "enrolled_at": pd.to_datetime(
                ["2023-12-01", "2024-02-20", "2024-02-01", "2024-05-01"]
            ).astype("datetime64[ns]"),
        }
    )
    ledger = pd.DataFrame(
        {
            "member_id": pd.array(["A", "A", "A", "B", "A"], dtype="str"),
            "timestamp": pd.to_datetime(
                ["2024-01-01", "2024-03-01", "2024-03-02", "2024-02-15", "2024-04-01"]
            ).astype("datetime64[ns]"),
            "event": pd.array(["earn", "earn", "redeem", "earn", "redeem"], dtype="str"),
            "points": [100.0, 50.0, -60.0, 30.0, -10.0],
        }
    )
    return Dataset(tx, members=members, ledger=ledger)


def test_hand_computed(tiny):
    f = member_features(tiny, as_of="2024-03-31")
    # D enrols after as_of -> not a member yet; C enrolled but never bought.
    assert list(f.index) == ["A", "B", "C"]
    assert list(f.columns) == [*BASE_FEATURES, *LEDGER_FEATURES]
    a, b, c = f.loc["A"], f.loc["B"], f.loc["C"]
    assert a.recency_days == 30  # 2024-03-01 -> 03-31
    assert a.frequency == 2
    assert a.monetary == pytest.approx(130.0)
    assert a.avg_basket == pytest.approx(75.0)
    assert a.tenure_days == 121  # enrolled 2023-12-01 (leap year Feb)
    assert a.purchases_90d == 1  # 2024-01-01 is 90 days before as_of exactly -> out
    assert a.points_balance == 90
    assert a.points_earned == 150
    assert a.points_redeemed == 60
    assert a.redemption_ratio == pytest.approx(0.4)
    assert a.days_since_redemption == 29
    # B bought before enrolling: tenure from the first purchase.
    assert b.tenure_days == 45 and b.frequency == 1 and b.recency_days == 45
    assert np.isnan(b.days_since_redemption) and b.redemption_ratio == 0
    assert c.frequency == 0 and c.monetary == 0 and np.isnan(c.recency_days)
    assert np.isnan(c.avg_basket) and c.tenure_days == 59
    assert np.isnan(c.redemption_ratio)


def test_default_as_of_and_no_optional_tables(tiny):
    f = member_features(Dataset(tiny.transactions))
    assert list(f.columns) == list(BASE_FEATURES)
    assert pd.Timestamp(f.attrs["as_of"]) == pd.Timestamp("2024-04-01")
    assert list(f.index) == ["A", "B"]
    assert f.loc["A", "frequency"] == 3 and f.loc["A", "recency_days"] == 0
    assert f.index.dtype == "str"


def test_matches_pandas_groupby_reference():
    rng = np.random.default_rng(1)
    n = 2000
    tx = _tx(
        [
            (f"t{i}", f"M{rng.integers(0, 150)}", pd.Timestamp("2024-01-01") + pd.Timedelta(hours=int(h)), a)
            for i, (h, a) in enumerate(zip(rng.integers(0, 24 * 365, n), rng.normal(30, 25, n), strict=True))
        ]
    )
    f = member_features(Dataset(tx))
    as_of = tx["timestamp"].max()
    buys = tx[tx["amount"] > 0]
    g = buys.groupby("member_id")
    ref_freq = g.size()
    ref_rec = (as_of - g["timestamp"].max()).dt.total_seconds() / 86400
    ref_mon = tx.groupby("member_id")["amount"].sum()
    ref_90 = buys[buys["timestamp"] > as_of - pd.Timedelta(days=90)].groupby("member_id").size()
    pd.testing.assert_series_equal(f["frequency"], ref_freq.reindex(f.index, fill_value=0), check_names=False)
    np.testing.assert_allclose(f["recency_days"], ref_rec.reindex(f.index))
    np.testing.assert_allclose(f["monetary"], ref_mon.reindex(f.index))
    np.testing.assert_array_equal(f["purchases_90d"], ref_90.reindex(f.index, fill_value=0))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "c", None]), st.integers(0, 400), st.floats(-100, 500, allow_nan=False)),
        min_size=1,
        max_size=40,
    )
)
def test_totals_are_preserved(rows):
    tx = _tx(
        [(f"t{i}", m, pd.Timestamp("2024-01-01") + pd.Timedelta(days=d), a) for i, (m, d, a) in enumerate(rows)]
    )
    if tx["member_id"].isna().all():
        return
    f = member_features(Dataset(tx))
    members = tx[tx["member_id"].notna()]
    assert f["frequency"].sum() == (members["amount"] > 0).sum()
    assert f["monetary"].sum() == pytest.approx(members["amount"].sum(), abs=1e-6)
    assert (f["purchases_90d"] <= f["frequency"]).all()
    assert (f["recency_days"].dropna() >= 0).all() and (f["tenure_days"] >= f["recency_days"].fillna(0)).all()
