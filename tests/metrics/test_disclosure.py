"""The disclosure audit: hand-built releases where a small count can be worked out, the same
releases once the leak is closed, and properties over random tables."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.disclosure import Ratio, Release, audit, interval
from metrics.suppression import Cells

K = 11


def test_a_rate_with_its_denominator_gives_the_numerator_away():
    # 5 late among 120 completed requests: the on-time rate 115/120 with the completed count.
    release = Release(K)
    release.count("completed", 120)
    release.latent.add("on_time")
    release.ratios.append(Ratio("on_time", "completed", 115 / 120))
    release.within("on_time", "completed", difference="late")
    [finding] = audit(release)
    assert finding.what == "late"
    assert (round(finding.low, 6), round(finding.high, 6)) == (5, 5)


def test_the_rate_withheld_closes_it():
    release = Release(K)
    release.count("completed", 120)
    release.latent.add("on_time")
    release.within("on_time", "completed", difference="late")
    assert audit(release) == []
    assert interval(release, {"completed": 1.0, "on_time": -1.0}) == (0.0, 120.0)


def test_a_rate_shown_rounded_still_pins_a_small_complement():
    # 97.5% of 40 shown to one decimal: on time in [38.98, 39.02], so late is 1.
    release = Release(K)
    release.count("completed", 40)
    release.latent.add("on_time")
    release.ratios.append(Ratio("on_time", "completed", 0.975, tolerance=0.0005))
    release.within("on_time", "completed", difference="late")
    [finding] = audit(release)
    assert finding.low > 0.9 and finding.high < 1.1


def test_two_withheld_members_of_a_small_remainder():
    # 100 = 60 + 32 + 5 + 3: the pair of withheld members is pinned to 8 together, so each
    # lies in [0, 8], narrower than k - 1 = 10.
    release = Release(K)
    release.count("total", 100)
    release.count("a", 60)
    release.count("b", 32)
    release.count("c", None)
    release.count("d", None)
    release.total("total", ["a", "b", "c", "d"])
    findings = audit(release)
    assert sorted(f.what for f in findings) == ["c", "d"]
    assert all((f.low, f.high) == (0.0, 8.0) for f in findings)


def test_a_third_member_withheld_closes_the_remainder():
    release = Release(K)
    release.count("total", 100)
    release.count("a", 60)
    for key in ("b", "c", "d"):
        release.count(key, None)
    release.total("total", ["a", "b", "c", "d"])
    assert audit(release) == []
    assert interval(release, {"c": 1.0}) == (0.0, 40.0)


def two_way(cells: dict[tuple[str, str], int | None], rows, columns) -> Release:
    """A two-way table published with its margins and grand total."""
    release = Release(K)
    for (r, c), value in cells.items():
        release.count((r, c), value)
    for r in rows:
        release.count((r, "*"), sum(v for (rr, _), v in TRUE.items() if rr == r))
        release.total((r, "*"), [(r, c) for c in columns])
    for c in columns:
        release.count(("*", c), sum(v for (_, cc), v in TRUE.items() if cc == c))
        release.total(("*", c), [(r, c) for r in rows])
    release.count(("*", "*"), sum(TRUE.values()))
    release.total(("*", "*"), [(r, "*") for r in rows])
    return release


TRUE = {
    ("GDPR", "Jan"): 40,
    ("GDPR", "Feb"): 4,
    ("CCPA", "Jan"): 30,
    ("CCPA", "Feb"): 25,
}


def test_a_two_way_table_whose_small_cell_is_withheld_alone_in_its_row():
    # Withholding the 4 and the 25 (one per column of February) still leaves the 4 exact
    # from its row: 44 - 40.
    shown = dict(TRUE)
    shown["GDPR", "Feb"] = None
    shown["CCPA", "Feb"] = None
    release = two_way(shown, ["GDPR", "CCPA"], ["Jan", "Feb"])
    assert {f.what for f in audit(release)} == {("GDPR", "Feb"), ("CCPA", "Feb")}


def test_a_two_way_table_with_a_withheld_rectangle():
    # The four cells of a rectangle withheld: each moves by as much as the smallest of the
    # rectangle's diagonal allows (here 25), wider than k - 1.
    shown = dict.fromkeys(TRUE)
    release = two_way(shown, ["GDPR", "CCPA"], ["Jan", "Feb"])
    assert audit(release) == []
    assert interval(release, {("GDPR", "Feb"): 1.0}) == (0.0, 29.0)


def test_nested_stages_give_a_small_drop_out():
    release = Release(K)
    release.count("customers", 200)
    release.count("engaged", 196)
    release.within("engaged", "customers", difference="dropped out")
    [finding] = audit(release)
    assert (finding.what, finding.low, finding.high) == ("dropped out", 4, 4)


def test_k_1_withholds_nothing_and_audits_nothing():
    release = Release(1)
    release.count("a", None)
    assert audit(release) == []


def test_an_unbounded_count_has_an_infinite_range():
    release = Release(K)
    release.count("a", None)
    low, high = interval(release, {"a": 1.0})
    assert low == 0.0 and math.isinf(high)


# Properties over random breakdowns.

members = st.lists(st.integers(min_value=0, max_value=40), min_size=2, max_size=6)


@settings(max_examples=150, deadline=None)
@given(st.lists(members, min_size=1, max_size=3))
def test_every_range_holds_the_true_value(tables):
    """Whatever is withheld, the audit's range of a count always contains its true value:
    it never claims more than the release gives away."""
    release = Release(K)
    truth = {}
    for t, values in enumerate(tables):
        keys = [(t, i) for i in range(len(values))]
        for key, value in zip(keys, values, strict=True):
            truth[key] = value
            release.count(key, None if 0 < value < K else value)
        truth[(t, "total")] = sum(values)
        release.count((t, "total"), sum(values))
        release.total((t, "total"), keys)
    for key in release.withheld:
        low, high = interval(release, {key: 1.0})
        assert low - 1e-6 <= truth[key] <= high + 1e-6


@settings(max_examples=150, deadline=None)
@given(st.lists(members, min_size=1, max_size=3))
def test_what_cells_publish_for_one_breakdown_passes_the_audit(tables):
    """The suppression's own rules, on independent one-level breakdowns (each total with its
    members), leave nothing small derivable."""
    cells = Cells(K)
    release = Release(K)
    for t, values in enumerate(tables):
        keys = [(t, i) for i in range(len(values))]
        for key, value in zip(keys, values, strict=True):
            cells.add(key, value)
        cells.add((t, "total"), sum(values))
        cells.breakdown((t, "total"), keys)
    for key in cells.values:
        release.count(key, cells.count(key))
    for total, parts in cells.breakdowns:
        release.total(total, parts)
    findings = audit(release)
    assert findings == [], [str(f) for f in findings]
