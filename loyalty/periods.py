"""Reporting periods: inclusive calendar days in the API, half-open nanosecond ranges inside.

Shared by the KPI engine, the report, the pages and the Spark path, so "the period" and
"the previous period" mean the same days everywhere. A period is compared with the previous
period or the same period last year (:func:`comparison`), and only when the data covers that
comparison period entirely: a comparison period holding one day of data out of 365 would
report a +50,000% revenue change.
"""

from __future__ import annotations

from dataclasses import dataclass
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


#: Comparison bases of a KPI view: key (as kept in links) -> what it is called on the page.
COMPARISON_BASES = {"previous": "previous period", "last_year": "same period last year"}


def same_period_last_year(start: DateLike, end: DateLike) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The same calendar days one year earlier, as inclusive days.

    Calendar dates rather than a fixed 365 days, so January is compared with January; 29 February
    maps to 28 February, so a period containing it is one day longer than its comparison.
    """
    s, e = period_bounds(start, end)
    year = pd.DateOffset(years=1)
    return s - year, e - pd.Timedelta(days=1) - year


def comparison_period(start: DateLike, end: DateLike,
                      basis: str = "previous") -> tuple[pd.Timestamp, pd.Timestamp]:
    """The period ``[start, end]`` is compared with, as inclusive days.

    ``basis`` is a key of :data:`COMPARISON_BASES`: ``"previous"`` (:func:`previous_period`) or
    ``"last_year"`` (:func:`same_period_last_year`). Raises ``ValueError`` for another basis.
    """
    if basis == "previous":
        return previous_period(start, end)
    if basis == "last_year":
        return same_period_last_year(start, end)
    raise ValueError(f"Unknown comparison {basis!r}: use one of {', '.join(COMPARISON_BASES)}.")


def coverage_gap(start: DateLike, end: DateLike, data_start: DateLike | None,
                 data_end: DateLike | None = None) -> str:
    """Why the data does not cover every day of ``[start, end]``, or ``""`` when it does.

    Parameters
    ----------
    start, end : date-like
        The period, both days included.
    data_start, data_end : date-like, optional
        First and last moment with data (any time of day: whole days count). ``data_start``
        None means no data at all; ``data_end`` None skips the check of the end.

    Returns
    -------
    str
        ``"data starts 01 Nov 2023"``, ``"data ends 31 Oct 2026"``, ``"no data"`` or ``""``.
    """
    if data_start is None or pd.isna(data_start):
        return "no data"
    first = pd.Timestamp(data_start).normalize()
    s, e = period_bounds(start, end)
    if s < first:
        return f"data starts {first:%d %b %Y}"
    if data_end is not None and not pd.isna(data_end):
        last = pd.Timestamp(data_end).normalize()
        if e - pd.Timedelta(days=1) > last:
            return f"data ends {last:%d %b %Y}"
    return ""


@dataclass(frozen=True)
class Comparison:
    """The period a KPI view is compared with, and whether the data allows the comparison.

    Attributes
    ----------
    basis : str
        Key of :data:`COMPARISON_BASES`.
    start, end : pandas.Timestamp
        The comparison period, both days included.
    missing : str
        Why there is no comparison (``"data starts 01 Nov 2023"``), ``""`` when there is one.
    """

    basis: str
    start: pd.Timestamp
    end: pd.Timestamp
    missing: str = ""

    @property
    def available(self) -> bool:
        """True when the data covers both the period and its comparison period entirely."""
        return not self.missing

    @property
    def label(self) -> str:
        """What the comparison is called: "previous period" or "same period last year"."""
        return COMPARISON_BASES[self.basis]

    @property
    def days(self) -> int:
        """Length of the comparison period in days."""
        return (self.end - self.start).days + 1


def comparison(start: DateLike, end: DateLike, data_start: DateLike | None, data_end: DateLike | None,
               basis: str = "previous") -> Comparison:
    """The comparison period of ``[start, end]`` and whether changes against it can be shown.

    A change is shown only when the data covers every day of both periods: the comparison
    period has the length of the period (same calendar days a year earlier for
    ``"last_year"``) and lies after the first day with data. A comparison period that
    overlaps the period (a period longer than a year against last year) is no comparison.
    """
    cs, ce = comparison_period(start, end, basis)
    s, _ = period_bounds(start, end)
    missing = "the period is longer than a year" if ce >= s else ""
    missing = missing or coverage_gap(cs, ce, data_start) or coverage_gap(start, end, data_start, data_end)
    return Comparison(basis, cs, ce, missing)


def ns(t: pd.Timestamp) -> int:
    """Nanoseconds since the epoch of a naive timestamp."""
    return int(pd.Timestamp(t).as_unit("ns").value)


_DAY_NS = 86_400 * 10**9


def month_index(t_ns: np.ndarray) -> np.ndarray:
    """Calendar months since 1970-01 of int64 ns times (one lookup per element through a day table)."""
    t_ns = np.asarray(t_ns, dtype=np.int64)
    if t_ns.size == 0:
        return t_ns.copy()
    day = t_ns // _DAY_NS
    d0 = int(day.min())
    days = np.arange(d0, int(day.max()) + 1).astype("datetime64[D]")
    return days.astype("datetime64[M]").astype(np.int64)[day - d0]
