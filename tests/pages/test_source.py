"""The dashboard serving a Parquet folder ($CONSENTLENS_SOURCE) with the facts built for it:
the same figures as the store it was exported from, and only the read-only pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from data.storage.engines import ParquetSource
from data.storage.export import export
from tests.pages.conftest import APP


@pytest.fixture(scope="module")
def folder(demo_db, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("served") / "lake"
    export(demo_db, out)
    with ParquetSource(out) as source:
        source.write_facts()
    return out


def _open(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    if page is not None:
        at.switch_page(page)
        at.run()
    return at


def _tiles(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_the_pages_show_the_folders_figures_equal_to_the_stores(demo_db, folder, monkeypatch):
    monkeypatch.setenv("CONSENTLENS_DB", str(demo_db))
    on_store = _open()
    assert not on_store.exception
    monkeypatch.setenv("CONSENTLENS_SOURCE", str(folder))
    served = _open()
    assert not served.exception
    assert _tiles(served) == _tiles(on_store)
    assert int(_tiles(served)["Customers"].replace(",", "")) > 0
    assert any("read from the Parquet folder lake on duckdb" in c.value for c in served.caption)
    for page in ("pages/consent.py", "pages/ymn.py", "pages/erasure.py", "pages/impact.py"):
        at = _open(page)
        assert not at.exception, page
        assert at.metric or at.get("plotly_chart"), page


def test_pages_that_write_or_look_up_a_person_are_not_offered(demo_db, folder, monkeypatch):
    monkeypatch.setenv("CONSENTLENS_DB", str(demo_db))
    monkeypatch.setenv("CONSENTLENS_SOURCE", str(folder))
    for page in ("pages/upload.py", "pages/person.py", "pages/forget.py", "pages/audit.py"):
        at = _open()
        with pytest.raises(Exception, match="Could not find a navigation page"):
            at.switch_page(page)
            at.run()


def test_a_missing_folder_is_said_with_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("CONSENTLENS_SOURCE", str(tmp_path / "nowhere"))
    at = _open()
    assert not at.exception
    assert any("consentlens facts DIR" in i.value for i in at.info)
