"""ConsentLens dashboard: page frame, router and the shared sidebar."""

import streamlit as st

from pages import _widgets as w

st.set_page_config(page_title="ConsentLens", page_icon=":material/shield_person:", layout="wide")

# Each url_path differs from its file's name: Streamlit still treats a pages/ folder beside the
# entrypoint as legacy pages, and a shared name would let a rerun run a page without this
# frame (and its sidebar).
PAGES = [
    st.Page(
        "pages/overview.py",
        title="Overview",
        icon=":material/dashboard:",
        default=True,
        url_path="home",
    ),
]

page = st.navigation(PAGES)
info = w.summary()
if info is not None and not info.empty:
    st.session_state["params"] = w.sidebar(info)
st.session_state["summary"] = info
page.run()
