"""Values read in words on screen: countries by name (with their code), jurisdictions and
purposes spelled out, while links and figures keep the stored codes."""

from __future__ import annotations

from pages import _labels as labels


def test_countries_read_by_name_with_their_code():
    assert labels.country("DE") == "Germany (DE)"
    assert labels.country("NA") == "Namibia (NA)"  # not a missing value
    assert labels.country("us") == "United States (US)"
    assert labels.country("XX") == "XX"


def test_jurisdictions_and_purposes_read_in_words():
    assert labels.jurisdiction("US_STATE") == "US state privacy laws"
    assert labels.jurisdiction("GDPR") == "GDPR (EU and EEA)"
    assert labels.words("third_party_sharing") == "Third-party sharing"
    assert labels.words("email_marketing") == "Email marketing"


def test_the_sidebar_offers_names_and_filters_by_code(app):
    at = app()
    country = at.multiselect(key="country")
    assert "Germany (DE)" in country.options and "DE" not in country.options
    jurisdiction = at.multiselect(key="jurisdiction")
    assert "US state privacy laws" in jurisdiction.options
    assert not {"US_STATE", "UK_GDPR"} & set(jurisdiction.options)
    assert "Third-party sharing" in at.multiselect(key="purpose").options
    country.select("DE").run()
    assert not at.exception
    assert at.session_state["params"].filters.countries == ("DE",)
    assert at.query_params["country"] == "DE"  # the link keeps the code
