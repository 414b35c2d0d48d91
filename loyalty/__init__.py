"""Loyalty Lab's domain package: pure pandas/numpy/scikit-learn/scipy, never imports streamlit.

The public API, by job (each subpackage's ``__init__`` says what lives there):

* ``ingest`` -- exports (bytes) to canonical tables, with a report of every row not used;
* ``kpis`` -- every program KPI for a period, monthly series, points flows;
* ``members`` -- member features, K-means segmentation, RFM;
* ``clv`` -- classic CLV, BG/NBD + Gamma-Gamma, customer value, holdout check;
* ``simulator`` -- reward rules, the exact replay of history under them, scenarios;
* ``economics`` -- earn cohorts, breakage (chain-ladder URR), the liability, IFRS 15, expiring points;
* ``experiments`` -- campaign lift with test/control groups (CUPED, Welch), test planning, event study;
* ``report`` -- the strategy report (HTML and Excel);
* ``spark`` -- the same analyses on Apache Spark.

Shared leaves: ``schema`` (the canonical tables and :class:`Dataset`), ``metrics`` (the
metric registry: every metric's label, unit, direction and definition), ``periods``,
``export`` (Excel-safe exports), ``inputs`` (program inputs such as the point value).
"""

from loyalty.clv import (
    CLVModels,
    ModelError,
    calibration_holdout,
    clv_simple,
    customer_value,
    fit_bgnbd,
    fit_gamma_gamma,
    fit_models,
    rfm_summary,
)
from loyalty.economics import (
    BreakageEstimate,
    backtest_breakage,
    estimate_breakage,
    expiring_by_month,
    expiring_members,
    expiring_summary,
    ifrs15_schedule,
    points_liability,
    program_ifrs15,
)
from loyalty.experiments import (
    campaign_lift,
    event_study,
    minimum_detectable_effect,
    plan_test,
    required_group_size,
    spend_variance,
)
from loyalty.export import to_csv_bytes, to_excel_bytes
from loyalty.ingest import ImportProblem, LoadResult, build_dataset, load_table
from loyalty.inputs import ProgramInputs
from loyalty.kpis import compute_kpi_table, compute_kpis, kpi_table, monthly_series
from loyalty.members import choose_k, member_features, rfm_scores, segment
from loyalty.metrics import FEATURES, METRICS, Metric
from loyalty.report import build_report
from loyalty.sample import load_sample
from loyalty.schema import Dataset
from loyalty.simulator import (
    SAMPLE_RULES,
    BehaviourAssumptions,
    ExpiryPolicy,
    RewardRules,
    RulesError,
    Tier,
    compare,
    infer_baseline_rules,
    prepare,
    presets,
    replay,
    sensitivity,
)

__all__ = [
    "FEATURES",
    "METRICS",
    "SAMPLE_RULES",
    "BehaviourAssumptions",
    "BreakageEstimate",
    "CLVModels",
    "Dataset",
    "ExpiryPolicy",
    "ImportProblem",
    "LoadResult",
    "Metric",
    "ModelError",
    "ProgramInputs",
    "RewardRules",
    "RulesError",
    "Tier",
    "backtest_breakage",
    "build_dataset",
    "build_report",
    "calibration_holdout",
    "campaign_lift",
    "choose_k",
    "clv_simple",
    "compare",
    "compute_kpi_table",
    "compute_kpis",
    "customer_value",
    "estimate_breakage",
    "event_study",
    "expiring_by_month",
    "expiring_members",
    "expiring_summary",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "fit_models",
    "ifrs15_schedule",
    "infer_baseline_rules",
    "kpi_table",
    "load_sample",
    "load_table",
    "member_features",
    "minimum_detectable_effect",
    "monthly_series",
    "plan_test",
    "points_liability",
    "prepare",
    "presets",
    "program_ifrs15",
    "replay",
    "required_group_size",
    "rfm_scores",
    "rfm_summary",
    "segment",
    "sensitivity",
    "spend_variance",
    "to_csv_bytes",
    "to_excel_bytes",
]
