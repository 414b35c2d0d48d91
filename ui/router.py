"""The router: page config, navigation, the shared sidebar, then the selected page.

``app.py`` calls :func:`run_app`. Streamlit still runs a page file on its own when the app
has a ``pages/`` folder and the server has not yet seen ``st.navigation`` (a deep link such
as ``/kpis`` as a fresh server's first request): no sidebar, no program inputs. Every page
calls :func:`ensure_router` first (through ``page_header``); a page run outside the router
hands over to the router's own ``st.navigation`` code in the same script run, which resolves
the same URL to the same page with its query parameters, and then stops the outer run.
Public Streamlit API only: ``st.navigation`` is what switches the legacy page discovery off.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

#: (file, title, url path); plain titles keep the navigation readable by screen readers and tests.
PAGES: tuple[tuple[str, str, str], ...] = (
    ("pages/overview.py", "Overview", "overview"),
    ("pages/data.py", "Data", "data"),
    ("pages/kpis.py", "KPI dashboard", "kpis"),
    ("pages/points.py", "Points & liability", "points"),
    ("pages/segments.py", "Segments", "segments"),
    ("pages/clv.py", "Customer value", "clv"),
    ("pages/experiments.py", "Experiments", "experiments"),
    ("pages/simulator.py", "What-if simulator", "simulator"),
    ("pages/report.py", "Report", "report"),
)

_ROUTED: contextvars.ContextVar[bool] = contextvars.ContextVar("loyalty_lab_routed", default=False)


@contextmanager
def routed() -> Iterator[None]:
    """Mark the current script run as going through the router."""
    token = _ROUTED.set(True)
    try:
        yield
    finally:
        _ROUTED.reset(token)


def run_app() -> None:
    """Page config, navigation, the session's dataset and link, the sidebar, the page, then "Copy link"."""
    from ui import sidebar  # imported here: the sidebar's widgets import this module
    from ui.state import current_dataset, read_link

    st.set_page_config(page_title="Loyalty Lab", page_icon="🎯", layout="wide")
    page = st.navigation([st.Page(f, title=t, url_path=u, default=(u == "overview")) for f, t, u in PAGES])
    current_dataset()  # the session's dataset: the sample program until an upload replaces it
    read_link()  # first run only: the program inputs and the dataset the link was made on
    slot = sidebar.render()
    with routed():
        try:
            page.run()
        finally:
            # After the page, so the link has the parameters the page wrote; also when the page
            # stops early (st.stop), which is when a user most needs to share what they see.
            sidebar.share_link(slot)


def ensure_router() -> None:
    """Run the app through the router if this page file was started on its own (legacy page discovery)."""
    if _ROUTED.get():
        return
    run_app()
    st.stop()
