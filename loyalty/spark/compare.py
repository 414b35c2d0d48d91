"""Exact comparison of a Spark result with the embedded one."""

from __future__ import annotations

import numpy as np
import pandas as pd


def exact_equal(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Same rows and values (NaN == NaN), ignoring row order; for the Spark-vs-embedded check."""
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        return False
    key = a.columns[0]
    a2, b2 = a.sort_values(key).reset_index(drop=True), b.sort_values(key).reset_index(drop=True)
    for c in a.columns:
        x, y = a2[c].to_numpy(), b2[c].to_numpy()
        if x.dtype.kind in "fc" or y.dtype.kind in "fc":
            if not np.array_equal(x.astype(float), y.astype(float), equal_nan=True):
                return False
        elif not (pd.Series(x).astype(str).to_numpy() == pd.Series(y).astype(str).to_numpy()).all():
            return False
    return True
