"""Tests of the synthetic data generator: determinism, schema conformance, built-in effects."""

from __future__ import annotations

import re
from datetime import datetime

import duckdb
import pyarrow as pa
import pytest

from data.storage.schema import (
    DECISIONS,
    PURPOSES,
    REQUEST_STATUSES,
    REQUEST_TYPES,
    TABLES,
    Kind,
    derive_jurisdiction,
)
from data.synthetic.generator import (
    BLOCK_CUSTOMERS,
    DEMO_END,
    DEMO_START,
    SCENARIOS,
    SURGE_START,
    generate,
    generate_chunks,
)

N = 30_000  # large enough for the effects to be clear, small enough to stay fast
SMALL = 5_000

EXPECTED_TYPES: dict[Kind, pa.DataType] = {
    Kind.TIMESTAMP: pa.timestamp("us"),
    Kind.DECIMAL: pa.decimal128(18, 4),
    Kind.BOOLEAN: pa.bool_(),
}


@pytest.fixture(scope="module", params=[BLOCK_CUSTOMERS, 7_500], ids=["one-block", "blocks"])
def tables(request) -> dict[str, pa.Table]:
    """The demo as one block, and as four blocks of their own streams: every effect below
    must hold both ways."""
    return generate(N, seed=7, block=request.param)


def _connect(tables: dict[str, pa.Table]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for name, table in tables.items():
        con.register(name, table)
    # Jurisdiction of every (country, state) present, derived by the schema's own rule.
    pairs = con.execute("SELECT DISTINCT country, state FROM customers").fetchall()
    rows = [(c, s, derive_jurisdiction(c, s)) for c, s in pairs]
    con.register(
        "derived",
        pa.table(
            {
                "country": pa.array([r[0] for r in rows], pa.string()),
                "state": pa.array([r[1] for r in rows], pa.string()),
                "derived": pa.array([r[2] for r in rows], pa.string()),
            }
        ),
    )
    con.execute("""
        CREATE TEMP VIEW people AS
        SELECT c.*, COALESCE(c.jurisdiction, d.derived) AS jur
        FROM customers c
        JOIN derived d ON d.country IS NOT DISTINCT FROM c.country
                      AND d.state IS NOT DISTINCT FROM c.state
    """)
    # Consent state at DEMO_END: latest event, the most restrictive on equal timestamps.
    con.execute("""
        CREATE TEMP VIEW consent_state AS
        SELECT customer_id, purpose, decision FROM (
            SELECT *, row_number() OVER (
                PARTITION BY customer_id, purpose
                ORDER BY occurred_at DESC,
                         CASE decision WHEN 'withdrawn' THEN 0 WHEN 'denied' THEN 1 ELSE 2 END
            ) AS rn
            FROM consent_events
        ) WHERE rn = 1
    """)
    return con


@pytest.fixture(scope="module")
def con(tables: dict[str, pa.Table]) -> duckdb.DuckDBPyConnection:
    return _connect(tables)


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    return con.execute(sql).fetchone()[0]


# --------------------------------------------------------------------------------------------
# API and determinism
# --------------------------------------------------------------------------------------------


def test_unknown_scenario_raises() -> None:
    with pytest.raises(ValueError, match="scenario"):
        generate(100, scenario="no_such_scenario")


def test_non_positive_customers_raise() -> None:
    with pytest.raises(ValueError):
        generate(0)


def test_scenarios_are_described() -> None:
    assert "baseline" in SCENARIOS
    assert len(SCENARIOS) >= 2
    assert all(isinstance(d, str) and d for d in SCENARIOS.values())


def test_same_inputs_give_identical_tables() -> None:
    first = generate(SMALL, seed=11)
    second = generate(SMALL, seed=11)
    assert first.keys() == second.keys()
    for name in first:
        assert first[name].equals(second[name]), name


def test_other_seed_or_scenario_gives_different_tables() -> None:
    base = generate(SMALL, seed=11)
    other_seed = generate(SMALL, seed=12)
    other_scenario = generate(SMALL, seed=11, scenario="low_consent")
    for name in ("customers", "consent_events", "touchpoints", "orders"):
        assert not base[name].equals(other_seed[name]), name
    assert not base["consent_events"].equals(other_scenario["consent_events"])


def test_progress_reports_every_table_without_personal_data() -> None:
    messages: list[str] = []
    result = generate(SMALL, seed=3, progress=messages.append)
    text = "\n".join(messages)
    for name in TABLES:
        assert name in text
    emails = result["customers"].column("email").drop_null().to_pylist()
    names = result["customers"].column("full_name").drop_null().to_pylist()
    assert "@" not in text
    assert not any(n in text for n in names[:500])
    assert len(emails) > 0


# --------------------------------------------------------------------------------------------
# Schema conformance
# --------------------------------------------------------------------------------------------


def _check_conformance(tables: dict[str, pa.Table], customers: int) -> None:
    assert list(tables) == list(TABLES)
    for name, spec in TABLES.items():
        table = tables[name]
        assert table.column_names == spec.column_names, name
        for col in spec.columns:
            expected = EXPECTED_TYPES.get(col.kind, pa.string())
            assert table.schema.field(col.name).type == expected, (name, col.name)
            values = table.column(col.name)
            if col.required:
                assert values.null_count == 0, (name, col.name)
            if col.unique:
                assert len(values.unique()) == len(values), (name, col.name)

    con = _connect(tables)
    ids = "SELECT customer_id FROM customers"
    for name in ("consent_events", "touchpoints", "sharing"):
        orphans = _scalar(con, f"SELECT count(*) FROM {name} WHERE customer_id NOT IN ({ids})")
        assert orphans == 0, name
    assert (
        _scalar(
            con,
            f"""SELECT count(*) FROM orders
                            WHERE customer_id IS NOT NULL AND customer_id NOT IN ({ids})""",
        )
        == 0
    )
    assert _scalar(con, "SELECT min(revenue) FROM orders") >= 0
    assert 0 < tables["customers"].num_rows <= customers

    # Every timestamp lies in the fixed demo period.
    for name, spec in TABLES.items():
        for column in spec.timestamp_columns:
            low, high = con.execute(f"SELECT min({column}), max({column}) FROM {name}").fetchone()
            assert low >= DEMO_START and high <= DEMO_END, (name, column)


def test_tables_conform_to_schema(tables: dict[str, pa.Table]) -> None:
    _check_conformance(tables, N)


@pytest.mark.parametrize("scenario", sorted(set(SCENARIOS) - {"baseline"}))
def test_every_scenario_conforms(scenario: str) -> None:
    _check_conformance(generate(SMALL, seed=5, scenario=scenario), SMALL)


def test_values_are_canonical(con: duckdb.DuckDBPyConnection) -> None:
    def distinct(sql: str) -> set:
        return {row[0] for row in con.execute(sql).fetchall()}

    assert distinct("SELECT DISTINCT purpose FROM consent_events") == set(PURPOSES)
    assert distinct("SELECT DISTINCT decision FROM consent_events") == set(DECISIONS)
    assert distinct("SELECT DISTINCT method FROM consent_events") == {"explicit", "implied", "gpc"}
    assert distinct("SELECT DISTINCT type FROM privacy_requests") == set(REQUEST_TYPES)
    assert distinct("SELECT DISTINCT status FROM privacy_requests") == set(REQUEST_STATUSES)
    types = distinct("SELECT DISTINCT type FROM touchpoints")
    assert types == {"visit", "email_open", "email_click", "cart_add"}
    countries = distinct("SELECT DISTINCT country FROM customers WHERE country IS NOT NULL")
    assert all(re.fullmatch(r"[A-Z]{2}", c) for c in countries)
    assert "NA" in countries  # Namibia
    states = distinct("SELECT DISTINCT state FROM customers WHERE state IS NOT NULL")
    assert all(re.fullmatch(r"[A-Z]{2}", s) for s in states)
    assert (
        _scalar(
            con,
            "SELECT count(*) FROM customers WHERE state IS NOT NULL "
            "AND country IS DISTINCT FROM 'US'",
        )
        == 0
    )
    assert distinct("SELECT DISTINCT notice_version FROM consent_events") == {
        "v1",
        "v2",
        "v3",
        "v4",
    }
    # Stated jurisdictions agree with the derivation rule.
    assert (
        _scalar(
            con,
            """SELECT count(*) FROM customers c JOIN derived d
                           ON d.country IS NOT DISTINCT FROM c.country
                          AND d.state IS NOT DISTINCT FROM c.state
                           WHERE c.jurisdiction IS NOT NULL AND c.jurisdiction <> d.derived""",
        )
        == 0
    )


def test_ids_are_zero_padded_numbers(tables: dict[str, pa.Table]) -> None:
    ids = tables["customers"].column("customer_id").to_pylist()
    assert all(i.isdigit() for i in ids)
    assert len({len(i) for i in ids}) == 1
    assert all(i.startswith("0") for i in ids)
    order_ids = tables["orders"].column("order_id").to_pylist()
    assert all(i.isdigit() and i.startswith("0") for i in order_ids)


def test_personal_fields_look_real(tables: dict[str, pa.Table]) -> None:
    customers = tables["customers"]
    emails = customers.column("email").drop_null().to_pylist()
    assert len(set(emails)) == len(emails)
    assert all(re.fullmatch(r"[a-z0-9]+\.[a-z0-9]+[0-9]+@[a-z0-9.-]+\.[a-z]+", e) for e in emails)
    phones = customers.column("phone").drop_null().to_pylist()
    assert all(re.fullmatch(r"\+\d{1,3} \d{3} \d{5,8}", p) for p in phones)
    assert 0 < customers.column("phone").null_count < customers.num_rows
    names = customers.column("full_name").drop_null().to_pylist()
    assert len(set(names)) > 1000
    assert any(not n.isascii() for n in names)  # locales keep their accents


def test_events_follow_sign_up(con: duckdb.DuckDBPyConnection) -> None:
    for name, column in (
        ("consent_events", "occurred_at"),
        ("touchpoints", "occurred_at"),
        ("orders", "ordered_at"),
        ("sharing", "shared_at"),
    ):
        early = _scalar(
            con,
            f"""SELECT count(*) FROM {name} x JOIN customers c USING (customer_id)
                                 WHERE x.{column} < c.created_at""",
        )
        assert early == 0, name


def test_request_outcomes_are_consistent(con: duckdb.DuckDBPyConnection) -> None:
    assert (
        _scalar(
            con,
            """SELECT count(*) FROM privacy_requests
                           WHERE completed_at < received_at""",
        )
        == 0
    )
    assert (
        _scalar(
            con,
            """SELECT count(*) FROM privacy_requests
                           WHERE status = 'completed' AND completed_at IS NULL""",
        )
        == 0
    )
    assert (
        _scalar(
            con,
            """SELECT count(*) FROM privacy_requests
                           WHERE status = 'open' AND completed_at IS NOT NULL""",
        )
        == 0
    )
    assert _scalar(con, "SELECT count(*) FROM privacy_requests WHERE extended") > 0
    assert (
        _scalar(
            con,
            """SELECT count(*) FROM privacy_requests
                           WHERE extended AND jurisdiction = 'LGPD'""",
        )
        == 0
    )


def test_consent_ties_are_rare_and_present(con: duckdb.DuckDBPyConnection) -> None:
    ties = _scalar(
        con,
        """SELECT count(*) FROM (
                               SELECT customer_id, purpose, occurred_at FROM consent_events
                               GROUP BY ALL HAVING count(DISTINCT decision) > 1)""",
    )
    events = _scalar(con, "SELECT count(*) FROM consent_events")
    assert 0 < ties < 0.01 * events


def test_gpc_means_denied_and_mostly_us(con: duckdb.DuckDBPyConnection) -> None:
    assert (
        _scalar(
            con,
            """SELECT count(*) FROM consent_events
                           WHERE method = 'gpc' AND decision <> 'denied'""",
        )
        == 0
    )
    us_share = _scalar(
        con,
        """SELECT avg((c.country = 'US')::INT) FROM consent_events e
                               JOIN customers c USING (customer_id) WHERE e.method = 'gpc'""",
    )
    assert us_share > 0.5


def test_sharing_follows_a_third_party_grant(con: duckdb.DuckDBPyConnection) -> None:
    assert _scalar(con, "SELECT count(*) FROM sharing") > 0
    unbacked = _scalar(
        con,
        """
        SELECT count(*) FROM sharing s WHERE NOT EXISTS (
            SELECT 1 FROM consent_events e
            WHERE e.customer_id = s.customer_id AND e.purpose = 'third_party_sharing'
              AND e.decision = 'granted' AND e.occurred_at <= s.shared_at)""",
    )
    assert unbacked == 0
    assert _scalar(con, "SELECT count(*) FROM sharing WHERE sold") > 0
    sold_by = {
        r[0]
        for r in con.execute(
            "SELECT DISTINCT recipient_category FROM sharing WHERE sold"
        ).fetchall()
    }
    assert sold_by == {"data_broker"}


# --------------------------------------------------------------------------------------------
# Built-in effects
# --------------------------------------------------------------------------------------------


def test_sign_ups_grow_over_time(con: duckdb.DuckDBPyConnection) -> None:
    middle = DEMO_START + (DEMO_END - DEMO_START) / 2
    early = _scalar(con, f"SELECT count(*) FROM customers WHERE created_at < '{middle}'")
    late = _scalar(con, f"SELECT count(*) FROM customers WHERE created_at >= '{middle}'")
    assert late > 1.5 * early


def test_opt_in_rates_are_plausible_and_differ(con: duckdb.DuckDBPyConnection) -> None:
    rates = dict(
        con.execute("""SELECT purpose, avg((decision = 'granted')::INT)
                            FROM consent_state GROUP BY purpose""").fetchall()
    )
    assert set(rates) == set(PURPOSES)
    assert all(0.4 <= r <= 0.8 for r in rates.values()), rates
    assert max(rates.values()) - min(rates.values()) > 0.1, rates


def test_several_jurisdictions_including_ccpa(con: duckdb.DuckDBPyConnection) -> None:
    counts = dict(con.execute("SELECT jur, count(*) FROM people GROUP BY jur").fetchall())
    for name in ("GDPR", "UK_GDPR", "CCPA", "US_STATE", "LGPD", "PIPEDA", "OTHER"):
        assert counts.get(name, 0) > 100, (name, counts)


def test_erasure_requests_rise(con: duckdb.DuckDBPyConnection) -> None:
    quarterly = [
        n
        for _, n in con.execute("""
        SELECT date_trunc('quarter', received_at) AS q, count(*) FROM privacy_requests
        WHERE type = 'erasure' GROUP BY q ORDER BY q""").fetchall()
    ]
    half = len(quarterly) // 2
    assert len(quarterly) >= 10
    assert sum(quarterly[half:]) / (len(quarterly) - half) > 2 * sum(quarterly[:half]) / half


def _conversion_by_class(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    return dict(
        con.execute("""
        WITH marketing AS (
            SELECT customer_id,
                   bool_or(decision = 'granted') AS granted,
                   bool_or(decision IN ('denied', 'withdrawn')) AS refused
            FROM consent_state WHERE purpose IN ('email_marketing', 'sms_marketing')
            GROUP BY customer_id),
        erasure AS (
            SELECT DISTINCT customer_id FROM privacy_requests
            WHERE type = 'erasure' AND status <> 'rejected' AND customer_id IS NOT NULL),
        classed AS (
            SELECT c.customer_id,
                   CASE WHEN e.customer_id IS NOT NULL
                             OR (NOT coalesce(m.granted, false) AND coalesce(m.refused, false))
                        THEN 'no'
                        WHEN coalesce(m.granted, false) THEN 'yes'
                        ELSE 'maybe' END AS class
            FROM customers c
            LEFT JOIN marketing m USING (customer_id)
            LEFT JOIN erasure e USING (customer_id))
        SELECT class, avg((customer_id IN (SELECT customer_id FROM orders
                                           WHERE customer_id IS NOT NULL))::INT)
        FROM classed GROUP BY class""").fetchall()
    )


def test_conversion_yes_above_maybe_above_no(con: duckdb.DuckDBPyConnection) -> None:
    rate = _conversion_by_class(con)
    assert rate["yes"] > rate["maybe"] > rate["no"], rate
    assert rate["yes"] > 1.3 * rate["maybe"] and rate["maybe"] > 1.3 * rate["no"], rate


def test_erasure_requesters_disengage_before_asking(con: duckdb.DuckDBPyConnection) -> None:
    end = datetime(DEMO_END.year, DEMO_END.month, DEMO_END.day)
    requesters, others = con.execute(f"""
        WITH asked AS (
            SELECT p.customer_id, p.received_at AS until
            FROM privacy_requests p JOIN customers c USING (customer_id)
            WHERE p.type = 'erasure' AND c.created_at <= p.received_at - INTERVAL 90 DAY),
        rest AS (
            SELECT customer_id, TIMESTAMP '{end}' AS until FROM customers
            WHERE created_at <= TIMESTAMP '{end}' - INTERVAL 90 DAY
              AND customer_id NOT IN (SELECT customer_id FROM privacy_requests
                                      WHERE type = 'erasure' AND customer_id IS NOT NULL)),
        counted AS (
            SELECT w.kind, w.customer_id, count(t.customer_id) AS n
            FROM (SELECT 'asked' AS kind, * FROM asked UNION ALL
                  SELECT 'rest' AS kind, * FROM rest) w
            LEFT JOIN touchpoints t ON t.customer_id = w.customer_id
                 AND t.occurred_at >= w.until - INTERVAL 90 DAY AND t.occurred_at < w.until
            GROUP BY ALL)
        SELECT avg(n) FILTER (kind = 'asked'), avg(n) FILTER (kind = 'rest') FROM counted
    """).fetchone()
    assert requesters < 0.7 * others, (requesters, others)


def test_erased_people_are_gone_but_orders_and_requests_stay(
    tables: dict[str, pa.Table], con: duckdb.DuckDBPyConnection
) -> None:
    erased = _scalar(
        con,
        """SELECT count(*) FROM privacy_requests
                             WHERE type = 'erasure' AND status = 'completed'
                               AND customer_id IS NULL""",
    )
    assert erased > 0
    # Each generated person either remains a customer or was erased exactly once.
    assert tables["customers"].num_rows + erased == N
    assert _scalar(con, "SELECT count(*) FROM orders WHERE customer_id IS NULL") > 0
    # Requests of erased people keep their jurisdiction, so trends by jurisdiction survive.
    assert (
        _scalar(
            con,
            """SELECT count(*) FROM privacy_requests
                           WHERE customer_id IS NULL AND jurisdiction IS NULL""",
        )
        == 0
    )
    # People still present never had a completed erasure.
    assert (
        _scalar(
            con,
            """SELECT count(*) FROM privacy_requests p JOIN customers c
                           USING (customer_id)
                           WHERE p.type = 'erasure' AND p.status = 'completed'""",
        )
        == 0
    )


def test_requests_from_unknown_people(con: duckdb.DuckDBPyConnection) -> None:
    unknown = _scalar(
        con,
        """SELECT count(*) FROM privacy_requests
                              WHERE customer_id IS NOT NULL
                                AND customer_id NOT IN (SELECT customer_id FROM customers)""",
    )
    total = _scalar(con, "SELECT count(*) FROM privacy_requests")
    assert 0 < unknown < 0.1 * total


def test_erasure_deadlines_mostly_met(con: duckdb.DuckDBPyConnection) -> None:
    end = DEMO_END.date()
    done, on_time, open_overdue, open_recent, rejected = con.execute(f"""
        WITH r AS (
            SELECT p.*, coalesce(p.jurisdiction, c.jur, 'OTHER') AS j
            FROM privacy_requests p LEFT JOIN people c USING (customer_id)
            WHERE p.type = 'erasure'),
        d AS (
            SELECT *, CAST(CASE
                WHEN j IN ('GDPR', 'UK_GDPR') AND extended THEN received_at::DATE + INTERVAL 3 MONTH
                WHEN j IN ('GDPR', 'UK_GDPR') THEN received_at::DATE + INTERVAL 1 MONTH
                WHEN j IN ('CCPA', 'US_STATE') AND extended THEN received_at::DATE + 90
                WHEN j IN ('CCPA', 'US_STATE') THEN received_at::DATE + 45
                WHEN j = 'LGPD' THEN received_at::DATE + 15
                WHEN extended THEN received_at::DATE + 60
                ELSE received_at::DATE + 30 END AS DATE) AS due
            FROM r)
        SELECT count(*) FILTER (status = 'completed'),
               count(*) FILTER (status = 'completed' AND completed_at::DATE <= due),
               count(*) FILTER (status = 'open' AND DATE '{end}' > due),
               count(*) FILTER (status = 'open' AND received_at::DATE > DATE '{end}' - 30),
               count(*) FILTER (status = 'rejected')
        FROM d""").fetchone()
    assert 0.8 < on_time / done < 0.99, (on_time, done)
    assert open_overdue > 0 and open_recent > 0 and rejected > 0


# --------------------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------------------


def _erasures_since(tables: dict[str, pa.Table], moment: datetime) -> int:
    con = _connect(tables)
    return _scalar(
        con,
        f"""SELECT count(*) FROM privacy_requests
                            WHERE type = 'erasure' AND received_at >= '{moment}'""",
    )


def test_erasure_surge_doubles_recent_erasures(tables: dict[str, pa.Table]) -> None:
    surge = generate(N, seed=7, scenario="erasure_surge")
    ratio = _erasures_since(surge, SURGE_START) / _erasures_since(tables, SURGE_START)
    assert 1.6 < ratio < 2.5, ratio


def test_low_consent_lowers_every_opt_in(con: duckdb.DuckDBPyConnection) -> None:
    low = _connect(generate(N, seed=7, scenario="low_consent"))
    sql = "SELECT purpose, avg((decision = 'granted')::INT) FROM consent_state GROUP BY purpose"
    base_rates, low_rates = dict(con.execute(sql).fetchall()), dict(low.execute(sql).fetchall())
    assert all(low_rates[p] < base_rates[p] - 0.05 for p in PURPOSES), (low_rates, base_rates)


# --------------------------------------------------------------------------------------------
# Streaming: blocks of their own streams, written chunk by chunk
# --------------------------------------------------------------------------------------------

STREAMED, BLOCK = 4_500, 1_000  # five blocks, the last one short


def _stored(path) -> dict[str, list[dict]]:
    from data.storage.engines import StoreSource

    with StoreSource(path) as source:
        return {
            name: sorted(
                source.table(name).to_pyarrow().to_pylist(),
                key=lambda row: repr(sorted(row.items())),
            )
            for name in TABLES
        }


def test_the_store_is_the_same_whatever_the_chunk_size(tmp_path) -> None:
    from data.storage.store import open_store

    stores = []
    for chunk in (BLOCK, 2 * BLOCK, 10 * BLOCK):
        path = tmp_path / f"chunk-{chunk}" / "s.duckdb"
        with open_store(path) as store:
            written = store.replace_all(generate_chunks(STREAMED, seed=9, block=BLOCK, chunk=chunk))
        stores.append(_stored(path))
        assert written["customers"] == len(stores[-1]["customers"]) > 0
    assert stores[0] == stores[1] == stores[2]
    in_memory = generate(STREAMED, seed=9, block=BLOCK)
    for name in TABLES:
        assert in_memory[name].num_rows == len(stores[0][name]), name
    assert generate(STREAMED, seed=10, block=BLOCK)["customers"] != in_memory["customers"]


def test_chunks_hold_whole_blocks_and_say_how_far_they_are() -> None:
    heard: list[tuple[int, int]] = []
    chunks = list(
        generate_chunks(
            STREAMED, seed=9, block=BLOCK, chunk=2 * BLOCK, done=lambda *d: heard.append(d)
        )
    )
    assert len(chunks) == 3
    assert heard == [(1_000, 4_500), (2_000, 4_500), (3_000, 4_500), (4_000, 4_500), (4_500, 4_500)]
    # Erased people leave no customer row, so a chunk holds at most its blocks' customers.
    assert all(c["customers"].num_rows <= 2 * BLOCK for c in chunks)


def test_identifiers_stay_unique_across_blocks() -> None:
    t = generate(STREAMED, seed=9, block=BLOCK)
    for name, column in (
        ("customers", "customer_id"),
        ("customers", "email"),
        ("orders", "order_id"),
        ("privacy_requests", "request_id"),
    ):
        values = t[name].column(column).drop_null().to_pylist()
        assert len(values) == len(set(values)) > 0, (name, column)
    ids = t["customers"].column("customer_id").to_pylist()
    assert ids == sorted(ids) and ids[-1] <= f"{STREAMED:07d}"
    numbers = [int(v) for v in t["privacy_requests"].column("customer_id").drop_null().to_pylist()]
    unknown = [n for n in numbers if n > STREAMED]
    assert unknown and len(set(unknown)) == len(unknown)
    assert all((n - STREAMED - 1) % 7 == 0 for n in unknown)


def test_chunks_made_ahead_are_the_same_chunks_and_errors_reach_the_caller() -> None:
    from data.synthetic.generator import ahead

    direct = list(generate_chunks(1_200, seed=5, block=400))
    made_ahead = list(ahead(generate_chunks(1_200, seed=5, block=400)))
    assert len(made_ahead) == len(direct) == 3
    for mine, theirs in zip(made_ahead, direct, strict=True):
        assert {name: t.to_pylist() for name, t in mine.items()} == {
            name: t.to_pylist() for name, t in theirs.items()
        }

    def failing():
        yield {"customers": direct[0]["customers"]}
        raise RuntimeError("generator failed")

    seen = []
    with pytest.raises(RuntimeError, match="generator failed"):
        for chunk in ahead(failing()):
            seen.append(chunk)
    assert len(seen) == 1
    # A caller that stops early leaves no thread behind.
    for _chunk in ahead(generate_chunks(1_200, seed=5, block=400)):
        break
    import threading

    assert not any(t.name == "demo-generator" and t.is_alive() for t in threading.enumerate())
