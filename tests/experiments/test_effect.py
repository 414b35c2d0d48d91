"""The KPI page's ROI takes the best available estimate: randomised > event study > redeemer uplift."""

from __future__ import annotations

import pandas as pd
import pytest

from loyalty import load_sample
from loyalty.experiments import analyse_campaigns, event_study, program_effect, randomised_effect
from loyalty.kpis import compute_kpis, kpi_notes
from loyalty.kpis.compute import ROI_BASIS
from loyalty.schema import Dataset
from sample_data.experiments import planted_enrolment_program


@pytest.fixture(scope="module")
def sample():
    return load_sample()


def test_randomised_campaigns_in_the_period_set_the_incremental_revenue(sample):
    k = compute_kpis(sample, "2025-11-01", "2026-10-31", margin=0.4)
    lift = analyse_campaigns(sample).lift
    assert k["roi_basis"] == ROI_BASIS["randomised"] and k["roi_campaigns"] == 3
    assert k["incremental_revenue"] == pytest.approx(lift["incremental_revenue_total"].sum())
    assert k["incremental_revenue_low"] < k["incremental_revenue"] < k["incremental_revenue_high"]
    assert k["program_roi"] == pytest.approx((k["incremental_revenue"] * 0.4 - k["program_cost"]) / k["program_cost"])
    note = kpi_notes(sample, "2026-10-31", k)["roi"]
    assert "measured by 3 randomised campaign tests" in note and "not the program's always-on effect" in note


def test_windows_are_prorated_to_the_days_inside_the_period(sample):
    analysis = analyse_campaigns(sample)
    spring = analysis.row("Spring double points 2026")  # 2026-04-01 .. 2026-04-30
    half = randomised_effect(analysis, pd.Timestamp("2026-04-16"), pd.Timestamp("2026-05-31"))
    assert half.campaigns == 1
    assert half.incremental_revenue == pytest.approx(spring["incremental_revenue_total"] * 15 / 30)
    assert randomised_effect(analysis, pd.Timestamp("2025-01-01"), pd.Timestamp("2025-12-31")) is None
    # a segment filter counts only its test members
    tests = sample.campaigns[(sample.campaigns["campaign"] == spring["campaign"]) & (sample.campaigns["group"] == "test")]
    some = set(tests["member_id"].iloc[:100])
    part = randomised_effect(analysis, pd.Timestamp("2026-04-01"), pd.Timestamp("2026-04-30"), sample.campaigns, some)
    assert part.incremental_revenue == pytest.approx(spring["incremental_spend_per_member"] * 100)


def test_without_campaigns_in_the_period_the_redeemer_uplift_remains_an_upper_bound(sample):
    k = compute_kpis(sample, "2024-11-01", "2025-10-31", margin=0.4)
    assert k["roi_basis"] == ROI_BASIS["redeemer_uplift"]
    assert k["incremental_revenue"] == pytest.approx(
        (k["redeemer_spend_per_member"] - k["non_redeemer_spend_per_member"]) * k["redeemers"])
    note = kpi_notes(sample, "2025-10-31", k)["roi"]
    assert "selection bias" in note and "upper bound" in note


def test_event_study_is_used_when_there_is_no_randomised_test():
    p = planted_enrolment_program(2)
    ds = Dataset(**p.tables)
    study = event_study(ds)
    k = compute_kpis(ds, "2025-01-01", "2025-12-31", margin=0.5)
    assert k["roi_basis"] == ROI_BASIS["event_study"]
    enrolled = ds.members["enrolled_at"]
    s, e = pd.Timestamp("2025-01-01"), pd.Timestamp("2026-01-01")
    months = ((e - enrolled.clip(lower=s)).clip(lower=pd.Timedelta(0)).dt.total_seconds() / 86400).sum() / (365.25 / 12)
    assert k["roi_member_months"] == pytest.approx(months)
    assert k["incremental_revenue"] == pytest.approx(study.att * months)
    note = kpi_notes(ds, "2025-12-31", k)["roi"]
    assert "observational event study" in note and "parallel trends" in note
    direct = program_effect(None, study, s, e - pd.Timedelta(days=1),
                            enrolled_ns=enrolled.to_numpy(dtype="datetime64[ns]").view("i8"))
    assert direct.incremental_revenue == pytest.approx(k["incremental_revenue"])
