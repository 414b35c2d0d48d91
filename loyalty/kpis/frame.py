"""Per-dataset numeric indexes behind the KPI engine.

:func:`prepare_kpi_frame` turns a :class:`~loyalty.schema.Dataset` into plain
numpy arrays once (transactions and ledger sorted by time, member ids encoded
as integer codes ``0..n_members-1``, guests = ``-1``). Every period query is
then two ``searchsorted`` calls plus ``bincount``-style reductions, which keeps
``compute_kpis`` interactive on millions of transactions.

Timestamps are stored as int64 nanoseconds since the epoch. Periods are
half-open ``[start_ns, end_ns)`` internally; the public API takes inclusive
days and converts with :func:`period_bounds`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from loyalty.schema import EVENT_CODES, Dataset, DatasetMemo

#: Sentinel "never" timestamp (ns): later than any real date.
NEVER = np.iinfo(np.int64).max
#: Ledger event codes used in :attr:`KpiFrame.led_event` (positions in ``LEDGER_EVENTS``).
EARN, REDEEM, EXPIRE, ADJUST = (EVENT_CODES[e] for e in ("earn", "redeem", "expire", "adjust"))
_DAY_NS = 86_400 * 10**9
_NAT = np.iinfo(np.int64).min  # what a missing timestamp becomes in the int64 arrays



@dataclass(frozen=True, eq=False)
class KpiFrame:
    """Sorted, encoded arrays of one dataset (read-only; never mutate).

    Attributes ending in ``_ts`` are int64 ns; member arrays are indexed by
    member code. ``points_source`` is ``"ledger"``, ``"transactions"`` (the
    transaction point columns) or ``None`` when no points data exists.
    """

    ids: pd.Index
    tx_ts: np.ndarray
    tx_amount: np.ndarray
    tx_member: np.ndarray
    tx_month: np.ndarray
    tx_points_earned: np.ndarray | None
    tx_points_redeemed: np.ndarray | None
    first_seen: np.ndarray
    enrolled: np.ndarray
    has_members: bool
    referrer: np.ndarray | None
    led_ts: np.ndarray | None
    led_member: np.ndarray | None
    led_event: np.ndarray | None
    led_points: np.ndarray | None
    members: pd.DataFrame | None
    surveys: pd.DataFrame | None
    costs: pd.DataFrame | None
    name: str = ""

    @property
    def n_members(self) -> int:
        """Number of distinct member ids across transactions, members and ledger."""
        return len(self.ids)

    @property
    def points_source(self) -> str | None:
        if self.led_ts is not None:
            return "ledger"
        if self.tx_points_earned is not None or self.tx_points_redeemed is not None:
            return "transactions"
        return None

    @property
    def first_ts(self) -> int | None:
        return int(self.tx_ts[0]) if len(self.tx_ts) else None

    @property
    def last_ts(self) -> int | None:
        return int(self.tx_ts[-1]) if len(self.tx_ts) else None

    @property
    def data_span(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """First and last transaction time (None without transactions): the days the data covers.

        What "covered by the data" means for comparisons and retention: a period before the first
        transaction has no purchases to measure, not zero purchases. Transactions only, because
        the sales KPIs and retention are measured on them: a members table enrolling since 2010
        or a longer points ledger does not make 2016 purchases known.
        """
        t = self.tx_ts[np.searchsorted(self.tx_ts, _NAT, side="right"):]  # sorted: unknown times first
        return (pd.Timestamp(int(t[0])), pd.Timestamp(int(t[-1]))) if len(t) else None

    def member_mask(self, members_filter: Iterable[str] | None) -> np.ndarray | None:
        """Boolean array over member codes: True for ids in ``members_filter``.

        ``None`` means no filter. Ids not present in the data are ignored.
        """
        if members_filter is None:
            return None
        wanted = pd.Index(pd.Series(list(members_filter), dtype="str").dropna().unique())
        mask = np.zeros(self.n_members, dtype=bool)
        idx = self.ids.get_indexer(wanted)
        mask[idx[idx >= 0]] = True
        return mask


def _ts_ns(s: pd.Series) -> np.ndarray:
    """int64 ns of a datetime column; NaT becomes the int64 minimum."""
    return s.to_numpy(dtype="datetime64[ns]").view("i8")


def _first_per_code(codes: np.ndarray, ts: np.ndarray, n: int) -> np.ndarray:
    out = np.full(n, NEVER, dtype=np.int64)
    ok = codes >= 0
    # Callers pass time-sorted arrays, so the first occurrence of each code
    # is its minimum timestamp (cheaper than ufunc.at).
    c = codes[ok]
    t = ts[ok]
    uniq, first_idx = np.unique(c, return_index=True)
    out[uniq] = t[first_idx]
    return out


def prepare_kpi_frame(dataset: Dataset) -> KpiFrame:
    """Build the sorted/encoded arrays of ``dataset`` (cost ~O(n log n), done once).

    Memoised per :class:`Dataset` object (weakly, so it is freed with it);
    the UI additionally keeps the dataset alive in the session.
    """
    return _FRAMES.get(dataset, _build)


_FRAMES: DatasetMemo[KpiFrame] = DatasetMemo()


def _build(ds: Dataset) -> KpiFrame:
    tx = ds.transactions
    members = ds.members
    ledger = ds.ledger

    # One member-code space shared by all tables.
    parts = [tx["member_id"]]
    if members is not None:
        parts.append(members["member_id"])
    if ledger is not None:
        parts.append(ledger["member_id"])
    all_ids = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    codes_all, uniques = pd.factorize(all_ids, use_na_sentinel=True)
    ids = pd.Index(uniques, dtype="str")
    n = len(ids)
    n_tx = len(tx)
    tx_codes = codes_all[:n_tx].astype(np.int64)
    pos = n_tx
    mem_codes = None
    if members is not None:
        mem_codes = codes_all[pos : pos + len(members)].astype(np.int64)
        pos += len(members)
    led_codes = codes_all[pos:].astype(np.int64) if ledger is not None else None

    ts = _ts_ns(tx["timestamp"])
    order = np.argsort(ts, kind="stable")
    tx_ts = ts[order]
    tx_member = tx_codes[order]
    tx_amount = tx["amount"].to_numpy(dtype="float64", na_value=0.0)[order]
    tx_month = tx_ts.astype("datetime64[ns]").astype("datetime64[M]").astype(np.int64)

    def _pts(col: str) -> np.ndarray | None:
        if col not in tx.columns or tx[col].isna().all():
            return None
        return tx[col].to_numpy(dtype="float64", na_value=0.0)[order]

    first_seen = _first_per_code(tx_member, tx_ts, n)

    led_ts = led_member = led_event = led_points = None
    if ledger is not None:
        lts = _ts_ns(ledger["timestamp"])
        lorder = np.argsort(lts, kind="stable")
        led_ts = lts[lorder]
        led_member = led_codes[lorder]
        ev = ledger["event"].astype("str").str.strip().str.lower().map(EVENT_CODES)
        led_event = ev.to_numpy(dtype="float64", na_value=-1).astype(np.int8)[lorder]
        led_points = ledger["points"].to_numpy(dtype="float64", na_value=0.0)[lorder]
        first_seen = np.minimum(first_seen, _first_per_code(led_member, led_ts, n))

    # Enrolment: the members table when it has a date, else first activity,
    # so members_total / active_rate stay consistent when ids are missing
    # from the members table.
    enrolled = first_seen.copy()
    referrer = None
    has_members = members is not None
    if members is not None:
        ens = _ts_ns(members["enrolled_at"])
        ok = (mem_codes >= 0) & (ens != np.iinfo(np.int64).min)
        enrolled[mem_codes[ok]] = ens[ok]
        if "referred_by" in members.columns:
            referrer = np.full(n, -1, dtype=np.int64)
            ref_codes = ids.get_indexer(members["referred_by"])
            has_ref = members["referred_by"].notna().to_numpy()
            # A referrer id unknown to the data still marks the member as referred.
            ref_codes = np.where(has_ref & (ref_codes < 0), n, ref_codes)
            okm = mem_codes >= 0
            referrer[mem_codes[okm]] = np.where(has_ref[okm], ref_codes[okm], -1)

    return KpiFrame(
        ids=ids,
        tx_ts=tx_ts,
        tx_amount=tx_amount,
        tx_member=tx_member,
        tx_month=tx_month,
        tx_points_earned=_pts("points_earned"),
        tx_points_redeemed=_pts("points_redeemed"),
        first_seen=first_seen,
        enrolled=enrolled,
        has_members=has_members,
        referrer=referrer,
        led_ts=led_ts,
        led_member=led_member,
        led_event=led_event,
        led_points=led_points,
        members=members,
        surveys=ds.surveys,
        costs=ds.costs,
        name=ds.name,
    )


def as_frame(data: Dataset | KpiFrame) -> KpiFrame:
    """Accept either a dataset or an already prepared frame."""
    return data if isinstance(data, KpiFrame) else prepare_kpi_frame(data)


def default_period(data: Dataset | KpiFrame, months: int = 12) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Last ``months`` months of data ending on the last transaction day (inclusive days).

    Clipped to the first transaction day; today's trailing year when there are
    no transactions.
    """
    if isinstance(data, KpiFrame):
        first = pd.Timestamp(data.first_ts) if data.first_ts is not None else None
        last = pd.Timestamp(data.last_ts) if data.last_ts is not None else None
    elif len(data.transactions):
        first, last = data.date_range()  # min/max only: no need to prepare the frame
    else:
        first = last = None
    if last is None or pd.isna(last):
        today = pd.Timestamp.today().normalize()
        return today - pd.DateOffset(months=months) + pd.Timedelta(days=1), today
    end = last.normalize()
    start = end - pd.DateOffset(months=months) + pd.Timedelta(days=1)
    return max(start, first.normalize()), end
