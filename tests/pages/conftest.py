"""AppTest fixtures: the real app over a real demo store in a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from consentlens.access import LOCAL_EXACT_ENV
from data.storage.store import open_store
from data.synthetic.generator import generate

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("pages") / "demo.duckdb"
    with open_store(path) as store:
        store.replace_all(generate(5_000, seed=11), info={"source": "demo", "seed": "11"})
    return path


@pytest.fixture(scope="session")
def empty_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("empty") / "empty.duckdb"
    open_store(path).close()
    return path


@pytest.fixture(autouse=True)
def fresh_caches():
    st.cache_data.clear()
    yield
    st.cache_data.clear()


@pytest.fixture
def app(demo_db, monkeypatch):
    """An AppTest of the dashboard on the demo store; call it with a page path to switch.

    Local mode with exact counts, so that pages can be checked against the metrics JSON
    (tests/pages/test_perturbation.py checks the perturbed counts local mode shows by
    default)."""
    monkeypatch.setenv("CONSENTLENS_DB", str(demo_db))
    monkeypatch.setenv(LOCAL_EXACT_ENV, "1")

    def run(page: str | None = None, query: dict[str, str | list[str]] | None = None) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        for key, value in (query or {}).items():
            at.query_params[key] = value
        at.run()
        if page is not None:
            at.switch_page(page)
            at.run()
        return at

    return run


def stored(frame):
    """A table as shown, back in stored terms (raw headers and codes), for comparing with the
    metrics' own frames and JSON."""
    import re

    from pages import _labels as labels

    headers = {label: name for name, label in labels.COLUMNS.items()}
    jurisdictions = {label: code for code, label in labels.JURISDICTIONS.items()}

    def code(column: str, value):
        if not isinstance(value, str):
            return value
        if column == "country":
            found = re.search(r"\((\w\w)\)$", value)
            return found.group(1) if found else value
        if value in jurisdictions:
            return jurisdictions[value]
        return value.lower().replace("-", "_").replace(" ", "_")

    out = frame.rename(columns=lambda c: headers.get(c, c))
    for column in labels.VALUES:
        if column in out.columns:
            out[column] = [code(column, v) for v in out[column]]
    return out
