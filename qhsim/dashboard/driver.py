"""Drive the dashboard in a real browser 浏览器驱动: start ``qhsim dashboard`` on a free port, launch Debian's
headless Chromium through Playwright, and act on pages as an analyst would. Used by the browser tests
(tests/test_dashboard_browser.py) and the benchmark (benchmarks/bench_dashboard.py).

Playwright (the ``test`` extra) is imported only here; the browser is the system's ``/usr/bin/chromium``
($QHSIM_CHROMIUM), never one downloaded by ``playwright install``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = Path(os.environ.get("QHSIM_CHROMIUM", "/usr/bin/chromium"))
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]
RUN_TIMEOUT = 120_000  # ms: a model run on a busy 2-core machine
UI_TIMEOUT = 30_000  # ms: the page's answer to a click or a typed value on a busy 2-core machine (`make test` runs
# a test worker per core beside the browser and the server)


def missing() -> str | None:
    """Why the dashboard cannot be driven here (None when everything is in place)."""
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server(log_path: Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> Iterator[tuple[str, int]]:
    """``qhsim dashboard`` on a free localhost port; yields (url, pid) once it answers, stops it after."""
    port = free_port()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "qhsim.cli", "dashboard", "--port", str(port)], cwd=cwd,
                                env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        url = f"http://127.0.0.1:{port}/"
        try:
            deadline = time.time() + 60
            while True:
                try:
                    urllib.request.urlopen(url, timeout=2).close()
                    break
                except OSError:
                    if proc.poll() is not None:
                        raise RuntimeError(f"qhsim dashboard exited: {log_path.read_text()}") from None
                    if time.time() > deadline:
                        raise RuntimeError("qhsim dashboard did not answer within 60 s") from None
                    time.sleep(0.3)
            yield url, proc.pid
        finally:  # the whole session: `qhsim dashboard` runs `solara run` as a child, which would outlive it
            _signal_group(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                _signal_group(proc.pid, signal.SIGKILL)
                proc.wait()


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


@contextmanager
def chromium():
    """Headless Debian Chromium (a Playwright ``Browser``)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class DashboardPage:
    """One browser session on the dashboard (its own context: cookies, hence its own Solara session),
    collecting JavaScript errors."""

    def __init__(self, browser, url: str, artefacts: Path | None = None, width: int = 1400, height: int = 950):
        self.artefacts = artefacts
        self.context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
        self.page = self.context.new_page()
        self.errors: list[str] = []  # JavaScript errors, but for the widget-sync race of ``RACE`` (kept apart)
        self.races: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(url)
        self.page.locator(".qh-run").wait_for(timeout=30_000)

    # ipywidgets' front-end logs this when a widget it still shows tries to sync after the server closed it in a
    # re-render (seen under load, a test typing at machine speed on the compare page); the tests assert what the
    # inputs were to do (the design added, the duplicate name refused), so it is kept in ``races``, not ``errors``,
    # and a test does not fail on the timing.
    RACE = "Syncing error: no comm channel defined"

    def _console(self, message) -> None:
        if message.type == "error":
            (self.races if message.text == self.RACE else self.errors).append(message.text)

    def screenshot(self, name: str) -> Path | None:
        """The whole page as an analyst scrolls through it. The dashboard scrolls inside a div, not the document, so
        Playwright's ``full_page`` alone stops at the window: the viewport is made as tall as that div's content for
        the shot, then put back."""
        if self.artefacts is None:
            return None
        self.artefacts.mkdir(parents=True, exist_ok=True)
        self.page.wait_for_timeout(500)  # let tables finish fading in
        path = self.artefacts / f"{name}.png"
        size = self.page.viewport_size
        hidden = self.page.evaluate("""() => Math.max(0, ...[...document.querySelectorAll('*')].filter(e => {
            const s = getComputedStyle(e); return s.overflowY === 'auto' || s.overflowY === 'scroll';
        }).map(e => e.scrollHeight - e.clientHeight))""")
        if hidden > 0:
            self.page.set_viewport_size({"width": size["width"], "height": min(size["height"] + hidden, 16_000)})
            self.page.wait_for_timeout(300)
        try:
            self.page.screenshot(path=str(path), full_page=True)
        finally:
            if hidden > 0:
                self.page.set_viewport_size(size)
        return path

    def field(self, label: str):
        """The input of a text field by its label (the page's own where the left panel has one too)."""
        return self.page.get_by_label(label, exact=True).last

    def set_field(self, label: str, value, changes: int | None = None) -> None:
        """Type a value and press Enter; with ``changes``, wait until that many levers show as changed."""
        box = self.field(label)
        box.fill(str(value))
        box.press("Enter")
        if changes is not None:
            self.page.wait_for_function(
                f"() => (document.querySelector('.qh-changes') || {{}}).innerText.endsWith(': {changes}')")
        self.page.wait_for_timeout(300)

    def wait_designs(self, n: int) -> None:
        """Wait until the compare page lists ``n`` designs (its design count ends in ``: n``)."""
        self.page.wait_for_function(
            "(n) => (document.querySelector('.qh-design-count') || {innerText: ''}).innerText.endsWith(': ' + n)",
            arg=n, timeout=UI_TIMEOUT)

    def run_id(self) -> str:
        """The headline's footer (scenario, seconds, run key); '' before the first run."""
        box = self.page.locator(".qh-headline")
        return box.inner_text() if box.count() else ""

    def run(self, button: str = ".qh-run") -> None:
        """Press Run and wait until a new run is shown (the headline footer changes)."""
        before = self.run_id()
        self.page.locator(button).click()
        self.wait_new_run(before)

    def wait_new_run(self, before: str) -> None:
        """Wait until the headline footer differs from ``before`` (a new run is shown)."""
        self.page.wait_for_function(
            "(b) => { const e = document.querySelector('.qh-headline'); return e && e.innerText !== b; }",
            arg=before, timeout=RUN_TIMEOUT)

    def headline(self, year: int) -> float:
        return float(self.page.locator(f".qh-headline-{year}").inner_text().split()[0].replace(",", ""))

    def resize(self, width: int, height: int = 768) -> None:
        """Another window size (e.g. 1366 x 768, a common office laptop)."""
        self.page.set_viewport_size({"width": width, "height": height})
        self.page.wait_for_timeout(300)

    def goto(self, page: str) -> None:
        """Open a page and wait until it is shown with its charts loaded."""
        self.page.locator(f".qh-page-{page}").click()
        self.page.locator(f".qh-view-{page}").wait_for(timeout=RUN_TIMEOUT)
        self.wait_charts()

    def wait_charts(self, settle_ms: int = 200) -> None:
        """Wait until every chart image on the page has loaded (then ``settle_ms`` for late re-renders)."""
        self.page.wait_for_function(
            "() => [...document.querySelectorAll('.qh-chart')].every(i => i.complete && i.naturalWidth > 0)",
            timeout=RUN_TIMEOUT)
        if settle_ms:
            self.page.wait_for_timeout(settle_ms)

    def chart_pixels(self, index: int = 0) -> str:
        """A chart's pixels as a PNG data URL (to tell whether it changed)."""
        img = self.page.locator(".qh-chart").nth(index)
        img.wait_for(timeout=RUN_TIMEOUT)
        self.wait_charts()
        return img.evaluate("""(img) => { const c = document.createElement('canvas'); c.width = img.naturalWidth;
            c.height = img.naturalHeight; c.getContext('2d').drawImage(img, 0, 0); return c.toDataURL('image/png'); }""")

    def english(self) -> None:
        if self.page.locator(".qh-page-levers").text_content().strip() != "Levers":
            self.page.locator(".qh-lang").click()
            self.page.get_by_text("Levers", exact=True).wait_for(timeout=UI_TIMEOUT)

    def close(self) -> None:
        self.context.close()
