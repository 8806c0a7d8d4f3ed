"""Invariants of the metrics on seeded synthetic stores, at several parameter settings."""

from __future__ import annotations

from datetime import date

import pytest

from data.storage.schema import CLASSES, CONSENT_STATES
from data.storage.store import open_store
from data.synthetic.generator import generate
from metrics.params import resolve_params
from metrics.report import compute, to_json
from metrics.rules import Tables

SETTINGS = [
    {},
    {"min_cell": 1},
    {"as_of": date(2025, 6, 30)},
    {"start": date(2026, 1, 1), "min_cell": 1},
    {"end": date(2026, 3, 31), "marketing_purposes": ("email_marketing",)},
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    with open_store(path) as store:
        store.replace_all(generate(20_000, seed=7))
        yield store


@pytest.fixture(scope="module", params=SETTINGS, ids=lambda s: ",".join(s) or "defaults")
def figures(request, demo):
    params = resolve_params(demo.date_range(), **request.param)
    return to_json(compute(Tables.from_backend(demo.backend), params))


def published(*values):
    return all(v is not None for v in values)


def test_classes_and_consent_states_add_up_to_customers(figures):
    total = figures["customers"]
    ymn = [figures["ymn"][c] for c in CLASSES]
    if published(total, *ymn):
        assert sum(ymn) == total
    for states in figures["consent"].values():
        counts = [states[s] for s in CONSENT_STATES]
        if published(total, *counts):
            assert sum(counts) == total


def test_no_breakdown_leaves_exactly_one_member_hidden(figures):
    if figures["customers"] is not None:
        assert [figures["ymn"][c] for c in CLASSES].count(None) != 1
        for states in figures["consent"].values():
            assert [states[s] for s in CONSENT_STATES].count(None) != 1
    erasure = figures["erasure"]
    for figure in ("received", "completed"):
        if erasure[figure] is not None:
            assert [m[figure] for m in erasure["monthly"]].count(None) != 1
            assert [j[figure] for j in erasure["by_jurisdiction"].values()].count(None) != 1


def test_funnel_stages_never_increase(figures):
    for cls in CLASSES:
        stages = list(figures["funnel"][cls].values())
        known = [s for s in stages if s is not None]
        assert known == sorted(known, reverse=True)


def test_rates_are_in_the_unit_interval(figures):
    rates = [p["opt_in_rate"] for p in figures["consent"].values()]
    rates += [c["rate"] for c in figures["conversion"].values()]
    rates.append(figures["erasure"]["on_time_rate"])
    assert all(0.0 <= r <= 1.0 for r in rates if r is not None)


def test_no_published_count_is_a_small_cell(figures):
    k = figures["min_cell"]

    def counts(node):
        if isinstance(node, dict):
            for value in node.values():
                yield from counts(value)
        elif isinstance(node, list):
            for value in node:
                yield from counts(value)
        elif isinstance(node, int) and not isinstance(node, bool):
            yield node

    body = {key: v for key, v in figures.items() if key not in ("min_cell",)}
    assert all(n == 0 or n >= k for n in counts(body))


def test_the_effects_built_into_the_demo_are_visible(demo):
    figures = to_json(compute(Tables.from_backend(demo.backend), resolve_params(demo.date_range())))
    rate = {c: figures["conversion"][c]["rate"] for c in CLASSES}
    assert rate["yes"] > rate["maybe"] > rate["no"]
    months = [m["received"] for m in figures["erasure"]["monthly"]]
    half = len(months) // 2
    assert sum(m or 0 for m in months[half:]) > 2 * sum(m or 0 for m in months[:half])
