"""Absurd but valid programs never crash a page: each page renders a message or a correct result.

Datasets: one transaction, all guests (no members), dates in 1900 and 2200, amounts of 1e15, only
returns, and member ids / names carrying HTML and markdown (which must be shown literally).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from loyalty.schema import Dataset

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted(p.name for p in (ROOT / "pages").glob("*.py") if p.name != "__init__.py")
EVIL_ID = "<script>alert('x')</script>"
MD_ID = "**bold** [link](http://evil.example) # head"


def tx(ids, times, amounts) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "transaction_id": pd.array([f"T{i}" for i in range(len(ids))], dtype="str"),
            "member_id": pd.array(ids, dtype="str"),
            "timestamp": pd.to_datetime(pd.Series(times)).astype("datetime64[ns]"),
            "amount": pd.Series(amounts, dtype="float64"),
        }
    )


CASES = {
    "one_row": Dataset(tx(["M1"], ["2025-03-01 10:00"], [25.0]), name="one row"),
    "all_guests": Dataset(
        tx([None] * 50, pd.date_range("2025-01-01", periods=50, freq="D"), [10.0 + i for i in range(50)]),
        name="all guests",
    ),
    "extreme_dates": Dataset(
        tx(["M1", "M2", "M1", "M2"], ["1900-01-02", "1900-06-01", "2200-01-01", "2200-02-01"],
           [10.0, 20.0, 30.0, 40.0]),
        name="dates 1900 and 2200",
    ),
    "huge_amounts": Dataset(
        tx(["M1", "M2", "M1", None], ["2025-01-01", "2025-02-01", "2025-03-01", "2025-03-02"],
           [1e15, 2e15, 1e15, 1e15]),
        name="amounts of 1e15",
    ),
    "only_returns": Dataset(
        tx(["M1", "M2", "M3"], ["2025-01-01", "2025-02-01", "2025-03-01"], [-10.0, -20.0, -5.0]),
        name="only returns",
    ),
    "hostile_text": Dataset(
        tx([EVIL_ID, MD_ID, EVIL_ID, MD_ID] * 30,
           list(pd.date_range("2024-01-01", periods=120, freq="5D")),
           [10.0 + (i % 7) * 3 for i in range(120)]),
        name=f"upload {EVIL_ID}",
    ),
}


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("case", sorted(CASES))
def test_page_survives(case, page):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.session_state["dataset"] = CASES[case]
    at.run()
    at.switch_page(f"pages/{page}")
    at.run()
    assert not at.exception, (case, page, [e.value for e in at.exception][:1])
    # Text from the data is never rendered as HTML: no markdown element allows HTML and carries it.
    for md in at.markdown:
        assert not ("<script" in md.value and md.proto.allow_html), (case, page, md.value[:200])
