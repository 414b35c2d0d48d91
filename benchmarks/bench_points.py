"""Points & liability benchmark (issue 13): triangle + chain-ladder + expiring list after the replay is cached.

Run::

    python -m benchmarks.bench_points                    # 5M transactions, 200k members
    python -m benchmarks.bench_points --tx 1000000 --members 40000

Rows printed (median seconds of ``--repeat`` runs): ``replay`` (the cached step: the replay of the
synthetic program under the sample rules, which now also attributes every point to its earn month),
``ledger attribution`` (FIFO attribution of a ledger of that size, the path of an uploaded ledger),
and ``page work after the cached replay``: estimate (chain-ladder), triangle, backtest, month-end
estimates and the expiring-points list and chart data, the target being <= 2 s.
"""

from __future__ import annotations

import argparse
import time

from benchmarks.bench_replay import synthetic
from benchmarks.timing import median_seconds
from loyalty import economics as E
from loyalty.simulator import SAMPLE_RULES, prepare, replay, replay_ledger


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tx", type=int, default=5_000_000)
    ap.add_argument("--members", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    t = time.perf_counter()
    tx, rd = synthetic(a.tx, a.members)
    prep = prepare(tx, rd)
    print(f"data + prepare: {time.perf_counter() - t:.2f} s ({a.tx:,} transactions, {a.members:,} members)")
    res = replay(prep, SAMPLE_RULES)
    print(f"replay: {median_seconds(lambda: replay(prep, SAMPLE_RULES), a.repeat):.2f} s")
    led = replay_ledger(prep, SAMPLE_RULES)
    ev = E.events_from_ledger(led)
    print(f"ledger attribution ({len(led):,} rows): {median_seconds(lambda: E.attribute_fifo(ev), a.repeat):.2f} s")

    def page() -> None:
        E.estimate_breakage(res.cohort_flows, source="replay")
        E.development_table(res.cohort_flows.cells())
        E.backtest_breakage(res.cohort_flows)
        E.month_end_estimates(res.cohort_flows)
        op = res.open_points
        E.expiring_members(op, res.end, 90, SAMPLE_RULES.point_value)
        E.expiring_by_month(op, res.end, 12, SAMPLE_RULES.point_value)

    print(f"page work after the cached replay: {median_seconds(page, a.repeat):.3f} s (target <= 2 s)")


if __name__ == "__main__":
    main()
