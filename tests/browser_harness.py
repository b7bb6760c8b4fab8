"""Fixtures for the dashboard's browser tests (``server``, ``browser``, ``dash``) on ``qhsim.dashboard.driver``.

Tests are skipped with the reason when /usr/bin/chromium, Playwright or Solara's offline assets are missing,
except under CI=true, where a missing piece fails (.ci/run installs all three). Screenshots go to
``results/browser/`` (or $QHSIM_ARTEFACTS) as test artefacts, with the server's log.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qhsim.dashboard import driver

ROOT = Path(__file__).resolve().parents[1]
ARTEFACTS = Path(os.environ.get("QHSIM_ARTEFACTS", ROOT / "results" / "browser"))


def marks() -> list:
    """``pytestmark`` of a browser test module: the ``browser`` marker, and a skip when a piece is missing
    (never under CI=true: there the ``server`` fixture fails instead)."""
    reason = driver.missing()
    skip = bool(reason) and os.environ.get("CI", "").lower() != "true"
    return [pytest.mark.browser, pytest.mark.skipif(skip, reason=reason or "")]


@pytest.fixture(scope="session")
def server():
    """The dashboard as an analyst starts it: ``qhsim dashboard`` on a free localhost port."""
    reason = driver.missing()
    if reason:
        pytest.fail(f"CI=true but the browser set-up is incomplete: {reason}")
    with driver.server(ARTEFACTS / "server.log", cwd=ROOT, env={"QHSIM_CALIBRATED": "off"}) as (url, _pid):
        yield url


@pytest.fixture(scope="session")
def browser():
    with driver.chromium() as b:
        yield b


@pytest.fixture
def dash(browser, server):
    """``dash()`` opens one more browser session on the dashboard (closed after the test); ``dash(width=1366,
    height=768)`` in a window of that size."""
    pages = []

    def open_page(**size) -> driver.DashboardPage:
        pages.append(driver.DashboardPage(browser, server, ARTEFACTS, **size))
        return pages[-1]

    yield open_page
    for p in pages:
        p.close()
