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
from ui.state import current_dataset  # noqa: E402

PAGES = [
    st.Page("pages/overview.py", title="Overview", icon="🏠", default=True),
    st.Page("pages/data.py", title="Data", icon="📥", url_path="data"),
    st.Page("pages/kpis.py", title="KPI dashboard", icon="📊", url_path="kpis"),
    st.Page("pages/segments.py", title="Segments", icon="🧩", url_path="segments"),
    st.Page("pages/clv.py", title="Customer value", icon="💎", url_path="clv"),
    st.Page("pages/simulator.py", title="What-if simulator", icon="🧪", url_path="simulator"),
    st.Page("pages/report.py", title="Report", icon="📝", url_path="report"),
]

page = st.navigation(PAGES)
current_dataset()  # the session's dataset: the sample program until an upload replaces it
sidebar.render()
page.run()
