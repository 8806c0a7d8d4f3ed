"""The on-time rate never gives away a small number of late erasure requests (spec section
5, "Nothing small is derivable": a rate together with its denominator)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from data.storage.engines import StoreSource
from metrics import api
from metrics.params import resolve_params
from metrics.rules import Tables
from tests.conftest import demo_file


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    return demo_file(tmp_path_factory.mktemp("late"), 20_000, seed=5, scenario="erasure_surge")


def test_a_small_number_of_late_requests_withholds_the_on_time_rate(store):
    seen = {"small": 0, "published": 0}
    with StoreSource(store) as source:
        tables = Tables.from_source(source)
        for month in pd.period_range("2025-01", "2026-09", freq="M"):
            params = resolve_params(
                source.date_range(),
                start=month.start_time.date(),
                end=month.end_time.date(),
            )
            shown = api.published(tables, params)["erasure"]
            true = api.published(tables, replace(params, min_cell=1))["erasure"]
            completed, rate = true["completed"], true["on_time_rate"]
            if not completed or shown["completed"] is None:
                continue
            late = round(completed * (1 - rate))
            if 0 < late < params.min_cell:
                seen["small"] += 1
                assert shown["on_time_rate"] is None, (str(month), completed, late)
            elif shown["on_time_rate"] is not None:
                seen["published"] += 1
                assert shown["on_time_rate"] == pytest.approx(rate)
    # The rule was exercised both ways on this store.
    assert seen["small"] > 0 and seen["published"] > 0, seen


def test_the_page_withholds_a_jurisdictions_on_time_rate_with_few_late(store):
    from metrics import erasure_views as ev

    with StoreSource(store) as source:
        tables = Tables.from_source(source)
        params = resolve_params(source.date_range(), start=date(2026, 4, 1))
        shown = ev.erasure_figures(tables, params).on_time()
        true = ev.erasure_figures(tables, replace(params, min_cell=1)).on_time()
    true = true.set_index("jurisdiction")
    checked = 0
    for row in shown.itertuples(index=False):
        completed = true.at[row.jurisdiction, "completed"]
        rate = true.at[row.jurisdiction, "on_time_rate"]
        if completed and rate is not None and not pd.isna(rate):
            late = round(completed * (1 - rate))
            if 0 < late < params.min_cell:
                checked += 1
                assert row.on_time_rate is None or pd.isna(row.on_time_rate), row.jurisdiction
    assert checked > 0
