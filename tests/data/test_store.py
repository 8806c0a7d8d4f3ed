"""The store: a locked-down DuckDB file, one transaction per write, clear errors."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from data.storage.schema import IMPORT_ID, TABLES
from data.storage.store import StoreError, open_store


def test_creates_every_canonical_table_with_the_schema_columns(store):
    for name, table in TABLES.items():
        cols = store.con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
            "ORDER BY ordinal_position",
            [name],
        ).fetchall()
        assert [c for (c,) in cols] == [*table.column_names, IMPORT_ID]


def test_a_failed_write_leaves_the_store_as_it_was(store):
    good = pa.table({c: pa.array([None], pa.string()) for c in TABLES["customers"].column_names})
    good = good.set_column(0, "customer_id", pa.array(["1"]))
    with pytest.raises(StoreError):
        store.replace_all({"customers": good, "orders": pa.table({"wrong": [1]})})
    assert store.row_counts()["customers"] == 0


def test_a_replacement_failing_after_some_chunks_leaves_the_store_as_it_was(store):
    from data.storage.store import STAGING_PREFIX
    from data.synthetic.generator import generate_chunks

    store.replace_all(generate_chunks(1_200, seed=4, block=400))
    before = store.row_counts()
    assert before["customers"] > 1_000

    def chunks():
        parts = generate_chunks(2_000, seed=5, block=400)
        yield next(parts)
        yield next(parts)
        raise RuntimeError("the generator stopped")

    with pytest.raises(RuntimeError, match="stopped"):
        store.replace_all(chunks())
    assert store.row_counts() == before
    left = store.con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE starts_with(table_name, ?)", [STAGING_PREFIX]
    ).fetchone()[0]
    assert left == 0
    # The staged chunks went into tables of their own, committed one by one: a second
    # replacement in full takes the place of the first.
    written = store.replace_all(generate_chunks(2_000, seed=5, block=400))
    assert store.row_counts() == written and written["customers"] > before["customers"]


def test_staging_tables_a_killed_replacement_left_go_at_the_next_write(tmp_path):
    from data.storage.store import STAGING_PREFIX

    path = tmp_path / "s.duckdb"
    with open_store(path) as store:
        store.con.execute(TABLES["customers"].ddl(f"{STAGING_PREFIX}customers"))
    with open_store(path) as store:
        tables = {
            r[0] for r in store.con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        }
        assert f"{STAGING_PREFIX}customers" not in tables and "customers" in tables


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM read_csv('/etc/passwd')",
        "COPY customers TO '/tmp/consentlens-leak.csv'",
        "ATTACH '/tmp/consentlens-other.duckdb' AS other",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET enable_external_access = true",
        "SET allowed_directories = ['/']",
    ],
)
def test_the_connection_is_locked_down(store, statement):
    with pytest.raises(duckdb.Error):
        store.con.execute(statement)


def test_read_only_open_of_a_missing_store_explains_itself(tmp_path):
    with pytest.raises(StoreError, match="no store at"):
        open_store(tmp_path / "absent.duckdb", read_only=True)


def test_a_file_that_is_not_a_store_is_named_as_such(tmp_path):
    path = tmp_path / "notes.duckdb"
    path.write_text("just text, not a database\n" * 200)
    with pytest.raises(StoreError, match="not a ConsentLens store"):
        open_store(path)


def test_a_store_whose_key_went_missing_is_refused_not_given_a_new_key(tmp_path):
    path = tmp_path / "s.duckdb"
    open_store(path).close()
    key = path.with_name("s.duckdb.key")
    assert key.exists()
    key.rename(tmp_path / "elsewhere")
    with pytest.raises(StoreError, match="key .* is missing"):
        open_store(path)
    assert not key.exists()
    (tmp_path / "other").mkdir()
    open_store(tmp_path / "other" / "s.duckdb").close()
    (tmp_path / "other" / "s.duckdb.key").rename(key)
    with pytest.raises(StoreError, match="not this store's key"):
        open_store(path)


def test_the_connection_cannot_read_the_key_or_write_beside_the_store(store):
    for statement in (
        f"SELECT * FROM read_text('{store.path}.key')",
        f"COPY customers TO '{store.path.parent / 'copy.csv'}'",
        f"SELECT * FROM read_text('{store.path}.audit.jsonl')",
    ):
        with pytest.raises(duckdb.Error):
            store.con.execute(statement)


@pytest.mark.parametrize("trace", ["erasures", "audit log"])
def test_a_store_from_before_recorded_keys_is_refused_without_its_key(tmp_path, trace):
    """Such a store has no key fingerprint; its erasures or its audit log show it had a key."""
    path = tmp_path / "old.duckdb"
    open_store(path).close()
    with duckdb.connect(str(path)) as con:
        con.execute("DROP TABLE store_key")
        if trace == "erasures":
            con.execute("CREATE TABLE erasure_suppression (id_hash VARCHAR, erased_at TIMESTAMP)")
    if trace == "audit log":
        path.with_name("old.duckdb.audit.jsonl").write_text("{}\n", encoding="utf-8")
    path.with_name("old.duckdb.key").unlink()
    with pytest.raises(StoreError, match="key .* is missing"):
        open_store(path)
    assert not path.with_name("old.duckdb.key").exists()


def test_a_store_from_before_recorded_keys_without_erasures_gets_a_key(tmp_path):
    path = tmp_path / "old.duckdb"
    open_store(path).close()
    with duckdb.connect(str(path)) as con:
        con.execute("DROP TABLE store_key")
    path.with_name("old.duckdb.key").unlink()
    open_store(path).close()
    assert path.with_name("old.duckdb.key").exists()


def test_a_demo_over_a_demo_leaves_a_file_of_one_demo(tmp_path, monkeypatch):
    """A replacement writes its tables beside the old ones, whose blocks it frees: the store
    then rewrites its file, so neither the file nor the copy for readers keeps the old data
    (its blocks or its bytes). A small write rewrites nothing, nor one whose caller failed."""
    from data.storage import snapshots
    from data.storage import store as store_module
    from data.synthetic.generator import generate_chunks

    monkeypatch.setattr(store_module, "SPARSE_BYTES", 0)  # the rule's floor is for big stores
    path = tmp_path / "s.duckdb"
    with open_store(path) as store:
        store.replace_all(generate_chunks(3_000, seed=1, block=1_000))
        [(old_email,)] = store.con.execute(
            "SELECT email FROM customers WHERE email IS NOT NULL ORDER BY customer_id LIMIT 1"
        ).fetchall()
    one = path.stat().st_size
    heard: list[str] = []
    with open_store(path) as store:
        store.progress = heard.append
        written = store.replace_all(generate_chunks(3_000, seed=2, block=1_000))
        assert store.con.execute(
            "SELECT count(*) FROM customers WHERE email = ?", [old_email]
        ).fetchone() == (0,)
    assert path.stat().st_size <= 1.25 * one
    assert snapshots.current(path).stat().st_size == path.stat().st_size
    assert old_email.encode() not in path.read_bytes()
    assert len(heard) == 1 and heard[0].startswith("compacting the store")

    # A small write leaves the file as it is; so does a write whose caller failed after it
    # (the next write that completes rewrites what it left).
    inode = path.stat().st_ino
    with open_store(path) as store, store.transaction():
        store.write_info({"note": "a small write"})
    assert path.stat().st_ino == inode
    with pytest.raises(RuntimeError, match="stopped"), open_store(path) as store:
        written = store.replace_all(generate_chunks(3_000, seed=3, block=1_000))
        raise RuntimeError("the caller stopped")
    assert path.stat().st_ino == inode and path.stat().st_size > 1.5 * one
    with open_store(path) as store, store.transaction():
        store.write_info({"note": "a small write"})
        assert store.row_counts() == written
    assert path.stat().st_ino != inode and path.stat().st_size <= 1.25 * one


def test_the_readers_copy_of_the_store_as_it_is_is_known_for_a_byte_copy(tmp_path):
    from data.storage import snapshots

    path = tmp_path / "s.duckdb"
    with open_store(path) as store, store.transaction():
        store.write_info({"note": "first"})
    copy = snapshots.current(path)
    assert snapshots.copies_as_is(path) == [copy]
    assert copy.read_bytes() == path.read_bytes()
    # Every write publishes its copy; the file changed behind the store's back has none.
    with open_store(path) as store, store.transaction():
        store.write_info({"note": "second"})
    assert snapshots.copies_as_is(path) == [snapshots.current(path)] != [copy]
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE elsewhere (x INTEGER)")
    assert snapshots.copies_as_is(path) == []
    assert snapshots.copies_as_is(tmp_path / "missing.duckdb") == []
