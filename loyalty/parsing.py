"""Vectorised parsing of messy number, date and id columns.

Every parser takes a whole column (a pandas Series of text, or an already
typed column from Excel/Parquet) and returns the parsed values plus a boolean
``bad`` mask of values that were present but could not be parsed. Empty cells
and the usual missing markers (``NA``, ``null``, ``-``...) are *missing*, not
bad: the caller decides whether a missing value is acceptable.

No function here loops over rows in Python: the work is done by pandas string
methods (regular expressions compatible with RE2, so they run in pyarrow) and
``pd.to_numeric`` / ``pd.to_datetime``; one million values take well under a
second per column.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

DateOrder = Literal["dayfirst", "monthfirst", "iso"]
DATE_ORDERS: tuple[str, ...] = ("dayfirst", "monthfirst", "iso")

#: Cell values treated as missing (compared after strip + lower-case).
MISSING_MARKERS: tuple[str, ...] = ("", "na", "n/a", "#n/a", "null", "none", "nan", "nat", "-", "--")

_SPACES = r"[\s\u00a0\u202f\u2009\u2007]"
_CURRENCY = r"(?:[€$£¥₣]|\b(?:EUR|USD|GBP|CHF|CAD|AUD|JPY)\b)"


def as_text(s: pd.Series) -> pd.Series:
    """``s`` as stripped ``str`` values with missing markers turned into NaN."""
    if s.dtype != "str":
        s = s.astype("str")
    s = s.str.strip()
    missing = s.str.lower().isin(MISSING_MARKERS)
    return s.mask(missing)


# ---------------------------------------------------------------- numbers ---
@dataclass(frozen=True)
class ParsedNumbers:
    """Result of :func:`parse_numbers`.

    ``decimal`` is the decimal separator used for the column (``"."`` or
    ``","``); ``ambiguous`` says the data did not tell (e.g. only integers or
    only ``1,234``-shaped values) and the caller's hint was used.
    """

    values: pd.Series  # float64
    bad: pd.Series  # bool: present but unparseable
    decimal: str
    ambiguous: bool


def parse_numbers(s: pd.Series, decimal_hint: str = ".") -> ParsedNumbers:
    """Parse a column of numbers written by people and spreadsheets.

    Accepts ``1234.56``, ``1,234.56``, ``1234,56``, ``1 234,56`` (also with
    no-break/thin spaces or ``'`` as thousands separator), currency signs and
    codes (``€ $ £ EUR``...), a leading ``+``/``-``, a trailing minus
    (``12.50-``), accounting negatives ``(12.50)`` and scientific notation.

    The decimal separator is decided once per column from the data: a
    separator followed by 1-2 or 4+ digits, or the last of two different
    separators, is a decimal separator; ``1,234,567``-shaped grouping is a
    thousands separator. When nothing tells, ``decimal_hint`` is used. A value
    whose grouping contradicts the column's decision (``12.50`` in a
    decimal-comma column) is *bad*, never silently rescaled.
    """
    if pd.api.types.is_bool_dtype(s.dtype):
        vals = s.astype("float64")
        return ParsedNumbers(vals, pd.Series(False, index=s.index), decimal_hint, True)
    if pd.api.types.is_numeric_dtype(s.dtype):
        vals = s.astype("float64")
        bad = pd.Series(~np.isfinite(vals.to_numpy()) & vals.notna().to_numpy(), index=s.index)
        return ParsedNumbers(vals.mask(bad), bad, ".", False)
    text = as_text(s)
    present = text.notna()
    t = text.fillna("")
    # Accounting negatives "(12.50)" and trailing minus "12.50-".
    paren = t.str.match(r"^\(.*\)$")
    t = t.str.replace(r"^\((.*)\)$", r"\1", regex=True)
    t = t.str.replace(_CURRENCY, "", regex=True).str.replace(_SPACES, "", regex=True)
    trailing = t.str.match(r"^[0-9.,']+-$")
    t = t.str.replace(r"-$", "", regex=True)
    lead_minus = t.str.match(r"^-")
    t = t.str.replace(r"^[+-]", "", regex=True).str.replace("'", "", regex=False)
    negative = paren | trailing | lead_minus

    sci = t.str.match(r"^[0-9]*\.?[0-9]+[eE][+-]?[0-9]+$")
    has_dot = t.str.contains(".", regex=False)
    has_comma = t.str.contains(",", regex=False)
    # Evidence per value (only over present values).
    comma_dec = (has_comma & has_dot & t.str.match(r"^[0-9.]*,[0-9]*$")) | t.str.match(
        r"^[0-9]*,(?:[0-9]{1,2}|[0-9]{4,})$"
    )
    dot_dec = (has_comma & has_dot & t.str.match(r"^[0-9,]*\.[0-9]*$")) | t.str.match(
        r"^[0-9]*\.(?:[0-9]{1,2}|[0-9]{4,})$"
    ) | t.str.match(r"^[0-9]{1,3}(?:,[0-9]{3}){2,}$")
    comma_dec |= t.str.match(r"^[0-9]{1,3}(?:\.[0-9]{3}){2,}$")
    n_comma, n_dot = int((comma_dec & present).sum()), int((dot_dec & present & ~sci).sum())
    ambiguous = n_comma == n_dot
    if n_comma > n_dot:
        decimal = ","
    elif n_dot > n_comma:
        decimal = "."
    else:
        decimal = decimal_hint if decimal_hint in (".", ",") else "."
    thousands = "." if decimal == "," else ","
    t_thou, t_dec = ("\\" + thousands if thousands == "." else thousands), ("\\" + decimal if decimal == "." else decimal)
    well_formed = t.str.match(
        rf"^(?:[0-9]+|[0-9]{{1,3}}(?:{t_thou}[0-9]{{3}})+)(?:{t_dec}[0-9]*)?$|^{t_dec}[0-9]+$"
    ) | sci
    cleaned = t.str.replace(thousands, "", regex=False).str.replace(decimal, ".", regex=False)
    cleaned = cleaned.where(~sci, t)
    vals = pd.to_numeric(cleaned.where(well_formed & present), errors="coerce").astype("float64")
    vals = vals.where(~negative, -vals)
    finite = np.isfinite(vals.to_numpy(dtype="float64", na_value=np.nan))
    ok = pd.Series(finite, index=s.index)
    bad = present & ~ok
    return ParsedNumbers(vals.where(ok), bad, decimal, ambiguous)


# ------------------------------------------------------------------ dates ---
_ISO = (
    r"^(?P<y>[0-9]{4})[-/.](?P<m>[0-9]{1,2})[-/.](?P<d>[0-9]{1,2})"
    r"(?:[ T]+(?P<H>[0-9]{1,2})[:h](?P<M>[0-9]{2})(?::(?P<S>[0-9]{2})(?:[.,][0-9]+)?)?)?"
    r"\s*(?P<tz>Z|[+-][0-9]{2}:?[0-9]{2})?$"
)
_DMY = (
    r"^(?P<a>[0-9]{1,2})[-/.](?P<b>[0-9]{1,2})[-/.](?P<y>[0-9]{4}|[0-9]{2})"
    r"(?:[ T,]+(?P<H>[0-9]{1,2})[:h](?P<M>[0-9]{2})(?::(?P<S>[0-9]{2})(?:[.,][0-9]+)?)?\s*(?P<ap>[AaPp][Mm])?)?$"
)
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")


@dataclass(frozen=True)
class ParsedDates:
    """Result of :func:`parse_dates`; ``values`` is ``datetime64[ns]``."""

    values: pd.Series
    bad: pd.Series
    order: str | None  # order used for a/b/yyyy values, None if there were none


@dataclass(frozen=True)
class OrderEvidence:
    """How many ``a/b/yyyy`` values prove day-first (a > 12) or month-first (b > 12)."""

    slash_values: int
    day_first: int
    month_first: int


def date_order_evidence(s: pd.Series) -> OrderEvidence:
    """Count the ``a/b/yyyy`` values of a text column and what they prove."""
    if s.dtype != "str" and not pd.api.types.is_object_dtype(s.dtype):
        return OrderEvidence(0, 0, 0)
    parts = as_text(s).str.extract(_DMY)[["a", "b"]].dropna()
    a = pd.to_numeric(parts["a"])
    b = pd.to_numeric(parts["b"])
    return OrderEvidence(len(parts), int((a > 12).sum()), int((b > 12).sum()))


def _from_parts(y, m, d, hh, mm, ss) -> pd.Series:
    frame = pd.DataFrame(
        {
            "year": pd.to_numeric(y, errors="coerce"),
            "month": pd.to_numeric(m, errors="coerce"),
            "day": pd.to_numeric(d, errors="coerce"),
            "hour": pd.to_numeric(hh, errors="coerce").fillna(0),
            "minute": pd.to_numeric(mm, errors="coerce").fillna(0),
            "second": pd.to_numeric(ss, errors="coerce").fillna(0),
        }
    )
    if frame.empty:
        return pd.Series([], dtype="datetime64[ns]", index=frame.index)
    ok = (
        frame["month"].between(1, 12)
        & frame["day"].between(1, 31)
        & frame["hour"].between(0, 23)
        & frame["minute"].between(0, 59)
        & frame["second"].between(0, 59)
        & frame["year"].between(1, 9999)
    )
    # Impossible calendar dates (31/02) become NaT in to_datetime(errors="coerce").
    out = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    if ok.any():
        sub = frame[ok].astype("int64")
        # Dates outside the ns range (year 2262+) cannot be represented: they are NaT here
        # and reported as unparseable rather than raising.
        in_range = sub["year"].between(1678, 2261)
        if in_range.any():
            out.loc[sub.index[in_range]] = pd.to_datetime(sub[in_range], errors="coerce").astype(
                "datetime64[ns]"
            )
    return out


def parse_dates(s: pd.Series, order: str | None = "dayfirst") -> ParsedDates:
    """Parse a date/time column.

    Recognised without guessing: ISO-like ``2024-12-31[ T]18:05[:00][Z|+01:00]``
    (also ``2024/12/31``), typed datetimes from Excel/Parquet (time zones are
    converted to UTC then dropped), Excel serial day numbers in numeric
    columns. ``a/b/yyyy [HH:MM[:SS] [AM|PM]]`` (separators ``/ . -``, two-digit
    years mean 20yy below 70 else 19yy) is read with ``order``: ``"dayfirst"``
    or ``"monthfirst"``; with ``"iso"`` such values are bad. Anything else
    (``12 Jan 2024``...) goes through pandas' flexible parser on the distinct
    values only. Impossible dates (``31/02/2024``) are bad.
    """
    idx = s.index
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        vals = s.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]")
        return ParsedDates(vals, pd.Series(False, index=idx), "iso")
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return ParsedDates(s.astype("datetime64[ns]"), pd.Series(False, index=idx), "iso")
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        num = s.astype("float64")
        serial = num.between(1, 2958465)  # Excel serial days up to 9999-12-31
        days = num.where(serial)
        vals = pd.Series(pd.NaT, index=idx, dtype="datetime64[ns]")
        ok = serial & days.between(-100_000, 106_000)  # inside the datetime64[ns] range
        vals[ok] = _EXCEL_EPOCH + pd.to_timedelta(days[ok], unit="D")
        return ParsedDates(vals, num.notna() & vals.isna(), "iso")

    text = as_text(s)
    present = text.notna()
    out = pd.Series(pd.NaT, index=idx, dtype="datetime64[ns]")

    iso = text.str.extract(_ISO)
    is_iso = iso["y"].notna()
    if is_iso.any():
        sub = iso[is_iso]
        out.loc[sub.index] = _from_parts(sub["y"], sub["m"], sub["d"], sub["H"], sub["M"], sub["S"])
        tz = sub["tz"].dropna()
        if len(tz):
            # Offsets are applied to bring times to UTC (then kept naive).
            sign = np.where(tz.str.startswith("-"), -1, 1)
            digits = tz.str.replace(r"[^0-9]", "", regex=True)
            mins = pd.to_numeric(digits.str[:2], errors="coerce").fillna(0) * 60 + pd.to_numeric(
                digits.str[2:4], errors="coerce"
            ).fillna(0)
            out.loc[tz.index] = out.loc[tz.index] - pd.to_timedelta(sign * mins, unit="min")

    dmy = text.str.extract(_DMY)
    is_dmy = dmy["a"].notna() & ~is_iso
    used_order = None
    if is_dmy.any():
        used_order = order if order in ("dayfirst", "monthfirst", "iso") else "dayfirst"
        sub = dmy[is_dmy]
        if used_order != "iso":
            year = pd.to_numeric(sub["y"], errors="coerce")
            year = year.where(sub["y"].str.len() == 4, np.where(year < 70, 2000 + year, 1900 + year))
            day, month = (sub["a"], sub["b"]) if used_order == "dayfirst" else (sub["b"], sub["a"])
            hour = pd.to_numeric(sub["H"], errors="coerce")
            ap = sub["ap"].str.lower()
            valid_12h = ap.isna() | hour.between(1, 12)
            hour = hour.where(~(ap == "pm") | (hour == 12), hour + 12)
            hour = hour.where(~((ap == "am") & (hour == 12)), 0)
            parsed = _from_parts(year, month, day, hour, sub["M"], sub["S"])
            out.loc[sub.index] = parsed.where(valid_12h.fillna(True).astype(bool))

    rest = present & ~is_iso & ~is_dmy
    if rest.any():
        out.loc[rest] = _flexible(text[rest], dayfirst=used_order != "monthfirst" and order != "monthfirst")
    bad = present & out.isna()
    return ParsedDates(out, bad, used_order)


def _flexible(text: pd.Series, dayfirst: bool) -> pd.Series:
    """Fallback parser for unusual spellings, run once per distinct value.

    Values that contain no digit cannot be dates and are skipped, and when
    there are very many distinct values a sample is tried first so a column of
    junk does not take minutes.
    """
    uniq = pd.Series(text.unique())
    uniq = uniq[uniq.str.contains(r"[0-9]", regex=True)]
    if len(uniq) > 20_000:
        trial = _to_datetime_mixed(uniq.sample(500, random_state=0), dayfirst)
        if trial.notna().mean() < 0.5:
            return pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    parsed = _to_datetime_mixed(uniq, dayfirst)
    lookup = pd.Series(parsed.to_numpy(), index=uniq.to_numpy())
    return pd.Series(text.map(lookup).to_numpy(), index=text.index).astype("datetime64[ns]")


def _to_datetime_mixed(values: pd.Series, dayfirst: bool) -> pd.Series:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            parsed = pd.to_datetime(values, errors="coerce", format="mixed", dayfirst=dayfirst, utc=True)
        except (ValueError, TypeError, OverflowError):
            return pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    parsed = parsed.dt.tz_localize(None)
    lo, hi = pd.Timestamp("1678-01-01"), pd.Timestamp("2261-12-31")
    parsed = parsed.where((parsed >= lo) & (parsed <= hi))
    return parsed.astype("datetime64[ns]")


# -------------------------------------------------------------------- ids ---
def normalise_ids(s: pd.Series) -> pd.Series:
    """Identifiers as stripped text; float-looking ids ``17850.0`` become ``17850``.

    Numeric columns (Excel, Parquet) are written without a decimal part when
    they hold whole numbers. Leading zeros in text ids are kept.
    """
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        num = s.astype("float64")
        whole = num.notna() & np.isfinite(num) & (num == np.floor(num)) & (num.abs() < 2**53)
        out = num.astype("str").mask(num.isna())
        ints = num.where(whole).astype("Int64").astype("str")
        return out.where(~whole, ints).astype("str")
    text = as_text(s)
    return text.str.replace(r"^(-?[0-9]+)\.0+$", r"\1", regex=True)
