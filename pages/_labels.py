"""How values read on screen: countries by name, jurisdictions and purposes in words, with
the code beside them where an expert looks for it. One place, so a value reads the same in
every filter, table and chart."""

from __future__ import annotations

import pycountry

from data import schema

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
