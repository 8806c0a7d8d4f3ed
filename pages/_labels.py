"""How values read on screen: countries by name, jurisdictions and purposes in words, with
the code beside them where an expert looks for it. One place, so a value reads the same in
every filter, table and chart."""

from __future__ import annotations

import re
from datetime import date

import pandas as pd
import pycountry

from data.storage import schema
from metrics.consent_views import DIMENSIONS

JURISDICTIONS = {
    schema.GDPR: "GDPR (EU and EEA)",
    schema.UK_GDPR: "UK GDPR",
    schema.CCPA: "CCPA (California)",
    schema.US_STATE: "US state privacy laws",
    schema.LGPD: "LGPD (Brazil)",
    schema.PIPEDA: "PIPEDA (Canada)",
    schema.OTHER: "Other jurisdictions",
}


def country(code: str) -> str:
    """A country by its common name with its ISO code: "Germany (DE)"; an unknown code as
    it is."""
    found = pycountry.countries.get(alpha_2=code.upper()) if len(code) == 2 else None
    if found is None:
        return code
    return f"{getattr(found, 'common_name', None) or found.name} ({found.alpha_2})"


def jurisdiction(code: str) -> str:
    """A jurisdiction in words: US_STATE -> "US state privacy laws"."""
    return JURISDICTIONS.get(code, code.replace("_", " "))


def currency(code: str) -> str:
    """A currency by its name with its ISO code: "Euro (EUR)"; an unknown code as it is."""
    found = pycountry.currencies.get(alpha_3=code.upper()) if len(code) == 3 else None
    return code if found is None else f"{found.name} ({found.alpha_3})"


def day(value: date) -> str:
    """A day as a reader says it: "6 Jan 2025"."""
    return f"{value.day} {value:%b} {value.year}"


def words(value: str) -> str:
    """A purpose, channel or segment as readers say it: third_party_sharing -> "Third-party
    sharing"."""
    text = value.replace("third_party", "third-party").replace("_", " ")
    text = " ".join(ACRONYMS.get(word, word) for word in text.split(" "))
    return text[:1].upper() + text[1:]


ACRONYMS = {"sms": "SMS", "seo": "SEO", "crm": "CRM"}


# What each sidebar filter shows for a stored value.
FILTER_LABELS = {
    "jurisdiction": jurisdiction,
    "country": country,
    "channel": words,
    "segment": words,
    "purpose": words,
}


# Table headers: one name per definition, the same on every page and in every download. The
# two opt-in figures are told apart by what they are a share of.
COLUMNS = {
    "purpose": "Purpose",
    "customers": "Customers",
    "granted": "Granted",
    "denied": "Denied",
    "withdrawn": "Withdrawn",
    "no_decision": "No decision",
    "refused": "Refused (denied or withdrawn)",
    "decided": "Decided",
    "decisions": "Decisions",
    "opt_in_rate": "Opt-in rate (of those who decided)",
    "granted_share": "Opted in (share of all customers)",
    "denied_share": "Denied (share of all customers)",
    "withdrawn_share": "Withdrawn (share of all customers)",
    "no_decision_share": "No decision (share of all customers)",
    **DIMENSIONS,  # the breakdowns, as the Consent page names them
    "period": "Period",
    "class": "Class",
    "group": "Group",
    "received": "Received",
    "completed": "Completed",
    "open": "Open",
    "overdue": "Overdue",
    "due_soon": "Due soon",
    "due_later": "Due later",
    "deadline": "Legal deadline",
    "extended_deadline": "If extended",
    "on_time_rate": "Completed on time",
    "median_days": "Median days to complete",
}


def group(code: str) -> str:
    """A request type or a jurisdiction, whichever `code` is."""
    return jurisdiction(code) if code in JURISDICTIONS else words(code)


# Columns whose values are stored codes, and how each reads.
VALUES = {
    "group": group,
    "purpose": words,
    "segment": words,
    "acquisition_channel": words,
    "prompt_variant": words,
    "method": words,
    "country": country,
    "jurisdiction": jurisdiction,
}


# Downloads round as the screen does: decimals kept per kind of figure (a rate as a fraction:
# 3 decimals are the screen's 59.7%).
DECIMALS = {"count": 0, "rate": 3, "money": 0, "amount": 2, "days": 1}
# Tables that hold several kinds in one column, row by row: the column naming each row's kind,
# what it names and the columns it applies to.
ROW_KINDS = {
    "unit": ({}, ("value", "previous_period")),
    "measure": (
        {"conversion_rate": "rate", "revenue_per_customer": "amount"},
        ("raw", "raw_low", "raw_high", "stratified", "stratified_low", "stratified_high"),
    ),
}


def kind(column: str) -> str | None:
    """What a column of a published table holds, by its name: rate, amount (per customer),
    money, days or count; None for a column of no figure."""
    name = column.lower()
    words = set(re.split(r"[^a-z]+", name))
    if "revenue_per_customer" in name:
        return "amount"
    if words & {"rate", "share"} or " / " in name:
        return "rate"
    if "revenue" in words:
        return "money"
    if "days" in words:
        return "days"
    return None


def rounded(frame: pd.DataFrame) -> pd.DataFrame:
    """A published table with every figure rounded as the screen shows it (withheld cells and
    text as they are)."""
    out = frame.copy()
    for column in out.columns:
        found = kind(str(column))
        if found is not None:
            out[column] = [_round(v, DECIMALS[found]) for v in out[column]]
    for by, (kinds, columns) in ROW_KINDS.items():
        if by not in out.columns:
            continue
        for column in (c for c in columns if c in out.columns):
            out[column] = [
                _round(v, DECIMALS.get(kinds.get(k, k), 0))
                for v, k in zip(out[column], out[by], strict=True)
            ]
    return out


def _round(value: object, decimals: int) -> object:
    if not isinstance(value, float) or pd.isna(value):
        return value
    return round(value) if decimals == 0 else round(value, decimals)


def table(frame: pd.DataFrame, headers: dict[str, str] | None = None) -> pd.DataFrame:
    """A table as it is shown and downloaded: headers (`headers` first) and coded values in
    words."""
    out = frame.copy()
    for column, read in VALUES.items():
        if column in out.columns:
            out[column] = [v if not isinstance(v, str) else read(v) for v in out[column]]
    return out.rename(columns=COLUMNS | (headers or {}))


# The stored tables and their columns in words: the Upload data and rights pages' headers.
TABLE_NAMES = {
    "customers": "Customers",
    "consent_events": "Consent events",
    "touchpoints": "Touchpoints",
    "orders": "Orders",
    "privacy_requests": "Privacy requests",
    "sharing": "Sharing records",
}

FIELDS = {
    "customer_id": "Customer ID",
    "created_at": "Created (UTC)",
    "country": "Country",
    "state": "US state",
    "jurisdiction": "Jurisdiction",
    "acquisition_channel": "Acquisition channel",
    "segment": "Segment",
    "email": "E-mail",
    "full_name": "Full name",
    "phone": "Phone",
    "purpose": "Purpose",
    "decision": "Decision",
    "occurred_at": "When (UTC)",
    "source": "Source",
    "method": "Consent method",
    "notice_version": "Notice version",
    "prompt_variant": "Prompt variant",
    "type": "Type",
    "channel": "Channel",
    "campaign_id": "Campaign",
    "order_id": "Order ID",
    "ordered_at": "Ordered (UTC)",
    "revenue": "Revenue",
    "currency": "Currency",
    "request_id": "Request ID",
    "received_at": "Received (UTC)",
    "completed_at": "Completed (UTC)",
    "status": "Status",
    "extended": "Deadline extended",
    "recipient": "Recipient",
    "recipient_category": "Recipient category",
    "sold": "Sold",
    "shared_at": "Shared (UTC)",
}
# Where one stored name means different things in different tables.
TABLE_FIELDS = {
    "touchpoints": {"type": "Touchpoint type"},
    "privacy_requests": {"type": "Request type", "channel": "Received through"},
}


def field(table: str, column: str) -> str:
    """A stored column of `table` in words: ("privacy_requests", "type") -> "Request type"."""
    return TABLE_FIELDS.get(table, {}).get(column) or FIELDS.get(column) or words(column)


# The person report's own tables (what we know about one person).
PERSON_COLUMNS = {
    "state": "Consent state",
    "since": "Since (UTC)",
    "received": "Received",
    "completed_on": "Completed on",
    "due": "Due",
    "open": "Open",
    "overdue": "Overdue",
    "legal_period": "Legal deadline",
    "category": "Category",
    "fields": "Data held",
    "purposes": "Used for",
    "source": "Where it comes from",
    "retention": "How long it is kept",
}

# The Upload data and Right to be forgotten pages' tables: the report of an import, the
# import history and what an erasure did.
IMPORT_COLUMNS = {
    "file": "File",
    "table": "Table",
    "rows_read": "Rows read",
    "accepted": "Accepted",
    "rejected": "Rejected",
    "why_rejected": "Why rejected",
    "refused": "Whole file refused",
    "rows": "Rows",
    "line": "Line",
    "column": "Column in the file",
    "reason": "Reason",
    "import_id": "Import",
    "imported_at": "When (UTC)",
    "actor": "By",
    "mode": "Mode",
    "files": "Files",
    "written": "Rows written",
    "undo": "State",
    "what_happened": "What happened",
}
# The mapping editor: a file's header and what it is imported as.
MAPPING_HEADER, MAPPING_TARGET = "Column in the file", "Imported as"


def table_name(table: str) -> str:
    """A stored table in words: consent_events -> "Consent events"."""
    return TABLE_NAMES.get(table, words(table))


def rows_per_table(rows: dict[str, int], empty: str = "no rows") -> str:
    """Rows per table in words: "5 customers, 4 consent events"."""
    return ", ".join(f"{n:,} {table_name(t).lower()}" for t, n in rows.items()) or empty


# Columns of stored rows whose values are codes (a person's rows, the erasure report).
RECORD_VALUES = {
    **VALUES,
    "type": group,
    "decision": words,
    "state": words,
    "status": words,
    "channel": words,
    "source": words,
    "recipient_category": words,
    "table": table_name,
}


def records(
    frame: pd.DataFrame, table: str | None = None, headers: dict[str, str] | None = None
) -> pd.DataFrame:
    """Rows of a stored table (or a report built from them) as shown: headers in words
    (`headers` first, then the table's own names) and coded values in words."""
    out = frame.copy()
    for column, read in RECORD_VALUES.items():
        if column in out.columns:
            out[column] = [v if not isinstance(v, str) else read(v) for v in out[column]]
    names = {c: (headers or {}).get(c) or field(table or "", c) for c in out.columns}
    return out.rename(columns=names)
