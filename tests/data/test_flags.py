"""Flags mean what they say (spec section 10): an opt-out column never becomes consent, a
"not subscribed" value records no decision, and a mapping may declare a column's polarity."""

from __future__ import annotations

import pytest

from data.intake import mapping as mp
from data.intake.importer import Extract, run_import
from data.intake.mapping import ColumnMapping
from data.storage.schema import IMPORT_ID
from tests.data.test_importer import write_csv


@pytest.mark.parametrize(
    ("header", "found"),
    [
        ("Unsubscribed from all email", ("email_marketing", "opt_out")),
        ("email_opt_out", ("email_marketing", "opt_out")),
        ("SMS Opted Out", ("sms_marketing", "opt_out")),
        ("Do not sell my personal information", ("third_party_sharing", "opt_out")),
        ("Newsletter consent", ("email_marketing", "opt_in")),
        ("sms_opt_in", ("sms_marketing", "opt_in")),
        ("Accepts Email Marketing", None),  # a layout's own column, not a flag by its words
        ("email", None),
        ("Phone No", None),
    ],
)
def test_a_flag_header_says_its_purpose_and_polarity(header, found):
    assert mp.flag_of(header) == found


def _events(store, import_id):
    return store.con.execute(
        "SELECT customer_id, purpose, decision, occurred_at::DATE::VARCHAR FROM consent_events "
        f'WHERE "{IMPORT_ID}" = ? ORDER BY ALL',
        [import_id],
    ).fetchall()


def test_an_opt_out_column_never_yields_a_grant(store, tmp_path):
    path = write_csv(
        tmp_path / "contacts.csv",
        [
            ["customer_id", "created_at", "Unsubscribed from all email", "consent_date"],
            ["A", "2024-01-01", "true", "2024-02-01"],
            ["B", "2024-01-01", "false", "2024-02-01"],
            ["C", "2024-01-01", "", "2024-02-01"],
            ["D", "2024-01-01", "Yes", "2024-02-01"],
            ["E", "2024-01-01", "granted", "2024-02-01"],
            ["F", "2024-01-01", "never_subscribed", "2024-02-01"],
        ],
    )
    report = run_import(store, [Extract.from_path(path, table="customers")], accept_valid=True)
    outcome = report.outcome
    assert [(p.line, p.column) for p in outcome.problems] == [(6, "Unsubscribed from all email")]
    assert "not a consent decision" in outcome.problems[0].reason
    # Nobody had granted email marketing before: each opt-out is a refusal.
    assert _events(store, outcome.import_id) == [
        ("A", "email_marketing", "denied", "2024-02-01"),
        ("D", "email_marketing", "denied", "2024-02-01"),
    ]
    assert (
        f"{path}: Unsubscribed from all email read as an opt-out of email_marketing: yes "
        "means withdrawn (denied without an earlier grant), no or empty no decision"
    ) in report.notes


def test_an_opt_out_after_a_grant_in_the_store_is_a_withdrawal(store, tmp_path):
    grants = write_csv(
        tmp_path / "grants.csv",
        [
            ["customer_id", "created_at", "email_opt_in", "consent_date"],
            ["K-1", "2024-01-01", "yes", "2024-01-10"],
            ["K-2", "2024-01-01", "yes", "2024-05-01"],
        ],
    )
    run_import(store, [Extract.from_path(grants, table="customers")])
    opt_outs = write_csv(
        tmp_path / "opt_outs.csv",
        [
            ["customer_id", "created_at", "email_opt_out", "consent_date"],
            ["K-1", "2024-01-01", "1", "2024-03-01"],
            ["K-2", "2024-01-01", "1", "2024-03-01"],  # the grant came later
            ["K-3", "2024-01-01", "1", "2024-03-01"],
        ],
    )
    report = run_import(store, [Extract.from_path(opt_outs, table="customers")])
    assert _events(store, report.outcome.import_id) == [
        ("K-1", "email_marketing", "withdrawn", "2024-03-01"),
        ("K-2", "email_marketing", "denied", "2024-03-01"),
        ("K-3", "email_marketing", "denied", "2024-03-01"),
    ]


def test_a_grant_earlier_in_the_same_import_makes_an_opt_out_a_withdrawal(store, tmp_path):
    # The opt-out file comes first: the order of the files does not matter.
    opt_outs = write_csv(
        tmp_path / "a_opt_outs.csv",
        [["customer_id", "sms_opted_out", "updated_at"], ["M-1", "yes", "2024-04-01"]],
    )
    grants = write_csv(
        tmp_path / "b_grants.csv",
        [
            ["customer_id", "created_at", "sms_opt_in", "consent_date"],
            ["M-1", "2024-01-01", "yes", "2024-02-01"],
        ],
    )
    report = run_import(
        store,
        [
            Extract.from_path(opt_outs, table="consent_events"),
            Extract.from_path(grants, table="customers"),
        ],
    )
    assert _events(store, report.outcome.import_id) == [
        ("M-1", "sms_marketing", "granted", "2024-02-01"),
        ("M-1", "sms_marketing", "withdrawn", "2024-04-01"),
    ]


def test_a_mapping_declares_a_columns_polarity(store, tmp_path):
    path = write_csv(
        tmp_path / "list.csv",
        [["id", "joined", "Newsletter", "changed"], ["P-1", "2024-01-01", "Y", "2024-06-01"]],
    )
    mapping = ColumnMapping(
        "customers",
        columns={"id": "customer_id", "joined": "created_at"},
        opt_ins={"Newsletter": "email_marketing"},
        decided_at="changed",
        polarity={"Newsletter": "opt_out"},
    )
    report = run_import(store, [Extract.from_path(path, mapping=mapping)])
    assert _events(store, report.outcome.import_id) == [
        ("P-1", "email_marketing", "denied", "2024-06-01")
    ]
    again = ColumnMapping.from_dict(json_round_trip(mapping))
    assert again.polarity == {"Newsletter": "opt_out"}


def json_round_trip(mapping: ColumnMapping) -> dict:
    import json

    return json.loads(mapping.to_json())


@pytest.mark.parametrize(
    ("polarity", "message"),
    [
        ({"Newsletter": "opposite"}, "polarity must be opt_in or opt_out"),
        ({"Other": "opt_out"}, "Other has a polarity but is not mapped as a flag"),
    ],
)
def test_a_polarity_must_be_one_of_two_and_name_a_flag(polarity, message):
    data = {"table": "customers", "opt_ins": {"Newsletter": "email_marketing"}}
    with pytest.raises(ValueError, match=message):
        ColumnMapping.from_dict({**data, "polarity": polarity})


def test_not_subscribed_records_no_decision_in_an_opt_in_column(store, tmp_path):
    path = write_csv(
        tmp_path / "profiles.csv",
        [
            ["customer_id", "created_at", "email_consent", "consent_date"],
            ["N-1", "2024-01-01", "NEVER_SUBSCRIBED", "2024-02-01"],
            ["N-2", "2024-01-01", "not subscribed", "2024-02-01"],
            ["N-3", "2024-01-01", "SUBSCRIBED", "2024-02-01"],
        ],
    )
    report = run_import(store, [Extract.from_path(path, table="customers")])
    assert report.outcome.rows == {"customers": 3, "consent_events": 1}
    assert _events(store, report.outcome.import_id) == [
        ("N-3", "email_marketing", "granted", "2024-02-01")
    ]
