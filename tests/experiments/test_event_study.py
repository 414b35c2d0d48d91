"""The observational event study by enrolment month: planted effects, nulls, identification."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loyalty import event_study, load_sample
from loyalty.experiments import event_study_from_arrays
from loyalty.schema import Dataset
from sample_data.experiments import planted_enrolment_program

SEEDS = range(20)


@pytest.fixture(scope="module")
def runs() -> pd.DataFrame:
    rows = []
    for seed in SEEDS:
        for share in (0.2, 0.0):
            p = planted_enrolment_program(seed, effect_share=share)
            es = event_study(Dataset(**p.tables))
            pre = es.coefficients[es.coefficients["event_month"] < -1]
            rows.append({"seed": seed, "share": share, "truth": p.effects["program"], "att": es.att,
                         "low": es.att_ci_low, "high": es.att_ci_high, "pre_p": es.pre_trend_p,
                         "pre_z": float((pre["estimate"] / pre["standard_error"]).abs().max()),
                         "identified": es.identified})
    df = pd.DataFrame(rows)
    df["covered"] = (df["low"] <= df["truth"]) & (df["truth"] <= df["high"])
    return df


def test_planted_program_effect_is_recovered(runs):
    planted = runs[runs["share"] > 0]
    assert planted["identified"].all()
    assert planted["truth"].between(8, 12).all()  # ~20% more spend per member-month
    assert planted["covered"].sum() >= 17, planted  # 95% intervals: expect ~19 of 20
    assert abs(planted["att"].mean() - planted["truth"].mean()) < 0.5


def test_no_effect_and_flat_pre_periods_when_nothing_was_planted(runs):
    null = runs[runs["share"] == 0]
    assert (null["truth"] == 0).all()
    assert null["covered"].sum() >= 17
    assert (null["pre_p"] > 0.01).sum() >= 18


def test_coefficients_table_and_reference_month():
    p = planted_enrolment_program(3)
    ds = Dataset(**p.tables)
    es = event_study(ds)
    c = es.coefficients.set_index("event_month")
    assert list(c.index) == list(range(-6, 12))
    assert c.loc[-1, "estimate"] == 0 and c.loc[-1, "standard_error"] == 0
    assert (c.loc[0:, "estimate"] > 0).all() and (c["ci_low"] <= c["estimate"]).all()
    assert 0.1 < es.att_relative < 0.3 and es.cohorts > 20 and es.members > 3000
    assert "Parallel trends" in es.assumptions[0] and "observational" in es.method
    # the array entry point (what the KPI engine holds) gives the same estimate
    tx, m = p.tables["transactions"], p.tables["members"]
    ids = pd.Index(m["member_id"])
    again = event_study_from_arrays(
        ids.get_indexer(tx["member_id"]), tx["timestamp"].to_numpy(dtype="datetime64[ns]").view("i8"),
        tx["amount"].to_numpy(), m["enrolled_at"].to_numpy(dtype="datetime64[ns]").view("i8"),
    )
    assert again.att == pytest.approx(es.att)


def test_not_identified_without_purchases_before_enrolment():
    es = event_study(load_sample())
    assert not es.identified and es.coefficients.empty and np.isnan(es.att)
    assert "Purchases before enrolment are not in the data" in es.reason
    p = planted_enrolment_program(1)
    assert "members table" in event_study(Dataset(p.tables["transactions"])).reason
    small = planted_enrolment_program(1, n_members=100)
    assert not event_study(Dataset(**small.tables)).identified
