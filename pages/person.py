"""What we know about you: the transparency report for one person (GDPR Art. 15)."""

import pandas as pd
import streamlit as st

from consentlens import actions
from metrics.person import usage
from pages import _access as access
from pages import _labels as labels
from pages import _widgets as w

identity = access.require("view_person")
w.header(
    "What we know about you",
    "Everything the store holds about one person, how it is used and with whom it was "
    "shared, ready to send to them.",
)
st.caption(
    "The identifier is matched exactly: no trimming, no change of case, no merging of "
    "lookalikes. Each report you download is recorded in the audit trail."
)
with st.form("lookup"):
    customer_id = st.text_input("Customer ID", key="person_id")
    submitted = st.form_submit_button("Look up", type="primary")
if not customer_id:
    st.stop()

report = actions.look_up(identity, customer_id)
if not report.found:
    st.info("The store holds nothing under this identifier.")
    st.stop()


def readable(rows: list[dict]) -> pd.DataFrame:
    """Rows as the page shows them: stored codes (purposes, jurisdictions, request types) and
    column names in words (pages/_labels.py); the downloads keep the stored form."""
    frame = pd.DataFrame(rows)
    if "type" in frame.columns:
        frame["type"] = [labels.words(v) if isinstance(v, str) else v for v in frame["type"]]
    frame = labels.table(frame)
    return frame.rename(columns=lambda c: labels.words(c) if c.islower() else c)


left, right = st.columns(2)
left.download_button(
    "Download report (HTML)",
    data=lambda: actions.export_report(identity, report, "html"),
    file_name=f"consentlens_report_{report.as_of}.html",
    mime="text/html",
    on_click="ignore",
)
right.download_button(
    "Download report (JSON)",
    data=lambda: actions.export_report(identity, report, "json"),
    file_name=f"consentlens_report_{report.as_of}.json",
    mime="application/json",
    on_click="ignore",
)

st.subheader("How the dashboards count this person")
st.write(f"Class **{report.ymn or 'not yet a customer at the report date'}**: {report.ymn_reason}.")
st.subheader("Consent now")
st.dataframe(
    readable([{k: v for k, v in c.items() if k != "history"} for c in report.consent]),
    hide_index=True,
)
st.subheader("Consent history")
st.dataframe(readable([h for c in report.consent for h in c["history"]]), hide_index=True)
st.subheader("Shared with or sold to")
st.dataframe(readable(report.rows["sharing"]), hide_index=True)
# A few rows of long text each: a static table, whose cells wrap to the page's width.
st.subheader("Privacy requests and deadlines")
st.table(readable(report.requests), hide_index=True)
st.subheader("Everything held, table by table")
for name, rows in report.rows.items():
    with st.expander(f"{name.replace('_', ' ')} ({len(rows)})"):
        st.dataframe(readable(rows), hide_index=True)
st.subheader("How it is used")
uses = [
    {**u, "fields": ", ".join(map(labels.words, u["fields"].split(", ")))} for u in usage(report)
]
st.table(readable(uses), hide_index=True)
