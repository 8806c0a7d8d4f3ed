"""The engine boundary: where the canonical tables are read from and what evaluates them.

Pages, the command line and the metrics ask a `Source` for the canonical tables (as Ibis
expressions), their row counts, date range and provenance, and for an intermediate result
materialised once for several queries. Three sources implement it:

- the DuckDB store (its published copy for readers, see data/storage/snapshots.py);
- a folder of Parquet files (as `consentlens export` writes them) on DuckDB in process;
- the same folder on Apache Spark through Ibis's PySpark backend (the `spark` extra).

The metric definitions are Ibis expressions and never see which one they run on; what an
engine does its own way (materialising, reading files, session settings) lives here.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from data.storage import schema
from data.storage.errors import StoreError

ENGINES: tuple[str, ...] = ("duckdb", "spark")
PROVENANCE_FILE = "_consentlens.json"  # what an export records about where it came from
FACTS_FOLDER = "_facts"  # the facts `consentlens facts` built for a Parquet folder
FACTS_RECORD = "_facts.json"  # in it: their definition and the files they were built from

__all__ = [
    "ENGINES",
    "EngineError",
    "ParquetSource",
    "Source",
    "SourceError",
    "StoreSource",
    "open_source",
]


class EngineError(StoreError):
    """A source or engine that cannot be used as asked (said in one line, no traceback)."""


class SourceError(EngineError):
    """A source that cannot be read as asked: options that do not go together, or a folder
    whose files are not the canonical tables (rejected input: each problem names the file,
    the column and the reason, never a value)."""


class Source(ABC):
    """Canonical tables on one engine: what every reader of the data asks for."""

    backend: ibis.BaseBackend
    description: str  # how messages name this source
    # Names the data read: two reads of one version give the same figures (None: unknown).
    version: str | None = None

    @abstractmethod
    def table(self, name: str) -> ir.Table:
        """The canonical table `name`, its canonical columns only."""

    @abstractmethod
    def info(self) -> dict[str, str]:
        """Where the data came from (source, seed, when written), as recorded with it."""

    def facts(self) -> dict[str, ir.Table]:
        """The fact tables of data/storage/facts.py built for this data, by name (none: the figures
        are computed from the canonical tables)."""
        return {}

    @abstractmethod
    def materialized(self, expr: ir.Table) -> AbstractContextManager[ir.Table]:
        """`expr` computed once, as a table later queries read; dropped afterwards."""

    @abstractmethod
    def close(self) -> None:
        """End the read (the source cannot be used afterwards)."""

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def row_counts(self) -> dict[str, int]:
        """Number of rows in each canonical table (one query)."""
        return row_counts(self.table)

    def date_range(self) -> tuple[datetime | None, datetime | None]:
        """Earliest and latest timestamp in any timestamp column (one query)."""
        return date_range(self.table)


def row_counts(table: Callable[[str], ir.Table]) -> dict[str, int]:
    """Number of rows in each canonical table, `table(name)` giving the table (one query)."""
    parts = [
        table(name).aggregate(n=ibis._.count()).mutate(table=ibis.literal(name))
        for name in schema.TABLE_ORDER
    ]
    rows = ibis.union(*parts).to_pyarrow().to_pylist()
    counts = {row["table"]: int(row["n"]) for row in rows}
    return {name: counts.get(name, 0) for name in schema.TABLE_ORDER}


def date_range(table: Callable[[str], ir.Table]) -> tuple[datetime | None, datetime | None]:
    """Earliest and latest timestamp in any timestamp column of the canonical tables."""
    parts = []
    for name, column in schema.timestamp_columns():
        ts = table(name)[column]
        parts.append(table(name).aggregate(lo=ts.min(), hi=ts.max()))
    both = ibis.union(*parts)
    row = both.aggregate(lo=both.lo.min(), hi=both.hi.max()).to_pyarrow().to_pylist()[0]
    return _naive(row["lo"]), _naive(row["hi"])


def _naive(value: Any) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=None) if value.tzinfo is not None else value


def canonical_columns(table: ir.Table, name: str) -> ir.Table:
    """The canonical columns of `table` in canonical order (the store also tags rows with
    their import batch)."""
    return table.select(*schema.TABLES[name].column_names)


def arrow_schema(name: str) -> pa.Schema:
    """The Parquet schema of a canonical table: timestamps in UTC, revenue as decimal."""
    types = {
        "string": pa.string(),
        "timestamp": pa.timestamp("us", tz="UTC"),
        "boolean": pa.bool_(),
        "decimal(18,4)": pa.decimal128(18, 4),
    }
    return pa.schema(
        [pa.field(c.name, types[schema.IBIS_TYPE[c.kind]]) for c in schema.TABLES[name].columns]
    )


class StoreSource(Source):
    """The DuckDB store, read through its published copy."""

    def __init__(self, path: str | os.PathLike[str] | None = None, **read: Any) -> None:
        from data.storage.store import open_store

        self._store = open_store(path, read_only=True, **read)
        self.backend = self._store.backend
        self.path = self._store.path
        self.description = f"the store {self.path}"
        self.version = f"{self.path}:{self._store.version}"

    def table(self, name: str) -> ir.Table:
        return canonical_columns(self.backend.table(name), name)

    def info(self) -> dict[str, str]:
        # Whether generated rows are in the store now, read from what it holds.
        return self._store.info() | {"synthetic": "yes" if self._store.synthetic() else "no"}

    def facts(self) -> dict[str, ir.Table]:
        from data.storage import facts

        if not facts.current(self._store.con):
            return {}
        return {name: self.backend.table(name) for name in facts.FACT_TABLES}

    @contextmanager
    def materialized(self, expr: ir.Table) -> Iterator[ir.Table]:
        yield from _duckdb_temp_table(self.backend, expr)

    def batches(self, name: str, rows: int) -> pa.RecordBatchReader:
        """The canonical table `name` streamed in batches of `rows` (DuckDB's own reader:
        Ibis 12's calls a method DuckDB 2 renamed)."""
        sql = ibis.to_sql(self.table(name), dialect="duckdb")
        return self._store.con.sql(str(sql)).to_arrow_reader(rows)

    def close(self) -> None:
        self._store.close()


def _duckdb_temp_table(backend: ibis.BaseBackend, expr: ir.Table) -> Iterator[ir.Table]:
    name = f"_intermediate_{uuid.uuid4().hex}"
    table = backend.create_table(name, expr, temp=True)
    try:
        yield table
    finally:
        # Not backend.drop_table: with sqlglot 30 Ibis 12 renders it without the name.
        backend.raw_sql(f'DROP TABLE IF EXISTS "{name}"')


class ParquetSource(Source):
    """A folder of Parquet files, one per canonical table (`customers.parquet`, or a folder
    `customers/` of parts), as `consentlens export` writes them, on DuckDB or Spark.

    Columns are read by name and cast to their canonical types; a missing required table or
    column is said as such. The optional `sharing` table may be absent (read as empty).
    """

    def __init__(
        self, folder: str | os.PathLike[str], engine: str = "duckdb", **options: Any
    ) -> None:
        self.folder = Path(folder).expanduser().resolve()
        self.description = f"the Parquet folder {self.folder}"
        if not self.folder.is_dir():
            raise EngineError(f"no folder at {self.folder} (--source names a folder of Parquet)")
        if engine not in ENGINES:
            raise EngineError(f"unknown engine {engine!r}: one of {', '.join(ENGINES)}")
        self.engine = engine
        self._files = located(self.folder)
        # The files as this read found them: the facts used must be of these.
        self._fingerprint = fingerprint(self.folder, self._files)
        self.version = f"{self.folder}:{folder_version(self.folder, self._fingerprint)}:{engine}"
        if engine == "spark":
            from data.storage import spark

            self.backend, self._session = spark.connect(**options)
        else:
            self.backend = _duckdb_for_folder(self.folder)
        self._tables: dict[str, ir.Table] = {}
        self._views: list[str] = []
        try:
            for name in schema.TABLE_ORDER:
                self._tables[name] = self._read(name)
        except BaseException:
            self.close()
            raise

    def _read(self, name: str) -> ir.Table:
        path = self._files[name]
        target = schema.TABLES[name]
        if path is None:
            # Absent optional table: empty, as the export would have written it.
            return _canonical(ibis.memtable(arrow_schema(name).empty_table()), name)
        table_name = f"{name}_{uuid.uuid4().hex[:8]}"
        self._views.append(table_name)
        try:
            if self.engine == "spark":
                raw = self.backend.read_parquet(str(path), table_name=table_name)
            else:
                files = str(path / "*.parquet") if path.is_dir() else str(path)
                raw = self.backend.read_parquet(files, table_name=table_name)
        except Exception as error:  # each engine has its own errors for an unreadable file
            raise SourceError(f"{path}: not readable as Parquet ({type(error).__name__})") from None
        missing = [c.name for c in target.columns if c.required and c.name not in raw.columns]
        if missing:
            required = [c.name for c in target.columns if c.required]
            raise SourceError(
                f"{path}: column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                f"missing (the {name} table needs {', '.join(required)})"
            )
        # An optional column may be absent, as in an import: it reads as empty.
        absent = {
            c.name: ibis.null(schema.IBIS_TYPE[c.kind])
            for c in target.columns
            if c.name not in raw.columns
        }
        raw = raw.mutate(**absent) if absent else raw
        _check_types(raw, name, path)
        return _canonical(raw, name)

    def table(self, name: str) -> ir.Table:
        return self._tables[name]

    def facts(self) -> dict[str, ir.Table]:
        """The facts in `_facts/` when they were built by today's definitions from the files
        as they are now (else none: the figures come from the canonical tables)."""
        from data.storage import facts

        folder = self.folder / FACTS_FOLDER
        try:
            record = json.loads((folder / FACTS_RECORD).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(record, dict) or record.get("definition") != facts.DEFINITION:
            return {}
        if record.get("data") != self._fingerprint:
            return {}
        found = {name: _parquet(folder, name) for name in facts.FACT_TABLES}
        if any(path is None for path in found.values()):
            return {}
        out = {}
        for name, path in found.items():
            table_name = f"{name}_{uuid.uuid4().hex[:8]}"
            self._views.append(table_name)
            files = path if self.engine == "spark" or path.is_file() else path / "*.parquet"
            out[name] = self.backend.read_parquet(str(files), table_name=table_name)
        return out

    def write_facts(self, progress: Callable[[str], None] | None = None) -> dict[str, int]:
        """Build every fact from this folder's canonical tables on this source's engine and
        write them to `_facts/` (replacing what was there once all are written); returns
        the rows of each."""
        from data.storage import facts

        before = fingerprint(self.folder, self._files)
        final = self.folder / FACTS_FOLDER
        partial = self.folder / f".{FACTS_FOLDER}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        rows: dict[str, int] = {}
        try:
            for name, expr in facts.definitions(self.table).items():
                if progress:
                    progress(name)
                if self.engine == "spark":
                    self.backend.to_parquet(expr, partial / name)
                else:
                    self.backend.to_parquet(expr, partial / f"{name}.parquet")
            if fingerprint(self.folder, self._files) != before:
                raise SourceError(
                    f"{self.folder}: the Parquet files changed while facts were built"
                )
            record = {"definition": facts.DEFINITION, "data": before, "engine": self.engine}
            (partial / FACTS_RECORD).write_text(json.dumps(record, indent=2) + "\n", "utf-8")
            shutil.rmtree(final, ignore_errors=True)
            partial.rename(final)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        for name, table in self.facts().items():
            rows[name] = int(table.count().to_pyarrow().as_py())
        return rows

    def info(self) -> dict[str, str]:
        recorded: dict[str, str] = {}
        path = self.folder / PROVENANCE_FILE
        if path.is_file():
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                loaded = {}
            if isinstance(loaded, dict):
                recorded = {str(k): str(v) for k, v in loaded.items()}
        recorded.setdefault("source", "Parquet")
        return recorded | {"read_from": f"{self.folder.name} on {self.engine}"}

    @contextmanager
    def materialized(self, expr: ir.Table) -> Iterator[ir.Table]:
        if self.engine == "spark":
            from data.storage import spark

            yield from spark.cached(self.backend, self._session, expr)
        else:
            yield from _duckdb_temp_table(self.backend, expr)

    def close(self) -> None:
        if self.engine == "duckdb":
            self.backend.disconnect()
            return
        # The Spark session serves the whole process: only this source's views go.
        for view in self._views:
            self._session.catalog.dropTempView(view)


def _parquet(folder: Path, name: str) -> Path | None:
    """`name.parquet` in `folder`, or its folder `name/` of Parquet parts; None if neither."""
    single, parts = folder / f"{name}.parquet", folder / name
    if single.is_file():
        return single
    return parts if parts.is_dir() and any(parts.glob("*.parquet")) else None


def _locate(folder: Path, name: str) -> Path | None:
    found = _parquet(folder, name)
    if found is not None or schema.TABLES[name].optional:
        return found
        return None
    raise EngineError(
        f"{folder}: no {name}.parquet (nor a folder {name}/ of Parquet files); "
        "`consentlens export DIR` writes every table"
    )


def located(folder: Path) -> dict[str, Path | None]:
    """Each canonical table's file (or folder of parts) in `folder`; None for an absent
    optional table."""
    return {name: _locate(folder, name) for name in schema.TABLE_ORDER}


def fingerprint(folder: Path, files: dict[str, Path | None] | None = None) -> str:
    """What a Parquet folder's canonical files are now (names, sizes, modification times):
    facts built from other files are not of this data."""
    entries = []
    for path in (files if files is not None else located(folder)).values():
        if path is None:
            continue
        parts = sorted(path.glob("*.parquet")) if path.is_dir() else [path]
        for part in parts:
            stat = part.stat()
            entries.append(f"{part.relative_to(folder)}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("\n".join(entries).encode()).hexdigest()


def folder_version(folder: Path, files: str | None = None) -> str:
    """Changes whenever what a read of the folder sees does: its files (their `fingerprint`,
    computed here unless given) or its facts."""
    record = folder / FACTS_FOLDER / FACTS_RECORD
    built = record.stat().st_mtime_ns if record.is_file() else 0
    return f"{(files or fingerprint(folder))[:16]}-{built}"


def _check_types(raw: ir.Table, name: str, path: Path) -> None:
    """Values that will not convert to their column's canonical type, said per column.

    Only columns stored with another kind of type are checked (an export's are not): text
    where a timestamp, a number or a boolean belongs, and the like."""
    checks = {}
    for column in schema.TABLES[name].columns:
        wanted = ibis.dtype(schema.IBIS_TYPE[column.kind])
        have = raw[column.name].type()
        same = (have.is_timestamp() and wanted.is_timestamp()) or (
            have.is_numeric() and wanted.is_numeric()
        )
        if have == wanted or same:
            continue
        value = raw[column.name]
        checks[column.name] = (value.notnull() & value.try_cast(wanted).isnull()).sum()
    if not checks:
        return
    try:
        bad = raw.aggregate(**checks).to_pyarrow().to_pylist()[0]
    except Exception as error:  # the engine could not compare at all
        raise SourceError(f"{path}: not readable as Parquet ({type(error).__name__})") from None
    problems = [
        f"{path}, column {c}: {n:,} value(s) are not {schema.IBIS_TYPE[k]}"
        for c, n, k in ((c, bad[c] or 0, schema.TABLES[name].column(c).kind) for c in checks)
        if n
    ]
    if problems:
        raise SourceError("\n".join(problems))


def _canonical(raw: ir.Table, name: str) -> ir.Table:
    """The canonical columns of a table read from files, cast to their canonical types
    (timestamps as the store keeps them: UTC, without a zone), with what an empty value
    means where the spec says (as the import stores it; a test holds the two together):
    false for a boolean, `unknown` for a segment, and a request's status from whether it was
    completed."""
    columns = {
        c.name: raw[c.name].cast(schema.IBIS_TYPE[c.kind]) for c in schema.TABLES[name].columns
    }
    for column in schema.TABLES[name].columns:
        if column.kind is schema.Kind.BOOLEAN:
            columns[column.name] = columns[column.name].fill_null(False)
    if name == "customers":
        columns["segment"] = columns["segment"].fill_null(schema.SEGMENT_UNKNOWN)
    if name == "privacy_requests":
        derived = ibis.ifelse(columns["completed_at"].notnull(), schema.COMPLETED, schema.OPEN)
        columns["status"] = columns["status"].fill_null(derived)
    return raw.select(**columns)


def _duckdb_for_folder(folder: Path) -> ibis.BaseBackend:
    """An in-memory DuckDB that may read `folder` and nothing else, in UTC."""
    import duckdb

    con = duckdb.connect(
        config={"autoload_known_extensions": False, "autoinstall_known_extensions": False}
    )
    try:
        con.execute("SET allowed_directories = [?]", [str(folder) + os.sep])
        backend = ibis.duckdb.from_connection(con)
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return backend


def open_source(
    db: str | os.PathLike[str] | None = None,
    *,
    source: str | os.PathLike[str] | None = None,
    engine: str = "duckdb",
    spark_master: str | None = None,
    **read: Any,
) -> Source:
    """The store at `db` (on DuckDB), or the Parquet folder `source` on `engine`."""
    if source is None:
        if engine != "duckdb" or spark_master:
            raise SourceError(
                "the store is read on DuckDB: --engine spark and --spark-master need "
                "--source DIR (a folder `consentlens export DIR` wrote)"
            )
        return StoreSource(db, **read)
    options = {"master": spark_master} if spark_master else {}
    if spark_master and engine != "spark":
        raise SourceError("--spark-master goes with --engine spark")
    return ParquetSource(source, engine, **options)
