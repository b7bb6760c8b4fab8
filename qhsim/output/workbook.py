"""Excel workbook 工作簿 (openpyxl): ``write_xlsx(results, path)`` for any results.

Sheets: 摘要 Summary (indicators against targets, 2035 reference paths, the prefectures' own targets),
全省 Province (by year), one per prefecture (by year), 财政 Spending (programme spending and tax
expenditure; for several runs each the median, headed so, the total that of the runs' own totals), for a sweep
成本效益 Cost-effectiveness (its points' R&D per public yuan from summary.csv, ranked), for a comparison 方案 Designs
(what each design is), 成本效益 Cost-effectiveness, 按工具 By
instrument, 两两比较 Pairwise (two designs or more besides the base; for one, the Cost-effectiveness sheet has no
rank nor P(first) and says why, ``qhsim.output.tables.can_rank``) and 地区效应 Prefecture effects (each prefecture's
indicator changes and the money spent and R&D there, as ``qhsim compare --region`` prints them), 对比排名 Ranking
(several designs: comparison or sweep; how to read it below) and
元数据 Metadata (scenario, seeds, scale, versions, levers,
calibration: one fact a row, in words). Headers are bilingual with units, panes are frozen below the
header and right of the labels, and numbers carry a format by kind (counts as integers, shares and 亿元
with two decimals, 万元 as integers).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from qhsim import data
from qhsim.output.numbers import (MISSING, MONEY_DIGITS, cell_format, decimals, excel_format, excel_number_format,
                                  indicator_unit, nonzero_digits, unit_words)
from qhsim.output.observed import ObservedSource
from qhsim.output.report import (DETERMINISTIC_MARK, FLOOR, HEADERS, band_caveat, base_year_notes, cell_text,
                                 column_header, display_width, indicator_label, observed_mark, persistence_note,
                                 prefecture_anchor_note, reduced_scale_note, region_label, sim_columns, source_notes,
                                 wrap)
from qhsim.output.tables import (BANDED, BY_INSTRUMENT, COST_EFFECTIVENESS, DESIGNS, DESIGNS_NOTE, INSTRUMENT_BANDED,
                                 PREFECTURE_EFFECTS, PUBLIC_COST, RATIOS, SWEEP_BANDED, SWEEP_COST_EFFECTIVENESS,
                                 SWEEP_MEANS_NOTE, by_instrument, by_instrument_note, by_year, cost_effectiveness,
                                 design_name, pairwise_row_label,
                                 cost_effectiveness_note, designs, designs_text, difference_header, fiscal, headline,
                                 pairwise, pairwise_note, prefecture_effects, prefecture_effects_notes, ranking,
                                 ranking_note, statistic_label, statistic_words, sweep_cost_effectiveness, WIDE_UNRANKED,
                                 sweep_cost_effectiveness_note, omitted_cost_notes)
from qhsim.output.folders import atomic_file, silent
from qhsim.evidence import EVIDENCE_MARKS
from qhsim.output.tidy import (Results, beijing_time, calibration_rows, kind_label, lever_name, lever_text,
                               meta_text, runs_text, seeds_text, versions_text)
from qhsim.results import PROVINCE

HEADER_FILL = PatternFill("solid", fgColor="DDE6F0")
BOLD = Font(bold=True)
WRAP = Alignment(wrap_text=True, vertical="top")
RIGHT, CENTER = Alignment(horizontal="right"), Alignment(horizontal="center")  # shared: one object for many cells
MET_FILL = {"是 yes": PatternFill("solid", fgColor="D5F0D5"), "否 no": PatternFill("solid", fgColor="F7D6D2")}
ID_HEADERS = {"design": "方案 design", "year": "年份 year", "region": "地区 region", "section": "部分 section",
              "unit": "单位 unit", "target_year": "目标年份 target year", "draws": "运行次数 runs", "rank": "排名 rank",
              "median": "中位数 median", "lo": "5%", "hi": "95%", "diff": "与基准之差 difference from the base",
              "diff_lo": "差值5% difference 5%", "diff_hi": "差值95% difference 95%", "indicator": "指标 indicator"}
PCT = "0%"
PUBLIC_COST_HEADER = "公共投入合计（财政支出+税式支出）\nPublic cost total, spending + tax expenditure (万元)"
NOTE_COLUMNS = 8  # a note below a table spans this many columns
LINE_HEIGHT = 15  # points a line of text takes in a row
# above the notes on targets (the province's or a prefecture's) that a run already meets in their plan's base year
BASE_YEAR_HEADING = "注：模型在规划基年已达到的目标 Targets the model already meets in their plan's base year"
# where a citation such as "seed 003:L573" (line 573 of planning document 003) can be read
SOURCES_POINTER = "原文见 docs/sources/（目录见其 README.md） cited documents: docs/sources/ (index: its README.md)"


def _sheet_name(text: str) -> str:
    return "".join(c for c in text if c not in "[]:*?/\\")[:31]


def _header(ws: Worksheet, labels: list[str], freeze: str) -> None:
    for j, text in enumerate(labels, start=1):
        cell = ws.cell(row=1, column=j, value=text)
        cell.font, cell.fill, cell.alignment = BOLD, HEADER_FILL, WRAP
    ws.row_dimensions[1].height = 48
    ws.freeze_panes = freeze


def _shown_width(x: Any) -> int:
    """Display columns a cell's value takes (a Chinese character counts two; a number as ``#,##0.00`` shows it)."""
    text = f"{x:,.2f}" if isinstance(x, int | float) and not isinstance(x, bool) else str(x)
    return max(display_width(line) for line in text.split("\n"))


def _widest(values: list[Any]) -> int:
    """The display width of the widest of ``values`` (``_shown_width``; None takes none): of the numbers, only the
    largest and the smallest are measured (``#,##0.00`` grows with the magnitude), of the text each distinct value
    once, so a sheet of hundreds of rows is measured in a few calls."""
    def number(x: Any) -> bool:
        return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)

    numbers = [x for x in values if number(x)]
    others = {x for x in values if x is not None and not number(x)}
    extremes = (max(numbers), min(numbers)) if numbers else ()
    return max((_shown_width(x) for x in (*extremes, *others)), default=0)


@cache
def _top(horizontal: str | None, wrapped: bool) -> Alignment:
    """The alignment of a cell in a row taller than one line: at its top, wrapped if it holds text (one shared object
    per kind: openpyxl would otherwise build one Alignment per cell)."""
    return Alignment(horizontal=horizontal, vertical="top", wrap_text=wrapped)


def _fit_columns(ws: Worksheet, last_row: int, bounds: dict[int, tuple[float, float]] | None = None,
                 floor: float = 10, cap: float = 40) -> None:
    """Set each column as wide as its widest value in rows 2..``last_row`` (the table, not the notes below it) plus a
    margin, and as 60% of its header's widest line (which then wraps in a few lines), at least ``floor`` and at most
    ``cap`` (``bounds``: (floor, cap) by column number); a value wider than its column wraps and its row grows to its
    lines; then the header row grows to its longest label (``_fit_header``). Excel's width unit is about one digit:
    a Chinese character takes two."""
    bounds = bounds or {}
    rows = list(ws.iter_rows(min_row=2, max_row=last_row, max_col=ws.max_column)) if last_row >= 2 else []
    widths = {}
    for j in range(1, ws.max_column + 1):
        widest = _widest([row[j - 1].value for row in rows])
        head = ws.cell(row=1, column=j).value
        low, high = bounds.get(j, (floor, cap))
        widths[j] = min(max(widest + 2, math.ceil(0.6 * _shown_width(head)) if head else 0, low), high)
        ws.column_dimensions[get_column_letter(j)].width = widths[j]
    lines_of: dict[tuple[str, float], int] = {}  # a label repeated down a column is wrapped once
    for row in rows:
        lines = 1
        for c in row:
            if isinstance(c.value, str):
                width = widths[c.column]
                if (c.value, width) not in lines_of:
                    lines_of[c.value, width] = (len(wrap(c.value, int(width) - 1)) if _shown_width(c.value) + 1 > width
                                                else 1)
                lines = max(lines, lines_of[c.value, width])
        if lines > 1:
            for c in row:  # every cell of a taller row at its top, the long ones wrapped
                if c.value is not None:
                    c.alignment = _top(c.alignment.horizontal, isinstance(c.value, str))
            ws.row_dimensions[row[0].row].height = LINE_HEIGHT * lines + 4  # a little room: Chinese lines are taller
    _fit_header(ws)


def _fit_header(ws: Worksheet) -> None:
    """Make the header row as high as its longest wrapped label (after ``_fit_columns``): a long bilingual header with
    its unit in a narrow number column would otherwise be cut off."""
    lines = [len(wrap(str(c.value), max(int((ws.column_dimensions[c.column_letter].width or 10) * 0.8), 6)))
             for c in ws[1] if c.value]
    ws.row_dimensions[1].height = max(48, LINE_HEIGHT * max(lines, default=1))


def _value(x: Any) -> Any:
    if x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA:
        return None
    if hasattr(x, "item"):
        x = x.item()
    return x


def _by_year_sheet(wb: Workbook, title: str, table: pd.DataFrame, results: Results) -> None:
    """One region's (or the spending's) values by year (``by_year``, ``fiscal``): a row per design and year, a column
    per indicator headed with what its values are for several runs (``statistic_words``: their median)."""
    ws = wb.create_sheet(_sheet_name(title))
    keys = [c for c in table.columns if c not in ("design", "year")]
    ids = ["design", "year"] if len(results.designs) > 1 else ["year"]
    statistic = statistic_label(results, "\n")
    labels = [ID_HEADERS[c] for c in ids] + ["\n".join(filter(None, [
        indicator_label(k, sep="\n") if k in data.load("indicators") else PUBLIC_COST_HEADER,
        statistic])) for k in keys]
    _header(ws, labels, f"{get_column_letter(len(ids) + 1)}2")
    formats = [None] * len(ids) + [excel_format(k) if k != PUBLIC_COST else "#,##0" for k in keys]
    for i, row in enumerate(table[ids + keys].itertuples(index=False), start=2):
        for j, (x, fmt) in enumerate(zip(row, formats), start=1):
            cell = ws.cell(row=i, column=j, value=_value(x))
            if fmt:
                cell.number_format = fmt
    # an indicator's column wide enough that its bilingual name wraps in a few lines
    _fit_columns(ws, len(table) + 1, {j: (16, 24) for j in range(len(ids) + 1, len(labels) + 1)}, floor=8)


def _summary_sheet(wb: Workbook, results: Results) -> None:
    ws = wb.active
    ws.title = "摘要 Summary"
    table = headline(results)
    several = len(results.designs) > 1
    ensemble = any(c.endswith("_lo") for c in table.columns)
    years = [int(c[4:]) for c in sim_columns(table)]
    sims = [c for y in years for c in ([f"sim_{y}", f"sim_{y}_lo", f"sim_{y}_hi"] if ensemble else [f"sim_{y}"])]
    # a growth target's simulated rate over its period, with its band, where the table has one
    rates = [c for c in ("rate", "rate_lo", "rate_hi") if c in table and table["rate"].notna().any()]
    columns = (["design"] if several else []) + ["region", "section", "label", "unit", "status", "observed_2020",
                                                  "observed_source", *sims, "target", "target_year", *rates, "gap",
                                                  "met"]
    columns += ["p_met"] if "p_met" in table else []
    heads = {**{k: "\n".join(column_header(k)) for k in [*HEADERS, *sim_columns(table)]}, **ID_HEADERS,
             "target": "目标\ntarget", "gap": "差距（增长目标为百分点）\ngap (pp for growth targets)",
             "target_year": "目标年份（增长目标：期间）\ntarget year (growth: period)",
             "rate_lo": "增速5%\ngrowth 5%", "rate_hi": "增速95%\ngrowth 95%"}
    if (words := statistic_words(results)) is not None:  # several runs: the value is their median, the gap its gap
        zh, en = words
        heads |= {c: f"{c[4:]}模拟{zh}\nsim {c[4:]}, {en}" for c in sim_columns(table)}
        heads["rate"] = f"模拟年均增速{zh}\nsim growth/yr, {en}"
        zh, en = statistic_words(results, runs=False)  # the statistic's name, without its runs
        heads["gap"] = f"差距（{zh}−目标；增长目标为百分点）\ngap ({en} − target; pp for growth targets)"
    for y in years:
        heads[f"sim_{y}_lo"], heads[f"sim_{y}_hi"] = f"{y} 5%", f"{y} 95%"
    _header(ws, [heads[c] for c in columns], f"{get_column_letter(columns.index('label') + 2)}2")
    for i, (_, row) in enumerate(table.iterrows(), start=2):
        key = row["indicator"]
        growth = row.get("target_kind") == "growth"
        for j, column in enumerate(columns, start=1):
            if column == "unit":
                # the values' unit; a growth target (and its gap) is a yearly rate
                x = unit_words(indicator_unit(key)) + ("; 目标为年均增长率 target: %/yr" if growth else "")
            elif column == "region":
                x = region_label(row["region"])
            elif column == "observed_source":
                source = row["observed_source"]
                x = None if not isinstance(source, ObservedSource) else source.label() + (
                    f" {observed_mark(row)}" if observed_mark(row) else "")
            elif column == "met" and row.get("met_mark"):  # a verdict resting on an assumption: "是‡ yes", as on screen
                x = cell_text(row, "met")
            elif column == "target_year" and growth:  # the period of a growth target, as on screen
                x = f"{row['base_year']}-{row['target_year']}"
            else:
                x = _value(row[column])
            cell = ws.cell(row=i, column=j, value=x)
            number = isinstance(x, int | float) and not isinstance(x, bool)
            # as the terminal and the HTML report write them (``qhsim.output.report.cell_text``): a gap signed, with
            # the decimals that show it is not zero (``nonzero_digits``); a floor "≥"; a growth rate in %/yr
            if column == "gap" and growth and number:  # a rate's gap in percentage points
                cell.value = 100 * x
                cell.number_format = cell_format(cell.value, nonzero_digits(cell.value, 1), True, "pp")
            elif column == "gap" and number:
                cell.number_format = cell_format(x, nonzero_digits(x, decimals(key)), True)
            elif column == "target" and number:  # with its mark (* restated, † another definition), as on screen
                mark = row.get("target_mark", "")
                floor = f'"{FLOOR}"' if row.get("target_kind") == "min_level" else ""
                cell.number_format = rate_format(mark) if growth else floor + excel_number_format(decimals(key),
                                                                                                  suffix=mark)
            elif column in rates and number:
                cell.number_format = rate_format()
            elif column == "p_met":  # a deterministic verdict's P(met) with its mark, as the other outputs write it
                cell.number_format = f'{PCT}"{DETERMINISTIC_MARK}"' if row.get("deterministic") in (True,) else PCT
            elif column.startswith("sim_") or column in ("observed_2020", "target"):
                cell.number_format = excel_format(key)
            if column == "met" and row["met"] in MET_FILL:
                cell.fill = MET_FILL[row["met"]]
            if column == "observed_source" and x is not None:  # the citation (and arithmetic) as a cell comment
                source = row["observed_source"]
                cell.alignment = WRAP
                cell.comment = Comment("\n".join(filter(None, [source.reference, source.note(), SOURCES_POINTER])),
                                       "qhsim", width=420, height=180)
    # the long labels wrap (2035 reference paths up to 130 characters), the section and unit in two or three lines
    caps = {"section": 24, "label": 50, "unit": 24, "observed_source": 36}
    _fit_columns(ws, len(table) + 1, {columns.index(c) + 1: (10, w) for c, w in caps.items()})
    col = columns.index("label") + 1
    below = _source_notes(ws, table, len(table) + 3, col)
    reached = base_year_notes(results.wide())  # the province's and prefectures' targets met in their plan's base year
    for i, note in enumerate(reached):
        if i == 0:
            below += 2
            _note(ws, below, col, BASE_YEAR_HEADING, bold=True)
        below = _note(ws, below + 1, col, note)
    if "p_met" in table:  # an ensemble: what its bands and P(met) leave out
        below = _note(ws, below + 1, col, band_caveat(), bold=True)
    if results.kind == "sweep":  # the sweep's terminal tables give means
        below = _note(ws, below + 2, col, SWEEP_MEANS_NOTE)
    if (note := persistence_note()) is not None:  # what the long-run projections rest on
        _note(ws, below + 2, col, "注：长期预测所依赖的假设 What the long-run projections rest on", bold=True)
        below = _note(ws, below + 3, col, note)
    if (note := reduced_scale_note(results.meta.get("scale"))) is not None:  # small prefectures swing below scale 1
        _note(ws, below + 2, col, note, bold=True)


def rate_format(mark: str = "") -> str:
    """Excel's format of a yearly growth rate (a share), as the terminal writes it: +5.0%/yr, with a target's mark."""
    return f'+0.0%"/yr{mark}";-0.0%"/yr{mark}";0.0%"/yr{mark}"'


def _note(ws: Worksheet, row: int, column: int, text: str, bold: bool = False) -> int:
    """Write a note below a table in one cell merged across ``NOTE_COLUMNS`` columns from ``column``, wrapped, its row
    as high as its lines (a long note in an unwrapped cell runs far off the screen); return its row."""
    last = column + NOTE_COLUMNS - 1
    ws.merge_cells(start_row=row, start_column=column, end_row=row, end_column=last)
    cell = ws.cell(row=row, column=column, value=text)
    cell.alignment = WRAP
    if bold:
        cell.font = BOLD
    width = sum(ws.column_dimensions[get_column_letter(j)].width or 10 for j in range(column, last + 1))
    ws.row_dimensions[row].height = LINE_HEIGHT * len(wrap(text, max(int(width * 0.9), 20)))
    return row


def _source_notes(ws: Worksheet, table: pd.DataFrame, start: int, column: int) -> int:
    """Below the summary: the restated observed values (marked * in the source column) with their arithmetic and
    those on another definition than the model's (marked †) with how it differs, one row each, e.g. ``* 每万人口发明
    专利拥有量 ...: 3.12 = 1,848 ... / 592.4万 (2020 census); the plan prints 3.04``. Returns the last row used."""
    notes = source_notes(table)
    if not notes:
        return start - 1
    _note(ws, start, column, "注：标记（*重算，†口径与模型不同，‡依赖假设，§确定性判断）与未建模的目标 Notes: marks (* restated, "
          "† another definition than the model's, ‡ rests on an assumption, § deterministic), targets not modelled", bold=True)
    row = start
    for note in notes:
        row = _note(ws, row + 1, column, note)
    return row


def _ranking_sheet(wb: Workbook, results: Results) -> None:
    table = ranking(results)
    if table.empty:
        return
    ws = wb.create_sheet("对比排名 Ranking")
    columns = ["year", "indicator", "rank", "design", "median", "lo", "hi", "diff", "diff_lo", "diff_hi", "draws"]
    heads = {**ID_HEADERS, "diff": difference_header(results)}  # a comparison's base, a sweep's point 0
    _header(ws, [heads[c] for c in columns], "E2")
    for i, (_, row) in enumerate(table.iterrows(), start=2):
        for j, column in enumerate(columns, start=1):
            x = (indicator_label(row["indicator"]) if column == "indicator" else
                 design_name(results, row["design"]) if column == "design" else _value(row[column]))
            cell = ws.cell(row=i, column=j, value=x)
            if column in ("median", "lo", "hi"):
                cell.number_format = excel_format(row["indicator"])
            elif column in ("diff", "diff_lo", "diff_hi"):  # a change: signed, its group's decimals (the HTML's)
                cell.number_format = cell_format(x, int(row["digits"]), True)
    _fit_columns(ws, len(table) + 1, {2: (10, 50)})
    _note(ws, len(table) + 3, 1, ranking_note(results, table))


def _designs_sheet(wb: Workbook, results: Results) -> None:
    """A comparison's designs (``qhsim.output.tables.designs``): number, id, role and what each is, how they are
    numbered and where the descriptions come from below."""
    table = designs(results)
    if table.empty:
        return
    ws = wb.create_sheet("方案 Designs")
    _header(ws, list(DESIGNS.values()), "C2")
    for i, row in enumerate(table[list(DESIGNS)].itertuples(index=False), start=2):
        for j, x in enumerate(row, start=1):
            ws.cell(row=i, column=j, value=_value(x)).alignment = WRAP
    _fit_columns(ws, len(table) + 1, {4: (10, 90)})
    _note(ws, len(table) + 3, 1, DESIGNS_NOTE)


def _cost_effectiveness_sheet(wb: Workbook, results: Results) -> None:
    """The answer per design: a comparison's (``qhsim.output.tables.cost_effectiveness``; the window and the ranking
    metric below) or a sweep's (``sweep_cost_effectiveness``: each point in each report year, sorted by R&D per yuan),
    each banded quantity's mean with its 5% and 95% in columns of their own."""
    if results.kind == "sweep":
        table = sweep_cost_effectiveness(results)
        heads, banded, freeze = SWEEP_COST_EFFECTIVENESS, SWEEP_BANDED, "C2"
        note = sweep_cost_effectiveness_note
    else:
        table = cost_effectiveness(results.designs[1:], results.tables)
        heads, banded, freeze, note = COST_EFFECTIVENESS, BANDED, "B2", cost_effectiveness_note
    if table.empty:
        return
    ws = wb.create_sheet("成本效益 Cost-effectiveness")
    columns, labels = [], []
    for c, head in heads.items():
        if c not in table:  # rank and P(first): not for one design (``can_rank``); a sweep's columns of a newer summary
            continue
        columns.append(c)
        labels.append(f"{head}{' 均值 mean' if c in banded else ''}")
        if c in banded:
            columns += [f"{c}_p05", f"{c}_p95"]
            labels += ["5%", "95%"]
    _header(ws, labels, freeze)
    counts = ("design", "rank", "year", "rd_per_yuan_runs")
    ratios = ("per_yuan", "per_yuan_p05", "per_yuan_p95", "runs_median")
    wide = table["wide"] if "wide" in table else pd.Series(False, index=table.index)  # a sweep's (``ratio_wide``)
    for i, (row, mark, unranked, evidence) in enumerate(zip(table[columns].itertuples(index=False), table["mark"], wide,
                                                            table["evidence"]), start=2):
        for j, (column, value) in enumerate(zip(columns, row), start=1):
            if mark and column.endswith(ratios):  # no ratio to read: the mark
                value = mark if column.endswith("per_yuan") else None
            elif column == "rank" and unranked:  # a ratio too wide to rank: shown, with the mark in place of a rank
                value = WIDE_UNRANKED
            elif column == "design":
                value = design_name(results, value)
            cell = ws.cell(row=i, column=j, value=_value(value))
            if column in ("p_first", "budget_spent_share"):
                cell.number_format = PCT
            elif column.endswith(ratios):  # as the HTML report and comparison.txt write R&D per yuan, business R&D per
                # yuan with its mark where it lies outside the micro evidence (the number stays a number)
                cell.number_format = cell_format(cell.value, suffix=EVIDENCE_MARKS.get(evidence, "")
                                                 if column == "rd_per_yuan" else "")
            elif column not in counts:  # 亿元: a change against the base, signed as the HTML report writes it
                cell.number_format = cell_format(cell.value, MONEY_DIGITS, True)
    _fit_columns(ws, len(table) + 1, floor=14)
    row = _note(ws, len(table) + 3, 1, note(results, table))
    for text in omitted_cost_notes(results):  # a comparison's (a sweep has none)
        row = _note(ws, row + 1, 1, text)


def _by_instrument_sheet(wb: Workbook, results: Results) -> None:
    """A comparison's extra cost and R&D per yuan by instrument (``qhsim.output.tables.by_instrument``), each banded
    quantity's mean with its 5% and 95% in columns of their own, a mark (side effect, unstable, none) in place of the
    ratio where comparison.txt prints one, each design's total row in bold, how to read it below."""
    table = by_instrument(results.designs[1:], results.tables)
    if table.empty:
        return
    ws = wb.create_sheet("按工具 By instrument")
    columns = ["design", "instrument_label", "instrument"]
    heads = [BY_INSTRUMENT["design"], BY_INSTRUMENT["instrument_label"], "键 key (leverage.csv)"]
    for c in INSTRUMENT_BANDED:
        columns += [c, f"{c}_p05", f"{c}_p95"]
        heads += [f"{BY_INSTRUMENT[c]} {'均值之比 ratio of means' if c == 'rd_per_yuan' else '均值 mean'}", "5%", "95%"]
    _header(ws, heads, "D2")
    for i, row in enumerate(table.to_dict("records"), start=2):
        for j, column in enumerate(columns, start=1):
            value = design_name(results, row[column]) if column == "design" else row[column]
            if row["mark"] and column.startswith("rd_per_yuan"):  # no ratio to read: the mark, no number
                value = row["mark"] if column == "rd_per_yuan" else None
            cell = ws.cell(row=i, column=j, value=_value(value))
            if row["instrument"] == "total":
                cell.font = BOLD
            if column.startswith(INSTRUMENT_BANDED):  # as the HTML report writes them: money signed, the ratio not,
                ratio = column.startswith("rd_per_yuan")  # with its mark where it lies outside the micro evidence
                cell.number_format = cell_format(cell.value, None if ratio else MONEY_DIGITS, not ratio,
                                                 EVIDENCE_MARKS.get(row["evidence"], "") if column == "rd_per_yuan" else "")
                cell.alignment = RIGHT
    _fit_columns(ws, len(table) + 1, {2: (12, 44)}, floor=12)
    _note(ws, len(table) + 3, 1, by_instrument_note(results, table))


def _prefecture_effects_sheet(wb: Workbook, results: Results) -> None:
    """A comparison's answer in each prefecture, as ``qhsim compare --region`` prints it
    (``qhsim.output.tables.prefecture_effects``): per prefecture and design the extra public cost, extra R&D and R&D
    per public yuan located there (bold; the mark in place of a ratio not to be read), then its indicators' changes in
    the report years and over the window with their 5% and 95%; what the money covers, why the ratio is partial and
    how to read the rest below."""
    table = prefecture_effects(results.designs[1:], results.tables)
    if table.empty:
        return
    ws = wb.create_sheet("地区效应 Prefecture effects")
    years = table.attrs["years"]
    start, end = results.meta.get("window") or (None, None)
    columns = [*PREFECTURE_EFFECTS, *years, "window", "p05", "p95"]
    heads = [*PREFECTURE_EFFECTS.values(), *(f"{y}年变化 change {y}" for y in years),
             f"{start}-{end}窗口 window", "5%", "95%"]
    _header(ws, heads, "D2")
    for i, row in enumerate(table.to_dict("records"), start=2):
        for j, column in enumerate(columns, start=1):
            value = row["mark"] if column == "window" and row["mark"] else row[column]
            if column == "region":
                value = region_label(value)
            elif column == "design":
                value = design_name(results, value)
            cell = ws.cell(row=i, column=j, value=_value(value))
            if column in ("window", "p05", "p95", *years):  # the row's decimals, as the HTML report writes them
                cell.number_format = cell_format(cell.value, int(row["digits"]), row["item"] not in RATIOS,
                                                 EVIDENCE_MARKS.get(row["evidence"], "") if column == "window" else "")
                cell.alignment = RIGHT
            if row["item"] == "rd_per_yuan":  # the answer: R&D per public yuan spent there
                cell.font = BOLD
    _fit_columns(ws, len(table) + 1, {3: (12, 44), 5: (10, 16)}, floor=10)
    for i, note in enumerate(prefecture_effects_notes(results, table)):
        _note(ws, len(table) + 3 + i, 1, note)


def _pairwise_sheet(wb: Workbook, results: Results) -> None:
    """A comparison's P(row design beats column design) (``qhsim.output.tables.pairwise``) as percentages, the designs
    numbered as in comparison.txt, "—" on the diagonal, how to read it below."""
    table = pairwise(results.designs, results.tables)
    if table.empty:
        return
    ws = wb.create_sheet("两两比较 Pairwise")
    designs = list(table["design"])
    labels = table.attrs["labels"]
    _header(ws, ["P(行胜列) P(row beats column)", *(labels[d] for d in designs)], "B2")
    for i, row in enumerate(table.to_dict("records"), start=2):  # the row's label names the design in Chinese too
        ws.cell(row=i, column=1, value=pairwise_row_label(results, row)).font = BOLD
        for j, design in enumerate(designs, start=2):
            same = design == row["design"]
            cell = ws.cell(row=i, column=j, value=MISSING if same else _value(row[design]))
            cell.number_format = PCT
            cell.alignment = CENTER if same else RIGHT
    _fit_columns(ws, len(table) + 1, floor=18)
    _note(ws, len(table) + 3, 1, pairwise_note(results, table))


def metadata_rows(results: Results) -> list[tuple[str, Any]]:
    """(bilingual key, value) pairs describing the results, one fact a row and every value in words (seeds, versions,
    the calibration: ``qhsim.output.tidy.seeds_text``, ``versions_text``, ``calibration_rows``), never JSON text."""
    meta = results.meta
    names = {
        "kind": "类型 kind", "title": "标题 title", "scenario_name": "情景 scenario", "description": "说明 description",
        "extends": "基于 extends", "seeds": "随机种子 seeds",
        "population_seed": "人口种子 population seed (the end-2015 population)", "parameter_draws": "参数组 parameter draws",
        "scale": "规模 scale (share of firms simulated)", "start_year": "起始年 start year", "end_year": "结束年 end year",
        "window": "共同窗口 common window (from the first year a design differs from the base)",
        "from_year": "变动起始年 from year", "base_scenario": "基准情景 base scenario (point 0)",
        "vary": "扫描 varied instruments", "run_seconds": "模型运行时间 model time",
        "created": "创建时间 created", "versions": "版本 versions",
        "model_fingerprint": "模型指纹 model fingerprint (the code, data and calibrated parameters the runs ran on)",
    }
    # a comparison's designs numbered, each with what it is (``qhsim.output.tables.designs``)
    rows: list[tuple[str, Any]] = [("政策方案 designs", designs_text(results))]
    for key, label in names.items():
        value = meta.get(key)
        if value in (None, "", [], {}):
            continue
        if key == "seeds":
            rows += [(label, seeds_text(value)), ("每方案运行次数 runs per design" if len(results.designs) > 1 else
                                                  "运行次数 runs", runs_text(results.n_draws(), len(value)))]
            continue
        if key == "versions":
            value = versions_text(value)
        elif key == "created":  # manifest.json keeps UTC for machines; people read Beijing time
            value = beijing_time(value)
        elif key == "window":
            value = "–".join(map(str, value))
        elif key == "run_seconds":
            value = f"{value:.1f} s"
        elif key == "kind":
            value = kind_label(results)
        elif not isinstance(value, str | int | float):
            value = meta_text(value)
        rows.append((label, value))
    rows += calibration_rows(meta.get("calibration"))
    # one row a lever: a sweep's varied instrument and its values, or one that differs from the reference (its
    # reference value and this design's; a year table's first year reads "此前 before")
    for lv in meta.get("levers", []):
        if results.kind == "sweep":
            rows.append(("扫描的政策工具 varied instrument", f"{lever_name(lv['key'])}: {lever_text(lv['value'])}"))
            continue
        design = f"{lv['design']} · " if lv.get("design") else ""
        rows.append(("政策杠杆 lever (vs reference 参照)", f"{design}{lever_name(lv['key'])}: 参照 reference "
                     f"{lever_text(lv['base'])}；本方案 this design {lever_text(lv['value'])}"))
    rows.append(("市州数值 prefecture values", prefecture_anchor_note()))
    if results.folder is not None:
        rows.append(("结果目录 results folder", str(results.folder)))
    return rows


def _metadata_sheet(wb: Workbook, results: Results) -> None:
    ws = wb.create_sheet("元数据 Metadata")
    _header(ws, ["项目 item", "值 value"], "B2")
    for i, (key, value) in enumerate(metadata_rows(results), start=2):
        ws.cell(row=i, column=1, value=key).font = BOLD
        ws.cell(row=i, column=2, value=value).alignment = WRAP
    _fit_columns(ws, ws.max_row, {1: (10, 40), 2: (10, 110)})


def workbook(results: Results, say: Callable[[str], None] = silent) -> Workbook:
    """The workbook of ``results`` (not yet saved); ``say`` is called with a line as each sheet starts."""
    wb = Workbook()
    say("工作表 sheet 摘要 Summary")
    _summary_sheet(wb, results)
    several = len(results.designs) > 1
    regions = set(results.long["region"])
    for title, region in [("全省 Province", PROVINCE),
                          *((region_label(r), r) for r in data.prefecture_ids() if r in regions)]:
        say(f"工作表 sheet {title}")
        _by_year_sheet(wb, title, by_year(results, region), results)
    say("工作表 sheet 财政 Spending")
    _by_year_sheet(wb, "财政 Spending", fiscal(results), results)
    if several:
        say("工作表 sheets: 方案比较 the comparison's")
        _designs_sheet(wb, results)
        _cost_effectiveness_sheet(wb, results)
        _by_instrument_sheet(wb, results)
        _pairwise_sheet(wb, results)
        _prefecture_effects_sheet(wb, results)
        _ranking_sheet(wb, results)
    _metadata_sheet(wb, results)
    return wb


def write_xlsx(results: Results, path: str | Path, say: Callable[[str], None] = silent) -> Path:
    """Write the workbook to ``path`` (atomically: a temporary file renamed on success); return the path. ``say``: as
    in ``workbook``, and a line before saving."""
    path = Path(path)
    with atomic_file(path) as tmp:
        book = workbook(results, say)
        if say is not None:
            say(f"保存 saving {path.name}")
        book.save(tmp)
    return path

