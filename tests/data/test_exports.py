"""Exports from marketing tools (spec section 10): their value formats read as they are."""

from __future__ import annotations

from datetime import date

import pytest

from data.importer import Extract, run_import
from data.schema import IMPORT_ID
from tests.data.test_importer import write_csv


@pytest.mark.parametrize(
    ("written", "utc"),
    [
        ("2024-05-03 10:00:12 -0400", "2024-05-03 14:00:12"),  # Shopify
        ("2024-05-03 10:00 -04:00", "2024-05-03 14:00:00"),
        ("2024-05-03T10:00:12+0200", "2024-05-03 08:00:12"),
        ("2024-05-03 10:00:12 +05:30", "2024-05-03 04:30:12"),
        ("2024-05-03T10:00:12Z", "2024-05-03 10:00:12"),
        ("2024-05-03 10:00:12", "2024-05-03 10:00:12"),  # Mailchimp: UTC, no offset
        ("2024-05-03 10:00", "2024-05-03 10:00:00"),
    ],
)
def test_timestamps_in_every_form_the_tools_write(store, tmp_path, written, utc):
    path = write_csv(
        tmp_path / "customers.csv",
        [["Customer ID", "Created at", "Email"], ["S-1", written, "s1@example.org"]],
    )
    report = run_import(store, [Extract.from_path(path, table="customers")])
    assert report.outcome.problems == []
    assert store.con.execute(
        f'SELECT created_at::VARCHAR FROM customers WHERE "{IMPORT_ID}" = ?',
        [report.outcome.import_id],
    ).fetchall() == [(utc,)]


SHOPIFY_CUSTOMERS = [
    "Customer ID", "First Name", "Last Name", "Email", "Accepts Email Marketing",
    "Default Address Company", "Default Address Address1", "Default Address Address2",
    "Default Address City", "Default Address Province Code", "Default Address Country Code",
    "Default Address Zip", "Default Address Phone", "Phone", "Accepts SMS Marketing",
    "Total Spent", "Total Orders", "Note", "Tax Exempt", "Tags",
]  # fmt: skip
HUBSPOT_CONTACTS = [
    "Record ID", "First Name", "Last Name", "Email", "Phone Number", "Contact owner",
    "Create Date", "Last Activity Date", "Lead Status", "Marketing contact status",
    "Unsubscribed from all email",
]  # fmt: skip


def shopify_row(**values: str) -> list[str]:
    return [values.get(h, "") for h in SHOPIFY_CUSTOMERS]


def _customers(store, import_id):
    return store.con.execute(
        "SELECT customer_id, created_at::VARCHAR, country, state, email, full_name, phone "
        f'FROM customers WHERE "{IMPORT_ID}" = ? ORDER BY 1',
        [import_id],
    ).fetchall()


def _decisions(store):
    return store.con.execute(
        "SELECT customer_id, purpose, decision, occurred_at::VARCHAR FROM consent_events "
        "ORDER BY ALL"
    ).fetchall()


def test_a_shopify_customers_export_imports_as_it_is(store, tmp_path):
    path = write_csv(
        tmp_path / "customers_export.csv",
        [
            SHOPIFY_CUSTOMERS,
            shopify_row(**{
                "Customer ID": "'7012345678901", "First Name": "Ada", "Last Name": "Lovelace",
                "Email": "ada@example.org", "Accepts Email Marketing": "yes",
                "Default Address Province Code": "IL", "Default Address Country Code": "US",
                "Phone": "+15551230001", "Accepts SMS Marketing": "no",
            }),
            shopify_row(**{
                "Customer ID": "'7012345678902", "First Name": "Bob", "Email": "bob@example.org",
                "Accepts Email Marketing": "no", "Default Address Province Code": "ON",
                "Default Address Country Code": "CA", "Accepts SMS Marketing": "yes",
            }),
        ],
    )  # fmt: skip
    # No table, no mapping: the layout is recognised by its columns.
    report = run_import(store, [Extract.from_path(path)], decided_at=date(2024, 6, 1))
    [inspection] = report.files
    assert (inspection.table, inspection.mapping_source) == (
        "customers",
        "Shopify customers layout",
    )
    outcome = report.outcome
    assert outcome.problems == []
    assert _customers(store, outcome.import_id) == [
        ("7012345678901", "2024-06-01 00:00:00", "US", "IL", "ada@example.org", "Ada Lovelace",
         "+15551230001"),
        # A province is a state only in the United States.
        ("7012345678902", "2024-06-01 00:00:00", "CA", None, "bob@example.org", "Bob", None),
    ]  # fmt: skip
    # Shopify's "no" is "not subscribed": no decision, never a refusal.
    assert _decisions(store) == [
        ("7012345678901", "email_marketing", "granted", "2024-06-01 00:00:00"),
        ("7012345678902", "sms_marketing", "granted", "2024-06-01 00:00:00"),
    ]
    assert (
        f"{path}: Accepts Email Marketing read as an opt-in of email_marketing: yes means "
        "granted, no or false or empty no decision"
    ) in report.notes
    # The same export again changes nothing.
    again = run_import(store, [Extract.from_path(path)], decided_at=date(2024, 6, 1))
    assert again.outcome.rows == {"customers": 0, "consent_events": 0}
    assert len(_decisions(store)) == 2


def test_a_shopify_export_without_a_decision_date_is_refused_saying_why(store, tmp_path):
    path = write_csv(
        tmp_path / "customers_export.csv",
        [
            SHOPIFY_CUSTOMERS,
            shopify_row(
                **{"Customer ID": "1", "Email": "a@x.org", "Accepts Email Marketing": "yes"}
            ),
        ],
    )
    report = run_import(store, [Extract.from_path(path)])
    assert not report.outcome.written
    assert {p.reason.split(":")[0] for p in report.problems} == {
        "no sign-up date",
        "no decision date",
    }


def test_a_hubspot_contacts_export_never_turns_an_unsubscribe_into_consent(store, tmp_path):
    row = dict.fromkeys(HUBSPOT_CONTACTS, "")
    rows = [HUBSPOT_CONTACTS]
    for record, unsubscribed in (("101", "true"), ("102", "false"), ("103", "")):
        row |= {
            "Record ID": record, "First Name": "Pat", "Last Name": record,
            "Email": f"p{record}@example.org", "Create Date": "2024-02-01 09:30",
            "Unsubscribed from all email": unsubscribed, "Last Activity Date": "2024-03-01 10:00",
        }  # fmt: skip
        rows.append([row[h] for h in HUBSPOT_CONTACTS])
    path = write_csv(tmp_path / "hubspot-crm-exports-all-contacts-2024-03-05.csv", rows)
    report = run_import(store, [Extract.from_path(path)], decided_at=date(2024, 3, 5))
    assert report.files[0].mapping_source == "HubSpot contacts layout"
    assert report.outcome.problems == []
    assert [c[:2] for c in _customers(store, report.outcome.import_id)] == [
        ("101", "2024-02-01 09:30:00"),
        ("102", "2024-02-01 09:30:00"),
        ("103", "2024-02-01 09:30:00"),
    ]
    # true: an opt-out with no earlier grant, a refusal; false or empty: no decision.
    assert _decisions(store) == [("101", "email_marketing", "denied", "2024-03-05 00:00:00")]
