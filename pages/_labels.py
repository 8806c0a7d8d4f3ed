"""How values read on screen: countries by name, jurisdictions and purposes in words, with
the code beside them where an expert looks for it. One place, so a value reads the same in
every filter, table and chart."""

from __future__ import annotations

import pandas as pd
import pycountry

from data import schema
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


def table(frame: pd.DataFrame, headers: dict[str, str] | None = None) -> pd.DataFrame:
    """A table as it is shown and downloaded: headers (`headers` first) and coded values in
    words."""
    out = frame.copy()
    for column, read in VALUES.items():
        if column in out.columns:
            out[column] = [v if not isinstance(v, str) else read(v) for v in out[column]]
    return out.rename(columns=COLUMNS | (headers or {}))
