"""Bounded work per link and per file: rules and scenario payloads are validated with stated limits (issue 19)."""

from __future__ import annotations

import base64
import json
import zlib

import pytest

from loyalty.simulator import (
    SAMPLE_RULES,
    RewardRules,
    RulesError,
    Tier,
    decode_scenarios,
    scenarios_from_json,
)
from loyalty.simulator.codec import MAX_LINK_CHARS, MAX_SCENARIOS_BYTES
from loyalty.simulator.rules import MAX_TIERS


def test_tier_count_is_bounded():
    tiers = tuple(Tier(f"T{i}", float(i * 100), 1.0) for i in range(MAX_TIERS + 1))
    with pytest.raises(RulesError, match=f"At most {MAX_TIERS} tiers") as exc:
        RewardRules(tiers=tiers)
    assert exc.value.field == "tiers"
    assert len(RewardRules(tiers=tiers[:MAX_TIERS]).tiers) == MAX_TIERS


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: RewardRules(earn_rate=1e300), "earn_rate"),
        (lambda: RewardRules(point_value=1e9), "point_value"),
        (lambda: RewardRules(tiers=(Tier("Base", 0.0, 1.0), Tier("Top", 1e17, 2.0))), "tiers.threshold"),
        (lambda: RewardRules(tiers=(Tier("Base", 0.0, 1e9),)), "tiers.multiplier"),
    ],
)
def test_values_that_would_overflow_or_mean_nothing_are_refused(make, field):
    """A threshold of 1e17 used to overflow int64 cents and put everyone in the top tier."""
    with pytest.raises(RulesError) as exc:
        make()
    assert exc.value.field == field


def test_a_long_tier_name_is_refused():
    with pytest.raises(RulesError, match="at most 60 characters"):
        Tier("x" * 61, 0.0, 1.0)


def _code(doc) -> str:
    return base64.urlsafe_b64encode(zlib.compress(json.dumps(doc).encode(), 9)).decode().rstrip("=")


def test_oversized_and_bomb_links_are_ignored_with_a_message():
    with pytest.raises(RulesError, match="too long"):
        decode_scenarios("A" * (MAX_LINK_CHARS + 1))
    bomb = _code([[SAMPLE_RULES.to_dict(), {"note": "x" * (MAX_SCENARIOS_BYTES * 5)}]])
    assert len(bomb) < MAX_LINK_CHARS  # small link, big payload
    with pytest.raises(RulesError, match="expand too far"):
        decode_scenarios(bomb)


def test_deeply_nested_payloads_are_refused_not_crashing():
    nested = "[" * 100_000 + "]" * 100_000
    with pytest.raises(RulesError):
        scenarios_from_json(nested[:MAX_SCENARIOS_BYTES])
    with pytest.raises(RulesError, match="too large"):
        scenarios_from_json(" " * (MAX_SCENARIOS_BYTES + 1))
    deep = base64.urlsafe_b64encode(zlib.compress(("[" * 50_000 + "]" * 50_000).encode())).decode()
    with pytest.raises(RulesError):
        decode_scenarios(deep)
