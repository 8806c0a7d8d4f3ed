"""The fact layer against the canonical tables: every figure computed from the facts must
equal the same figure computed straight from the canonical tables (the oracle), on the
hand-computed spec cases and on seeded demos, for several periods, as-of dates and filters,
and again after an import, an undo and an erasure."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest

from data.intake.loader import import_files
from data.storage import facts
from data.storage.engines import StoreSource
from data.storage.store import open_store
from data.synthetic.generator import generate, generate_chunks
from metrics import api
from metrics.consent_views import decisions_per_period
from metrics.params import Filters, resolve_params
from metrics.report import compute, to_json
from metrics.rules import Tables, classes
from tests.conftest import demo_file
from tests.data.test_erasure import cli
from tests.engines.test_parity import _pages, plain
from tests.test_spec_cases import CASES, first_difference

SETTINGS = [
    {},
    {"as_of": date(2025, 6, 30), "min_cell": 1},
    {"start": date(2026, 1, 1), "end": date(2026, 3, 15), "min_cell": 3},
    {"as_of": date(2024, 2, 29), "marketing_purposes": ("sms_marketing", "personalization")},
    {"filters": Filters(countries=("DE", "US"), segments=("premium", "unknown")), "min_cell": 1},
    {"filters": Filters(jurisdictions=("GDPR",), channels=("paid_search",)), "min_cell": 1},
    # Derived from country and state where a customer has no jurisdiction of their own.
    DERIVED := {"filters": Filters(jurisdictions=("CCPA", "OTHER")), "min_cell": 1},
    # Counts with noise: from the facts their record keys are a column, from the canonical
    # tables a hash of each id (the same noise either way).
    {"perturbed": True, "min_cell": 5},
    NOISE := {"perturbed": True, "as_of": date(2025, 6, 30), "filters": Filters(countries=("DE",))},
    # Revenue in one currency; a D before many customers' latest class took effect.
    {"start": date(2025, 1, 1), "end": date(2025, 3, 31), "min_cell": 1, "currency": "EUR"},
]


def _agree(db: Path, settings: dict, *, pages: bool = False) -> dict:
    """The published figures from the facts, checked against the canonical tables."""
    with StoreSource(db) as source:
        assert facts.CONSENT_INTERVALS in source.facts(), "the facts are not current"
        tables = Tables.from_source(source)
        chosen = {k: settings[k] for k in ("perturbed", "currency") if k in settings}
        given = {k: v for k, v in settings.items() if k not in chosen}
        params = dataclasses.replace(resolve_params(source.date_range(), **given), **chosen)
        compute = _pages if pages else api.published
        from_facts = plain(compute(tables, params))
        oracle = plain(compute(tables.canonical_only(), params))
    difference = first_difference(oracle, from_facts)
    assert difference is None, difference
    return from_facts


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    return demo_file(tmp_path_factory.mktemp("facts"), 3_000, seed=13)


@pytest.mark.parametrize("settings", SETTINGS, ids=range(len(SETTINGS)))
def test_figures_from_the_facts_equal_the_canonical_ones(demo, settings):
    figures = _agree(demo, settings)
    assert figures["customers"] is None or figures["customers"] > 0


@pytest.mark.parametrize(
    "settings", [SETTINGS[0], SETTINGS[4], NOISE], ids=["defaults", "filters", "noise"]
)
def test_every_page_figure_from_the_facts_equals_the_canonical_one(demo, settings):
    _agree(demo, settings, pages=True)


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir() if p.is_dir()))
def test_spec_cases_agree(case, tmp_path):
    db = tmp_path / "s.duckdb"
    with open_store(db) as store:
        import_files(store, sorted((CASES / case).glob("*.csv")))
    for settings in [*SETTINGS[:4], DERIVED]:
        _agree(db, settings)


def test_facts_follow_an_import_an_undo_and_an_erasure(tmp_path):
    db = tmp_path / "s.duckdb"
    with open_store(db) as store:
        store.replace_all(generate(1_500, seed=17))
    extra = tmp_path / "consent_events.csv"
    extra.write_text(
        "customer_id,purpose,decision,occurred_at\n"
        "0000001,email_marketing,withdrawn,2026-09-29T10:00:00Z\n"
        "0000002,email_marketing,granted,2026-09-29\n"
        "0000002,email_marketing,denied,2026-09-29\n"
        "0000003,sms_marketing,granted,2026-09-30T23:00:00Z\n",
        encoding="utf-8",
    )
    before = _agree(db, {"min_cell": 1})
    assert cli(db, "import", str(extra)).returncode == 0
    imported = _agree(db, {"min_cell": 1})
    assert imported != before
    assert cli(db, "imports", "undo").returncode == 0
    assert _agree(db, {"min_cell": 1}) == before
    assert cli(db, "erase", "0000004", "0000005").returncode == 0
    erased = _agree(db, {"min_cell": 1})
    assert erased["customers"] == before["customers"] - 2
    with StoreSource(db) as source:
        assert set(source.facts()) == set(facts.FACT_TABLES)
        for name, f in source.facts().items():
            gone = f.filter(f.customer_id.isin(["0000004", "0000005"])).count().execute()
            assert gone == 0, name


def test_orders_touchpoints_and_requests_redo_their_customers_facts(tmp_path):
    """An import of orders, touchpoints and an erasure request changes the activity and
    class facts of the customers it names, and only through their rows."""
    db = tmp_path / "s.duckdb"
    with open_store(db) as store:
        store.replace_all(generate(1_200, seed=29))
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "orders.csv").write_text(
        "order_id,customer_id,ordered_at,revenue,currency\n"
        "X-1,0000011,2026-09-20T10:00:00Z,120.50,EUR\n"
        "X-2,0000011,2026-09-20T18:00:00Z,9.99,EUR\n"
        "X-3,0000012,2026-08-02T10:00:00Z,40,EUR\n",
        encoding="utf-8",
    )
    (folder / "touchpoints.csv").write_text(
        "customer_id,occurred_at,type,channel\n"
        "0000013,2026-09-21T10:00:00Z,cart_add,web\n"
        "0000013,2026-09-22T10:00:00Z,email_click,email\n",
        encoding="utf-8",
    )
    (folder / "privacy_requests.csv").write_text(
        "request_id,customer_id,type,received_at,jurisdiction\n"
        "R-X,0000014,erasure,2026-09-15T10:00:00Z,\n"
        # A request of nobody the store knows: no customer names it, every refresh redoes it.
        "R-Y,,access,2026-09-16T10:00:00Z,LGPD\n",
        encoding="utf-8",
    )
    before = _agree(db, {"min_cell": 1, "start": date(2026, 9, 1)})
    with open_store(db) as store:
        import_files(store, sorted(folder.glob("*.csv")))
        pending = store.con.execute(
            f"SELECT customer_id FROM {facts.PENDING_TABLE} ORDER BY ALL"
        ).fetchall()
        assert pending == [("0000011",), ("0000012",), ("0000013",), ("0000014",)]
    after = _agree(db, {"min_cell": 1, "start": date(2026, 9, 1)})
    assert after["ymn"] != before["ymn"] or after["conversion"] != before["conversion"]
    with StoreSource(db) as source:
        resolved = source.facts()[facts.REQUESTS]
        nobodys = resolved.filter(resolved.customer_id.isnull()).to_pyarrow().to_pylist()
        assert ("R-Y", "LGPD") in [(r["request_id"], r["jurisdiction"]) for r in nobodys]
        assert resolved.count().execute() == source.table("privacy_requests").count().execute()
    for settings in ({"min_cell": 1}, {"min_cell": 1, "as_of": date(2026, 9, 14)}):
        _agree(db, settings)


def test_decisions_and_activity_before_a_customers_creation(tmp_path):
    """A customer is counted from the day they were created, even where their decisions or
    activity are dated earlier (an extract's clocks disagree): their latest class holds from
    the later of the two days, and at an earlier D they are nobody's customer yet."""
    folder = tmp_path / "in"
    folder.mkdir()
    files = {
        "customers.csv": "customer_id,created_at,country,segment\n"
        "C01,2026-03-01T12:00:00Z,DE,retail\n"
        "C02,2026-01-01,DE,retail\n"
        "C03,2026-03-20,FR,premium\n",
        "consent_events.csv": "customer_id,purpose,decision,occurred_at\n"
        "C01,email_marketing,granted,2026-01-10\n"
        "C02,email_marketing,denied,2026-01-05\n"
        "C03,sms_marketing,granted,2026-03-25\n",
        "touchpoints.csv": "customer_id,occurred_at,type\n"
        "C01,2026-02-15T10:00:00Z,cart_add\n"
        "C01,2026-03-05T10:00:00Z,visit\n"
        "C02,2026-02-15T10:00:00Z,visit\n",
        "orders.csv": "order_id,customer_id,ordered_at,revenue\nO1,C01,2026-02-16,80.00\n",
    }
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    db = tmp_path / "s.duckdb"
    with open_store(db) as store:
        import_files(store, sorted(folder.glob("*.csv")))
    period = {"start": date(2026, 2, 1), "end": date(2026, 3, 31), "min_cell": 1}
    before = _agree(db, {**period, "as_of": date(2026, 2, 20)})
    assert before["customers"] == 1  # C02 alone: C01 is created on 1 March
    after = _agree(db, {**period, "as_of": date(2026, 3, 10)})
    assert after["customers"] == 2
    _agree(db, {**period, "as_of": date(2026, 3, 1)})
    _agree(db, {**period, "filters": Filters(countries=("DE",))})


def test_customers_deciding_per_period_are_counted_once_from_the_facts(tmp_path):
    """Customers deciding per period from the consent intervals: each customer once per
    decision and period, also where a day holds several decisions (the losing one counts
    too) and where the view starts within a period (a decision made earlier in the month
    does not count); equal to the canonical tables' distinct count, by week and by month,
    with noise too."""
    folder = tmp_path / "in"
    folder.mkdir()
    files = {
        "customers.csv": "customer_id,created_at,country\n"
        "C01,2026-01-01,DE\nC02,2026-01-01,DE\nC03,2026-01-01,FR\n",
        "consent_events.csv": "customer_id,purpose,decision,occurred_at\n"
        # C01: a tie on 2 March (before the view starts), then granted again on 20 March.
        "C01,email_marketing,granted,2026-03-02T10:00:00Z\n"
        "C01,email_marketing,denied,2026-03-02T10:00:00Z\n"
        "C01,email_marketing,granted,2026-03-20T10:00:00Z\n"
        # C02: granted twice in March, withdrawn in April.
        "C02,email_marketing,granted,2026-03-12T10:00:00Z\n"
        "C02,email_marketing,granted,2026-03-25T10:00:00Z\n"
        "C02,email_marketing,withdrawn,2026-04-02T10:00:00Z\n"
        # C03: granted and, later the same day, denied (which wins the day).
        "C03,email_marketing,granted,2026-03-15T09:00:00Z\n"
        "C03,email_marketing,denied,2026-03-15T17:00:00Z\n",
    }
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    db = tmp_path / "s.duckdb"
    with open_store(db) as store:
        import_files(store, sorted(folder.glob("*.csv")))

    def counted(tables: Tables, params, grain: str) -> dict:
        rows = decisions_per_period(tables, params, grain).to_pyarrow().to_pylist()
        return {(r["period"], r["purpose"], r["decision"]): r for r in rows}

    with StoreSource(db) as source:
        tables = Tables.from_source(source)
        assert facts.CONSENT_INTERVALS in tables.facts
        view = {"start": date(2026, 3, 10), "end": date(2026, 4, 30), "min_cell": 1}
        for perturbed in (False, True):
            params = dataclasses.replace(
                resolve_params(source.date_range(), **view), perturbed=perturbed
            )
            for grain in ("week", "month"):
                oracle = counted(tables.canonical_only(), params, grain)
                assert counted(tables, params, grain) == oracle, (grain, perturbed)
        monthly = counted(tables, params, "month")
    assert {key: row["customers"] for key, row in monthly.items()} == {
        ("2026-03", "email_marketing", "granted"): 3,
        ("2026-03", "email_marketing", "denied"): 1,
        ("2026-04", "email_marketing", "withdrawn"): 1,
    }


@pytest.mark.parametrize("as_of", [date(2024, 3, 1), date(2025, 7, 15), date(2026, 9, 30)])
def test_every_customers_class_from_the_facts_is_the_canonical_one(demo, as_of):
    with StoreSource(demo) as source:
        tables = Tables.from_source(source)
        assert facts.CLASS_INTERVALS in tables.facts
        params = resolve_params(source.date_range(), as_of=as_of)

        def per_customer(t: Tables) -> dict[str, str]:
            rows = classes(t, params).to_pyarrow().to_pylist()
            return {row["customer_id"]: row["cls"] for row in rows}

        from_facts = per_customer(tables)
        assert len(from_facts) > 50
        assert from_facts == per_customer(tables.canonical_only())


def test_facts_of_older_data_are_not_used(tmp_path):
    """A writer killed after its commit, before the facts were rebuilt: readers take the
    canonical tables until the next write rebuilds the facts."""
    db = tmp_path / "s.duckdb"
    with open_store(db) as store:
        store.replace_all(generate(800, seed=19))
    import duckdb

    con = duckdb.connect(str(db))
    con.execute(
        "INSERT INTO consent_events (customer_id, purpose, decision, occurred_at) "
        "VALUES ('0000001', 'email_marketing', 'withdrawn', TIMESTAMP '2026-09-30 12:00:00')"
    )
    facts.changed(con)
    con.close()
    with StoreSource(db) as source:
        assert source.facts() == {}
        tables = Tables.from_source(source)
        params = resolve_params(source.date_range(), min_cell=1)
        # The new withdrawal counts: the figures are the canonical tables', not old facts'.
        figures = api.published(tables, params)
        assert figures == api.published(tables.canonical_only(), params)
        from_old_facts = Tables.from_source(source)
        old = {facts.CONSENT_INTERVALS: source.backend.table(facts.CONSENT_INTERVALS)}
        stale = api.published(dataclasses.replace(from_old_facts, facts=old), params)
        assert stale["consent"]["email_marketing"] != figures["consent"]["email_marketing"]
    with open_store(db):
        pass  # the next writer rebuilds them
    _agree(db, {"min_cell": 1})


def test_an_import_redoes_the_facts_of_its_customers_only(tmp_path):
    db = tmp_path / "s.duckdb"
    with open_store(db) as store:
        store.replace_all(generate(1_000, seed=23))
    extra = tmp_path / "in" / "consent_events.csv"
    extra.parent.mkdir()
    extra.write_text(
        "customer_id,purpose,decision,occurred_at\n"
        "0000007,analytics,denied,2026-09-30T08:00:00Z\n"
        "0000008,analytics,granted,2026-09-30T09:00:00Z\n",
        encoding="utf-8",
    )
    with open_store(db) as store:
        import_files(store, [extra])
        pending = store.con.execute(
            f"SELECT customer_id FROM {facts.PENDING_TABLE} ORDER BY ALL"
        ).fetchall()
        [(whole,)] = store.con.execute(f"SELECT whole FROM {facts.STATE_TABLE}").fetchall()
        assert pending == [("0000007",), ("0000008",)] and whole is False
        assert not facts.current(store.con)
    with open_store(db) as store:
        assert facts.current(store.con)
        assert store.con.execute(f"SELECT count(*) FROM {facts.PENDING_TABLE}").fetchall() == [(0,)]
    figures = _agree(db, {"min_cell": 1})
    assert figures["consent"]["analytics"]["denied"] is not None


def test_the_figures_are_computed_once_per_version_of_the_data(tmp_path):
    """Pages draw several views of one JSON: reads of the same version share it; the oracle
    (no facts) and a new version after a write do not."""
    db = tmp_path / "s.duckdb"
    with open_store(db) as store:
        store.replace_all(generate(600, seed=31))
    with StoreSource(db) as first, StoreSource(db) as second:
        assert first.version == second.version
        params = resolve_params(first.date_range(), min_cell=1)
        shared = compute(Tables.from_source(first), params)
        assert compute(Tables.from_source(second), params) is shared
        assert compute(Tables.from_source(first).canonical_only(), params) is not shared
    assert cli(db, "erase", "0000001").returncode == 0
    with StoreSource(db) as after:
        assert after.version != first.version
        fresh = compute(Tables.from_source(after), params)
        assert fresh is not shared
        assert to_json(fresh)["customers"] == to_json(shared)["customers"] - 1


@pytest.mark.parametrize("per_part", [1_000_000, 700], ids=["one part", "four parts"])
def test_facts_built_chunk_by_chunk_by_the_demo_equal_the_whole_build(
    tmp_path, monkeypatch, per_part
):
    """The demo's facts, built chunk by chunk, equal a whole rebuild, in one part or in
    several (customers split by record key, the requests of nobody with the first)."""
    monkeypatch.setattr(facts, "CUSTOMERS_PER_PART", per_part)
    db = tmp_path / "s.duckdb"
    with open_store(db) as store:
        store.replace_all(generate_chunks(2_400, seed=37, block=600))

    def rows(name: str) -> list[tuple]:
        with open_store(db, read_only=True) as store:
            assert facts.current(store.con)
            return sorted(store.con.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)

    chunked = {name: rows(name) for name in facts.FACT_TABLES}
    assert all(chunked.values())
    with open_store(db) as store, store.transaction() as con:
        facts.changed(con)  # everyone: the next close rebuilds them whole
    assert {name: rows(name) for name in facts.FACT_TABLES} == chunked
    with open_store(db, read_only=True) as store:
        left = "SELECT count(*) FROM duckdb_tables() WHERE starts_with(table_name, ?)"
        assert store.con.execute(left, [facts.REBUILD_PREFIX]).fetchall() == [(0,)]
    _agree(db, {"min_cell": 1})


def test_the_record_keys_kept_in_the_facts_are_the_hashes_of_the_ids(demo):
    with StoreSource(demo) as source:
        for name in facts.KEYED:
            f = source.facts()[name]
            wrong = f.filter(f[facts.RECORD_KEY] != facts.record_key(f.customer_id))
            assert f.count().execute() > 0
            assert wrong.count().execute() == 0, name


def test_activity_days_are_written_in_day_order(tmp_path):
    """Each chunk's days in order: a period's days lie in few row groups, and a scan for the
    period skips the others by their ranges of days."""
    db = tmp_path / "s.duckdb"
    with open_store(db) as store:
        store.replace_all(generate_chunks(2_000, seed=41, block=1_000))

    def days() -> list:
        with open_store(db, read_only=True) as store:
            query = f'SELECT day FROM "{facts.ACTIVITY_DAYS}" ORDER BY rowid'
            return [day for (day,) in store.con.execute(query).fetchall()]

    chunked = days()
    # Two chunks, each in day order: the order falls back exactly once.
    assert sum(b < a for a, b in zip(chunked, chunked[1:], strict=False)) == 1
    with open_store(db) as store, store.transaction() as con:
        facts.changed(con)  # everyone: the next close rebuilds them whole
    assert days() == sorted(chunked)


def test_the_facts_command_brings_a_stores_facts_up_to_date(tmp_path):
    """Facts of an older definition (a store from before an upgrade) are not used; the
    command rebuilds them, and says so, or that they are current."""
    db = tmp_path / "s.duckdb"
    with open_store(db) as store:
        store.replace_all(generate(600, seed=43))
    import duckdb

    con = duckdb.connect(str(db))
    con.execute(f"UPDATE {facts.STATE_TABLE} SET definition = definition - 1")
    con.close()
    with StoreSource(db) as source:
        assert source.facts() == {}
    done = cli(db, "facts")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "facts rebuilt: they are of the data as it is"
    _agree(db, {"min_cell": 1})
    again = cli(db, "facts")
    assert again.stdout.strip() == "facts already current"
