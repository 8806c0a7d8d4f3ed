"""Exports from marketing tools (spec section 10): their value formats read as they are."""

from __future__ import annotations

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
