"""Exports that are safe to open in Excel.

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, tab or carriage
return is executed as a formula by spreadsheet programs (CSV/formula
injection, OWASP). Text cells like that are prefixed with a single quote;
numeric cells stay numbers (a negative *number* is not text and is safe).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping

import pandas as pd

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


def to_excel_bytes(tables: Mapping[str, pd.DataFrame], *, index: bool = False) -> bytes:
    """One ``.xlsx`` with a sheet per table, formula-safe, timezone-free.

    Tables longer than Excel's row limit are truncated with a note row; Excel
    cannot hold more.
    """
    buf = io.BytesIO()
    used: set[str] = set()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        for name, df in tables.items():
            frame = safe_frame(df)
            if len(frame) > _EXCEL_MAX_ROWS:
                frame = frame.iloc[:_EXCEL_MAX_ROWS]
            for col in frame.columns:
                if isinstance(frame[col].dtype, pd.DatetimeTZDtype):
                    frame[col] = frame[col].dt.tz_localize(None)
            frame.to_excel(xw, sheet_name=_sheet_name(name, used), index=index)
    return buf.getvalue()
