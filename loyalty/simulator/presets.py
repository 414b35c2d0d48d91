"""Strategy presets derived from a baseline rule set."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from loyalty.simulator.rules import ExpiryPolicy, RewardRules, Tier

# ---------------------------------------------------------------------------
# presets
# ---------------------------------------------------------------------------
PRESETS: tuple[str, ...] = (
    "Devalue points 20%",
    "Add a top tier",
    "Extend expiry to 24 months",
    "Add a 30-day grace period",
    "Double points for Gold",
)


def _unique_name(name: str, taken: Iterable[str]) -> str:
    taken = set(taken)
    out, i = name, 2
    while out in taken:
        out, i = f"{name} {i}", i + 1
    return out


def presets(baseline: RewardRules) -> dict[str, RewardRules]:
    """The strategy presets applied to ``baseline``.

    * Devalue points 20%: point value x 0.8.
    * Add a top tier: threshold 2x the current top one (1,000 if there is a
      single tier), multiplier +0.5, benefit cost 1.5x the top one's.
    * Extend expiry to 24 months: 24 months, same mode (inactivity if none).
    * Add a 30-day grace period: grace days + 30 (inactivity 12 months if none).
    * Double points for Gold: the top tier's multiplier x 2 ("Gold" = top tier).
    """
    top = baseline.tiers[-1]
    new_top = Tier(
        _unique_name("Platinum", baseline.tier_names),
        top.threshold * 2 if len(baseline.tiers) > 1 else 1000.0,
        top.multiplier + 0.5,
        top.annual_benefit_cost * 1.5,
    )
    e = baseline.expiry
    mode = e.mode if e.mode != "none" else "inactivity"
    doubled = (*baseline.tiers[:-1], replace(top, multiplier=top.multiplier * 2))
    out = {
        "Devalue points 20%": replace(baseline, point_value=round(baseline.point_value * 0.8, 10)),
        "Add a top tier": replace(baseline, tiers=(*baseline.tiers, new_top)),
        "Extend expiry to 24 months": replace(baseline, expiry=ExpiryPolicy(mode, 24, e.grace_days)),
        "Add a 30-day grace period": replace(
            baseline, expiry=ExpiryPolicy(mode, e.months if e.mode != "none" else 12, e.grace_days + 30)
        ),
        "Double points for Gold": replace(baseline, tiers=doubled),
    }
    return {k: replace(v, name=k) for k, v in out.items()}
