"""The HTML report in a real browser at a common laptop's width (harness: tests/browser_harness.py)."""

from __future__ import annotations

from qhsim.experiments import compare
from qhsim.experiments.report import write_comparison
from qhsim.output import export

from browser_harness import ARTEFACTS, browser, marks  # noqa: F401 - fixtures
from conftest import SCENARIOS

pytestmark = marks()

# each table's container and how far the table runs past it (it scrolls sideways there, out of the reader's view)
OVERFLOW = """() => [...document.querySelectorAll('.wide')].map(e =>
    [e.firstElementChild.className, e.scrollWidth - e.clientWidth])"""


def test_comparison_report_shows_every_prefecture_column_at_1366_px(browser, tmp_path):
    """Vouchers move a prefecture's business R&D by a few ten-thousandths of 亿元, so its [5%, 95%] intervals are long
    (``[+0.00002, +0.00020]``); the prefecture-effects table ran 17 px past the page at 1366 px, Yushu's column out
    of view, until its intervals could break after their comma."""
    out = tmp_path / "cmp"
    res = compare(SCENARIOS / "baseline.toml", [SCENARIOS / "vouchers_expanded.toml"], seeds=(1, 2), scale=0.05,
                  end_year=2027, out=out)
    write_comparison(res, charts=False)
    report = export.export(out, "html", out / "report.html", charts=False)
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    try:
        page = context.new_page()
        page.goto(report.as_uri())
        tables = page.evaluate(OVERFLOW)
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTEFACTS / "report_compare_1366.png"), full_page=True)
    finally:
        context.close()
    assert "prefecture-effects" in [cls for cls, _ in tables]
    assert [(cls, px) for cls, px in tables if px > 0] == []
