"""The same analyses on Apache Spark, for programs that outgrow one machine (pyspark imported lazily)."""

from loyalty.spark.aggregates import monthly_sales_spark, sales_kpis_spark
from loyalty.spark.compare import exact_equal
from loyalty.spark.members import apply_by_member_bucket, member_features_spark, member_sample
from loyalty.spark.replay import replay_spark, replay_totals_spark
from loyalty.spark.session import (
    SparkSource,
    bucketed,
    read_tables,
    spark_schema,
    spark_session,
    to_canonical,
    to_spark,
)

__all__ = [
    "SparkSource",
    "apply_by_member_bucket",
    "bucketed",
    "exact_equal",
    "member_features_spark",
    "member_sample",
    "monthly_sales_spark",
    "read_tables",
    "replay_spark",
    "replay_totals_spark",
    "sales_kpis_spark",
    "spark_schema",
    "spark_session",
    "to_canonical",
    "to_spark",
]
