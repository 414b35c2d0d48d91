"""One session's data is never visible in another session, and caches are keyed by content."""

from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from loyalty.schema import Dataset

ROOT = Path(__file__).resolve().parents[1]


def secret_dataset(name: str = "Secret upload of session A") -> Dataset:
    tx = pd.DataFrame(
        {
            "transaction_id": pd.array(["T1", "T2", "T3"], dtype="str"),
            "member_id": pd.array(["SECRET-1", "SECRET-2", None], dtype="str"),
            "timestamp": pd.to_datetime(["2025-01-01", "2025-01-02", "2025-01-03"]).astype("datetime64[ns]"),
            "amount": [10.0, 20.0, 30.0],
        }
    )
    return Dataset(tx, name=name)


def captions(at: AppTest) -> str:
    return " ".join(c.value for c in at.caption) + " ".join(m.value for m in at.markdown)


def test_two_sessions_do_not_see_each_other():
    a = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    a.session_state["dataset"] = secret_dataset()
    a.run()
    assert not a.exception
    assert "Secret upload of session A" in captions(a)

    b = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    b.run()
    assert not b.exception
    assert "Secret upload" not in captions(b)
    assert "Sample program" in captions(b)


def test_fingerprint_is_content_based():
    a, b = secret_dataset("name one"), secret_dataset("name two")
    assert a.fingerprint == b.fingerprint  # same content: a cache entry may be shared safely
    tx = a.transactions.copy()
    tx.loc[0, "amount"] = 11.0
    assert Dataset(tx).fingerprint != a.fingerprint
