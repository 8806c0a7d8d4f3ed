"""`consentlens export DIR`: the store's canonical tables as Parquet, one file per table.

What the engines of data/storage/engines.py read as a Parquet source (spec section 9): column names
and types as in the store, timestamps marked as UTC. Each file is written beside its final
name and moved into place, so a reader sees an old file or a new one, never half of one;
`_consentlens.json` records where the data came from.

An export holds personal data, so the store remembers every folder it wrote (in
`<store>.exports`, before the first file is written) and an erasure removes the erased
people from each, as it did in the store (spec section 7), then reads them back to prove it.
Exports take the writer lock: an erasure cannot pass between reading the store and writing
the files.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from data.storage import schema, snapshots
from data.storage.engines import FACTS_FOLDER, PROVENANCE_FILE, StoreSource, arrow_schema
from data.storage.errors import StoreError
from data.storage.keys import write_noise_key
from data.storage.store import writing

ROW_GROUP = 1_000_000


def registry(store: Path) -> Path:
    """The file listing the folders exported from the store at `store`."""
    return store.with_name(store.name + ".exports")


def exported_folders(store: Path) -> list[Path]:
    """The folders exported from the store that still hold an export of it."""
    try:
        lines = registry(store).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    return [Path(line) for line in dict.fromkeys(lines) if _holds_export(Path(line), store)]


def _holds_export(folder: Path, store: Path) -> bool:
    try:
        recorded = json.loads((folder / PROVENANCE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(recorded, dict) and recorded.get("exported_from") == str(store)


def files(store: Path) -> list[Path]:
    """Every file of every export of the store (what an erasure's proof scans too)."""
    return [
        path
        for folder in exported_folders(store)
        for name in schema.TABLE_ORDER
        if (path := folder / f"{name}.parquet").is_file()
    ]


def export(
    store: Path,
    folder: str | os.PathLike[str],
    *,
    task: str = "an export",
    wait: float | None = None,
    on_wait: Callable[[str], None] | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Write the store's canonical tables into `folder` (created if needed) as Parquet;
    returns the rows written per table."""
    if not store.is_file():
        raise StoreError(f"no store at {store}; run `consentlens demo` or `import` first")
    target = Path(folder).expanduser().resolve()
    if target.exists() and not target.is_dir():
        raise StoreError(f"{target} is a file; export writes into a folder")
    with writing(store, task=task, wait=wait, on_wait=on_wait):
        # Read the store as it is (a writer killed before publishing leaves the readers'
        # copy behind it), and list the folder before the first file is written: an export
        # that fails half-way is still one an erasure must reach.
        snapshots.publish(store)
        target.mkdir(parents=True, exist_ok=True)
        _provenance(store, target, {})
        known = registry(store)
        listed = known.read_text(encoding="utf-8").splitlines() if known.exists() else []
        if str(target) not in listed:
            with known.open("a", encoding="utf-8") as handle:
                handle.write(f"{target}\n")
        return _write(store, target, progress)


def forget(store: Path, customer_ids: Sequence[str]) -> list[Path]:
    """Remove erased people from every export of the store, as the erasure did in the store
    (rows deleted; orders and privacy requests kept with customer_id null); forget folders
    that no longer hold an export. The caller holds the writer lock. Returns the exports."""
    folders = exported_folders(store)
    ids = pa.array(sorted(set(customer_ids)), pa.string())
    for folder in folders:
        # Facts built there (`consentlens facts`) are of the data before the erasure: they
        # go, and the folder is read from its canonical tables until they are built again.
        shutil.rmtree(folder / FACTS_FOLDER, ignore_errors=True)
        for name in schema.TABLE_ORDER:
            path = folder / f"{name}.parquet"
            if path.is_file() and _holds(path, ids):
                _rewrite_without(path, name, ids)
    known = registry(store)
    if known.exists():
        if folders:
            _replace_text(known, "".join(f"{f}\n" for f in folders))
        else:
            known.unlink()
    return folders


def still_holding(store: Path, customer_ids: Sequence[str]) -> list[str]:
    """The export files of the store that still hold a row of these people (read back:
    Parquet compresses, so a byte scan cannot see into them)."""
    ids = pa.array(sorted(set(customer_ids)), pa.string())
    facts = [
        path
        for folder in exported_folders(store)
        for path in sorted((folder / FACTS_FOLDER).rglob("*.parquet"))
    ]
    return [str(path) for path in [*files(store), *facts] if _holds(path, ids)]


def _holds(path: Path, ids: pa.Array) -> bool:
    reader = pq.ParquetFile(path)
    for batch in reader.iter_batches(columns=["customer_id"], batch_size=ROW_GROUP):
        if pc.any(pc.is_in(batch.column(0), value_set=ids)).as_py():
            return True
    return False


def _rewrite_without(path: Path, name: str, ids: pa.Array) -> None:
    partial = path.with_name(f".{path.name}.partial")
    reader = pq.ParquetFile(path)
    try:
        with pq.ParquetWriter(partial, reader.schema_arrow, compression="zstd") as writer:
            for batch in reader.iter_batches(batch_size=ROW_GROUP):
                table = pa.Table.from_batches([batch])
                theirs = pc.fill_null(pc.is_in(table.column("customer_id"), value_set=ids), False)
                if name in schema.ERASURE_DELETES:
                    table = table.filter(pc.invert(theirs))
                else:
                    kept = pc.if_else(theirs, pa.scalar(None, pa.string()), table["customer_id"])
                    table = table.set_column(
                        table.schema.get_field_index("customer_id"), "customer_id", kept
                    )
                writer.write_table(table)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _replace_text(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def _write(
    store: Path, folder: Path, progress: Callable[[str, int], None] | None
) -> dict[str, int]:
    written: dict[str, int] = {}
    with StoreSource(store) as source:
        info = source.info()
        for name in schema.TABLE_ORDER:
            target = arrow_schema(name)
            final = folder / f"{name}.parquet"
            partial = folder / f".{name}.parquet.partial"
            rows = 0
            try:
                with pq.ParquetWriter(partial, target, compression="zstd") as writer:
                    for batch in source.batches(name, ROW_GROUP):
                        writer.write_table(pa.Table.from_batches([batch]).cast(target))
                        rows += batch.num_rows
                os.replace(partial, final)
            finally:
                partial.unlink(missing_ok=True)
            written[name] = rows
            if progress is not None:
                progress(name, rows)
    _provenance(store, folder, info)
    write_noise_key(store, folder)
    return written


def _provenance(store: Path, folder: Path, info: dict[str, str]) -> None:
    provenance = {
        **{k: v for k, v in info.items() if k != "read_from"},
        "exported_from": str(store),
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    _replace_text(folder / PROVENANCE_FILE, json.dumps(provenance, indent=2) + "\n")
