"""The dashboard's pages: file, title, icon, address and the permission each needs."""

from __future__ import annotations

from pathlib import Path

from metrics.figures import PAGE_TITLES

# Each url_path differs from its file's name: `streamlit run app.py` still treats a pages/
# folder beside the entrypoint as legacy pages until st.navigation first runs, and a shared
# name would let that run a page without this frame (and its sidebar); consentlens.dashboard
# starts the server without that legacy run. Pages are listed by the permission they need; a
# page the role lacks is not routed at all, so a direct URL to it finds nothing.
PAGES = {
    "Dashboards": [
        (
            "pages/overview.py",
            PAGE_TITLES["overview"],
            ":material/dashboard:",
            "home",
            "view_aggregates",
        ),
        (
            "pages/consent.py",
            PAGE_TITLES["consent"],
            ":material/how_to_reg:",
            "consent-and-segments",
            "view_aggregates",
        ),
        (
            "pages/ymn.py",
            PAGE_TITLES["ymn"],
            ":material/alt_route:",
            "yes-maybe-no",
            "view_aggregates",
        ),
        (
            "pages/erasure.py",
            PAGE_TITLES["erasure"],
            ":material/delete_sweep:",
            "erasure-and-requests",
            "view_aggregates",
        ),
        (
            "pages/impact.py",
            PAGE_TITLES["impact"],
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

TRAINING_PAGE = "pages/training.py"
TRAINING = (TRAINING_PAGE, "Training", ":material/school:", "training-mode", "view_aggregates")
# Each page by its name in metrics/figures.py (its script's), and by its address.
FILES = {Path(path).stem: path for pages in PAGES.values() for path, *_ in pages}
NAMES = {url: Path(path).stem for pages in PAGES.values() for path, _t, _i, url, _p in pages}


def page_file(name: str) -> str:
    """The script of the page `name` (metrics/figures.py's name for it)."""
    return FILES[name]


def page_name(url: str) -> str | None:
    """The name of the page at address `url` ("" is the default page, the Overview)."""
    return NAMES.get(url or "home")
