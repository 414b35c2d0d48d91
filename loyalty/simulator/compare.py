"""Scenario comparison table and one-parameter sensitivity sweeps."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from loyalty.metrics import METRICS, REPLAY_KEYS
from loyalty.simulator.behaviour import BehaviourAssumptions, scenario_economics
from loyalty.simulator.history import PreparedHistory
from loyalty.simulator.replay import SimulationResult, replay
from loyalty.simulator.rules import ExpiryPolicy, RewardRules, RulesError


# ---------------------------------------------------------------------------
# comparison
# ---------------------------------------------------------------------------
def compare(results: dict[str, SimulationResult], baseline_name: str) -> pd.DataFrame:
    """KPI x scenario table with the change vs the baseline.

    Returns
    -------
    DataFrame
        One row per KPI (``kpi`` key, ``label``, ``unit``), a column per
        scenario with its value, then ``Δ <name>`` (units) and ``Δ% <name>``
        (percent of the baseline value; NaN when the baseline is 0) for every
        other scenario. Tier rows (``members_<tier>``) cover the union of tiers.
    """
    if baseline_name not in results:
        raise ValueError(f"Baseline scenario '{baseline_name}' is not among the results.")
    values = {name: r.totals.as_dict() for name, r in results.items()}
    keys = list(REPLAY_KEYS)
    for d in values.values():
        keys += [k for k in d if k.startswith("members_") and k not in keys]
    rows = []
    for k in keys:
        m = METRICS.get(k)
        label, unit = (m.label, m.unit) if m is not None else (f"Members in tier {k[8:]} at end", "int")
        rows.append({"kpi": k, "label": label, "unit": unit, **{n: float(values[n].get(k, 0.0)) for n in results}})
    df = pd.DataFrame(rows)
    base = df[baseline_name]
    for n in results:
        if n == baseline_name:
            continue
        df[f"Δ {n}"] = df[n] - base
        with np.errstate(divide="ignore", invalid="ignore"):
            df[f"Δ% {n}"] = np.where(base != 0, (df[n] - base) / base.abs() * 100.0, np.nan)
    return df


# ---------------------------------------------------------------------------
# sensitivity
# ---------------------------------------------------------------------------
SENSITIVITY_PARAMS: dict[str, str] = {
    "point_value": "Point value (currency per point)",
    "earn_rate": "Earn rate (points per currency unit)",
    "grace_days": "Grace days",
    "expiry_months": "Expiry months",
    "qualification_days": "Qualification window (days)",
    "top_multiplier": "Top tier multiplier",
    "top_threshold": "Top tier threshold (currency)",
}


def with_param(rules: RewardRules, param: str, value: float) -> RewardRules:
    """``rules`` with one parameter changed (see :data:`SENSITIVITY_PARAMS`)."""
    e = rules.expiry
    if param in ("point_value", "earn_rate"):
        return replace(rules, **{param: float(value)})
    if param == "qualification_days":
        return replace(rules, qualification_days=int(value))
    if param == "grace_days":
        mode = e.mode if e.mode != "none" else "inactivity"
        return replace(rules, expiry=ExpiryPolicy(mode, e.months, int(value)))
    if param == "expiry_months":
        mode = e.mode if e.mode != "none" else "inactivity"
        return replace(rules, expiry=ExpiryPolicy(mode, int(value), e.grace_days))
    if param in ("top_multiplier", "top_threshold"):
        top = rules.tiers[-1]
        if param == "top_multiplier":
            top = replace(top, multiplier=float(value))
        else:
            if len(rules.tiers) == 1:
                raise RulesError("The top tier threshold can only vary with two tiers or more.", "tiers")
            top = replace(top, threshold=float(value))
        return replace(rules, tiers=(*rules.tiers[:-1], top))
    raise ValueError(f"Unknown sensitivity parameter {param!r}; choose one of {', '.join(SENSITIVITY_PARAMS)}.")


def sensitivity(
    prepared: PreparedHistory,
    rules: RewardRules,
    param: str,
    values: Iterable[float],
    end: Any = None,
    baseline: SimulationResult | None = None,
    assumptions: BehaviourAssumptions | None = None,
    gross_margin: float = 0.3,
) -> pd.DataFrame:
    """Replay ``rules`` with ``param`` set to each of ``values``.

    Returns
    -------
    DataFrame
        ``value`` then every replay total (points, currency, share); rows whose
        rules are invalid carry the error text in ``error`` and NaN totals.
        With a ``baseline`` result, also the projection-layer economics vs it
        (``incremental_margin``, ``incremental_cost``, ``net_benefit``, ``roi``;
        see :func:`loyalty.simulator.behaviour.scenario_economics`).
    """
    rows = []
    econ_keys = ("incremental_margin", "incremental_cost", "net_benefit", "roi")
    for v in values:
        try:
            res = replay(prepared, with_param(rules, param, v), end=end)
            row = {"value": v, **{k: res.totals[k] for k in REPLAY_KEYS}, "error": ""}
            if baseline is not None:
                econ = scenario_economics(baseline, res, prepared, assumptions or BehaviourAssumptions(), gross_margin)
                row.update({k: econ[k] for k in econ_keys})
        except RulesError as exc:
            row = {"value": v, **{k: np.nan for k in REPLAY_KEYS}, "error": str(exc)}
            if baseline is not None:
                row.update({k: np.nan for k in econ_keys})
        rows.append(row)
    return pd.DataFrame(rows)
