"""No internal name where a label belongs: the dashboards' tables (headers and cells), tiles,
charts (series, categories, axis titles) and filters read in words (pages/_labels.py)."""

from __future__ import annotations

import json

import pytest

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
