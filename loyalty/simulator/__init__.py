"""What-if simulator: reward rules, the exact replay of history under them, and scenario tools.

``rules`` (frozen, validated rules), ``history`` (per-dataset preparation), ``kernels`` (vectorised
numpy maths), ``replay`` (the rules docstring and :func:`replay`), ``compare`` (comparison table,
sensitivity), ``presets``, ``baseline`` (current rules inferred from the data), ``behaviour``
(projection layer, kept apart from the replay), ``codec`` (scenario JSON and share links).
"""

from loyalty.simulator.baseline import infer_baseline_rules
from loyalty.simulator.behaviour import (
    LAYER_PROJECTION,
    REACH_SHARE,
    RECENT_MONTHS,
    BehaviourAssumptions,
    Projection,
    behaviour_factors,
    effective_reward_rate,
    project,
    scenario_economics,
)
from loyalty.simulator.codec import (
    MAX_SCENARIOS,
    decode_scenarios,
    encode_scenarios,
    scenarios_from_json,
    scenarios_to_json,
)
from loyalty.simulator.compare import SENSITIVITY_PARAMS, compare, sensitivity, with_param
from loyalty.simulator.history import (
    Horizon,
    Ordinals,
    PreparedHistory,
    horizon,
    memo,
    prepare,
    redemptions_from_ledger,
    spend_at_end,
    to_ns,
    trailing_spend,
)
from loyalty.simulator.presets import PRESETS, presets
from loyalty.simulator.replay import (
    LAYER_REPLAY,
    ReplayTotals,
    SimulationResult,
    grace_saving,
    horizon_months,
    make_totals,
    replay,
    replay_ledger,
)
from loyalty.simulator.rules import (
    MAX_DAYS,
    MAX_MONTHS,
    SAMPLE_RULES,
    ExpiryPolicy,
    RewardRules,
    RulesError,
    Tier,
)

__all__ = [
    "BehaviourAssumptions",
    "ExpiryPolicy",
    "Horizon",
    "LAYER_PROJECTION",
    "LAYER_REPLAY",
    "MAX_DAYS",
    "MAX_MONTHS",
    "MAX_SCENARIOS",
    "Ordinals",
    "PRESETS",
    "PreparedHistory",
    "Projection",
    "REACH_SHARE",
    "RECENT_MONTHS",
    "ReplayTotals",
    "RewardRules",
    "RulesError",
    "SAMPLE_RULES",
    "SENSITIVITY_PARAMS",
    "SimulationResult",
    "Tier",
    "behaviour_factors",
    "compare",
    "decode_scenarios",
    "effective_reward_rate",
    "encode_scenarios",
    "grace_saving",
    "horizon",
    "horizon_months",
    "infer_baseline_rules",
    "make_totals",
    "memo",
    "prepare",
    "presets",
    "project",
    "redemptions_from_ledger",
    "replay",
    "replay_ledger",
    "scenario_economics",
    "scenarios_from_json",
    "scenarios_to_json",
    "sensitivity",
    "spend_at_end",
    "to_ns",
    "trailing_spend",
    "with_param",
]
