"""Classic CLV: average order value x purchases per year x expected lifespan (x margin)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Cap of the expected member lifespan (years): a program with near-zero churn would
#: otherwise get an unbounded CLV.
LIFESPAN_CAP_YEARS = 10.0


def expected_lifespan_years(annual_churn: float, cap: float = LIFESPAN_CAP_YEARS) -> float:
    """Expected member lifespan in years from an annual churn rate (0-1).

    ``1 / churn`` capped at ``cap``; ``cap`` when churn is 0 (nobody lapsed: the cap is the
    answer, and it is shown as capped); NaN when churn is unknown (no figure is made up).
    """
    if annual_churn is None or math.isnan(annual_churn) or annual_churn < 0:
        return float("nan")
    return cap if annual_churn == 0 else min(1.0 / annual_churn, cap)


def lifespan_capped(annual_churn: float, cap: float = LIFESPAN_CAP_YEARS) -> bool:
    """True when :func:`expected_lifespan_years` returns the cap instead of 1 / churn.

    That is when the annual churn (0-1) is known and either 0 (nobody lapsed) or below
    ``1 / cap`` (1 / churn would exceed ``cap`` years). A capped lifespan, and any CLV
    built on it, is set by the cap rather than measured, so it must be shown as such.
    False when the churn is unknown: then there is no lifespan at all (NaN), nothing capped.
    """
    if annual_churn is None or math.isnan(annual_churn) or annual_churn < 0:
        return False
    return annual_churn == 0 or 1.0 / annual_churn > cap


@dataclass(frozen=True)
class SimpleCLV:
    """Classic CLV = AOV x purchases per year x expected lifespan (years) x margin.

    ``table`` has one row per group (``All members`` first, then one per segment) with
    the inputs shown: ``members``, ``aov`` (net spend / purchases, currency),
    ``purchases_per_year`` (purchases / member-years of tenure), ``churn_exposed``
    (members the churn is measured on), ``annual_churn`` (see :func:`clv_simple`),
    ``lifespan_years`` (1 / annual churn, capped), ``lifespan_capped`` (bool: the
    lifespan is the cap, see :func:`lifespan_capped`), ``margin`` and ``clv`` (currency
    per member).
    """

    table: pd.DataFrame
    margin: float
    lifespan_cap_years: float

    @property
    def capped_groups(self) -> tuple[str, ...]:
        """Groups whose lifespan, hence CLV, is the cap rather than 1 / annual churn."""
        return tuple(self.table.index[self.table["lifespan_capped"].astype(bool)])

    def cap_note(self) -> str:
        """One sentence naming the capped groups and why (empty when none is capped)."""
        groups = self.capped_groups
        if not groups:
            return ""
        churn = self.table.loc[list(groups), "annual_churn"]
        parts = ", ".join(f"{g} (annual churn {c:.1%})" for g, c in churn.items())
        return (
            f"Lifespan capped at {self.lifespan_cap_years:g} years for {parts}: 1 / churn is longer than the "
            "cap or churn is 0 (nobody lapsed), so their CLV is set by the cap, not measured."
        )


def _simple_row(f: pd.DataFrame, margin: float, lifespan_years: float | None, cap: float) -> dict:
    purchases = float(f["frequency"].sum())
    member_years = float(f["tenure_days"].clip(lower=1).sum()) / 365.25
    aov = float(f["monetary"].sum()) / purchases if purchases else np.nan
    per_year = purchases / len(f) / (member_years / len(f)) if member_years else np.nan
    rec = f["recency_days"]
    lapsed = rec.between(365, 730, inclusive="right").sum()
    exposed = ((f["tenure_days"] > 365) & (rec <= 730)).sum()
    churn = lapsed / exposed if exposed else np.nan
    if lifespan_years is None:
        life = expected_lifespan_years(churn, cap)
        capped = lifespan_capped(churn, cap)
    else:
        # A lifespan given by the user is an assumption, not a cap standing in for a measurement.
        life, capped = float(lifespan_years), False
    return {
        "members": len(f),
        "aov": aov,
        "purchases_per_year": per_year,
        "churn_exposed": int(exposed),
        "annual_churn": churn,
        "lifespan_years": life,
        "lifespan_capped": bool(capped),
        "margin": margin,
        "clv": aov * per_year * life * margin,
    }


def clv_simple(
    features: pd.DataFrame,
    segments: pd.Series | None = None,
    *,
    margin: float = 1.0,
    lifespan_years: float | None = None,
    lifespan_cap_years: float = LIFESPAN_CAP_YEARS,
) -> SimpleCLV:
    """Classic CLV per member, overall and per segment.

    Definitions (from :func:`loyalty.members.features.member_features`):

    * AOV = sum(monetary) / sum(frequency) (net spend per purchase);
    * purchases per year = sum(frequency) / sum(tenure_days / 365.25);
    * annual churn = members whose last purchase is 365-730 days old / members with
      tenure > 365 days who purchased in the last 730 days (a one-snapshot proxy for
      "active a year ago, gone since");
    * lifespan = ``lifespan_years`` if given, else 1 / annual churn capped at
      ``lifespan_cap_years``; ``lifespan_capped`` flags the rows where the cap applies
      (churn 0, or 1 / churn above the cap): a segment chosen on recency (e.g. recent
      buyers) has churn 0 by construction, and its CLV is then the cap's, not a measurement;
    * CLV = AOV x purchases per year x lifespan x ``margin`` (1.0 = revenue CLV); NaN
      when the churn is unknown (no member exposed) and no lifespan is given.
    """
    rows = [{"group": "All members", **_simple_row(features, margin, lifespan_years, lifespan_cap_years)}]
    if segments is not None:
        seg = segments.reindex(features.index)
        for name, part in features.groupby(seg, sort=True, observed=True):
            rows.append({"group": str(name), **_simple_row(part, margin, lifespan_years, lifespan_cap_years)})
    return SimpleCLV(pd.DataFrame(rows).set_index("group"), margin, lifespan_cap_years)
