"""Rights pages in local mode: look a person up, erase them, see it in the audit trail."""

from __future__ import annotations

import threading
import time

import pytest

from data.intake.importer import Extract, run_import
from data.intake.templates import sample_csv
from data.storage.store import open_store
from data.synthetic.generator import generate


@pytest.fixture
def own_store(tmp_path, monkeypatch):
    path = tmp_path / "store" / "rights.duckdb"
    with open_store(path) as store:
        store.replace_all(generate(1_500, seed=21))
        [(person,)] = store.con.execute(
            "SELECT customer_id FROM customers ORDER BY customer_id LIMIT 1"
        ).fetchall()
    monkeypatch.setenv("CONSENTLENS_DB", str(path))
    return path, person


def test_look_up_erase_and_audit(app, own_store):
    path, person = own_store
    at = app("pages/person.py")
    at.text_input(key="person_id").input(person)
    at.button[0].click().run()
    assert not at.exception
    assert any(person in str(df.value.to_dict()) for df in at.dataframe)

    at.switch_page("pages/forget.py")
    at.run()
    at.text_area(key="erase_ids").input(person)
    at.checkbox(key="erase_ok").check()
    at.button[0].click().run()
    assert not at.exception
    assert at.success[0].value.startswith("Erased 1 person(s) and verified")

    at.switch_page("pages/person.py")
    at.run()
    at.text_input(key="person_id").input(person)
    at.button[0].click().run()
    assert at.info[0].value == "The store holds nothing under this identifier."

    at.switch_page("pages/audit.py")
    at.run()
    assert at.success[0].value.startswith("The log is intact")
    log = at.dataframe[0].value
    assert "Erase" in set(log["Action"])
    assert person not in log.to_string()
    # Details read as text, not as a dictionary.
    assert not any(d.startswith("{") for d in log["Details"])
    erased = log[log["Action"] == "Erase"]["Details"].iloc[0]
    assert ": " in erased and "{" not in erased


def test_erasure_needs_confirmation(app, own_store):
    _, person = own_store
    at = app("pages/forget.py")
    at.text_area(key="erase_ids").input(person)
    at.button[0].click().run()
    assert at.error[0].value == "Tick the confirmation first."


def test_an_erasure_waits_for_another_writer_then_erases(app, own_store):
    path, person = own_store
    at = app("pages/forget.py")
    at.text_area(key="erase_ids").input(person)
    at.checkbox(key="erase_ok").check()
    # Another writer (an import in another session) holds the store for a moment.
    holding = threading.Event()

    def other_writer() -> None:
        with open_store(path, task="consentlens import"):
            holding.set()
            time.sleep(1.5)

    other = threading.Thread(target=other_writer)
    other.start()
    holding.wait(timeout=30)
    try:
        at.button[0].click().run()
    finally:
        other.join()
    assert not at.exception
    [waited] = [i.value for i in at.info if i.value.startswith("Waiting for")]
    assert waited.startswith("Waiting for consentlens import (process ")
    assert at.success[0].value.startswith("Erased 1 person(s) and verified")


def test_an_erasure_that_waits_too_long_says_so_and_erases_nothing(app, own_store, monkeypatch):
    path, person = own_store
    monkeypatch.setenv("CONSENTLENS_WAIT", "0.5")
    at = app("pages/forget.py")
    at.text_area(key="erase_ids").input(person)
    at.checkbox(key="erase_ok").check()
    with open_store(path, task="consentlens demo"):
        at.button[0].click().run()
    assert not at.exception
    assert at.error[0].value.startswith(
        "gave up after waiting 0.5 s for consentlens demo (process "
    )
    with open_store(path, read_only=True) as store:
        assert store.con.execute(
            "SELECT count(*) FROM customers WHERE customer_id = ?", [person]
        ).fetchone() == (1,)


def test_the_lookup_and_erasure_fields_say_what_an_identifier_looks_like(app, own_store, tmp_path):
    path, person = own_store
    at = app("pages/person.py")
    field = at.text_input(key="person_id")
    assert field.placeholder == "Format: #######"
    hint = "Customer IDs in this store look like `#######` (7 digits); # stands for a digit."
    assert hint in [c.value for c in at.caption]
    at.switch_page("pages/forget.py").run()
    assert at.text_area(key="erase_ids").placeholder == "Format: #######"
    assert hint in [c.value for c in at.caption]

    # The samples' customers bring a second form, named by its prefix.
    sample = tmp_path / "customers.csv"
    sample.write_bytes(sample_csv("customers"))
    with open_store(path) as store:
        assert run_import(store, [Extract.from_path(sample)]).outcome.written
    at.switch_page("pages/person.py").run()
    assert (
        "Customer IDs in this store look like `#######` (7 digits) or `SAMPLE-#######` "
        "(SAMPLE- then 7 digits); # stands for a digit."
    ) in [c.value for c in at.caption]
    # No identifier of the store is on the page: the forms are symbols, never an id.
    with open_store(path, read_only=True) as store:
        ids = {i for (i,) in store.con.execute("SELECT customer_id FROM customers").fetchall()}
    page = " ".join([c.value for c in at.caption] + [at.text_input(key="person_id").placeholder])
    assert person in ids and not [i for i in ids if i in page]
