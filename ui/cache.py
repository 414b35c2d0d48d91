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
