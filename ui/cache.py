"""Bounded cached wrappers around :mod:`loyalty` kernels.

Each wrapper takes the dataset as ``_ds`` (not hashed: hashing 1M rows on
every rerun is what caching is meant to avoid) plus ``ds.fingerprint``, the
content hash that is the actual key, so sessions with different data never
share an entry and identical data is computed once. Entries are bounded by
``max_entries`` and ``ttl`` to keep server memory flat. Callers must not
mutate what a wrapper returns.
"""

from __future__ import annotations

import streamlit as st

from loyalty.schema import Dataset

TTL = 3600  # seconds


@st.cache_data(max_entries=32, ttl=TTL, show_spinner=False)
def _cached_call(fn_key: str, _fn, _ds: Dataset, fingerprint: str, args: tuple, kwargs: tuple):
    return _fn(_ds, *args, **dict(kwargs))


def cached(fn, ds: Dataset, *args, **kwargs):
    """Cache ``fn(ds, *args, **kwargs)`` on (function, dataset content, arguments).

    For small results (tables of KPIs, profiles). Arguments must be hashable by
    Streamlit. Large per-member results get a dedicated wrapper with its own bound.
    """
    key = f"{fn.__module__}.{fn.__qualname__}"
    return _cached_call(key, fn, ds, ds.fingerprint, args, tuple(sorted(kwargs.items())))


# --- kpis ---
def member_filter_key(ids: set[str] | None) -> str:
    """Cheap, order-independent cache key of a member-id filter ("all" when None)."""
    if ids is None:
        return "all"
    import numpy as np
    import pandas as pd

    # Sum of per-id hashes: independent of set order, ~ms for 100k ids.
    h = pd.util.hash_array(np.asarray(list(ids), dtype=object))
    return f"{len(ids)}:{int(h.sum(dtype=np.uint64))}"


@st.cache_data(max_entries=64, ttl=TTL, show_spinner=False)
def _kpi_call(fn_key: str, _fn, _ds: Dataset, fingerprint: str, args: tuple, kwargs: tuple,
              filter_key: str, _members_filter):
    return _fn(_ds, *args, members_filter=_members_filter, **dict(kwargs))


def cached_filtered(fn, ds: Dataset, members_filter: set[str] | None, *args, **kwargs):
    """Like :func:`cached` for loyalty KPI functions taking ``members_filter``.

    The (possibly 100k-id) filter is keyed by :func:`member_filter_key`
    instead of being hashed by Streamlit on every rerun.
    """
    key = f"{fn.__module__}.{fn.__qualname__}"
    return _kpi_call(key, fn, ds, ds.fingerprint, args, tuple(sorted(kwargs.items())),
                     member_filter_key(members_filter), members_filter)


# --- segments & clv ---
from loyalty import clv as _clv  # noqa: E402
from loyalty import features as _features  # noqa: E402
from loyalty import segmentation as _seg  # noqa: E402


@st.cache_data(max_entries=4, ttl=TTL, show_spinner=False)
def member_features(_ds: Dataset, fingerprint: str):
    """:func:`loyalty.features.member_features` at the last transaction date."""
    return _features.member_features(_ds)


@st.cache_data(max_entries=8, ttl=TTL, show_spinner=False)
def k_choice(_ds: Dataset, fingerprint: str, columns: tuple[str, ...]):
    """The k sweep (2-10) on ``columns`` of the member features."""
    return _seg.choose_k(member_features(_ds, fingerprint), range(2, 11), list(columns))


@st.cache_data(max_entries=8, ttl=TTL, show_spinner=False)
def segmentation(_ds: Dataset, fingerprint: str, k: int, columns: tuple[str, ...]):
    """:func:`loyalty.segmentation.segment` (random_state 0: reproducible)."""
    return _seg.segment(member_features(_ds, fingerprint), k, list(columns))


@st.cache_data(max_entries=4, ttl=TTL, show_spinner=False)
def rfm_scores(_ds: Dataset, fingerprint: str):
    return _seg.rfm_scores(member_features(_ds, fingerprint))


@st.cache_data(max_entries=8, ttl=TTL, show_spinner=False)
def pca_points(_ds: Dataset, fingerprint: str, k: int, columns: tuple[str, ...], sample: int = 3000):
    labels = segmentation(_ds, fingerprint, k, columns).labels
    return _seg.pca_2d(member_features(_ds, fingerprint), labels, sample=sample, columns=list(columns))


@st.cache_data(max_entries=4, ttl=TTL, show_spinner=False)
def clv_models(_ds: Dataset, fingerprint: str, period_days: int = 7):
    """(fitted CLVModels, None) or (None, message for the user) -- failures are cached too."""
    try:
        return _clv.fit_models(_ds, period_days), None
    except (_clv.ModelError, ValueError) as exc:
        return None, str(exc)


@st.cache_data(max_entries=8, ttl=TTL, show_spinner=False)
def clv_values(_ds: Dataset, fingerprint: str, period_days: int, horizon_months: int, margin: float,
               annual_discount_rate: float):
    """Per-member CLV table (see :func:`loyalty.clv.customer_value`), or None when the fit failed."""
    models, _ = clv_models(_ds, fingerprint, period_days)
    if models is None:
        return None
    return _clv.customer_value(models.summary, models.bgnbd, models.gamma_gamma, horizon_months, margin,
                               annual_discount_rate, period_days=period_days)


@st.cache_data(max_entries=8, ttl=TTL, show_spinner=False)
def clv_calibration(_ds: Dataset, fingerprint: str, calibration_end: str, holdout_end: str, period_days: int = 7):
    """(CalibrationCheck, None) or (None, message)."""
    try:
        return _clv.member_calibration_check(_ds, calibration_end, holdout_end, period_days), None
    except (_clv.ModelError, ValueError) as exc:
        return None, str(exc)


# --- simulator ---
from loyalty import behaviour as _beh  # noqa: E402
from loyalty import scenarios as _scn  # noqa: E402
from loyalty import simulation as _sim  # noqa: E402


@st.cache_resource(max_entries=2, ttl=TTL, show_spinner=False)
def prepared_history(_ds: Dataset, fingerprint: str):
    """:func:`loyalty.simulation.prepare` with the ledger's redeem events (shared, read-only:
    a resource, so the big arrays are not copied on every rerun)."""
    return _sim.prepare(_ds.transactions, _sim.redemptions_from_ledger(_ds.ledger))


@st.cache_resource(max_entries=12, ttl=TTL, show_spinner=False)
def replay(_ds: Dataset, fingerprint: str, rules_json: str):
    """One replay per (data, rules); rules travel as their canonical JSON."""
    return _sim.replay(prepared_history(_ds, fingerprint), _sim.RewardRules.from_json(rules_json))


@st.cache_data(max_entries=8, ttl=TTL, show_spinner=False)
def baseline_rules(_ds: Dataset, fingerprint: str, point_value: float):
    """(rules JSON, notes) of :func:`loyalty.scenarios.infer_baseline_rules`."""
    rules, notes = _scn.infer_baseline_rules(_ds, point_value)
    return rules.to_json(), tuple(notes)


@st.cache_data(max_entries=16, ttl=TTL, show_spinner=False)
def sensitivity(_ds: Dataset, fingerprint: str, rules_json: str, param: str, values: tuple,
                baseline_json: str, assumptions: tuple, gross_margin: float):
    prep = prepared_history(_ds, fingerprint)
    return _scn.sensitivity(prep, _sim.RewardRules.from_json(rules_json), param, values,
                            baseline=replay(_ds, fingerprint, baseline_json),
                            assumptions=_beh.BehaviourAssumptions(**dict(assumptions)),
                            gross_margin=gross_margin)


@st.cache_data(max_entries=16, ttl=TTL, show_spinner=False)
def projection(_ds: Dataset, fingerprint: str, baseline_json: str, scenario_json: str, assumptions: tuple,
               gross_margin: float, n_boot: int = 300):
    return _beh.project(prepared_history(_ds, fingerprint), _sim.RewardRules.from_json(baseline_json),
                        _sim.RewardRules.from_json(scenario_json), _beh.BehaviourAssumptions(**dict(assumptions)),
                        n_boot=n_boot, random_state=0, gross_margin=gross_margin,
                        baseline_result=replay(_ds, fingerprint, baseline_json),
                        scenario_result=replay(_ds, fingerprint, scenario_json))


# --- report ---
@st.cache_data(max_entries=4, ttl=TTL, show_spinner=False)
def report_files(_ds: Dataset, fingerprint: str, start: str, end: str, inputs: tuple, clv_settings: tuple,
                 segments_key: str, scenarios_json: str, pseudonymise: bool, _segments_fn=None):
    """(HTML bytes, Excel bytes) of the strategy report (:func:`loyalty.report_sections.build_report`).

    Keyed on data, period, program inputs (point value, margin, platform cost, currency), CLV (horizon months,
    annual discount rate), segments (``segments_key``; ``_segments_fn()`` gives them, or None for the
    recommended ones, and runs only on a miss), scenarios JSON and the pseudonymise toggle.
    """
    from loyalty import report_sections as rs
    from loyalty.inputs import ProgramInputs
    from ui.report_charts import REPORT_CHARTS

    models, error = clv_models(_ds, fingerprint, rs.PERIOD_DAYS)
    report = rs.build_report(
        _ds, start, end, ProgramInputs(*inputs),
        segments=_segments_fn() if _segments_fn is not None else None,
        features=member_features(_ds, fingerprint), clv_models=models, clv_error=error,
        horizon_months=int(clv_settings[0]), annual_discount_rate=float(clv_settings[1]),
        scenarios=rs.scenarios_from_json(scenarios_json), charts=REPORT_CHARTS,
        pseudonymise_salt=fingerprint if pseudonymise else None,
    )
    return report.to_html().encode("utf-8"), report.to_excel()


# --- data import ---
# Uploaded bytes are hashed (the key) but never stored by Streamlit's hasher: ``_data`` is unhashed and the
# cache lives in memory only (no ``persist``), so nothing uploaded reaches the disk. Resources, not data:
# the parsed tables are shared read-only (no per-rerun copy of a 1M-row frame) and entries are bounded.
import hashlib  # noqa: E402

from loyalty import ingest as _ingest  # noqa: E402


def upload_digest(data: bytes) -> str:
    """Content hash of uploaded bytes: the cache key of everything parsed from them."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@st.cache_resource(max_entries=6, ttl=TTL, show_spinner=False)
def _preview(digest: str, sheet: str | None, name: str, _data: bytes):
    try:
        return _ingest.preview_file(_data, sheet=sheet, name=name), None
    except _ingest.ImportProblem as exc:
        return None, str(exc)


def preview_upload(data: bytes, name: str, sheet: str | None = None):
    """(FilePreview, None) or (None, message) for uploaded bytes."""
    return _preview(upload_digest(data), sheet, name, data)


# Few entries: a 1M-row import is ~100 MB and every mapping/date-order change makes a new one.
@st.cache_resource(max_entries=3, ttl=TTL, show_spinner=False)
def _import(digest: str, kind: str, mapping: tuple, sheet: str | None, date_order: str | None,
            keep_personal: bool, name: str, _data: bytes):
    try:
        result = _ingest.load_table(_data, kind, dict(mapping) or None, sheet=sheet, date_order=date_order,
                                    keep_personal=keep_personal, name=name)
        return result, None
    except _ingest.ImportProblem as exc:
        return None, str(exc)


def import_upload(data: bytes, kind: str, *, mapping: dict[str, str | None] | None = None,
                  sheet: str | None = None, date_order: str | None = None, keep_personal: bool = False,
                  name: str = "uploaded file"):
    """(LoadResult, None) or (None, ImportProblem message), cached on (bytes hash, options).

    The result is shared read-only between reruns (and sessions that upload identical bytes).
    """
    items = tuple(sorted((mapping or {}).items(), key=lambda kv: kv[0]))
    return _import(upload_digest(data), kind, items, sheet, date_order, keep_personal, name, data)
