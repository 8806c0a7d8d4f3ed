"""The canonical tables: the single definition of tables, columns, types, synonyms and rules.

Everything that reads, writes, generates or documents data takes it from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    """How a column's text is converted and checked."""

    ID = "id"  # text kept exactly as given apart from surrounding white space
    TEXT = "text"  # free text, trimmed
    LOWER = "lower"  # text, trimmed and lower-cased
    UPPER = "upper"  # text, trimmed and upper-cased
    COUNTRY = "country"  # ISO 3166-1 alpha-2, upper-cased
    JURISDICTION = "jurisdiction"  # known names canonicalised, others kept as given
    TIMESTAMP = "timestamp"  # ISO 8601 date or date-time, offsets converted to UTC
    DECIMAL = "decimal"  # non-negative decimal number
    BOOLEAN = "boolean"  # synonyms of section 2; empty means false
    DECISION = "decision"  # granted / denied / withdrawn with synonyms
    REQUEST_TYPE = "request_type"
    REQUEST_STATUS = "request_status"


# Storage type of each kind in the DuckDB store.
SQL_TYPE: dict[Kind, str] = {
    Kind.ID: "VARCHAR",
    Kind.TEXT: "VARCHAR",
    Kind.LOWER: "VARCHAR",
    Kind.UPPER: "VARCHAR",
    Kind.COUNTRY: "VARCHAR",
    Kind.JURISDICTION: "VARCHAR",
    Kind.TIMESTAMP: "TIMESTAMP",
    Kind.DECIMAL: "DECIMAL(18, 4)",
    Kind.BOOLEAN: "BOOLEAN",
    Kind.DECISION: "VARCHAR",
    Kind.REQUEST_TYPE: "VARCHAR",
    Kind.REQUEST_STATUS: "VARCHAR",
}


# The same types as Ibis names them, for sources other than the store (Parquet, Spark).
IBIS_TYPE: dict[Kind, str] = {
    kind: {"VARCHAR": "string", "TIMESTAMP": "timestamp", "BOOLEAN": "boolean"}.get(
        sql, sql.lower().replace(" ", "")
    )
    for kind, sql in SQL_TYPE.items()
}


@dataclass(frozen=True)
class Column:
    """One canonical column and its rules."""

    name: str
    kind: Kind
    required: bool = False
    unique: bool = False
    references: str | None = None  # table whose customer_id this value must name
    personal: bool = False  # personal data: never shown in aggregates
    description: str = ""

    @property
    def sql_type(self) -> str:
        """DuckDB type the column is stored as."""
        return SQL_TYPE[self.kind]


@dataclass(frozen=True)
class Table:
    """One canonical table: its columns in canonical order."""

    name: str
    description: str
    columns: tuple[Column, ...]
    optional: bool = False
    timestamp_columns: tuple[str, ...] = field(default=())

    def column(self, name: str) -> Column:
        """The column called `name`."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def column_names(self) -> list[str]:
        """Names of the columns in canonical order."""
        return [c.name for c in self.columns]

    def ddl(self, name: str | None = None) -> str:
        """CREATE TABLE statement for the store (canonical columns, then the import batch),
        under the table's name or `name`."""
        cols = ",\n  ".join(f'"{c.name}" {c.sql_type}' for c in self.columns)
        return (
            f'CREATE TABLE IF NOT EXISTS "{name or self.name}" '
            f'(\n  {cols},\n  "{IMPORT_ID}" INTEGER\n)'
        )


def _table(name: str, description: str, *columns: Column, optional: bool = False) -> Table:
    stamps = tuple(c.name for c in columns if c.kind is Kind.TIMESTAMP)
    return Table(name, description, tuple(columns), optional, stamps)


CUSTOMER_ID_REF = "customers"
# Not a canonical column: which recorded import wrote a row (NULL for demo data), so the
# last import can be undone. Metrics and reports never select it.
IMPORT_ID = "_import_id"

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        _table(
            "customers",
            "One row per person the company knows.",
            Column("customer_id", Kind.ID, required=True, unique=True),
            Column("created_at", Kind.TIMESTAMP, required=True),
            Column("country", Kind.COUNTRY, description="ISO 3166-1 alpha-2"),
            Column("state", Kind.UPPER, description="US state code, e.g. CA"),
            Column("jurisdiction", Kind.JURISDICTION, description="derived when absent"),
            Column("acquisition_channel", Kind.TEXT),
            Column("segment", Kind.TEXT, description="absent means unknown"),
            Column("email", Kind.TEXT, personal=True),
            Column("full_name", Kind.TEXT, personal=True),
            Column("phone", Kind.TEXT, personal=True),
        ),
        _table(
            "consent_events",
            "Every consent decision a person made, per purpose.",
            Column("customer_id", Kind.ID, required=True, references=CUSTOMER_ID_REF),
            Column("purpose", Kind.LOWER, required=True),
            Column("decision", Kind.DECISION, required=True),
            Column("occurred_at", Kind.TIMESTAMP, required=True),
            Column("source", Kind.TEXT),
            Column("method", Kind.LOWER, description="explicit, implied or gpc"),
            Column("notice_version", Kind.TEXT),
            Column("prompt_variant", Kind.TEXT),
        ),
        _table(
            "touchpoints",
            "Engagement events: visits, e-mail opens and clicks, cart additions.",
            Column("customer_id", Kind.ID, required=True, references=CUSTOMER_ID_REF),
            Column("occurred_at", Kind.TIMESTAMP, required=True),
            Column("type", Kind.LOWER, required=True),
            Column("channel", Kind.TEXT),
            Column("campaign_id", Kind.ID),
        ),
        _table(
            "orders",
            "Orders; customer_id is null once the person is erased.",
            Column("order_id", Kind.ID, required=True, unique=True),
            Column("customer_id", Kind.ID, references=CUSTOMER_ID_REF),
            Column("ordered_at", Kind.TIMESTAMP, required=True),
            Column("revenue", Kind.DECIMAL, required=True),
            Column("currency", Kind.UPPER),
        ),
        _table(
            "privacy_requests",
            "Data-subject requests; customer_id is null once the person is erased.",
            Column("request_id", Kind.ID, required=True, unique=True),
            Column("customer_id", Kind.ID, description="may name a person not in customers"),
            Column("type", Kind.REQUEST_TYPE, required=True),
            Column("received_at", Kind.TIMESTAMP, required=True),
            Column("completed_at", Kind.TIMESTAMP),
            Column("status", Kind.REQUEST_STATUS, description="derived when absent"),
            Column("extended", Kind.BOOLEAN),
            Column("jurisdiction", Kind.JURISDICTION),
            Column("channel", Kind.TEXT),
        ),
        _table(
            "sharing",
            "With whom a person's data was shared or sold.",
            Column("customer_id", Kind.ID, required=True, references=CUSTOMER_ID_REF),
            Column("recipient", Kind.TEXT, required=True),
            Column("recipient_category", Kind.TEXT),
            Column("purpose", Kind.LOWER),
            Column("sold", Kind.BOOLEAN),
            Column("shared_at", Kind.TIMESTAMP),
            optional=True,
        ),
    )
}

# Tables in the order they are loaded and emptied (parents first).
TABLE_ORDER: tuple[str, ...] = tuple(TABLES)

PURPOSES: tuple[str, ...] = (
    "email_marketing",
    "sms_marketing",
    "personalization",
    "analytics",
    "third_party_sharing",
)
DEFAULT_MARKETING_PURPOSES: tuple[str, ...] = ("email_marketing", "sms_marketing")

GRANTED, DENIED, WITHDRAWN, NO_DECISION = "granted", "denied", "withdrawn", "no_decision"
DECISIONS: tuple[str, ...] = (GRANTED, DENIED, WITHDRAWN)
CONSENT_STATES: tuple[str, ...] = (GRANTED, DENIED, WITHDRAWN, NO_DECISION)
# On equal timestamps the most restrictive decision wins: lower rank wins.
RESTRICTIVENESS: dict[str, int] = {WITHDRAWN: 0, DENIED: 1, GRANTED: 2}

DECISION_SYNONYMS: dict[str, tuple[str, ...]] = {
    GRANTED: (
        "granted",
        "grant",
        "opt_in",
        "opt-in",
        "optin",
        "yes",
        "y",
        "true",
        "1",
        "accepted",
        "accept",
    ),
    DENIED: (
        "denied",
        "deny",
        "opt_out",
        "opt-out",
        "optout",
        "no",
        "n",
        "false",
        "0",
        "rejected",
        "reject",
        "declined",
    ),
    WITHDRAWN: ("withdrawn", "withdraw", "revoked", "revoke"),
}
BOOLEAN_SYNONYMS: dict[bool, tuple[str, ...]] = {
    True: ("true", "yes", "y", "1"),
    False: ("false", "no", "n", "0", ""),
}

REQUEST_TYPES: tuple[str, ...] = (
    "erasure",
    "access",
    "rectification",
    "portability",
    "opt_out_of_sale",
    "restriction",
    "objection",
)
ERASURE = "erasure"
# What erasing a person does to each table naming them (spec section 7).
ERASURE_KEEPS_ANONYMISED: tuple[str, ...] = ("orders", "privacy_requests")  # customer_id null
ERASURE_DELETES: tuple[str, ...] = ("consent_events", "touchpoints", "sharing", "customers")
OPEN, COMPLETED, REJECTED = "open", "completed", "rejected"
REQUEST_STATUSES: tuple[str, ...] = (OPEN, COMPLETED, REJECTED)

SEGMENT_UNKNOWN = "unknown"

YES, MAYBE, NO = "yes", "maybe", "no"
CLASSES: tuple[str, ...] = (YES, MAYBE, NO)

# Section 3: jurisdictions and legal deadlines.
EU_COUNTRIES: tuple[str, ...] = (
    "AT",
    "BE",
    "BG",
    "HR",
    "CY",
    "CZ",
    "DK",
    "EE",
    "FI",
    "FR",
    "DE",
    "GR",
    "HU",
    "IE",
    "IT",
    "LV",
    "LT",
    "LU",
    "MT",
    "NL",
    "PL",
    "PT",
    "RO",
    "SK",
    "SI",
    "ES",
    "SE",
)
EEA_EXTRA: tuple[str, ...] = ("IS", "LI", "NO")
GDPR_COUNTRIES: tuple[str, ...] = EU_COUNTRIES + EEA_EXTRA
GDPR, UK_GDPR, CCPA, US_STATE, LGPD, PIPEDA, OTHER = (
    "GDPR",
    "UK_GDPR",
    "CCPA",
    "US_STATE",
    "LGPD",
    "PIPEDA",
    "OTHER",
)
JURISDICTIONS: tuple[str, ...] = (GDPR, UK_GDPR, CCPA, US_STATE, LGPD, PIPEDA, OTHER)


@dataclass(frozen=True)
class Deadline:
    """Time allowed to answer a request: `months` calendar months or `days` days."""

    months: int = 0
    days: int = 0

    def __str__(self) -> str:
        if self.months:
            return f"{self.months} calendar month{'s' if self.months > 1 else ''}"
        return f"{self.days} days"


# jurisdiction -> (normal period, period when extended)
DEADLINES: dict[str, tuple[Deadline, Deadline]] = {
    GDPR: (Deadline(months=1), Deadline(months=3)),
    UK_GDPR: (Deadline(months=1), Deadline(months=3)),
    CCPA: (Deadline(days=45), Deadline(days=90)),
    US_STATE: (Deadline(days=45), Deadline(days=90)),
    LGPD: (Deadline(days=15), Deadline(days=15)),
    PIPEDA: (Deadline(days=30), Deadline(days=60)),
    OTHER: (Deadline(days=30), Deadline(days=60)),
}


# Spec section 3 as data, the one statement of the rule: the first line a person's country
# (and, where given, state) meets names their jurisdiction; no line met: OTHER. Python
# (`derive_jurisdiction`, used by erasure) and Ibis (metrics.rules.derived_jurisdiction, on
# every engine) both read it; tests/metrics/test_rules.py holds them equal on every country
# and US state.
JURISDICTION_RULE: tuple[tuple[frozenset[str], str | None, str], ...] = (
    (frozenset(GDPR_COUNTRIES), None, GDPR),
    (frozenset({"GB"}), None, UK_GDPR),
    (frozenset({"US"}), "CA", CCPA),
    (frozenset({"US"}), None, US_STATE),
    (frozenset({"BR"}), None, LGPD),
    (frozenset({"CA"}), None, PIPEDA),
)


def derive_jurisdiction(country: str | None, state: str | None) -> str:
    """Jurisdiction of a person from country and state (spec section 3)."""
    for countries, in_state, jurisdiction in JURISDICTION_RULE:
        if country in countries and (in_state is None or state == in_state):
            return jurisdiction
    return OTHER


def timestamp_columns() -> list[tuple[str, str]]:
    """Every (table, column) holding a timestamp: these define the default period."""
    return [(t.name, c) for t in TABLES.values() for c in t.timestamp_columns]


# Analysts' extracts: header names that mean a canonical column, compared after folding case
# and turning every run of other characters into one underscore ("E-mail" -> "e_mail").
# The column's own name always matches first; earlier synonyms win over later ones.
_PERSON_ID = (
    "customer_id", "customer_no", "customer_number", "customer", "cust_id", "cust_no",
    "custno", "client_id", "contact_id", "member_id", "subscriber_id", "user_id", "account_id",
    "customerid", "id",
)  # fmt: skip
HEADER_SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "customers": {
        "customer_id": _PERSON_ID,
        "created_at": (
            "created",
            "created_date",
            "created_on",
            "creation_date",
            "date_created",
            "signup_date",
            "sign_up_date",
            "signed_up",
            "registered_at",
            "registration_date",
            "customer_since",
            "first_seen",
        ),
        "country": ("country_code", "country_iso", "countrycode", "iso_country"),
        "state": ("state_code", "province", "region_code", "us_state"),
        "jurisdiction": ("legal_jurisdiction", "privacy_regime", "privacy_law"),
        "acquisition_channel": (
            "channel",
            "acquisition_source",
            "lead_source",
            "source",
            "utm_source",
            "signup_channel",
        ),
        "segment": ("customer_segment", "tier", "customer_tier", "segment_name"),
        "email": ("e_mail", "email_address", "e_mail_address", "mail"),
        "full_name": ("name", "customer_name", "contact_name", "fullname"),
        "phone": ("phone_number", "telephone", "mobile", "mobile_phone", "cell", "tel"),
    },
    "consent_events": {
        "customer_id": _PERSON_ID,
        "purpose": ("consent_purpose", "consent_type", "purpose_name", "permission"),
        "decision": (
            "consent_status",
            "status",
            "consent",
            "consent_decision",
            "opt_in_status",
            "choice",
            "action",
            "consent_given",
        ),
        "occurred_at": (
            "timestamp",
            "consent_date",
            "consent_timestamp",
            "decided_at",
            "recorded_at",
            "event_time",
            "event_date",
            "updated_at",
            "date",
            "created",
            "created_at",
        ),
        "source": ("consent_source", "collection_point", "origin", "captured_via"),
        "method": ("consent_method", "capture_method", "mechanism"),
        "notice_version": (
            "policy_version",
            "consent_text_version",
            "privacy_notice_version",
            "notice",
            "version",
        ),
        "prompt_variant": ("variant", "banner_variant", "prompt"),
    },
    "touchpoints": {
        "customer_id": _PERSON_ID,
        "occurred_at": (
            "timestamp",
            "event_time",
            "event_date",
            "date",
            "visited_at",
            "created_at",
        ),
        "type": ("event_type", "touchpoint_type", "event", "activity", "interaction"),
        "channel": ("medium", "source"),
        "campaign_id": ("campaign", "campaign_code", "utm_campaign"),
    },
    "orders": {
        "order_id": (
            "order_no",
            "order_number",
            "order",
            "orderid",
            "transaction_id",
            "invoice_id",
            "invoice_no",
            "id",
        ),
        "customer_id": _PERSON_ID[:-1],  # in orders a bare "id" is the order's
        "ordered_at": (
            "order_date",
            "purchase_date",
            "purchased_at",
            "created_at",
            "created",
            "date",
            "timestamp",
        ),
        "revenue": (
            "order_total",
            "total",
            "amount",
            "order_value",
            "grand_total",
            "net_revenue",
            "value",
            "sales",
        ),
        "currency": ("currency_code", "ccy"),
    },
    "privacy_requests": {
        "request_id": (
            "ticket_id",
            "ticket",
            "ticket_number",
            "case_id",
            "case_number",
            "reference",
            "request_no",
            "id",
        ),
        "customer_id": _PERSON_ID[:-1],
        "type": ("request_type", "category", "request_category", "right"),
        "received_at": (
            "received",
            "submitted_at",
            "opened_at",
            "created_at",
            "created",
            "date_received",
            "request_date",
        ),
        "completed_at": (
            "completed",
            "closed_at",
            "resolved_at",
            "date_closed",
            "date_completed",
            "fulfilled_at",
        ),
        "status": ("ticket_status", "request_status", "state"),
        "extended": ("extension", "deadline_extended", "is_extended"),
        "jurisdiction": ("regulation", "law", "legal_basis_region"),
        "channel": ("submitted_via", "source"),
    },
    "sharing": {
        "customer_id": _PERSON_ID,
        "recipient": ("partner", "vendor", "shared_with", "third_party", "processor"),
        "recipient_category": ("partner_type", "vendor_category", "recipient_type"),
        "purpose": ("sharing_purpose",),
        "sold": ("sale", "is_sale", "sold_data"),
        "shared_at": ("shared_on", "date", "timestamp", "created_at"),
    },
}

# The wide consent form of CRM exports: one column per purpose, e.g. `email_opt_in`. A
# header is a purpose's flag when it is one of the purpose's words followed by a flag word.
PURPOSE_WORDS: dict[str, tuple[str, ...]] = {
    "email_marketing": ("email_marketing", "marketing_email", "email", "e_mail", "newsletter"),
    "sms_marketing": ("sms_marketing", "sms", "text_message", "text"),
    "personalization": ("personalization", "personalisation", "profiling"),
    "analytics": ("analytics", "tracking", "measurement"),
    "third_party_sharing": (
        "third_party_sharing", "third_party", "data_sharing", "partner_sharing", "sharing",
        "sell", "sale", "selling",
    ),
}  # fmt: skip
# A flag's polarity: an opt-in column says yes to the purpose, an opt-out column says no.
OPT_IN, OPT_OUT = "opt_in", "opt_out"
POLARITIES: tuple[str, ...] = (OPT_IN, OPT_OUT)
FLAG_WORDS: tuple[str, ...] = (
    "opt_in", "optin", "opted_in", "consent", "consented", "permission", "subscribed",
    "allowed",
)  # fmt: skip
# Opt-out columns: "email_opt_out", "Unsubscribed from all email", "Do not sell my data".
OPT_OUT_FLAG_WORDS: tuple[str, ...] = (
    "opt_out", "optout", "opted_out", "unsubscribed", "unsubscribe", "do_not", "dont",
    "blocked", "suppressed",
)  # fmt: skip
# Words a flag header may carry between its flag and purpose words ("Unsubscribed from all
# email", "Do not sell my personal information").
FLAG_FILLER_WORDS: tuple[str, ...] = (
    "from", "all", "my", "of", "to", "the", "personal", "info", "information", "data",
)  # fmt: skip
# A purpose flag's own date: the flag's header followed by one of these.
FLAG_DATE_WORDS: tuple[str, ...] = ("date", "at", "timestamp", "updated", "time")
# Dates that stand for every flag of the row when a flag has none of its own.
WIDE_DATE_SYNONYMS: tuple[str, ...] = (
    "consent_date", "consent_updated_at", "consent_timestamp", "opt_in_date", "decided_at",
    "preferences_updated_at", "last_updated", "updated_at", "last_modified", "modified_at",
)  # fmt: skip
# Extracts say more than the canonical synonyms of section 2: these apply to mapped files
# only, so canonical files keep exactly the contract's rules.
EXTRACT_DECISION_SYNONYMS: dict[str, tuple[str, ...]] = {
    GRANTED: ("opted_in", "opted-in", "subscribed", "on", "checked", "x", "consented"),
    DENIED: ("opted_out", "opted-out", "off", "unchecked"),
    WITHDRAWN: ("unsubscribed", "withdrew", "revoked_consent", "cancelled"),
}
# A flag value that records no decision: the person was never asked or never answered.
NOT_SUBSCRIBED: tuple[str, ...] = (
    "not_subscribed", "never_subscribed", "non_subscribed", "not subscribed", "never subscribed",
)  # fmt: skip
# In an opt-out column, the values that say the person opted out (the rest of the yes/no
# words, and an empty cell, say they did not: no decision).
OPT_OUT_TRUE: tuple[str, ...] = (
    *BOOLEAN_SYNONYMS[True], "opted_out", "opted-out", "opt_out", "opt-out", "unsubscribed", "x",
    "checked", "on",
)  # fmt: skip
