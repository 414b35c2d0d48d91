"""Import real exports into canonical tables: :func:`load_table`.

``load_table(source, kind)`` reads a CSV/TSV (any of ``, ; tab |``; UTF-8,
UTF-8 BOM, UTF-16 BOM, cp1252, latin-1), Excel ``.xlsx`` or Parquet file
(also gzip-compressed or alone in a ZIP), maps its columns to the canonical
columns of :mod:`loyalty.schema` from English/French header synonyms
(:func:`loyalty.ingest.mapping.suggest_mapping`, overridable), parses numbers and
dates written by people, and returns a :class:`LoadResult`: the canonical
frame plus a :class:`LoadReport` that accounts for every row. The row-level
work lives in :mod:`loyalty.ingest.rows`, file reading in :mod:`loyalty.ingest.readers`,
number/date parsing in :mod:`loyalty.ingest.parsing`.

Errors
------
:class:`ImportProblem` (a ``ValueError``) is the **only** exception raised. It
means the whole file cannot be used (empty, header only, not a table, no
column for a required field...) and its message names the file, the columns
found and the columns needed. Problems with individual rows never raise:
those rows are *rejected* with a reason.

Row accounting
--------------
``rows_read`` counts the non-blank data rows of the file (blank lines are
counted in a warning, not as rows). ``rows_read == rows_kept + len(rejected)``
always holds, in *input rows*. For line-item exports (one row per product
line) ``rows_kept`` counts the kept lines, and ``rows_output`` the
transactions they were summed into. ``rejected`` holds the original rows as
text, plus ``row`` (CSV: line number in the file, header = line 1; Excel:
sheet row; Parquet: row position, 1-based) and ``reason``.

Decisions (documented choices)
------------------------------
* Transactions: an empty member id is a guest purchase (kept). A missing
  transaction id column is replaced by ids generated from the row number
  (warning). A ``transaction_id`` seen again is rejected: as an *exact
  duplicate* when every canonical field equals the first occurrence, or as
  *conflicting* (different content) otherwise; the first occurrence is
  always the one kept. Members: the same rule on ``member_id``. Ledger rows,
  surveys and costs are never de-duplicated (repeats can be real).
* Dates outside 1990-01-01 .. today + 1 year are rejected as implausible
  (``1900-01-01`` placeholders, ``2200`` typos). Amounts are never rejected for
  their size, but amounts above 10 million in absolute value are listed in a
  warning (``1e15`` is almost always a unit or separator mistake).
* Date order of ``a/b/yyyy`` values is inferred over all date columns of the
  file: a first field above 12 proves day-first, a second field above 12
  proves month-first. With no proof the file is ambiguous: day-first is used
  for ``;``-separated or decimal-comma files (European exports), month-first
  otherwise, and a warning says so. ``date_order`` overrides the inference.
* Decimal separator: decided per column from the data; columns that cannot
  tell use the separator proven by the file's other columns, else ``,`` for
  ``;``-separated files and ``.`` otherwise (warning when values like
  ``1,234`` were read under that assumption).
* Line items: when both a quantity and a unit price column are mapped, each
  line's amount is quantity x unit price and lines are summed per
  transaction id (timestamp, member, store and channel of the first line).
  Cancellations (id starting with ``C`` or negative quantity) are negative
  amounts. Exact duplicate lines (every column equal) are rejected.
* Ledger events are normalised from English/French synonyms; points are
  signed (redeem/expire negative) when the export is unsigned (warning).
* Campaigns: groups are read from English/French labels (test / treatment /
  ciblé / B, control / témoin / holdout / non ciblé / A; A/B with a warning);
  any other label is rejected, never guessed. Windows are whole days, both
  ends included (a time of day is dropped, with a warning); a window ending
  before it starts is rejected; a member in both groups of a campaign, or with
  several windows in it, has all its rows of that campaign rejected; identical
  rows are rejected as duplicates.
* Personal data: unmapped columns whose header names a person's name, email,
  phone, address or birth date, or whose values look like emails or phone
  numbers, are dropped (warning listing them) unless ``keep_personal=True``,
  which keeps them as extra columns after the canonical ones. Other unmapped
  columns are ignored (listed in a warning). Rejected rows never include
  dropped columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from loyalty.ingest.mapping import (
    SYNONYMS,
    MappingGuess,
    content_guesses,
    header_guesses,
    suggest_mapping,
    targets,
    tried_synonyms,
)
from loyalty.ingest.parsing import DATE_ORDERS
from loyalty.ingest.readers import (
    SEPARATOR_CHOICES,
    SEPARATOR_NAMES,
    ImportProblem,
    RawTable,
    list_sheets,
    other_sheets,
    read_raw,
    source_bytes,
)
from loyalty.ingest.rows import (
    IMPLAUSIBLE_AMOUNT,
    MIN_DATE,
    Importer,
    LoadReport,
    LoadResult,
    list_columns,
    normalise_event,
    plural,
)
from loyalty.schema import SPECS, Dataset

__all__ = [
    "IMPLAUSIBLE_AMOUNT",
    "MIN_DATE",
    "SYNONYMS",
    "FilePreview",
    "ImportProblem",
    "LoadReport",
    "LoadResult",
    "build_dataset",
    "check_consistency",
    "list_sheets",
    "load_table",
    "normalise_event",
    "preview_file",
    "suggest_mapping",
]


# --------------------------------------------------------------- mapping ---
def _resolve_mapping(
    columns: list[str], kind: str, user: dict[str, str | None] | None, name: str
) -> tuple[dict[str, str], list[str]]:
    """Inferred mapping overridden by the user's; validated against the columns."""
    allowed = targets(kind)
    inferred = suggest_mapping(columns, kind)
    if not user:
        return inferred, []
    unknown = [k for k in user if k not in allowed]
    if unknown:
        raise ImportProblem(
            f"Unknown column(s) in the mapping for {kind}: {', '.join(map(repr, unknown))}. "
            f"Possible: {', '.join(allowed)}."
        )
    absent = [v for v in user.values() if v not in (None, "") and v not in columns]
    if absent:
        raise ImportProblem(
            f"The mapping names column(s) not in {name!r}: {', '.join(map(repr, absent))}. "
            f"Columns found: {list_columns(columns)}."
        )
    chosen = {k: v for k, v in user.items() if v not in (None, "")}
    used = set(chosen.values())
    out = {k: v for k, v in inferred.items() if k not in user and v not in used}
    out.update(chosen)
    notes = []
    dup = [v for v in set(chosen.values()) if list(chosen.values()).count(v) > 1]
    if dup:
        notes.append(f"Column(s) {', '.join(map(repr, dup))} are mapped to several fields.")
    return {t: out[t] for t in allowed if t in out}, notes


def _check_required(mapping: dict[str, str], kind: str, columns: list[str], name: str, raw: RawTable) -> None:
    spec = SPECS[kind]
    needed = list(spec.required)
    optional_ok = set()
    if kind == "transactions":
        optional_ok.add("transaction_id")  # generated from row numbers when absent
        if "quantity" in mapping and "unit_price" in mapping:
            optional_ok.add("amount")
    missing = [c for c in needed if c not in mapping and c not in optional_ok]
    if not missing:
        return
    lines = [
        f"{name!r} has no usable column for {', '.join(missing)} (needed for a {spec.title.lower()} table: "
        f"{', '.join(needed)}).",
        f"Columns found: {list_columns(columns)}.",
    ]
    for c in missing:
        extra = ""
        if c == "amount" and kind == "transactions":
            extra = " (or a quantity and a unit price column for line-item exports)"
        lines.append(f"Header names tried for {c}: {tried_synonyms(kind, c)}{extra}.")
    for g in content_guesses(raw.frame, kind, mapping):
        if g.target in missing:
            lines.append(f"Guess to confirm: {g.target} <- {g.column!r} ({g.reason}).")
    if len(columns) == 1 and raw.format == "csv":
        lines.append("Only one column was found: the separator may be unusual; choose it by hand "
                     "(comma, semicolon, tab, pipe, whitespace or fixed-width).")
    lines.append("Rename the columns or choose them by hand in the column mapping.")
    raise ImportProblem("\n".join(lines))


# ------------------------------------------------------------- load_table --
def load_table(
    source: object,
    kind: str,
    mapping: dict[str, str | None] | None = None,
    *,
    sheet: str | int | None = None,
    date_order: str | None = None,
    keep_personal: bool = False,
    name: str | None = None,
    separator: str | None = None,
) -> LoadResult:
    """Import one table of ``kind`` from a file into canonical form.

    Parameters
    ----------
    source : path, bytes or file-like (an uploaded file)
        CSV/TSV, Excel ``.xlsx`` or Parquet; the format is detected from the
        content. A ``str`` is a path.
    kind : {"transactions", "members", "ledger", "surveys", "costs", "campaigns"}
    mapping : dict, optional
        ``{canonical column: source column}``; overrides the inferred mapping
        for the columns it names (``None`` unmaps a column). Transactions also
        accept ``quantity`` and ``unit_price`` (line-item exports).
    sheet : str or int, optional
        Excel sheet (name or 0-based position); the first sheet by default.
    date_order : {"dayfirst", "monthfirst", "iso"}, optional
        Reading of ``a/b/yyyy`` dates; inferred from the data by default.
    keep_personal : bool
        Keep columns that look like names, emails or phone numbers (as extra
        columns); they are dropped by default.
    name : str, optional
        File name used in messages (defaults to the source's name).

    Returns
    -------
    LoadResult
        ``data``: canonical frame (all canonical columns, canonical dtypes;
        ledger points signed); ``report``: the :class:`LoadReport`.

    Raises
    ------
    ImportProblem
        The only exception: the file as a whole cannot be used.
    """
    try:
        return load_table_strict(source, kind, mapping, sheet, date_order, keep_personal, name, separator)
    except ImportProblem:
        raise
    except MemoryError:
        raise ImportProblem(
            "The file is too large to import in the memory available; filter it by date."
        ) from None
    except Exception as exc:  # last resort: the user sees a message, never a traceback
        raise ImportProblem(
            f"The file could not be imported because of an unexpected problem ({type(exc).__name__}: {exc}). "
            "Check that it is a CSV, Excel or Parquet table."
        ) from exc


def load_table_strict(
    source: object,
    kind: str,
    mapping: dict[str, str | None] | None,
    sheet: str | int | None,
    date_order: str | None,
    keep_personal: bool,
    name: str | None,
    separator: str | None = None,
) -> LoadResult:
    """:func:`load_table` without its last-resort wrapper: an unexpected error propagates.

    For tests that must see a bug as a bug rather than as a user message.
    """
    if kind not in SPECS:
        raise ImportProblem(f"Unknown table kind {kind!r}; expected one of {', '.join(SPECS)}.")
    if date_order is not None and date_order not in DATE_ORDERS:
        raise ImportProblem(f"date_order must be one of {', '.join(DATE_ORDERS)}, not {date_order!r}.")
    if separator is not None and separator not in SEPARATOR_CHOICES:
        raise ImportProblem(f"separator must be one of {', '.join(SEPARATOR_CHOICES)}, not {separator!r}.")
    data, src_name = source_bytes(source)
    name = name or src_name or "uploaded file"
    try:
        raw = read_raw(data, sheet, separator=separator)
    except ImportProblem as exc:
        raise ImportProblem(f"{name}: {exc}") from None
    frame = raw.frame
    columns = [str(c) for c in frame.columns]
    if not columns:
        raise ImportProblem(f"{name}: the file is empty (no header).")
    if frame.empty:
        blank = f" and {plural(raw.blank_rows, 'blank line')}" if raw.blank_rows else ""
        where = f" (sheet {raw.sheet!r})" if raw.sheet else ""
        raise ImportProblem(
            f"{name}{where}: the file has a header ({list_columns(columns, 10)}){blank} but no data rows."
            + other_sheets(raw.sheets, raw.sheet)
        )
    resolved, notes = _resolve_mapping(columns, kind, mapping, name)
    try:
        _check_required(resolved, kind, columns, name, raw)
    except ImportProblem as exc:
        raise ImportProblem(str(exc) + other_sheets(raw.sheets, raw.sheet)) from None
    confidence = _confidence(columns, kind, resolved, mapping)
    return Importer(raw, kind, resolved, name, date_order, keep_personal, notes, confidence).run()


def _confidence(
    columns: list[str], kind: str, resolved: dict[str, str], user: dict[str, str | None] | None
) -> dict[str, tuple[str, str]]:
    """``{target: (confidence, reason)}`` of the mapping used: the user's choice, or the header match."""
    by_header = {g.target: g for g in header_guesses(columns, kind)}
    out = {}
    for target, col in resolved.items():
        if user and user.get(target) == col:
            out[target] = ("confirmed", f"{col!r} chosen in the column mapping")
        elif target in by_header and by_header[target].column == col:
            out[target] = (by_header[target].confidence, by_header[target].reason)
        else:
            out[target] = ("medium", f"{col!r} suggested from its header")
    return out


# --------------------------------------------------------------- preview ---
@dataclass(frozen=True, eq=False)
class FilePreview:
    """What a file holds before mapping: its columns, sheets and first rows."""

    columns: tuple[str, ...]
    sheets: tuple[str, ...]
    format: str
    sheet: str | None
    head: pd.DataFrame
    separator: str | None = None
    sample: pd.DataFrame | None = None  # up to 5,000 rows, for content guesses

    @property
    def separator_name(self) -> str | None:
        """The separator in words (``comma``, ``whitespace``...), None for Excel/Parquet."""
        return SEPARATOR_NAMES.get(self.separator or "")

    def guesses(self, kind: str) -> list[MappingGuess]:
        """Header matches (high/medium) then content guesses (low) for the fields still missing."""
        found = header_guesses(self.columns, kind)
        taken = {g.target: g.column for g in found}
        frame = self.sample if self.sample is not None else self.head
        return found + content_guesses(frame, kind, taken)

    @property
    def signature(self) -> str:
        """The file's shape: format and normalised header names (how saved mappings are matched)."""
        from loyalty.ingest.mapping import normalise_header

        return self.format + ":" + "|".join(normalise_header(c) for c in self.columns)


def preview_file(
    source: object, *, sheet: str | int | None = None, name: str | None = None, separator: str | None = None
) -> FilePreview:
    """Columns, sheets, first 5 rows and a 5,000-row sample of a file (for the mapping UI).

    Text files are only read up to their first 2 MB.

    Raises :class:`ImportProblem` (only) when the file cannot be read as a table.
    """
    try:
        data, src_name = source_bytes(source)
        name = name or src_name or "uploaded file"
        try:
            raw = read_raw(data, sheet, text_limit=2_000_000, separator=separator)
        except ImportProblem as exc:
            raise ImportProblem(f"{name}: {exc}") from None
        return FilePreview(
            tuple(str(c) for c in raw.frame.columns), raw.sheets, raw.format, raw.sheet, raw.frame.head(5),
            raw.separator, raw.frame.head(5000),
        )
    except ImportProblem:
        raise
    except Exception as exc:  # same last resort as load_table
        raise ImportProblem(f"The file could not be read ({type(exc).__name__}: {exc}).") from exc


# -------------------------------------------------------------- datasets ---
def check_consistency(ds: Dataset) -> tuple[str, ...]:
    """Cross-table warnings: ids that do not match between tables, disjoint date ranges.

    Returns human-readable sentences (empty when everything agrees).
    """
    notes: list[str] = []
    tx_members = pd.Index(ds.transactions["member_id"].dropna().unique())
    if ds.members is not None:
        known = pd.Index(ds.members["member_id"].dropna().unique())
        unknown = tx_members.difference(known)
        if len(unknown):
            notes.append(
                f"{len(unknown):,} member ids in transactions are not in the members table "
                f"(e.g. {', '.join(map(repr, unknown[:3].astype(str)))})."
            )
        if "referred_by" in ds.members:
            ref = pd.Index(ds.members["referred_by"].dropna().unique()).difference(known)
            if len(ref):
                notes.append(f"{len(ref):,} referrer ids in members are not members themselves.")
    else:
        known = tx_members
    for kind in ("ledger", "surveys", "campaigns"):
        table = ds.table(kind)
        if table is None:
            continue
        ids = pd.Index(table["member_id"].dropna().unique())
        unknown = ids.difference(known)
        if len(unknown):
            where = "the members table" if ds.members is not None else "transactions"
            notes.append(
                f"{len(unknown):,} member ids in the {SPECS[kind].title.lower()} are not in {where} "
                f"(e.g. {', '.join(map(repr, unknown[:3].astype(str)))})."
            )
    if len(ds.transactions) and ds.ledger is not None and len(ds.ledger):
        t0, t1 = ds.transactions["timestamp"].min(), ds.transactions["timestamp"].max()
        l0, l1 = ds.ledger["timestamp"].min(), ds.ledger["timestamp"].max()
        if l1 < t0 or l0 > t1:
            notes.append(
                f"The points ledger ({l0:%Y-%m-%d} to {l1:%Y-%m-%d}) does not overlap the transactions "
                f"({t0:%Y-%m-%d} to {t1:%Y-%m-%d})."
            )
    if len(tx_members) == 0 and len(ds.transactions):
        notes.append("No transaction has a member id: member KPIs, segments and CLV will be empty.")
    return tuple(notes)


def build_dataset(results: dict[str, LoadResult], name: str) -> Dataset:
    """Assemble imported tables into a :class:`~loyalty.schema.Dataset`.

    ``results`` maps table kind to its :class:`LoadResult`; ``transactions``
    is required. Extra (kept personal) columns are carried along. The
    dataset's ``notes`` list the cross-table warnings of
    :func:`check_consistency`.
    """
    unknown = [k for k in results if k not in SPECS]
    if unknown:
        raise ImportProblem(f"Unknown table kind(s): {', '.join(unknown)}.")
    if "transactions" not in results:
        raise ImportProblem("A transactions table is required to build a dataset.")
    for kind, res in results.items():
        if res.report.kind != kind:
            raise ImportProblem(f"The file given as {kind} was imported as {res.report.kind}.")
    tables = {k: r.data for k, r in results.items()}
    ds = Dataset(name=name, **tables)
    return ds.replace(notes=check_consistency(ds))
