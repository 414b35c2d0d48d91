"""Segment names and actions follow each segment's profile: planted groups, one test per archetype.

Every planted group is a few hundred members spread (lognormal, sd 0.15) around a centre whose
recency, frequency, spend and tenure clearly match one archetype. A program is a handful of such
groups; segmenting it with one segment per group must give every group its archetype's name
and action, whatever the other groups are (the old naming compared z-scores only, so a group's
name depended on the rest of the program: lapsed big spenders became "Champions", a group
buying 40 times a year "Promising" with a second-purchase incentive).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loyalty.members import segmentation
from loyalty.members.segmentation import ARCHETYPES, rename, segment

ACTIONS = {name: action for name, _, action in ARCHETYPES}

# Typical member of each archetype: (recency_days, frequency, monetary, tenure_days);
# recency NaN = never purchased.
ARCHETYPE_GROUPS: dict[str, tuple[float, float, float, float]] = {
    "Champions": (7, 60, 6000, 1000),  # bought last week, ~22 purchases a year, top spend
    "Loyal regulars": (20, 20, 1000, 700),  # ~10 purchases a year for two years
    "Big-basket occasionals": (60, 3, 1800, 500),  # 3 purchases of ~600 each
    "Promising": (20, 2, 80, 300),  # bought recently, only twice so far
    "Potential loyalists": (10, 8, 400, 270),  # 8 purchases in their first nine months
    "New members": (10, 1, 40, 25),  # joined last month, one purchase
    "Needs attention": (130, 8, 350, 500),  # regular buyers, nothing for four months
    "At risk high spenders": (200, 25, 3000, 900),  # big spenders, nothing for half a year
    "About to sleep": (130, 1, 50, 400),  # one purchase, four months ago
    "Hibernating": (270, 2, 80, 900),  # two purchases, nothing for nine months
    "Lost": (800, 1, 30, 1200),  # nothing for over two years
    "Enrolled, no purchase yet": (np.nan, 0, 0, 200),
    "Occasional shoppers": (45, 5, 250, 800),  # ~2 ordinary purchases a year, still around
}

# For each archetype, three other planted groups it is segmented with. Names must not depend on
# the company: each set is one the z-score naming got wrong (for the target or a companion).
COMPANIONS: dict[str, tuple[str, str, str]] = {
    "Champions": ("Promising", "Needs attention", "Lost"),
    "Loyal regulars": ("Champions", "New members", "About to sleep"),
    "Big-basket occasionals": ("Champions", "Loyal regulars", "New members"),
    "Promising": ("Champions", "New members", "At risk high spenders"),
    "Potential loyalists": ("Champions", "Loyal regulars", "Enrolled, no purchase yet"),
    "New members": ("Promising", "Hibernating", "Enrolled, no purchase yet"),
    "Needs attention": ("Champions", "Loyal regulars", "Potential loyalists"),
    "At risk high spenders": ("Promising", "About to sleep", "Hibernating"),
    "About to sleep": ("Champions", "Big-basket occasionals", "At risk high spenders"),
    "Hibernating": ("Promising", "Lost", "Enrolled, no purchase yet"),
    "Lost": ("Promising", "At risk high spenders", "Enrolled, no purchase yet"),
    "Enrolled, no purchase yet": ("Needs attention", "At risk high spenders", "About to sleep"),
    "Occasional shoppers": ("Champions", "Hibernating", "Lost"),
}


def planted_groups(
    centres: dict[str, tuple[float, float, float, float]], n_per: int = 300, seed: int = 0
) -> tuple[pd.DataFrame, pd.Series]:
    """Member features (recency, frequency, monetary, tenure) of planted groups, and each member's group."""
    rng = np.random.default_rng(seed)
    parts = []
    for group, (r, f, m, t) in centres.items():
        parts.append(
            pd.DataFrame(
                {
                    "recency_days": r * rng.lognormal(0, 0.15, n_per),
                    # A buyer has at least one purchase; a non-buyer none.
                    "frequency": np.round(f * rng.lognormal(0, 0.15, n_per)).clip(min(f, 1)),
                    "monetary": m * rng.lognormal(0, 0.15, n_per),
                    "tenure_days": t * rng.lognormal(0, 0.15, n_per),
                    "group": group,
                }
            )
        )
    df = pd.concat(parts, ignore_index=True).sample(frac=1, random_state=seed).reset_index(drop=True)
    df["frequency"] = df["frequency"].astype("int64")
    df.index = pd.Index([f"M{i:05d}" for i in range(len(df))], name="member_id")
    return df.drop(columns="group"), df["group"]


def names_by_group(centres: dict[str, tuple[float, float, float, float]], seed: int = 0):
    """Segment the planted program (one segment per group); group -> (segment name, action)."""
    features, group = planted_groups(centres, seed=seed)
    seg = segment(features, len(centres))
    # Each group's segment: the one most of its members fall in.
    seg_of = pd.crosstab(group, seg.labels).idxmax(axis=1)
    assert seg_of.nunique() == len(centres), "planted groups not recovered"
    return {g: (seg.names[s], seg.actions[s]) for g, s in seg_of.items()}, seg


def test_every_archetype_has_rules_and_a_planted_group():
    assert set(ARCHETYPE_GROUPS) == set(ACTIONS) == set(COMPANIONS) == set(segmentation.ARCHETYPE_RULES)


@pytest.mark.parametrize("archetype", list(ARCHETYPE_GROUPS))
def test_archetype_named_from_profile(archetype):
    groups = [archetype, *COMPANIONS[archetype]]
    named, _ = names_by_group({g: ARCHETYPE_GROUPS[g] for g in groups})
    assert {g: n for g, (n, _) in named.items()} == {g: g for g in groups}
    assert {g: a for g, (_, a) in named.items()} == {g: ACTIONS[g] for g in groups}


def test_all_archetypes_in_one_program():
    named, seg = names_by_group(ARCHETYPE_GROUPS)
    assert {g: n for g, (n, _) in named.items()} == {g: g for g in ARCHETYPE_GROUPS}
    assert len(set(seg.names.values())) == seg.k


def test_lapsed_top_spenders_are_not_champions():
    # The program's best customers by spend and frequency, but the typical one last bought
    # 14 months ago (80% over a year ago): a win-back case, not VIP perks.
    centres = {"lapsed big spenders": (420, 30, 5000, 1500)} | {
        g: ARCHETYPE_GROUPS[g] for g in ("New members", "Lost", "Enrolled, no purchase yet")
    }
    named, _ = names_by_group(centres)
    name, action = named["lapsed big spenders"]
    assert name == "At risk high spenders"
    assert action == ACTIONS["At risk high spenders"]


def test_frequent_buyers_get_no_second_purchase_incentive():
    # 33 purchases in ~300 days (40 a year), bought three days ago.
    others = ("Champions", "Hibernating", "Lost")
    centres = {"40 a year": (3, 33, 2000, 300)} | {g: ARCHETYPE_GROUPS[g] for g in others}
    named, _ = names_by_group(centres)
    name, action = named["40 a year"]
    assert name not in ("Promising", "New members", "Occasional shoppers")
    assert "second" not in action.lower()
    assert name == "Potential loyalists"


def test_names_satisfy_their_archetype_rules():
    # Whatever the company, a name is only given when the segment's typical member fits it.
    groups = ["Hibernating", *COMPANIONS["Hibernating"]]
    features, _ = planted_groups({g: ARCHETYPE_GROUPS[g] for g in groups})
    seg = segment(features, len(groups))
    desc = segmentation.segment_descriptors(features, seg.labels)
    for s, name in seg.names.items():
        for d, (lo, hi) in segmentation.ARCHETYPE_RULES[name].items():
            assert lo <= desc.loc[s, d] <= hi, (name, d)


def test_segment_without_a_fitting_archetype_gets_a_neutral_name():
    # Two groups of non-buyers (joined last month / two years ago) and one of champions: only one
    # segment can be "Enrolled, no purchase yet"; the other gets no name its profile contradicts.
    centres = {
        "new non-buyers": (np.nan, 0, 0, 30),
        "old non-buyers": (np.nan, 0, 0, 700),
        "Champions": ARCHETYPE_GROUPS["Champions"],
    }
    named, seg = names_by_group(centres)
    assert named["Champions"][0] == "Champions"
    non_buyers = {named["new non-buyers"][0], named["old non-buyers"][0]}
    assert "Enrolled, no purchase yet" in non_buyers
    (other,) = non_buyers - {"Enrolled, no purchase yet"}
    assert other.startswith("Segment ")
    assert len(set(seg.names.values())) == 3
    other_seg = next(s for s, n in seg.names.items() if n == other)
    assert "no standard archetype" in seg.actions[other_seg]
    renamed = rename(seg, {other: "Dormant sign-ups"})
    assert renamed.names[other_seg] == "Dormant sign-ups"
    assert renamed.profile.loc[other_seg, "name"] == "Dormant sign-ups"


def test_segment_descriptors_definitions():
    f = pd.DataFrame(
        {
            "recency_days": [10.0, 400.0, np.nan, 30.0],
            "frequency": [4, 1, 0, 10],
            "monetary": [200.0, 50.0, 0.0, 1000.0],
            "avg_basket": [50.0, 50.0, np.nan, 100.0],
            "tenure_days": [30.0, 730.5, 500.0, 365.25],
        },
        index=pd.Index(list("abcd"), name="member_id"),
    )
    labels = pd.Series([0, 0, 0, 1], index=f.index)
    d = segmentation.segment_descriptors(f, labels)
    assert list(d.columns) == list(segmentation.DESCRIPTORS)
    assert d.loc[0, "buyer_share"] == pytest.approx(2 / 3)
    # Never purchased: recency = tenure (500 days), so lapsed like the 400-day member.
    assert d.loc[0, "recency_days"] == 400 and d.loc[0, "lapsed_share"] == pytest.approx(2 / 3)
    # Tenure under 90 days counts as 90: 4 purchases in 30 days -> 4 * 365.25 / 90 a year.
    assert d.loc[0, "purchases_per_year"] == pytest.approx(np.median([4 * 365.25 / 90, 0.5, 0]))
    assert d.loc[1, "purchases_per_year"] == pytest.approx(10)
    # Median spend 50 (segment 0) has one member below and one tie: (1 + 0.5) / 4.
    assert d.loc[0, "spend_percentile"] == pytest.approx(1.5 / 4)
    assert d.loc[1, "spend_percentile"] == pytest.approx(3.5 / 4)
    # Buyers' baskets only: program median of (50, 50, 100) = 50.
    assert d.loc[0, "basket_ratio"] == pytest.approx(1) and d.loc[1, "basket_ratio"] == pytest.approx(2)
