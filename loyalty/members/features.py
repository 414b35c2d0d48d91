"""Per-member features: the one table shared by segmentation, CLV and the simulator.

Definitions (all relative to the analysis date ``as_of``; rows dated after it are ignored):

* **purchase** -- a member transaction with ``amount > 0``. Rows with ``amount <= 0``
  (returns, voids) count in ``monetary`` but are not purchases.
* ``recency_days`` -- days (fractional) from the member's last purchase to ``as_of``;
  NaN when the member never purchased.
* ``frequency`` -- number of purchases (``int``).
* ``monetary`` -- net spend, currency: sum of ``amount`` over all the member's rows,
  returns included (can be negative).
* ``avg_basket`` -- gross spend / purchases: mean ``amount`` of purchases, currency;
  NaN when ``frequency == 0``.
* ``tenure_days`` -- days from the earlier of enrolment (members table) and first
  transaction to ``as_of``.
* ``purchases_90d`` -- purchases with ``as_of - 90 days < timestamp <= as_of``.

With a points ledger (entries up to ``as_of``):

* ``points_balance`` -- sum of signed ledger points (earn - redeem - expire +/- adjust).
* ``points_earned`` -- sum of ``earn`` points.
* ``points_redeemed`` -- points spent on rewards (positive number).
* ``redemption_ratio`` -- ``points_redeemed / points_earned``; NaN when nothing earned.
* ``days_since_redemption`` -- days from the last ``redeem`` entry to ``as_of``; NaN if never.

Member universe: every member id in the member transactions plus, when a members
table exists, every member enrolled on or before ``as_of`` -- members who never
purchased are included with ``frequency = 0``, ``monetary = 0``. Guest purchases
(missing ``member_id``) are excluded.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from loyalty.schema import Dataset

#: Feature columns always present, in output order.
BASE_FEATURES: tuple[str, ...] = (
    "recency_days",
    "frequency",
    "monetary",
    "avg_basket",
    "tenure_days",
    "purchases_90d",
)
#: Feature columns added when the dataset has a points ledger.
LEDGER_FEATURES: tuple[str, ...] = (
    "points_balance",
    "points_earned",
    "points_redeemed",
    "redemption_ratio",
    "days_since_redemption",
)



def member_features(dataset: Dataset, as_of: pd.Timestamp | str | None = None) -> pd.DataFrame:
    """Per-member features (see the module docstring for exact definitions).

    Parameters
    ----------
    dataset : Dataset
        Canonical tables; only ``transactions`` is required.
    as_of : timestamp, optional
        Analysis date. Default: the last transaction timestamp. Rows after it are ignored.

    Returns
    -------
    DataFrame indexed by ``member_id`` (str), sorted by id, with :data:`BASE_FEATURES`
    and, if a ledger exists, :data:`LEDGER_FEATURES`. Day counts and money are float64,
    counts int64.
    """
    tx = dataset.transactions
    tx = tx.loc[tx["member_id"].notna(), ["member_id", "timestamp", "amount"]]
    if as_of is None:
        as_of_ts = tx["timestamp"].max() if len(tx) else pd.Timestamp.now().normalize()
    else:
        as_of_ts = pd.Timestamp(as_of)
    if pd.isna(as_of_ts):
        raise ValueError("Cannot set the analysis date: the transactions have no valid timestamp.")
    as_of64 = np.datetime64(as_of_ts.to_datetime64(), "ns")
    ts = tx["timestamp"].to_numpy("datetime64[ns]")
    keep = ts <= as_of64
    ids = tx["member_id"][keep] if not keep.all() else tx["member_id"]
    ts = ts[keep]
    amount = tx["amount"].to_numpy(dtype="float64")[keep]

    members = dataset.members
    enrolled_ids = pd.Series([], dtype="str")
    enrolled_at = np.array([], dtype="datetime64[ns]")
    if members is not None and len(members):
        m = members.loc[members["member_id"].notna()]
        enr = m["enrolled_at"].to_numpy("datetime64[ns]")
        ok = np.isnat(enr) | (enr <= as_of64)
        enrolled_ids = m["member_id"][ok]
        enrolled_at = enr[ok]

    ledger_ids = pd.Series([], dtype="str")
    if dataset.ledger is not None:
        ledger_ids = dataset.ledger["member_id"]
    codes, universe = _encode([ids, enrolled_ids], ledger_ids)
    n = len(universe)
    code = codes[0]
    ecode = codes[1]

    is_purchase = amount > 0
    frequency = np.bincount(code[is_purchase], minlength=n)
    gross = np.bincount(code[is_purchase], weights=amount[is_purchase], minlength=n)
    monetary = np.bincount(code, weights=amount, minlength=n)
    recent = is_purchase & (ts > as_of64 - np.timedelta64(90, "D"))
    purchases_90d = np.bincount(code[recent], minlength=n)

    tsi = ts.view("int64")
    nat = np.iinfo(np.int64).min
    last_purchase = np.full(n, nat, dtype=np.int64)
    np.maximum.at(last_purchase, code[is_purchase], tsi[is_purchase])
    first_seen = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_seen, code, tsi)
    if len(ecode):
        ev = enrolled_at.view("int64")
        valid = ev != nat
        np.minimum.at(first_seen, ecode[valid], ev[valid])

    as_of_i = as_of64.view("int64")
    with np.errstate(invalid="ignore", divide="ignore"):
        recency = np.where(frequency > 0, (as_of_i - last_purchase) / 86_400e9, np.nan)
        avg_basket = np.where(frequency > 0, gross / np.maximum(frequency, 1), np.nan)
    has_first = first_seen != np.iinfo(np.int64).max
    tenure = np.where(has_first, (as_of_i - first_seen) / 86_400e9, np.nan)

    out = pd.DataFrame(
        {
            "recency_days": recency,
            "frequency": frequency.astype("int64"),
            "monetary": monetary,
            "avg_basket": avg_basket,
            "tenure_days": tenure,
            "purchases_90d": purchases_90d.astype("int64"),
        },
        index=pd.Index(universe, name="member_id", dtype="str"),
    )
    if dataset.ledger is not None:
        out = out.join(_ledger_features(dataset.ledger, codes[2], universe, as_of64))
    out.attrs["as_of"] = pd.Timestamp(as_of64).isoformat()  # a string: attrs must stay JSON-serialisable (parquet)
    return out


def _encode(parts: list[pd.Series], extra: pd.Series) -> tuple[list[np.ndarray], pd.Index]:
    """Integer codes of member ids, numbered in sorted id order.

    The universe is the ids found in ``parts``; ids of ``extra`` outside it get -1.
    One factorize over everything (hash-based, fast on arrow strings), then a
    renumbering so the output index is sorted.
    """
    allids = pd.concat([p.astype("str") for p in (*parts, extra)], ignore_index=True)
    raw, uniques = pd.factorize(allids)  # NaN ids get -1
    n_univ = sum(len(p) for p in parts)
    in_univ = np.zeros(len(uniques) + 1, dtype=bool)
    in_univ[raw[:n_univ]] = True
    in_univ = in_univ[:-1]  # drop the slot hit by -1 (NaN) codes
    kept = np.flatnonzero(in_univ)
    universe = uniques[kept]
    order = np.asarray(universe.argsort())
    remap = np.full(len(uniques) + 1, -1, dtype=np.intp)
    remap[kept[order]] = np.arange(len(kept))
    out, start = [], 0
    for length in [len(p) for p in parts] + [len(extra)]:
        out.append(remap[raw[start : start + length]])
        start += length
    return out, universe[order]


def _ledger_features(
    ledger: pd.DataFrame, code: np.ndarray, universe: pd.Index, as_of64: np.datetime64
) -> pd.DataFrame:
    n = len(universe)
    ts = ledger["timestamp"].to_numpy("datetime64[ns]")
    keep = ~np.isnat(ts) & (ts <= as_of64)
    code = code[keep]
    pts = ledger["points"].to_numpy(dtype="float64")[keep]
    earn = (ledger["event"] == "earn").to_numpy(dtype=bool, na_value=False)[keep]
    redeem = (ledger["event"] == "redeem").to_numpy(dtype=bool, na_value=False)[keep]
    ts = ts[keep].view("int64")
    # Ledger rows of ids unknown to transactions/members are outside the universe
    # (code -1): they cannot have features and are left out, as for guests.
    inside = code >= 0
    code, pts, earn, redeem, ts = code[inside], pts[inside], earn[inside], redeem[inside], ts[inside]
    balance = np.bincount(code, weights=pts, minlength=n)
    earned = np.bincount(code[earn], weights=pts[earn], minlength=n)
    redeemed = 0.0 - np.bincount(code[redeem], weights=pts[redeem], minlength=n)  # 0.0 - x: no -0.0
    last_redeem = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(last_redeem, code[redeem], ts[redeem])
    as_of_i = as_of64.view("int64")
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(earned > 0, redeemed / earned, np.nan)
    never = last_redeem == np.iinfo(np.int64).min
    days_since = np.where(never, np.nan, (as_of_i - last_redeem) / 86_400e9)
    return pd.DataFrame(
        {
            "points_balance": balance,
            "points_earned": earned,
            "points_redeemed": redeemed,
            "redemption_ratio": ratio,
            "days_since_redemption": days_since,
        },
        index=pd.Index(universe, name="member_id", dtype="str"),
    )
