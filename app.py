"""ConsentLens dashboard: page frame, router, sign-in and the shared sidebar."""

from dataclasses import replace

import streamlit as st

from metrics import api
from pages import _access as access
from pages import _widgets as w

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

# Each url_path differs from its file's name: `streamlit run app.py` still treats a pages/
# folder beside the entrypoint as legacy pages until st.navigation first runs, and a shared
# name would let that run a page without this frame (and its sidebar); consentlens.dashboard
# starts the server without that legacy run. Pages are listed by the permission they need; a
# page the role lacks is not routed at all, so a direct URL to it finds nothing.
PAGES = {
    "Dashboards": [
        ("pages/overview.py", "Overview", ":material/dashboard:", "home", "view_aggregates"),
        (
            "pages/consent.py",
            "Consent & segments",
            ":material/how_to_reg:",
            "consent-and-segments",
            "view_aggregates",
        ),
        (
            "pages/ymn.py",
            "Yes / maybe / no",
            ":material/alt_route:",
            "yes-maybe-no",
            "view_aggregates",
        ),
        (
            "pages/erasure.py",
            "Erasure & requests",
            ":material/delete_sweep:",
            "erasure-and-requests",
            "view_aggregates",
        ),
        (
            "pages/impact.py",
            "Conversion impact",
            ":material/trending_up:",
            "conversion-impact",
            "view_aggregates",
        ),
    ],
    "Data": [
        ("pages/upload.py", "Upload data", ":material/upload_file:", "upload-data", "upload"),
    ],
    "Rights & accountability": [
        (
            "pages/person.py",
            "What we know about you",
            ":material/badge:",
            "person-report",
            "view_person",
        ),
        (
            "pages/forget.py",
            "Right to be forgotten",
            ":material/person_remove:",
            "right-to-be-forgotten",
            "erase",
        ),
        ("pages/audit.py", "Audit", ":material/fact_check:", "audit-trail", "audit"),
    ],
}

identity = access.identify()
st.session_state["identity"] = identity
# Serving a Parquet folder ($CONSENTLENS_SOURCE) is read-only: only the dashboards.
served = PAGES if api.source_folder() is None else {"Dashboards": PAGES["Dashboards"]}
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
w.synthetic_marker(info)
# "Link to this view" sits at the top but is filled last, once the page's own controls have
# written their choices into the address.
link_slot = st.container() if dashboard and info is not None and not info.empty else None
page.run()
if link_slot is not None:
    with link_slot:
        w.share_link()
