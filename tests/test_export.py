"""Results folders and exports: the --out check, the tidy long table, XLSX read back, HTML, CSV, Parquet.

These tests check structure, labels and formats on small real runs, never the model's numbers.
"""

from __future__ import annotations

import base64
import html
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from conftest import SCENARIOS
from qhsim import __version__, data
from qhsim.errors import InputError
from qhsim.evidence import evidence_cell
from qhsim.output import export, folders, tidy
from qhsim.results import province_rows
from qhsim.experiments import compare
from qhsim.experiments.report import write_comparison
from qhsim.output import html_report
from qhsim.output.html_report import render_html
from qhsim.output.numbers import cell_format, change_digits, format_fixed, format_interval, format_number, format_value
from qhsim.output.report import (band_caveat, display_width, indicator_label, persistence_note, reduced_scale_note,
                                 region_label, wrap)
from qhsim.output.store import write_run
from qhsim.runner import run


YEAR_HEAD = "目标年份（增长目标：期间）\ntarget year (growth: period)"  # the Summary sheet's target year column


@pytest.fixture(scope="module")
def result():
    return run(SCENARIOS / "baseline.toml", scale=0.05, end_year=2027)


@pytest.fixture(scope="module")
def run_folder(result, tmp_path_factory):
    return write_run(result, tmp_path_factory.mktemp("export") / "baseline", charts=False)


@pytest.fixture(scope="module")
def compare_folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "cmp"
    res = compare(SCENARIOS / "baseline.toml", [SCENARIOS / "super_deduction_120.toml"], seeds=(1, 2), scale=0.05,
                  end_year=2027, out=out)
    write_comparison(res, charts=False)
    return out


# --- the --out check ------------------------------------------------------------------------------------


def test_check_out_accepts_new_empty_and_same_kind(tmp_path, run_folder):
    assert folders.check_out(tmp_path / "new" / "deeper", "run") == tmp_path / "new" / "deeper"
    (tmp_path / "empty").mkdir()
    folders.check_out(tmp_path / "empty", "compare")
    folders.check_out(run_folder, "run")
    folders.check_out(run_folder, "ensemble")  # `qhsim run --draws` may replace a run folder


@pytest.mark.parametrize(("make", "kind", "message"), [
    ("file", "run", "is an existing file"),
    ("foreign", "run", "not a qhsim results folder"),
    ("under_file", "run", "is a file, not a folder"),
    ("sweep", "run", "holds a qhsim sweep folder, not a run folder"),
    ("run", "compare", "holds a qhsim run folder, not a compare folder"),
    ("compare", "sweep", "holds a qhsim compare folder, not a sweep folder"),
])
def test_check_out_refuses_and_keeps_everything(tmp_path, make, kind, message):
    target = tmp_path / "target"
    if make == "file":
        target.write_text("keep")
    elif make == "under_file":
        (tmp_path / "plain").write_text("keep")
        target = tmp_path / "plain" / "out"
    else:
        target.mkdir()
        if make == "foreign":
            (target / "notes.md").write_text("keep")
        else:
            (target / "manifest.json").write_text(json.dumps({"kind": make}))
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    with pytest.raises(InputError, match=message) as err:
        folders.check_out(target, kind)
    assert "\n" not in str(err.value)
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_folders_written_before_kinds_existed_are_recognised():
    assert folders.manifest_kind({"comparison": {}, "leverage": {}}) == "compare"
    assert folders.manifest_kind({"experiment": {}}) == "sweep"
    assert folders.manifest_kind({"scenario_name": "x", "meta": {}}) == "run"
    assert folders.manifest_kind({"scenario_name": "x", "meta": {"seeds": [1, 2]}}) == "ensemble"


# --- the tidy long table ---------------------------------------------------------------------------------


def test_long_table_round_trips_to_the_wide_frame(result, run_folder):
    results = tidy.load_results(run_folder)
    assert results.kind == "run" and results.designs == ["baseline"]
    assert tuple(results.long.columns) == tidy.LONG_COLUMNS
    assert set(results.long["seed"]) == {result.seed} and set(results.long["draw"]) == {0}
    rd = results.long[results.long["indicator"] == "rd_intensity"]
    assert set(rd["unit"]) == {"%"}
    wide = results.wide()
    expected = result.indicators[wide.columns]
    pd.testing.assert_frame_equal(wide, expected.reset_index(drop=True), check_dtype=False)


def test_ensemble_draws_and_seeds_stay_apart():
    frame = pd.DataFrame({"year": [2020, 2020, 2020, 2020], "region": "province", "draw": [0, 1, 2, 3],
                          "param_draw": [0, 0, 1, 1], "seed": [1, 2, 1, 2], "rd_intensity": [0.5, 0.6, 0.7, 0.8]})
    long = tidy.long_table(frame, "x")
    assert list(long["draw"]) == [0, 1, 2, 3] and list(long["seed"]) == [1, 2, 1, 2]


def test_compare_folder_has_two_designs_and_a_loader_can_be_registered(compare_folder, tmp_path):
    results = tidy.load_results(compare_folder)
    assert results.kind == "compare" and results.designs == ["baseline", "super_deduction_120"]
    assert results.meta["window"][0] == 2026
    assert any(lv["key"].startswith("policy.super_deduction") for lv in results.meta["levers"])

    (tmp_path / "manifest.json").write_text(json.dumps({"kind": "experiment_v2"}))
    with pytest.raises(InputError, match="unknown kind of results folder 'experiment_v2'"):
        tidy.load_results(tmp_path)
    tidy.register_loader("experiment_v2", lambda folder, manifest: results)
    try:
        assert tidy.load_results(tmp_path).designs == results.designs
    finally:
        del tidy.LOADERS["experiment_v2"]


def test_round_significant_removes_float_noise():
    out = tidy.round_significant(pd.Series([2999.9999999999995, -0.0, 0.123456789, float("nan")]))
    assert out[0] == 3000.0 and str(out[1]) == "0.0" and out[2] == 0.123457
    assert pd.isna(out[3])


# --- exports ---------------------------------------------------------------------------------------------


def test_run_folder_workbook_reads_back(run_folder):
    wb = load_workbook(run_folder / "report.xlsx")
    names = wb.sheetnames
    assert names[:2] == ["摘要 Summary", "全省 Province"]
    assert {"海东市 Haidong", "海西州 Haixi", "财政 Spending", "元数据 Metadata"} <= set(names)
    assert "对比排名 Ranking" not in names
    summary = wb["摘要 Summary"]
    heads = [c.value for c in summary[1]]
    assert "指标\nindicator" in heads and "目标\ntarget" in heads and summary.freeze_panes == "D2"
    rows = [r for r in summary.iter_rows(min_row=2, values_only=True)
            if r[heads.index("指标\nindicator")] == "研发投入强度 R&D expenditure / GDP (%)"]
    rd, haixi = rows[0], rows[-1]
    assert rd[0] == "青海省 Qinghai Province" and haixi[0] == "海西州 Haixi"
    assert haixi[heads.index("目标\ntarget")] == 0.7 and haixi[heads.index(YEAR_HEAD)] == 2027
    assert rd[heads.index("目标\ntarget")] == 1.0 and rd[heads.index(YEAR_HEAD)] == 2025
    assert rd[heads.index("单位 unit")] == "%"
    # every unit in both languages (a number's unit alone in its column has no English name to follow)
    units = {r[heads.index("指标\nindicator")]: r[heads.index("单位 unit")] for r in summary.iter_rows(min_row=2, values_only=True)
             if r[0] == "青海省 Qinghai Province"}
    assert units["高新技术企业数量 High-tech enterprises (firms)"] == "家 firms"
    assert units["技术合同交易额 Technology contract turnover (亿元)"] == "亿元 (100 mn yuan)"
    density = "每万家企业法人中高新技术企业数 High-tech enterprises per 10,000 enterprise legal persons (firms per 10k enterprises)"
    assert units[density] == "家/万家企业 firms per 10k enterprises"
    assert all(re.search(r"[\u4e00-\u9fff]", u) and re.search(r"[A-Za-z]", u) for u in units.values() if u != "%"), units

    province = wb["全省 Province"]
    heads = [c.value for c in province[1]]
    assert heads[0] == "年份 year" and province.freeze_panes == "B2"
    col = heads.index("高新技术企业数量\nHigh-tech enterprises (firms)") + 1
    assert province.cell(row=2, column=col).number_format == "#,##0"  # counts as integers
    col = heads.index("研发投入强度\nR&D expenditure / GDP (%)") + 1
    assert province.cell(row=2, column=col).number_format == "#,##0.00"
    years = [r[0] for r in province.iter_rows(min_row=2, values_only=True)]
    assert years == list(range(2015, 2028))

    meta = dict(wb["元数据 Metadata"].iter_rows(min_row=2, values_only=True))
    assert meta["情景 scenario"] == "baseline" and meta["规模 scale (share of firms simulated)"] == 0.05
    # one fact a row, in words (no JSON): the seed with its count, the versions as "name version", the calibration
    assert meta["随机种子 seeds"] == "20151231（1个种子 1 seed）" and meta["类型 kind"] == "单次运行 single run"
    manifest = json.loads((run_folder / "manifest.json").read_text(encoding="utf-8"))
    assert meta["版本 versions"].startswith(f"qhsim {__version__}, mesa {manifest['versions']['mesa']}, python ")
    assert meta["校准 calibration"].startswith("未校准") == (not manifest["calibration"]["calibrated"])
    assert not any(isinstance(v, str) and v.lstrip().startswith(("{", "[")) for v in meta.values())
    assert meta["市州数值 prefecture values"].startswith("市州数值：海东市的2020年值按观测值校准")
    assert re.fullmatch(r"\d+\.\d s", meta["模型运行时间 model time"])  # "7.2 s", not 7.229408286999984
    assert meta["模型运行时间 model time"] == f"{manifest['run_seconds']:.1f} s"


def cut_off(ws) -> list[tuple[str, str]]:
    """Cells of a sheet whose text a spreadsheet cannot show whole: wider than the column (a Chinese character takes
    two units) and not wrapped, or wrapped in more lines than the row is high (15 points a line); the notes merged
    below a table are left out (they wrap across several columns)."""
    merged = {r.start_cell.coordinate for r in ws.merged_cells.ranges}
    cut = []
    for row in ws.iter_rows():
        for cell in row:
            if not isinstance(cell.value, str) or cell.coordinate in merged:
                continue
            width = ws.column_dimensions[cell.column_letter].width
            if not cell.alignment.wrap_text:
                if max(display_width(line) for line in cell.value.split("\n")) + 1 > width:
                    cut.append((cell.coordinate, cell.value))
            elif 15 * len(wrap(cell.value, int(width) - 1)) > (ws.row_dimensions[cell.row].height or 15):
                cut.append((cell.coordinate, cell.value))
    return cut


def test_workbook_cells_show_whole(run_folder, compare_folder):
    """Every label, unit, region and source of the workbooks fits its column or wraps in a row high enough (the
    summary's 2035 reference-path labels run to 130 characters), on every sheet."""
    for folder in (run_folder, compare_folder):
        wb = load_workbook(folder / "report.xlsx")
        for ws in wb.worksheets:
            assert cut_off(ws) == [], ws.title
    summary = load_workbook(run_folder / "report.xlsx")["摘要 Summary"]
    heads = [c.value for c in summary[1]]
    label = summary.cell(row=1, column=heads.index("指标\nindicator") + 1).column_letter
    assert summary.column_dimensions[label].width <= 50  # long labels wrap rather than widen the frozen columns
    assert summary.column_dimensions["A"].width >= display_width("青海省 Qinghai Province") + 1


def test_workbook_names_the_source_of_each_observed_value_and_explains_the_restated_patents(run_folder):
    """The summary sheet's 2020实际来源 column, its cell comment (citation) and the note rows below the table."""
    summary = load_workbook(run_folder / "report.xlsx")["摘要 Summary"]
    heads = [c.value for c in summary[1]]
    observed, source = heads.index("2020实际\nobserved 2020"), heads.index("2020实际来源\nobserved source")
    assert source == observed + 1
    rows = {r[heads.index("指标\nindicator")]: (i, r) for i, r in enumerate(summary.iter_rows(values_only=True), start=1)
            if r[0] == "青海省 Qinghai Province" and r[1] == "规划目标 plan targets"}
    i, patents = rows["每万人口发明专利拥有量 Valid invention patents per 10,000 population (items per 10k population)"]
    assert patents[observed] == 3.12
    assert patents[source] == ("按2020年人口普查人口重算（规划印3.04） restated on the 2020 census population "
                               "(the plan prints 3.04) *")
    comment = summary.cell(row=i, column=source + 1).comment.text
    assert "seed 003:L578" in comment and "docs/sources/" in comment  # the citation and where to read it
    _, rd = rows["研发投入强度 R&D expenditure / GDP (%)"]
    assert rd[observed] == 0.71 and rd[source] == "十四五科技创新规划指标表 14th FYP S&T plan, indicator table"
    _, density = rows["每万家企业法人中高新技术企业数 High-tech enterprises per 10,000 enterprise legal persons "
                      "(firms per 10k enterprises)"]
    assert density[observed] is None and density[source] is None
    label = heads.index("指标\nindicator")
    notes = [r[label] for r in summary.iter_rows(values_only=True) if r[0] is None and r[label]]
    assert notes[0].startswith("注：标记（*重算，†口径与模型不同")
    (note,) = [n for n in notes if "每万人口发明专利拥有量" in n]
    assert note.startswith("* ") and "3.12 = 1,848 valid invention patents / 5.924 million (2020 census)" in note
    assert "the plan prints 3.04" in note and "规划表印3.04" in note
    assert any("Haidong's plan prints 10" in n for n in notes)
    # Haidong's S&T talents: on another definition than the model's, marked † and explained
    (talent,) = [r for r in summary.iter_rows(values_only=True) if r[0] == "海东市 Haidong"
                 and r[label] == "科技创新型人才 S&T innovative talent (persons)"]
    assert talent[observed] == 1000 and talent[source] == "海东市规划，口径不同 Haidong plan, another definition †"
    assert any(n.startswith("† 科技创新型人才 S&T innovative talent: 1,000：") and "broader group" in n for n in notes)


def test_workbook_heading_of_the_base_year_notes_covers_the_province_and_the_prefectures(run_folder, monkeypatch):
    """The notes below the summary on targets already met in their plan's base year are the province's (its HTE
    density at scale 1) and the prefectures': their heading names neither alone."""
    from qhsim.output import workbook

    summary = load_workbook(run_folder / "report.xlsx")["摘要 Summary"]
    notes = [c.value for row in summary.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("注")]
    assert workbook.BASE_YEAR_HEADING in notes
    assert "市州" not in workbook.BASE_YEAR_HEADING and "Prefecture" not in workbook.BASE_YEAR_HEADING
    province = "青海省每万家企业法人中高新技术企业数：本次运行2020年已为18.08 Qinghai Province, High-tech enterprises ..."
    monkeypatch.setattr(workbook, "base_year_notes", lambda *args, **kwargs: [province])
    ws = workbook.workbook(tidy.load_results(run_folder))["摘要 Summary"]
    cells = [c.value for row in ws.iter_rows() for c in row if c.value is not None]
    assert cells[cells.index(workbook.BASE_YEAR_HEADING) + 1] == province


def test_html_report_names_the_sources_of_observed_values(run_folder):
    html = (run_folder / "report.html").read_text(encoding="utf-8")
    assert "Haidong&#39;s 2020 values are fitted to observed data; Xining, Haixi" in html  # the prefectures' anchors
    headline = html.split('id="headline">', 1)[1].split("<h2", 1)[0]
    assert "<th>2020实际来源 observed source</th>" in headline
    row = headline.split("Valid invention patents per 10,000 population", 1)[1].split("</tr>", 1)[0]
    assert '<td class="num">3.12*</td>' in row and "(the plan prints 3.04)</td>" in row
    assert ("* 每万人口发明专利拥有量 Valid invention patents per 10,000 population: 3.12 = 1,848件有效发明专利 ÷ "
            "592.4万人（2020年人口普查）") in headline
    assert "the plan prints 3.04 (= 1,848 / 6.079 million, pre-census estimate)" in headline
    assert "14th FYP S&amp;T plan, indicator table" in headline
    # "是 yes" wrapped in its narrow cell where "否 no" did not: the met cells keep their words on one line
    assert re.search(r"td\.yes \{[^}]*white-space: nowrap", html) and re.search(r"td\.no \{[^}]*white-space: nowrap", html)
    # the terminal's indicators without a target in a section of their own, without target columns or spending
    other = headline.split("其他指标 other indicators (no target)", 1)[1].split("</table>", 1)[0]
    assert "Talent inflow" in other and "Business R&amp;D expenditure" in other and "Public spending" not in other
    assert "target (year)" not in other and "sim 2025" in other
    summary = load_workbook(run_folder / "report.xlsx")["摘要 Summary"]
    heads = [c.value for c in summary[1]]
    gap = heads.index("差距（增长目标为百分点）\ngap (pp for growth targets)")
    growth = [r[gap] for r in summary.iter_rows(min_row=2) if "target: %/yr" in str(r[3].value)]
    # as the header says, not "%"; signed as the terminal writes it (+7.0pp)
    assert growth and all(c.number_format.startswith('+#,##0.0"pp"') for c in growth if c.value)
    sections = {r[2]: r[1] for r in summary.iter_rows(min_row=2, values_only=True) if r[0] == "青海省 Qinghai Province"}
    assert sections["研发投入强度 R&D expenditure / GDP (%)"] == "规划目标 plan targets"
    assert sections["研发人员流入 Talent inflow (persons)"] == "其他指标 other indicators (no target)"


def test_compare_workbook_has_the_ranking(compare_folder):
    wb = load_workbook(compare_folder / "report.xlsx")
    ranking = wb["对比排名 Ranking"]
    assert ("与基准 baseline 之差（%指标：百分点） difference from the base baseline (indicators in %: pp)"
            in [c.value for c in ranking[1]])  # not "first design"; a change of an indicator in % in points
    rows = list(ranking.iter_rows(min_row=2, values_only=True))
    designs = {r[3] for r in rows if isinstance(r[0], int)}  # each named in Chinese too, as comparison.txt names it
    assert designs == {"baseline（基准：现行政策延续）", "super_deduction_120（加计扣除提高至120%）"}
    # 2025 (the design acts from 2026: every design equals the base) is left out, the runs' last year ranked
    assert {r[0] for r in rows if isinstance(r[0], int)} == {2027}
    # the metadata sheet gives each design's levers as text, one row each, a year table's first year as "before"
    meta = list(wb["元数据 Metadata"].iter_rows(min_row=2, values_only=True))
    facts = dict(meta)
    assert facts["版本 versions"].startswith(f"qhsim {__version__}, mesa ")  # written by the comparison just run
    assert "not recorded" not in facts["版本 versions"]
    assert facts["随机种子 seeds"] == "1, 2（2个种子 2 seeds）"
    assert facts["每方案运行次数 runs per design"] == "2 = 1组参数 × 2个种子 1 parameter set × 2 seeds"
    store = json.loads((compare_folder / "manifest.json").read_text(encoding="utf-8"))
    assert facts["模型指纹 model fingerprint (the code, data and calibrated parameters the runs ran on)"] == \
        store["model_fingerprint"]
    assert facts["共同窗口 common window (from the first year a design differs from the base)"] == "2026–2027"
    levers = [v for k, v in meta if k.startswith("政策杠杆")]
    assert levers and all(v.startswith("super_deduction_120 · ") and "；本方案 this design " in v for v in levers)
    assert any("R&D super-deduction" in v for v in levers) and not any("2000" in v for v in levers)


def test_compare_ranking_sheet_and_html_say_how_to_read_them(compare3_folder, compare_folder):
    """Below the workbook's 对比排名 Ranking table (and above the HTML report's rankings) one note: what is ranked, the
    paired difference, the years left out (those before the common window, where every design equals the base), and
    where the comparison's own ranking on its metric and P(first) are (a comparison of one design has none)."""
    from qhsim.output.tables import ONE_DESIGN_NOTE, metric_words

    single = load_workbook(compare_folder / "report.xlsx")["对比排名 Ranking"]
    note = single.cell(row=len(_sheet_rows(single)[1]) + 3, column=1).value
    assert "not designs (one design has no ranking" in note and "P(first)" not in note
    compare_folder = compare3_folder
    store = json.loads((compare_folder / "manifest.json").read_text(encoding="utf-8"))
    metric = pd.read_csv(compare_folder / "ranking.csv", encoding="utf-8-sig")["metric"].iloc[0]
    ws = load_workbook(compare_folder / "report.xlsx")["对比排名 Ranking"]
    heads, rows = _sheet_rows(ws)
    note = ws.cell(row=len(rows) + 3, column=1).value
    assert note and ws.cell(row=len(rows) + 2, column=1).value is None
    left_out = [y for y in (2025,) if y < store["window"][0]]  # the ranked years before the window
    assert left_out and f"Years in which every design equals the base baseline ({left_out[0]}) are not shown" in note
    assert f"the ranking on {metric_words(metric)[1]} (ordered by mean rank" in note and "排名1 = 中位数最高" in note
    assert "ratio of the means" in note  # a ranking by R&D per yuan: its median against the table's ratio of means
    assert ONE_DESIGN_NOTE not in note
    page = html.unescape((compare_folder / "report.html").read_text(encoding="utf-8"))
    assert note in page.split('id="answer">', 1)[1]
    assert "Δ 与基准 baseline 之差（%指标：百分点） difference from the base baseline (indicators in %: pp)" in page


def test_compare_versions_and_calibration_read_back_are_the_stores(compare_folder, tmp_path, monkeypatch):
    """A compare store's manifest records the software versions and the calibration that wrote it: re-exported (here
    with the shipped calibration in force), the metadata gives those, not today's. A store of an older qhsim records the
    qhsim version alone: the metadata says the others were not recorded instead of showing a short list as if
    complete."""
    store = json.loads((compare_folder / "manifest.json").read_text(encoding="utf-8"))
    assert store["versions"] == tidy.environment_versions() and not store["calibration"]["calibrated"]  # the suite's
    monkeypatch.delenv("QHSIM_CALIBRATED")  # today: the shipped calibration in force
    wb = load_workbook(export.export(compare_folder, "xlsx", tmp_path / "again.xlsx"))
    facts = dict(wb["元数据 Metadata"].iter_rows(min_row=2, values_only=True))
    assert facts["版本 versions"] == tidy.versions_text(store["versions"])
    assert facts["校准 calibration"] == dict(tidy.calibration_rows(store["calibration"]))["校准 calibration"]
    old = tmp_path / "old"
    shutil.copytree(compare_folder, old)
    for key in ("versions", "calibration"):
        store.pop(key)
    (old / "manifest.json").write_text(json.dumps(store), encoding="utf-8")
    wb = load_workbook(export.export(old, "xlsx", tmp_path / "old.xlsx"))
    facts = dict(wb["元数据 Metadata"].iter_rows(min_row=2, values_only=True))
    assert facts["版本 versions"] == (f"qhsim {store['qhsim_version']}（未记录 not recorded: "
                                      f"{', '.join(tidy.VERSION_ORDER[1:])}）")
    assert tidy.versions_text(tidy.environment_versions()).count("not recorded") == 0
    assert tidy.versions_text({"qhsim": "9", "mesa": "3"}) == "qhsim 9, mesa 3（未记录 not recorded: python, numpy, pandas）"


def test_compare_outputs_give_each_designs_cost_effectiveness(compare_folder, compare3_folder, tmp_path):
    """The workbook's Cost-effectiveness sheet and the HTML report's table carry comparison.txt's answer per design:
    extra public cost, extra business R&D, R&D per public yuan (business and total) with 5%/95%, and for two designs or
    more rank and P(first)."""
    from qhsim.output.tables import ONE_DESIGN_NOTE

    lev = province_rows(pd.read_csv(compare_folder / "leverage.csv", encoding="utf-8-sig"))  # its province rows
    lev = lev[lev["instrument"] == "total"].set_index("design").loc["super_deduction_120"]
    costs = pd.read_csv(compare_folder / "costs.csv", encoding="utf-8-sig").set_index(["design", "item"])
    rank = pd.read_csv(compare_folder / "ranking.csv", encoding="utf-8-sig").set_index("design").loc["super_deduction_120"]
    ws = load_workbook(compare_folder / "report.xlsx")["成本效益 Cost-effectiveness"]
    heads = [c.value for c in ws[1]]
    assert heads[:4] == ["方案 design", "额外公共投入（财政支出+税式支出） extra public cost, spending + tax expenditure (亿元) 均值 mean", "5%", "95%"]
    row = dict(zip(heads, next(ws.iter_rows(min_row=2, max_row=2, values_only=True))))
    assert row["方案 design"] == "super_deduction_120（加计扣除提高至120%）"  # its id and its Chinese name
    assert ws.cell(row=3, column=1).value is None  # the base has no row
    assert row["额外公共投入（财政支出+税式支出） extra public cost, spending + tax expenditure (亿元) 均值 mean"] == pytest.approx(costs.at[("super_deduction_120", "total"), "mean"])
    assert row["额外企业研发 extra business R&D (亿元) 均值 mean"] == pytest.approx(lev["extra_rd"])
    assert row["每元公共投入带动企业研发（元） business R&D per public yuan 均值 mean"] == pytest.approx(lev["rd_per_yuan"])
    assert row["每元公共投入带动全社会研发（元） total R&D per public yuan 均值 mean"] == pytest.approx(lev["total_rd_per_yuan"])
    # one design ranks first in every run: no rank, no P(first), and one line that says why
    assert "排名 rank" not in heads and "P(第一 first)" not in heads and rank["p_first"] == 1
    note = ws.cell(row=4, column=1).value
    assert "2026-2027" in note and "ratio of means" in note and "unstable" not in note
    assert ONE_DESIGN_NOTE in note and "rank and P(first) use" not in note  # (notes on the cost may follow it)
    # two designs: rank and P(first) as ranking.csv has them, the ranking metric in words and why its median may differ
    ranking = pd.read_csv(compare3_folder / "ranking.csv", encoding="utf-8-sig").set_index("design")
    ws3 = load_workbook(compare3_folder / "report.xlsx")["成本效益 Cost-effectiveness"]
    heads3, rows3 = _sheet_rows(ws3)
    for values in rows3:
        row3 = dict(zip(heads3, values))
        design = _id(row3["方案 design"])
        assert (row3["排名 rank"], row3["P(第一 first)"]) == (ranking.at[design, "rank"],
                                                            pytest.approx(ranking.at[design, "p_first"]))
    note = ws3.cell(row=len(rows3) + 3, column=1).value
    assert "go by each run's own business R&D per public yuan" in note and ONE_DESIGN_NOTE not in note
    html = (compare_folder / "report.html").read_text(encoding="utf-8")
    table = html.split("成本效益 Cost-effectiveness, 2026-2027", 1)[1].split("</table>", 1)[0]
    assert "<td class=\"\">super_deduction_120（加计扣除提高至120%）</td>" in table and "baseline" not in table
    assert f"{format_number(lev['rd_per_yuan'])} [{format_number(lev['p05'])}, {format_number(lev['p95'])}]" in table
    assert "cost-effectiveness chart" not in html  # written without charts: no cost_effectiveness.png to embed
    assert "(2025) are not shown" in html and "财政杠杆 Fiscal leverage" not in html
    # with charts, the report embeds the chart qhsim compare drew into the folder
    copy = tmp_path / "cmp"
    shutil.copytree(compare_folder, copy)
    (copy / "cost_effectiveness.png").write_bytes(b"\x89PNG stand-in")
    block = html_report._cost_effectiveness_block(tidy.load_results(copy), charts=True)
    assert base64.b64decode(block["chart"]) == b"\x89PNG stand-in"


def test_html_report_is_self_contained_and_bilingual(compare_folder):
    html = (compare_folder / "report.html").read_text(encoding="utf-8")
    assert "主要指标与目标 Headline indicators against targets" in html
    assert "方案对比与排名 Comparison and ranking" in html and "政策杠杆 Levers" in html
    assert "假设与校准 Assumptions and calibration" in html
    assert "At scale 0.05 each simulated firm stands for about 20 firms" in html  # the small prefectures' warning
    # a lever by its section and name in both languages, then its key
    assert "研发费用加计扣除·" in html and "R&amp;D super-deduction: " in html and "(policy.super_deduction." in html
    # a comparison's lever rows name the design that changes them
    lever_table = html.split('id="levers">', 1)[1].split("</table>", 1)[0]
    assert "<th>方案 design</th>" in lever_table and "<th>该方案 the design</th>" in lever_table
    rows = lever_table.split("<tr>")[2:]
    assert rows and all(r.startswith("<td>super_deduction_120</td>") for r in rows)
    # a constant extended by a year table: "before" for the value in force before its first change, no year 2000
    assert tidy.lever_text({"2000": 10, "2026": 20}) == "此前 before: 10 → 2026: 20" and "2000:" not in html
    # six significant digits, never in exponent form (a budget of 1e7 read "1e+07")
    assert [tidy.lever_text(v) for v in (1e7, 2.5e6, 27848.3, 0.75, 1234567.891)] == [
        "10,000,000", "2,500,000", "27,848.3", "0.75", "1,234,568"]
    assert not re.search(r"""(src|href)=["']https?://""", html)  # nothing fetched: opens offline


def test_export_command_writes_every_format(run_folder, compare_folder, tmp_path):
    html = export.export(run_folder, "html", tmp_path / "r.html")
    text = html.read_text(encoding="utf-8")
    assert text.count("data:image/png;base64,") >= 3  # overview, indicator charts, prefectures
    csv = export.export(compare_folder, "csv", tmp_path / "long.csv")
    long = pd.read_csv(csv, encoding="utf-8-sig")
    assert list(long.columns[:len(tidy.LONG_COLUMNS)]) == list(tidy.LONG_COLUMNS)
    assert set(long["design"]) == {"baseline", "super_deduction_120"}
    assert not re.search(r"\.\d*(9{6,}|0{6,})[1-9]", csv.read_text(encoding="utf-8-sig"))  # no float noise
    parquet = export.export(run_folder, "parquet", tmp_path / "long.parquet")
    assert tuple(pd.read_parquet(parquet).columns) == tidy.LONG_COLUMNS
    assert export.export(run_folder, "xlsx").parent == run_folder  # default: into the folder


@pytest.mark.parametrize(("to", "out", "message"), [
    ("xlsx", "folder", "is a folder"),
    ("xlsx", "r.html", "must end in .xlsx"),
    ("html", "missing/r.html", "does not exist"),
])
def test_export_refuses_bad_targets(run_folder, tmp_path, to, out, message):
    (tmp_path / "folder").mkdir()
    with pytest.raises(InputError, match=message):
        export.export(run_folder, to, tmp_path / out)


# --- charts an analyst can read --------------------------------------------------------------------------


def test_indicator_chart_has_unit_axis_labelled_targets_observed_points_and_five_year_ticks(result):
    from qhsim.output import charts

    ax = charts.indicator_figure(result.indicators, "rd_intensity").axes[0]
    assert ax.get_ylabel() == "%"
    assert {2020, 2025} <= {int(t) for t in ax.get_xticks()}
    notes = [t.get_text() for t in ax.texts]
    assert "1.00 (2025)" in notes  # the target labelled with value and year
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(t.startswith("实际值 observed 2015") for t in legend)
    assert not any("qhsim/data" in t for t in legend)
    money = charts.indicator_figure(result.indicators, "business_rd").axes[0]
    assert money.get_ylabel() == "亿元 (100 mn yuan)"
    # every axis in both languages, from the one table of units (numbers.UNIT_ZH) that the tables use too
    for key in ("rd_personnel_fte", "rd_user_cost", "hte_per_10k_enterprises", "hte_count"):
        ylabel = charts.indicator_figure(result.indicators, key).axes[0].get_ylabel()
        assert re.search(r"[\u4e00-\u9fff]", ylabel) and re.search(r"[A-Za-z]", ylabel), (key, ylabel)
    assert charts.axis_unit("rd_personnel_fte") == "人年 person-years"
    assert charts.axis_unit("rd_user_cost") == "元/元研发经费 yuan per yuan of R&D"
    spend = charts.indicator_figure(result.indicators, "spend_ex_ante_grants").axes[0]
    assert spend.lines[0].get_drawstyle() == "steps-mid"  # budgets and spending as steps


def test_prefecture_overviews_carry_their_own_targets(result):
    from qhsim.output import charts

    haixi = charts.overview_figure(result.indicators, "haixi")
    notes = {t.get_text() for ax in haixi.axes for t in ax.texts}
    assert "0.70 (2027)" in notes and "≥170† (2027)" in notes  # † on another definition, as the tables mark it
    haidong = charts.overview_figure(result.indicators, "haidong")
    assert "0.15 (2025)" in {t.get_text() for ax in haidong.axes for t in ax.texts}
    assert {2020, 2025, 2030, 2035} <= {int(t) for t in charts.overview_figure(
        run(SCENARIOS / "baseline.toml", scale=0.02, end_year=2035).indicators).axes[0].get_xticks()}


def test_shipped_font_has_every_chinese_character_the_labels_use():
    from fontTools.ttLib import TTFont

    from qhsim import data
    from qhsim.output import charts
    from qhsim.output.numbers import UNIT_ZH

    font = TTFont(str(Path(charts.__file__).parent / "fonts" / charts.SHIPPED_FONT))
    cmap = font.getBestCmap()
    labels = [f"{s['zh']}{s['unit']}" for s in data.load("indicators").values()]
    labels += [p.zh for p in data.prefectures()] + list(UNIT_ZH.values()) + list(charts.LEGEND.values())
    missing = {c for text in labels for c in text if ord(c) > 0x7F and ord(c) not in cmap}
    assert not missing
    assert charts.cjk_font() == "Noto Sans CJK SC"


def test_no_chinese_font_gives_one_clear_warning(monkeypatch, capsys):
    from qhsim.output import charts

    charts.cjk_font.cache_clear()
    monkeypatch.setattr(charts, "SHIPPED_FONT", "missing.otf")
    monkeypatch.setattr(charts, "CJK_FONT_PREFIXES", ("No Such Font",))
    try:
        assert charts.cjk_font() is None
        assert charts.readable("研发投入强度 R&D") == "R&D"
    finally:
        charts.cjk_font.cache_clear()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("qhsim: warning: no font with Chinese glyphs")


# --- terminal tables -------------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [80, 100, 120])
@pytest.mark.parametrize("lang", ["both", "zh", "en"])
def test_compact_tables_fit_the_terminal(result, width, lang):
    from qhsim.output.report import display_width, summary_report

    text = summary_report(result.indicators, lang=lang, wide=False, width=width)
    assert max(display_width(line) for line in text.splitlines()) <= width
    assert ("研发投入强度" in text) == (lang != "en") and ("R&D expenditure" in text) == (lang != "zh")
    assert "-0.00" not in text


def test_numbers_by_kind():
    from qhsim.output.numbers import format_value

    assert format_value(259.6, "hte_count") == "260"  # counts as integers
    assert format_value(0.7149, "rd_intensity") == "0.71"  # shares with two decimals
    assert format_value(-0.001, "rd_intensity", signed=True) == "0.00"  # no "-0.00"
    assert format_value(12345.6, "spend_vouchers") == "12,346"  # 万元 as integers
    assert format_value(13.456, "business_rd") == "13.46"  # 亿元 with two decimals
    assert format_value(float("nan"), "hte_count") == "—"


def test_one_interval_formatter_for_every_output():
    """A value with its interval was written by ``format_interval``, by ``window_change_text`` and by hand in the HTML
    report and the dashboard (``[lo, hi]`` from ``format_value``), and moved below its value by ``.replace``: one
    formatter, with the indicator's decimals (``key``) or fixed ones (``digits``) and the separator (``sep``)."""
    assert format_interval(259.6, 250.2, 270.5, key="hte_count") == "260 [250, 271]"
    assert format_interval(0.7149, 0.70, 0.7351, key="rd_intensity", sep="\n") == "0.71\n[0.70, 0.74]"
    assert format_interval(0.0149, -0.0049, 0.03, True, 3, sep="\n") == "+0.015\n[-0.005, +0.030]"
    assert format_interval(1.234, 0.5, 2.25) == "1.23 [0.50, 2.25]"  # format_number's
    assert format_interval(float("nan"), 0.1, 0.2, key="rd_intensity") == "—"


def test_wcwidth_counts_wide_characters():
    from qhsim.output.report import display_width, wrap

    assert display_width("研发a") == 5 and display_width("（年份）") == 8
    assert all(display_width(line) <= 10 for line in wrap("规上工业企业中有研发活动企业占比 Above-scale firms", 10))


def test_run_command_prints_wall_time_scale_and_seeds(tmp_path, capsys, monkeypatch):
    from qhsim.cli import main
    from qhsim.output.report import display_width

    monkeypatch.setenv("COLUMNS", "100")
    out = tmp_path / "ens"
    assert main(["run", str(SCENARIOS / "baseline.toml"), "--draws", "1", "--seeds", "3,4", "--scale", "0.02",
                 "--end-year", "2021", "--no-charts", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert max(display_width(line) for line in text.splitlines()) <= 100
    assert text.startswith("情景 baseline / scenario baseline | 规模 0.02 / scale 0.02 | 随机种子 3, 4 / seeds 3, 4")
    closing = text.strip().split("\n\n")[-1].replace("\n", " ")
    assert re.search(r"wall time \d+\.\d s; .*seeds 3, 4", closing) and "seed 1" not in closing
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["kind"] == "ensemble"
    assert not (out / "charts").exists()
    caveat = band_caveat()  # an ensemble's band is a lower bound: in the terminal, the workbook and the HTML report
    assert band_caveat("en") in " ".join(text.split())
    summary = load_workbook(out / "report.xlsx")["摘要 Summary"]
    assert caveat in [c.value for row in summary.iter_rows() for c in row]
    page = html.unescape((out / "report.html").read_text(encoding="utf-8"))
    assert caveat in page.split('id="headline">', 1)[1].split("<h2", 1)[0]  # by the numbers
    # the band below its median, as the terminal stacks it, and kept there (td.num keeps line breaks): the table fits
    # a half-screen window instead of squeezing the labels letter by letter
    assert re.search(r'<td class="num">\d+\.\d+\n\[\d+\.\d+, \d+\.\d+\]</td>', page)
    assert re.search(r"td\.num \{[^}]*white-space: pre;", page)
    persistence = persistence_note()  # what the long-run projections rest on (the shipped what-if): every output
    assert persistence is not None and persistence_note("en") in " ".join(text.split())
    assert persistence in [c.value for row in summary.iter_rows() for c in row]
    assert persistence in page.split('id="assumptions">', 1)[1]
    small = reduced_scale_note(0.02)  # below scale 1, the small prefectures' warning: in every output
    assert reduced_scale_note(0.02, "en") in " ".join(text.split())
    assert small in [c.value for row in summary.iter_rows() for c in row]
    assert small in page.split('id="assumptions">', 1)[1]


def test_readme_hands_results_on_with_a_picture_of_the_report():
    from conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Handing results on", 1)[1].split("\n## ", 1)[0]
    assert "qhsim export" in section and "report.xlsx" in section and "report.html" in section
    picture = re.search(r"!\[[^\]]+\]\((docs/[^)]+\.png)\)", section).group(1)
    assert (ROOT / picture).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_wide_headers_wrap_without_cutting_numbers():
    from qhsim.output.report import display_width, format_table

    heads = [["super_deduction.general", "规上工业企业中有研发活动企业占比"],
             ["", "Above-scale industrial firms with R&D activity (%)"]]
    body = [["1.00", "20.45"], ["1.50", "1,234,567.89"]]
    text = format_table(heads, body, [False, False], "标题 title", width=30)
    lines = text.splitlines()
    assert max(display_width(line) for line in lines) <= 30
    assert any(line.endswith("1,234,567.89") for line in lines)  # numbers stay whole
    assert all(display_width(line.strip()) > 1 for line in lines if line.strip())  # no one-letter fragments


def test_html_report_shows_reported_vs_real_rd_from_the_run(result):
    from qhsim.output.report import REPORT_YEARS

    html = render_html(tidy.from_run(result), charts=False)
    section = html.split('<h2 id="real-rd">', 1)[1].split("<h2", 1)[0]
    assert section.startswith("申报与实际研发 Reported vs real R&amp;D")
    assert "Plan indicators count reported R&amp;D" in section and "follow real R&amp;D" in section
    province = result.indicators[result.indicators["region"] == "province"].set_index("year")
    years = [y for y in REPORT_YEARS if y in province.index]
    assert years == [2020, 2025, 2027]  # the run ends in 2027
    for key in ("business_rd_real", "rd_intensity_real", "relabelled_rd_share", "business_rd"):
        label = data.load("indicators")[key]["en"].replace("&", "&amp;")
        row = section.split(label, 1)[1].split("</tr>", 1)[0]
        cells = re.findall(r'<td class="num">([^<]*)</td>', row)
        assert cells == [format_value(province.at[y, key], key) for y in years], key


def test_html_calibration_line_names_the_point_estimate_not_only_the_best_particle(monkeypatch, run_folder):
    """The defaults are the point estimate (its distance in calibrated.toml meta ``point``); the sampler's best
    particle (``best_distance``, 2.01 in the shipped file) alone read as if the shipped fit were twice the tolerance."""
    from qhsim.output import html_report

    monkeypatch.setenv("QHSIM_CALIBRATED", str(SCENARIOS.parent / "calibration" / "calibrated.toml"))
    results = tidy.load_results(run_folder)
    results.meta["calibration"] = tidy.calibration_status()
    line = next(item for item in html_report._assumptions(results) if item.startswith("校准 Calibration"))
    # the point estimate's own distance (the last step of calibrated.toml meta ``point``), not the best particle's,
    # in both languages; the file named as in the repository, not by the machine's folders
    distance = re.findall(r"-> ([0-9.]+)", results.meta["calibration"]["point"])[-1]
    assert f"拟合距离{distance}" in line and f"distance {distance}, where 1 = every target" in line
    assert "posterior point estimate" in line and "2.01" not in line and "particle" not in line
    assert "from calibration/calibrated.toml (" in line


def test_an_unstable_r_and_d_per_yuan_is_marked_in_the_workbook_and_the_html(compare_folder, tmp_path):
    """Where the extra cost makes R&D per yuan unstable (leverage.csv ``unstable``, ``qhsim.results.ratio_unstable``),
    the workbook and the HTML report show the mark comparison.txt prints, no number, and the rule in the note."""
    from qhsim.results import UNSTABLE_CELL

    copy = tmp_path / "cmp"
    shutil.copytree(compare_folder, copy)
    lev = pd.read_csv(copy / "leverage.csv", encoding="utf-8-sig")
    lev["unstable"] = True
    lev.to_csv(copy / "leverage.csv", index=False, encoding="utf-8-sig")
    results = tidy.load_results(copy)
    ws = load_workbook(export.export(copy, "xlsx", tmp_path / "r.xlsx"))["成本效益 Cost-effectiveness"]
    heads = [c.value for c in ws[1]]
    row = dict(zip(heads, next(ws.iter_rows(min_row=2, max_row=2, values_only=True))))
    assert row["每元公共投入带动企业研发（元） business R&D per public yuan 均值 mean"] == UNSTABLE_CELL
    assert row["每元公共投入带动全社会研发（元） total R&D per public yuan 均值 mean"] == UNSTABLE_CELL
    assert "money the design moves" in ws.cell(row=4, column=1).value
    html = render_html(results, charts=False)
    table = html.split("成本效益 Cost-effectiveness", 1)[1].split("</table>", 1)[0]
    assert table.count(UNSTABLE_CELL) == 2


def test_a_design_that_costs_nothing_extra_is_marked_as_comparison_txt_marks_it(compare3_folder, tmp_path):
    """A design whose extra public cost is not positive (a saving) has no R&D per yuan: the workbook, the HTML report
    and the pairwise labels show "— 无额外成本 no extra cost" with its own note, as comparison.txt does
    (``qhsim.results.ratio_mark``), not "— 不稳定 unstable"."""
    from qhsim.results import SAVING_CELL, UNSTABLE_CELL

    copy = tmp_path / "cmp"
    shutil.copytree(compare3_folder, copy)
    results = tidy.load_results(copy)
    design = results.designs[1]
    costs = pd.read_csv(copy / "costs.csv", encoding="utf-8-sig")
    costs.loc[(costs["design"] == design) & (costs["item"] == "total"), "mean"] = -0.5
    costs.to_csv(copy / "costs.csv", index=False, encoding="utf-8-sig")
    lev = pd.read_csv(copy / "leverage.csv", encoding="utf-8-sig")
    total = (lev["design"] == design) & (lev["instrument"] == "total")
    lev.loc[total, ["extra_cost", "unstable"]] = [-0.5, True]
    lev.to_csv(copy / "leverage.csv", index=False, encoding="utf-8-sig")
    ranking = pd.read_csv(copy / "ranking.csv", encoding="utf-8-sig")
    ranking["unstable"] = ranking["design"] == design
    ranking.to_csv(copy / "ranking.csv", index=False, encoding="utf-8-sig")
    wb = load_workbook(export.export(copy, "xlsx", tmp_path / "r.xlsx"))
    ws = wb["成本效益 Cost-effectiveness"]
    heads = [c.value for c in ws[1]]
    row = dict(zip(heads, next(ws.iter_rows(min_row=2, max_row=2, values_only=True))))
    assert _id(row["方案 design"]) == design
    assert row["每元公共投入带动企业研发（元） business R&D per public yuan 均值 mean"] == SAVING_CELL
    note = ws.cell(row=len(_sheet_rows(ws)[1]) + 3, column=1).value
    assert "the extra cost is not positive" in note and "money the design moves" not in note
    pairwise = wb["两两比较 Pairwise"]
    assert pairwise.cell(row=1, column=2).value == f"1 {design} {SAVING_CELL}"
    html = render_html(tidy.load_results(copy), charts=False)
    table = html.split("成本效益 Cost-effectiveness", 1)[1].split("</table>", 1)[0]
    assert table.count(SAVING_CELL) == 2 and UNSTABLE_CELL not in table


def test_a_comparison_of_one_design_ranks_nothing_and_says_why(compare_folder, compare3_folder):
    """One design against the base always ranks first (P(first) 100%) and has no pair to compare: comparison.txt, the
    workbook and the HTML report show no ranking of designs, no P(first) and no pairwise table, and say in one line
    that these need two or more designs; with two designs they are all there."""
    from qhsim.output.tables import ONE_DESIGN_NOTE

    def flat(text: str) -> str:
        return " ".join(text.split())

    text = flat((compare_folder / "comparison.txt").read_text(encoding="utf-8"))
    assert flat(ONE_DESIGN_NOTE) in text
    rest = text.replace(flat(ONE_DESIGN_NOTE), "")
    assert "排名 Ranking" not in rest and "两两比较 Pairwise" not in rest and "P(first)" not in rest
    wb = load_workbook(compare_folder / "report.xlsx")
    assert "两两比较 Pairwise" not in wb.sheetnames
    page = html.unescape((compare_folder / "report.html").read_text(encoding="utf-8"))
    assert "两两比较 Pairwise" not in page and "P(第一 first)" not in page and ONE_DESIGN_NOTE in page
    three = (compare3_folder / "comparison.txt").read_text(encoding="utf-8")
    assert "排名 Ranking" in three and "两两比较 Pairwise" in three and flat(ONE_DESIGN_NOTE) not in flat(three)
    assert "两两比较 Pairwise" in load_workbook(compare3_folder / "report.xlsx").sheetnames
    page = html.unescape((compare3_folder / "report.html").read_text(encoding="utf-8"))
    assert "两两比较 Pairwise" in page and "P(第一 first)" in page and ONE_DESIGN_NOTE not in page


def test_metadata_names_the_calibration_in_words(monkeypatch):
    """The calibration rows of the workbook's Metadata sheet: status, file and date, fit, and the model code it was
    fitted on, each a row of words read from calibrated.toml ``[meta]``, not its JSON."""
    import tomllib

    from qhsim.output.workbook import metadata_rows

    path = SCENARIOS.parent / "calibration" / "calibrated.toml"
    monkeypatch.setenv("QHSIM_CALIBRATED", str(path))
    meta = tomllib.loads(path.read_text(encoding="utf-8"))["meta"]
    results = tidy.Results(kind="run", long=pd.DataFrame(columns=list(tidy.LONG_COLUMNS)), designs=["baseline"],
                           meta={"seeds": [1, 2, 3], "calibration": tidy.calibration_status()})
    rows = dict(metadata_rows(results))
    assert rows["随机种子 seeds"] == "1, 2, 3（3个种子 3 seeds）"
    assert rows["校准 calibration"].startswith("已校准") and "posterior point estimate" in rows["校准 calibration"]
    assert rows["校准文件 calibration file"] == f"calibration/calibrated.toml（生成于 written {meta['created'][:10]}）"
    distance = re.findall(r"-> ([0-9.]+)", meta["point"])[-1]
    assert f"distance {distance}, where 1 = every target" in rows["校准拟合 calibration fit"]
    code = rows["校准所用模型 model code calibrated on"]
    assert f"fingerprint {meta['model_fingerprint'][:12]}" in code and f"commit {meta['model_commit'][:12]}" in code
    assert not any(v.lstrip().startswith("{") for v in rows.values() if isinstance(v, str))
    monkeypatch.setenv("QHSIM_CALIBRATED", "off")
    assert tidy.calibration_rows(tidy.calibration_status()) == [
        ("校准 calibration", "未校准：采用 behaviour.toml 默认值 not calibrated: the behaviour.toml defaults were used")]


# --- a comparison's by-instrument and pairwise tables -----------------------------------------------------


@pytest.fixture(scope="module")
def compare3_folder(tmp_path_factory):
    """Two designs against the base: a pairwise table with an order, instruments set and moved as side effects."""
    out = tmp_path_factory.mktemp("export") / "cmp3"
    res = compare(SCENARIOS / "baseline.toml", [SCENARIOS / "super_deduction_120.toml",
                                                SCENARIOS / "more_ex_ante_grants.toml"],
                  seeds=(1, 2), scale=0.05, end_year=2027, out=out)
    write_comparison(res, charts=False)
    return out


def _id(cell: object) -> str:
    """A design's id in a workbook or HTML cell that names it in Chinese too (``super_deduction_120（加计扣除提高至120%）``:
    ``qhsim.output.tables.design_name``)."""
    return str(cell).split("（")[0]


def _sheet_rows(ws) -> tuple[list[str], list[tuple]]:
    """A sheet's header and its table's rows (up to the first empty row, above the note; not the cells the note's
    merged range adds beside the table)."""
    heads = [c.value for c in ws[1]]
    heads = heads[:max(j for j, h in enumerate(heads) if h is not None) + 1]
    rows = []
    for row in ws.iter_rows(min_row=2, values_only=True):
        if row[0] is None:
            break
        rows.append(row[:len(heads)])
    return heads, rows


def _html_table(page: str, title: str) -> list[list[str]]:
    """The cells of the HTML table below the heading that starts with ``title``, row by row (header first)."""
    block = page.split(f"<h3>{title}", 1)[1].split("</table>", 1)[0]
    return [[html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)]
            for tr in block.split("<tr>")[1:]]


def test_by_instrument_sheet_and_html_table_follow_leverage_csv(compare3_folder):
    """The workbook's 按工具 By instrument sheet and the HTML report's table hold every design x instrument row of
    leverage.csv (the design's total first): the instrument's extra cost, the design's extra R&D and R&D per yuan with
    5%/95%, "连带影响 side effect" where the design does not set the instrument, and how to read it below."""
    from qhsim.output.tables import SIDE_EFFECT_CELL, TOTAL_INSTRUMENT

    lev = province_rows(pd.read_csv(compare3_folder / "leverage.csv", encoding="utf-8-sig"))  # its province rows
    wb = load_workbook(compare3_folder / "report.xlsx")
    names = wb.sheetnames
    assert names.index("成本效益 Cost-effectiveness") + 1 == names.index("按工具 By instrument")
    assert names.index("按工具 By instrument") + 1 == names.index("两两比较 Pairwise")
    ws = wb["按工具 By instrument"]
    heads, rows = _sheet_rows(ws)
    assert heads[:4] == ["方案 design", "工具 instrument", "键 key (leverage.csv)",
                         "工具额外成本 instrument's extra cost (亿元) 均值 mean"]
    ratio = "该工具每元投入带动企业研发（元） business R&D per yuan of the instrument (yuan/yuan) 均值之比 ratio of means"
    assert heads[heads.index(ratio) + 1: heads.index(ratio) + 3] == ["5%", "95%"]
    assert len(rows) == len(lev) and ws.freeze_panes == "D2"
    # each design's total first, then its instruments as leverage.csv lists them
    designs = ["super_deduction_120", "more_ex_ante_grants"]
    expected = [(d, i) for d in designs for i in ["total", *lev[(lev["design"] == d) & (lev["instrument"] != "total")]
                                                  ["instrument"]]]
    assert [(_id(r[0]), r[2]) for r in rows] == expected
    sheet = {(_id(r[0]), r[2]): dict(zip(heads, r)) for r in rows}
    side_effects = 0
    for r in lev.to_dict("records"):
        got = sheet[(r["design"], r["instrument"])]
        assert got["工具额外成本 instrument's extra cost (亿元) 均值 mean"] == pytest.approx(r["extra_cost"])
        assert got["方案额外企业研发 design's extra business R&D (亿元) 均值 mean"] == pytest.approx(r["extra_rd"])
        if r["instrument"] == "total":
            assert got["工具 instrument"] == TOTAL_INSTRUMENT and not r["unstable"]
        else:
            spec = data.load("indicators")[r["instrument"]]
            assert got["工具 instrument"] == f"{spec['zh']} {spec['en']}"
        if r["design_sets_instrument"] is False or r["design_sets_instrument"] == "False":
            side_effects += 1
            assert got[ratio] == SIDE_EFFECT_CELL and pd.isna(r["rd_per_yuan"])
        else:
            assert got[ratio] == pytest.approx(r["rd_per_yuan"])
    assert side_effects  # a super-deduction moves other costs (the HTE rate's tax expenditure, ...)
    ws_cell = next(c for c in ws["D"] if c.row > 1 and isinstance(c.value, float))
    assert ws_cell.number_format == cell_format(ws_cell.value, 2, True)  # 亿元, signed as the HTML writes it
    note = ws.cell(row=len(rows) + 3, column=1).value
    assert "2026-2027" in note and "does not change that instrument" in note and "changes one instrument only" in note
    # the HTML report: the same rows, R&D per yuan as mean [5%, 95%] or the same mark
    page = (compare3_folder / "report.html").read_text(encoding="utf-8")
    table = _html_table(page, "按工具 By instrument, 2026-2027")
    assert table[0][:2] == ["方案 design", "工具 instrument"] and "（元） business R&D per yuan" in table[0][-1]
    assert len(table) - 1 == len(lev)
    for cells, r in zip(table[1:], sorted(lev.to_dict("records"), key=lambda r: (designs.index(r["design"]),
                                                                                  r["instrument"] != "total"))):
        assert cells[1] == (TOTAL_INSTRUMENT if r["instrument"] == "total" else sheet[(r["design"], r["instrument"])]
                            ["工具 instrument"])
        assert cells[2] == " ".join([format_fixed(r["extra_cost"], 2, True), f"[{format_fixed(r['extra_cost_p05'], 2, True)},",
                                     f"{format_fixed(r['extra_cost_p95'], 2, True)}]"])
        assert cells[4] == (SIDE_EFFECT_CELL if pd.isna(r["rd_per_yuan"]) else
                            f"{format_number(r['rd_per_yuan'])} [{format_number(r['p05'])}, {format_number(r['p95'])}]")
    assert "does not change that instrument" in page.split("按工具 By instrument, 2026-2027", 1)[1].split("<h3>", 1)[0]


def test_pairwise_sheet_and_html_table_follow_pairwise_csv(compare3_folder):
    """The workbook's 两两比较 Pairwise sheet and the HTML report's table give P(row design beats column design) from
    pairwise.csv, the designs numbered as in comparison.txt, "—" on the diagonal, and how to read it below."""
    pw = pd.read_csv(compare3_folder / "pairwise.csv", encoding="utf-8-sig").set_index("design")
    number = {"super_deduction_120": 1, "more_ex_ante_grants": 2}
    text = (compare3_folder / "comparison.txt").read_text(encoding="utf-8")
    assert all(f"{n} {d}" in text for d, n in number.items())  # comparison.txt's numbers
    ws = load_workbook(compare3_folder / "report.xlsx")["两两比较 Pairwise"]
    heads, rows = _sheet_rows(ws)
    assert heads == ["P(行胜列) P(row beats column)", "1 super_deduction_120", "2 more_ex_ante_grants"]
    assert [_id(r[0]) for r in rows] == heads[1:]  # each row's design named in Chinese too
    assert rows[0][0] == "1 super_deduction_120（加计扣除提高至120%）"
    for r in rows:
        a = _id(r[0].split(" ")[1])
        for b, value in zip(number, r[1:]):
            assert value == ("—" if a == b else pytest.approx(pw.at[a, b]))
    assert ws.cell(row=2, column=3).number_format == "0%"
    note = ws.cell(row=len(rows) + 3, column=1).value
    assert "business R&D per public yuan (the higher wins)" in note and "2 runs per design" in note
    page = (compare3_folder / "report.html").read_text(encoding="utf-8")
    table = _html_table(page, "两两比较 Pairwise")
    assert table[0] == heads
    for cells in table[1:]:
        a = _id(cells[0].split(" ")[1])
        assert cells[1:] == ["—" if a == b else f"{100 * pw.at[a, b]:.0f}%" for b in number]


def _html_designs(page: str) -> list[list[str]]:
    """The cells of the HTML report's 政策方案 Designs table, row by row (header first)."""
    block = page.split('<h2 id="designs">政策方案 Designs</h2>', 1)[1].split("</table>", 1)[0]
    return [[html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)]
            for tr in block.split("<tr>")[1:]]


def test_compare_outputs_say_what_each_design_is_just_run_and_re_exported(compare3_folder, tmp_path):
    """The workbook's 方案 Designs sheet, its metadata row and the HTML report's Designs table number the designs as
    comparison.txt does and give each one's description (ranking.csv's; the base's from the manifest's scenarios), the
    same when the folder is re-exported with qhsim export."""
    store = json.loads((compare3_folder / "manifest.json").read_text(encoding="utf-8"))
    base, names = store["experiment"]["base"], [store["experiment"]["base"], *store["experiment"]["designs"]]
    described = pd.read_csv(compare3_folder / "ranking.csv", encoding="utf-8-sig").set_index("design")["description"]
    expected = {base: store["experiment"]["scenarios"][base]["run"]["description"], **described.to_dict()}
    assert all(expected.values()) and len(set(expected.values())) == len(names)
    text = (compare3_folder / "comparison.txt").read_text(encoding="utf-8")
    assert all(f"{i} = {d}: " in text for i, d in enumerate(names))  # comparison.txt's numbers
    rows = [(i, d, "基准 base" if i == 0 else "方案 design", expected[d]) for i, d in enumerate(names)]
    again = tmp_path / "again"
    export.export(compare3_folder, "xlsx", again.with_suffix(".xlsx"))
    export.export(compare3_folder, "html", again.with_suffix(".html"))
    for xlsx, page in ((compare3_folder / "report.xlsx", compare3_folder / "report.html"),
                       (again.with_suffix(".xlsx"), again.with_suffix(".html"))):
        wb = load_workbook(xlsx)
        assert wb.sheetnames.index("方案 Designs") + 1 == wb.sheetnames.index("成本效益 Cost-effectiveness")
        heads, got = _sheet_rows(wb["方案 Designs"])
        assert heads == ["编号 number", "方案 design", "角色 role", "说明 description (中文 / English)"]
        assert got == rows
        facts = dict(wb["元数据 Metadata"].iter_rows(min_row=2, values_only=True))
        assert facts["政策方案 designs"].splitlines() == [f"{i} = {d}{'（基准 base）' if i == 0 else ''}: {expected[d]}"
                                                    for i, d in enumerate(names)]
        table = _html_designs(page.read_text(encoding="utf-8"))
        assert table[0] == heads and table[1:] == [[str(x) for x in r] for r in rows]


def test_sweep_export_names_its_base_in_the_ranking(tmp_path):
    """A sweep folder's workbook and HTML report head the ranking's difference with its base, point 0, and the base
    scenario file the experiment names (not an empty "与基准 之差"), and say how to read the ranking."""
    from qhsim.experiments.sweep import write_sweep

    for f in SCENARIOS.glob("*.toml"):
        shutil.copy(f, tmp_path / f.name)
    (tmp_path / "exp.toml").write_text(
        'description = "tiny"\nscenario = "baseline.toml"\nfrom_year = 2018\nseeds = [1]\nscale = 0.02\n'
        'end_year = 2019\nreport_years = [2019]\n[lever.sd]\n'
        'paths = ["policy.super_deduction.general", "policy.super_deduction.manufacturing"]\nvalues = [1.5]\n',
        encoding="utf-8")
    write_sweep(tmp_path / "exp.toml", tmp_path / "sw")
    store = json.loads((tmp_path / "sw" / "manifest.json").read_text(encoding="utf-8"))
    file = Path(store["experiment"]["scenario"]).name
    header = f"与基准点0 base（{file}）之差（%指标：百分点） difference from the base, point 0 ({file}) (indicators in %: pp)"
    wb = load_workbook(export.export(tmp_path / "sw", "xlsx", tmp_path / "sw.xlsx"))
    ws = wb["对比排名 Ranking"]
    heads, rows = _sheet_rows(ws)
    assert header in heads and not any("与基准 之差" in str(h) for h in heads)
    assert {r[3] for r in rows} == {"base", "p1: sd=1.5"}
    note = ws.cell(row=len(rows) + 3, column=1).value
    assert f"The difference from the base, point 0 ({file}): paired run by run" in note
    # no comparison ranking to point to, but the sweep's own answer per yuan
    assert "business R&D per public yuan and its ranking are in the Cost-effectiveness table" in note
    facts = dict(wb["元数据 Metadata"].iter_rows(min_row=2, values_only=True))
    assert facts["基准情景 base scenario (point 0)"] == store["experiment"]["scenario"]
    assert facts["版本 versions"] == tidy.versions_text(store["versions"])
    page = html.unescape(export.export(tmp_path / "sw", "html", tmp_path / "sw.html").read_text(encoding="utf-8"))
    assert f"Δ {header}" in page and note in page


def test_the_answer_and_the_prefecture_effects_read_the_leverage_totals_one_way(compare3_folder):
    """``cost_effectiveness`` read a total row's ``unstable`` with ``bool`` (the text "False" of a CSV read back as
    object is true), ``prefecture_effects`` with ``read_flag``: both read the total rows through ``leverage_totals``,
    and a leverage table whose flags are text, empty off the total rows, gives the same answer and marks."""
    from qhsim.output.tables import cost_effectiveness, leverage_totals, prefecture_effects

    results = tidy.load_results(compare3_folder)
    designs = results.designs[1:]
    as_text = dict(results.tables)
    for name in ("leverage", "prefecture_leverage"):
        lev = results.tables[name]
        as_text[name] = lev.assign(unstable=lev["unstable"].map({True: "True", False: "False"})
                                   .where(lev["instrument"] == "total", ""))
    answer, effects = cost_effectiveness(designs, results.tables), prefecture_effects(designs, results.tables)
    assert not answer["unstable"].all() and (effects["mark"] != "").any() and (effects["mark"] == "").any()
    pd.testing.assert_frame_equal(cost_effectiveness(designs, as_text), answer)
    pd.testing.assert_frame_equal(prefecture_effects(designs, as_text), effects)
    totals = leverage_totals(as_text["prefecture_leverage"], ["region", "design"])
    assert totals["unstable"].dtype == bool and totals.index.names == ["region", "design"]
    assert not leverage_totals(results.tables["leverage"].drop(columns="unstable"), "design")["unstable"].any()


def test_comparison_tables_tolerate_new_columns_and_rows_and_mark_what_not_to_read(compare3_folder, tmp_path):
    """A compare folder re-exported with columns and rows the tables do not know (a cost that fell, a ranking's
    ``unstable`` flag): the rows appear, a cost that fell gets "— 无额外成本 no extra cost", an unstable ratio "— 不稳定 unstable" (also on the
    pairwise label of a design whose ranking ratio is unstable), each explained below its table."""
    from qhsim.results import SAVING_CELL, UNSTABLE_CELL

    copy = tmp_path / "cmp3"
    shutil.copytree(compare3_folder, copy)
    lev = province_rows(pd.read_csv(copy / "leverage.csv", encoding="utf-8-sig"))  # as an older qhsim wrote it
    fell = lev[(lev["design"] == "more_ex_ante_grants") & (lev["instrument"] == "total")].assign(
        instrument="spend_rd_reward", extra_cost=-0.5, extra_cost_p05=-0.6, extra_cost_p95=-0.4, rd_per_yuan=float("nan"),
        p05=float("nan"), median=float("nan"), p95=float("nan"), unstable=True, design_sets_instrument=True)
    own = (lev["design"] == "more_ex_ante_grants") & lev["design_sets_instrument"].astype(str).eq("True")
    # the design's one instrument is now the one whose cost fell (with a second, its rows would be "combined")
    lev = pd.concat([lev[~own], fell], ignore_index=True).assign(note_from_a_later_version="x")
    lev.loc[(lev["design"] == "super_deduction_120") & (lev["instrument"] == "total"), "unstable"] = True
    lev.to_csv(copy / "leverage.csv", index=False, encoding="utf-8-sig")
    ranking = pd.read_csv(copy / "ranking.csv", encoding="utf-8-sig")
    ranking["unstable"] = ranking["design"] == "super_deduction_120"
    ranking.to_csv(copy / "ranking.csv", index=False, encoding="utf-8-sig")
    wb = load_workbook(export.export(copy, "xlsx", tmp_path / "r.xlsx"))
    ws = wb["按工具 By instrument"]
    heads, rows = _sheet_rows(ws)
    assert len(rows) == len(lev)
    ratio = heads.index("该工具每元投入带动企业研发（元） business R&D per yuan of the instrument (yuan/yuan) 均值之比 ratio of means")
    by_key = {(_id(r[0]), r[2]): r for r in rows}
    assert by_key[("more_ex_ante_grants", "spend_rd_reward")][ratio] == SAVING_CELL
    assert by_key[("more_ex_ante_grants", "spend_rd_reward")][3] == -0.5
    assert by_key[("super_deduction_120", "total")][ratio] == UNSTABLE_CELL
    assert by_key[("super_deduction_120", "total")][ratio + 1] is None  # no 5%/95% beside the mark
    note = ws.cell(row=len(rows) + 3, column=1).value
    assert "the cost fell or did not change" in note and "money the design moves" in note
    pairwise = wb["两两比较 Pairwise"]
    assert pairwise.cell(row=1, column=2).value == f"1 super_deduction_120 {UNSTABLE_CELL}"
    assert pairwise.cell(row=1, column=3).value == "2 more_ex_ante_grants"
    assert "nor are its wins and losses" in pairwise.cell(row=5, column=1).value
    page = render_html(tidy.load_results(copy), charts=False)
    table = _html_table(page, "按工具 By instrument")
    assert any(c[1].startswith("财政支出：研发投入强度奖补") and c[-1] == SAVING_CELL for c in table[1:])
    assert _html_table(page, "两两比较 Pairwise")[0][1] == f"1 super_deduction_120 {UNSTABLE_CELL}"


# --- a sweep's cost-effectiveness, the statistic the outputs give, the designs a limited table shows -----------


@pytest.fixture(scope="module")
def sweep_folder(tmp_path_factory):
    """Three design points besides the base, three seeds (a median of three runs is neither their mean nor, summed
    over instruments, the median of their sums), the levers acting from 2018."""
    from qhsim.experiments.sweep import write_sweep

    where = tmp_path_factory.mktemp("export")
    for f in SCENARIOS.glob("*.toml"):
        shutil.copy(f, where / f.name)
    (where / "exp.toml").write_text(
        'description = "tiny"\nscenario = "baseline.toml"\nfrom_year = 2018\nseeds = [1, 2, 3]\nscale = 0.02\n'
        'end_year = 2020\nreport_years = [2019, 2020]\n[lever.sd]\n'
        'paths = ["policy.super_deduction.general", "policy.super_deduction.manufacturing"]\n'
        'values = [1.2, 2.0, 3.0]\n', encoding="utf-8")
    write_sweep(where / "exp.toml", where / "sw")
    return where / "sw"


def test_sweep_outputs_rank_its_design_points_by_r_and_d_per_public_yuan(sweep_folder, tmp_path):
    """A sweep's workbook and HTML report could not say which design buys the most R&D per public yuan: that was in
    summary.txt/summary.csv only. Both now hold its cost-effectiveness from summary.csv, sorted and ranked by it."""
    from qhsim.output.tables import sweep_cost_effectiveness

    summary = pd.read_csv(sweep_folder / "summary.csv", encoding="utf-8-sig")
    results = tidy.load_results(sweep_folder)
    table = sweep_cost_effectiveness(results)
    assert len(table) == 3 * 2  # every point but the base, in each report year
    for year, part in table.groupby("year"):
        ranked = part[(part["mark"] == "") & ~part["wide"]]
        assert list(ranked["rd_per_yuan"]) == sorted(ranked["rd_per_yuan"], reverse=True)
        assert list(ranked["rank"]) == list(range(1, len(ranked) + 1)) and part["rank"].isna().sum() == len(part) - len(ranked)
        mine = summary[summary["year"] == year].set_index("point")
        for r in part.itertuples():
            assert r.extra_cost == pytest.approx(mine.at[r.point, "extra_cost_mean"])
            assert r.mark == ("" if not mine.at[r.point, "unstable"] else
                              "— 无额外成本 no extra cost" if mine.at[r.point, "extra_cost_mean"] <= 0 else "— 不稳定 unstable")
            if not r.mark:
                assert r.rd_per_yuan == pytest.approx(mine.at[r.point, "rd_per_yuan_mean"])
    wb = load_workbook(export.export(sweep_folder, "xlsx", tmp_path / "sw.xlsx"))
    heads, rows = _sheet_rows(wb["成本效益 Cost-effectiveness"])
    assert heads[:2] == ["年份 year", "设计点 design point"] and "排名 rank" in heads
    assert [(r[0], r[1]) for r in rows] == list(zip(table["year"], table["design"]))
    got = [r[heads.index("每元公共投入带动企业研发（元） business R&D per public yuan 均值 mean")] for r in rows]
    assert got == [m or pytest.approx(v) for m, v in zip(table["mark"], table["rd_per_yuan"])]
    page = html.unescape(export.export(sweep_folder, "html", tmp_path / "sw.html", charts=False).read_text(encoding="utf-8"))
    shown = _html_table(page, "成本效益 Cost-effectiveness")
    assert [c[1] for c in shown[1:]] == list(table["design"])


def test_a_sweep_point_whose_r_and_d_per_yuan_spreads_wider_than_itself_is_shown_marked_and_not_ranked(sweep_folder,
                                                                                                       tmp_path):
    """A grant selection rule (lottery for merit, the budget unchanged) ranked first at 3.16 [0.43, 5.89] yuan per
    yuan on 0.11亿 of extra cost, over a larger budget's 1.16 [1.05, 1.27]: the cost passed ``ratio_unstable`` (the
    runs agree on it), each run's ratio still swung. A ratio whose runs spread wider than itself (``ratio_wide``) is
    shown with "‖", has no rank, and the note below says why, in the workbook and the HTML report."""
    from qhsim.output import workbook
    from qhsim.output.tables import sweep_cost_effectiveness, sweep_cost_effectiveness_note
    from qhsim.results import ratio_wide

    assert list(ratio_wide(pd.Series([3.16, 1.16, 2.0]), pd.Series([0.43, 1.05, 1.0]), pd.Series([5.89, 1.27, 3.0]))) \
        == [True, False, False]
    results = tidy.load_results(sweep_folder)
    summary = results.tables["summary"].copy()
    last = summary["year"] == summary["year"].max()
    rows = {p: last & (summary["point"] == p) for p in (1, 2, 3)}
    summary.loc[last & (summary["point"] > 0), ["extra_cost_mean", "unstable"]] = [1.0, False]
    for p, ratio in ((1, [3.16, 0.43, 5.89]), (2, [1.16, 1.05, 1.27]), (3, [0.9, 0.8, 1.0])):
        summary.loc[rows[p], ["rd_per_yuan_mean", "rd_per_yuan_p05", "rd_per_yuan_p95"]] = ratio
    results.tables["summary"] = summary
    table = sweep_cost_effectiveness(results)
    part = table[table["year"] == summary["year"].max()].set_index("point")
    assert bool(part.at[1, "wide"]) and pd.isna(part.at[1, "rank"]) and part.at[1, "mark"] == ""
    assert part.at[2, "rank"] == part["rank"].min() == 1  # the precise ratio comes first
    assert "“‖”: the 5%-95% range of the runs' ratios is wider than the ratio itself" in \
        sweep_cost_effectiveness_note(results, table)
    page = html.unescape(render_html(results, charts=False))
    shown = {c[1]: c for c in _html_table(page, "成本效益 Cost-effectiveness")[1:]}
    wide = shown[part.at[1, "design"]]
    assert wide[-1] == "—‖" and "3.16 [0.43, 5.89]‖" in wide and shown[part.at[2, "design"]][-1] == "1"
    ws = workbook.workbook(results)["成本效益 Cost-effectiveness"]
    ranks = {r[1].value: r[-1].value for r in ws.iter_rows(min_row=2) if r[0].value == int(summary["year"].max())}
    assert ranks[part.at[1, "design"]] == "—‖" and ranks[part.at[2, "design"]] == 1


def test_sweep_cost_effectiveness_shows_the_summary_columns_it_has(sweep_folder, tmp_path):
    """A summary with the runs behind each ratio and total R&D per yuan (a newer qhsim's) shows them; one without
    them (an older store's) is shown without those columns."""
    from qhsim.output.tables import sweep_cost_effectiveness

    results = tidy.load_results(sweep_folder)
    assert "total_rd_per_yuan" not in sweep_cost_effectiveness(results) or "total_rd_per_yuan_mean" in results.tables["summary"]
    summary = results.tables["summary"].assign(rd_per_yuan_runs=3, total_rd_per_yuan_mean=0.5, total_rd_per_yuan_p05=0.4,
                                               total_rd_per_yuan_p95=0.6)
    results.tables["summary"] = summary
    table = sweep_cost_effectiveness(results)
    assert set(table["rd_per_yuan_runs"]) == {3} and set(table["total_rd_per_yuan_p95"]) == {0.6}
    page = html.unescape(render_html(results, charts=False))
    heads = _html_table(page, "成本效益 Cost-effectiveness")[0]
    assert "有比值的运行数 runs with a ratio" in heads and "每元公共投入带动全社会研发（元） total R&D per public yuan" in heads
    assert "'Runs with a ratio'" in page


def test_outputs_of_several_runs_say_their_values_are_medians_and_the_spending_total_is_a_run_total(sweep_folder,
                                                                                                   tmp_path):
    """The workbook and HTML gave medians headed 'sim 2035' next to a terminal of means, and the Spending total was the
    sum of the instruments' medians, which no run spent."""
    from qhsim.output.tables import CARRIED_DEDUCTION, PUBLIC_COST, fiscal
    from qhsim.results import FISCAL_PREFIXES

    results = tidy.load_results(sweep_folder)
    long = results.long[(results.long["region"] == "province") & results.long["indicator"].str.startswith(FISCAL_PREFIXES)]
    totals = long.groupby(["design", "year", "draw"])["value"].sum(min_count=1).groupby(["design", "year"]).median()
    table = fiscal(results).set_index(["design", "year"])
    table = table[table[PUBLIC_COST].notna()]  # the years before spending is recorded
    assert len(table) >= 12 and table[PUBLIC_COST].to_numpy() == pytest.approx(totals.reindex(table.index).to_numpy())
    assert table.columns[-1] == CARRIED_DEDUCTION  # a memo after the total, not in it
    medians = table.drop(columns=[PUBLIC_COST, CARRIED_DEDUCTION]).sum(axis=1)
    assert not medians.to_numpy() == pytest.approx(table[PUBLIC_COST].to_numpy())  # the old sum differs here
    wb = load_workbook(export.export(sweep_folder, "xlsx", tmp_path / "sw.xlsx"))
    for name in ("全省 Province", "财政 Spending"):
        heads = [c.value for c in wb[name][1]][2:]
        assert heads and all(h.endswith("中位数（3次运行）\nmedian of 3 runs") for h in heads)
    summary = [c.value for c in wb["摘要 Summary"][1]]
    assert "2020模拟中位数（3次运行）\nsim 2020, median of 3 runs" in summary
    assert "差距（中位数−目标；增长目标为百分点）\ngap (median − target; pp for growth targets)" in summary
    assert any("summary.csv give means" in str(c.value) for row in wb["摘要 Summary"].iter_rows() for c in row)
    page = html.unescape(export.export(sweep_folder, "html", tmp_path / "sw.html", charts=False).read_text(encoding="utf-8"))
    assert "<th>2020模拟 sim 2020, 中位数（3次运行） median of 3 runs [5%, 95%]</th>" in page
    assert "summary.csv give means" in page


def test_limited_html_tables_show_the_best_designs_by_the_ranking_and_name_the_others(sweep_folder, compare3_folder,
                                                                                     monkeypatch):
    """The HTML's headline tables and charts took the first designs by position (a sweep's zero-grant points, the
    least interesting) and said so only deep in a paragraph; the prefecture tables dropped designs too."""
    from qhsim.output.tables import ranked_designs, shown_designs, sweep_cost_effectiveness

    results = tidy.load_results(sweep_folder)
    table = sweep_cost_effectiveness(results)
    last = table[table["year"] == table["year"].max()]
    assert ranked_designs(results) == list(last["design"])
    shown, note = shown_designs(results, 2)
    assert shown == [results.designs[0], last["design"].iloc[0]]
    left = [d.split(":")[0] for d in results.designs if d not in shown]
    assert f"Shows 2 of 4 designs: the base and the best 1 ranked by business R&D per public yuan in 2020; left out: " \
           f"{', '.join(left)}" in note
    assert shown_designs(results, 4) == (results.designs, "")
    monkeypatch.setattr(html_report, "MAX_TABLE_DESIGNS", 2)
    compared = tidy.load_results(compare3_folder)
    best = compared.tables["ranking"].sort_values("rank")["design"].iloc[0]
    page = html.unescape(render_html(compared, charts=False))
    heads = re.findall(r"<h3>青海省 Qinghai Province · 规划目标 plan targets · ([^<]+)</h3>", page)
    assert heads == [compared.designs[0], best]
    assert page.count(shown_designs(compared, 2)[1]) == 2  # under the headline and the reported-vs-real tables
    for region in ("海东市 Haidong", "海西州 Haixi"):  # every design: prefecture tables are short
        assert re.findall(rf"<h3>{region} · 本地目标 own targets · ([^<]+)</h3>", page) == compared.designs


def test_html_targets_table_comes_from_the_one_headline_table_in_the_charted_designs_order(compare3_folder,
                                                                                           monkeypatch):
    """render_html computed the headline table twice (about 0.4 s a design): for the headline and prefecture tables,
    the designs in the results' order, and for the targets table, the designs the charts show (the base, then the
    best by the ranking). From the one table it gives the targets table the second gave: its columns and rows in the
    charted designs' order, a design that no other table shows among them."""
    from qhsim.output.numbers import MISSING
    from qhsim.output.tables import headline

    results = tidy.load_results(compare3_folder)
    base, first, second = results.designs
    charted = [base, second, first]  # not the results' order; ``second`` is in no other table
    limits = {html_report.MAX_TABLE_DESIGNS: [base], html_report.MAX_CHART_DESIGNS: charted,
              html_report.MAX_PREFECTURE_DESIGNS: [base, first]}
    monkeypatch.setattr(html_report, "shown_designs", lambda res, limit: (limits[limit], ""))
    made, targets_block = [], html_report._targets_block
    monkeypatch.setattr(html_report, "_targets_block",
                        lambda res, table, shown: made.append(targets_block(res, table, shown)) or made[-1])
    render_html(results, charts=False)
    (block,) = made
    assert block is not None and block == targets_block(results, headline(results, charted), charted)
    assert block["heads"][2:] == [f"{base}（基准 base）", second, first]
    assert block["rows"] and all(cell["text"] != MISSING for row in block["rows"] for cell in row[2:])


def test_ranking_of_a_store_that_lacks_a_run(sweep_folder, tmp_path):
    """An unfinished sweep store (a point with 2 of its 3 runs) crashed the ranking: the missing run's weight was NaN.
    Its other runs are still paired with the base's runs of the same seeds. Exporting it is refused in one line."""
    from qhsim.output.folders import read_store_runs
    from qhsim.output.tables import ranking

    store = tmp_path / "sw"
    shutil.copytree(sweep_folder, store)
    manifest = json.loads((store / "manifest.json").read_text(encoding="utf-8"))
    gone = next(r for r in manifest["runs"] if r["point"] == 2 and r["seed"] == 2)
    (store / "runs" / f"{gone['run_key']}.parquet").unlink()
    (store / "manifest.json").write_text(json.dumps({**manifest, "status": "running"}), encoding="utf-8")
    results = tidy.from_sweep(manifest["experiment"], read_store_runs(store), manifest)
    table = ranking(results, years=(2017,))
    design = results.designs[2]
    assert set(table.loc[table["design"] == design, "draws"]) == {2}
    assert set(table.loc[table["design"] != design, "draws"]) == {3}
    # 2017, before the levers act, is identical run by run, so left out: the pairing kept each seed with its own
    assert set(table["year"]) == {2020} and table.attrs["identical_years"] == [2017]
    with pytest.raises(InputError, match="not finished .11 of 12 runs"):
        export.export(store, "xlsx", tmp_path / "unfinished.xlsx")
    assert not (tmp_path / "unfinished.xlsx").exists()


def test_prefecture_effects_sheet_and_html_follow_the_prefecture_rows_of_the_csv(compare3_folder, tmp_path):
    """The workbook's 地区效应 Prefecture effects sheet and the HTML report's section hold each prefecture's answer as
    ``qhsim compare --region`` prints it, from the prefecture rows of leverage.csv and changes.csv: per prefecture and
    design the extra public cost, extra R&D and R&D per public yuan there (the mark where the ratio is not to be read),
    then its indicators' changes (its own targets' indicators too) with their 5%/95%; the partial-ratio caveat below.
    A re-export of the store writes the same sheet."""
    from qhsim.output.tables import CHANGE_INDICATORS, change_indicators

    lev = pd.read_csv(compare3_folder / "leverage.csv", encoding="utf-8-sig")
    changes = pd.read_csv(compare3_folder / "changes.csv", encoding="utf-8-sig")
    targets = pd.read_csv(compare3_folder / "targets.csv", encoding="utf-8-sig")
    designs = ["super_deduction_120", "more_ex_ante_grants"]
    labels = {region_label(r): r for r in data.prefecture_ids()}
    wb = load_workbook(compare3_folder / "report.xlsx")
    assert wb.sheetnames.index("两两比较 Pairwise") + 1 == wb.sheetnames.index("地区效应 Prefecture effects")
    ws = wb["地区效应 Prefecture effects"]
    heads, rows = _sheet_rows(ws)
    assert heads[:5] == ["地区 region", "方案 design", "项目 item", "单位 unit", "统计量 statistic"]
    assert heads[-3:] == ["2026-2027窗口 window", "5%", "95%"] and ws.freeze_panes == "D2"
    at = {h: i for i, h in enumerate(heads)}
    window, lo, hi = at["2026-2027窗口 window"], at["5%"], at["95%"]
    assert list(dict.fromkeys((labels[r[0]], _id(r[1])) for r in rows)) == [(p, d) for p in data.prefecture_ids()
                                                                             for d in designs]
    sheet = {(labels[r[0]], _id(r[1]), r[2]): r for r in rows}
    totals = lev[(lev["region"] != "province") & (lev["instrument"] == "total")]
    marks = 0
    for t in totals.itertuples():
        cost = sheet[(t.region, t.design, "本地额外公共投入（财政支出+税式支出） extra public cost there (spending + tax "
                                          "expenditure)")]
        assert (cost[window], cost[lo], cost[hi]) == pytest.approx((t.extra_cost, t.extra_cost_p05, t.extra_cost_p95))
        ratio = sheet[(t.region, t.design, "本地每元公共投入带动企业研发（元） business R&D per public yuan there")]
        assert ratio[at["单位 unit"]] == "元/元 yuan per yuan"  # bilingual as every unit (it was "元/元" alone)
        if t.unstable:
            marks += 1
            assert ratio[window] in ("— 不稳定 unstable", "— 无额外成本 no extra cost") and ratio[lo] is None
        else:
            assert (ratio[window], ratio[lo], ratio[hi]) == pytest.approx((t.rd_per_yuan, t.p05, t.p95))
    window_rows = changes[(changes["region"] != "province") & (changes["period"] == "window")]
    own = change_indicators(targets, "haixi")
    assert len(own) > len(CHANGE_INDICATORS)  # Haixi's own targets' indicators follow (science literacy, ...)
    shown = 0
    for c in window_rows.itertuples():
        key = (c.region, c.design, c.label)
        assert (key in sheet) == (c.indicator in change_indicators(targets, c.region)), key
        if key in sheet:
            shown += 1
            assert (sheet[key][window], sheet[key][lo], sheet[key][hi]) == pytest.approx((c.median, c.p05, c.p95))
    assert shown > 8 * len(designs) * len(CHANGE_INDICATORS) - 1
    notes = " ".join(str(c.value) for row in ws.iter_rows(min_row=len(rows) + 2) for c in row if c.value)
    assert "so this ratio is partial" in notes and "qhsim compare ... --region ID" in notes
    assert ("“— 不稳定 unstable”" in notes or "“— 无额外成本 no extra cost”" in notes) == bool(marks)
    again = tmp_path / "again.xlsx"
    export.write_xlsx(tidy.load_results(compare3_folder), again)  # the store read back: the same sheet
    assert _sheet_rows(load_workbook(again)["地区效应 Prefecture effects"]) == (heads, rows)
    # the HTML: every prefecture in a column, one table per design
    page = (compare3_folder / "report.html").read_text(encoding="utf-8")
    assert '<h2 id="prefecture-effects">地区效应 Prefecture effects</h2>' in page and "All eight prefectures" in page
    names = {"super_deduction_120": "加计扣除提高至120%", "more_ex_ante_grants": "事前立项资助翻倍"}
    for design in designs:  # each headed by the design's id and Chinese name
        table = _html_table(page, f"{design}（{names[design]}） − baseline, 2026-2027")
        assert table[0] == ["项目 item", *labels]
        cells = {row[0]: dict(zip(table[0][1:], row[1:])) for row in table[1:]}
        ratio = cells["本地每元公共投入带动企业研发（元） business R&D per public yuan there"]
        for t in totals[totals["design"] == design].itertuples():
            text = ratio[region_label(t.region)]
            if t.unstable:
                assert text.replace("\n", " ") in ("— 不稳定 unstable", "— 无额外成本 no extra cost")
            else:  # marked ↑ or ↓ where its interval lies wholly outside the evidence, as in every output
                side = t.evidence if isinstance(t.evidence, str) else ""
                assert text == evidence_cell(format_interval(t.rd_per_yuan, t.p05, t.p95, sep="\n"), side)
        change = cells[indicator_label("rd_intensity")]
        haixi = window_rows[(window_rows["region"] == "haixi") & (window_rows["design"] == design)
                            & (window_rows["indicator"] == "rd_intensity")].iloc[0]
        # its years' and window's changes with the same decimals, those that show them (the workbook's too)
        every = changes[(changes["region"] == "haixi") & (changes["design"] == design)
                        & (changes["indicator"] == "rd_intensity")]["median"]
        digits = change_digits("rd_intensity", every)
        assert change[region_label("haixi")] == (f"{format_fixed(haixi['median'], digits, True)}\n"
                                                 f"[{format_fixed(haixi['p05'], digits, True)}, "
                                                 f"{format_fixed(haixi['p95'], digits, True)}]")
        row = sheet[("haixi", design, haixi["label"])]
        cell = next(c for c in ws[list(sheet).index(("haixi", design, haixi["label"])) + 2] if c.column == window + 1)
        assert cell.number_format == cell_format(row[window], digits, True)
    assert "so this ratio is partial" in page


def test_p_met_marks_agree_across_comparison_outputs(compare3_folder):
    """P(target met) in targets.csv (comparison.txt's table) and in the workbook's and HTML's headline tables
    (``summary_table`` over each design's runs) are the same share and the same § verdict (every run the same value:
    ``deterministic_verdict``); the workbook's P(met) cell shows § where it is one, as the HTML and comparison.txt do;
    a target on another definition has no P(met) in either."""
    from qhsim.output.tables import headline

    results = tidy.load_results(compare3_folder)
    table = headline(results)
    table = table[table["target"].notna() & (table["section"] != "2035参考路径 2035 reference paths")]
    stored = pd.read_csv(compare3_folder / "targets.csv", encoding="utf-8-sig")
    stored = stored[stored["kind"] != "reference_path"].set_index(["design", "region", "indicator", "year"])
    seen = 0
    for r in table.itertuples():
        key = (r.design, r.region, r.indicator, int(r.target_year))
        if key not in stored.index:
            continue
        seen += 1
        s = stored.loc[key]
        assert bool(s["deterministic"]) == bool(r.deterministic), key
        assert (pd.isna(s["p_met"]) and pd.isna(r.p_met)) or s["p_met"] == pytest.approx(r.p_met), key
    assert seen and table["deterministic"].any()
    ws = load_workbook(compare3_folder / "report.xlsx")["摘要 Summary"]
    heads = [c.value for c in ws[1]]
    column = heads.index("\n".join(("达标概率", "P(met)"))) + 1
    formats = [ws.cell(row=i, column=column).number_format for i in range(2, len(headline(results)) + 2)]
    assert [f.endswith('"§"') for f in formats] == [d in (True,) for d in headline(results)["deterministic"]]


# --- the same figure everywhere, the answer first ---------------------------------------------------------------------

def _excel_shows(value: float, fmt: str) -> str:
    """What Excel shows for ``value`` under number format ``fmt`` (the formats qhsim writes: sections by sign, quoted
    literals, + and - signs, thousands, decimals, %), rounding half away from zero on the value's shortest repr."""
    from decimal import ROUND_HALF_UP, Decimal

    sections = fmt.split(";")
    if len(sections) == 1:
        section, sign = sections[0], "-" if value < 0 else ""
    else:  # by sign, the minus written by the section itself
        section = sections[0] if value > 0 else sections[1] if value < 0 else sections[2 if len(sections) > 2 else 0]
        sign = ""
    parts = re.findall(r'"[^"]*"|[#0,.]+|.', section)
    pattern = next(p for p in parts if re.fullmatch(r"[#0,.]+", p))
    digits = len(pattern.split(".")[1]) if "." in pattern else 0
    x = abs(value) * (100 if "%" in parts else 1)
    shown = Decimal(repr(x)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    number = sign + f"{shown:{',' if ',' in pattern else ''}.{digits}f}"
    return "".join(number if p == pattern else p.strip('"') for p in parts)


def test_workbook_shows_the_figures_the_html_and_terminal_show(compare_folder):
    """The median of 2 runs is often x.5: the terminal and HTML printed 382 where the workbook showed 383, a gap of +122
    as 123 without its sign. Every value, gap, target and P(met) of the summary sheet now shows in Excel as cell_text
    writes it for the terminal and the HTML report."""
    from qhsim.output.report import cell_text, sim_columns, target_value
    from qhsim.output.tables import headline

    results = tidy.load_results(compare_folder)
    table = headline(results)
    ws = load_workbook(compare_folder / "report.xlsx")["摘要 Summary"]
    heads = [c.value for c in ws[1]]
    gap = next(i for i, h in enumerate(heads) if str(h).startswith("差距"))
    target = heads.index("目标\ntarget")
    p_met = heads.index("达标概率\nP(met)")
    sims = {c: next(i for i, h in enumerate(heads) if str(h).startswith(f"{c[4:]}模拟")) for c in sim_columns(table)}
    compared, halves = 0, 0
    for i, (_, row) in enumerate(table.iterrows(), start=2):
        cells = ws[i]
        key = row["indicator"]
        expected = {j: format_value(row[c], key) for c, j in sims.items()}
        if pd.notna(row["target"]):
            expected[target] = target_value(row["target"], row["target_kind"], key) + row["target_mark"]
            expected[p_met] = cell_text(row, "p_met")
            if pd.notna(row["gap"]):
                expected[gap] = cell_text(row, "gap")
        for j, text in expected.items():
            cell = cells[j]
            if not isinstance(cell.value, int | float):
                continue
            assert _excel_shows(cell.value, cell.number_format) == text, (row["label"], heads[j], cell.value)
            compared += 1
            halves += abs(cell.value * 100 - round(cell.value * 100)) < 1e-9 and (cell.value * 100) % 100 in (50, -50)
    assert compared > 100 and halves  # counts' medians of two runs: x.5 somewhere


def test_workbook_summary_marks_targets_and_verdicts_as_the_terminal_does(run_folder):
    """The workbook's notes explained * † ‡ below the summary, but no cell carried them: Haixi's verdicts resting on
    an assumption read "是 yes" where the terminal and the HTML report print "是‡ yes", and Haixi's ≥170† and Haidong's
    17* showed without their marks. Each target and verdict now shows in Excel as ``cell_text`` writes it."""
    from qhsim.output.report import cell_text, target_value
    from qhsim.output.tables import headline

    table = headline(tidy.load_results(run_folder))
    ws = load_workbook(run_folder / "report.xlsx")["摘要 Summary"]
    heads = [c.value for c in ws[1]]
    target, met = heads.index("目标\ntarget"), heads.index("达标\nmet")
    marked = {"target": set(), "met": set()}
    for i, (_, row) in enumerate(table.iterrows(), start=2):
        if pd.isna(row["target"]):
            continue
        cell = ws[i][target]
        shown = target_value(row["target"], row["target_kind"], row["indicator"]) + row["target_mark"]
        assert _excel_shows(cell.value, cell.number_format) == shown, (row["label"], cell.number_format)
        assert ws[i][met].value == cell_text(row, "met"), row["label"]
        marked["target"] |= set(row["target_mark"])
        marked["met"] |= set(row["met_mark"])
    assert marked == {"target": {"*", "†"}, "met": {"‡"}}  # Haidong's platforms 17*, Haixi's ≥170†, Haixi's ‡


def test_comparison_html_puts_the_answer_first_with_a_table_of_contents(compare3_folder):
    """The comparison report put 方案对比与排名 at ~18,700 px after every design's full tables: the answer comes first
    (cost-effectiveness, ranking, pairwise), then the targets with the designs side by side, and a table of contents
    links every section."""
    page = (compare3_folder / "report.html").read_text(encoding="utf-8")
    anchors = re.findall(r'<h2 id="([^"]+)">', page)
    assert anchors[:4] == ["designs", "answer", "targets", "indicators"] and "headline" in anchors
    assert anchors.index("headline") > anchors.index("prefecture-effects")
    toc = page.split('<nav class="toc">', 1)[1].split("</nav>", 1)[0]
    assert re.findall(r'href="#([^"]+)"', toc) == anchors
    answer = page.split('id="answer">', 1)[1].split("<h2", 1)[0]
    assert "成本效益 Cost-effectiveness" in answer and "两两比较 Pairwise" in answer
    targets = _html_table(page, "各方案达标情况 Targets, designs side by side")
    assert targets[0][2:] == ["baseline（基准 base）", "super_deduction_120", "more_ex_ante_grants"]
    assert len(targets) > 5 and all(len(row) == 5 for row in targets)
    indicators = page.split('id="indicators">', 1)[1].split("<h2", 1)[0]
    assert "rank 1" in indicators and "Δ " in indicators  # each design's value, difference and rank side by side
    # every design's full tables remain, below, folded
    assert "<details><summary>各方案完整指标表" in page.split('id="headline">', 1)[1]


def test_run_html_shows_every_prefecture_and_what_the_runs_are(run_folder, tmp_path):
    """The 市州 section showed Haidong and Haixi only (the workbook has all 8): a table now gives every prefecture side
    by side; a run says what it is and when it was made in Beijing time."""
    page = (run_folder / "report.html").read_text(encoding="utf-8")
    table = _html_table(page, "全部8个市州 All eight prefectures")
    assert table[0] == ["指标 indicator", "年份 year", *(region_label(r) for r in data.prefecture_ids())]
    assert any(row[0].startswith("研发投入强度") for row in table[1:])
    assert "each prefecture&#39;s values by year: its sheet in the workbook" in page.lower()
    assert "北京时间 Beijing time (UTC+8)" in page and "(UTC)" not in page
    manifest = json.loads((run_folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["created"].endswith("+00:00")  # machines read UTC
    again = export.export(run_folder, "xlsx", tmp_path / "again.xlsx")  # read back: with the manifest's time
    meta = dict(load_workbook(again)["元数据 Metadata"].iter_rows(min_row=2, values_only=True))
    assert meta["创建时间 created"] == tidy.beijing_time(manifest["created"])
    assert meta["类型 kind"] == tidy.KIND_LABELS["run"]


def test_workbook_shows_a_growth_targets_period_and_simulated_rate_as_the_terminal_does(run_folder):
    """Haixi's growth targets (+5%/yr and +10%/yr, 2024-2027) were judged in the workbook on a gap in pp alone, beside
    the target year 2027: the sheet now gives the period (2024-2027) and the simulated rate over it, and each rate
    shows in Excel as the terminal writes it; a level target's rate cell is empty."""
    from qhsim.output.report import cell_text
    from qhsim.output.tables import headline

    table = headline(tidy.load_results(run_folder))
    ws = load_workbook(run_folder / "report.xlsx")["摘要 Summary"]
    heads = [c.value for c in ws[1]]
    rate, year = heads.index("模拟年均增速\nsim growth/yr"), heads.index(YEAR_HEAD)
    growth = 0
    for i, (_, row) in enumerate(table.iterrows(), start=2):
        if row["target_kind"] == "growth":
            growth += 1
            assert ws[i][year].value == f"{row['base_year']}-{row['target_year']}"
            cell = ws[i][rate]
            assert cell.value == pytest.approx(row["rate"])
            assert _excel_shows(cell.value, cell.number_format) == cell_text(row, "rate"), row["label"]
        elif pd.notna(row["target"]):
            assert ws[i][rate].value is None and ws[i][year].value == row["target_year"]
    assert growth == 3  # Haidong's S&T talent, Haixi's three-type firms and technology contracts
    own = _html_table((run_folder / "report.html").read_text(encoding="utf-8"), "海西州 Haixi · 本地目标")
    column = own[0].index("模拟年均增速 sim growth/yr")
    rows = table[(table["region"] == "haixi") & (table["target_kind"] == "growth")]
    assert sorted(r[column] for r in own[1:] if r[column]) == sorted(cell_text(r, "rate") for _, r in rows.iterrows())
    assert own[0].index("2024模拟 sim 2024") < own[0].index("2027模拟 sim 2027") < column  # start, target year, rate


def test_export_command_says_what_it_is_doing_step_by_step(run_folder, compare_folder, tmp_path, capsys):
    """``qhsim export`` of a comparison took 23-33 s with nothing on the screen: it now says each step on stderr as it
    starts, with the time so far (plain lines, no bar: they read the same in a log), the file written on stdout."""
    from qhsim.cli import main

    assert main(["export", str(compare_folder), "--to", "xlsx", "--out", str(tmp_path / "c.xlsx")]) == 0
    captured = capsys.readouterr()
    steps = captured.err.splitlines()
    assert all(re.match(r"\[\s*\d+\.\d s\] \S", line) for line in steps), steps
    said = [line.split("] ", 1)[1] for line in steps]
    # first the file and what it holds, once the folder is read (a folder it refuses gets its one error line only)
    assert said[0].startswith(f"写入 writing {tmp_path / 'c.xlsx'}：2个方案，每个2次运行 compare, 2 design(s) x 2 run(s)")
    sheets = [line for line in said if line.startswith("工作表 sheet ")]
    assert sheets[:3] == ["工作表 sheet 摘要 Summary", "工作表 sheet 全省 Province", "工作表 sheet 西宁市 Xining"]
    assert said[-1] == "保存 saving c.xlsx" and "已导出 Exported" in captured.out and "\r" not in captured.err
    assert main(["export", str(run_folder), "--to", "html", "--out", str(tmp_path / "r.html")]) == 0
    said = [line.split("] ", 1)[1] for line in capsys.readouterr().err.splitlines()]
    assert said[1:] == ["表格 tables", f"图表 charts (复用 reused from {run_folder / 'charts'} where drawn)"]
