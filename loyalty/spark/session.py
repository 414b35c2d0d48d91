"""The same analyses on Apache Spark, for programs that outgrow one machine.

Design: Spark is the distributed engine, :mod:`loyalty` stays the one
implementation of every definition.

* Member-level work (member features, replay under reward rules) is
  partitioned by member: rows are bucketed by a hash of ``member_id`` and each
  bucket goes through ``groupBy(bucket).applyInPandas`` (``cogroup`` when the
  ledger is needed) into the very same pandas kernels
  (:func:`loyalty.members.features.member_features`, :func:`loyalty.simulator.replay`).
  A member never straddles two buckets, so per-member results are identical to
  the embedded path's.
* Program-level aggregates (sales KPIs, monthly series) are Spark
  aggregations following :mod:`loyalty.metrics`; only these small results
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

import pandas as pd

from loyalty.schema import SPECS, canonical_dtype

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


def to_canonical(pdf: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Spark's pandas batch back to canonical dtypes (so kernels see what they see embedded)."""
    out = pdf.copy()
    for c in SPECS[kind].columns:
        if c.name in out.columns:
            dt = canonical_dtype(c.dtype)
            out[c.name] = out[c.name].astype(dt) if dt != "datetime64[ns]" else pd.to_datetime(
                out[c.name]).astype("datetime64[ns]")
    return out


def bucketed(sdf, n_buckets: int):
    from pyspark.sql import functions as F

    return sdf.where(F.col("member_id").isNotNull()).withColumn(
        "_bucket", F.pmod(F.xxhash64("member_id"), F.lit(n_buckets))
    )
