"""The sidebar: values read in words (countries by name with their code, jurisdictions and
purposes spelled out) while links and figures keep the stored codes; and the filters only on
the pages they affect."""

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
    assert labels.words("sms_marketing") == "SMS marketing"


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


def test_the_filters_show_only_on_the_dashboards_and_are_kept_between_them(app):
    at = app()
    at.multiselect(key="country").select("FR").run()
    for page in ("pages/upload.py", "pages/audit.py", "pages/person.py"):
        at.switch_page(page).run()
        assert not at.exception
        assert not at.sidebar.multiselect, page
        assert "Filters" not in [h.value for h in at.sidebar.header]
    at.switch_page("pages/consent.py").run()
    assert at.multiselect(key="country").value == ["FR"]
    assert at.session_state["params"].filters.countries == ("FR",)


def test_every_stored_table_and_column_has_a_name_in_words():
    from data.storage import schema

    assert set(labels.TABLE_NAMES) == set(schema.TABLE_ORDER)
    for table in schema.TABLE_ORDER:
        for column in schema.TABLES[table].column_names:
            assert column in labels.FIELDS, (table, column)
            name = labels.field(table, column)
            assert "_" not in name and name[:1].isupper(), name
    assert labels.field("privacy_requests", "type") == "Request type"
    assert labels.field("touchpoints", "type") == "Touchpoint type"
    assert labels.rows_per_table({"customers": 5, "consent_events": 1_200}) == (
        "5 customers, 1,200 consent events"
    )
    assert labels.rows_per_table({}, "none") == "none"
