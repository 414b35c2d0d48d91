"""Scenario files (JSON) and share links (compressed URL codes)."""

from __future__ import annotations

import base64
import json
import zlib

from loyalty.simulator.behaviour import BehaviourAssumptions
from loyalty.simulator.rules import RewardRules, RulesError

# ---------------------------------------------------------------------------
# scenario files and links
# ---------------------------------------------------------------------------
MAX_SCENARIOS = 5  # the baseline + four


def scenarios_to_json(scenarios: list[tuple[RewardRules, BehaviourAssumptions]]) -> str:
    """Scenarios (rules + behaviour assumptions, baseline first) as a JSON document."""
    doc = {
        "format": "loyalty-lab-scenarios/1",
        "scenarios": [{"rules": r.to_dict(), "assumptions": a.to_dict()} for r, a in scenarios],
    }
    return json.dumps(doc, sort_keys=True, indent=1)


#: Caps on what a scenarios file or link may hold (bytes of JSON, characters of a link).
MAX_SCENARIOS_BYTES = 200_000
MAX_LINK_CHARS = 20_000


def scenarios_from_json(text: str | bytes) -> list[tuple[RewardRules, BehaviourAssumptions]]:
    """Parse :func:`scenarios_to_json` output; problems raise :class:`RulesError` naming the scenario.

    Files over :data:`MAX_SCENARIOS_BYTES` and absurdly nested JSON are refused before parsing.
    """
    if len(text) > MAX_SCENARIOS_BYTES:
        raise RulesError(f"The scenarios file is too large ({len(text):,} bytes; at most {MAX_SCENARIOS_BYTES:,}).")
    try:
        doc = json.loads(text)
    except RecursionError:
        raise RulesError("The scenarios file is nested too deeply to be scenarios.") from None
    except (json.JSONDecodeError, UnicodeDecodeError, TypeError) as exc:
        raise RulesError(f"The scenarios file is not valid JSON: {exc}.") from exc
    items = doc.get("scenarios") if isinstance(doc, dict) else None
    if not isinstance(items, list) or not items:
        raise RulesError("The scenarios file has no 'scenarios' list.")
    if len(items) > MAX_SCENARIOS:
        raise RulesError(f"At most {MAX_SCENARIOS} scenarios (the baseline + 4); the file has {len(items)}.")
    out = []
    for i, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise RulesError(f"Scenario {i} is not a JSON object.")
        try:
            rules = RewardRules.from_dict(item.get("rules", {}))
            a = item.get("assumptions") or {}
            if not isinstance(a, dict):
                raise RulesError("assumptions must be a JSON object.")
            assumptions = BehaviourAssumptions(**a)
        except TypeError as exc:
            raise RulesError(f"Scenario {i}: unexpected assumptions ({exc}).") from exc
        except RulesError as exc:
            raise RulesError(f"Scenario {i}: {exc}", exc.field) from exc
        out.append((rules, assumptions))
    return out


def encode_scenarios(scenarios: list[tuple[RewardRules, BehaviourAssumptions]]) -> str:
    """Compact URL-safe text (zlib-compressed JSON, base64url) for a shareable link."""
    doc = [[r.to_dict(), a.to_dict()] for r, a in scenarios]
    raw = json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")


def decode_scenarios(code: str) -> list[tuple[RewardRules, BehaviourAssumptions]]:
    """Inverse of :func:`encode_scenarios`; a damaged link raises :class:`RulesError`."""
    if len(code) > MAX_LINK_CHARS:
        raise RulesError(f"The scenarios in this link are too long ({len(code):,} characters) and were ignored.")
    try:
        # Bounded decompression: a small link must not expand into megabytes.
        inflater = zlib.decompressobj()
        raw = inflater.decompress(base64.urlsafe_b64decode(code + "=" * (-len(code) % 4)), MAX_SCENARIOS_BYTES)
        if inflater.unconsumed_tail:
            raise RulesError("The scenarios in this link expand too far and were ignored.")
        doc = json.loads(raw)
    except RecursionError:
        raise RulesError("The scenarios in this link are damaged and were ignored.") from None
    except (ValueError, zlib.error) as exc:
        if isinstance(exc, RulesError):
            raise
        raise RulesError("The scenarios in this link are damaged and were ignored.") from exc
    if not isinstance(doc, list) or not doc or not all(isinstance(d, list) and len(d) == 2 for d in doc):
        raise RulesError("The scenarios in this link are damaged and were ignored.")
    return scenarios_from_json(json.dumps({"scenarios": [{"rules": r, "assumptions": a} for r, a in doc]}))
