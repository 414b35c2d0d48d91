"""Reading raw tables from CSV/TSV, Excel and Parquet bytes.

The format is decided from the file's first bytes (magic numbers), never from
its extension alone, so a binary file renamed ``.csv`` gets a clear message.
Text files are decoded as UTF-8 (with or without BOM), UTF-16 with BOM, then
cp1252 and finally latin-1; the separator (``,`` ``;`` tab ``|``) is sniffed
from the first lines with a real CSV tokenizer, so quoted fields containing
separators do not confuse it; columns separated by runs of spaces (whitespace-aligned
text) and fixed-width columns lined up under their header are recognised too, and the
caller may force the separator. Leading title lines (CSV) and title rows or
merged header cells (Excel) are skipped by locating the header row.

CSV cells are kept as text (``str``) so rejected rows can be shown exactly as
written; Excel and Parquet cells keep their types (dates, numbers).

Nothing uploaded is written to disk: everything happens on in-memory bytes.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time

import numpy as np
import pandas as pd

from loyalty.ingest.parsing import arrow_strings, filled_cells


class ImportProblem(ValueError):
    """A whole file cannot be imported (empty, not a table, no usable columns...).

    This is the only exception :func:`loyalty.ingest.load_table` raises; its
    message is written for the person who uploaded the file.
    """


SEPARATORS: tuple[str, ...] = (",", ";", "\t", "|")
#: Runs of spaces between columns (``customer_id  date  amount``), and fixed-width columns
#: aligned under their header (cells may then hold spaces).
WHITESPACE, FIXED_WIDTH = "whitespace", "fixed"
SEPARATOR_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe", WHITESPACE: "whitespace",
                   FIXED_WIDTH: "fixed-width"}
#: What :func:`read_raw`'s ``separator`` override accepts.
SEPARATOR_CHOICES: tuple[str, ...] = (*SEPARATORS, WHITESPACE, FIXED_WIDTH)
#: A gzip or zip bomb stops here (bytes): 400 MB of text is ~7M transactions, far above a 200 MB upload of
#: plain CSV, and small enough that parsing it stays inside a Community Cloud app's memory.
MAX_DECOMPRESSED = 400_000_000


@dataclass(frozen=True)
class RawTable:
    """A table as read from the file, before any interpretation.

    ``rows`` holds, for each frame row, its 1-based position in the file: the
    line number for CSV (header = line 1, so the first data line is 2 when the
    file has no title lines; a record whose quoted value spans lines is
    numbered by its first line), the sheet row for Excel, the row position
    for Parquet.
    """

    frame: pd.DataFrame
    rows: np.ndarray
    format: str  # "csv", "xlsx" or "parquet"
    separator: str | None = None
    encoding: str | None = None
    sheet: str | None = None
    blank_rows: int = 0
    warnings: tuple[str, ...] = field(default=())
    sheets: tuple[str, ...] = field(default=())  # all sheets of an Excel workbook


# ----------------------------------------------------------------- bytes ---
def source_bytes(source: object) -> tuple[bytes, str]:
    """The bytes and a display name of a path, bytes or file-like object."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), ""
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        try:
            with open(path, "rb") as fh:
                return fh.read(), os.path.basename(path)
        except OSError as exc:
            raise ImportProblem(f"Cannot open {path!r}: {exc.strerror or exc}.") from None
    name = str(getattr(source, "name", "") or "")
    try:
        if hasattr(source, "getvalue"):
            data = source.getvalue()
        elif hasattr(source, "read"):
            if hasattr(source, "seek"):
                source.seek(0)
            data = source.read()
        else:
            raise ImportProblem(f"Cannot read from a {type(source).__name__}; give a path, bytes or a file.")
    except ImportProblem:
        raise
    except Exception as exc:  # a broken file-like object: report, do not crash
        raise ImportProblem(f"Cannot read the upload: {exc}.") from None
    if isinstance(data, str):
        data = data.encode("utf-8")
    return bytes(data), os.path.basename(name)


def detect_format(data: bytes) -> str:
    """``"xlsx"``, ``"parquet"``, ``"gzip"``, ``"zip"`` or ``"text"`` from the magic bytes.

    Raises :class:`ImportProblem` for formats that are recognised but not
    supported (old ``.xls``, OpenDocument, PDF...).
    """
    if data.startswith(b"PAR1"):
        return "parquet"
    if data.startswith(b"\x1f\x8b"):
        return "gzip"
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError):
            raise ImportProblem(
                "The file looks like a damaged ZIP/Excel file and cannot be opened."
            ) from None
        if "xl/workbook.xml" in names:
            return "xlsx"
        if "content.xml" in names:
            raise ImportProblem(
                "This is an OpenDocument spreadsheet (.ods). Save it as Excel (.xlsx) or CSV and upload again."
            )
        return "zip"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportProblem("This is an old Excel .xls file. Save it as .xlsx or CSV and upload again.")
    if data.startswith(b"%PDF"):
        raise ImportProblem("This is a PDF document, not a table. Export the data as CSV, Excel or Parquet.")
    for magic, what in ((b"\x89PNG", "PNG image"), (b"\xff\xd8\xff", "JPEG image"), (b"GIF8", "GIF image")):
        if data.startswith(magic):
            raise ImportProblem(f"This is a {what}, not a table. Export the data as CSV, Excel or Parquet.")
    return "text"


def _unwrap(data: bytes) -> bytes:
    """Decompress gzip, or take the single table file out of a ZIP archive."""
    fmt = detect_format(data)
    if fmt == "gzip":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as gz:
                out = gz.read(MAX_DECOMPRESSED + 1)
        except (OSError, EOFError, ValueError) as exc:
            raise ImportProblem(f"The gzip file is damaged: {exc}.") from None
        if len(out) > MAX_DECOMPRESSED:
            raise ImportProblem(
                f"The gzip file expands to more than {MAX_DECOMPRESSED / 1e6:,.0f} MB (the limit of this app); "
                "filter it by date first."
            )
        return out
    if fmt == "zip":
        zf = zipfile.ZipFile(io.BytesIO(data))
        members = [i for i in zf.infolist() if not i.is_dir() and not i.filename.startswith("__MACOSX")]
        tables = [i for i in members if re.search(r"\.(csv|tsv|txt|parquet|xlsx)$", i.filename, re.I)]
        if len(tables) != 1:
            found = ", ".join(i.filename for i in members[:10]) or "nothing"
            raise ImportProblem(
                f"The ZIP archive must contain exactly one CSV, Excel or Parquet file; it contains: {found}."
            )
        if tables[0].file_size > MAX_DECOMPRESSED:
            raise ImportProblem(
                f"The file inside the ZIP archive is larger than {MAX_DECOMPRESSED / 1e6:,.0f} MB (the limit of "
                "this app); filter it by date first."
            )
        try:
            return zf.read(tables[0])
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError) as exc:
            raise ImportProblem(
                f"Cannot extract {tables[0].filename!r} from the ZIP archive: {exc}."
            ) from None
    return data


# ------------------------------------------------------------------ text ---
def decode_text(data: bytes) -> tuple[str, str]:
    """Decode bytes as text; returns ``(text, encoding)``.

    Order: BOM-marked UTF-8/UTF-16, strict UTF-8, strict cp1252 (Windows
    exports from French/Western Excel), latin-1 (never fails).
    """
    if data.startswith(b"\xef\xbb\xbf"):
        attempts = ["utf-8-sig"]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        attempts = ["utf-16"]
    else:
        attempts = ["utf-8", "cp1252", "latin-1"]
    for enc in attempts:
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise ImportProblem("The file's text encoding could not be read (tried UTF-8, UTF-16, cp1252, latin-1).")


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _check_not_binary(text: str) -> None:
    sample = text[:65536]
    controls = len(_CONTROL.findall(sample))
    if "\x00" in sample or controls > max(2, len(sample) // 100):
        raise ImportProblem(
            "This file is binary, not a text table (perhaps a different file renamed .csv). "
            "Upload a CSV, Excel (.xlsx) or Parquet file."
        )


def sniff_separator(sample: str) -> tuple[str, int, int]:
    """Best separator, the number of leading title lines, and the table width.

    Each candidate tokenises the first lines with :mod:`csv` (which honours
    quotes); the winner gives the most consistent field count (> 1), ties
    going to more fields. Leading lines with a single filled field (or far
    fewer fields than usual) are title lines. The width is the larger of the
    header's field count and the usual one (exports that end every data line
    with a separator).
    """
    lines = sample.splitlines()
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        lines = lines[:-1]  # the last sampled line may be cut in the middle
    lines = lines[:200]
    best: tuple[tuple[float, int], str] | None = None
    for sep in SEPARATORS:
        try:
            rows = [r for r in csv.reader(lines, delimiter=sep, quotechar='"') if any(x.strip() for x in r)]
        except csv.Error:
            continue
        if not rows:
            continue
        counts = Counter(len(r) for r in rows)
        mode, freq = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
        if mode < 2:
            continue
        score = (round(freq / len(rows), 2), mode)
        if best is None or score > best[0]:
            best = (score, sep)
    spaced = _whitespace_layout(lines)
    if spaced is not None and (best is None or best[0][0] < 0.9 or best[0][1] < spaced[2]):
        return spaced
    if best is None:
        return ",", 0, _width(lines[:1], ",")
    (_, mode), sep = best
    skip = 0
    for line in lines:
        fields = _fields(line, sep)
        filled = sum(1 for x in fields if x.strip())
        if filled >= 2 and len(fields) >= max(2, mode // 2):
            break
        skip += 1
        if skip > 20:
            skip = 0
            break
    return sep, skip, max(mode, _width(lines[skip : skip + 1], sep))


def _whitespace_layout(lines: list[str]) -> tuple[str, int, int] | None:
    """(WHITESPACE or FIXED_WIDTH, 0, width) when the lines are columns separated by runs of spaces.

    Whitespace-separated when every non-blank line splits into the same number (>= 2) of
    space-separated fields, the header included; fixed-width when the data lines split
    inconsistently (cells holding spaces) but every line has the same layout of blank
    character columns that the header's fields line up with.
    """
    body = [ln for ln in lines if ln.strip()]
    if len(body) < 2 or any(c in body[0] for c in ",;\t|"):
        return None
    counts = Counter(len(ln.split()) for ln in body)
    width = len(body[0].split())
    if width >= 2 and counts.get(width, 0) == len(body):
        return WHITESPACE, 0, width
    spans = _fixed_width_spans(body)
    if spans is not None and len(spans) >= 2:
        return FIXED_WIDTH, 0, len(spans)
    return None


def _fixed_width_spans(lines: list[str]) -> list[tuple[int, int]] | None:
    """Column spans of a fixed-width layout: runs of character positions filled on some line.

    None unless the header shows the layout: every span starts a header name and every
    header word sits inside a span.
    """
    n = max(len(ln) for ln in lines)
    filled = np.zeros(n + 1, dtype=bool)
    for ln in lines:
        filled[:n] |= np.frombuffer(ln.ljust(n).encode("utf-32-le"), dtype="<u4") != ord(" ")
    edges = np.flatnonzero(np.diff(np.concatenate([[False], filled]).astype(np.int8)))
    spans = [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=False)]
    starts = np.array([m.start() for m in re.finditer(r"\S+", lines[0])])
    # Every column has a header (a name may be several words), and no header word is outside a column.
    inside = [(starts >= a) & (starts < b) for a, b in spans]
    if not all(m.any() for m in inside) or int(sum(m.sum() for m in inside)) != len(starts):
        return None
    return spans


def _fields(line: str, sep: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=sep, quotechar='"'), [])
    except csv.Error:
        return []


def _width(lines: list[str], sep: str) -> int:
    return max([len(_fields(line, sep)) for line in lines] + [1])


def _read_spaced(text: str, sep: str, skip: int, width: int) -> pd.DataFrame:
    """:func:`_read_csv` of a whitespace-separated or fixed-width text (all cells as text)."""
    lines = text.splitlines()[skip:]
    if sep == FIXED_WIDTH:
        spans = _fixed_width_spans([ln for ln in lines[:200] if ln.strip()])
        if spans is None:
            raise ImportProblem("The file could not be read as fixed-width columns: the header does not "
                                "line up with the data.")
        spans = [(a, spans[i + 1][0] if i + 1 < len(spans) else None) for i, (a, _b) in enumerate(spans)]
        grid = pd.read_fwf(io.StringIO("\n".join(lines)), colspecs=spans, header=None, dtype=str,
                           keep_default_na=False, na_values=[], skip_blank_lines=False)
        return grid.apply(lambda s: s.str.strip())
    grid = pd.read_csv(io.StringIO("\n".join(lines)), sep=r"\s+", header=None, names=list(range(width)),
                       dtype=str, keep_default_na=False, na_values=[], skip_blank_lines=False, engine="python",
                       on_bad_lines=lambda fields: [BAD_LINE + " ".join(fields)] + [""] * (width - 1))
    return grid


def _read_csv(text: str, sep: str, skip: int, width: int) -> pd.DataFrame:
    """All lines as text cells, header line included as the first row.

    The header is read as data (``header=None`` with ``width`` column names)
    because pandas otherwise silently drops the extra fields of a first data
    line that is longer than the header.
    """
    if sep in (WHITESPACE, FIXED_WIDTH):
        return _read_spaced(text, sep, skip, width)
    kwargs = dict(
        sep=sep,
        dtype=str,
        header=None,
        names=list(range(width)),
        keep_default_na=False,
        na_values=[],
        skip_blank_lines=False,
        index_col=False,
        skiprows=skip,
        quotechar='"',
    )
    try:
        return pd.read_csv(io.StringIO(text), engine="c", **kwargs)
    except pd.errors.EmptyDataError:
        raise ImportProblem("The file is empty: no header line was found.") from None
    except (pd.errors.ParserError, ValueError, UnicodeError, MemoryError):
        pass

    # Some lines have more fields than the header: read again keeping them, marked, so they
    # are rejected with their line number instead of failing the whole file.
    def mark(fields: list[str]) -> list[str]:
        return [BAD_LINE + sep.join(fields)] + [""] * (width - 1)

    try:
        return pd.read_csv(io.StringIO(text), engine="python", on_bad_lines=mark, **kwargs)
    except pd.errors.EmptyDataError:
        raise ImportProblem("The file is empty: no header line was found.") from None
    except (pd.errors.ParserError, ValueError, csv.Error, IndexError) as exc:
        raise ImportProblem(
            f"The file could not be read as a table ({SEPARATOR_NAMES[sep]}-separated): {exc}"
        ) from None


def _read_csv_arrow(data: bytes, sep: str, skip: int, width: int) -> pd.DataFrame | None:
    """Fast path of :func:`_read_csv` with pyarrow's multi-threaded reader (UTF-8 bytes).

    Returns the same grid as the pandas reader (every cell as ``str``, header
    line as the first row), or ``None`` when the file needs the pandas reader:
    any line with a different number of fields, blank lines, or anything else
    pyarrow refuses. Cells may only differ from the pandas reader's if
    pyarrow and pandas tokenised a line differently, which the caller rules
    out by checking the record count against the physical line count.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = [str(j) for j in range(width)]
    try:
        table = pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=skip),
            parse_options=pacsv.ParseOptions(
                delimiter=sep,
                quote_char='"',
                double_quote=True,
                escape_char=False,
                newlines_in_values=True,
                ignore_empty_lines=False,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.large_string() for c in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
            # The system allocator: pyarrow's default (mimalloc) is ~3x slower on a process's
            # first large read here (fresh pages), and that first read is the common case.
            memory_pool=pa.system_memory_pool(),
        )
    except (pa.ArrowException, ValueError, MemoryError):
        return None
    str_dtype = pd.StringDtype("pyarrow", na_value=np.nan)
    grid = table.to_pandas(types_mapper={pa.large_string(): str_dtype, pa.string(): str_dtype}.get)
    grid.columns = list(range(width))
    return grid


def _same_last_line(last: str, grid: pd.DataFrame, sep: str, width: int) -> bool:
    """Whether pandas reads the file's ``last`` line as pyarrow did.

    With one record per line, only the last line can differ: pandas drops a
    final record whose quote is never closed, pyarrow keeps it.
    """
    if '"' not in last:
        return True
    try:
        ref = _read_csv(last, sep, 0, width)
    except ImportProblem:
        return False
    return len(ref) == 1 and ref.iloc[0].fillna("").tolist() == grid.iloc[-1].tolist()


def header_names(cells: list[object]) -> list[str]:
    """Column names from header cells: stripped, blanks named ``Column N``, repeats suffixed ``.1``."""
    names: list[str] = []
    seen: Counter[str] = Counter()
    for j, v in enumerate(cells):
        label = "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip()
        label = label or f"Column {j + 1}"
        seen[label] += 1
        names.append(label if seen[label] == 1 else f"{label}.{seen[label] - 1}")
    return names


#: Marker put in the first cell of lines that had too many fields.
BAD_LINE = "\x00too-many-fields\x00"


def read_text_table(data: bytes, separator: str | None = None) -> RawTable:
    """Decode, sniff (unless ``separator`` is given) and read a delimited text file (all cells as text)."""
    if separator is not None and separator not in SEPARATOR_CHOICES:
        raise ImportProblem(f"Unknown separator {separator!r}; use one of "
                            f"{', '.join(SEPARATOR_NAMES[s] for s in SEPARATOR_CHOICES)}.")
    fast = _read_utf8_fast(data, separator)
    if fast is not None:
        grid, sep, encoding = fast
        return _text_table(grid, sep, 0, encoding, None)
    text, encoding = decode_text(data)
    if text.startswith("\ufeff"):
        text = text[1:]
    _check_not_binary(text)
    if not text.strip():
        raise ImportProblem("The file is empty.")
    sep, skip, width = sniff_separator(text[:200_000])
    if separator is not None and separator != sep:
        sep, skip, width = _forced(text[:200_000], separator)
    grid = _read_csv(text, sep, skip, width)
    if grid.empty:
        raise ImportProblem("The file is empty: no header line was found.")
    physical = max(text.count("\n"), text.count("\r")) + (0 if text.endswith(("\n", "\r")) else 1)
    return _text_table(grid, sep, skip, encoding, text if physical != skip + len(grid) else None)


_HEAD_BYTES = 1_000_000  # enough for the 200,000-character sniffing sample


def _forced(sample: str, sep: str) -> tuple[str, int, int]:
    """(sep, title lines, width) for a separator the user chose."""
    lines = [ln for ln in sample.splitlines()[:200] if ln.strip()]
    if sep == WHITESPACE:
        return sep, 0, max([len(ln.split()) for ln in lines] + [1])
    if sep == FIXED_WIDTH:
        spans = _fixed_width_spans(lines) if lines else None
        return sep, 0, len(spans) if spans else 1
    return sep, 0, _width(lines, sep)


def _read_utf8_fast(data: bytes, separator: str | None = None) -> tuple[pd.DataFrame, str, str] | None:
    """The grid of a plain UTF-8 file read by pyarrow, or None to use the general path.

    Gives exactly what the general path (decode everything, pandas reader)
    gives, without decoding the whole file: only its head is decoded (for the
    binary check and the separator sniffing), pyarrow validates the UTF-8 of
    the rest, and the result is kept only when it holds one record per
    physical line. Files with title lines, one column, mixed line endings,
    quoted line breaks or anything pyarrow refuses take the general path.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    payload, encoding = (data[3:], "utf-8-sig") if data.startswith(b"\xef\xbb\xbf") else (data, "utf-8")
    head = payload[:_HEAD_BYTES]
    if len(head) < len(payload):
        cut = head.rfind(b"\n")  # a line end is never inside a multi-byte character
        if cut < 0:
            return None
        head = head[: cut + 1]
    try:
        head_text = head.decode("utf-8")
    except UnicodeDecodeError:
        return None
    whole = len(head) == len(payload)
    if head_text.startswith("\ufeff") or not head_text.strip() or (not whole and len(head_text) < 200_000):
        return None
    _check_not_binary(head_text)
    sep, skip, width = sniff_separator(head_text[:200_000])
    if (separator is not None and separator != sep) or sep in (WHITESPACE, FIXED_WIDTH):
        return None  # the general path reads a chosen separator and runs of spaces
    if skip or width < 2:
        return None
    quoted, cr = b'"' in payload, b"\r" in payload
    physical = None
    if quoted or cr:
        # Without quotes and carriage returns, records are lines by construction; otherwise count.
        n_lf, n_cr = payload.count(b"\n"), payload.count(b"\r")
        if n_lf and n_cr and not (n_lf == n_cr and payload.count(b"\r\n") == n_lf):
            return None  # mixed line endings
        physical = max(n_lf, n_cr) + (0 if payload.endswith((b"\n", b"\r")) else 1)
    grid = _read_csv_arrow(payload, sep, 0, width)
    if grid is None or (physical is not None and physical != len(grid)):
        return None
    if quoted:
        end = len(payload)
        while end and payload[end - 1] in b"\r\n":
            end -= 1
        start = max(payload.rfind(b"\n", 0, end), payload.rfind(b"\r", 0, end)) + 1
        if not _same_last_line(payload[start:end].decode("utf-8"), grid, sep, width):
            return None
    return grid, sep, encoding


def _text_table(grid: pd.DataFrame, sep: str, skip: int, encoding: str, multiline: str | None) -> RawTable:
    """RawTable of a CSV grid (header line first); ``multiline``: the text when records span lines."""
    header = list(grid.iloc[0])
    frame = grid.iloc[1:].reset_index(drop=True)
    frame.columns = header_names(header)
    # Padding columns (no header) that hold nothing are not part of the table.
    padding = [
        c for j, c in enumerate(frame.columns) if _blank(header[j]) and frame[c].fillna("").eq("").all()
    ]
    frame = frame.drop(columns=padding)
    warnings: list[str] = []
    if skip:
        warnings.append(f"Skipped {skip} title line(s) before the header (header is line {skip + 1}).")
    rows = np.arange(len(frame), dtype="int64") + skip + 2
    if multiline is not None:
        # Quoted values span lines: number records by the line they start on (a Python loop,
        # only for such files).
        rows = _record_start_lines(multiline, sep, skip, len(frame), rows)
    return _drop_blank(RawTable(frame, rows, "csv", sep, encoding, None, 0, tuple(warnings)))


def _record_start_lines(text: str, sep: str, skip: int, n: int, fallback: np.ndarray) -> np.ndarray:
    starts: list[int] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, quotechar='"')
    previous = 0
    try:
        for _ in reader:
            starts.append(previous + 1)
            previous = reader.line_num
    except csv.Error:
        return fallback
    data = starts[skip + 1 :]
    return np.asarray(data, dtype="int64") if len(data) == n else fallback


def _blank(v: object) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and not v.strip())


def _drop_blank(raw: RawTable) -> RawTable:
    """Remove rows with no value at all (blank lines); they are counted, not rejected."""
    f = raw.frame
    if f.shape[1] == 0 or f.empty:
        return raw
    blank = np.ones(len(f), dtype=bool)
    for c in f.columns:
        col = f[c]
        arr = arrow_strings(col)
        if arr is not None:
            # Same test as below on the pyarrow strings, without building stripped copies:
            # a cell strips to "" exactly when it is empty or all (Unicode) whitespace.
            filled = filled_cells(arr)
        elif col.dtype == "str" or pd.api.types.is_object_dtype(col.dtype):
            filled = col.notna().to_numpy() & (col.astype("str").str.strip() != "").fillna(False).to_numpy(
                dtype=bool
            )
        else:
            filled = col.notna().to_numpy()
        blank &= ~filled
        if not blank.any():
            return raw
    n = int(blank.sum())
    keep = ~blank
    frame = f[keep].reset_index(drop=True)
    return replace(raw, frame=frame, rows=raw.rows[keep], blank_rows=n)


# ----------------------------------------------------------------- excel ---
def list_sheets(source: object) -> list[str]:
    """Sheet names of an Excel workbook (``[]`` for CSV/Parquet sources)."""
    data, _ = source_bytes(source)
    if not data or detect_format(data) != "xlsx":
        return []
    wb = _open_workbook(data)
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()


def _open_workbook(data: bytes):
    import openpyxl

    try:
        # data_only: cached cell values, never formulas.
        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for damaged files
        raise ImportProblem(f"The Excel file could not be opened: {exc}.") from None


def other_sheets(names: list[str] | tuple[str, ...], current: str | None) -> str:
    """Message suffix pointing at the workbook's other sheets."""
    others = [n for n in names if n != current]
    if not others:
        return ""
    return f" The workbook also has: {', '.join(map(repr, others[:10]))} (choose the sheet)."


def _cell_text(v: object) -> object:
    if v is None:
        return np.nan
    if isinstance(v, datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, (date, time)):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
        return str(int(v))
    return str(v)


def _is_text(v: object) -> bool:
    return isinstance(v, str) and v.strip() != ""


def read_excel_table(data: bytes, sheet: str | int | None = None) -> RawTable:
    """Read one sheet, locating the header row below title rows / merged cells."""
    wb = _open_workbook(data)
    try:
        names = list(wb.sheetnames)
        if sheet is None or sheet == 0:
            name = names[0]
        elif isinstance(sheet, int) and 0 <= sheet < len(names):
            name = names[sheet]
        elif sheet in names:
            name = str(sheet)
        else:
            raise ImportProblem(f"There is no sheet {sheet!r} in this workbook; sheets: {', '.join(names)}.")
        ws = wb[name]
        try:
            cells = [list(r) for r in ws.iter_rows(min_row=1, values_only=True)]
        except Exception as exc:
            raise ImportProblem(f"Sheet {name!r} could not be read: {exc}.") from None
    finally:
        wb.close()
    if not cells or not any(any(v is not None and str(v).strip() for v in r) for r in cells):
        raise ImportProblem(f"Sheet {name!r} is empty." + other_sheets(names, name))
    width = max(len(r) for r in cells)
    grid = pd.DataFrame([r + [None] * (width - len(r)) for r in cells], dtype=object)

    head = grid.head(30)
    text_counts = head.apply(lambda col: col.map(_is_text)).sum(axis=1).to_numpy()
    filled_counts = head.notna().sum(axis=1).to_numpy()
    best = int(text_counts.max())
    hdr = 0
    for i, (n_text, n_filled) in enumerate(zip(text_counts, filled_counts, strict=True)):
        # The header: mostly text cells, at least 2, nearly as wide as the widest header-like row.
        if n_text >= max(2 if best >= 2 else 1, 0.8 * best) and n_text >= 0.8 * n_filled:
            hdr = i
            break
    header = list(grid.iloc[hdr])
    warnings: list[str] = []
    if hdr:
        warnings.append(f"Sheet {name!r}: header found on row {hdr + 1}; rows above it were skipped.")
    group = [None] * width
    if hdr >= 1:
        above = list(grid.iloc[hdr - 1])
        if sum(_is_text(v) for v in above) >= 2:
            # Merged group cells ("Client" over "ID" and "Nom"): the label fills its span.
            last = None
            for j, v in enumerate(above):
                last = str(v).strip() if _is_text(v) else last
                group[j] = last
    names_out: list[str] = []
    seen: Counter[str] = Counter()
    for j, v in enumerate(header):
        label = _cell_text(v)
        label = "" if (isinstance(label, float) and np.isnan(label)) else str(label).strip()
        if group[j] and label:
            label = f"{group[j]} {label}"
        elif group[j] and not label:
            label = group[j]
        if not label:
            label = f"Column {j + 1}"
        seen[label] += 1
        names_out.append(label if seen[label] == 1 else f"{label}.{seen[label] - 1}")
    body = grid.iloc[hdr + 1 :].reset_index(drop=True)
    body.columns = names_out
    # Columns with neither a header nor any value are formatting leftovers.
    empty = [
        c for j, c in enumerate(names_out) if header[j] is None and not group[j] and body[c].isna().all()
    ]
    body = body.drop(columns=empty)
    for c in body.columns:
        col = body[c].infer_objects()
        if pd.api.types.is_object_dtype(col.dtype):
            # Mixed cells stay Python objects (typed numbers/dates are parsed as such), blanks become NaN.
            col = col.where(col.map(lambda v: v is not None and not (isinstance(v, str) and not v.strip())))
            if col.map(lambda v: isinstance(v, str) or v is None or v != v).all():
                col = col.astype("str")
        body[c] = col
    rows = np.arange(len(body), dtype="int64") + hdr + 2
    return _drop_blank(RawTable(body, rows, "xlsx", None, None, name, 0, tuple(warnings), tuple(names)))


# --------------------------------------------------------------- parquet ---
def read_parquet_table(data: bytes) -> RawTable:
    """Read a Parquet file (typed columns)."""
    try:
        frame = pd.read_parquet(io.BytesIO(data))
    except Exception as exc:  # pyarrow raises several types for damaged files
        raise ImportProblem(f"The Parquet file could not be read: {exc}.") from None
    frame = frame.reset_index(drop=isinstance(frame.index, pd.RangeIndex))
    frame.columns = [str(c) for c in frame.columns]
    for c in frame.columns:
        col = frame[c]
        if isinstance(col.dtype, pd.CategoricalDtype):
            frame[c] = col.astype("str").mask(col.isna())
        elif pd.api.types.is_object_dtype(col.dtype):
            frame[c] = col.map(_cell_text).astype("str")
    rows = np.arange(len(frame), dtype="int64") + 1
    return _drop_blank(RawTable(frame, rows, "parquet"))


# ------------------------------------------------------------------ entry --
def read_raw(
    data: bytes, sheet: str | int | None = None, *, text_limit: int | None = None, separator: str | None = None
) -> RawTable:
    """Read any supported file's bytes into a :class:`RawTable`.

    ``text_limit`` (bytes) reads only the beginning of a text file, cut at a
    line end: enough to preview its columns without parsing a large file.
    ``separator`` (text files) overrides the sniffed one: one of :data:`SEPARATOR_CHOICES`.
    """
    if not data or data.isspace():  # isspace, not strip: no copy of a large file
        raise ImportProblem("The file is empty.")
    data = _unwrap(data)
    fmt = detect_format(data)
    if fmt in ("gzip", "zip"):
        raise ImportProblem(
            "Nested archives are not supported: upload the CSV, Excel or Parquet file itself."
        )
    if fmt == "xlsx":
        return read_excel_table(data, sheet)
    if fmt == "parquet":
        return read_parquet_table(data)
    if text_limit is not None and len(data) > text_limit and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        cut = data.rfind(b"\n", 0, text_limit)
        data = data[: cut + 1] if cut > 0 else data
    return read_text_table(data, separator)
