"""The fact layer: tables derived from the canonical ones, brought up to date by every write,
from which the figures are computed instead of from the raw events.

- `fact_consent_intervals`: per customer and purpose, the state each decision day left them
  in (the spec's tie rule applied: on equal timestamps the most restrictive decision wins),
  from that day until the next decision day. The consent state at any date D is the row whose
  interval holds D: one filter, where the raw events need a grouped arg-max over all of them.
- `fact_class_intervals`: per customer, the yes/maybe/no class over the default marketing
  purposes from each day it may change (the customer's creation, a decision day of one of
  those purposes, the first erasure request) until the next one: the class at D is one
  filter. Other marketing purposes are computed from the
  consent intervals.
- `fact_activity_days`: per customer and day with any activity (a touchpoint or an order),
  whether it showed intent or ordered, the revenue of its orders, and the customer's
  previous day with activity, with intent and with an order. A customer's first such day in
  a period is the one whose previous day lies before the period, so "customers active in
  the period" is a count of rows, not a count of distinct customers over every event. Each
  row also carries its customer's latest class and the day it took effect (their class at
  any D from that day on, with no join to the class intervals) and the filter columns.

- `fact_requests`: every privacy request with its jurisdiction resolved (its own, else its
  customer's, else OTHER), its dates and its legal due date: the join with the customers that
  resolving takes is done once per write instead of in every view.

The consent and class intervals carry their customer's creation day and the columns the
sidebar filters by, so "customers at D" under any filters is a filter of one fact.

Each fact is an Ibis expression over the canonical tables, so any engine builds it by the
same definition. Facts are per customer (a request of nobody is redone by every write). In
the store, the writes that change canonical tables mark the data as changed inside their
own transaction, naming the customers they touched (an import's rows, an undone import's
rows, the erased people) or everyone (a demo, a replacing import); the writer redoes the
facts of those customers, or all of them, before it lets go of the store, which is before
readers are given the new copy. A store whose facts
are not of its current data (a writer killed between the two) is read from the canonical
tables until the next write brings them up to date.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir

from data.storage import schema
from data.storage.engines import canonical_columns
from data.storage.transaction import transaction

if TYPE_CHECKING:  # the store's side only: the definitions above are engine-free
    import duckdb

CONSENT_INTERVALS = "fact_consent_intervals"
CLASS_INTERVALS = "fact_class_intervals"
ACTIVITY_DAYS = "fact_activity_days"
REQUESTS = "fact_requests"
FACT_TABLES: tuple[str, ...] = (CONSENT_INTERVALS, CLASS_INTERVALS, ACTIVITY_DAYS, REQUESTS)
# Facts that also hold rows of nobody (a request of an unknown or erased person), from this
# canonical table: no customer names them, so every refresh redoes them (they are few).
NOBODYS: dict[str, str] = {REQUESTS: "privacy_requests"}
# The marketing purposes the class intervals are of: the default ones.
CLASS_PURPOSES: tuple[str, ...] = schema.DEFAULT_MARKETING_PURPOSES
PENDING_TABLE = "store_facts_pending"  # customers whose facts a write made out of date
# The canonical tables the facts are derived from (a write elsewhere leaves them current).
SOURCES: tuple[str, ...] = (
    "customers",
    "consent_events",
    "touchpoints",
    "orders",
    "privacy_requests",
)
STATE_TABLE = "store_facts"  # one row: the data version, the one the facts are of, and
# the definition they were built by (raise DEFINITION when a fact's definition changes)
DEFINITION = 10

# A record's key for the noise of published counts (metrics/perturbation.py): a hash of its
# id, modulo MODULUS. The store's facts carry their customer's (the column RECORD_KEY), so a
# view sums a column instead of hashing every id it counts.
MODULUS = 2**32
RECORD_KEY = "record_key"
KEYED: tuple[str, ...] = (CONSENT_INTERVALS, CLASS_INTERVALS, ACTIVITY_DAYS)
# The order each fact is written in: a period's activity days then lie in a few row groups,
# which a scan for the period reads while it skips the others by their day ranges.
WRITE_ORDER: dict[str, tuple[str, ...]] = {ACTIVITY_DAYS: ("day",)}

_LEVELS = len(schema.RESTRICTIVENESS)


def record_key(ident: ir.StringValue) -> ir.IntegerValue:
    """A record's key: a hash of its id (the same person's key wherever they are counted)."""
    return ident.hash() % MODULUS


def decision_key(e: ir.Table) -> ir.IntegerValue:
    """One sortable number per consent event: its time in microseconds, then how restrictive
    its decision is, so that the largest key is the winning event (spec section 4)."""
    rank = e.decision.cases(*schema.RESTRICTIVENESS.items())
    micros = e.occurred_at.delta(ibis.timestamp("1970-01-01 00:00:00"), unit="microsecond")
    return micros * _LEVELS + (_LEVELS - 1 - rank)


def decision_of(key: ir.IntegerValue) -> ir.StringValue:
    """The decision a key of `decision_key` was made from."""
    # SQL's % keeps the sign of a negative key (an event before 1970): fold it back first.
    winner = (_LEVELS - 1) - ((key % _LEVELS) + _LEVELS) % _LEVELS
    by_rank = [(rank, decision) for decision, rank in schema.RESTRICTIVENESS.items()]
    return winner.cases(*by_rank)


REFUSED_STATES: tuple[str, ...] = (schema.DENIED, schema.WITHDRAWN)  # what refused means


def refused(state: ir.StringValue) -> ir.BooleanValue:
    """A consent state that refuses the purpose: denied or withdrawn."""
    return state.isin(list(REFUSED_STATES))


def class_of(
    granted: ir.BooleanValue, refusal: ir.BooleanValue, erasure: ir.BooleanValue
) -> ir.StringValue:
    """The yes/maybe/no class (spec section 4) of a customer who has granted any marketing
    purpose (`granted`), refused any (`refusal`) and asked for erasure (`erasure`)."""
    return ibis.cases(
        (erasure | (~granted & refusal), schema.NO),
        (granted, schema.YES),
        else_=schema.MAYBE,
    )


def erasure_requests(requests: ir.Table) -> ir.Table:
    """Erasure requests that make their customer "no" from the day received: not rejected,
    of a known customer."""
    r = requests
    return r.filter(
        (r.type == schema.ERASURE) & (r.status != schema.REJECTED) & r.customer_id.notnull()
    )


def holds(interval: ir.Table, day: ir.DateValue) -> ir.BooleanValue:
    """The row of an interval fact is the one in force on `day`."""
    return (interval.valid_from <= day) & (interval.valid_to.isnull() | (interval.valid_to > day))


# The customer's columns the sidebar's filters read, which the facts carry, and the day
# they were created (a date: a fact needs no more of created_at, and a day packs far smaller).
FILTER_COLUMNS = ("country", "state", "jurisdiction", "acquisition_channel", "segment")
CREATED = "created_on"


def created_day(t: ir.Table) -> ir.DateValue:
    """The UTC day a customer was created, from the customers table or a fact carrying it."""
    return t[CREATED] if CREATED in t.columns else t.created_at.date()


def customer_columns(customers: ir.Table) -> ir.Table:
    """(customer_id, created_on and the filter columns): what a fact keeps of its customer,
    so that "customer at D" and the filters need no join."""
    return customers.select("customer_id", *FILTER_COLUMNS, **{CREATED: created_day(customers)})


def previously(decision: str) -> str:
    """The consent intervals' column of the last earlier day with a `decision`."""
    return f"previous_{decision}"


def consent_intervals(events: ir.Table, customers: ir.Table) -> ir.Table:
    """(customer_id, purpose, consent_state, method, prompt_variant, valid_from, valid_to,
    the day's decisions, the last earlier day of each, and the customer's
    `customer_columns`): the winning decision of each decision day, valid from that date
    until the next decision day (exclusive; null when none followed).

    Every decision (schema.DECISIONS) is a column too: whether one was made that day,
    winning or not; and `previously(decision)` the last earlier day one was (null when none
    was). A customer deciding in a period is counted on the first such day in it: the row
    whose previous day of that decision lies before the period, so no count needs a distinct.
    """
    e = events.mutate(key=decision_key(events), day=events.occurred_at.date())
    days = e.group_by(["customer_id", "purpose", "day"]).agg(
        key=e.key.max(),
        method=e.method.argmax(e.key),
        prompt_variant=e.prompt_variant.argmax(e.key),
        **{decision: (e.decision == decision).any() for decision in schema.DECISIONS},
    )
    following = ibis.window(group_by=[days.customer_id, days.purpose], order_by=days.day)
    before = ibis.window(
        group_by=[days.customer_id, days.purpose], order_by=days.day, rows=(None, -1)
    )
    intervals = days.select(
        "customer_id",
        "purpose",
        consent_state=decision_of(days.key),
        method=days.method,
        prompt_variant=days.prompt_variant,
        valid_from=days.day,
        valid_to=days.day.lead().over(following),
        **{decision: days[decision] for decision in schema.DECISIONS},
        **{
            previously(decision): ibis.ifelse(days[decision], days.day, ibis.null())
            .max()
            .over(before)
            for decision in schema.DECISIONS
        },
    )
    return intervals.join(customer_columns(customers), "customer_id")


def class_intervals(
    intervals: ir.Table,
    requests: ir.Table,
    customers: ir.Table,
    purposes: tuple[str, ...] = CLASS_PURPOSES,
) -> ir.Table:
    """(customer_id, cls, valid_from, valid_to, and the customer's `customer_columns`): the
    class over `purposes` from every day it may change until the next one, from the consent
    intervals (`consent_intervals`) and the erasure requests."""
    m = intervals.filter(intervals.purpose.isin(list(purposes)))
    m = m.select(who="customer_id", state="consent_state", since="valid_from", until="valid_to")
    asked = erasure_requests(requests)
    asked = asked.group_by("customer_id").agg(asked=asked.received_at.date().min())
    people = customer_columns(customers)
    days = (
        people.select("customer_id", day=people[CREATED])
        .union(m.select(customer_id="who", day="since"))
        .union(asked.select("customer_id", day="asked"))
        .distinct()
    )
    held = days.join(
        m,
        [
            days.customer_id == m.who,
            m.since <= days.day,
            m.until.isnull() | (m.until > days.day),
        ],
    )
    votes = held.group_by(["customer_id", "day"]).agg(
        granted=(held.state == schema.GRANTED).any(), refusal=refused(held.state).any()
    )
    d = days.left_join(votes, ["customer_id", "day"]).select(
        "customer_id", "day", "granted", "refusal"
    )
    d = d.left_join(asked, "customer_id").select(
        "customer_id", "day", "granted", "refusal", "asked"
    )
    following = ibis.window(group_by=d.customer_id, order_by=d.day)
    erased = d.asked.notnull() & (d.asked <= d.day)
    out = d.filter(d.day.notnull()).select(
        "customer_id",
        cls=class_of(d.granted.fill_null(False), d.refusal.fill_null(False), erased),
        valid_from=d.day,
        valid_to=d.day.lead().over(following),
    )
    return out.join(people, "customer_id")


def derived_jurisdiction(country: ir.StringValue, state: ir.StringValue) -> ir.StringValue:
    """Jurisdiction from country and state (spec section 3), as schema.JURISDICTION_RULE
    states it."""
    cases = []
    for countries, in_state, jurisdiction in schema.JURISDICTION_RULE:
        met = country.isin(sorted(countries))
        cases.append((met if in_state is None else met & (state == in_state), jurisdiction))
    return ibis.cases(*cases, else_=schema.OTHER)


def customer_jurisdiction(c: ir.Table) -> ir.StringValue:
    """The customer's own jurisdiction when given, else derived from country and state."""
    return c.jurisdiction.fill_null(derived_jurisdiction(c.country, c.state))


def _added_to(day: ir.DateValue, deadline: schema.Deadline) -> ir.DateValue:
    if deadline.months:
        return day + ibis.interval(months=deadline.months)
    return day + ibis.interval(days=deadline.days)


def due_date(
    received: ir.DateValue, jurisdiction: ir.StringValue, extended: ir.BooleanValue
) -> ir.DateValue:
    """Legal due date: date received plus the jurisdiction's period (spec section 3).

    Calendar months end on the same day number, or the month's last day when it has none.
    A jurisdiction the spec does not name gets OTHER's period.
    """
    branches = []
    for name, (normal, longer) in schema.DEADLINES.items():
        if name == schema.OTHER:
            continue
        branches.append(((jurisdiction == name) & extended, _added_to(received, longer)))
        branches.append(((jurisdiction == name) & ~extended, _added_to(received, normal)))
    normal, longer = schema.DEADLINES[schema.OTHER]
    branches.append((extended, _added_to(received, longer)))
    # A date on every engine: DuckDB's date plus an interval is a timestamp, which Ibis
    # types as a date (so a cast to date alone would be left out of the SQL).
    return ibis.cases(*branches, else_=_added_to(received, normal)).cast("timestamp").date()


def resolved_requests(requests: ir.Table, customers: ir.Table) -> ir.Table:
    """(request_id, customer_id, type, status, channel, extended, jurisdiction, received,
    completed_on, due): every privacy request with its jurisdiction (its own, else its
    customer's, else OTHER), its dates and its legal due date."""
    r = requests
    c = customers
    # The customer's jurisdiction is worked out after the join: for the requesters only.
    people = c.select("customer_id", "country", "state", person_jurisdiction=c.jurisdiction)
    r = r.left_join(people, "customer_id")
    person = r.person_jurisdiction.fill_null(derived_jurisdiction(r.country, r.state))
    jurisdiction = r.jurisdiction.fill_null(person).fill_null(schema.OTHER)
    received = r.received_at.date()
    return r.select(
        "request_id",
        "customer_id",
        "type",
        "status",
        "channel",
        extended=r.extended.fill_null(False),
        jurisdiction=jurisdiction,
        received=received,
        completed_on=r.completed_at.date(),
        due=due_date(received, jurisdiction, r.extended.fill_null(False)),
    )


MONEY = "decimal(18, 4)"  # revenue as the figures add it up


def activity(touchpoints: ir.Table, orders: ir.Table) -> ir.Table:
    """(customer_id, day, intent, ordered, revenue): one row per touchpoint or order of a
    known customer, dated by its UTC day. Every activity engages; a cart-add or an order
    shows intent; an order converts and brings its revenue (spec section 4, funnel)."""
    tp = touchpoints.filter(touchpoints.customer_id.notnull())
    tp = tp.select(
        "customer_id",
        day=tp.occurred_at.date(),
        intent=tp.type == "cart_add",
        ordered=ibis.literal(False),
        revenue=ibis.literal(0, MONEY),
    )
    o = orders.filter(orders.customer_id.notnull())
    o = o.select(
        "customer_id",
        day=o.ordered_at.date(),
        intent=ibis.literal(True),
        ordered=ibis.literal(True),
        revenue=o.revenue.cast(MONEY),
    )
    return tp.union(o)


def activity_days(touchpoints: ir.Table, orders: ir.Table) -> ir.Table:
    """(customer_id, day, intent, ordered, revenue, previous, previous_intent,
    previous_order): each customer's days with activity, and the last earlier day with any
    activity, with intent and with an order (null when there was none)."""
    a = activity(touchpoints, orders)
    days = a.group_by(["customer_id", "day"]).agg(
        # A day's revenue fits MONEY; the sum's wider decimal would take twice the space.
        intent=a.intent.any(),
        ordered=a.ordered.any(),
        revenue=a.revenue.sum().cast(MONEY),
    )
    before = ibis.window(group_by=days.customer_id, order_by=days.day, rows=(None, -1))

    def last(flag: ir.BooleanValue) -> ir.DateValue:
        return ibis.ifelse(flag, days.day, ibis.null()).max().over(before)

    return days.select(
        "customer_id",
        "day",
        "intent",
        "ordered",
        "revenue",
        previous=days.day.max().over(before),
        previous_intent=last(days.intent),
        previous_order=last(days.ordered),
    )


LATEST_CLASS = "latest_cls"
LATEST_FROM = "latest_from"


def latest_class(classes: ir.Table) -> ir.Table:
    """(customer_id, latest_cls, latest_from, and the filter columns): each customer's class
    interval that is still open, from `class_intervals`. From latest_from on they are a
    customer (their creation day starts an interval, so the last one starts no earlier) and
    their class is latest_cls."""
    last = classes.filter(classes.valid_to.isnull())
    return last.select(
        "customer_id", *FILTER_COLUMNS, **{LATEST_CLASS: last.cls, LATEST_FROM: last.valid_from}
    )


def with_latest_class(days: ir.Table, classes: ir.Table) -> ir.Table:
    """The activity days of `activity_days`, each with its customer's `latest_class` (nulls
    for a customer the customers table does not hold)."""
    joined = days.left_join(latest_class(classes), "customer_id")
    return joined.drop("customer_id_right")


def definitions(table: Callable[[str], ir.Table], *, keyed: bool = False) -> dict[str, ir.Table]:
    """Every fact, as an expression over the canonical tables (`table(name)`); `keyed` adds
    the record key to the facts of KEYED (the store's facts: the DuckDB that reads them hashes
    ids the same way, where another engine's hash would differ)."""
    consent = consent_intervals(table("consent_events"), table("customers"))
    classes = class_intervals(consent, table("privacy_requests"), table("customers"))
    built = {
        CONSENT_INTERVALS: consent,
        CLASS_INTERVALS: classes,
        ACTIVITY_DAYS: with_latest_class(
            activity_days(table("touchpoints"), table("orders")), classes
        ),
        REQUESTS: resolved_requests(table("privacy_requests"), table("customers")),
    }
    if keyed:
        for name in KEYED:
            built[name] = built[name].mutate(**{RECORD_KEY: record_key(built[name].customer_id)})
    return {name: _ordered(name, fact) for name, fact in built.items()}


def _ordered(name: str, fact: ir.Table) -> ir.Table:
    order = WRITE_ORDER.get(name)
    return fact.order_by(list(order)) if order else fact


# --------------------------------------------------------------------------- in the store


def create_state(con: duckdb.DuckDBPyConnection) -> None:
    """The versions of data and facts; a store that had none has facts of no data yet."""
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} (data_version BIGINT, facts_version BIGINT)"
    )
    con.execute(f"ALTER TABLE {STATE_TABLE} ADD COLUMN IF NOT EXISTS definition INTEGER")
    # Whether the next rebuild must redo every customer (else the pending ones).
    con.execute(f"ALTER TABLE {STATE_TABLE} ADD COLUMN IF NOT EXISTS whole BOOLEAN")
    if not con.execute(f"SELECT count(*) FROM {STATE_TABLE}").fetchall()[0][0]:
        con.execute(f"INSERT INTO {STATE_TABLE} VALUES (1, 0, NULL, true)")
    con.execute(f"CREATE TABLE IF NOT EXISTS {PENDING_TABLE} (customer_id VARCHAR)")


def changed(
    con: duckdb.DuckDBPyConnection,
    customers: str | None = None,
    params: Mapping[str, object] | None = None,
) -> None:
    """The canonical tables change in the caller's transaction: the facts are out of date,
    for the customers the query `customers` names (its column customer_id, its named
    parameters `params`; they are taken as it answers now, in the transaction), or for
    everyone when it is None."""
    con.execute(f"UPDATE {STATE_TABLE} SET data_version = data_version + 1")
    if customers is None:
        con.execute(f"UPDATE {STATE_TABLE} SET whole = true")
    else:
        con.execute(
            f"INSERT INTO {PENDING_TABLE} SELECT DISTINCT customer_id FROM ({customers}) "
            "WHERE customer_id IS NOT NULL",
            dict(params or {}),
        )


def statements(table: Callable[[str], ir.Table]) -> dict[str, str]:
    """Each fact of the store (`definitions`, keyed) as DuckDB's SQL over the canonical
    tables `table(name)`. The text names the tables only: compiled once, it serves every
    chunk of a write whose tables have the same names."""
    return {
        name: ibis.to_sql(expr, dialect="duckdb")
        for name, expr in definitions(table, keyed=True).items()
    }


def build_into(
    con: duckdb.DuckDBPyConnection,
    compiled: Mapping[str, str],
    prefix: str,
    *,
    create: bool,
) -> None:
    """Every fact, as `statements` compiled it over some tables (all of some customers'
    rows), written into `<prefix><fact>`: created, or appended to (facts are per customer,
    so the facts of disjoint sets of customers add up to those of all of them)."""
    for name, sql in compiled.items():
        if create:
            con.execute(f'CREATE OR REPLACE TABLE "{prefix}{name}" AS {sql}')
        else:
            con.execute(f'INSERT INTO "{prefix}{name}" {sql}')


def replaced(con: duckdb.DuckDBPyConnection) -> None:
    """Every canonical table was replaced, and the facts with them, in the caller's
    transaction: the facts are of the new data."""
    con.execute(
        f"UPDATE {STATE_TABLE} SET data_version = data_version + 1, "
        "facts_version = data_version + 1, definition = ?, whole = false",
        [DEFINITION],
    )
    con.execute(f"DELETE FROM {PENDING_TABLE}")


def forget(con: duckdb.DuckDBPyConnection, customers: str) -> None:
    """Remove the facts of the customers the query `customers` names (an erasure, in its
    own transaction: they must not outlive it even if a rebuild later fails)."""
    for name in FACT_TABLES:
        if con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [name]
        ).fetchall()[0][0]:
            con.execute(f'DELETE FROM "{name}" WHERE customer_id IN ({customers})')


def changed_by_import(con: duckdb.DuckDBPyConnection, import_id: int) -> None:
    """The rows of import `import_id` are written, or about to be removed."""
    tagged = " UNION ".join(
        f'SELECT customer_id FROM "{name}" WHERE "{schema.IMPORT_ID}" = $import_id'
        for name in SOURCES
    )
    changed(con, tagged, {"import_id": import_id})


def current(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the facts are of the data as it is (False for a store without facts)."""
    import duckdb

    try:
        rows = con.execute(
            f"SELECT data_version = facts_version AND definition = ? FROM {STATE_TABLE}",
            [DEFINITION],
        ).fetchall()
    except (duckdb.CatalogException, duckdb.BinderException):
        return False  # a store from before facts, or before their definition was recorded
    return bool(rows and rows[0][0])


# A whole rebuild goes by parts of about this many customers (split by their record key),
# each written into new tables in its own transaction: its memory does not grow with the
# store (in one statement, 10 million customers' facts held 11 GB).
CUSTOMERS_PER_PART = 1_000_000
REBUILD_PREFIX = "_rebuild_"  # a whole rebuild's tables until they are swapped in


def refresh(con: duckdb.DuckDBPyConnection, backend: ibis.BaseBackend) -> bool:
    """Bring the facts up to date if the data changed since they were built: those of the
    pending customers in one transaction, or all of them (`rebuild`); returns whether
    anything was done."""
    if current(con):
        return False
    [(whole,)] = con.execute(
        f"SELECT whole OR definition IS DISTINCT FROM ? FROM {STATE_TABLE}", [DEFINITION]
    ).fetchall()
    if whole:
        rebuild(con, backend)
        return True
    pending = backend.table(PENDING_TABLE)

    def canonical(name: str) -> ir.Table:
        table = canonical_columns(backend.table(name), name)
        # Facts are per customer: those of the pending customers are redone from their rows
        # (and the rows of nobody, where a fact keeps them).
        mine = table.semi_join(pending, "customer_id")
        if name in NOBODYS.values():
            mine = mine.union(table.filter(table.customer_id.isnull()))
        return mine

    with transaction(con):
        for name, sql in statements(canonical).items():
            nobody = " OR customer_id IS NULL" if name in NOBODYS else ""
            con.execute(
                f'DELETE FROM "{name}" WHERE customer_id IN '
                f"(SELECT customer_id FROM {PENDING_TABLE}){nobody}"
            )
            con.execute(f'INSERT INTO "{name}" {sql}')
        _now_current(con)
    return True


def rebuild(con: duckdb.DuckDBPyConnection, backend: ibis.BaseBackend) -> None:
    """Every fact anew: part by part (customers split by record key, the rows of nobody
    with the first part), each part committed into new tables, which one last transaction
    swaps in. Until then the facts in place stay as they were; a rebuild stopped half-way
    leaves new tables that `drop_rebuild` removes."""
    [(customers,)] = con.execute("SELECT count(*) FROM customers").fetchall()
    parts = max(1, -(-customers // CUSTOMERS_PER_PART))
    drop_rebuild(con)
    try:
        for part in range(parts):

            def canonical(name: str, part: int = part) -> ir.Table:
                table = canonical_columns(backend.table(name), name)
                if parts == 1:
                    return table
                # (SQL's % keeps the sign of a negative key: folded back first; and DuckDB
                # hashes a null, so the rows of nobody are set apart first)
                nobody = table.customer_id.isnull()
                mine = ~nobody & ((record_key(table.customer_id) % parts + parts) % parts == part)
                if part == 0 and name in NOBODYS.values():
                    mine = mine | nobody
                return table.filter(mine)

            with transaction(con):
                build_into(con, statements(canonical), REBUILD_PREFIX, create=part == 0)
        with transaction(con):
            for name in FACT_TABLES:
                con.execute(f'DROP TABLE IF EXISTS "{name}"')
                con.execute(f'ALTER TABLE "{REBUILD_PREFIX}{name}" RENAME TO "{name}"')
            _now_current(con)
    finally:
        drop_rebuild(con)


def drop_rebuild(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the tables of a whole rebuild that did not finish."""
    for name in FACT_TABLES:
        con.execute(f'DROP TABLE IF EXISTS "{REBUILD_PREFIX}{name}"')


def _now_current(con: duckdb.DuckDBPyConnection) -> None:
    """In the caller's transaction: the facts are of the data as it is, by this definition."""
    con.execute(f"DELETE FROM {PENDING_TABLE}")
    con.execute(f"UPDATE {STATE_TABLE} SET whole = false")
    con.execute(
        f"UPDATE {STATE_TABLE} SET facts_version = data_version, definition = ?", [DEFINITION]
    )
