"""Right to be forgotten: 20 canary people with unique tokens in every personal field, present
in every table, are erased; nothing of them remains, everyone else is untouched."""

from __future__ import annotations

import json
import mmap
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from data.rights import erasure
from data.storage import audit
from data.storage.schema import TABLES
from data.storage.store import open_store
from data.synthetic.generator import generate
from tests.conftest import write_csvs

CANARIES = 20


def cli(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "consentlens", "--db", str(db), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def canary_extract(folder: Path, tokens: list[str]) -> list[Path]:
    """Canonical files naming each canary in every table, every personal field a token."""
    header = {
        "customers": "customer_id,created_at,country,state,jurisdiction,acquisition_channel,"
        "segment,email,full_name,phone",
        "consent_events": "customer_id,purpose,decision,occurred_at",
        "touchpoints": "customer_id,occurred_at,type,channel,campaign_id",
        "orders": "order_id,customer_id,ordered_at,revenue,currency",
        "privacy_requests": "request_id,customer_id,type,received_at,completed_at,status,"
        "extended,jurisdiction,channel",
        "sharing": "customer_id,recipient,recipient_category,purpose,sold,shared_at",
    }
    rows: dict[str, list[str]] = {t: [] for t in TABLES}
    for n, token in enumerate(tokens):
        cid = f"canary-{token}"
        rows["customers"].append(
            f"{cid},2026-01-0{1 + n % 9},DE,,,web,canaryseg,{token}@mail.test,"
            f"Name {token},+49 {token}"
        )
        rows["consent_events"].append(f"{cid},email_marketing,granted,2026-02-01")
        rows["touchpoints"].append(f"{cid},2026-02-02,visit,web,")
        rows["orders"].append(f"canary-order-{n},{cid},2026-02-03,42.50,EUR")
        rows["privacy_requests"].append(f"canary-req-{n},{cid},erasure,2026-03-01,,,,,web_form")
        rows["sharing"].append(f"{cid},AdReach Media,ad_network,third_party_sharing,false,")
    return write_csvs(
        folder,
        {name: header[name] + "\n" + "\n".join(lines) + "\n" for name, lines in rows.items()},
    )


def store_bytes(db: Path) -> list[bytes]:
    return [p.read_bytes() for p in db.parent.iterdir() if p.is_file()]


def person_rows(db: Path, ids: list[str]) -> dict[str, list[tuple]]:
    with open_store(db, read_only=True) as store:
        out = {}
        for name, table in TABLES.items():
            if "customer_id" in table.column_names:
                out[name] = store.con.execute(
                    f'SELECT * FROM "{name}" WHERE customer_id IN (SELECT unnest(?)) ORDER BY ALL',
                    [ids],
                ).fetchall()
        return out


@pytest.fixture(scope="module")
def erased(tmp_path_factory):
    root = tmp_path_factory.mktemp("erasure")
    db = root / "store" / "s.duckdb"
    with open_store(db) as store:
        store.replace_all(generate(3_000, seed=5))
        controls = [
            r[0]
            for r in store.con.execute(
                "SELECT customer_id FROM customers ORDER BY customer_id LIMIT 20"
            ).fetchall()
        ]
    tokens = [secrets.token_hex(12) for _ in range(CANARIES)]
    extract = canary_extract(root / "extract", tokens)
    assert cli(db, "import", *map(str, extract)).returncode == 0
    before = {
        "bytes": store_bytes(db),
        "controls": person_rows(db, controls),
        "metrics": json.loads(cli(db, "metrics", "--min-cell", "1").stdout),
    }
    run = cli(db, "erase", *[f"canary-{t}" for t in tokens], "--request-id", "canary-req-0")
    return {
        "db": db,
        "tokens": tokens,
        "controls": controls,
        "before": before,
        "run": run,
        "extract": extract,
    }


def test_the_erase_command_reports_success_per_table(erased):
    run = erased["run"]
    assert run.returncode == 0, run.stderr
    assert "erased 20 person(s)" in run.stdout
    assert "customers                20 row(s) deleted" in run.stdout
    assert "orders                   20 row(s) kept for accounting" in run.stdout


def test_the_tokens_were_in_the_files_before(erased):
    # The byte scan below means something only because it finds them beforehand.
    blob = b"".join(erased["before"]["bytes"])
    assert all(t.encode() in blob for t in erased["tokens"])


def test_no_row_and_no_byte_of_the_canaries_remains(erased):
    db, tokens = erased["db"], erased["tokens"]
    rows = person_rows(db, [f"canary-{t}" for t in tokens])
    assert rows == {name: [] for name in rows}
    for path in db.parent.iterdir():
        data = path.read_bytes() if path.is_file() else b""
        found = [t for t in tokens if t.encode() in data]
        assert found == [], f"{path.name} still holds a token"


def test_orders_and_requests_stay_without_the_person(erased):
    with open_store(erased["db"], read_only=True) as store:
        [(orders,)] = store.con.execute(
            "SELECT count(*) FROM orders WHERE customer_id IS NULL AND revenue = 42.5 "
            "AND ordered_at = TIMESTAMP '2026-02-03'"
        ).fetchall()
        statuses = store.con.execute(
            "SELECT status, count(*) FROM privacy_requests WHERE customer_id IS NULL "
            "AND received_at = TIMESTAMP '2026-03-01' AND jurisdiction = 'GDPR' GROUP BY 1"
        ).fetchall()
    assert orders >= CANARIES
    assert dict(statuses).get("completed", 0) >= 1


def test_control_people_are_unchanged(erased):
    assert person_rows(erased["db"], erased["controls"]) == erased["before"]["controls"]


def test_erasure_trends_still_count_the_requests(erased):
    after = json.loads(cli(erased["db"], "metrics", "--min-cell", "1").stdout)
    before = erased["before"]["metrics"]
    assert after["erasure"]["received"] == before["erasure"]["received"]
    assert (
        after["erasure"]["by_jurisdiction"]["GDPR"]["received"]
        == (before["erasure"]["by_jurisdiction"]["GDPR"]["received"])
    )
    assert after["customers"] == before["customers"] - CANARIES


def test_a_reimport_of_the_canaries_is_refused_row_by_row(erased):
    run = cli(erased["db"], "import", *map(str, erased["extract"]))
    assert run.returncode == 2
    refused = [line for line in run.stderr.splitlines() if "this person was erased" in line]
    # One refusal per canary in customers, consent events, touchpoints, orders, requests, sharing.
    assert len(refused) == CANARIES * 6
    assert not any(t in run.stderr for t in erased["tokens"][1:])


def test_the_audit_log_records_the_erasure_without_the_tokens(erased):
    db = erased["db"]
    erasures = [e for e in audit.entries(db) if e["action"] == "erase"]
    assert len(erasures) == 1
    assert erasures[0]["detail"]["people"] == CANARIES
    assert erasures[0]["detail"]["deleted"]["customers"] == CANARIES
    text = audit.log_path(db).read_text()
    assert not any(t in text for t in erased["tokens"])
    assert audit.verify(db).ok


def test_a_person_known_only_from_a_request_can_be_erased(tmp_path):
    db = tmp_path / "store" / "s.duckdb"
    files = write_csvs(
        tmp_path / "x",
        {
            "customers": "customer_id,created_at\nkept-1,2026-01-01\n",
            "privacy_requests": "request_id,customer_id,type,received_at\n"
            "r1,former-customer-77,erasure,2026-02-01\nr2,kept-1,access,2026-02-01\n",
        },
    )
    assert cli(db, "import", *map(str, files)).returncode == 0
    run = cli(db, "erase", "former-customer-77")
    assert run.returncode == 0, run.stderr
    assert "1 erasure request(s) marked completed" in run.stdout
    with open_store(db, read_only=True) as store:
        rows = store.con.execute(
            "SELECT request_id, customer_id, status FROM privacy_requests ORDER BY 1"
        ).fetchall()
    assert rows == [("r1", None, "completed"), ("r2", "kept-1", "open")]
    assert b"former-customer-77" not in db.read_bytes()
    assert cli(db, "erase", "nobody-at-all").returncode == 2


def test_the_proof_finds_every_value_in_the_files_wherever_it_lies(tmp_path, monkeypatch):
    # The proof's search: all values in one pass a window, the windows of a file overlapping
    # so that a value across their border is found; one value inside another is found too.
    monkeypatch.setattr(erasure, "SCAN_WINDOW", 64)
    first, second, empty = tmp_path / "a.bin", tmp_path / "b.bin", tmp_path / "c.bin"
    filler = bytes(range(256)) * 2
    first.write_bytes(filler[:60] + b"jane.doe@example.org" + filler + b"C-0042")
    second.write_bytes(filler + "Zoë Example-Name".encode() + filler[:3])
    empty.write_bytes(b"")
    values = ["jane.doe@example.org", "doe@example", "C-0042", "Zoë Example-Name", "C-0043"]
    found = erasure._in_files([first, empty, second], values)
    assert found == {"jane.doe@example.org", "doe@example", "C-0042", "Zoë Example-Name"}
    assert erasure._in_files([first, second], ["absent value", "C-0043"]) == set()


def test_a_value_left_inside_someone_elses_is_not_taken_for_the_person(tmp_path):
    # Both the id and the e-mail address of the person erased lie within those of someone
    # kept: the byte scan finds them, and the proof must see that they are another's.
    db = tmp_path / "store" / "s.duckdb"
    files = write_csvs(
        tmp_path / "x",
        {
            "customers": "customer_id,created_at,email\n"
            "member-7,2026-01-01,al@example.org\nmember-77,2026-01-02,sal@example.org\n",
        },
    )
    assert cli(db, "import", *map(str, files)).returncode == 0
    run = cli(db, "erase", "member-7")
    assert run.returncode == 0, run.stderr
    with open_store(db, read_only=True) as store:
        assert store.con.execute("SELECT customer_id, email FROM customers").fetchall() == [
            ("member-77", "sal@example.org")
        ]
    with open_store(db) as store:
        assert erasure._still_held(store, ["member-7", "al@example.org", "member-8"]) == {
            "member-7",
            "al@example.org",
        }


def test_the_scan_lets_go_of_the_pages_it_has_read_a_page_at_a_time(tmp_path):
    path = tmp_path / "big.bin"
    path.write_bytes(b"x" * (3 * mmap.PAGESIZE + 100))
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as m:
        # Only whole pages scanned go (where the last call stopped on), the tail at the end.
        assert erasure._release(m, 0, 100) == 0
        assert erasure._release(m, 0, mmap.PAGESIZE + 7) == mmap.PAGESIZE
        assert erasure._release(m, mmap.PAGESIZE, len(m)) == len(m)
        assert erasure._release(m, len(m), len(m)) == len(m)
        assert m[:1] == b"x" and m[-1:] == b"x"  # still readable: the file's pages remain
