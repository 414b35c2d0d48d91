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
