"""Program-level aggregates as Spark aggregations (sales KPIs, monthly series)."""

from __future__ import annotations

import pandas as pd

from loyalty.kpis.compute import sales_kpis_from_counts
from loyalty.periods import coverage_gap, period_bounds, previous_period


# --------------------------------------------------------------------------- program aggregates
def sales_kpis_spark(tx, start, end) -> dict[str, float]:
    """Sales KPIs of ``[start, end]`` as Spark aggregations (definitions of :mod:`loyalty.metrics`).

    Keys: revenue, transactions, member_revenue, guest_revenue, member_transactions,
    guest_transactions, member_revenue_share, aov, member_aov, guest_aov, active_members,
    purchase_frequency, repeat_purchase_rate, retained_members, retention_rate, churn_rate,
    member_spend_per_customer, guest_spend_per_transaction.
    """
    from pyspark.sql import functions as F

    s, e = period_bounds(start, end)
    ps, pe = previous_period(start, end)
    # Retention is unknown when the previous period starts before the data (as in compute_kpis;
    # the transactions are the activity data here).
    previous_known = not coverage_gap(ps, pe, tx.agg(F.min("timestamp")).collect()[0][0])
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
    tot = {key: float(v or 0.0) for key, v in row.items()}
    per_member = cur.where(member & purchase).groupBy("member_id").agg(F.count("*").alias("n"))
    prev = (
        tx.where(member & purchase & (F.col("timestamp") >= F.lit(ps)) & (F.col("timestamp") < F.lit(s)))
        .select("member_id").distinct()
    )
    act = per_member.agg(F.count("*").alias("a"), F.count(F.when(F.col("n") >= 2, 1)).alias("r")).collect()[0]
    return sales_kpis_from_counts(
        revenue=tot["revenue"],
        purchases=tot["transactions"],
        all_revenue=tot["revenue"],
        member_revenue=tot["member_revenue"],
        member_purchases=tot["member_transactions"],
        guest_revenue=tot["guest_revenue"],
        guest_purchases=tot["guest_transactions"],
        active_members=float(act["a"]),
        repeat_members=float(act["r"]),
        retained_members=float(prev.join(per_member.select("member_id"), "member_id").count())
        if previous_known else float("nan"),
        previous_active=float(prev.count()) if previous_known else float("nan"),
    )


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
