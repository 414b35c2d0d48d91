"""Segmentation: planted clusters, reproducibility, naming, RFM scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import adjusted_rand_score

from loyalty.members import segmentation
from loyalty.members.segmentation import (
    RFM_SEGMENT_MAP,
    Segmentation,
    choose_k,
    crosstab,
    feature_matrix,
    pca_2d,
    rename,
    rfm_scores,
    segment,
)

# Four planted member types: (recency, frequency, monetary, tenure) centres.
PLANTED = [(5, 40, 4000, 900), (300, 3, 150, 800), (20, 2, 60, 30), (60, 12, 600, 400)]
# Three pairs of planted types: each pair is far from the others, its two types are closer to
# each other (but still cleanly separated). A single K-means start often puts two centres in
# one pair and one centre across another, so this is where too few starts show.
PLANTED_PAIRS = [
    (5, 40, 4000, 900),
    (12, 20, 1500, 900),
    (300, 3, 150, 800),
    (700, 1.5, 60, 800),
    (20, 2, 60, 30),
    (20, 1, 20, 90),
]


def planted(n_per: int = 400, seed: int = 0, centres=PLANTED) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    rows, truth = [], []
    for g, (r, f, m, t) in enumerate(centres):
        rows.append(
            np.column_stack(
                [
                    r * rng.lognormal(0, 0.15, n_per),
                    np.maximum(1, np.round(f * rng.lognormal(0, 0.15, n_per))),
                    m * rng.lognormal(0, 0.15, n_per),
                    t * rng.lognormal(0, 0.15, n_per),
                ]
            )
        )
        truth += [g] * n_per
    X = np.vstack(rows)
    perm = rng.permutation(len(X))
    df = pd.DataFrame(X[perm], columns=["recency_days", "frequency", "monetary", "tenure_days"])
    df["frequency"] = df["frequency"].astype("int64")
    df.index = pd.Index([f"M{i:05d}" for i in range(len(df))], name="member_id")
    return df, np.array(truth)[perm]


@pytest.fixture(scope="module")
def data():
    return planted()


@pytest.fixture(scope="module")
def seg4(data) -> Segmentation:
    return segment(data[0], 4)


def test_planted_clusters_recovered(data, seg4):
    _, truth = data
    assert adjusted_rand_score(truth, seg4.labels.to_numpy()) > 0.9
    assert seg4.stability > 0.9 and "Stable" in seg4.stability_hint()


@pytest.mark.parametrize("seed", range(5))
def test_stability_of_planted_pairs_is_high(seed):
    # Six planted types that K-means with the fit's starts recovers from any seed: the stability
    # figure must say so (with single-start refits it read 0.89 for seeds 0 and 4).
    features, truth = planted(seed=seed, centres=PLANTED_PAIRS)
    seg = segment(features, len(PLANTED_PAIRS))
    assert adjusted_rand_score(truth, seg.labels.to_numpy()) > 0.95
    assert seg.stability >= 0.95
    assert seg.stability_hint().startswith("Stable")


def test_stability_refits_use_the_fit_starts(data, monkeypatch):
    starts = []

    class Recording(segmentation.KMeans):
        def fit(self, X, y=None, sample_weight=None):
            starts.append(self.n_init)
            return super().fit(X, y, sample_weight)

    monkeypatch.setattr(segmentation, "KMeans", Recording)
    seg = segment(data[0], 4)
    # The fit itself, then one refit per extra seed, all with as many starts.
    fit_starts = seg.pipeline.named_steps["kmeans"].n_init
    assert fit_starts > 1
    assert starts == [fit_starts] * (1 + segmentation.STABILITY_SEEDS)


def test_choose_k_finds_planted_k(data):
    calls = []
    kc = choose_k(data[0], range(2, 9), progress=lambda frac, msg: calls.append(frac))
    assert kc.recommended == 4
    assert "k = 4" in kc.reason
    assert list(kc.table.index) == list(range(2, 9))
    assert kc.table["inertia"].is_monotonic_decreasing
    assert calls[-1] == 1.0 and len(calls) == 7


def test_labels_reproducible_and_ordered_by_value(data, seg4):
    again = segment(data[0], 4)
    pd.testing.assert_series_equal(seg4.labels, again.labels)
    assert seg4.names == again.names
    means = seg4.profile["mean_monetary"].to_numpy()
    assert (np.diff(means) <= 0).all()  # segment 0 = highest mean spend
    assert seg4.labels.index.equals(data[0].index)


def test_profile_names_and_actions(data, seg4):
    prof = seg4.profile
    assert prof["size"].sum() == len(data[0])
    assert prof["share_members"].sum() == pytest.approx(1)
    assert prof["share_revenue"].sum() == pytest.approx(1)
    assert len(set(seg4.names.values())) == 4
    # The planted groups have obvious archetypes.
    by_centre = {seg4.labels.iloc[int(np.argmax(data[1] == g))]: g for g in range(4)}
    named = {by_centre[s]: n for s, n in seg4.names.items()}
    assert named[0] == "Champions"
    assert named[2] == "New members"
    assert all(seg4.actions[s] for s in seg4.names)
    # Centroids are in original units: close to the planted centres.
    c = seg4.centroids.loc[[s for s, g in by_centre.items() if g == 0][0]]
    assert c["monetary"] == pytest.approx(4000, rel=0.1)
    assert set(seg4.zscores.columns) >= {"recency_days", "monetary"}


def test_rename(seg4):
    r = rename(seg4, {0: "VIPs", "New members": "Newbies"})
    assert r.names[0] == "VIPs" and "Newbies" in r.names.values()
    assert r.profile.loc[0, "name"] == "VIPs"
    assert seg4.names[0] != "VIPs"  # original untouched
    with pytest.raises(ValueError, match="unique"):
        rename(seg4, {0: seg4.names[1]})
    with pytest.raises(ValueError, match="non-empty"):
        rename(seg4, {0: "  "})
    with pytest.raises(ValueError, match="No segment"):
        rename(seg4, {"Nope": "x"})


def test_prepare_fills_documented_gaps():
    f = pd.DataFrame(
        {"recency_days": [np.nan, 3.0], "frequency": [0, 2], "avg_basket": [np.nan, 5.0], "tenure_days": [40.0, 50.0]}
    )
    X = feature_matrix(f, ["recency_days", "avg_basket"])
    assert X.loc[0, "recency_days"] == 40 and X.loc[0, "avg_basket"] == 0
    with pytest.raises(ValueError, match="not found: nope"):
        feature_matrix(f, ["nope"])


def test_rfm_scores_tiny():
    f = pd.DataFrame(
        {
            "recency_days": [1.0, 2, 3, 4, 5, 6, 7, 8, 9, np.nan],
            "frequency": [10, 9, 8, 7, 6, 5, 4, 3, 2, 0],
            "monetary": [100.0, 90, 80, 70, 60, 50, 40, 30, 20, 0],
        },
        index=pd.Index(list("abcdefghij"), name="member_id"),
    )
    s = rfm_scores(f)
    assert list(s["R"]) == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    assert list(s["F"]) == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    assert s.loc["a", "RFM"] == "555" and s.loc["a", "rfm_segment"] == "Champions"
    assert s.loc["e", "rfm_segment"] == "Need attention"  # R3 F3
    assert s.loc["i", "rfm_segment"] == "Hibernating"  # R1 F1
    assert s.loc["j", "rfm_segment"] == "No purchase yet"
    ct = crosstab(pd.Series([0] * 5 + [1] * 5, index=f.index), s["rfm_segment"], {0: "Top", 1: "Rest"})
    assert ct.to_numpy().sum() == 10 and set(ct.index) == {"Top", "Rest"}


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1000), st.integers(0, 50), st.floats(-50, 5000)), min_size=5, max_size=60))
def test_rfm_scores_invariants(rows):
    f = pd.DataFrame(rows, columns=["recency_days", "frequency", "monetary"])
    s = rfm_scores(f)
    for c in "RFM":
        assert s[c].between(1, 5).all()
    # Quintiles: counts per score differ by at most one member.
    counts = s["F"].value_counts().reindex(range(1, 6), fill_value=0)
    assert counts.max() - counts.min() <= 1
    names = {n for row in RFM_SEGMENT_MAP for n in row} | {"No purchase yet"}
    assert set(s["rfm_segment"]) <= names


def test_pca_2d_sample(data, seg4):
    p = pca_2d(data[0], seg4.labels, sample=300)
    assert len(p) == 300 and list(p.columns) == ["member_id", "pc1", "pc2", "segment"]
    assert sum(p.attrs["explained_variance"]) > 0.8
    pd.testing.assert_frame_equal(p, pca_2d(data[0], seg4.labels, sample=300))


def test_bad_k(data):
    with pytest.raises(ValueError, match="between 2"):
        segment(data[0], 1)


def test_constant_features_give_a_clear_error():
    f = pd.DataFrame({c: np.ones(50) for c in ("recency_days", "frequency", "monetary", "tenure_days")})
    with pytest.raises(ValueError, match="hardly vary"):
        choose_k(f)
