"""Seeded synthetic programs with a known (planted) effect, for checking the experiments analyses.

* :func:`planted_campaign_program` -- members with persistent, heavy-tailed purchase rates and
  spend levels over 15 months; two randomised 50/50 campaigns on disjoint halves of the members in
  the same 28-day window: ``planted`` (a share of its test members' purchases in the window are
  duplicated: a purchase the campaign caused) and ``aa`` (nothing happens: an A/A test). The
  planted effect is known exactly: duplicated amount / test members.
* :func:`planted_enrolment_program` -- customers buying from the start of the data under their
  id, enrolling on the first day of a random month; after enrolment a share of their purchases
  are duplicated (the program's effect), plus a seasonality common to everyone.
* :func:`add_campaigns` -- randomised campaigns (no effect) on an existing program, for benchmarks.

Everything is vectorised and seeded: the same arguments give the same tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

_MIN_NS = 60 * 10**9


@dataclass(frozen=True, eq=False)
class PlantedProgram:
    """Canonical tables plus the truth that was planted.

    ``effects`` maps campaign name to the planted incremental spend per test member (currency);
    for an enrolment program, ``"program"`` maps to the planted extra spend per member-month in
    the 12 months after enrolment.
    """

    tables: dict[str, pd.DataFrame]
    effects: dict[str, float]


def _frame(member: np.ndarray, minutes: np.ndarray, cents: np.ndarray, ids: np.ndarray) -> pd.DataFrame:
    o = np.lexsort((member, minutes))
    member, minutes, cents = member[o], minutes[o], cents[o]
    n = len(member)
    return pd.DataFrame(
        {
            "transaction_id": pd.array(np.char.add("T", np.arange(1, n + 1).astype(str)).astype(object), dtype="str"),
            "member_id": pd.array(ids[member], dtype="str"),
            "timestamp": pd.to_datetime(minutes * _MIN_NS).astype("datetime64[ns]"),
            "amount": cents / 100.0,
        }
    )


def planted_campaign_program(
    seed: int,
    n_members: int = 2000,
    lift_share: float = 0.1,
    window_start: str = "2026-03-02",
    window_days: int = 28,
    rate_per_year: float = 14.0,
) -> PlantedProgram:
    """Two randomised campaigns: ``planted`` (a share of test purchases duplicated) and ``aa`` (none).

    Parameters
    ----------
    seed : int
    n_members : int
        Members; each campaign gets half of them, split 50/50 into test and control.
    lift_share : float
        Share (0-1) of the ``planted`` test members' purchases in the window that are duplicated.
    window_start : str
        First day of both windows.
    window_days : int
        Window length (days).
    rate_per_year : float
        Mean purchases per member and year (gamma-distributed across members).
    """
    rng = np.random.default_rng(seed)
    start = pd.Timestamp(window_start)
    end = start + pd.Timedelta(days=window_days)  # exclusive
    t0 = start - pd.DateOffset(months=12) - pd.Timedelta(days=30)
    t1 = end + pd.Timedelta(days=14)
    m0, m1 = t0.value // _MIN_NS, t1.value // _MIN_NS
    years = (m1 - m0) / (525_960)
    rate = rng.gamma(0.8, rate_per_year / 0.8, n_members)
    level = rng.normal(np.log(35.0), 0.45, n_members)
    counts = rng.poisson(rate * years)
    member = np.repeat(np.arange(n_members), counts)
    minutes = rng.integers(m0, m1, len(member))
    cents = np.maximum(np.round(np.exp(level[member] + rng.normal(0, 0.6, len(member))) * 100), 100)
    # ~2% returns: part of a purchase, a few days later (kept inside the data).
    ret = rng.random(len(member)) < 0.02
    r_min = np.minimum(minutes[ret] + rng.integers(1440, 20 * 1440, ret.sum()), m1 - 1)
    member = np.concatenate([member, member[ret]])
    minutes = np.concatenate([minutes, r_min])
    cents = np.concatenate([cents, -np.round(cents[ret] * rng.uniform(0.2, 1.0, ret.sum()))])
    # Two campaigns on disjoint halves, each split 50/50 at random.
    perm = rng.permutation(n_members)
    half = n_members // 2
    camp = np.empty(n_members, dtype=object)
    camp[perm[:half]], camp[perm[half:]] = "planted", "aa"
    is_test = np.zeros(n_members, dtype=bool)
    for names in (perm[:half], perm[half:]):
        is_test[names[rng.permutation(len(names))[: len(names) // 2]]] = True
    # The planted effect: duplicate a share of the planted test members' purchases in the window.
    in_window = (minutes >= start.value // _MIN_NS) & (minutes < end.value // _MIN_NS) & (cents > 0)
    treated = in_window & (camp[member] == "planted") & is_test[member]
    dup = treated & (rng.random(len(member)) < lift_share)
    d_min = np.minimum(minutes[dup] + 1, end.value // _MIN_NS - 1)
    effect = float(cents[dup].sum() / 100.0 / ((camp == "planted") & is_test).sum())
    member = np.concatenate([member, member[dup]])
    minutes = np.concatenate([minutes, d_min])
    cents = np.concatenate([cents, cents[dup]])
    ids = np.array([f"P{i:06d}" for i in range(n_members)], dtype=object)
    tx = _frame(member, minutes, cents, ids)
    members = pd.DataFrame(
        {
            "member_id": pd.array(ids, dtype="str"),
            "enrolled_at": pd.Series(np.full(n_members, t0.value), dtype="int64").astype("datetime64[ns]"),
        }
    )
    campaigns = pd.DataFrame(
        {
            "member_id": pd.array(ids, dtype="str"),
            "campaign": pd.array(camp, dtype="str"),
            "group": pd.array(np.where(is_test, "test", "control").astype(object), dtype="str"),
            "start": pd.Series(np.full(n_members, start.value), dtype="int64").astype("datetime64[ns]"),
            "end": pd.Series(np.full(n_members, (end - pd.Timedelta(days=1)).value), dtype="int64").astype(
                "datetime64[ns]"
            ),
        }
    )
    return PlantedProgram({"transactions": tx, "members": members, "campaigns": campaigns},
                          {"planted": effect, "aa": 0.0})


def planted_enrolment_program(
    seed: int,
    n_members: int = 4000,
    months: int = 36,
    effect_share: float = 0.2,
    first_month: str = "2023-11-01",
    rate_per_year: float = 12.0,
) -> PlantedProgram:
    """Customers buying from the data start, enrolling on a random month's first day; the program
    duplicates ``effect_share`` of their purchases after enrolment.

    ``effects["program"]`` = planted extra spend per member-month over the 12 months after enrolment
    (realised: duplicated amount / treated member-months in those months).
    """
    rng = np.random.default_rng(seed)
    month_starts = pd.date_range(first_month, periods=months + 1, freq="MS")
    m_start = (month_starts.to_numpy(dtype="datetime64[ns]").view("i8") // _MIN_NS).astype(np.int64)
    rate = rng.gamma(1.0, rate_per_year, n_members)
    level = rng.normal(np.log(40.0), 0.4, n_members)
    # Enrolment month: uniform over months 2 .. months - 1 (some enrol late: the comparison group).
    g = rng.integers(2, months, n_members)
    # Seasonality common to all (parallel trends holds by construction).
    season = 1.0 + 0.3 * np.sin(2 * np.pi * np.arange(months) / 12)
    lam = rate[:, None] / 12 * season[None, :]
    counts = rng.poisson(lam).ravel()
    cell = np.repeat(np.arange(n_members * months), counts)
    member, month = cell // months, cell % months
    minutes = m_start[month] + (rng.random(len(cell)) * (m_start[month + 1] - m_start[month])).astype(np.int64)
    cents = np.maximum(np.round(np.exp(level[member] + rng.normal(0, 0.6, len(cell))) * 100), 100)
    post = month >= g[member]
    dup = post & (rng.random(len(cell)) < effect_share)
    e = month - g[member]
    window = dup & (e < 12)
    treated_months = np.clip(np.minimum(months - g, 12), 0, None).sum()
    effect = float(cents[window].sum() / 100.0 / treated_months)
    member = np.concatenate([member, member[dup]])
    minutes = np.concatenate([minutes, minutes[dup] + 1])
    cents = np.concatenate([cents, cents[dup]])
    ids = np.array([f"E{i:06d}" for i in range(n_members)], dtype=object)
    tx = _frame(member, minutes, cents, ids)
    enrolled = m_start[g] * _MIN_NS
    members = pd.DataFrame(
        {
            "member_id": pd.array(ids, dtype="str"),
            "enrolled_at": pd.Series(enrolled, dtype="int64").astype("datetime64[ns]"),
        }
    )
    return PlantedProgram({"transactions": tx, "members": members}, {"program": effect})


def add_campaigns(
    transactions: pd.DataFrame,
    members: pd.DataFrame,
    n_campaigns: int = 10,
    seed: int = 0,
    members_per_campaign: int = 50_000,
    window_days: int = 28,
    control_share: float = 0.2,
) -> pd.DataFrame:
    """A campaigns table of ``n_campaigns`` randomised campaigns (no effect) on an existing program.

    Windows are spread over the last year of the data, one after the other; each campaign draws
    ``members_per_campaign`` members enrolled before its start (or all of them when fewer).
    """
    rng = np.random.default_rng(seed)
    last = transactions["timestamp"].max().normalize()
    starts = [last - pd.Timedelta(days=window_days * (k + 1) + 7 * k) for k in range(n_campaigns)][::-1]
    parts = []
    enrolled = members["enrolled_at"].to_numpy(dtype="datetime64[ns]")
    ids = members["member_id"].to_numpy(dtype=object)
    for k, s in enumerate(starts):
        eligible = np.flatnonzero(enrolled < s.to_datetime64())
        take = rng.choice(eligible, size=min(members_per_campaign, len(eligible)), replace=False)
        test = rng.random(len(take)) >= control_share
        parts.append(
            pd.DataFrame(
                {
                    "member_id": ids[take],
                    "campaign": f"Campaign {k + 1:02d}",
                    "group": np.where(test, "test", "control"),
                    "start": s,
                    "end": s + pd.Timedelta(days=window_days - 1),
                }
            )
        )
    out = pd.concat(parts, ignore_index=True)
    return out.astype({"member_id": "str", "campaign": "str", "group": "str",
                       "start": "datetime64[ns]", "end": "datetime64[ns]"})
