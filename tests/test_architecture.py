"""The architecture stays as designed: import-linter contracts (pyproject.toml), public Streamlit API only."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import loyalty

ROOT = Path(__file__).resolve().parents[1]
APP_CODE = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "ui").glob("*.py"))]


def test_import_linter_contracts_are_kept():
    """Layers pages -> ui -> loyalty, no Streamlit in loyalty, rooms independent, no cycles."""
    run = subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
         "sys.exit(lint_imports_command())", "--no-cache"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "0 broken" in run.stdout


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
    return names


def test_public_streamlit_api_only():
    """No ``streamlit.runtime`` (or other internal module) and no ``_private`` Streamlit name anywhere."""
    bad = []
    for path in APP_CODE + sorted((ROOT / "loyalty").rglob("*.py")):
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] == "streamlit" and (
                len(parts) > 1 and parts[1] not in ("testing", "column_config")
                or any(p.startswith("_") for p in parts)
            ):
                bad.append(f"{path.relative_to(ROOT)}: {name}")
    assert not bad, bad


def test_no_private_helpers_imported_across_modules():
    """Pages, ui and loyalty import only public names of another module."""
    bad = []
    for path in APP_CODE + sorted((ROOT / "loyalty").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in ("loyalty", "ui"):
                bad += [f"{path.relative_to(ROOT)}: {node.module}.{a.name}" for a in node.names
                        if a.name.startswith("_") and a.name != "__version__"]
    assert not bad, bad


def test_facade_exports_the_public_api():
    required = {"Dataset", "load_sample", "load_table", "compute_kpis", "member_features", "choose_k", "segment",
                "fit_bgnbd", "fit_gamma_gamma", "RewardRules", "Tier", "ExpiryPolicy", "replay"}
    assert required <= set(loyalty.__all__)
    for name in loyalty.__all__:
        assert getattr(loyalty, name) is not None


def test_every_subpackage_says_what_lives_there():
    for init in sorted((ROOT / "loyalty").glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and len(doc) > 40, f"{init.parent.name} has no docstring"
