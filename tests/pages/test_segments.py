"""AppTest: the Segments page on the bundled sample program."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.pages.apptest import open_app_page

ROOT = Path(__file__).resolve().parents[2]


def open_page() -> AppTest:
    return open_app_page("segments.py")


def test_segments_page_renders_and_publishes_segments():
    at = open_page()
    assert at.title[0].value == "Segments"
    assert any("Recommended: k =" in m.value for m in at.markdown)
    k = at.number_input(key="seg_k").value
    assert at.query_params["k"] == str(k)
    assert "recency_days" in at.query_params["seg_features"]
    labels, names = at.session_state["segments"]
    assert len(names) == k and labels.nunique() == k
    assert len(set(names.values())) == k
    assert at.get("data_editor")  # rename table
    assert any(b.label.startswith("⬇ CSV") for b in at.get("download_button"))


def test_k_override_and_features_in_url():
    at = open_page()
    at.number_input(key="seg_k").set_value(3).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.query_params["k"] == "3"
    _, names = at.session_state["segments"]
    assert len(names) == 3
    at.multiselect(key="seg_features").set_value(["frequency", "monetary"]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.query_params["seg_features"] == "frequency,monetary"


def test_k_from_url_is_used():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["k"] = "6"
    at.run()
    at.switch_page("pages/segments.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.number_input(key="seg_k").value == 6
