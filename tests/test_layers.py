"""The import contracts of pyproject.toml ([tool.importlinter]): data/'s groups import one way
(rights -> intake -> synthetic -> storage) and the callers sit over the figures over the data."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=folder,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(folder), "PATH": "/usr/bin:/bin"},
        check=False,
    )


def test_the_project_keeps_every_import_contract():
    run = _lint(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Contracts: 2 kept, 0 broken." in run.stdout


def test_an_import_against_the_grain_breaks_the_contract(tmp_path):
    for package in ("consentlens", "metrics", "data"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    schema = tmp_path / "data" / "storage" / "schema.py"
    schema.write_text(schema.read_text() + "\nfrom data.intake import mapping  # noqa\n")
    run = _lint(tmp_path)
    assert run.returncode == 1
    assert "data.storage is not allowed to import data.intake" in run.stdout
    assert "data.storage.schema -> data.intake.mapping" in run.stdout
