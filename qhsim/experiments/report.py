"""Reports of experiments 实验报告: the comparison tables on screen, its CSV files and the cost-effectiveness chart.

A comparison store holds, besides ``runs/`` and ``manifest.json``: ``changes.csv``, ``costs.csv``,
``leverage.csv``, ``targets.csv``, ``ranking.csv``, ``pairwise.csv``, ``budget.csv`` (budget-neutral
only), ``comparison.txt`` (the screen text: the province's answer) and ``cost_effectiveness.png``. changes.csv and
leverage.csv have a ``region`` column, the province's rows first, then each prefecture's, which
``format_comparison(result, region)`` prints (``qhsim compare --region``).
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd

from qhsim import data
from qhsim.config import Scenario
from qhsim.errors import InputError
from qhsim.experiments.comparison import (BudgetUse, idle_budgets, ranking_metric, region_ranking, stored_table,
                                         unspent_budgets)
from qhsim.output.lang import pick
from qhsim.output.numbers import (MISSING, MONEY_DIGITS, change_digits, change_unit, format_fixed, format_interval,
                                  format_percent, format_value, unit_of)
from qhsim.output.tables import (CARRIED_DEDUCTION, CHANGE_INDICATORS, ONE_DESIGN, ONE_DESIGN_NOTE,
                                 PUBLIC_COST_NOTE, RANKING_STATISTIC_NOTE, by_instrument, can_rank, change_indicators,
                                 cost_effectiveness, mark_notes, regional_cost_note)
from qhsim.output.report import (DETERMINISTIC_MARK, band_caveat, base_year_notes, display_width,
                                 draws_line, format_number, format_table, persistence_note, plan_target_notes,
                                 met_mark, reduced_scale_note, region_label, start_columns, summary_table, target_mark,
                                 target_value, wrap)
from qhsim.stats import WEIGHT
from qhsim.targets import REFERENCE_KIND, load_targets, plan_base_years
from qhsim.results import (FISCAL_PREFIXES, PROVINCE, RANK_DEFAULT, RANK_TOTAL, SAVING_CELL, UNSPENT_NOTE,
                           UNSPENT_SHARE, UNSTABLE_CELL, charted_evidence, design_description, design_short_name, lower_is_better, ratio_mark, shown_evidence,
                           unsettled_pairs, with_evidence)
from qhsim.experiments.store import write_atomic
from qhsim.units import WAN_PER_YI
from qhsim.evidence import evidence_cell, evidence_legend, evidence_note

TEXT_WIDTH = 100  # display columns of comparison.txt and the terminal report (wide tables wrap their labels)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from qhsim.experiments.comparison import ComparisonResult

MATERIAL = 0.1  # instruments whose cost changed (up or down) by this share of a design's extra cost are listed
METRIC_HEADS = {RANK_DEFAULT: ("每元带动企业研发", "R&D per public yuan"),  # the ranking's column, as the tables above
                RANK_TOTAL: ("每元带动全社会研发", "total R&D per public yuan")}


# the ranking order (qhsim.experiments.comparison.rank), in the ranking table's title
ORDER = "按平均名次排序 ordered by mean rank; "


def row_label(key: str, qualifier: tuple[str, str] = ("", ""), change: bool = False) -> str:
    """An indicator's or a public cost's row label: its Chinese name (with ``qualifier``'s Chinese), then its English
    name with its unit (``unit_of``, as the run's tables write it) and ``qualifier``'s English on a line of its own;
    a public cost's unit (万元) is left out, its tables being in 亿元. ``change``: the row holds changes, whose unit
    for an indicator in % is percentage points (``change_unit``: ``研发投入强度（百分点）`` / ``... (pp)``)."""
    spec = data.load("indicators").get(key, {})
    points = change and spec.get("unit") == "%"
    unit = ("" if key.startswith(FISCAL_PREFIXES) or not spec.get("unit")
            else f" ({change_unit(key, 'en') if points else unit_of(key)})")
    zh, en = qualifier
    name = spec.get("zh", key) + (f"（{change_unit(key, 'zh')}）" if points else "")
    return f"{name}{f' {zh}' if zh else ''}\n{spec.get('en', key)}{unit}{f' {en}' if en else ''}"


# the marks that stand in place of R&D per yuan, short in the tables' cells (the full one, 26 columns wide, made the
# cost-effectiveness table overflow TEXT_WIDTH); the notes below the tables give each with its full text
SHORT_MARKS = {SAVING_CELL: "—¹", UNSTABLE_CELL: "—²"}


def short_mark(cell: str) -> str:
    """The mark a comparison.txt cell shows for ``cell`` (``SHORT_MARKS``; other text as it is)."""
    return SHORT_MARKS.get(cell, cell)


def short_mark_notes(cells: set[str]) -> str:
    """``mark_notes`` of the marks among ``cells`` (full or short), each note after its short mark where it has one
    ("—¹ “— 无额外成本 no extra cost”：..."): "" without marks."""
    notes = []
    for full in (SAVING_CELL, UNSTABLE_CELL):
        if SHORT_MARKS[full] in cells:
            notes.append(f"{SHORT_MARKS[full]} {mark_notes({full}).strip()}")
    others = mark_notes(cells - set(SHORT_MARKS.values())).strip()
    return " ".join(filter(None, [others, *notes]))


def _ratio(leverage: pd.DataFrame, design: str, instrument: str, mid: float, lo: float, hi: float,
           business: bool = True) -> str:
    """R&D per yuan with its interval, or, where ``ratio_unstable`` flags its extra cost in ``leverage`` (the
    province's or a prefecture's), the short mark of what ``ratio_mark`` gives (no extra cost: an instrument whose
    cost fell, a design that saves money; or unstable). ``business``: business R&D per yuan, marked where it lies
    outside the micro evidence (``evidence_cell`` of the row's ``evidence``; total R&D per yuan has no range)."""
    row = leverage[(leverage["design"] == design) & (leverage["instrument"] == instrument)]
    if "unstable" in leverage and len(row) and bool(row["unstable"].iloc[0]):
        return short_mark(ratio_mark(row["extra_cost"].iloc[0]))
    side = str(row["evidence"].iloc[0]) if business and "evidence" in row and len(row) else ""
    return evidence_cell(format_interval(mid, lo, hi), side)


def design_legend(res: ComparisonResult) -> list[str]:
    """One entry per design, the base first: its number (the tables' columns and the chart's points), its id (the
    scenario file's name) and what it is in Chinese and English (``design_description``), wrapped to TEXT_WIDTH with
    the description's lines under its start."""
    scenarios = res.meta.get("scenarios")
    lines = []
    for i, name in enumerate([res.base, *res.designs]):
        head = f"  {i} = "
        description = design_description(scenarios, name, res.base)
        text = f"{name}: {description}" if description else name
        lines += [("" if j else head).ljust(len(head)) + line
                  for j, line in enumerate(wrap(text, TEXT_WIDTH - len(head)))]
    return lines


def design_cell(res: ComparisonResult, name: str, prefix: str = "") -> str:
    """A table's row of a design: its id (after ``prefix``, such as its number) and, on a second line, its short
    Chinese name (``design_short_name``), which the ids alone leave to the legend above."""
    short = design_short_name(res.meta.get("scenarios"), name, res.base)
    return f"{prefix}{name}" + (f"\n{short}" if short else "")


def _fits(text: str) -> bool:
    return all(display_width(line) <= TEXT_WIDTH for line in text.splitlines())


def _labels_whole(text: str, body: list[list[str]], left: list[bool]) -> bool:
    """Whether every line of the label cells (``left``) stands whole in the rendered table ``text`` (not wrapped)."""
    return all(line in text for row in body for cell, is_left in zip(row, left) if is_left
               for line in cell.splitlines())


def _table(heads: list[list[str]], body: list[list[str]], left: list[bool], title: str) -> str:
    """One block of comparison.txt: a text table whose labels wrap at TEXT_WIDTH; where it is still wider (large
    numbers with their intervals, long design names), or a label would wrap (a design's Chinese name broken inside a
    word, 50万 / 元), each interval goes on two lines, its value above its [5%, 95%], if that keeps the labels whole."""
    text = format_table(heads, body, left, title, width=TEXT_WIDTH)
    if _fits(text) and _labels_whole(text, body, left):
        return text
    split = [[cell if is_left else cell.replace(" [", "\n[") for cell, is_left in zip(row, left)] for row in body]
    stacked = format_table(heads, split, left, title, width=TEXT_WIDTH)
    return stacked if not _fits(text) or _labels_whole(stacked, split, left) else text


def _note(text: str) -> str:
    return "\n".join(wrap(text, TEXT_WIDTH))


def ranking_caveat(res: ComparisonResult) -> tuple[str, str] | None:
    """(zh, en) below a comparison's ranking when it says nothing (one design: ``ONE_DESIGN_NOTE``) or chance may have
    set its order: one run per design (every P is 0 or 1), or pairs of designs whose order changes from run to run
    (``unsettled_pairs``); None when none of these."""
    if not can_rank(len(res.designs)):
        return ONE_DESIGN
    runs = res.runs_per_design
    if runs < 2:
        return ("排名仅基于每方案1次运行：其先后可能是这次运行的偶然，P(第一)只能是0或100%；排序前请用多个种子或参数组。",
                "Ranked on one run per design: its order may be that run's luck, and P(first) can only be 0 or 100%; "
                "use several seeds or parameter draws before ranking.")
    pairs = unsettled_pairs(res.pairwise)
    if not pairs:
        return None
    listed = "; ".join(f"{a} > {b} {format_percent(p)}" for a, b, p in pairs)
    return (f"次序未定：{listed}。这些方案的先后随运行而变，应增加种子或参数组后再排序。",
            f"Order not settled: {listed}. Their order changes from run to run ({runs} runs per design): add seeds or "
            "parameter draws before ranking them.")


def budget_words(use: BudgetUse, who: tuple[str, str], most: bool) -> tuple[str, str]:
    """What runs spend under a budget lever (``BudgetUse``) against its budget, in Chinese and English: ``who`` spends
    at most (``most``: the largest yearly spending of any run, against the budget's smallest value) or on average (the
    mean yearly spending, against the mean budget) so much a year in its region over its years, that share of the
    budget. The one wording of compare's idle budgets (``idle_budget_text``) and the sweep's unspent ones."""
    spec = data.load("indicators")[use.column]
    y0, y1 = use.years
    value, budget = (use.most, use.smallest) if most else (use.mean, use.budget)
    share = f"{value / budget:.0%}"
    zh_where, en_where = region_label(use.region, "zh"), region_label(use.region, "en")
    how = ("至多", "at most") if most else ("平均", "on average")
    return (f"{use.path}（{spec['zh']}）：{who[0]}在{y0}–{y1}年{zh_where}每年{how[0]}支出{format_number(value)}万元，为其预算"
            f"{format_number(budget)}万元/年的{share}",
            f"{use.path} ({spec['en']}): {who[1]} spends {how[1]} {format_number(value)}万元 a year in {en_where} over "
            f"{y0}-{y1}, {share} of its {format_number(budget)}万元/yr budget")


def idle_budget_text(res: ComparisonResult, design: str) -> str:
    """Why ``design`` is its base again, where the runs show it (``idle_budgets``): each budget it changes that the
    base never uses up, with the most the base spends in a year and the budgets; "" where they do not show it."""
    parts = []
    for idle in idle_budgets(res.runs, res.meta.get("scenarios"), res.base, design):
        zh, en = budget_words(idle.use, ("基准", "the base"), most=True)
        mine = format_number(idle.design_budget)
        parts.append((f"{zh}（方案为{mine}万元/年）", f"{en} (the design's: {mine}万元/yr)"))
    if not parts:
        return ""
    zh, en = ("；".join(p[0] for p in parts), "; ".join(p[1] for p in parts))
    return (f"原因：{zh}。预算未用完，方案的预算亦然，故支出不变。 Why: {en}. The budget is not used up, nor would the "
            "design's be, so the spending does not change.")


def unspent_budget_text(res: ComparisonResult) -> str:
    """The designs that act but leave a budget they set materially unspent (``unspent_budgets``), each budget with
    what the design spends on average against it (``budget_words``), and what that means for the tables
    (``UNSPENT_NOTE``); "" where none does. A larger budget then buys nothing: the cost-effectiveness counts the money
    spent, not the budget."""
    parts = [budget_words(use, (f" {design} ", design), most=False)  # spaces: a line may break beside the id
             for design in res.designs if design not in getattr(res, "identical", ())  # (a store read back: none)
             for use in unspent_budgets(res.runs, res.meta.get("scenarios"), res.base, design)]
    if not parts:
        return ""
    share = f"{1 - UNSPENT_SHARE:.0%}"
    return (f"预算未用足（支出不足所设预算的{share}）： {'； '.join(p[0] for p in parts)}。{UNSPENT_NOTE[0]} Budget not used up "
            f"(under {share} of it spent): {'; '.join(p[1] for p in parts)}. {UNSPENT_NOTE[1]}")


STANDARD_RATE = 0.25  # 企业所得税法 art. 4: the bound on a carried deduction's tax where the base scenario is not at hand


def carried_deduction_text(res: ComparisonResult) -> str:
    """The designs whose super-deduction carried past the window's end (``qhsim.firms.carry_forward``) differs from
    the base's by a material amount: at the base's standard tax rate, at least ``MATERIAL`` of the design's extra
    public cost (mean over the paired runs). Its tax is future tax expenditure, in no year's public cost until a
    profit absorbs it (some of it lapses unused): R&D per yuan over the window leaves it out. "" where none does."""
    end = res.window[1]
    rows = res.changes[(res.changes["indicator"] == CARRIED_DEDUCTION) & (res.changes["period"] == str(end))]
    total = res.leverage[res.leverage["instrument"] == "total"].set_index("design")["extra_cost"]
    scenarios = res.meta.get("scenarios") or {}
    rate = (Scenario.model_validate(scenarios[res.base]).policy.tax.standard_rate.at(end) if res.base in scenarios
            else STANDARD_RATE)
    parts = []
    for r in rows.itertuples():
        carried = float(r.mean) / WAN_PER_YI
        if r.design not in total or not abs(carried) * rate >= MATERIAL * abs(float(total[r.design])):
            continue
        amount, bound = format_fixed(carried, MONEY_DIGITS, True), format_fixed(rate * abs(carried), MONEY_DIGITS)
        parts.append((f" {r.design} {amount}亿元（税额至多{'少' if carried < 0 else ''}{bound}亿元）",
                       f" {r.design} {amount}亿 (at most {bound}亿 {'less' if carried < 0 else 'more'} tax)"))
    if not parts:
        return ""
    return (f"加计扣除结转：{end}年末比基准多（负值为少）结转的加计扣除额（企业结转亏损中由加计扣除形成、应纳税所得额尚未弥补的部分，"
            f"以后年度盈利时在以前年度亏损之后弥补，部分到期作废）：{'；'.join(p[0] for p in parts)}。其税额为{end}年后的税式支出，"
            f"未计入上表公共成本。 Deduction carried past {end}: the R&D deduction's part of the firms' tax losses that "
            f"their taxable income has not absorbed by the end of {end}, more (or, negative, less) than the base's (a "
            f"later profit absorbs it after the older losses; some of it lapses):{';'.join(p[1] for p in parts)}. Its tax "
            f"is tax expenditure after {end}, not in the public cost above.")


def cost_notes(res: ComparisonResult) -> list[str]:
    """The notes below a comparison's cost-effectiveness tables on what its public cost leaves out: budgets set but
    not spent (``unspent_budget_text``), super-deductions carried past the window (``carried_deduction_text``)."""
    return [note for note in (unspent_budget_text(res), carried_deduction_text(res)) if note]


def identical_note(res: ComparisonResult) -> str | None:
    """The designs identical to the base in every run (``res.identical``), said plainly, each with its reason where
    the runs show it (``idle_budget_text``), and what the tables below leave out; None without such a design."""
    if not res.identical:
        return None
    number = {d: i for i, d in enumerate([res.base, *res.designs])}
    lines = []
    for design in res.identical:
        lines.append(f"方案{number[design]} {design}：与基准逐次相同 identical to the base in every run — 每次运行中各地区各指标各年"
                     f"均与基准相同，其变化皆为0。 Every indicator of every region in every year equals the base's, run "
                     f"by run: every change is 0. {idle_budget_text(res, design)}".rstrip())
    lines.append("下列各表不列这些方案，排名与两两比较亦不含它们（达标概率表中其列与基准相同）。 The tables below leave them out, "
                 "and so do the ranking and the pairwise table (in P(target met) their columns equal the base's).")
    return "\n".join(line for text in lines for line in wrap(text, TEXT_WIDTH))


def design_frame(res: ComparisonResult, point: int, region: str | None = None) -> pd.DataFrame:
    """The runs of design ``point`` (0: the base) as ``qhsim run`` holds an ensemble's indicators (one ``draw`` per
    run, with its weight), every region's or ``region``'s alone."""
    indicators = data.load("indicators")
    runs = res.runs if region is None else res.runs[res.runs["region"] == region]
    keep = ["year", "region", *([WEIGHT] if WEIGHT in runs else []), *(c for c in runs.columns if c in indicators)]
    part = runs[runs["point"] == point]
    return part[keep].assign(draw=part.groupby(["draw", "seed"]).ngroup().to_numpy())


def design_base_year_notes(res: ComparisonResult, region: str | None = None) -> list[str]:
    """``qhsim run``'s notes on targets already met in their plan's base year (``base_year_notes``: read that value as an
    upper estimate), for the P(target met) table and the targets it shows: each design's runs (the median over them)
    as ``qhsim run`` reads an ensemble, a note that holds for some designs only headed by their numbers. Without
    ``region``: every region's targets from the comparison's window on (the province's table); with it, that
    region's targets of every year (a prefecture's table)."""
    found: dict[str, list[int]] = {}
    for p in sorted(res.runs["point"].unique()):
        frame = design_frame(res, int(p), region)
        for note in base_year_notes(frame, from_year=res.window[0] if region is None else None):
            found.setdefault(note, []).append(int(p))
    every = len(res.designs) + 1
    return [note if len(points) == every else f"方案 designs {', '.join(map(str, points))}: {note}"
            for note, points in found.items()]


def _header(res: ComparisonResult, region: str) -> str:
    m = res.meta
    runs_per = res.runs_per_design
    start, end = res.window
    where = "" if region == PROVINCE else f" — 地区 region: {region_label(region)}"
    text = (f"政策方案比较 Design comparison — 基准 base: {res.base}{where}\n"
            + "".join(f"{line}\n" for line in design_legend(res))
            + f"每方案{runs_per}次运行 {runs_per} runs per design: 参数 draws {m['draws'] or 'point estimate'} x "
            f"种子 seeds {','.join(map(str, m['seeds']))}; 规模 scale {m['scale']:g}\n"
            + (draws_line(m["parameters"]) if m["draws"] else "")
            + "共同随机数 common random numbers: 每次运行与基准同参数同种子 each run paired with the base run.\n"
            f"区间：配对差值5%–95%分位 intervals: 5%-95% of paired changes; 共同窗口 common window {start}-{end}.")
    if (note := reduced_scale_note(m["scale"])) is not None:  # levels and the small prefectures swing below scale 1
        text += "\n" + _note(note)
    return text


def _change_blocks(res: ComparisonResult, changes: pd.DataFrame, keys: list[str], where: str) -> list[str]:
    """Each design's indicator changes (``keys``, those ``changes`` holds): the median change in each report year,
    the window mean with its 90% interval; ``where`` after the title (a prefecture's name)."""
    start, end = res.window
    periods = [str(y) for y in res.years]
    blocks = []
    for design in (d for d in res.designs if d not in res.identical):
        part = changes[(changes["design"] == design) & changes["indicator"].isin(keys)]
        heads = [["指标"] + [f"{p}年" for p in periods] + [f"{start}-{end}窗口均值"],
                 ["indicator"] + list(periods) + ["window mean [5%, 95%]"]]
        body = []
        for key in keys:
            rows = part[part["indicator"] == key].set_index("period")
            if rows.empty:
                continue
            w = rows.loc["window"]
            # the years and the window with the same decimals, enough to show the row's changes (``change_digits``)
            digits = change_digits(key, [*(rows.at[p, "median"] for p in periods), w["median"]])
            body.append([row_label(key, change=True)]
                        + [format_fixed(rows.at[p, "median"], digits, True) for p in periods]
                        + [format_interval(w["median"], w["p05"], w["p95"], signed=True, digits=digits)])
        blocks.append(_table(heads, body, [True] + [False] * (len(heads[0]) - 1),
                             f"{design} − {res.base}{where}: 指标变化（中位数；%指标为百分点） indicator changes (median; "
                             "pp for indicators in %)"))
    return blocks


def _money_blocks(res: ComparisonResult, tables: dict[str, pd.DataFrame], where: tuple[str, str]
                  ) -> tuple[list[str], list[str]]:
    """The cost-effectiveness and total-R&D tables of ``tables`` (``leverage``, ``costs``: the province's or a
    prefecture's, with the comparison's ranking) and the cells shown in place of R&D per yuan; ``where`` (zh, en)
    after the titles (a prefecture's name)."""
    start, end = res.window
    shown = [d for d in res.designs if d not in res.identical]
    answer = cost_effectiveness(shown, {**tables, "ranking": res.ranking})
    lev = tables["leverage"]
    # R&D per yuan is the ratio of the mean extra R&D to the mean extra cost, the headline figure of every output;
    # the ranking adds the median of the runs' ratios as a second column, named so
    heads = [["方案", "额外公共投入亿元", "税式支出", "额外企业研发亿元", "每元带动企业研发"],
             ["design", "extra public cost", "tax exp.", "extra business R&D", "R&D per public yuan"],
             ["", "均值", "均值", "均值", "均值之比"], ["", "mean", "mean", "mean", "ratio of means"]]
    money = {"signed": True, "digits": MONEY_DIGITS}
    body = [[design_cell(res, r.design), format_interval(r.extra_cost, r.extra_cost_p05, r.extra_cost_p95, **money),
             format_fixed(r.tax_expenditure, MONEY_DIGITS, True),
             format_interval(r.extra_rd, r.extra_rd_p05, r.extra_rd_p95, **money),
             _ratio(lev, r.design, "total", r.rd_per_yuan, r.rd_per_yuan_p05, r.rd_per_yuan_p95)]
            for r in answer.itertuples()]
    cells = [row[-1] for row in body]
    blocks = [_table(heads, body, [True, False, False, False, False],
                     f"成本效益{where[0]} Cost-effectiveness{where[1]}, {start}-{end} 累计 cumulative ([5%, 95%] 各次运行 "
                     "over the runs)") + "\n" + _note(PUBLIC_COST_NOTE)]
    # programmes that act through universities and institutes show here
    heads = [["方案", "额外公共部门研发亿元", "每元带动全社会研发"],
             ["design", "extra public-sector R&D", "total R&D per public yuan"],
             ["", "均值", "均值之比"], ["", "mean", "ratio of means"]]
    body = [[design_cell(res, r.design), format_fixed(r.extra_public_rd, MONEY_DIGITS, True),
             _ratio(lev, r.design, "total", r.total_rd_per_yuan, r.total_rd_per_yuan_p05, r.total_rd_per_yuan_p95,
                    business=False)]
            for r in answer.itertuples()]
    cells += [row[-1] for row in body]
    blocks.append(_table(heads, body, [True, False, False],
                         f"全社会研发（企业+高校院所）{where[0]} Total R&D: business + universities and institutes{where[1]}"))
    return blocks, cells


def _target_label(ind: str, region: str, kind: str, lab: str) -> str:
    """A P(target met) row's label: the indicator (``row_label``), its prefecture where not the province's, and for a
    2035 reference path which of the two it is (``lab``: 规划趋势外推 plan trajectory extrapolated, 达到全国2020水平
    national parity), as ``qhsim run`` labels it."""
    where = ("", "") if region == PROVINCE else (region_label(region, "zh"), region_label(region, "en"))
    ref = (f"（参考路径：{pick(lab, 'zh')}）", f"(reference path: {pick(lab, 'en')})") if kind == REFERENCE_KIND else ("", "")
    return row_label(ind, tuple(" ".join(filter(None, parts)) for parts in zip(where, ref)))


def _p_met(row: pd.DataFrame, design: str) -> str:
    """A P(target met) cell: the design's share of runs meeting the target (``row``: one target's rows of the targets
    table), with ``DETERMINISTIC_MARK`` where every run gave the same value, as ``qhsim run``'s tables mark it; "—"
    for a target not judged (another definition: no P(met)) or a design without the row."""
    mine = row[row["design"] == design]
    if mine.empty:
        return format_percent(math.nan)
    alike = "deterministic" in mine and bool(mine["deterministic"].iloc[0]) and pd.notna(mine["p_met"].iloc[0])
    return format_percent(mine["p_met"].iloc[0]) + (DETERMINISTIC_MARK if alike else "")


def _start_cells(res: ComparisonResult, region: str | None) -> tuple[int, dict[str, str]] | None:
    """Where a prefecture's plan starts, as its ``qhsim run`` table shows it: the year (``plan_base_years``; Haixi's
    2024) and each indicator's simulated value then (the base's median; before the window every design is the base);
    None for the province's table, a year with an observed value (2020: ``start_columns``) or one in the window."""
    year = plan_base_years().get(region) if region not in (None, PROVINCE) else None
    if year is None or year >= res.window[0]:
        return None
    table = summary_table(design_frame(res, 0, region), region)
    if f"sim_{year}" not in start_columns(table):
        return None
    return year, {key: format_value(v, key) for key, v in zip(table["indicator"], table[f"sim_{year}"])}


def _target_blocks(res: ComparisonResult, targets: pd.DataFrame, region: str | None = None) -> list[str]:
    """P(target met) of ``targets`` per design, one column per design number (``_p_met``: a target on another
    definition than the model's shows "—" in every column, its mark's note says it is not judged); the designs split
    over as few tables as fit TEXT_WIDTH (twelve designs and the base do not fit in one). A prefecture's (``region``)
    shows where its plan starts before the target (``_start_cells``)."""
    names = [res.base, *res.designs]
    # one row per target, each indicator's together in the table's order, without dropping a target whose P(met) is
    # blank for every design
    order = {key: i for i, key in enumerate(dict.fromkeys(targets["indicator"]))}
    wide = sorted(targets.groupby(["indicator", "region", "year", "kind", "label", "target"], sort=False, dropna=False),
                  key=lambda group: order[group[0][0]])
    plan = load_targets().set_index(["region", "indicator", "year"])

    def marks(region: str, ind: str, year: int) -> str:
        """The marks the run's tables give this plan target (restated, another definition; a verdict on an
        assumption), explained by the notes below (``plan_target_notes``); none for a 2035 reference path."""
        if (region, ind, year) not in plan.index:
            return ""
        t = plan.loc[(region, ind, year)]
        return target_mark(t) + met_mark(t)

    start = _start_cells(res, region)
    rows = [(_target_label(ind, where, kind, lab), str(year),
             *([start[1].get(ind, MISSING)] if start else []), target_value(value, kind, ind) + marks(where, ind, year),
             row) for (ind, where, year, kind, lab, value), row in wide]
    if not rows:
        return []
    title = "达标概率 P(target met) (列为方案编号 columns: design numbers)"
    numbers = list(range(len(names)))
    heads_zh, heads_en = ["目标", "年份", *([f"{start[0]}模拟"] if start else []), "目标值"], \
        ["target", "year", *([f"sim {start[0]}"] if start else []), "value"]
    for parts in range(1, len(names) + 1):
        blocks = []
        for group in np.array_split(numbers, parts):
            heads = [[*heads_zh, *map(str, group)], [*heads_en, *[""] * len(group)]]
            body = [[*cells, *(_p_met(row, names[i]) for i in group)] for *cells, row in rows]
            blocks.append(_table(heads, body, [True] + [False] * (len(heads_zh) - 1 + len(group)), title))
        if all(map(_fits, blocks)):
            break
    if start:
        blocks.append(_note(f"{start[0]}模拟：{region_label(region, 'zh')}规划起点年，基准各次运行的中位数（{res.window[0]}年以前各方案"
                            f"与基准相同）。 sim {start[0]}: the year {region_label(region, 'en')}'s plan starts from, the "
                            f"median of the base's runs (no design differs from the base before {res.window[0]})."))
    return blocks


def _target_notes(res: ComparisonResult, region: str | None) -> list[str]:
    """Below P(target met): what its band leaves out, what the long run rests on, the shown targets' restatements,
    caveats and unmodelled neighbours (``plan_target_notes``; the province's report shows the targets from the window
    on, a prefecture's all its own), and the targets already met in their plan's base year
    (``design_base_year_notes``)."""
    notes = [_note(band_caveat())]
    if (note := persistence_note()) is not None:  # the 2030/2035 targets' P(met) rests on it
        notes.append(_note(note))
    tg = res.targets
    shown = tg[tg["year"] >= res.window[0]] if region is None else tg[tg["region"] == region]
    # the targets whose P(met) carries DETERMINISTIC_MARK in some design's column (``_p_met``)
    alike = shown[shown["deterministic"].eq(True) & shown["p_met"].notna()] if "deterministic" in shown else shown[:0]
    found = [*plan_target_notes(zip(shown["region"], shown["indicator"], shown["year"]),
                                deterministic=zip(alike["region"], alike["indicator"])),
             *design_base_year_notes(res, region)]
    if found:
        notes.append("\n".join(line for note in found for line in wrap(note, TEXT_WIDTH)))
    return notes


def _province_blocks(res: ComparisonResult, cost: list[str] | None = None) -> list[str]:
    start, end = res.window
    blocks = _change_blocks(res, res.changes, list(CHANGE_INDICATORS), "")
    money, cells = _money_blocks(res, {"leverage": res.leverage, "costs": res.costs}, ("", ""))
    blocks += money
    shown = [d for d in res.designs if d not in res.identical]
    instruments = by_instrument(shown, {"leverage": res.leverage})  # its marks, as the workbook shows them
    instruments = instruments[instruments["instrument"] != "total"]
    total_cost = res.leverage[res.leverage["instrument"] == "total"].set_index("design")["extra_cost"]
    # as floats: a design whose instruments' costs did not move leaves an empty table, whose columns hold text
    material = (instruments["extra_cost"].astype(float).abs()
                >= MATERIAL * instruments["design"].map(total_cost).astype(float).abs())
    by_instr, notes = instruments[material], []
    if len(by_instr):
        heads = [["方案", "工具", "额外成本亿元", "每元带动研发"], ["design", "instrument", "extra cost", "R&D per yuan"],
                 ["", "", "均值", "均值之比"], ["", "", "mean", "ratio of means"]]
        body = [[r.design, row_label(r.instrument), format_fixed(r.extra_cost, MONEY_DIGITS, True),
                 short_mark(r.mark) or evidence_cell(format_interval(r.rd_per_yuan, r.rd_per_yuan_p05,
                                                                     r.rd_per_yuan_p95), r.evidence)]
                for r in by_instr.itertuples()]
        cells += [row[-1] for row in body]
        blocks.append(_table(heads, body, [True, True, False, False],
                             "分工具 By instrument: 方案额外研发/该工具额外成本 design's extra R&D / instrument's extra cost"))
    if left_out := int((~material).sum()):  # so the rows listed need not add up to the design's total
        notes.append(f"另有{left_out}行未列出（工具额外成本的绝对值不足方案合计的{MATERIAL:.0%}），见leverage.csv及工作簿“按工具 "
                     f"By instrument”表。 {left_out} more instrument row{'s are' if left_out > 1 else ' is'} not listed "
                     f"(extra cost, up or down, under {MATERIAL:.0%} of the design's total): see leverage.csv and the "
                     "workbook's 按工具 By instrument sheet.")
    if marks := short_mark_notes(set(cells)):  # the marks shown in place of R&D per yuan, each with its note
        notes.insert(0, marks)
    # R&D per yuan outside the micro evidence: the totals (cost-effectiveness, ranking) and the instruments listed
    judged = shown_evidence(res.leverage, shown) | set(zip(by_instr.get("evidence_key", []), by_instr.get("evidence", [])))
    if notes:
        blocks.append(_note(" ".join(notes)))
    if evidence := evidence_note({m for m in judged if m[1]}):  # a paragraph of its own: the mark starts its line
        blocks.append(_note(evidence))
    blocks += [_note(note) for note in (cost_notes(res) if cost is None else cost)]
    if res.budget is not None:
        b = res.budget
        heads = [["方案", "预算缩放", "调整前成本", "调整后成本", "状态"],
                 ["design", "budget scale", "cost before", "cost after", "status"]]
        body = [[r.design, format_fixed(r.scale, 2), format_fixed(r.extra_cost_before, MONEY_DIGITS, True),
                 format_fixed(r.extra_cost_after, MONEY_DIGITS, True), r.status] for r in b.itertuples()]
        blocks.append(_table(heads, body, [True, False, False, False, True],
                             f"预算中性 Budget-neutral: 额外成本对齐 extra cost matched to {res.designs[0]}"))
    blocks += _ranking_blocks(res)
    if res.identical:
        blocks.append(_note(f"未参与排名 Not ranked: {', '.join(res.identical)} — 与基准逐次相同 identical to the base in every "
                            "run (见开头 see the top)."))
    tg = res.targets
    if len(tg):
        if targets := _target_blocks(res, tg[tg["year"] >= start]):
            blocks += targets
            earlier = sorted({int(y) for y in tg["year"] if y < start})
            if earlier:  # before the window every design is the base: its targets would repeat the base's column
                blocks.append(_note(
                    f"{'、'.join(map(str, earlier))}年的目标未列出：{start}年以前各方案与基准相同。 Targets of "
                    f"{', '.join(map(str, earlier))} are not shown: no design differs from the base before {start}."))
            blocks += _target_notes(res, None)
    regions = "、".join(data.prefecture_ids())
    blocks.append(_note(f"各市州的指标变化、达标概率与本地支出带动的研发：qhsim compare … --region ID（{regions}）；各市州的指标"
                        "变化与本地每元研发亦见report.xlsx的“地区效应 Prefecture effects”表与report.html；changes.csv与"
                        "leverage.csv的region列含各市州的行。 Each prefecture's indicator changes, own targets and the R&D "
                        "per public yuan spent there: qhsim compare ... --region ID; every prefecture's changes and R&D per "
                        "public yuan are also in report.xlsx (its 地区效应 Prefecture effects sheet) and report.html; "
                        "changes.csv and leverage.csv hold every prefecture's rows (their region column)."))
    return blocks


def _ranking_blocks(res: ComparisonResult, where: tuple[str, str] = ("", "")) -> list[str]:
    """The ranking (by the comparison's metric: R&D per public yuan with its runs' median and the "— 不稳定 unstable"
    mark, or an indicator's window change) and the pairwise table of ``res``, with what may have set its order
    (``ranking_caveat``); the note that one design cannot be ranked. A prefecture's (``_region_blocks``) is ``res``
    with that prefecture's ranking, pairwise and leverage tables, ``where`` its name after the titles' words."""
    zh_where, en_where = where
    blocks: list[str] = []
    names = [res.base, *res.designs]
    rk = res.ranking
    if len(rk) and not can_rank(len(rk)):  # one design always ranks first: no ranking, no pairwise table
        blocks.append(_note(ONE_DESIGN_NOTE if not res.identical else
                            "只有一个方案与基准不同，无从排名，故不列排名与两两比较。 Only one design differs from the base: there is "
                            "nothing to rank, so no ranking or pairwise table is shown."))
    elif len(rk):
        metric = rk["metric"].iloc[0]
        ratio = metric in (RANK_DEFAULT, RANK_TOTAL)
        lower = "越低越好 lower is better; " if lower_is_better(metric) else ""
        if ratio:  # the headline ratio of means first, as in the cost-effectiveness table; the runs' median beside it
            zh, en = METRIC_HEADS[metric]
            heads = [["排名", "方案", zh, "各次运行比值", "P(第一)", "平均名次"],
                     ["rank", "design", en, "runs' ratios", "P(first)", "mean rank"],
                     ["", "", "均值之比", "中位数", "", ""], ["", "", "ratio of means", "median", "", ""]]
            total = res.leverage[res.leverage["instrument"] == "total"].set_index("design")
            lo, hi = ("p05", "p95") if metric == RANK_DEFAULT else ("total_p05", "total_p95")
            body = [[str(r.rank), design_cell(res, r.design),
                     _ratio(res.leverage, r.design, "total", *total.loc[r.design, [metric, lo, hi]],
                            business=metric == RANK_DEFAULT),
                     short_mark(ratio_mark(total.at[r.design, "extra_cost"])) if getattr(r, "unstable", False)
                     else format_number(r.median),
                     format_percent(r.p_first), format_fixed(r.mean_rank, 2)] for r in rk.itertuples()]
            title = (f"排名{zh_where} Ranking{en_where} ({ORDER}{lower}均值之比 ratio of means [5%, 95%]; 各次运行比值中位数 "
                     "median of the runs' ratios)")
        else:  # an indicator's window change, a signed change
            zh, en = row_label(metric, ("窗口均值变化", "window mean change"), change=True).split("\n")
            heads = [["排名", "方案", zh, "P(第一)", "平均名次"], ["rank", "design", en, "P(first)", "mean rank"],
                     ["", "", "各次运行中位数", "", ""], ["", "", "median over the runs", "", ""]]
            digits = change_digits(metric, rk["median"])
            body = [[str(r.rank), design_cell(res, r.design), format_interval(r.median, r.p05, r.p95, signed=True, digits=digits),
                     format_percent(r.p_first), format_fixed(r.mean_rank, 2)] for r in rk.itertuples()]
            title = f"排名{zh_where} Ranking{en_where} ({ORDER}{lower}中位数 median [5%, 95%])"
        blocks.append(_table(heads, body, [False, True, *[False] * (len(heads[0]) - 2)], title))
        if ratio:
            blocks.append(_note(RANKING_STATISTIC_NOTE))
        pw = res.pairwise
        num = {d: str(i) for i, d in enumerate(names)}
        heads = [["P(行胜列)"] + [num[b] for b in pw.columns], ["P(row beats column)"] + [""] * len(pw.columns)]
        body = [[design_cell(res, a, f"{num[a]} ")] + [format_percent(pw.at[a, b]) for b in pw.columns] for a in pw.index]
        blocks.append(_table(heads, body, [True] + [False] * len(pw.columns),
                             f"两两比较{zh_where} Pairwise{en_where} (列为方案编号 columns: design numbers)"))
        caveat = ranking_caveat(res)
        if caveat:
            blocks.append(_note(" ".join(caveat)))
    return blocks


def _region_blocks(res: ComparisonResult, region: str) -> list[str]:
    """A prefecture's answer: its indicator changes, P(target met) of its own plan targets (every year: a target
    before the window is the base's in every design), and the extra public money spent there with the extra R&D
    there, with what that cost covers and why the ratio is partial."""
    start, _ = res.window
    zh, en = region_label(region, "zh"), region_label(region, "en")
    if not res.regions:
        raise InputError(f"--region {region}: this comparison has no prefecture tables (a store of an older qhsim); "
                         "run its qhsim compare command again")
    parts = {name: table[table["region"] == region] for name, table in res.regions.items()}
    if parts["changes"].empty:
        raise InputError(f"--region {region}: the compared runs have no rows for it")
    own = res.targets[res.targets["region"] == region] if len(res.targets) else res.targets
    keys = change_indicators(res.targets, region)
    blocks = _change_blocks(res, parts["changes"], keys, f" · {zh} {en}")
    money, cells = _money_blocks(res, {"leverage": parts["leverage"], "costs": parts["costs"]}, (f" {zh}", f" {en}"))
    blocks += money
    notes = [regional_cost_note(zh, en)]
    if marks := short_mark_notes(set(cells)):
        notes.append(marks)
    if evidence := evidence_note(shown_evidence(parts["leverage"], res.designs)):
        notes.append(evidence)
    notes.append("分工具表为全省口径，见comparison.txt（不带--region的报告）。 The by-instrument table is the province's: see "
                 "comparison.txt (the report without --region).")
    blocks.append("\n".join(map(_note, notes)))
    ranking, pairwise = region_ranking(res, region)  # on the R&D there per public yuan spent there: partial as above
    blocks += _ranking_blocks(dataclasses.replace(res, ranking=ranking, pairwise=pairwise,
                                                  leverage=parts["leverage"]), (f" {zh}", f" {en}"))
    if targets := _target_blocks(res, own, region):
        blocks += targets
        earlier = sorted({int(y) for y in own["year"] if y < start})
        if earlier:  # before the window every design is the base
            blocks.append(_note(f"{'、'.join(map(str, earlier))}年的目标：{start}年以前各方案与基准相同，其概率即基准的。 The "
                                f"targets of {', '.join(map(str, earlier))}: no design differs from the base before "
                                f"{start}, so their P(target met) is the base's."))
        blocks += _target_notes(res, region)
    else:
        blocks.append(_note(f"{zh}在比较年限内没有本地规划目标。 {en} has no plan target of its own within the comparison's "
                            "years."))
    return blocks


def format_comparison(res: ComparisonResult, region: str = PROVINCE, cost: list[str] | None = None) -> str:
    """The comparison as text (comparison.txt, the terminal), TEXT_WIDTH wide: the province's answer, or with
    ``region`` a prefecture's (``qhsim compare --region``: its indicator changes, own targets and the money spent
    there). Designs identical to the base in every run are said so at the top and left out of the tables.
    ``cost``: the province's ``cost_notes`` where the caller has them already (``write_comparison``)."""
    blocks = [_header(res, region)]
    if (note := identical_note(res)) is not None:
        blocks.append(note)
    blocks += _province_blocks(res, cost) if region == PROVINCE else _region_blocks(res, region)
    return "\n\n".join(blocks) + "\n"


class Charted(NamedTuple):
    """What the charts that follow the ranking plot (``cost_effectiveness.png``, the dashboard's comparison chart):
    a column of the leverage table plotted against the extra public cost (with its ``_p05``/``_p95``), the ratio
    (named in the legend; the dashboard plots it with its band columns ``ratio_band``), the y label (two lines where
    one would be cut off) and the title's subject."""

    extra: str
    ratio: str
    ratio_band: tuple[str, str]
    label: str
    subject: str


CHARTED = {  # by the comparison's ranking metric; an indicator ranking plots business R&D
    RANK_DEFAULT: Charted("extra_rd", "rd_per_yuan", ("p05", "p95"), "额外企业研发 Extra business R&D",
                          "成本效益 Cost-effectiveness"),
    RANK_TOTAL: Charted("extra_total_rd", "total_rd_per_yuan", ("total_p05", "total_p95"),
                        "额外全社会研发（企业+高校院所） Extra total R&D\n(business + universities and institutes)",
                        "全社会研发成本效益 Cost-effectiveness, total R&D"),
}


def charted(res: ComparisonResult) -> Charted:
    """What the chart plots: total R&D (business + universities' and institutes') when the comparison was ranked by
    total R&D per public yuan, business R&D otherwise."""
    return CHARTED.get(ranking_metric(res), CHARTED[RANK_DEFAULT])


def cost_effectiveness_chart(res: ComparisonResult, path: Path) -> Path:
    """Save ``cost_effectiveness_figure`` to ``path`` (PNG)."""
    from qhsim.output.charts import chart_style

    with chart_style():
        cost_effectiveness_figure(res).savefig(path, dpi=110)
    return path


def cost_effectiveness_figure(res: ComparisonResult) -> Figure:
    """Extra R&D against extra public cost in the whole province (titled so), one point per design with 90% intervals
    both ways: business R&D, or total R&D when the comparison was ranked by total R&D per public yuan
    (``charted``)."""
    from matplotlib.figure import Figure

    from qhsim.output.charts import readable

    what = charted(res)
    lev = with_evidence(res.leverage)  # a design's total is judged by the instrument rows it sets
    lev = lev[lev["instrument"] == "total"]
    fig = Figure(figsize=(7.5, 5.2), layout="constrained")
    ax = fig.add_subplot()
    handles = []
    # each point is marked with its design's number (as in comparison.txt), the legend names it: long names at
    # the points overlapped when two designs cost and buy about the same
    number = {d: i for i, d in enumerate([res.base, *res.designs])}
    marks = set()  # (evidence key, side) of the ratios marked in the legend: their meaning follows the designs
    for r, side in zip(lev.to_dict("records"), charted_evidence(lev, what.ratio)):
        y, lo, hi = r[what.extra], r[f"{what.extra}_p05"], r[f"{what.extra}_p95"]
        if side:
            marks.add((r["evidence_key"], side))
        ratio = readable(ratio_mark(r["extra_cost"])) if r.get("unstable") else evidence_cell(
            format_number(r[what.ratio]), side) + " yuan/yuan"
        name = " ".join(filter(None, (r["design"], design_short_name(res.meta.get("scenarios"), r["design"], res.base))))
        handles.append(ax.errorbar(
            r["extra_cost"], y, xerr=[[max(0.0, r["extra_cost"] - r["extra_cost_p05"])],
                                      [max(0.0, r["extra_cost_p95"] - r["extra_cost"])]],
            yerr=[[max(0.0, y - lo)], [max(0.0, hi - y)]],
            fmt="o", capsize=4, label=f"{number[r['design']]} {name}: {ratio}"))
        ax.annotate(str(number[r["design"]]), (r["extra_cost"], y), textcoords="offset points", xytext=(5, 5),
                    fontsize=10, color=handles[-1].lines[0].get_color())  # the shipped CJK font has no bold
    lim = max([1e-9, *lev["extra_cost_p95"].abs().fillna(0), *lev["extra_cost"].abs().fillna(0)])
    # lines of equal R&D per yuan, named in the legend (a label at a line's end sat on the costliest design)
    for k, style in ((2.0, "-."), (1.0, "--"), (0.5, ":")):
        handles += ax.plot([0, lim], [0, k * lim], style, color="grey", lw=0.8,
                           label=f"每元{k:g}元 {k:g} yuan per yuan")
    handles += [ax.plot([], [], " ", label=line)[0] for line in evidence_legend(marks)]
    ax.axhline(0, color="black", lw=0.5)
    ax.axvline(0, color="black", lw=0.5)
    start, end = res.window
    ax.set_xlabel(readable(f"额外公共投入（财政支出+税式支出） Extra public cost, spending + tax expenditure {start}-{end}"
                           " (亿元 100m yuan)"))
    ax.set_ylabel(readable(f"{what.label} {start}-{end} (亿元 100m yuan)"))
    # the province's totals, also when qhsim compare --region printed a prefecture's answer (with other ratios)
    ax.set_title(readable(f"{what.subject} · {region_label(PROVINCE)} vs {res.base} (均值与90%区间 mean, 90% interval)"),
                 fontsize=10)
    ax.legend(handles=handles, fontsize=7, loc="best")
    return fig


def write_comparison(res: ComparisonResult, charts: bool = True, region: str = PROVINCE) -> str:
    """Write the comparison files into its store folder (``compare(out=...)``; each file atomically), the
    workbook and HTML report (``qhsim.output.export``), and mark the store complete; return the text: the province's
    (comparison.txt), or with a prefecture ``region`` that prefecture's answer, also written to
    ``comparison_<region>.txt`` (``qhsim compare --region``)."""
    from qhsim.output.export import write_html, write_xlsx
    from qhsim.output.tidy import from_comparison

    if res.store is None:
        raise ValueError("write_comparison needs a comparison run with out=FOLDER")
    store, out = res.store, res.store.out
    # the workbook and the HTML report say what comparison.txt says of the public cost's omissions, budgets set but
    # not spent and deductions carried past the window (``from_comparison`` reads them from the meta, and a store read
    # back from its manifest: the output package cannot compute them)
    res.meta["cost_notes"] = notes = cost_notes(res)
    text = format_comparison(res, cost=notes)
    # changes.csv and leverage.csv with every prefecture's rows below the province's (``stored_table``)
    tables = {name: stored_table(res, name) for name in ("changes", "costs", "leverage", "targets", "ranking")}
    tables["pairwise"] = res.pairwise.rename_axis("design").reset_index()
    if res.budget is not None:
        tables["budget"] = res.budget
    for name, table in tables.items():
        write_atomic(out / f"{name}.csv", lambda tmp, t=table: t.to_csv(tmp, index=False, encoding="utf-8-sig"))
    write_atomic(out / "comparison.txt", lambda tmp: tmp.write_text(text, encoding="utf-8"))
    files = [*(f"{n}.csv" for n in tables), "comparison.txt", "report.xlsx", "report.html"]
    if region != PROVINCE:
        text = format_comparison(res, region)
        write_atomic(out / f"comparison_{region}.txt", lambda tmp: tmp.write_text(text, encoding="utf-8"))
        files.append(f"comparison_{region}.txt")
    if charts:
        cost_effectiveness_chart(res, out / "cost_effectiveness.png")
        files.append("cost_effectiveness.png")
    results = from_comparison(res)
    results.folder = out
    write_xlsx(results, out / "report.xlsx")
    write_html(results, out / "report.html", charts=charts)
    store.complete({"window": list(res.window), "files": sorted(files),
                    "analysed_runs": list(dict.fromkeys(res.runs["run_key"])), "cost_notes": notes})
    return text
