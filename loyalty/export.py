"""Exports that are safe to open in Excel.

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, tab or carriage
return is executed as a formula by spreadsheet programs (CSV/formula
injection, OWASP). Text cells like that are prefixed with a single quote;
numeric cells stay numbers (a negative *number* is not text and is safe).

Excel files are also made readable: every sheet has a frozen header row and each numeric
column an Excel number format from its unit (:class:`TableFormat`: declared by the table's
builder, else the metric registry's unit for the column, else its dtype), so a share reads
75.6% and an amount €1,234.50 while the cell still holds the number (a finance user can sum it).
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from loyalty.metrics import FEATURES, METRICS, UNIT_NAMES, currency_prefix, format_number

_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
_EXCEL_MAX_SHEET_NAME = 31
_EXCEL_MAX_ROWS = 1_048_575


def neutralise_cell(value: object) -> object:
    """Return ``value`` with a leading quote if it is text Excel would run as a formula."""
    if isinstance(value, str) and value.startswith(_DANGEROUS):
        return "'" + value
    return value


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells (and index/column labels) are formula-safe."""
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s.dtype) or isinstance(
            s.dtype, pd.CategoricalDtype
        ):
            s = s.astype(object)
            text = s.map(lambda v: isinstance(v, str), na_action="ignore").fillna(False).astype(bool)
            if text.any():
                starts = s[text].str.startswith(_DANGEROUS)
                idx = starts[starts].index
                if len(idx):
                    s.loc[idx] = "'" + s.loc[idx].astype(str)
            out[col] = s
    out.columns = [neutralise_cell(str(c)) for c in out.columns]
    if out.index.dtype == object or pd.api.types.is_string_dtype(out.index.dtype):
        out.index = out.index.map(neutralise_cell)
        if out.index.name is not None:
            out.index.name = neutralise_cell(str(out.index.name))
    return out


def pseudonymise_ids(ids: pd.Series, salt: str) -> pd.Series:
    """Replace ids with stable pseudonyms ``M-<10 hex>`` (salted BLAKE2b; not reversible)."""
    uniq = pd.unique(ids.dropna().astype(str))
    mapping = {
        u: "M-" + hashlib.blake2b((salt + u).encode(), digest_size=5).hexdigest() for u in uniq
    }
    return ids.astype(object).map(mapping).astype("str")


def pseudonymise_frame(df: pd.DataFrame, salt: str, id_columns: tuple[str, ...] = ("member_id", "referred_by")) -> pd.DataFrame:
    """Pseudonymise member-id columns (and a ``member_id`` index) of ``df``."""
    out = df.copy()
    for col in id_columns:
        if col in out.columns:
            out[col] = pseudonymise_ids(out[col], salt)
    if out.index.name in id_columns:
        out.index = pd.Index(pseudonymise_ids(out.index.to_series(), salt).to_numpy(), name=out.index.name)
    return out


def to_csv_bytes(df: pd.DataFrame, *, index: bool = False) -> bytes:
    """UTF-8 CSV with BOM (so Excel detects the encoding), formula-safe."""
    # RFC 4180 line ends, so a field holding a bare \r is quoted instead of splitting a row.
    return safe_frame(df).to_csv(index=index, lineterminator="\r\n").encode("utf-8-sig")


def _sheet_name(name: str, used: set[str]) -> str:
    base = "".join(ch for ch in str(name) if ch not in "[]:*?/\\")[:_EXCEL_MAX_SHEET_NAME] or "Sheet"
    cand, i = base, 2
    while cand.lower() in used:
        suffix = f" ({i})"
        cand = base[: _EXCEL_MAX_SHEET_NAME - len(suffix)] + suffix
        i += 1
    used.add(cand.lower())
    return cand


#: Units a table column may declare beyond the registry's (:data:`loyalty.metrics.Unit`):
#: ``change`` a relative change (0-1 fraction, signed percentage), ``price`` an amount per unit
#: (four decimals: a point is worth 0.008), ``param`` a model estimate (four decimals), and
#: ``text``, ``bool``, ``date``, ``month``, ``datetime``.
EXTRA_UNITS: tuple[str, ...] = ("change", "price", "param", "text", "bool", "date", "month", "datetime")

#: Unit of a column whose rows are different metrics: each row's unit, read from
#: :attr:`TableFormat.row_unit` (the KPI table, the scenario comparison).
ROW = "row"


@dataclass(frozen=True)
class TableFormat:
    """How a table is shown to people: header labels and the unit of each column.

    Carried with a table by whoever builds it (a builder declares what the registry does not
    know); nothing here changes a value.

    Attributes
    ----------
    labels : mapping
        Column -> header label. Undeclared: the registry label of a metric key, else the key
        written as words (``share_of_clv`` -> "Share of clv"), else the column name itself.
    units : mapping
        Column -> unit (:data:`loyalty.metrics.Unit`, :data:`EXTRA_UNITS` or :data:`ROW`).
        Undeclared: the registry unit of a metric key, else from the dtype.
    deltas : tuple of str
        Columns holding differences (value - previous): signed, a share's change in
        percentage points.
    row_unit : str, optional
        Column naming each row's registry unit, for columns whose unit is :data:`ROW`; its
        codes are written as :data:`loyalty.metrics.UNIT_NAMES`.
    hidden : tuple of str
        Columns left out of the HTML report (internal keys, units already in the format);
        the Excel sheet keeps every column.
    frozen_columns : int
        Leading columns kept in view in Excel (besides the header row), e.g. the KPI label.
    """

    labels: Mapping[str, str] = field(default_factory=dict)
    units: Mapping[str, str] = field(default_factory=dict)
    deltas: tuple[str, ...] = ()
    row_unit: str | None = None
    hidden: tuple[str, ...] = ()
    frozen_columns: int = 0

    def label(self, column: object) -> str:
        """Header label of ``column``."""
        col = str(column)
        if col in self.labels:
            return self.labels[col]
        m = METRICS.get(col) or FEATURES.get(col)
        if m is not None:
            return m.label
        if re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)+|[a-z][a-z0-9]*", col):  # an identifier, not a name
            return col.replace("_", " ").capitalize()
        return col

    def unit(self, column: object, values: pd.Series | None = None) -> str:
        """Unit of ``column`` (:data:`ROW` when each row has its own)."""
        col = str(column)
        if col in self.units:
            return self.units[col]
        m = METRICS.get(col) or FEATURES.get(col)
        if m is not None:
            return m.unit
        return _dtype_unit(values) if values is not None else "text"


def _dtype_unit(s: pd.Series) -> str:
    dt = s.dtype
    if pd.api.types.is_bool_dtype(dt):
        return "bool"
    if pd.api.types.is_integer_dtype(dt):
        return "int"
    if pd.api.types.is_float_dtype(dt):
        return "num"
    if pd.api.types.is_datetime64_any_dtype(dt):
        t = s.dropna()
        return "date" if t.empty or bool((t == t.dt.normalize()).all()) else "datetime"
    return "text"


def format_cell(value: object, unit: str, currency: str = "", *, delta: bool = False) -> str:
    """One cell as text for people (the HTML report): by unit, an em dash when missing."""
    if value is None or (pd.api.types.is_scalar(value) and not isinstance(value, str) and pd.isna(value)):
        return "—"
    if isinstance(value, str):
        return value
    if unit == "bool" or isinstance(value, bool):
        return "Yes" if value else "No"
    if hasattr(value, "strftime"):  # Timestamp, datetime, date
        return value.strftime({"month": "%Y-%m", "datetime": "%Y-%m-%d %H:%M"}.get(unit, "%Y-%m-%d"))
    if unit == "text":
        return str(value)
    if unit in ("change", "price", "param"):
        v = float(value)
        if v in (float("inf"), float("-inf")):  # a change from a zero base
            return "—"
        body = {"change": f"{abs(v):,.1%}", "price": f"{currency_prefix(currency)}{abs(v):,.4f}",
                "param": f"{abs(v):,.4f}"}[unit]
        if not any(ch in "123456789" for ch in body):
            return body
        return ("-" if v < 0 else "+" if delta or unit == "change" else "") + body
    return format_number(value, unit, currency, delta=delta)


def excel_number_format(unit: str, currency: str = "", *, delta: bool = False) -> str | None:
    """The Excel number format of ``unit`` (None: leave the cell's General format).

    Mirrors :func:`format_cell`; a percentage's difference stays a fraction (Excel shows
    it with a % sign: the cell must hold the number a formula expects).
    """
    cur = "".join(ch for ch in currency_prefix(currency) if ch not in '"\\;')  # would break the format
    money = f'"{cur}"#,##0.00' if cur else "#,##0.00"
    base = {
        "int": "#,##0",
        "points": "#,##0",
        "pct": "0.0%",
        "change": "0.0%",
        "money": money,
        "price": money + "00",
        "num": "#,##0.00",
        "param": "#,##0.0000",
        "score": "0.0",
        "rating": "0.00",
        "years": '0.0" years"',
        "days": '#,##0" days"',
        "date": "yyyy-mm-dd",
        "month": "yyyy-mm",
        "datetime": "yyyy-mm-dd hh:mm",
    }.get(unit)
    if base is None:
        return None
    if (delta or unit in ("score", "change")) and unit not in ("date", "month", "datetime"):
        # positive;negative;zero sections: a change always shows its sign, zero shows none
        zero = base.replace("#,##", "")
        return f"+{base};-{base};{zero}"
    if unit in ("money", "price") and cur:
        return f"{base};-{base}"  # -€5.00, not €-5.00
    return base


def _cell_units(df: pd.DataFrame, fmt: TableFormat) -> list[str | pd.Series]:
    """Per column: its unit, or (for :data:`ROW` columns) a Series of the rows' units."""
    out: list[str | pd.Series] = []
    row_units = df[fmt.row_unit].astype(object) if fmt.row_unit in df.columns else None
    for col in df.columns:
        u = fmt.unit(col, df[col])
        if u == ROW:
            u = row_units.where(row_units.notna(), "num") if row_units is not None else "num"
        out.append(u)
    return out


def _excel_width(label: str, sample: list[str]) -> float:
    # Wide enough for the header and the formatted figures, capped so long text stays readable.
    longest = max([len(label), *(len(t) for t in sample)], default=8)
    return float(min(max(longest + 2, 8), 60))


def _format_sheet(ws, df: pd.DataFrame, fmt: TableFormat, currency: str, offset: int) -> None:
    """Number formats, a bold frozen header (and key columns) and column widths of one sheet."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    for cell in ws[1]:
        cell.font = Font(bold=True)
    n = len(df)
    sample = df.head(50)
    for j, (col, unit) in enumerate(zip(df.columns, _cell_units(df, fmt), strict=True), start=1 + offset):
        delta = str(col) in fmt.deltas
        if isinstance(unit, str):
            number_format = excel_number_format(unit, currency, delta=delta)
            if number_format is not None:
                for (cell,) in ws.iter_rows(min_row=2, max_row=n + 1, min_col=j, max_col=j):
                    cell.number_format = number_format
            shown = [format_cell(v, unit, currency, delta=delta) for v in sample[col]]
        else:
            formats = {u: excel_number_format(u, currency, delta=delta) for u in pd.unique(unit)}
            for i, (cell,) in enumerate(ws.iter_rows(min_row=2, max_row=n + 1, min_col=j, max_col=j)):
                if formats[unit.iat[i]] is not None:
                    cell.number_format = formats[unit.iat[i]]
            shown = [format_cell(v, u, currency, delta=delta) for v, u in zip(sample[col], unit, strict=False)]
        ws.column_dimensions[get_column_letter(j)].width = _excel_width(str(ws.cell(1, j).value), shown)
    ws.freeze_panes = ws.cell(row=2, column=1 + offset + fmt.frozen_columns)


def to_excel_bytes(
    tables: Mapping[str, pd.DataFrame],
    *,
    index: bool = False,
    formats: Mapping[str, TableFormat] | None = None,
    currency: str = "",
) -> bytes:
    """One ``.xlsx`` with a sheet per table, formula-safe, timezone-free and formatted.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Sheet name -> table (names are made valid and unique).
    index : bool
        Write the index as leading columns.
    formats : mapping of str to TableFormat, optional
        Per table (same keys as ``tables``): header labels and column units. A table with a
        format gets its labels as headers; one without keeps its column names (a data export
        people may read back in) and gets units from the registry and dtypes.
    currency : str
        Symbol of money columns' number format.

    Every sheet has a frozen header row and number formats by unit; cells keep their
    numbers, and text cells (and headers) are neutralised as in :func:`safe_frame`.
    Tables longer than Excel's row limit are truncated; Excel cannot hold more.
    """
    buf = io.BytesIO()
    used: set[str] = set()
    formats = formats or {}
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        for name, df in tables.items():
            fmt = formats.get(name)
            raw = df.iloc[:_EXCEL_MAX_ROWS] if len(df) > _EXCEL_MAX_ROWS else df
            frame = safe_frame(raw)  # a copy: the edits below never reach the caller's table
            if fmt is not None and fmt.row_unit in frame.columns:
                # unit codes are internal ("pct"): the sheet says what a person calls them
                frame[fmt.row_unit] = frame[fmt.row_unit].map(lambda u: UNIT_NAMES.get(u, u), na_action="ignore")
            for col in frame.columns:
                if isinstance(frame[col].dtype, pd.DatetimeTZDtype):
                    frame[col] = frame[col].dt.tz_localize(None)
            if fmt is not None:  # after safe_frame: labels may repeat, and a user's name is still neutralised
                frame.columns = [neutralise_cell(fmt.label(c)) for c in raw.columns]
            sheet = _sheet_name(name, used)
            frame.to_excel(xw, sheet_name=sheet, index=index)
            offset = raw.index.nlevels if index else 0
            _format_sheet(xw.sheets[sheet], raw, fmt or TableFormat(), currency, offset)
    return buf.getvalue()
