"""What the store holds about one person (GDPR Art. 15): every row, table by table; their
current consent with its history; the class the dashboards give them and why; recipients;
requests and deadlines; and the categories, purposes, sources and retention that apply.

The identifier is matched exactly: no trimming, no case folding, no merging of lookalikes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import ibis
import jinja2
import markupsafe

from data.rights.policy import CATEGORIES, Category
from data.storage import schema
from metrics.params import Filters, Params
from metrics.rules import Tables, classes, consent_states, open_on, overdue_on, requests

CLASS_TEXT = {
    schema.YES: "yes: you allow at least one of our marketing purposes",
    schema.MAYBE: "maybe: you have not decided on our marketing purposes",
    schema.NO: "no: you refused our marketing purposes or asked to be forgotten",
}


@dataclass
class PersonReport:
    """Everything held about one person, ready for JSON or HTML."""

    customer_id: str
    as_of: date
    generated_at: str
    rows: dict[str, list[dict[str, Any]]]
    consent: list[dict[str, Any]] = field(default_factory=list)
    ymn: str | None = None
    ymn_reason: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    categories: tuple[Category, ...] = CATEGORIES
    min_cell: int = 11

    @property
    def found(self) -> bool:
        """Whether the store holds anything about this identifier."""
        return any(self.rows.values())


def _only(t: Tables, customer_id: str) -> Tables:
    """The canonical tables restricted to rows of exactly this identifier."""
    limited = {}
    for name in schema.TABLE_ORDER:
        table = getattr(t, name)
        limited[name] = table.filter(table.customer_id == customer_id)
    return Tables(**limited)


def _records(table) -> list[dict[str, Any]]:
    return table.to_pyarrow().to_pylist()


def _reason(states: dict[str, str], erasure: bool, purposes: tuple[str, ...]) -> str:
    if erasure:
        return "an erasure request (right to be forgotten) was received and not rejected"
    decided = {p: states.get(p, schema.NO_DECISION) for p in purposes}
    text = ", ".join(f"{p.replace('_', ' ')}: {s.replace('_', ' ')}" for p, s in decided.items())
    return f"marketing purposes {text}"


def person_report(t: Tables, params: Params, customer_id: str) -> PersonReport:
    """The transparency report for `customer_id` as of params.as_of (filters ignored)."""
    p = replace(params, filters=Filters())
    mine = _only(t, customer_id)
    rows = {
        name: sorted(_records(getattr(mine, name)), key=lambda r: json.dumps(r, default=str))
        for name in schema.TABLE_ORDER
    }
    report = PersonReport(
        customer_id=customer_id,
        as_of=p.as_of,
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        rows=rows,
        min_cell=p.min_cell,
    )
    if not report.found:
        return report
    states = {r["purpose"]: r for r in _records(consent_states(mine, p))}
    history = sorted(rows["consent_events"], key=lambda r: (r["purpose"], r["occurred_at"]))
    for purpose in sorted({r["purpose"] for r in history}):
        state = states.get(purpose)
        events = [e for e in history if e["purpose"] == purpose]
        deciding = [
            e
            for e in events
            if state and e["decision"] == state["state"] and e["occurred_at"].date() <= p.as_of
        ]
        last = deciding[-1] if deciding else None
        report.consent.append(
            {
                "purpose": purpose,
                "state": state["state"] if state else schema.NO_DECISION,
                "since": last["occurred_at"] if last else None,
                "method": last["method"] if last else None,
                "notice_version": last["notice_version"] if last else None,
                "history": events,
            }
        )
    found = _records(classes(mine, p))
    if found:
        report.ymn = found[0]["cls"]
        erasure = any(
            r["type"] == schema.ERASURE
            and r["status"] != schema.REJECTED
            and r["received_at"].date() <= p.as_of
            for r in rows["privacy_requests"]
        )
        report.ymn_reason = _reason(
            {k: v["state"] for k, v in states.items()}, erasure, p.marketing_purposes
        )
    theirs = requests(mine, p)
    at = ibis.literal(p.as_of)
    theirs = theirs.mutate(open=open_on(theirs, at), overdue=overdue_on(theirs, at))
    for r in sorted(_records(theirs), key=lambda r: r["received"]):
        deadline = schema.DEADLINES.get(r["jurisdiction"], schema.DEADLINES[schema.OTHER])
        r["legal_period"] = str(deadline[1] if r["extended"] else deadline[0])
        report.requests.append(r)
    return report


# What an identifier looks like, without showing one: the forms customer ids take in the
# store, each a placeholder (# a digit, A a letter, x a letter or a digit) after the literal
# prefix it shares with the others, such as `SAMPLE-`. Only forms at least k customers share
# are described, so a rare form cannot point at someone.
ID_CLASSES = {"digits": "#", "letters": "A", "letters and digits": "x"}


@dataclass(frozen=True)
class IdFormat:
    """One form of customer id: its literal prefix, what follows and how long it is."""

    prefix: str
    kind: str  # a key of ID_CLASSES
    length: int
    customers: int

    @property
    def placeholder(self) -> str:
        """The form with a symbol for each character: "SAMPLE-#######"."""
        return self.prefix + ID_CLASSES[self.kind] * self.length

    @property
    def words(self) -> str:
        """The form in words: "7 digits", "em- then 16 letters and digits"."""
        rest = f"{self.length} {self.kind}" if self.length != 1 else f"1 {self.kind[:-1]}"
        return f"{self.prefix} then {rest}" if self.prefix else rest


def id_formats(t: Tables, min_cell: int, limit: int = 3) -> list[IdFormat]:
    """The commonest forms of customer id in `t` shared by at least `min_cell` customers."""
    ids = t.customers.select("customer_id")
    prefix = ids.customer_id.re_extract(r"^([A-Za-z]+[-_])", 1)
    shaped = ids.mutate(prefix=prefix).mutate(
        rest=ids.customer_id.substr(prefix.length()),
    )
    rest = shaped.rest
    kind = ibis.cases(
        (rest.re_search(r"^[0-9]+$"), "digits"),
        (rest.re_search(r"^[A-Za-z]+$"), "letters"),
        (rest.re_search(r"^[0-9A-Za-z]+$"), "letters and digits"),
        else_="other",
    )
    forms = (
        shaped.mutate(kind=kind, length=rest.length())
        .filter(lambda r: r.kind != "other")
        .group_by(["prefix", "kind", "length"])
        .aggregate(customers=lambda r: r.count())
        .filter(lambda r: r.customers >= max(min_cell, 1))
        .order_by([ibis.desc("customers"), "prefix", "kind", "length"])
        .limit(limit)
    )
    return [
        IdFormat(r["prefix"] or "", r["kind"], int(r["length"]), int(r["customers"]))
        for r in forms.to_pyarrow().to_pylist()
    ]


def usage(report: PersonReport) -> list[dict[str, str]]:
    """One row per category of data: its fields, purposes, source and retention."""
    return [
        {
            "category": c.name,
            "fields": ", ".join(c.fields),
            "purposes": c.purposes,
            "source": c.source,
            "retention": c.retention,
        }
        for c in report.categories
    ]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def report_json(report: PersonReport) -> dict[str, Any]:
    """The report as plain JSON types."""
    return _plain(
        {
            "customer_id": report.customer_id,
            "as_of": report.as_of,
            "generated_at": report.generated_at,
            "found": report.found,
            "data": report.rows,
            "consent": report.consent,
            "class": report.ymn,
            "class_reason": report.ymn_reason,
            "shared_with": report.rows.get("sharing", []),
            "privacy_requests": report.requests,
            "how_we_use_it": [
                {
                    "category": c.name,
                    "fields": list(c.fields),
                    "purposes": c.purposes,
                    "source": c.source,
                    "retention": c.retention,
                }
                for c in report.categories
            ],
        }
    )


STYLE = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
color:#1b1b1b;line-height:1.45}
h1{font-size:1.6rem}
h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.5rem 0}
th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}
.note{color:#555;font-size:.9rem}.yes{color:#00704f}.no{color:#a33a00}.maybe{color:#8a5a00}
@media (prefers-color-scheme:dark){body{background:#111;color:#eee}th{background:#222}
th,td{border-color:#444}.note{color:#aaa}}
"""


def _cell(value: Any) -> str:
    """A value as a report's table shows it (escaped by the template)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(_plain(value))


# Every value from the store is escaped on the way into the page (autoescape), wherever the
# template places it.
TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)
TEMPLATES.filters["cell"] = _cell


def report_html(report: PersonReport) -> str:
    """A self-contained HTML document a privacy officer can send to the person
    (metrics/person_report.html)."""
    return TEMPLATES.get_template("person_report.html").render(
        report=report,
        style=markupsafe.Markup(STYLE),
        class_text=CLASS_TEXT,
        consent=[{k: v for k, v in c.items() if k != "history"} for c in report.consent],
        history=[h for c in report.consent for h in c["history"]],
        usage=usage(report) if report.found else [],
    )
