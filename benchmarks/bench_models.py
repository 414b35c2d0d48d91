"""Member features, segmentation and CLV model benchmark.

Run (about 1-2 minutes on a 2-core machine)::

    python -m benchmarks.bench_models [--repeat 3]

Programs come from the sample generator, scaled and seeded:

* ~1M transactions (``n_members_for(1_000_000)`` members; vectorised synthetic ledger from
  :func:`benchmarks.bench_kpis.synthetic_ledger`): ``member_features`` with and without the
  ledger vs one DuckDB SQL query computing the same per-member aggregates, and ``rfm_summary``;
* 200,000 members (~2.2M transactions): ``choose_k`` (k = 2..10 with silhouette; target < 5 s),
  ``segment``, ``rfm_scores``, ``pca_2d``, ``fit_bgnbd`` + ``fit_gamma_gamma`` and a 12-month
  ``customer_value``;
* 200,000 customers simulated from a BG/NBD + Gamma-Gamma population with known parameters
  (vectorised), fitted to show parameter recovery at that size.

Each row is the median of ``--repeat`` runs (single runs for the slow model rows).
"""

from __future__ import annotations

import argparse
import time

import duckdb
import numpy as np
import pandas as pd

from benchmarks.bench_kpis import synthetic_ledger
from benchmarks.timing import median_seconds
from loyalty.clv import (
    customer_value,
    fit_bgnbd,
    fit_gamma_gamma,
    member_rfm_summary,
    rfm_summary,
)
from loyalty.members.features import member_features
from loyalty.members.segmentation import choose_k, pca_2d, rfm_scores, segment
from loyalty.schema import Dataset
from sample_data.generate import generate_program, n_members_for

FEATURES_SQL = """
SELECT member_id,
       count(*) FILTER (WHERE amount > 0) AS frequency,
       sum(amount) AS monetary,
       avg(amount) FILTER (WHERE amount > 0) AS avg_basket,
       date_diff('second', max(timestamp) FILTER (WHERE amount > 0), $as_of) / 86400.0 AS recency_days,
       date_diff('second', min(timestamp), $as_of) / 86400.0 AS tenure_days,
       count(*) FILTER (WHERE amount > 0 AND timestamp > $as_of - INTERVAL 90 DAY) AS purchases_90d
FROM tx WHERE member_id IS NOT NULL AND timestamp <= $as_of GROUP BY member_id ORDER BY member_id
"""


def simulate_bgnbd(n: int, r=0.5, alpha=5.0, a=0.8, b=2.5, p=6.0, q=4.0, v=15.0, seed=0) -> pd.DataFrame:
    """Customers drawn from BG/NBD + Gamma-Gamma (weeks; ages 1-78 weeks, times rounded to days)."""
    rng = np.random.default_rng(seed)
    T = np.round(rng.uniform(7, 546, n)) / 7
    lam = rng.gamma(r, 1 / alpha, n)
    drop = rng.beta(a, b, n)
    N = rng.poisson(lam * T)  # purchases while (if) active in (0, T]
    K = rng.geometric(drop)  # the customer drops out right after the K-th repeat purchase
    x = np.minimum(N, K)
    # Time of the x-th of N uniform arrivals in (0, T]: T * Beta(x, N - x + 1).
    t_x = np.where(x > 0, T * rng.beta(np.maximum(x, 1), np.maximum(N - x + 1, 1)), 0.0)
    t_x = np.minimum(np.round(t_x * 7) / 7, T)
    nu = rng.gamma(q, 1 / v, n)
    m = np.where(x > 0, rng.gamma(p * np.maximum(x, 1), 1 / (nu * np.maximum(x, 1))), 0.0)
    return pd.DataFrame({"frequency": x.astype(float), "recency": t_x, "T": T, "monetary_value": m})


def main(argv: list[str] | None = None) -> pd.DataFrame:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    rows: list[dict] = []

    def add(task, n, secs, ref_name="", ref_secs=float("nan"), target="", note=""):
        rows.append({"task": task, "size": n, "seconds": secs, "reference": ref_name, "ref_seconds": ref_secs,
                     "ratio": secs / ref_secs if ref_secs == ref_secs else float("nan"), "target": target,
                     "note": note})
        print(f"  {task}: {secs:.3f} s", flush=True)

    _features_rows(add, args.repeat)
    _model_rows(add, args.repeat)
    _simulated_rows(add)
    table = pd.DataFrame(rows)
    with pd.option_context("display.max_colwidth", 120, "display.width", 250):
        print(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    return table


def _features_rows(add, repeat: int) -> None:
    print("Generating a ~1M-transaction program…", flush=True)
    prog = generate_program(n_members_for(1_000_000), with_ledger=False)
    tx = prog["transactions"]
    ledger = synthetic_ledger(tx)
    ds_tx = Dataset(tx)
    ds_full = Dataset(tx, members=prog["members"], ledger=ledger)
    as_of = tx["timestamp"].max()
    con = duckdb.connect()
    con.register("tx", tx)
    ref = median_seconds(lambda: con.execute(FEATURES_SQL, {"as_of": as_of}).df(), repeat)
    n_tx = f"{len(tx):,} tx"
    add("member_features (transactions only)", n_tx, median_seconds(lambda: member_features(ds_tx, as_of), repeat),
        "DuckDB query", ref, "<= 2x DuckDB")
    add("member_features (+ members, ledger)", f"{n_tx} + {len(ledger):,} ledger",
        median_seconds(lambda: member_features(ds_full, as_of), repeat), "DuckDB query (tx only)", ref)
    mtx = tx[tx["member_id"].notna() & (tx["amount"] > 0)]
    add("rfm_summary (daily periods, weeks)", n_tx,
        median_seconds(lambda: rfm_summary(mtx, freq="D", freq_multiplier=7), repeat))
    con.close()


def _model_rows(add, repeat: int) -> None:
    print("Generating a 200,000-member program…", flush=True)
    prog = generate_program(200_000, with_ledger=False)
    ds = Dataset(prog["transactions"], members=prog["members"])
    feats = member_features(ds)
    n_m = f"{len(feats):,} members"
    t0 = time.perf_counter()
    kc = choose_k(feats)
    add("choose_k k=2..10 with silhouette", n_m, time.perf_counter() - t0, target="< 5 s",
        note=f"recommended k={kc.recommended}; fit on {kc.fit_sample:,}, silhouette on {kc.silhouette_sample:,}")
    t0 = time.perf_counter()
    seg = segment(feats, kc.recommended)
    add(f"segment k={kc.recommended} (+ profile, names, stability)", n_m, time.perf_counter() - t0,
        note=f"stability ARI {seg.stability:.2f}; " + ", ".join(seg.names.values()))
    add("rfm_scores", n_m, median_seconds(lambda: rfm_scores(feats), repeat))
    add("pca_2d (3,000-point sample)", n_m, median_seconds(lambda: pca_2d(feats, seg.labels), repeat))
    summary = member_rfm_summary(ds, 7)
    n_s = f"{len(summary):,} buyers"
    t0 = time.perf_counter()
    bg = fit_bgnbd(summary)
    gg = fit_gamma_gamma(summary)
    add("fit_bgnbd + fit_gamma_gamma (sample program)", n_s, time.perf_counter() - t0,
        note=f"r={bg.r:.3g} alpha={bg.alpha:.3g} a={bg.a:.3g} b={bg.b:.3g}; p={gg.p:.3g} q={gg.q:.3g} v={gg.v:.3g}")
    add("customer_value 12 months", n_s,
        median_seconds(lambda: customer_value(summary, bg, gg, 12, 0.3, 0.1), repeat))


def _simulated_rows(add) -> None:
    sim = simulate_bgnbd(200_000)
    t0 = time.perf_counter()
    bg = fit_bgnbd(sim)
    gg = fit_gamma_gamma(sim)
    add("fit_bgnbd + fit_gamma_gamma (simulated)", "200,000 customers", time.perf_counter() - t0,
        note=f"true r .5 alpha 5 a .8 b 2.5 p 6 q 4 v 15 -> r={bg.r:.3g} alpha={bg.alpha:.3g} a={bg.a:.3g} "
        f"b={bg.b:.3g} p={gg.p:.3g} q={gg.q:.3g} v={gg.v:.3g}")


if __name__ == "__main__":
    main()
