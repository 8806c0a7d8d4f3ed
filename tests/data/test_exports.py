"""Exports from marketing tools (spec section 10): their value formats read as they are."""

from __future__ import annotations

from datetime import date

import pytest

from data.intake.importer import Extract, run_import
from data.intake.mapping import ColumnMapping
from data.storage.schema import IMPORT_ID
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


MAILCHIMP_SUBSCRIBED = [
    "Email Address", "First Name", "Last Name", "Address", "Phone Number", "MEMBER_RATING",
    "OPTIN_TIME", "OPTIN_IP", "CONFIRM_TIME", "CONFIRM_IP", "GMTOFF", "DSTOFF", "TIMEZONE",
    "CC", "REGION", "LAST_CHANGED", "LEID", "EUID", "NOTES", "TAGS",
]  # fmt: skip
MAILCHIMP_UNSUBSCRIBED = [
    "Email Address", "First Name", "Last Name", "MEMBER_RATING", "OPTIN_TIME", "OPTIN_IP",
    "CONFIRM_TIME", "CONFIRM_IP", "GMTOFF", "DSTOFF", "TIMEZONE", "CC", "REGION", "UNSUB_TIME",
    "UNSUB_CAMPAIGN_TITLE", "UNSUB_CAMPAIGN_ID", "UNSUB_REASON", "UNSUB_REASON_OTHER", "LEID",
    "EUID", "NOTES", "TAGS",
]  # fmt: skip


MAILCHIMP_CLEANED = [
    "Email Address", "First Name", "Last Name", "MEMBER_RATING", "OPTIN_TIME", "OPTIN_IP",
    "CONFIRM_TIME", "CONFIRM_IP", "GMTOFF", "DSTOFF", "TIMEZONE", "CC", "REGION", "CLEAN_TIME",
    "CLEAN_CAMPAIGN_TITLE", "CLEAN_CAMPAIGN_ID", "LEID", "EUID", "NOTES", "TAGS",
]  # fmt: skip


def rows_of(headers: list[str], *records: dict[str, str]) -> list[list[str]]:
    return [headers, *([r.get(h, "") for h in headers] for r in records)]


def three_tools(folder) -> list:
    """The same people in Shopify, Mailchimp (three lists) and HubSpot exports."""
    shopify = write_csv(
        folder / "customers_export.csv",
        rows_of(
            SHOPIFY_CUSTOMERS,
            {"Customer ID": "'9001", "First Name": "Ada", "Email": "ada@example.org",
             "Accepts Email Marketing": "yes", "Default Address Country Code": "GB"},
            {"Customer ID": "'9002", "First Name": "Bob", "Email": "bob@example.org",
             "Accepts Email Marketing": "no"},
        ),
    )  # fmt: skip
    subscribed = write_csv(
        folder / "subscribed_email_audience_export_e6074aaf6f.csv",
        rows_of(
            MAILCHIMP_SUBSCRIBED,
            # The address as a person typed it: matched trimmed and lower-cased.
            {"Email Address": " Ada@Example.org", "OPTIN_TIME": "2024-01-02 10:00:00",
             "CONFIRM_TIME": "2024-01-02 10:05:00", "LAST_CHANGED": "2024-03-01 09:11:35"},
            {"Email Address": "cy@example.org", "LAST_CHANGED": "2024-02-01 09:00:00"},
        ),
    )  # fmt: skip
    unsubscribed = write_csv(
        folder / "unsubscribed_email_audience_export_e6074aaf6f.csv",
        rows_of(
            MAILCHIMP_UNSUBSCRIBED,
            {"Email Address": "bob@example.org", "OPTIN_TIME": "2021-05-22 05:11:56",
             "UNSUB_TIME": "2022-06-28 13:19:53", "UNSUB_CAMPAIGN_TITLE": "July"},
        ),
    )  # fmt: skip
    hubspot = write_csv(
        folder / "hubspot-crm-exports-all-contacts-2024-03-05.csv",
        rows_of(
            HUBSPOT_CONTACTS,
            # HubSpot names Ada by its own record id: she is still one customer.
            {"Record ID": "101", "Email": "ada@EXAMPLE.org", "Create Date": "2023-12-01 08:00",
             "Unsubscribed from all email": "false"},
        ),
    )  # fmt: skip
    cleaned = write_csv(
        folder / "cleaned_email_audience_export_e6074aaf6f.csv",
        rows_of(
            MAILCHIMP_CLEANED,
            {"Email Address": "cy@example.org", "OPTIN_TIME": "2024-02-01 09:00:00",
             "CLEAN_TIME": "2025-10-28 03:41:13", "CLEAN_CAMPAIGN_TITLE": "Course"},
        ),
    )  # fmt: skip
    return [shopify, subscribed, unsubscribed, hubspot, cleaned]


def test_the_same_people_from_three_exports_are_one_customer_each(store, tmp_path):
    files = three_tools(tmp_path)
    report = run_import(store, [Extract.from_path(p) for p in files], decided_at=date(2024, 6, 1))
    assert [f.mapping_source for f in report.files] == [
        "Shopify customers layout",
        "Mailchimp subscribed members layout",
        "Mailchimp unsubscribed members layout",
        "HubSpot contacts layout",
        "Mailchimp cleaned members layout",
    ]
    assert report.outcome.problems == []
    people = store.con.execute(
        "SELECT customer_id, email, created_at::VARCHAR FROM customers ORDER BY email"
    ).fetchall()
    [(cy,)] = [(c,) for c, e, _ in people if e == "cy@example.org"]
    assert people == [
        ("9001", "ada@example.org", "2024-06-01 00:00:00"),
        ("9002", "bob@example.org", "2024-06-01 00:00:00"),
        # First seen by e-mail: an identifier derived from the address, dated by the export.
        (cy, "cy@example.org", "2024-02-01 09:00:00"),
    ]
    assert cy.startswith("em-") and "cy" not in cy
    assert _decisions(store) == sorted(
        [
            ("9001", "email_marketing", "granted", "2024-01-02 10:05:00"),  # CONFIRM_TIME
            ("9001", "email_marketing", "granted", "2024-06-01 00:00:00"),
            # Shopify's "no" for Bob is no decision; Mailchimp's unsubscription, with no
            # earlier grant anywhere, is a refusal.
            ("9002", "email_marketing", "denied", "2022-06-28 13:19:53"),
            (cy, "email_marketing", "granted", "2024-02-01 09:00:00"),  # LAST_CHANGED
        ]
    )
    # The same exports again change nothing, and the derived identifier is stable.
    again = run_import(store, [Extract.from_path(p) for p in files], decided_at=date(2024, 6, 1))
    assert again.outcome.rows == {"customers": 0, "consent_events": 0}
    assert store.con.execute("SELECT count(*) FROM customers").fetchone() == (3,)


def test_a_person_erased_after_an_e_mail_export_stays_out_of_the_next_one(tmp_path):
    from data.rights.erasure import erase
    from data.storage.store import open_store

    path = tmp_path / "store" / "s.duckdb"
    files = three_tools(tmp_path)
    with open_store(path) as store:
        run_import(store, [Extract.from_path(files[1])])
        [(cy,)] = store.con.execute(
            "SELECT customer_id FROM customers WHERE email = 'cy@example.org'"
        ).fetchall()
    erase(path, [cy])
    with open_store(path) as store:
        report = run_import(store, [Extract.from_path(files[1])], accept_valid=True)
        assert [p.line for p in report.problems] == [3]
        assert "erased" in report.problems[0].reason
        assert store.con.execute(
            "SELECT count(*) FROM customers WHERE email = 'cy@example.org'"
        ).fetchone() == (0,)


KLAVIYO_PROFILES = [
    "Email", "Klaviyo ID", "First Name", "Last Name", "Phone Number", "Country",
    "Email Marketing Consent", "Email Marketing Consent Timestamp", "SMS Marketing Consent",
    "Profile Created On",
]  # fmt: skip


def test_a_klaviyo_profiles_export_reads_its_consent_states(store, tmp_path):
    # Ada is in the store already under her Shopify id: matched by e-mail.
    shopify = write_csv(
        tmp_path / "customers_export.csv",
        rows_of(
            SHOPIFY_CUSTOMERS,
            {"Customer ID": "9001", "Email": "ada@example.org", "Accepts Email Marketing": "yes"},
        ),
    )
    run_import(store, [Extract.from_path(shopify)], decided_at=date(2024, 1, 1))
    path = write_csv(
        tmp_path / "klaviyo_profiles.csv",
        rows_of(
            KLAVIYO_PROFILES,
            {"Email": "ADA@example.org", "Klaviyo ID": "01HXADA",
             "Email Marketing Consent": "UNSUBSCRIBED",
             "Email Marketing Consent Timestamp": "2025-03-01T10:00:00Z",
             "Profile Created On": "2024-11-02 08:14:00"},
            {"Email": "dee@example.org", "Klaviyo ID": "01HXDEE",
             "Email Marketing Consent": "NEVER_SUBSCRIBED", "SMS Marketing Consent": "SUBSCRIBED",
             "Profile Created On": "2024-11-03 09:00:00"},
            {"Email": "eve@example.org", "Klaviyo ID": "01HXEVE",
             "Email Marketing Consent": "UNSUBSCRIBED",
             "Email Marketing Consent Timestamp": "2025-03-02T10:00:00Z",
             "Profile Created On": "2024-11-04 09:00:00"},
        ),
    )  # fmt: skip
    report = run_import(store, [Extract.from_path(path)], accept_valid=True)
    assert report.files[0].mapping_source == "Klaviyo profiles layout"
    # Dee's SMS subscription has no timestamp and the import was given no date: rejected.
    assert [(p.line, p.reason.split(":")[0]) for p in report.problems] == [(3, "no decision date")]
    assert store.con.execute("SELECT customer_id, email FROM customers ORDER BY 1").fetchall() == [
        ("01HXEVE", "eve@example.org"),
        ("9001", "ada@example.org"),
    ]
    assert _decisions(store) == [
        ("01HXEVE", "email_marketing", "denied", "2025-03-02 10:00:00"),
        ("9001", "email_marketing", "granted", "2024-01-01 00:00:00"),
        # After her grant, Ada's unsubscription is a withdrawal.
        ("9001", "email_marketing", "withdrawn", "2025-03-01 10:00:00"),
    ]


SHOPIFY_ORDERS = [
    "Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Fulfilled at",
    "Accepts Marketing", "Currency", "Subtotal", "Shipping", "Taxes", "Total", "Discount Code",
    "Discount Amount", "Shipping Method", "Created at", "Lineitem quantity", "Lineitem name",
    "Lineitem price", "Lineitem compare at price", "Lineitem sku", "Lineitem requires shipping",
    "Lineitem taxable", "Lineitem fulfillment status", "Billing Name", "Refunded Amount",
    "Vendor", "Outstanding Balance", "Id", "Tags", "Source", "Lineitem discount", "Phone",
]  # fmt: skip


def test_a_shopify_orders_export_folds_line_items_nets_refunds_and_finds_customers(store, tmp_path):
    customers = write_csv(
        tmp_path / "customers_export.csv",
        rows_of(
            SHOPIFY_CUSTOMERS,
            {"Customer ID": "9001", "Email": "ada@example.org", "Accepts Email Marketing": "no"},
        ),
    )
    first = {
        "Email": "Ada@Example.org", "Financial Status": "paid", "Currency": "CAD",
        "Created at": "2025-04-02 11:32:52 -0700", "Lineitem quantity": "1",
        "Lineitem name": "Blue Mug", "Refunded Amount": "0.00",
    }  # fmt: skip
    orders = write_csv(
        tmp_path / "orders_export_1.csv",
        rows_of(
            SHOPIFY_ORDERS,
            {**first, "Name": "#1090", "Total": "68.23"},
            # The order's second line item: only its own columns are filled.
            {"Name": "#1090", "Email": "Ada@Example.org", "Lineitem quantity": "1",
             "Lineitem name": "Tea Pot", "Created at": "2025-04-02 11:32:52 -0700"},
            {**first, "Name": "#1091", "Total": "40.00", "Refunded Amount": "15.50",
             "Financial Status": "partially_refunded"},
            {**first, "Name": "#1092", "Total": "20.00", "Refunded Amount": "25.00",
             "Financial Status": "refunded"},
        ),
    )  # fmt: skip
    report = run_import(
        store,
        [Extract.from_path(customers), Extract.from_path(orders)],
        decided_at=date(2025, 1, 1),
    )
    assert report.files[1].mapping_source == "Shopify orders layout"
    outcome = report.outcome
    assert outcome.problems == []
    assert (outcome.rows_read, outcome.accepted, outcome.rejected) == (5, 5, 0)
    assert store.con.execute(
        "SELECT order_id, customer_id, ordered_at::VARCHAR, revenue::DOUBLE, currency "
        "FROM orders ORDER BY 1"
    ).fetchall() == [
        ("#1090", "9001", "2025-04-02 18:32:52", 68.23, "CAD"),
        ("#1091", "9001", "2025-04-02 18:32:52", 24.5, "CAD"),
        ("#1092", "9001", "2025-04-02 18:32:52", 0.0, "CAD"),  # refunds never below 0
    ]


def test_a_mapping_overrides_only_what_it_names(store, tmp_path):
    path = write_csv(
        tmp_path / "list.csv",
        [
            ["customer_id", "created_at", "Newsletter", "email_opt_in", "consent_date"],
            ["M-1", "2024-01-01", "no", "yes", "2024-02-01"],
        ],
    )
    # It names only the one column the automatic reading cannot know.
    mapping = ColumnMapping.from_dict(
        {
            "table": "customers",
            "opt_ins": {"Newsletter": "sms_marketing"},
            "polarity": {"Newsletter": "opt_out"},
        }
    )
    report = run_import(store, [Extract.from_path(path, mapping=mapping)])
    assert report.outcome.problems == []
    used = report.files[0].mapping
    assert used.columns == {"customer_id": "customer_id", "created_at": "created_at"}
    assert used.opt_ins == {"email_opt_in": "email_marketing", "Newsletter": "sms_marketing"}
    assert _decisions(store) == [("M-1", "email_marketing", "granted", "2024-02-01 00:00:00")]


def test_a_didomi_users_export_gzip_json_lines_imports_each_purposes_choice(store, tmp_path):
    import gzip
    import json

    def line(user_key, created, updated, purposes):
        return json.dumps(
            {
                "user": {
                    "id": "1784114c-f8b3-4590-a6df-b9fb240bdea5",
                    "organization_id": "acme",
                    "organization_user_id": user_key,
                    "version": 3,
                    "created_at": created,
                    "updated_at": updated,
                    "last_seen_country": "FR",
                    "consents": {
                        "purposes": [{"id": p, "enabled": e} for p, e in purposes],
                        "vendors": {"enabled": ["google"], "disabled": []},
                    },
                },
                "events": [],
            }
        )

    body = "\n".join(
        [
            line("ana@example.com", "2024-05-03T10:00:12.000Z", "2024-06-01T08:15:00Z",
                 [("marketing_email", True), ("personalisation", False), ("cookies", True)]),
            line("CRM-77", "2024-05-04T10:00:00Z", "2024-06-02T09:00:00Z",
                 [("marketing_email", None), ("personalisation", True)]),
        ]
    )  # fmt: skip
    path = tmp_path / "users" / "part-0001.json.gz"
    path.parent.mkdir()
    path.write_bytes(gzip.compress(body.encode()))
    report = run_import(store, [Extract.from_path(path)])
    [inspection] = report.files
    assert inspection.mapping_source == "Didomi users layout"
    assert inspection.dialect == "gzip-compressed JSON Lines, UTF-8, 2 rows"
    assert report.outcome.problems == []
    # Its own purposes with no canonical equivalent are named, not dropped silently.
    assert any("not imported" in n and "purpose cookies" in n for n in report.notes)
    [(ana,)] = store.con.execute(
        "SELECT customer_id FROM customers WHERE email = 'ana@example.com'"
    ).fetchall()
    assert ana.startswith("em-")
    assert store.con.execute(
        "SELECT customer_id, created_at::VARCHAR, country FROM customers ORDER BY 2"
    ).fetchall() == [(ana, "2024-05-03 10:00:12", "FR"), ("CRM-77", "2024-05-04 10:00:00", "FR")]
    assert _decisions(store) == sorted(
        [
            (ana, "email_marketing", "granted", "2024-06-01 08:15:00"),
            # A platform's recorded refusal is an explicit denial.
            (ana, "personalization", "denied", "2024-06-01 08:15:00"),
            ("CRM-77", "personalization", "granted", "2024-06-02 09:00:00"),
        ]
    )
