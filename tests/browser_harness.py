"""Harness for the dashboard's browser tests: the real ``qhsim dashboard`` server and Debian's headless Chromium
driven by Playwright (fixtures ``server``, ``browser``, ``dash``; the ``DashboardPage`` helper).

Tests are skipped with the reason when /usr/bin/chromium, Playwright or Solara's offline assets are missing,
except under CI=true, where a missing piece fails (.ci/run installs all three). Screenshots go to
``results/browser/`` (or $QHSIM_ARTEFACTS) as test artefacts.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("QHSIM_CHROMIUM", "/usr/bin/chromium"))
ARTEFACTS = Path(os.environ.get("QHSIM_ARTEFACTS", ROOT / "results" / "browser"))
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]
RUN_TIMEOUT = 90_000  # ms: a model run at the test scale on a busy 2-core machine


def _missing() -> str | None:
    if not CHROMIUM.is_file():
        return f"{CHROMIUM} not found (apt-get install chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright not installed (pip install -e '.[test]')"
    from qhsim.dashboard import assets

    if assets.missing():
        return f"Solara assets missing in {assets.cache_dir()} (make dashboard-assets)"
    return None


def marks() -> list:
    """``pytestmark`` of a browser test module: the ``browser`` marker, and a skip when a piece is missing
    (never under CI=true: there the ``server`` fixture fails instead)."""
    reason = _missing()
    skip = bool(reason) and os.environ.get("CI", "").lower() != "true"
    return [pytest.mark.browser, pytest.mark.skipif(skip, reason=reason or "")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server():
    """The dashboard as an analyst starts it: ``qhsim dashboard`` on a free localhost port."""
    reason = _missing()
    if reason:
        pytest.fail(f"CI=true but the browser set-up is incomplete: {reason}")
    port = _free_port()
    env = {**os.environ, "QHSIM_CALIBRATED": "off"}
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    log = (ARTEFACTS / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "qhsim.cli", "dashboard", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            break
        except OSError:
            if proc.poll() is not None:
                log.close()
                pytest.fail(f"qhsim dashboard exited: {(ARTEFACTS / 'server.log').read_text()}")
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("qhsim dashboard did not answer within 60 s")
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield b
        b.close()


class DashboardPage:
    """One browser session on the dashboard, collecting JavaScript errors."""

    def __init__(self, browser, url: str):
        self.context = browser.new_context(viewport={"width": 1400, "height": 950}, accept_downloads=True)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(url)
        self.page.locator(".qh-run").wait_for(timeout=30_000)

    def screenshot(self, name: str) -> Path:
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTEFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def field(self, label: str):
        """The input of a text field by its label."""
        return self.page.get_by_label(label, exact=True)

    def set_field(self, label: str, value, changes: int | None = None) -> None:
        """Type a value and press Enter; with ``changes``, wait until that many levers show as changed."""
        box = self.field(label)
        box.fill(str(value))
        box.press("Enter")
        if changes is not None:
            self.page.wait_for_function(
                f"() => (document.querySelector('.qh-changes') || {{}}).innerText.endsWith(': {changes}')")
        self.page.wait_for_timeout(300)

    def run_id(self) -> str:
        """The headline's footer (scenario, seconds, run key); '' before the first run."""
        box = self.page.locator(".qh-headline")
        return box.inner_text() if box.count() else ""

    def run(self) -> None:
        """Press Run and wait until a new run is shown (its key differs from the one shown before)."""
        before = self.run_id()
        self.page.locator(".qh-run").click()
        self.page.wait_for_function(
            "(b) => { const e = document.querySelector('.qh-headline'); return e && e.innerText !== b; }",
            arg=before, timeout=RUN_TIMEOUT)

    def headline(self, year: int) -> float:
        return float(self.page.locator(f".qh-headline-{year}").inner_text().split()[0])

    def goto(self, page: str) -> None:
        self.page.locator(f".qh-page-{page}").click()
        self.page.wait_for_timeout(400)

    def chart_pixels(self) -> str:
        """The first chart's pixels as a PNG data URL (to tell whether the chart changed)."""
        img = self.page.locator(".qh-chart").first
        img.wait_for(timeout=RUN_TIMEOUT)
        self.page.wait_for_function("() => { const i = document.querySelector('.qh-chart'); return i && i.complete && i.naturalWidth > 0; }")
        return img.evaluate("""(img) => { const c = document.createElement('canvas'); c.width = img.naturalWidth;
            c.height = img.naturalHeight; c.getContext('2d').drawImage(img, 0, 0); return c.toDataURL('image/png'); }""")

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def dash(browser, server):
    pages = []

    def open_page() -> DashboardPage:
        pages.append(DashboardPage(browser, server))
        return pages[-1]

    yield open_page
    for p in pages:
        p.close()
