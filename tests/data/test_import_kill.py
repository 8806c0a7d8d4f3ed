"""An import killed at any moment leaves the store exactly as it was.

A store holding demo data and one earlier import is fingerprinted (every table, the import
record and store_info included, and the columns of each), then `consentlens import` of a
large CRM export (customers and their consent events, one transaction) is SIGKILLed several
times: at random while it reads and checks, and at random inside its write. Each time the
store must reopen cleanly, with its key, and hold exactly what it held before; a kill that
lands after the commit must leave exactly what an uninterrupted import leaves (DuckDB
replays the committed transaction from `<store>.wal`). Two deterministic kills pin both
sides of the commit: one after the last row is inserted and recorded, one just after the
commit while the WAL still holds the import.
"""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pytest

from data.intake.importer import Extract, run_import
from data.storage.store import open_store
from data.synthetic.generator import generate

pytestmark = pytest.mark.slow

ROWS = 200_000  # a couple of seconds of import on a 2-core machine
RANDOM_KILLS = 5
SEED = 20_261_129
REPO = Path(__file__).resolve().parents[2]

# Columns whose values are the moment of writing: left out when comparing with a store an
# uninterrupted import wrote at another moment.
VOLATILE = {"imports": "imported_at", "store_info": "written_at"}


def write_crm_export(path: Path, rows: int, seed: int) -> None:
    """A CRM customer list with an e-mail opt-in flag: customers plus consent events."""
    rng = np.random.default_rng(seed)
    numbers = np.arange(1, rows + 1)
    created = np.datetime64("2025-01-01T00:00:00") + rng.integers(0, 300 * 86_400, rows).astype(
        "timedelta64[s]"
    )
    decided = created + rng.integers(60, 30 * 86_400, rows).astype("timedelta64[s]")

    def stamps(values: np.ndarray) -> pa.Array:
        return pc.strftime(pa.array(values, pa.timestamp("s")), "%Y-%m-%d %H:%M:%S")

    def pick(options: list[str]) -> pa.Array:
        return pa.array(np.array(options)[rng.integers(0, len(options), rows)])

    table = pa.table(
        {
            "customer_id": pa.array([f"K{n:07d}" for n in numbers]),
            "created_at": stamps(created),
            "country": pick(["DE", "FR", "GB", "US", "NL", "PL"]),
            "segment": pick(["premium", "loyalist", "value_seeker", ""]),
            "email": pa.array([f"person{n}@example.com" for n in numbers]),
            "full_name": pick(["Anna Berg", "Jean Dupont", "Ola Nowak", "Sam Lee"]),
            "email_opt_in": pick(["yes", "no", ""]),
            "consent_date": stamps(decided),
        }
    )
    pacsv.write_csv(table, path)


def fingerprint(db: Path, *, stable: bool = False) -> dict[str, tuple]:
    """Per table of the store: its columns, row count and a hash of its sorted rows.

    Opening the store read-write replays its WAL and checks its key, as every command does.
    `stable` leaves out the moments of writing (VOLATILE).
    """
    with open_store(db, create=False) as store:
        con = store.con
        tables = [
            name
            for (name,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' ORDER BY 1"
            ).fetchall()
        ]
        out = {}
        for name in tables:
            columns = tuple(
                con.execute(
                    "SELECT column_name, data_type FROM duckdb_columns() "
                    "WHERE schema_name = 'main' AND table_name = ? ORDER BY column_index",
                    [name],
                ).fetchall()
            )
            rows = f'SELECT * FROM "{name}"'
            if stable and name == "imports":
                rows = f'SELECT * EXCLUDE ("{VOLATILE[name]}") FROM "{name}"'
            elif stable and name == "store_info":
                rows = f"SELECT * FROM \"{name}\" WHERE key <> '{VOLATILE[name]}'"
            [(count, digest)] = con.execute(
                "SELECT count(*), md5(coalesce(string_agg(CAST(r AS VARCHAR), chr(10) "
                f"ORDER BY CAST(r AS VARCHAR)), '')) FROM ({rows}) AS r"
            ).fetchall()
            out[name] = (columns, count, digest)
        return out


def copy_store(source: Path, target: Path) -> None:
    """The store file and its key (closed stores have no WAL)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", ".key"):
        shutil.copy2(f"{source}{suffix}", f"{target}{suffix}")


def remove_store(db: Path) -> None:
    for leftover in db.parent.glob(db.name + "*"):
        if leftover.is_dir():
            shutil.rmtree(leftover)
        else:
            leftover.unlink()


def import_command(db: Path, extract: Path) -> list[str]:
    return [sys.executable, "-m", "consentlens", "--db", str(db), "import", str(extract)] + [
        "--table",
        "customers",
    ]


def start(command: list[str]) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def file_state(db: Path) -> tuple[int, int]:
    """Size of the store file and of its WAL (-1 when absent)."""
    wal = Path(f"{db}.wal")
    return db.stat().st_size, wal.stat().st_size if wal.exists() else -1


def watch(process: subprocess.Popen, db: Path) -> tuple[float, float | None, float]:
    """Run an import to its end: its start, when its files first changed, and its end."""
    started = time.perf_counter()
    before = file_state(db)
    writing = None
    while process.poll() is None:
        if writing is None and file_state(db) != before:
            writing = time.perf_counter() - started
        time.sleep(0.002)
    return started, writing, time.perf_counter() - started


def until_writing(process: subprocess.Popen, db: Path, limit: float) -> bool:
    """Wait until the import starts writing the store (its file or WAL changes)."""
    before = file_state(db)
    deadline = time.perf_counter() + limit
    while process.poll() is None and time.perf_counter() < deadline:
        if file_state(db) != before:
            return True
        time.sleep(0.001)
    return False


@pytest.fixture(scope="module")
def kill_setup(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A store with demo data and one recorded import, its fingerprints, the big export,
    and what an uninterrupted import of it makes of a copy of the store."""
    tmp = tmp_path_factory.mktemp("kill")
    db = tmp / "store" / "consentlens.duckdb"
    small = tmp / "first_import.csv"
    write_crm_export(small, 50, SEED + 1)
    small.write_text(small.read_text().replace('"K', '"E'))  # ids the big export has not
    with open_store(db) as store:
        store.replace_all(generate(1_500, 7), info={"source": "demo"})
        first = run_import(store, [Extract.from_path(small, table="customers")], actor="test")
        assert first.outcome.written
    extract = tmp / "crm_export.csv"
    write_crm_export(extract, ROWS, SEED)

    pristine = tmp / "pristine" / "consentlens.duckdb"
    copy_store(db, pristine)
    scratch = tmp / "scratch" / "consentlens.duckdb"
    copy_store(db, scratch)
    process = start(import_command(scratch, extract))
    _, writing, duration = watch(process, scratch)
    assert process.returncode == 0, "the uninterrupted import failed"
    assert writing is not None, "the import never changed the store file"
    return {
        "db": db,
        "pristine": pristine,
        "extract": extract,
        "before": fingerprint(db),
        "after": fingerprint(scratch, stable=True),
        "after_rows": fingerprint(scratch)["customers"][1],
        "writing": writing,
        "duration": duration,
    }


def check_store(db: Path, setup: dict, what: str) -> str:
    """The store opens and holds exactly the state before, or exactly that after, the
    import; which one."""
    now = fingerprint(db)
    if now == setup["before"]:
        return "before"
    stable = fingerprint(db, stable=True)
    changed = sorted(t for t in stable if stable[t] != setup["after"].get(t))
    assert stable == setup["after"], f"{what}: the store is neither before nor after: {changed}"
    return "after"


def test_an_uninterrupted_import_changes_the_fingerprint(kill_setup: dict) -> None:
    before = {t: v for t, v in kill_setup["before"].items() if t not in VOLATILE}
    after = {t: v for t, v in kill_setup["after"].items() if t not in VOLATILE}
    assert after != before
    assert kill_setup["after_rows"] == kill_setup["before"]["customers"][1] + ROWS


def test_killed_imports_leave_the_store_as_it_was(kill_setup: dict) -> None:
    db, extract = kill_setup["db"], kill_setup["extract"]
    writing, duration = kill_setup["writing"], kill_setup["duration"]
    rng = random.Random(SEED)
    # Kills while reading and checking, then kills at a random moment of the write, which is
    # found by watching the store's files change (the machine's speed varies from run to run).
    plan = [("reading", rng.uniform(0.05, writing)) for _ in range(2)]
    # Up to 80% of the write: most land before the process ends on its own.
    window = 0.8 * (duration - writing)
    plan += [("writing", rng.uniform(0.0, window)) for _ in range(RANDOM_KILLS - 2)]
    seen = []
    for n, (phase, delay) in enumerate(plan):
        process = start(import_command(db, extract))
        if phase == "reading" or until_writing(process, db, limit=duration * 5):
            time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        status = process.wait()
        wal = Path(f"{db}.wal")
        left = f"WAL {wal.stat().st_size} bytes" if wal.exists() else "no WAL"
        what = f"kill {n + 1} ({phase}, {delay:.2f} s, exit {status}, {left})"
        state = check_store(db, kill_setup, what)
        seen.append((what, state))
        if state == "after":  # committed before the kill: start the next from the original
            remove_store(db)
            copy_store(kill_setup["pristine"], db)
    killed = [what for what, _ in seen if f"exit {-signal.SIGKILL}" in what]
    assert len(killed) >= 3, f"too few imports were killed while running: {seen}"


KILL_AT = textwrap.dedent(
    """
    import os, signal, sys
    import {module} as target
    original = target.{function}

    def killed(*args, **kwargs):
        result = original(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)
        return result

    target.{function} = killed
    from consentlens.cli import main
    sys.argv = ["consentlens", *sys.argv[1:]]
    raise SystemExit(main())
    """
)


@pytest.mark.parametrize(
    ("module", "function", "expected"),
    [
        # Inside the transaction: every row inserted and the import recorded, no COMMIT yet.
        ("data.storage.history", "record", "before"),
        # Just after the COMMIT, before the store is closed: the import is only in the WAL.
        ("data.storage.audit", "record", "after"),
    ],
)
def test_a_kill_on_either_side_of_the_commit(
    kill_setup: dict, tmp_path: Path, module: str, function: str, expected: str
) -> None:
    db = tmp_path / "store" / "consentlens.duckdb"
    copy_store(kill_setup["pristine"], db)
    script = KILL_AT.format(module=module, function=function)
    command = import_command(db, kill_setup["extract"])
    run = subprocess.run([sys.executable, "-c", script, *command[3:]], cwd=REPO, check=False)
    assert run.returncode == -signal.SIGKILL
    wal = Path(f"{db}.wal")
    if expected == "after":
        assert wal.exists() and wal.stat().st_size > 0, "the commit should be in the WAL only"
    assert check_store(db, kill_setup, f"killed in {module}.{function}") == expected
