"""Bounded cached wrappers around :mod:`loyalty` kernels.

Each wrapper takes the dataset as ``_ds`` (not hashed: hashing 1M rows on
every rerun is what caching is meant to avoid) plus ``ds.fingerprint``, the
content hash that is the actual key, so sessions with different data never
share an entry and identical data is computed once. Entries are bounded by
``max_entries`` and ``ttl`` to keep server memory flat. Callers must not
mutate what a wrapper returns.
"""

from __future__ import annotations

import streamlit as st

from loyalty.schema import Dataset

TTL = 3600  # seconds


@st.cache_data(max_entries=32, ttl=TTL, show_spinner=False)
def _cached_call(fn_key: str, _fn, _ds: Dataset, fingerprint: str, args: tuple, kwargs: tuple):
    return _fn(_ds, *args, **dict(kwargs))


def cached(fn, ds: Dataset, *args, **kwargs):
    """Cache ``fn(ds, *args, **kwargs)`` on (function, dataset content, arguments).

    For small results (tables of KPIs, profiles). Arguments must be hashable by
    Streamlit. Large per-member results get a dedicated wrapper with its own bound.
    """
    key = f"{fn.__module__}.{fn.__qualname__}"
    return _cached_call(key, fn, ds, ds.fingerprint, args, tuple(sorted(kwargs.items())))


# --- kpis ---
def member_filter_key(ids: set[str] | None) -> str:
    """Cheap, order-independent cache key of a member-id filter ("all" when None)."""
    if ids is None:
        return "all"
    import numpy as np
    import pandas as pd

    # Sum of per-id hashes: independent of set order, ~ms for 100k ids.
    h = pd.util.hash_array(np.asarray(list(ids), dtype=object))
    return f"{len(ids)}:{int(h.sum(dtype=np.uint64))}"


@st.cache_data(max_entries=64, ttl=TTL, show_spinner=False)
def _kpi_call(fn_key: str, _fn, _ds: Dataset, fingerprint: str, args: tuple, kwargs: tuple,
              filter_key: str, _members_filter):
    return _fn(_ds, *args, members_filter=_members_filter, **dict(kwargs))


def cached_filtered(fn, ds: Dataset, members_filter: set[str] | None, *args, **kwargs):
    """Like :func:`cached` for loyalty KPI functions taking ``members_filter``.

    The (possibly 100k-id) filter is keyed by :func:`member_filter_key`
    instead of being hashed by Streamlit on every rerun.
    """
    key = f"{fn.__module__}.{fn.__qualname__}"
    return _kpi_call(key, fn, ds, ds.fingerprint, args, tuple(sorted(kwargs.items())),
                     member_filter_key(members_filter), members_filter)


# --- segments & clv ---
from loyalty import clv as _clv  # noqa: E402
from loyalty import features as _features  # noqa: E402
from loyalty import segmentation as _seg  # noqa: E402


@st.cache_data(max_entries=4, ttl=TTL, show_spinner=False)
def member_features(_ds: Dataset, fingerprint: str):
    """:func:`loyalty.features.member_features` at the last transaction date."""
    return _features.member_features(_ds)


@st.cache_data(max_entries=8, ttl=TTL, show_spinner=False)
def k_choice(_ds: Dataset, fingerprint: str, columns: tuple[str, ...]):
    """The k sweep (2-10) on ``columns`` of the member features."""
    return _seg.choose_k(member_features(_ds, fingerprint), range(2, 11), list(columns))


@st.cache_data(max_entries=8, ttl=TTL, show_spinner=False)
def segmentation(_ds: Dataset, fingerprint: str, k: int, columns: tuple[str, ...]):
    """:func:`loyalty.segmentation.segment` (random_state 0: reproducible)."""
    return _seg.segment(member_features(_ds, fingerprint), k, list(columns))


@st.cache_data(max_entries=4, ttl=TTL, show_spinner=False)
def rfm_scores(_ds: Dataset, fingerprint: str):
    return _seg.rfm_scores(member_features(_ds, fingerprint))


@st.cache_data(max_entries=8, ttl=TTL, show_spinner=False)
def pca_points(_ds: Dataset, fingerprint: str, k: int, columns: tuple[str, ...], sample: int = 3000):
    labels = segmentation(_ds, fingerprint, k, columns).labels
    return _seg.pca_2d(member_features(_ds, fingerprint), labels, sample=sample, columns=list(columns))


@st.cache_data(max_entries=4, ttl=TTL, show_spinner=False)
def clv_models(_ds: Dataset, fingerprint: str, period_days: int = 7):
    """(fitted CLVModels, None) or (None, message for the user) -- failures are cached too."""
    try:
        return _clv.fit_models(_ds, period_days), None
    except (_clv.ModelError, ValueError) as exc:
        return None, str(exc)


@st.cache_data(max_entries=8, ttl=TTL, show_spinner=False)
def clv_values(_ds: Dataset, fingerprint: str, period_days: int, horizon_months: int, margin: float,
               annual_discount_rate: float):
    """Per-member CLV table (see :func:`loyalty.clv.customer_value`), or None when the fit failed."""
    models, _ = clv_models(_ds, fingerprint, period_days)
    if models is None:
        return None
    return _clv.customer_value(models.summary, models.bgnbd, models.gamma_gamma, horizon_months, margin,
                               annual_discount_rate, period_days=period_days)


@st.cache_data(max_entries=8, ttl=TTL, show_spinner=False)
def clv_calibration(_ds: Dataset, fingerprint: str, calibration_end: str, holdout_end: str, period_days: int = 7):
    """(CalibrationCheck, None) or (None, message)."""
    try:
        return _clv.member_calibration_check(_ds, calibration_end, holdout_end, period_days), None
    except (_clv.ModelError, ValueError) as exc:
        return None, str(exc)
