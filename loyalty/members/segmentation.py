"""Member segmentation: K-means a manager can act on, plus classic RFM scores.

Model (a scikit-learn :class:`~sklearn.pipeline.Pipeline`): missing values filled
(:func:`prepare`), signed ``log1p`` on skewed features (sample skewness > 1), then
:class:`~sklearn.preprocessing.StandardScaler`, then :class:`~sklearn.cluster.KMeans`
with a fixed ``random_state`` (same data + seed -> same labels).

Large programs: the k sweep fits on a random sample of :data:`K_SWEEP_SAMPLE`
members and computes silhouettes on :data:`SILHOUETTE_SAMPLE` members; the final
model is fitted on all members up to :data:`FULL_FIT_MAX` (above that on a sample of
that size) and every member is then assigned to its nearest centre. The sizes were
measured so that the 2-10 sweep on 200k members stays well under 5 s on 2 cores
(``benchmarks/bench_models.py``).

Segment numbers are ordered by mean net spend, highest first (segment 0 = the most
valuable), so they are stable and meaningful across runs.

Names and suggested actions come from :data:`ARCHETYPES`: a segment may only carry an
archetype whose :data:`ARCHETYPE_RULES` its typical member satisfies (recency, frequency,
purchases per year, tenure, spend and basket; :func:`segment_descriptors`), and among those the
closest z-profile wins, one archetype per segment. Stability is the agreement with refits that
use other seeds and as many K-means starts (:data:`KMEANS_N_INIT`) as the fit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score, pairwise_distances, silhouette_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from threadpoolctl import threadpool_limits

#: Features clustered when the caller does not choose.
DEFAULT_COLUMNS: tuple[str, ...] = ("recency_days", "frequency", "monetary", "tenure_days")
#: Members the k sweep fits on (a random sample above this size).
#: Fewer members than this and no segmentation is offered (the page and the report alike).
MIN_MEMBERS = 30
#: Stability (mean adjusted Rand index across seeds) cut-offs: stable, fairly stable.
STABLE, FAIRLY_STABLE = 0.9, 0.7
K_SWEEP_SAMPLE = 30_000
#: Members the silhouette is computed on (random sample).
SILHOUETTE_SAMPLE = 4_000
#: Above this many members the final model is fitted on a sample of this size.
FULL_FIT_MAX = 200_000
#: Members used to measure stability across seeds.
STABILITY_SAMPLE = 20_000
#: Number of extra seeds for the stability check.
STABILITY_SEEDS = 4
#: K-means starts (k-means++ initialisations, best inertia kept) of the final fit and of every
#: stability refit. The refits must use as many starts as the fit they are compared with: with a
#: single start about half of the refits of well-separated planted groups landed in a worse
#: local optimum, so reproducible segments were reported as unstable.
KMEANS_N_INIT = 4
#: Threads for K-means. One: on a small shared server (2 cores, several sessions) OpenMP
#: spin-waiting made the multi-threaded sweep 10x slower (4-6 s vs 0.3-0.5 s measured for
#: 9 fits on 20k members), and Streamlit sessions already run in parallel.
KMEANS_THREADS = 1

_NAMING_DIMS = ("recency_days", "frequency", "monetary", "tenure_days")
# Archetypes: (name, z-profile on _NAMING_DIMS, suggested action). Each segment gets, among the
# archetypes whose ARCHETYPE_RULES its typical member satisfies, the one closest to its z-profile
# under a one-to-one assignment, so names are unique and never contradict the profile.
ARCHETYPES: tuple[tuple[str, tuple[float, float, float, float], str], ...] = (
    (
        "Champions",
        (-0.8, 1.5, 1.5, 0.5),
        "VIP perks: early access, exclusive rewards, invite them to refer friends.",
    ),
    (
        "Loyal regulars",
        (-0.6, 0.7, 0.6, 0.5),
        "Reward consistency: tier-progress nudges and bonus points on favourite categories.",
    ),
    (
        "Big-basket occasionals",
        (-0.2, -0.2, 0.8, 0.0),
        "Raise visit frequency: bonus points for a second visit within 30 days.",
    ),
    (
        "Promising",
        (-0.7, 0.0, -0.2, -0.5),
        "Build the habit: points challenges and a second-purchase incentive.",
    ),
    (
        "Potential loyalists",
        (-0.8, 0.3, 0.2, -0.7),
        "Turn the habit into loyalty: tier-progress nudges and bonus points for trying a new category.",
    ),
    (
        "New members",
        (-0.6, -0.6, -0.6, -1.4),
        "Onboarding: welcome series, how to earn and redeem, a quick first reward.",
    ),
    (
        "Needs attention",
        (0.2, -0.1, -0.1, 0.2),
        "Personalised offers and points-balance reminders before they drift away.",
    ),
    (
        "At risk high spenders",
        (1.0, 0.5, 0.8, 0.6),
        "Win back now: personal outreach, points reminder, a targeted high-value offer.",
    ),
    (
        "About to sleep",
        (0.6, -0.5, -0.4, 0.0),
        "Reactivation: limited-time bonus points and a reminder of their balance.",
    ),
    (
        "Hibernating",
        (1.3, -0.7, -0.6, 0.6),
        "Low-cost reactivation campaign; drop from expensive channels if no response.",
    ),
    ("Lost", (2.0, -0.9, -0.8, 1.0), "Last-chance win-back offer; otherwise stop spending on them."),
    (
        "Enrolled, no purchase yet",
        (0.0, -1.8, -2.5, -0.5),
        "Activation: a first-purchase bonus and a reminder of what points are worth.",
    ),
    (
        "Occasional shoppers",
        (0.0, -0.5, -0.5, 0.0),
        "Points reminders and easy-to-reach rewards to make the program worth it.",
    ),
)
_FALLBACK_ACTION = "Review the profile and pick an offer; no standard archetype fits."

#: Days without a purchase after which a member counts as lapsed (``lapsed_share``).
LAPSED_DAYS = 365
# Purchases per year are counted over at least this many days of tenure: a member who joined a
# week ago with two purchases has not shown that they buy 100 times a year.
_MIN_RATE_DAYS = 90
#: Per-segment descriptors the archetype rules test (see :func:`segment_descriptors`).
DESCRIPTORS: tuple[str, ...] = (
    "buyer_share",
    "recency_days",
    "lapsed_share",
    "frequency",
    "purchases_per_year",
    "tenure_days",
    "spend_percentile",
    "basket_ratio",
)
_INF = float("inf")
#: What a segment's typical member must look like to carry an archetype's name (and its action):
#: descriptor of :data:`DESCRIPTORS` -> (lowest, highest) allowed value, both included. Absolute
#: units (days, purchases) because a name or an action can contradict the profile whatever the
#: rest of the program looks like: a typical member who has not bought for a year is not a
#: champion, a frequent buyer needs no second-purchase incentive. Spend is judged against the
#: program (``spend_percentile``, ``basket_ratio``) because price levels differ between programs.
#: Unless stated, an archetype needs a majority of buyers (``buyer_share >= 0.5``).
_RULES: dict[str, dict[str, tuple[float, float]]] = {
    "Champions": {
        "recency_days": (0, 60),
        "lapsed_share": (0, 0.1),
        "frequency": (5, _INF),
        "purchases_per_year": (6, _INF),
        "spend_percentile": (0.7, 1),
    },
    "Loyal regulars": {
        "recency_days": (0, 90),
        "lapsed_share": (0, 0.15),
        "frequency": (4, _INF),
        "purchases_per_year": (3, _INF),
        "tenure_days": (180, _INF),
    },
    "Big-basket occasionals": {
        "recency_days": (0, 180),
        "lapsed_share": (0, 0.25),
        "purchases_per_year": (0, 6),
        "basket_ratio": (1.5, _INF),
    },
    "Promising": {
        "recency_days": (0, 90),
        "lapsed_share": (0, 0.15),
        "frequency": (0, 2),
        "tenure_days": (90, _INF),
    },
    "Potential loyalists": {
        "recency_days": (0, 60),
        "lapsed_share": (0, 0.1),
        "frequency": (3, _INF),
        "tenure_days": (0, 365),
    },
    "New members": {"recency_days": (0, 90), "tenure_days": (0, 180)},
    "Needs attention": {"recency_days": (75, 180), "lapsed_share": (0, 0.4), "frequency": (3, _INF)},
    "At risk high spenders": {
        "recency_days": (90, 540),
        "frequency": (4, _INF),
        "tenure_days": (180, _INF),
        "spend_percentile": (0.6, 1),
    },
    "About to sleep": {"recency_days": (90, 240), "frequency": (0, 3)},
    "Hibernating": {"recency_days": (180, 730), "purchases_per_year": (0, 4)},
    "Lost": {"recency_days": (LAPSED_DAYS, _INF), "lapsed_share": (0.5, 1)},
    "Enrolled, no purchase yet": {"buyer_share": (0, 0.5)},
    "Occasional shoppers": {
        "recency_days": (0, 180),
        "lapsed_share": (0, 0.25),
        "frequency": (3, _INF),
        "purchases_per_year": (0, 4),
        "tenure_days": (180, _INF),
        "basket_ratio": (0, 1.5),
    },
}
ARCHETYPE_RULES: Mapping[str, Mapping[str, tuple[float, float]]] = MappingProxyType(
    {name: MappingProxyType({"buyer_share": (0.5, 1.0)} | rules) for name, rules in _RULES.items()}
)


# --------------------------------------------------------------------------- preparation
def feature_matrix(features: pd.DataFrame, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """The numeric matrix clustered: ``columns`` of ``features`` with missing values filled.

    Fills (documented because they change what a segment means):
    ``recency_days`` and ``days_since_redemption`` of members who never purchased /
    redeemed -> their ``tenure_days`` (no activity since joining); ``avg_basket`` and
    ``redemption_ratio`` -> 0; any other gap -> the column median.
    """
    cols = list(columns) if columns is not None else [c for c in DEFAULT_COLUMNS if c in features.columns]
    if not cols:
        raise ValueError("Choose at least one feature to segment on.")
    missing = [c for c in cols if c not in features.columns]
    if missing:
        raise ValueError(f"Feature column(s) not found: {', '.join(missing)}.")
    X = features[cols].astype("float64")
    tenure = features["tenure_days"].astype("float64") if "tenure_days" in features.columns else None
    for c in cols:
        col = X[c]
        if not col.isna().any():
            continue
        if c in ("recency_days", "days_since_redemption") and tenure is not None:
            col = col.fillna(tenure)
        if c in ("avg_basket", "redemption_ratio"):
            col = col.fillna(0.0)
        X[c] = col.fillna(col.median() if col.notna().any() else 0.0)
    if not np.isfinite(X.to_numpy()).all():
        bad = [c for c in cols if not np.isfinite(X[c].to_numpy()).all()]
        raise ValueError(f"Feature column(s) with infinite values: {', '.join(bad)}.")
    return X


def signed_log1p(X):
    """sign(x) * log(1 + |x|): log compression that keeps negative values (net returns)."""
    return np.sign(X) * np.log1p(np.abs(X))


def signed_expm1(X):
    """Inverse of :func:`signed_log1p`."""
    return np.sign(X) * np.expm1(np.abs(X))


def skewed_columns(X: pd.DataFrame, threshold: float = 1.0) -> list[str]:
    """Columns whose sample skewness exceeds ``threshold`` (log-transformed before scaling)."""
    skew = X.skew()
    return [c for c in X.columns if skew[c] > threshold]


def _log_some(X, mask):
    X = np.array(X, dtype="float64", copy=True)
    X[:, mask] = signed_log1p(X[:, mask])
    return X


def _unlog_some(X, mask):
    X = np.array(X, dtype="float64", copy=True)
    X[:, mask] = signed_expm1(X[:, mask])
    return X


def make_pipeline(
    columns: list[str],
    skewed: list[str],
    k: int | None = None,
    random_state: int = 0,
    n_init: int = KMEANS_N_INIT,
) -> Pipeline:
    """log1p(skewed) -> StandardScaler [-> KMeans(k)] as a scikit-learn Pipeline."""
    mask = np.array([c in skewed for c in columns], dtype=bool)
    steps = [
        (
            "log1p_skewed",
            FunctionTransformer(
                _log_some,
                inverse_func=_unlog_some,
                kw_args={"mask": mask},
                inv_kw_args={"mask": mask},
                check_inverse=False,
            ),
        ),
        ("scale", StandardScaler()),
    ]
    if k is not None:
        steps.append(("kmeans", KMeans(n_clusters=k, random_state=random_state, n_init=n_init)))
    return Pipeline(steps)


def _sample_idx(n: int, size: int, random_state: int) -> np.ndarray:
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(random_state).choice(n, size, replace=False))


# --------------------------------------------------------------------------- choosing k
@dataclass(frozen=True)
class KChoice:
    """Result of the k sweep.

    ``table`` (index ``k``): ``inertia`` = mean squared distance of a member to its
    centre in standardised units (lower = tighter), ``silhouette`` in [-1, 1] (higher =
    better separated). ``recommended`` and the human-readable ``reason``.
    """

    table: pd.DataFrame
    recommended: int
    reason: str
    columns: tuple[str, ...]
    n_members: int
    fit_sample: int
    silhouette_sample: int

    @property
    def recommended_k(self) -> int:
        """Alias of :attr:`recommended`."""
        return self.recommended


def _elbow(ks: np.ndarray, inertia: np.ndarray) -> int:
    """Kneedle: the k farthest below the chord joining the first and last points."""
    if len(ks) < 3:
        return int(ks[0])
    x = (ks - ks[0]) / (ks[-1] - ks[0])
    span = inertia[0] - inertia[-1]
    y = (inertia - inertia[-1]) / span if span > 0 else np.zeros_like(inertia)
    gap = (1 - x) - y  # chord from (0, 1) to (1, 0) minus the curve
    return int(ks[int(np.argmax(gap))])


def choose_k(
    features: pd.DataFrame,
    k_range: Iterable[int] = range(2, 11),
    columns: Iterable[str] | None = None,
    random_state: int = 0,
    *,
    progress: Callable[[float, str], None] | None = None,
    silhouette_tolerance: float = 0.10,
) -> KChoice:
    """Inertia and silhouette for each k, and a recommended k with the reason.

    Rule: take the elbow of the inertia curve (kneedle); keep it if its silhouette is
    within ``silhouette_tolerance`` of the best silhouette, else take the k with the
    best silhouette. ``progress(fraction, message)`` is called after each k.
    """
    X = feature_matrix(features, columns)
    cols = list(X.columns)
    ks = np.array(sorted({int(k) for k in k_range}))
    if len(ks) == 0 or ks[0] < 2:
        raise ValueError("k must be at least 2.")
    n = len(X)
    if n < ks[-1] + 1:
        raise ValueError(f"Only {n} members: too few to test up to {ks[-1]} segments.")
    fit_idx = _sample_idx(n, K_SWEEP_SAMPLE, random_state)
    Xf = X.to_numpy()[fit_idx]
    prep = make_pipeline(cols, skewed_columns(X))
    Z = prep.fit_transform(Xf)
    distinct = len(np.unique(Z, axis=0))
    if distinct < 2:
        raise ValueError("The chosen features hardly vary between members: there are no segments to find.")
    ks = ks[ks <= distinct]  # more segments than distinct members is meaningless
    sil_pos = _sample_idx(len(Z), SILHOUETTE_SAMPLE, random_state + 1)
    rows = []
    with threadpool_limits(KMEANS_THREADS):
        # One distance matrix for every k: the silhouette per k is then cheap.
        D = pairwise_distances(Z[sil_pos], n_jobs=1)
        for i, k in enumerate(ks):
            km = KMeans(n_clusters=int(k), random_state=random_state, n_init=2).fit(Z)
            lab = km.labels_[sil_pos]
            sil = silhouette_score(D, lab, metric="precomputed") if len(np.unique(lab)) > 1 else np.nan
            rows.append({"k": int(k), "inertia": km.inertia_ / len(Z), "silhouette": float(sil)})
            if progress is not None:
                progress((i + 1) / len(ks), f"Tested k = {k}")
    table = pd.DataFrame(rows).set_index("k")
    if table["silhouette"].isna().all():
        raise ValueError("The chosen features hardly vary between members: there are no segments to find.")
    elbow = _elbow(ks, table["inertia"].to_numpy())
    best = int(table["silhouette"].idxmax())
    s_elbow, s_best = table.loc[elbow, "silhouette"], table.loc[best, "silhouette"]
    if s_elbow >= s_best - silhouette_tolerance:
        rec = elbow
        reason = (
            f"k = {elbow} is the elbow of the inertia curve (more segments add little tightness) and its "
            f"silhouette {s_elbow:.2f} is within {silhouette_tolerance:.2f} of the best ({s_best:.2f} at k = {best})."
        )
    else:
        rec = best
        reason = (
            f"k = {best} has the best silhouette ({s_best:.2f}); the inertia elbow at k = {elbow} separates "
            f"members less clearly (silhouette {s_elbow:.2f})."
        )
    return KChoice(table, rec, reason, tuple(cols), n, len(fit_idx), len(sil_pos))


# --------------------------------------------------------------------------- segmentation
@dataclass(frozen=True)
class Segmentation:
    """A K-means segmentation of members.

    Attributes
    ----------
    labels : Series
        ``member_id`` -> segment number (0 = highest mean net spend).
    centroids : DataFrame
        Cluster centres mapped back to original units (log undone), one row per segment.
    profile : DataFrame
        Per segment: ``name``, ``size`` (members), ``share_members``, ``share_revenue``
        (segment net spend / total net spend), ``mean_<feature>`` (mean of every feature,
        gaps filled as in :func:`prepare`), ``z_<feature>`` (segment mean of the
        standardised feature, log scale for skewed ones: how many program standard
        deviations the segment sits from the program average).
    names, actions : dict
        Segment number -> name (unique) / suggested action: the archetype whose rules the
        segment's profile satisfies (see :func:`segment_descriptors`), or "Segment <n>" and a
        neutral action when none is left that fits.
    stability : float
        Mean adjusted Rand index between this labelling and refits with other seeds and the
        same number of K-means starts (1 = identical, 0 = chance) on up to
        :data:`STABILITY_SAMPLE` members.
    """

    labels: pd.Series
    k: int
    columns: tuple[str, ...]
    centroids: pd.DataFrame
    profile: pd.DataFrame
    names: dict[int, str]
    actions: dict[int, str]
    stability: float
    random_state: int
    fitted_on: int
    pipeline: Pipeline = field(repr=False, compare=False)

    @property
    def zscores(self) -> pd.DataFrame:
        """Segment x feature z-scores (the ``z_`` columns of the profile)."""
        z = self.profile.filter(like="z_")
        z.columns = [c[2:] for c in z.columns]
        return z

    def named_labels(self) -> pd.Series:
        """``member_id`` -> segment name."""
        return self.labels.map(self.names).rename("segment_name")

    def stability_hint(self) -> str:
        """:func:`stability_hint` of this segmentation's stability."""
        return stability_hint(self.stability)


def stability_level(value: float) -> str | None:
    """``"stable"`` (ARI >= :data:`STABLE`), ``"fairly stable"`` (>= :data:`FAIRLY_STABLE`), ``"unstable"``; None if unknown."""
    if not np.isfinite(value):
        return None
    return "stable" if value >= STABLE else "fairly stable" if value >= FAIRLY_STABLE else "unstable"


def stability_hint(value: float) -> str:
    """One sentence on how much to trust a segmentation whose stability (mean ARI across seeds) is ``value``."""
    level = stability_level(value)
    if level is None:
        return "Stability across random seeds: see the Segments page (not recomputed for this segmentation)."
    if level == "stable":
        return f"Stable (agreement {value:.2f} across seeds): the segments are robust."
    if level == "fairly stable":
        return f"Fairly stable (agreement {value:.2f} across seeds): borders between some segments move."
    return (
        f"Unstable (agreement {value:.2f} across seeds): these segments are not well separated; "
        "try fewer segments or other features."
    )


def recommended_segmentation(
    features: pd.DataFrame, columns: Iterable[str] | None = None, k_range: Iterable[int] = range(2, 11)
) -> tuple[KChoice, Segmentation]:
    """The segmentation the Segments page recommends: :func:`choose_k` over ``k_range``, then :func:`segment`.

    ``columns`` defaults to the :data:`DEFAULT_COLUMNS` present in ``features``.
    """
    cols = list(columns) if columns is not None else [c for c in DEFAULT_COLUMNS if c in features.columns]
    kc = choose_k(features, k_range, cols)
    return kc, segment(features, kc.recommended, cols)


def segment_descriptors(features: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
    """What the typical member of each segment looks like, in the units :data:`ARCHETYPE_RULES` test.

    Parameters
    ----------
    features : DataFrame
        Member features (:func:`~loyalty.members.features.member_features`), gaps filled as in
        :func:`feature_matrix` (a member who never purchased has ``recency_days`` = tenure).
    labels : Series
        ``member_id`` -> segment, aligned on ``features``' index.

    Returns
    -------
    DataFrame indexed by segment with the :data:`DESCRIPTORS` columns:

    * ``buyer_share`` -- share of members with at least one purchase (0-1).
    * ``recency_days`` -- median days since the last purchase.
    * ``lapsed_share`` -- share of members without a purchase for more than :data:`LAPSED_DAYS` days.
    * ``frequency`` -- median number of purchases.
    * ``purchases_per_year`` -- median of purchases x 365.25 / tenure in days (tenure counted as at
      least 90 days).
    * ``tenure_days`` -- median days since joining.
    * ``spend_percentile`` -- share of all program members whose net spend (``monetary``) is below
      the segment's median net spend (0-1; 0.5 = the program median; ties count half).
    * ``basket_ratio`` -- median ``avg_basket`` of the segment's buyers / median ``avg_basket`` of
      all buyers (``monetary / frequency`` when ``avg_basket`` is absent).

    A descriptor whose feature is absent is NaN (and the rules do not test it).
    """
    numeric = [c for c in features.columns if pd.api.types.is_numeric_dtype(features[c])]
    allf = feature_matrix(features, numeric)
    return _descriptors(allf, labels.reindex(allf.index).to_numpy())


def _descriptors(allf: pd.DataFrame, lab: np.ndarray) -> pd.DataFrame:
    n = len(allf)

    def col(name: str) -> np.ndarray:
        return allf[name].to_numpy("float64") if name in allf.columns else np.full(n, np.nan)

    freq, rec, ten, mon = col("frequency"), col("recency_days"), col("tenure_days"), col("monetary")
    bought = freq > 0
    basket = col("avg_basket") if "avg_basket" in allf.columns else mon / np.where(bought, freq, np.nan)
    per_member = pd.DataFrame(
        {
            # Shares as 0/1 floats, NaN when the feature is absent (a mean then stays NaN).
            "buyer_share": np.where(np.isnan(freq), np.nan, bought),
            "lapsed_share": np.where(np.isnan(rec), np.nan, rec > LAPSED_DAYS),
            "recency_days": rec,
            "frequency": freq,
            "purchases_per_year": freq * 365.25 / np.maximum(ten, _MIN_RATE_DAYS),
            "tenure_days": ten,
            "monetary": mon,
            "basket": np.where(bought, basket, np.nan),  # non-buyers have no basket (filled 0)
        }
    )
    groups = per_member.groupby(lab)
    medians = ["recency_days", "frequency", "purchases_per_year", "tenure_days", "monetary", "basket"]
    out = groups[["buyer_share", "lapsed_share"]].mean().join(groups[medians].median())
    spend = np.sort(mon[np.isfinite(mon)])
    seg_spend = out["monetary"].to_numpy()
    if len(spend):
        below = np.searchsorted(spend, seg_spend, "left") + np.searchsorted(spend, seg_spend, "right")
        out["spend_percentile"] = np.where(np.isnan(seg_spend), np.nan, below / (2 * len(spend)))
    else:
        out["spend_percentile"] = np.nan
    all_basket = per_member["basket"].median()
    out["basket_ratio"] = out["basket"] / all_basket if all_basket > 0 else np.nan
    out.index.name = "segment"
    return out[list(DESCRIPTORS)]


def _allowed(desc: pd.DataFrame) -> np.ndarray:
    """Segment x archetype (order of :data:`ARCHETYPES`): may the segment carry the name?"""
    ok = np.ones((len(desc), len(ARCHETYPES)), dtype=bool)
    for j, (name, _, _) in enumerate(ARCHETYPES):
        for d, (lo, hi) in ARCHETYPE_RULES[name].items():
            v = desc[d].to_numpy("float64")
            ok[:, j] &= np.isnan(v) | ((v >= lo) & (v <= hi))  # unknown descriptor: no veto
    return ok


def _name_segments(z: pd.DataFrame, desc: pd.DataFrame) -> tuple[dict[int, str], dict[int, str]]:
    """Unique archetype names and actions for segments (``z``: segment x feature z-scores).

    Each segment may only take archetypes whose :data:`ARCHETYPE_RULES` its descriptors ``desc``
    satisfy; among those, a one-to-one assignment minimises the squared distance between the
    segments' and the archetypes' z-profiles. A segment left without an allowed archetype is
    called "Segment <n>" with a neutral action rather than a name its profile contradicts.
    """
    names = {s: f"Segment {s + 1}" for s in z.index}
    actions = {s: _FALLBACK_ACTION for s in z.index}
    dims = [d for d in _NAMING_DIMS if d in z.columns]
    if not dims:
        return names, actions
    idx = [_NAMING_DIMS.index(d) for d in dims]
    proto = np.array([a[1] for a in ARCHETYPES])[:, idx]
    seg_z = z[dims].to_numpy()
    cost = ((seg_z[:, None, :] - proto[None, :, :]) ** 2).sum(axis=2)
    allowed = _allowed(desc.reindex(z.index))
    # A forbidden pair costs more than any sum of allowed ones: the assignment first names as
    # many segments as possible with allowed archetypes, then picks the closest profiles.
    forbid = 1.0 + cost[allowed].sum() if allowed.any() else 1.0
    rows, cols = linear_sum_assignment(np.where(allowed, cost, forbid))
    for r, c in zip(rows, cols, strict=True):
        if allowed[r, c]:
            names[z.index[r]] = ARCHETYPES[c][0]
            actions[z.index[r]] = ARCHETYPES[c][2]
    return names, actions


def segment(
    features: pd.DataFrame, k: int, columns: Iterable[str] | None = None, random_state: int = 0
) -> Segmentation:
    """Fit K-means with ``k`` segments on ``columns`` (default :data:`DEFAULT_COLUMNS`).

    Same ``features``, ``k``, ``columns`` and ``random_state`` give the same labels.
    """
    X = feature_matrix(features, columns)
    cols = list(X.columns)
    n = len(X)
    if not 2 <= k <= n:
        raise ValueError(f"The number of segments must be between 2 and the number of members ({n}).")
    skewed = skewed_columns(X)
    pipe = make_pipeline(cols, skewed, k, random_state)
    A = X.to_numpy()
    fit_idx = _sample_idx(n, FULL_FIT_MAX, random_state)
    with threadpool_limits(KMEANS_THREADS):
        pipe.fit(A[fit_idx])
        raw = pipe.predict(A) if len(fit_idx) < n else pipe.named_steps["kmeans"].labels_
    # Renumber: segment 0 = highest mean net spend (or largest when spend is absent).
    key = features["monetary"].to_numpy(float) if "monetary" in features.columns else np.ones(n)
    sums = np.bincount(raw, weights=np.nan_to_num(key), minlength=k)
    sizes = np.bincount(raw, minlength=k)
    order = np.lexsort((-sizes, -(sums / np.maximum(sizes, 1))))
    relabel = np.empty(k, dtype=int)
    relabel[order] = np.arange(k)
    lab = relabel[raw]
    labels = pd.Series(lab, index=features.index, name="segment")

    prep = pipe[:-1]
    centres = prep.inverse_transform(pipe.named_steps["kmeans"].cluster_centers_[order])
    centroids = pd.DataFrame(centres, columns=cols, index=pd.RangeIndex(k, name="segment"))

    allf = feature_matrix(features, [c for c in features.columns if pd.api.types.is_numeric_dtype(features[c])])
    profile = _profile(allf, lab, k)
    z = profile.filter(like="z_").rename(columns=lambda c: c[2:])
    names, actions = _name_segments(z, _descriptors(allf, lab).reindex(profile.index))
    profile.insert(0, "name", [names[s] for s in profile.index])
    stability = _stability(pipe, A, lab, k, random_state)
    return Segmentation(
        labels,
        k,
        tuple(cols),
        centroids,
        profile,
        names,
        actions,
        stability,
        random_state,
        len(fit_idx),
        pipe,
    )


def _profile(allf: pd.DataFrame, lab: np.ndarray, k: int) -> pd.DataFrame:
    n = len(allf)
    sizes = np.bincount(lab, minlength=k)
    seg = pd.Index(range(k), name="segment")
    prof = pd.DataFrame({"size": sizes, "share_members": sizes / n}, index=seg)
    if "monetary" in allf.columns:
        rev = np.bincount(lab, weights=allf["monetary"].to_numpy(), minlength=k)
        total = rev.sum()
        prof["share_revenue"] = rev / total if total else np.nan
    means = allf.groupby(lab).mean().reindex(seg)
    prof = prof.join(means.add_prefix("mean_"))
    # z on the model's scale: log for skewed features, then standardised over all members.
    skewed = skewed_columns(allf)
    T = allf.copy()
    for c in skewed:
        T[c] = signed_log1p(T[c])
    std = T.std(ddof=0).replace(0, np.nan)
    Zs = (T - T.mean()) / std
    prof = prof.join(Zs.groupby(lab).mean().reindex(seg).fillna(0.0).add_prefix("z_"))
    return prof


def _stability(pipe: Pipeline, A: np.ndarray, lab: np.ndarray, k: int, random_state: int) -> float:
    """Mean adjusted Rand index between ``lab`` and :data:`STABILITY_SEEDS` refits with other seeds.

    Each refit repeats the fitted procedure with another seed on up to :data:`STABILITY_SAMPLE`
    members: same preprocessing and the same number of K-means starts as the fit itself (a refit
    with fewer starts measures how often one start is unlucky, not how reproducible the
    segments are).
    """
    idx = _sample_idx(len(A), STABILITY_SAMPLE, random_state + 7)
    Z = pipe[:-1].transform(A[idx])
    ref = lab[idx]
    n_init = pipe.named_steps["kmeans"].n_init
    with threadpool_limits(KMEANS_THREADS):
        scores = [
            adjusted_rand_score(
                ref, KMeans(n_clusters=k, random_state=random_state + s, n_init=n_init).fit_predict(Z)
            )
            for s in range(1, STABILITY_SEEDS + 1)
        ]
    return float(np.mean(scores))


def rename(segmentation: Segmentation, mapping: Mapping[int | str, str]) -> Segmentation:
    """A copy with segments renamed. Keys: segment numbers or current names."""
    by_name = {v: s for s, v in segmentation.names.items()}
    names = dict(segmentation.names)
    for key, new in mapping.items():
        seg = key if key in names else by_name.get(key)
        if seg is None:
            raise ValueError(f"No segment {key!r} to rename.")
        new = str(new).strip()
        if not new:
            raise ValueError(f"Segment {seg + 1} needs a non-empty name.")
        names[seg] = new
    dup = sorted({v for v in names.values() if list(names.values()).count(v) > 1})
    if dup:
        raise ValueError(f"Segment names must be unique (repeated: {', '.join(dup)}).")
    profile = segmentation.profile.copy()
    profile["name"] = [names[s] for s in profile.index]
    return replace(segmentation, names=names, profile=profile)


# --------------------------------------------------------------------------- RFM
#: Classic RFM segment map on (R score, F score); rows R = 1..5, columns F = 1..5.
RFM_SEGMENT_MAP: tuple[tuple[str, ...], ...] = (
    ("Hibernating", "Hibernating", "At risk", "At risk", "Can't lose them"),
    ("Hibernating", "Hibernating", "At risk", "At risk", "Can't lose them"),
    ("About to sleep", "About to sleep", "Need attention", "Loyal customers", "Loyal customers"),
    ("Promising", "Potential loyalists", "Potential loyalists", "Loyal customers", "Loyal customers"),
    ("New customers", "Potential loyalists", "Potential loyalists", "Champions", "Champions"),
)


def _quintile(values: pd.Series) -> np.ndarray:
    """Scores 1-5 by equal-count quintiles of ``values`` (ties broken by member order)."""
    ranks = values.rank(method="first").to_numpy()
    return np.ceil(ranks * 5 / len(values)).astype(int).clip(1, 5)


def rfm_scores(features: pd.DataFrame) -> pd.DataFrame:
    """Classic RFM: quintile scores R, F, M (1-5, 5 = best) and the named RFM segment.

    R: quintile of ``recency_days`` reversed (most recent = 5; never purchased = 1),
    F: quintile of ``frequency``, M: quintile of ``monetary``. Quintiles are equal-count
    on ranks (ties broken by member order, as in the classic method). The segment comes
    from the usual R x F grid (:data:`RFM_SEGMENT_MAP`); members without any purchase get
    "No purchase yet".
    """
    rec = features["recency_days"].fillna(np.inf)
    r = 6 - _quintile(rec)
    f = _quintile(features["frequency"].astype(float))
    m = _quintile(features["monetary"].astype(float))
    grid = np.array(RFM_SEGMENT_MAP, dtype=object)
    seg = grid[r - 1, f - 1]
    seg = np.where(features["frequency"].to_numpy() > 0, seg, "No purchase yet")
    return pd.DataFrame(
        {
            "R": r,
            "F": f,
            "M": m,
            "RFM": [f"{a}{b}{c}" for a, b, c in zip(r, f, m, strict=True)],
            "rfm_segment": pd.array(seg, dtype="str"),
        },
        index=features.index,
    )


def crosstab(
    kmeans_labels: pd.Series, rfm_segments: pd.Series, names: Mapping[int, str] | None = None
) -> pd.DataFrame:
    """Members per (K-means segment, RFM segment), aligned on member_id."""
    left = kmeans_labels.map(names) if names is not None else kmeans_labels
    right = rfm_segments.reindex(kmeans_labels.index)
    return pd.crosstab(left.rename("segment"), right.rename("rfm_segment"))


# --------------------------------------------------------------------------- PCA
def pca_2d(
    features: pd.DataFrame,
    labels: pd.Series,
    sample: int = 3000,
    random_state: int = 0,
    columns: Iterable[str] | None = None,
) -> pd.DataFrame:
    """2-D PCA of the (log-scaled, standardised) features, for a scatter of a member sample.

    Returns ``member_id``, ``pc1``, ``pc2``, ``segment`` for up to ``sample`` random members;
    ``attrs["explained_variance"]`` holds the two components' explained variance ratios.
    """
    X = feature_matrix(features, columns)
    A = X.to_numpy()
    Z = make_pipeline(list(X.columns), skewed_columns(X)).fit_transform(A)
    n_comp = min(2, Z.shape[1])
    pca = PCA(n_components=n_comp, random_state=random_state).fit(Z)
    idx = _sample_idx(len(Z), sample, random_state)
    P = pca.transform(Z[idx])
    if n_comp == 1:
        P = np.column_stack([P, np.zeros(len(P))])
    out = pd.DataFrame(
        {
            "member_id": X.index[idx],
            "pc1": P[:, 0],
            "pc2": P[:, 1],
            "segment": labels.reindex(X.index[idx]).to_numpy(),
        }
    )
    out.attrs["explained_variance"] = tuple(float(v) for v in pca.explained_variance_ratio_)
    return out
