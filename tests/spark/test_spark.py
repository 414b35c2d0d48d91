"""The Spark path (local mode) gives exactly the embedded path's results on the sample program."""

from __future__ import annotations

import math
import os  # noqa: E402
import shutil  # noqa: E402

import pandas as pd
import pytest

pyspark = pytest.importorskip("pyspark")
if shutil.which("java") is None:
    if os.environ.get("LOYALTY_CI"):
        raise RuntimeError("Java is required in CI (LOYALTY_CI is set) for the Spark local-mode test")
    pytest.skip("Spark local mode needs a Java runtime (apt-get install openjdk-17-jre-headless)",
                allow_module_level=True)

from loyalty import load_sample  # noqa: E402
from loyalty import spark as D  # noqa: E402
from loyalty.kpis import compute_kpis  # noqa: E402
from loyalty.kpis.series import monthly_series  # noqa: E402
from loyalty.members.features import member_features  # noqa: E402

pytestmark = [
    pytest.mark.spark,
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]


@pytest.fixture(scope="module")
def ds():
    return load_sample()


@pytest.fixture(scope="module")
def spark():
    s = D.spark_session("local[2]", app_name="loyalty-lab-tests")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def tables(spark, ds):
    return {
        "transactions": D.to_spark(spark, ds.transactions, "transactions"),
        "members": D.to_spark(spark, ds.members, "members"),
        "ledger": D.to_spark(spark, ds.ledger, "ledger"),
    }


def test_member_features_equal_embedded(ds, tables):
    as_of = ds.transactions["timestamp"].max()
    got = D.member_features_spark(tables, as_of=as_of, n_buckets=8).toPandas()
    want = member_features(ds, as_of=as_of).reset_index()
    want["member_id"] = want["member_id"].astype(object)
    got = got[list(want.columns)]
    assert len(got) == len(want)
    assert D.exact_equal(got, want)


def test_sales_kpis_equal_embedded(ds, tables):
    start, end = "2025-11-01", "2026-10-31"
    got = D.sales_kpis_spark(tables["transactions"], start, end)
    want = compute_kpis(ds, start, end)
    for key, value in got.items():
        if key in ("revenue", "member_revenue", "guest_revenue", "aov", "member_aov", "guest_aov",
                   "member_spend_per_customer", "guest_spend_per_transaction", "member_revenue_share"):
            # float sums in another order: equal up to the last bits of a double
            assert value == pytest.approx(want[key], rel=1e-12), key
        else:
            assert value == want[key] or (math.isnan(value) and math.isnan(want[key])), key


def test_retention_is_unknown_on_both_paths_when_the_previous_period_starts_before_the_data(ds, tables):
    # Starts one day after the data start: its previous period holds one day of data.
    got = D.sales_kpis_spark(tables["transactions"], "2023-11-02", "2024-11-01")
    want = compute_kpis(ds, "2023-11-02", "2024-11-01")
    for key in ("retention_rate", "churn_rate", "retained_members"):
        assert math.isnan(got[key]) and math.isnan(want[key]), key
    assert got["active_members"] == want["active_members"]


def test_monthly_sales_equal_embedded(ds, tables):
    got = D.monthly_sales_spark(tables["transactions"])
    want = monthly_series(ds)
    merged = want.merge(got, on="month", suffixes=("", "_spark"))
    assert len(merged) == len(want) == len(got)
    assert (merged["transactions"] == merged["transactions_spark"]).all()
    assert (merged["active_members"] == merged["active_members_spark"]).all()
    pd.testing.assert_series_equal(merged["revenue"], merged["revenue_spark"], rtol=1e-12, check_names=False)


def test_member_sample_keeps_whole_histories(ds, tables):
    sample, note = D.member_sample(tables, max_members=1000, seed=1)
    members = sample.transactions["member_id"].unique()
    assert 700 < len(members) < 1300
    full = ds.transactions[ds.transactions["member_id"].isin(members)]
    assert len(full) == len(sample.transactions)
    assert "of" in note and "%" in note


@pytest.mark.parametrize("mode", ["inactivity", "fixed"])
def test_replay_equals_embedded(ds, tables, mode):
    import dataclasses

    from loyalty.simulator import redemptions_from_ledger, replay
    from loyalty.simulator.rules import SAMPLE_RULES, ExpiryPolicy

    rules = dataclasses.replace(SAMPLE_RULES, expiry=ExpiryPolicy(mode, 12, 30))
    end = ds.transactions["timestamp"].max()
    want = replay(ds.transactions, rules, redemptions_from_ledger(ds.ledger), end=end)
    members_sdf = D.replay_spark(tables, rules, end=end, n_buckets=8)
    got = members_sdf.drop("bucket_saved_by_grace").toPandas()
    w = want.members.copy()
    w["member_id"] = w["member_id"].astype(object)
    w["tier"] = w["tier"].astype(object)
    assert D.exact_equal(got[list(w.columns)], w)
    totals = D.replay_totals_spark(members_sdf, rules)
    for key in ("points_issued", "points_redeemed", "points_expired", "points_outstanding",
                "points_saved_by_grace", "members", "members_per_tier"):
        assert getattr(totals, key) == getattr(want.totals, key), key
    assert totals.liability == pytest.approx(want.totals.liability, rel=1e-12)
    assert totals.breakage_rate == pytest.approx(want.totals.breakage_rate, rel=1e-12)  # the cohort estimate


def test_data_page_spark_source_runs_locally(ds, tmp_path, spark):
    """The Data page's Spark form: local master and Parquet paths -> KPIs, replay totals, member sample."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    paths = {}
    for kind in ("transactions", "members", "ledger"):
        p = tmp_path / f"{kind}.parquet"
        # microsecond timestamps: Spark cannot read Parquet nanosecond timestamps
        ds.table(kind).to_parquet(p, index=False, coerce_timestamps="us", allow_truncated_timestamps=True)
        paths[kind] = str(p)
    root = Path(__file__).resolve().parents[2]
    at = AppTest.from_file(str(root / "app.py"), default_timeout=300)
    at.run()
    at.switch_page("pages/data.py")
    at.run()
    form_inputs = {t.label: t for t in at.text_input}
    form_inputs["Spark Connect URL or local master"].set_value("local[2]")
    form_inputs["Transactions (Parquet path or table)"].set_value(paths["transactions"])
    form_inputs["Members (optional)"].set_value(paths["members"])
    form_inputs["Ledger (optional)"].set_value(paths["ledger"])
    at.button[[b.label for b in at.button].index("Run on Spark")].click().run()
    assert not at.exception, [e.value for e in at.exception]
    text = " ".join(s.value for s in at.subheader)
    assert "computed on Spark" in text
    assert any("Member sample from Spark" in c.value for c in at.caption)
    use = [b for b in at.button if b.label.startswith("Use the Spark member sample")]
    assert use
    use[0].click().run()
    assert not at.exception
    assert at.session_state["dataset"].name == "Spark member sample"
