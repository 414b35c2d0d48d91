"""Experiments benchmark: ``campaign_lift`` for 10 campaigns on a 5M-transaction program (target <= 1 s).

Run::

    python -m benchmarks.bench_experiments             # 5M transactions (~20 s to generate)
    python -m benchmarks.bench_experiments --sizes 1000000 --repeat 5

The program is the sample generator scaled (``generate_program(n_members_for(n), with_ledger=False)``);
10 randomised campaigns of 50,000 members each (20% control, 28-day windows one after the other over
the last year, :func:`sample_data.experiments.add_campaigns`). Every timed call gets a fresh
:class:`~loyalty.schema.Dataset` (the analyses are memoised per dataset object), so nothing is reused
between runs: the time is that of a cold call once the dataset is loaded. Rows (median seconds, and
the process CPU seconds, which a busy shared machine inflates less):

* ``check_campaigns``: the campaigns table checked against the data (ids matched, rules applied);
* ``campaign_lift (10 campaigns)``: the whole lift table (check, spend per member, CUPED + Welch);
* ``campaign_curves (1 campaign)``: the cumulative test / control curves of one campaign (page);
* ``spend_variance (28 days)``: the planner's variance of spend per member (page);
* ``event_study``: the observational estimate (here it stops at its identification check: the
  generated members have no purchases before enrolment).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from loyalty.experiments import campaign_curves, campaign_lift, check_campaigns, event_study, spend_variance
from loyalty.schema import Dataset
from sample_data.experiments import add_campaigns
from sample_data.generate import generate_program, n_members_for


def _time(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    wall, cpu = [], []
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return statistics.median(wall), statistics.median(cpu)


def run(n_tx: int, repeat: int) -> list[tuple[str, float, float]]:
    tables = generate_program(n_members_for(n_tx), with_ledger=False)
    tx, members = tables["transactions"], tables["members"]
    campaigns = add_campaigns(tx, members, n_campaigns=10, seed=0)

    def fresh() -> Dataset:
        return Dataset(tx, members=members, campaigns=campaigns, name="bench")

    first = str(campaigns["campaign"].iloc[0])
    rows = [
        ("check_campaigns", *_time(lambda: check_campaigns(fresh()), repeat)),
        ("campaign_lift (10 campaigns)", *_time(lambda: campaign_lift(fresh()), repeat)),
        ("campaign_curves (1 campaign)", *_time(lambda: campaign_curves(fresh(), first), repeat)),
        ("spend_variance (28 days)", *_time(lambda: spend_variance(fresh(), 28), repeat)),
        ("event_study", *_time(lambda: event_study(fresh()), repeat)),
    ]
    print(f"{len(tx):,} transactions, {len(members):,} members, {len(campaigns):,} campaign rows")
    return rows


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="5000000", help="comma-separated transaction counts")
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args(argv)
    for n in (int(s) for s in a.sizes.split(",")):
        for name, wall, cpu in run(n, a.repeat):
            print(f"| {n:,} | {name} | {wall:.3f} | {cpu:.3f} |")


if __name__ == "__main__":
    main()
