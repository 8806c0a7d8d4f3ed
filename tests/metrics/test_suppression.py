"""Small-cell suppression: primary, complementary and derived figures (spec section 5)."""

import pytest

from metrics.suppression import Cells, publishable


def test_primary_rule_publishes_zero_and_counts_of_at_least_k():
    assert [publishable(n, 11) for n in (0, 1, 10, 11, 250)] == [True, False, False, True, True]
    assert all(publishable(n, 1) for n in range(0, 20))


def make(k: int, total: int, members: dict[str, int]) -> Cells:
    cells = Cells(k)
    cells.add("total", total)
    for key, n in members.items():
        cells.add(key, n)
    cells.breakdown("total", list(members))
    return cells


def test_single_suppressed_member_takes_the_smallest_other_nonzero_member_with_it():
    cells = make(11, 60, {"yes": 5, "maybe": 0, "no": 40, "other": 15})
    assert cells.suppressed == {"yes", "other"}
    assert [cells.count(k) for k in ("total", "yes", "maybe", "no", "other")] == [
        60,
        None,
        0,
        40,
        None,
    ]


def test_tie_between_smallest_members_goes_to_the_one_listed_first():
    cells = make(11, 55, {"a": 3, "b": 26, "c": 26})
    assert cells.suppressed == {"a", "b"}


def test_total_is_suppressed_when_no_other_member_is_nonzero():
    cells = make(11, 15, {"yes": 4, "maybe": 0, "no": 0})
    assert cells.suppressed == {"yes", "total"}


def test_two_suppressed_members_need_nothing_more():
    cells = make(11, 30, {"yes": 4, "maybe": 6, "no": 20})
    assert cells.suppressed == {"yes", "maybe"}


def test_suppression_cascades_through_linked_breakdowns():
    # granted is a member of the purpose's states and the total of its segments.
    cells = Cells(11)
    cells.add("customers", 100)
    for key, n in {"granted": 30, "denied": 20, "withdrawn": 5, "no_decision": 45}.items():
        cells.add(key, n)
    cells.breakdown("customers", ["granted", "denied", "withdrawn", "no_decision"])
    cells.add("seg_a", 12)
    cells.add("seg_b", 18)
    cells.breakdown("granted", ["seg_a", "seg_b"])
    # withdrawn (5) is primary; denied (20) goes with it. Segments untouched.
    assert cells.suppressed == {"withdrawn", "denied"}
    cells2 = Cells(11)
    cells2.add("customers", 100)
    for key, n in {"granted": 14, "denied": 50, "withdrawn": 3, "no_decision": 33}.items():
        cells2.add(key, n)
    cells2.breakdown("customers", ["granted", "denied", "withdrawn", "no_decision"])
    cells2.add("seg_a", 4)
    cells2.add("seg_b", 10)
    cells2.add("seg_c", 0)
    cells2.breakdown("granted", ["seg_a", "seg_b"])
    # withdrawn takes granted (smallest non-zero, 14); both segments are primary anyway.
    assert cells2.suppressed == {"withdrawn", "granted", "seg_a", "seg_b"}


def test_cascade_reaches_a_fixed_point_across_breakdowns():
    # Suppressing 'b' for the first breakdown leaves 'b' alone hidden in the second.
    cells = Cells(11)
    for key, n in {"t1": 50, "a": 5, "b": 20, "c": 25, "t2": 40, "d": 12, "e": 8}.items():
        cells.add(key, n)
    cells.breakdown("t1", ["a", "b", "c"])
    cells.breakdown("t2", ["b", "d"])
    # t2 = b + d: b hidden by t1's rule, d (12) must follow; e (8) is primary only.
    assert cells.suppressed == {"a", "b", "d", "e"}


def test_derived_values_need_published_inputs_and_a_denominator_of_at_least_k():
    cells = make(11, 60, {"granted": 30, "denied": 25, "withdrawn": 5})
    # withdrawn is primary-suppressed, denied complementary: the rate is withheld.
    assert cells.ratio(30, 60, ["granted", "denied", "withdrawn"]) is None
    ok = make(11, 60, {"granted": 30, "denied": 30, "withdrawn": 0})
    assert ok.ratio(30, 60, ["granted", "denied", "withdrawn"]) == 0.5
    assert ok.ratio(0, 0, ["withdrawn"]) is None  # empty denominator
    small = make(11, 10, {"granted": 0, "denied": 0, "withdrawn": 0})
    assert small.ratio(0, 10, ["granted"]) is None  # denominator below k
    assert make(1, 3, {"granted": 1, "denied": 2}).ratio(1, 3, ["granted", "denied"]) == 1 / 3


def test_a_figure_cannot_be_registered_twice_with_different_values():
    cells = Cells(11)
    cells.add("x", 3)
    cells.add("x", 3)
    with pytest.raises(ValueError, match="twice"):
        cells.add("x", 4)
