"""The app starts on the sample program and every page renders without an exception."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from loyalty import load_sample

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted(p.name for p in (ROOT / "pages").glob("*.py") if p.name != "__init__.py")


def start() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    return at


def test_app_starts_on_the_sample_program():
    at = start()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Loyalty Lab"
    assert "Sample program" in at.caption[0].value
    n = len(load_sample().transactions)
    assert any(m.label == "Transactions" and m.value == f"{n:,}" for m in at.metric)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_and_names_the_dataset(page):
    at = start()
    at.switch_page(f"pages/{page}")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Dataset:" in c.value and "Sample program" in c.value for c in at.caption)
