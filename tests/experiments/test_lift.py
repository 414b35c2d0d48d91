"""Campaign lift: per-member window spend, CUPED + Welch, the coverage study, bad input, the sample."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from loyalty import campaign_lift, load_sample
from loyalty.experiments import (
    LIFT_COLUMNS,
    analyse_campaigns,
    campaign_curves,
    campaign_members,
    check_campaigns,
    cuped_welch,
    cuped_welch_arrays,
    standardised_difference,
)
from loyalty.schema import Dataset
from sample_data.experiments import planted_campaign_program

D = pd.Timestamp


def _tx(rows: list[tuple[str | None, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "transaction_id": pd.array([f"T{i}" for i in range(len(rows))], dtype="str"),
            "member_id": pd.array([r[0] for r in rows], dtype="str"),
            "timestamp": pd.to_datetime([r[1] for r in rows], format="ISO8601").astype("datetime64[ns]"),
            "amount": [float(r[2]) for r in rows],
        }
    )


def _campaigns(rows: list[tuple[str, str, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "member_id": pd.array([r[0] for r in rows], dtype="str"),
            "campaign": pd.array([r[1] for r in rows], dtype="str"),
            "group": pd.array([r[2] for r in rows], dtype="str"),
            "start": pd.to_datetime([r[3] for r in rows]).astype("datetime64[ns]"),
            "end": pd.to_datetime([r[4] for r in rows]).astype("datetime64[ns]"),
        }
    )


def _members(ids: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"member_id": pd.array(ids, dtype="str"),
                         "enrolled_at": pd.Series([D("2024-01-01")] * len(ids), dtype="datetime64[ns]")})


# --------------------------------------------------------------------- per-member window spend ---
def _random_program(seed: int) -> Dataset:
    """Small program with per-member windows (some shifted), returns, guests, unsorted rows."""
    rng = np.random.default_rng(seed)
    n, n_tx = 60, 3000
    ids = np.array([f"M{i:03d}" for i in range(n)], dtype=object)
    t0 = D("2024-01-01").value
    minutes = rng.integers(0, 2 * 365 * 1440, n_tx)
    member = np.where(rng.random(n_tx) < 0.1, None, ids[rng.integers(0, n, n_tx)])
    amount = np.round(rng.lognormal(3.3, 0.7, n_tx), 2) * np.where(rng.random(n_tx) < 0.05, -0.5, 1.0)
    tx = pd.DataFrame(
        {
            "transaction_id": pd.array([f"T{i}" for i in range(n_tx)], dtype="str"),
            "member_id": pd.array(member, dtype="str"),
            "timestamp": pd.to_datetime(t0 + minutes * 60 * 10**9).astype("datetime64[ns]"),
            "amount": amount,
        }
    )
    starts = D("2025-03-01") + pd.to_timedelta(rng.integers(0, 60, n), unit="D")
    lengths = pd.to_timedelta(rng.integers(1, 40, n), unit="D")
    camp = pd.DataFrame(
        {
            "member_id": pd.array(ids, dtype="str"),
            "campaign": pd.array(np.where(np.arange(n) % 3 == 0, "B", "A").astype(object), dtype="str"),
            "group": pd.array(np.where(rng.random(n) < 0.5, "test", "control").astype(object), dtype="str"),
            "start": pd.Series(starts, dtype="datetime64[ns]"),
            "end": pd.Series(starts + lengths - pd.Timedelta(days=1), dtype="datetime64[ns]"),
        }
    )
    return Dataset(tx, members=_members(list(ids)), campaigns=camp)


def _loop_spend(tx: pd.DataFrame, member: str, start: pd.Timestamp, end_incl: pd.Timestamp) -> tuple[float, int]:
    """Plain loop: spend and purchases of one member from ``start`` to the end of ``end_incl``."""
    spend, purchases = 0.0, 0
    stop = end_incl + pd.Timedelta(days=1)
    for m, t, a in zip(tx["member_id"], tx["timestamp"], tx["amount"], strict=True):
        if m == member and start <= t < stop:
            spend += a
            purchases += a > 0
    return spend, purchases


@pytest.mark.parametrize("seed", [0, 1])
def test_window_spend_matches_a_plain_loop(seed):
    ds = _random_program(seed)
    ds = ds.replace(transactions=ds.transactions.sample(frac=1.0, random_state=seed))  # unsorted rows
    got = campaign_members(ds)
    assert len(got) == len(ds.campaigns)
    tx = ds.transactions
    for r in got.itertuples():  # the reference: a deliberately plain loop
        spend, buys = _loop_spend(tx, r.member_id, r.start, r.end)
        pre_start = r.start - pd.DateOffset(months=12)
        pre, pre_buys = _loop_spend(tx, r.member_id, pre_start, r.start - pd.Timedelta(days=1))
        assert r.spend == pytest.approx(spend, abs=1e-6) and r.purchases == buys
        assert r.pre_spend == pytest.approx(pre, abs=1e-6) and r.pre_purchases == pre_buys


def test_window_edges_are_whole_inclusive_days():
    tx = _tx([("A", "2026-03-01 00:00", 10), ("A", "2026-03-31 23:59", 20), ("A", "2026-04-01 00:00", 40),
              ("A", "2026-02-28 23:59", 80), ("B", "2026-03-15", 5), ("C", "2025-03-01", 1), ("C", "2026-05-01", 1)])
    camp = _campaigns([("A", "X", "test", "2026-03-01", "2026-03-31"), ("B", "X", "control", "2026-03-01", "2026-03-31"),
                       ("C", "X", "control", "2026-03-01", "2026-03-31"), ("D", "X", "test", "2026-03-01", "2026-03-31")])
    got = campaign_members(Dataset(tx, campaigns=camp)).set_index("member_id")
    assert got.loc["A", "spend"] == 30 and got.loc["A", "pre_spend"] == 80
    assert got.loc["C", "spend"] == 0 and got.loc["C", "pre_spend"] == 1  # 2025-03-01 is 12 months before


# ------------------------------------------------------------------------------- the statistics ---
def test_plain_difference_is_welchs_t_test():
    rng = np.random.default_rng(3)
    y = np.r_[rng.gamma(1.2, 30, 400) + 3, rng.gamma(1.2, 30, 300)]
    t = np.r_[np.ones(400, bool), np.zeros(300, bool)]
    est = cuped_welch(y, None, t)
    ref = stats.ttest_ind(y[t], y[~t], equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert est.p_value == pytest.approx(ref.pvalue)
    assert (est.ci_low, est.ci_high) == (pytest.approx(ci.low), pytest.approx(ci.high))
    assert est.difference == pytest.approx(y[t].mean() - y[~t].mean())


def test_cuped_is_the_difference_of_adjusted_outcomes_and_narrows_the_interval():
    rng = np.random.default_rng(4)
    x = rng.gamma(1.0, 100, 2000)
    y = 0.1 * x + rng.normal(0, 8, 2000)
    t = rng.random(2000) < 0.5
    y = y + 2.0 * t
    est = cuped_welch(y, x, t)
    theta = np.cov(x, y, ddof=1)[0, 1] / x.var(ddof=1)
    adj = y - theta * (x - x.mean())
    assert est.theta == pytest.approx(theta)
    assert est.difference == pytest.approx(adj[t].mean() - adj[~t].mean())
    assert est.ci_high - est.ci_low < 0.7 * (est.plain_ci_high - est.plain_ci_low)  # ~sqrt(1 - corr^2)
    assert 0.5 < est.variance_reduction < 1
    # the array form over a leading axis gives the same numbers
    arr = cuped_welch_arrays(np.stack([y, y]), np.stack([x, x]), t)
    assert arr["difference"][1] == pytest.approx(est.difference) and arr["ci_low"][0] == pytest.approx(est.ci_low)


def test_standardised_difference():
    t = np.r_[np.ones(3, bool), np.zeros(3, bool)]
    assert standardised_difference(np.array([1.0, 2, 3, 1, 2, 3]), t) == 0
    assert standardised_difference(np.array([2.0, 3, 4, 1, 2, 3]), t) == pytest.approx(1.0)


# ------------------------------------------------------------------------- the coverage study ---
SEEDS = range(100)


@pytest.fixture(scope="module")
def study() -> pd.DataFrame:
    """100 seeded programs, each with a planted-effect campaign and an A/A campaign (~10 s)."""
    rows = []
    for seed in SEEDS:
        p = planted_campaign_program(seed)
        lift = campaign_lift(Dataset(**p.tables)).set_index("campaign")
        for name in ("planted", "aa"):
            r = lift.loc[name]
            rows.append({"seed": seed, "campaign": name, "truth": p.effects[name], "estimate": r.incremental_spend_per_member,
                         "low": r.ci_low, "high": r.ci_high, "plain_low": r.plain_ci_low, "plain_high": r.plain_ci_high})
    df = pd.DataFrame(rows)
    df["covered"] = (df["low"] <= df["truth"]) & (df["truth"] <= df["high"])
    df["width_ratio"] = (df["high"] - df["low"]) / (df["plain_high"] - df["plain_low"])
    return df


def test_planted_effect_is_covered_in_at_least_95_of_100_seeds(study):
    planted = study[study["campaign"] == "planted"]
    assert planted["truth"].between(2, 8).all()  # a real effect: ~5 per test member, ~10% of spend
    assert planted["covered"].sum() >= 95, planted["covered"].sum()
    assert abs(planted["estimate"].mean() - planted["truth"].mean()) < 0.5  # unbiased


def test_aa_test_covers_zero_in_at_least_95_of_100_seeds(study):
    aa = study[study["campaign"] == "aa"]
    assert (aa["truth"] == 0).all()
    assert aa["covered"].sum() >= 95, aa["covered"].sum()


def test_cuped_narrows_the_interval_against_the_plain_difference(study):
    assert (study["width_ratio"] < 1).mean() > 0.95
    assert study["width_ratio"].mean() < 0.85


# ------------------------------------------------------------------------------- bad input ---
def _bad_dataset() -> Dataset:
    days = pd.date_range("2025-01-01", "2026-06-30", freq="7D")
    ids = [f"M{i}" for i in range(12)]
    tx = _tx([(m, str(d), 10 + i) for i, m in enumerate(ids) for d in days])
    rows = [(m, "Good", "test" if i % 2 else "control", "2026-03-01", "2026-03-31") for i, m in enumerate(ids[:8])]
    rows += [("M0", "Good", "test", "2026-03-01", "2026-03-31")]  # M0 is also control: in both groups
    rows += [("M1", "Good", "test", "2026-03-01", "2026-03-31")]  # exact duplicate of M1's row
    rows += [("M2", "Good", "control", "2026-03-10", "2026-04-10")]  # M2: a second, overlapping window
    rows += [("ZZ9", "Good", "test", "2026-03-01", "2026-03-31")]  # unknown member
    rows += [(m, "No control", "test", "2026-03-01", "2026-03-31") for m in ids[:5]]
    rows += [(m, "Future", "test" if i % 2 else "control", "2026-06-15", "2026-07-15") for i, m in enumerate(ids)]
    rows += [(m, "Overlapping", "test" if i % 2 else "control", "2026-03-20", "2026-04-19")
             for i, m in enumerate(ids[6:])]
    rows += [("M11", "Typo", "tset", "2026-03-01", "2026-03-31")]
    return Dataset(tx, members=_members(ids), campaigns=_campaigns(rows))


def test_bad_input_gives_messages_with_counts_and_leaves_out_not_guesses():
    ds = _bad_dataset()
    a = analyse_campaigns(ds)
    text = "\n".join(a.problems)
    assert "1 campaign rows with a group other than test or control (e.g. 'tset')" in text
    assert "1 duplicate campaign rows were counted once" in text
    assert "Good: 1 members are in both the test and the control group; left out" in text
    assert "Good: 1 members have several windows (1 with overlapping windows); left out" in text
    assert "Good: 1 member ids are not in the members table (e.g. 'ZZ9'); left out" in text
    assert "Future: 12 members' windows (2026-06-15 – 2026-07-15) are not inside the data" in text
    assert "No control: left out: no control group (5 test members, 0 control)" in text
    assert "members were also in another campaign at the same time ('Overlapping')" in text
    left = dict(zip(a.left_out["campaign"], a.left_out["reason"], strict=True))
    assert set(left) == {"No control", "Future", "Typo"}
    assert left["Typo"].startswith("no member left to measure")
    assert set(a.lift["campaign"]) == {"Good", "Overlapping"}
    good = a.row("Good")
    assert (good["n_test"], good["n_control"]) == (4, 2)  # M0 (both groups), M2 (two windows), ZZ9 left out
    assert "small groups" in good["warnings"] and "also in another campaign" in good["warnings"]
    assert list(a.lift.columns) == list(LIFT_COLUMNS)


def test_imbalanced_groups_are_flagged():
    days = pd.date_range("2025-01-01", "2026-04-30", freq="5D")
    rows = [(f"T{i}", str(d), 50.0) for i in range(150) for d in days[::3]]
    rows += [(f"C{i}", str(d), 5.0) for i in range(150) for d in days[::3]]
    camp = _campaigns([(f"T{i}", "Skewed", "test", "2026-03-01", "2026-03-31") for i in range(150)]
                      + [(f"C{i}", "Skewed", "control", "2026-03-01", "2026-03-31") for i in range(150)])
    r = analyse_campaigns(Dataset(_tx(rows), campaigns=camp)).row("Skewed")
    assert not r["balanced"] and r["pre_spend_std_diff"] > 0.1
    assert "groups imbalanced before the campaign" in r["warnings"]


def test_no_campaigns_table_gives_an_empty_lift_with_the_columns():
    ds = Dataset(_tx([("A", "2026-01-01", 1.0)]))
    lift = campaign_lift(ds)
    assert lift.empty and list(lift.columns) == list(LIFT_COLUMNS)
    assert "no campaigns table" in " ".join(analyse_campaigns(ds).problems)
    assert check_campaigns(ds).assignments.empty


# -------------------------------------------------------------------------- curves and sample ---
def test_curves_end_at_the_lift_and_are_cumulative():
    p = planted_campaign_program(7)
    ds = Dataset(**p.tables)
    curves = campaign_curves(ds, "planted")
    last = curves[curves["day"] == curves["day"].max()].set_index("series")
    r = analyse_campaigns(ds).row("planted")
    assert last.loc["difference", "value"] == pytest.approx(r["incremental_spend_per_member"])
    assert last.loc["difference", "ci_low"] == pytest.approx(r["ci_low"])
    assert last.loc["test", "value"] == pytest.approx(r["test_spend_per_member"])
    test = curves[curves["series"] == "test"].sort_values("day")
    assert (np.diff(test["value"]) >= -1e-9).all() and test["day"].max() == 28
    assert (test["ci_low"] <= test["value"]).all() and test["date"].notna().all()
    assert campaign_curves(ds, "nope").empty


def test_sample_program_ships_measurable_campaigns():
    ds = load_sample()
    assert ds.campaigns is not None
    lift = campaign_lift(ds).set_index("campaign")
    assert list(lift.index) == ["Spring double points 2026", "Summer win-back 2026", "Autumn app push 2026"]
    spring = lift.loc["Spring double points 2026"]
    assert spring["n_test"] == spring["n_control"] > 1000 and spring["days"] == 30
    assert (lift["n_control"] / (lift["n_test"] + lift["n_control"])).round(2).tolist() == [0.5, 0.2, 0.1]
    # Nothing was simulated: every interval is wide enough to hold the true effect, 0.
    assert ((lift["ci_low"] < 0) & (lift["ci_high"] > 0)).all()
    assert (lift["incremental_revenue_total"] == lift["incremental_spend_per_member"] * lift["n_test"]).all()
    assert lift["method"].str.contains("CUPED").all() and lift["p_value"].between(0, 1).all()
    assert not math.isnan(lift["variance_reduction"].iloc[0])
