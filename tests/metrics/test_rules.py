"""The spec's rules as expressions: legal due dates and derived jurisdictions (section 3)."""

from __future__ import annotations

from datetime import date

import ibis
import pyarrow as pa
import pytest

from metrics.rules import derived_jurisdiction, due_date

DUE = [
    # received, jurisdiction, extended, due (hand-computed)
    (date(2024, 1, 31), "GDPR", False, date(2024, 2, 29)),  # leap year: last day of February
    (date(2025, 1, 31), "GDPR", False, date(2025, 2, 28)),
    (date(2025, 1, 15), "UK_GDPR", False, date(2025, 2, 15)),  # same day number
    (date(2024, 11, 30), "GDPR", True, date(2025, 2, 28)),  # 3 calendar months
    (date(2023, 11, 30), "UK_GDPR", True, date(2024, 2, 29)),
    (date(2025, 3, 31), "GDPR", False, date(2025, 4, 30)),
    (date(2025, 12, 31), "GDPR", False, date(2026, 1, 31)),  # across a year end
    (date(2026, 1, 1), "CCPA", False, date(2026, 2, 15)),  # 45 days
    (date(2026, 1, 1), "US_STATE", True, date(2026, 4, 1)),  # 90 days
    (date(2026, 1, 1), "LGPD", False, date(2026, 1, 16)),  # 15 days
    (date(2026, 1, 1), "LGPD", True, date(2026, 1, 16)),  # no extension
    (date(2026, 1, 1), "PIPEDA", False, date(2026, 1, 31)),  # 30 days
    (date(2026, 1, 1), "PIPEDA", True, date(2026, 3, 2)),  # 60 days
    (date(2024, 2, 1), "OTHER", False, date(2024, 3, 2)),  # 30 days across 29 February
    (date(2026, 1, 1), "PIPL", True, date(2026, 3, 2)),  # unnamed: OTHER's period
]


@pytest.fixture(scope="module")
def con():
    return ibis.duckdb.connect()


def test_due_dates_follow_each_jurisdictions_period(con):
    t = ibis.memtable(
        pa.table(
            {
                "received": [r for r, *_ in DUE],
                "jurisdiction": [j for _, j, *_ in DUE],
                "extended": [e for *_, e, _ in DUE],
            }
        )
    )
    got = con.to_pyarrow(t.select(due=due_date(t.received, t.jurisdiction, t.extended)))
    assert got["due"].to_pylist() == [d for *_, d in DUE]


def test_jurisdiction_is_derived_from_country_and_state(con):
    pairs = [
        ("DE", None, "GDPR"),
        ("NO", None, "GDPR"),
        ("IS", "x", "GDPR"),
        ("GB", None, "UK_GDPR"),
        ("US", "CA", "CCPA"),
        ("US", "NY", "US_STATE"),
        ("US", None, "US_STATE"),
        ("BR", None, "LGPD"),
        ("CA", None, "PIPEDA"),
        ("CA", "CA", "PIPEDA"),
        ("CH", None, "OTHER"),
        ("NA", None, "OTHER"),
        (None, None, "OTHER"),
    ]
    t = ibis.memtable(
        pa.table(
            {"country": [c for c, _, _ in pairs], "state": [s for _, s, _ in pairs]},
            schema=pa.schema({"country": pa.string(), "state": pa.string()}),
        )
    )
    got = con.to_pyarrow(t.select(j=derived_jurisdiction(t.country, t.state)))
    assert got["j"].to_pylist() == [j for *_, j in pairs]


def test_the_python_form_of_the_jurisdiction_rule_agrees_with_the_query_everywhere(con):
    """Erasure stamps a request's jurisdiction in Python (data.storage.schema.derive_jurisdiction);
    the figures derive it in the query (derived_jurisdiction): every ISO country, with no
    state, with every US state and subdivision code, and unknown or missing values."""
    import pycountry

    from data.storage.schema import derive_jurisdiction

    countries = [c.alpha_2 for c in pycountry.countries] + ["XX", "", None]
    states = [None, "", "ca", "XX"] + sorted(
        {s.code.split("-", 1)[1] for s in pycountry.subdivisions.get(country_code="US")}
    )
    pairs = [(c, s) for c in countries for s in states]
    t = ibis.memtable(
        pa.table(
            {"country": [c for c, _ in pairs], "state": [s for _, s in pairs]},
            schema=pa.schema({"country": pa.string(), "state": pa.string()}),
        )
    )
    got = con.to_pyarrow(t.select(j=derived_jurisdiction(t.country, t.state)))["j"]
    python = [derive_jurisdiction(c, s) for c, s in pairs]
    assert len(pairs) > 249 * 50
    assert got.to_pylist() == python
    assert set(python) == {"GDPR", "UK_GDPR", "CCPA", "US_STATE", "LGPD", "PIPEDA", "OTHER"}
