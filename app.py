"""ConsentLens dashboard: page frame and router."""

import streamlit as st

st.set_page_config(page_title="ConsentLens", page_icon=":material/shield_person:", layout="wide")

pages = [
    st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
]
st.navigation(pages).run()
