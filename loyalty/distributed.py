"""The same analyses on Apache Spark, for programs that outgrow one machine.

Design: Spark is the distributed engine, :mod:`loyalty` stays the one
implementation of every definition.

* Member-level work (member features, replay under reward rules) is
  partitioned by member: rows are bucketed by a hash of ``member_id`` and each
  bucket goes through ``groupBy(bucket).applyInPandas`` (``cogroup`` when the
  ledger is needed) into the very same pandas kernels
  (:func:`loyalty.features.member_features`, :func:`loyalty.simulation.replay`).
  A member never straddles two buckets, so per-member results are identical to
  the embedded path's.
* Program-level aggregates (sales KPIs, monthly series) are Spark
  aggregations following :mod:`loyalty.kpi_defs`; only these small results
  come back to the app.
* K-means and CLV fits run in the app on a member sample
  (:func:`member_sample`): every transaction of a uniform random sample of
  members, so per-member histories stay whole; the sample size and fraction
  are reported because they widen the models' uncertainty.

pyspark is imported lazily: the app runs without it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from loyalty.kpi_frame import period_bounds, previous_period
from loyalty.schema import SPECS, Dataset, canonical_dtype

#: Spark SQL types of the canonical logical types.
_SPARK_TYPES = {
    "id": "string",
    "text": "string",
    "event": "string",
    "datetime": "timestamp",
    "money": "double",
    "points": "double",
    "float": "double",
    "int": "bigint",
}


@dataclass(frozen=True)
class SparkSource:
    """Where the program lives: a Spark Connect URL (``sc://host:15002``) or
    ``local[N]``, and a Parquet path or table name per canonical table."""

    master: str = "local[2]"
    transactions: str = ""
    members: str = ""
    ledger: str = ""

    def paths(self) -> dict[str, str]:
        return {k: v for k, v in (("transactions", self.transactions), ("members", self.members),
                                  ("ledger", self.ledger)) if v}


def spark_session(master: str = "local[2]", app_name: str = "loyalty-lab"):
    """A SparkSession: Spark Connect when ``master`` starts with ``sc://``, else a classic session."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(app_name)
    if master.startswith("sc://"):
        return builder.remote(master).getOrCreate()
    return (
        builder.master(master)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )


def spark_schema(kind: str, columns) -> str:
    """DDL schema string of canonical ``kind`` restricted to ``columns``."""
    spec = SPECS[kind]
    return ", ".join(f"`{c.name}` {_SPARK_TYPES[c.dtype]}" for c in spec.columns if c.name in columns)


def to_spark(spark, df: pd.DataFrame, kind: str):
    """A canonical pandas table as a Spark DataFrame (for tests and small uploads)."""
    plain = df.copy()
    for c in SPECS[kind].columns:
        if c.name in plain.columns and c.dtype in ("id", "text", "event"):
            # object dtype: pyspark's Arrow path predates pandas 3's string dtype
            plain[c.name] = plain[c.name].astype(object).where(plain[c.name].notna(), None)
        elif c.name in plain.columns and c.dtype == "int":
            plain[c.name] = plain[c.name].astype("float64")
    sdf = spark.createDataFrame(plain, schema=spark_schema(kind, plain.columns))
    return sdf


def read_tables(spark, paths: Mapping[str, str]) -> dict:
    """Spark DataFrames of the canonical tables: Parquet paths (``*.parquet`` or folders) or table names."""
    out = {}
    for kind, where in paths.items():
        if not where:
            continue
        if "/" in where or where.endswith(".parquet"):
            out[kind] = spark.read.parquet(where)
        else:
            out[kind] = spark.table(where)
    if "transactions" not in out:
        raise ValueError("A Spark source needs at least the transactions table.")
    return out


def _to_canonical(pdf: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Spark's pandas batch back to canonical dtypes (so kernels see what they see embedded)."""
    out = pdf.copy()
    for c in SPECS[kind].columns:
        if c.name in out.columns:
            dt = canonical_dtype(c.dtype)
            out[c.name] = out[c.name].astype(dt) if dt != "datetime64[ns]" else pd.to_datetime(
                out[c.name]).astype("datetime64[ns]")
    return out


def _bucketed(sdf, n_buckets: int):
    from pyspark.sql import functions as F

    return sdf.where(F.col("member_id").isNotNull()).withColumn(
        "_bucket", F.pmod(F.xxhash64("member_id"), F.lit(n_buckets))
    )


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
    """:func:`loyalty.features.member_features` on Spark, one bucket of members per task.

    ``as_of`` must be given (the embedded default, the last transaction, is a
    global property no bucket knows). Members of the members table who never
    purchased are included, as embedded. Returns a Spark DataFrame with
    ``member_id`` as a column.
    """
    from loyalty.features import member_features

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
    tagged = [_bucketed(sdf, n_buckets).withColumn("_kind", F.lit(kind)) for kind, sdf in frames.items()]
    union = reduce(lambda a, b: a.unionByName(b, allowMissingColumns=True), tagged)

    def run(pdf: pd.DataFrame) -> pd.DataFrame:
        parts = {
            kind: _to_canonical(pdf.loc[pdf["_kind"] == kind, cols].reset_index(drop=True), kind)
            for kind, cols in columns.items()
        }
        return kernel(parts)

    return union.groupBy("_bucket").applyInPandas(run, schema)


# --------------------------------------------------------------------------- replay under reward rules
_REPLAY_SCHEMA = (
    "member_id string, points_issued double, points_redeemed double, points_expired double, balance double, "
    "tier string, qualifying_spend double, bucket_saved_by_grace double"
)


def replay_spark(tables: Mapping[str, object], rules, end: pd.Timestamp, n_buckets: int = 64):
    """:func:`loyalty.simulation.replay` on Spark: one bucket of members per task.

    Redemptions come from the ledger's redeem events, as embedded. ``end`` must
    be given (the embedded default is a global maximum). Returns the per-member
    Spark DataFrame of :attr:`SimulationResult.members` plus
    ``bucket_saved_by_grace`` (the bucket's points saved by grace, on one row per
    bucket, 0 elsewhere) so that totals add up exactly (:func:`replay_totals_spark`).
    """
    from loyalty.simulation import redemptions_from_ledger, replay

    end = pd.Timestamp(end)
    frames = {k: tables[k] for k in ("transactions", "ledger") if tables.get(k) is not None}
    cols = [f.split()[0] for f in _REPLAY_SCHEMA.split(", ")]

    def kernel(parts: dict[str, pd.DataFrame]) -> pd.DataFrame:
        red = redemptions_from_ledger(parts.get("ledger"))
        res = replay(parts["transactions"], rules, red, end=end)
        out = res.members.copy()
        out["member_id"] = out["member_id"].astype(object)
        out["tier"] = out["tier"].astype(object)
        out["bucket_saved_by_grace"] = 0.0
        if len(out):
            out.loc[out.index[0], "bucket_saved_by_grace"] = res.totals.points_saved_by_grace
        return out[cols]

    return apply_by_member_bucket(frames, kernel, _REPLAY_SCHEMA, n_buckets)


def replay_totals_spark(members_sdf, rules):
    """Program totals of a Spark replay (Spark aggregation, then :func:`loyalty.simulation.make_totals`)."""
    from pyspark.sql import functions as F

    from loyalty.simulation import make_totals

    row = members_sdf.agg(
        F.sum("points_issued").alias("issued"),
        F.sum("points_redeemed").alias("redeemed"),
        F.sum("points_expired").alias("expired"),
        F.sum("balance").alias("outstanding"),
        F.sum("bucket_saved_by_grace").alias("saved"),
        F.count("*").alias("members"),
    ).collect()[0]
    per_tier = dict(members_sdf.groupBy("tier").count().collect())
    return make_totals(
        rules,
        issued=float(row["issued"] or 0.0),
        redeemed=float(row["redeemed"] or 0.0),
        expired=float(row["expired"] or 0.0),
        outstanding=float(row["outstanding"] or 0.0),
        tier_counts=[per_tier.get(t.name, 0) for t in rules.tiers],
        saved_by_grace=float(row["saved"] or 0.0),
        members=int(row["members"]),
    )


# --------------------------------------------------------------------------- program aggregates
def sales_kpis_spark(tx, start, end) -> dict[str, float]:
    """Sales KPIs of ``[start, end]`` as Spark aggregations (definitions of :mod:`loyalty.kpi_defs`).

    Keys: revenue, transactions, member_revenue, guest_revenue, member_transactions,
    guest_transactions, member_revenue_share, aov, member_aov, guest_aov, active_members,
    purchase_frequency, repeat_purchase_rate, retained_members, retention_rate, churn_rate,
    member_spend_per_customer, guest_spend_per_transaction.
    """
    from pyspark.sql import functions as F

    s, e = period_bounds(start, end)
    ps, _ = previous_period(start, end)
    member = F.col("member_id").isNotNull()
    purchase = F.col("amount") > 0
    cur = tx.where((F.col("timestamp") >= F.lit(s)) & (F.col("timestamp") < F.lit(e)))
    row = cur.agg(
        F.sum("amount").alias("revenue"),
        F.count(F.when(purchase, 1)).alias("transactions"),
        F.sum(F.when(member, F.col("amount"))).alias("member_revenue"),
        F.sum(F.when(~member, F.col("amount"))).alias("guest_revenue"),
        F.count(F.when(member & purchase, 1)).alias("member_transactions"),
        F.count(F.when(~member & purchase, 1)).alias("guest_transactions"),
    ).collect()[0].asDict()
    k = {key: float(v or 0.0) for key, v in row.items()}
    per_member = cur.where(member & purchase).groupBy("member_id").agg(F.count("*").alias("n"))
    prev = (
        tx.where(member & purchase & (F.col("timestamp") >= F.lit(ps)) & (F.col("timestamp") < F.lit(s)))
        .select("member_id").distinct()
    )
    act = per_member.agg(F.count("*").alias("a"), F.count(F.when(F.col("n") >= 2, 1)).alias("r")).collect()[0]
    n_prev = prev.count()
    retained = prev.join(per_member.select("member_id"), "member_id").count()
    k["active_members"] = float(act["a"])
    div = _div
    k["member_revenue_share"] = div(k["member_revenue"], k["revenue"])
    k["aov"] = div(k["revenue"], k["transactions"])
    k["member_aov"] = div(k["member_revenue"], k["member_transactions"])
    k["guest_aov"] = div(k["guest_revenue"], k["guest_transactions"])
    k["purchase_frequency"] = div(k["member_transactions"], k["active_members"])
    k["repeat_purchase_rate"] = div(float(act["r"]), k["active_members"])
    k["retained_members"] = float(retained)
    k["retention_rate"] = div(float(retained), float(n_prev))
    k["churn_rate"] = 1.0 - k["retention_rate"]
    k["member_spend_per_customer"] = div(k["member_revenue"], k["active_members"])
    k["guest_spend_per_transaction"] = k["guest_aov"]
    return k


def monthly_sales_spark(tx) -> pd.DataFrame:
    """Per calendar month: revenue, transactions (purchases), member/guest revenue, active members."""
    from pyspark.sql import functions as F

    member = F.col("member_id").isNotNull()
    purchase = F.col("amount") > 0
    out = (
        tx.withColumn("month", F.date_trunc("month", F.col("timestamp")))
        .groupBy("month")
        .agg(
            F.sum("amount").alias("revenue"),
            F.count(F.when(purchase, 1)).alias("transactions"),
            F.sum(F.when(member, F.col("amount"))).alias("member_revenue"),
            F.sum(F.when(~member, F.col("amount"))).alias("guest_revenue"),
            F.countDistinct(F.when(member & purchase, F.col("member_id"))).alias("active_members"),
        )
        .orderBy("month")
        .toPandas()
    )
    out["month"] = pd.to_datetime(out["month"]).astype("datetime64[ns]")
    for c in ("member_revenue", "guest_revenue"):
        out[c] = out[c].fillna(0.0)
    return out


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
        out[kind] = _to_canonical(sub.toPandas(), kind)
    kept = out["transactions"]["member_id"].nunique()
    note = (f"Member sample from Spark: {kept:,} of {n:,} members ({kept / max(n, 1):.1%}), all their rows; "
            "models fitted on it carry sampling error.")
    return Dataset(out["transactions"], members=out.get("members"), ledger=out.get("ledger"),
                   name="Spark member sample", notes=(note,)), note


def _div(a: float, b: float) -> float:
    return float(a) / float(b) if b else float("nan")


def exact_equal(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Same rows and values (NaN == NaN), ignoring row order; for the Spark-vs-embedded check."""
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        return False
    key = a.columns[0]
    a2, b2 = a.sort_values(key).reset_index(drop=True), b.sort_values(key).reset_index(drop=True)
    for c in a.columns:
        x, y = a2[c].to_numpy(), b2[c].to_numpy()
        if x.dtype.kind in "fc" or y.dtype.kind in "fc":
            if not np.array_equal(x.astype(float), y.astype(float), equal_nan=True):
                return False
        elif not (pd.Series(x).astype(str).to_numpy() == pd.Series(y).astype(str).to_numpy()).all():
            return False
    return True
