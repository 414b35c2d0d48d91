"""Session-state accessors: the one place the current dataset and the
program inputs live for a browser session.

Uploaded data is kept only in ``st.session_state`` (per session, in memory).
The bundled sample is shared read-only through ``st.cache_resource``.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from typing import Any

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


def short_fingerprint(ds: Dataset) -> str:
    """The first 8 hex digits of the dataset's content hash: what links carry to name the data."""
    return ds.fingerprint[:8]


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
#: Program inputs in a link: ProgramInputs field -> (URL name, lowest, highest), in the sidebar's
#: units (gross margin in %). Every input that changes a number travels in the link.
INPUT_PARAMS: dict[str, tuple[str, float, float]] = {
    "point_value": ("pv", 0.0, 10.0),
    "gross_margin": ("gm", 0.0, 100.0),
    "monthly_platform_cost": ("pc", 0.0, math.inf),
}
CURRENCY_PARAM = "cur"
#: The dataset a link was made on: its short fingerprint and its name (never its data).
DATASET_PARAMS = ("ds", "ds_name")
_LINK_READ = "link_read"
_LINK_DATASET = "link_dataset"


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


def _number_text(value: float) -> str:
    """A number as a short, exact-enough URL value (0.0125, 45, 1250000)."""
    return f"{value:.12g}"


def read_link() -> None:
    """Take the program inputs and the dataset a link carries, on the session's first run only.

    The inputs seed the sidebar widgets (later runs keep what the user sets); the dataset
    (short fingerprint and name) is remembered so every page can say when the link was made on
    other data (:func:`link_dataset_mismatch`). Called by the router before the sidebar.
    """
    if st.session_state.get(_LINK_READ):
        return
    st.session_state[_LINK_READ] = True
    for field, (name, lo, hi) in INPUT_PARAMS.items():
        default = getattr(INPUT_DEFAULTS, field) * (100 if field == "gross_margin" else 1)
        st.session_state.setdefault(_INPUTS[field], float(query_number(name, default, lo, hi)))
    currency = (query_param(CURRENCY_PARAM) or "").strip()[:4] or INPUT_DEFAULTS.currency
    st.session_state.setdefault(_INPUTS["currency"], currency)
    fp, name = (query_param(p) for p in DATASET_PARAMS)
    if fp:
        st.session_state[_LINK_DATASET] = (fp.strip()[:16], (name or "").strip() or "unnamed dataset")


def write_link(ds: Dataset) -> None:
    """Keep the program inputs (when not the defaults) and the dataset's fingerprint and name in the URL."""
    inp = program_inputs()
    for field, (name, _, _) in INPUT_PARAMS.items():
        value = getattr(inp, field)
        default = getattr(INPUT_DEFAULTS, field)
        shown = value * 100 if field == "gross_margin" else value
        set_query_param(name, None if math.isclose(value, default) else _number_text(shown))
    set_query_param(CURRENCY_PARAM, None if inp.currency == INPUT_DEFAULTS.currency else inp.currency)
    set_query_param(DATASET_PARAMS[0], short_fingerprint(ds))
    set_query_param(DATASET_PARAMS[1], ds.name)


def link_dataset() -> tuple[str, str] | None:
    """(short fingerprint, name) of the dataset the session's opening link was made on, if it said."""
    return st.session_state.get(_LINK_DATASET)


def link_dataset_mismatch() -> tuple[str, str] | None:
    """The opening link's dataset (short fingerprint, name) when it is not the dataset shown, else None."""
    claim = link_dataset()
    return claim if claim is not None and claim[0] != short_fingerprint(current_dataset()) else None


# --- view choices kept for the session --------------------------------------------------------
# A widget's state is dropped when its page is left, so a choice another page uses (the period,
# the CLV horizon) is also kept here: the session's choice first, the link's second.
_VIEW = "session_view"


def session_view(name: str, default: Any = None) -> Any:
    """A view choice made in this session (on any page), else ``default``."""
    return st.session_state.get(_VIEW, {}).get(name, default)


def keep_view(name: str, value: Any) -> None:
    """Remember a view choice for the session, for the other pages that use it."""
    views = dict(st.session_state.get(_VIEW, {}))
    views[name] = value
    st.session_state[_VIEW] = views


def view_choice(name: str, options: Collection[str], default: str) -> str:
    """A view choice (also the URL parameter ``name``): the session's, else the link's, else ``default``."""
    for value in (session_view(name), query_param(name)):
        if value in options:
            return value
    return default


#: Customer-value view parameters shared by the CLV and report pages: (URL name, default, min, max).
CLV_HORIZON = ("clv_h", 12, 1, 60)  # months
CLV_DISCOUNT = ("clv_d", 10.0, 0.0, 50.0)  # annual %, in the URL as a percentage
#: The Customer value page's widget keys for the horizon and the discount.
CLV_WIDGETS = ("clv_horizon", "clv_discount")


def clv_view() -> tuple[int, float]:
    """The CLV horizon (months) and annual discount (%): the session's, else the link's, else the defaults.

    The session's choice is the Customer value page's widgets (read live while they exist,
    and kept for the session, since their state goes when that page is left); the report
    uses it, so it reports what the user just chose.
    """
    live = [st.session_state.get(k) for k in CLV_WIDGETS]
    if None not in live:
        h, d = int(live[0]), float(live[1])
        keep_view("clv", (min(max(h, CLV_HORIZON[2]), CLV_HORIZON[3]),
                          min(max(d, CLV_DISCOUNT[2]), CLV_DISCOUNT[3])))
    kept = session_view("clv")
    if kept is not None:
        return kept
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
