"""The synthetic-data mark: on every page while the figures come from generated data, read
from what the store holds now, so that it goes with a replacing import and returns when that
import is undone."""

from __future__ import annotations

import shutil

from data.intake.importer import Extract, run_import
from data.storage import history
from data.storage.keys import key_path
from data.storage.store import open_store
from tests.data.test_importer import write_csv

PAGES = [
    "pages/overview.py",
    "pages/consent.py",
    "pages/ymn.py",
    "pages/erasure.py",
    "pages/impact.py",
    "pages/upload.py",
    "pages/person.py",
    "pages/forget.py",
    "pages/audit.py",
]
MARK = "Synthetic data."


def _marked(at) -> bool:
    assert not at.exception
    return any(MARK in w.value for w in at.warning)


def test_every_page_of_the_demo_carries_the_mark(app):
    for page in PAGES:
        assert _marked(app(page)), page


def test_the_mark_goes_with_a_replacing_import_and_returns_with_its_undo(
    demo_db, tmp_path, app, monkeypatch
):
    path = tmp_path / "copy.duckdb"
    shutil.copy(demo_db, path)
    shutil.copy(key_path(demo_db), key_path(path))
    monkeypatch.setenv("CONSENTLENS_DB", str(path))
    extract = write_csv(tmp_path / "c.csv", [["customer_id", "created_at"], ["R-1", "2024-01-01"]])
    with open_store(path) as store:
        run_import(store, [Extract.from_path(extract, table="customers")], replace=True)
    at = app()
    assert not _marked(at)
    assert "synthetic" not in " ".join(c.value for c in at.caption)
    with open_store(path) as store:
        history.undo_last(store.con)
    at = app()
    assert _marked(at)
    assert "synthetic demo" in " ".join(c.value for c in at.caption)
