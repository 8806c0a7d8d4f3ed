"""Every action on the store, for the dashboard's pages and the command line alike.

Each action checks the caller's role, opens the store its one way (readers on the published
copy, writers in the writers' turn, see data/storage/locking.py), writes its audit entry (the
same entry whoever calls it: only the actor and role differ) and raises the errors of
`USER_ERRORS`, whose messages are fit to show as they are. `cli.py` and the pages call these
and only present what comes back.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from consentlens.access import ADMIN, Forbidden, Identity
from data.intake import importer, templates
from data.intake import mapping as mp
from data.intake.importer import Extract, ImportReport, Inspection
from data.intake.ingest import Outcome
from data.intake.mapping import ColumnMapping
from data.intake.problems import Problem
from data.rights.erasure import ErasureError, ErasureResult, erase
from data.storage import audit, facts, history
from data.storage.engines import SourceError, StoreSource, open_source
from data.storage.export import export
from data.storage.history import ImportRecord, UndoError
from data.storage.keys import StoreKeyError, keyed_hash, require_key
from data.storage.store import Store, StoreError, open_store, resolve_path
from metrics.params import Filters, Params, ParamsError, default_min_cell, resolve_params
from metrics.person import IdFormat, PersonReport, id_formats, person_report, report_html
from metrics.person import report_json as person_json
from metrics.report import compute, to_json
from metrics.rules import Tables

__all__ = [
    "USER_ERRORS",
    "ColumnMapping",
    "ErasureError",
    "ImportRecord",
    "ImportReport",
    "Inspection",
    "Problem",
    "Refused",
    "StoreError",
    "Turn",
    "UndoError",
    "Upload",
    "audit_entries",
    "build_facts",
    "check_uploads",
    "command_line",
    "decline_import",
    "demo",
    "export_parquet",
    "export_report",
    "forget",
    "identifier_forms",
    "import_history",
    "import_paths",
    "import_uploads",
    "inspect_upload",
    "look_up",
    "metrics_json",
    "record_export",
    "record_login",
    "samples_held",
    "save_mapping",
    "template_file",
    "undo_last_import",
    "verify_audit",
    "write_templates",
]


class Refused(Exception):
    """What was asked cannot be done as asked (the message says why)."""


# Errors whose message says what went wrong in words a user can act on, with no value of a
# person in them: callers show them as they are (the command line, one line; pages, a box).
USER_ERRORS: tuple[type[Exception], ...] = (
    StoreError,
    StoreKeyError,
    SourceError,
    UndoError,
    ErasureError,
    ParamsError,
    Forbidden,
    Refused,
)

Waiting = Callable[[str], None] | None
Progress = Callable[[str], None] | None


def command_line(user: str) -> Identity:
    """Who runs the command line: the operating-system user, with every permission (they
    hold the store's files anyway)."""
    return Identity(f"cli:{user}", ADMIN, "cli")


@dataclass(frozen=True)
class Turn:
    """How a write waits its turn behind another writer: the name other writers see while it
    holds the store (the command's words, else what it is "from the dashboard"), how long it
    waits at most (None: the default) and whom it tells that it waits."""

    command: str | None = None
    wait: float | None = None
    on_wait: Waiting = None

    def opening(self, what: str) -> dict[str, Any]:
        """How the store is opened for `what` ("an import")."""
        task = self.command or f"{what} from the dashboard"
        return {"task": task, "wait": self.wait, "on_wait": self.on_wait}


DASHBOARD = Turn()


def _path(db: str | Path | None) -> Path:
    return resolve_path(db)


def _record(
    identity: Identity, path: Path, action: str, detail: Mapping[str, Any] | None = None
) -> None:
    audit.record(path, action, detail, actor=identity.name, role=identity.role)


# Writing data: the demo, imports, undo, erasure.


def demo(
    identity: Identity,
    *,
    customers: int,
    seed: int,
    scenario: str,
    memory_limit: str | None = None,
    progress: Progress = None,
    done: Callable[[int, int], None] | None = None,
    turn: Turn = DASHBOARD,
    db: str | Path | None = None,
) -> dict[str, int]:
    """Replace the store's data with a synthetic dataset, generated and written block by
    block (`done` hears the customers written so far and the total); the rows written per
    table."""
    from data.synthetic.generator import SCENARIOS, ahead, generate_chunks

    identity.require("settings")
    if scenario not in SCENARIOS:
        raise Refused(f"unknown scenario {scenario!r}; choose from {', '.join(SCENARIOS)}")
    say = progress or (lambda _: None)
    say(f"generating {customers:,} customers (seed {seed}, {scenario})")
    step = lambda message: say(f"  {message}")  # noqa: E731 - the generator's steps, indented
    chunks = generate_chunks(customers, seed, scenario, progress=step, done=done)
    opened = {"memory_limit": memory_limit} if memory_limit else {}
    with open_store(db, **opened, **turn.opening("demo data")) as store:
        store.progress = say
        say(f"writing to {store.path}, block by block")
        written = store.replace_all(
            ahead(chunks),
            info={
                "source": "demo",
                "seed": str(seed),
                "scenario": scenario,
                "customers": str(customers),
            },
        )
    detail = {"customers": customers, "seed": seed, "scenario": scenario, "rows": written}
    _record(identity, store.path, "demo", detail)
    return written


def _audit_import(identity: Identity, path: Path, report: ImportReport, *, replace: bool) -> None:
    """An import that went in, or files refused: the same entry from every caller (a check
    alone, or an import with nothing to write and no problem, leaves none)."""
    outcome = report.outcome
    if outcome.written:
        detail = {
            "files": outcome.checksums,
            "rows": dict(outcome.rows),
            "mode": "replace" if replace else "append",
            "import_id": outcome.import_id,
            "rejected": outcome.rejected,
        }
        _record(identity, path, "import", detail)
    elif report.problems:
        _record(identity, path, "import refused", _refusal(outcome))


def _refusal(outcome: Outcome) -> dict[str, Any]:
    return {"files": outcome.checksums, "problems": len(outcome.problems)}


def import_paths(
    identity: Identity,
    paths: Sequence[str],
    *,
    table: str | None = None,
    mapping: ColumnMapping | None = None,
    replace: bool = False,
    accept_valid: bool = False,
    dry_run: bool = False,
    max_bytes: int = importer.DEFAULT_MAX_BYTES,
    decided_at: date | None = None,
    progress: Progress = None,
    turn: Turn = DASHBOARD,
    db: str | Path | None = None,
) -> ImportReport:
    """Import files and folders in one recorded transaction (see `importer.import_paths`:
    canonical table files strictly, other extracts mapped); `dry_run` writes nothing."""
    identity.require("upload")
    with open_store(db, bulk_load=True, **turn.opening("an import")) as store:
        report = importer.import_paths(
            store,
            paths,
            table=table,
            mapping=mapping,
            replace=replace,
            accept_valid=accept_valid,
            dry_run=dry_run,
            actor=identity.name,
            max_bytes=max_bytes,
            decided_at=decided_at,
            progress=progress,
        )
        if not dry_run:  # in the writers' turn, as every write's entry is
            _audit_import(identity, store.path, report, replace=replace)
    return report


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
    path = _path(None)
    if not path.exists():
        # No store yet, so no saved mapping either: match by names alone.
        with duckdb.connect() as con:
            return importer.inspect(con, extract, max_bytes=max_bytes)
    with open_store(path, read_only=True) as store:
        return importer.inspect(store.con, extract, max_bytes=max_bytes)


def _import_uploads(
    store: Store,
    identity: Identity,
    uploads: Sequence[Upload],
    *,
    replace: bool,
    accept_valid: bool,
    dry_run: bool,
    max_bytes: int,
    decided_at: date | None,
) -> ImportReport:
    return importer.run_import(
        store,
        [u.extract() for u in uploads],
        replace=replace,
        accept_valid=accept_valid,
        dry_run=dry_run,
        actor=identity.name,
        max_bytes=max_bytes,
        decided_at=decided_at,
    )


def check_uploads(
    identity: Identity,
    uploads: Sequence[Upload],
    *,
    replace: bool,
    max_bytes: int,
    decided_at: date | None = None,
    turn: Turn = DASHBOARD,
) -> ImportReport:
    """The validation report of importing `uploads` (its valid rows), writing nothing."""
    identity.require("upload")
    # A check compares keys with the store as the import would find it: in the writers' turn.
    with open_store(_path(None), **turn.opening("an upload check")) as store:
        return _import_uploads(
            store,
            identity,
            uploads,
            replace=replace,
            accept_valid=True,
            dry_run=True,
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
    turn: Turn = DASHBOARD,
) -> ImportReport:
    """Import `uploads` in one recorded transaction: all rows, or with `accept_valid` the
    valid ones; when nothing is written the refusal is recorded in the audit trail."""
    identity.require("upload")
    with open_store(_path(None), bulk_load=True, **turn.opening("an import")) as store:
        report = _import_uploads(
            store,
            identity,
            uploads,
            replace=replace,
            accept_valid=accept_valid,
            dry_run=False,
            max_bytes=max_bytes,
            decided_at=decided_at,
        )
        _audit_import(identity, store.path, report, replace=replace)
    return report


def decline_import(identity: Identity, checked: Outcome) -> None:
    """Record that the files were checked and, having problems, not imported."""
    identity.require("upload")
    _record(identity, _path(None), "import refused", _refusal(checked))


def save_mapping(
    identity: Identity,
    headers: Sequence[str],
    mapping: ColumnMapping,
    *,
    turn: Turn = DASHBOARD,
) -> None:
    """Keep `mapping` for the next file with these headers; raises ValueError if it is not
    a valid mapping."""
    identity.require("upload")
    mapping.check()
    opening = turn.opening("a saved mapping")
    with open_store(_path(None), **opening) as store, store.transaction() as con:
        mp.save(con, headers, mapping, identity.name)
    detail = {"table": mapping.table, "columns": len(headers)}
    _record(identity, store.path, "mapping saved", detail)


def import_history(
    identity: Identity, *, db: str | Path | None = None, missing_ok: bool = True
) -> list[ImportRecord]:
    """Every recorded import, newest first (empty when there is no store yet, if
    `missing_ok`; else StoreError says there is none)."""
    identity.require("upload")
    path = _path(db)
    if missing_ok and not path.exists():
        return []
    with open_store(path, read_only=True) as store:
        try:
            return history.entries(store.con)
        except duckdb.CatalogException:
            return []  # a store made before imports were recorded


def undo_last_import(
    identity: Identity, *, turn: Turn = DASHBOARD, db: str | Path | None = None
) -> ImportRecord:
    """Remove what the last import wrote (restoring what a replace replaced); raises
    UndoError saying why when it cannot be undone."""
    identity.require("upload")
    with open_store(db, **turn.opening("an undo")) as store:
        undone = history.undo_last(store.con)
        detail = {"import_id": undone.import_id, "rows": undone.rows, "mode": undone.mode}
        _record(identity, store.path, "import undone", detail)
    return undone


def forget(
    identity: Identity,
    customer_ids: Sequence[str],
    request_id: str | None,
    *,
    turn: Turn = DASHBOARD,
    db: str | Path | None = None,
) -> ErasureResult:
    """Erase people (right to be forgotten) and verify it (privacy officer and admin); the
    erasure writes its own audit entries, inside its turn (data/rights/erasure.py)."""
    identity.require("erase")
    return erase(
        _path(db),
        customer_ids,
        request_id=request_id or None,
        actor=identity.name,
        role=identity.role,
        **turn.opening("an erasure"),
    )


# What the store holds about one person.


def report_params(data_range: tuple[datetime | None, datetime | None]) -> Params:
    """Parameters of a transparency report: as of today, or the data's last day if later."""
    first, last = data_range
    today = datetime.now(UTC).date()
    return resolve_params((first, last), as_of=max(last.date(), today) if last else today)


def look_up(identity: Identity, customer_id: str, *, db: str | Path | None = None) -> PersonReport:
    """The transparency report for one exact identifier (privacy officer and admin); every
    look-up is recorded in the audit trail, the person as a keyed hash."""
    identity.require("view_person")
    with StoreSource(db) as source:
        params = report_params(source.date_range())
        report = person_report(Tables.from_source(source), params, customer_id)
        path = source.path
    detail = {"subject": keyed_hash(require_key(path), customer_id), "found": report.found}
    _record(identity, path, "look-up", detail)
    return report


def export_report(
    identity: Identity, report: PersonReport, fmt: str, *, db: str | Path | None = None
) -> bytes:
    """The report as a file (`fmt`: "html" or "json"), recorded in the audit trail."""
    identity.require("view_person")
    path = _path(db)
    subject = keyed_hash(require_key(path), report.customer_id)
    _record(identity, path, "report", {"subject": subject, "format": fmt, "found": report.found})
    if fmt == "html":
        return report_html(report).encode("utf-8")
    return json.dumps(person_json(report), indent=2).encode("utf-8")


def identifier_forms(identity: Identity, permission: str) -> list[IdFormat]:
    """The forms customer ids take in the store (each shared by at least k customers), for
    the pages that ask for one (`permission`: theirs); never an identifier itself."""
    identity.require(permission)
    path = _path(None)
    if not path.exists():
        return []
    with StoreSource(path) as source:
        return id_formats(Tables.from_source(source), default_min_cell())


# Figures and their exports.


def metrics_json(
    identity: Identity,
    *,
    db: str | Path | None = None,
    source: str | None = None,
    engine: str = "duckdb",
    spark_master: str | None = None,
    as_of: date | None = None,
    start: date | None = None,
    end: date | None = None,
    min_cell: int | None = None,
    marketing_purposes: tuple[str, ...] | None = None,
    filters: Filters | None = None,
    currency: str | None = None,
) -> dict[str, Any]:
    """The metrics JSON of the spec, from the store or a Parquet folder (`source`)."""
    identity.require("view_aggregates")
    with open_source(db, source=source, engine=engine, spark_master=spark_master) as data:
        params = resolve_params(
            data.date_range(),
            as_of=as_of,
            start=start,
            end=end,
            min_cell=min_cell if min_cell is not None else default_min_cell(),
            marketing_purposes=marketing_purposes,
            filters=filters or Filters(),
        )
        if currency:
            params = replace(params, currency=currency.strip().upper())
        return to_json(compute(Tables.from_source(data), params))


def record_export(
    identity: Identity, name: str, rows: int, *, db: str | Path | None = None
) -> None:
    """Note in the audit trail of the store read (`db`) that a table of (suppressed) figures
    was downloaded."""
    identity.require("view_aggregates")
    _record(identity, _path(db), "export", {"table": name, "rows": rows})


def export_parquet(
    identity: Identity,
    folder: str | Path,
    *,
    progress: Callable[[str, int], None] | None = None,
    turn: Turn = DASHBOARD,
    db: str | Path | None = None,
) -> dict[str, int]:
    """Write the store's canonical tables as Parquet, one file per table (rows per table);
    recorded in the audit trail, since the files hold people's data."""
    identity.require("settings")
    path = _path(db)
    written = export(path, folder, progress=progress, **turn.opening("an export"))
    detail = {"tables": len(written), "rows": sum(written.values())}
    _record(identity, path, "parquet export", detail)
    return written


def build_facts(
    identity: Identity,
    folder: str | Path,
    *,
    engine: str = "duckdb",
    spark_master: str | None = None,
    progress: Progress = None,
) -> dict[str, int]:
    """Build the fact tables of a Parquet folder into its `_facts/` (rows per fact table)."""
    identity.require("settings")
    with open_source(source=str(folder), engine=engine, spark_master=spark_master) as data:
        return data.write_facts(progress=progress)


def refresh_facts(
    identity: Identity, *, turn: Turn = DASHBOARD, db: str | Path | None = None
) -> bool:
    """Bring the store's facts up to date in a writer's turn (after an upgrade that changed
    their definition, or a write that was stopped before them); returns whether anything had
    to be done. Until then readers compute from the canonical tables, correct but slower."""
    identity.require("settings")
    with open_store(db, **turn.opening("a facts rebuild")) as store:
        return facts.refresh(store.con, store.backend)


# The audit trail, sign-ins, templates.


def audit_entries(
    identity: Identity, *, db: str | Path | None = None
) -> tuple[list[dict[str, Any]], audit.Verdict]:
    """The audit trail and its verification (privacy officer and admin)."""
    identity.require("audit")
    path = _path(db)
    return audit.entries(path), audit.verify(path)


def verify_audit(identity: Identity, *, db: str | Path | None = None) -> audit.Verdict:
    """Whether the audit trail is intact: its chain and its head."""
    identity.require("audit")
    return audit.verify(_path(db))


def record_login(identity: Identity) -> None:
    """Note a sign-in in the audit trail."""
    _record(identity, _path(None), "login")


def samples_held(identity: Identity) -> templates.SamplesHeld | None:
    """What of the samples the store holds already (None when there is no store yet)."""
    identity.require("upload")
    path = _path(None)
    if not path.exists():
        return None
    with open_store(path, read_only=True) as store:
        return templates.samples_held(store)


def template_file(identity: Identity, table: str, kind: str) -> bytes:
    """A table's canonical header ("template") or its small synthetic extract ("sample")."""
    identity.require("upload")
    return templates.sample_csv(table) if kind == "sample" else templates.template_csv(table)


def write_templates(identity: Identity, folder: str | Path) -> list[Path]:
    """Write every table's template and sample extract into `folder`."""
    identity.require("upload")
    return templates.write_templates(Path(folder))
