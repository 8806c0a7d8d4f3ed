"""The dashboard server: `python -m consentlens.dashboard [streamlit options]` runs app.py.

Equivalent to `streamlit run app.py`, with one difference. Streamlit decides, once per server
process, whether an app uses the legacy multipage layout by looking for a `pages/` folder
beside the entry point. Ours holds the page scripts that app.py routes with st.navigation, so
the server's first session was run the legacy way: a visitor whose first request was a page's
own address (a bookmark, a shared link) got a "Page not found" dialog over the right page.
Telling Streamlit before it starts that this app routes itself avoids that first legacy run.
"""

from __future__ import annotations

import sys
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app.py"


def main(argv: list[str] | None = None) -> None:
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.web import cli

    # What st.navigation itself sets on its first call; set here, before any session runs.
    PagesManager.uses_pages_directory = False
    args = sys.argv[1:] if argv is None else argv
    sys.argv = ["streamlit", "run", str(APP), *args]
    cli.main()


if __name__ == "__main__":
    main()
