"""Make every page run through ``app.py``, the router.

Streamlit keeps a legacy mode for apps that have a ``pages/`` folder, switched
off only once ``st.navigation`` has run in the server process. Until then a deep
link such as ``/kpis`` (the first request to a fresh server) runs the page file
alone: no sidebar, no program inputs, a file list as navigation. ``app.py`` wraps
the page run in :func:`routed`; a page that finds itself outside it leaves the
legacy mode and reruns once, and the router then resolves the same URL to the
same page with its query parameters.
"""

from __future__ import annotations

import contextvars
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

_ROUTED: contextvars.ContextVar[bool] = contextvars.ContextVar("loyalty_lab_routed", default=False)
_RETRIED = "_router_retried"


@contextmanager
def routed() -> Iterator[None]:
    """Mark the current script run as going through the router."""
    token = _ROUTED.set(True)
    try:
        yield
    finally:
        _ROUTED.reset(token)


def ensure_router() -> None:
    """Rerun through the router if this page was started without it (at most once per session)."""
    if _ROUTED.get():
        st.session_state.pop(_RETRIED, None)
        return
    if st.session_state.get(_RETRIED) or "streamlit.testing.v1.app_test" in sys.modules:
        # Never loop; and AppTest re-enables the legacy mode before every run by design,
        # so a reroute there would only drop the run's widget events.
        return
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = False
    st.session_state[_RETRIED] = True
    st.rerun()
