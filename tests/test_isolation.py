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


def _files_under(*dirs: Path) -> dict[Path, float]:
    out = {}
    for d in dirs:
        for p in d.rglob("*"):
            if p.is_file() and ".git" not in p.parts and "__pycache__" not in p.parts:
                out[p] = p.stat().st_mtime
    return out


def test_an_upload_is_never_written_to_disk(tmp_path, monkeypatch):
    """Import and use an upload; no file appears or changes under the app or the temp folder."""
    import tempfile

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    tempfile.tempdir = None  # re-read TMPDIR
    marker = "UNIQUE-MEMBER-7f3a"
    csv = (
        "ticket;client;date;montant\r\n"
        f"T1;{marker};02/01/2025 10:00;12,50\r\nT2;{marker};05/01/2025 11:00;3,10\r\n"
    ).encode("cp1252")
    watched = (ROOT, Path(tempfile.gettempdir()))
    before = _files_under(*watched)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/data.py")
    at.run()
    at.file_uploader(key="up_transactions").set_value(("ventes.csv", csv, "text/csv"))
    at.run()
    use = [b for b in at.button if b.label.startswith("Use this data")]
    use[0].click().run()
    assert not at.exception
    assert at.session_state["dataset"].name == "ventes.csv"
    after = _files_under(*watched)
    changed = [p for p, m in after.items() if before.get(p) != m and "test-artifacts" not in p.parts
               and ".pytest_cache" not in p.parts and ".hypothesis" not in p.parts]
    assert changed == []
    for p in after:
        if p.suffix in (".csv", ".parquet", ".xlsx", ".pkl", ".json", "") and p.stat().st_size < 5_000_000:
            assert marker.encode() not in p.read_bytes(), p
    tempfile.tempdir = None


def test_fingerprint_sees_every_kind_of_change():
    base = secret_dataset()
    tx = base.transactions
    variants = []
    t = tx.copy()
    t.loc[2, "member_id"] = ""  # a missing id becomes an empty string
    variants.append(t)
    t = tx.copy()
    t.loc[0, "member_id"] = "SECRET-X"
    variants.append(t)
    t = tx.copy()
    t.loc[1, "timestamp"] = pd.Timestamp("2025-01-05")
    variants.append(t)
    t = tx.assign(extra=pd.array([1, None, 3], dtype="Int64"))
    variants.append(t)
    prints = {Dataset(v).fingerprint for v in variants}
    assert len(prints) == len(variants) and base.fingerprint not in prints
    members = pd.DataFrame({"member_id": ["SECRET-1"], "enrolled_at": pd.to_datetime(["2024-01-01"])})
    assert Dataset(tx, members=members).fingerprint != base.fingerprint
