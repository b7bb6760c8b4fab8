"""The HTML report in a real browser at a common laptop's width (harness: tests/browser_harness.py)."""

from __future__ import annotations

from qhsim.experiments import compare
from qhsim.experiments.report import write_comparison
from qhsim.experiments.sweep import write_sweep
from qhsim.output import export

from browser_harness import ARTEFACTS, ROOT, marks  # fixture browser: registered in conftest.py
from conftest import SCENARIOS

pytestmark = marks()

# each table's container and how far the table runs past it (it scrolls sideways there, out of the reader's view)
OVERFLOW = """() => [...document.querySelectorAll('.wide')].map(e =>
    [e.firstElementChild.className, e.scrollWidth - e.clientWidth])"""


def overflowing(browser, report, shot: str) -> list[tuple[str, int]]:
    """Each table of an HTML report at 1366 px: its class and how far it runs past the page (a screenshot of the
    page as an artefact)."""
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    try:
        page = context.new_page()
        page.goto(report.as_uri())
        tables = page.evaluate(OVERFLOW)
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTEFACTS / f"{shot}.png"), full_page=True)
    finally:
        context.close()
    return tables


def test_comparison_report_shows_every_prefecture_column_at_1366_px(browser, tmp_path):
    """Vouchers move a prefecture's business R&D by a few ten-thousandths of 亿元, so its [5%, 95%] intervals are long
    (``[+0.00002, +0.00020]``); the prefecture-effects table ran 17 px past the page at 1366 px, Yushu's column out
    of view, until its intervals could break after their comma."""
    out = tmp_path / "cmp"
    res = compare(SCENARIOS / "baseline.toml", [SCENARIOS / "vouchers_expanded.toml"], seeds=(1, 2), scale=0.05,
                  end_year=2027, out=out)
    write_comparison(res, charts=False)
    tables = overflowing(browser, export.export(out, "html", out / "report.html", charts=False), "report_compare_1366")
    assert "prefecture-effects" in [cls for cls, _ in tables]
    assert [(cls, px) for cls, px in tables if px > 0] == []


def test_sweep_report_shows_every_design_column_at_1366_px(browser, tmp_path):
    """A sweep point's column is headed by its levers ("p12: grant_budget=60,000; super_deduction=2"); unbroken, the
    side-by-side tables of eight points ran up to 404 px past the page at 1366 px."""
    out = tmp_path / "sw"
    write_sweep(ROOT / "experiments" / "grant_budget_vs_super_deduction.toml", out, seeds=(1,), scale=0.05)
    tables = overflowing(browser, export.export(out, "html", out / "report.html", charts=False), "report_sweep_1366")
    assert [cls for cls, _ in tables].count("side-by-side") >= 2
    assert [(cls, px) for cls, px in tables if px > 0] == []
