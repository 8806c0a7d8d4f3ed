"""A link whose parameters cannot all be used: the rest still applies, and a short notice
names what was left out or replaced and what was used instead."""

from __future__ import annotations

from datetime import date

import pytest

from metrics import api
from pages._links import PAGE_CONTROLS, read_link, shown

FIRST, LAST = date(2024, 1, 1), date(2025, 12, 31)
CHOICES = {
    "jurisdiction": ["CCPA", "GDPR"],
    "country": ["DE", "FR", "US"],
    "channel": ["email", "search"],
    "segment": ["new", "vip"],
    "purpose": ["email_marketing", "sms_marketing"],
}


def link(**query):
    return read_link(
        {k: v if isinstance(v, list) else [v] for k, v in query.items()},
        CHOICES,
        first=FIRST,
        last=LAST,
        default_start=date(2025, 1, 1),
        default_end=LAST,
        period_before=lambda end: api.period_start_before(end, months=12),
    )


def test_a_clean_link_is_used_whole_without_a_word():
    view = link(start="2024-03-01", end="2024-09-30", country=["DE", "FR"], purpose="sms_marketing")
    assert (view.start, view.end) == (date(2024, 3, 1), date(2024, 9, 30))
    assert view.chosen == {"country": ["DE", "FR"], "purpose": ["sms_marketing"]}
    assert view.notices == []


@pytest.mark.parametrize(
    ("query", "start", "end", "chosen", "notice"),
    [
        (  # malformed date
            {"start": "01/03/2024", "country": "DE"},
            date(2025, 1, 1),
            LAST,
            {"country": ["DE"]},
            "The link's start date “01\\/03\\/2024” is not a date like 2025-01-31; the default "
            "was used instead.",
        ),
        (  # impossible date
            {"end": "2024-02-30", "country": "DE"},
            date(2025, 1, 1),
            LAST,
            {"country": ["DE"]},
            "The link's end date “2024\\-02\\-30” is not a date like 2025-01-31; the default "
            "was used instead.",
        ),
        (  # before the data
            {"start": "1990-01-01", "country": "DE"},
            FIRST,
            LAST,
            {"country": ["DE"]},
            "The link's start date 1990-01-01 is before the data begins; 2024-01-01 was used "
            "instead.",
        ),
        (  # after the data
            {"end": "2999-01-01", "start": "2024-06-01"},
            date(2024, 6, 1),
            LAST,
            {},
            "The link's end date 2999-01-01 is after the data ends; 2025-12-31 was used instead.",
        ),
        (  # start after end
            {"start": "2025-06-01", "end": "2025-03-31", "country": "FR"},
            date(2024, 4, 1),
            date(2025, 3, 31),
            {"country": ["FR"]},
            "The link's start date 2025-06-01 is after its end date 2025-03-31; the period "
            "2024-04-01 to 2025-03-31 was used instead.",
        ),
        (  # unknown filter value beside a known one
            {"country": ["DE", "XX"]},
            date(2025, 1, 1),
            LAST,
            {"country": ["DE"]},
            "The link's country “XX” is not in the data; it was left out (the others apply).",
        ),
        (  # unknown filter value alone
            {"channel": "carrier-pigeon", "segment": "vip"},
            date(2025, 1, 1),
            LAST,
            {"segment": ["vip"]},
            "The link's acquisition channel “carrier\\-pigeon” is not in the data; it was left "
            "out, so every acquisition channel is shown.",
        ),
        (  # unknown parameter
            {"colour": "blue", "country": "US"},
            date(2025, 1, 1),
            LAST,
            {"country": ["US"]},
            "The link's setting “colour” is not one the dashboard knows; it was ignored.",
        ),
        (  # repeated parameter
            {"start": ["2024-02-01", "2024-05-01"]},
            date(2024, 5, 1),
            LAST,
            {},
            "The link gives 2 start dates; the last one was used.",
        ),
        (  # a very long value
            {"segment": "v" * 10_000, "jurisdiction": "GDPR"},
            date(2025, 1, 1),
            LAST,
            {"jurisdiction": ["GDPR"]},
            "The link's segment “" + "v" * 39 + "…” is not in the data; it was left out, so "
            "every segment is shown.",
        ),
        (  # markup
            {"purpose": "<script>alert(1)</script>[x](javascript:y)"},
            date(2025, 1, 1),
            LAST,
            {},
            "The link's purpose “\\<script\\>alert\\(1\\)\\<\\/script\\>\\[x\\]\\(javascript…”"
            " is not in the data; it was left out, so every purpose is shown.",
        ),
    ],
)
def test_what_cannot_be_used_is_named_and_the_rest_applies(query, start, end, chosen, notice):
    view = link(**query)
    assert (view.start, view.end) == (start, end)
    assert view.chosen == chosen
    assert view.notices == [notice]


def test_an_end_before_the_default_start_keeps_the_default_length_without_a_word():
    view = link(end="2024-06-30")
    assert (view.start, view.end) == (date(2024, 1, 1), date(2024, 6, 30))
    assert view.notices == []


def test_a_link_full_of_junk_gets_a_bounded_notice():
    view = link(**{f"p{i}": "x" for i in range(50)})
    assert len(view.notices) == 8
    assert view.notices[-1] == "43 more settings could not be used."


def test_a_quoted_value_is_printable_and_inert():
    assert shown("a\x00b\nc*d") == "a b c\\*d"


# The same on the page: the real app, opened with such a link.


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ({"start": "not-a-date", "country": "DE"}, "is not a date like 2025-01-31"),
        ({"start": "2099-01-01", "end": "2000-01-01", "country": "DE"}, "was used instead"),
        ({"country": ["DE", "Atlantis"]}, "“Atlantis” is not in the data"),
        ({"country": "DE", "<b>x</b>": "1"}, "is not one the dashboard knows"),
    ],
)
def test_the_page_names_what_it_could_not_use_and_applies_the_rest(app, query, fragment):
    at = app(query=query)
    assert not at.exception
    [notice] = [w.value for w in at.warning if "could not be used" in w.value]
    assert fragment in notice
    assert at.session_state["params"].filters.countries == ("DE",)
    assert at.query_params["country"] == "DE"  # the address now says what is shown
    assert "Traceback" not in str(at)
    # Figures are drawn beside the notice.
    assert at.metric


def test_a_clean_link_opens_without_a_notice(app):
    at = app(query={"country": "DE"})
    assert not [w for w in at.warning if "could not be used" in w.value]


def test_a_pages_own_controls_are_in_its_link_and_come_back_from_it(app):
    at = app("pages/consent.py")
    at.selectbox(key="consent_dimension").set_value("country").run()
    at.radio(key="consent_grain").set_value("week").run()
    assert not at.exception
    assert at.query_params["consent_dimension"] == "country"
    assert at.query_params["consent_grain"] == "week"
    shown = [c.value for c in at.code]
    assert any("consent_dimension=country" in c and "consent_grain=week" in c for c in shown)
    # The same address in a new session gives the same view.
    again = app("pages/consent.py", query={"consent_dimension": "country", "consent_grain": "week"})
    assert not again.exception
    assert again.selectbox(key="consent_dimension").value == "country"
    assert again.radio(key="consent_grain").value == "week"
    assert not again.warning or all("link" not in w.value.lower() for w in again.warning)


def test_a_control_value_the_page_does_not_offer_is_named_and_the_default_shown(app):
    at = app("pages/erasure.py", query={"erasure_grain": "fortnight"})
    assert not at.exception
    assert at.radio(key="erasure_grain").value == "month"
    assert any("fortnight" in w.value and "not one this page offers" in w.value for w in at.warning)


# Every page's own controls, each set to a value other than its default.
CHANGED = {
    "pages/overview.py": {"currency": "GBP"},
    "pages/consent.py": {"consent_dimension": "method", "consent_grain": "week"},
    "pages/ymn.py": {"currency": "GBP"},
    "pages/erasure.py": {"erasure_grain": "week", "erasure_by": "jurisdiction"},
    "pages/impact.py": {"impact_by": "state", "impact_purpose": "analytics", "currency": "GBP"},
}
SELECT_BOXES = ("consent_dimension", "impact_purpose", "currency")


@pytest.mark.parametrize("page", list(CHANGED))
def test_every_control_of_a_page_goes_into_its_link_and_comes_back(app, page):
    at = app(page)
    for key, value in CHANGED[page].items():
        widget = at.selectbox(key=key) if key in SELECT_BOXES else None
        widget = widget or at.radio(key=key)
        widget.set_value(value).run()
        assert not at.exception
    assert {key: at.query_params[key] for key in CHANGED[page]} == CHANGED[page]
    assert set(CHANGED[page]) == set(PAGE_CONTROLS[_address(page)])
    again = app(page, query=CHANGED[page])
    for key, value in CHANGED[page].items():
        assert again.session_state[key] == value, key


def _address(page: str) -> str:
    return {
        "pages/overview.py": "home",
        "pages/consent.py": "consent-and-segments",
        "pages/ymn.py": "yes-maybe-no",
        "pages/erasure.py": "erasure-and-requests",
        "pages/impact.py": "conversion-impact",
    }[page]
