"""Reporting periods: inclusive calendar days in the API, half-open nanosecond ranges inside.

Shared by the KPI engine, the report, the pages and the Spark path, so "the period" and
"the previous period" mean the same days everywhere.
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd

DateLike = str | date | datetime | pd.Timestamp | np.datetime64


def period_bounds(start: DateLike, end: DateLike) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``[start, end]`` inclusive days -> half-open ``[start 00:00, end+1 00:00)``.

    Raises ``ValueError`` when ``end`` is before ``start``.
    """
    s = pd.Timestamp(start).normalize()
    e = pd.Timestamp(end).normalize() + pd.Timedelta(days=1)
    if e <= s:
        raise ValueError(f"Period end {pd.Timestamp(end).date()} is before its start {s.date()}.")
    return s, e


def previous_period(start: DateLike, end: DateLike) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The same number of whole days just before ``start``, as inclusive days."""
    s, e = period_bounds(start, end)
    days = (e - s).days
    return s - pd.Timedelta(days=days), s - pd.Timedelta(days=1)


def ns(t: pd.Timestamp) -> int:
    """Nanoseconds since the epoch of a naive timestamp."""
    return int(pd.Timestamp(t).as_unit("ns").value)
