"""Audit: who did what to the store, in a log whose chain proves it was not altered."""

import pandas as pd
import streamlit as st

from consentlens import service
from pages import _access as access
from pages import _labels as labels
from pages import _widgets as w

AUDIT_COLUMNS = {
    "seq": "Entry",
    "at": "Time (UTC)",
    "actor": "Who",
    "role": "Role",
    "action": "Action",
    "detail": "Details",
}

AUDIT_ROW_HEIGHT = 72  # px: three lines (a row wraps its text only above 64 px)

identity = access.require("audit")
w.header(
    "Audit",
    "Every import, export, report, erasure and sign-in, with time, actor and role; people "
    "appear only as keyed hashes.",
)
entries, verdict = service.audit_entries(identity)
if verdict.ok:
    st.success(
        f"The log is intact: {verdict.checked} {'entry' if verdict.checked == 1 else 'entries'}, "
        "every link of the chain verified."
    )
else:
    st.error(f"The log was altered: {verdict.problem}.")
if not entries:
    st.info("Nothing has been recorded yet.")
    st.stop()


def details(value: object) -> str:
    """An entry's details as a line of text: "rows: customers 2,938, orders 4,325 · seed: 7"."""
    if not isinstance(value, dict):
        return "" if value is None else str(value)
    return " · ".join(f"{labels.words(str(k)).lower()}: {_value(v)}" for k, v in value.items())


def _value(value: object) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{str(k).replace('_', ' ')} {_value(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value)
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


log = pd.DataFrame(entries)[["seq", "at", "actor", "role", "action", "detail"]]
log["detail"] = [details(d) for d in log["detail"]]
log["role"] = [labels.words(str(r)) for r in log["role"]]
actions_seen = sorted(log["action"].unique())
chosen = st.multiselect(
    "Actions", actions_seen, default=actions_seen, key="audit_actions", format_func=labels.words
)
actors = sorted(log["actor"].unique())
who = st.multiselect("Actors", actors, default=actors, key="audit_actors")
shown = log[log["action"].isin(chosen) & log["actor"].isin(who)].sort_values("seq", ascending=False)
shown = shown.assign(action=[labels.words(str(a)) for a in shown["action"]]).rename(
    columns=AUDIT_COLUMNS
)
# The time to the second, and each entry's details wrapped onto three lines of a column
# sized to the page, so that the log fits a laptop's page and its hashes read whole.
# The download keeps the full time.
on_screen = shown.assign(
    **{"Time (UTC)": [str(t)[:19].replace("T", " ") for t in shown["Time (UTC)"]]}
)
st.dataframe(
    on_screen,
    hide_index=True,
    row_height=AUDIT_ROW_HEIGHT,
    column_config={"Details": st.column_config.TextColumn(width="large")},
)
w.download(shown, "audit_log", 1)
