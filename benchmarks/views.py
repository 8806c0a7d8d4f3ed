"""New dashboard views in Chromium, as a new user meets them: each in a fresh browser session,
on a random page with a random period and sidebar filter, timed from the address being
opened to the page's figures drawn; alone and with several sessions at once; with the
dashboard server's memory.

The baseline, measured the same way in the same run: a Streamlit page of constant figures
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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.async_api import Browser, async_playwright  # noqa: E402

from benchmarks.load import ERRORS, PAGES, TIMEOUT_MS, rss_mib, settled  # noqa: E402
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


async def open_view(browser: Browser, base: str, view: str, seen: Views) -> None:
    """One new session opening one view; the time until its figures are drawn."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    started = time.perf_counter()
    try:
        await page.goto(f"{base}/{view}", timeout=TIMEOUT_MS)
        await settled(page)
        await page.locator('[data-testid="stMetricValue"], .js-plotly-plot').first.wait_for()
        seen.times.append(time.perf_counter() - started)
        errors = page.locator(ERRORS)
        for i in range(await errors.count()):
            text = " ".join((await errors.nth(i).inner_text()).split())
            seen.failures.append(f"{view}: {text[:160]}")
    except Exception as error:  # noqa: BLE001 - a failed view is counted and named
        seen.failures.append(f"{view}: {type(error).__name__}: {str(error).splitlines()[0]}")
    finally:
        await context.close()


def _watch_memory(pid: int, seen: Views, stop: threading.Event) -> None:
    while not stop.wait(0.2):
        seen.peak_rss_mib = max(seen.peak_rss_mib, rss_mib(pid))


async def measure(db: Path, views: int, sessions: int) -> tuple[Views, Views]:
    """New views one at a time, then `sessions` sessions at once (each opening `views` //
    `sessions` new views, at least 2), on a dashboard server over `db`."""
    alone, together = Views(), Views()
    addresses = random_views(db, views + sessions * max(2, views // sessions), seed=11)
    with streamlit_server(db) as base:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=shutil.which("chromium"), args=CHROMIUM_FLAGS
            )
            # Warm the server's imports and the operating system's file cache: the figures
            # are of views no one has asked for yet, not of the first start.
            await open_view(browser, base, "?start=2026-01-01", Views())
            for seen, run in ((alone, _one_at_a_time), (together, _at_once)):
                stop = threading.Event()
                watcher = threading.Thread(target=_watch_memory, args=(base.pid, seen, stop))
                watcher.start()
                try:
                    chosen, addresses = (
                        (addresses[:views], addresses[views:]) if seen is alone else (addresses, [])
                    )
                    await run(browser, base, chosen, seen, sessions)
                finally:
                    stop.set()
                    watcher.join()
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


async def measure_floor(views: int, sessions: int) -> tuple[Views, Views]:
    """The baseline page opened as `measure` opens views: `views` times one at a time, then
    by `sessions` sessions at once, each in a fresh browser session."""
    alone, together = Views(), Views()
    with floor_server() as base:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=shutil.which("chromium"), args=CHROMIUM_FLAGS
            )
            await open_view(browser, base, "", Views())
            await _one_at_a_time(browser, base, [""] * views, alone, sessions)
            many = [""] * (sessions * max(2, views // sessions))
            await _at_once(browser, base, many, together, sessions)
            await browser.close()
    return alone, together


async def _one_at_a_time(browser, base, views, seen, sessions) -> None:
    for view in views:
        await open_view(browser, base, view, seen)


async def _at_once(browser, base, views, seen, sessions) -> None:
    async def one(i: int) -> None:
        for view in views[i::sessions]:
            await open_view(browser, base, view, seen)

    await asyncio.gather(*(one(i) for i in range(sessions)))


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
    for label, seen, served in (
        ("one at a time", alone, True),
        (f"{args.sessions} sessions", together, True),
        ("baseline page, one at a time", floor_alone, False),
        (f"baseline page, {args.sessions} sessions", floor_together, False),
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
