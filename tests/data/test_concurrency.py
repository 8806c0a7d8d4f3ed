"""Many readers and writers on one store: readers never fail and always see one whole state,
writers take turns (waiting, saying for whom, giving up after the time they were given)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

from data.intake.loader import import_files
from data.rights.erasure import erase
from data.storage import history, snapshots
from data.storage.store import StoreBusyError, open_store
from data.synthetic.generator import generate
from metrics import api
from metrics.params import resolve_params
from tests.conftest import write_csvs

BATCH = 7  # customers (and as many orders) each write adds


def _demo(path: Path, customers: int = 300) -> None:
    with open_store(path) as store:
        store.replace_all(generate(customers, 5), info={"source": "demo"})


def _batch(folder: Path, n: int) -> list[Path]:
    """customers.csv and orders.csv adding BATCH customers, each with one order."""
    ids = [f"w{n:03d}-{i}" for i in range(BATCH)]
    customers = "customer_id,created_at,country\n" + "".join(f"{c},2024-01-01,DE\n" for c in ids)
    orders = "order_id,customer_id,ordered_at,revenue,currency\n" + "".join(
        f"ord-{n}-{i},{c},2024-02-01,10.00,EUR\n" for i, c in enumerate(ids)
    )
    return write_csvs(folder / f"batch{n}", {"customers": customers, "orders": orders})


def counts(tables, params) -> tuple[int, int]:
    """Customers and orders, in two separate queries of the same read."""
    return tables.customers.count().to_pyarrow().as_py(), tables.orders.count().to_pyarrow().as_py()


def _cli(*args: str, db: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "consentlens", "--db", str(db), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@contextmanager
def reading(path: Path, fn, params, threads: int):
    """`threads` threads evaluating fn on the store until the block ends; yields the answers
    and the exceptions they met."""
    seen: list = []
    failures: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                seen.append(api.evaluate(path, fn, params))
            except BaseException as error:  # noqa: BLE001 - collected and asserted by callers
                failures.append(error)

    workers = [threading.Thread(target=reader) for _ in range(threads)]
    for t in workers:
        t.start()
    try:
        yield seen, failures
    finally:
        stop.set()
        for t in workers:
            t.join(timeout=60)


def test_many_threads_read_while_another_writes_and_each_read_sees_one_whole_state(tmp_path):
    path = (tmp_path / "s.duckdb").resolve()
    _demo(path)
    params = resolve_params((None, None))
    base = api.evaluate(path, counts, params)
    with reading(path, counts, params, threads=6) as (seen, failures):
        writes = 0
        for n in range(4):  # imports and an undo, each in one transaction
            with open_store(path, bulk_load=True) as store:
                import_files(store, _batch(tmp_path, n))
            writes += 1
            time.sleep(0.2)
        with open_store(path) as store:
            history.undo_last(store.con)
        time.sleep(0.3)
    assert failures == []
    whole = {(base[0] + k * BATCH, base[1] + k * BATCH) for k in range(writes + 1)}
    assert set(seen) <= whole, "a read saw part of a write"
    assert len(set(seen)) >= 3, "readers did not pick up the new data"
    assert api.evaluate(path, counts, params) == (base[0] + 3 * BATCH, base[1] + 3 * BATCH)


def test_commands_in_other_processes_write_while_this_process_reads(tmp_path):
    path = (tmp_path / "s.duckdb").resolve()
    _demo(path)
    params = resolve_params((None, None))
    base = api.evaluate(path, counts, params)
    with reading(path, api.published, params, threads=3) as (_, failures):
        runs, after = [], []
        for command in (
            ["import", str(_batch(tmp_path, 1)[0].parent)],
            ["import", str(_batch(tmp_path, 2)[0].parent)],
            ["imports", "undo"],
            ["erase", "w001-0"],
        ):
            runs.append(_cli(*command, db=path))
            after.append(api.evaluate(path, counts, params))
    assert failures == []
    assert [r.returncode for r in runs] == [0, 0, 0, 0], [r.stderr for r in runs]
    c, o = base
    assert after == [
        (c + BATCH, o + BATCH),
        (c + 2 * BATCH, o + 2 * BATCH),
        (c + BATCH, o + BATCH),
        # The erased customer's order stays for accounting, without the identifier.
        (c + BATCH - 1, o + BATCH),
    ]


def test_a_reader_beside_a_working_writer_reads_the_last_published_state(tmp_path):
    path = (tmp_path / "s.duckdb").resolve()
    _demo(path)
    before = _cli("metrics", db=path)
    with open_store(path, bulk_load=True) as store:
        import_files(store, _batch(tmp_path, 1))
        # Committed, but the writer is still at work: readers keep the state before it.
        during = _cli("metrics", db=path)
        listed = _cli("imports", "list", db=path)
    after = _cli("metrics", db=path)
    assert (before.returncode, during.returncode, listed.returncode) == (0, 0, 0), during.stderr
    assert during.stdout == before.stdout
    assert listed.stdout == ""
    assert after.returncode == 0
    assert '"customers"' in after.stdout and after.stdout != before.stdout


def test_a_second_writer_waits_for_the_first_and_then_writes(tmp_path):
    path = (tmp_path / "s.duckdb").resolve()
    _demo(path)
    folder = _batch(tmp_path, 1)[0].parent
    params = resolve_params((None, None))
    base = api.evaluate(path, counts, params)
    with open_store(path, task="a long import"):
        second = subprocess.Popen(
            [sys.executable, "-m", "consentlens", "--db", str(path), "import", str(folder)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        first_line = second.stderr.readline()
    out, err = second.communicate(timeout=120)
    assert first_line.startswith("consentlens: waiting for a long import (process ")
    assert "giving up after 120 s" in first_line
    assert second.returncode == 0, err
    assert "imported into" in out
    assert api.evaluate(path, counts, params)[0] == base[0] + BATCH


def test_a_second_writer_gives_up_after_its_wait_and_writes_nothing(tmp_path):
    path = (tmp_path / "s.duckdb").resolve()
    _demo(path)
    folder = _batch(tmp_path, 1)[0].parent
    params = resolve_params((None, None))
    base = api.evaluate(path, counts, params)
    with open_store(path, task="consentlens demo"):
        started = time.monotonic()
        run = _cli("import", str(folder), "--wait", "1.5", db=path)
        took = time.monotonic() - started
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert lines[0].startswith("consentlens: waiting for consentlens demo (process ")
    assert lines[-1].startswith(
        "consentlens: gave up after waiting 1.5 s for consentlens demo (process "
    )
    assert lines[-1].endswith(
        f"to finish writing to the store {path}; nothing was written. Try again when it has "
        "finished, or wait longer with --wait SECONDS"
    )
    assert 1.5 <= took < 60
    assert api.evaluate(path, counts, params) == base


def test_a_writer_thread_waits_for_another_thread_of_the_same_process(tmp_path):
    path = (tmp_path / "s.duckdb").resolve()
    _demo(path)
    heard: list[str] = []
    with open_store(path, task="an import from the dashboard"):
        outcome: list[BaseException | None] = []

        def second() -> None:
            try:
                open_store(path, wait=0.3, on_wait=heard.append).close()
                outcome.append(None)
            except BaseException as error:  # noqa: BLE001 - asserted below
                outcome.append(error)

        t = threading.Thread(target=second)
        t.start()
        t.join(timeout=30)
    [error] = outcome
    assert isinstance(error, StoreBusyError)
    assert str(error).startswith(
        "gave up after waiting 0.3 s for an import from the dashboard (process "
    )
    assert heard and heard[0].startswith("waiting for an import from the dashboard")
    open_store(path, wait=0).close()  # free again once the first has finished


def test_reads_share_one_instance_and_a_write_retires_the_old_copy(tmp_path):
    path = (tmp_path / "s.duckdb").resolve()
    _demo(path)
    snapshots.close_all()
    with duckdb.connect(str(path), read_only=True) as con:
        [(base,)] = con.execute("SELECT count(*) FROM customers").fetchall()
    first, second = open_store(path, read_only=True), open_store(path, read_only=True)
    assert snapshots.open_copies() == 1
    old = snapshots.current(path)
    with open_store(path, bulk_load=True) as store:
        import_files(store, _batch(tmp_path, 1))
    new = snapshots.current(path)
    assert new != old and not old.exists()
    third = open_store(path, read_only=True)
    assert snapshots.open_copies() == 2  # the old one is still being read
    # The reads begun before the write still see the state before it, whole.
    assert first.con.execute("SELECT count(*) FROM customers").fetchone() == (base,)
    assert third.con.execute("SELECT count(*) FROM customers").fetchone() == (base + BATCH,)
    first.close()
    second.close()
    assert snapshots.open_copies() == 1
    third.close()
    assert {p.name for p in snapshots.folder(path).iterdir()} == {"CURRENT", new.name}


def test_an_erasure_leaves_no_copy_that_holds_the_person(tmp_path):
    path = (tmp_path / "s.duckdb").resolve()
    _demo(path)
    with open_store(path, bulk_load=True) as store:
        import_files(store, _batch(tmp_path, 1))
    reading = open_store(path, read_only=True)  # a dashboard's read in progress
    try:
        erase(path, ["w001-3"])
    finally:
        reading.close()
    copies = [p for p in snapshots.folder(path).iterdir() if p.name != "CURRENT"]
    assert len(copies) == 1
    assert b"w001-3" not in copies[0].read_bytes()
    with open_store(path, read_only=True) as store:
        assert store.con.execute(
            "SELECT count(*) FROM customers WHERE customer_id = 'w001-3'"
        ).fetchone() == (0,)


def test_a_store_written_without_the_lock_is_copied_by_its_first_reader(tmp_path):
    path = (tmp_path / "s.duckdb").resolve()
    _demo(path)
    with duckdb.connect(str(path)) as con:  # another tool, or an older version
        con.execute("DELETE FROM orders")
    with open_store(path, read_only=True) as store:
        assert store.con.execute("SELECT count(*) FROM orders").fetchone() == (0,)


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM read_text('{store}.key')",
        "SELECT * FROM read_text('{store}')",
        "COPY customers TO '{folder}/copy.csv'",
        "SET enable_external_access = true",
        "INSTALL httpfs",
        "CREATE TABLE x (a INT)",
    ],
)
def test_a_read_is_locked_down_to_its_copy(tmp_path, statement):
    path = (tmp_path / "s.duckdb").resolve()
    _demo(path, customers=50)
    with open_store(path, read_only=True) as store, pytest.raises(duckdb.Error):
        store.con.execute(statement.format(store=path, folder=tmp_path))


def test_reads_share_a_bounded_memory_and_spill_beside_their_copy(tmp_path):
    path = tmp_path / "store.duckdb"
    _demo(path)
    with open_store(path, read_only=True) as store:
        [(limit,)] = store.con.execute("SELECT current_setting('memory_limit')").fetchall()
        [(spill,)] = store.con.execute("SELECT current_setting('temp_directory')").fetchall()
        with pytest.raises(duckdb.Error):
            store.con.execute(f"SET memory_limit = '{snapshots.READ_MEMORY}'")
    # DuckDB reports the limit in its own units (2 GB is 1.8 GiB).
    assert limit.endswith("GiB") and 1.5 < float(limit.split()[0]) < 2.0
    assert spill == str(snapshots.current(path)) + ".tmp"
