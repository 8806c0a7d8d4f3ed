"""Actions the dashboard may take on behalf of a signed-in person: each checks the role
first and leaves an audit entry. Pages call these, never the data layer directly."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from consentlens.access import Identity
from data import audit, history, templates
from data import mapping as mp
from data.engines import StoreSource
from data.erasure import ErasureError, ErasureResult, erase
from data.history import ImportRecord, UndoError
from data.importer import Extract, ImportReport, Inspection, inspect, run_import
from data.ingest import Outcome
from data.keys import keyed_hash, require_key
from data.mapping import ColumnMapping
from data.store import StoreError, open_store, resolve_path
from metrics.params import Params, default_min_cell, resolve_params
from metrics.person import (
    IdFormat,
    PersonReport,
    id_formats,
    person_report,
    report_html,
    report_json,
)
from metrics.rules import Tables

__all__ = [
    "ColumnMapping",
    "ErasureError",
    "ImportRecord",
    "ImportReport",
    "Inspection",
    "StoreError",
    "UndoError",
    "Upload",
    "audit_entries",
    "check_uploads",
    "decline_import",
    "export_report",
    "forget",
    "identifier_forms",
    "import_history",
    "import_uploads",
    "inspect_upload",
    "look_up",
    "record_export",
    "samples_held",
    "save_mapping",
    "template_file",
    "undo_last_import",
]


def _store() -> Path:
    return resolve_path()


Waiting = Callable[[str], None] | None


def _writing(task: str, on_wait: Waiting) -> dict[str, Any]:
    """How an action that writes opens the store: named for whoever waits behind it, and
    telling the page whom it waits for itself."""
    return {"task": f"{task} from the dashboard", "on_wait": on_wait}


def report_params(data_range: tuple[datetime | None, datetime | None]) -> Params:
    """Parameters of a transparency report: as of today, or the data's last day if later."""
    first, last = data_range
    today = datetime.now(UTC).date()
    return resolve_params((first, last), as_of=max(last.date(), today) if last else today)


def look_up(identity: Identity, customer_id: str) -> PersonReport:
    """The transparency report for one exact identifier (privacy officer and admin); every
    look-up is recorded in the audit trail, the person as a keyed hash."""
    identity.require("view_person")
    with StoreSource(_store()) as source:
        params = report_params(source.date_range())
        report = person_report(Tables.from_source(source), params, customer_id)
    audit.record(
        _store(),
        "look-up",
        {"subject": keyed_hash(require_key(_store()), customer_id), "found": report.found},
        actor=identity.name,
        role=identity.role,
    )
    return report


def identifier_forms(identity: Identity, permission: str) -> list[IdFormat]:
    """The forms customer ids take in the store (each shared by at least k customers), for
    the pages that ask for one (`permission`: theirs); never an identifier itself."""
    identity.require(permission)
    path = _store()
    if not path.exists():
        return []
    with StoreSource(path) as source:
        return id_formats(Tables.from_source(source), default_min_cell())


def record_login(identity: Identity) -> None:
    """Note a sign-in in the audit trail."""
    audit.record(_store(), "login", {}, actor=identity.name, role=identity.role)


def export_report(identity: Identity, report: PersonReport, fmt: str) -> bytes:
    """The report as a file, recorded in the audit trail (generated only when asked)."""
    identity.require("view_person")
    key = require_key(_store())
    audit.record(
        _store(),
        "report",
        {"subject": keyed_hash(key, report.customer_id), "format": fmt, "found": report.found},
        actor=identity.name,
        role=identity.role,
    )
    if fmt == "html":
        return report_html(report).encode("utf-8")
    return json.dumps(report_json(report), indent=2).encode("utf-8")


def forget(
    identity: Identity,
    customer_ids: Sequence[str],
    request_id: str | None,
    *,
    on_wait: Waiting = None,
) -> ErasureResult:
    """Erase people (right to be forgotten) and verify it (privacy officer and admin)."""
    identity.require("erase")
    return erase(
        _store(),
        customer_ids,
        request_id=request_id or None,
        actor=identity.name,
        role=identity.role,
        **_writing("an erasure", on_wait),
    )


def record_export(identity: Identity, name: str, rows: int) -> None:
    """Note in the audit trail that a table of (suppressed) figures was downloaded."""
    identity.require("view_aggregates")
    audit.record(
        _store(), "export", {"table": name, "rows": rows}, actor=identity.name, role=identity.role
    )


def audit_entries(identity: Identity) -> tuple[list[dict[str, Any]], audit.Verdict]:
    """The audit trail and its verification (privacy officer and admin)."""
    identity.require("audit")
    return audit.entries(_store()), audit.verify(_store())


# Importing analysts' extracts (the Upload data page), as `consentlens import` does.


@dataclass(frozen=True)
class Upload:
    """One uploaded file: its name, its bytes, and the mapping chosen for it on the page."""

    name: str
    data: bytes
    mapping: ColumnMapping | None = None

    def extract(self) -> Extract:
        """The file as the importer takes it."""
        table = self.mapping.table if self.mapping else None
        return Extract(self.name, data=self.data, table=table, mapping=self.mapping)


def inspect_upload(
    identity: Identity, name: str, data: bytes, *, table: str | None = None, max_bytes: int
) -> Inspection:
    """Read an uploaded file and propose its table and mapping (a saved one first); writes
    nothing."""
    identity.require("upload")
    extract = Extract(name, data=data, table=table)
    path = _store()
    if not path.exists():
        # No store yet, so no saved mapping either: match by names alone.
        with duckdb.connect() as con:
            return inspect(con, extract, max_bytes=max_bytes)
    with open_store(path, read_only=True) as store:
        return inspect(store.con, extract, max_bytes=max_bytes)


def check_uploads(
    identity: Identity,
    uploads: Sequence[Upload],
    *,
    replace: bool,
    max_bytes: int,
    decided_at: date | None = None,
    on_wait: Waiting = None,
) -> ImportReport:
    """The validation report of importing `uploads` (its valid rows), writing nothing."""
    identity.require("upload")
    # A check compares keys with the store as the import would find it: in the writers' turn.
    with open_store(_store(), **_writing("an upload check", on_wait)) as store:
        return run_import(
            store,
            [u.extract() for u in uploads],
            replace=replace,
            accept_valid=True,
            dry_run=True,
            actor=identity.name,
            max_bytes=max_bytes,
            decided_at=decided_at,
        )


def import_uploads(
    identity: Identity,
    uploads: Sequence[Upload],
    *,
    replace: bool,
    accept_valid: bool,
    max_bytes: int,
    decided_at: date | None = None,
    on_wait: Waiting = None,
) -> ImportReport:
    """Import `uploads` in one recorded transaction: all rows, or with `accept_valid` the
    valid ones; when nothing is written the refusal is recorded in the audit trail."""
    identity.require("upload")
    with open_store(_store(), bulk_load=True, **_writing("an import", on_wait)) as store:
        report = run_import(
            store,
            [u.extract() for u in uploads],
            replace=replace,
            accept_valid=accept_valid,
            dry_run=False,
            actor=identity.name,
            max_bytes=max_bytes,
            decided_at=decided_at,
        )
    outcome = report.outcome
    who = {"actor": identity.name, "role": identity.role}
    if outcome.written:
        history.audit_import(
            _store(),
            outcome.checksums,
            outcome.import_id,
            outcome.rows,
            outcome.rejected,
            replace=replace,
            **who,
        )
    elif report.problems:
        history.audit_refusal(_store(), outcome.checksums, len(report.problems), **who)
    return report


def decline_import(identity: Identity, checked: Outcome) -> None:
    """Record that the files were checked and, having problems, not imported."""
    identity.require("upload")
    history.audit_refusal(
        _store(),
        checked.checksums,
        len(checked.problems),
        actor=identity.name,
        role=identity.role,
    )


def save_mapping(
    identity: Identity,
    headers: Sequence[str],
    mapping: ColumnMapping,
    *,
    on_wait: Waiting = None,
) -> None:
    """Keep `mapping` for the next file with these headers; raises ValueError if it is not
    a valid mapping."""
    identity.require("upload")
    mapping.check()
    writing = _writing("a saved mapping", on_wait)
    with open_store(_store(), **writing) as store, store.transaction() as con:
        mp.save(con, headers, mapping, identity.name)
    audit.record(
        _store(),
        "mapping saved",
        {"table": mapping.table, "columns": len(headers)},
        actor=identity.name,
        role=identity.role,
    )


def import_history(identity: Identity) -> list[ImportRecord]:
    """Every recorded import, newest first (empty when there is no store yet)."""
    identity.require("upload")
    path = _store()
    if not path.exists():
        return []
    with open_store(path, read_only=True) as store:
        try:
            return history.entries(store.con)
        except duckdb.CatalogException:
            return []  # a store made before imports were recorded


def undo_last_import(identity: Identity, *, on_wait: Waiting = None) -> ImportRecord:
    """Remove what the last import wrote (restoring what a replace replaced); raises
    UndoError saying why when it cannot be undone."""
    identity.require("upload")
    with open_store(_store(), **_writing("an undo", on_wait)) as store:
        undone = history.undo_last(store.con)
    history.audit_undo(_store(), undone, actor=identity.name, role=identity.role)
    return undone


def samples_held(identity: Identity) -> templates.SamplesHeld | None:
    """What of the samples the store holds already (None when there is no store yet)."""
    identity.require("upload")
    path = _store()
    if not path.exists():
        return None
    with open_store(path, read_only=True) as store:
        return templates.samples_held(store)


def template_file(identity: Identity, table: str, kind: str) -> bytes:
    """A table's canonical header ("template") or its small synthetic extract ("sample")."""
    identity.require("upload")
    return templates.sample_csv(table) if kind == "sample" else templates.template_csv(table)
