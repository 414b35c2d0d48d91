"""Segment tables shown on the Segments page and in the report (one builder per table)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from loyalty.metrics import FEATURES

#: Shown for a segment whose name matches no archetype (e.g. renamed by the user).
NO_ACTION = "Review the profile and pick an offer (renamed segment: no standard suggestion)."

#: Columns of :func:`segment_table`, in order.
SEGMENT_TABLE_COLUMNS: tuple[str, ...] = (
    "segment",
    "name",
    "members",
    "share_of_members",
    "share_of_net_spend",
    "suggested_action",
)

#: Header labels of :func:`segment_table`'s columns (and of the leading ``segment``/``name`` of
#: :func:`segment_means`), for people; the columns keep their names.
SEGMENT_TABLE_LABELS: dict[str, str] = {
    "segment": "Segment",
    "name": "Name",
    "members": "Members",
    "share_of_members": "Share of members",
    "share_of_net_spend": "Share of net spend",
    "suggested_action": "Suggested action",
}

#: Units of :func:`segment_table`'s columns (:data:`loyalty.metrics.Unit`, or ``text``): none of
#: them is a registry metric (``members`` there is the program's active members, not a count here).
SEGMENT_TABLE_UNITS: dict[str, str] = {
    "segment": "int",
    "name": "text",
    "members": "int",
    "share_of_members": "pct",
    "share_of_net_spend": "pct",
    "suggested_action": "text",
}


def segment_table(profile: pd.DataFrame, names: Mapping[int, str], actions: Mapping[int, str]) -> pd.DataFrame:
    """One row per segment: number (1-based), name, members, shares and the suggested action.

    ``share_of_members`` = segment members / all members; ``share_of_net_spend`` = segment
    net spend / program net spend (returns included; NaN without spend data).
    """
    share_rev = profile["share_revenue"] if "share_revenue" in profile else pd.Series(np.nan, index=profile.index)
    return pd.DataFrame(
        {
            "segment": profile.index + 1,
            "name": [names[s] for s in profile.index],
            "members": profile["size"].to_numpy(),
            "share_of_members": profile["share_members"].to_numpy(),
            "share_of_net_spend": share_rev.to_numpy(),
            "suggested_action": [actions.get(s, NO_ACTION) for s in profile.index],
        },
        columns=list(SEGMENT_TABLE_COLUMNS),
    )


def segment_means(profile: pd.DataFrame, names: Mapping[int, str]) -> pd.DataFrame:
    """Mean of each feature per segment, in original units, with the segment number and name first."""
    means = profile.filter(like="mean_").rename(columns=lambda c: c[5:])
    means.insert(0, "name", [names[s] for s in profile.index])
    means.insert(0, "segment", profile.index + 1)
    return means.reset_index(drop=True)


def segment_means_units(means: pd.DataFrame) -> dict[str, str]:
    """Unit of each column of :func:`segment_means`: the feature's registry unit.

    A mean of a count (``int``) is a plain number (``num``): 2.85 purchases per member must not
    be shown as 3.
    """
    units = {"segment": "int", "name": "text"}
    for col in means.columns:
        if col in FEATURES:
            unit = FEATURES[col].unit
            units[col] = "num" if unit == "int" else unit
    return units
