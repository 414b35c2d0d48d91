"""Comparison periods: previous period or same period last year, shown only when the data covers them.

The 2017 upload of the issue: transactions from 31 Dec 2016 (a New Year's Eve export in UTC) to
31 Dec 2017. The default period is 2017; its previous period (2016) holds one day of data, so
revenue "grew" by 40,000% and retention was the share of 31 December's buyers who came back.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from loyalty.kpis import compute_kpi_table, compute_kpis, default_period, kpi_comparison
from loyalty.periods import (
    COMPARISON_BASES,
    comparison,
    comparison_period,
    coverage_gap,
    same_period_last_year,
)
from loyalty.schema import Dataset

T = pd.Timestamp


def _tx(rows) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["transaction_id", "member_id", "timestamp", "amount"])
    df["transaction_id"] = df["transaction_id"].astype("str")
    df["member_id"] = df["member_id"].astype("str")
    df["timestamp"] = pd.to_datetime(df["timestamp"]).astype("datetime64[ns]")
    df["amount"] = df["amount"].astype("float64")
    return df


def upload_2017() -> Dataset:
    """m1 and m2 buy on 31 Dec 2016 and again in 2017; m3 only buys in 2017."""
    return Dataset(
        _tx(
            [
                ("a", "m1", "2016-12-31 23:10", 10.0),
                ("b", "m2", "2016-12-31 23:40", 20.0),
                ("c", "m1", "2017-03-01 10:00", 500.0),
                ("d", "m2", "2017-06-01 10:00", 700.0),
                ("e", "m3", "2017-09-01 10:00", 300.0),
                ("f", "m3", "2017-12-31 18:00", 300.0),
            ]
        ),
        name="orders_2017.csv",
    )


def test_comparison_periods():
    # 181 days just before
    assert comparison_period("2026-01-01", "2026-06-30") == (T("2025-07-04"), T("2025-12-31"))
    assert comparison_period("2026-01-01", "2026-06-30", "last_year") == (T("2025-01-01"), T("2025-06-30"))
    # Calendar days a year earlier: February against February, 29 February -> 28 February.
    assert same_period_last_year("2024-02-01", "2024-02-29") == (T("2023-02-01"), T("2023-02-28"))
    assert set(COMPARISON_BASES) == {"previous", "last_year"}
    with pytest.raises(ValueError, match="Unknown comparison"):
        comparison_period("2026-01-01", "2026-06-30", "yoy")


def test_coverage_gap_names_the_first_or_last_day_with_data():
    first, last = T("2023-11-01 11:01"), T("2026-10-31 22:58")
    assert coverage_gap("2023-11-01", "2024-10-31", first, last) == ""  # any time of the first day counts
    assert coverage_gap("2022-11-01", "2023-10-31", first, last) == "data starts 01 Nov 2023"
    assert coverage_gap("2026-10-01", "2026-11-30", first, last) == "data ends 31 Oct 2026"
    assert coverage_gap("2026-10-01", "2026-11-30", first) == ""  # no end given: only the start is checked
    assert coverage_gap("2026-10-01", "2026-11-30", None) == "no data"


def test_a_comparison_needs_the_data_to_cover_both_periods():
    first, last = T("2023-11-01"), T("2026-10-31")
    ok = comparison("2025-11-01", "2026-10-31", first, last)
    assert ok.available and ok.missing == "" and ok.label == "previous period" and ok.days == 365
    # A period starting at the data start: its previous period is entirely before the data.
    start = comparison("2023-11-01", "2024-10-31", first, last)
    assert not start.available and start.missing == "data starts 01 Nov 2023"
    assert (start.start, start.end) == (T("2022-10-31"), T("2023-10-31"))  # 366 days (2024 is a leap year)
    # One day of data in the comparison period is not a comparison either.
    assert comparison("2023-11-02", "2024-11-01", first, last).missing == "data starts 01 Nov 2023"
    yoy = comparison("2024-11-01", "2025-10-31", first, last, "last_year")
    assert yoy.available and (yoy.start, yoy.end) == (T("2023-11-01"), T("2024-10-31"))
    early = comparison("2024-10-01", "2025-09-30", first, last, "last_year")
    assert early.missing == "data starts 01 Nov 2023"
    longer = comparison("2024-01-01", "2026-10-31", first, last, "last_year")
    assert longer.missing == "the period is longer than a year"  # it would overlap its own comparison


def test_the_2017_upload_has_no_comparison():
    ds = upload_2017()
    start, end = default_period(ds)
    assert (start, end) == (T("2017-01-01"), T("2017-12-31"))
    cmp = kpi_comparison(ds, start, end)
    assert (cmp.start, cmp.end) == (T("2016-01-02"), T("2016-12-31"))
    assert not cmp.available and cmp.missing == "data starts 31 Dec 2016"
    assert kpi_comparison(ds, start, end, "last_year").missing == "data starts 31 Dec 2016"
    assert kpi_comparison(Dataset(upload_2017().transactions.iloc[:0]), start, end).missing == "no data"


def test_retention_is_unknown_when_the_previous_period_starts_before_the_data():
    ds = upload_2017()
    k = compute_kpis(ds, "2017-01-01", "2017-12-31")
    # Was 100%: m1 and m2, the only buyers of 31 Dec 2016, both bought in 2017.
    for key in ("retention_rate", "churn_rate", "retained_members", "expected_lifespan_years",
                "revenue_clv_period"):
        assert math.isnan(k[key]), key
    assert k["revenue"] == 1800 and k["active_members"] == 3  # the period's own KPIs are measured
    # A previous period inside the data: retention is measured again. Q4's previous period is
    # 01 Jul - 30 Sep: m3 bought on 01 Sep and again on 31 Dec -> 1 / 1.
    q4 = compute_kpis(ds, "2017-10-01", "2017-12-31")
    assert q4["retention_rate"] == 1.0 and q4["retained_members"] == 1


def test_kpi_table_has_no_previous_values_without_a_comparison():
    ds = upload_2017()
    t = compute_kpi_table(ds, "2017-01-01", "2017-12-31").set_index("kpi")
    assert t["previous"].isna().all() and t["delta"].isna().all() and t["delta_pct"].isna().all()
    t = compute_kpi_table(ds, "2017-10-01", "2017-12-31").set_index("kpi")
    assert t.loc["revenue", "previous"] == 300 and t.loc["revenue", "delta"] == 0  # m3's 01 Sep purchase
    with pytest.raises(ValueError, match="Unknown comparison"):
        compute_kpi_table(ds, "2017-10-01", "2017-12-31", basis="yoy")
