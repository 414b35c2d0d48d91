"""The Report page renders, builds the report on one click and offers both downloads."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def _download_labels(at: AppTest) -> list[str]:
    return [el.proto.label for el in at.get("download_button")]


def test_report_page_builds_and_offers_downloads():
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["kpi_from"] = "2026-01-01"
    at.query_params["kpi_to"] = "2026-06-30"
    at.run()
    at.switch_page("pages/report.py")
    at.query_params["kpi_from"] = "2026-01-01"  # a shared link to the report carries the KPI period
    at.query_params["kpi_to"] = "2026-06-30"
    at.run()
    assert not at.exception
    assert at.title[0].value == "Report"
    assert at.session_state["report_period"][0].isoformat() == "2026-01-01"
    assert _download_labels(at) == []  # nothing to download before the build
    at.button(key="report_build").click().run()
    assert not at.exception and not at.error
    assert _download_labels(at) == ["⬇ HTML report", "⬇ Every table as Excel (one sheet per table)"]
    # A rerun keeps the files (from the cache); changing the period asks for a new build.
    at.run()
    assert len(_download_labels(at)) == 2
    start, end = at.session_state["report_period"]
    at.date_input(key="report_period").set_value((start, end.replace(day=29))).run()
    assert not at.exception
    assert _download_labels(at) == []
    assert any("changed since the last build" in i.value for i in at.info)


def test_report_page_respects_the_pseudonymise_setting():
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("pages/report.py")
    # Set as the sidebar toggle would (its key), so this test does not depend on the sidebar's layout.
    at.session_state["pseudonymise_exports"] = True
    at.run()
    assert any("pseudonymised in both files" in c.value for c in at.caption)
    at.button(key="report_build").click().run()
    assert not at.exception and len(_download_labels(at)) == 2


def test_report_uses_the_sessions_segmentation_with_its_names():
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("pages/segments.py")
    at.run()
    labels, names = at.session_state["segments"]
    renamed = {**names, 0: "<script>alert(1)</script> **VIP**"}
    at.session_state["segments"] = (labels, renamed)  # as the Segments page publishes a rename
    at.switch_page("pages/report.py")
    at.run()
    assert any("your segmentation from the Segments page" in m.value for m in at.markdown)
    at.button(key="report_build").click().run()
    assert not at.exception and not at.error
    assert len(_download_labels(at)) == 2


def test_report_uses_the_simulators_scenarios_published_or_linked():
    from dataclasses import replace

    from loyalty.simulator import encode_scenarios
    from loyalty.simulator.behaviour import BehaviourAssumptions
    from loyalty.simulator.rules import SAMPLE_RULES

    rules = (SAMPLE_RULES, replace(SAMPLE_RULES, name="<script>alert(2)</script> *cheap*", point_value=0.008))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("pages/report.py")
    at.session_state["current_scenarios"] = rules  # what ui.state.publish_scenarios publishes
    at.run()
    assert any("your 2 What-if simulator scenarios" in m.value for m in at.markdown)
    at.button(key="report_build").click().run()
    assert not at.exception and len(_download_labels(at)) == 2

    linked = AppTest.from_file(APP, default_timeout=120)
    linked.run()
    linked.switch_page("pages/report.py")
    linked.query_params["sc"] = encode_scenarios([(r, BehaviourAssumptions()) for r in rules])
    linked.run()
    assert not linked.exception
    assert any("your 2 What-if simulator scenarios" in m.value for m in linked.markdown)


# --- the report follows the session's choices (session state first, the URL second) ------------------
def navigate(at: AppTest, page: str) -> None:
    """Go to another page as the sidebar navigation does: the browser drops the query string on the way."""
    at.query_params.clear()
    at.switch_page(f"pages/{page}")
    at.run()
    assert not at.exception, [e.value for e in at.exception]


def _includes(at: AppTest) -> str:
    """The "The report will include" text, on one line."""
    return " ".join(next(m.value for m in at.markdown if "The report will include" in m.value).split())


def test_report_uses_the_period_chosen_on_the_kpi_page():
    import datetime as dt

    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    navigate(at, "kpis.py")
    at.date_input(key="kpi_period").set_value((dt.date(2026, 1, 1), dt.date(2026, 1, 31))).run()
    navigate(at, "segments.py")  # the KPI page's widget state is gone by now
    navigate(at, "report.py")
    # Before: the report fell back to the last 12 months (01 Nov 2025 – 31 Oct 2026).
    assert at.session_state["report_period"] == (dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    assert "**KPI summary** for 01 Jan 2026 – 31 Jan 2026" in _includes(at)
    assert at.query_params["kpi_from"] in ("2026-01-01", ["2026-01-01"])  # and a link from here carries it
    navigate(at, "kpis.py")  # one period for both pages, also on the way back
    assert at.date_input(key="kpi_period").value == (dt.date(2026, 1, 1), dt.date(2026, 1, 31))


def test_report_uses_the_clv_horizon_and_discount_chosen_on_the_clv_page():
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    navigate(at, "clv.py")
    at.slider(key="clv_horizon").set_value(24).run()
    at.number_input(key="clv_discount").set_value(5.0).run()
    navigate(at, "overview.py")  # the Customer value page's widget state is gone by now
    navigate(at, "report.py")
    # Before: 12 months at 10%/year, the defaults, whatever was chosen on the Customer value page.
    assert "over 24 months (discount 5%/year" in _includes(at)


def test_the_sessions_choice_wins_over_the_link():
    import datetime as dt

    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["kpi_from"] = "2026-03-01"
    at.query_params["kpi_to"] = "2026-03-31"
    at.run()
    navigate(at, "kpis.py")
    at.date_input(key="kpi_period").set_value((dt.date(2026, 1, 1), dt.date(2026, 1, 31))).run()
    at.switch_page("pages/report.py")
    at.query_params["kpi_from"] = "2026-03-01"  # a stale period in the address
    at.query_params["kpi_to"] = "2026-03-31"
    at.run()
    assert "for 01 Jan 2026 – 31 Jan 2026" in _includes(at)
