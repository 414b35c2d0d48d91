"""Replay benchmark: prepare once, then replay scenarios (issue 5 / issue 7 targets).

Run::

    python -m benchmarks.bench_replay            # 1M and 5M transactions
    python -m benchmarks.bench_replay --sizes 1000000

Synthetic programs are generated with numpy only (seeded): members buy at
gamma-distributed rates over 3 years (minute timestamps, lognormal baskets in
cents, ~3% returns), ~6% of purchases are followed by a redemption of 500-point
blocks (some exceed the balance and get capped). Rows printed (median seconds
of ``--repeat`` runs):

* ``prepare``: encoding + sorting + merging, plus the rules-independent parts
  of a replay (trailing-365-day spend per purchase, horizon selections): per
  dataset, cached by the app;
* ``replay inactivity+tiers (new window)``: a replay with a qualification
  window not seen before (180 days), which computes its trailing spend once;
* ``replay inactivity+tiers``: a scenario replay (3 tiers, inactivity 12 m + 30 d
  grace, so the no-grace replay for "points saved by grace" runs too);
* ``replay fixed FIFO``: fixed-term 12-month lots, FIFO;
* ``floor: trailing spend (sorted)``: bare numpy cumsum + searchsorted of the
  trailing-365-day spend on already sorted data (what any replay must pay);
* ``floor: trailing spend incl. sort``: the same including the lexsort.
"""

from __future__ import annotations

import argparse
import platform
import time
from dataclasses import replace

import numpy as np
import pandas as pd

from benchmarks.timing import median_seconds
from loyalty.simulator import SAMPLE_RULES, ExpiryPolicy, prepare, replay

MIN_NS = 60 * 10**9
DAY_MIN = 1440


def synthetic(n_tx: int, n_members: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeded synthetic transactions and redemptions (numpy only)."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(0.8, 1.0, n_members)
    mem = rng.choice(n_members, size=n_tx, p=rate / rate.sum())
    t0 = pd.Timestamp("2023-11-01").value // MIN_NS
    minutes = t0 + rng.integers(0, 3 * 365 * DAY_MIN, n_tx)
    cents = np.maximum(np.round(np.exp(np.log(3800) + rng.normal(0, 0.7, n_tx))), 100).astype(np.int64)
    ret = rng.random(n_tx) < 0.03
    cents[ret] = -np.round(cents[ret] * rng.uniform(0.2, 1.0, ret.sum())).astype(np.int64)
    width = len(str(n_members))
    ids = np.char.add("M", np.char.zfill(np.arange(n_members).astype(str), width)).astype(object)
    tx = pd.DataFrame(
        {
            "member_id": pd.array(ids[mem], dtype="str"),
            "timestamp": pd.to_datetime(minutes * MIN_NS).astype("datetime64[ns]"),
            "amount": cents / 100.0,
        }
    )
    red = np.flatnonzero((rng.random(n_tx) < 0.06) & ~ret)
    rd = pd.DataFrame(
        {
            "member_id": pd.array(ids[mem[red]], dtype="str"),
            "timestamp": pd.to_datetime(minutes[red] * MIN_NS).astype("datetime64[ns]"),
            "points": (500 * rng.integers(1, 4, len(red))).astype(np.float64),
        }
    )
    return tx, rd


def trailing_spend_floor(member: np.ndarray, minutes: np.ndarray, cents: np.ndarray, sort: bool) -> np.ndarray:
    """Bare numpy trailing-365-day spend per row: (sort +) cumsum + searchsorted."""
    if sort:
        o = np.lexsort((minutes, member))
        member, minutes, cents = member[o], minutes[o], cents[o]
    span = int(minutes.max()) + 1
    key = member * span + minutes
    cum = np.concatenate([[0], np.cumsum(cents)])
    left = np.searchsorted(key, np.maximum(key - 365 * DAY_MIN, member * span), side="left")
    right = np.searchsorted(key, key, side="left")
    return cum[right] - cum[left]


def bench(n_tx: int, repeat: int) -> list[dict]:
    n_members = n_tx // 5
    tx, rd = synthetic(n_tx, n_members)
    rows = []
    t = time.perf_counter()
    prep = prepare(tx, rd)
    rows.append(("prepare", time.perf_counter() - t))
    inact = SAMPLE_RULES
    fixed = replace(SAMPLE_RULES, expiry=ExpiryPolicy("fixed", 12, 0))
    t = time.perf_counter()
    replay(prep, replace(SAMPLE_RULES, qualification_days=180))
    rows.append(("replay inactivity+tiers (new window)", time.perf_counter() - t))
    rows.append(("replay inactivity+tiers", median_seconds(lambda: replay(prep, inact), repeat)))
    rows.append(("replay fixed FIFO", median_seconds(lambda: replay(prep, fixed), repeat)))
    code = pd.factorize(tx["member_id"])[0].astype(np.int64)
    minutes = tx["timestamp"].to_numpy().view(np.int64) // MIN_NS
    cents = np.round(tx["amount"].to_numpy() * 100).astype(np.int64)
    o = np.lexsort((minutes, code))
    sm, smin, sc = code[o], minutes[o], cents[o]
    rows.append(("floor: trailing spend (sorted)", median_seconds(lambda: trailing_spend_floor(sm, smin, sc, False), repeat)))
    rows.append(("floor: trailing spend incl. sort", median_seconds(lambda: trailing_spend_floor(code, minutes, cents, True), repeat)))
    return [{"transactions": n_tx, "members": n_members, "step": s, "seconds": round(v, 3)} for s, v in rows]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 5_000_000])
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args(argv)
    rows = [r for n in a.sizes for r in bench(n, a.repeat)]
    df = pd.DataFrame(rows).pivot(index="step", columns="transactions", values="seconds")
    df = df.reindex([r["step"] for r in rows[: len(rows) // len(a.sizes)]])
    df.columns = [f"{c:,} tx (s)" for c in df.columns]
    print(f"Machine: {platform.machine()}, {platform.processor() or platform.system()}, python {platform.python_version()}")
    print(df.to_markdown() if _has_tabulate() else df.to_string())


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    main()
