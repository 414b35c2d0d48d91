"""The sidebar every page shares: data source, program inputs, privacy, segment filter, "Copy link"."""

from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

from loyalty.periods import COMPARISON_BASES
from loyalty.simulator import decode_scenarios
from loyalty.simulator.rules import RulesError
from ui.state import (
    CLV_DISCOUNT,
    CLV_HORIZON,
    CURRENCY_PARAM,
    DATASET_PARAMS,
    INPUT_PARAMS,
    current_dataset,
    current_segments,
    input_key,
    is_sample,
    program_inputs,
    segment_filter,
    use_sample,
    write_link,
)
from ui.text import md_escape


def render():
    """Draw the shared sidebar and keep the program inputs and the dataset in the URL.

    Returns
    -------
    streamlit container
        An empty slot at the end of the sidebar, which the router fills with :func:`share_link`
        once the page has run.
    """
    ds = current_dataset()
    with st.sidebar:
        st.markdown(f"**Data:** {md_escape(ds.name)}")
        if is_sample():
            st.caption("The bundled sample program. Upload your own exports on the Data page.")
        elif st.button("Back to the sample program", key="sb_use_sample"):
            use_sample()
            st.rerun()

        with st.expander("Program inputs", expanded=False):
            # No value= here: the widgets start from session state, seeded from the link or the
            # defaults by ui.state.read_link (a value= as well would be a second, conflicting start).
            st.caption("Set once, used by every page; kept in the page's link.")
            st.number_input(
                "Point value (currency per point)",
                min_value=0.0,
                max_value=10.0,
                step=0.001,
                format="%.4f",
                key=input_key("point_value"),
                help="What one redeemed point costs the program. Used for reward cost and liability.",
            )
            st.number_input(
                "Gross margin (%)",
                min_value=0.0,
                max_value=100.0,
                step=1.0,
                key=input_key("gross_margin"),
                help="Gross margin on sales, used for ROI and margin-based CLV.",
            )
            st.number_input(
                "Monthly platform cost",
                min_value=0.0,
                step=100.0,
                key=input_key("monthly_platform_cost"),
                help="Fixed monthly cost of running the program, added to costs from data.",
            )
            st.text_input("Currency symbol", max_chars=4, key=input_key("currency"))
        write_link(ds)

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
        return st.container()


def share_link(slot) -> None:
    """The "Copy link" control in ``slot``: this page's address with its view parameters, and what they carry.

    Drawn after the page has run, so the parameters the page keeps in the URL (period,
    scenarios...) are in it. ``st.context.url`` is the page's address without the query
    string (None outside a browser session, e.g. in AppTest: the link is then relative).
    """
    params = st.query_params.to_dict()
    url = (st.context.url or "") + ("?" + urlencode(params) if params else "")
    with slot.expander("🔗 Copy link"):
        st.caption("Opens this page with the same numbers. Copy it with the button at the right of the box.")
        st.code(url, language=None, wrap_lines=True)
        st.markdown("**The link carries**\n" + "\n".join(f"- {line}" for line in _link_contents(params)))
        left_out = "uploaded data (only its name and fingerprint)"
        if segment_filter() is not None:
            # Segments are computed and named in the session: a link cannot rebuild them.
            left_out += " and the sidebar segment filter (the recipient sees all members)"
        st.caption(f"Not in the link: {left_out}.")


def _link_contents(params: dict[str, str]) -> list[str]:
    """What a link with ``params`` reproduces, one plain sentence per part, for the Copy link control."""
    inp = program_inputs()
    cur = inp.currency
    fp, name = (params.get(p, "") for p in DATASET_PARAMS)
    lines = [
        f"the dataset's name and fingerprint (**{md_escape(name)}**, `{fp}`), never its data: for an "
        "upload, the recipient uploads the same file to see the same numbers",
        f"program inputs: point value {md_escape(cur)}{inp.point_value:g}/point, gross margin "
        f"{inp.gross_margin:.0%}, platform cost {md_escape(cur)}{inp.monthly_platform_cost:,.0f}/month "
        "(defaults are left out of the address)",
    ]
    known = {*DATASET_PARAMS, CURRENCY_PARAM, *(n for n, _, _ in INPUT_PARAMS.values())}
    get = {k: md_escape(str(v)) for k, v in params.items()}.get  # the address is typed by anyone: escape it
    if "kpi_from" in params and "kpi_to" in params:
        lines.append(f"period {get('kpi_from')} – {get('kpi_to')}")
    if "kpi_vs" in params:
        lines.append(f"KPIs compared with the {COMPARISON_BASES.get(params['kpi_vs'], get('kpi_vs'))}")
    if CLV_HORIZON[0] in params or CLV_DISCOUNT[0] in params:
        lines.append(f"customer value over {get(CLV_HORIZON[0], CLV_HORIZON[1])} months, discount "
                     f"{get(CLV_DISCOUNT[0], CLV_DISCOUNT[1])}%/year")
    if "k" in params or "seg_features" in params:
        lines.append(f"segmentation: {get('k', 'recommended')} segments on "
                     f"{get('seg_features', 'the default features').replace(',', ', ')}")
    if "sc" in params:
        try:
            lines.append(f"{len(decode_scenarios(params['sc']))} what-if rule sets (baseline first)")
        except RulesError:
            lines.append("what-if rule sets (damaged: the recipient will see the defaults)")
    known |= {"kpi_from", "kpi_to", "kpi_vs", CLV_HORIZON[0], CLV_DISCOUNT[0], "k", "seg_features", "sc"}
    for key, value in params.items():
        if key.startswith("kpi_") and key not in known:
            values = value.replace("|", ", ")
            lines.append(f"member {md_escape(key.removeprefix('kpi_'))}: {md_escape(values)}")
        elif key not in known:
            lines.append(f"{md_escape(key)} = {md_escape(value)}")
    return lines
