"""One definition of a withheld value and one function that shows it: the marker for None,
NaN or pd.NA, the page's own format otherwise (spec section 5)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metrics.suppression import WITHHELD, formatted, is_withheld
from pages import _impact_charts as ic
from pages import _widgets as w
from pages import _ymn_charts as ymn

K = 11
MISSING = [None, float("nan"), np.nan, pd.NA, pd.NaT]


@pytest.mark.parametrize("value", MISSING, ids=repr)
def test_none_nan_and_na_are_withheld(value):
    assert is_withheld(value)
    assert formatted(value, "{:,}") == WITHHELD
    assert formatted(value, lambda v: f"{v * 100:.1f}%") == WITHHELD


def test_published_values_are_formatted_zero_included():
    assert [is_withheld(v) for v in (0, 0.0, 12, "", "NA", "withheld", [None])] == [False] * 7
    assert formatted(0, "{:,}") == "0"
    assert formatted(1234567, "{:,}") == "1,234,567"
    assert formatted(0.0, lambda v: f"{v * 100:.1f}%") == "0.0%"
    assert formatted(np.int64(1234), "{:,}") == "1,234"
    assert formatted(-0.0125, lambda v: f"{v * 100:+.1f} pts") == "-1.2 pts"


@pytest.mark.parametrize("value", [None, float("nan"), pd.NA], ids=repr)
def test_every_page_formatter_reads_the_marker_for_a_withheld_value(value):
    shown = [
        w.count(value, K),
        w.rate(value, K),
        w.money(value, K, "USD"),
        w.money(value, K),
        ymn._count(value, K),
        ic.percent(value, K),
        ic.points(value, K),
        ic.amount(value, K),
        ic.signed_amount(value, K),
        ic.count(value, K),
        ic.with_interval(value, 0.1, 0.2, ic.percent, K),
    ]
    assert shown == [WITHHELD] * len(shown)
    assert ymn._customers(value, K) == f"customers {WITHHELD}"


def test_page_formatters_keep_their_own_format():
    assert (w.count(0, K), w.count(1234, K)) == ("0", "1,234")
    assert (w.rate(0.1234, K), w.rate(0.5, K, digits=0)) == ("12.3%", "50%")
    assert (w.money(1234.4, K, "USD"), w.money(1234.4, K)) == ("USD 1,234", "1,234")
    assert (ymn._count(1234.0, K), ymn._customers(1234, K)) == ("1,234", "1,234 customers")
    assert ymn._customers(0, K) == "0 customers"
    assert (ic.percent(0.123, K), ic.points(0.012, K), ic.points(-0.012, K)) == (
        "12.3%",
        "+1.2 pts",
        "-1.2 pts",
    )
    assert (ic.amount(1234.5, K), ic.signed_amount(-3.2, K), ic.count(1234.0, K)) == (
        "1,234.50",
        "-3.20",
        "1,234",
    )
    assert ic.with_interval(0.5, 0.4, 0.6, ic.percent, K) == "50.0% (40.0% to 60.0%)"
    assert ic.with_interval(0.01, 0.005, 0.015, ic.points, K) == "+1.0 pts (+0.5 to +1.5)"
    # An interval with a withheld end is left out, the estimate kept.
    assert ic.with_interval(0.01, float("nan"), None, ic.points, K) == "+1.0 pts"


def test_tables_and_downloads_read_the_marker_wherever_a_cell_is_withheld():
    frame = pd.DataFrame(
        {
            "counts": pd.Series([1234, None, 0], dtype=object),
            "rates": [0.25, float("nan"), 0.0],
            "sizes": pd.array([7, pd.NA, 0], dtype="Int64"),
        }
    )
    table = w.shown(frame, K, {"counts": w.count, "rates": w.rate, "sizes": w.count})
    assert table.values.tolist() == [
        ["1,234", "25.0%", "7"],
        [WITHHELD, WITHHELD, WITHHELD],
        ["0", "0.0%", "0"],
    ]
    lines = w.csv_bytes(frame, K).decode().splitlines()
    assert lines == [
        "counts,rates,sizes",
        "1234,0.25,7",
        f"{WITHHELD},{WITHHELD},{WITHHELD}",
        "0,0.0,0",
    ]
