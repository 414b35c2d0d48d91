"""The KPI dashboard renders on the sample program and shows the engine's values."""

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from loyalty import load_sample
from loyalty.inputs import ProgramInputs
from loyalty.kpis import compute_kpis
from loyalty.kpis.frame import default_period
from loyalty.periods import previous_period
from loyalty.schema import Dataset
from tests.pages.apptest import open_app_page
from ui.widgets import format_value

ROOT = Path(__file__).resolve().parents[2]


def open_page(dataset: Dataset | None = None, **params: str) -> AppTest:
    return open_app_page("kpis.py", dataset, params)


def tiles(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.fixture(scope="module")
def sample() -> Dataset:
    return load_sample()


def test_tiles_show_engine_values_for_the_default_period(sample):
    at = open_page()
    inp = ProgramInputs()
    start, end = default_period(sample)
    k = compute_kpis(sample, start, end, inp.point_value, inp.gross_margin,
                     monthly_platform_cost=inp.monthly_platform_cost)
    shown = tiles(at)
    assert shown["Revenue"] == format_value(k["revenue"], "money", inp.currency)
    assert shown["Active members"] == format_value(k["active_members"], "int")
    assert shown["Points issued"] == format_value(k["points_issued"], "points")
    assert shown["Retention"] == format_value(k["retention_rate"], "pct")
    assert shown["NPS"] == format_value(k["nps"], "score")
    assert shown["Program ROI"] == format_value(k["program_roi"], "pct")
    # every KPI of the engine has a tile with its formula as help
    assert len(at.metric) >= 45
    assert all(m.help for m in at.metric)
    # the period is kept in the URL
    assert at.query_params["kpi_from"] in (start.date().isoformat(), [start.date().isoformat()])


def test_period_from_url_and_tier_filter(sample):
    at = open_page(kpi_from="2026-01-01", kpi_to="2026-03-31", kpi_tier="Gold")
    gold = set(sample.members.loc[sample.members["tier"] == "Gold", "member_id"])
    k = compute_kpis(sample, "2026-01-01", "2026-03-31", members_filter=gold)
    shown = tiles(at)
    assert shown["Members"] == format_value(k["members_total"], "int")
    assert shown["Revenue"] == format_value(k["revenue"], "money", "€")


def test_missing_tables_say_what_to_upload(sample):
    at = open_page(Dataset(sample.transactions, name="Only transactions"))
    text = " ".join(i.value for i in at.info)
    assert "points ledger" in text and "members" in text and "surveys" in text
    assert tiles(at)["Points issued"] == "—"
    assert "Needs the ledger table" in next(m.help for m in at.metric if m.label == "Points issued")


def test_changing_the_period_updates_tiles_and_url(sample):
    import datetime as dt

    at = open_page()
    at.date_input(key="kpi_period").set_value((dt.date(2026, 1, 1), dt.date(2026, 1, 31))).run()
    assert not at.exception, [e.value for e in at.exception]
    k = compute_kpis(sample, "2026-01-01", "2026-01-31")
    assert tiles(at)["Revenue"] == format_value(k["revenue"], "money", "€")
    assert at.query_params["kpi_to"] in ("2026-01-31", ["2026-01-31"])


# --- comparison periods (issue: comparison period before the data) ---------------------------------
def deltas(at: AppTest) -> dict[str, str]:
    return {m.label: m.delta for m in at.metric}


def test_a_period_starting_at_the_data_start_says_no_comparison():
    at = open_page(kpi_from="2023-11-01", kpi_to="2024-10-31")  # the sample's first 12 months
    shown = deltas(at)
    for label in ("Members", "Revenue", "Retention", "NPS", "Program ROI"):
        assert shown[label] == "no comparison (data starts 01 Nov 2023)", label
    assert any("No comparison" in c.value and "data starts 01 Nov 2023" in c.value for c in at.caption)


def upload_2017(sample: Dataset) -> Dataset:
    """A year of the sample moved to 2017, its first day's receipts on 31 Dec 2016 (an export in UTC)."""
    t = sample.transactions
    t = t[(t["timestamp"] >= "2025-01-01") & (t["timestamp"] < "2026-01-01")].copy()
    t["timestamp"] -= pd.Timestamp("2025-01-01") - pd.Timestamp("2017-01-01")
    t.loc[t["timestamp"] < "2017-01-02", "timestamp"] -= pd.Timedelta(days=1)
    return Dataset(t, name="orders_2017.csv")


def test_a_2017_upload_shows_no_change_against_one_day_of_data(sample):
    at = open_page(upload_2017(sample))
    shown, values = deltas(at), tiles(at)
    # Before: Revenue +39,845.0%, Members +5,526.7%, Retention 90.9% (against 31 Dec 2016 alone).
    for label in ("Members", "Revenue", "Active members", "Retention"):
        assert shown[label] == "no comparison (data starts 31 Dec 2016)", label
    assert values["Retention"] == "—"


def test_rate_changes_are_percentage_points_and_score_changes_points(sample):
    at = open_page()
    start, end = default_period(sample)
    inp = ProgramInputs()
    kw = dict(point_value=inp.point_value, margin=inp.gross_margin,
              monthly_platform_cost=inp.monthly_platform_cost)
    k = compute_kpis(sample, start, end, **kw)
    prev = compute_kpis(sample, *previous_period(start, end), **kw)
    shown = deltas(at)
    assert shown["Retention"] == f"{(k['retention_rate'] - prev['retention_rate']) * 100:+.1f} pp"  # -1.5 pp
    assert shown["Program ROI"].endswith(" pp") and shown["Repeat purchase rate"].endswith(" pp")
    assert shown["NPS"] == f"{k['nps'] - prev['nps']:+.1f} pts"
    assert shown["Revenue"] == f"{k['revenue'] / prev['revenue'] - 1:+.1%}"  # relative: +48.1%


def test_same_period_last_year_is_a_choice_kept_in_the_url(sample):
    at = open_page(kpi_from="2026-01-01", kpi_to="2026-06-30", kpi_vs="last_year")
    assert at.radio(key="kpi_vs").value == "last_year"
    k = compute_kpis(sample, "2026-01-01", "2026-06-30")
    ly = compute_kpis(sample, "2025-01-01", "2025-06-30")
    assert deltas(at)["Revenue"] == f"{k['revenue'] / ly['revenue'] - 1:+.1%}"
    assert any("same period last year **01 Jan 2025 – 30 Jun 2025**" in c.value for c in at.caption)
    at.radio(key="kpi_vs").set_value("previous").run()
    assert "kpi_vs" not in at.query_params  # the default is left out of the link
    at.radio(key="kpi_vs").set_value("last_year").run()
    assert at.query_params["kpi_vs"] in ("last_year", ["last_year"])
    # The first year of data has no last year.
    at.date_input(key="kpi_period").set_value((dt.date(2024, 1, 1), dt.date(2024, 6, 30))).run()
    assert deltas(at)["Revenue"] == "no comparison (data starts 01 Nov 2023)"
