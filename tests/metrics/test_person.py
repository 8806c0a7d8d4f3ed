"""Transparency report: every row of the person, no row of anyone else, lookalikes apart."""

from __future__ import annotations

import subprocess
import sys

import pytest

from data.intake.loader import import_files
from data.storage.schema import TABLES
from data.storage.store import open_store
from data.synthetic.generator import generate
from metrics.params import resolve_params
from metrics.person import id_formats, person_report, report_html, report_json
from metrics.rules import Tables
from tests.conftest import write_csvs

PEOPLE = 50


def variants(n: int) -> list[str]:
    base = f"Person-{n:02d}"
    return [base, base.lower(), base.upper(), f"{base}+1", f"{base}.", f"x{base}"]


def extract() -> dict[str, str]:
    ids = [v for n in range(PEOPLE) for v in variants(n)]
    return {
        "customers": "customer_id,created_at,country,email,full_name\n"
        + "".join(f"{i},2025-03-01,GB,{i}@mail.test,Name of {i}\n" for i in ids),
        "consent_events": "customer_id,purpose,decision,occurred_at,notice_version\n"
        + "".join(
            f"{i},email_marketing,granted,2025-03-02,v2\n{i},email_marketing,withdrawn,"
            f"2025-06-0{1 + k % 8},v3\n"
            for k, i in enumerate(ids)
        ),
        "touchpoints": "customer_id,occurred_at,type\n"
        + "".join(f"{i},2025-04-01,visit\n{i},2025-04-02,cart_add\n" for i in ids),
        "orders": "order_id,customer_id,ordered_at,revenue\n"
        + "".join(f"o-{k},{i},2025-04-03,10\n" for k, i in enumerate(ids)),
        "privacy_requests": "request_id,customer_id,type,received_at\n"
        + "".join(f"r-{k},{i},access,2025-05-01\n" for k, i in enumerate(ids)),
        "sharing": "customer_id,recipient,sold\n"
        + "".join(f"{i},DataMart Brokers,true\n" for i in ids),
    }


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("person")
    with open_store(root / "store" / "s.duckdb") as s:
        s.replace_all(generate(2_000, seed=3))
        import_files(s, write_csvs(root / "extract", extract()))
        yield s


def direct(store, customer_id: str) -> dict[str, int]:
    out = {}
    for name in TABLES:
        [(n,)] = store.con.execute(
            f'SELECT count(*) FROM "{name}" WHERE customer_id = ?', [customer_id]
        ).fetchall()
        out[name] = n
    return out


@pytest.mark.parametrize("n", range(PEOPLE))
def test_the_report_holds_every_row_of_the_person_and_nobody_elses(store, n):
    customer_id = f"Person-{n:02d}"
    params = resolve_params(store.date_range())
    report = report_json(person_report(Tables.from_backend(store.backend), params, customer_id))
    held = {name: len(rows) for name, rows in report["data"].items()}
    assert (
        held
        == direct(store, customer_id)
        == {
            "customers": 1,
            "consent_events": 2,
            "touchpoints": 2,
            "orders": 1,
            "privacy_requests": 1,
            "sharing": 1,
        }
    )
    for rows in report["data"].values():
        assert {r["customer_id"] for r in rows} == {customer_id}
    assert [c["state"] for c in report["consent"]] == ["withdrawn"]
    assert report["class"] == "no"
    assert report["shared_with"][0]["recipient"] == "DataMart Brokers"
    assert report["privacy_requests"][0]["due"] == "2025-06-01"  # UK GDPR: 1 calendar month


@pytest.mark.parametrize("given", [" Person-01", "Person-01 ", "PERSON-01 ", "person-1"])
def test_a_lookalike_query_matches_nothing_it_does_not_name_exactly(store, given):
    params = resolve_params(store.date_range())
    report = person_report(Tables.from_backend(store.backend), params, given)
    assert report.found is False


def test_the_html_report_is_self_contained_and_escaped(store):
    params = resolve_params(store.date_range())
    page = report_html(person_report(Tables.from_backend(store.backend), params, "Person-07"))
    assert page.startswith("<!doctype html>")
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert "Person-07@mail.test" in page and "person-07@mail.test" not in page


def test_the_report_command_prints_json_or_html(tmp_path):
    db = tmp_path / "s.duckdb"
    files = write_csvs(
        tmp_path / "x",
        {"customers": "customer_id,created_at,full_name\n007,2025-01-01,<b>Bond</b>\n"},
    )
    cli = [sys.executable, "-m", "consentlens", "--db", str(db)]
    subprocess.run([*cli, "import", *map(str, files)], check=True, capture_output=True)
    out = subprocess.run(
        [*cli, "report", "007", "--format", "html"], capture_output=True, text=True, check=True
    ).stdout
    assert "&lt;b&gt;Bond&lt;/b&gt;" in out and "<b>Bond</b>" not in out
    missing = subprocess.run([*cli, "report", "7"], capture_output=True, text=True)
    assert missing.returncode == 0
    assert '"found": false' in missing.stdout


def test_the_forms_of_customer_ids_are_described_without_showing_one(store):
    tables = Tables.from_backend(store.backend)
    [(demo,)] = store.con.execute(
        "SELECT count(*) FROM customers WHERE regexp_matches(customer_id, '^[0-9]{7}$')"
    ).fetchall()
    forms = id_formats(tables, 11, limit=10)
    # The demo's 7-digit ids, then the extract's forms of 50 each; "Person-00+1" and
    # "Person-00." have no form of letters and digits and are not described.
    assert [(f.prefix, f.kind, f.length, f.customers) for f in forms] == [
        ("", "digits", 7, demo),
        ("PERSON-", "digits", 2, PEOPLE),
        ("Person-", "digits", 2, PEOPLE),
        ("person-", "digits", 2, PEOPLE),
        ("xPerson-", "digits", 2, PEOPLE),
    ]
    assert [f.placeholder for f in forms[:2]] == ["#######", "PERSON-##"]
    assert [f.words for f in forms[:2]] == ["7 digits", "PERSON- then 2 digits"]
    # A form fewer than k customers share is not described: it could point at someone.
    assert [f.placeholder for f in id_formats(tables, PEOPLE + 1, limit=10)] == ["#######"]
    assert not any(c.isdigit() for f in forms for c in f.placeholder)
