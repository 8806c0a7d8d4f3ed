"""The metrics JSON: suppression where a breakdown does not list every member, and one
computation shared by callers of the same view at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from metrics import api
from metrics.params import resolve_params
from metrics.report import Computed, compute, to_json
from metrics.rules import Tables
from tests.conftest import demo_file


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


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory) -> Path:
    return demo_file(tmp_path_factory.mktemp("shared"), 2_000, seed=5)


def _span(path: Path) -> tuple[date, date]:
    summary = api.summarize(path)
    return summary.first, summary.last


def _at_once(callers: int, run: Callable[[], object]) -> list[object]:
    """`run` in `callers` threads started together: what each returned or raised."""
    start = threading.Barrier(callers)
    outcomes: list[object] = [None] * callers

    def one(i: int) -> None:
        start.wait()
        try:
            outcomes[i] = run()
        except Exception as error:  # noqa: BLE001 - the outcome under test
            outcomes[i] = error

    threads = [threading.Thread(target=one, args=(i,)) for i in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a caller never got an answer"
    return outcomes


def test_callers_of_the_same_view_at_once_share_one_computation(demo_store):
    params = resolve_params(_span(demo_store), start=date(2026, 2, 3))

    def view():  # as a page's figures are read: a reader of the store's own
        with api.reader(demo_store) as source:
            return compute(Tables.from_source(source), params)

    outcomes = _at_once(4, view)
    # One run for all four: the very same result, not four equal ones.
    assert all(isinstance(o, Computed) for o in outcomes), outcomes
    assert all(o is outcomes[0] for o in outcomes)
    with api.reader(demo_store) as source:
        alone = compute(Tables.from_source(source), params)
    assert alone is outcomes[0]  # and then kept for the next caller


def test_a_failed_computation_fails_each_caller_without_keeping_any_waiting(demo_store):
    with api.reader(demo_store) as source:
        tables = Tables.from_source(source)
        params = resolve_params(_span(demo_store), start=date(2026, 2, 4))
    # The reader is closed: every run of the queries fails, the first caller's and then each
    # waiting caller's own.
    outcomes = _at_once(3, lambda: compute(tables, params))
    assert all(isinstance(o, Exception) for o in outcomes), outcomes
