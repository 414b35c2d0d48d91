"""Canonical data model of a loyalty program.

Every analysis in :mod:`loyalty` takes a :class:`Dataset` whose tables follow
the column specs below. Importers (:mod:`loyalty.ingest`) turn messy exports
into these tables; nothing downstream re-parses raw data.

Dtype conventions
-----------------
* identifiers and labels: pandas ``str`` dtype (missing = NaN);
* timestamps: timezone-naive ``datetime64[ns]``;
* money and points: ``float64`` (currency units / points);
* small integers (scores, birth years): nullable ``Int64``.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Generic, Literal, TypeVar

import numpy as np
import pandas as pd

TableKind = Literal["transactions", "members", "ledger", "surveys", "costs", "campaigns"]

#: Ledger events. Canonical ledger ``points`` are *signed*: earn > 0,
#: redeem < 0, expire < 0, adjust either sign.
LEDGER_EVENTS: tuple[str, ...] = ("earn", "redeem", "expire", "adjust")
#: Integer code of each ledger event (its position in :data:`LEDGER_EVENTS`).
EVENT_CODES: dict[str, int] = {e: i for i, e in enumerate(LEDGER_EVENTS)}
#: Campaign groups: ``test`` members got the campaign, ``control`` members were held out.
CAMPAIGN_GROUPS: tuple[str, ...] = ("test", "control")


@dataclass(frozen=True)
class Column:
    """One canonical column: name, logical type, meaning and whether required."""

    name: str
    dtype: Literal["id", "text", "datetime", "money", "points", "int", "float", "event"]
    meaning: str
    required: bool = False


@dataclass(frozen=True)
class TableSpec:
    """The canonical columns of one table and the KPIs it unlocks."""

    kind: TableKind
    title: str
    columns: tuple[Column, ...]
    unlocks: str = ""

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


TRANSACTIONS = TableSpec(
    "transactions",
    "Transactions",
    (
        Column("transaction_id", "id", "Unique id of the purchase (receipt / invoice number).", True),
        Column("member_id", "id", "Loyalty member id; empty for a non-member (guest) purchase.", True),
        Column("timestamp", "datetime", "Date and time of the purchase.", True),
        Column("amount", "money", "Amount paid, currency, tax included; negative for a return.", True),
        Column("store", "text", "Store or site where the purchase happened."),
        Column("channel", "text", "Sales channel (store, web, app...)."),
        Column("points_earned", "points", "Points credited for this purchase."),
        Column("points_redeemed", "points", "Points spent on this purchase (positive number)."),
        Column(
            "discount",
            "money",
            "Discounts on the purchase, currency, positive (sum of the export's discount columns, e.g. "
            "retail_disc + coupon_disc); informative: amount is what the export says was paid and is "
            "never reduced by it again.",
        ),
    ),
    "Every sales KPI, member features, segmentation, CLV and the simulator.",
)

MEMBERS = TableSpec(
    "members",
    "Members",
    (
        Column("member_id", "id", "Loyalty member id (same ids as in transactions).", True),
        Column("enrolled_at", "datetime", "Date the member joined the program.", True),
        Column("tier", "text", "Current tier name."),
        Column("channel", "text", "Enrolment channel."),
        Column("referred_by", "id", "member_id of the member who referred this one."),
        Column("birth_year", "int", "Year of birth."),
        Column("region", "text", "Region / country / area of the member."),
    ),
    "Exact member counts, new members and growth, cohort retention, referral KPIs, "
    "tier/channel/region filters.",
)

LEDGER = TableSpec(
    "ledger",
    "Points ledger",
    (
        Column("member_id", "id", "Loyalty member id.", True),
        Column("timestamp", "datetime", "When the points moved.", True),
        Column("event", "event", "One of " + ", ".join(LEDGER_EVENTS) + ".", True),
        Column(
            "points",
            "points",
            "Signed points: earn > 0, redeem < 0, expire < 0, adjust either sign. "
            "Unsigned exports are signed on import from the event.",
            True,
        ),
    ),
    "Points issued/redeemed/expired, breakage, outstanding balance and liability, "
    "redeemer KPIs, baseline rules for the simulator.",
)

SURVEYS = TableSpec(
    "surveys",
    "Surveys",
    (
        Column("member_id", "id", "Respondent member id (may be empty).", False),
        Column("date", "datetime", "Response date.", True),
        Column("nps_score", "int", "Likelihood to recommend, 0-10.", True),
        Column("csat", "float", "Satisfaction, 1-5."),
    ),
    "NPS and CSAT.",
)

COSTS = TableSpec(
    "costs",
    "Program costs",
    (
        Column("month", "datetime", "Month of the cost (first day of month).", True),
        Column("category", "text", "Cost category, e.g. platform, rewards, acquisition, marketing.", True),
        Column("amount", "money", "Cost in currency units.", True),
    ),
    "Program cost, CAC (category 'acquisition'), cost per retained member, ROI.",
)

CAMPAIGNS = TableSpec(
    "campaigns",
    "Campaigns (test / control)",
    (
        Column("member_id", "id", "Member assigned to the campaign's test or control group.", True),
        Column("campaign", "text", "Campaign name or code (one row per member and campaign).", True),
        Column(
            "group",
            "text",
            "test (received the campaign) or control (held out). Imported from test / treatment / B and "
            "control / témoin / holdout / A.",
            True,
        ),
        Column("start", "datetime", "First day of the member's campaign window (included, a whole day).", True),
        Column("end", "datetime", "Last day of the member's campaign window (included, a whole day).", True),
    ),
    "Measured campaign lift with test/control groups (CUPED, 95% interval), test planning, "
    "a randomised ROI on the KPI page.",
)

SPECS: dict[str, TableSpec] = {s.kind: s for s in (TRANSACTIONS, MEMBERS, LEDGER, SURVEYS, COSTS, CAMPAIGNS)}

OPTIONAL_KINDS: tuple[str, ...] = ("members", "ledger", "surveys", "costs", "campaigns")


def empty_table(kind: str) -> pd.DataFrame:
    """An empty canonical frame of ``kind`` with the canonical dtypes."""
    spec = SPECS[kind]
    data = {}
    for c in spec.columns:
        data[c.name] = pd.Series([], dtype=canonical_dtype(c.dtype))
    return pd.DataFrame(data)


def canonical_dtype(logical: str) -> str:
    """Pandas dtype used for a logical column type."""
    return {
        "id": "str",
        "text": "str",
        "event": "str",
        "datetime": "datetime64[ns]",
        "money": "float64",
        "points": "float64",
        "float": "float64",
        "int": "Int64",
    }[logical]


def _hash_column(s: pd.Series, h: hashlib._Hash) -> None:
    """Feed one column's content to ``h`` without materialising Python objects.

    Arrow-backed strings hash their buffers (offsets, data, validity) in place and
    numpy columns their raw bytes; anything else goes through pandas' row hashes.
    Equal content may hash differently only for sliced Arrow arrays, which costs a
    cache miss, never a wrong hit.
    """
    arr = s.array
    h.update(f"{s.name}|{s.dtype}|{len(s)}".encode())
    arrow = getattr(arr, "_pa_array", None)
    if arrow is not None:
        for chunk in arrow.chunks:
            h.update(f"{chunk.offset}:{len(chunk)}".encode())
            for buf in chunk.buffers():
                if buf is not None:
                    h.update(memoryview(buf))
        return
    values = s.to_numpy() if s.dtype.kind in "biufcmM" else None
    if values is not None and values.dtype.kind in "biufcmM":
        h.update(memoryview(values.view(np.uint8) if values.flags.c_contiguous else values.copy().view(np.uint8)))
        return
    h.update(pd.util.hash_pandas_object(s, index=False).to_numpy().tobytes())


def _hash_frame(df: pd.DataFrame | None, h: hashlib._Hash) -> None:
    if df is None:
        h.update(b"<none>")
        return
    h.update(",".join(map(str, df.columns)).encode())
    for col in df.columns:
        _hash_column(df[col], h)


@dataclass(frozen=True, eq=False)
class Dataset:
    """One program's canonical tables. Only ``transactions`` is required.

    ``name`` is a human label ("Sample program", an uploaded file name) that
    pages show so the user always knows what they are looking at.
    """

    transactions: pd.DataFrame
    members: pd.DataFrame | None = None
    ledger: pd.DataFrame | None = None
    surveys: pd.DataFrame | None = None
    costs: pd.DataFrame | None = None
    campaigns: pd.DataFrame | None = None
    name: str = "Unnamed program"
    notes: tuple[str, ...] = field(default=())

    @cached_property
    def fingerprint(self) -> str:
        """Content hash of all tables: the cache key of every derived result."""
        h = hashlib.blake2b(digest_size=16)
        for kind in ("transactions", *OPTIONAL_KINDS):
            if kind == "campaigns" and self.campaigns is None:
                continue  # a dataset without campaigns keeps the fingerprint it had before the table existed
            _hash_frame(getattr(self, kind), h)
        return h.hexdigest()

    def table(self, kind: str) -> pd.DataFrame | None:
        return getattr(self, kind)

    def missing(self) -> list[str]:
        """Optional tables this dataset does not have."""
        return [k for k in OPTIONAL_KINDS if getattr(self, k) is None]

    @property
    def member_transactions(self) -> pd.DataFrame:
        """Transactions made by members (guest rows removed)."""
        t = self.transactions
        return t[t["member_id"].notna()]

    def date_range(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        ts = self.transactions["timestamp"]
        return ts.min(), ts.max()

    def replace(self, **changes) -> Dataset:
        from dataclasses import replace

        return replace(self, **changes)


_T = TypeVar("_T")


class DatasetMemo(Generic[_T]):
    """A value derived from a :class:`Dataset`, computed once per dataset object.

    Weakly keyed, so an entry goes with its dataset; locked, because one dataset object is
    shared by every session that loaded the same data. Two sessions may both compute a missing
    entry; the first stored wins (the values are equal).
    """

    def __init__(self) -> None:
        self._memo: weakref.WeakKeyDictionary[Dataset, _T] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def get(self, dataset: Dataset, build: Callable[[Dataset], _T]) -> _T:
        """The memoised ``build(dataset)``."""
        with self._lock:
            hit = self._memo.get(dataset)
        if hit is not None:
            return hit
        value = build(dataset)
        with self._lock:
            return self._memo.setdefault(dataset, value)
