"""What a dataset holds: one row per canonical table, for the Overview page."""

from __future__ import annotations

import pandas as pd

from loyalty.schema import SPECS, Dataset

_DATE_COLUMN = {
    "transactions": "timestamp",
    "members": "enrolled_at",
    "ledger": "timestamp",
    "surveys": "date",
    "costs": "month",
    "campaigns": "start",
}


def describe_dataset(ds: Dataset) -> pd.DataFrame:
    """One row per table: present?, rows, first and last date, optional columns present, unlocks.

    Returns
    -------
    DataFrame with columns ``table``, ``present``, ``rows``, ``first``, ``last``,
    ``optional_columns``, ``unlocks``.
    """
    rows = []
    for kind, spec in SPECS.items():
        df = ds.table(kind)
        present = df is not None
        dates = df[_DATE_COLUMN[kind]].dropna() if present and len(df) else pd.Series([], dtype="datetime64[ns]")
        optional = [
            c.name
            for c in spec.columns
            if not c.required and present and c.name in df.columns and df[c.name].notna().any()
        ]
        rows.append(
            {
                "table": spec.title,
                "present": present,
                "rows": len(df) if present else 0,
                "first": dates.min() if len(dates) else pd.NaT,
                "last": dates.max() if len(dates) else pd.NaT,
                "optional_columns": ", ".join(optional),
                "unlocks": spec.unlocks,
            }
        )
    return pd.DataFrame(rows)


def guest_share(ds: Dataset) -> float:
    """Share of transactions with no member id (guest purchases), 0-1; NaN if no transactions."""
    t = ds.transactions
    return float(t["member_id"].isna().mean()) if len(t) else float("nan")
