"""Overview: the headline figures of the store."""

import streamlit as st

from pages._data import load_metrics

st.title("ConsentLens")
st.caption("Who said yes, who has not decided, who said no, and how erasure requests are handled.")

figures = load_metrics()
if figures is not None:
    k = figures["min_cell"]

    def shown(value: int | None) -> str:
        return f"<{k}" if value is None else f"{value:,}"

    st.write(f"As of **{figures['as_of']}**, period {figures['start']} to {figures['end']}.")
    cols = st.columns(4)
    cols[0].metric("Customers", shown(figures["customers"]))
    for col, cls in zip(cols[1:], ("yes", "maybe", "no"), strict=True):
        col.metric(cls.capitalize(), shown(figures["ymn"][cls]))
    erasure = figures["erasure"]
    cols = st.columns(4)
    cols[0].metric("Erasure requests received", shown(erasure["received"]))
    cols[1].metric("Completed", shown(erasure["completed"]))
    cols[2].metric("Open", shown(erasure["open"]))
    cols[3].metric("Overdue", shown(erasure["overdue"]))
