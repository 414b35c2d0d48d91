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
from datetime import date, datetime
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

DateOrder = Literal["dayfirst", "monthfirst", "iso"]
DATE_ORDERS: tuple[str, ...] = ("dayfirst", "monthfirst", "iso")

#: Cell values treated as missing (compared after strip + lower-case).
MISSING_MARKERS: tuple[str, ...] = ("", "na", "n/a", "#n/a", "null", "none", "nan", "nat", "-", "--")

# Literal characters, not \s or \u escapes: those force pandas off the fast RE2 path.
_SPACES = "[ \t\u00a0\u202f\u2009\u2007]"
_CURRENCY = "(?:[€$£¥₣]|EUR|USD|GBP|CHF|CAD|AUD|JPY)"


def as_text(s: pd.Series) -> pd.Series:
    """``s`` as stripped ``str`` values with missing markers turned into NaN."""
    if s.dtype != "str":
        s = s.astype("str")
    arr = arrow_strings(s)
    if arr is not None:
        return _series(_as_text_arrow(arr), s.index)
    s = s.str.strip()
    missing = s.str.lower().isin(MISSING_MARKERS)
    return s.mask(missing)


def _case_variants(word: str) -> list[str]:
    out = [""]
    for ch in word:
        out = [o + c for o in out for c in dict.fromkeys((ch.lower(), ch.upper()))]
    return out


# Every upper/lower-case spelling of the markers: matching them exactly spares lower-casing
# whole columns.
_MARKERS = pa.array(
    sorted({v for m in MISSING_MARKERS for v in _case_variants(m)}), type=pa.large_string()
)
_MARKER_BYTES = max(len(m.encode()) for m in MISSING_MARKERS)
_STR = pd.StringDtype("pyarrow", na_value=np.nan)


def _as_text_arrow(arr: pa.ChunkedArray) -> pa.ChunkedArray:
    """:func:`as_text` on pyarrow strings, chunk by chunk.

    The same kernels pandas' ``.str.strip``/``.str.lower``/``.isin`` use,
    skipped where the raw bytes prove them unnecessary: a chunk whose values
    neither start nor end with whitespace or a non-ASCII byte is not copied
    by a strip, and only values of at most 4 bytes starting with a marker's
    first byte are looked up. Missing markers become nulls by clearing their
    validity bits (no copy of the strings).
    """
    return pa.chunked_array([_as_text_chunk(c) for c in arr.chunks], type=pa.large_string())


_WS_ASCII = np.zeros(256, dtype=bool)
_WS_ASCII[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = True
_WS_ASCII[128:] = True  # any non-ASCII byte: let pyarrow decide
_MARKER_FIRST = np.zeros(256, dtype=bool)
_MARKER_FIRST[[ord(v[0]) for v in _MARKERS.to_pylist() if v]] = True


def _as_text_chunk(chunk: pa.Array) -> pa.Array:
    if chunk.type != pa.large_string():
        chunk = chunk.cast(pa.large_string())
    n = len(chunk)
    if n == 0:
        return chunk
    # np.take(mode="clip") rather than fancy indexing: several times faster on millions of values.
    valid = ~chunk.is_null().to_numpy(zero_copy_only=False) if chunk.null_count else None
    offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int64)[chunk.offset : chunk.offset + n + 1]
    data_buf = chunk.buffers()[2]
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(1, dtype=np.uint8)
    if not len(data):
        data = np.zeros(1, dtype=np.uint8)
    length = np.subtract(offsets[1:], offsets[:-1])
    first = np.take(data, offsets[:-1], mode="clip")
    last = np.take(data, offsets[1:] - 1, mode="clip")
    edge = (np.take(_WS_ASCII, first) | np.take(_WS_ASCII, last)) & (length > 0)
    if valid is not None:
        edge &= valid
    short = length <= _MARKER_BYTES
    if edge.any():
        chunk = pc.utf8_trim_whitespace(chunk)
        short = pc.fill_null(pc.binary_length(chunk), 0).to_numpy() <= _MARKER_BYTES
    else:
        short &= (length == 0) | np.take(_MARKER_FIRST, first)
    if valid is not None:
        short &= valid
    candidates = np.flatnonzero(short)
    if len(candidates):
        hit = pc.is_in(chunk.take(candidates), value_set=_MARKERS).to_numpy(zero_copy_only=False)
        candidates = candidates[hit]
    if not len(candidates):
        return chunk
    missing = np.zeros(n, dtype=bool)
    missing[candidates] = True
    return pc.if_else(pa.array(missing), pa.scalar(None, pa.large_string()), chunk)


def filled_cells(arr: pa.ChunkedArray) -> np.ndarray:
    """Which values are present and not only whitespace (``s.str.strip() != ""``), as a bool array.

    Only values that start with whitespace or a non-ASCII byte are checked by
    pyarrow's ``utf8_is_space``; the others are decided from their first byte.
    """
    parts = []
    for chunk in arr.chunks:
        if chunk.type != pa.large_string():
            chunk = chunk.cast(pa.large_string())
        n = len(chunk)
        if n == 0:
            continue
        offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int64)[chunk.offset : chunk.offset + n + 1]
        data_buf = chunk.buffers()[2]
        data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, dtype=np.uint8)
        length = np.subtract(offsets[1:], offsets[:-1])
        filled = length > 0
        if chunk.null_count:
            filled &= ~chunk.is_null().to_numpy(zero_copy_only=False)
        if len(data):
            check = np.flatnonzero(filled & np.take(_WS_ASCII, np.take(data, offsets[:-1], mode="clip")))
            if len(check):
                space = pc.utf8_is_space(chunk.take(check)).to_numpy(zero_copy_only=False)
                filled[check[space]] = False
        parts.append(filled)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


def arrow_strings(s: pd.Series) -> pa.ChunkedArray | None:
    """The pyarrow strings behind a ``str`` column (None for other storages)."""
    dtype = s.dtype
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow" and dtype.na_value is not pd.NA:
        arr = s.array.__arrow_array__()
        return arr if isinstance(arr, pa.ChunkedArray) else pa.chunked_array([arr])
    return None


def _series(arr: pa.ChunkedArray, index: pd.Index) -> pd.Series:
    """A ``str`` Series over pyarrow strings."""
    if arr.type != pa.large_string():
        arr = arr.cast(pa.large_string())
    return pd.Series(pd.array(arr, dtype=_STR), index=index, copy=False)


# ---------------------------------------------------------------- numbers ---
@dataclass(frozen=True)
class ParsedNumbers:
    """Result of :func:`parse_numbers`.

    ``decimal`` is the decimal separator used for the column (``"."`` or
    ``","``); ``ambiguous`` says some values had a separator the data could not
    explain (only ``1,234``-shaped values) and the caller's hint was used.
    """

    values: pd.Series  # float64
    bad: pd.Series  # bool: present but unparseable
    decimal: str
    ambiguous: bool
    decided: bool = False  # the data itself chose the decimal separator


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
        return ParsedNumbers(vals.mask(bad), bad, ".", False, False)
    if pd.api.types.is_object_dtype(s.dtype):
        # Mixed Excel column: typed number cells are taken as they are, text cells are parsed.
        typed = _typed_mask(s, (int, float, np.number))
        if typed.any():
            direct = parse_numbers(pd.to_numeric(s.where(typed), errors="coerce").astype("float64"))
            text = parse_numbers(s.where(~typed).astype("str"), decimal_hint)
            vals = direct.values.where(typed, text.values)
            bad = (direct.bad & typed) | (text.bad & ~typed)
            return ParsedNumbers(vals, bad, text.decimal, text.ambiguous, text.decided)
        s = s.astype("str")
    return parse_number_text(as_text(s), decimal_hint)


def parse_number_text(text: pd.Series, decimal_hint: str) -> ParsedNumbers:
    """:func:`parse_numbers` of a column already through :func:`as_text`."""
    s = text
    present = text.notna()
    fast = _plain_numbers(text, present)
    if fast is not None:
        return fast
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
    dot_dec = (
        (has_comma & has_dot & t.str.match(r"^[0-9,]*\.[0-9]*$"))
        | t.str.match(r"^[0-9]*\.(?:[0-9]{1,2}|[0-9]{4,})$")
        | t.str.match(r"^[0-9]{1,3}(?:,[0-9]{3}){2,}$")
    )
    comma_dec |= t.str.match(r"^[0-9]{1,3}(?:\.[0-9]{3}){2,}$")
    n_comma, n_dot = int((comma_dec & present).sum()), int((dot_dec & present & ~sci).sum())
    # Ambiguous only if some value has a separator the data could not explain ("1,234").
    ambiguous = n_comma == n_dot and bool(((has_dot | has_comma) & present & ~sci).any())
    if n_comma > n_dot:
        decimal = ","
    elif n_dot > n_comma:
        decimal = "."
    else:
        decimal = decimal_hint if decimal_hint in (".", ",") else "."
    thousands = "." if decimal == "," else ","
    t_thou, t_dec = (
        ("\\" + thousands if thousands == "." else thousands),
        ("\\" + decimal if decimal == "." else decimal),
    )
    well_formed = (
        t.str.match(rf"^(?:[0-9]+|[0-9]{{1,3}}(?:{t_thou}[0-9]{{3}})+)(?:{t_dec}[0-9]*)?$|^{t_dec}[0-9]+$")
        | sci
    )
    cleaned = t.str.replace(thousands, "", regex=False).str.replace(decimal, ".", regex=False)
    cleaned = cleaned.where(~sci, t)
    vals = pd.to_numeric(cleaned.where(well_formed & present), errors="coerce").astype("float64")
    vals = vals.where(~negative, -vals)
    finite = np.isfinite(vals.to_numpy(dtype="float64", na_value=np.nan))
    ok = pd.Series(finite, index=s.index)
    bad = present & ~ok
    return ParsedNumbers(vals.where(ok), bad, decimal, ambiguous, n_comma != n_dot)


def _typed_mask(s: pd.Series, types: tuple[type, ...]) -> pd.Series:
    """Which cells of an object column hold Python values of ``types`` (bools excluded).

    Only object columns (mixed Excel cells) get here; they are small because
    reading Excel is itself cell by cell.
    """
    return s.map(lambda v: isinstance(v, types) and not isinstance(v, bool)).astype(bool)


_PLAIN = r"^-?[0-9]+(?:[.,][0-9]{1,2})?$"
_PLAIN_BYTES = np.zeros(256, dtype=bool)
_PLAIN_BYTES[list(b"0123456789.-")] = True


def _plain_chunk(chunk: pa.Array) -> bool:
    """True when every value of a chunk that pyarrow cast to float matches ``_PLAIN`` with a dot.

    Cheaper than the regular expression: given a successful cast, a value made of the bytes
    ``0-9 . -`` is plain when it has a digit before its dot and 1-2 digits after it. False
    means "not proven" (the caller then runs the regular expression).
    """
    n = len(chunk)
    if n == 0 or chunk.type != pa.large_string():
        return n == 0
    offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int64)[chunk.offset : chunk.offset + n + 1]
    data_buf = chunk.buffers()[2]
    if data_buf is None:
        return chunk.null_count == n
    data = np.frombuffer(data_buf, dtype=np.uint8)[offsets[0] : offsets[-1]]
    if not len(data):
        return chunk.null_count == n
    if not np.take(_PLAIN_BYTES, data).all():
        return False
    length = np.subtract(offsets[1:], offsets[:-1])
    neg = np.take(data, offsets[:-1] - offsets[0], mode="clip") == ord("-")
    dot = pc.fill_null(pc.find_substring(chunk, "."), -1).to_numpy()
    digits_before = np.where(dot < 0, length, dot) - neg
    after = length - dot - 1
    ok = (digits_before >= 1) & ((dot < 0) | ((after >= 1) & (after <= 2)))
    if chunk.null_count:
        ok |= chunk.is_null().to_numpy(zero_copy_only=False)
    return bool(ok.all())


def _plain_numbers(text: pd.Series, present: pd.Series) -> ParsedNumbers | None:
    """Fast path for machine exports: every value is ``-123``, ``-12.5`` or ``-12,50``."""
    arr = arrow_strings(text)
    if arr is not None:
        # Same test and values as below, straight on the pyarrow strings (pyarrow's string to
        # float cast rounds exactly like pd.to_numeric).
        try:
            floats = pc.cast(arr, pa.float64())  # succeeds only without decimal commas
            comma = False
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            floats = None
        if floats is None or not all(_plain_chunk(c) for c in arr.chunks):
            plain_arr = pc.match_substring_regex(arr, _PLAIN)
            if pc.any(pc.invert(plain_arr)).as_py():
                return None
        dot = bool(pc.any(pc.match_substring(arr, ".")).as_py())
        if floats is None:
            comma = bool(pc.any(pc.match_substring(arr, ",")).as_py())
            if dot and comma:
                return None
            try:
                floats = pc.cast(pc.replace_substring(arr, ",", "."), pa.float64())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                floats = None
        if floats is not None:
            vals = pd.Series(pc.fill_null(floats, np.nan).to_numpy(), index=text.index, dtype="float64")
            no = pd.Series(np.zeros(len(text), dtype=bool), index=text.index)
            return ParsedNumbers(vals, no, "," if comma else ".", False, dot or comma)
    plain = text.str.match(r"^-?[0-9]+(?:[.,][0-9]{1,2})?$") | ~present
    if not plain.all():
        return None
    has_dot = bool(text.str.contains(".", regex=False).any())
    has_comma = bool(text.str.contains(",", regex=False).any())
    if has_dot and has_comma:
        return None
    decimal = "," if has_comma else "."
    cleaned = text.str.replace(",", ".", regex=False) if has_comma else text
    vals = pd.to_numeric(cleaned, errors="coerce").astype("float64")
    no = pd.Series(False, index=text.index)
    return ParsedNumbers(vals, no, decimal, False, has_dot or has_comma)


# ------------------------------------------------------------------ dates ---
_DMY_HEAD = r"^[0-9]{1,2}[-/.][0-9]{1,2}[-/.](?:[0-9]{4}|[0-9]{2})(?:[ T,]|$)"
_YMD_HEAD = r"^[0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}(?:[ T]|$)"
_AMPM = r"[0-9] *[AaPp]\.?[Mm]\.?$"
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
#: Range of datetime64[ns]; parseable dates outside it are reported as out of range.
NS_MIN, NS_MAX = pd.Timestamp("1678-01-01"), pd.Timestamp("2261-12-31")


@dataclass(frozen=True)
class ParsedDates:
    """Result of :func:`parse_dates`; ``values`` is ``datetime64[ns]``.

    ``bad`` marks present values that are not dates (``31/02/2024``,
    ``hello``); ``out_of_range`` marks real dates that ``datetime64[ns]``
    cannot hold (before 1678 or after 2261), which callers report as
    implausible.
    """

    values: pd.Series
    bad: pd.Series
    out_of_range: pd.Series
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
    return order_evidence_text(as_text(s))


def order_evidence_text(text: pd.Series) -> OrderEvidence:
    """:func:`date_order_evidence` of a column already through :func:`as_text`."""
    sub = text[text.str.match(_DMY_HEAD).fillna(False).astype(bool)]
    a = sub.str.replace(r"^([0-9]{1,2})[-/.].*$", r"\1", regex=True).str.zfill(2)
    b = sub.str.replace(r"^[0-9]{1,2}[-/.]([0-9]{1,2})[-/.].*$", r"\1", regex=True).str.zfill(2)
    # Two-digit strings compare like numbers: "13" > "12".
    return OrderEvidence(len(sub), int((a > "12").sum()), int((b > "12").sum()))


def _to_naive(parsed: pd.Series) -> tuple[pd.Series, pd.Series]:
    """UTC-aware/us values -> (naive datetime64[ns] values, out-of-ns-range mask)."""
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    out_of_range = parsed.notna() & ((parsed < NS_MIN) | (parsed > NS_MAX))
    return parsed.mask(out_of_range).astype("datetime64[ns]"), out_of_range


def parse_dates(s: pd.Series, order: str | None = "dayfirst") -> ParsedDates:
    """Parse a date/time column.

    Recognised without guessing: ISO-like ``2024-12-31[ T]18:05[:00][Z|+01:00]``
    (also ``2024/12/31`` and ``2024.12.31``), compact ``yyyymmdd[HHMM[SS]]`` (text, or
    integers in a numeric column), typed datetimes from Excel/Parquet and offsets
    (converted to UTC, then kept naive), Excel serial day numbers in numeric columns and
    as text (``45292`` or ``45292.75``, 1970 to 2099). ``a/b/yyyy [HH:MM[:SS] [AM|PM]]``
    (separators ``/ . -``; ``18h05`` accepted; two-digit years mean 20yy below
    70 else 19yy) is read with ``order``: ``"dayfirst"`` or ``"monthfirst"``;
    with ``"iso"`` such values are bad. Anything else (``12 Jan 2024``...) goes
    through pandas' flexible parser on the distinct values only. Impossible
    dates (``31/02/2024``) are bad.
    """
    idx = s.index
    no = pd.Series(False, index=idx)
    if isinstance(s.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(s.dtype):
        vals, oor = _to_naive(s)
        return ParsedDates(vals, no, oor, "iso")
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        num = s.astype("float64")
        compact = _compact_numbers(num)
        if compact is not None:
            return compact
        serial = num.between(1, 2958465)  # Excel serial days up to 9999-12-31
        in_ns = num.between(-80_000, 131_000)  # serial days inside the datetime64[ns] range
        vals = pd.Series(pd.NaT, index=idx, dtype="datetime64[ns]")
        ok = serial & in_ns
        vals[ok] = _EXCEL_EPOCH + pd.to_timedelta(num[ok], unit="D")
        return ParsedDates(vals, num.notna() & ~serial, serial & ~in_ns, "iso")

    if pd.api.types.is_object_dtype(s.dtype):
        # Mixed Excel column: typed date cells are taken as they are, text cells are parsed.
        typed = _typed_mask(s, (datetime, date, pd.Timestamp))
        if typed.any():
            direct = parse_dates(pd.to_datetime(s.where(typed), errors="coerce"))
            text = parse_dates(s.where(~typed).astype("str"), order)
            return ParsedDates(
                direct.values.where(typed, text.values),
                (direct.bad & typed) | (text.bad & ~typed),
                (direct.out_of_range & typed) | (text.out_of_range & ~typed),
                text.order,
            )
        s = s.astype("str")
    return parse_date_text(as_text(s), order)


def iso_fast(text: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """Strict ISO ``YYYY-MM-DD[ T]hh[:mm[:ss]]`` values parsed by pyarrow.

    ``text`` has been through :func:`as_text`. Returns ``(ns, ok)``: int64
    nanoseconds and the mask of values pyarrow parsed inside the
    ``datetime64[ns]`` range; every such value is one :func:`parse_dates`
    reads the same way (pyarrow's ISO parser accepts a subset of pandas'
    ISO8601 format and rejects impossible dates). None for non-pyarrow text.
    A chunk with any other value is left to the general parser as a whole
    (pyarrow's cast has no "null on error" mode).
    """
    arr = arrow_strings(text)
    if arr is None:
        return None
    lo, hi = NS_MIN.value // 10**9, NS_MAX.value // 10**9
    try:
        secs = _iso_seconds(arr)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        parts = []
        for chunk in arr.chunks:
            try:
                parts.append(_iso_seconds(pa.chunked_array([chunk], type=arr.type)))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                parts.append(np.full(len(chunk), lo - 1, dtype="int64"))
        secs = np.concatenate(parts) if parts else np.zeros(0, dtype="int64")
    ok = (secs >= lo) & (secs <= hi)
    secs[~ok] = 0
    secs *= 10**9
    return secs, ok


def _iso_seconds(arr: pa.ChunkedArray) -> np.ndarray:
    """Seconds since 1970 of ISO strings (missing: below the ns range); raises on any other value."""
    ts = pc.cast(arr, pa.timestamp("s")).cast(pa.int64())
    secs = pc.fill_null(ts, NS_MIN.value // 10**9 - 1).to_numpy()
    return secs if secs.flags.writeable else secs.copy()


def parse_date_text(
    text: pd.Series, order: str | None, fast: tuple[np.ndarray, np.ndarray] | None = None
) -> ParsedDates:
    """:func:`parse_dates` of a column already through :func:`as_text`.

    Plain ISO values (:func:`iso_fast`) are taken from pyarrow; only the
    other values go through the general parser.
    """
    fast = iso_fast(text) if fast is None else fast
    if fast is None or not fast[1].any():
        return _parse_date_general(text, order)
    ns, ok = fast
    n = len(text)
    bad, oor = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    used_order = None
    if not ok.all():
        rest = _parse_date_general(text[~ok], order)
        ns = ns.copy()
        ns[~ok] = rest.values.to_numpy(dtype="datetime64[ns]").view("int64")
        bad[~ok], oor[~ok] = rest.bad.to_numpy(dtype=bool), rest.out_of_range.to_numpy(dtype=bool)
        used_order = rest.order
    idx = text.index
    return ParsedDates(
        pd.Series(ns.view("datetime64[ns]"), index=idx),
        pd.Series(bad, index=idx),
        pd.Series(oor, index=idx),
        used_order,
    )


def _compact_numbers(num: pd.Series) -> ParsedDates | None:
    """Integers written ``yyyymmdd`` (``19970101``), when most of a numeric column is; else None."""
    present = num.notna()
    if not present.any():
        return None
    whole = present & (num == np.floor(num)) & num.between(19000101, 21001231)
    if whole.sum() < 0.9 * present.sum():
        return None
    text = num.where(whole).astype("Int64").astype("str").mask(~whole)
    parsed = pd.to_datetime(text, format="%Y%m%d", errors="coerce")
    vals = pd.Series(parsed.to_numpy(dtype="datetime64[ns]"), index=num.index)
    return ParsedDates(vals, present & vals.isna(), pd.Series(False, index=num.index), "iso")


#: ``yyyymmdd`` with an optional ``HHMM[SS]`` time (``19970101``, ``20240131 1805``).
_COMPACT = r"^((?:19|20|21)[0-9]{2})([01][0-9])([0-3][0-9])(?:[ T]?([0-2][0-9])([0-5][0-9])([0-5][0-9])?)?$"
#: Excel serial day numbers written as text (1970-01-01 .. 2099-12-31), e.g. ``45292`` or ``45292.75``.
_SERIAL = r"^(2[5-9]|[3-6][0-9]|7[0-2])[0-9]{3}(?:\.[0-9]+)?$"


def _parse_date_general(text: pd.Series, order: str | None) -> ParsedDates:
    idx = text.index
    no = pd.Series(False, index=idx)
    present = text.notna()
    t = text.fillna("")
    compact = t.str.match(_COMPACT)
    if compact.any():
        t = t.mask(compact, t.str.replace(_COMPACT, r"\1-\2-\3 \4:\5:\6", regex=True).str.replace(
            r" :(:)?$", "", regex=True).str.replace(r":$", ":00", regex=True))
    serial = t.str.match(_SERIAL) & ~compact
    serial_vals = None
    if serial.any():
        days = pd.to_numeric(t[serial], errors="coerce")
        serial_vals = _EXCEL_EPOCH + pd.to_timedelta(days, unit="D")
        t = t.mask(serial, "")
    t = t.str.replace(r"([0-9])[hH]([0-9]{2})", r"\1:\2", regex=True)  # French "18h05"
    is_dmy = t.str.match(_DMY_HEAD)
    used_order = None
    if is_dmy.any():
        used_order = order if order in ("dayfirst", "monthfirst", "iso") else "dayfirst"
        if used_order == "iso":
            t = t.mask(is_dmy, "")
        else:
            # Literal digits go before back-references: r"\120" would read as group 120.
            dm = r"\2-\1" if used_order == "dayfirst" else r"\1-\2"
            t = t.str.replace(r"^([0-9]{1,2})[-/.]([0-9]{1,2})[-/.]([0-9]{4})", r"\3-" + dm, regex=True)
            for century, digits in (("20", "[0-6]"), ("19", "[7-9]")):
                t = t.str.replace(
                    rf"^([0-9]{{1,2}})[-/.]([0-9]{{1,2}})[-/.]({digits}[0-9])([ T,]|$)",
                    century + r"\3-" + dm + r"\4",
                    regex=True,
                )
            t = t.str.replace(r"^([0-9]{4}-[0-9]{1,2}-[0-9]{1,2}), *", r"\1 ", regex=True)
    t = t.str.replace(r"^([0-9]{4})[/.]([0-9]{1,2})[/.]([0-9]{1,2})", r"\1-\2-\3", regex=True)
    is_ymd = t.str.match(_YMD_HEAD) & present
    ampm = is_ymd & t.str.contains(_AMPM, regex=True)
    iso = is_ymd & ~ampm
    parsed = pd.Series(pd.NaT, index=idx, dtype="datetime64[ns]")
    oor = no.copy()
    if iso.any():
        vals, o = _to_naive(pd.to_datetime(t[iso], format="ISO8601", errors="coerce", utc=True))
        parsed[iso], oor[iso] = vals, o
    if ampm.any():
        sub = t[ampm].str.replace(".", "", regex=False).str.upper()
        got = pd.to_datetime(sub, format="%Y-%m-%d %I:%M %p", errors="coerce")
        got = got.fillna(pd.to_datetime(sub, format="%Y-%m-%d %I:%M:%S %p", errors="coerce"))
        vals, o = _to_naive(got)
        parsed[ampm], oor[ampm] = vals, o
    rest = present & ~is_ymd & ~(is_dmy & (used_order == "iso"))
    if rest.any():
        vals, o = _flexible(text[rest], dayfirst=order != "monthfirst")
        parsed[rest], oor[rest] = vals, o
    if serial_vals is not None:
        parsed[serial] = serial_vals
    bad = present & parsed.isna() & ~oor
    return ParsedDates(parsed, bad, oor, used_order)


def _flexible(text: pd.Series, dayfirst: bool) -> tuple[pd.Series, pd.Series]:
    """Fallback parser for unusual spellings, run once per distinct value.

    Values that contain no digit cannot be dates and are skipped, and when
    there are very many distinct values a sample is tried first so a column of
    junk does not take minutes.
    """
    nat = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    no = pd.Series(False, index=text.index)
    uniq = pd.Series(text.unique(), dtype="str")
    uniq = uniq[uniq.str.contains(r"[0-9]", regex=True) & (uniq.str.len() <= 64)]
    if uniq.empty:
        return nat, no
    if len(uniq) > 20_000:
        trial = _to_datetime_mixed(uniq.sample(500, random_state=0), dayfirst)
        if trial.notna().mean() < 0.5:
            return nat, no
    parsed = _to_datetime_mixed(uniq, dayfirst)
    vals, oor = _to_naive(parsed)
    lookup_v = pd.Series(vals.to_numpy(), index=uniq.to_numpy())
    lookup_o = pd.Series(oor.to_numpy(), index=uniq.to_numpy())
    out = pd.Series(text.map(lookup_v).to_numpy(), index=text.index).astype("datetime64[ns]")
    out_o = pd.Series(text.map(lookup_o).fillna(False).to_numpy(dtype=bool), index=text.index)
    return out, out_o


def _to_datetime_mixed(values: pd.Series, dayfirst: bool) -> pd.Series:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return pd.to_datetime(values, errors="coerce", format="mixed", dayfirst=dayfirst, utc=True)
        except (ValueError, TypeError, OverflowError):
            return pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")


# -------------------------------------------------------------------- ids ---
def normalise_ids(s: pd.Series) -> pd.Series:
    """Identifiers as stripped text; float-looking ids ``17850.0`` become ``17850``.

    Numeric columns (Excel, Parquet) are written without a decimal part when
    they hold whole numbers. Leading zeros in text ids are kept.
    """
    if pd.api.types.is_integer_dtype(s.dtype):
        # Integers (Parquet, Excel): pyarrow writes them as text in C++, 20x faster than Python str().
        arr = pa.array(s.to_numpy(dtype="float64", na_value=np.nan) if s.hasnans else s.to_numpy(),
                       from_pandas=True)
        if pa.types.is_floating(arr.type):
            arr = arr.cast(pa.int64())
        return _series(pa.chunked_array([arr.cast(pa.large_string())]), s.index)
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        num = s.astype("float64")
        whole = num.notna() & np.isfinite(num) & (num == np.floor(num)) & (num.abs() < 2**53)
        if whole.all():
            return normalise_ids(num.astype("int64"))
        out = num.astype("str").mask(num.isna())
        ints = num.where(whole).astype("Int64").astype("str")
        return out.where(~whole, ints).astype("str")
    return normalise_id_text(as_text(s))


def normalise_id_text(text: pd.Series) -> pd.Series:
    """:func:`normalise_ids` of a text column already through :func:`as_text`."""
    arr = arrow_strings(text)
    if arr is not None and not pc.any(pc.match_substring(arr, ".")).as_py():
        return text  # no "17850.0"-shaped id possible
    return text.str.replace(r"^(-?[0-9]+)\.0+$", r"\1", regex=True)
