"""One suite, every engine: the same data on the store, on its Parquet export read by DuckDB
and on the same export read by Spark must give the same figures (floats within 1e-9).

The data: every hand-computed spec case (whose expected JSON the Spark figures must also
match) and two seeded demos; the figures: the metrics JSON of the command line for several
parameter sets and filters, and every entry point the dashboard's pages call.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from consentlens import cli
from data.intake.loader import import_files
from data.storage import facts
from data.storage.engines import ParquetSource, StoreSource
from data.storage.export import export
from data.storage.store import open_store
from data.synthetic.generator import generate
from metrics import api, consent_views, erasure_views, impact, overview, ymn_views
from metrics.params import Filters, resolve_params
from metrics.person import person_report
from metrics.rules import Tables
from tests.engines.conftest import ENGINE_IDS, opener
from tests.test_spec_cases import CASES, first_difference

pytestmark = pytest.mark.spark

SPEC_CASES = sorted(p for p in CASES.iterdir() if any(p.glob("expected_*.json")))
DEMOS = {
    "demo-baseline": {"customers": 3_000, "seed": 7},
    "demo-erasure-surge": {"customers": 2_000, "seed": 3, "scenario": "erasure_surge"},
}
DEMO_ARGS = [
    [],
    [
        "--min-cell",
        "1",
        "--start",
        "2026-01-01",
        "--jurisdiction",
        "GDPR",
        "--jurisdiction",
        "UK_GDPR",
    ],
    ["--as-of", "2026-03-31", "--marketing-purposes", "email_marketing,personalization"],
    [
        *("--country", "US", "--segment", "premium", "--segment", "unknown"),
        *("--channel", "paid_search", "--start", "2025-07-01", "--end", "2026-06-30"),
        *("--min-cell", "1"),
    ],
]


@dataclasses.dataclass(frozen=True)
class Dataset:
    name: str
    store: Path
    parquet: Path
    expected: tuple[Path, ...] = ()  # hand-computed metrics JSON, for spec cases


def _dataset(root: Path, name: str) -> Dataset:
    folder = root / name
    store = folder / "store.duckdb"
    with open_store(store) as s:
        if name in DEMOS:
            s.replace_all(generate(**DEMOS[name]))
            expected: tuple[Path, ...] = ()
        else:
            case = CASES / name
            import_files(s, sorted(case.glob("*.csv")))
            expected = tuple(sorted(case.glob("expected_*.json")))
    export(store, folder / "parquet")
    return Dataset(name, store, folder / "parquet", expected)


@pytest.fixture(scope="module")
def datasets(tmp_path_factory) -> dict[str, Dataset]:
    root = tmp_path_factory.mktemp("parity")
    return {name: _dataset(root, name) for name in [*(p.name for p in SPEC_CASES), *DEMOS]}


def _metrics(capsys, data: Dataset, engine: str, master: str, args: list[str]) -> dict:
    where = {
        "store": [],
        "parquet-duckdb": ["--source", str(data.parquet)],
        "parquet-spark": [
            *("--source", str(data.parquet), "--engine", "spark"),
            *("--spark-master", master),
        ],
    }[engine]
    capsys.readouterr()
    status = cli.main(["--db", str(data.store), "metrics", *args, *where])
    out, err = capsys.readouterr()
    assert status == 0, err
    return json.loads(out)


@pytest.mark.parametrize("case", [p.name for p in SPEC_CASES])
def test_spec_cases_give_the_hand_computed_json_on_every_engine(
    case, datasets, spark_master, capsys
):
    data = datasets[case]
    assert data.expected
    for path in data.expected:
        expected = json.loads(path.read_text(encoding="utf-8"))
        for engine in ENGINE_IDS:
            got = _metrics(capsys, data, engine, spark_master, expected["args"])
            difference = first_difference(expected["metrics"], got)
            assert difference is None, f"{path.name} on {engine}: {difference}"


@pytest.mark.parametrize("demo", list(DEMOS))
@pytest.mark.parametrize("args", DEMO_ARGS, ids=lambda a: " ".join(a) or "defaults")
def test_demo_metrics_json_is_identical_on_every_engine(demo, args, datasets, spark_master, capsys):
    data = datasets[demo]
    on_store = _metrics(capsys, data, "store", spark_master, args)
    assert on_store["customers"] is None or on_store["customers"] > 0
    for engine in ENGINE_IDS[1:]:
        difference = first_difference(on_store, _metrics(capsys, data, engine, spark_master, args))
        assert difference is None, f"{engine}: {difference}"


# --------------------------------------------------------------------------- page entry points


def plain(value: Any) -> Any:
    """A figure as JSON-like data: frames as lists of rows, missing values as None."""
    if isinstance(value, pd.DataFrame):
        frame = value.reset_index() if not isinstance(value.index, pd.RangeIndex) else value
        return {
            "columns": [str(c) for c in frame.columns],
            "rows": [[plain(v) for v in row] for row in frame.itertuples(index=False)],
        }
    if isinstance(value, pd.Series):
        return plain(value.to_frame())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating | Decimal):
        return None if math.isnan(float(value)) else float(value)
    if isinstance(value, pd.Timestamp | date):
        return value.isoformat()
    return value


def _pages(tables: Tables, params) -> dict[str, Any]:
    """What the dashboard's pages compute for params, by page."""
    views = ymn_views.views(tables, params)
    erasure = erasure_views.erasure_figures(tables, params)
    return {
        "sidebar": None,  # filled from the source (row counts, dates, filter choices)
        "published": api.published(tables, params),
        "overview": overview.headline(tables, params),
        "consent": consent_views.consent_overview(tables, params),
        "consent by segment": consent_views.opted_in_by(tables, params, "segment"),
        "consent by method": consent_views.opted_in_by(tables, params, "method"),
        "consent trend": consent_views.consent_trend(tables, params, "week"),
        "ymn": views,
        "erasure over time": erasure.requests_over_time("month", "jurisdiction"),
        "erasure backlog": erasure.backlog_by("week"),
        "erasure due": erasure.due_status(),
        "erasure on time": erasure.on_time(),
        "impact by class": impact.impact(tables, params),
        "impact by state": impact.impact(tables, params, "state", "email_marketing"),
        # Everything but when it was made.
        "person": dataclasses.replace(person_report(tables, params, "0000042"), generated_at=""),
    }


PAGE_SETTINGS = [
    {},
    {
        "as_of": date(2026, 3, 31),
        "min_cell": 5,
        "filters": Filters(jurisdictions=("GDPR",), segments=("premium", "student")),
    },
]


@pytest.mark.parametrize("settings", PAGE_SETTINGS, ids=["defaults", "as-of-and-filters"])
def test_page_figures_are_identical_on_every_engine(settings, datasets, spark_master):
    data = datasets["demo-baseline"]
    figures = {}
    for engine in ENGINE_IDS:
        with opener(engine, data.store, data.parquet, spark_master)() as source:
            summary = api.summary_of(source)
            params = resolve_params(source.date_range(), **settings)
            pages = _pages(Tables.from_source(source), params)
            pages["sidebar"] = dataclasses.replace(summary, info={})
            figures[engine] = plain(pages)
    assert figures["store"]["sidebar"]["row_counts"]["customers"] > 0
    assert figures["store"]["person"]["rows"]["customers"]
    for engine in ENGINE_IDS[1:]:
        for page, expected in figures["store"].items():
            difference = first_difference(expected, figures[engine][page], f"$.{page}")
            assert difference is None, f"{engine}: {difference}"


def test_a_lake_folder_of_parts_without_sharing_reads_alike_on_both_engines(
    datasets, spark_master, tmp_path
):
    data = datasets["demo-erasure-surge"]
    lake = tmp_path / "lake"
    (lake / "customers").mkdir(parents=True)
    customers = pq.read_table(data.parquet / "customers.parquet")
    for part, start in enumerate(range(0, customers.num_rows, 700)):
        pq.write_table(customers.slice(start, 700), lake / "customers" / f"part-{part}.parquet")
    for name in ("consent_events", "touchpoints", "orders", "privacy_requests"):
        shutil.copy(data.parquet / f"{name}.parquet", lake)
    read = {}
    for engine in ("duckdb", "spark"):
        options = {"master": spark_master} if engine == "spark" else {}
        with ParquetSource(lake, engine, **options) as source:
            tables = Tables.from_source(source)
            params = resolve_params(source.date_range(), min_cell=1)
            read[engine] = plain(
                {"counts": source.row_counts(), "metrics": api.published(tables, params)}
            )
    assert read["duckdb"]["counts"]["customers"] == customers.num_rows
    assert read["duckdb"]["counts"]["sharing"] == 0
    assert first_difference(read["duckdb"], read["spark"]) is None


@pytest.mark.parametrize(
    ("where", "remote"),
    [(["--spark-master", "local[1]"], None), ([], "local")],
    ids=["spark-master", "spark-connect"],
)
def test_the_command_on_spark_prints_the_stores_json(where, remote, datasets, capsys, spark_master):
    """The command as users run it, in a process of its own: on a master URL, and through
    Spark Connect (`SPARK_REMOTE=local` starts a Connect server beside the client)."""
    data = datasets["demo-baseline"]
    args = ["--min-cell", "5", "--country", "DE", "--as-of", "2026-05-31"]
    on_store = _metrics(capsys, data, "store", spark_master, args)
    env = {k: v for k, v in os.environ.items() if k != "SPARK_REMOTE"}
    if remote:
        env["SPARK_REMOTE"] = remote
    run = subprocess.run(
        [
            *(sys.executable, "-m", "consentlens", "--db", str(data.store), "metrics", *args),
            *("--source", str(data.parquet), "--engine", "spark", *where),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert run.returncode == 0, run.stderr
    assert first_difference(on_store, json.loads(run.stdout)) is None


# --------------------------------------------------------------------------- facts on Spark


def _sorted_rows(table) -> list[dict[str, Any]]:
    rows = plain(table.to_pyarrow().to_pylist())
    for row in rows:
        # The store keeps a missing segment as such, a Parquet source reads it as "unknown"
        # (what the figures count it as in both cases).
        row["segment"] = row.get("segment") or "unknown"
        # The store's facts keep their record keys, DuckDB's hash (another engine's differs).
        row.pop(facts.RECORD_KEY, None)
    return sorted(rows, key=lambda row: json.dumps(row, sort_keys=True, default=str))


def test_facts_built_on_spark_equal_the_stores_and_give_the_canonical_figures(
    datasets, spark_master, tmp_path
):
    """Spark builds the facts of a Parquet folder by the store's definitions: the same rows
    as the store's own facts; and the page figures from them, read by DuckDB and by Spark,
    are those of the canonical tables."""
    data = datasets["demo-baseline"]
    folder = tmp_path / "lake"
    shutil.copytree(data.parquet, folder)
    with ParquetSource(folder, "spark", master=spark_master) as source:
        assert source.facts() == {}
        written = source.write_facts()
    with StoreSource(data.store) as store, ParquetSource(folder, "duckdb") as parquet:
        assert set(parquet.facts()) == set(store.facts()) == set(facts.FACT_TABLES)
        for name, table in store.facts().items():
            assert written[name] == table.count().to_pyarrow().as_py() > 0
            assert _sorted_rows(parquet.facts()[name]) == _sorted_rows(table), name
        oracle = {}
        tables = Tables.from_source(parquet)
        settings = [*PAGE_SETTINGS, {"start": date(2026, 2, 1), "min_cell": 1}]
        for number, chosen in enumerate(settings):
            params = resolve_params(parquet.date_range(), **chosen)
            oracle[number] = plain(_pages(tables.canonical_only(), params))
            difference = first_difference(oracle[number], plain(_pages(tables, params)))
            assert difference is None, f"duckdb: {difference}"
    # Spark from its own facts (its canonical figures are the suite's other tests').
    with ParquetSource(folder, "spark", master=spark_master) as source:
        tables = Tables.from_source(source)
        assert set(tables.facts) == set(facts.FACT_TABLES)
        params = resolve_params(source.date_range(), **settings[1])
        difference = first_difference(oracle[1], plain(_pages(tables, params)))
        assert difference is None, f"spark: {difference}"
