"""Behaviour layer: how members might react to new rules, kept apart from the replay.

The replay (:mod:`loyalty.simulator`, layer ``"replay"``) answers "what would
these rules have cost on last year's behaviour". This module (layer
``"projection"``) answers "and if members react", under explicit assumptions
whose defaults mean *no reaction*:

* ``spend_elasticity`` (e): member spend x ``(r_s / r_b) ** e`` where ``r`` is
  the effective reward rate = points issued x point value / member purchase
  spend (currency returned per currency spent) of the scenario (s) and the
  baseline (b) replays.
* ``tier_reach_uplift`` (u, 0-1): members within reach of the next tier
  (qualifying spend at the end >= 80% of the next threshold, below it) spend
  ``u`` more; the uplift applies to their share of recent spend.
* ``redemption_elasticity`` (h): points redeemed x ``(v_s / v_b) ** h``
  with ``v`` the point value.
* ``spend_uplift`` (g, -0.5..1): member spend of the scenario x ``(1 + g)``, e.g. a
  campaign's measured relative lift (:func:`loyalty.experiments.campaign_lift`), with
  ``spend_uplift_source`` saying where it comes from.

The forward projection bootstraps months from the last 12 months of the
replayed history (scenario and baseline drawn together, so their difference is
paired), scales them by the factors above and reports a p10-p90 band.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from loyalty.schema import Dataset
from loyalty.simulator import kernels as K
from loyalty.simulator.history import PreparedHistory, prepare, redemptions_from_ledger
from loyalty.simulator.replay import SimulationResult, replay
from loyalty.simulator.rules import RewardRules, RulesError

LAYER_PROJECTION = "projection"
#: A member is "within reach" of the next tier from this share of its threshold.
REACH_SHARE = 0.8
RECENT_MONTHS = 12


@dataclass(frozen=True)
class BehaviourAssumptions:
    """Member reactions assumed by the projection (defaults: none).

    Attributes
    ----------
    spend_elasticity : float
        % change in member spend per % change in the effective reward rate (-5..5).
    tier_reach_uplift : float
        Extra spend (fraction, 0-1) of members within reach of the next tier.
    redemption_elasticity : float
        % change in points redeemed per % change in point value (-5..5).
    horizon_months : int
        Months projected forward (3-24).
    spend_uplift : float
        Extra member spend of the scenario as a fraction (-0.5..1; 0.04 = +4%), e.g. a measured
        campaign lift.
    spend_uplift_source : str
        Where ``spend_uplift`` comes from (e.g. "measured: Spring test, CUPED +4.1% [1.2%, 7.0%]");
        empty when assumed.
    """

    spend_elasticity: float = 0.0
    tier_reach_uplift: float = 0.0
    redemption_elasticity: float = 0.0
    horizon_months: int = 12
    spend_uplift: float = 0.0
    spend_uplift_source: str = ""

    def __post_init__(self) -> None:
        for name, lo, hi in (("spend_elasticity", -5, 5), ("redemption_elasticity", -5, 5), ("tier_reach_uplift", 0, 1),
                             ("spend_uplift", -0.5, 1)):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not math.isfinite(v) or not lo <= v <= hi:
                raise RulesError(f"{name.replace('_', ' ').capitalize()} must be between {lo} and {hi} (got {v!r}).", name)
        if not isinstance(self.horizon_months, int) or not 3 <= self.horizon_months <= 24:
            raise RulesError(f"Horizon must be 3 to 24 months (got {self.horizon_months!r}).", "horizon_months")
        if not isinstance(self.spend_uplift_source, str) or len(self.spend_uplift_source) > 200:
            raise RulesError("The spend uplift's source must be a text of at most 200 characters.", "spend_uplift")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Projection:
    """Forward projection of one scenario against the baseline (layer ``"projection"``).

    ``band``: one row per (month ahead, metric) with ``p10``, ``p50``, ``p90``;
    metrics ``spend`` (member purchases, currency), ``issued``, ``redeemed``,
    ``expired``, ``outstanding`` (points), ``reward_cost``, ``incremental_margin``,
    ``incremental_cost`` and ``net_benefit`` (cumulative currency vs baseline).
    ``summary``: the same metrics at the horizon (cumulative where flows).
    """

    band: pd.DataFrame
    summary: pd.DataFrame
    factors: dict[str, float]
    assumptions: BehaviourAssumptions
    notes: tuple[str, ...] = field(default=())
    layer: str = LAYER_PROJECTION


def _member_spend(prep: PreparedHistory, end_ns: int) -> float:
    ok = (prep.tx_amount > 0) & (prep.tx_time <= end_ns)
    return float(prep.tx_amount[ok].sum())


def effective_reward_rate(result: SimulationResult, member_spend: float) -> float:
    """Currency returned per currency of member purchases: issued x point value / spend."""
    if member_spend <= 0:
        return 0.0
    return result.totals.points_issued * result.rules.point_value / member_spend


def _reach_share(result: SimulationResult) -> float:
    """Share of end-window spend made by members within reach of their next tier."""
    m = result.members
    thr = np.array([t.threshold for t in result.rules.tiers] + [np.inf])
    idx = np.searchsorted(thr[:-1], m["qualifying_spend"].to_numpy(), side="right") - 1
    nxt = thr[np.clip(idx + 1, 0, len(thr) - 1)]
    spend = m["qualifying_spend"].clip(lower=0).to_numpy()
    near = np.isfinite(nxt) & (spend >= REACH_SHARE * nxt) & (spend < nxt)
    total = spend.sum()
    return float(spend[near].sum() / total) if total > 0 else 0.0


def behaviour_factors(
    baseline: SimulationResult, scenario: SimulationResult, member_spend: float, a: BehaviourAssumptions
) -> dict[str, float]:
    """Multipliers applied to spend and redemptions, with the rates they come from."""
    rb = effective_reward_rate(baseline, member_spend)
    rs = effective_reward_rate(scenario, member_spend)
    spend_f = (rs / rb) ** a.spend_elasticity if rb > 0 and rs > 0 else 1.0
    reach = _reach_share(scenario)
    spend_f *= 1.0 + a.tier_reach_uplift * reach
    spend_f *= 1.0 + a.spend_uplift
    vb, vs = baseline.rules.point_value, scenario.rules.point_value
    red_f = (vs / vb) ** a.redemption_elasticity if vb > 0 and vs > 0 else 1.0
    return {
        "effective_rate_baseline": rb,
        "effective_rate_scenario": rs,
        "share_of_spend_within_reach": reach,
        "spend_factor": float(spend_f),
        "redemption_factor": float(red_f),
    }


def _recent(result: SimulationResult, n: int) -> pd.DataFrame:
    m = result.monthly
    return m.iloc[-n:].reset_index(drop=True)


def project(
    prepared: PreparedHistory | Dataset,
    baseline_rules: RewardRules,
    scenario_rules: RewardRules,
    assumptions: BehaviourAssumptions | None = None,
    months: int | None = None,
    n_boot: int = 500,
    random_state: int | None = 0,
    gross_margin: float = 0.3,
    baseline_result: SimulationResult | None = None,
    scenario_result: SimulationResult | None = None,
) -> Projection:
    """Project a scenario ``months`` ahead by bootstrapping recent months.

    Parameters
    ----------
    prepared : PreparedHistory or Dataset
        A dataset is prepared with its ledger's redeem events.
    baseline_rules, scenario_rules : RewardRules
    assumptions : BehaviourAssumptions, optional
        Defaults to no reaction.
    months : int, optional
        Horizon; defaults to ``assumptions.horizon_months``.
    n_boot : int
        Bootstrap draws.
    random_state : int, optional
    gross_margin : float
        Gross margin on member spend (0-1), for the incremental margin.
    baseline_result, scenario_result : SimulationResult, optional
        Replays already computed (e.g. cached), reused instead of replaying.

    Returns
    -------
    Projection
    """
    if isinstance(prepared, Dataset):
        prepared = prepare(prepared.transactions, redemptions_from_ledger(prepared.ledger))
    a = assumptions or BehaviourAssumptions()
    months = months or a.horizon_months
    base = baseline_result or replay(prepared, baseline_rules)
    scn = scenario_result or replay(prepared, scenario_rules)
    end_ns = int(base.end.value)
    f = behaviour_factors(base, scn, _member_spend(prepared, end_ns), a)

    # Monthly member purchase spend over the same months as the replay's series.
    ok = (prepared.tx_amount > 0) & (prepared.tx_time <= end_ns)
    mi = K.month_index(prepared.tx_time[ok])
    m_first = int(K.month_index(np.array([base.monthly["month"].iloc[0].value]))[0])
    spend_m = np.bincount(mi - m_first, weights=prepared.tx_amount[ok], minlength=len(base.monthly))
    n_recent = min(RECENT_MONTHS, len(base.monthly))
    notes = [f"Bootstrap of the last {n_recent} months of replayed history ({n_boot} draws)."]
    if n_recent < 6:
        notes.append("Fewer than 6 months of history: the band understates the uncertainty.")
    rb, rs = _recent(base, n_recent), _recent(scn, n_recent)
    spend = spend_m[-n_recent:]

    rng = np.random.default_rng(random_state)
    draw = rng.integers(0, n_recent, size=(n_boot, months))
    sf, rf = f["spend_factor"], f["redemption_factor"]
    s = spend[draw] * sf
    issued = rs["issued"].to_numpy()[draw] * sf
    expired = rs["expired"].to_numpy()[draw] * sf
    redeemed = rs["redeemed"].to_numpy()[draw] * rf
    # Outstanding evolves from the scenario's end balance; redemptions and expiries cannot overdraw it.
    out = np.empty_like(issued)
    bal = np.full(n_boot, scn.totals.points_outstanding)
    for k in range(months):  # a loop over months ahead, vectorised over draws
        redeemed[:, k] = np.minimum(redeemed[:, k], bal + issued[:, k])
        expired[:, k] = np.minimum(expired[:, k], bal + issued[:, k] - redeemed[:, k])
        bal = bal + issued[:, k] - redeemed[:, k] - expired[:, k]
        out[:, k] = bal
    pv_s, pv_b = scenario_rules.point_value, baseline_rules.point_value
    cost_s = redeemed * pv_s + scn.totals.tier_benefit_cost / 12.0
    cost_b = rb["redeemed"].to_numpy()[draw] * pv_b + base.totals.tier_benefit_cost / 12.0
    margin = spend[draw] * (sf - 1.0) * gross_margin
    series = {
        "spend": np.cumsum(s, axis=1),
        "issued": np.cumsum(issued, axis=1),
        "redeemed": np.cumsum(redeemed, axis=1),
        "expired": np.cumsum(expired, axis=1),
        "outstanding": out,
        "reward_cost": np.cumsum(redeemed * pv_s, axis=1),
        "incremental_margin": np.cumsum(margin, axis=1),
        "incremental_cost": np.cumsum(cost_s - cost_b, axis=1),
        "net_benefit": np.cumsum(margin - (cost_s - cost_b), axis=1),
    }
    rows = []
    for name, arr in series.items():
        q = np.percentile(arr, [10, 50, 90], axis=0)
        for k in range(months):
            rows.append({"month_ahead": k + 1, "metric": name, "p10": q[0, k], "p50": q[1, k], "p90": q[2, k]})
    band = pd.DataFrame(rows)
    summary = band[band["month_ahead"] == months].drop(columns="month_ahead").reset_index(drop=True)
    summary["layer"] = LAYER_PROJECTION
    band["layer"] = LAYER_PROJECTION
    return Projection(band=band, summary=summary, factors=f, assumptions=a, notes=tuple(notes))


def scenario_economics(
    baseline: SimulationResult,
    scenario: SimulationResult,
    prepared: PreparedHistory,
    assumptions: BehaviourAssumptions,
    gross_margin: float,
) -> dict[str, float]:
    """Deterministic yearly economics of a scenario vs the baseline (layer ``"projection"``).

    Over the last 12 months of history: incremental margin = spend x
    (spend factor - 1) x gross margin; incremental cost = scenario total cost
    - baseline total cost (reward cost scaled by the redemption factor,
    pro-rated to 12 months, + tier benefits); net benefit = margin - cost;
    ROI = net benefit / incremental cost (NaN unless the cost rises).
    """
    end_ns = int(baseline.end.value)
    f = behaviour_factors(baseline, scenario, _member_spend(prepared, end_ns), assumptions)
    year = end_ns - 365 * K.DAY_NS
    ok = (prepared.tx_amount > 0) & (prepared.tx_time <= end_ns) & (prepared.tx_time > year)
    spend = float(prepared.tx_amount[ok].sum())
    red_b = float(baseline.monthly["redeemed"].iloc[-12:].sum())
    red_s = float(scenario.monthly["redeemed"].iloc[-12:].sum()) * f["redemption_factor"]
    cost_b = red_b * baseline.rules.point_value + baseline.totals.tier_benefit_cost
    cost_s = red_s * scenario.rules.point_value + scenario.totals.tier_benefit_cost
    margin = spend * (f["spend_factor"] - 1.0) * gross_margin
    d_cost = cost_s - cost_b
    net = margin - d_cost
    return {
        **f,
        "incremental_margin": margin,
        "incremental_cost": d_cost,
        "net_benefit": net,
        "roi": net / d_cost if d_cost > 0 else float("nan"),
    }
