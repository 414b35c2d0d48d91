"""The KPI dashboard renders on the sample program and shows the engine's values."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from loyalty import load_sample
from loyalty.inputs import ProgramInputs
from loyalty.kpis import compute_kpis
from loyalty.kpis.frame import default_period
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
