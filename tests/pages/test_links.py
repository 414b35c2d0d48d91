"""Shared links: the program inputs and the dataset travel in the URL, and "Copy link" says what a link holds.

A link is read on the session's first run (a recipient opening it), so these tests put the
parameters in the URL before the first ``run()``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from loyalty import load_sample
from loyalty.kpis import compute_kpis, default_period
from loyalty.schema import Dataset
from loyalty.simulator import encode_scenarios, presets
from loyalty.simulator.baseline import INFERRED_NAME
from loyalty.simulator.behaviour import BehaviourAssumptions
from loyalty.simulator.rules import SAMPLE_RULES
from tests.pages.apptest import open_app_page
from ui.widgets import format_value

APP = str(Path(__file__).resolve().parents[2] / "app.py")
LINK_INPUTS = {"pv": "0.008", "gm": "45", "pc": "500", "cur": "$"}


@pytest.fixture(scope="module")
def sample() -> Dataset:
    return load_sample()


def open_link(page: str, params: dict[str, str], dataset: Dataset | None = None) -> AppTest:
    """A recipient opening a link: its parameters are in the URL from the session's first run."""
    at = AppTest.from_file(APP, default_timeout=120)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    if dataset is not None:
        at.session_state["dataset"] = dataset
    at.switch_page(f"pages/{page}")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def warnings(at: AppTest) -> str:
    """The page's warnings as read on screen (without the Markdown escapes)."""
    return " ".join(w.value for w in at.warning).replace("\\", "")


def param(at: AppTest, name: str) -> str | None:
    value = at.query_params.get(name)
    return value[0] if isinstance(value, list) else value


def test_a_link_carries_the_program_inputs(sample):
    at = open_link("kpis.py", LINK_INPUTS)
    start, end = default_period(sample)
    k = compute_kpis(sample, start, end, 0.008, 0.45, monthly_platform_cost=500.0)
    shown = {m.label: m.value for m in at.metric}
    # Before: the link's inputs were dropped and Program ROI showed the defaults' 34.4%.
    assert shown["Program ROI"] == format_value(k["program_roi"], "pct") != "34.4%"
    assert shown["Revenue"] == format_value(k["revenue"], "money", "$")
    assert at.number_input(key="inp_point_value").value == 0.008
    assert at.number_input(key="inp_gross_margin").value == 45.0
    assert at.text_input(key="inp_currency").value == "$"
    assert {name: param(at, name) for name in LINK_INPUTS} == LINK_INPUTS  # and stay in the URL


def test_changed_inputs_are_written_to_the_link_and_copy_link_says_what_it_holds(sample):
    at = open_link("kpis.py", {})
    assert param(at, "gm") is None and param(at, "pv") is None  # defaults are left out
    assert param(at, "ds") == sample.fingerprint[:8] and param(at, "ds_name") == sample.name
    at.number_input(key="inp_gross_margin").set_value(45.0).run()
    at.number_input(key="inp_point_value").set_value(0.008).run()
    assert param(at, "gm") == "45" and param(at, "pv") == "0.008"
    assert at.expander[-1].label == "🔗 Copy link"
    link = at.code[-1].value
    assert "gm=45" in link and "pv=0.008" in link and "kpi_from=" in link
    assert f"ds={sample.fingerprint[:8]}" in link
    said = " ".join(m.value for m in at.markdown if "The link carries" in m.value)
    assert "point value €0.008/point, gross margin 45%" in said and "period " in said
    assert sample.fingerprint[:8] in said
    at.number_input(key="inp_gross_margin").set_value(30.0).run()
    assert param(at, "gm") is None


def sender_scenarios() -> str:
    """The sender's simulator link: their inferred baseline (by its name) and a preset."""
    baseline = replace(SAMPLE_RULES, name=INFERRED_NAME)
    return encode_scenarios([(baseline, BehaviourAssumptions()),
                             (presets(baseline)["Extend expiry to 24 months"], BehaviourAssumptions())])


def test_a_link_made_on_an_uploaded_dataset_says_so_and_does_not_call_its_rules_inferred():
    params = {"ds": "1a2b3c4d", "ds_name": "orders_2017.csv", "sc": sender_scenarios()}
    at = open_link("simulator.py", params)
    warned = warnings(at)
    assert "made on an uploaded dataset (**orders_2017.csv**, fingerprint `1a2b3c4d`)" in warned
    assert "upload it on the Data page to see the same numbers" in warned
    columns = set(next(df.value for df in at.dataframe if "KPI" in df.value.columns).columns)
    assert "Baseline (from the link)" in columns and INFERRED_NAME not in columns
    # The notice is on every page, not only the first one opened.
    at.switch_page("pages/kpis.py")
    at.run()
    assert "made on an uploaded dataset" in warnings(at)


def test_a_link_made_on_the_same_data_keeps_its_baseline_and_shows_no_notice(sample):
    params = {"ds": sample.fingerprint[:8], "ds_name": sample.name, "sc": sender_scenarios()}
    at = open_link("simulator.py", params)
    assert "This link was made on" not in warnings(at)
    columns = set(next(df.value for df in at.dataframe if "KPI" in df.value.columns).columns)
    assert INFERRED_NAME in columns


def test_the_notice_goes_once_the_links_dataset_is_uploaded(sample):
    upload = Dataset(sample.transactions.head(2000), name="orders.csv")
    at = open_link("kpis.py", {"ds": upload.fingerprint[:8], "ds_name": "orders.csv"})
    assert "made on an uploaded dataset (**orders.csv**" in warnings(at)
    at.session_state["dataset"] = upload  # as the Data page's "Use this data" does
    at.run()
    assert "This link was made on" not in warnings(at)
    assert param(at, "ds") == upload.fingerprint[:8]


@pytest.mark.parametrize(
    ("page", "params"),
    [
        ("segments.py", {"k": "²"}),  # passes str.isdigit, not int()
        ("segments.py", {"seg_features": "frequency,frequency"}),
        ("kpis.py", {"kpi_to": "NaT", "kpi_from": "nat"}),
        ("clv.py", {"clv_h": "nan", "clv_d": "inf"}),
        ("report.py", {"clv_h": "nan"}),
        ("simulator.py", {"sc": "[" * 5000}),
    ],
)
def test_crafted_links_never_crash_a_page(page, params):
    """Links probed as an attacker would (issue 19): bad values are ignored, no page raises."""
    open_app_page(page, params=params)  # asserts there is no exception
