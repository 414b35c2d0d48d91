"""The sidebar every page shares: data source, program inputs, privacy, segment filter."""

from __future__ import annotations

import streamlit as st

from ui.state import (
    INPUT_DEFAULTS,
    current_dataset,
    current_segments,
    input_key,
    is_sample,
    use_sample,
)
from ui.text import md_escape


def render() -> None:
    ds = current_dataset()
    with st.sidebar:
        st.markdown(f"**Data:** {md_escape(ds.name)}")
        if is_sample():
            st.caption("The bundled sample program. Upload your own exports on the Data page.")
        elif st.button("Back to the sample program", key="sb_use_sample"):
            use_sample()
            st.rerun()

        with st.expander("Program inputs", expanded=False):
            st.caption("Set once, used by every page.")
            st.number_input(
                "Point value (currency per point)",
                min_value=0.0,
                max_value=10.0,
                value=INPUT_DEFAULTS.point_value,
                step=0.001,
                format="%.4f",
                key=input_key("point_value"),
                help="What one redeemed point costs the program. Used for reward cost and liability.",
            )
            st.number_input(
                "Gross margin (%)",
                min_value=0.0,
                max_value=100.0,
                value=INPUT_DEFAULTS.gross_margin * 100,
                step=1.0,
                key=input_key("gross_margin"),
                help="Gross margin on sales, used for ROI and margin-based CLV.",
            )
            st.number_input(
                "Monthly platform cost",
                min_value=0.0,
                value=INPUT_DEFAULTS.monthly_platform_cost,
                step=100.0,
                key=input_key("monthly_platform_cost"),
                help="Fixed monthly cost of running the program, added to costs from data.",
            )
            st.text_input("Currency symbol", value=INPUT_DEFAULTS.currency, max_chars=4, key=input_key("currency"))

        st.toggle(
            "Pseudonymise member ids in exports",
            key="pseudonymise_exports",
            help="Replace member ids by stable pseudonyms (salted hash) in every CSV/Excel/report export.",
        )

        seg = current_segments()
        if seg is not None:
            _, names = seg
            st.multiselect(
                "Segment filter",
                options=sorted(set(names.values())),
                key="segment_filter",
                help="Restrict pages that support it to members of these segments (from the Segments page).",
            )
