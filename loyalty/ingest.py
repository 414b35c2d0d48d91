"""Import real exports into canonical tables: :func:`load_table`.  ``load_table(source, kind)`` reads a CSV/TSV (any of ``, ; tab |``; UTF-8, UTF-8 BOM, UTF-16 BOM, cp1252, latin-1), Excel ``.xlsx`` or Parquet file (also gzip-compressed or alone in a ZIP), maps its columns to the canonical columns of :mod:`loyalty.schema` from English/French header synonyms (:func:`loyalty.mapping.suggest_mapping`, overridable), parses numbers and dates written by people, and returns a :class:`LoadResult`: the canonical frame plus a :class:`LoadReport` that accounts for every row.  Errors ------ :class:`ImportProblem` (a ``ValueError``) is the **only** exception raised. It means the whole file cannot be used (empty, header only, not a table, no column for a required field...) and its message names the file, the columns found and the columns needed. Problems with individual rows never raise: those rows are *rejected* with a reason.  Row accounting -------------- ``rows_read`` counts the non-blank data rows of the file (blank lines are counted in a warning, not as rows). ``rows_read == rows_kept + len(rejected)`` always holds, in *input rows*. For line-item exports (one row per product line) ``rows_kept`` counts the kept lines, and ``rows_output`` the transactions they were summed into. ``rejected`` holds the original rows as text, plus ``row`` (CSV: line number in the file, header = line 1; Excel: sheet row; Parquet: row position, 1-based) and ``reason``.  Decisions (documented choices) ------------------------------ * Transactions: an empty member id is a guest purchase (kept). A missing transaction id column is replaced by ids generated from the row number (warning). A ``transaction_id`` seen again is rejected: as an *exact duplicate* when every canonical field equals the first occurrence, or as *conflicting* (different content) otherwise; the first occurrence is always the one kept. Members: the same rule on ``member_id``. Ledger rows, surveys and costs are never de-duplicated (repeats can be real). * Dates outside 1990-01-01 .. today + 1 year are rejected as implausible (``1900-01-01`` placeholders, ``2200`` typos). Amounts are never rejected for their size, but amounts above 10 million in absolute value are listed in a warning (``1e15`` is almost always a unit or separator mistake). * Date order of ``a/b/yyyy`` values is inferred over all date columns of the file: a first field above 12 proves day-first, a second field above 12 proves month-first. With no proof the file is ambiguous: day-first is used for ``;``-separated or decimal-comma files (European exports), month-first otherwise, and a warning says so. ``date_order`` overrides the inference. * Decimal separator: decided per column from the data; columns that cannot tell use the separator proven by the file's other columns, else ``,`` for ``;``-separated files and ``.`` otherwise (warning when values like ``1,234`` were read under that assumption). * Line items: when both a quantity and a unit price column are mapped, each line's amount is quantity x unit price and lines are summed per transaction id (timestamp, member, store and channel of the first line). Cancellations (id starting with ``C`` or negative quantity) are negative amounts. Exact duplicate lines (every column equal) are rejected. * Ledger events are normalised from English/French synonyms; points are signed (redeem/expire negative) when the export is unsigned (warning). * Personal data: unmapped columns whose header names a person's name, email, phone, address or birth date, or whose values look like emails or phone numbers, are dropped (warning listing them) unless ``keep_personal=True``, which keeps them as extra columns after the canonical ones. Other unmapped columns are ignored (listed in a warning). Rejected rows never include dropped columns."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from loyalty.mapping import (
    HELPER_COLUMNS,
    SYNONYMS,
    normalise_header,
    personal_header,
    suggest_mapping,
    targets,
    tried_synonyms,
)
from loyalty.parsing import (
    DATE_ORDERS,
    ParsedNumbers,
    as_text,
    date_order_evidence,
    normalise_ids,
    parse_dates,
    parse_numbers,
)
from loyalty.readers import (
    BAD_LINE,
    ImportProblem,
    RawTable,
    list_sheets,
    other_sheets,
    read_raw,
    source_bytes,
)
from loyalty.schema import SPECS, Dataset, canonical_dtype

__all__ = [
    "ImportProblem",
    "LoadReport",
    "LoadResult",
    "build_dataset",
    "check_consistency",
    "list_sheets",
    "load_table",
    "suggest_mapping",
]

#: Dates before this are rejected as implausible.
MIN_DATE = pd.Timestamp("1990-01-01")
#: Amounts above this (absolute, currency units) are kept but flagged.
IMPLAUSIBLE_AMOUNT = 1e7
_MAX_SHOWN = 40  # characters of a cell quoted in a reason


@dataclass(frozen=True, eq=False)
class LoadReport:
    """What happened to every row and column of one imported file.  ``mapping`` is ``{canonical or helper column: source column}``. ``rejected`` has the original columns (as text), ``row`` and ``reason``."""

    kind: str
    source_name: str
    format: str
    rows_read: int
    rows_kept: int
    rejected: pd.DataFrame
    mapping: dict[str, str]
    warnings: tuple[str, ...] = ()
    dropped_columns: tuple[str, ...] = ()
    ignored_columns: tuple[str, ...] = ()
    date_order: str | None = None
    line_items: bool = False
    separator: str | None = None
    encoding: str | None = None
    sheet: str | None = None
    blank_rows: int = 0
    rows_output: int = 0

    @property
    def rows_rejected(self) -> int:
        return len(self.rejected)

    def summary(self) -> str:
        """One line: rows read / kept / rejected (and transactions built)."""
        text = f"{self.rows_read:,} rows read, {self.rows_kept:,} kept, {self.rows_rejected:,} rejected"
        if self.line_items:
            text += f" ({self.rows_kept:,} lines summed into {self.rows_output:,} transactions)"
        return text

    def reason_counts(self) -> pd.Series:
        """Number of rejected rows per reason *type* (cell values removed)."""
        if self.rejected.empty:
            return pd.Series(dtype="int64", name="rows")
        kinds = self.rejected["reason"].str.replace(r"'[^']*'", "'…'", regex=True)
        return kinds.value_counts().rename("rows")


@dataclass(frozen=True, eq=False)
class LoadResult:
    """Canonical table (``data``) and the import :class:`LoadReport` (``report``)."""

    data: pd.DataFrame
    report: LoadReport


# --------------------------------------------------------------- helpers ---
class _Reasons:
    """Per-row reject reasons, built only for the (few) bad rows."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.reasons = pd.Series(pd.NA, index=pd.RangeIndex(n), dtype="str")
        self.final = np.zeros(n, dtype=bool)  # rows whose reason says it all (malformed lines)

    def add(self, mask: pd.Series | np.ndarray, message: pd.Series | str, *, final: bool = False) -> None:
        mask = np.asarray(mask, dtype=bool) & ~self.final
        if final:
            self.final |= mask
        if not mask.any():
            return
        idx = np.flatnonzero(mask)
        msg = message if isinstance(message, str) else message.to_numpy()[idx]
        msg = pd.Series(msg, index=idx, dtype="str")
        cur = self.reasons.iloc[idx]
        self.reasons.iloc[idx] = (cur + "; ").fillna("") + msg

    @property
    def rejected(self) -> np.ndarray:
        return self.reasons.notna().to_numpy()


def _quote(values: pd.Series) -> pd.Series:
    """Cell values for messages: text, shortened, quoted."""
    text = values.astype("str").fillna("")
    long = text.str.len() > _MAX_SHOWN
    text = text.where(~long, text.str.slice(0, _MAX_SHOWN) + "…")
    return "'" + text.str.replace("'", "’", regex=False) + "'"


def _examples(values: pd.Series, n: int = 3) -> str:
    vals = values.dropna().astype("str").unique()[:n]
    return ", ".join(repr(v[:_MAX_SHOWN]) for v in vals)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


_EMAIL = r"^[^@ ]+@[^@ ]+\.[A-Za-z]{2,}$"
_PHONE = r"^(?:\+|00|0)[0-9][0-9 ./()-]{7,16}[0-9]$"


def _personal_by_content(frame: pd.DataFrame, columns: list[str]) -> set[str]:
    """Unmapped columns whose first values mostly look like emails or phone numbers."""
    textual = [c for c in columns if frame[c].dtype == "str" or pd.api.types.is_object_dtype(frame[c].dtype)]
    if not textual or frame.empty:
        return set()
    sample = frame[textual].head(50)
    long = sample.melt(var_name="col", value_name="v").dropna()
    if long.empty:
        return set()
    v = long["v"].astype("str").str.strip()
    long = long.assign(email=v.str.match(_EMAIL), phone=v.str.match(_PHONE), filled=v != "")
    long = long[long["filled"]]
    share = long.groupby("col", sort=False)[["email", "phone"]].mean()
    return set(share.index[(share["email"] >= 0.6) | (share["phone"] >= 0.6)])


# --------------------------------------------------------- ledger events ---
# fmt: off
_EVENT_WORDS: dict[str, tuple[str, ...]] = {
    "earn": (
        "earn", "earned", "earning", "gain", "gains", "gagne", "gagnes", "accrual", "accrue", "accrued",
        "credit", "credited", "acquisition", "acquis", "accumulation", "cumul", "issue", "issued", "award",
        "awarded", "bonus", "purchase", "achat", "collect", "collecte",
    ),
    "redeem": (
        "redeem", "redeemed", "redemption", "burn", "burned", "burnt", "utilisation", "utilise", "utilises",
        "use", "used", "spend", "spent", "debit", "debited", "echange", "reward", "cadeau", "consommation",
    ),
    "expire": (
        "expire", "expired", "expiry", "expiration", "expirations", "perime", "peremption", "lapse",
        "lapsed",
    ),
    "adjust": (
        "adjust", "adjusted", "adjustment", "adjustments", "ajustement", "ajustements", "correction",
        "manual", "manuel", "regularisation", "regul", "reversal", "annulation",
    ),
}
# fmt: on
_EVENT_LOOKUP = {w: ev for ev, words in _EVENT_WORDS.items() for w in words}


def normalise_event(value: object) -> str | None:
    """Canonical ledger event (earn/redeem/expire/adjust) of a label, or None."""
    words = normalise_header(value).split()
    compact = "".join(words)
    if compact in _EVENT_LOOKUP:
        return _EVENT_LOOKUP[compact]
    for w in words:
        if w in _EVENT_LOOKUP:
            return _EVENT_LOOKUP[w]
    return None


def _events(s: pd.Series) -> pd.Series:
    text = as_text(s)
    uniq = text.dropna().unique()
    lookup = {u: normalise_event(u) for u in uniq}
    return text.map(lookup).astype("str")


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
            f"Columns found: {_list_columns(columns)}."
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


def _list_columns(columns: list[str], limit: int = 25) -> str:
    shown = ", ".join(repr(c) for c in columns[:limit])
    return shown + (f", … ({len(columns):,} columns in all)" if len(columns) > limit else "")


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
        f"Columns found: {_list_columns(columns)}.",
    ]
    for c in missing:
        extra = ""
        if c == "amount" and kind == "transactions":
            extra = " (or a quantity and a unit price column for line-item exports)"
        lines.append(f"Header names tried for {c}: {tried_synonyms(kind, c)}{extra}.")
    if len(columns) == 1 and raw.format == "csv":
        lines.append("Only one column was found: the separator may be unusual; use , ; tab or |.")
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
) -> LoadResult:
    """Import one table of ``kind`` from a file into canonical form.  Parameters ---------- source : path, bytes or file-like (an uploaded file) CSV/TSV, Excel ``.xlsx`` or Parquet; the format is detected from the content. kind : {"transactions", "members", "ledger", "surveys", "costs"} mapping : dict, optional ``{canonical column: source column}``; overrides the inferred mapping for the columns it names (``None`` unmaps a column). Transactions also accept ``quantity`` and ``unit_price`` (line-item exports). sheet : str or int, optional Excel sheet (name or 0-based position); the first sheet by default. date_order : {"dayfirst", "monthfirst", "iso"}, optional Reading of ``a/b/yyyy`` dates; inferred from the data by default. keep_personal : bool Keep columns that look like names, emails or phone numbers (as extra columns); they are dropped by default. name : str, optional File name used in messages (defaults to the source's name).  Returns ------- LoadResult ``data``: canonical frame (all canonical columns, canonical dtypes; ledger points signed); ``report``: the :class:`LoadReport`.  Raises ------ ImportProblem The only exception: the file as a whole cannot be used."""
    try:
        return _load_table(source, kind, mapping, sheet, date_order, keep_personal, name)
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


def _load_table(
    source: object,
    kind: str,
    mapping: dict[str, str | None] | None,
    sheet: str | int | None,
    date_order: str | None,
    keep_personal: bool,
    name: str | None,
) -> LoadResult:
    if kind not in SPECS:
        raise ImportProblem(f"Unknown table kind {kind!r}; expected one of {', '.join(SPECS)}.")
    if date_order is not None and date_order not in DATE_ORDERS:
        raise ImportProblem(f"date_order must be one of {', '.join(DATE_ORDERS)}, not {date_order!r}.")
    data, src_name = source_bytes(source)
    name = name or src_name or "uploaded file"
    try:
        raw = read_raw(data, sheet)
    except ImportProblem as exc:
        raise ImportProblem(f"{name}: {exc}") from None
    frame = raw.frame
    columns = [str(c) for c in frame.columns]
    if not columns:
        raise ImportProblem(f"{name}: the file is empty (no header).")
    if frame.empty:
        blank = f" and {_plural(raw.blank_rows, 'blank line')}" if raw.blank_rows else ""
        where = f" (sheet {raw.sheet!r})" if raw.sheet else ""
        raise ImportProblem(
            f"{name}{where}: the file has a header ({_list_columns(columns, 10)}){blank} but no data rows."
            + other_sheets(raw.sheets, raw.sheet)
        )
    resolved, notes = _resolve_mapping(columns, kind, mapping, name)
    try:
        _check_required(resolved, kind, columns, name, raw)
    except ImportProblem as exc:
        raise ImportProblem(str(exc) + other_sheets(raw.sheets, raw.sheet)) from None
    return _Importer(raw, kind, resolved, name, date_order, keep_personal, notes).run()


class _Importer:
    """One import: parses mapped columns, collects rejects and warnings."""

    def __init__(
        self,
        raw: RawTable,
        kind: str,
        mapping: dict[str, str],
        name: str,
        date_order: str | None,
        keep_personal: bool,
        notes: list[str],
    ) -> None:
        self.raw, self.kind, self.mapping, self.name = raw, kind, mapping, name
        self.frame = raw.frame
        self.n = len(raw.frame)
        self.spec = SPECS[kind]
        self.requested_order = date_order
        self.keep_personal = keep_personal
        self.warnings: list[str] = list(raw.warnings) + notes
        self.reasons = _Reasons(self.n)
        self.out: dict[str, pd.Series] = {}
        self.line_items = kind == "transactions" and "quantity" in mapping and "unit_price" in mapping
        self.decimal = "," if raw.separator == ";" else "."
        self.order_used: str | None = None
        self._numbers: dict[str, ParsedNumbers] = {}  # parsed while deciding the decimal separator

    # -- small utilities ------------------------------------------------
    def col(self, target: str) -> pd.Series:
        return self.frame[self.mapping[target]]

    def where(self, target: str) -> str:
        return f"in column {self.mapping[target]!r}"

    def warn(self, text: str) -> None:
        self.warnings.append(text)

    # -- run ------------------------------------------------------------
    def run(self) -> LoadResult:
        if self.raw.blank_rows:
            self.warn(f"{_plural(self.raw.blank_rows, 'blank line')} ignored (not counted as rows).")
        self._reject_malformed_lines()
        dropped, ignored, extras = self._split_unmapped()
        self._decide_decimal()
        self._decide_date_order()
        helpers = HELPER_COLUMNS.get(self.kind, ())
        for target in self.mapping:
            if target in helpers and not self.line_items:
                self.warn(
                    f"Column {self.mapping[target]!r} ({target}) is not used: line-item exports need both a "
                    "quantity and a unit price column."
                )
                continue
            self._parse(target)
        getattr(self, f"_finish_{self.kind}")()
        return self._result(dropped, ignored, extras)

    def _reject_malformed_lines(self) -> None:
        if self.raw.format != "csv" or self.frame.shape[1] == 0:
            return
        first = self.frame.iloc[:, 0]
        marked = first.str.startswith(BAD_LINE).fillna(False).to_numpy(dtype=bool)
        if marked.any():
            n_fields = first[marked].str.count(re.escape(self.raw.separator or ",")) + 1
            msg = (
                "malformed line: "
                + n_fields.astype("str")
                + f" fields where the header has {self.frame.shape[1]}"
            )
            self.reasons.add(marked, pd.Series(msg, index=first.index[marked]).reindex(first.index), final=True)
            self.warn(
                f"{_plural(int(marked.sum()), 'line')} had more fields than the header "
                "(unquoted separator inside a value?) and were rejected."
            )

    def _split_unmapped(self) -> tuple[list[str], list[str], list[str]]:
        used = set(self.mapping.values())
        unmapped = [c for c in self.frame.columns if c not in used]
        by_header = {c for c in unmapped if personal_header(c)}
        by_content = _personal_by_content(self.frame, [c for c in unmapped if c not in by_header])
        personal = [c for c in unmapped if c in by_header or c in by_content]
        ignored = [c for c in unmapped if c not in by_header and c not in by_content]
        if personal and not self.keep_personal:
            self.warn(
                f"Personal data not imported: column(s) {_list_columns(personal, 10)} look like names, emails "
                "or phone numbers and were dropped (tick 'keep personal data' to keep them)."
            )
        elif personal:
            self.warn(f"Personal data kept on request: {_list_columns(personal, 10)}.")
        if ignored:
            self.warn(f"Column(s) not used by the analysis: {_list_columns(ignored, 10)}.")
        for target in ("member_id", "referred_by"):
            if target in self.mapping:
                sample = as_text(self.col(target).head(200)).dropna()
                if len(sample) and sample.str.match(_EMAIL).mean() > 0.5:
                    self.warn(
                        f"The {target} column {self.mapping[target]!r} holds email addresses (personal data): "
                        "consider pseudonymised ids, and turn on pseudonymised exports."
                    )
        extras = personal if self.keep_personal else []
        return ([] if self.keep_personal else personal), ignored, extras

    def _numeric_targets(self) -> list[str]:
        logical = {c.name: c.dtype for c in self.spec.columns}
        numeric = [t for t in self.mapping if logical.get(t) in ("money", "points", "float", "int")]
        return numeric + [t for t in HELPER_COLUMNS.get(self.kind, ()) if t in self.mapping]

    def _decide_decimal(self) -> None:
        """The file's decimal separator: proven by some column, else the separator's convention."""
        votes = {".": 0, ",": 0}
        for t in self._numeric_targets():
            parsed = parse_numbers(self.col(t), self.decimal)
            self._numbers[t] = parsed
            if parsed.decided:
                votes[parsed.decimal] += 1
        if votes[","] != votes["."]:
            self.decimal = "," if votes[","] > votes["."] else "."

    def _date_targets(self) -> list[str]:
        return [c.name for c in self.spec.columns if c.dtype == "datetime" and c.name in self.mapping]

    def _decide_date_order(self) -> None:
        if self.requested_order:
            self.order_used = self.requested_order
            return
        slash = day = month = 0
        for t in self._date_targets():
            ev = date_order_evidence(self.col(t))
            slash, day, month = slash + ev.slash_values, day + ev.day_first, month + ev.month_first
        if not slash:
            self.order_used = "iso" if self._date_targets() else None
            return
        if day and not month:
            self.order_used = "dayfirst"
        elif month and not day:
            self.order_used = "monthfirst"
        elif day and month:
            self.order_used = "dayfirst" if day >= month else "monthfirst"
            self.warn(
                f"Dates are written both day-first ({day:,} values) and month-first ({month:,} values); "
                f"read as {self._order_text(self.order_used)}, so values only valid the other way are rejected."
            )
        else:
            european = self.raw.separator == ";" or self.decimal == ","
            self.order_used = "dayfirst" if european else "monthfirst"
            why = "a ';'-separated / decimal-comma file" if european else "a ','-separated file"
            self.warn(
                f"Date order is ambiguous (no day or month above 12 in {slash:,} values like 01/02/2024): "
                f"read as {self._order_text(self.order_used)} because this is {why}. "
                "Choose the date order by hand if that is wrong."
            )

    @staticmethod
    def _order_text(order: str | None) -> str:
        return {"dayfirst": "day/month/year", "monthfirst": "month/day/year", "iso": "year-month-day"}.get(
            order or "", "n/a"
        )

    # -- per-column parsing ----------------------------------------------
    def _logical(self, target: str) -> str:
        if target in ("quantity", "unit_price"):
            return "float"
        return self.spec.column(target).dtype

    def _required(self, target: str) -> bool:
        if target in ("quantity", "unit_price"):
            return True
        if self.kind == "transactions" and target == "member_id":
            return False  # empty = guest purchase
        return self.spec.column(target).required

    def _parse(self, target: str) -> None:
        logical = self._logical(target)
        src = self.col(target)
        present = as_text(src).notna()
        bad_message = None
        if logical in ("id", "text"):
            values = normalise_ids(src) if logical == "id" else as_text(src)
            bad = pd.Series(False, index=src.index)
        elif logical == "event":
            values = _events(src)
            bad = present & values.isna()
            bad_message = (
                "unknown event " + _quote(self._raw_text(src)) + f" {self.where(target)} "
                "(expected earn, redeem, expire or adjust, in English or French)"
            )
        elif logical == "datetime":
            values, bad = self._parse_dates(target, src)
        elif target == "birth_year":
            values, bad = self._parse_birth_year(src)
        else:
            parsed = self._numbers.get(target)
            if parsed is None or (parsed.decimal != self.decimal and not parsed.decided):
                parsed = parse_numbers(src, self.decimal)
            values, bad = parsed.values, parsed.bad
            if parsed.ambiguous:
                text = as_text(src)
                with_sep = text.str.contains("[.,]", regex=True).fillna(False).astype(bool)
                self.warn(
                    f"Column {self.mapping[target]!r}: values such as {_examples(text[with_sep])} could be read "
                    f"either way; {parsed.decimal!r} was taken as the decimal separator."
                )
            if logical == "int":
                frac = values.notna() & (values != values.round())
                bad = bad | frac
                values = values.where(~frac)
        self.out[target] = values
        self._handle_bad_and_missing(target, src, values, bad, present, bad_message)

    def _parse_dates(self, target: str, src: pd.Series) -> tuple[pd.Series, pd.Series]:
        parsed = parse_dates(src, self.order_used or "dayfirst")
        values = parsed.values
        today = pd.Timestamp.today().normalize()
        hi = today + pd.DateOffset(years=1)
        implausible = parsed.out_of_range | (values.notna() & ((values < MIN_DATE) | (values > hi)))
        self.reasons.add(
            implausible,
            "implausible date " + _quote(self._raw_text(src)) + f" {self.where(target)} "
            f"(accepted: {MIN_DATE:%Y-%m-%d} to {hi:%Y-%m-%d})",
        )
        values = values.mask(implausible)
        return values, parsed.bad

    def _parse_birth_year(self, src: pd.Series) -> tuple[pd.Series, pd.Series]:
        nums = parse_numbers(src, self.decimal)
        present = as_text(src).notna()
        if nums.bad.sum() > 0.5 * max(1, int(present.sum())):
            dates = parse_dates(src, self.order_used or "dayfirst")
            years = dates.values.dt.year.astype("float64")
            bad = dates.bad | dates.out_of_range
            self.warn(f"Column {self.mapping['birth_year']!r} holds dates of birth: only the year is kept.")
        else:
            years, bad = nums.values, nums.bad
        this_year = pd.Timestamp.today().year
        odd = years.notna() & ((years < 1900) | (years > this_year) | (years != years.round()))
        if odd.any():
            self.warn(
                f"{_plural(int(odd.sum()), 'birth year')} outside 1900-{this_year} (e.g. "
                f"{_examples(self._raw_text(src)[odd])}) left empty."
            )
        return years.mask(odd), bad

    def _raw_text(self, src: pd.Series) -> pd.Series:
        if src.dtype == "str":
            return src
        return src.astype("str")

    def _handle_bad_and_missing(
        self,
        target: str,
        src: pd.Series,
        values: pd.Series,
        bad: pd.Series,
        present: pd.Series,
        bad_message: pd.Series | None = None,
    ) -> None:
        """Reject (required column) or blank-and-warn (optional column) bad values; reject missing required ones."""
        required = self._required(target)
        what = {"datetime": "date", "money": "amount", "points": "number", "int": "whole number",
                "float": "number"}.get(self._logical(target), "value")  # fmt: skip
        if bad.any():
            if required:
                if bad_message is None:
                    bad_message = (
                        f"unparseable {what} " + _quote(self._raw_text(src)) + f" {self.where(target)}"
                    )
                self.reasons.add(bad, bad_message)
            else:
                self.warn(
                    f"{_plural(int(bad.sum()), 'value')} of {self.mapping[target]!r} could not be read as "
                    f"{what}s (e.g. {_examples(self._raw_text(src)[bad])}) and were left empty."
                )
                self.out[target] = values.mask(bad)
        if required:
            self.reasons.add(~present, f"missing {target} ({self.mapping[target]!r} is empty)")

    # -- per-kind finishing -------------------------------------------------
    def _keep(self) -> np.ndarray:
        return ~self.reasons.rejected

    def _first_rows(self, key: pd.Series, keep: np.ndarray) -> pd.Series:
        """File row of each key's first kept occurrence."""
        rows = pd.Series(self.raw.rows, index=key.index)
        return rows[keep].groupby(key[keep], sort=False).first()

    def _dedupe(self, id_col: str, fields: list[str]) -> None:
        keep = self._keep()
        key = self.out[id_col]
        has_key = key.notna().to_numpy() & keep
        dup_any = key.duplicated(keep=False).to_numpy() & has_key
        if not dup_any.any():
            return
        sub = pd.DataFrame({f: self.out[f] for f in fields if f in self.out})[dup_any]
        later = sub.duplicated(subset=[id_col], keep="first")
        exact = sub.duplicated(keep="first")
        first_row = self._first_rows(key, has_key)
        later_idx = later[later].index
        first = key.loc[later_idx].map(first_row).astype("int64").astype("str")
        ids = _quote(key.loc[later_idx])
        is_exact = exact.loc[later_idx]
        msg = pd.Series(
            np.where(
                is_exact,
                f"duplicate {id_col} " + ids + " (exact duplicate of row " + first + ")",
                f"duplicate {id_col} " + ids + " with different content (row " + first + " kept)",
            ),
            index=later_idx,
        )
        mask = np.zeros(self.n, dtype=bool)
        mask[later_idx] = True
        self.reasons.add(mask, msg.reindex(range(self.n)))
        n_exact, n_conf = int(is_exact.sum()), int((~is_exact).sum())
        if n_conf:
            self.warn(
                f"{_plural(n_conf, 'row')} reused an existing {id_col} with different content and were rejected "
                "(the first occurrence is kept)."
                + (
                    " If this is one row per product line, map a quantity and a unit price column."
                    if self.kind == "transactions"
                    else ""
                )
            )
        if n_exact:
            self.warn(f"{_plural(n_exact, 'exact duplicate row')} rejected.")

    def _amount_warning(self, values: pd.Series, what: str) -> None:
        big = values.abs() > IMPLAUSIBLE_AMOUNT
        if big.any():
            self.warn(
                f"{_plural(int(big.sum()), what)} above {IMPLAUSIBLE_AMOUNT:,.0f} in absolute value "
                f"(largest {values.abs().max():,.6g}) were kept: check the units and the decimal separator."
            )

    def _finish_transactions(self) -> None:
        if "transaction_id" not in self.out:
            self.out["transaction_id"] = pd.Series(
                "row-" + pd.Series(self.raw.rows).astype("str"), dtype="str"
            ).set_axis(self.frame.index)
            self.warn(
                "No transaction id column: ids were generated from row numbers, so duplicates cannot be found."
            )
        if self.line_items:
            self._finish_line_items()
            return
        self._dedupe("transaction_id", [c for c in self.spec.names if c in self.out])
        if "points_redeemed" in self.out:
            pr = self.out["points_redeemed"]
            if (pr < 0).any():
                self.out["points_redeemed"] = pr.abs()
                self.warn("Negative points_redeemed values were made positive (points spent are positive).")
        keep = self._keep()
        self._amount_warning(self.out["amount"][keep], "amount")
        self._guest_warning(keep)

    def _guest_warning(self, keep: np.ndarray) -> None:
        members = self.out["member_id"][keep]
        n_guest = int(members.isna().sum())
        if n_guest == len(members) and len(members):
            self.warn("Every transaction has an empty member id: all purchases are guest purchases.")
        elif n_guest:
            self.warn(f"{_plural(n_guest, 'transaction')} without member id kept as guest purchases.")

    def _finish_line_items(self) -> None:
        if "amount" in self.mapping:
            self.warn(
                f"Line-item export: amount = quantity x unit price; column {self.mapping['amount']!r} is not used."
            )
        # Exact duplicate lines (every column equal, as written in the file).
        keep = self._keep()
        dup = self.frame.duplicated(keep="first").to_numpy() & keep
        if dup.any():
            key = pd.util.hash_pandas_object(self.frame, index=False)
            first_row = pd.Series(self.raw.rows)[keep].groupby(key[keep].to_numpy()).first()
            msg = (
                "exact duplicate line (same as row " + key.map(first_row).astype("Int64").astype("str") + ")"
            )
            self.reasons.add(dup, msg)
            self.warn(f"{_plural(int(dup.sum()), 'exact duplicate line')} rejected.")
        keep = self._keep()
        tid = self.out["transaction_id"]
        line_amount = self.out["quantity"] * self.out["unit_price"]
        cancelled = tid.str.match(r"^[Cc][0-9]").fillna(False).astype(bool)
        line_amount = line_amount.where(~cancelled, -line_amount.abs())
        missing_id = tid.isna().to_numpy() & keep
        self.reasons.add(
            missing_id, f"missing transaction_id ({self.mapping.get('transaction_id', '?')!r} is empty)"
        )
        keep = self._keep()
        lines = pd.DataFrame({c: self.out[c] for c in self.spec.names if c in self.out and c != "amount"})
        lines["amount"] = line_amount
        lines = lines[keep]
        grouped = lines.groupby("transaction_id", sort=False)
        summed = [c for c in ("amount", "points_earned", "points_redeemed") if c in lines.columns]
        tx = grouped.agg({c: "first" for c in lines.columns if c not in summed and c != "transaction_id"})
        for c in summed:
            tx[c] = grouped[c].sum(min_count=1)
        conflicts = grouped["member_id"].nunique()
        if (conflicts > 1).any():
            self.warn(
                f"{_plural(int((conflicts > 1).sum()), 'invoice')} had lines with different member ids; "
                "the first line's member id was used."
            )
        self.transactions = tx.reset_index()
        n_cancel = int(cancelled[keep].groupby(tid[keep]).any().sum()) if keep.any() else 0
        n_neg = int((self.transactions["amount"] < 0).sum())
        self.warn(
            f"Line-item export: {_plural(int(keep.sum()), 'line')} summed into "
            f"{_plural(len(self.transactions), 'transaction')} (amount = quantity x unit price); "
            f"{n_neg:,} with a negative total (returns/cancellations, {n_cancel:,} ids starting with 'C')."
        )
        self._amount_warning(self.transactions["amount"], "transaction amount")
        self._guest_warning_frame(self.transactions["member_id"])

    def _guest_warning_frame(self, members: pd.Series) -> None:
        n_guest = int(members.isna().sum())
        if n_guest == len(members) and len(members):
            self.warn("Every transaction has an empty member id: all purchases are guest purchases.")
        elif n_guest:
            self.warn(f"{_plural(n_guest, 'transaction')} without member id kept as guest purchases.")

    def _finish_members(self) -> None:
        self._dedupe("member_id", [c for c in self.spec.names if c in self.out])

    def _finish_ledger(self) -> None:
        keep = self._keep()
        ev, pts = self.out["event"], self.out["points"]
        outgoing = ev.isin(["redeem", "expire"]).to_numpy() & keep & pts.notna().to_numpy()
        if outgoing.any() and not (pts[outgoing] < 0).any() and (pts[outgoing] > 0).any():
            self.out["points"] = pts.where(~outgoing, -pts.abs())
            self.warn(
                "Points were unsigned: redeem and expire rows were made negative (ledger points are signed)."
            )
        else:
            earn_neg = (ev == "earn").to_numpy() & keep & (pts < 0).fillna(False).to_numpy(dtype=bool)
            out_pos = outgoing & (pts > 0).fillna(False).to_numpy(dtype=bool)
            if earn_neg.any() or out_pos.any():
                self.warn(
                    f"{_plural(int(earn_neg.sum() + out_pos.sum()), 'ledger row')} have a sign that does not match "
                    "the event (earn < 0 or redeem/expire > 0); kept as written."
                )

    def _finish_surveys(self) -> None:
        nps = self.out["nps_score"]
        out = nps.notna() & ((nps < 0) | (nps > 10))
        self.reasons.add(out, "nps_score " + _quote(self._raw_text(self.col("nps_score"))) + " outside 0-10")
        if "csat" in self.out:
            cs = self.out["csat"]
            odd = cs.notna() & ((cs < 1) | (cs > 5))
            if odd.any():
                self.warn(f"{_plural(int(odd.sum()), 'csat value')} outside 1-5 left empty.")
                self.out["csat"] = cs.mask(odd)

    def _finish_costs(self) -> None:
        m = self.out["month"]
        self.out["month"] = m.dt.to_period("M").dt.to_timestamp().astype("datetime64[ns]")
        keep = self._keep()
        self._amount_warning(self.out["amount"][keep], "cost")

    # -- assembling the result ------------------------------------------------
    def _result(self, dropped: list[str], ignored: list[str], extras: list[str]) -> LoadResult:
        keep = self._keep()
        if self.line_items:
            data = self.transactions
            extra_frame = None
            if extras:
                tid = self.out["transaction_id"][keep]
                extra_frame = self.frame.loc[keep, extras].groupby(tid.to_numpy(), sort=False).first()
        else:
            data = pd.DataFrame({k: v[keep] for k, v in self.out.items() if k in self.spec.names})
            extra_frame = self.frame.loc[keep, extras] if extras else None
        canonical = pd.DataFrame(index=data.index)
        for c in self.spec.columns:
            dtype = canonical_dtype(c.dtype)
            if c.name in data:
                col = data[c.name]
                if dtype == "Int64":
                    col = col.round().astype("Int64")
                canonical[c.name] = col.astype(dtype)
            else:
                canonical[c.name] = pd.Series(index=data.index, dtype=dtype)
        if extra_frame is not None:
            if self.line_items:
                extra_frame = extra_frame.reindex(data["transaction_id"].to_numpy()).set_axis(data.index)
            for c in extra_frame.columns:
                out_name = c if c not in canonical.columns else f"{c} (source)"
                canonical[out_name] = extra_frame[c]
        canonical = canonical.reset_index(drop=True)
        rejected = self._rejected_frame(dropped)
        report = LoadReport(
            kind=self.kind,
            source_name=self.name,
            format=self.raw.format,
            rows_read=self.n,
            rows_kept=int(keep.sum()),
            rejected=rejected,
            mapping=dict(self.mapping),
            warnings=tuple(self.warnings),
            dropped_columns=tuple(dropped),
            ignored_columns=tuple(ignored),
            date_order=self.order_used,
            line_items=self.line_items,
            separator=self.raw.separator,
            encoding=self.raw.encoding,
            sheet=self.raw.sheet,
            blank_rows=self.raw.blank_rows,
            rows_output=len(canonical),
        )
        if not len(canonical):
            report = _with_warning(
                report, "No row could be imported: see the rejected rows and their reasons."
            )
        return LoadResult(canonical, report)

    def _rejected_frame(self, dropped: list[str]) -> pd.DataFrame:
        bad = self.reasons.rejected
        cols = [c for c in self.frame.columns if c not in set(dropped)]
        sub = self.frame.loc[bad, cols]
        out = pd.DataFrame(index=sub.index)
        for c in cols:
            col = sub[c]
            text = col if col.dtype == "str" else col.astype("str").mask(col.isna())
            out[c if c not in ("row", "reason") else f"{c} (file)"] = text
        if self.raw.format == "csv" and len(cols) and len(out):
            first = out.columns[0]
            out[first] = out[first].str.replace(BAD_LINE, "", regex=False)
        out.insert(0, "row", self.raw.rows[bad])
        out["reason"] = self.reasons.reasons[bad].to_numpy()
        return out.reset_index(drop=True)


def _with_warning(report: LoadReport, text: str) -> LoadReport:
    from dataclasses import replace

    return replace(report, warnings=(*report.warnings, text))


# -------------------------------------------------------------- datasets ---
def check_consistency(ds: Dataset) -> tuple[str, ...]:
    """Cross-table warnings: ids that do not match between tables, disjoint date ranges.  Returns human-readable sentences (empty when everything agrees)."""
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
    for kind in ("ledger", "surveys"):
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
    """Assemble imported tables into a :class:`~loyalty.schema.Dataset`.  ``results`` maps table kind to its :class:`LoadResult`; ``transactions`` is required. Extra (kept personal) columns are carried along. The dataset's ``notes`` list the cross-table warnings of :func:`check_consistency`."""
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


__all__ += ["normalise_event", "SYNONYMS"]
