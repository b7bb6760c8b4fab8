"""The dashboard in a real browser: load, levers and runs, language, sessions, exports (harness:
tests/browser_harness.py)."""

from __future__ import annotations

from browser_harness import browser, dash, marks, server  # noqa: F401 - fixtures

pytestmark = marks()

SCALE = 0.25  # quick runs; the direction of a super-deduction change is clear at this scale


def english(d) -> None:
    d.page.locator(".qh-lang").click()
    d.page.get_by_text("Levers", exact=True).wait_for(timeout=10_000)


def test_page_load_and_baseline_run(dash):
    d = dash()
    d.screenshot("01_load")
    assert d.page.locator(".qh-headline-empty").is_visible()
    d.set_field("规模（模拟企业比例）", SCALE)
    d.run()
    assert 0.3 < d.headline(2025) < 2.0
    assert len(d.chart_pixels()) > 10_000
    d.screenshot("02_indicators")
    assert d.errors == []


def test_lever_change_raises_rd_intensity(dash):
    d = dash()
    english(d)
    d.set_field("Scale (share of firms simulated)", SCALE)
    d.run()
    before, chart_before = d.headline(2035), d.chart_pixels()
    d.goto("levers")
    d.set_field("Super-deduction, general firms (比例 share of R&D)", 3.0, changes=1)
    d.set_field("Super-deduction, manufacturing (比例 share of R&D)", 3.0, changes=2)
    d.screenshot("03_levers")
    d.run()
    after = d.headline(2035)
    assert after > before, (before, after)
    d.goto("indicators")
    assert d.chart_pixels() != chart_before
    assert d.errors == []
