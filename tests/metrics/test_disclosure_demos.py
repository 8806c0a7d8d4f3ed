"""The metrics JSON passes the disclosure audit on seeded demo stores: small and larger ones,
periods from one month to the whole span, with and without filters (spec section 5,
"Nothing small is derivable")."""

from __future__ import annotations

from datetime import date

import pytest

from data.storage.store import open_store
from data.synthetic.generator import generate
from metrics.disclosure import audit, metrics_release
from metrics.params import Filters, resolve_params
from metrics.report import compute, to_json
from metrics.rules import Tables

SIZES = {"3k": (3_000, 21), "800": (800, 5), "20k": (20_000, 8)}

VIEWS = {
    "whole span": {},
    "one month": {"start": date(2026, 3, 1), "end": date(2026, 3, 31)},
    "a quarter, earlier as-of": {"start": date(2025, 4, 1), "end": date(2025, 6, 30)},
    "a year": {"start": date(2025, 1, 1), "end": date(2025, 12, 31)},
    "one country": {"filters": Filters(countries=("FR",))},
    "one jurisdiction, one month": {
        "start": date(2026, 2, 1),
        "end": date(2026, 2, 28),
        "filters": Filters(jurisdictions=("UK_GDPR",)),
    },
    "a segment and a channel": {"filters": Filters(segments=("student",), channels=("social",))},
    "one purpose, k = 5": {"marketing_purposes": ("email_marketing",), "min_cell": 5},
}


@pytest.fixture(scope="module", params=list(SIZES))
def demo(request, tmp_path_factory):
    customers, seed = SIZES[request.param]
    path = tmp_path_factory.mktemp("disclosure") / "demo.duckdb"
    with open_store(path) as store:
        store.replace_all(generate(customers, seed=seed))
        yield store


@pytest.mark.parametrize("view", list(VIEWS))
def test_nothing_small_can_be_worked_out_of_the_metrics_json(demo, view):
    params = resolve_params(demo.date_range(), **VIEWS[view])
    doc = to_json(compute(Tables.from_backend(demo.backend), params))
    findings = audit(metrics_release(doc))
    assert findings == [], "\n".join(str(f) for f in findings)


def test_decided_but_not_granted_is_never_small_and_exact(tmp_path):
    # A view found by random search: analytics' denied and withdrawn were withheld, but
    # customers less granted and no decision left exactly 10 who decided and did not grant.
    path = tmp_path / "demo.duckdb"
    with open_store(path) as store:
        store.replace_all(generate(800, seed=2))
        params = resolve_params(
            store.date_range(),
            start=date(2026, 6, 3),
            end=date(2026, 9, 1),
            filters=Filters(jurisdictions=("OTHER",)),
        )
        doc = to_json(compute(Tables.from_backend(store.backend), params))
    findings = audit(metrics_release(doc))
    assert findings == [], "\n".join(str(f) for f in findings)
    analytics = doc["consent"]["analytics"]
    assert None in (analytics["denied"], analytics["withdrawn"])
