"""The record of imports: who imported which files when, what each wrote, and undoing the last.

Every row an import writes carries its import id (schema.IMPORT_ID), so undoing an append
deletes exactly those rows. A replace first moves the rows it replaces into `_replaced_*`
tables, which undoing it moves back; only the last import can be undone, so those tables are
dropped by the next import. An erasure drops them too (they may hold the person) and the
import before it can then no longer be undone. Functions here run inside the caller's
transaction where they write.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from data.storage import audit, facts
from data.storage.schema import IMPORT_ID, TABLE_ORDER
from data.storage.transaction import transaction

IMPORTS_TABLE = "imports"
REPLACED_PREFIX = "_replaced_"
IMPORTS_DDL = f"""CREATE TABLE IF NOT EXISTS {IMPORTS_TABLE} (
  import_id INTEGER,
  imported_at TIMESTAMP,
  actor VARCHAR,
  mode VARCHAR,
  files VARCHAR,
  rows VARCHAR,
  undoable BOOLEAN,
  undone_at TIMESTAMP,
  note VARCHAR
)"""


@dataclass(frozen=True)
class ImportRecord:
    """One recorded import: files as dicts of name, sha256, bytes, rows read and accepted."""

    import_id: int
    imported_at: datetime
    actor: str
    mode: str  # "append" or "replace"
    files: list[dict[str, Any]]
    rows: dict[str, int]
    undoable: bool
    undone_at: datetime | None
    note: str

    @property
    def total_rows(self) -> int:
        """Rows the import wrote, all tables together."""
        return sum(self.rows.values())


def per_table(rows: Mapping[str, int], empty: str = "no rows") -> str:
    """Rows per table as people read them: "customers 1,200, consent_events 3,400"."""
    return ", ".join(f"{table} {n:,}" for table, n in rows.items()) or empty


class UndoError(Exception):
    """The last import cannot be undone; the message says why."""


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    """Create the imports table and give stores made before it the import-id column."""
    con.execute(IMPORTS_DDL)
    have = {
        table
        for (table,) in con.execute(
            "SELECT table_name FROM duckdb_columns() WHERE column_name = ? "
            "AND schema_name = 'main'",
            [IMPORT_ID],
        ).fetchall()
    }
    for name in TABLE_ORDER:
        if name not in have:
            con.execute(f'ALTER TABLE "{name}" ADD COLUMN "{IMPORT_ID}" INTEGER')


def next_id(con: duckdb.DuckDBPyConnection) -> int:
    """The id the next import gets."""
    [(last,)] = con.execute(f"SELECT max(import_id) FROM {IMPORTS_TABLE}").fetchall()
    return int(last or 0) + 1


def replaced_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The `_replaced_*` tables an undoable replace set aside."""
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' "
        "AND starts_with(table_name, ?)",
        [REPLACED_PREFIX],
    ).fetchall()
    return [name for (name,) in rows]


def drop_replaced(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the rows a replace set aside: the import that replaced them can no longer be undone."""
    for name in replaced_tables(con):
        con.execute(f'DROP TABLE "{name}"')
    con.execute(
        f"UPDATE {IMPORTS_TABLE} SET undoable = false, note = ? "
        "WHERE undoable AND mode = 'replace'",
        ["the rows it replaced are gone"],
    )


def begin(con: duckdb.DuckDBPyConnection, *, replace: bool) -> int:
    """Prepare for a new import: only it will be undoable; a replace sets the old rows aside."""
    forget_all(con, "only the last import can be undone")
    if replace:
        for name in TABLE_ORDER:
            con.execute(f'CREATE TABLE "{REPLACED_PREFIX}{name}" AS SELECT * FROM "{name}"')
        for name in reversed(TABLE_ORDER):
            con.execute(f'DELETE FROM "{name}"')
    return next_id(con)


def record(
    con: duckdb.DuckDBPyConnection,
    import_id: int,
    *,
    actor: str,
    replace: bool,
    files: Sequence[Mapping[str, Any]],
    rows: Mapping[str, int],
) -> None:
    """Record an import that wrote `rows` (inside its transaction)."""
    con.execute(
        f"INSERT INTO {IMPORTS_TABLE} VALUES (?, ?, ?, ?, ?, ?, true, NULL, '')",
        [
            import_id,
            datetime.now(UTC).replace(tzinfo=None),
            actor,
            "replace" if replace else "append",
            json.dumps(list(files)),
            json.dumps(dict(rows)),
        ],
    )


def entries(con: duckdb.DuckDBPyConnection) -> list[ImportRecord]:
    """Every recorded import, newest first."""
    rows = con.execute(
        f"SELECT import_id, imported_at, actor, mode, files, rows, undoable, undone_at, "
        f"coalesce(note, '') FROM {IMPORTS_TABLE} ORDER BY import_id DESC"
    ).fetchall()
    return [
        ImportRecord(
            int(i),
            at,
            actor or "",
            mode,
            json.loads(files),
            json.loads(written),
            bool(u),
            undone,
            n,
        )
        for i, at, actor, mode, files, written, u, undone, n in rows
    ]


def undo_last(con: duckdb.DuckDBPyConnection) -> ImportRecord:
    """Remove what the last import wrote (and restore what it replaced); in one transaction."""
    records = entries(con)
    live = [r for r in records if r.undone_at is None]
    if not live:
        raise UndoError("there is no import to undo")
    last = live[0]
    if not last.undoable:
        reason = last.note or "a later change to the store (demo data or an erasure)"
        raise UndoError(f"import {last.import_id} can no longer be undone: {reason}")
    with transaction(con):
        if last.mode == "replace":
            facts.changed(con)
            for name in reversed(TABLE_ORDER):
                con.execute(f'DELETE FROM "{name}"')
            for name in TABLE_ORDER:
                con.execute(f'INSERT INTO "{name}" SELECT * FROM "{REPLACED_PREFIX}{name}"')
                con.execute(f'DROP TABLE "{REPLACED_PREFIX}{name}"')
        else:
            facts.changed_by_import(con, last.import_id)  # before its rows are gone
            for name in reversed(TABLE_ORDER):
                con.execute(f'DELETE FROM "{name}" WHERE "{IMPORT_ID}" = ?', [last.import_id])
        con.execute(
            f"UPDATE {IMPORTS_TABLE} SET undoable = false, undone_at = ? WHERE import_id = ?",
            [datetime.now(UTC).replace(tzinfo=None), last.import_id],
        )
    return last


def forget_all(con: duckdb.DuckDBPyConnection, note: str) -> None:
    """Nothing recorded so far can be undone any more (`note` says why): after demo data
    replaced everything, or when a new import begins."""
    drop_replaced(con)
    con.execute(f"UPDATE {IMPORTS_TABLE} SET undoable = false, note = ? WHERE undoable", [note])


# The audit trail of imports: files by name and checksum, counts, never a value.


def audit_import(
    store_path: Path,
    checksums: Mapping[str, str],
    import_id: int | None,
    rows: Mapping[str, int],
    rejected: int,
    *,
    replace: bool,
    actor: str,
    role: str = "admin",
) -> None:
    """The audit entry of an import that went in."""
    detail = {
        "files": dict(checksums),
        "rows": dict(rows),
        "mode": "replace" if replace else "append",
        "import_id": import_id,
        "rejected": rejected,
    }
    audit.record(store_path, "import", detail, actor=actor, role=role)


def audit_refusal(
    store_path: Path,
    checksums: Mapping[str, str],
    problems: int,
    *,
    actor: str,
    role: str = "admin",
) -> None:
    """The audit entry of files checked and not imported."""
    detail = {"files": dict(checksums), "problems": problems}
    audit.record(store_path, "import refused", detail, actor=actor, role=role)


def audit_undo(store_path: Path, undone: ImportRecord, *, actor: str, role: str = "admin") -> None:
    """The audit entry of an import taken back out."""
    detail = {"import_id": undone.import_id, "rows": undone.rows, "mode": undone.mode}
    audit.record(store_path, "import undone", detail, actor=actor, role=role)
