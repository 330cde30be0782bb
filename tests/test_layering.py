"""The layering contracts in pyproject.toml ([tool.importlinter]) hold."""
import os
from pathlib import Path

from importlinter.cli import lint_imports

REPO = Path(__file__).resolve().parents[1]


def test_import_contracts_hold(monkeypatch):
    monkeypatch.chdir(REPO)
    monkeypatch.syspath_prepend(str(REPO))
    assert lint_imports(config_filename=str(REPO / "pyproject.toml"), no_cache=True) == 0


def test_ui_sources_do_not_import_torch():
    """Belt and braces: no `import torch` line anywhere under ganstudio/ui."""
    for path in (REPO / "ganstudio" / "ui").rglob("*.py"):
        for line in path.read_text().splitlines():
            s = line.strip()
            assert not (s.startswith("import torch") or s.startswith("from torch")), path
