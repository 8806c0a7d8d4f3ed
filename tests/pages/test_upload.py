"""Upload data page: files go through the real uploader, are read, mapped and checked, and
imported (or not); the dashboards' figures follow, undo takes an import back out."""

from __future__ import annotations

import hashlib
import shutil
from datetime import date

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from consentlens.access import Identity
from data.intake.templates import sample_csv
from data.storage import audit
from data.storage.keys import key_path
from data.storage.schema import TABLE_ORDER
from data.storage.store import open_store
from pages import _upload_widgets as uw
from tests.data.test_samples import SAMPLE_ROWS
from tests.pages.conftest import APP

PAGE = "pages/upload.py"
# Five new customers under an analyst's headers (synonyms), and one with a date that is none.
CRM = (
    b"Customer ID,E-mail,created,Country,Notes\n"
    b"N0001,ann@example.com,2024-03-01,DE,called back\n"
    b"N0002,bob@example.com,2024-03-02,FR,\n"
    b"N0003,cy@example.com,05/03/2024,US,\n"
    b"N0004,di@example.com,2024-03-04,GB,\n"
    b"N0005,ed@example.com,2024-03-05,NL,\n"
    b"N0006,fay@example.com,not a date,DE,\n"
)


@pytest.fixture
def store(demo_db, tmp_path, monkeypatch):
    """A copy of the demo store (with its key) for one test, so imports stay in it."""
    target = tmp_path / "store" / "upload.duckdb"
    target.parent.mkdir()
    shutil.copy(demo_db, target)
    shutil.copy(key_path(demo_db), key_path(target))
    monkeypatch.setenv("CONSENTLENS_DB", str(target))
    return target


def counts(path) -> dict[str, int]:
    with open_store(path, read_only=True) as s:
        return s.row_counts()


def customers_tile(at: AppTest) -> int:
    at.switch_page("pages/overview.py")
    at.run()
    assert not at.exception
    return int(next(m.value for m in at.metric if m.label == "Customers").replace(",", ""))


def uploaded(app, name: str, body: bytes) -> AppTest:
    at = app(PAGE)
    assert not at.exception
    at.file_uploader[0].upload(name, body, "text/csv").run()
    assert not at.exception
    return at


def markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def table(at: AppTest, *columns: str) -> pd.DataFrame:
    """The first table on the page with these columns."""
    return next(d.value for d in at.dataframe if set(columns) <= set(d.value.columns))


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def test_upload_map_check_import_and_the_overview_counts_the_new_customers(app, store):
    before = counts(store)
    at = app()
    tile_before = customers_tile(at)
    at.switch_page(PAGE)
    at.run()
    at.file_uploader[0].upload("crm_contacts.csv", CRM, "text/csv").run()
    assert not at.exception

    # Before any check: how the file was read, its table and its mapping.
    assert "**Detected:** CSV, comma-separated, UTF-8, 6 rows" in markdown(at)
    assert at.selectbox(key=next(s.key for s in at.selectbox if "table" in s.key)).value == (
        "customers"
    )
    assert any("Mapping: automatic" in c.value for c in at.caption)
    mapping = at.data_editor[0].value
    assert dict(zip(mapping[uw.HEADER], mapping[uw.TARGET], strict=True)) == {
        "Customer ID": "customer_id",
        "E-mail": "email",
        "created": "created_at",
        "Country": "country",
        "Notes": uw.IGNORE,
    }
    assert "**Not imported (ignored):** Notes" in markdown(at)

    button(at, "Check").click().run()
    assert not at.exception
    assert "**Rows read 6 = accepted 5 + rejected 1**" in markdown(at)
    files = table(at, "File", "Accepted")
    assert files[["File", "Rows read", "Accepted", "Rejected"]].values.tolist() == [
        ["crm_contacts.csv", 6, 5, 1]
    ]
    rows = table(at, "Table", "Rows")
    assert rows.values.tolist() == [["Customers", 5]]
    problems = table(at, "Reason")
    assert problems.values.tolist() == [
        ["crm_contacts.csv", "line 7", "created", "not a date (ISO 8601 or DD/MM/YYYY)"]
    ]
    assert "columns not imported: Notes" in markdown(at)
    assert [b.label for b in at.download_button if "problems" in b.label] == [
        "Download the problems (CSV)"
    ]
    assert counts(store) == before  # checking writes nothing

    button(at, "Import the 5 valid rows").click().run()
    assert not at.exception
    assert at.success[0].value == (
        "Imported as import 1: 5 customers; 1 rejected row(s) left out. "
        "The dashboards now include it."
    )
    assert counts(store)["customers"] == before["customers"] + 5
    history = table(at, "Import", "State")
    assert history[["Import", "Mode", "Files", "Rows read", "Rejected"]].values.tolist() == [
        [1, "Append", "crm_contacts.csv", 6, 1]
    ]
    assert customers_tile(at) == tile_before + 5

    logged = [e for e in audit.entries(store) if e["action"] == "import"]
    assert len(logged) == 1
    detail = str(logged[0]["detail"])
    assert logged[0]["actor"] == "local user" and "crm_contacts.csv" in detail
    assert logged[0]["detail"]["files"] == {"crm_contacts.csv": hashlib.sha256(CRM).hexdigest()}
    assert "example.com" not in detail and "N0001" not in detail


def test_import_nothing_leaves_the_store_unchanged_and_is_recorded(app, store):
    before = counts(store)
    at = uploaded(app, "crm_contacts.csv", CRM)
    button(at, "Check").click().run()
    button(at, "Import nothing").click().run()
    assert not at.exception
    assert at.info[0].value == "Nothing was imported: the store is unchanged."
    assert counts(store) == before
    refused = [e for e in audit.entries(store) if e["action"] == "import refused"]
    assert [e["detail"]["problems"] for e in refused] == [1]


def test_a_file_missing_a_required_column_is_refused_whole(app, store):
    before = counts(store)
    body = b"E-mail,Country\nann@example.com,DE\nbob@example.com,FR\n"
    at = uploaded(app, "crm_contacts.csv", body)
    button(at, "Check").click().run()
    assert not at.exception
    assert "**Rows read 2 = accepted 0 + rejected 2**" in markdown(at)
    problems = table(at, "Reason")
    assert problems["Reason"].tolist() == [
        f"required column is missing: map a column of the file to {column}"
        for column in ("created_at", "customer_id")
    ]
    assert "cannot be imported as it is" in at.error[0].value
    assert "**Rows that would be written:** none, a file is refused as a whole" in markdown(at)
    assert [b.label for b in at.button if b.label.startswith("Import")] == ["Import nothing"]
    button(at, "Import nothing").click().run()
    assert counts(store) == before


def test_undo_removes_the_import_and_a_saved_mapping_is_reused(app, store):
    before = counts(store)
    body = CRM.replace(b"not a date", b"2024-03-06")
    at = uploaded(app, "crm_contacts.csv", body)
    at.checkbox(key=next(c.key for c in at.checkbox if "save" in c.key)).check().run()
    button(at, "Check").click().run()
    assert "**Rows read 6 = accepted 6 + rejected 0**" in markdown(at)
    button(at, "Import").click().run()
    assert not at.exception
    assert counts(store)["customers"] == before["customers"] + 6

    assert button(at, "Undo last import").disabled  # not before the tick
    at.checkbox(key="upload_undo_sure").check().run()
    button(at, "Undo last import").click().run()
    assert not at.exception
    assert at.success[0].value == (
        "Undid import 1: removed 6 customers. The dashboards no longer include it."
    )
    assert counts(store) == before
    history = table(at, "Import", "State")
    assert history["State"].iloc[0].startswith("undone")
    assert button(at, "Undo last import").disabled
    assert [e["action"] for e in audit.entries(store)][-2:] == ["mapping saved", "import undone"]

    # The same headers under another name: the saved mapping, not a guess from the name.
    at.file_uploader[0].upload("export_0412.csv", body, "text/csv").run()
    assert any("Mapping: saved for files with these headers" in c.value for c in at.caption)


def test_the_wide_consent_form_becomes_consent_events(app, store):
    with open_store(store, read_only=True) as s:
        people = [
            c
            for (c,) in s.con.execute(
                "SELECT customer_id FROM customers ORDER BY customer_id LIMIT 3"
            ).fetchall()
        ]
    before = counts(store)
    body = (
        "customer_id,email_opt_in,sms_opt_in,consent_date\n"
        f"{people[0]},yes,no,2024-05-01\n"
        f"{people[1]},unsubscribed,,2024-05-02\n"
        f"{people[2]},,subscribed,2024-05-03\n"
    ).encode()
    at = uploaded(app, "preferences.csv", body)
    mapping = at.data_editor[0].value
    assert dict(zip(mapping[uw.HEADER], mapping[uw.TARGET], strict=True)) == {
        "customer_id": "customer_id",
        "email_opt_in": uw.OPT_IN + "email_marketing",
        "sms_opt_in": uw.OPT_IN + "sms_marketing",
        "consent_date": uw.EVERY_FLAG_DATE,
    }
    assert "**Wide consent form:**" in markdown(at)
    button(at, "Check").click().run()
    assert "**Rows read 3 = accepted 3 + rejected 0**" in markdown(at)
    assert table(at, "Table", "Rows").values.tolist() == [["Consent events", 4]]
    button(at, "Import").click().run()
    assert not at.exception
    after = counts(store)
    assert after["consent_events"] == before["consent_events"] + 4
    assert after["customers"] == before["customers"]


def test_a_viewer_cannot_reach_the_page(store, monkeypatch):
    monkeypatch.setenv("CONSENTLENS_LOCAL_ROLE", "viewer")
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    with pytest.raises(ValueError):
        at.switch_page(PAGE)
    # Run directly, past the router, the page refuses before reading anything.
    direct = AppTest.from_file(APP.replace("app.py", PAGE), default_timeout=60)
    direct.session_state["identity"] = Identity("cmo", "viewer", "oidc")
    direct.run()
    assert direct.error[0].value.startswith("Not allowed")
    assert not direct.file_uploader


def test_an_analyst_reaches_the_page(app, store, monkeypatch):
    monkeypatch.setenv("CONSENTLENS_LOCAL_ROLE", "analyst")
    at = app(PAGE)
    assert not at.exception
    assert at.title[0].value == "Upload data"
    assert len(at.download_button) == 12  # a template and a sample for each table


def test_the_mapping_table_round_trips_and_refuses_two_headers_for_one_column():
    headers = ["id", "mail", "email_opt_in", "email_opt_in_date", "updated_at", "source"]
    from data.intake.mapping import auto_mapping

    mapping = auto_mapping("customers", headers)
    rows = uw.mapping_rows(headers, mapping)
    assert uw.mapping_from_rows("customers", rows, mapping, None) == mapping
    edited = rows.copy()
    edited.loc[1, uw.TARGET] = "customer_id"
    with pytest.raises(ValueError, match="more than one column mapped to customer_id"):
        uw.mapping_from_rows("customers", edited, mapping, None)
    ignored = pd.DataFrame({uw.HEADER: headers, uw.TARGET: [uw.IGNORE] * len(headers)})
    assert uw.mapping_from_rows("customers", ignored, mapping, "day_first").used() == set()


def test_an_edited_mapping_is_the_one_checked(app, store):
    at = uploaded(app, "crm_contacts.csv", CRM)
    editor = at.data_editor[0]
    # The editor's edit state, as the browser sends it: the Notes row now names a column.
    at.session_state[editor.key] = {
        "edited_rows": {4: {uw.TARGET: "acquisition_channel"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    assert not at.exception
    assert "Not imported (ignored)" not in markdown(at)
    button(at, "Check").click().run()
    assert "**Rows read 6 = accepted 5 + rejected 1**" in markdown(at)
    assert "columns not imported" not in markdown(at)


def test_a_file_that_is_no_table_is_refused_with_advice(app, store):
    before = counts(store)
    at = uploaded(app, "contacts.csv", b"\x89PNG\r\n\x1a\n" + bytes(64))
    assert "refused" in at.error[0].value and "PNG image" in at.error[0].value
    button(at, "Check").click().run()
    assert not at.exception
    assert "cannot be imported as it is" in at.error[-1].value
    assert [b.label for b in at.button if b.label.startswith("Import")] == ["Import nothing"]
    assert counts(store) == before


def test_headers_cannot_put_links_or_images_on_the_page(app, store):
    body = b"Customer ID,![x](http://tracker.invalid/p.png)\nN0001,1\n"
    at = uploaded(app, "crm_contacts.csv", body)
    ignored = next(m.value for m in at.markdown if m.value.startswith("**Not imported"))
    assert ignored == "**Not imported (ignored):** \\!\\[x\\]\\(http://tracker.invalid/p.png\\)"


def test_a_file_with_a_header_and_no_rows_has_nothing_to_import(app, store):
    at = uploaded(app, "crm_contacts.csv", b"customer_id,email,created_at\n")
    button(at, "Check").click().run()
    assert not at.exception
    assert "**Rows read 0 = accepted 0 + rejected 0**" in markdown(at)
    assert at.info[-1].value == "The files hold no rows: there is nothing to import."
    assert not [b for b in at.button if b.label.startswith("Import")]


def test_a_report_is_not_acted_on_once_the_files_or_the_mode_change(app, store):
    at = uploaded(app, "crm_contacts.csv", CRM)
    button(at, "Check").click().run()
    assert "**Rows read 6 = accepted 5 + rejected 1**" in markdown(at)
    at.radio(key="upload_mode").set_value("replace").run()
    stale = "The files, mapping or mode changed since the check: check again."
    assert [i.value for i in at.info] == [stale]
    assert not [b for b in at.button if b.label.startswith("Import")]
    at.radio(key="upload_mode").set_value("append").run()
    assert not at.info and button(at, "Import the 5 valid rows")
    # The same name uploaded again, corrected: a new file, so the report is stale.
    corrected = CRM.replace(b"not a date", b"2024-03-06")
    at.file_uploader[0].clear().upload("crm_contacts.csv", corrected, "text/csv").run()
    assert not at.exception
    assert [i.value for i in at.info] == [stale]
    button(at, "Check").click().run()
    assert "**Rows read 6 = accepted 6 + rejected 0**" in markdown(at)


def test_an_opt_out_column_is_shown_and_imported_as_an_opt_out(app, store):
    with open_store(store, read_only=True) as s:
        [(person,)] = s.con.execute(
            "SELECT customer_id FROM customers ORDER BY customer_id DESC LIMIT 1"
        ).fetchall()
        [(granted_before,)] = s.con.execute(
            "SELECT count(*) > 0 FROM consent_events WHERE customer_id = ? AND purpose = "
            "'email_marketing' AND decision = 'granted' AND occurred_at < TIMESTAMP '2024-05-01'",
            [person],
        ).fetchall()
    body = f"customer_id,Unsubscribed from all email,last_updated\n{person},true,2024-05-01\n"
    at = uploaded(app, "email_preferences.csv", body.encode())
    mapping = at.data_editor[0].value
    targets = dict(zip(mapping[uw.HEADER], mapping[uw.TARGET], strict=True))
    assert targets["Unsubscribed from all email"] == uw.OPT_OUT + "email_marketing"
    assert (
        "- Unsubscribed from all email: read as an opt-out of email\\_marketing: yes means "
        "withdrawn \\(denied without an earlier grant\\), no or empty no decision"
    ) in markdown(at)
    button(at, "Check").click().run()
    button(at, "Import").click().run()
    assert not at.exception
    with open_store(store, read_only=True) as s:
        latest = s.con.execute(
            "SELECT decision FROM consent_events WHERE customer_id = ? AND purpose = "
            "'email_marketing' AND occurred_at = TIMESTAMP '2024-05-01'",
            [person],
        ).fetchall()
    assert latest == [("withdrawn",) if granted_before else ("denied",)]


@pytest.mark.parametrize(
    ("names", "found"),
    [
        (["subscribed_2024-05-31.csv"], date(2024, 5, 31)),
        (["members_export_20240531.csv"], date(2024, 5, 31)),
        (["a.csv", "audience 2023_12_01.xlsx"], date(2023, 12, 1)),
        (["contacts.csv"], None),
        (["batch_20241399.csv"], None),  # not a date
        (["order_123420240531.csv"], None),  # digits run on: not a date of its own
    ],
)
def test_the_decision_date_is_taken_from_a_date_in_the_file_name(names, found):
    assert uw.date_in_name(names) == found


def test_a_known_export_is_named_and_its_flags_read_as_the_tool_means_them(app, store):
    headers = "Customer ID,First Name,Last Name,Email,Accepts Email Marketing,Accepts SMS Marketing"
    body = f"{headers}\n'55501,Ada,Lovelace,ada@example.org,yes,no\n".encode()
    at = uploaded(app, "customers_export_2024-06-01.csv", body)
    assert (
        "Mapping: the Shopify customers export, recognised by its columns. Change any row; a "
        f"column set to {uw.IGNORE} is left out."
    ) in [c.value for c in at.caption]
    assert (
        "- Accepts SMS Marketing: read as an opt-in of sms\\_marketing: yes means granted, no or "
        "false or empty no decision"
    ) in markdown(at)
    # The decision date comes from the file's name.
    assert at.date_input[0].value == date(2024, 6, 1)
    button(at, "Check").click().run()
    button(at, "Import").click().run()
    assert not at.exception
    with open_store(store, read_only=True) as s:
        assert s.con.execute(
            "SELECT c.full_name, c.created_at::DATE::VARCHAR, e.purpose, e.decision "
            "FROM customers c JOIN consent_events e USING (customer_id) "
            "WHERE customer_id = '55501'"
        ).fetchall() == [("Ada Lovelace", "2024-06-01", "email_marketing", "granted")]


SAMPLES = {table: sample_csv(table) for table in TABLE_ORDER}


def in_order(at: AppTest) -> list[tuple[str, object]]:
    """The main area's elements in the order they are drawn, as (kind, value)."""
    out: list[tuple[str, object]] = []

    def walk(node) -> None:
        for child in getattr(node, "children", {}).values():
            kind = type(child).__name__
            if kind in ("Block", "Column", "Expander", "Tab", "Form"):
                walk(child)
            else:
                out.append((kind, getattr(child, "value", getattr(child, "label", None))))

    walk(at.main)
    return out


def upload_samples(app, tables=TABLE_ORDER) -> AppTest:
    at = app(PAGE)
    for table in tables:
        at.file_uploader[0].upload(f"{table}.sample.csv", SAMPLES[table], "text/csv")
    at.file_uploader[0].run()
    assert not at.exception
    return at


def test_the_samples_import_into_the_demo_with_nothing_refused_and_the_report_stays(app, store):
    before = counts(store)
    at = upload_samples(app)
    button(at, "Check").click().run()
    assert "**Rows read 865 = accepted 865 + rejected 0**" in markdown(at)
    assert [w.value for w in at.main.warning if "Synthetic data" not in w.value] == []
    button(at, "Import").click().run()
    assert not at.exception
    written = "59 customers, 240 consent events, 433 touchpoints, 95 orders, 4 privacy requests"
    assert at.success[0].value == (
        f"Imported as import 1: {written}, 34 sharing records. The dashboards now include it."
    )
    after = counts(store)
    assert {t: after[t] - before[t] for t in TABLE_ORDER} == SAMPLE_ROWS
    # The report of what went in stays on the page, rerun after rerun.
    for _ in range(2):
        assert [s.value for s in at.subheader][:1] == ["What was imported"]
        assert "**Rows read 865 = accepted 865 + rejected 0**" in markdown(at)
        assert table(at, "Table", "Rows").values.tolist() == [
            ["Customers", 59],
            ["Consent events", 240],
            ["Touchpoints", 433],
            ["Orders", 95],
            ["Privacy requests", 4],
            ["Sharing records", 34],
        ]
        at.run()
    # The samples are in this store now: each says, beside it, what a new import would do.
    notes = [c.value for c in at.caption]
    assert (
        "59 of its 59 customers are in this store already: imported again, they are "
        "refused as existing." in notes
    )
    assert (
        "95 of its 95 orders are in this store already: imported again, they are refused "
        "as existing." in notes
    )
    assert (
        notes.count(
            "Its customers are in this store already: imported again, its rows are added a "
            "second time."
        )
        == 3
    )
    assert any(w.value.startswith("This store holds the samples already") for w in at.warning)
    button(at, "Dismiss this report").click().run()
    assert "What was imported" not in [s.value for s in at.subheader]
    assert not [s for s in at.success if s.value.startswith("Imported")]

    # Undone, the samples import cleanly again and the notes go.
    at.checkbox(key="upload_undo_sure").check().run()
    button(at, "Undo last import").click().run()
    assert counts(store) == before
    assert not any("already" in c.value for c in at.caption)


def test_the_report_of_an_import_gives_way_to_the_next_upload(app, store):
    at = uploaded(app, "crm_contacts.csv", CRM)
    button(at, "Check").click().run()
    button(at, "Import the 5 valid rows").click().run()
    assert "What was imported" in [s.value for s in at.subheader]
    # The rejected row is explained beside the counts of the import that went in.
    assert table(at, "File", "Why rejected")["Why rejected"].tolist() == [
        "not a date (ISO 8601 or DD/MM/YYYY) (1)"
    ]
    at.file_uploader[0].upload("more.csv", CRM.replace(b"N000", b"M000"), "text/csv").run()
    assert not at.exception
    assert "What was imported" not in [s.value for s in at.subheader]
    assert "upload_done" not in at.session_state


def test_rejected_rows_are_explained_beside_their_count(app, store):
    at = upload_samples(app, ["customers", "orders"])
    button(at, "Check").click().run()
    button(at, "Import").click().run()
    # The same samples again: every row is in the store already.
    at.file_uploader[0].upload("customers.sample.csv", SAMPLES["customers"], "text/csv")
    at.file_uploader[0].upload("orders.sample.csv", SAMPLES["orders"], "text/csv").run()
    button(at, "Check").click().run()
    assert not at.exception
    drawn = in_order(at)
    count = drawn.index(("Markdown", "**Rows read 154 = accepted 0 + rejected 154**"))
    kind, warning = drawn[count + 1]
    assert kind == "Warning"
    assert warning == (
        "154 of 154 rows are rejected and cannot be imported as they are:\n\n"
        "- customers.sample.csv, 59 of 59 rows: value already exists in the store \\(59\\)\n"
        "- orders.sample.csv, 95 of 95 rows: value already exists in the store \\(95\\)"
    )
    files = table(at, "File", "Why rejected")
    assert files[["File", "Table", "Rejected", "Why rejected"]].values.tolist() == [
        ["customers.sample.csv", "Customers", 59, "value already exists in the store (59)"],
        ["orders.sample.csv", "Orders", 95, "value already exists in the store (95)"],
    ]


def test_rows_left_out_as_known_are_said_beside_the_rows_written(app, store):
    with open_store(store, read_only=True) as s:
        people = [
            c
            for (c,) in s.con.execute(
                "SELECT customer_id FROM customers ORDER BY customer_id LIMIT 2"
            ).fetchall()
        ]
    body = (
        "customer_id,created_at,email_opt_in,consent_date\n"
        f"{people[0]},2024-01-01,yes,2026-10-01\n"
        f"{people[1]},2024-01-01,no,2026-10-01\n"
        "N0100,2024-01-01,yes,2026-10-01\n"
    ).encode()
    at = uploaded(app, "crm_list.csv", body)
    button(at, "Check").click().run()
    assert not at.exception
    drawn = in_order(at)
    rows = next(
        i
        for i, (kind, v) in enumerate(drawn)
        if kind == "Dataframe" and list(v.columns) == ["Table", "Rows"]
    )
    assert drawn[rows + 1] == (
        "Warning",
        "2 row\\(s\\) name customers the store \\(or an earlier file of this import\\) has "
        "already: their consent events are imported, their customer rows left as they are.",
    )
