"""Member-level work on Spark: features by member bucket, and a whole-member sample for the models."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from loyalty.schema import Dataset
from loyalty.spark.session import bucketed, to_canonical

# --------------------------------------------------------------------------- member features
_FEATURE_SCHEMA_BASE = (
    "member_id string, recency_days double, frequency bigint, monetary double, avg_basket double, "
    "tenure_days double, purchases_90d bigint"
)
_FEATURE_SCHEMA_LEDGER = (
    ", points_balance double, points_earned double, points_redeemed double, redemption_ratio double, "
    "days_since_redemption double"
)


def member_features_spark(tables: Mapping[str, object], as_of: pd.Timestamp, n_buckets: int = 64):
    """:func:`loyalty.members.features.member_features` on Spark, one bucket of members per task.

    ``as_of`` must be given (the embedded default, the last transaction, is a
    global property no bucket knows). Members of the members table who never
    purchased are included, as embedded. Returns a Spark DataFrame with
    ``member_id`` as a column.
    """
    from loyalty.members.features import member_features

    as_of = pd.Timestamp(as_of)
    frames = {k: tables[k] for k in ("transactions", "members", "ledger") if tables.get(k) is not None}
    schema = _FEATURE_SCHEMA_BASE + (_FEATURE_SCHEMA_LEDGER if "ledger" in frames else "")
    out_cols = [f.split()[0] for f in schema.split(", ")]

    def kernel(parts: dict[str, pd.DataFrame]) -> pd.DataFrame:
        feats = member_features(
            Dataset(parts["transactions"], members=parts.get("members"), ledger=parts.get("ledger")),
            as_of=as_of,
        )
        out = feats.reset_index()
        out["member_id"] = out["member_id"].astype(object)
        for col in ("frequency", "purchases_90d"):
            out[col] = out[col].astype("int64")
        return out[out_cols]

    return apply_by_member_bucket(frames, kernel, schema, n_buckets)


def apply_by_member_bucket(frames: Mapping[str, object], kernel, schema: str, n_buckets: int = 64):
    """Run ``kernel({kind: canonical pandas frame})`` once per bucket of members.

    All tables are tagged, unioned and grouped by ``pmod(xxhash64(member_id), n_buckets)``
    so one ``applyInPandas`` sees every row of its members, whatever table they come from.
    """
    from functools import reduce

    from pyspark.sql import functions as F

    columns = {kind: list(sdf.columns) for kind, sdf in frames.items()}
    tagged = [bucketed(sdf, n_buckets).withColumn("_kind", F.lit(kind)) for kind, sdf in frames.items()]
    union = reduce(lambda a, b: a.unionByName(b, allowMissingColumns=True), tagged)

    def run(pdf: pd.DataFrame) -> pd.DataFrame:
        parts = {
            kind: to_canonical(pdf.loc[pdf["_kind"] == kind, cols].reset_index(drop=True), kind)
            for kind, cols in columns.items()
        }
        return kernel(parts)

    return union.groupBy("_bucket").applyInPandas(run, schema)


def member_sample(tables: Mapping[str, object], max_members: int = 200_000, seed: int = 0) -> tuple[Dataset, str]:
    """Every row of a uniform random sample of members (guests excluded), as a pandas :class:`Dataset`.

    Returns the dataset and a note stating the sample size and fraction.
    """
    from pyspark.sql import functions as F

    tx = tables["transactions"]
    ids = tx.where(F.col("member_id").isNotNull()).select("member_id").distinct()
    n = ids.count()
    frac = 1.0 if n <= max_members else max_members / n
    chosen = ids if frac >= 1 else ids.where(
        F.pmod(F.xxhash64("member_id", F.lit(seed)), F.lit(1_000_000)) < F.lit(int(frac * 1_000_000))
    )
    out = {}
    for kind, sdf in tables.items():
        sub = sdf.join(chosen, "member_id", "inner") if "member_id" in sdf.columns else sdf
        out[kind] = to_canonical(sub.toPandas(), kind)
    kept = out["transactions"]["member_id"].nunique()
    note = (f"Member sample from Spark: {kept:,} of {n:,} members ({kept / max(n, 1):.1%}), all their rows; "
            "models fitted on it carry sampling error.")
    return Dataset(out["transactions"], members=out.get("members"), ledger=out.get("ledger"),
                   name="Spark member sample", notes=(note,)), note
