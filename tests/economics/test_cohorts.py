"""FIFO earn-cohort attribution: the vectorised kernel equals a plain per-member loop, the month-level
flows equal the exact attribution at month ends, and a ledger's quality issues are counted."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty.economics import (
    CohortFlows,
    attribute_fifo,
    cohort_cells,
    cohort_flows,
    combine_flows,
    development_table,
    events_from_ledger,
)
from loyalty.economics.cohorts import month_index

T0 = pd.Timestamp("2024-01-31 10:00")


def fifo_reference(ledger: pd.DataFrame) -> dict[tuple, float]:
    """Plain loop, one member and one event at a time: points by (member, lot time, outflow time, kind).

    Lots are a queue (oldest first); an outflow takes from the front; points taken beyond the queue
    are owed and repaid by the next lots (kind of the outflow, lot time of the repaying lot); what is
    owed at the end is (member, None, outflow time, kind). Open lots are (member, lot time, None, None).
    """
    out: dict[tuple, float] = {}

    def add(key, v):
        if v > 0:
            out[key] = out.get(key, 0.0) + v

    order = {"earn": 0, "adjust+": 0, "redeem": 1, "expire": 2, "adjust-": 3}
    rows = []
    for m, t, e, p in zip(ledger["member_id"], ledger["timestamp"], ledger["event"], ledger["points"], strict=True):
        if e == "adjust":
            e = "adjust+" if p > 0 else "adjust-"
        rows.append((m, pd.Timestamp(t), order[e], e, abs(float(p))))
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    kinds = {"redeem": 0, "expire": 1, "adjust-": 2}
    for member in sorted({r[0] for r in rows}):
        queue: list[list] = []  # [lot time, remaining]
        owed: list[list] = []  # [outflow time, kind, points]
        for _, t, _, e, p in (r for r in rows if r[0] == member):
            if e in ("earn", "adjust+"):
                left = p
                while owed and left > 0:
                    take = min(owed[0][2], left)
                    add((member, t, owed[0][0], owed[0][1]), take)
                    owed[0][2] -= take
                    left -= take
                    if owed[0][2] == 0:
                        owed.pop(0)
                if left > 0:
                    queue.append([t, left])
            else:
                k, left = kinds[e], p
                while queue and left > 0:
                    take = min(queue[0][1], left)
                    add((member, queue[0][0], t, k), take)
                    queue[0][1] -= take
                    left -= take
                    if queue[0][1] == 0:
                        queue.pop(0)
                if left > 0:
                    owed.append([t, k, left])
        for lt, rem in queue:
            add((member, lt, None, None), rem)
        for ot, k, rem in owed:
            add((member, None, ot, k), rem)
    return out


def kernel_pieces(ledger: pd.DataFrame) -> dict[tuple, float]:
    ev = events_from_ledger(ledger)
    a = attribute_fifo(ev)
    out: dict[tuple, float] = {}
    for lot, o, p in zip(a.piece_lot, a.piece_out, a.piece_points, strict=True):
        m = ev.ids[ev.lot_member[lot]] if lot >= 0 else ev.ids[ev.out_member[o]]
        key = (
            m,
            pd.Timestamp(int(ev.lot_time[lot])) if lot >= 0 else None,
            pd.Timestamp(int(ev.out_time[o])) if o >= 0 else None,
            int(ev.out_kind[o]) if o >= 0 else None,
        )
        out[key] = out.get(key, 0.0) + float(p)
    return out


@st.composite
def ledgers(draw):
    rows = []
    for m in range(draw(st.integers(1, 3))):
        for _ in range(draw(st.integers(0, 12))):
            day = draw(st.integers(0, 500))
            minute = draw(st.sampled_from([0, 1, 600]))
            event = draw(st.sampled_from(["earn", "earn", "earn", "redeem", "expire", "adjust"]))
            pts = draw(st.integers(1, 400))
            sign = 1 if event == "earn" or (event == "adjust" and draw(st.booleans())) else -1
            rows.append((f"M{m}", T0 + pd.Timedelta(days=day, minutes=minute), event, float(sign * pts)))
    if not rows:
        rows.append(("M0", T0, "earn", 10.0))
    df = pd.DataFrame(rows, columns=["member_id", "timestamp", "event", "points"])
    df["member_id"] = df["member_id"].astype("str")
    df["timestamp"] = df["timestamp"].astype("datetime64[ns]")
    return df


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ledgers())
def test_fifo_kernel_equals_plain_loop(ledger):
    want = fifo_reference(ledger)
    got = kernel_pieces(ledger)
    assert got.keys() == want.keys()
    for k, v in want.items():
        assert got[k] == pytest.approx(v, abs=1e-9), k


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ledgers())
def test_month_flows_equal_the_exact_cells_at_every_month_end(ledger):
    attr = attribute_fifo(events_from_ledger(ledger))
    flows = cohort_flows(attr)
    for i in range(flows.n_months):
        a, b = flows.cells(i), cohort_cells(attr, flows.month_end(i))
        if a is None or b is None:
            assert a is None and b is None
            continue
        assert a.first_month == b.first_month
        np.testing.assert_allclose(a.issued, b.issued)
        np.testing.assert_allclose(a.exits, b.exits, atol=1e-9)
        assert a.unmatched == pytest.approx(b.unmatched)
    # additive: two halves of the members combine to the whole, and survive JSON
    ids = ledger["member_id"].unique()
    parts = [ledger[ledger["member_id"].isin(ids[::2])], ledger[ledger["member_id"].isin(ids[1::2])]]
    halves = [cohort_flows(attribute_fifo(events_from_ledger(p))) if len(p) else None for p in parts]
    both = combine_flows([CohortFlows.from_json(h.to_json()) if h is not None else None for h in halves])
    if flows.cells() is None:
        assert both.cells() is None
        return
    np.testing.assert_allclose(both.cells().exits, flows.cells().exits, atol=1e-9)
    np.testing.assert_allclose(both.cells().issued, flows.cells().issued)


def test_triangle_on_a_hand_ledger():
    led = pd.DataFrame(
        {
            "member_id": pd.Series(["A", "A", "A", "A", "B", "B"], dtype="str"),
            "timestamp": pd.to_datetime(
                ["2024-01-05", "2024-02-10", "2024-03-01", "2024-04-20", "2024-01-10", "2025-02-11"]
            ).astype("datetime64[ns]"),
            "event": pd.Series(["earn", "earn", "redeem", "expire", "earn", "expire"], dtype="str"),
            "points": [100.0, 50, -120, -30, 40, -40],
        }
    )
    cells = cohort_flows(attribute_fifo(events_from_ledger(led))).cells()
    tri = development_table(cells).set_index(["cohort", "age"])
    jan = pd.Timestamp("2024-01-01")
    # January: 140 issued; A's redemption in March (age 2) takes all 100 of A's January points first
    assert tri.loc[(jan, 2), "redeemed"] == 100 and tri.loc[(jan, 2), "redeemed_share"] == pytest.approx(100 / 140)
    # B's 40 expire in February 2025 (age 13); A's February lot: 20 redeemed at age 1, 30 expired at age 2
    assert tri.loc[(jan, 13), "expired"] == 40 and tri.loc[(jan, 13), "open_share"] == 0
    feb = pd.Timestamp("2024-02-01")
    assert tri.loc[(feb, 1), "redeemed"] == 20 and tri.loc[(feb, 2), "expired"] == 30


def test_ledger_issues_are_counted():
    led = pd.DataFrame(
        {
            "member_id": pd.Series(["A", "A", "B", "B", None, "C", "C", "C"], dtype="str"),
            "timestamp": pd.to_datetime(
                ["2024-01-05", "2024-01-06", "2024-01-07", "2024-05-01", "2024-01-08", "2024-01-09", "2024-01-10",
                 "2024-01-11"]
            ).astype("datetime64[ns]"),
            "event": pd.Series(["redeem", "earn", "earn", "adjust", "earn", "earn", "bonus", "redeem"], dtype="str"),
            "points": [-50.0, 30, 20, -5, 10, 10, 10, -40],
        }
    )
    attr = attribute_fifo(events_from_ledger(led))
    iss = attr.issues
    assert iss.rows == 8 and iss.dropped == 2  # no member, unknown event
    assert iss.adjustments == 1
    assert iss.before_first_earn == 1  # A redeems before earning
    assert iss.negative_balance == 3  # A after its redemption (-50) and after its earn (-20); C after -40
    assert iss.overdraft_points == 30  # A's earn repays 30 of the 50
    assert iss.unmatched_points == 20 + 30  # A still owes 20, C 30
    assert iss.gap_months == ("2024-02", "2024-03", "2024-04")
    text = " ".join(iss.messages())
    for word in ("2 of 8", "1 adjustment", "3 rows", "before the member's first earn", "50 points", "3 months"):
        assert word in text


def test_month_index_matches_pandas():
    t = pd.to_datetime(["1999-12-31 23:59", "2024-02-29 00:00", "2024-03-01 00:00"]).as_unit("ns").values.view("i8")
    assert list(month_index(t)) == [int(np.datetime64(p, "M").astype(int)) for p in ("1999-12", "2024-02", "2024-03")]
