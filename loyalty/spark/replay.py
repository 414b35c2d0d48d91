"""The replay under reward rules on Spark, by member bucket."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from loyalty.spark.members import apply_by_member_bucket

# --------------------------------------------------------------------------- replay under reward rules
_REPLAY_SCHEMA = (
    "member_id string, points_issued double, points_redeemed double, points_expired double, balance double, "
    "tier string, qualifying_spend double, bucket_saved_by_grace double, bucket_cohort_flows string"
)


def replay_spark(tables: Mapping[str, object], rules, end: pd.Timestamp, n_buckets: int = 64):
    """:func:`loyalty.simulator.replay` on Spark: one bucket of members per task.

    Redemptions come from the ledger's redeem events, as embedded. ``end`` must
    be given (the embedded default is a global maximum). Returns the per-member
    Spark DataFrame of :attr:`SimulationResult.members` plus
    ``bucket_saved_by_grace`` (the bucket's points saved by grace, on one row per
    bucket, 0 elsewhere) and ``bucket_cohort_flows`` (the bucket's earn-cohort flows
    as JSON on that row, empty elsewhere: they add up over members) so that totals,
    breakage included, are exactly the embedded ones (:func:`replay_totals_spark`).
    """
    from loyalty.simulator import redemptions_from_ledger, replay

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
        out["bucket_cohort_flows"] = ""
        if len(out):
            out.loc[out.index[0], "bucket_saved_by_grace"] = res.totals.points_saved_by_grace
            if res.cohort_flows is not None:
                out.loc[out.index[0], "bucket_cohort_flows"] = res.cohort_flows.to_json()
        out["bucket_cohort_flows"] = out["bucket_cohort_flows"].astype(object)
        return out[cols]

    return apply_by_member_bucket(frames, kernel, _REPLAY_SCHEMA, n_buckets)


def replay_totals_spark(members_sdf, rules):
    """Program totals of a Spark replay (Spark aggregation, then :func:`loyalty.simulator.make_totals`).

    The breakage rate is the earn-cohort estimate of the buckets' flows summed on the driver (a
    few kB per bucket), as embedded.
    """
    from pyspark.sql import functions as F

    from loyalty.economics import CohortFlows, combine_flows, estimate_breakage
    from loyalty.simulator import horizon_months, make_totals

    row = members_sdf.agg(
        F.sum("points_issued").alias("issued"),
        F.sum("points_redeemed").alias("redeemed"),
        F.sum("points_expired").alias("expired"),
        F.sum("balance").alias("outstanding"),
        F.sum("bucket_saved_by_grace").alias("saved"),
        F.count("*").alias("members"),
    ).collect()[0]
    per_tier = dict(members_sdf.groupBy("tier").count().collect())
    parts = [
        CohortFlows.from_json(r["bucket_cohort_flows"])
        for r in members_sdf.where(F.length("bucket_cohort_flows") > 0).select("bucket_cohort_flows").collect()
    ]
    breakage = estimate_breakage(combine_flows(parts), source="replay", horizon_months=horizon_months(rules))
    return make_totals(
        rules,
        issued=float(row["issued"] or 0.0),
        redeemed=float(row["redeemed"] or 0.0),
        expired=float(row["expired"] or 0.0),
        outstanding=float(row["outstanding"] or 0.0),
        tier_counts=[per_tier.get(t.name, 0) for t in rules.tiers],
        saved_by_grace=float(row["saved"] or 0.0),
        members=int(row["members"]),
        breakage=breakage.value,
    )
