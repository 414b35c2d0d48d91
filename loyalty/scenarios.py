"""Scenario helpers around the replay: the baseline inferred from the data,
strategy presets, the comparison table and one-parameter sensitivity sweeps."""

from __future__ import annotations

import base64
import json
import math
import zlib
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from loyalty import replay_kernels as K
from loyalty.behaviour import BehaviourAssumptions, scenario_economics
from loyalty.rules import ExpiryPolicy, RewardRules, RulesError, Tier
from loyalty.schema import Dataset
from loyalty.simulation import KPI_DEFINITIONS, PreparedHistory, SimulationResult, replay

__all__ = ["KPI_LABELS", "PRESETS", "compare", "infer_baseline_rules", "presets", "sensitivity", "SENSITIVITY_PARAMS"]

#: KPI -> (label, unit) for tables and charts.
KPI_LABELS: dict[str, tuple[str, str]] = {
    "points_issued": ("Points issued", "points"),
    "points_redeemed": ("Points redeemed", "points"),
    "points_expired": ("Points expired", "points"),
    "points_outstanding": ("Points outstanding", "points"),
    "reward_cost": ("Reward cost", "currency"),
    "tier_benefit_cost": ("Tier benefit cost (annual)", "currency"),
    "total_cost": ("Total cost", "currency"),
    "liability": ("Liability (breakage-adjusted)", "currency"),
    "liability_naive": ("Liability (no breakage)", "currency"),
    "breakage_rate": ("Breakage rate", "share"),
    "points_saved_by_grace": ("Points saved by grace", "points"),
    "members": ("Members", "members"),
}


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
    keys = [k for k in KPI_LABELS]
    for d in values.values():
        keys += [k for k in d if k.startswith("members_") and k not in keys]
    rows = []
    for k in keys:
        label, unit = KPI_LABELS.get(k, (f"Members in tier {k[8:]} at end", "members"))
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
        see :func:`loyalty.behaviour.scenario_economics`).
    """
    rows = []
    econ_keys = ("incremental_margin", "incremental_cost", "net_benefit", "roi")
    for v in values:
        try:
            res = replay(prepared, with_param(rules, param, v), end=end)
            row = {"value": v, **{k: res.totals[k] for k in KPI_LABELS}, "error": ""}
            if baseline is not None:
                econ = scenario_economics(baseline, res, prepared, assumptions or BehaviourAssumptions(), gross_margin)
                row.update({k: econ[k] for k in econ_keys})
        except RulesError as exc:
            row = {"value": v, **{k: np.nan for k in KPI_LABELS}, "error": str(exc)}
            if baseline is not None:
                row.update({k: np.nan for k in econ_keys})
        rows.append(row)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------
# baseline inferred from the data
# ---------------------------------------------------------------------------
def _nice_between(lo: float, hi: float) -> float:
    """The roundest number in ``(lo, hi]`` (a tier threshold between two tiers' spends)."""
    for step in (10000, 5000, 1000, 500, 250, 100, 50, 25, 10, 5, 1, 0.5, 0.1, 0.01):
        c = math.floor(lo / step + 1) * step
        if lo < c <= hi:
            return float(c)
    return float(hi)


def _member_spend_at_end(tx: pd.DataFrame, days: int = 365) -> pd.Series:
    end = tx["timestamp"].max()
    win = tx[tx["member_id"].notna() & (tx["timestamp"] >= end - pd.Timedelta(days=days))]
    return win.groupby("member_id")["amount"].sum()


def _infer_tiers(ds: Dataset, earned: pd.DataFrame | None, notes: list[str]) -> tuple[Tier, ...] | None:
    """Tiers from ``members.tier`` (names, thresholds) and the earn ledger (multipliers)."""
    if ds.members is None or "tier" not in ds.members.columns or ds.members["tier"].notna().sum() == 0:
        return None
    tiers = ds.members.set_index("member_id")["tier"].dropna().astype(str)
    spend = _member_spend_at_end(ds.transactions).reindex(tiers.index).fillna(0.0)
    order = spend.groupby(tiers).median().sort_values()
    names = list(order.index)
    thresholds = [0.0]
    for lower, upper in zip(names[:-1], names[1:], strict=True):
        lo = float(spend[tiers == lower].max())
        hi = float(spend[tiers == upper].min())
        if hi <= lo:
            lo = float(spend[tiers == lower].quantile(0.95))
            hi = max(float(spend[tiers == upper].quantile(0.05)), lo + 0.01)
        thresholds.append(max(_nice_between(lo, hi), thresholds[-1] + 0.01))
    mults = [1.0] * len(names)
    if earned is not None and len(earned):
        # Large purchases pin the per-purchase rate to 2 decimals: earn_rate x multiplier.
        big = earned[earned["amount"] >= 100]
        level = np.ceil(big["points"] / big["amount"] * 100 - 1e-9) / 100
        share = level.value_counts(normalize=True)
        levels = sorted(share[share >= 0.02].index)
        if len(levels) == len(names):
            mults = [lv / levels[0] for lv in levels]
            notes.append(
                f"Tier multipliers {', '.join(f'{m:g}' for m in mults)} inferred from the points earned per "
                "currency unit on purchases of 100 or more."
            )
        else:
            notes.append(
                f"Tier multipliers not identifiable ({len(levels)} earn levels for {len(names)} tiers): "
                "assumed x1 for every tier — set them by hand."
            )
    notes.append(
        f"Tiers {', '.join(names)} taken from members.tier, ordered by members' spend over the last 365 days; "
        "thresholds placed between the tiers' spends (rounded); qualification window assumed 365 days."
    )
    return tuple(Tier(n, th, m) for n, th, m in zip(names, thresholds, mults, strict=True))


def _infer_expiry(ds: Dataset, notes: list[str]) -> ExpiryPolicy:
    led = ds.ledger
    exp = led[led["event"] == "expire"] if led is not None else None
    if exp is None or exp.empty:
        notes.append("No expiry events in the data: expiry assumed 'none'.")
        return ExpiryPolicy("none")
    led = led[led["member_id"].notna()].sort_values(["timestamp"], kind="stable")
    # Whole-balance expiry leaves a zero balance right after each expire row.
    bal = led.groupby("member_id")["points"].cumsum()
    whole = float((bal[exp.index.intersection(bal.index)] == 0).mean())
    tx = ds.transactions
    act = pd.concat(
        [
            tx.loc[tx["member_id"].notna() & (tx["amount"] > 0), ["member_id", "timestamp"]],
            led.loc[led["event"] == "redeem", ["member_id", "timestamp"]],
        ]
    ).sort_values("timestamp")
    e = exp[["member_id", "timestamp"]].rename(columns={"timestamp": "expired_at"}).sort_values("expired_at")
    m = pd.merge_asof(
        e, act.rename(columns={"timestamp": "last"}), left_on="expired_at", right_on="last",
        by="member_id", direction="backward", allow_exact_matches=False,
    ).dropna(subset=["last"])
    if m.empty:
        notes.append("Expiry events found but no earlier activity to measure from: expiry assumed 12 months.")
        return ExpiryPolicy("inactivity" if whole >= 0.9 else "fixed", 12, 0)
    last = m["last"].astype("datetime64[ns]").to_numpy().view(np.int64)
    at = m["expired_at"].astype("datetime64[ns]").to_numpy().view(np.int64)
    best = (0, 12, 0)
    for months in range(1, 61):  # a loop over candidate rule values, not rows
        gap = at - K.add_months(last, months)
        days = gap[(gap >= 0) & (gap % K.DAY_NS == 0)] // K.DAY_NS
        if days.size:
            vals, counts = np.unique(days, return_counts=True)
            i = int(np.argmax(counts))
            if counts[i] > best[0]:
                best = (int(counts[i]), months, int(vals[i]))
    share, months, grace = best[0] / len(m), best[1], best[2]
    mode = "inactivity" if whole >= 0.9 else "fixed"
    if mode == "inactivity" and share >= 0.5:
        notes.append(
            f"Inactivity expiry inferred: {share:.0%} of expiries fall exactly {months} months + {grace} days "
            f"after the member's last activity, and {whole:.0%} of them empty the balance."
        )
        return ExpiryPolicy("inactivity", months, grace)
    gaps = (at - last) / K.DAY_NS
    months = max(1, round(float(np.median(gaps)) / 30.44))
    notes.append(
        f"Expiry events found ({mode}, {whole:.0%} empty the balance) but no exact rule fits: "
        f"expiry estimated at {months} months from the median gap, grace 0 days — check it."
    )
    return ExpiryPolicy(mode, months, 0)


def infer_baseline_rules(dataset: Dataset, point_value: float = 0.01) -> tuple[RewardRules, list[str]]:
    """The program's current rules as far as the data shows them.

    Earn rate = points earned / member spend on purchases (ledger earn events,
    else the transactions' ``points_earned``); tiers from ``members.tier``;
    expiry from the ledger's expire events (inactivity months + grace estimated
    from the gap between the last activity and the expiry). Everything not in
    the data is a stated default.

    Returns
    -------
    (RewardRules, list of str)
        The rules and notes saying what was inferred and what was assumed.
    """
    notes: list[str] = []
    tx = dataset.transactions
    buys = tx[tx["member_id"].notna() & (tx["amount"] > 0)]
    spend = float(buys["amount"].sum())
    led = dataset.ledger
    earned = None
    points = None
    if led is not None and (led["event"] == "earn").any():
        ev = led[(led["event"] == "earn") & led["member_id"].notna()]
        points = float(ev["points"].sum())
        # Purchases matched one-to-one with their earn row (same member and time).
        b1 = buys[~buys.duplicated(["member_id", "timestamp"], keep=False)]
        e1 = ev[~ev.duplicated(["member_id", "timestamp"], keep=False)]
        earned = b1[["member_id", "timestamp", "amount"]].merge(e1[["member_id", "timestamp", "points"]])
        source = "the ledger's earn events"
    elif "points_earned" in tx.columns and tx["points_earned"].notna().any():
        points = float(buys["points_earned"].sum())
        earned = buys[["member_id", "timestamp", "amount"]].assign(points=buys["points_earned"]).dropna()
        source = "the transactions' points_earned"
    tiers = _infer_tiers(dataset, earned, notes)
    if points is not None and spend > 0:
        rate = points / spend
        if tiers is not None and earned is not None and len(earned):
            big = earned[earned["amount"] >= 100]
            if len(big):
                rate = float((np.ceil(big["points"] / big["amount"] * 100 - 1e-9) / 100).min())
        rate = float(f"{rate:.3g}")
        notes.insert(0, f"Earn rate {rate:g} points per currency unit inferred from {source} ({points:,.0f} points on {spend:,.0f} of member purchases).")
    else:
        rate = 1.0
        notes.insert(0, "No points data: earn rate assumed 1 point per currency unit.")
    if tiers is None:
        tiers = (Tier("Base", 0.0, 1.0),)
        notes.append("No member tiers in the data: a single 'Base' tier assumed.")
    notes.append("Tier benefit costs assumed 0 (not in the data): enter them to see their cost.")
    expiry = _infer_expiry(dataset, notes)
    min_red = 0.0
    if led is not None and (led["event"] == "redeem").any():
        red = led.loc[led["event"] == "redeem", "points"].abs()
        min_red = float(red.min())
        notes.append(f"Minimum redemption {min_red:,.0f} points = the smallest redemption in the ledger.")
    notes.append(f"Point value {point_value:g} from the program inputs (sidebar).")
    rules = RewardRules(
        earn_rate=rate,
        point_value=point_value,
        tiers=tiers,
        qualification_days=365,
        expiry=expiry,
        min_redemption=min_red,
        name="Baseline (inferred)",
    )
    return rules, notes


KPI_HELP = KPI_DEFINITIONS


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


def scenarios_from_json(text: str | bytes) -> list[tuple[RewardRules, BehaviourAssumptions]]:
    """Parse :func:`scenarios_to_json` output; problems raise :class:`RulesError` naming the scenario."""
    try:
        doc = json.loads(text)
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
    try:
        raw = zlib.decompress(base64.urlsafe_b64decode(code + "=" * (-len(code) % 4)))
        doc = json.loads(raw)
    except (ValueError, zlib.error) as exc:
        raise RulesError("The scenarios in this link are damaged and were ignored.") from exc
    if not isinstance(doc, list) or not doc or not all(isinstance(d, list) and len(d) == 2 for d in doc):
        raise RulesError("The scenarios in this link are damaged and were ignored.")
    return scenarios_from_json(json.dumps({"scenarios": [{"rules": r, "assumptions": a} for r, a in doc]}))
