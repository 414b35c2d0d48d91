"""Bounded, cached wrappers around :mod:`loyalty`: one wrapper style for the whole app.

Every wrapper is a typed function of the dataset decorated with :func:`dataset_cached`. The
dataset itself is never hashed (hashing 1M rows on every rerun is what caching is meant to
avoid): its content ``fingerprint`` and its ``name`` are the key, so sessions with different
data (or the same bytes under another name) never share an entry, and identical data is
computed once. Other arguments are hashed by value, frozen rules included (Streamlit hashes a
dataclass by its fields). A ``members_filter`` (a set of up to 100k+ ids) is keyed by
:func:`member_filter_key` instead of being hashed. Entries are bounded by ``max_entries`` and
``ttl`` to keep server memory flat. Callers must not mutate what a wrapper returns.

Uploads are cached on the hash of their bytes (:func:`import_upload`): in memory only (no
``persist``), so nothing uploaded reaches the disk.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

import numpy as np
import pandas as pd
import streamlit as st

from loyalty import clv as _clv
from loyalty import economics as _econ
from loyalty import experiments as _exp
from loyalty import ingest as _ingest
from loyalty import kpis as _kpis
from loyalty import members as _members
from loyalty import simulator as _sim
from loyalty.clv import CLVModels
from loyalty.ingest import coverage as _coverage
from loyalty.inputs import ProgramInputs
from loyalty.members import Segmentation
from loyalty.schema import Dataset
from loyalty.simulator import BehaviourAssumptions, PreparedHistory, RewardRules, SimulationResult

TTL = 3600  # seconds
P = ParamSpec("P")
R = TypeVar("R")


def member_filter_key(ids: set[str] | frozenset[str] | None) -> str:
    """Cheap, order-independent cache key of a member-id filter ("all" when None)."""
    if ids is None:
        return "all"
    # Sum of per-id hashes: independent of set order, ~ms for 100k ids.
    h = pd.util.hash_array(np.asarray(list(ids), dtype=object))
    return f"{len(ids)}:{int(h.sum(dtype=np.uint64))}"


def dataset_cached(
    max_entries: int, *, resource: bool = False
) -> Callable[[Callable[Concatenate[Dataset, P], R]], Callable[Concatenate[Dataset, P], R]]:
    """Cache ``fn(ds, *args, **kwargs)`` on (dataset fingerprint and name, arguments).

    ``resource=True`` shares the result without copying it on every rerun (large read-only
    arrays); otherwise Streamlit returns a copy. A ``members_filter`` keyword is keyed by
    :func:`member_filter_key`; keywords starting with ``_`` are passed through unhashed (the
    caller puts what they depend on in the other arguments).
    """

    def decorate(fn: Callable[Concatenate[Dataset, P], R]) -> Callable[Concatenate[Dataset, P], R]:
        def keyed(fingerprint: str, name: str, args: tuple, kwargs: tuple, filter_key: str, _ds: Dataset,
                  _unhashed: dict):
            return fn(_ds, *args, **dict(kwargs), **_unhashed)

        # Streamlit keys a cache by the function's module, qualified name and source: give each its own.
        keyed.__module__, keyed.__qualname__ = fn.__module__, f"{fn.__qualname__}.cached"
        store = st.cache_resource if resource else st.cache_data
        cached_fn = store(max_entries=max_entries, ttl=TTL, show_spinner=False)(keyed)

        @functools.wraps(fn)
        def wrapper(ds: Dataset, *args: P.args, **kwargs: P.kwargs) -> R:
            unhashed = {k: kwargs.pop(k) for k in [k for k in kwargs if k.startswith("_")]}
            filter_key = "-"
            if "members_filter" in kwargs:
                unhashed["members_filter"] = kwargs.pop("members_filter")
                filter_key = member_filter_key(unhashed["members_filter"])
            return cached_fn(ds.fingerprint, ds.name, args, tuple(sorted(kwargs.items())), filter_key, ds, unhashed)

        return wrapper

    return decorate


# --- overview and KPIs ----------------------------------------------------------------------------------
@dataset_cached(4)
def describe_dataset(ds: Dataset) -> pd.DataFrame:
    """:func:`loyalty.ingest.coverage.describe_dataset`."""
    return _coverage.describe_dataset(ds)


@dataset_cached(4)
def guest_share(ds: Dataset) -> float:
    """:func:`loyalty.ingest.coverage.guest_share`."""
    return _coverage.guest_share(ds)


@dataset_cached(4)
def filter_options(ds: Dataset) -> dict[str, list[str]]:
    """:func:`loyalty.kpis.filter_options`."""
    return _kpis.filter_options(ds)


@dataset_cached(4)
def cohort_basis(ds: Dataset) -> str:
    """:func:`loyalty.kpis.cohort_basis`."""
    return _kpis.cohort_basis(ds)


@dataset_cached(64)
def compute_kpis(ds: Dataset, start: str, end: str, *, members_filter: set[str] | None = None,
                 point_value: float, margin: float | None, monthly_platform_cost: float) -> dict[str, float]:
    """:func:`loyalty.kpis.compute_kpis` of ``[start, end]`` (inclusive ISO days)."""
    return _kpis.compute_kpis(ds, start, end, point_value, margin, monthly_platform_cost=monthly_platform_cost,
                              members_filter=members_filter)


@dataset_cached(16)
def monthly_series(ds: Dataset, start: str, end: str, *, members_filter: set[str] | None = None) -> pd.DataFrame:
    """:func:`loyalty.kpis.monthly_series`."""
    return _kpis.monthly_series(ds, start, end, members_filter=members_filter)


@dataset_cached(16)
def cohort_retention(ds: Dataset, *, members_filter: set[str] | None = None) -> pd.DataFrame:
    """:func:`loyalty.kpis.cohort_retention`."""
    return _kpis.cohort_retention(ds, members_filter=members_filter)


@dataset_cached(16)
def tier_distribution(ds: Dataset, *, members_filter: set[str] | None = None) -> pd.DataFrame:
    """:func:`loyalty.kpis.tier_distribution`."""
    return _kpis.tier_distribution(ds, members_filter=members_filter)


@dataset_cached(16)
def points_balance_distribution(ds: Dataset, end: str, *, members_filter: set[str] | None = None) -> pd.DataFrame:
    """:func:`loyalty.kpis.points_balance_distribution` at the end of ``end``."""
    return _kpis.points_balance_distribution(ds, end, members_filter=members_filter)


# --- segments and customer value -------------------------------------------------------------------------
@dataset_cached(4)
def member_features(ds: Dataset) -> pd.DataFrame:
    """:func:`loyalty.members.member_features` at the last transaction date."""
    return _members.member_features(ds)


@dataset_cached(8)
def k_choice(ds: Dataset, columns: tuple[str, ...]) -> _members.KChoice:
    """The k sweep (2-10) on ``columns`` of the member features."""
    return _members.choose_k(member_features(ds), range(2, 11), list(columns))


@dataset_cached(8)
def segmentation(ds: Dataset, k: int, columns: tuple[str, ...]) -> Segmentation:
    """:func:`loyalty.members.segment` (random_state 0: reproducible)."""
    return _members.segment(member_features(ds), k, list(columns))


@dataset_cached(4)
def rfm_scores(ds: Dataset) -> pd.DataFrame:
    """:func:`loyalty.members.rfm_scores` of the member features."""
    return _members.rfm_scores(member_features(ds))


@dataset_cached(8)
def pca_points(ds: Dataset, k: int, columns: tuple[str, ...], sample: int = 3000) -> pd.DataFrame:
    """2-D PCA view of a sample of members, with their segment."""
    labels = segmentation(ds, k, columns).labels
    return _members.pca_2d(member_features(ds), labels, sample=sample, columns=list(columns))


@dataset_cached(4)
def clv_models(ds: Dataset, period_days: int = _clv.PERIOD_DAYS) -> tuple[CLVModels | None, str | None]:
    """(fitted CLVModels, None) or (None, message for the user) -- failures are cached too."""
    try:
        return _clv.fit_models(ds, period_days), None
    except (_clv.ModelError, ValueError) as exc:
        return None, str(exc)


@dataset_cached(8)
def clv_values(ds: Dataset, period_days: int, horizon_months: int, margin: float,
               annual_discount_rate: float) -> pd.DataFrame | None:
    """Per-member CLV table (see :func:`loyalty.clv.customer_value`), or None when the fit failed."""
    models, _ = clv_models(ds, period_days)
    if models is None:
        return None
    return _clv.customer_value(models.summary, models.bgnbd, models.gamma_gamma, horizon_months, margin,
                               annual_discount_rate, period_days=period_days)


@dataset_cached(8)
def clv_calibration(ds: Dataset, calibration_end: str, holdout_end: str,
                    period_days: int = _clv.PERIOD_DAYS) -> tuple[_clv.CalibrationCheck | None, str | None]:
    """(CalibrationCheck, None) or (None, message)."""
    try:
        return _clv.member_calibration_check(ds, calibration_end, holdout_end, period_days), None
    except (_clv.ModelError, ValueError) as exc:
        return None, str(exc)


# --- simulator ------------------------------------------------------------------------------------------
@dataset_cached(2, resource=True)
def prepared_history(ds: Dataset) -> PreparedHistory:
    """:func:`loyalty.simulator.prepare` with the ledger's redeem events (shared, read-only)."""
    return _sim.prepare(ds.transactions, _sim.redemptions_from_ledger(ds.ledger))


@dataset_cached(12, resource=True)
def replay(ds: Dataset, rules: RewardRules) -> SimulationResult:
    """One replay per (data, rules)."""
    return _sim.replay(prepared_history(ds), rules)


@dataset_cached(8)
def baseline_rules(ds: Dataset, point_value: float) -> tuple[RewardRules, tuple[str, ...]]:
    """(rules, notes) of :func:`loyalty.simulator.infer_baseline_rules`."""
    rules, notes = _sim.infer_baseline_rules(ds, point_value)
    return rules, tuple(notes)


@dataset_cached(16)
def sensitivity(ds: Dataset, rules: RewardRules, param: str, values: tuple[float, ...], baseline: RewardRules,
                assumptions: BehaviourAssumptions, gross_margin: float) -> pd.DataFrame:
    """:func:`loyalty.simulator.sensitivity` of one parameter, with the projection's economics."""
    return _sim.sensitivity(prepared_history(ds), rules, param, values, baseline=replay(ds, baseline),
                            assumptions=assumptions, gross_margin=gross_margin)


@dataset_cached(16)
def projection(ds: Dataset, baseline: RewardRules, scenario: RewardRules, assumptions: BehaviourAssumptions,
               gross_margin: float, n_boot: int = 300) -> _sim.Projection:
    """:func:`loyalty.simulator.project` (seeded bootstrap: reproducible)."""
    return _sim.project(prepared_history(ds), baseline, scenario, assumptions, n_boot=n_boot, random_state=0,
                        gross_margin=gross_margin, baseline_result=replay(ds, baseline),
                        scenario_result=replay(ds, scenario))


# --- report ---------------------------------------------------------------------------------------------
@dataset_cached(4)
def report_files(ds: Dataset, start: str, end: str, inputs: ProgramInputs, clv_settings: tuple[int, float],
                 segments_key: str, scenarios: tuple[RewardRules, ...] | None, pseudonymise: bool,
                 _segments: Callable[[], object] | None = None) -> tuple[bytes, bytes]:
    """(HTML bytes, Excel bytes) of the strategy report (:func:`loyalty.report.build_report`).

    Keyed on data (content and name), period, program inputs, CLV settings (horizon months, annual
    discount rate), segments (``segments_key``; ``_segments()`` gives them, or None for the
    recommended ones, and runs only on a miss), scenarios and the pseudonymise toggle.
    """
    from loyalty.report import build_report
    from ui.report_charts import REPORT_CHARTS

    models, error = clv_models(ds)
    report = build_report(
        ds, start, end, inputs,
        segments=_segments() if _segments is not None else None,
        features=member_features(ds), clv_models=models, clv_error=error,
        horizon_months=int(clv_settings[0]), annual_discount_rate=float(clv_settings[1]),
        scenarios=list(scenarios) if scenarios is not None else None, charts=REPORT_CHARTS,
        pseudonymise_salt=ds.fingerprint if pseudonymise else None,
    )
    return report.to_html().encode("utf-8"), report.to_excel()


# --- data import ----------------------------------------------------------------------------------------
# Uploaded bytes are hashed (the key) but never stored by Streamlit's hasher: ``_data`` is unhashed and the
# cache lives in memory only. Resources, not data: the parsed tables are shared read-only (no per-rerun copy
# of a 1M-row frame) and entries are bounded.
def upload_digest(data: bytes) -> str:
    """Content hash of uploaded bytes: the cache key of everything parsed from them."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@st.cache_resource(max_entries=6, ttl=TTL, show_spinner=False)
def _preview(digest: str, sheet: str | None, name: str, separator: str | None, _data: bytes):
    try:
        return _ingest.preview_file(_data, sheet=sheet, name=name, separator=separator), None
    except _ingest.ImportProblem as exc:
        return None, str(exc)


def preview_upload(data: bytes, name: str, sheet: str | None = None,
                   separator: str | None = None) -> tuple[_ingest.FilePreview | None, str | None]:
    """(FilePreview, None) or (None, message) for uploaded bytes."""
    return _preview(upload_digest(data), sheet, name, separator, data)


# Few entries: a 1M-row import is ~100 MB and every mapping/date-order change makes a new one.
@st.cache_resource(max_entries=3, ttl=TTL, show_spinner=False)
def _import(digest: str, kind: str, mapping: tuple, sheet: str | None, date_order: str | None,
            keep_personal: bool, name: str, separator: str | None, _data: bytes):
    try:
        result = _ingest.load_table(_data, kind, dict(mapping) or None, sheet=sheet, date_order=date_order,
                                    keep_personal=keep_personal, name=name, separator=separator)
        return result, None
    except _ingest.ImportProblem as exc:
        return None, str(exc)


def import_upload(data: bytes, kind: str, *, mapping: dict[str, str | None] | None = None,
                  sheet: str | None = None, date_order: str | None = None, keep_personal: bool = False,
                  name: str = "uploaded file",
                  separator: str | None = None) -> tuple[_ingest.LoadResult | None, str | None]:
    """(LoadResult, None) or (None, ImportProblem message), cached on (bytes hash, options).

    The result is shared read-only between reruns (and sessions that upload identical bytes).
    """
    items = tuple(sorted((mapping or {}).items(), key=lambda kv: kv[0]))
    return _import(upload_digest(data), kind, items, sheet, date_order, keep_personal, name, separator, data)


# --- points & liability ---------------------------------------------------------------------------------
# The estimate comes from the dataset's points ledger when it has one, else from the replay of the history
# under the inferred rules (its own ledger): ``rules`` are part of the key either way.
@dataset_cached(8)
def points_breakage(ds: Dataset, rules: RewardRules) -> _econ.BreakageEstimate:
    """:func:`loyalty.economics.estimate_breakage` at the data end (ledger, else the replayed history)."""
    if ds.ledger is not None:
        return _econ.estimate_breakage(ds, horizon_months=_sim.horizon_months(rules))
    return replay(ds, rules).breakage


def _points_source(ds: Dataset, rules: RewardRules):
    return ds if ds.ledger is not None else replay(ds, rules).cohort_flows


@dataset_cached(8)
def points_backtest(ds: Dataset, rules: RewardRules) -> pd.DataFrame:
    """:func:`loyalty.economics.backtest_breakage` at 6, 12 and 18 months before the data end."""
    return _econ.backtest_breakage(_points_source(ds, rules), horizon_months=_sim.horizon_months(rules))


@dataset_cached(8)
def points_triangle(ds: Dataset, rules: RewardRules) -> pd.DataFrame:
    """:func:`loyalty.economics.development_table` at the data end (empty without points)."""
    if ds.ledger is not None:
        cells = _econ.cohort_flows(_econ.ledger_attribution(ds)).cells()
    else:
        flows = replay(ds, rules).cohort_flows
        cells = flows.cells() if flows is not None else None
    return _econ.development_table(cells) if cells is not None else pd.DataFrame()


@dataset_cached(8)
def points_ifrs15(ds: Dataset, rules: RewardRules, value_per_point: float) -> pd.DataFrame:
    """:func:`loyalty.economics.program_ifrs15` month by month."""
    flows = None if ds.ledger is not None else replay(ds, rules).cohort_flows
    return _econ.program_ifrs15(ds, value_per_point, flows=flows, horizon_months=_sim.horizon_months(rules))


@dataset_cached(8)
def points_economics(ds: Dataset, rules: RewardRules, point_value: float) -> _econ.PointEconomics:
    """:func:`loyalty.economics.point_economics` (the replayed ledger when the dataset has none)."""
    ledger = None if ds.ledger is not None else _sim.replay_ledger(prepared_history(ds), rules)
    minimum = rules.min_redemption if rules.min_redemption > 0 else None
    return _econ.point_economics(ds, point_value, ledger=ledger, min_redemption=minimum)


@dataset_cached(8)
def grace_saving(ds: Dataset, rules: RewardRules, extra_days: int) -> dict[str, float]:
    """:func:`loyalty.simulator.grace_saving` on the replayed history."""
    return _sim.grace_saving(prepared_history(ds), rules, extra_days)


# --- experiments ----------------------------------------------------------------------------------------
@dataset_cached(4)
def campaign_analysis(ds: Dataset) -> _exp.CampaignAnalysis:
    """:func:`loyalty.experiments.analyse_campaigns`: the lift table and what was left out."""
    return _exp.analyse_campaigns(ds)


@dataset_cached(16)
def campaign_curves(ds: Dataset, campaign: str) -> pd.DataFrame:
    """:func:`loyalty.experiments.campaign_curves` of one campaign (cumulative test / control spend)."""
    return _exp.campaign_curves(ds, campaign)


@dataset_cached(16)
def spend_variance(ds: Dataset, window_days: int, population: str) -> _exp.SpendVariance:
    """:func:`loyalty.experiments.spend_variance` for a planned window length and population."""
    return _exp.spend_variance(ds, window_days, population=population)


@dataset_cached(4)
def event_study(ds: Dataset) -> _exp.EventStudy:
    """:func:`loyalty.experiments.event_study` (observational estimate by enrolment month)."""
    return _exp.event_study(ds)
