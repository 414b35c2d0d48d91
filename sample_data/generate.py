"""Seeded generator of the bundled sample loyalty program.

Regenerate the bundled files byte-for-byte with::

    python -m sample_data.generate

(``--members N``, ``--out DIR``, ``--format csv|parquet``, ``--no-ledger``,
``--seed S`` change the defaults; benchmarks call :func:`generate_program`
directly, e.g. ``generate_program(n_members_for(1_000_000), with_ledger=False)``.)

What is simulated
-----------------
* **Enrolment**: ``n_members`` members over ``years`` years ending
  2026-10-31, with linear growth (the last month enrols ~2.3x the first) and
  seasonality (December peak, January and summer sales, Saturday peak).
  Enrolment channel store/web/app (app share grows), region, birth year, and
  ~10% ``referred_by`` an earlier-enrolled member.
* **Purchases** (BG/NBD-like): each member buys at a gamma-distributed rate
  (heavy-tailed; gamma-Poisson counts), most members buy at enrolment, and
  after every purchase a member drops out with a beta-distributed probability
  (churn). Purchase days follow the same seasonal intensity.
* **Baskets**: lognormal, median ~40 (EUR-like), with a per-member spend
  level, larger online baskets and a December uplift; rounded to cents.
* **Guests**: ``guest_share`` (25%) of purchases have an empty ``member_id``.
* **Returns**: ~3% of rows are returns: a negative amount (the whole or part
  of an earlier purchase of the same member/guest, 1-30 days later, same store
  and channel).
* **Surveys**: ~0.6 NPS responses per member (score correlated with purchase
  frequency and tier), ``csat`` 1-5 (15% blank), 5% anonymous.
* **Costs**: monthly ``platform``, ``marketing`` (seasonal), ``acquisition``
  (new members x CAC) and ``rewards`` (redeemed points x point value x 1.15
  fulfilment overhead; without a ledger, 0.55% of member spend).
* **Campaigns** (a separate seeded step, drawn after everything else so the
  other tables do not depend on it): three randomised test/control campaigns
  of 2026 (:data:`SAMPLE_CAMPAIGNS`) on their eligible members -- spring (active
  members, 50/50), summer win-back (lapsed members, 20% holdout), autumn app
  push (app and web members, 10% holdout). The purchases were simulated without
  any campaign, so every true lift is 0: the Experiments page shows what a
  null result looks like (intervals around 0).

Timestamps are whole minutes (``YYYY-MM-DD HH:MM:SS``), amounts whole cents.

Points ledger: the rules of ``loyalty.rules.SAMPLE_RULES``
---------------------------------------------------------
Written by :func:`build_ledger`, a deliberately plain per-member event loop
that is also the readable reference of the replay semantics (issue 5, 1-5)
that ``loyalty.simulation.replay`` must reproduce exactly:

1. **Qualifying spend** of a member's transaction at time ``t`` = sum of ALL
   that member's transaction amounts (purchases AND returns, i.e. negative
   amounts included) with timestamp in ``[t - 365 days, t)`` -- strictly
   earlier, so the transaction itself and others at the same minute are
   excluded. It is summed exactly in integer cents (a float cumsum can land a
   hair below a threshold; round window sums to cents before comparing).
   Tier = highest tier whose threshold <= qualifying spend
   (Bronze 0 x1.0, Silver 500 x1.25, Gold 1500 x1.5); a NEGATIVE qualifying
   spend (returns of purchases made before the window) gets the base tier.
2. **Earn**: ``points = floor(round(amount * earn_rate * multiplier, 6))``
   for ``amount > 0``; returns (amount <= 0) earn nothing and do not claw back
   points. Earn rows with 0 points (amount < 1) are not written.
3. **Redeem**: decided by the generator only at a member's purchase timestamps
   (amount > 0), AFTER all earning at that timestamp: a member whose balance
   is >= 500 redeems ``k * 500`` points (k uniform in 1..balance // 500) with
   a member-specific propensity. A redemption never exceeds the balance, so
   replaying it as ``min(asked, balance)`` grants exactly what is asked. At
   most one redemption per member and timestamp.
4. **Inactivity expiry**: activity = a purchase with amount > 0 (every
   redemption happens at such a purchase). After activity at ``a`` the
   deadline is ``a + pd.DateOffset(months=12) + pd.Timedelta(days=30)``
   (calendar months first, then the grace days; time of day kept). If the next
   activity is strictly after the deadline, the whole balance expires AT the
   deadline (one ``expire`` row, timestamp = deadline); activity at or before
   the deadline keeps it. Expiry is not activity. The final deadline of each
   member expires only if it is <= ``end`` = the last transaction timestamp of
   the data (the generator makes that a member transaction, so guests do not
   move it). No row is written for a zero balance.
5. **Tier at end** (``members.tier``) = tier of the qualifying spend over
   ``[end - 365 days, end]`` (both ends included, returns included).

Ledger ``points`` are signed: earn > 0, redeem < 0, expire < 0.
"""

from __future__ import annotations

import argparse
import math
from bisect import bisect_left, bisect_right
from pathlib import Path

import numpy as np
import pandas as pd

from loyalty.simulator.rules import SAMPLE_RULES, RewardRules

#: Last day of the sample program (its data ends on this day).
END_DATE = pd.Timestamp("2026-10-31")
DEFAULT_SEED = 20261031
#: Member transactions (purchases + returns, guests excluded) per member,
#: measured on the default parameters; used by :func:`n_members_for`.
_TX_PER_MEMBER = 8.33

REGIONS = (
    "Ile-de-France",
    "Auvergne-Rhone-Alpes",
    "Provence-Alpes-Cote d'Azur",
    "Hauts-de-France",
    "Nouvelle-Aquitaine",
    "Occitanie",
)
REGION_WEIGHTS = np.array([0.32, 0.18, 0.14, 0.12, 0.12, 0.12])
#: One physical store per region (same order), plus "Online" for web/app.
STORES = ("Paris", "Lyon", "Marseille", "Lille", "Bordeaux", "Toulouse")
ONLINE_STORE = "Online"
CHANNELS = ("store", "web", "app")
#: Files written by the default command (CSV format).
SAMPLE_DIR_FILES = ("transactions.csv", "members.csv", "ledger.csv", "surveys.csv", "costs.csv", "campaigns.csv")
#: The sample's campaigns: (name, first day, last day, eligible members, control share).
SAMPLE_CAMPAIGNS: tuple[tuple[str, str, str, str, float], ...] = (
    ("Spring double points 2026", "2026-04-01", "2026-04-30", "active", 0.5),
    ("Summer win-back 2026", "2026-07-01", "2026-07-31", "lapsed", 0.2),
    ("Autumn app push 2026", "2026-09-15", "2026-10-14", "app_web", 0.1),
)
TS_FORMAT = "%Y-%m-%d %H:%M:%S"
DATE_FORMAT = "%Y-%m-%d"
_MIN_NS = 60 * 1_000_000_000  # nanoseconds per minute


# --------------------------------------------------------------------------
# seasonal intensity
# --------------------------------------------------------------------------
def _daily_intensity(days: pd.DatetimeIndex) -> np.ndarray:
    """Relative shopping intensity of each day (seasonality x weekday)."""
    doy = days.day_of_year.to_numpy()
    month = days.month.to_numpy()
    dom = days.day.to_numpy()
    w = 1.0 + 0.15 * np.cos(2 * np.pi * (doy - 355) / 365.25)
    # December run-up to Christmas, January and summer sales, Black Friday.
    w += np.where((month == 12) & (dom <= 24), 0.3 + 0.9 * dom / 24, 0.0)
    w += np.where((month == 1) & (dom >= 8), 0.3, 0.0)
    w += np.where(((month == 6) & (dom >= 24)) | ((month == 7) & (dom <= 20)), 0.2, 0.0)
    w += np.where((month == 11) & (dom >= 24) & (dom <= 30), 0.4, 0.0)
    weekday = np.array([1.0, 0.95, 1.0, 1.05, 1.2, 1.45, 0.55])  # Mon..Sun
    return w * weekday[days.day_of_week.to_numpy()]


#: Hour-of-day profile (index = hour): store hours with lunch and after-work peaks.
_HOURS = np.array(
    [0.1, 0.05, 0.02, 0.02, 0.02, 0.05, 0.2, 0.5, 1.0, 2.0, 3.5, 4.5,
     5.5, 5.0, 4.0, 4.0, 4.5, 5.5, 6.0, 5.0, 3.0, 1.8, 1.0, 0.4]
)  # fmt: skip
_HOURS = _HOURS / _HOURS.sum()


def _minute_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.choice(24, size=n, p=_HOURS) * 60 + rng.integers(0, 60, size=n)


class _Calendar:
    """Maps uniform draws to days with probability proportional to intensity."""

    def __init__(self, start: pd.Timestamp, end: pd.Timestamp, growth: float = 0.0) -> None:
        self.days = pd.date_range(start, end, freq="D")
        w = _daily_intensity(self.days)
        if growth:
            w = w * (1.0 + growth * np.linspace(0.0, 1.0, len(w)))
        self.cum = np.concatenate([[0.0], np.cumsum(w)])
        self.day0_min = self.days[0].value // _MIN_NS  # minutes since epoch of day 0

    def sample_days(self, rng: np.random.Generator, lo_day: np.ndarray, hi_day: np.ndarray) -> np.ndarray:
        """One day index per element, drawn in [lo_day, hi_day] by intensity."""
        a = self.cum[lo_day]
        b = self.cum[hi_day + 1]
        u = a + rng.random(len(lo_day)) * (b - a)
        d = np.searchsorted(self.cum, u, side="right") - 1
        return np.clip(d, lo_day, hi_day)


# --------------------------------------------------------------------------
# generator
# --------------------------------------------------------------------------
def n_members_for(n_transactions: int, guest_share: float = 0.25) -> int:
    """Members needed for roughly ``n_transactions`` rows (guests included)."""
    return max(10, round(n_transactions * (1 - guest_share) / _TX_PER_MEMBER))


def generate_program(
    n_members: int = 5000,
    years: int = 3,
    seed: int = DEFAULT_SEED,
    guest_share: float = 0.25,
    with_ledger: bool = True,
    rules: RewardRules = SAMPLE_RULES,
) -> dict[str, pd.DataFrame]:
    """Generate a seeded synthetic loyalty program in canonical tables.

    Parameters
    ----------
    n_members : int
        Members enrolled over the period (5,000 gives ~58k transactions).
    years : int
        Length of the period, ending on 2026-10-31.
    seed : int
        Seed; the same arguments always give identical tables.
    guest_share : float
        Fraction (0-1) of purchases made by non-members (empty ``member_id``).
    with_ledger : bool
        Build the points ledger (a per-member Python loop; turn off for
        multi-million-row benchmark programs).
    rules : RewardRules
        Rules the ledger and the members' end tier follow.

    Returns
    -------
    dict[str, DataFrame]
        ``transactions``, ``members``, ``surveys``, ``costs``, ``campaigns`` and,
        when ``with_ledger``, ``ledger``; canonical columns and dtypes.
    """
    if n_members < 1 or years < 1 or not 0 <= guest_share < 1:
        raise ValueError("n_members and years must be >= 1 and guest_share in [0, 1).")
    ss = np.random.SeedSequence(seed)
    # spawn(8)'s first 7 children are spawn(7)'s: the campaigns' stream leaves the other tables unchanged.
    r_mem, r_tx, r_guest, r_ret, r_led, r_srv, r_cost, r_camp = (np.random.default_rng(s) for s in ss.spawn(8))
    start = END_DATE - pd.DateOffset(years=years) + pd.Timedelta(days=1)
    members, m = _members(r_mem, n_members, start)
    tx = _transactions(r_tx, r_guest, r_ret, m, start, guest_share)
    end_min = int(tx["_min"].max())
    tier_idx = _tier_at_end(tx, n_members, end_min, rules)
    members["tier"] = pd.array(np.array(rules.tier_names, dtype=object)[tier_idx], dtype="str")
    out: dict[str, pd.DataFrame] = {}
    ledger = None
    if with_ledger:
        ledger = build_ledger(tx, m["p_redeem"], r_led, rules)
        out["ledger"] = ledger
    out["surveys"] = _surveys(r_srv, tx, m, tier_idx, end_min)
    out["costs"] = _costs(r_cost, tx, members, ledger, start, rules)
    out["members"] = members
    out["transactions"] = tx.drop(columns=["_min", "_m", "_cents"])
    out["campaigns"] = _campaigns(r_camp, out["transactions"], members)
    order = ("transactions", "members", "ledger", "surveys", "costs", "campaigns")
    return {k: out[k] for k in order if k in out}


def _members(rng: np.random.Generator, n: int, start: pd.Timestamp) -> tuple[pd.DataFrame, dict]:
    cal = _Calendar(start, END_DATE, growth=1.3)
    nd = len(cal.days)
    day = np.sort(cal.sample_days(rng, np.zeros(n, np.int64), np.full(n, nd - 1)))
    minute = _minute_of_day(rng, n)
    enrol_min = cal.day0_min + day * 1440 + minute
    order = np.lexsort((minute, day))  # enrolment order = member id order
    enrol_min = enrol_min[order]
    day = day[order]
    frac = day / max(nd - 1, 1)
    # App share of enrolments grows from ~8% to ~30% over the period.
    p_app = 0.08 + 0.22 * frac
    p_web = np.full(n, 0.25)
    u = rng.random(n)
    chan = np.where(u < p_app, 2, np.where(u < p_app + p_web, 1, 0))
    region = rng.choice(len(REGIONS), size=n, p=REGION_WEIGHTS)
    age = np.clip(np.round(rng.normal(43, 14, n)), 18, 85).astype(np.int64)
    birth_year = END_DATE.year - age - (rng.random(n) < 0.5)
    # ~10% referred by a member enrolled earlier (recent members refer more often).
    referred = (rng.random(n) < 0.10) & (np.arange(n) > 0)
    ref_idx = np.floor(np.sqrt(rng.random(n)) * np.arange(n)).astype(np.int64)
    width = max(5, len(str(n)))
    ids = np.array([f"M{i + 1:0{width}d}" for i in range(n)], dtype=object)
    ref = np.where(referred, ids[ref_idx], None)
    members = pd.DataFrame(
        {
            "member_id": pd.array(ids, dtype="str"),
            "enrolled_at": pd.to_datetime(enrol_min * _MIN_NS).astype("datetime64[ns]"),
            "tier": pd.array([None] * n, dtype="str"),
            "channel": pd.array(np.array(CHANNELS, dtype=object)[chan], dtype="str"),
            "referred_by": pd.array(ref, dtype="str"),
            "birth_year": pd.array(birth_year, dtype="Int64"),
            "region": pd.array(np.array(REGIONS, dtype=object)[region], dtype="str"),
        }
    )
    # Behaviour (not written out): purchase rate per year (gamma -> heavy tail),
    # dropout probability after each purchase (beta -> BG/NBD-like churn),
    # spend level and redemption propensity.
    state = {
        "ids": ids,
        "enrol_min": enrol_min,
        "enrol_day": day,
        "chan": chan,
        "region": region,
        "rate": rng.gamma(0.75, 12.0 / 0.75, n),
        "p_drop": rng.beta(1.0, 12.0, n),
        "buys_at_enrol": rng.random(n) < np.where(chan == 0, 0.92, 0.6),
        "spend": rng.normal(0.0, 0.35, n),
        "p_redeem": rng.beta(2.0, 3.0, n),
    }
    return members, state


def _tx_channel_store(rng, n, pref_chan, home_store):
    """Transaction channel (mostly the member's own) and store."""
    mix = rng.choice(3, size=n, p=[0.55, 0.25, 0.20])
    chan = np.where(rng.random(n) < 0.75, pref_chan, mix)
    other = rng.choice(len(STORES), size=n, p=REGION_WEIGHTS)
    store = np.where(rng.random(n) < 0.85, home_store, other)
    store_names = np.array((*STORES, ONLINE_STORE), dtype=object)
    store = np.where(chan == 0, store, len(STORES))
    return chan, store_names[store]


def _baskets(rng, n, level, chan, minutes):
    """Lognormal basket (median ~40), cents."""
    month = pd.to_datetime(minutes * _MIN_NS).month.to_numpy()
    mu = np.log(38.0) + level + np.where(chan > 0, 0.15, 0.0) + np.where(month == 12, 0.15, 0.0)
    amount = np.exp(mu + rng.normal(0.0, 0.65, n))
    return np.maximum(np.round(amount * 100), 100).astype(np.int64)


def _transactions(r_tx, r_guest, r_ret, m, start, guest_share) -> pd.DataFrame:
    cal = _Calendar(start, END_DATE)
    nd = len(cal.days)
    n = len(m["enrol_min"])
    end_min = cal.day0_min + nd * 1440 - 1
    # -- member purchases -------------------------------------------------
    tenure_years = (end_min - m["enrol_min"]) / (1440 * 365.25)
    n_pot = r_tx.poisson(m["rate"] * tenure_years)
    mem = np.repeat(np.arange(n), n_pot)
    lo = m["enrol_day"][mem]
    d = cal.sample_days(r_tx, lo, np.full(len(mem), nd - 1))
    t = cal.day0_min + d * 1440 + _minute_of_day(r_tx, len(mem))
    # A purchase on the enrolment day cannot precede enrolment.
    early = t <= m["enrol_min"][mem]
    t = np.where(early, np.minimum(m["enrol_min"][mem] + r_tx.integers(1, 600, len(mem)), end_min), t)
    # The enrolment purchase (most in-store enrolments start with a purchase).
    first = np.flatnonzero(m["buys_at_enrol"])
    mem = np.concatenate([first, mem])
    t = np.concatenate([m["enrol_min"][first], t])
    o = np.lexsort((t, mem))
    mem, t = mem[o], t[o]
    # Dropout: after each purchase the member leaves with prob p_drop, so the
    # member makes K ~ Geometric(p_drop) purchases at most.
    k_max = r_tx.geometric(m["p_drop"])
    starts = np.r_[0, np.flatnonzero(np.diff(mem)) + 1]
    counts = np.diff(np.r_[starts, len(mem)])
    rank = np.arange(len(mem)) - np.repeat(starts, counts)
    keep = rank < k_max[mem]
    mem, t = mem[keep], t[keep]
    n_mp = len(mem)
    home = m["region"][mem]
    chan, store = _tx_channel_store(r_tx, n_mp, m["chan"][mem], home)
    cents = _baskets(r_tx, n_mp, m["spend"][mem], chan, t)
    # -- guest purchases: same seasonality, business grows over time ---------
    n_g = round(n_mp * guest_share / (1 - guest_share))
    gcal = _Calendar(start, END_DATE, growth=0.8)
    gd = gcal.sample_days(r_guest, np.zeros(n_g, np.int64), np.full(n_g, nd - 1))
    gt = gcal.day0_min + gd * 1440 + _minute_of_day(r_guest, n_g)
    gchan = np.where(r_guest.random(n_g) < 0.8, 0, 1)
    gstore_idx = r_guest.choice(len(STORES), size=n_g, p=REGION_WEIGHTS)
    gstore = np.where(gchan == 0, np.array(STORES, dtype=object)[gstore_idx], ONLINE_STORE)
    gcents = _baskets(r_guest, n_g, r_guest.normal(-0.1, 0.35, n_g), gchan, gt)
    mem = np.concatenate([mem, np.full(n_g, -1)])
    t = np.concatenate([t, gt])
    chan = np.concatenate([chan, gchan])
    store = np.concatenate([store, gstore])
    cents = np.concatenate([cents, gcents])
    # -- returns: ~3% of rows, a later negative amount of an earlier purchase --
    n_p = len(t)
    n_r = round(n_p * 0.03 / 0.97)
    src = r_ret.choice(n_p, size=n_r, replace=False)
    rt = t[src] + r_ret.integers(60, 30 * 1440, n_r)
    ok = rt <= end_min
    src, rt = src[ok], rt[ok]
    partial = r_ret.random(len(src)) < 0.3
    rc = np.where(
        partial, np.maximum(np.round(cents[src] * r_ret.uniform(0.2, 0.8, len(src))), 1), cents[src]
    )
    mem = np.concatenate([mem, mem[src]])
    t = np.concatenate([t, rt])
    chan = np.concatenate([chan, chan[src]])
    store = np.concatenate([store, store[src]])
    cents = np.concatenate([cents, -rc.astype(np.int64)])
    # The data end is a member transaction: drop guest rows after it so the
    # replay horizon does not depend on whether guests are counted.
    last_member = t[mem >= 0].max()
    keep = (mem >= 0) | (t <= last_member)
    mem, t, chan, store, cents = mem[keep], t[keep], chan[keep], store[keep], cents[keep]
    o = np.argsort(t, kind="stable")
    mem, t, chan, store, cents = mem[o], t[o], chan[o], store[o], cents[o]
    nt = len(t)
    width = max(7, len(str(nt)))
    tid = np.char.add("T", np.char.zfill(np.arange(1, nt + 1).astype(str), width))
    member_id = np.where(mem >= 0, m["ids"][np.maximum(mem, 0)], None)
    return pd.DataFrame(
        {
            "transaction_id": pd.array(tid.astype(object), dtype="str"),
            "member_id": pd.array(member_id, dtype="str"),
            "timestamp": pd.to_datetime(t * _MIN_NS).astype("datetime64[ns]"),
            "amount": cents / 100.0,
            "store": pd.array(store, dtype="str"),
            "channel": pd.array(np.array(CHANNELS, dtype=object)[chan], dtype="str"),
            "_min": t,
            "_m": mem,
            "_cents": cents,
        }
    )


def _tier_at_end(tx: pd.DataFrame, n: int, end_min: int, rules: RewardRules) -> np.ndarray:
    """Tier index per member of the qualifying spend over [end - window, end]."""
    win = (tx["_m"].to_numpy() >= 0) & (tx["_min"].to_numpy() >= end_min - rules.qualification_days * 1440)
    spend = np.bincount(tx["_m"].to_numpy()[win], weights=tx["_cents"].to_numpy()[win], minlength=n)
    spend = np.round(spend).astype(np.int64)  # exact: integer cents
    thresholds = np.array([round(t.threshold * 100) for t in rules.tiers])
    # Negative spend (returns exceed purchases) falls back to the base tier.
    return np.maximum(np.searchsorted(thresholds, spend, side="right") - 1, 0)


# --------------------------------------------------------------------------
# ledger: reference event loop
# --------------------------------------------------------------------------
def build_ledger(
    tx: pd.DataFrame,
    p_redeem: np.ndarray,
    rng: np.random.Generator,
    rules: RewardRules = SAMPLE_RULES,
) -> pd.DataFrame:
    """Points ledger of the member transactions under ``rules`` (inactivity expiry).

    A plain per-member loop implementing the module docstring's semantics 1-4;
    redemptions are decided here (balance >= block, member propensity).
    ``tx`` holds the generator's private columns ``_min`` (minutes since
    epoch), ``_m`` (member index, -1 = guest) and ``_cents`` (amount, cents).
    """
    if rules.expiry.mode != "inactivity":
        raise ValueError("The sample ledger is generated with inactivity expiry only.")
    block = int(rules.min_redemption) or 500
    window = rules.qualification_days * 1440
    thresholds = [round(t.threshold * 100) for t in rules.tiers]
    mults = [t.multiplier for t in rules.tiers]
    ids = tx["member_id"].to_numpy(dtype=object)
    ts_ns = tx["timestamp"]
    deadline_ts = (
        ts_ns + pd.DateOffset(months=rules.expiry.months) + pd.Timedelta(days=rules.expiry.grace_days)
    )
    deadline_all = deadline_ts.to_numpy().astype("datetime64[m]").astype(np.int64)
    end = int(tx["_min"].max())  # data end: last transaction (a member's)

    mem = tx["_m"].to_numpy()
    sel = np.flatnonzero(mem >= 0)
    sel = sel[np.lexsort((tx["_min"].to_numpy()[sel], mem[sel]))]  # by member, then time
    u_redeem = rng.random(len(sel))
    u_blocks = rng.random(len(sel))
    m_sorted = mem[sel]
    bounds = np.r_[0, np.flatnonzero(np.diff(m_sorted)) + 1, len(sel)]

    out_member: list[str] = []
    out_min: list[int] = []
    out_event: list[str] = []
    out_points: list[int] = []

    def emit(member: str, minute: int, event: str, points: int) -> None:
        out_member.append(member)
        out_min.append(minute)
        out_event.append(event)
        out_points.append(points)

    minutes_all = tx["_min"].to_numpy()
    cents_all = tx["_cents"].to_numpy()
    amount_all = tx["amount"].to_numpy()
    for b in range(len(bounds) - 1):
        rows = sel[bounds[b] : bounds[b + 1]]
        member = ids[rows[0]]
        propensity = p_redeem[m_sorted[bounds[b]]]
        ts = minutes_all[rows].tolist()
        cents = cents_all[rows].tolist()
        amounts = amount_all[rows].tolist()
        deadlines = deadline_all[rows].tolist()
        prefix = [0]
        for c in cents:
            prefix.append(prefix[-1] + c)
        balance = 0
        deadline = None  # deadline of the last activity
        i = 0
        while i < len(ts):
            t = ts[i]
            j = i
            while j < len(ts) and ts[j] == t:
                j += 1
            buys = [k for k in range(i, j) if amounts[k] > 0]
            if buys:  # activity at t
                if deadline is not None and deadline < t and balance > 0:
                    emit(member, deadline, "expire", -balance)
                    balance = 0
                # 1. qualifying spend over [t - window, t), exact in cents
                qs = prefix[bisect_left(ts, t)] - prefix[bisect_left(ts, t - window)]
                # negative spend (returns) still gets the base tier, never index -1
                mult = mults[max(bisect_right(thresholds, qs) - 1, 0)]
                # 2. earn, before any redemption at the same timestamp
                for k in buys:
                    pts = math.floor(round(amounts[k] * rules.earn_rate * mult, 6))
                    if pts > 0:
                        emit(member, t, "earn", pts)
                        balance += pts
                # 3. redemption in whole blocks, never above the balance
                k0 = buys[0]
                if balance >= block and u_redeem[bounds[b] + k0] < propensity:
                    n_blocks = 1 + int(u_blocks[bounds[b] + k0] * (balance // block))
                    emit(member, t, "redeem", -n_blocks * block)
                    balance -= n_blocks * block
                deadline = deadlines[k0]  # 4. activity resets the inactivity clock
            i = j
        if deadline is not None and deadline <= end and balance > 0:
            emit(member, deadline, "expire", -balance)

    ledger = pd.DataFrame(
        {
            "member_id": pd.array(np.array(out_member, dtype=object), dtype="str"),
            "timestamp": pd.to_datetime(np.array(out_min, dtype=np.int64) * _MIN_NS).astype("datetime64[ns]"),
            "event": pd.array(np.array(out_event, dtype=object), dtype="str"),
            "points": np.array(out_points, dtype=np.float64),
        }
    )
    return ledger.sort_values(["timestamp", "member_id"], kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------
# surveys and costs
# --------------------------------------------------------------------------
def _surveys(rng, tx, m, tier_idx, end_min) -> pd.DataFrame:
    n_members = len(m["ids"])
    n = max(1, round(0.6 * n_members))
    buys = np.flatnonzero(tx["_cents"].to_numpy() > 0)
    mem_all = tx["_m"].to_numpy()
    member_buys = buys[mem_all[buys] >= 0]
    guest_buys = buys[mem_all[buys] < 0]
    n_anon = min(round(0.05 * n), len(guest_buys))
    src = np.concatenate(
        [
            rng.choice(member_buys, size=min(n - n_anon, len(member_buys)), replace=False),
            rng.choice(guest_buys, size=n_anon, replace=False),
        ]
    )
    mem = mem_all[src]
    day = (tx["_min"].to_numpy()[src] // 1440) + rng.integers(1, 11, len(src))
    ok = day * 1440 <= end_min
    src, mem, day = src[ok], mem[ok], day[ok]
    # Activity: purchases per year of tenure, standardised (log scale).
    counts = np.bincount(mem_all[buys][mem_all[buys] >= 0], minlength=n_members)
    tenure = np.maximum((end_min - m["enrol_min"]) / (1440 * 365.25), 0.25)
    act = np.log1p(counts / tenure)
    z = (act - act.mean()) / (act.std() or 1.0)
    is_m = mem >= 0
    mi = np.maximum(mem, 0)
    mean = np.where(is_m, 7.0 + 1.3 * z[mi] + 0.4 * tier_idx[mi], 6.3)
    nps = np.clip(np.round(mean + rng.normal(0, 2.0, len(mem))), 0, 10).astype(np.int64)
    csat = np.clip(np.round(1 + 0.4 * nps + rng.normal(0, 0.7, len(mem))), 1, 5)
    csat[rng.random(len(mem)) < 0.15] = np.nan
    df = pd.DataFrame(
        {
            "member_id": pd.array(np.where(is_m, m["ids"][mi], None), dtype="str"),
            "date": pd.to_datetime(day * 86_400 * 10**9).astype("datetime64[ns]"),
            "nps_score": pd.array(nps, dtype="Int64"),
            "csat": csat,
        }
    )
    return df.sort_values(["date", "member_id"], kind="stable").reset_index(drop=True)


def _costs(rng, tx, members, ledger, start, rules) -> pd.DataFrame:
    months = pd.date_range(start, END_DATE, freq="MS")
    nm = len(months)
    scale = len(members) / 5000
    key = lambda s: s.dt.year.to_numpy() * 12 + s.dt.month.to_numpy()  # noqa: E731
    mkey = months.year.to_numpy() * 12 + months.month.to_numpy()
    new = pd.Series(key(members["enrolled_at"])).value_counts().reindex(mkey, fill_value=0).to_numpy()
    cum = np.cumsum(new)
    platform = 2500 * max(scale, 0.2) + 0.12 * cum
    season = np.array([1.2, 0.8, 0.9, 0.9, 1.0, 1.2, 1.0, 0.7, 1.0, 1.0, 1.4, 1.8])
    marketing = 2500 * scale * season[months.month.to_numpy() - 1] * np.linspace(1.0, 1.4, nm)
    marketing *= rng.uniform(0.9, 1.1, nm)
    acquisition = new * 15.0 * rng.uniform(0.85, 1.15, nm)
    if ledger is not None:
        red = ledger[ledger["event"] == "redeem"]
        pts = (-red["points"]).groupby(key(red["timestamp"])).sum().reindex(mkey, fill_value=0.0)
        rewards = pts.to_numpy() * rules.point_value * 1.15
    else:
        spend = tx.loc[(tx["_m"] >= 0) & (tx["_cents"] > 0), ["timestamp", "amount"]]
        rewards = spend["amount"].groupby(key(spend["timestamp"])).sum().reindex(mkey, fill_value=0.0)
        rewards = rewards.to_numpy() * 0.0055
    cats = ("platform", "marketing", "acquisition", "rewards")
    vals = np.round(np.stack([platform, marketing, acquisition, rewards], axis=1), 2)
    return pd.DataFrame(
        {
            "month": pd.DatetimeIndex(np.repeat(months, len(cats))).astype("datetime64[ns]"),
            "category": pd.array(list(cats) * nm, dtype="str"),
            "amount": vals.reshape(-1),
        }
    )


# --------------------------------------------------------------------------
# campaigns (randomised test / control groups; no effect was simulated)
# --------------------------------------------------------------------------
def _campaigns(rng: np.random.Generator, tx: pd.DataFrame, members: pd.DataFrame) -> pd.DataFrame:
    """The :data:`SAMPLE_CAMPAIGNS`: eligible members split at random into test and control.

    Eligibility is decided on data before each window: ``active`` = a purchase in the 12 months
    before the start; ``lapsed`` = last purchase 6 to 18 months before the start; ``app_web`` =
    enrolled through the app or the web. Everyone is enrolled before the start.
    """
    buys = tx[tx["member_id"].notna() & (tx["amount"] > 0)]
    parts = []
    for name, first, last, rule, control_share in SAMPLE_CAMPAIGNS:
        start, end = pd.Timestamp(first), pd.Timestamp(last)
        before = buys[buys["timestamp"] < start]
        last_buy = before.groupby("member_id")["timestamp"].max()
        enrolled = members.set_index("member_id")["enrolled_at"] < start
        if rule == "active":
            ok = last_buy.index[last_buy >= start - pd.DateOffset(months=12)]
        elif rule == "lapsed":
            ok = last_buy.index[(last_buy < start - pd.DateOffset(months=6))
                                & (last_buy >= start - pd.DateOffset(months=18))]
        else:
            ok = members.loc[members["channel"].isin(["app", "web"]), "member_id"]
        ids = np.sort(np.asarray(pd.Index(ok).intersection(enrolled.index[enrolled]), dtype=object))
        n_control = round(len(ids) * control_share)
        control = np.zeros(len(ids), dtype=bool)
        control[rng.permutation(len(ids))[:n_control]] = True
        parts.append(
            pd.DataFrame(
                {
                    "member_id": pd.array(ids, dtype="str"),
                    "campaign": pd.array([name] * len(ids), dtype="str"),
                    "group": pd.array(np.where(control, "control", "test").astype(object), dtype="str"),
                    "start": pd.Series([start] * len(ids), dtype="datetime64[ns]"),
                    "end": pd.Series([end] * len(ids), dtype="datetime64[ns]"),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


# --------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------
#: (date format, float format) per table, so the CSV bytes are stable.
_CSV_FORMATS = {
    "transactions": (TS_FORMAT, "%.2f"),
    "members": (TS_FORMAT, None),
    "ledger": (TS_FORMAT, "%.0f"),
    "surveys": (DATE_FORMAT, "%.0f"),
    "costs": (DATE_FORMAT, "%.2f"),
    "campaigns": (DATE_FORMAT, None),
}


def write_program(tables: dict[str, pd.DataFrame], out: Path, fmt: str = "csv") -> list[Path]:
    """Write each table to ``out/<kind>.csv`` (or ``.parquet``); returns the paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for kind, df in tables.items():
        if fmt == "parquet":
            path = out / f"{kind}.parquet"
            df.to_parquet(path, index=False, coerce_timestamps="us", allow_truncated_timestamps=True)  # Spark reads us
        else:
            path = out / f"{kind}.csv"
            date_format, float_format = _CSV_FORMATS[kind]
            df.to_csv(
                path, index=False, date_format=date_format, float_format=float_format, lineterminator="\n"
            )
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="Regenerate the seeded sample loyalty program.")
    p.add_argument("--members", type=int, default=5000, help="members enrolled (default 5000)")
    p.add_argument("--years", type=int, default=3)
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent, help="output folder")
    p.add_argument("--format", choices=("csv", "parquet"), default="csv")
    p.add_argument("--no-ledger", action="store_true", help="skip the (slower) points ledger")
    a = p.parse_args(argv)
    tables = generate_program(a.members, a.years, a.seed, with_ledger=not a.no_ledger)
    for path in write_program(tables, a.out, a.format):
        kind = path.stem
        print(f"{path}: {len(tables[kind]):,} rows, {path.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
