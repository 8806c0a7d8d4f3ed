"""Right to be forgotten: erase people for good, with proof."""

import pandas as pd
import streamlit as st

from consentlens import service
from pages import _access as access
from pages import _labels as labels
from pages import _widgets as w

identity = access.require("erase")
w.header(
    "Right to be forgotten",
    "Erase people from every table for good: their orders and requests stay for accounting "
    "without them, and a later import of them is refused.",
)
st.warning(
    "Erasure cannot be undone. It removes every row naming the people below, rewrites the "
    "store so no byte of them remains, and verifies it before reporting success.",
    icon=":material/warning:",
)
placeholder, hint = w.identifier_hint(identity, "erase")
with st.form("erase"):
    ids_text = st.text_area(
        "Customer IDs, one per line (matched exactly)",
        key="erase_ids",
        placeholder=placeholder or None,
    )
    if hint:
        st.caption(hint)
    request_id = st.text_input("Erasure request this answers (optional)", key="erase_request")
    confirmed = st.checkbox("I confirm these people are to be erased for good", key="erase_ok")
    go = st.form_submit_button("Erase", type="primary")

if go:
    ids = [line.strip() for line in ids_text.splitlines() if line.strip()]
    if not confirmed:
        st.error("Tick the confirmation first.")
    elif not ids:
        st.error("Give at least one customer ID.")
    else:
        try:
            with st.spinner("Erasing, compacting and verifying…"):
                result = service.forget(identity, ids, request_id.strip(), turn=w.turn())
        except service.StoreError as error:
            st.error(str(error))
        else:
            # Aggregates are recomputed from the rewritten store from now on.
            st.cache_data.clear()
            st.success(
                f"Erased {result.people} person(s) and verified: no row left in any table, "
                f"{result.scanned_values} identifying value(s) absent from the store's files."
            )
            done = pd.DataFrame(
                {
                    "table": [*result.deleted, *result.anonymised],
                    "rows": [*result.deleted.values(), *result.anonymised.values()],
                    "what_happened": ["deleted"] * len(result.deleted)
                    + ["kept, identifier removed"] * len(result.anonymised),
                }
            )
            st.table(labels.records(done, headers=labels.IMPORT_COLUMNS).set_index("Table"))
