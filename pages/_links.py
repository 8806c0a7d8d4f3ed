"""A shared view's address read back: what of it can be used, and a plain word about the rest.

A link carries the sidebar (period, filters, purposes) and the page's own controls. Whatever
in it cannot be used (a malformed or impossible date, a start after the end, a value the data
does not hold, an unknown or repeated parameter) is left out or replaced, and named in a
short notice with what was used instead; the usable parameters beside it still apply. No
engine message, no traceback, and no value is shown as markup.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

# The sidebar's filters: URL key -> (label, StoreSummary attribute with its choices,
# Filters field).
FILTERS = {
    "jurisdiction": ("Jurisdiction", "jurisdictions", "jurisdictions"),
    "country": ("Country", "countries", "countries"),
    "channel": ("Acquisition channel", "channels", "channels"),
    "segment": ("Segment", "segments", "segments"),
}
# Every choice a link may carry: URL key -> (what a notice calls it, StoreSummary attribute).
CHOICES = {
    **{key: (label.lower(), attr) for key, (label, attr, _field) in FILTERS.items()},
    "purpose": ("purpose", "purposes"),
}
DATES = {"start": "start date", "end": "end date"}
# Each dashboard's own controls (grain, breakdown, grouping, purpose) a link carries, by the
# page's address; in the link under the control's widget key. Their values are checked by
# the page, which knows its choices (pages/_widgets.control).
PAGE_CONTROLS: dict[str, tuple[str, ...]] = {
    "home": ("currency",),
    "consent-and-segments": ("consent_dimension", "consent_grain"),
    "yes-maybe-no": ("currency",),
    "erasure-and-requests": ("erasure_grain", "erasure_by"),
    "conversion-impact": ("impact_by", "impact_purpose", "currency"),
}
CONTROLS = {key for keys in PAGE_CONTROLS.values() for key in keys}
# Streamlit's own parameters (embedding options) are not the dashboard's to judge, nor the
# training scenario's (read by pages/_widgets.enter_training).
FOREIGN = {"embed", "embed_options", "scenario", "seed"}
SHOWN_CHARS = 40
MAX_NOTICES = 8


def shown(value: str) -> str:
    """A value from the address as a notice quotes it: short, and never read as markup."""
    text = "".join(ch if ch.isprintable() else " " for ch in value)
    if len(text) > SHOWN_CHARS:
        text = text[: SHOWN_CHARS - 1] + "…"
    return "".join("\\" + ch if ch in string.punctuation else ch for ch in text)


@dataclass
class LinkedView:
    """The usable part of a link and the notices about the rest."""

    start: date
    end: date
    chosen: dict[str, list[str]] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)


def read_link(
    query: Mapping[str, Sequence[str]],
    choices: Mapping[str, Sequence[str]],
    *,
    first: date,
    last: date,
    default_start: date,
    default_end: date,
    period_before: Callable[[date], date],
) -> LinkedView:
    """The view a link asks for: `query` maps each parameter to its values, `choices` each
    choice parameter (CHOICES) to the values the data holds, `first` and `last` bound the
    period and `period_before(end)` gives the default period's start for an end date."""
    notices: list[str] = []
    for key in query:
        if key not in DATES and key not in CHOICES and key not in FOREIGN | CONTROLS:
            notices.append(
                f"The link's setting “{shown(key)}” is not one the dashboard knows; it was ignored."
            )
    given = {key: _date(query, key, label, first, last, notices) for key, label in DATES.items()}
    start = given["start"] or default_start
    end = given["end"] or default_end
    if start > end:
        # Only an end was given, before the default start: the default length up to it.
        replaced = max(first, period_before(end))
        if given["start"]:
            notices.append(
                f"The link's start date {start} is after its end date {end}; the period "
                f"{replaced} to {end} was used instead."
            )
        start = replaced
    chosen: dict[str, list[str]] = {}
    for key, (label, _attr) in CHOICES.items():
        values = list(query.get(key, ()))
        known = set(choices.get(key, ()))
        kept = list(dict.fromkeys(v for v in values if v in known))
        unknown = list(dict.fromkeys(v for v in values if v not in known))
        if unknown:
            names = ", ".join(f"“{shown(v)}”" for v in unknown[:3])
            more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
            notices.append(
                f"The link's {label} {names}{more} is not in the data; it was left out"
                + (" (the others apply)." if kept else f", so every {label} is shown.")
            )
        if kept:
            chosen[key] = kept
    if len(notices) > MAX_NOTICES:
        notices = [
            *notices[: MAX_NOTICES - 1],
            f"{len(notices) - MAX_NOTICES + 1} more settings could not be used.",
        ]
    return LinkedView(start, end, chosen, notices)


def _date(
    query: Mapping[str, Sequence[str]],
    key: str,
    label: str,
    first: date,
    last: date,
    notices: list[str],
) -> date | None:
    values = list(query.get(key, ()))
    if not values:
        return None
    if len(values) > 1:
        notices.append(f"The link gives {len(values)} {label}s; the last one was used.")
    text = values[-1]
    try:
        value = date.fromisoformat(text)
    except ValueError:
        notices.append(
            f"The link's {label} “{shown(text)}” is not a date like 2025-01-31; the default "
            "was used instead."
        )
        return None
    if value < first:
        notices.append(
            f"The link's {label} {value} is before the data begins; {first} was used instead."
        )
        return first
    if value > last:
        notices.append(
            f"The link's {label} {value} is after the data ends; {last} was used instead."
        )
        return last
    return value
