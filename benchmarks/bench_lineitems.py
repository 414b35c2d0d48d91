"""Line-item import benchmark: a 1.5M-line grocery export (Parquet) summed into receipts.

Run::

    python -m benchmarks.bench_lineitems [--lines 1500000] [--repeat 3]

The file has the shape of a public grocery line-item export (``household_id, store_id,
basket_id, product_id, quantity, sales_value, retail_disc, coupon_disc, week,
transaction_timestamp``; ~9.5 lines per basket). ``load_table`` (read, map, parse, reject,
sum per receipt) is timed beside the same group-by in DuckDB on the same file, in the same
run; ``peak extra MB`` is compared with the file's in-memory size (pandas ``memory_usage``).
Targets (issue 11): <= 3 s, within 3x of DuckDB, peak extra memory <= 2x the in-memory size.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.run import measure


def grocery_lines(n_lines: int, seed: int = 0) -> pd.DataFrame:
    """Seeded line items, vectorised: baskets of 1-18 lines, households, stores, discounts."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 19, size=n_lines // 9 + 10)
    sizes = sizes[: np.searchsorted(np.cumsum(sizes), n_lines) + 1]
    basket = np.repeat(np.arange(len(sizes)), sizes)[:n_lines]
    n_b = int(basket.max()) + 1
    hh = rng.integers(1, 2_500, size=n_b)[basket]
    store = rng.integers(280, 450, size=n_b)[basket]
    ts = (pd.Timestamp("2019-01-01").value + rng.integers(0, 2 * 365 * 86_400, size=n_b) * 10**9)[basket]
    qty = rng.integers(1, 4, size=n_lines)
    value = np.round(rng.lognormal(0.8, 0.8, size=n_lines) * qty, 2)
    return pd.DataFrame(
        {
            "household_id": hh,
            "store_id": store,
            "basket_id": 26_984_851_472 + basket,
            "product_id": rng.integers(25_000, 18_000_000, size=n_lines),
            "quantity": qty,
            "sales_value": value,
            "retail_disc": -np.round(value * rng.uniform(0, 0.3, size=n_lines), 2),
            "coupon_disc": np.where(rng.random(n_lines) < 0.02, -0.55, 0.0),
            "week": 1 + (ts - pd.Timestamp("2019-01-01").value) // (7 * 86_400 * 10**9),
            "transaction_timestamp": pd.to_datetime(ts),
        }
    )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=1_500_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)

    import duckdb

    from loyalty.ingest import load_table

    lines = grocery_lines(args.lines)
    in_memory_mb = lines.memory_usage(deep=True).sum() / 1e6
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "transaction_data.parquet"
        lines.to_parquet(path, index=False)
        data = path.read_bytes()
        del lines
        ours, ours_mb = measure(lambda: load_table(data, "transactions"), args.repeat)
        res = load_table(data, "transactions")
        query = (
            f"SELECT basket_id, first(household_id), first(transaction_timestamp), first(store_id), "
            f"sum(sales_value), sum(abs(retail_disc) + abs(coupon_disc)) FROM read_parquet('{path}') "
            "GROUP BY basket_id"
        )
        con = duckdb.connect()
        ref, ref_mb = measure(lambda: con.execute(query).fetchdf(), args.repeat)
        n_ref = len(con.execute(query).fetchdf())
    rep = res.report
    print(f"{rep.rows_read:,} lines -> {rep.rows_output:,} receipts (DuckDB: {n_ref:,}); "
          f"file {len(data) / 1e6:.0f} MB on disk, {in_memory_mb:.0f} MB in memory\n")
    print("| task | seconds | peak extra MB | reference | ref seconds | ratio |")
    print("|---|---:|---:|---|---:|---:|")
    print(f"| line items -> receipts (load_table, Parquet, {rep.rows_read:,} lines) | {ours:.2f} | "
          f"{ours_mb:.0f} ({ours_mb / in_memory_mb:.1f}x in-memory size) | DuckDB group-by | {ref:.2f} | "
          f"{ours / ref:.2f} |")


if __name__ == "__main__":
    main()
