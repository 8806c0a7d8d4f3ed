"""metrics/figures.py is the index of every published figure, and it stays true: the metrics
JSON holds exactly the paths it names, every suppression key a page resolves belongs to one of
its key families, every figure's query compiles, and the pages show the figures it says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from data.storage.store import open_store
from data.synthetic.generator import generate
from metrics import consent_views, erasure_views, figures, impact, ymn_views
from metrics.params import resolve_params
from metrics.report import compute, to_json
from metrics.rules import Tables
from metrics.suppression import recording

PAGES_DIR = Path(__file__).resolve().parents[2] / "pages"
VIEWS = [
    (consent_views.consent_overview, ()),
    (consent_views.opted_in_by, ("country",)),
    (consent_views.opted_in_by, ("segment",)),
    (consent_views.opted_in_by, ("method",)),
    (consent_views.consent_trend, ("week",)),
    (consent_views.opted_in_trend, ("month",)),
    (ymn_views.views, ()),
    (erasure_views.erasure_figures, ()),
    (impact.impact, ("class",)),
    (impact.impact, ("state", "email_marketing")),
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("figures") / "demo.duckdb"
    with open_store(path) as store:
        store.replace_all(generate(2_000, seed=5))
        tables = Tables.from_backend(store.backend)
        yield tables, resolve_params(store.date_range())


def _leaves(value, path=()):
    """Every (path, value) of a JSON document; list items by position."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _leaves(inner, (*path, str(key)))
    elif isinstance(value, list):
        for inner in value:
            yield from _leaves(inner, (*path, "[]"))
    else:
        yield path, value


def _pattern(json_path: str) -> re.Pattern[str]:
    """A figure's JSON path as a pattern over dotted leaf paths: {name} is any one step,
    {a,b} one of those steps, [] a list item."""
    steps = []
    for step in json_path.replace("[]", ".[]").split("."):
        if step == "[]":
            steps.append(r"\[\]")
        elif step.startswith("{") and "," in step:
            steps.append("(?:" + "|".join(map(re.escape, step[1:-1].split(","))) + ")")
        elif step.startswith("{"):
            steps.append(r"[^.]+")
        else:
            steps.append(re.escape(step))
    return re.compile(r"\.".join(steps))


PARAMETERS = {"as_of", "start", "end", "min_cell", "marketing_purposes"}


def test_the_metrics_json_holds_exactly_the_figures_the_index_names(demo):
    tables, params = demo
    doc = to_json(compute(tables, params))
    patterns = {f.name: _pattern(f.json) for f in figures.JSON_FIGURES}
    matched: dict[str, int] = dict.fromkeys(patterns, 0)
    for path, _ in _leaves(doc):
        dotted = ".".join(path)
        if path[0] in PARAMETERS:
            continue
        owners = [name for name, p in patterns.items() if p.fullmatch(dotted)]
        assert len(owners) == 1, f"{dotted}: named by {owners or 'no figure'}"
        matched[owners[0]] += 1
    assert all(matched.values()), [name for name, n in matched.items() if not n]
    assert {f.json.split(".")[0].split("[")[0] for f in figures.JSON_FIGURES} | PARAMETERS == set(
        doc
    )


def test_every_key_a_page_resolves_belongs_to_a_family_of_its_figures(demo):
    tables, params = demo
    used: set[figures.KeyFamily] = set()
    for fn, args in VIEWS:
        with recording() as resolved:
            fn(tables, params, *args)
        for cells in resolved:
            for key in cells.values:
                family = figures.family_of(key)
                assert family is not None, f"{fn.__name__}: key {key!r} has no family"
                used.add(family)
    claimed = {family for f in figures.FIGURES for family in f.keys}
    assert used <= claimed, sorted(f.prefix for f in used - claimed)
    assert claimed <= set(figures.KEY_FAMILIES)
    # Every family is used: a key spelled here and nowhere else would be a stale name.
    assert set(figures.KEY_FAMILIES) == used, sorted(
        (f.prefix, f.parts) for f in set(figures.KEY_FAMILIES) - used
    )


def test_a_key_takes_exactly_its_parts():
    assert figures.CONSENT("email_marketing", "granted") == (
        "consent",
        "email_marketing",
        "granted",
    )
    assert figures.IMPACT_CONVERTERS_ALL("sms_marketing") == (
        "impact",
        "converters",
        "sms_marketing",
    )
    with pytest.raises(TypeError):
        figures.CONSENT("email_marketing")
    assert figures.family_of(("erasure_due_soon", 14)) is figures.ERASURE_DUE_SOON_ALL
    assert figures.family_of(("erasure_due_soon", "GDPR", 14)) is figures.ERASURE_DUE_SOON
    assert figures.family_of(("nothing", 1)) is None


def test_every_figure_is_named_once_and_its_query_compiles(demo):
    tables, params = demo
    names = [f.name for f in figures.FIGURES]
    assert len(names) == len(set(names)) == 38
    compiled: dict[str, str] = {}
    for figure in figures.FIGURES:
        assert figure.unit in {"count", "rate", "currency", "days"}
        assert figure.pages and set(figure.pages) <= set(figures.PAGE_TITLES)
        # Figures computed by one query share its SQL: each query is compiled once.
        if figure.query not in compiled:
            compiled[figure.query] = figure.sql(tables, params)
        assert "SELECT" in compiled[figure.query].upper(), figure.name
    assert len(compiled) >= 20


def test_each_page_explains_only_figures_the_index_lists_for_it():
    """The pages name their figures to the "How is this computed?" note, which refuses one
    the index does not list for the page; here the other direction: every page the index
    names explains its figures there."""
    for page in figures.PAGE_TITLES:
        source = (PAGES_DIR / f"{page}.py").read_text(encoding="utf-8")
        assert f'w.how_computed(\n    "{page}"' in source or f'w.how_computed("{page}"' in source
