"""Shared AppTest helper: open one page of the app through the router."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from loyalty.schema import Dataset

ROOT = Path(__file__).resolve().parents[2]


def open_app_page(page: str, dataset: Dataset | None = None, params: dict[str, str] | None = None,
                  timeout: int = 120) -> AppTest:
    """Run ``app.py`` once, then switch to ``pages/<page>`` with an optional dataset and URL parameters.

    Fails if the page shows an exception.
    """
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    at.run()
    if dataset is not None:
        at.session_state["dataset"] = dataset
    for k, v in (params or {}).items():
        at.query_params[k] = v
    at.switch_page(f"pages/{page}")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at
