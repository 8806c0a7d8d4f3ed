"""Known layouts of marketing tools' exports (spec section 10), described as data.

A layout is recognised by its signature: headers that all appear in the file (compared as
normalised, so case and punctuation do not matter). It then says, as a mapping, how the
file's columns become a canonical table and its flags consent events. Adding a tool's
export is adding an entry to LAYOUTS.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from data.intake.ingest import first_filled, trim
from data.intake.mapping import ColumnMapping, normalise
from data.intake.problems import LINE_COLUMN
from data.storage import schema


@dataclass(frozen=True)
class Flag:
    """A column of yes/no (or status) values deciding one purpose."""

    purpose: str
    polarity: str = schema.OPT_IN
    date: str | None = None  # the column with this flag's own decision time
    # Values that say the person was never asked or never answered: no decision.
    unasked: tuple[str, ...] = ()


@dataclass(frozen=True)
class Layout:
    """One tool's export: how to recognise it and how to read it."""

    name: str
    table: str
    signature: tuple[str, ...]
    columns: dict[str, str]
    flags: dict[str, Flag] = field(default_factory=dict)
    joined: dict[str, tuple[str, ...]] = field(default_factory=dict)  # column -> headers
    decided_at: str | None = None  # the date of flags that have none of their own
    # Columns the layout adds to the file: a constant (a list export's membership is its
    # flag) or the first filled of several columns (a decision time with fallbacks).
    constants: dict[str, str] = field(default_factory=dict)
    first_filled: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # The header of people's e-mail addresses when the export names people by them.
    identity: str | None = None
    # A line-item export: rows repeating this column's value continue the first one.
    fold_by: str | None = None
    # Amounts net of another: column -> (amount, less this), never below 0.
    net: dict[str, tuple[str, str]] = field(default_factory=dict)
    # Records nested in one JSON column, spread into columns first (a consent platform's).
    spread: Callable[[pa.Table], pa.Table] | None = None

    def fits(self, headers: Sequence[str]) -> bool:
        """Whether a file with these headers is this tool's export."""
        present = {normalise(h) for h in headers}
        return all(normalise(h) in present for h in self.signature)

    def derive(self, text: pa.Table) -> pa.Table:
        """The file's text with the columns this layout adds."""
        if self.spread is not None:
            text = self.spread(text)
        spelt = {normalise(h): h for h in text.column_names if h != LINE_COLUMN}
        rows = text.num_rows
        for header, value in self.constants.items():
            text = text.append_column(header, pa.repeat(pa.scalar(value, pa.string()), rows))
        for header, sources in self.first_filled.items():
            present = [text.column(spelt[normalise(h)]) for h in sources if normalise(h) in spelt]
            text = text.append_column(header, first_filled(present, "", rows))
        for header, (amount, less) in self.net.items():
            text = text.append_column(header, _net(text, spelt, amount, less))
        if self.fold_by and normalise(self.fold_by) in spelt:
            text = text.append_column(
                CONTINUATION, _continuations(text, spelt[normalise(self.fold_by)])
            )
        return text

    def mapping(self, headers: Sequence[str]) -> ColumnMapping:
        """The mapping of this layout, spelt as the file spells its headers."""
        spelt = {normalise(h): h for h in headers}
        own = dict(self.flags)
        if self.spread is not None:
            # A consent platform's purposes, one column each: those with a canonical
            # equivalent are flags; the others stay unmapped and the report names them.
            for header in headers:
                if header.startswith(PLATFORM_PURPOSE):
                    purpose = platform_purpose(header.removeprefix(PLATFORM_PURPOSE))
                    if purpose and purpose not in {f.purpose for f in own.values()}:
                        own[header] = Flag(purpose)

        def has(header: str | None) -> bool:
            return header is not None and normalise(header) in spelt

        def fix(header: str) -> str:
            return spelt[normalise(header)]

        flags = {h: f for h, f in own.items() if has(h)}
        return ColumnMapping(
            self.table,
            columns={fix(h): c for h, c in self.columns.items() if has(h)},
            opt_ins={fix(h): f.purpose for h, f in flags.items()},
            opt_in_dates={fix(h): fix(f.date) for h, f in flags.items() if has(f.date)},
            decided_at=fix(self.decided_at) if has(self.decided_at) else None,
            polarity={fix(h): f.polarity for h, f in flags.items() if f.polarity != schema.OPT_IN},
            unasked={fix(h): list(f.unasked) for h, f in flags.items() if f.unasked},
            joined={
                c: [fix(h) for h in parts if has(h)]
                for c, parts in self.joined.items()
                if any(has(h) for h in parts)
            },
            layout=self.name,
            identity=fix(self.identity) if has(self.identity) else None,
            continuation=CONTINUATION if has(self.fold_by) else None,
        )


CONTINUATION = "continues an earlier row"
PLATFORM_PURPOSE = "purpose "


def platform_purpose(name: str) -> str | None:
    """The canonical purpose a consent platform's purpose id stands for, if it is an obvious
    equivalent (`marketing_email`, `email-newsletter`, `personalisation`)."""
    words = normalise(name)
    for purpose, synonyms in schema.PURPOSE_WORDS.items():
        if words == purpose or words in synonyms:
            return purpose
    return None


def _didomi_users(text: pa.Table) -> pa.Table:
    """Didomi's users export, one JSON record a line ({"user": {...}, "events": [...]}):
    the person and each purpose's choice (true, false or null) as columns."""
    rows = text.column("user").to_pylist()
    people: dict[str, list[str]] = {
        "user id": [], "user e-mail": [], "created_at": [], "updated_at": [], "country": [],
    }  # fmt: skip
    choices: dict[str, list[str]] = {}
    for n, raw in enumerate(rows):
        try:
            user = json.loads(raw) if raw else {}
        except ValueError:
            user = {}
        user = user if isinstance(user, dict) else {}
        key = str(user.get("organization_user_id") or "")
        people["user e-mail"].append(key if "@" in key else "")
        people["user id"].append("" if "@" in key else key)
        for field_name in ("created_at", "updated_at"):
            people[field_name].append(str(user.get(field_name) or ""))
        people["country"].append(str(user.get("country") or user.get("last_seen_country") or ""))
        consents = user.get("consents") if isinstance(user.get("consents"), dict) else {}
        for choice in consents.get("purposes") or []:
            if not isinstance(choice, dict) or not choice.get("id"):
                continue
            column = choices.setdefault(PLATFORM_PURPOSE + str(choice["id"]), [""] * len(rows))
            enabled = choice.get("enabled")
            column[n] = "" if enabled is None else ("true" if enabled else "false")
    for name, values in {**{f"Didomi {k}": v for k, v in people.items()}, **choices}.items():
        text = text.append_column(name, pa.array(values, pa.string()))
    return text


YES_NO_UNASKED = ("no", "false")


def _net(text: pa.Table, spelt: dict[str, str], amount: str, less: str) -> pa.ChunkedArray:
    """`amount` less `less` (missing counts as 0), never below 0, as text; empty where the
    amount is empty (a line item's continuation row)."""

    def number(header: str) -> pa.ChunkedArray:
        if normalise(header) not in spelt:
            return pa.chunked_array([pa.repeat(pa.scalar(0.0), text.num_rows)])
        values = trim(text.column(spelt[normalise(header)]))
        values = pc.if_else(pc.equal(values, ""), "0", values)
        return pc.cast(values, pa.float64(), safe=False)

    given = normalise(amount) in spelt
    if not given:
        return pa.chunked_array([pa.repeat(pa.scalar("", pa.string()), text.num_rows)])
    raw = trim(text.column(spelt[normalise(amount)]))
    net = pc.max_element_wise(pc.subtract(number(amount), number(less)), 0.0)
    shown = pc.cast(pc.round(net, 2), pa.string())
    return pc.if_else(pc.equal(raw, ""), "", shown)


def _continuations(text: pa.Table, header: str) -> pa.ChunkedArray:
    """ "1" on rows whose `header` value appeared on an earlier row, else ""."""
    seen: set[str] = set()
    marks = []
    for value in text.column(header).to_pylist():
        key = (value or "").strip()
        marks.append("1" if key and key in seen else "")
        seen.add(key)
    return pa.chunked_array([pa.array(marks, pa.string())])


# Mailchimp's audience export: one file per status, people named by e-mail address; merge
# fields (names, phone, address) vary by audience and come first.
MAILCHIMP = ("Email Address", "MEMBER_RATING", "OPTIN_TIME", "CONFIRM_TIME", "LEID", "EUID")
MAILCHIMP_COLUMNS = {
    "Email Address": "email",
    "Phone Number": "phone",
    "CC": "country",
    "Mailchimp sign-up time": "created_at",
}
MAILCHIMP_NAME = {"full_name": ("First Name", "Last Name")}
MAILCHIMP_MEMBER = "Mailchimp list membership"
MAILCHIMP_DECIDED_AT = "Mailchimp decision time"


def _mailchimp(status: str, marker: tuple[str, ...], last: str, flag: Flag | None) -> Layout:
    """One status file of the audience export; `last` is its latest time column."""
    return Layout(
        name=f"Mailchimp {status} members",
        table="customers",
        signature=(*MAILCHIMP, *marker),
        columns=MAILCHIMP_COLUMNS,
        joined=MAILCHIMP_NAME,
        constants={MAILCHIMP_MEMBER: status} if flag else {},
        first_filled={
            "Mailchimp sign-up time": ("OPTIN_TIME", "CONFIRM_TIME", last),
            # A subscription dates from its confirmation (double opt-in), else the opt-in,
            # else the member's last change; an unsubscription from UNSUB_TIME.
            MAILCHIMP_DECIDED_AT: (
                ("CONFIRM_TIME", "OPTIN_TIME", last) if status == "subscribed" else (last,)
            ),
        },
        flags={MAILCHIMP_MEMBER: flag} if flag else {},
        identity="Email Address",
    )


LAYOUTS: tuple[Layout, ...] = (
    Layout(
        name="Shopify customers",
        table="customers",
        signature=("Customer ID", "Email", "Accepts Email Marketing"),
        columns={
            "Customer ID": "customer_id",
            "Email": "email",
            "Phone": "phone",
            "Default Address Country Code": "country",
            "Default Address Province Code": "state",
        },
        joined={"full_name": ("First Name", "Last Name")},
        flags={
            # Shopify's "no" means not subscribed: no decision (spec section 10).
            "Accepts Email Marketing": Flag("email_marketing", unasked=YES_NO_UNASKED),
            "Accepts SMS Marketing": Flag("sms_marketing", unasked=YES_NO_UNASKED),
        },
        identity="Email",
    ),
    Layout(
        name="HubSpot contacts",
        table="customers",
        signature=("Record ID", "Email", "Create Date"),
        columns={
            "Record ID": "customer_id",
            "Email": "email",
            "Phone Number": "phone",
            "Create Date": "created_at",
        },
        joined={"full_name": ("First Name", "Last Name")},
        flags={
            "Unsubscribed from all email": Flag("email_marketing", polarity=schema.OPT_OUT),
        },
        identity="Email",
    ),
    Layout(
        # Klaviyo's profile export names people by e-mail and its own profile id.
        name="Klaviyo profiles",
        table="customers",
        signature=("Email", "Email Marketing Consent"),
        columns={
            "Klaviyo ID": "customer_id",
            "Email": "email",
            "Phone Number": "phone",
            "Profile Created On": "created_at",
        },
        joined={"full_name": ("First Name", "Last Name")},
        flags={
            # SUBSCRIBED grants, UNSUBSCRIBED withdraws (denied without an earlier grant),
            # NEVER_SUBSCRIBED records no decision.
            "Email Marketing Consent": Flag(
                "email_marketing", date="Email Marketing Consent Timestamp"
            ),
            "SMS Marketing Consent": Flag("sms_marketing", date="SMS Marketing Consent Timestamp"),
        },
        identity="Email",
    ),
    Layout(
        # One row per line item: an order's later rows repeat its Name and carry no totals.
        name="Shopify orders",
        table="orders",
        signature=("Name", "Email", "Financial Status", "Lineitem quantity", "Refunded Amount"),
        columns={
            "Name": "order_id",
            "Created at": "ordered_at",
            "Currency": "currency",
            "Net revenue": "revenue",
        },
        net={"Net revenue": ("Total", "Refunded Amount")},
        fold_by="Name",
        identity="Email",
    ),
    Layout(
        # A consent platform: each purpose's recorded choice is explicit (false: denied).
        name="Didomi users",
        table="customers",
        signature=("user", "events"),
        columns={
            "Didomi user id": "customer_id",
            "Didomi user e-mail": "email",
            "Didomi created_at": "created_at",
            "Didomi country": "country",
        },
        decided_at="Didomi updated_at",
        spread=_didomi_users,
        identity="Didomi user e-mail",
    ),
    _mailchimp(
        "subscribed",
        ("LAST_CHANGED",),
        "LAST_CHANGED",
        Flag("email_marketing", date=MAILCHIMP_DECIDED_AT),
    ),
    _mailchimp(
        "unsubscribed",
        ("UNSUB_TIME", "UNSUB_CAMPAIGN_TITLE"),
        "UNSUB_TIME",
        Flag("email_marketing", polarity=schema.OPT_OUT, date=MAILCHIMP_DECIDED_AT),
    ),
    # Cleaned addresses bounced: the people are known, no decision of theirs is.
    _mailchimp("cleaned", ("CLEAN_TIME", "CLEAN_CAMPAIGN_TITLE"), "CLEAN_TIME", None),
)


def recognise(headers: Sequence[str]) -> Layout | None:
    """The known layout a file with these headers is, if any (the most specific first)."""
    fitting = [layout for layout in LAYOUTS if layout.fits(headers)]
    return max(fitting, key=lambda layout: len(layout.signature), default=None)


def layouts_markdown() -> str:
    """The known layouts as Markdown, as the README lists them."""
    lines = ["| export | recognised by the headers | table |", "|---|---|---|"]
    for layout in LAYOUTS:
        signature = ", ".join(f"`{h}`" for h in layout.signature)
        lines.append(f"| {layout.name} | {signature} | {layout.table} |")
    return "\n".join(lines)
