"""`consentlens export DIR` and the Parquet source: what is written, how it reads back, what a
bad folder is told, and erasure reaching the exports."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from data.storage import facts, schema
from data.storage.engines import (
    FACTS_FOLDER,
    FACTS_RECORD,
    PROVENANCE_FILE,
    EngineError,
    ParquetSource,
    StoreSource,
    arrow_schema,
)
from data.storage.export import export, exported_folders, registry, still_holding
from data.storage.keys import NOISE_FILE, load_key, noise_key
from data.storage.store import open_store
from data.synthetic.generator import generate
from tests.data.test_erasure import canary_extract, cli


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("export")
    db = root / "store" / "s.duckdb"
    with open_store(db) as store:
        store.replace_all(generate(1_500, seed=11), info={"source": "demo", "seed": "11"})
    run = cli(db, "export", str(root / "out"))
    assert run.returncode == 0, run.stderr
    assert "exported" in run.stdout and "customers:" in run.stderr
    return db, root / "out"


def _store_rows(db: Path, name: str) -> list[dict]:
    with StoreSource(db) as source:
        return _sorted(source.table(name).to_pyarrow().to_pylist())


def _sorted(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: json.dumps(r, default=str, sort_keys=True))


def test_every_table_is_one_parquet_file_with_the_canonical_columns_and_types(exported):
    db, out = exported
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{name}.parquet" for name in schema.TABLE_ORDER] + [PROVENANCE_FILE, NOISE_FILE]
    )
    # The noise key is the store's (so both give the same noise), never the store's own key.
    assert noise_key(out) == noise_key(db) != b""
    assert (out / NOISE_FILE).stat().st_mode & 0o077 == 0
    assert load_key(db).hex() not in (out / NOISE_FILE).read_text()
    for name in schema.TABLE_ORDER:
        written = pq.read_table(out / f"{name}.parquet")
        assert written.schema.equals(arrow_schema(name)), name
        assert written.schema.field(written.column_names[0]).type == pa.string()
        # Timestamps are marked as UTC; the values are the store's, row for row.
        back = [
            {
                k: (v.replace(tzinfo=None) if hasattr(v, "tzinfo") and v.tzinfo else v)
                for k, v in row.items()
            }
            for row in written.to_pylist()
        ]
        assert _sorted(back) == _store_rows(db, name), name
    assert pa.timestamp("us", tz="UTC") in arrow_schema("customers").types


def test_the_export_records_where_it_came_from_and_the_store_remembers_it(exported):
    db, out = exported
    recorded = json.loads((out / PROVENANCE_FILE).read_text())
    assert recorded["exported_from"] == str(db)
    assert recorded["source"] == "demo" and recorded["seed"] == "11"
    assert exported_folders(db) == [out]
    with ParquetSource(out) as source:
        assert source.info()["seed"] == "11"
        assert source.info()["read_from"] == "out on duckdb"


def test_the_parquet_source_reads_the_same_counts_and_dates_as_the_store(exported):
    db, out = exported
    with StoreSource(db) as store, ParquetSource(out) as parquet:
        assert parquet.row_counts() == store.row_counts()
        assert parquet.row_counts()["customers"] > 1_000
        assert parquet.date_range() == store.date_range()


def test_a_folder_of_parts_is_one_table_and_sharing_may_be_absent(exported, tmp_path):
    _, out = exported
    folder = tmp_path / "lake"
    (folder / "customers").mkdir(parents=True)
    customers = pq.read_table(out / "customers.parquet")
    half = customers.num_rows // 2
    pq.write_table(customers.slice(0, half), folder / "customers" / "part-0.parquet")
    pq.write_table(customers.slice(half), folder / "customers" / "part-1.parquet")
    for name in schema.TABLE_ORDER:
        if name not in ("customers", "sharing"):
            (folder / f"{name}.parquet").write_bytes((out / f"{name}.parquet").read_bytes())
    with ParquetSource(folder) as source:
        counts = source.row_counts()
        assert counts["customers"] == customers.num_rows
        assert counts["sharing"] == 0
        assert source.info() == {"source": "Parquet", "read_from": "lake on duckdb"}


def test_a_folder_without_a_table_or_a_column_is_told_which(exported, tmp_path):
    db, out = exported
    with pytest.raises(EngineError, match="no folder at"):
        ParquetSource(tmp_path / "nowhere")
    folder = tmp_path / "partial"
    folder.mkdir()
    for name in schema.TABLE_ORDER:
        if name != "orders":
            (folder / f"{name}.parquet").write_bytes((out / f"{name}.parquet").read_bytes())
    with pytest.raises(EngineError, match=r"no orders\.parquet"):
        ParquetSource(folder)
    orders = pq.read_table(out / "orders.parquet").drop_columns(["revenue"])
    pq.write_table(orders, folder / "orders.parquet")
    with pytest.raises(EngineError, match=r"orders\.parquet: column revenue missing"):
        ParquetSource(folder)
    run = cli(db, "metrics", "--source", str(folder))
    assert run.returncode == 2 and run.stdout == ""
    assert "column revenue missing" in run.stderr and "Traceback" not in run.stderr


def test_values_of_the_wrong_kind_and_unreadable_files_are_rejected_by_column(exported, tmp_path):
    db, out = exported
    folder = tmp_path / "texts"
    folder.mkdir()
    for name in schema.TABLE_ORDER:
        (folder / f"{name}.parquet").write_bytes((out / f"{name}.parquet").read_bytes())
    orders = pq.read_table(out / "orders.parquet")
    as_text = orders.column("ordered_at").cast(pa.string()).to_pylist()
    as_text[3] = "someday"
    as_text[5] = "2026-13-45"
    orders = orders.set_column(2, "ordered_at", pa.array(as_text, pa.string()))
    pq.write_table(orders, folder / "orders.parquet")
    run = cli(db, "metrics", "--source", str(folder))
    assert run.returncode == 2, run.stderr
    assert "orders.parquet, column ordered_at: 2 value(s) are not timestamp" in run.stderr
    assert "someday" not in run.stderr and "Traceback" not in run.stderr
    (folder / "orders.parquet").write_bytes(b"PAR1 this is not parquet")
    run = cli(db, "metrics", "--source", str(folder))
    assert run.returncode == 2 and "orders.parquet: not readable as Parquet" in run.stderr


def test_spark_options_need_a_parquet_source(exported):
    db, out = exported
    run = cli(db, "metrics", "--engine", "spark")
    assert run.returncode == 2 and "--source DIR" in run.stderr
    run = cli(db, "metrics", "--source", str(out), "--spark-master", "local[1]")
    assert run.returncode == 2 and "--spark-master goes with --engine spark" in run.stderr


def test_metrics_from_the_export_equal_the_stores_with_filters(exported):
    db, out = exported
    args = ["--min-cell", "3", "--country", "DE", "--country", "FR", "--segment", "premium"]
    on_store = json.loads(cli(db, "metrics", *args).stdout)
    assert on_store["customers"] is not None and on_store["customers"] > 0
    assert json.loads(cli(db, "metrics", *args, "--source", str(out)).stdout) == on_store


def test_erasure_removes_the_people_from_every_export_and_forgets_removed_ones(tmp_path):
    db = tmp_path / "store" / "s.duckdb"
    with open_store(db) as store:
        store.replace_all(generate(800, seed=2))
    older = tmp_path / "older"
    export(db, older)
    older_rows = {n: pq.read_table(older / f"{n}.parquet").num_rows for n in schema.TABLE_ORDER}
    tokens = ["a1b2c3d4e5f6a7b8", "0f1e2d3c4b5a6978"]
    assert cli(db, "import", *map(str, canary_extract(tmp_path / "in", tokens))).returncode == 0
    first, second, gone = tmp_path / "x1", tmp_path / "x2", tmp_path / "x3"
    for folder in (first, second, gone):
        export(db, folder)
    before = {n: pq.read_table(first / f"{n}.parquet").num_rows for n in schema.TABLE_ORDER}
    shutil.rmtree(gone)
    run = cli(db, "erase", *[f"canary-{t}" for t in tokens])
    assert run.returncode == 0, run.stderr
    assert "3 Parquet export(s) of the store: removed from them too" in run.stdout
    assert registry(db).read_text().split() == [str(older), str(first), str(second)]
    # An export stays the snapshot it was, less the people: the older one gains nothing.
    assert {
        n: pq.read_table(older / f"{n}.parquet").num_rows for n in schema.TABLE_ORDER
    } == older_rows
    for folder in (first, second):
        for name in schema.TABLE_ORDER:
            text = json.dumps(pq.read_table(folder / f"{name}.parquet").to_pylist(), default=str)
            assert not any(t in text for t in tokens), (folder.name, name)
        after = {n: pq.read_table(folder / f"{n}.parquet").num_rows for n in schema.TABLE_ORDER}
        assert after["customers"] == before["customers"] - 2
        assert after["orders"] == before["orders"]
        orders = pq.read_table(folder / "orders.parquet").to_pylist()
        kept = [o for o in orders if o["order_id"].startswith("canary-order-")]
        assert len(kept) == 2 and all(o["customer_id"] is None for o in kept)


def test_facts_of_a_folder_serve_its_figures_until_its_files_change_and_erasure_drops_them(
    tmp_path,
):
    db = tmp_path / "store" / "s.duckdb"
    with open_store(db) as store:
        store.replace_all(generate(900, seed=5))
    out = tmp_path / "out"
    export(db, out)
    args = ["--min-cell", "1", "--start", "2026-03-01"]
    canonical = json.loads(cli(db, "metrics", *args, "--source", str(out)).stdout)
    run = cli(db, "facts", str(out))
    assert run.returncode == 0, run.stderr
    built = f"built {len(facts.FACT_TABLES)} fact table(s) on duckdb"
    assert "fact_requests" in run.stdout and built in run.stdout
    assert sorted(p.name for p in (out / FACTS_FOLDER).iterdir()) == sorted(
        [FACTS_RECORD, *(f"{name}.parquet" for name in facts.FACT_TABLES)]
    )
    with ParquetSource(out) as source:
        assert set(source.facts()) == set(facts.FACT_TABLES)
    assert json.loads(cli(db, "metrics", *args, "--source", str(out)).stdout) == canonical
    # A file rewritten since: the facts are not of this data any more, and are not used.
    customers = pq.read_table(out / "customers.parquet")
    pq.write_table(customers.slice(1), out / "customers.parquet")
    with ParquetSource(out) as source:
        assert source.facts() == {}
    cli(db, "facts", str(out))
    # Erasure reaches the folder; facts built there are of the data before it: they go.
    held = still_holding(db, ["0000003"])
    assert any(f"/{FACTS_FOLDER}/" in path for path in held), held  # the proof reads them too
    run = cli(db, "erase", "0000003")
    assert run.returncode == 0, run.stderr
    assert not (out / FACTS_FOLDER).exists()
    assert still_holding(db, ["0000003"]) == []


def test_facts_of_a_missing_folder_or_with_a_stray_option_are_told(tmp_path):
    run = cli(tmp_path / "s.duckdb", "facts", str(tmp_path / "nowhere"))
    assert run.returncode == 1 and "no folder at" in run.stderr
    assert "Traceback" not in run.stderr
    run = cli(tmp_path / "s.duckdb", "facts", str(tmp_path), "--spark-master", "local[1]")
    assert run.returncode == 2 and "--spark-master goes with --engine spark" in run.stderr


def test_an_export_that_failed_half_way_is_still_reached_by_erasure(tmp_path):
    db = tmp_path / "store" / "s.duckdb"
    with open_store(db) as store:
        store.replace_all(generate(600, seed=3))
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / ".touchpoints.parquet.partial").mkdir()  # the writer cannot create its file
    with pytest.raises(OSError):
        export(db, broken)
    assert (broken / "customers.parquet").is_file()
    assert exported_folders(db) == [broken]
    run = cli(db, "erase", "0000001")
    assert run.returncode == 0, run.stderr
    ids = pq.read_table(broken / "customers.parquet").column("customer_id").to_pylist()
    assert ids and "0000001" not in ids


def test_export_without_a_store_says_so(tmp_path):
    run = cli(tmp_path / "none" / "s.duckdb", "export", str(tmp_path / "out"))
    assert run.returncode == 1 and "no store at" in run.stderr
    assert not (tmp_path / "out").exists()


def test_a_lake_without_optional_columns_reads_as_the_import_would_store_it(exported, tmp_path):
    """Files another tool wrote: optional columns absent, empty values where the spec says
    what empty means (a missing segment, status or extension flag), no sharing table."""
    import pyarrow.compute as pc

    db, out = exported
    lake = tmp_path / "lake"
    lake.mkdir()
    customers = pq.read_table(out / "customers.parquet").drop_columns(
        ["email", "full_name", "phone"]
    )
    unknown = pc.equal(customers["segment"], "unknown")
    customers = customers.set_column(
        customers.schema.get_field_index("segment"),
        "segment",
        pc.if_else(unknown, pa.scalar(None, pa.string()), customers["segment"]),
    )
    pq.write_table(customers, lake / "customers.parquet")
    events = pq.read_table(out / "consent_events.parquet").drop_columns(
        ["source", "notice_version"]
    )
    pq.write_table(events, lake / "consent_events.parquet")
    touch = pq.read_table(out / "touchpoints.parquet").drop_columns(["channel", "campaign_id"])
    pq.write_table(touch, lake / "touchpoints.parquet")
    pq.write_table(
        pq.read_table(out / "orders.parquet").drop_columns(["currency"]), lake / "orders.parquet"
    )
    requests = pq.read_table(out / "privacy_requests.parquet")
    done = pc.is_valid(requests["completed_at"])
    derivable = pc.or_(
        pc.and_(pc.equal(requests["status"], "completed"), done),
        pc.and_(pc.equal(requests["status"], "open"), pc.invert(done)),
    )
    assert pc.sum(derivable).as_py() > 0 and pc.sum(requests["extended"]).as_py() > 0
    requests = requests.set_column(
        requests.schema.get_field_index("status"),
        "status",
        pc.if_else(derivable, pa.scalar(None, pa.string()), requests["status"]),
    )
    requests = requests.set_column(
        requests.schema.get_field_index("extended"),
        "extended",
        pc.if_else(requests["extended"], True, pa.scalar(None, pa.bool_())),
    )
    pq.write_table(requests, lake / "privacy_requests.parquet")
    for args in (["--min-cell", "1"], ["--segment", "unknown", "--min-cell", "1"]):
        on_store = json.loads(cli(db, "metrics", *args).stdout)
        run = cli(db, "metrics", *args, "--source", str(lake))
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout) == on_store
