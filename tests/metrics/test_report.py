"""Suppression of the metrics JSON where a breakdown does not list every member."""

from __future__ import annotations

from datetime import date

from metrics.params import resolve_params
from metrics.report import compute, to_json
from metrics.rules import Tables


def test_completed_requests_of_unlisted_jurisdictions_cannot_be_read_off(store_with):
    customers = ["customer_id,created_at,country"]
    requests = ["request_id,customer_id,type,received_at,completed_at"]
    for n in range(20):
        customers.append(f"de{n},2025-01-01,DE")
        requests.append(f"g{n},de{n},erasure,2026-02-0{1 + n % 9},2026-02-20")
    for n in range(3):  # received before the period, completed in it
        customers.append(f"gb{n},2025-01-01,GB")
        requests.append(f"u{n},gb{n},erasure,2025-12-10,2026-02-20")
    store = store_with(
        {"customers": "\n".join(customers) + "\n", "privacy_requests": "\n".join(requests) + "\n"}
    )
    params = resolve_params(store.date_range(), start=date(2026, 1, 1), end=date(2026, 3, 31))
    figures = to_json(compute(Tables.from_backend(store.backend), params))
    erasure = figures["erasure"]
    assert (erasure["received"], erasure["completed"]) == (20, 23)
    assert list(erasure["by_jurisdiction"]) == ["GDPR"]
    # 23 - 20 would give the 3 UK completions: GDPR's completed is withheld with them.
    assert erasure["by_jurisdiction"]["GDPR"] == {"received": 20, "completed": None, "overdue": 0}


def test_a_small_change_in_a_count_is_not_shown():
    from metrics.overview import Tile

    assert Tile("c", "Customers", "count", 120, 115, "customers", 11).change is None
    assert Tile("c", "Customers", "count", 120, 100, "customers", 11).change == 20
    assert Tile("c", "Customers", "count", 120, 120, "customers", 11).change == 0
    assert Tile("r", "Rate", "rate", 0.5, 0.45, "x", 11).change == 0.5 - 0.45
