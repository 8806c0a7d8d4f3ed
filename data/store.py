"""The store: one DuckDB file holding the canonical tables, opened locked down."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import ibis
import pyarrow as pa

from data import history
from data.audit import log_path
from data.keys import SUPPRESSION_TABLE, create_key, fingerprint, load_key
from data.schema import TABLE_ORDER, TABLES, timestamp_columns

ENV_VAR = "CONSENTLENS_DB"
DEFAULT_PATH = Path("var") / "consentlens.duckdb"
INFO_TABLE = "store_info"
KEY_TABLE = "store_key"


class StoreError(Exception):
    """A store problem explained in one line for the user."""


class StoreBusyError(StoreError):
    """Another process holds the store file."""


def resolve_path(path: str | os.PathLike[str] | None = None) -> Path:
    """Store path: the argument, else $CONSENTLENS_DB, else var/consentlens.duckdb."""
    chosen = path or os.environ.get(ENV_VAR) or DEFAULT_PATH
    return Path(chosen).expanduser().resolve()


@dataclass
class Store:
    """An open store: a locked-down DuckDB connection and its Ibis backend."""

    path: Path
    con: duckdb.DuckDBPyConnection
    backend: ibis.BaseBackend
    read_only: bool

    def close(self) -> None:
        """Close the connection; the file is released for other processes."""
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One transaction: committed on success, rolled back on any error."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    def row_counts(self) -> dict[str, int]:
        """Number of rows in each canonical table."""
        union = " UNION ALL ".join(
            f"SELECT '{name}', count(*) FROM \"{name}\"" for name in TABLE_ORDER
        )
        return {name: int(n) for name, n in self.con.execute(union).fetchall()}

    def date_range(self) -> tuple[datetime | None, datetime | None]:
        """Earliest and latest timestamp in any timestamp column of the store."""
        parts = " UNION ALL ".join(
            f'SELECT min("{col}") AS lo, max("{col}") AS hi FROM "{table}"'
            for table, col in timestamp_columns()
        )
        [(first, last)] = self.con.execute(f"SELECT min(lo), max(hi) FROM ({parts})").fetchall()
        return first, last

    def info(self) -> dict[str, str]:
        """Facts about where the data came from (source, seed, when written)."""
        rows = self.con.execute(f"SELECT key, value FROM {INFO_TABLE} ORDER BY key").fetchall()
        return dict(rows)

    def replace_all(
        self, tables: Mapping[str, pa.Table], info: Mapping[str, str] | None = None
    ) -> dict[str, int]:
        """Empty every table and load `tables` in one transaction; returns rows written."""
        return self._load(tables, replace=True, info=info)

    def _load(
        self, tables: Mapping[str, pa.Table], *, replace: bool, info: Mapping[str, str] | None
    ) -> dict[str, int]:
        self._require_writable()
        unknown = set(tables) - set(TABLES)
        if unknown:
            raise StoreError(f"not canonical tables: {', '.join(sorted(unknown))}")
        written: dict[str, int] = {}
        with self.transaction() as con:
            if replace:
                for name in reversed(TABLE_ORDER):
                    con.execute(f'DELETE FROM "{name}"')
                con.execute(f"DELETE FROM {INFO_TABLE}")
                history.forget_all(con, "demo data replaced the store since")
            for name in TABLE_ORDER:
                if name not in tables:
                    continue
                arrow = tables[name]
                expected = TABLES[name].column_names
                if arrow.column_names != expected:
                    raise StoreError(f"{name}: columns must be {expected}")
                view = f"_incoming_{name}"
                con.register(view, arrow)
                try:
                    cols = ", ".join(f'"{c}"' for c in expected)
                    con.execute(f'INSERT INTO "{name}" ({cols}) SELECT {cols} FROM "{view}"')
                finally:
                    con.unregister(view)
                written[name] = arrow.num_rows
            self.write_info(info or {})
        return written

    def write_info(self, info: Mapping[str, str]) -> None:
        """Record where the data came from, stamped with the time (inside a transaction)."""
        stamp = {"written_at": datetime.now(UTC).isoformat(timespec="seconds")}
        for key, value in {**stamp, **info}.items():
            self.con.execute(f"DELETE FROM {INFO_TABLE} WHERE key = ?", [key])
            self.con.execute(f"INSERT INTO {INFO_TABLE} VALUES (?, ?)", [key, str(value)])

    def _require_writable(self) -> None:
        if self.read_only:
            raise StoreError(f"{self.path} is open read-only")


def _create_schema(con: duckdb.DuckDBPyConnection) -> None:
    for name in TABLE_ORDER:
        con.execute(TABLES[name].ddl())
    con.execute(f"CREATE TABLE IF NOT EXISTS {INFO_TABLE} (key VARCHAR, value VARCHAR)")
    history.ensure(con)


def _ensure_key(path: Path, con: duckdb.DuckDBPyConnection) -> None:
    """The key beside the store must be the store's own; a new store gets a new one.

    A store whose key has gone missing is refused rather than given a new key: a new key
    would make every erased person's suppression hash unrecognisable.
    """
    con.execute(f"CREATE TABLE IF NOT EXISTS {KEY_TABLE} (fingerprint VARCHAR)")
    recorded = [f for (f,) in con.execute(f"SELECT fingerprint FROM {KEY_TABLE}").fetchall()]
    key = load_key(path)
    if key is None:
        # A store from before keys were recorded shows it had one by its erasures or its
        # audit log, both made with the key.
        [(erased,)] = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [SUPPRESSION_TABLE]
        ).fetchall()
        audited = log_path(path).exists()
        if recorded or erased or audited:
            raise StoreError(
                f"the store's key {path.name}.key is missing beside {path}: restore it from "
                "the backup taken with the store"
            )
        key = create_key(path)
    if not recorded:
        con.execute(f"INSERT INTO {KEY_TABLE} VALUES (?)", [fingerprint(key)])
    elif recorded[0] != fingerprint(key):
        raise StoreError(f"the key beside {path} is not this store's key")


def _explain_open_error(path: Path, error: duckdb.Error) -> StoreError:
    text = str(error)
    if "lock" in text.lower():
        return StoreBusyError(
            f"the store {path} is in use by another ConsentLens process "
            "(a running dashboard or command); stop it or use another --db"
        )
    if "not a valid DuckDB database" in text or "Serialization" in text:
        return StoreError(f"{path} is not a ConsentLens store (not a DuckDB database file)")
    return StoreError(f"cannot open the store {path}: {text.splitlines()[0]}")


def open_store(
    path: str | os.PathLike[str] | None = None,
    *,
    read_only: bool = False,
    create: bool = True,
    bulk_load: bool = False,
) -> Store:
    """Open (creating if needed) the store, locked down to its own folder.

    `bulk_load` lets DuckDB insert in parallel, giving up the insertion order of rows read
    without ORDER BY: for a connection that imports, not one that reports.
    """
    resolved = resolve_path(path)
    if not resolved.exists():
        if read_only or not create:
            raise StoreError(f"no store at {resolved}; run `consentlens demo` or `import` first")
        resolved.parent.mkdir(parents=True, exist_ok=True)
    config = {
        "autoload_known_extensions": False,
        "autoinstall_known_extensions": False,
        "access_mode": "READ_ONLY" if read_only else "READ_WRITE",
        "preserve_insertion_order": not bulk_load,
    }
    try:
        con = duckdb.connect(str(resolved), config=config)
    except duckdb.Error as error:
        raise _explain_open_error(resolved, error) from None
    try:
        # Order matters: allowed_directories can only be set while external access is on,
        # and the Ibis backend sets its session options before the configuration is locked.
        # Only the database's own files (and DuckDB's spill folder): not its key, not its
        # audit log, nothing else in the folder.
        own = [str(resolved), str(resolved) + ".wal"]
        con.execute("SET allowed_paths = ?", [own])
        con.execute("SET allowed_directories = [?]", [str(resolved) + ".tmp" + os.sep])
        backend = ibis.duckdb.from_connection(con)
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        if not read_only:
            _create_schema(con)
            _ensure_key(resolved, con)
    except BaseException:
        con.close()
        raise
    return Store(resolved, con, backend, read_only)
