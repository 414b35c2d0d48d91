"""Reward rules: the frozen, JSON-serialisable description of a program's
earn, tier and expiry mechanics that the simulator replays history under.

Units: ``earn_rate`` is points per currency unit of spend, ``point_value`` is
currency per point, tier ``threshold`` is qualifying spend (currency) over the
trailing ``qualification_days``, ``annual_benefit_cost`` is currency per member
per year in the tier.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

ExpiryMode = Literal["none", "inactivity", "fixed"]
#: Bounds of expiry months and of day counts (grace, qualification window).
MAX_MONTHS = 600
MAX_DAYS = 3650
#: Bounds that keep a replay's work and arithmetic in range (a link or a file can carry anything).
MAX_TIERS = 20
MAX_THRESHOLD = 1e12  # currency: spend sums stay exact in int64 cents far below 9.2e16
MAX_RATE = 1e4  # points per currency unit, and a tier multiplier
MAX_POINT_VALUE = 1e4  # currency per point
MAX_NAME = 60


class RulesError(ValueError):
    """Invalid rules. ``field`` names the offending input (e.g. ``tiers[1].threshold``)."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def _bounded(value: float, upper: float, name: str, field_name: str) -> None:
    if value > upper:
        raise RulesError(f"{name} must be at most {upper:,.0f} (got {value:,.6g}).", field_name)


def _finite_nonneg(value: float, name: str, field_name: str) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise RulesError(f"{name} must be a finite number, got {value!r}.", field_name)
    if value < 0:
        raise RulesError(f"{name} cannot be negative (got {value}).", field_name)


@dataclass(frozen=True)
class Tier:
    """A tier reached when qualifying spend >= ``threshold`` (currency)."""

    name: str
    threshold: float
    multiplier: float
    annual_benefit_cost: float = 0.0

    def __post_init__(self) -> None:
        if not str(self.name).strip():
            raise RulesError("A tier needs a name.", "tiers.name")
        if not isinstance(self.name, str) or len(self.name) > MAX_NAME:
            raise RulesError(f"A tier name must be text of at most {MAX_NAME} characters.", "tiers.name")
        _finite_nonneg(self.threshold, f"Tier '{self.name}' threshold", "tiers.threshold")
        _bounded(self.threshold, MAX_THRESHOLD, f"Tier '{self.name}' threshold", "tiers.threshold")
        _finite_nonneg(self.multiplier, f"Tier '{self.name}' multiplier", "tiers.multiplier")
        _bounded(self.multiplier, MAX_RATE, f"Tier '{self.name}' multiplier", "tiers.multiplier")
        _finite_nonneg(
            self.annual_benefit_cost, f"Tier '{self.name}' benefit cost", "tiers.annual_benefit_cost"
        )


@dataclass(frozen=True)
class ExpiryPolicy:
    """When points expire.

    * ``none``: never.
    * ``inactivity``: the whole balance expires ``months`` calendar months +
      ``grace_days`` days after the last activity, unless activity happens first.
    * ``fixed``: each earning lot expires ``months`` months + ``grace_days``
      days after it was earned (redemptions use the oldest lots first).
    """

    mode: ExpiryMode = "none"
    months: int = 12
    grace_days: int = 0

    def __post_init__(self) -> None:
        if self.mode not in ("none", "inactivity", "fixed"):
            raise RulesError(
                f"Expiry mode must be none, inactivity or fixed (got {self.mode!r}).", "expiry.mode"
            )
        # Upper bounds keep deadlines inside the datetime64[ns] range (year 2262).
        if (
            not isinstance(self.months, int)
            or isinstance(self.months, bool)
            or not 1 <= self.months <= MAX_MONTHS
        ):
            raise RulesError(
                f"Expiry months must be a whole number from 1 to {MAX_MONTHS} (got {self.months!r}).",
                "expiry.months",
            )
        if (
            not isinstance(self.grace_days, int)
            or isinstance(self.grace_days, bool)
            or not 0 <= self.grace_days <= MAX_DAYS
        ):
            raise RulesError(
                f"Grace days must be a whole number from 0 to {MAX_DAYS} (got {self.grace_days!r}).",
                "expiry.grace_days",
            )


@dataclass(frozen=True)
class RewardRules:
    """A complete reward structure. Invalid values raise :class:`RulesError`."""

    earn_rate: float = 1.0
    point_value: float = 0.01
    tiers: tuple[Tier, ...] = field(default=(Tier("Base", 0.0, 1.0),))
    qualification_days: int = 365
    expiry: ExpiryPolicy = field(default_factory=ExpiryPolicy)
    min_redemption: float = 0
    name: str = ""

    def __post_init__(self) -> None:
        _finite_nonneg(self.earn_rate, "Earn rate", "earn_rate")
        _bounded(self.earn_rate, MAX_RATE, "Earn rate", "earn_rate")
        _finite_nonneg(self.point_value, "Point value", "point_value")
        _bounded(self.point_value, MAX_POINT_VALUE, "Point value", "point_value")
        _finite_nonneg(self.min_redemption, "Minimum redemption", "min_redemption")
        if (
            not isinstance(self.qualification_days, int)
            or isinstance(self.qualification_days, bool)
            or not 1 <= self.qualification_days <= MAX_DAYS
        ):
            raise RulesError(
                f"Qualification window must be a whole number of days from 1 to {MAX_DAYS} "
                f"(got {self.qualification_days!r}).",
                "qualification_days",
            )
        tiers = tuple(self.tiers)
        object.__setattr__(self, "tiers", tiers)
        if not tiers:
            raise RulesError("At least one tier is needed (the base tier, threshold 0).", "tiers")
        if len(tiers) > MAX_TIERS:
            raise RulesError(f"At most {MAX_TIERS} tiers (got {len(tiers):,}).", "tiers")
        if not all(isinstance(t, Tier) for t in tiers):
            raise RulesError("Tiers must be Tier objects.", "tiers")
        if tiers[0].threshold != 0:
            raise RulesError(
                f"The first tier ('{tiers[0].name}') must start at threshold 0 "
                f"(got {tiers[0].threshold}); otherwise some members have no tier.",
                "tiers[0].threshold",
            )
        for i in range(1, len(tiers)):
            if tiers[i].threshold <= tiers[i - 1].threshold:
                raise RulesError(
                    f"Tier thresholds must increase strictly: '{tiers[i].name}' "
                    f"({tiers[i].threshold}) is not above '{tiers[i - 1].name}' "
                    f"({tiers[i - 1].threshold}).",
                    f"tiers[{i}].threshold",
                )
        names = [t.name for t in tiers]
        if len(set(names)) != len(names):
            raise RulesError(f"Tier names must be unique (got {names}).", "tiers.name")

    # -- serialisation -------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RewardRules:
        if not isinstance(d, dict):
            raise RulesError("Rules must be a JSON object.")
        d = dict(d)
        try:
            tiers = tuple(Tier(**t) for t in d.pop("tiers", [{"name": "Base", "threshold": 0.0, "multiplier": 1.0}]))
            expiry = ExpiryPolicy(**d.pop("expiry", {}))
            return cls(tiers=tiers, expiry=expiry, **d)
        except TypeError as exc:  # unknown or missing keys
            raise RulesError(f"Rules JSON has an unexpected shape: {exc}.") from exc

    @classmethod
    def from_json(cls, text: str) -> RewardRules:
        try:
            d = json.loads(text)
        except (json.JSONDecodeError, TypeError) as exc:
            raise RulesError(f"Not valid JSON: {exc}.") from exc
        return cls.from_dict(d)

    # -- helpers ---------------------------------------------------------
    @property
    def tier_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tiers)

    def tier_for(self, qualifying_spend: float) -> Tier:
        """Highest tier whose threshold <= ``qualifying_spend``."""
        best = self.tiers[0]
        for t in self.tiers:
            if t.threshold <= qualifying_spend:
                best = t
        return best


#: The rule set that generated the bundled sample program's ledger.
SAMPLE_RULES = RewardRules(
    earn_rate=1.0,
    point_value=0.01,
    tiers=(
        Tier("Bronze", 0.0, 1.0, 0.0),
        Tier("Silver", 500.0, 1.25, 5.0),
        Tier("Gold", 1500.0, 1.5, 20.0),
    ),
    qualification_days=365,
    expiry=ExpiryPolicy("inactivity", months=12, grace_days=30),
    min_redemption=500,
    name="Sample program rules",
)
