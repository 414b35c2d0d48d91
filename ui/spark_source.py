"""The "Spark" data source: run the heavy analyses on a cluster, bring back small results."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from loyalty.metrics import label
from loyalty.simulator.rules import SAMPLE_RULES, RewardRules
from loyalty.spark import SparkSource
from ui.state import set_dataset
from ui.widgets import show_problem


def _defaults() -> SparkSource:
    try:
        conf = dict(st.secrets.get("spark", {}))
    except Exception:  # no secrets file at all is the normal case
        conf = {}
    return SparkSource(
        master=str(conf.get("master", "local[2]")),
        transactions=str(conf.get("transactions", "")),
        members=str(conf.get("members", "")),
        ledger=str(conf.get("ledger", "")),
    )


@st.cache_resource(max_entries=2, ttl=3600, show_spinner=False)
def _session(master: str):
    from loyalty.spark import spark_session

    return spark_session(master)


def render_spark_source() -> None:
    """A form for a Spark Connect URL (or local[N]) and Parquet paths / table names."""
    st.caption(
        "For programs too big for this app's machine: the same analyses run on Apache Spark (member-level "
        "work partitioned by member, program aggregates as Spark aggregations); only aggregates and a member "
        "sample come back. Defaults come from the `[spark]` section of `.streamlit/secrets.toml`."
    )
    try:
        import pyspark  # noqa: F401
    except ImportError:
        st.info("Install `pyspark` (and Java 17) on the app's machine to use a Spark source.")
        return
    d = _defaults()
    with st.form("spark_form"):
        master = st.text_input("Spark Connect URL or local master", d.master, help="e.g. sc://host:15002 or local[4]")
        c1, c2, c3 = st.columns(3)
        tx = c1.text_input("Transactions (Parquet path or table)", d.transactions)
        mem = c2.text_input("Members (optional)", d.members)
        led = c3.text_input("Ledger (optional)", d.ledger)
        sample = st.number_input("Member sample for K-means / CLV", 1_000, 1_000_000, 200_000, step=10_000)
        go = st.form_submit_button("Run on Spark")
    if not go:
        _use_sample_button()
        return
    if not tx.strip():
        show_problem("Give at least the transactions table (a Parquet path or a table name).")
        return
    src = SparkSource(master=master.strip(), transactions=tx.strip(), members=mem.strip(), ledger=led.strip())
    try:
        _run(src, int(sample))
    except Exception as exc:  # cluster/network/path errors must reach the user as a message
        show_problem(f"Spark could not run the analysis: {type(exc).__name__}: {str(exc)[:500]}")
    _use_sample_button()


def _run(src: SparkSource, sample_size: int, rules: RewardRules = SAMPLE_RULES) -> None:
    from loyalty import spark as D
    from loyalty.periods import period_bounds

    with st.status("Running on Spark…", expanded=True) as status:
        st.write("Connecting and reading tables…")
        spark = _session(src.master)
        tables = D.read_tables(spark, src.paths())
        end = tables["transactions"].agg({"timestamp": "max"}).collect()[0][0]
        end = pd.Timestamp(end)
        start = (end - pd.DateOffset(years=1) + pd.Timedelta(days=1)).normalize()
        st.write("Sales KPIs and monthly series (Spark aggregations)…")
        kpis = D.sales_kpis_spark(tables["transactions"], start, end)
        monthly = D.monthly_sales_spark(tables["transactions"])
        st.write("Replay under the sample rules (applyInPandas by member bucket)…")
        members = D.replay_spark(tables, rules, end=end)
        totals = D.replay_totals_spark(members, rules)
        st.write(f"Member sample (up to {sample_size:,} members)…")
        ds, note = D.member_sample(tables, max_members=sample_size)
        status.update(label="Spark analysis done", state="complete")
    s, e = period_bounds(start, end)
    st.subheader(f"Sales KPIs, {s:%d %b %Y} – {end:%d %b %Y} (computed on Spark)")
    st.dataframe(pd.DataFrame({"kpi": [label(k) for k in kpis], "value": list(kpis.values())}), hide_index=True)
    st.dataframe(monthly, hide_index=True)
    st.subheader(f"Replay under '{rules.name}' (computed on Spark)")
    st.dataframe(pd.DataFrame({"total": [label(k) for k in totals.as_dict()],
                               "value": list(totals.as_dict().values())}), hide_index=True)
    st.caption(note)
    st.session_state["spark_sample"] = ds


def _use_sample_button() -> None:
    ds = st.session_state.get("spark_sample")
    if ds is not None and st.button("Use the Spark member sample as this session's dataset"):
        set_dataset(ds)
        st.session_state.pop("spark_sample", None)
        st.rerun()
