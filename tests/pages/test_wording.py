"""No internal name where a label belongs: the dashboards' tables (headers and cells), tiles,
charts (series, categories, axis titles) and filters read in words (pages/_labels.py), and
so do the tables of the Upload data and rights pages."""

from __future__ import annotations

import json
import shutil

import pytest

from data.storage import schema
from data.storage.keys import key_path
from data.storage.store import open_store
from tests.internal_names import INTERNAL

DASHBOARDS = [
    "pages/overview.py",
    "pages/consent.py",
    "pages/ymn.py",
    "pages/erasure.py",
    "pages/impact.py",
]


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _seen(at) -> dict[str, list[str]]:
    seen: dict[str, list[str]] = {}
    for frame in at.dataframe:
        table = frame.value
        seen.setdefault("table headers", []).extend(map(str, table.columns))
        for column in table.columns:
            seen.setdefault("table cells", []).extend(
                v for v in table[column] if isinstance(v, str)
            )
    seen["tiles"] = [m.label for m in at.metric]
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        for trace in spec["data"]:
            for field in ("x", "y", "name", "labels", "text", "hovertext"):
                if field in trace:
                    seen.setdefault(f"chart {field}", []).extend(_strings(trace[field]))
        layout = spec.get("layout", {})
        seen.setdefault("chart titles", []).extend(_strings(layout.get("title", {})))
    for box in at.sidebar.multiselect:
        seen.setdefault("filters", []).extend(box.options)
    return seen


@pytest.mark.parametrize("page", DASHBOARDS)
def test_a_dashboard_shows_no_internal_name(app, page):
    at = app(page)
    assert not at.exception
    found = {
        where: sorted({name for text in texts for name in INTERNAL if name in text})
        for where, texts in _seen(at).items()
    }
    assert {where: names for where, names in found.items() if names} == {}


# The Upload data and rights pages: every table header in words, never a stored name.
STORED_NAMES = {c for t in schema.TABLES.values() for c in t.column_names} | set(schema.TABLE_ORDER)


def _headers(at) -> list[str]:
    frames = [f.value for f in at.dataframe] + [t.value for t in at.table]
    frames += [e.value for e in at.data_editor]
    headers = [str(c) for f in frames for c in f.columns]
    return headers + [str(f.index.name) for f in frames if f.index.name is not None]


def _not_in_words(headers: list[str]) -> list[str]:
    return sorted(
        {
            h
            for h in headers
            if "_" in h or not h[:1].isupper() or h in STORED_NAMES or h in INTERNAL
        }
    )


@pytest.fixture
def own_store(demo_db, tmp_path, monkeypatch):
    """A copy of the demo store (with its key) for one test, so its writes stay there."""
    target = tmp_path / "store" / "wording.duckdb"
    target.parent.mkdir()
    shutil.copy(demo_db, target)
    shutil.copy(key_path(demo_db), key_path(target))
    monkeypatch.setenv("CONSENTLENS_DB", str(target))
    return target


def test_the_upload_page_tables_read_in_words(app, own_store):
    at = app("pages/upload.py")
    body = b"Customer ID,created,Country\nW0001,2024-03-01,DE\nW0002,not a date,FR\n"
    at.file_uploader[0].upload("crm.csv", body, "text/csv").run()
    preview = _headers(at)
    assert set(preview) == {"Column in the file", "Imported as"}
    next(b for b in at.button if b.label == "Check").click().run()
    report = _headers(at)
    next(b for b in at.button if b.label == "Import the 1 valid rows").click().run()
    assert not at.exception
    done = _headers(at)  # the report kept after the import, and the import history
    assert {"File", "Why rejected", "Table", "Rows", "Reason"} <= set(report)
    assert {"Import", "When (UTC)", "Rows written", "State"} <= set(done)
    assert _not_in_words(preview + report + done) == []
    cells = [v for f in at.dataframe for c in f.value.columns for v in f.value[c]]
    assert not set(cells) & set(schema.TABLE_ORDER)


def test_the_rights_pages_read_in_words(app, own_store):
    with open_store(own_store, read_only=True) as store:
        [(person,)] = store.con.execute(
            "SELECT customer_id FROM privacy_requests WHERE customer_id IN "
            "(SELECT customer_id FROM sharing) AND customer_id IN (SELECT customer_id FROM "
            "orders) AND customer_id IN (SELECT customer_id FROM touchpoints) "
            "ORDER BY customer_id LIMIT 1"
        ).fetchall()
    at = app("pages/person.py")
    at.text_input(key="person_id").input(person)
    at.button[0].click().run()
    assert not at.exception
    person_page = _headers(at)
    assert {"Customer ID", "Consent state", "Request type", "Touchpoint type"} <= set(person_page)
    found = {where: names for where, names in _found(at).items() if names}
    assert found == {}

    at.switch_page("pages/forget.py").run()
    at.text_area(key="erase_ids").input(person)
    at.checkbox(key="erase_ok").check()
    at.button[0].click().run()
    assert not at.exception
    forget_page = _headers(at)
    assert forget_page == ["Rows", "What happened", "Table"]
    assert _not_in_words(person_page + forget_page) == []
    assert "Customers" in list(at.table[0].value.index)


def _found(at) -> dict[str, list[str]]:
    return {
        where: sorted({name for text in texts for name in INTERNAL if name in text})
        for where, texts in _seen(at).items()
    }
