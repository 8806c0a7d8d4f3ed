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


# Closing withheld totals (Cells(k, close_withheld_totals=True)), for figures shown beside the
# metrics JSON. The JSON itself keeps the spec's literal rule (the default).


def leak_example(close: bool) -> Cells:
    cells = Cells(11, close_withheld_totals=close)
    cells.add("customers", 195)
    states = {"granted": 30, "denied": 40, "withdrawn": 5, "no_decision": 120}
    for key, n in states.items():
        cells.add(key, n)
    cells.breakdown("customers", list(states))
    cells.add("seg_a", 12)
    cells.add("seg_b", 18)
    cells.breakdown("granted", ["seg_a", "seg_b"])
    return cells


def test_the_audit_closes_a_withheld_total_that_its_members_give_away():
    # withdrawn (5) is primary and takes granted (30) with it; with granted's segments
    # published, granted = 12 + 18 and withdrawn = 195 - 30 - 40 - 120. The spec's
    # complementary rule alone leaves that; the audit finds it and withholds the smallest
    # published figure around the pair, segment a (12), as closing does.
    assert leak_example(close=False).suppressed == {"withdrawn", "granted", "seg_a"}


def test_closing_withheld_totals_withholds_the_smallest_member_of_the_total():
    cells = leak_example(close=True)
    assert cells.suppressed == {"withdrawn", "granted", "seg_a"}
    assert [cells.count(k) for k in ("customers", "denied", "seg_b")] == [195, 40, 18]
    assert cells.unprotected == []


def test_closing_ties_zeros_and_totals_with_a_withheld_member():
    def resolve(withheld):
        cells = Cells(11, close_withheld_totals=True)
        values = {"t": 55, "a": 0, "b": 30, "c": 25, "u": 40, "d": 20, "e": 20, "v": 9, "f": 9}
        for key, n in values.items():
            cells.add(key, n)
        for total, members in (("t", ["a", "b", "c"]), ("u", ["d", "e"]), ("v", ["f"])):
            cells.breakdown(total, members)
        for key in withheld:
            cells.withhold(key)
        return cells.suppressed

    # t withheld with every member published: its smallest non-zero member c goes.
    # v (9) and f (9) are primary: v already has a withheld member.
    assert resolve(["t"]) == {"t", "c", "v", "f"}
    # A tie goes to the member listed first; a total with a withheld member needs nothing.
    assert resolve(["u", "t", "b"]) == {"u", "t", "b", "d", "v", "f"}


def test_closing_and_the_spec_rule_alternate_to_a_fixed_point():
    # t1 is withheld from elsewhere; a (a member of t1) is also a member of the published t2;
    # c is a member of t2 and the total of e + f.
    cells = Cells(11, close_withheld_totals=True)
    for key, n in {"t1": 50, "a": 20, "b": 30, "t2": 100, "c": 25, "d": 55}.items():
        cells.add(key, n)
    for key, n in {"e": 12, "f": 13}.items():
        cells.add(key, n)
    cells.breakdown("t1", ["a", "b"])
    cells.breakdown("t2", ["a", "c", "d"])
    cells.breakdown("c", ["e", "f"])
    cells.withhold("t1")
    # Closing t1 takes a (20); t2 then has a alone withheld: the spec's rule takes c (25);
    # c is now a withheld total with both members published: closing takes e (12).
    assert cells.suppressed == {"t1", "a", "c", "e"}
    # Without closing, the audit finds t1 = a + b and comes to the same figures.
    plain = Cells(11, values=dict(cells.values), breakdowns=list(cells.breakdowns))
    plain.withhold("t1")
    assert plain.suppressed == {"t1", "a", "c", "e"}


def test_withheld_members_adding_up_to_zero_protect_nothing():
    # 30 - 12 - 18 = 0 would give both withheld zeros away: a complement is still needed.
    cells = Cells(11, close_withheld_totals=True)
    for key, n in {"t": 30, "z1": 0, "z2": 0, "a": 12, "b": 18}.items():
        cells.add(key, n)
    cells.breakdown("t", ["z1", "z2", "a", "b"])
    cells.withhold("z1")
    cells.withhold("z2")
    assert cells.suppressed == {"z1", "z2", "a"}


# Pinned figures: status settled elsewhere (the metrics JSON), never withheld here as a
# complement.


def test_a_pinned_member_is_skipped_for_the_next_candidate():
    cells = Cells(11, close_withheld_totals=True)
    for key, n in {"total": 100, "x": 5, "p": 20, "q": 30, "r": 45}.items():
        cells.add(key, n)
    cells.breakdown("total", ["x", "p", "q", "r"])
    cells.pin("p")
    # p (20) would be the smallest other member: q (30) goes instead.
    assert cells.suppressed == {"x", "q"}


def test_the_total_goes_when_every_other_member_is_pinned():
    cells = Cells(11)
    for key, n in {"total": 40, "x": 5, "p": 35}.items():
        cells.add(key, n)
    cells.breakdown("total", ["x", "p"])
    cells.pin("p")
    assert cells.suppressed == {"x", "total"}


def test_a_pinned_figure_is_withheld_only_when_primary_or_forced():
    cells = Cells(11)
    for key, n in {"p": 35, "small": 3}.items():
        cells.add(key, n)
    cells.pin("small")
    cells.pin("p")
    assert cells.suppressed == {"small"}
    cells.withhold("p")
    assert cells.suppressed == {"small", "p"}
    with pytest.raises(KeyError):
        cells.pin("unknown")


def test_adopted_figures_keep_their_status_and_value():
    # The JSON withholds jan (24) only to protect feb (5).
    json = Cells(11)
    for key, n in {"all": 29, "jan": 24, "feb": 5}.items():
        json.add(key, n)
    json.breakdown("all", ["jan", "feb"])
    page = Cells(11, close_withheld_totals=True)
    page.adopt(json)
    for key, n in {"jan_gdpr": 12, "jan_us": 12}.items():
        page.add(key, n)
    page.breakdown("jan", ["jan_gdpr", "jan_us"])
    # 12 + 12 would give jan back, and with it feb: the first of the tied members goes.
    assert [page.count(k) for k in ("all", "jan", "feb", "jan_gdpr", "jan_us")] == [
        29,
        None,
        None,
        None,
        12,
    ]
    renamed = Cells(11)
    renamed.adopt(json, rename=lambda key: ("json", key))
    assert renamed.suppressed == {("json", "jan"), ("json", "feb")}
    assert renamed.pinned == set(renamed.values)
    with pytest.raises(ValueError, match="twice"):
        page.add("jan", 25)


def test_a_pinned_published_figure_is_never_withheld_to_protect_another():
    json = Cells(11)
    json.add("erasure_feb", 12)
    page = Cells(11, close_withheld_totals=True)
    page.adopt(json)
    for key, n in {"access_feb": 5, "all_feb": 17}.items():
        page.add(key, n)
    page.breakdown("all_feb", ["erasure_feb", "access_feb"])
    assert [page.count(k) for k in ("erasure_feb", "access_feb", "all_feb")] == [12, None, None]


def test_breakdowns_of_pinned_figures_only_are_left_as_they_are():
    # The leak example pinned as a whole: its status is the JSON's, even with closing on.
    page = Cells(11, close_withheld_totals=True)
    page.adopt(leak_example(close=False))
    page.breakdown("customers", ["granted", "denied", "withdrawn", "no_decision"])
    page.breakdown("granted", ["seg_a", "seg_b"])
    assert page.suppressed == {"withdrawn", "granted", "seg_a"}
    assert page.unprotected == []


def test_with_no_candidate_left_a_zero_of_this_page_is_withheld():
    # r (15) = x + y with y = 0 and c (20) = x + z with z = 5, r and c pinned. Withholding z
    # draws x; x would then follow from r - y, unless y is withheld too.
    cells = Cells(11, close_withheld_totals=True)
    for key, n in {"r": 15, "c": 20, "x": 15, "y": 0, "z": 5}.items():
        cells.add(key, n)
    cells.pin("r")
    cells.pin("c")
    cells.breakdown("r", ["x", "y"])
    cells.breakdown("c", ["x", "z"])
    assert cells.suppressed == {"x", "y", "z"}
    assert cells.unprotected == []


def test_a_complement_the_pinned_figures_give_away_is_shown_and_a_leak_is_reported():
    # u (30) = w + y and t (40) = y + p, with u, t and p (15) pinned and published. w (5) is
    # primary and draws y (25); but y = t - p, so withholding it protects nothing: y is shown,
    # and w = u - y cannot be protected here at all.
    cells = Cells(11, close_withheld_totals=True)
    for key, n in {"u": 30, "w": 5, "y": 25, "t": 40, "p": 15}.items():
        cells.add(key, n)
    for key in ("u", "t", "p"):
        cells.pin(key)
    cells.breakdown("u", ["w", "y"])
    cells.breakdown("t", ["y", "p"])
    assert cells.suppressed == {"w"}
    assert cells.unprotected == [("u", ("w", "y"))]


def test_the_same_breakdown_declared_twice_counts_once():
    cells = make(11, 60, {"a": 5, "b": 55})
    cells.breakdown("total", ["a", "b"])
    assert cells.breakdowns == [("total", ("a", "b"))]
