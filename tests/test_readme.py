"""The README documents the data model and the two set-up commands that CI runs."""

from pathlib import Path

from loyalty.schema import SPECS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_canonical_column_is_documented():
    for kind, spec in SPECS.items():
        assert f"(`{kind}`" in README
        for col in spec.columns:
            assert f"| `{col.name}` |" in README, (kind, col.name)


def test_ci_runs_the_readme_test_command_verbatim():
    ci = (ROOT / ".ci" / "run").read_text()
    command = "python -m pip install -r requirements.txt -r requirements-dev.txt && python -m pytest"
    assert command in README
    assert command in ci
    assert "python -m pip install -r requirements.txt && streamlit run app.py" in README
