"""`make load`: many browser sessions on one dashboard while the command line writes.

Starts the dashboard (as `make run` does) on a fresh demo store and drives concurrent
sessions in Debian's chromium, each opening every dashboard page and then changing a sidebar
filter, for several rounds. During each round the command line, in other processes, imports
a small batch of customers, undoes that import, imports it again and erases one of them;
after each write a new browser session checks that the Overview shows the new customer
count (the count `consentlens metrics` gives). It prints, per round: page loads finished,
error elements seen, page times under load, each write's outcome and time, and the server's
memory. Exit status 1 if any page failed or showed an error, a write failed, or new data
did not appear.

    .venv/bin/python benchmarks/load.py [--sessions 20] [--rounds 3] [--customers 50000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.async_api import Browser, Page, async_playwright  # noqa: E402

from tests.e2e.conftest import CHROMIUM_FLAGS, streamlit_server  # noqa: E402

PAGES = {  # url path -> heading
    "": "Overview",
    "consent-and-segments": "Consent & segments",
    "yes-maybe-no": "Yes / maybe / no",
    "erasure-and-requests": "Erasure & requests",
    "conversion-impact": "Conversion impact",
}
ERRORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
TIMEOUT_MS = 240_000
SETTLE_MS = 300  # how long a finished run must stay finished to count as the last
BATCH = 25


@dataclass
class Round:
    """What one round saw."""

    loads: int = 0
    finished: int = 0
    errors: int = 0
    times: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    writes: list[str] = field(default_factory=list)
    write_ok: int = 0
    write_count: int = 0
    appeared: int = 0
    rss_mib: float = 0.0
    cpu_s: float = 0.0
    seconds: float = 0.0


async def settled(page: Page) -> None:
    """Until the script run has finished and nothing is still drawing."""
    await page.wait_for_selector(IDLE, timeout=TIMEOUT_MS)
    await page.wait_for_timeout(SETTLE_MS)
    await page.wait_for_selector(IDLE, timeout=TIMEOUT_MS)


async def open_page(page: Page, url: str, heading: str, seen: Round) -> None:
    """Open one page, wait until its figures are drawn, count errors and time."""
    seen.loads += 1
    started = time.perf_counter()
    try:
        await page.goto(url, timeout=TIMEOUT_MS)
        await settled(page)
        await page.get_by_role("heading", name=heading, exact=True).first.wait_for(
            timeout=TIMEOUT_MS
        )
        await page.locator('[data-testid="stMetricValue"], .js-plotly-plot').first.wait_for(
            timeout=TIMEOUT_MS
        )
        seen.times.append(time.perf_counter() - started)
        seen.finished += 1
    except Exception as error:  # noqa: BLE001 - a failed load is counted and named
        seen.failures.append(f"{heading}: {type(error).__name__}: {str(error).splitlines()[0]}")
    await count_errors(page, seen)


async def count_errors(page: Page, seen: Round) -> None:
    """Count the page's error elements and keep the first words of each (aggregate pages:
    no person's data)."""
    found = page.locator(ERRORS)
    n = await found.count()
    seen.errors += n
    for i in range(n):
        text = " ".join((await found.nth(i).inner_text()).split())
        seen.failures.append(f"error element on {page.url}: {text[:160]}")


async def change_filter(page: Page, base: str, seen: Round) -> None:
    """On the Overview, choose a country in the sidebar and wait for the new figures."""
    seen.loads += 1
    started = time.perf_counter()
    try:
        await page.goto(base, timeout=TIMEOUT_MS)
        await settled(page)
        box = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(
            has_text="Country"
        )
        await box.click()
        await page.keyboard.type("DE")
        await page.get_by_role("option", name="DE", exact=True).click()
        await page.keyboard.press("Escape")
        await page.wait_for_url("**country=DE**", timeout=TIMEOUT_MS)
        await settled(page)
        seen.times.append(time.perf_counter() - started)
        seen.finished += 1
    except Exception as error:  # noqa: BLE001 - a failed load is counted and named
        seen.failures.append(f"filter: {type(error).__name__}: {str(error).splitlines()[0]}")
    await count_errors(page, seen)


async def session(browser: Browser, base: str, seen: Round, index: int) -> None:
    """One person: every dashboard page in turn, then a filter change."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    order = list(PAGES.items())
    shift = index % len(order)  # sessions start on different pages
    for path, heading in order[shift:] + order[:shift]:
        await open_page(page, f"{base}/{path}", heading, seen)
    await change_filter(page, base, seen)
    await context.close()


async def cli(store: Path, *args: str) -> tuple[int, float, str]:
    """Run `consentlens` in its own process: exit status, seconds and its last line."""
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "consentlens",
        "--db",
        str(store),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
    )
    out, err = await process.communicate()
    text = (out.decode() + err.decode()).strip().splitlines()
    return process.returncode, time.perf_counter() - started, text[-1] if text else ""


async def customers_now(store: Path) -> int:
    """The customer count as the command line computes it from the store."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "consentlens", "--db", str(store), "metrics",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, cwd=ROOT,
    )  # fmt: skip
    out, _ = await process.communicate()
    return int(json.loads(out)["customers"])


async def overview_customers(browser: Browser, base: str) -> tuple[str, str]:
    """The Overview's Customers tile as a new session sees it, and the line under the
    title that says what the figures are of (as-of date, period, filters)."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        await page.goto(base)
        # The tile labelled exactly "Customers" (not "Yes customers"), once the page is drawn.
        label = page.locator('[data-testid="stMetricLabel"]').get_by_text("Customers", exact=True)
        tile = page.locator('[data-testid="stMetric"]').filter(has=label)
        await page.locator(".js-plotly-plot").first.wait_for()
        await settled(page)
        value = await tile.locator('[data-testid="stMetricValue"]').inner_text()
        caption = page.locator('[data-testid="stCaptionContainer"]').filter(has_text="As of")
        about = " ".join((await caption.first.inner_text()).split())
        return value, f"{page.url} · {about}"
    finally:
        await context.close()


def batch_folder(folder: Path, n: int) -> tuple[Path, str]:
    """A canonical customers.csv of BATCH new customers; returns it and one of their ids."""
    folder.mkdir(parents=True, exist_ok=True)
    ids = [f"load-{n}-{i:03d}" for i in range(BATCH)]
    (folder / "customers.csv").write_text(
        "customer_id,created_at,country\n" + "".join(f"{c},2024-06-01,DE\n" for c in ids),
        encoding="utf-8",
    )
    return folder, ids[0]


async def writes(store: Path, browser: Browser, base: str, tmp: Path, n: int, seen: Round):
    """The command line's writes of one round, each checked on a new Overview session."""
    await asyncio.sleep(5)  # the sessions are under way
    folder, someone = batch_folder(tmp / f"batch{n}", n)
    for label, args in (
        ("import", ["import", str(folder)]),
        ("undo", ["imports", "undo"]),
        ("import", ["import", str(folder)]),
        ("erase", ["erase", someone]),
    ):
        status, seconds, last = await cli(store, *args)
        seen.write_count += 1
        seen.write_ok += status == 0
        shown, about = await overview_customers(browser, base)
        expected = await customers_now(store)
        appeared = shown == f"{expected:,}"
        seen.appeared += appeared
        seen.writes.append(
            f"{label}: exit {status} in {seconds:.1f} s; Overview shows {shown} customers "
            f"({'the new count' if appeared else f'expected {expected:,}; page: {about}'})"
            + ("" if status == 0 else f"; {last}")
        )


def rss_mib(pid: int) -> float:
    """The server's resident memory now, in MiB."""
    for text in Path(f"/proc/{pid}/status").read_text().splitlines():
        if text.startswith("VmRSS:"):
            return int(text.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """CPU time the server has used so far (user + system)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def report(n: int, seen: Round) -> None:
    times = sorted(seen.times)
    median = statistics.median(times) if times else float("nan")
    p90 = times[int(0.9 * (len(times) - 1))] if times else float("nan")
    print(
        f"round {n}: {seen.finished}/{seen.loads} page loads finished, {seen.errors} error "
        f"elements, page time median {median:.1f} s, 90th percentile {p90:.1f} s, slowest "
        f"{(times[-1] if times else float('nan')):.1f} s; writes {seen.write_ok}/"
        f"{seen.write_count} succeeded, new data shown after {seen.appeared}/"
        f"{seen.write_count}; server memory {seen.rss_mib:.0f} MiB; round took "
        f"{seen.seconds:.0f} s, the server used {seen.cpu_s:.0f} s of CPU",
        flush=True,
    )
    for line in seen.writes:
        print(f"  {line}", flush=True)
    for failure in seen.failures[:10]:
        print(f"  failed load: {failure}", flush=True)


async def run(args: argparse.Namespace, tmp: Path) -> int:
    store = tmp / "store" / "consentlens.duckdb"
    subprocess.run(
        [sys.executable, "-m", "consentlens", "--db", str(store), "demo", "--customers",
         str(args.customers)],
        check=True, capture_output=True, cwd=ROOT,
    )  # fmt: skip
    print(
        f"load test: {args.sessions} sessions x {args.rounds} rounds, "
        f"{len(PAGES)} pages and a filter each, on a {args.customers:,}-customer demo",
        flush=True,
    )
    problems = 0
    log = args.server_log or tmp / "server.log"
    with streamlit_server(store, log=log) as base:
        print(f"server memory after start: {rss_mib(base.pid):.0f} MiB", flush=True)
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=shutil.which("chromium"), args=CHROMIUM_FLAGS
            )
            for n in range(1, args.rounds + 1):
                seen = Round()
                started, cpu = time.perf_counter(), cpu_seconds(base.pid)
                await asyncio.gather(
                    writes(store, browser, base, tmp, n, seen),
                    *(session(browser, base, seen, i) for i in range(args.sessions)),
                )
                seen.seconds = time.perf_counter() - started
                seen.rss_mib = rss_mib(base.pid)
                seen.cpu_s = cpu_seconds(base.pid) - cpu
                report(n, seen)
                problems += (seen.loads - seen.finished) + seen.errors
                problems += (seen.write_count - seen.write_ok) + (seen.write_count - seen.appeared)
            await browser.close()
    print("load test: " + ("no problem seen" if not problems else f"{problems} problem(s)"))
    return 1 if problems else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--server-log", type=Path, help="keep the dashboard server's output")
    args = parser.parse_args()
    if shutil.which("chromium") is None:
        sys.exit("make load needs Debian's chromium: run `make e2e` first (installs it as root)")
    with tempfile.TemporaryDirectory(prefix="consentlens-load-") as tmp:
        sys.exit(asyncio.run(run(args, Path(tmp))))


if __name__ == "__main__":
    main()
