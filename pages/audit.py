"""Audit: who did what to the store, in a log whose chain proves it was not altered."""

import pandas as pd
import streamlit as st

from consentlens import actions
from pages import _access as access
from pages import _widgets as w

identity = access.require("audit")
w.header(
    "Audit",
    "Every import, export, report, erasure and sign-in, with time, actor and role; people "
    "appear only as keyed hashes.",
)
entries, verdict = actions.audit_entries(identity)
if verdict.ok:
    st.success(f"The log is intact: {verdict.checked} entries, every link of the chain verified.")
else:
    st.error(f"The log was altered: {verdict.problem}.")
if not entries:
    st.info("Nothing has been recorded yet.")
    st.stop()

log = pd.DataFrame(entries)[["seq", "at", "actor", "role", "action", "detail"]]
log["detail"] = log["detail"].astype(str)
actions_seen = sorted(log["action"].unique())
chosen = st.multiselect("Actions", actions_seen, default=actions_seen, key="audit_actions")
actors = sorted(log["actor"].unique())
who = st.multiselect("Actors", actors, default=actors, key="audit_actors")
shown = log[log["action"].isin(chosen) & log["actor"].isin(who)].sort_values("seq", ascending=False)
st.dataframe(shown, hide_index=True)
w.download(shown, "audit_log", 1)
