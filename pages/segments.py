"""Segments: K-means member segments a manager can act on, with classic RFM alongside."""

import hashlib

import pandas as pd
import streamlit as st

from loyalty.members import (
    DEFAULT_COLUMNS,
    MIN_MEMBERS,
    crosstab,
    rename,
    segment_means,
    segment_table,
    stability_level,
)
from loyalty.metrics import FEATURES
from ui import cache, model_charts
from ui.state import current_dataset, query_param, set_query_param, set_segments
from ui.widgets import download_table, md_escape, page_header, show_problem

page_header(
    "Segments",
    "Members grouped by behaviour with K-means (log-scaled, standardised features; fixed seed, so the same data "
    "gives the same segments). Segment 1 has the highest mean net spend. The chosen segments become a filter "
    "for the other pages (sidebar).",
)
ds = current_dataset()
if ds.member_transactions.empty:
    show_problem("This dataset has no member transactions, so there is nothing to segment.")
    st.stop()
fp = ds.fingerprint
with st.spinner("Computing member features…"):
    feats = cache.member_features(ds)
if len(feats) < MIN_MEMBERS:
    show_problem(f"Only {len(feats)} members: at least {MIN_MEMBERS} are needed for a meaningful segmentation.")
    st.stop()

# --- features and k (both kept in the URL) ------------------------------------------------------
available = list(feats.columns)
if "seg_features" not in st.session_state:
    # dict.fromkeys: a link repeating a feature gives it once
    from_url = list(dict.fromkeys(c for c in (query_param("seg_features", "") or "").split(",") if c in available))
    st.session_state["seg_features"] = from_url or [c for c in DEFAULT_COLUMNS if c in available]
cols = st.multiselect(
    "Features to segment on",
    available,
    key="seg_features",
    help="Skewed features (e.g. spend) are log-transformed, then all are standardised. "
    + " ".join(f"{c}: {m.formula}" for c, m in FEATURES.items() if c in available),
)
if not cols:
    st.info("Pick at least one feature to segment on.")
    st.stop()
set_query_param("seg_features", ",".join(cols))
cols_t = tuple(cols)

with st.spinner(f"Testing 2 to 10 segments on {len(feats):,} members…"):
    try:
        kc = cache.k_choice(ds, cols_t)
    except ValueError as exc:
        show_problem(f"Cannot segment on these features: {exc}")
        st.stop()
elbow_chart, sil_chart = model_charts.k_sweep_charts(kc.table, kc.recommended)
c_elbow, c_sil = st.columns(2)
c_elbow.altair_chart(elbow_chart, width="stretch")
c_sil.altair_chart(sil_chart, width="stretch")
c_k, c_reason = st.columns([1, 3])
if "seg_k" not in st.session_state:
    url_k = query_param("k", "")
    st.session_state["seg_k"] = int(url_k) if url_k and url_k.isascii() and url_k.isdigit() and 2 <= int(url_k) <= 10 else kc.recommended
k = int(
    c_k.number_input(
        "Number of segments (k)",
        min_value=2,
        max_value=10,
        step=1,
        key="seg_k",
        help="Inertia: mean squared distance of a member to its segment centre (standardised units). Silhouette: "
        "how much closer members are to their own segment than to the next one (-1 to 1).",
    )
)
set_query_param("k", k)
c_reason.markdown(f"**Recommended: k = {kc.recommended}**")
c_reason.caption(kc.reason)
if kc.fit_sample < kc.n_members:
    c_reason.caption(
        f"Sweep fitted on a random {kc.fit_sample:,} of {kc.n_members:,} members; silhouette on {kc.silhouette_sample:,}."
    )

with st.spinner(f"Fitting {k} segments…"):
    try:
        base_seg = cache.segmentation(ds, k, cols_t)
    except ValueError as exc:
        show_problem(f"Cannot form {k} segments: {exc}")
        st.stop()
rename_key = f"seg_names:{fp}:{k}:{','.join(cols)}"
seg = base_seg
saved = st.session_state.get(rename_key)
if saved:
    try:
        seg = rename(base_seg, saved)
    except ValueError:
        st.session_state.pop(rename_key, None)
set_segments(seg.labels, seg.names)

# --- segments, actions, rename ------------------------------------------------------------------
st.subheader("Segments and suggested actions")
hint = seg.stability_hint()
{"stable": st.success, "fairly stable": st.info}.get(stability_level(seg.stability), st.warning)(
    hint,
    icon="🧭",
)
st.caption(
    "Stability: mean adjusted Rand index between these segments and refits with 4 other random seeds "
    "(1 = identical, 0 = chance agreement). Names come from each segment's profile and can be edited below."
)
prof = seg.profile
table = segment_table(prof, seg.names, seg.actions)
names_hash = hashlib.blake2b(repr(sorted(seg.names.items())).encode(), digest_size=6).hexdigest()
edited = st.data_editor(
    table,
    hide_index=True,
    disabled=["segment", "members", "share_of_members", "share_of_net_spend", "suggested_action"],
    column_config={
        "name": st.column_config.TextColumn("name (editable)", max_chars=40, required=True),
        "share_of_members": st.column_config.NumberColumn("share of members", format="percent"),
        "share_of_net_spend": st.column_config.NumberColumn(
            "share of net spend", format="percent", help="Segment net spend / program net spend (returns included)."
        ),
        "suggested_action": st.column_config.TextColumn("suggested action"),
    },
    key=f"seg_editor_{names_hash}",
    width="stretch",
)
new_names = {int(r["segment"]) - 1: str(r["name"] or "").strip() for _, r in edited.iterrows()}
if new_names != seg.names:
    try:
        renamed = rename(seg, new_names)
    except ValueError as exc:
        show_problem(str(exc))
    else:
        st.session_state[rename_key] = renamed.names
        set_segments(renamed.labels, renamed.names)
        st.rerun()

# --- profiles -------------------------------------------------------------------------------------
st.subheader("Profiles")
profile_features = [c[2:] for c in prof.columns if c.startswith("z_")]
st.altair_chart(model_charts.profile_heatmap(prof, profile_features), width="stretch")
st.caption(
    "z-score: how many program standard deviations the segment's average sits above (+, blue) or below (-, red) "
    "the program average, on a log scale for skewed features. Members who never purchased count with recency = "
    "tenure; missing basket/redemption ratio count as 0. Hover a cell for the segment mean in original units."
)
c1, c2 = st.columns(2)
c1.altair_chart(model_charts.size_revenue_chart(prof), width="stretch")
pts = cache.pca_points(ds, k, cols_t).copy()
pts["segment_name"] = pts["segment"].map(seg.names)
c2.altair_chart(model_charts.pca_scatter(pts, pts.attrs.get("explained_variance", ())), width="stretch")
with st.expander("Segment centres and means in original units"):
    centres = seg.centroids.copy()
    centres.index = [seg.names[s] for s in centres.index]
    st.caption("Centre: the K-means centre mapped back to original units (log undone), a typical member.")
    st.dataframe(centres.round(2), width="stretch")
    means = segment_means(prof, seg.names).drop(columns="segment").set_index("name")
    st.caption("Mean: the plain average of each feature over the segment's members.")
    st.dataframe(means.round(2), width="stretch")

# --- RFM alongside --------------------------------------------------------------------------------
st.subheader("Classic RFM segments alongside")
rfm = cache.rfm_scores(ds)
st.caption(
    "R, F, M: quintile scores 1-5 of recency (most recent = 5), purchase count and net spend; named with the usual "
    "R x F grid (e.g. Champions = R 4-5 and F 4-5). The table counts members per K-means segment x RFM segment."
)
st.dataframe(crosstab(seg.labels, rfm["rfm_segment"], seg.names), width="stretch")

# --- download -------------------------------------------------------------------------------------
st.subheader("Download")
st.caption("One row per member: segment number and name, RFM scores and every feature.")


def _member_table() -> pd.DataFrame:
    out = pd.DataFrame({"segment": seg.labels + 1, "segment_name": seg.named_labels()})
    return out.join(rfm).join(feats).reset_index()


download_table(_member_table, "member_segments", label="members with segments")
st.caption(f"Segments published to the other pages: {', '.join(md_escape(n) for n in seg.names.values())}.")
