"""Browser tests: the dashboard server on loopback over a demo store, driven by Playwright in
Debian's chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
# A cold page computes its figures first; on two cores that can take a few seconds.
expect.set_options(timeout=60_000)
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


DEMO_ACTOR = "demo-maker"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, server: subprocess.Popen, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited with status {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("streamlit did not become healthy in time")


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("e2e") / "store" / "demo.duckdb"
    subprocess.run(
        [sys.executable, "-m", "consentlens", "--db", str(path), "demo", "--customers", "50000"],
        check=True,
        capture_output=True,
        # The audit trail names the command line's user: not whoever runs the tests, whose
        # name would otherwise show in the Audit page's screenshot.
        env={**os.environ, "LOGNAME": DEMO_ACTOR},
    )
    return path


class ServerURL(str):
    """A running server's base URL, with the process id of the server."""

    pid: int


@contextmanager
def serving(
    argv: Sequence[str], *, port: int | None = None, env: dict | None = None, output=None
) -> Iterator[ServerURL]:
    """A server started with `argv` in the project folder, which takes `--server.port`;
    yields its loopback URL once healthy and stops it afterwards."""
    port = port or free_port()
    url = ServerURL(f"http://127.0.0.1:{port}")
    process = subprocess.Popen(
        [*argv, "--server.port", str(port)],
        cwd=ROOT,  # .streamlit/config.toml: the dashboard's settings
        env={**os.environ, **(env or {})},
        stdout=output or subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    url.pid = process.pid
    try:
        _wait_healthy(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


@contextmanager
def streamlit_server(
    store: Path,
    *,
    port: int | None = None,
    args: Sequence[str] = (),
    env: dict | None = None,
    log: Path | None = None,
) -> Iterator[ServerURL]:
    """`python -m consentlens.dashboard` on loopback over `store`; yields its base URL. The
    server's output goes to `log` if given."""
    output = open(log, "ab") if log else None  # noqa: SIM115 - closed below
    command = [sys.executable, "-m", "consentlens.dashboard", "--server.address", "127.0.0.1"]
    command += ["--server.headless", "true", "--browser.gatherUsageStats", "false", *args]
    env = {"CONSENTLENS_DB": str(store), **(env or {})}
    try:
        with serving(command, port=port, env=env, output=output) as url:
            yield url
    finally:
        if output:
            output.close()


@pytest.fixture(scope="session")
def server(demo_store: Path) -> Iterator[str]:
    with streamlit_server(demo_store) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        raise RuntimeError("Debian's chromium is needed: run `make e2e` (installs it as root)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    yield tab
    context.close()


def wait_for_app(page: Page) -> None:
    """Until the script run has finished and nothing is still drawing."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')
    page.wait_for_timeout(300)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')
