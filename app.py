"""Loyalty Lab: entry point and router.

Sets the page config, makes sure a dataset is in the session (the bundled
sample until the user uploads one), draws the sidebar (data source, program
inputs, export privacy, segment filter) and hands over to the selected page.
Run with ``streamlit run app.py``.
"""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="Loyalty Lab", page_icon="🎯", layout="wide")

from ui import sidebar  # noqa: E402  (set_page_config must come first)
from ui.router import routed  # noqa: E402
from ui.state import current_dataset  # noqa: E402

PAGES = [  # (file, title, url path); plain titles keep the navigation readable by screen readers and tests
    ("pages/overview.py", "Overview", "overview"),
    ("pages/data.py", "Data", "data"),
    ("pages/kpis.py", "KPI dashboard", "kpis"),
    ("pages/segments.py", "Segments", "segments"),
    ("pages/clv.py", "Customer value", "clv"),
    ("pages/simulator.py", "What-if simulator", "simulator"),
    ("pages/report.py", "Report", "report"),
]
page = st.navigation([st.Page(f, title=t, url_path=u, default=(u == "overview")) for f, t, u in PAGES])
current_dataset()  # the session's dataset: the sample program until an upload replaces it
sidebar.render()
with routed():
    page.run()
