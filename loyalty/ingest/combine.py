"""Several files of one table (monthly exports) appended into one import."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from loyalty.ingest.readers import ImportProblem
from loyalty.ingest.rows import LoadResult, plural

#: The id that identifies a row across files, per table kind (others are never de-duplicated).
_ID = {"transactions": "transaction_id", "members": "member_id"}


def combine_results(results: Sequence[LoadResult]) -> LoadResult:
    """Append the imports of one table from several files, in order.

    A transaction (or member) id already imported from an earlier file is dropped from the
    later one and counted: for one-row-per-purchase files it becomes a rejected row of that
    file (so ``rows_read == rows_kept + rejected`` still holds, in input rows); for line-item
    files the duplicate receipt is counted in a warning. ``rejected`` gains a ``file`` column.

    Raises :class:`ImportProblem` when the files hold different kinds of table.
    """
    if not results:
        raise ImportProblem("No file to combine.")
    kinds = {r.report.kind for r in results}
    if len(kinds) > 1:
        raise ImportProblem(f"Files of different tables cannot be combined: {', '.join(sorted(kinds))}.")
    if len(results) == 1:
        return results[0]
    kind = results[0].report.kind
    reports = [r.report for r in results]
    frames = [r.data for r in results]
    data = pd.concat(frames, ignore_index=True)
    file_of = np.repeat(np.arange(len(frames)), [len(f) for f in frames])
    rejected = [rep.rejected.assign(file=rep.source_name) for rep in reports]
    warnings = [f"{rep.source_name}: {w}" for rep in reports for w in rep.warnings]
    kept_lines = sum(rep.rows_kept for rep in reports)
    id_col = _ID.get(kind)
    n_dup, dup_amount = 0, 0.0
    if id_col is not None:
        ids = data[id_col]
        dup = (ids.duplicated(keep="first") & ids.notna()).to_numpy()
        n_dup = int(dup.sum())
        if n_dup:
            if "amount" in data:
                dup_amount = float(data.loc[dup, "amount"].sum())
            first_file = pd.Series(file_of[~dup], index=ids[~dup].to_numpy())
            first_file = first_file[~first_file.index.duplicated()]
            names = np.array([rep.source_name for rep in reports], dtype=object)
            dropped = data[dup].astype("str").mask(data[dup].isna())
            dropped.insert(0, "row", pd.NA)
            dropped["reason"] = (
                f"{id_col} " + ids[dup].astype("str").map(repr)
                + " already imported from "
                + pd.Series(names[first_file.reindex(ids[dup]).to_numpy()]).map(repr).to_numpy()
            ).to_numpy()
            dropped["file"] = names[file_of[dup]]
            line_items = any(rep.line_items for rep in reports)
            if not line_items:
                rejected.append(dropped)
                kept_lines -= n_dup
            warnings.append(
                f"{plural(n_dup, id_col.replace('_', ' '))} found in several files: kept from the first file "
                "that has it" + (" (whole receipts dropped from the later files)." if line_items else ".")
            )
            data = data[~dup].reset_index(drop=True)
    all_rejected = pd.concat(rejected, ignore_index=True)
    cols = ["file", *[c for c in all_rejected.columns if c != "file"]]
    first = reports[0]

    file_totals = [rep.amount_file_total for rep in reports]
    # The same transaction in two files is one sale: the files' total counts it once.
    file_total = None if any(v is None for v in file_totals) else float(sum(file_totals)) - dup_amount

    report = replace(
        first,
        source_name=f"{len(reports)} files: " + ", ".join(rep.source_name for rep in reports),
        rows_read=sum(rep.rows_read for rep in reports),
        rows_kept=kept_lines,
        rejected=all_rejected[cols],
        warnings=tuple(warnings),
        dropped_columns=tuple(dict.fromkeys(c for rep in reports for c in rep.dropped_columns)),
        ignored_columns=tuple(dict.fromkeys(c for rep in reports for c in rep.ignored_columns)),
        line_items=any(rep.line_items for rep in reports),
        blank_rows=sum(rep.blank_rows for rep in reports),
        rows_output=len(data),
        aggregation="; ".join(f"{rep.source_name}: {rep.aggregation}" for rep in reports if rep.aggregation) or None,
        amount_file_total=file_total,
        amount_kept_total=float(data["amount"].sum()) if "amount" in data and kind == "transactions" else None,
        duplicates_across_files=n_dup,
    )
    return LoadResult(data, report)


__all__ = ["combine_results"]
