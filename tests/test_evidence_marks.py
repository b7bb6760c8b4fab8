"""R&D per public yuan against the micro evidence: the mark (``qhsim.evidence.evidence_mark``), which range judges
which row (``design_evidence``, ``qhsim.results.with_evidence``), and where the marks and the designs' Chinese names
show (comparison.txt, leverage.csv, ranking.csv, the workbook, the HTML report, the dashboard, a sweep's summary)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest

from qhsim.evidence import (ABOVE, BELOW, EVIDENCE, EVIDENCE_MARKS, INSTRUMENT_EVIDENCE, design_evidence,
                            evidence_cell, evidence_mark, evidence_note)
from qhsim.output.report import display_width
from qhsim.results import province_rows, with_evidence

from conftest import SCENARIOS

SD = "tax_expenditure_super_deduction"


def test_the_mark_goes_by_the_whole_interval_against_the_range() -> None:
    """A ratio alone is judged as a point; an interval is marked only where all of it lies outside the range, so a
    ratio of means just past the edge whose runs straddle it (2.06 [1.98, 2.17]) is not marked."""
    tax, grant = EVIDENCE["tax_leverage"], EVIDENCE["grant_leverage"]
    assert (tax.low, tax.high, grant.low, grant.high) == (1.0, 2.0, 0.5, 1.5)
    assert evidence_mark("tax_leverage", 1.5) == ""  # inside
    assert evidence_mark("tax_leverage", 3.71) == ABOVE
    assert evidence_mark("tax_leverage", 0.8) == BELOW
    assert evidence_mark("tax_leverage", 2.0) == "" and evidence_mark("tax_leverage", 1.0) == ""  # the edges are in
    assert evidence_mark("tax_leverage", 1.98, 2.17) == ""  # straddles the upper edge
    assert evidence_mark("tax_leverage", 2.05, 2.20) == ABOVE
    assert evidence_mark("grant_leverage", 0.30, 0.45) == BELOW
    assert evidence_mark("grant_leverage", 0.30, 0.60) == ""
    assert evidence_mark("grant_leverage", 1.6, 1.9) == ABOVE and evidence_mark("tax_leverage", 1.6, 1.9) == ""
    assert evidence_mark("", 9.0) == "" and evidence_mark("tax_leverage", math.nan, 3.0) == ""  # no range, no interval


def test_which_range_judges_a_designs_total() -> None:
    """A design's total is judged against the range of the instruments it sets: one range, and those instruments carry
    at least half its extra cost (a super-deduction's own tax expenditure against the HTE rate's side effect)."""
    assert design_evidence({SD: 10.9}, 12.0) == "tax_leverage"
    assert design_evidence({SD: 4.0}, 12.0) == ""  # mostly side effects: no range for what it buys
    assert design_evidence({"spend_ex_ante_grants": 3.0, "spend_ex_post_subsidy": 2.0}, 5.0) == "grant_leverage"
    assert design_evidence({SD: 3.0, "spend_ex_ante_grants": 3.0}, 6.0) == ""  # a package of two ranges
    assert design_evidence({"spend_vouchers": 5.0}, 5.0) == ""  # no range for vouchers
    assert design_evidence({}, 5.0) == "" and design_evidence({SD: 1.0}, -1.0) == ""
    from qhsim import data
    from qhsim.results import FISCAL_PREFIXES

    costs = {k for k in data.load("indicators") if k.startswith(FISCAL_PREFIXES)}  # each mapped cost is a real one
    assert set(INSTRUMENT_EVIDENCE) <= costs and set(INSTRUMENT_EVIDENCE.values()) <= set(EVIDENCE)


def test_a_setting_restated_in_another_form_does_not_set_the_instrument() -> None:
    """A sweep point that keeps the base's grant budget writes it as a year table from its year ({2000: 15000, 2026:
    15000} against 15000): it does not set the grants, so a super-deduction raised beside it is judged against the tax
    range (it counted as a package of two ranges, and no point of grant_budget_vs_super_deduction was judged)."""
    from qhsim.experiments.comparison import in_force, sets_instrument

    base = {"policy": {"ex_ante_grants": {"budget": 15000.0}, "super_deduction": {"general": 1.0}}}
    point = {"policy": {"ex_ante_grants": {"budget": {"2000": 15000.0, "2026": 15000.0}},
                        "super_deduction": {"general": {"2000": 1.0, "2026": 1.5}}}}
    scenarios = {0: base, 1: point}
    assert not sets_instrument(scenarios, 0, 1, "spend_ex_ante_grants")
    assert sets_instrument(scenarios, 0, 1, SD)
    assert in_force({"2000": 1.0, "2026": 1.5, "2030": 1.5}) == (1.0, ((2026, 1.5),)) != in_force(1.0)


def leverage_rows(region: str | None = None, ratio: float = 3.7) -> list[dict]:
    """Leverage rows (as ``compare`` writes them) of a super-deduction design ("sd": its tax expenditure, and the HTE
    rate's as a side effect), a package of a super-deduction and grants ("pkg") and an unstable grant design ("g")."""
    rows = [
        {"design": "sd", "instrument": "total", "extra_cost": 12.0, "rd_per_yuan": ratio, "p05": ratio - 0.1,
         "p95": ratio + 0.1, "unstable": False, "design_sets_instrument": None},
        {"design": "sd", "instrument": SD, "extra_cost": 10.9, "rd_per_yuan": 4.1, "p05": 4.0, "p95": 4.2,
         "unstable": False, "design_sets_instrument": True},
        {"design": "sd", "instrument": "tax_expenditure_hte_rate", "extra_cost": 1.1, "rd_per_yuan": math.nan,
         "p05": math.nan, "p95": math.nan, "unstable": False, "design_sets_instrument": False},
        {"design": "pkg", "instrument": "total", "extra_cost": 6.0, "rd_per_yuan": 3.0, "p05": 2.9, "p95": 3.1,
         "unstable": False, "design_sets_instrument": None},
        {"design": "pkg", "instrument": SD, "extra_cost": 3.0, "rd_per_yuan": math.nan, "p05": math.nan,
         "p95": math.nan, "unstable": False, "design_sets_instrument": True},
        {"design": "pkg", "instrument": "spend_ex_ante_grants", "extra_cost": 3.0, "rd_per_yuan": math.nan,
         "p05": math.nan, "p95": math.nan, "unstable": False, "design_sets_instrument": True},
        {"design": "g", "instrument": "total", "extra_cost": 0.1, "rd_per_yuan": 9.0, "p05": 8.0, "p95": 10.0,
         "unstable": True, "design_sets_instrument": None},
        {"design": "g", "instrument": "spend_ex_ante_grants", "extra_cost": 0.1, "rd_per_yuan": 9.0, "p05": 8.0,
         "p95": 10.0, "unstable": True, "design_sets_instrument": True},
    ]
    return [{**r, "region": region} for r in rows] if region else rows


def test_a_leverage_table_gets_its_marks_row_by_row_and_region_by_region() -> None:
    lev = with_evidence(pd.DataFrame(leverage_rows()))
    got = {(r.design, r.instrument): (r.evidence_key, r.evidence) for r in lev.itertuples()}
    assert got[("sd", "total")] == ("tax_leverage", ABOVE) and got[("sd", SD)] == ("tax_leverage", ABOVE)
    assert got[("sd", "tax_expenditure_hte_rate")] == ("", "")  # a side effect: no ratio, no range
    assert got[("pkg", "total")] == ("", "")  # a package of two ranges is not judged
    assert got[("g", "total")] == ("", "") and got[("g", "spend_ex_ante_grants")] == ("", "")  # unstable: not shown
    # each prefecture's rows are judged on their own: Haixi's total inside the range, Xining's above
    both = pd.DataFrame(leverage_rows("xining") + leverage_rows("haixi", ratio=1.8))
    marks = with_evidence(both).set_index(["region", "design", "instrument"])["evidence"]
    assert marks[("xining", "sd", "total")] == ABOVE and marks[("haixi", "sd", "total")] == ""
    # a table read back from its CSV keeps its columns (empty cells as "")
    again = with_evidence(lev.assign(evidence=lev["evidence"].replace("", math.nan)))
    assert list(again["evidence"]) == list(lev["evidence"])


def test_the_cell_and_the_note_say_it_in_both_languages() -> None:
    assert evidence_cell("3.71 [3.63, 3.78]", ABOVE) == "3.71↑ [3.63, 3.78]"
    assert evidence_cell("0.31\n[0.25, 0.40]", BELOW) == "0.31↓\n[0.25, 0.40]"
    assert evidence_cell("1.50", "") == "1.50" and evidence_cell("2.5", ABOVE) == "2.5↑"
    note = evidence_note({("tax_leverage", ABOVE)})
    assert note.startswith("↑ 高于微观实证") and "1–2" in note and "evidence.py tax_leverage" in note
    assert "upper estimate" in note and "宜视为上限估计" in note and "5%-95% interval" in note
    assert "↓" not in note and evidence_note(set()) == ""
    assert "lower estimate" in evidence_note({("grant_leverage", BELOW)})


@pytest.fixture(scope="module")
def above_range(tmp_path_factory: pytest.TempPathFactory):
    """A comparison of the shipped super-deduction (120%) and one of 300%, whose R&D per yuan lies above the evidence."""
    from qhsim.experiments.comparison import compare
    from qhsim.experiments.report import write_comparison

    folder = tmp_path_factory.mktemp("evidence")
    sd300 = folder / "sd_300.toml"
    sd300.write_text(f'extends = "{(SCENARIOS / "baseline.toml").as_posix()}"\n[run]\nname = "sd_300"\n'
                     'description = "加计扣除提高至300% / Super-deduction raised to 300% from 2026"\n'
                     "[policy.super_deduction]\ngeneral = { 2026 = 3.0 }\nmanufacturing = { 2026 = 3.0 }\n"
                     "tech_sme = { 2026 = 3.0 }\n", encoding="utf-8")
    res = compare(SCENARIOS / "baseline.toml", [SCENARIOS / "super_deduction_120.toml", sd300], seeds=(1, 2),
                  scale=0.05, end_year=2028, out=folder / "store")
    write_comparison(res)
    return res, folder / "store"


def test_a_design_above_the_range_is_marked_in_comparison_txt_and_the_csv_files(above_range) -> None:
    res, out = above_range
    lev = province_rows(pd.read_csv(out / "leverage.csv", encoding="utf-8-sig"))
    row = lev.set_index(["design", "instrument"])
    for instrument in ("total", SD):
        assert row.at[("sd_300", instrument), "evidence_key"] == "tax_leverage"
        assert row.at[("sd_300", instrument), "p05"] > 2.0 and row.at[("sd_300", instrument), "evidence"] == ABOVE
    assert row["evidence"].isin([ABOVE, BELOW]).sum() == 2  # nothing else (120% is inside, side effects unjudged)
    ranking = pd.read_csv(out / "ranking.csv", encoding="utf-8-sig").set_index("design")
    assert ranking.at["sd_300", "evidence"] == ABOVE and pd.isna(ranking.at["super_deduction_120", "evidence"])
    assert list(ranking.index) == list(res.ranking["design"])  # the model's ranking stands
    text = (out / "comparison.txt").read_text(encoding="utf-8")
    ratio = f"{row.at[('sd_300', 'total'), 'rd_per_yuan']:.2f}↑"
    for title in ("成本效益 Cost-effectiveness", "排名 Ranking"):
        block = text.split(f"\n{title}", 1)[1].split("\n\n", 1)[0]
        assert ratio in block and block.count("↑") == 1, block
    instruments = text.split("\n分工具 By instrument", 1)[1].split("\n\n", 1)[0]
    assert f"{row.at[('sd_300', SD), 'rd_per_yuan']:.2f}↑" in instruments and instruments.count("↑") == 1
    flat = " ".join(text.split())
    assert "↑ 高于微观实证" in flat and "evidence.py tax_leverage" in flat and "read it as an upper estimate" in flat
    assert all(display_width(line) <= 100 for line in text.splitlines())


def test_the_cost_effectiveness_chart_names_the_designs_and_says_what_the_mark_means(above_range) -> None:
    """cost_effectiveness.png: its legend names each design in both languages, marks the ratio above the range, and
    says what the mark means in a legend line of its own (one, for the one range and side shown)."""
    from qhsim.experiments.report import cost_effectiveness_figure

    res, _ = above_range
    labels = [t.get_text() for t in cost_effectiveness_figure(res).axes[0].get_legend().get_texts()]
    designs = {label.split(" ", 2)[1]: label for label in labels[:2]}
    assert "加计扣除提高至300%" in designs["sd_300"] and "↑ yuan/yuan" in designs["sd_300"]
    assert "加计扣除提高至120%" in designs["super_deduction_120"] and "↑" not in designs["super_deduction_120"]
    meaning = [label for label in labels if label.startswith("↑ ")]
    assert meaning == ["↑ 高于微观实证1–2元/元，宜视为上限估计 above the micro evidence 1–2 (tax_leverage): an upper estimate"]


def test_the_workbook_and_the_html_report_show_the_mark_and_the_chinese_names(above_range) -> None:
    from openpyxl import load_workbook

    from qhsim.output.export import write_html, write_xlsx
    from qhsim.output.tidy import load_results

    res, out = above_range
    # as written by qhsim compare, and as qhsim export reads a store whose leverage.csv has no marks (an older qhsim)
    older = out.parent / "older"
    older.mkdir()
    for f in out.iterdir():
        if f.is_file():
            (older / f.name).write_bytes(f.read_bytes())
    (older / "runs").symlink_to(out / "runs")
    lev = pd.read_csv(out / "leverage.csv", encoding="utf-8-sig")
    lev.drop(columns=["evidence_key", "evidence"]).to_csv(older / "leverage.csv", index=False, encoding="utf-8-sig")
    results = load_results(older)
    write_xlsx(results, older / "report.xlsx")
    write_html(results, older / "report.html", charts=False)
    for folder in (out, older):
        wb = load_workbook(folder / "report.xlsx")
        ws = wb["成本效益 Cost-effectiveness"]
        heads = [c.value for c in ws[1]]
        rows = {r[0].value: r for r in ws.iter_rows(min_row=2, max_row=3)}  # the two designs (no row for the base)
        assert set(rows) == {"super_deduction_120（加计扣除提高至120%）", "sd_300（加计扣除提高至300%）"}
        business = heads.index(next(h for h in heads if h.startswith("每元公共投入带动企业研发")))
        assert rows["sd_300（加计扣除提高至300%）"][business].number_format.endswith('"↑"')
        assert isinstance(rows["sd_300（加计扣除提高至300%）"][business].value, float)  # still a number
        assert "↑" not in rows["super_deduction_120（加计扣除提高至120%）"][business].number_format
        notes = " ".join(str(c.value) for row in ws.iter_rows(min_row=len(rows) + 2) for c in row if c.value)
        assert "↑ 高于微观实证" in notes and "evidence.py tax_leverage" in notes
        by = wb["按工具 By instrument"]
        marked = [r[2].value for r in by.iter_rows(min_row=2) if r[9].value is not None and "↑" in r[9].number_format]
        assert sorted(marked) == sorted(["total", SD]) and by.cell(row=2, column=1).value.endswith("）")
        pairwise = [c.value for c in wb["两两比较 Pairwise"]["A"]]
        assert "2 sd_300（加计扣除提高至300%）" in pairwise
        page = (folder / "report.html").read_text(encoding="utf-8")
        ce = page.split("成本效益 Cost-effectiveness", 1)[1].split("<h3>", 1)[0]
        assert re.search(r"\d\.\d\d↑ \[", ce) and "sd_300（加计扣除提高至300%）" in ce and "高于微观实证" in ce
        assert "super_deduction_120（加计扣除提高至120%）" in ce


def test_the_dashboard_summary_marks_it_and_says_why(above_range) -> None:
    from qhsim.dashboard import compare as dashboard_compare

    res, _ = above_range
    table = dashboard_compare.summary(res, "en").set_index("Designs")
    column = "business R&D per yuan of public cost (yuan/yuan)"
    assert "↑" in table.at["sd_300", column] and "↑" not in table.at["super_deduction_120", column]
    notes = " ".join(dashboard_compare.summary_notes(table.reset_index(), res))
    assert "above the micro evidence" in notes and "evidence.py tax_leverage" in notes


def test_a_sweep_summary_marks_the_points_above_the_range(tmp_path: Path) -> None:
    """A sweep of the super-deduction: the points that set it alone are judged against the tax range (summary.csv's
    evidence), the terminal table marks their ratio and says why below."""
    from qhsim.experiments.sweep import write_sweep

    experiment = tmp_path / "sd.toml"
    experiment.write_text(f'description = "加计扣除 / super-deduction"\nscenario = "{(SCENARIOS / "baseline.toml").as_posix()}"\n'
                          "from_year = 2026\nseeds = [1, 2]\nscale = 0.05\nend_year = 2028\nreport_years = [2028]\n"
                          'indicators = ["business_rd"]\n[lever.sd]\npaths = ["policy.super_deduction.general", '
                          '"policy.super_deduction.manufacturing", "policy.super_deduction.tech_sme"]\n'
                          "values = [1.2, 3.0]\n", encoding="utf-8")
    text, _ = write_sweep(experiment, tmp_path / "out")
    summary = pd.read_csv(tmp_path / "out" / "summary.csv", encoding="utf-8-sig").set_index("point")
    assert summary.at[1, "evidence_key"] == summary.at[2, "evidence_key"] == "tax_leverage"
    assert summary.at[2, "rd_per_yuan_p05"] > 2.0 and summary.at[2, "evidence"] == ABOVE
    assert pd.isna(summary.at[1, "evidence"]) and pd.isna(summary.at[0, "evidence_key"])
    table = text.split("2028年", 1)[1].split("\n\n", 1)[0]
    point = next(line for line in table.splitlines() if line.split()[:1] == ["2"])
    assert EVIDENCE_MARKS[ABOVE] in point
    assert "↑ 高于微观实证" in " ".join(text.split())
    assert all(display_width(line) <= 100 for line in text.splitlines())
