"""Actions the dashboard may take on behalf of a signed-in person: each checks the role
first and leaves an audit entry. Pages call these, never the data layer directly."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from consentlens.access import Identity
from data import audit
from data.erasure import ErasureError, ErasureResult, erase
from data.keys import keyed_hash, require_key
from data.store import open_store, resolve_path
from metrics.params import Params, resolve_params
from metrics.person import PersonReport, person_report, report_html, report_json
from metrics.rules import Tables

__all__ = ["ErasureError", "audit_entries", "export_report", "forget", "look_up", "record_export"]


def _store() -> Path:
    return resolve_path()


def report_params(data_range: tuple[datetime | None, datetime | None]) -> Params:
    """Parameters of a transparency report: as of today, or the data's last day if later."""
    first, last = data_range
    today = datetime.now(UTC).date()
    return resolve_params((first, last), as_of=max(last.date(), today) if last else today)


def look_up(identity: Identity, customer_id: str) -> PersonReport:
    """The transparency report for one exact identifier (privacy officer and admin); every
    look-up is recorded in the audit trail, the person as a keyed hash."""
    identity.require("view_person")
    with open_store(_store(), read_only=True) as store:
        params = report_params(store.date_range())
        report = person_report(Tables.from_backend(store.backend), params, customer_id)
    audit.record(
        _store(),
        "look-up",
        {"subject": keyed_hash(require_key(_store()), customer_id), "found": report.found},
        actor=identity.name,
        role=identity.role,
    )
    return report


def record_login(identity: Identity) -> None:
    """Note a sign-in in the audit trail."""
    audit.record(_store(), "login", {}, actor=identity.name, role=identity.role)


def export_report(identity: Identity, report: PersonReport, fmt: str) -> bytes:
    """The report as a file, recorded in the audit trail (generated only when asked)."""
    identity.require("view_person")
    key = require_key(_store())
    audit.record(
        _store(),
        "report",
        {"subject": keyed_hash(key, report.customer_id), "format": fmt, "found": report.found},
        actor=identity.name,
        role=identity.role,
    )
    if fmt == "html":
        return report_html(report).encode("utf-8")
    return json.dumps(report_json(report), indent=2).encode("utf-8")


def forget(
    identity: Identity, customer_ids: Sequence[str], request_id: str | None
) -> ErasureResult:
    """Erase people (right to be forgotten) and verify it (privacy officer and admin)."""
    identity.require("erase")
    return erase(
        _store(),
        customer_ids,
        request_id=request_id or None,
        actor=identity.name,
        role=identity.role,
    )


def record_export(identity: Identity, name: str, rows: int) -> None:
    """Note in the audit trail that a table of (suppressed) figures was downloaded."""
    identity.require("view_aggregates")
    audit.record(
        _store(), "export", {"table": name, "rows": rows}, actor=identity.name, role=identity.role
    )


def audit_entries(identity: Identity) -> tuple[list[dict[str, Any]], audit.Verdict]:
    """The audit trail and its verification (privacy officer and admin)."""
    identity.require("audit")
    return audit.entries(_store()), audit.verify(_store())
