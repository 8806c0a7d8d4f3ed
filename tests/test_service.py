"""The service layer: every action from the command line and from a page goes through
consentlens/service.py, so the same action leaves the same audit entry whoever calls it
(only the actor and the role differ) and a role is checked before anything is touched."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from consentlens import service
from consentlens.access import Forbidden, Identity
from data.storage import audit
from data.storage.keys import keyed_hash, require_key
from data.storage.store import open_store
from tests.conftest import write_csvs

PAGE = Identity("local user", "admin", "local")
FILES = {
    "customers": """\
        customer_id,created_at,country,segment
        001,2026-01-01,DE,premium
        002,2026-02-01,US,
    """,
    "consent_events": """\
        customer_id,purpose,decision,occurred_at
        001,email_marketing,granted,2026-01-02
    """,
}
BAD = {"customers": "customer_id,created_at,country\n003,not a date,FR\n"}


def _cli(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "consentlens", "--db", str(db), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _entries(db: Path) -> list[tuple[str, dict]]:
    """(action, detail) of each entry: what an entry says, without who, when or its chain."""
    return [(e["action"], e["detail"]) for e in audit.entries(db)]


@pytest.fixture
def two_stores(tmp_path: Path, monkeypatch) -> tuple[Path, Path]:
    """Two empty stores: one the command line writes, one the pages write (the store a page
    writes is the one $CONSENTLENS_DB names)."""
    by_cli, by_page = tmp_path / "cli" / "s.duckdb", tmp_path / "page" / "s.duckdb"
    for db in (by_cli, by_page):
        with open_store(db):
            pass
    monkeypatch.setenv("CONSENTLENS_DB", str(by_page))
    return by_cli, by_page


def _uploads(paths: list[Path]) -> list[service.Upload]:
    return [service.Upload(p.name, p.read_bytes()) for p in paths]


def test_import_undo_and_refusal_leave_the_same_entries_from_either_caller(tmp_path, two_stores):
    by_cli, by_page = two_stores
    good = write_csvs(tmp_path / "good", FILES)
    bad = write_csvs(tmp_path / "bad", BAD)

    assert _cli(by_cli, "import", *map(str, good)).returncode == 0
    assert _cli(by_cli, "import", *map(str, bad)).returncode == 2
    assert _cli(by_cli, "imports", "undo").returncode == 0

    limit = 10 * 1024 * 1024
    written = service.import_uploads(
        PAGE, _uploads(good), replace=False, accept_valid=False, max_bytes=limit
    )
    assert written.outcome.written
    refused = service.import_uploads(
        PAGE, _uploads(bad), replace=False, accept_valid=False, max_bytes=limit
    )
    assert not refused.outcome.written and refused.problems
    service.undo_last_import(PAGE)

    from_cli, from_page = _entries(by_cli), _entries(by_page)
    assert [action for action, _ in from_cli] == ["import", "import refused", "import undone"]
    assert from_page == from_cli
    imported = from_cli[0][1]
    assert imported["rows"] == {"customers": 2, "consent_events": 1}
    assert set(imported["files"]) == {"customers.csv", "consent_events.csv"}
    assert from_cli[1][1] == {"files": {"customers.csv": imported_sum(bad[0])}, "problems": 1}
    actors = {(e["actor"], e["role"]) for e in audit.entries(by_cli)}
    assert len(actors) == 1 and next(iter(actors))[0].startswith("cli:")


def imported_sum(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_report_is_audited_alike_from_the_command_line_and_the_person_page(tmp_path, two_stores):
    by_cli, by_page = two_stores
    good = write_csvs(tmp_path / "good", FILES)
    assert _cli(by_cli, "import", *map(str, good)).returncode == 0
    service.import_uploads(
        PAGE, _uploads(good), replace=False, accept_valid=False, max_bytes=1 << 20
    )

    printed = _cli(by_cli, "report", "001", "--format", "json")
    assert printed.returncode == 0, printed.stderr
    report = service.look_up(PAGE, "001")
    downloaded = service.export_report(PAGE, report, "json")
    page, command = json.loads(downloaded), json.loads(printed.stdout)
    assert page.pop("generated_at") and command.pop("generated_at")
    assert page == command

    # The person appears only as a keyed hash, each store's key its own.
    for db in (by_cli, by_page):
        # As a value: a random keyed hash may hold the digits "001" by chance.
        assert '"001"' not in json.dumps(_entries(db))
        subject = keyed_hash(require_key(db), "001")
        assert [d.pop("subject") for _, d in _entries(db)[1:]] == [subject, subject]
    from_cli = [(a, {k: v for k, v in d.items() if k != "subject"}) for a, d in _entries(by_cli)]
    from_page = [(a, {k: v for k, v in d.items() if k != "subject"}) for a, d in _entries(by_page)]
    assert from_cli[1:] == [
        ("look-up", {"found": True}),
        ("report", {"format": "json", "found": True}),
    ]
    assert from_page == from_cli


def test_every_action_checks_the_role_before_it_touches_the_store(tmp_path, monkeypatch):
    db = tmp_path / "none" / "s.duckdb"
    monkeypatch.setenv("CONSENTLENS_DB", str(db))
    viewer = Identity("val", "viewer", "oidc")
    refused = [
        lambda: service.import_paths(viewer, [str(tmp_path)]),
        lambda: service.undo_last_import(viewer),
        lambda: service.forget(viewer, ["001"], None),
        lambda: service.look_up(viewer, "001"),
        lambda: service.audit_entries(viewer),
        lambda: service.export_parquet(viewer, tmp_path / "out"),
        lambda: service.demo(viewer, customers=1, seed=1, scenario="baseline"),
    ]
    for action in refused:
        with pytest.raises(Forbidden):
            action()
    assert not db.exists() and not (tmp_path / "out").exists()


def test_the_command_line_says_a_user_error_in_one_line_with_status_2(tmp_path):
    db = tmp_path / "s.duckdb"
    with open_store(db):
        pass
    run = _cli(db, "imports", "undo")
    assert run.returncode == 2
    assert run.stderr.startswith("consentlens: ") and "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_an_unknown_scenario_is_refused_with_the_valid_ones_before_the_store_is_touched(
    tmp_path,
):
    db = tmp_path / "s.duckdb"
    run = _cli(db, "demo", "--customers", "10", "--scenario", "nope")
    assert run.returncode == 2
    assert run.stderr.strip() == (
        "consentlens: unknown scenario 'nope'; choose from baseline, erasure_surge, "
        "low_consent, reconsent_wave, overdue_jurisdiction, channel_mix_trap"
    )
    assert not db.exists()
