"""The what-if simulator page: presets, editing a scenario changes the comparison,
invalid input is reported next to it, and the scenarios travel in the URL."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from loyalty.simulator import decode_scenarios, encode_scenarios, presets
from loyalty.simulator.behaviour import BehaviourAssumptions
from loyalty.simulator.rules import SAMPLE_RULES
from tests.pages.apptest import open_app_page

ROOT = Path(__file__).resolve().parents[2]


def open_page(url_sc: str | None = None) -> AppTest:
    return open_app_page("simulator.py", params={"sc": url_sc} if url_sc else None)


def table(at: AppTest):
    return next(df.value for df in at.dataframe if "KPI" in df.value.columns)


def value(at: AppTest, kpi_label: str, column: str) -> float:
    df = table(at)
    return float(df.loc[df["KPI"] == kpi_label, column].iloc[0])


def test_editing_point_value_changes_the_comparison():
    at = open_page()
    assert "sc" in at.query_params
    df = table(at)  # the page opens on the inferred baseline and a first preset
    assert "Devalue points 20%" in df.columns and "Δ Devalue points 20%" in df.columns
    base = value(at, "Reward cost", "Baseline (inferred)")
    assert value(at, "Reward cost", "Devalue points 20%") == pytest.approx(base * 0.8)
    # edit the scenario's point value: the comparison follows
    pv_inputs = [n for n in at.number_input if n.key and n.key.endswith("_pv")]
    pv_inputs[1].set_value(0.02).run()
    assert not at.exception, [e.value for e in at.exception]
    assert value(at, "Reward cost", "Devalue points 20%") == pytest.approx(base * 2)
    assert value(at, "Reward cost", "Δ% Devalue points 20%") == pytest.approx(100.0)
    # and the link now carries the edited scenario
    code = at.query_params["sc"]
    url_rules = [r for r, _ in decode_scenarios(code if isinstance(code, str) else code[0])]
    assert url_rules[1].point_value == 0.02


def test_preset_button_adds_a_scenario():
    at = open_page()
    at.button(key="sim_preset_Add a top tier").click().run()
    assert not at.exception, [e.value for e in at.exception]
    df = table(at)
    assert "Add a top tier" in df.columns
    assert value(at, "Members in tier Platinum at end", "Add a top tier") > 0


def test_invalid_input_is_shown_next_to_it():
    at = open_page()
    months = [n.key for n in at.number_input if n.key and n.key.endswith("_months")]
    at.number_input(key=months[1]).set_value(0).run()
    assert not at.exception
    assert any("Expiry months" in e.value for e in at.error)
    assert any("left out of the comparison" in w.value for w in at.warning)
    at.number_input(key=months[0]).set_value(0).run()  # the baseline itself
    assert not at.exception
    assert any("Fix the baseline" in i.value for i in at.info)


def test_a_link_reproduces_the_scenarios():
    sc = encode_scenarios(
        [
            (SAMPLE_RULES, BehaviourAssumptions()),
            (presets(SAMPLE_RULES)["Extend expiry to 24 months"], BehaviourAssumptions(spend_elasticity=0.3)),
        ]
    )
    at = open_page(sc)
    df = table(at)
    assert {"Sample program rules", "Extend expiry to 24 months"} <= set(df.columns)
    assert value(at, "Points expired", "Δ Extend expiry to 24 months") < 0


def test_a_damaged_link_is_reported_not_a_traceback():
    at = open_page("not-a-valid-code")
    assert any("damaged" in e.value for e in at.error)
    assert "Baseline (inferred)" in table(at).columns
