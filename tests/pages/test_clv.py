"""AppTest: the Customer value page on the bundled sample program and on thin data."""

from pathlib import Path

import numpy as np
import pandas as pd
from streamlit.testing.v1 import AppTest

from loyalty.schema import Dataset
from tests.pages.apptest import open_app_page

ROOT = Path(__file__).resolve().parents[2]


def open_page(dataset: Dataset | None = None, **params) -> AppTest:
    return open_app_page("clv.py", dataset, params)


def test_clv_page_renders_on_the_sample():
    at = open_page()
    assert at.title[0].value == "Customer value (CLV)"
    labels = [m.label for m in at.metric]
    assert {"Total CLV", "Mean CLV per member", "Mean P(alive), repeat buyers", "One-time buyers"} <= set(labels)
    assert not at.error
    assert at.query_params["clv_h"] == "12"
    # The margin defaults to the sidebar's gross margin (30 %).
    assert at.number_input[1].value == 30.0 or any(n.value == 30.0 for n in at.number_input)
    assert any(b.label == "⬇ CSV per-member CLV" for b in at.get("download_button"))
    assert any("Create segments" in i.value for i in at.info)


def test_horizon_from_url_and_calibration_check():
    at = open_page(clv_h="24", clv_d="5")
    assert at.slider(key="clv_horizon").value == 24
    at.toggle(key="clv_run_check").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(m.label == "Total error" for m in at.metric)


def test_clv_by_segment_after_segments_page():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/segments.py")
    at.run()
    at.switch_page("pages/clv.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not any("Create segments" in i.value for i in at.info)


def test_capped_lifespan_and_repeat_buyer_p_alive_are_shown_by_segment():
    """On the sample's segments, the classic table flags the capped lifespans (churn 0 in "Champions" and
    "New members") and the segment table gives P(alive) of repeat buyers with the one-time buyers apart."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/segments.py")
    at.run()
    at.switch_page("pages/clv.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    frames = [d.value for d in at.dataframe]
    classic = next(f for f in frames if "lifespan_years" in f.columns)
    capped = classic[classic["lifespan_capped"].astype(bool)]
    assert len(capped) and (capped["lifespan_years"] == 10).all()
    assert not classic.loc[~classic["lifespan_capped"].astype(bool), "lifespan_years"].eq(10).any()
    warning = next(w.value for w in at.warning if "Lifespan capped" in w.value)
    assert all(str(g) in warning for g in capped.index)
    by_seg = next(f for f in frames if "share_of_clv" in f.columns)
    assert {"p_alive_repeat", "one_time_buyers"} <= set(by_seg.columns)
    assert "mean_p_alive" not in by_seg.columns
    assert by_seg["one_time_buyers"].sum() > 0 and by_seg["p_alive_repeat"].dropna().between(0, 1).all()


def test_thin_data_shows_a_clear_message():
    rng = np.random.default_rng(0)
    n = 40  # 20 members, few repeat buyers: too thin for the probabilistic model
    tx = pd.DataFrame(
        {
            "transaction_id": pd.array([f"t{i}" for i in range(n)], dtype="str"),
            "member_id": pd.array([f"m{i % 20}" for i in range(n)], dtype="str"),
            "timestamp": (pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, n), unit="D")).astype(
                "datetime64[ns]"
            ),
            "amount": rng.uniform(5, 50, n),
        }
    )
    at = open_page(Dataset(tx, name="Thin program"))
    assert any("could not be fitted" in e.value and "repeat" in e.value for e in at.error)
