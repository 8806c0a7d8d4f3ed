"""What we know about you: the transparency report for one person (GDPR Art. 15)."""

import pandas as pd
import streamlit as st

from consentlens import service
from pages import _access as access
from pages import _labels as labels
from pages import _widgets as w

identity = access.require("view_person")
w.header(
    "What we know about you",
    "Everything the store holds about one person, how it is used and with whom it was "
    "shared, ready to send to them.",
)
placeholder, hint = w.identifier_hint(identity, "view_person")
st.caption(
    "The identifier is matched exactly: no trimming, no change of case, no merging of "
    "lookalikes. Each report you download is recorded in the audit trail."
)
with st.form("lookup"):
    customer_id = st.text_input("Customer ID", key="person_id", placeholder=placeholder or None)
    if hint:
        st.caption(hint)
    submitted = st.form_submit_button("Look up", type="primary")
if not customer_id:
    st.stop()

report = service.look_up(identity, customer_id)
if not report.found:
    st.info("The store holds nothing under this identifier.")
    st.stop()


left, right = st.columns(2)
left.download_button(
    "Download report (HTML)",
    data=lambda: service.export_report(identity, report, "html"),
    file_name=f"consentlens_report_{report.as_of}.html",
    mime="text/html",
    on_click="ignore",
)
right.download_button(
    "Download report (JSON)",
    data=lambda: service.export_report(identity, report, "json"),
    file_name=f"consentlens_report_{report.as_of}.json",
    mime="application/json",
    on_click="ignore",
)


def shown(rows: list[dict], table: str | None = None) -> pd.DataFrame:
    """Rows of the report with headers and coded values in words (pages/_labels.py)."""
    return labels.records(pd.DataFrame(rows), table, labels.PERSON_COLUMNS)


def held(rows: list[dict], table: str) -> pd.DataFrame:
    """A table's stored rows, each column under the table's own name for it."""
    return labels.records(pd.DataFrame(rows), table)


st.subheader("How the dashboards count this person")
st.write(f"Class **{report.ymn or 'not yet a customer at the report date'}**: {report.ymn_reason}.")
st.subheader("Consent now")
st.dataframe(
    shown([{k: v for k, v in c.items() if k != "history"} for c in report.consent]),
    hide_index=True,
)
st.subheader("Consent history")
st.dataframe(
    held([h for c in report.consent for h in c["history"]], "consent_events"), hide_index=True
)
st.subheader("Shared with or sold to")
st.dataframe(held(report.rows["sharing"], "sharing"), hide_index=True)
# A few rows of long text each: a static table, whose cells wrap to the page's width.
st.subheader("Privacy requests and deadlines")
st.table(shown(report.requests, "privacy_requests"), hide_index=True)
st.subheader("Everything held, table by table")
for name, rows in report.rows.items():
    with st.expander(f"{labels.table_name(name)} ({len(rows)})"):
        st.dataframe(held(rows, name), hide_index=True)
st.subheader("How it is used")
st.table(
    pd.DataFrame(
        {
            "category": c.name,
            # The data held, named as the tables above name it.
            "fields": ", ".join(labels.field(c.tables[0], f) for f in c.fields),
            "purposes": c.purposes,
            "source": c.source,
            "retention": c.retention,
        }
        for c in report.categories
    ).rename(columns=labels.PERSON_COLUMNS),
    hide_index=True,
)
