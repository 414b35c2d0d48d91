"""KPI engine benchmark: ``compute_kpis`` (a year) and ``monthly_series`` vs DuckDB.

Run::

    python -m benchmarks.bench_kpis [--transactions 1000000] [--repeat 5]

Generates a seeded program with the sample generator (scaled; the generator's
ledger is a per-member Python loop, so a synthetic ledger is derived here
vectorised: earn = floor(amount) on member purchases, ~4% redemptions of 500,
~1% expiries of 100), then times, median of ``--repeat`` runs:

* ``prepare_kpi_frame`` (sorting/encoding, once per dataset; the UI caches it);
* ``compute_kpis`` for the last 12 months (frame prepared) vs one DuckDB SQL
  query computing the same aggregates (revenue, purchases, member/guest
  revenue, active, repeat, retention vs the previous period, members, new
  members, points issued/redeemed/expired, outstanding balance, NPS) over the
  same pandas frames in place;
* ``monthly_series`` vs one DuckDB query of the same monthly aggregates.

The ratio column (ours / DuckDB) is the figure that survives a noisy machine.
"""

from __future__ import annotations

import argparse
import time

import duckdb
import numpy as np
import pandas as pd

from benchmarks.timing import median_seconds
from loyalty.kpis import compute_kpis
from loyalty.kpis.frame import _build, default_period, prepare_kpi_frame
from loyalty.kpis.series import monthly_series
from loyalty.schema import Dataset
from sample_data.generate import generate_program, n_members_for


def synthetic_ledger(tx: pd.DataFrame, seed: int = 7) -> pd.DataFrame:
    """Vectorised stand-in ledger (signed points) for benchmark programs."""
    rng = np.random.default_rng(seed)
    m = tx[tx["member_id"].notna() & (tx["amount"] > 0)]
    n = len(m)
    earn = pd.DataFrame(
        {
            "member_id": m["member_id"],
            "timestamp": m["timestamp"],
            "event": "earn",
            "points": np.floor(m["amount"].to_numpy()),
        }
    )
    red = m.iloc[np.flatnonzero(rng.random(n) < 0.04)]
    exp = m.iloc[np.flatnonzero(rng.random(n) < 0.01)]
    parts = [
        earn,
        pd.DataFrame(
            {
                "member_id": red["member_id"],
                "timestamp": red["timestamp"],
                "event": "redeem",
                "points": -500.0,
            }
        ),
        pd.DataFrame(
            {
                "member_id": exp["member_id"],
                "timestamp": exp["timestamp"] + pd.Timedelta(days=200),
                "event": "expire",
                "points": -100.0,
            }
        ),
    ]
    led = pd.concat(parts, ignore_index=True)
    led["member_id"] = led["member_id"].astype("str")
    led["event"] = led["event"].astype("str")
    led["timestamp"] = led["timestamp"].astype("datetime64[ns]")
    return led.sort_values("timestamp", kind="stable", ignore_index=True)


KPI_SQL = """
WITH t AS (SELECT member_id, timestamp, amount FROM tx),
cur AS (SELECT * FROM t WHERE timestamp >= $s AND timestamp < $e),
per AS (SELECT member_id, count(*) FILTER (amount > 0) AS n, sum(amount) AS spend
        FROM cur WHERE member_id IS NOT NULL GROUP BY member_id),
prev AS (SELECT DISTINCT member_id FROM t
         WHERE timestamp >= $ps AND timestamp < $s AND member_id IS NOT NULL AND amount > 0),
first_seen AS (SELECT member_id, min(timestamp) AS f FROM t WHERE member_id IS NOT NULL GROUP BY member_id),
l AS (SELECT event, points, timestamp FROM led WHERE timestamp < $e)
SELECT
  (SELECT sum(amount) FROM cur) AS revenue,
  (SELECT count(*) FILTER (amount > 0) FROM cur) AS transactions,
  (SELECT sum(amount) FILTER (member_id IS NOT NULL) FROM cur) AS member_revenue,
  (SELECT sum(amount) FILTER (member_id IS NULL) FROM cur) AS guest_revenue,
  (SELECT count(*) FILTER (n > 0) FROM per) AS active_members,
  (SELECT count(*) FILTER (n >= 2) FROM per) AS repeaters,
  (SELECT count(*) FROM prev JOIN per USING (member_id) WHERE per.n > 0) AS retained,
  (SELECT count(*) FROM prev) AS prev_active,
  (SELECT count(*) FROM (SELECT m.member_id, coalesce(m.enrolled_at, f.f) AS en FROM mem m
       FULL JOIN first_seen f USING (member_id)) WHERE en < $e) AS members_total,
  (SELECT count(*) FROM mem WHERE enrolled_at >= $s AND enrolled_at < $e) AS new_members,
  (SELECT sum(points) FILTER (event = 'earn' AND timestamp >= $s) FROM l) AS points_issued,
  (SELECT -sum(points) FILTER (event = 'redeem' AND timestamp >= $s) FROM l) AS points_redeemed,
  (SELECT -sum(points) FILTER (event = 'expire' AND timestamp >= $s) FROM l) AS points_expired,
  (SELECT sum(points) FROM l) AS points_outstanding,
  (SELECT 100.0 * (count(*) FILTER (nps_score >= 9) - count(*) FILTER (nps_score <= 6)) / count(*)
     FROM srv WHERE date >= $s AND date < $e) AS nps
"""

MONTHLY_SQL = """
WITH t AS (SELECT date_trunc('month', timestamp) AS month, member_id, amount FROM tx),
s AS (SELECT month, sum(amount) AS revenue, count(*) FILTER (amount > 0) AS transactions,
             count(DISTINCT member_id) FILTER (amount > 0) AS active_members
      FROM t GROUP BY month),
n AS (SELECT date_trunc('month', enrolled_at) AS month, count(*) AS new_members FROM mem GROUP BY 1),
p AS (SELECT date_trunc('month', timestamp) AS month,
             sum(points) FILTER (event = 'earn') AS points_issued,
             -sum(points) FILTER (event = 'redeem') AS points_redeemed,
             -sum(points) FILTER (event = 'expire') AS points_expired,
             sum(points) AS net FROM led GROUP BY 1)
SELECT s.*, n.new_members, p.points_issued, p.points_redeemed, p.points_expired,
       sum(p.net) OVER (ORDER BY s.month) AS points_outstanding
FROM s LEFT JOIN n USING (month) LEFT JOIN p USING (month) ORDER BY s.month
"""


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--transactions", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-page", action="store_true", help="skip the AppTest rerun timing of the KPI page")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    prog = generate_program(n_members_for(args.transactions), with_ledger=False)
    tx = prog["transactions"]
    led = synthetic_ledger(tx)
    ds = Dataset(
        tx, members=prog["members"], ledger=led, surveys=prog["surveys"], costs=prog["costs"], name="bench"
    )
    print(
        f"generated {len(tx):,} transactions, {len(prog['members']):,} members, {len(led):,} ledger rows "
        f"in {time.perf_counter() - t0:.1f} s"
    )

    # _build bypasses the per-dataset memo so each run pays the full preparation.
    prep = median_seconds(lambda: _build(ds), min(args.repeat, 3))
    kf = prepare_kpi_frame(ds)
    start, end = default_period(kf)
    s, e = pd.Timestamp(start), pd.Timestamp(end) + pd.Timedelta(days=1)
    ps = s - (e - s)

    con = duckdb.connect()
    con.execute("SET threads = 2")
    for name, frame in (("tx", tx), ("mem", prog["members"]), ("led", led), ("srv", prog["surveys"])):
        con.register(name, frame)
    params = {"s": s.to_pydatetime(), "e": e.to_pydatetime(), "ps": ps.to_pydatetime()}

    ours = compute_kpis(kf, start, end)
    ref = con.execute(KPI_SQL, params).df().iloc[0]
    for key in (
        "revenue",
        "transactions",
        "active_members",
        "retention_rate",
        "members_total",
        "new_members",
        "points_issued",
        "points_redeemed",
        "points_expired",
        "points_outstanding",
        "nps",
    ):
        want = ref["retained"] / ref["prev_active"] if key == "retention_rate" else ref[key]
        assert np.isclose(ours[key], float(want), rtol=1e-9), (key, ours[key], want)
    ms = monthly_series(kf)
    mref = con.execute(MONTHLY_SQL).df()
    assert np.allclose(ms["revenue"].to_numpy(), mref["revenue"].to_numpy())
    assert np.array_equal(ms["active_members"].to_numpy(), mref["active_members"].to_numpy())

    rows = [("prepare_kpi_frame (once per dataset, cached)", prep, float("nan"))]
    k_ours = median_seconds(lambda: compute_kpis(kf, start, end), args.repeat)
    k_duck = median_seconds(lambda: con.execute(KPI_SQL, params).df(), args.repeat)
    rows.append((f"compute_kpis {start:%Y-%m-%d}..{end:%Y-%m-%d}", k_ours, k_duck))
    m_ours = median_seconds(lambda: monthly_series(kf), args.repeat)
    m_duck = median_seconds(lambda: con.execute(MONTHLY_SQL).df(), args.repeat)
    rows.append(("monthly_series (all months)", m_ours, m_duck))
    rows.append(("compute_kpis x2 (period + previous) + monthly", 2 * k_ours + m_ours, 2 * k_duck + m_duck))

    if not args.no_page:
        first, rerun = _page_times(ds, args.repeat)
        rows.append(("KPI page first render (AppTest, KPIs not cached)", first, float("nan")))
        rows.append(("KPI page rerun on the cached dataset (AppTest)", rerun, float("nan")))

    print(f"\n{'path':52s} {'ours s':>9s} {'duckdb s':>9s} {'ratio':>7s}")
    for name, a, b in rows:
        print(f"{name:52s} {a:9.4f} {b:9.4f} {a / b:7.2f}")


def _page_times(ds: Dataset, repeat: int) -> tuple[float, float]:
    """Seconds of the KPI page's first render and median rerun with ``ds`` in the session."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=300)
    at.session_state["dataset"] = ds
    at.run()  # the landing page registers the pages switch_page resolves
    at.switch_page("pages/kpis.py")
    t0 = time.perf_counter()
    at.run()
    first = time.perf_counter() - t0
    if at.exception:
        raise RuntimeError(at.exception[0].value)
    return first, median_seconds(at.run, repeat)


if __name__ == "__main__":
    main()
