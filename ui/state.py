"""Session-state accessors: the one place the current dataset and the
program inputs live for a browser session.

Uploaded data is kept only in ``st.session_state`` (per session, in memory).
The bundled sample is shared read-only through ``st.cache_resource``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd
import streamlit as st

from loyalty.inputs import ProgramInputs
from loyalty.schema import Dataset
from loyalty.simulator.rules import RewardRules

_DATASET = "dataset"
_SEGMENTS = "segments"
_SCENARIOS = "current_scenarios"
_INPUTS = {
    "point_value": "inp_point_value",
    "gross_margin": "inp_gross_margin",
    "monthly_platform_cost": "inp_platform_cost",
    "currency": "inp_currency",
}
INPUT_DEFAULTS = ProgramInputs()


@st.cache_resource(show_spinner="Loading the sample program…", max_entries=1)
def _sample() -> Dataset:
    from loyalty import load_sample

    return load_sample()


def current_dataset() -> Dataset:
    """The dataset this session is looking at (the sample until something is uploaded)."""
    ds = st.session_state.get(_DATASET)
    if ds is None:
        ds = _sample()
        st.session_state[_DATASET] = ds
    return ds


def set_dataset(ds: Dataset) -> None:
    """Make ``ds`` the session's dataset; derived state (segments) is reset."""
    st.session_state[_DATASET] = ds
    st.session_state.pop(_SEGMENTS, None)
    st.session_state.pop(_SCENARIOS, None)


def use_sample() -> None:
    set_dataset(_sample())


def is_sample() -> bool:
    return current_dataset() is _sample()


def program_inputs() -> ProgramInputs:
    """Program inputs set in the sidebar (defaults before the sidebar is drawn)."""
    vals = {
        field: st.session_state.get(key, getattr(INPUT_DEFAULTS, field))
        for field, key in _INPUTS.items()
    }
    if _INPUTS["gross_margin"] in st.session_state:  # the widget is in percent
        vals["gross_margin"] = float(vals["gross_margin"]) / 100.0
    vals["currency"] = str(vals["currency"]).strip() or INPUT_DEFAULTS.currency
    return ProgramInputs(**vals)


def input_key(field: str) -> str:
    """Session-state key of the sidebar widget for a ProgramInputs field."""
    return _INPUTS[field]


def pseudonymise_exports() -> bool:
    return bool(st.session_state.get("pseudonymise_exports", False))


# --- view state in the URL (shareable links; never uploaded data) -----------
def query_param(name: str, default: str | None = None) -> str | None:
    """A view parameter from the URL, or ``default``."""
    value = st.query_params.get(name)
    return default if value is None else value


def set_query_param(name: str, value: object | None) -> None:
    """Keep a view parameter in the URL so the link reproduces the view."""
    if value is None:
        if name in st.query_params:
            del st.query_params[name]
        return
    text = str(value)
    if st.query_params.get(name) != text:
        st.query_params[name] = text


def query_number(name: str, default: float, lo: float, hi: float) -> float:
    """A numeric view parameter from the URL, clipped to ``[lo, hi]``; ``default`` when absent or not a number."""
    try:
        value = float(query_param(name, str(default)))
    except ValueError:
        return default
    return min(max(value, lo), hi) if math.isfinite(value) else default


#: Customer-value view parameters shared by the CLV and report pages: (URL name, default, min, max).
CLV_HORIZON = ("clv_h", 12, 1, 60)  # months
CLV_DISCOUNT = ("clv_d", 10.0, 0.0, 50.0)  # annual %, in the URL as a percentage


def clv_view() -> tuple[int, float]:
    """The CLV horizon (months) and annual discount rate (%) a link carries, else the defaults."""
    return int(query_number(*CLV_HORIZON)), query_number(*CLV_DISCOUNT)


# --- segments shared across pages -------------------------------------------
def set_segments(labels: pd.Series, names: dict[int, str]) -> None:
    """Publish the current segmentation (member_id -> segment number, number -> name)."""
    st.session_state[_SEGMENTS] = (labels, dict(names))


def current_segments() -> tuple[pd.Series, dict[int, str]] | None:
    return st.session_state.get(_SEGMENTS)


def segment_filter() -> set[str] | None:
    """Member ids of the segments chosen in the sidebar filter, or None for all."""
    seg = current_segments()
    chosen = st.session_state.get("segment_filter") or []
    if seg is None or not chosen:
        return None
    labels, names = seg
    wanted = {k for k, v in names.items() if v in chosen}
    return set(labels.index[labels.isin(wanted)].astype(str))


# --- simulator scenarios shared across pages (the report) ----------------------
def publish_scenarios(rules: Sequence[RewardRules]) -> None:
    """Publish the simulator's current rule sets (``RewardRules``, baseline first) for other pages."""
    st.session_state[_SCENARIOS] = tuple(rules)


def current_scenarios() -> tuple[RewardRules, ...] | None:
    """The rule sets last published by the simulator (baseline first), or None."""
    return st.session_state.get(_SCENARIOS) or None
