"""ConsentLens dashboard: page frame, router, sign-in and the shared sidebar."""

from dataclasses import replace

import streamlit as st

from metrics import api
from pages import _access as access
from pages import _widgets as w
from pages._routes import PAGES, TRAINING

st.set_page_config(page_title="ConsentLens", page_icon=":material/shield_person:", layout="wide")
# Two deliberate rules over Streamlit's own styles, so that nothing a reader needs is cut off
# at a laptop's width (tests/e2e/test_layout.py measures every page at 1366 x 768 and
# 1920 x 1080): a tile's label wraps onto another line rather than ending in "…", and a
# multiselect's box grows to show every chosen value rather than scrolling them out of sight
# past four and a half rows (the sidebar's "Purposes shown" holds five).
st.html(
    "<style>"
    '[data-testid="stMetricLabel"] * {white-space: normal; overflow: visible; '
    "text-overflow: clip;}"
    '[data-testid="stMultiSelect"] div:has(> [data-testid="stMultiSelectTagsContainer"]) '
    "{max-height: none;}"
    "</style>"
)


identity = access.identify()
st.session_state["identity"] = identity
# Training (?scenario=NAME) reads the scenario's own store: the dashboards and the Training
# page only, never a page that writes or shows a person. Serving a Parquet folder
# ($CONSENTLENS_SOURCE) is read-only too: only the dashboards.
training = w.enter_training()
if training is not None or api.source_folder() is not None:
    served = {"Dashboards": PAGES["Dashboards"], "Training": [TRAINING]}
else:
    served = {**PAGES, "Training": [TRAINING]}
routes = {
    section: [
        st.Page(path, title=title, icon=icon, url_path=url, default=(url == "home"))
        for path, title, icon, url, permission in pages
        if identity.can(permission)
    ]
    for section, pages in served.items()
}
page = st.navigation({section: items for section, items in routes.items() if items})
access.banner(identity)
if training is not None:
    w.training_banner(training)
info = w.summary()
# The filters only where they apply: on the dashboards (elsewhere they are kept for the
# next dashboard, not shown).
dashboard = page.title in {title for _path, title, _icon, _url, _perm in PAGES["Dashboards"]}
if info is not None and not info.empty and dashboard:
    # Counts carry consistent noise for those without access to person-level data (and
    # in local mode unless configured otherwise): see metrics/perturbation.py.
    st.session_state["params"] = replace(w.sidebar(info), perturbed=identity.perturbed)
elif info is not None and not info.empty:
    w.keep_sidebar()
st.session_state["summary"] = info
if training is None:
    w.synthetic_marker(info)
# "Link to this view" sits at the top but is filled last, once the page's own controls have
# written their choices into the address.
link_slot = st.container() if dashboard and info is not None and not info.empty else None
w.tour_step(page.url_path)
page.run()
if link_slot is not None:
    with link_slot:
        w.share_link()
