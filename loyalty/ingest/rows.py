"""Row-level work of an import: parse mapped columns, reject bad rows with reasons.

:class:`Importer` is the engine behind :func:`loyalty.ingest.load_table`
(read that module's docstring for the documented decisions). Everything is
vectorised: reasons are only built for the rows that are rejected.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from loyalty.ingest.mapping import DISCOUNT_COLUMNS, HELPER_COLUMNS, normalise_header, personal_header
from loyalty.ingest.parsing import (
    ParsedNumbers,
    arrow_strings,
    as_text,
    date_order_evidence,
    iso_fast,
    normalise_id_text,
    normalise_ids,
    order_evidence_text,
    parse_date_text,
    parse_dates,
    parse_number_text,
    parse_numbers,
)
from loyalty.ingest.readers import BAD_LINE, RawTable
from loyalty.schema import LEDGER_EVENTS, SPECS, canonical_dtype

#: An import rejecting more than this share of its rows is flagged before use.
MAX_REJECT_SHARE = 0.05
#: An import whose kept amounts differ from the file's total by more than this share is flagged.
MAX_AMOUNT_GAP = 0.01
#: Dates before this are rejected as implausible.
MIN_DATE = pd.Timestamp("1990-01-01")
#: Amounts above this (absolute, currency units) are kept but flagged.
IMPLAUSIBLE_AMOUNT = 1e7
_MAX_SHOWN = 40  # characters of a cell quoted in a reason
_PARALLEL_ROWS = 200_000  # columns of larger files are cleaned on two threads


@dataclass(frozen=True, eq=False)
class LoadReport:
    """What happened to every row and column of one imported file.

    ``mapping`` is ``{canonical or helper column: source column}``.
    ``rejected`` has the original columns (as text), ``row`` and ``reason``.
    """

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
    aggregation: str | None = None
    confidence: dict[str, tuple[str, str]] = field(default_factory=dict)
    amount_file_total: float | None = None
    amount_kept_total: float | None = None
    duplicates_across_files: int = 0

    @property
    def rows_rejected(self) -> int:
        return len(self.rejected)

    def summary(self) -> str:
        """One line: rows read / kept / rejected (and transactions built)."""
        text = f"{self.rows_read:,} rows read, {self.rows_kept:,} kept, {self.rows_rejected:,} rejected"
        if self.duplicates_across_files:
            text += f" ({self.duplicates_across_files:,} already in an earlier file)"
        if self.line_items:
            text += f" ({self.rows_kept:,} lines summed into {self.rows_output:,} transactions)"
        return text

    @property
    def reject_share(self) -> float:
        """Rows rejected for a problem / rows read (0-1); ids already imported from an earlier file
        (several monthly exports that overlap) are expected and not counted."""
        overlap = 0 if self.line_items else self.duplicates_across_files
        return (self.rows_rejected - overlap) / self.rows_read if self.rows_read else 0.0

    @property
    def amount_gap(self) -> float:
        """(file total - kept total) / |file total| of the amount column (0 when unknown)."""
        a, b = self.amount_file_total, self.amount_kept_total
        if a is None or b is None or not a:
            return 0.0
        return (a - b) / abs(a)

    def alerts(self) -> tuple[str, ...]:
        """Why this import should be checked before use: many rejects, or totals that do not add up.

        More than :data:`MAX_REJECT_SHARE` of the rows rejected (with the top reasons), or a
        kept amount total more than :data:`MAX_AMOUNT_GAP` away from the file's total of its
        amount column (every row whose amount could be read, rejected rows included).
        """
        out = []
        if self.reject_share > MAX_REJECT_SHARE:
            top = self.reason_counts().head(3)
            reasons = "; ".join(f"{n:,} × {r}" for r, n in top.items())
            out.append(f"{self.reject_share:.1%} of the rows of {self.source_name!r} were rejected ({reasons}).")
        if abs(self.amount_gap) > MAX_AMOUNT_GAP:
            out.append(
                f"The amounts kept add up to {self.amount_kept_total:,.2f}, {abs(self.amount_gap):.1%} "
                f"{'below' if self.amount_gap > 0 else 'above'} the file's total of {self.amount_file_total:,.2f}."
            )
        return tuple(out)

    def reason_counts(self) -> pd.Series:
        """Number of rejected rows per reason *type* (cell values removed)."""
        if self.rejected.empty:
            return pd.Series(dtype="int64", name="rows")
        # Cell values and row numbers vary, column names do not.
        kinds = (
            self.rejected["reason"]
            .str.replace(r"""(?<!column )(?<!\()'[^']*'""", "'…'", regex=True)
            .str.replace(r"row [0-9]+", "row …", regex=True)
        )
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
        self._rejected = np.zeros(n, dtype=bool)

    def add(
        self,
        mask: pd.Series | np.ndarray,
        message: pd.Series | str | Callable[[], pd.Series | str],
        *,
        final: bool = False,
    ) -> None:
        mask = np.asarray(mask, dtype=bool) & ~self.final
        if final:
            self.final |= mask
        if not mask.any():
            return
        idx = np.flatnonzero(mask)
        self._rejected[idx] = True
        if callable(message):  # message built only when some row is rejected
            message = message()
        msg = message if isinstance(message, str) else message.to_numpy()[idx]
        msg = pd.Series(msg, index=idx, dtype="str")
        cur = self.reasons.iloc[idx]
        self.reasons.iloc[idx] = (cur + "; ").fillna("") + msg

    @property
    def rejected(self) -> np.ndarray:
        return self._rejected.copy()


def _quote(values: pd.Series) -> pd.Series:
    """Cell values for messages: text, shortened, quoted."""
    text = values.astype("str").fillna("")
    long = text.str.len() > _MAX_SHOWN
    text = text.where(~long, text.str.slice(0, _MAX_SHOWN) + "…")
    return "'" + text.str.replace("'", "’", regex=False) + "'"


def _examples(values: pd.Series, n: int = 3) -> str:
    vals = values.dropna().astype("str").unique()[:n]
    return ", ".join(repr(v[:_MAX_SHOWN]) for v in vals)


def _strictly_increasing(key: pd.Series) -> bool:
    """Whether a text column has no missing value and each value sorts after the previous one."""
    arr = arrow_strings(key)
    if arr is None or arr.null_count or len(arr) < 2:
        return False
    return bool(pc.all(pc.greater(arr[1:], arr[:-1])).as_py())


def _sum_by(codes: np.ndarray, values: np.ndarray, n: int) -> pd.Series:
    """Sum of ``values`` per code (NaN where every value of the code is NaN)."""
    present = ~np.isnan(values)
    sums = np.bincount(codes, weights=np.where(present, values, 0.0), minlength=n)
    counts = np.bincount(codes, weights=present.astype(np.float64), minlength=n)
    return pd.Series(np.where(counts > 0, np.round(sums, 6), np.nan))


def _kept(values: pd.Series, keep: np.ndarray) -> pd.Series:
    return values if keep.all() else values[keep]


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


_EMAIL = r"^[^@ ]+@[^@ ]+\.[A-Za-z]{2,}$"
_PHONE = r"^(?:\+|00|0)[0-9][0-9 ./()-]{7,16}[0-9]$"


def _personal_by_content(frame: pd.DataFrame, columns: list[str]) -> set[str]:
    """Unmapped columns whose first values mostly look like emails or phone numbers."""
    dtypes = frame.dtypes
    textual = [c for c in columns if dtypes[c] == "str" or pd.api.types.is_object_dtype(dtypes[c])]
    if not textual or frame.empty:
        return set()
    sample = frame[textual].head(50)
    # Long format built with numpy (DataFrame.melt is slow on 10,000 columns).
    values = pd.Series(sample.to_numpy(dtype=object).T.ravel(), dtype="str").str.strip()
    long = pd.DataFrame({"col": np.repeat(np.asarray(textual, dtype=object), len(sample)), "v": values})
    long = long[long["v"].notna() & (long["v"] != "")]
    if long.empty:
        return set()
    v = long["v"]
    long = long.assign(email=v.str.match(_EMAIL), phone=v.str.match(_PHONE))
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
if set(_EVENT_WORDS) != set(LEDGER_EVENTS):  # one event list: the schema's
    raise RuntimeError("ledger event synonyms must cover exactly schema.LEDGER_EVENTS")
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


# ------------------------------------------------------- campaign groups ---
# fmt: off
_GROUP_WORDS: dict[str, tuple[str, ...]] = {
    "test": (
        "test", "tests", "treatment", "treatments", "treated", "traitement", "traite", "traitee", "traites",
        "exposed", "expose", "exposee", "exposes", "cible", "cibles", "target", "targeted", "variant",
        "variante", "b", "contacted", "contacte", "contactes", "mailed",
    ),
    "control": (
        "control", "controls", "controle", "controles", "temoin", "temoins", "holdout", "holdouts", "heldout",
        "holdback", "a", "baseline", "placebo", "noncible", "noncibles", "nonexpose", "nonexposes",
        "notexposed", "unexposed", "notcontacted", "noncontacte", "noncontactes", "untreated", "nontraite",
        "excluded", "exclu", "exclus",
    ),
}
# fmt: on
_GROUP_LOOKUP = {w: g for g, words in _GROUP_WORDS.items() for w in words}
_GROUP_NOISE = frozenset({"group", "groupe", "grp", "cell", "cellule", "arm", "bras", "de", "du", "le", "la", "the"})
_NEGATION = frozenset({"non", "not", "no", "pas", "un", "sans"})


def normalise_group(value: object) -> str | None:
    """Canonical campaign group (``test`` / ``control``) of a label, or None when it is not one.

    English and French labels, case and accents ignored: test / treatment / exposed / cible / B
    are ``test``; control / contrôle / témoin / holdout / A / non ciblé are ``control``. Group
    words ("groupe témoin") are ignored; a negated word ("non exposé") is only read as a whole.
    Numbers and yes/no flags are not guessed.
    """
    words = [w for w in normalise_header(value).split() if w not in _GROUP_NOISE]
    compact = "".join(words)
    if compact in _GROUP_LOOKUP:
        return _GROUP_LOOKUP[compact]
    if not words or _NEGATION.intersection(words):
        return None
    found = {_GROUP_LOOKUP[w] for w in words if w in _GROUP_LOOKUP and len(w) > 1}
    return found.pop() if len(found) == 1 else None


def _groups(s: pd.Series) -> pd.Series:
    text = as_text(s)
    lookup = {u: normalise_group(u) for u in text.dropna().unique()}
    return text.map(lookup).astype("str")


def list_columns(columns: list[str], limit: int = 25) -> str:
    """Column names for messages, shortened for very wide files."""
    shown = ", ".join(repr(c) for c in columns[:limit])
    return shown + (f", … ({len(columns):,} columns in all)" if len(columns) > limit else "")


#: Logical type of the helper columns (see :data:`loyalty.ingest.mapping.HELPER_COLUMNS`).
_HELPER_TYPES: dict[str, str] = {
    "quantity": "float",
    "unit_price": "float",
    "product_id": "id",
    **{c: "money" for c in DISCOUNT_COLUMNS},
}
#: Receipt ids repeated over rows of different content in at least this share of the rows make
#: a line-level file even when no product or quantity column is mapped.
LINE_LEVEL_SHARE = 0.2
LINE_LEVEL_MIN_ROWS = 20


class Importer:
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
        confidence: dict[str, tuple[str, str]] | None = None,
    ) -> None:
        self.raw, self.kind, self.mapping, self.name = raw, kind, mapping, name
        self.confidence = dict(confidence or {})
        self.frame = raw.frame
        self.n = len(raw.frame)
        self.spec = SPECS[kind]
        self.requested_order = date_order
        self.keep_personal = keep_personal
        self.warnings: list[str] = list(raw.warnings) + notes
        self.reasons = _Reasons(self.n)
        self.out: dict[str, pd.Series] = {}
        # Quantity x unit price is the only amount there is: one row per line by construction.
        self.price_lines = (
            kind == "transactions" and "quantity" in mapping and "unit_price" in mapping and "amount" not in mapping
        )
        self.line_items = self.price_lines  # also set when receipt ids repeat over product lines
        self.aggregation: str | None = None
        self.amount_file_total: float | None = None
        self.amount_kept_total: float | None = None
        self.receipt_rows: np.ndarray | None = None  # frame position of each receipt's first line
        self._hashes: pd.Series | None = None
        self._dups: np.ndarray | None = None
        self.decimal = "," if raw.separator == ";" else "."
        self.order_used: str | None = None
        self._numbers: dict[str, ParsedNumbers] = {}  # parsed while deciding the decimal separator
        self._texts: dict[str, pd.Series] = {}  # as_text of text columns, computed once
        self._iso: dict[str, tuple[np.ndarray, np.ndarray] | None] = {}  # plain ISO dates, parsed once
        self._ids: dict[str, pd.Series] = {}  # normalised text ids (filled by _prefetch)

    # -- small utilities ------------------------------------------------
    def col(self, target: str) -> pd.Series:
        return self.frame[self.mapping[target]]

    def is_text(self, target: str) -> bool:
        return self.col(target).dtype == "str"

    def text(self, target: str) -> pd.Series:
        """:func:`as_text` of a mapped column, computed once per import."""
        if target not in self._texts:
            self._texts[target] = as_text(self.col(target))
        return self._texts[target]

    def present(self, target: str) -> pd.Series:
        """Which cells of a mapped column hold a value (not empty, not a missing marker)."""
        src = self.col(target)
        dtype = src.dtype
        if dtype != "str" and (
            pd.api.types.is_numeric_dtype(dtype)
            or pd.api.types.is_bool_dtype(dtype)
            or pd.api.types.is_datetime64_any_dtype(dtype)
        ):
            return src.notna()  # typed cells: their text is never empty nor a missing marker
        return self.text(target).notna()

    def numbers(self, target: str, decimal: str) -> ParsedNumbers:
        if self.is_text(target):
            return parse_number_text(self.text(target), decimal)
        return parse_numbers(self.col(target), decimal)

    def iso(self, target: str) -> tuple[np.ndarray, np.ndarray] | None:
        if target not in self._iso:
            self._iso[target] = iso_fast(self.text(target)) if self.is_text(target) else None
        return self._iso[target]

    def where(self, target: str) -> str:
        return f"in column {self.mapping[target]!r}"

    def warn(self, text: str) -> None:
        self.warnings.append(text)

    # -- run ------------------------------------------------------------
    def run(self) -> LoadResult:
        if self.raw.blank_rows:
            self.warn(f"{plural(self.raw.blank_rows, 'blank line')} ignored (not counted as rows).")
        self._reject_malformed_lines()
        self._prefetch()
        dropped, ignored, extras = self._split_unmapped()
        self._decide_decimal()
        self._decide_date_order()
        for target in self.mapping:
            if target == "product_id" or (target in ("quantity", "unit_price") and not self.price_lines):
                continue  # they only tell lines apart (the file's raw rows do that): nothing to output
            self._parse(target)
        getattr(self, f"_finish_{self.kind}")()
        return self._result(dropped, ignored, extras)

    def _prefetch(self) -> None:
        """Clean the text of large mapped columns on two threads (pyarrow kernels release the GIL).

        Only fills the per-column caches with the values the sequential code
        would compute (pure functions of one column), so results and messages
        do not depend on it.
        """
        if self.n < _PARALLEL_ROWS:
            return
        numeric = set(self._numeric_targets())
        dates = set(self._date_targets())
        jobs = {t: self.col(t) for t in self.mapping if self.is_text(t)}
        if len(jobs) < 2:
            return
        decimal = self.decimal

        ids = {t for t in jobs if self._logical(t) == "id"}

        def work(target: str, src: pd.Series) -> tuple[pd.Series, object, ParsedNumbers | None, object]:
            text = as_text(src)
            fast = iso_fast(text) if target in dates else None
            nums = parse_number_text(text, decimal) if target in numeric else None
            norm = normalise_id_text(text) if target in ids else None
            return text, fast, nums, norm

        with ThreadPoolExecutor(max_workers=2) as pool:
            done = {t: pool.submit(work, t, s) for t, s in jobs.items()}
            for target, fut in done.items():
                text, fast, nums, norm = fut.result()
                self._texts[target] = text
                if norm is not None:
                    self._ids[target] = norm
                if target in dates:
                    self._iso[target] = fast
                if nums is not None:
                    self._numbers[target] = nums

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
            self.reasons.add(
                marked, pd.Series(msg, index=first.index[marked]).reindex(first.index), final=True
            )
            self.warn(
                f"{plural(int(marked.sum()), 'line')} had more fields than the header "
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
                f"Personal data not imported: column(s) {list_columns(personal, 10)} look like names, emails "
                "or phone numbers and were dropped (tick 'keep personal data' to keep them)."
            )
        elif personal:
            self.warn(f"Personal data kept on request: {list_columns(personal, 10)}.")
        if ignored:
            self.warn(f"Column(s) not used by the analysis: {list_columns(ignored, 10)}.")
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
        helpers = [t for t in HELPER_COLUMNS.get(self.kind, ()) if t in self.mapping]
        return numeric + [t for t in helpers if _HELPER_TYPES[t] != "id"]

    def _decide_decimal(self) -> None:
        """The file's decimal separator: proven by some column, else the separator's convention."""
        votes = {".": 0, ",": 0}
        for t in self._numeric_targets():
            parsed = self._numbers.get(t) or self.numbers(t, self.decimal)
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
            fast = self.iso(t)
            if fast is None:
                ev = date_order_evidence(self.col(t))
            else:  # plain ISO values cannot be a/b/yyyy
                ev = order_evidence_text(self.text(t)[~fast[1]] if fast[1].any() else self.text(t))
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
        if target in _HELPER_TYPES:
            return _HELPER_TYPES[target]
        return self.spec.column(target).dtype

    def _required(self, target: str) -> bool:
        if target in _HELPER_TYPES:
            return self.price_lines and target in ("quantity", "unit_price")  # they make the amount
        if self.kind == "transactions" and target == "member_id":
            return False  # empty = guest purchase
        return self.spec.column(target).required

    def _parse(self, target: str) -> None:
        logical = self._logical(target)
        src = self.col(target)
        present = self.present(target)
        bad_message = None
        if self.kind == "campaigns" and target == "group":
            values = _groups(src)
            bad = present & values.isna()
            bad_message = lambda: (  # noqa: E731
                "unknown group " + _quote(self._raw_text(src)) + f" {self.where(target)} "
                "(expected test or control: test / treatment / B, control / témoin / holdout / A)"
            )
        elif logical in ("id", "text"):
            if logical == "text":
                values = self.text(target)
            elif self.is_text(target):
                values = self._ids.get(target)
                if values is None:
                    values = normalise_id_text(self.text(target))
            else:
                values = normalise_ids(src)
            bad = pd.Series(np.zeros(self.n, dtype=bool), index=src.index)
        elif logical == "event":
            values = _events(src)
            bad = present & values.isna()
            bad_message = lambda: (  # noqa: E731
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
                parsed = self.numbers(target, self.decimal)
            values, bad = parsed.values, parsed.bad
            if parsed.ambiguous:
                text = self.text(target)
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
        order = self.order_used or "dayfirst"
        if self.is_text(target):
            parsed = parse_date_text(self.text(target), order, self.iso(target))
        else:
            parsed = parse_dates(src, order)
        values = parsed.values
        today = pd.Timestamp.today().normalize()
        hi = today + pd.DateOffset(years=1)
        # On the int64 nanoseconds (NaT is the smallest int64): pandas datetime comparisons are slower.
        ns = values.to_numpy(dtype="datetime64[ns]").view("int64")
        nat = np.iinfo(np.int64).min
        implausible = parsed.out_of_range.to_numpy(dtype=bool) | (
            (ns != nat) & ((ns < MIN_DATE.as_unit("ns").value) | (ns > hi.as_unit("ns").value))
        )
        self.reasons.add(
            implausible,
            lambda: "implausible date " + _quote(self._raw_text(src)) + f" {self.where(target)} "
            f"(accepted: {MIN_DATE:%Y-%m-%d} to {hi:%Y-%m-%d})",
        )
        if implausible.any():
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
                f"{plural(int(odd.sum()), 'birth year')} outside 1900-{this_year} (e.g. "
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
        bad_message: pd.Series | Callable[[], pd.Series] | None = None,
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
                self.reasons.add(bad, bad_message() if callable(bad_message) else bad_message)
            else:
                self.warn(
                    f"{plural(int(bad.sum()), 'value')} of {self.mapping[target]!r} could not be read as "
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
        key = self.out[id_col]
        if _strictly_increasing(key):
            return  # sorted distinct ids (the usual export order): no duplicate possible
        keep = self._keep()
        has_key = key.notna().to_numpy() & keep
        dup_any = key.duplicated(keep=False).to_numpy() & has_key
        if not dup_any.any():
            return
        sub = pd.DataFrame({f: self.out[f] for f in fields if f in self.out})[dup_any]
        later = sub.duplicated(subset=[id_col], keep="first")
        # Exact duplicate = every column of the file equal, not only the mapped ones: two lines that
        # differ in an unmapped product column are not the same row.
        exact = pd.Series(self.frame[dup_any].duplicated(keep="first").to_numpy(), index=sub.index)
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
                f"Rejected {plural(n_conf, 'row')} reusing an earlier {id_col} with different content "
                "(the first occurrence is kept)."
                + (
                    " If this is one row per product line, map a quantity and a unit price column."
                    if self.kind == "transactions"
                    else ""
                )
            )
        if n_exact:
            self.warn(f"Rejected {plural(n_exact, 'exact duplicate row')}.")

    def _amount_warning(self, values: pd.Series, what: str) -> None:
        big = values.abs() > IMPLAUSIBLE_AMOUNT
        if big.any():
            self.warn(
                f"{plural(int(big.sum()), what)} above {IMPLAUSIBLE_AMOUNT:,.0f} in absolute value "
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
        discounts = [c for c in DISCOUNT_COLUMNS if c in self.out]
        if discounts:
            parts = pd.concat([self.out[c].abs() for c in discounts], axis=1)
            self.out["discount"] = parts.sum(axis=1, min_count=1)
        if self.line_items or self._repeats_over_lines():
            self.line_items = True
            self._finish_line_items()
            self.amount_kept_total = float(self.transactions["amount"].sum())
            return
        self.amount_file_total = float(np.nansum(self.out["amount"].to_numpy(dtype="float64", na_value=np.nan)))
        self._dedupe("transaction_id", [c for c in self.spec.names if c in self.out])
        if "points_redeemed" in self.out:
            pr = self.out["points_redeemed"]
            if (pr < 0).any():
                self.out["points_redeemed"] = pr.abs()
                self.warn("Negative points_redeemed values were made positive (points spent are positive).")
        keep = self._keep()
        self.amount_kept_total = float(np.nansum(_kept(self.out["amount"], keep).to_numpy(dtype="float64",
                                                                                          na_value=np.nan)))
        self._amount_warning(_kept(self.out["amount"], keep), "amount")
        self._guest_warning(keep)

    def _repeats_over_lines(self) -> bool:
        """Whether receipt ids repeat over rows of different content (one row per product line).

        True when a product or quantity column is mapped and some receipt id is on several
        rows that differ somewhere in the file, or, without such a column, when those rows
        are at least :data:`LINE_LEVEL_SHARE` of the file (and :data:`LINE_LEVEL_MIN_ROWS`) and
        95% of their receipts keep one member and one day (then a warning says so). Rows equal
        in every column are exact duplicates, never lines.
        """
        if "transaction_id" not in self.mapping:
            return False
        keep = self._keep()
        tid = self.out["transaction_id"]
        repeated = tid.duplicated(keep=False).to_numpy() & tid.notna().to_numpy() & keep
        if not repeated.any():
            return False
        distinct = repeated & ~self._raw_duplicates()
        ids = tid[distinct]
        over_lines = ids.duplicated(keep=False).to_numpy()
        if not over_lines.any():
            return False
        if "product_id" in self.mapping or "quantity" in self.mapping:
            return True
        # Without a product column, lines are told from conflicting duplicates by what lines of one
        # receipt share: its member and its day.
        rows = np.flatnonzero(distinct)[over_lines]
        same = pd.DataFrame(
            {
                "id": tid.iloc[rows].to_numpy(),
                "member": self.out["member_id"].iloc[rows].to_numpy(),
                "day": self.out["timestamp"].iloc[rows].dt.floor("D").to_numpy(),
            }
        ).groupby("id").nunique(dropna=False)
        coherent = bool(((same["member"] <= 1) & (same["day"] <= 1)).mean() >= 0.95)
        share = len(rows) / max(int(keep.sum()), 1)
        if coherent and share >= LINE_LEVEL_SHARE and len(rows) >= LINE_LEVEL_MIN_ROWS:
            self.warn(
                f"{share:.0%} of the rows share a receipt id with other rows of different content: read as one "
                "row per product line and summed per receipt. Map the product or quantity column to confirm, "
                "or a unique id column if each row is a purchase."
            )
            return True
        return False

    def _row_hashes(self) -> pd.Series:
        """A 64-bit hash of every file row (all columns, as read), computed once."""
        if self._hashes is None:
            self._hashes = pd.util.hash_pandas_object(self.frame, index=False)
        return self._hashes

    def _raw_duplicates(self) -> np.ndarray:
        """Rows equal in every column to an earlier row (hash first, then checked cell by cell)."""
        if self._dups is None:
            h = self._row_hashes()
            maybe = h.duplicated(keep=False).to_numpy()
            dups = np.zeros(self.n, dtype=bool)
            if maybe.any():  # only rows sharing a hash are compared for real: collisions cannot merge rows
                dups[maybe] = self.frame[maybe].duplicated(keep="first").to_numpy()
            self._dups = dups
        return self._dups

    def _guest_warning(self, keep: np.ndarray) -> None:
        self._guest_warning_frame(_kept(self.out["member_id"], keep))

    def _finish_line_items(self) -> None:
        # Exact duplicate lines (every column equal, as written in the file).
        keep = self._keep()
        dup = self._raw_duplicates() & keep
        if dup.any():
            key = self._row_hashes()
            first_row = pd.Series(self.raw.rows)[keep].groupby(key[keep].to_numpy()).first()
            msg = (
                "exact duplicate line (same as row " + key.map(first_row).astype("Int64").astype("str") + ")"
            )
            self.reasons.add(dup, msg)
            self.warn(
                f"{plural(int(dup.sum()), 'exact duplicate line')} rejected (every column equal to an earlier line)."
            )
        tid = self.out["transaction_id"]
        if self.price_lines:
            line_amount = self.out["quantity"] * self.out["unit_price"]
            cancelled = tid.str.match(r"^[Cc][0-9]").fillna(False).astype(bool)
            line_amount = line_amount.where(~cancelled, -line_amount.abs())
            basis = f"quantity x unit price ({self.mapping['quantity']!r} x {self.mapping['unit_price']!r})"
        else:
            line_amount = self.out["amount"]
            cancelled = pd.Series(False, index=tid.index)
            basis = f"sum of {self.mapping['amount']!r} (the line totals as exported)"
        self.amount_file_total = float(np.nansum(line_amount.to_numpy(dtype="float64", na_value=np.nan)))
        keep = self._keep()
        missing_id = tid.isna().to_numpy() & keep
        self.reasons.add(
            missing_id, f"missing transaction_id ({self.mapping.get('transaction_id', '?')!r} is empty)"
        )
        keep = self._keep()
        pos = np.flatnonzero(keep)
        codes, uniques = pd.factorize(tid.to_numpy()[pos], sort=False)
        n_receipts = len(uniques)
        # First line of each receipt: a reverse scatter (the last write wins, so scan backwards).
        first = np.empty(n_receipts, dtype=np.int64)
        first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
        self.receipt_rows = pos[first]
        columns: dict[str, pd.Series] = {}
        for c in self.spec.names:
            if c in ("amount", "points_earned", "points_redeemed", "discount"):
                values = line_amount if c == "amount" else self.out.get(c)
                if values is not None:
                    columns[c] = _sum_by(codes, values.to_numpy(dtype="float64", na_value=np.nan)[pos], n_receipts)
            elif c in self.out:
                columns[c] = self.out[c].iloc[self.receipt_rows].reset_index(drop=True)
        tx = pd.DataFrame(columns)
        members = self.out["member_id"].iloc[pos]
        n_members = pd.Series(members.to_numpy()).groupby(codes).nunique()
        if (n_members > 1).any():
            self.warn(
                f"{plural(int((n_members > 1).sum()), 'receipt')} had lines with different member ids; "
                "the first line's member id was used."
            )
        self.transactions = tx
        n_lines = len(pos)
        n_neg = int((tx["amount"] < 0).sum())
        extra = ""
        if "discount" in tx:
            names = ", ".join(repr(self.mapping[c]) for c in DISCOUNT_COLUMNS if c in self.mapping)
            extra = f"; discount = sum of |{names}| (not subtracted again)"
        self.aggregation = (
            f"{n_lines:,} lines → {n_receipts:,} receipts; amount = {basis}{extra}; timestamp, member, store "
            f"and channel of each receipt's first line"
        )
        returns = f"{n_neg:,} receipts with a negative total (returns"
        if self.price_lines:
            n_cancel = int(np.bincount(codes, weights=cancelled.to_numpy()[pos], minlength=n_receipts).astype(bool).sum())
            returns += f", {n_cancel:,} ids starting with 'C'"
        self.warn(f"Line-item export: {self.aggregation}. {returns}).")
        self._amount_warning(tx["amount"], "transaction amount")
        self._guest_warning_frame(tx["member_id"])

    def _guest_warning_frame(self, members: pd.Series) -> None:
        n_guest = int(members.isna().sum())
        if n_guest == len(members) and len(members):
            self.warn("Every transaction has an empty member id: all purchases are guest purchases.")
        elif n_guest:
            self.warn(f"{plural(n_guest, 'transaction')} without member id kept as guest purchases.")

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
                    f"Kept as written: {plural(int(earn_neg.sum() + out_pos.sum()), 'ledger row')} whose sign "
                    "does not match the event (earn < 0 or redeem/expire > 0)."
                )

    def _finish_surveys(self) -> None:
        nps = self.out["nps_score"]
        out = nps.notna() & ((nps < 0) | (nps > 10))
        self.reasons.add(out, "nps_score " + _quote(self._raw_text(self.col("nps_score"))) + " outside 0-10")
        if "csat" in self.out:
            cs = self.out["csat"]
            odd = cs.notna() & ((cs < 1) | (cs > 5))
            if odd.any():
                self.warn(f"{plural(int(odd.sum()), 'csat value')} outside 1-5 left empty.")
                self.out["csat"] = cs.mask(odd)

    def _finish_costs(self) -> None:
        m = self.out["month"]
        self.out["month"] = m.dt.to_period("M").dt.to_timestamp().astype("datetime64[ns]")
        keep = self._keep()
        self._amount_warning(_kept(self.out["amount"], keep), "cost")

    def _finish_campaigns(self) -> None:
        """Whole-day inclusive windows, one group and one window per member and campaign.

        Times of day are dropped (windows are whole days, both ends included); a window ending
        before it starts is rejected; for one member and campaign, later identical rows are
        rejected as duplicates, and a member in both groups, or with several windows, has all its
        rows of that campaign rejected: their group or window would be a guess.
        """
        start, end = self.out["start"], self.out["end"]
        timed = (start.notna() & (start != start.dt.normalize())) | (end.notna() & (end != end.dt.normalize()))
        if timed.any():
            self.warn(
                f"{plural(int(timed.sum()), 'campaign window')} had a time of day: windows are whole days "
                "(start and end days included), so the times were dropped."
            )
        start, end = start.dt.normalize(), end.dt.normalize()
        self.out["start"], self.out["end"] = start, end
        keep = self._keep()
        backwards = keep & (end < start).fillna(False).to_numpy(dtype=bool)
        self.reasons.add(
            backwards,
            lambda: "window ends (" + end.dt.strftime("%Y-%m-%d").fillna("") + ") before it starts ("
            + start.dt.strftime("%Y-%m-%d").fillna("") + ")",
        )
        keep = self._keep()
        pos = np.flatnonzero(keep)
        if not len(pos):
            return
        f = pd.DataFrame(
            {
                "campaign": self.out["campaign"].to_numpy()[pos],
                "member": self.out["member_id"].to_numpy()[pos],
                "group": self.out["group"].to_numpy()[pos],
                "start": start.to_numpy()[pos],
                "end": end.to_numpy()[pos],
                "row": np.asarray(self.raw.rows)[pos],
            },
            index=pos,
        )
        exact = f.duplicated(["campaign", "member", "group", "start", "end"], keep="first")
        if exact.any():
            first_row = f[~exact].groupby(["campaign", "member", "group", "start", "end"])["row"].first()
            key = pd.MultiIndex.from_frame(f.loc[exact, ["campaign", "member", "group", "start", "end"]])
            msg = pd.Series(
                "duplicate campaign row (same member, campaign, group and window as row "
                + pd.Series(first_row.reindex(key).to_numpy()).astype("Int64").astype("str").to_numpy()
                + ")",
                index=f.index[exact],
            )
            mask = np.zeros(self.n, dtype=bool)
            mask[msg.index] = True
            self.reasons.add(mask, msg.reindex(range(self.n)))
            self.warn(f"{plural(int(exact.sum()), 'duplicate campaign row')} rejected.")
            f = f[~exact]
        pair = f.groupby(["campaign", "member"], sort=False)
        both = pair["group"].transform("nunique") > 1
        several = (pair["group"].transform("size") > 1) & ~both
        for mask_s, what in ((both, "both"), (several, "several")):
            if not mask_s.any():
                continue
            sub = f[mask_s]
            rows = sub.groupby(["campaign", "member"], sort=False)["row"].transform(
                lambda r: ", ".join(map(str, r.iloc[:5])) + (", …" if len(r) > 5 else "")
            )
            ids, camps = _quote(sub["member"]), _quote(sub["campaign"])
            if what == "both":
                text = ("member " + ids + " is in both test and control of campaign " + camps + " (rows " + rows
                        + "): left out, its group is unknown")
            else:
                text = ("member " + ids + " has several windows in campaign " + camps + " (rows " + rows
                        + "): left out, one window per member and campaign (name each wave as its own campaign)")
            mask = np.zeros(self.n, dtype=bool)
            mask[sub.index] = True
            self.reasons.add(mask, pd.Series(text.to_numpy(), index=sub.index).reindex(range(self.n)))
            n_members = int(sub.groupby(["campaign", "member"], sort=False).ngroups)
            self.warn(
                f"{plural(n_members, 'member')} in both the test and the control group of a campaign: all their "
                "rows of that campaign rejected (their group is unknown)."
                if what == "both"
                else f"{plural(n_members, 'member')} with several windows in one campaign: all their rows of that "
                "campaign rejected (one window per member and campaign)."
            )
        f = f[~(both | several)]
        if f.empty:
            return
        labels = as_text(self.col("group")).iloc[f.index]
        ab = labels.str.strip().str.upper().isin(["A", "B"])
        if ab.any():
            self.warn(
                "Groups 'A' / 'B' were read as A = control, B = test (the usual A/B convention); relabel them "
                "test / control if your file uses the opposite."
            )
        g = f.groupby("campaign", sort=False)
        n_test = g["group"].agg(lambda x: int((x == "test").sum()))
        n_all = g.size()
        for camp in n_test.index[(n_test == 0) | (n_test == n_all)]:
            which = "control" if n_test[camp] else "test"
            self.warn(
                f"Campaign {camp!r} has no {which} group ({n_all[camp]:,} members, all "
                f"{'test' if which == 'control' else 'control'}): its lift cannot be measured."
            )
        windows = g[["start", "end"]].nunique().max(axis=1)
        multi = windows[windows > 1]
        if len(multi):
            self.warn(
                f"{plural(len(multi), 'campaign')} with different windows across members (e.g. {multi.index[0]!r}): "
                "each member is measured over their own window."
            )

    # -- assembling the result ------------------------------------------------
    def _result(self, dropped: list[str], ignored: list[str], extras: list[str]) -> LoadResult:
        keep = self._keep()
        if self.line_items:
            data = self.transactions
            index = data.index
            extra_frame = self.frame.iloc[self.receipt_rows][extras].reset_index(drop=True) if extras else None
        else:
            # A dict, not a DataFrame: building a frame stacks same-dtype columns (a copy per column).
            data = {k: _kept(v, keep) for k, v in self.out.items() if k in self.spec.names}
            index = self.frame.index if keep.all() else self.frame.index[keep]
            extra_frame = self.frame.loc[keep, extras] if extras else None
        columns: dict[str, pd.Series] = {}
        for c in self.spec.columns:
            dtype = canonical_dtype(c.dtype)
            if c.name in data:
                col = data[c.name]
                if dtype == "Int64":
                    col = col.round().astype("Int64")
                columns[c.name] = col.astype(dtype)
            else:
                columns[c.name] = pd.Series(index=index, dtype=dtype)
        if extra_frame is not None:
            for c in extra_frame.columns:
                columns[c if c not in columns else f"{c} (source)"] = extra_frame[c]
        canonical = pd.DataFrame(columns, index=index, copy=False)
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
            aggregation=self.aggregation,
            confidence=self.confidence,
            amount_file_total=self.amount_file_total,
            amount_kept_total=self.amount_kept_total,
        )
        if not len(canonical):
            report = _with_warning(
                report, "No row could be imported: see the rejected rows and their reasons."
            )
        return LoadResult(canonical, report)

    def _rejected_frame(self, dropped: list[str]) -> pd.DataFrame:
        bad = np.flatnonzero(self.reasons.rejected)  # positions: a boolean .loc over millions is slow
        cols = [c for c in self.frame.columns if c not in set(dropped)]
        sub = self.frame[cols].iloc[bad]
        # Built in one go: inserting 10,000 columns one by one is quadratic.
        text = sub.copy()
        for c in sub.columns[(sub.dtypes != "str").to_numpy()]:  # typed Excel/Parquet columns only
            text[c] = sub[c].astype("str").mask(sub[c].isna())
        text.columns = [c if c not in ("row", "reason") else f"{c} (file)" for c in cols]
        out = pd.concat(
            [
                pd.DataFrame({"row": self.raw.rows[bad]}, index=sub.index),
                text,
                pd.DataFrame({"reason": self.reasons.reasons.iloc[bad].to_numpy()}, index=sub.index, dtype="str"),
            ],
            axis=1,
        )
        if self.raw.format == "csv" and len(cols) and len(out):
            first = out.columns[1]
            out[first] = out[first].str.replace(BAD_LINE, "", regex=False)
        return out.reset_index(drop=True)


def _with_warning(report: LoadReport, text: str) -> LoadReport:
    return replace(report, warnings=(*report.warnings, text))
