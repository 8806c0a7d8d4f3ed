"""New dashboard views in Chromium, cold and with a warm browser cache.

Each view is a new Streamlit session on a random page with a random period and sidebar
filter, timed from the address being opened until the page is drawn: its script run has
finished and the page has not changed since (Streamlit draws the last charts after the
run's end), up to its last change (the 0.3 s without change that show it was the last are
not timed); alone and with several sessions at once; with the dashboard server's memory.

Cold: each view in a fresh browser context, as a first visit. The cache is empty, so every
view also downloads and compiles Streamlit's and Plotly's JavaScript.

Warm cache: as a returning user, whose browser has opened the dashboard before. Each
simulated user is a Chromium of its own with a profile on disk (a fresh temporary folder,
removed at the end), as an ordinary browser window has: an HTTP cache and a cache of
compiled scripts. Not timed, the user first opens the server's root page twice, each time
in a tab of its own until it has settled and loaded all it asks for: the first visit fills
the HTTP cache, and Chromium stores a script's compiled code only once it has seen the
script more than once. Each timed view then opens in a new tab of that browser, closed once
measured. Streamlit's scripts are content-hashed and come from the disk cache, not the
server, but every tab is still a new Streamlit session: a new websocket, the page's script
run anew and, on the dashboard, figures the server has not computed. The warm views are
drawn with another random seed than the cold ones (other addresses), and each measurement
starts a server of its own, so no timed view finds its figures in the server's cache.
Whether Chromium also reuses the stored compiled code depends on its version: Chromium 156
stores it for Streamlit's scripts but, as they are ES modules, compiles them again all the
same (it reuses it with --disable-features=BackgroundResourceFetch, not used here).

The baseline, measured both ways in the same run: a Streamlit page of constant figures
with a dashboard page's parts (a title, four tiles, three Plotly charts, a table) and no
data behind it, served with the dashboard's own Streamlit settings. It is the floor that
Streamlit and Chromium set on this machine, whatever the figures cost.

Used by `make bench` (the scale section); alone:

    .venv/bin/python benchmarks/views.py --db STORE [--views 20] [--sessions 10]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.async_api import (  # noqa: E402
    Browser,
    BrowserContext,
    Page,
    Playwright,
    async_playwright,
)

from benchmarks.load import (  # noqa: E402
    ERRORS,
    IDLE,
    PAGES,
    SETTLE_MS,
    TIMEOUT_MS,
    rss_mib,
    settled,
)
from metrics import api  # noqa: E402
from tests.e2e.conftest import CHROMIUM_FLAGS, ServerURL, serving, streamlit_server  # noqa: E402

FLOOR_PAGE = """
import plotly.express as px
import streamlit as st

st.title("Baseline")
for column, value in zip(st.columns(4), (52_104, 0.513, 1_250, 0.89)):
    column.metric("Figure", value)
for title in ("Opted in by month", "Funnel", "Requests by jurisdiction"):
    st.plotly_chart(px.bar(x=["Jan", "Feb", "Mar", "Apr"], y=[3, 1, 4, 1], title=title))
st.dataframe({"purpose": ["email", "sms", "ads"], "granted": [5_100, 3_900, 2_750]})
"""

VIEWPORT = {"width": 1400, "height": 1000}
DRAWN = '[data-testid="stMetricValue"], .js-plotly-plot'
# The random views' seeds: the warm views are other addresses than the cold ones.
COLD_SEED, WARM_SEED = 11, 12


@dataclass
class Views:
    """What a run of new views saw."""

    times: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    peak_rss_mib: float = 0.0

    @property
    def median(self) -> float:
        return statistics.median(self.times) if self.times else float("nan")

    @property
    def slowest(self) -> float:
        return max(self.times) if self.times else float("nan")


def random_views(db: Path, n: int, seed: int = 5) -> list[str]:
    """`n` addresses (path and query): a random page, a random period of one to twelve whole
    months within the data, and most often one random sidebar filter."""
    summary = api.summarize(db)
    first, last = summary.first, summary.last
    assert first is not None and last is not None, "the store is empty"
    rng = random.Random(seed)
    filters = {
        "country": summary.countries,
        "channel": summary.channels,
        "segment": summary.segments,
        "jurisdiction": summary.jurisdictions,
    }
    views = []
    for _ in range(n):
        path = rng.choice(list(PAGES))
        months = rng.randint(1, 12)
        end = last - timedelta(days=rng.randint(0, max(0, (last - first).days - 366)))
        start = max(first, _month_start(end, months - 1))
        query = [f"start={start}", f"end={end}"]
        if rng.random() < 0.8:
            key = rng.choice(list(filters))
            query.append(f"{key}={rng.choice(filters[key])}")
        views.append(f"{path}?{'&'.join(query)}")
    return views


def _month_start(day: date, back: int) -> date:
    """The first day of the month `back` months before `day`'s."""
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


# Resolves once the page has not changed for `quiet` ms (or, a page that never rests, after
# `limit` ms), with the ms since its last change.
QUIET = """([quiet, limit]) => new Promise((done) => {
  const began = performance.now();
  let last = began;
  const seen = new MutationObserver(() => { last = performance.now(); });
  seen.observe(document.body, {subtree: true, childList: true, characterData: true});
  const check = () => {
    const now = performance.now();
    if (now - last >= quiet || now - began >= limit) { seen.disconnect(); done(now - last); }
    else { setTimeout(check, 25); }
  };
  setTimeout(check, quiet);
})"""


async def _drawn(page: Page) -> float:
    """When the view was drawn: its script run has finished and the page has not changed
    since (Streamlit draws the last charts after the run ends), as the time.perf_counter()
    of its last change. The quiet pause that shows it was the last is not the view's."""
    while True:
        await page.wait_for_selector(IDLE, timeout=TIMEOUT_MS)
        since = await page.evaluate(QUIET, [SETTLE_MS, TIMEOUT_MS])
        ended = time.perf_counter() - since / 1000
        if await page.locator(IDLE).count():  # (else a later run began: wait for it too)
            return ended


async def open_view(
    browser: Browser, base: str, view: str, seen: Views, user: BrowserContext | None = None
) -> None:
    """One new session opening one view; the time until its figures are drawn. Without
    `user`, in a fresh context of `browser` (an empty cache), closed afterwards; with it, in
    a new tab of that user's browser (its profile on disk as it is), closed afterwards."""
    context = user or await browser.new_context(viewport=VIEWPORT)
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    started = time.perf_counter()
    try:
        await page.goto(f"{base}/{view}", timeout=TIMEOUT_MS)
        await page.locator(DRAWN).first.wait_for()
        seen.times.append(await _drawn(page) - started)
        errors = page.locator(ERRORS)
        for i in range(await errors.count()):
            text = " ".join((await errors.nth(i).inner_text()).split())
            seen.failures.append(f"{view}: {text[:160]}")
    except Exception as error:  # noqa: BLE001 - a failed view is counted and named
        seen.failures.append(f"{view}: {type(error).__name__}: {str(error).splitlines()[0]}")
    finally:
        if user is None:
            await context.close()
        else:
            await page.close()


async def returning_user(playwright: Playwright, base: str, profile: Path) -> BrowserContext:
    """A Chromium with its profile on disk in `profile` (an empty folder) that has opened the
    server's root page twice, each time in a new tab until it settled and loaded all it
    asked for, then closed: its HTTP cache holds the page's scripts and its code cache their
    compiled code (Chromium stores it once it has seen a script more than once)."""
    context = await playwright.chromium.launch_persistent_context(
        user_data_dir=profile,
        executable_path=shutil.which("chromium"),
        args=CHROMIUM_FLAGS,
        viewport=VIEWPORT,
    )
    try:
        for _ in range(2):
            page = await context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            await page.goto(f"{base}/", timeout=TIMEOUT_MS)
            await settled(page)
            await page.locator(DRAWN).first.wait_for()
            await page.wait_for_load_state("networkidle")
            await page.close()
    except BaseException:
        await context.close()
        raise
    return context


@asynccontextmanager
async def _users(
    playwright: Playwright, base: str, n: int, warm: bool
) -> AsyncIterator[list[BrowserContext | None]]:
    """`n` simulated users: returning ones (warm), each a Chromium with a profile of its own
    in a fresh temporary folder, closed and removed on leaving; or None for a fresh browser
    context per view."""
    if not warm:
        yield [None] * n
        return
    async with AsyncExitStack() as stack:
        users: list[BrowserContext | None] = []
        for _ in range(n):
            profile = stack.enter_context(tempfile.TemporaryDirectory(prefix="consentlens-user-"))
            user = await returning_user(playwright, base, Path(profile))
            stack.push_async_callback(user.close)
            users.append(user)
        yield users


def _watch_memory(pid: int, seen: Views, stop: threading.Event) -> None:
    while not stop.wait(0.2):
        seen.peak_rss_mib = max(seen.peak_rss_mib, rss_mib(pid))


async def _timed(
    playwright: Playwright,
    browser: Browser,
    base: ServerURL,
    runs: Sequence[tuple[Views, int, list[str]]],
    warm: bool,
) -> None:
    """Each run (what it saw, how many users at once, its views) in turn: its users made
    first (not timed), then its views opened while the server's memory is watched."""
    for seen, sessions, views in runs:
        async with _users(playwright, base, sessions, warm) as users:
            stop = threading.Event()
            watcher = threading.Thread(target=_watch_memory, args=(base.pid, seen, stop))
            watcher.start()
            try:
                await _open_all(browser, base, views, seen, users)
            finally:
                stop.set()
                watcher.join()


async def measure(
    db: Path, views: int, sessions: int, *, warm: bool = False
) -> tuple[Views, Views]:
    """New views one at a time, then `sessions` sessions at once (each opening `views` //
    `sessions` new views, at least 2), on a dashboard server of its own over `db`: cold (a
    fresh browser context per view), or with `warm` in new tabs of returning users' browsers,
    each with its profile on disk (other random views than the cold ones)."""
    alone, together = Views(), Views()
    seed = WARM_SEED if warm else COLD_SEED
    addresses = random_views(db, views + sessions * max(2, views // sessions), seed=seed)
    with streamlit_server(db) as base:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=shutil.which("chromium"), args=CHROMIUM_FLAGS
            )
            # Warm the server's imports and the operating system's file cache: the figures
            # are of views no one has asked for yet, not of the first start.
            await open_view(browser, base, "?start=2026-01-01", Views())
            runs = ((alone, 1, addresses[:views]), (together, sessions, addresses[views:]))
            await _timed(playwright, browser, base, runs, warm)
            await browser.close()
    return alone, together


@contextmanager
def floor_server() -> Iterator[ServerURL]:
    """A Streamlit server on loopback over FLOOR_PAGE, with the dashboard's settings."""
    with tempfile.TemporaryDirectory(prefix="consentlens-floor-") as folder:
        page = Path(folder) / "baseline.py"
        page.write_text(FLOOR_PAGE)
        with serving([sys.executable, "-m", "streamlit", "run", str(page)]) as url:
            yield url


async def measure_floor(views: int, sessions: int, *, warm: bool = False) -> tuple[Views, Views]:
    """The baseline page opened as `measure` opens views: `views` times one at a time, then
    by `sessions` sessions at once; cold, or with `warm` as returning users."""
    alone, together = Views(), Views()
    with floor_server() as base:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=shutil.which("chromium"), args=CHROMIUM_FLAGS
            )
            await open_view(browser, base, "", Views())
            many = [""] * (sessions * max(2, views // sessions))
            runs = ((alone, 1, [""] * views), (together, sessions, many))
            await _timed(playwright, browser, base, runs, warm)
            await browser.close()
    return alone, together


async def _open_all(
    browser: Browser, base: str, views: list[str], seen: Views, users: list[BrowserContext | None]
) -> None:
    """The views shared out among the users, all users at once, each user's one at a time."""

    async def one(i: int, user: BrowserContext | None) -> None:
        for view in views[i :: len(users)]:
            await open_view(browser, base, view, seen, user)

    await asyncio.gather(*(one(i, user) for i, user in enumerate(users)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--views", type=int, default=20)
    parser.add_argument("--sessions", type=int, default=10)
    args = parser.parse_args()
    if shutil.which("chromium") is None:
        sys.exit("needs Debian's chromium: run `make e2e` first (installs it as root)")
    alone, together = asyncio.run(measure(args.db, args.views, args.sessions))
    floor_alone, floor_together = asyncio.run(measure_floor(args.views, args.sessions))
    warm_alone, warm_together = asyncio.run(measure(args.db, args.views, args.sessions, warm=True))
    floor_warm_alone, floor_warm_together = asyncio.run(
        measure_floor(args.views, args.sessions, warm=True)
    )
    sessions = f"{args.sessions} sessions"
    for label, seen, served in (
        ("one at a time", alone, True),
        (sessions, together, True),
        ("baseline page, one at a time", floor_alone, False),
        (f"baseline page, {sessions}", floor_together, False),
        ("warm cache, one at a time", warm_alone, True),
        (f"warm cache, {sessions}", warm_together, True),
        ("warm cache, baseline page, one at a time", floor_warm_alone, False),
        (f"warm cache, baseline page, {sessions}", floor_warm_together, False),
    ):
        memory = f"; server memory peak {seen.peak_rss_mib:.0f} MiB" if served else ""
        print(
            f"{label}: {len(seen.times)} views, median {seen.median:.2f} s, slowest "
            f"{seen.slowest:.2f} s, {len(seen.failures)} failed or showed an error{memory}"
        )
        for failure in seen.failures[:5]:
            print(f"  {failure}")


if __name__ == "__main__":
    main()
