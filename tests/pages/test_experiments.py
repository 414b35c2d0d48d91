"""The Experiments page: lift of the sample's campaigns, planning, event study, bad input, the simulator link."""

from __future__ import annotations

import pandas as pd

from loyalty import campaign_lift, load_sample
from loyalty.schema import Dataset
from tests.pages.apptest import open_app_page
from ui.widgets import format_value


def tiles(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_page_shows_the_sample_campaigns_on_first_open():
    at = open_app_page("experiments.py")
    assert "Experiments" in [t.value for t in at.title]
    assert [s.value for s in at.subheader][:2] == ["Campaign lift (randomised test vs control)", "Plan the next test"]
    lift = campaign_lift(load_sample())
    table = at.dataframe[0].value
    assert table["campaign"].tolist() == lift["campaign"].tolist()
    box = at.selectbox(key="exp_campaign")
    assert box.options == lift["campaign"].tolist()
    first = lift.iloc[0]
    shown = tiles(at)
    assert shown["Incremental spend per test member"] == format_value(first["incremental_spend_per_member"], "money")
    assert shown["Relative lift"] == format_value(first["relative_lift"], "pct")
    assert "Minimum detectable effect (CUPED)" in shown and "Members needed (CUPED)" in shown
    text = " ".join(m.value for m in at.markdown)
    assert "CUPED narrowed the interval by" in text and "The interval includes 0" in text
    assert len(at.get("vega_lite_chart")) >= 3  # overview, curves, difference
    # No purchases before enrolment in the sample: the event study says why instead of guessing.
    assert any("Purchases before enrolment are not in the data" in i.value for i in at.info)


def test_choosing_a_campaign_and_planning():
    at = open_app_page("experiments.py")
    lift = campaign_lift(load_sample()).set_index("campaign")
    at.selectbox(key="exp_campaign").select("Autumn app push 2026").run()
    assert not at.exception
    r = lift.loc["Autumn app push 2026"]
    assert tiles(at)["Incremental spend per test member"] == format_value(r["incremental_spend_per_member"], "money")
    assert any("groups imbalanced before the campaign" in w.value for w in at.warning)
    assert at.number_input(key="exp_plan_days").value == 30
    assert at.number_input(key="exp_plan_nc").value == r["n_control"]
    before = tiles(at)["Members needed (CUPED)"]
    at.number_input(key="exp_plan_target").set_value(50.0).run()
    assert not at.exception and tiles(at)["Members needed (CUPED)"] != before


def test_one_click_takes_the_lift_into_the_simulator():
    at = open_app_page("experiments.py")
    at.button(key="exp_use_lift").click().run()
    assert not at.exception
    assert any("now assume a spend uplift" in s.value for s in at.success)
    value, label = at.session_state["sim_measured_uplift"]
    first = campaign_lift(load_sample()).iloc[0]
    assert value == round(first["relative_lift"], 12) or abs(value - first["relative_lift"]) < 1e-12
    assert label.startswith("measured: Spring double points 2026")
    at.switch_page("pages/simulator.py").run()
    assert not at.exception
    assert at.slider(key="sim_2_su").value == value  # the first what-if scenario (id 2) starts from it
    assert any("measured: Spring double points 2026" in c.value for c in at.caption)


def test_a_dataset_without_campaigns_says_what_the_table_unlocks():
    ds = load_sample().replace(campaigns=None, name="No campaigns")
    at = open_app_page("experiments.py", dataset=ds)
    assert any("No **campaigns (test / control)** table" in i.value for i in at.info)
    assert "Minimum detectable effect (CUPED)" in tiles(at)


def test_bad_campaigns_are_left_out_with_a_message():
    ds = load_sample()
    bad = pd.DataFrame({"member_id": pd.array(["M00001", "M00002"], dtype="str"),
                        "campaign": pd.array(["Only test", "Only test"], dtype="str"),
                        "group": pd.array(["test", "test"], dtype="str"),
                        "start": pd.Series([pd.Timestamp("2026-05-01")] * 2, dtype="datetime64[ns]"),
                        "end": pd.Series([pd.Timestamp("2026-05-31")] * 2, dtype="datetime64[ns]")})
    ds = Dataset(ds.transactions, ds.members, ds.ledger, ds.surveys, ds.costs,
                 campaigns=pd.concat([ds.campaigns, bad], ignore_index=True), name="With a bad campaign")
    at = open_app_page("experiments.py", dataset=ds)
    warned = " ".join(w.value for w in at.warning)
    assert "Left out (not guessed)" in warned and "no control group" in warned
    assert "Only test" not in at.selectbox(key="exp_campaign").options
