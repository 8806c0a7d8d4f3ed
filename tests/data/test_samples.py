"""The Upload page's samples: the demo generator's tables in a namespace of their own, so
they import into the demo store (`consentlens demo`, what `make run` shows) with nothing
refused, and a store that holds them already is told apart."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.compute as pc
import pytest

from consentlens.cli import main
from data.intake.importer import Extract, run_import
from data.intake.templates import (
    ID_COLUMNS,
    SAMPLE_CUSTOMERS,
    SAMPLE_PREFIX,
    SAMPLE_SEED,
    SamplesHeld,
    sample_csv,
    sample_tables,
    samples_held,
)
from data.rights.erasure import erase
from data.storage.keys import key_path
from data.storage.schema import TABLE_ORDER
from data.storage.store import open_store
from data.synthetic.generator import generate

# Each sample's rows, all of which an import into the demo writes.
SAMPLE_ROWS = {
    "customers": 59,
    "consent_events": 240,
    "touchpoints": 433,
    "orders": 95,
    "privacy_requests": 4,
    "sharing": 34,
}


def test_the_sample_rows_are_the_samples():
    assert {t: sample_tables()[t].num_rows for t in TABLE_ORDER} == SAMPLE_ROWS


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """A demo store as `consentlens demo` writes it (50,000 customers, the default)."""
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    assert main(["demo", "--db", str(path)]) == 0
    return path


@pytest.fixture
def store(demo, tmp_path) -> Path:
    path = tmp_path / "store" / "demo.duckdb"
    path.parent.mkdir()
    shutil.copy(demo, path)
    shutil.copy(key_path(demo), key_path(path))
    return path


def sample_file(folder: Path, table: str) -> Extract:
    path = folder / f"{table}.sample.csv"
    path.write_bytes(sample_csv(table))
    return Extract.from_path(path)


def test_the_samples_are_the_generators_tables_with_identifiers_of_their_own():
    generated = generate(SAMPLE_CUSTOMERS, SAMPLE_SEED)
    samples = sample_tables()
    assert list(samples) == list(generated)
    for table, sample in samples.items():
        original = generated[table]
        assert sample.num_rows == original.num_rows > 0
        for name in sample.column_names:
            ours, theirs = sample[name].to_pylist(), original[name].to_pylist()
            if name in ID_COLUMNS:
                assert ours == [None if v is None else SAMPLE_PREFIX + v for v in theirs]
            elif name == "email":
                assert ours == [
                    None if v is None else v.split("@")[0] + "@example.com" for v in theirs
                ]
            else:
                assert ours == theirs, (table, name)
    assert pc.all(pc.starts_with(samples["customers"]["customer_id"], SAMPLE_PREFIX)).as_py()


def test_each_sample_imports_into_a_fresh_demo_with_nothing_refused(store, tmp_path):
    with open_store(store) as opened:
        assert samples_held(opened) == SamplesHeld((0, 59), (0, 95), (0, 4), 0)
        before = opened.row_counts()
        # One import per file, customers first (the other tables name them).
        for table in TABLE_ORDER:
            outcome = run_import(opened, [sample_file(tmp_path, table)]).outcome
            expected = sample_tables()[table].num_rows
            assert outcome.problems == [], table
            read = (outcome.rows_read, outcome.accepted, outcome.rejected)
            assert read == (expected, expected, 0)
            assert outcome.kept_existing == outcome.kept_decisions == 0
            assert outcome.written and outcome.rows == {table: expected}
        after = opened.row_counts()
        assert {t: after[t] - before[t] for t in TABLE_ORDER} == SAMPLE_ROWS
        # The store now holds them: every key of the samples is known.
        assert samples_held(opened) == SamplesHeld((59, 59), (95, 95), (4, 4), 0)
        # Imported again, the keyed rows are refused as existing.
        again = run_import(
            opened, [sample_file(tmp_path, "customers"), sample_file(tmp_path, "orders")]
        ).outcome
        assert again.rejected == 59 + 95 and not again.written
        assert {p.reason for p in again.problems} == {"value already exists in the store"}


def test_the_samples_of_all_tables_import_together_into_the_demo(store, tmp_path):
    with open_store(store) as opened:
        outcome = run_import(opened, [sample_file(tmp_path, t) for t in TABLE_ORDER]).outcome
    assert outcome.problems == []
    assert outcome.rows_read == outcome.accepted == 59 + 240 + 433 + 95 + 4 + 34
    assert outcome.written and sum(outcome.rows.values()) == outcome.accepted


def test_sample_customers_erased_from_a_store_are_counted(store, tmp_path):
    with open_store(store) as opened:
        run_import(opened, [sample_file(tmp_path, "customers")])
    first, second = sample_tables()["customers"]["customer_id"].to_pylist()[:2]
    erase(store, [first, second])
    with open_store(store, read_only=True) as opened:
        assert samples_held(opened) == SamplesHeld((57, 59), (0, 95), (0, 4), 2)
