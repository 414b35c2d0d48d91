"""Loyalty Lab benchmark: every heavy path at 100k, 1M and 5M transactions, each beside a reference.

Run (about 5-8 minutes on a 2-core machine)::

    python -m benchmarks.run                 # sizes 100k,1M,5M
    python -m benchmarks.run --sizes 100k,1M --repeat 3

Programs are generated with the sample generator, scaled (``generate_program``,
seeded; ledger derived vectorised by :func:`benchmarks.bench_kpis.synthetic_ledger`).
Each row gives the median seconds of ``--repeat`` runs, the extra peak RSS
(MB above the process before the task, sampled every 5 ms), and the reference
timed in the same run; ``ratio`` = ours / reference is the figure that survives
a noisy machine:

* import vs ``pandas.read_csv(engine="pyarrow")`` / ``pandas.read_parquet`` on the same file;
* KPI aggregates, monthly series and member features vs one DuckDB SQL query over the same frames;
* replay vs the bare numpy trailing-365-day spend pass (sort + cumsum + searchsorted);
* page reruns (AppTest, dataset cached) at 1M only.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE / 1e6


class PeakRSS:
    """Sample RSS in a thread; ``extra`` = peak minus the RSS at start (MB)."""

    def __enter__(self):
        self.base = self.peak = rss_mb()
        self._stop = False
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def _run(self):
        while not self._stop:
            self.peak = max(self.peak, rss_mb())
            time.sleep(0.005)

    def __exit__(self, *exc):
        self._stop = True
        self._t.join()
        self.peak = max(self.peak, rss_mb())
        self.extra = self.peak - self.base


def measure(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    times, extra = [], 0.0
    for _ in range(repeat):
        with PeakRSS() as mem:
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        extra = max(extra, mem.extra)
    return statistics.median(times), extra


def parse_size(text: str) -> int:
    text = text.strip().lower()
    mult = 1_000_000 if text.endswith("m") else 1_000 if text.endswith("k") else 1
    return int(float(text.rstrip("mk")) * mult)


def trailing_spend_floor(tx: pd.DataFrame, days: int = 365) -> np.ndarray:
    """The floor any correct replay pays: per-member trailing-window spend (sort + cumsum + searchsorted)."""
    m = tx[tx["member_id"].notna()]
    codes = pd.factorize(m["member_id"])[0].astype(np.int64)
    ts = m["timestamp"].to_numpy().view("i8")
    order = np.lexsort((ts, codes))
    c, t, a = codes[order], ts[order], m["amount"].to_numpy()[order]
    key = c * (1 << 40) + (t // 60_000_000_000)  # member-major, minute resolution
    cs = np.concatenate([[0.0], np.cumsum(a)])
    lo = np.searchsorted(key, c * (1 << 40) + (t - days * 86_400_000_000_000) // 60_000_000_000, "left")
    hi = np.arange(len(a))
    return cs[hi] - cs[lo]


FEATURES_SQL = """
SELECT member_id,
       date_diff('second', max(CASE WHEN amount > 0 THEN timestamp END), $as_of) / 86400.0 AS recency_days,
       count(*) FILTER (WHERE amount > 0) AS frequency,
       sum(amount) AS monetary,
       avg(amount) FILTER (WHERE amount > 0) AS avg_basket,
       date_diff('second', min(timestamp), $as_of) / 86400.0 AS tenure_days,
       count(*) FILTER (WHERE amount > 0 AND timestamp > $as_of - INTERVAL 90 DAY) AS purchases_90d
FROM tx WHERE member_id IS NOT NULL AND timestamp <= $as_of
GROUP BY member_id
"""


def run(sizes: list[int], repeat: int, pages: bool) -> pd.DataFrame:
    rows: list[dict] = []

    def add(size, task, fn, ref=None, ref_name="", reps=repeat):
        secs, mem = measure(fn, reps)
        row = {"transactions": size, "task": task, "seconds": secs, "peak_extra_MB": mem,
               "reference": ref_name, "ref_seconds": np.nan, "ratio": np.nan}
        if ref is not None:
            rs, _ = measure(ref, reps)
            row["ref_seconds"], row["ratio"] = rs, secs / rs if rs else np.nan
        rows.append(row)
        print(f"  {task:<44} {secs:8.3f}s  {mem:7.0f} MB  {ref_name} {row['ref_seconds']:.3f}s", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            _bench_size(size, add, Path(tmp), repeat, pages)
    return pd.DataFrame(rows)


def _bench_size(size: int, add, tmp: Path, repeat: int, pages: bool) -> None:
    """Generate one program of ``size`` transactions and time every heavy path on it."""
    import duckdb

    from benchmarks.bench_kpis import synthetic_ledger
    from loyalty.ingest import load_table
    from loyalty.kpis import compute_kpis
    from loyalty.kpis.frame import default_period, prepare_kpi_frame
    from loyalty.kpis.series import monthly_series
    from loyalty.members.features import member_features
    from loyalty.schema import Dataset
    from loyalty.simulator import prepare, redemptions_from_ledger, replay
    from loyalty.simulator.rules import SAMPLE_RULES, ExpiryPolicy
    from sample_data.generate import generate_program, n_members_for

    print(f"== {size:,} transactions", flush=True)
    tables = generate_program(n_members=n_members_for(size), with_ledger=False, seed=11)
    tx = tables["transactions"]
    ledger = synthetic_ledger(tx)
    ds = Dataset(tx, members=tables["members"], ledger=ledger, surveys=tables["surveys"],
                 costs=tables["costs"], name=f"bench {size}")
    print(f"   {len(tx):,} rows, {tx['member_id'].nunique():,} members", flush=True)
    csv, pq = tmp / f"tx{size}.csv", tmp / f"tx{size}.parquet"
    tx.to_csv(csv, index=False)
    tx.to_parquet(pq, index=False)
    big = size >= 5_000_000
    add(size, "import CSV (load_table)", lambda: load_table(csv, "transactions"),
        lambda: pd.read_csv(csv, engine="pyarrow"), "pyarrow read_csv", reps=1 if big else repeat)
    add(size, "import Parquet (load_table)", lambda: load_table(pq, "transactions"),
        lambda: pd.read_parquet(pq), "read_parquet", reps=1 if big else repeat)

    con = duckdb.connect()
    con.register("tx", tx)
    s, e = default_period(ds)
    add(size, "KPI frame preparation (once per dataset)",
        lambda: prepare_kpi_frame(Dataset(tx, ledger=ledger)), reps=1)
    kf = prepare_kpi_frame(ds)
    kpi_sql = f"""
      SELECT sum(amount), count(*) FILTER (WHERE amount > 0),
             sum(amount) FILTER (WHERE member_id IS NOT NULL),
             count(DISTINCT member_id) FILTER (WHERE amount > 0),
             avg(amount) FILTER (WHERE member_id IS NULL AND amount > 0)
      FROM tx WHERE timestamp >= TIMESTAMP '{s:%Y-%m-%d}'
                AND timestamp < TIMESTAMP '{e:%Y-%m-%d}' + INTERVAL 1 DAY"""
    add(size, "compute_kpis (12 months)", lambda: compute_kpis(kf, s, e),
        lambda: con.execute(kpi_sql).fetchall(), "DuckDB query")
    month_sql = """SELECT date_trunc('month', timestamp) m, sum(amount), count(*) FILTER (WHERE amount > 0),
                   count(DISTINCT member_id) FILTER (WHERE amount > 0) FROM tx GROUP BY 1 ORDER BY 1"""
    add(size, "monthly_series", lambda: monthly_series(kf), lambda: con.execute(month_sql).df(), "DuckDB query")
    as_of = tx["timestamp"].max()
    tx_only = Dataset(tx)
    add(size, "member_features", lambda: member_features(tx_only, as_of=as_of),
        lambda: con.execute(FEATURES_SQL, {"as_of": as_of}).df(), "DuckDB query")

    red = redemptions_from_ledger(ledger)
    add(size, "replay: prepare (once per dataset)", lambda: prepare(tx, red), reps=1 if big else repeat)
    prep = prepare(tx, red)
    fixed = dataclasses.replace(SAMPLE_RULES, expiry=ExpiryPolicy("fixed", 12, 30))
    add(size, "replay: tiers + inactivity expiry", lambda: replay(prep, SAMPLE_RULES),
        lambda: trailing_spend_floor(tx), "numpy trailing-spend floor")
    add(size, "replay: tiers + fixed-term FIFO", lambda: replay(prep, fixed),
        lambda: trailing_spend_floor(tx), "numpy trailing-spend floor")

    _models(add, size, member_features(tx_only, as_of=as_of), tx, repeat)
    if pages and size == 1_000_000:
        _pages(add, size, ds)
    con.close()


def _models(add, size, feats, tx, repeat) -> None:
    try:
        from loyalty.members.segmentation import choose_k, segment
    except ImportError:
        return
    from loyalty.clv import fit_bgnbd, fit_gamma_gamma, rfm_summary

    sample = feats if len(feats) <= 200_000 else feats.sample(200_000, random_state=0)
    add(size, f"choose_k 2-10 + segment ({len(sample):,} members)",
        lambda: segment(sample, choose_k(sample).recommended_k), reps=1)
    summary = rfm_summary(tx[tx["member_id"].notna()], freq="W")
    add(size, f"fit_bgnbd + fit_gamma_gamma ({len(summary):,} members)",
        lambda: (fit_bgnbd(summary), fit_gamma_gamma(summary)), reps=1)


def _pages(add, size, ds) -> None:
    """Full app rerun of each page with the dataset already cached (second run timed)."""
    from streamlit.testing.v1 import AppTest

    for page in sorted(p.name for p in (ROOT / "pages").glob("*.py")):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
        at.session_state["dataset"] = ds
        at.run()
        at.switch_page(f"pages/{page}")
        at.run()  # warms the caches

        def rerun(at=at):
            at.run()

        add(size, f"page rerun: {page}", rerun, reps=3)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100k,1M,5M")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-pages", action="store_true", help="skip the AppTest page reruns")
    ap.add_argument("--out", default="", help="also write the table as Markdown to this file")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    table = run([parse_size(s) for s in args.sizes.split(",")], args.repeat, not args.no_pages)
    md = to_markdown(table)
    print()
    print(md)
    print(f"\nmachine: {os.cpu_count()} cores, {_mem_total()}; total {time.perf_counter() - t0:.0f}s")
    if args.out:
        Path(args.out).write_text(md + "\n")


def to_markdown(table: pd.DataFrame) -> str:
    """The result table as Markdown (seconds to 3 decimals, MB to whole numbers)."""
    head = "| transactions | task | seconds | peak extra MB | reference | ref seconds | ratio |"
    lines = [head, "|---:|---|---:|---:|---|---:|---:|"]
    for r in table.itertuples(index=False):
        ref = "" if np.isnan(r.ref_seconds) else f"{r.ref_seconds:.3f}"
        ratio = "" if np.isnan(r.ratio) else f"{r.ratio:.2f}"
        lines.append(f"| {r.transactions:,} | {r.task} | {r.seconds:.3f} | {r.peak_extra_MB:.0f} | "
                     f"{r.reference} | {ref} | {ratio} |")
    return "\n".join(lines)


def _mem_total() -> str:
    with open("/proc/meminfo") as f:
        kb = int(f.readline().split()[1])
    return f"{kb / 1e6:.0f} GB RAM"


if __name__ == "__main__":
    main()
