"""Every page's figures pass the disclosure audit as one release (spec section 5, "Nothing
small is derivable"): the page's own counts with the metrics JSON's that it adopts, and every
relation between them, on a small seeded demo over periods and filters."""

from __future__ import annotations

from datetime import date

import pytest

from data.storage.store import open_store
from data.synthetic.generator import generate
from metrics import consent_views, erasure_views, impact, ymn_views
from metrics.disclosure import audit
from metrics.params import Filters, resolve_params
from metrics.rules import Tables
from metrics.suppression import recording

PAGES = {
    "consent states": (consent_views.consent_overview, ()),
    "opted in by country": (consent_views.opted_in_by, ("country",)),
    "opted in by segment": (consent_views.opted_in_by, ("segment",)),
    "decisions per week": (consent_views.consent_trend, ("week",)),
    "opted-in share per week": (consent_views.opted_in_trend, ("week",)),
    "yes / maybe / no": (ymn_views.views, ()),
    "erasure & requests": (erasure_views.erasure_figures, ()),
    "impact by class": (impact.impact, ("class",)),
    "impact by consent state": (impact.impact, ("state", "email_marketing")),
}

VIEWS = {
    "whole span": {},
    "one month": {"start": date(2026, 3, 1), "end": date(2026, 3, 31)},
    "a quarter, one country": {
        "start": date(2025, 10, 1),
        "end": date(2025, 12, 31),
        "filters": Filters(countries=("FR",)),
    },
    "one jurisdiction": {"filters": Filters(jurisdictions=("UK_GDPR",))},
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("pages-audit") / "demo.duckdb"
    with open_store(path) as store:
        store.replace_all(generate(3_000, seed=21))
        yield Tables.from_backend(store.backend), store.date_range()


@pytest.mark.parametrize("view", list(VIEWS))
@pytest.mark.parametrize("page", list(PAGES))
def test_a_page_view_leaves_nothing_small_to_work_out(demo, page, view):
    tables, span = demo
    fn, args = PAGES[page]
    with recording() as resolved:
        fn(tables, resolve_params(span, **VIEWS[view]), *args)
    assert resolved, "the page resolved no suppression"
    for cells in resolved:
        findings = audit(cells.release())
        assert findings == [], "\n".join(str(f) for f in findings)
