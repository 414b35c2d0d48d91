"""The strategy report's content: KPI summary, segments, customer value, scenarios.

Pure assembly (no streamlit): every figure comes from the engines in
:mod:`loyalty` (KPIs, segmentation, CLV, replay); this module only picks the
tables, attaches definitions and the dataset's scope, and hands them to
:func:`loyalty.report.build_report_html` (HTML) and
:func:`loyalty.export.to_excel_bytes` (one sheet per table).

Charts are built by callables passed in ``charts`` (the app passes its Altair
builders, so the report shows the same charts as the pages); each takes
``(frame, currency)`` and returns an Altair chart or a Vega-Lite dict.

Each table travels with a :class:`loyalty.export.TableFormat` (labels and units of the
columns the metric registry does not cover), so both files show "Share of members 16.3%"
rather than ``share_of_members 0.1632``; the tables themselves keep their keys and raw numbers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from loyalty import clv as _clv
from loyalty.clv.tables import (
    CLV_SUMMARY_LABELS,
    CLV_SUMMARY_UNITS,
    FIT_DIAGNOSTICS_LABELS,
    FIT_DIAGNOSTICS_UNITS,
    PARAMETER_TABLE_LABELS,
    PARAMETER_TABLE_UNITS,
    TOP_MEMBER_LABELS,
    TOP_MEMBER_UNITS,
)
from loyalty.export import ROW, TableFormat, pseudonymise_frame, to_excel_bytes
from loyalty.inputs import ProgramInputs
from loyalty.kpis import compute_kpis, kpi_comparison, kpi_notes, kpi_table
from loyalty.kpis.series import monthly_series
from loyalty.members import segmentation as _seg
from loyalty.members.features import member_features
from loyalty.members.tables import (
    NO_ACTION,
    SEGMENT_TABLE_LABELS,
    SEGMENT_TABLE_UNITS,
    segment_means,
    segment_means_units,
    segment_table,
)
from loyalty.metrics import FEATURES, METRICS, REPLAY_KEYS, currency_prefix, definitions, label
from loyalty.report.html import ReportSection, build_report_html, chart_to_svg
from loyalty.schema import Dataset
from loyalty.simulator import compare, infer_baseline_rules, prepare, presets, redemptions_from_ledger, replay
from loyalty.simulator.rules import RewardRules

ChartBuilder = Callable[[pd.DataFrame, str], object]
#: Chart keys the report asks for (frame passed to the builder in brackets).
CHART_KEYS = (
    "revenue_active",  # monthly series (month, revenue, transactions, active_members)
    "points_flow",  # monthly points (month, points_issued, points_redeemed, points_expired)
    "segment_sizes",  # segmentation profile (index segment; name, share_members, share_revenue)
    "clv_by_segment",  # clv_by_segment() output (index segment; total_clv, members, mean_clv, share_of_clv)
    "scenario_costs",  # tidy (scenario, measure, value) in currency
)

# Formats of the tables built elsewhere (engines whose columns are not all registry metrics);
# registry keys (revenue, aov, total_clv, ...) take their label and unit from the registry.
#: :func:`loyalty.kpis.kpi_table`: one KPI per row, each in its own unit.
KPI_TABLE_FORMAT = TableFormat(
    labels={"kpi": "Key", "label": "KPI", "group": "Group", "value": "This period", "previous": "Previous period",
            "delta": "Change", "delta_pct": "Change %", "unit": "Unit", "formula": "Formula"},
    units={"kpi": "text", "label": "text", "group": "text", "value": ROW, "previous": ROW, "delta": ROW,
           "delta_pct": "change", "unit": "text", "formula": "text"},
    deltas=("delta",), row_unit="unit", hidden=("kpi", "unit"), frozen_columns=2,
)
#: :func:`loyalty.kpis.series.monthly_series`.
MONTHLY_FORMAT = TableFormat(
    labels={"month": "Month", "member_revenue": "Member revenue", "guest_revenue": "Guest revenue",
            "members_total": "Members (month end)"},
    units={"month": "month", "member_revenue": "money", "guest_revenue": "money"},
    frozen_columns=1,
)
#: :func:`loyalty.clv.clv_simple` (``.table.reset_index()``).
CLASSIC_CLV_FORMAT = TableFormat(
    labels={"group": "Group", "members": "Members", "purchases_per_year": "Purchases per year",
            "churn_exposed": "Members exposed to churn", "annual_churn": "Annual churn",
            "lifespan_years": "Expected lifespan", "lifespan_capped": "Lifespan capped", "margin": "Gross margin",
            "clv": METRICS["classic_clv"].label},
    units={"group": "text", "members": "int", "purchases_per_year": "num", "churn_exposed": "int",
           "annual_churn": "pct", "lifespan_years": "years", "lifespan_capped": "bool", "margin": "pct",
           "clv": "money"},
    frozen_columns=1,
)
#: :func:`loyalty.clv.clv_by_segment` (``.reset_index()``).
CLV_BY_SEGMENT_FORMAT = TableFormat(
    labels={"segment": "Segment", "members": "Members", "without_purchase": "Members without a purchase",
            "one_time_buyers": "One-time buyers (count)", "p_alive_repeat": METRICS["p_alive_repeat"].label,
            "share_of_clv": "Share of total CLV"},
    units={"segment": "text", "members": "int", "without_purchase": "int", "one_time_buyers": "int",
           "p_alive_repeat": "pct", "share_of_clv": "pct"},
    frozen_columns=1,
)
#: :func:`loyalty.clv.member_calibration_check` (``.table.reset_index()``).
HOLDOUT_FORMAT = TableFormat(
    labels={"calibration_repeat_purchases": "Repeat purchase days (calibration)", "customers": "Members",
            "actual": "Actual purchases per member", "predicted": "Predicted purchases per member"},
    units={"calibration_repeat_purchases": "text", "customers": "int", "actual": "num", "predicted": "num"},
)
#: :func:`rules_table`: a point's value needs four decimals (0.008 is not 0.01).
RULES_FORMAT = TableFormat(
    labels={"scenario": "Scenario", "earn_rate": "Earn rate (points per currency unit)", "point_value": "Point value",
            "tiers": "Tiers", "qualification_days": "Qualification window", "expiry": "Expiry",
            "min_redemption": "Minimum redemption"},
    units={"scenario": "text", "earn_rate": "num", "point_value": "price", "tiers": "text",
           "qualification_days": "days", "expiry": "text", "min_redemption": "points"},
    frozen_columns=1,
)
DEFINITIONS_FORMAT = TableFormat(
    labels={"section": "Section", "term": "Term", "definition": "Definition"},
    units={"section": "text", "term": "text", "definition": "text"},
)


def comparison_format(scenarios: Sequence[str], baseline: str) -> TableFormat:
    """Format of :func:`loyalty.simulator.compare` for ``scenarios``: each row in its KPI's unit.

    Scenario columns are labelled with their own names even when a name is a metric key.
    """
    others = [n for n in scenarios if n != baseline]
    units = {"kpi": "text", "label": "text", "unit": "text", **{n: ROW for n in scenarios},
             **{f"Δ {n}": ROW for n in others}, **{f"Δ% {n}": "change" for n in others}}
    return TableFormat(
        labels={"kpi": "Key", "label": "Measure", "unit": "Unit", **{c: c for c in units if c not in
                                                                      ("kpi", "label", "unit")}},
        units=units, deltas=tuple(f"Δ {n}" for n in others), row_unit="unit", hidden=("kpi", "unit"),
        frozen_columns=2,
    )


@dataclass(frozen=True, eq=False)
class StrategyReport:
    """Assembled report: sections for the HTML file and every table for Excel.

    ``tables`` maps a sheet name (<= 31 characters) to the full table; the HTML
    shows the first rows of the same tables, with their captions. ``formats`` (same keys)
    holds each table's labels and units; ``currency`` is the symbol of its amounts.
    """

    dataset_name: str
    period: tuple[pd.Timestamp, pd.Timestamp]
    sections: tuple[ReportSection, ...]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    formats: dict[str, TableFormat] = field(default_factory=dict)
    currency: str = ""

    def to_html(self, *, generated_at: datetime | None = None, render_svg=chart_to_svg) -> str:
        """Self-contained HTML (inline SVG charts, no script, all text escaped, figures formatted)."""
        return build_report_html(
            self.dataset_name, self.period, self.sections, generated_at=generated_at, render_svg=render_svg,
            currency=self.currency,
        )

    def to_excel(self) -> bytes:
        """``.xlsx`` with one sheet per table: labelled, frozen header, number formats; formula-safe."""
        return to_excel_bytes(self.tables, formats=self.formats, currency=self.currency)


@dataclass
class _Part:
    """A section under construction: (sheet, caption, frame, format) tables, charts, notes, definitions."""

    title: str
    intro: str
    tables: list[tuple[str, str, pd.DataFrame, TableFormat]] = field(default_factory=list)
    charts: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    definitions: list[tuple[str, str]] = field(default_factory=list)

    def chart(self, charts: Mapping[str, ChartBuilder] | None, key: str, df: pd.DataFrame, currency: str) -> None:
        builder = (charts or {}).get(key)
        if builder is None or df.empty:
            return
        try:
            obj = builder(df, currency)
            self.charts.append(obj.to_dict() if hasattr(obj, "to_dict") else dict(obj))
        except Exception as exc:  # a chart that cannot be built must not lose the report
            self.notes.append(f"Chart '{key}' unavailable: {str(exc)[:200]}")

    def section(self) -> ReportSection:
        return ReportSection(
            self.title,
            intro=self.intro,
            tables=tuple((caption, df, fmt) for _, caption, df, fmt in self.tables),
            charts=tuple(self.charts),
            definitions=tuple(self.definitions),
            notes=tuple(self.notes),
        )


def _day(t: pd.Timestamp) -> str:
    return f"{pd.Timestamp(t):%Y-%m-%d}"


def scope_text(dataset: Dataset) -> str:
    """'Dataset: <name>; transactions from <first> to <last> (<n> transactions).'"""
    t = dataset.transactions
    if t.empty:
        return f"Dataset: {dataset.name}; no transactions."
    first, last = dataset.date_range()
    return f"Dataset: {dataset.name}; transactions from {_day(first)} to {_day(last)} ({len(t):,} transactions)."


# --------------------------------------------------------------------------- KPIs
def kpi_part(
    dataset: Dataset, start, end, inputs: ProgramInputs, charts: Mapping[str, ChartBuilder] | None = None,
    basis: str = "previous",
) -> _Part:
    """KPI table of ``[start, end]`` vs the previous period, monthly series and points flows."""
    s, e = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    versus = kpi_comparison(dataset, s, e, basis)
    ps, pe = versus.start, versus.end
    kw = dict(point_value=inputs.point_value, margin=inputs.gross_margin,
              monthly_platform_cost=inputs.monthly_platform_cost)
    cur = compute_kpis(dataset, s, e, **kw)
    # No previous values when the data does not cover the comparison period (one day of data there
    # would read as +50,000%): the same rule as the KPI page.
    prev = compute_kpis(dataset, ps, pe, **kw) if versus.available else {}
    compared = (f"compared with {_day(ps)} to {_day(pe)}" if versus.available
                else f"with no comparison ({versus.missing})")
    part = _Part(
        "KPI summary",
        f"Every program KPI for {_day(s)} to {_day(e)} (both days included), {compared}. {scope_text(dataset)}",
    )
    part.tables.append(("KPIs", "KPIs with previous-period values, changes and formulas", kpi_table(cur, prev),
                        KPI_TABLE_FORMAT))
    monthly = monthly_series(dataset, s, e)
    part.tables.append(("Monthly series", "Monthly revenue, members and points (calendar months)", monthly,
                        MONTHLY_FORMAT))
    if {"revenue", "active_members"} <= set(monthly.columns):
        part.chart(charts, "revenue_active", monthly, inputs.currency)
    flows = [c for c in ("points_issued", "points_redeemed", "points_expired") if c in monthly.columns]
    if flows and not monthly[flows].isna().all().all():
        part.chart(charts, "points_flow", monthly[["month", *flows]], inputs.currency)
    notes = kpi_notes(dataset, e, cur)
    part.definitions += [
        ("Period", "Both days included; a KPI whose data is absent is shown as — (an empty cell in Excel)."),
        ("Previous period", "The same number of whole days just before the period start."),
        ("Change, change %", "This period - previous period, and (this period - previous period) / |previous "
         "period|. The change of a percentage is in percentage points (pp)."),
        ("Program inputs", f"Point value {inputs.currency}{inputs.point_value:g} per point, gross margin "
         f"{inputs.gross_margin:.0%}, platform cost {inputs.currency}{inputs.monthly_platform_cost:,.0f} per month."),
        (METRICS["breakage_rate"].label, notes["breakage"]),
        (METRICS["program_roi"].label, notes["roi"]),
        (METRICS["revenue_clv_period"].label, notes["clv"]),
    ]
    return part


# --------------------------------------------------------------------------- segments
_ACTIONS = {name: action for name, _, action in _seg.ARCHETYPES}


@dataclass(frozen=True, eq=False)
class ReportSegments:
    """The segmentation a report shows: labels, names, actions, profile, stability (NaN if unknown)."""

    labels: pd.Series
    names: dict[int, str]
    actions: dict[int, str]
    profile: pd.DataFrame
    stability: float
    columns: tuple[str, ...]
    source: str

    @property
    def k(self) -> int:
        return len(self.names)

    @classmethod
    def from_segmentation(cls, seg: _seg.Segmentation, source: str) -> ReportSegments:
        prof = seg.profile.assign(name=[seg.names[s] for s in seg.profile.index])
        return cls(seg.labels, dict(seg.names), dict(seg.actions), prof, seg.stability, seg.columns, source)

    @classmethod
    def from_labels(cls, features: pd.DataFrame, labels: pd.Series, names: Mapping[int, str], source: str
                    ) -> ReportSegments:
        """Profile (size, shares, feature means) of given labels, e.g. a segmentation published by the app."""
        lab = labels.reindex(features.index)
        nums = features.select_dtypes("number")
        seg_ids = pd.Index(sorted(names), name="segment")
        size = lab.value_counts().reindex(seg_ids, fill_value=0)
        prof = pd.DataFrame({"name": [names[s] for s in seg_ids], "size": size.to_numpy(),
                             "share_members": size.to_numpy() / max(len(lab), 1)}, index=seg_ids)
        if "monetary" in nums:
            rev = nums["monetary"].groupby(lab).sum().reindex(seg_ids, fill_value=0.0)
            total = float(nums["monetary"].sum())
            prof["share_revenue"] = rev / total if total else np.nan
        prof = prof.join(nums.groupby(lab).mean().reindex(seg_ids).add_prefix("mean_"))
        actions = {s: _ACTIONS.get(n, NO_ACTION) for s, n in names.items()}
        return cls(labels, dict(names), actions, prof, float("nan"), tuple(nums.columns), source)

    def named_labels(self) -> pd.Series:
        return self.labels.map(self.names).rename("segment_name")


def recommended_segments(features: pd.DataFrame) -> ReportSegments:
    """The segmentation the Segments page recommends (default features, k from :func:`choose_k`)."""
    kc, seg = _seg.recommended_segmentation(features)
    return ReportSegments.from_segmentation(seg, f"Recommended segmentation: {kc.reason}")


def segment_part(
    dataset: Dataset,
    segments: ReportSegments | None,
    currency: str,
    charts: Mapping[str, ChartBuilder] | None = None,
    unavailable: str = "",
) -> _Part:
    """Segment sizes, revenue shares, names, suggested actions, profiles and stability."""
    part = _Part("Segments", f"Members grouped by behaviour with K-means. {scope_text(dataset)}")
    if segments is None:
        part.notes.append(unavailable or "No segmentation available for this dataset.")
        return part
    seg, prof = segments, segments.profile
    part.intro += f" {seg.source} (k = {seg.k}, features: {', '.join(label(c) for c in seg.columns)})."
    summary = segment_table(prof, seg.names, seg.actions)
    part.tables.append(("Segments", "Segments, sizes, revenue shares and suggested actions", summary,
                        TableFormat(SEGMENT_TABLE_LABELS, SEGMENT_TABLE_UNITS, frozen_columns=2)))
    means = segment_means(prof, seg.names)
    part.tables.append(("Segment profiles", "Segment profiles: mean of each feature (original units)", means,
                        TableFormat(SEGMENT_TABLE_LABELS, segment_means_units(means), frozen_columns=2)))
    if "share_revenue" in prof:
        part.chart(charts, "segment_sizes", prof, currency)
    part.notes.append(_seg.stability_hint(seg.stability))
    part.definitions += [(f"{FEATURES[c].label} ({c})", FEATURES[c].formula) for c in means.columns if c in FEATURES]
    part.definitions += [
        ("Method", "log1p on skewed features, standardisation, K-means with a fixed random seed; segment 1 has "
         "the highest mean net spend."),
        ("Share of members, share of net spend", "Segment members / all members; segment net spend / program "
         "net spend (returns included)."),
        ("Stability", "Mean adjusted Rand index between these segments and refits with other random seeds "
         "(1 = identical, 0 = chance)."),
        ("Names and actions", "Derived from each segment's profile (closest archetype); users may rename them."),
    ]
    return part


# --------------------------------------------------------------------------- customer value
def clv_part(
    dataset: Dataset,
    features: pd.DataFrame,
    segments: ReportSegments | None,
    models: _clv.CLVModels | None,
    model_error: str | None,
    *,
    margin: float,
    horizon_months: int = 12,
    annual_discount_rate: float = 0.10,
    currency: str = "€",
    top_n: int = 20,
    charts: Mapping[str, ChartBuilder] | None = None,
) -> _Part:
    """Classic CLV, BG/NBD + Gamma-Gamma CLV summary and by segment, top members, parameters, diagnostics."""
    part = _Part(
        "Customer value",
        f"Expected future gross margin per member over the next {horizon_months} months, discounted at "
        f"{annual_discount_rate:.0%} a year, gross margin {margin:.0%}. Models use all history. {scope_text(dataset)}",
    )
    names = segments.named_labels() if segments is not None else None
    if not features.empty:
        simple = _clv.clv_simple(features, names, margin=margin).table.reset_index()
        part.tables.append(("Classic CLV", "Classic CLV, all members and by segment", simple, CLASSIC_CLV_FORMAT))
    part.definitions += definitions(["classic_clv"])
    if models is None:
        part.notes.append(f"Probabilistic CLV not available: {model_error or 'no model'}")
        return part
    values = _clv.customer_value(models.summary, models.bgnbd, models.gamma_gamma, horizon_months, margin,
                                 annual_discount_rate, period_days=models.period_days)
    values.index.name = "member_id"
    overall = _clv.clv_summary(values)
    part.tables.append(("CLV summary", f"Probabilistic CLV summary ({currency})", overall,
                        TableFormat(CLV_SUMMARY_LABELS, CLV_SUMMARY_UNITS)))
    if segments is not None:
        by_seg = _clv.clv_by_segment(values, segments.labels, segments.names)
        part.chart(charts, "clv_by_segment", by_seg, currency)
        part.tables.append(("CLV by segment", "Probabilistic CLV by segment", by_seg.reset_index(),
                            CLV_BY_SEGMENT_FORMAT))
    top = _clv.top_members(values, top_n)
    part.tables.append(("Top members by CLV", f"Top {top_n} members by CLV", top,
                        TableFormat(TOP_MEMBER_LABELS, TOP_MEMBER_UNITS, frozen_columns=1)))
    part.tables.append(("CLV model parameters", "Model parameters (time unit: weeks)", _clv.parameter_table(models),
                        TableFormat(PARAMETER_TABLE_LABELS, PARAMETER_TABLE_UNITS)))
    part.tables.append(("CLV fit diagnostics", "Fit diagnostics", _clv.fit_diagnostics(models),
                        TableFormat(FIT_DIAGNOSTICS_LABELS, FIT_DIAGNOSTICS_UNITS)))
    g = models.gamma_gamma
    part.notes.append(f"Spend-frequency correlation among repeat buyers: {g.spend_frequency_corr:+.2f} "
                      "(Gamma-Gamma assumes none).")
    part.notes += list(models.notes)
    try:
        check = _clv.member_calibration_check(dataset, _clv.default_calibration_end(dataset),
                                              dataset.date_range()[1], models.period_days)
    except ValueError as exc:  # ModelError included: too little data before the holdout
        part.notes.append(f"Holdout check not available: {exc}")
    else:
        part.tables.append(("CLV holdout check", "Holdout check: mean purchases per member, actual vs predicted",
                            check.table.reset_index(), HOLDOUT_FORMAT))
        part.notes.append(f"Holdout check: predicted {check.predicted_total:,.0f} vs actual {check.actual_total:,.0f} "
                          f"purchases ({check.total_pct_error:+.1%}); mean absolute error {check.mae:.2f} per member "
                          f"over {check.holdout_periods:.0f} weeks.")
    part.definitions += [
        ("BG/NBD", "Purchase rate ~ Gamma(r, alpha) per week; after each purchase a member drops out with "
         "probability p ~ Beta(a, b) (Fader, Hardie & Lee 2005). Fitted by maximum likelihood."),
        ("Gamma-Gamma", "Spend per purchase ~ Gamma(p, nu), nu ~ Gamma(q, v), fitted on repeat buyers "
         "(Fader & Hardie 2013)."),
        ("CLV", "Sum over months of margin x expected spend per purchase x expected purchases that month, "
         "discounted monthly at (1 + annual rate)^(1/12) - 1."),
        *definitions(["total_clv", "mean_clv", "p_alive_repeat", "one_time_share"]),
        ("Holdout check", "Model refitted on the history before the holdout window, predicting each member's "
         "purchases in it."),
    ]
    return part


# --------------------------------------------------------------------------- scenarios
def _unique_names(rules: Sequence[RewardRules]) -> list[str]:
    out: list[str] = []
    for i, r in enumerate(rules):
        name = (r.name or "").strip() or ("Baseline" if i == 0 else f"Scenario {i}")
        base, n = name, 2
        while name in out:
            name, n = f"{base} ({n})", n + 1
        out.append(name)
    return out


def rules_table(named: Mapping[str, RewardRules], *, currency: str = "") -> pd.DataFrame:
    """One row per scenario: earn rate, point value, tiers, window, expiry, minimum redemption.

    ``currency`` is written before tier thresholds and benefit costs (amounts in the text).
    """
    cur = currency_prefix(currency)
    rows = []
    for name, r in named.items():
        e = r.expiry
        expiry = "No expiry" if e.mode == "none" else f"{e.mode}, {e.months} months + {e.grace_days} days grace"
        tiers = "; ".join(f"{t.name} from {cur}{t.threshold:,.0f} x{t.multiplier:g}"
                          + (f" (benefit {cur}{t.annual_benefit_cost:,.2f}/yr)" if t.annual_benefit_cost else "")
                          for t in r.tiers) or "No tiers"
        rows.append({"scenario": name, "earn_rate": r.earn_rate, "point_value": r.point_value, "tiers": tiers,
                     "qualification_days": r.qualification_days, "expiry": expiry,
                     "min_redemption": r.min_redemption})
    return pd.DataFrame(rows)


def scenario_part(
    dataset: Dataset,
    scenarios: Sequence[RewardRules] | None,
    inputs: ProgramInputs,
    charts: Mapping[str, ChartBuilder] | None = None,
) -> _Part:
    """Replay the history under each scenario (first = baseline) and compare; default baseline + presets."""
    part = _Part("Scenario comparison", "")
    if scenarios and len(scenarios) > 1:
        rules = list(scenarios)
        origin = "The scenarios of this session's What-if simulator (first = baseline)."
    elif scenarios:  # the simulator's baseline alone: compare it with the presets
        rules = [scenarios[0], *presets(scenarios[0]).values()]
        origin = "The What-if simulator's baseline, and the standard strategy presets applied to it."
    else:
        base, notes = infer_baseline_rules(dataset, point_value=inputs.point_value)
        rules = [base, *presets(base).values()]
        origin = "Baseline inferred from the data, and the standard strategy presets."
        part.notes += notes
    named = dict(zip(_unique_names(rules), rules, strict=True))
    part.intro = (f"{origin} Each scenario replays the program's history under its rules (replay layer: what these "
                  f"rules would have cost on past behaviour, no behaviour change). {scope_text(dataset)}")
    prep = prepare(dataset.transactions, redemptions_from_ledger(dataset.ledger))
    results = {name: replay(prep, r) for name, r in named.items()}
    baseline = next(iter(named))
    table = compare(results, baseline)
    # compare() gives Δ% x 100; the report keeps every percentage a 0-1 fraction, so an Excel cell
    # shown as -20.0% holds -0.2 (what a formula multiplying by it expects).
    pct_cols = [f"Δ% {n}" for n in named if f"Δ% {n}" in table.columns]
    table[pct_cols] = table[pct_cols] / 100.0
    part.tables.append(("Scenario comparison", f"Totals per scenario and change vs '{baseline}'", table,
                        comparison_format(list(named), baseline)))
    part.tables.append(("Scenario rules", "Rules of each scenario", rules_table(named, currency=inputs.currency),
                        RULES_FORMAT))
    measures = {k: METRICS[k].label for k in ("reward_cost", "liability", "tier_benefit_cost")}
    tidy = table[table["kpi"].isin(list(measures))].melt("kpi", value_vars=list(named), var_name="scenario")
    tidy["measure"] = tidy.pop("kpi").map(measures)
    part.chart(charts, "scenario_costs", tidy[["scenario", "measure", "value"]], inputs.currency)
    part.notes += list(prep.notes)
    part.definitions += definitions(REPLAY_KEYS)
    part.definitions.append(("Δ, Δ%", "Scenario - baseline, in the KPI's units; and as a percentage of the "
                             "baseline (blank when the baseline is 0)."))
    return part


# --------------------------------------------------------------------------- whole report
def _definitions_table(parts: Sequence[_Part]) -> pd.DataFrame:
    rows = [{"section": p.title, "term": t, "definition": d} for p in parts for t, d in p.definitions]
    return pd.DataFrame(rows, columns=["section", "term", "definition"])


def build_report(
    dataset: Dataset,
    start,
    end,
    inputs: ProgramInputs | None = None,
    *,
    segments: ReportSegments | None = None,
    features: pd.DataFrame | None = None,
    clv_models: _clv.CLVModels | None = None,
    clv_error: str | None = None,
    horizon_months: int = 12,
    annual_discount_rate: float = 0.10,
    scenarios: Sequence[RewardRules] | None = None,
    charts: Mapping[str, ChartBuilder] | None = None,
    pseudonymise_salt: str | None = None,
) -> StrategyReport:
    """Assemble the strategy report of ``dataset`` for the KPI period ``[start, end]``.

    Parameters
    ----------
    segments : ReportSegments, optional
        The user's segmentation (with their names); default: the recommended one.
    features : DataFrame, optional
        :func:`loyalty.members.features.member_features` of ``dataset`` if already computed.
    clv_models, clv_error : optional
        Fitted CLV models, or the reason they could not be fitted; default: fitted here.
    scenarios : sequence of RewardRules, optional
        First = baseline; default: the inferred baseline and the presets.
    pseudonymise_salt : str, optional
        When given, member ids in every table are replaced by salted pseudonyms.
    """
    inputs = inputs or ProgramInputs()
    feats = features if features is not None else member_features(dataset)
    unavailable = ""
    if segments is None and len(feats) >= _seg.MIN_MEMBERS:
        try:
            segments = recommended_segments(feats)
        except ValueError as exc:
            unavailable = f"Segments not available: {exc}"
    elif segments is None:
        unavailable = f"Segments not available: {len(feats)} members, at least {_seg.MIN_MEMBERS} are needed."
    if clv_models is None and clv_error is None:
        try:
            clv_models = _clv.fit_models(dataset, _clv.PERIOD_DAYS)
        except ValueError as exc:  # ModelError: too few repeat buyers, no purchases
            clv_error = str(exc)
    parts = [
        kpi_part(dataset, start, end, inputs, charts),
        segment_part(dataset, segments, inputs.currency, charts, unavailable),
        clv_part(dataset, feats, segments, clv_models, clv_error, margin=inputs.gross_margin,
                 horizon_months=horizon_months, annual_discount_rate=annual_discount_rate,
                 currency=inputs.currency, charts=charts),
        scenario_part(dataset, scenarios, inputs, charts),
    ]
    tables: dict[str, pd.DataFrame] = {}
    formats: dict[str, TableFormat] = {}
    for p in parts:
        if pseudonymise_salt is not None:  # one pass, so the HTML and Excel show the same pseudonyms
            p.tables = [(sheet, cap, pseudonymise_frame(df, pseudonymise_salt), fmt)
                        for sheet, cap, df, fmt in p.tables]
        for sheet, _, df, fmt in p.tables:
            tables[sheet], formats[sheet] = df, fmt
    tables["Definitions"], formats["Definitions"] = _definitions_table(parts), DEFINITIONS_FORMAT
    period = (pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize())
    return StrategyReport(dataset.name, period, tuple(p.section() for p in parts), tables, formats,
                          inputs.currency)


def scenarios_json(scenarios: Sequence[RewardRules] | None) -> str:
    """Canonical JSON of a scenario list (the report's cache key); '' for none."""
    return json.dumps([r.to_dict() for r in scenarios], sort_keys=True) if scenarios else ""


def scenarios_from_json(text: str) -> list[RewardRules] | None:
    """Inverse of :func:`scenarios_json`."""
    return [RewardRules.from_dict(d) for d in json.loads(text)] if text else None
