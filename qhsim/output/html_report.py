"""HTML report HTML报告 (jinja2): ``render_html(results) -> str``, one self-contained bilingual page.

It opens offline: the charts are embedded as base64 PNG, the style is inline, nothing is fetched. It holds
the scenario's description (for a comparison each design's, numbered) and levers, the headline table against
targets, reported vs real R&D in the milestone years, the overview chart and one chart per plan indicator, the
prefectures with their own targets, for several designs the ranking with 90% intervals and how to read it (for a
comparison first each design's cost-effectiveness and the comparison's ``cost_effectiveness.png``, its extra cost
and R&D per yuan by instrument and its pairwise P(row beats column); for a sweep its points' cost-effectiveness), a
comparison's effects in every prefecture (the money spent and R&D there, and the indicators' changes, as ``qhsim
compare --region`` prints them), and the assumptions and calibration status. Tables and charts that hold a few designs show the base and the best by the
ranking (``qhsim.output.tables.shown_designs``) and say right under them which they leave out.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from qhsim import __version__, data
from qhsim.output.numbers import (MISSING, MONEY_DIGITS, format_fixed, format_interval, format_number, format_percent,
                                  format_value)
from qhsim.output.report import (band, band_caveat, base_year_notes, cell_text, column_header, draw_weights,
                                 indicator_label, other_population, paths_of, persistence_note, prefecture_anchor_note,
                                 reduced_scale_note, region_label, region_paths, report_years, sim_columns, source_notes,
                                 summary_columns)
from qhsim.output.tables import (BANDED, BY_INSTRUMENT, CHANGE_INDICATORS, COST_EFFECTIVENESS, DESIGNS, DESIGNS_NOTE,
                                 INSTRUMENT_BANDED, SECTIONS, SWEEP_BANDED, SWEEP_COST_EFFECTIVENESS, SWEEP_MEANS_NOTE,
                                 by_instrument, by_instrument_note, cost_effectiveness, cost_effectiveness_note,
                                 design_name, designs, difference_header, headline, omitted_cost_notes, pairwise,
                                 pairwise_note, pairwise_row_label, prefecture_effects,
                                 prefecture_effects_notes, ranking, ranking_note, shown_designs, statistic_label,
                                 sweep_cost_effectiveness, sweep_cost_effectiveness_note, target_regions, WIDE_UNRANKED)
from qhsim.output.folders import atomic_file, silent
from qhsim.evidence import evidence_cell
from qhsim.output.tidy import (Results, beijing_time, calibration_distance, kind_label, lever_name, lever_text,
                               meta_text, runs_text, seeds_text, versions_text)
from qhsim.results import FISCAL_PREFIXES, PROVINCE, WIDE_MARK, ratio_wide

MAX_CHART_DESIGNS = 8  # more lines than this on one chart cannot be told apart
MAX_TABLE_DESIGNS = 4  # headline tables for the base and the best designs by ranking; the workbook has every design
# the prefectures' tables are short: every design of a comparison (at most 12 besides the base), a sweep's best
MAX_PREFECTURE_DESIGNS = 13
# reported vs real R&D: the plan indicators count reported R&D, knowledge and patents follow real R&D
REAL_RD = ("business_rd", "business_rd_real", "rd_intensity", "rd_intensity_real", "relabelled_rd_share")
REAL_RD_NOTE = ("规划指标按企业申报的研发经费计算（含为享受加计扣除或达到高企门槛而归入研发的非研发支出）；知识积累、专利和增长"
                "随实际研发变化。 Plan indicators count reported R&D, which includes the non-R&D spending firms relabel as "
                "R&D for the super-deduction or the HTE threshold; knowledge, patents and growth follow real R&D.")


def _env() -> Environment:
    env = Environment(loader=PackageLoader("qhsim.output", "templates"), autoescape=select_autoescape(["html", "j2"]))
    env.filters["breakable"] = breakable
    return env


def breakable(text: object) -> Markup:
    """A column header that may break after each "_", "=" and ";" of a sweep point's levers ("p12: grant_budget=60,000;
    super_deduction=2"): unbroken, nine such columns ran 400 px past the page at 1366 px."""
    return Markup(re.sub(r"([_=;])", r"\1<wbr>", str(escape(text))))


def _b64(png: bytes) -> str:
    return base64.b64encode(png).decode("ascii")


def _table_block(table: pd.DataFrame, title: str, statistic: str = "") -> dict[str, Any]:
    """A headline table: the compact columns with the observed values' sources, and the notes on restated ones; the
    simulated years' columns headed with ``statistic`` (``statistic_label``: what a value of several runs is)."""
    columns = summary_columns(table, wide=False, sources=True)
    rows = []
    for _, row in table.iterrows():
        cells = []
        for c in columns:
            # an ensemble's band and a target's year below the value, as the terminal stacks them (td.num keeps the line
            # break): the columns stay narrow enough for the labels on a half-screen window
            text = cell_text(row, c, stacked=c != "met")
            cls = "source" if c == "observed_source" else "" if c in ("label", "status", "met") else "num"
            if c == "met" and isinstance(row[c], str):
                cls = "yes" if row[c].startswith("是") else "no" if row[c].startswith("否") else ""  # 口径不同: not judged
            cells.append({"text": text, "cls": cls})
        rows.append(cells)
    heads = [" ".join(column_header(c)) + (f", {statistic} [5%, 95%]" if statistic and (c in sim_columns(table)
                                                                                          or c == "rate") else "")
             for c in columns]
    return {"title": title, "heads": heads, "rows": rows, "notes": source_notes(table)}


def _headline_blocks(results: Results, table: pd.DataFrame, shown: list[str]) -> list[dict[str, Any]]:
    """The province's headline tables of the ``shown`` designs, one per design and section."""
    blocks = []
    for design in shown:
        part = table[(table["design"] == design) & (table["region"] == PROVINCE)]
        for section in part["section"].unique():
            rows = part[part["section"] == section]
            if section == SECTIONS["other"]:  # the terminal's rows without a target; spending has its own section
                rows = rows[~rows["indicator"].str.startswith(FISCAL_PREFIXES)]
            region = rows["region"].iloc[0]
            title = f"{region_label(region)} · {section}" + (f" · {design}" if len(results.designs) > 1 else "")
            blocks.append(_table_block(rows, title, statistic_label(results)))
    return blocks


def _real_rd_blocks(results: Results, shown: list[str]) -> list[dict[str, Any]]:
    """Reported vs real R&D (``REAL_RD``) in the province in the milestone years (``REPORT_YEARS`` the runs
    reach, and their last): the median, and its 5%–95% band for several runs; one table per design of ``shown``."""
    blocks = []
    statistic = statistic_label(results)
    several = results.n_draws() > 1
    for design in shown:
        wide = results.wide(design)
        every, weights = region_paths(wide, PROVINCE), draw_weights(wide)
        keys = [k for k in REAL_RD if not paths_of(every, k).isna().all(axis=None)]
        years = list(report_years(int(every.index.max())))
        if not keys or not years:
            continue
        rows = []
        for key in keys:
            stats = band(paths_of(every, key), weights)
            cells = []
            for year in years:
                text = (format_interval(*stats.loc[year, ["median", "lo", "hi"]], key=key) if several
                        else format_value(stats.at[year, "median"], key))
                cells.append({"text": text, "cls": "num"})
            rows.append([{"text": indicator_label(key), "cls": ""}, *cells])
        heads = ["指标 indicator", *(f"{y}模拟 sim {y}" + (f", {statistic} [5%, 95%]" if statistic else "")
                                    for y in years)]
        blocks.append({"title": region_label(PROVINCE) + (f" · {design}" if len(results.designs) > 1 else ""),
                       "heads": heads, "rows": rows})
    return blocks


def _cost_effectiveness_block(results: Results, charts: bool) -> dict[str, Any] | None:
    """The answer per design as a table: a comparison's (``qhsim.output.tables.cost_effectiveness``), with the
    comparison's ``cost_effectiveness.png`` when its folder holds one (``qhsim compare`` draws it before the report),
    or a sweep's (``sweep_cost_effectiveness``: each point in each report year, sorted by R&D per yuan)."""
    sweep = results.kind == "sweep"
    table = sweep_cost_effectiveness(results) if sweep else cost_effectiveness(results.designs[1:], results.tables)
    if table.empty:
        return None
    spec, banded = (SWEEP_COST_EFFECTIVENESS, SWEEP_BANDED) if sweep else (COST_EFFECTIVENESS, BANDED)
    shown = [c for c in spec if c in table]  # rank and P(first): not for one design (``can_rank``)
    heads = [spec[c] for c in shown]
    rows = []
    for r in table.to_dict("records"):
        cells = []
        for c in shown:
            if c == "design":
                cells.append({"text": design_name(results, r[c]), "cls": ""})
                continue
            ratio = c.endswith("per_yuan") or c == "runs_median"
            if ratio and r.get("mark"):
                text = r["mark"] if c.endswith("per_yuan") else MISSING
            elif c in banded and ratio:  # business R&D per yuan with its mark outside the micro evidence
                text = evidence_cell(format_interval(r[c], r[f"{c}_p05"], r[f"{c}_p95"]),
                                     r["evidence"] if c == "rd_per_yuan" else "")
                text += WIDE_MARK if sweep and ratio_wide(r[c], r[f"{c}_p05"], r[f"{c}_p95"]) else ""
            elif c in banded:  # 亿元, a change against the base
                text = format_interval(r[c], r[f"{c}_p05"], r[f"{c}_p95"], signed=True, digits=MONEY_DIGITS)
            elif c == "tax_expenditure":
                text = format_fixed(r[c], MONEY_DIGITS, True)
            elif c == "runs_median":
                text = format_number(r[c])
            elif c == "rank" and r.get("wide"):  # a sweep's point whose R&D per yuan is too wide to rank
                text = WIDE_UNRANKED
            elif c in ("rank", "year", "rd_per_yuan_runs"):
                text = "—" if pd.isna(r[c]) else str(int(r[c]))
            else:
                text = format_percent(r[c])
            cells.append({"text": text, "cls": "num"})
        rows.append(cells)
    if sweep:
        start = results.meta.get("from_year")
        return {"title": f"成本效益 Cost-effectiveness, 自{start}年起累计 cumulated from {start} (均值 mean [5%, 95%])",
                "heads": heads, "rows": rows, "note": sweep_cost_effectiveness_note(results, table), "chart": None}
    start, end = results.meta.get("window") or (None, None)
    png = results.folder / "cost_effectiveness.png" if results.folder is not None else None
    return {"title": f"成本效益 Cost-effectiveness, {start}-{end} 累计 cumulative (均值 mean [5%, 95%])",
            "heads": heads, "rows": rows, "note": cost_effectiveness_note(results, table),
            "cost_notes": omitted_cost_notes(results),
            "chart": _b64(png.read_bytes()) if charts and png is not None and png.is_file() else None}


def _by_instrument_block(results: Results) -> dict[str, Any] | None:
    """A comparison's extra cost and R&D per yuan by instrument (``qhsim.output.tables.by_instrument``): mean [5%, 95%],
    the design named on its total row (in bold) and the mark comparison.txt prints in place of a ratio not to read."""
    table = by_instrument(results.designs[1:], results.tables)
    if table.empty:
        return None
    heads = [BY_INSTRUMENT["design"], BY_INSTRUMENT["instrument_label"],
             *(f"{BY_INSTRUMENT[c]} {'均值之比 ratio of means' if c == 'rd_per_yuan' else '均值 mean'} [5%, 95%]"
               for c in INSTRUMENT_BANDED)]
    rows, last = [], None
    for r in table.to_dict("records"):
        total = r["instrument"] == "total"
        cells = [{"text": design_name(results, r["design"]) if r["design"] != last else "", "cls": "total" if total else ""},
                 {"text": r["instrument_label"], "cls": "total" if total else ""}]
        for c in INSTRUMENT_BANDED:
            if c == "rd_per_yuan":  # yuan per yuan as the cost-effectiveness table writes it, or comparison.txt's mark
                text = r["mark"] or evidence_cell(format_interval(r[c], r[f"{c}_p05"], r[f"{c}_p95"]), r["evidence"])
            else:  # 亿元 with two decimals, signed (a change against the base)
                text = format_interval(r[c], r[f"{c}_p05"], r[f"{c}_p95"], signed=True, digits=MONEY_DIGITS)
            cells.append({"text": text, "cls": "num total" if total else "num"})
        rows.append(cells)
        last = r["design"]
    start, end = results.meta.get("window") or (None, None)
    return {"title": f"按工具 By instrument, {start}-{end} 累计 cumulative (均值 mean [5%, 95%])", "heads": heads,
            "rows": rows, "note": by_instrument_note(results, table), "cls": "by-instrument"}


def _pairwise_block(results: Results) -> dict[str, Any] | None:
    """A comparison's P(row design beats column design) (``qhsim.output.tables.pairwise``) in %, the designs
    numbered as in comparison.txt, "—" on the diagonal."""
    table = pairwise(results.designs, results.tables)
    if table.empty:
        return None
    designs, labels = list(table["design"]), table.attrs["labels"]
    rows = [[{"text": pairwise_row_label(results, r), "cls": "total"},
             *({"text": MISSING if d == r["design"] else format_percent(r[d]), "cls": "num"} for d in designs)]
            for r in table.to_dict("records")]
    return {"title": "两两比较 Pairwise: P(行方案胜过列方案 row design beats column design)",
            "heads": ["P(行胜列) P(row beats column)", *(labels[d] for d in designs)], "rows": rows,
            "note": pairwise_note(results, table), "cls": "pairwise"}


PREFECTURE_EFFECT_MONEY = ("extra_cost", "extra_rd", "rd_per_yuan")  # the money rows the HTML shows (the workbook: all)


def _prefecture_effects_section(results: Results, shown: list[str]) -> dict[str, Any] | None:
    """A comparison's answer in every prefecture (``qhsim.output.tables.prefecture_effects``), compact: one table per
    design of ``shown`` (not the base), a column per prefecture (all eight: each bureau finds its own, whichever
    prefectures the designs target), rows the money spent there (extra public cost, extra business R&D, R&D per public
    yuan or the mark in its place) and the changes of ``CHANGE_INDICATORS`` over the window, each with its 90% interval
    below it; what the money covers, why the ratio is partial, and where the rest is (the workbook's sheet, ``qhsim
    compare --region``) in the notes. None without the prefecture tables."""
    table = prefecture_effects([d for d in shown if d != results.designs[0]], results.tables)
    if table.empty:
        return None
    start, end = results.meta.get("window") or (None, None)
    regions = list(dict.fromkeys(table["region"]))
    items = [*PREFECTURE_EFFECT_MONEY, *CHANGE_INDICATORS]
    blocks = []
    for design, part in table.groupby("design", sort=False):
        cells = part.set_index(["item", "region"])
        rows = []
        for item in (i for i in items if i in set(part["item"])):
            first = cells.loc[item].iloc[0]
            money = first["kind"] == "money"
            label = first["label"] if money else indicator_label(item)
            row = [{"text": label, "cls": "total" if item == "rd_per_yuan" else ""}]
            for region in regions:
                if (item, region) not in cells.index:
                    row.append({"text": MISSING, "cls": "num"})
                    continue
                r = cells.loc[(item, region)]
                if r["mark"]:  # its English under its Chinese: the column stays as narrow as a number's
                    text = re.sub(r" (?=[A-Za-z])", "\n", r["mark"], count=1)
                else:  # a change against the base (亿元 or an indicator's), yuan per yuan not; the row's decimals
                    text = evidence_cell(format_interval(r["window"], r["p05"], r["p95"], signed=item != "rd_per_yuan",
                                                         digits=int(r["digits"]), sep="\n"), r["evidence"])
                row.append({"text": text, "cls": "num total" if item == "rd_per_yuan" else "num"})
            rows.append(row)
        blocks.append({"title": f"{design_name(results, design)} − {results.designs[0]}, {start}-{end} (窗口均值变化与累计 window change and "
                                f"cumulative, [5%, 95%])",
                       "heads": ["项目 item", *(region_label(r) for r in regions)], "rows": rows})
    lead = ("全部8个市州，每方案一表，每市州一列：无论方案针对哪些市州，各市州科技部门都能找到本地的一列。资金为在该市州支出的公共资金与"
            "该市州的研发；指标为窗口均值变化的中位数。各年变化、本地目标指标与全社会研发见工作簿“地区效应 Prefecture effects”表。 "
            "All eight prefectures, one table per design and a column per prefecture, so that each prefecture's bureau "
            "finds its own column whichever prefectures the designs target. Money: the public money spent in the "
            "prefecture and the R&D there; indicators: the median change of the window mean. Each year's change, the "
            "indicators of a prefecture's own targets and total R&D: the workbook's 地区效应 Prefecture effects sheet.")
    return {"lead": lead, "blocks": blocks, "notes": prefecture_effects_notes(results, table)}


def _designs_block(results: Results) -> dict[str, Any] | None:
    """A comparison's designs (``qhsim.output.tables.designs``), numbered, each with what it is; None otherwise."""
    table = designs(results)
    if table.empty:
        return None
    rows = [[{"text": r["number"], "cls": "num"}, {"text": r["design"], "cls": "total" if r["number"] == 0 else ""},
             {"text": r["role"], "cls": ""}, {"text": r["description"], "cls": ""}] for r in table.to_dict("records")]
    return {"heads": list(DESIGNS.values()), "rows": rows, "note": DESIGNS_NOTE}


def _ranking_blocks(results: Results, shown: list[str]) -> tuple[list[dict[str, Any]], str]:
    """The key indicators of the ``shown`` designs side by side (``qhsim.output.tables.ranking``), one table per year, a
    row per indicator and a column per design: its median and 90% interval, and below them its difference from the
    base (paired by run, with its interval: a change, in the decimals of ``change_digits``) and its rank; and how to
    read them (``ranking_note``)."""
    table = ranking(results)
    if table.empty or len(results.designs) < 2:
        return [], ""
    base = results.designs[0]
    table = table[table["design"].isin(shown)]
    blocks = []
    for year, part in table.groupby("year", sort=False):
        rows = []
        for key, group in part.groupby("indicator", sort=False):
            cells = group.set_index("design")
            row = [{"text": indicator_label(key), "cls": ""}]
            for design in shown:
                if design not in cells.index:
                    row.append({"text": MISSING, "cls": "num"})
                    continue
                r = cells.loc[design]
                several = r["draws"] > 1
                text = (format_interval(r["median"], r["lo"], r["hi"], key=key) if several
                        else format_value(r["median"], key))
                digits = int(r["digits"])
                if design != base:
                    text += "\nΔ " + (format_interval(r["diff"], r["diff_lo"], r["diff_hi"], True, digits) if several
                                       else format_fixed(r["diff"], digits, True))
                text += f"\n第{int(r['rank'])}名 rank {int(r['rank'])}"
                row.append({"text": text, "cls": "num"})
            rows.append(row)
        heads = ["指标 indicator", *(f"{d}（基准 base）" if d == base else d for d in shown)]
        blocks.append({"title": f"{year}: 中位数 median [5%, 95%] · Δ {difference_header(results)} · 名次 rank",
                       "heads": heads, "rows": rows})
    return blocks, ranking_note(results, table)


def _targets_block(results: Results, table: pd.DataFrame, shown: list[str]) -> dict[str, Any] | None:
    """Several designs' targets side by side: a row per target of ``table`` (``headline`` rows: the province's plan
    targets, the 2035 reference paths, the prefectures' own targets), a column per design of ``shown``: the value in the
    target year (a growth target: its gap in percentage points) over P(met) (one run: met or not), coloured by the
    verdict. A comparison leaves out the targets before its window (every design is the base there). The rows and
    notes follow ``shown``, whatever the order of the designs in ``table``. None for one design."""
    if len(shown) < 2:
        return None
    start = (results.meta.get("window") or [None])[0]
    rows_of = table[table["target"].notna() & table["design"].isin(shown)]
    # plan targets first, paths last; within a section the designs in the order of ``shown`` (the first to hold a
    # target places its row)
    order = {"section": {SECTIONS["plan"]: 0, SECTIONS["own"]: 1, SECTIONS["reference"]: 2},
             "design": {d: i for i, d in enumerate(shown)}}
    rows_of = rows_of.sort_values(["section", "design"], key=lambda s: s.map(order[s.name]).fillna(3), kind="stable")
    if start is not None:
        rows_of = rows_of[rows_of["target_year"].astype(int) >= int(start)]
    if rows_of.empty:
        return None
    keys = ["region", "section", "indicator", "label", "target", "target_year"]
    rows = []
    for (region, section, key, label, target, year), group in rows_of.groupby(keys, sort=False, dropna=False):
        first = group.iloc[0]
        where = "" if region == PROVINCE else f"\n{region_label(region)} · {SECTIONS['own']}"
        row = [{"text": f"{label}{where}", "cls": ""},
               {"text": cell_text(first, "target", stacked=True), "cls": "num"}]
        cells = group.set_index("design")
        for design in shown:
            if design not in cells.index:
                row.append({"text": MISSING, "cls": "num"})
                continue
            r = cells.loc[design]
            growth = r.get("target_kind") == "growth"
            value = cell_text(r, "gap") + " 差距 gap" if growth else format_value(r.get(f"sim_{int(year)}"), key)
            verdict = cell_text(r, "p_met") if "p_met" in r.index else cell_text(r, "met", stacked=True)
            met = str(r["met"] or "")
            cls = "num yes" if met.startswith("是") else "num no" if met.startswith("否") else "num"
            row.append({"text": f"{value}\n{verdict}", "cls": cls})
        rows.append(row)
    several = results.n_draws() > 1
    heads = ["目标 target", "目标值（年份） value (year)",
             *(f"{d}（基准 base）" if d == results.designs[0] else d for d in shown)]
    what = ("目标年的中位数与达标概率 the median in the target year and P(met)" if several
            else "目标年的数值与是否达标 the value in the target year and whether it is met")
    notes = [("每格：" + what.split(" ", 1)[0] + "（增长目标：年均增长率与目标之差，百分点）；绿色为（中位数）达标，红色为未达标。"
              + (f"{start}年以前各方案与基准相同，其目标不列出。" if start else "")
              + f" Each cell: {what.split(' ', 1)[1]} (a growth target: its yearly growth rate's gap to the target, in "
              "percentage points); green: met (by the median), red: not met."
              + (f" Targets before {start} are not shown: no design differs from the base before then." if start
                 else "")),
             *source_notes(rows_of[rows_of["design"] == shown[0]].drop(columns=["observed_2020"], errors="ignore"))]
    return {"title": "各方案达标情况 Targets, designs side by side", "heads": heads, "rows": rows, "notes": notes}


# the indicators of the all-prefectures table (a run's): the plan's, as far as a prefecture has them
PREFECTURE_INDICATORS = ("rd_intensity", "business_rd", "share_firms_with_rd", "enterprise_rd_share",
                         "rd_personnel_per_10k", "hte_count", "tech_based_enterprises", "tech_contract_turnover",
                         "patents_per_10k", "platforms", "science_literacy")
PREFECTURE_YEARS = (2025, 2035)


def _all_prefectures_block(results: Results) -> dict[str, Any] | None:
    """Every prefecture side by side for a run (the workbook has a sheet for each): a row per indicator of
    ``PREFECTURE_INDICATORS`` and milestone year (``PREFECTURE_YEARS`` the runs reach), a column per prefecture, the
    median (with its 90% band for several runs); None for several designs (their prefecture effects say more) or a
    run without prefectures."""
    if len(results.designs) > 1:
        return None
    wide = results.wide()
    regions = [r for r in data.prefecture_ids() if r in set(wide["region"])]
    if not regions:
        return None
    paths = {r: region_paths(wide, r) for r in regions}
    weights = draw_weights(wide)
    years = [y for y in PREFECTURE_YEARS if all(y in p.index for p in paths.values())]
    rows = []
    several = results.n_draws() > 1
    for key in PREFECTURE_INDICATORS:
        bands = {r: band(paths_of(paths[r], key), weights) for r in regions}
        if all(b.isna().all(axis=None) for b in bands.values()):
            continue
        for i, year in enumerate(years):
            row = [{"text": "" if i else indicator_label(key), "cls": ""}, {"text": str(year), "cls": "num"}]
            for region in regions:
                b = bands[region]
                text = (format_interval(*b.loc[year, ["median", "lo", "hi"]], key=key, sep="\n") if several
                        else format_value(b.at[year, "median"], key))
                row.append({"text": text, "cls": "num"})
            rows.append(row)
    statistic = statistic_label(results)
    notes = [("各市州逐年数值见工作簿中各市州的工作表；海东市、海西州的本地规划目标见下表。 Each prefecture's values by year: its sheet "
              "in the workbook (report.xlsx); Haidong's and Haixi's own plan targets: the tables below."),
             prefecture_anchor_note()]
    if (note := reduced_scale_note(results.meta.get("scale"))) is not None:
        notes.append(note)
    return {"title": "全部8个市州 All eight prefectures" + (f" · {statistic} [5%, 95%]" if statistic else ""),
            "heads": ["指标 indicator", "年份 year", *(region_label(r) for r in regions)], "rows": rows, "notes": notes}


def _facts(results: Results) -> list[tuple[str, str]]:
    meta = results.meta
    facts = [("类型 Kind", kind_label(results))]
    if len(results.designs) > 1 and designs(results).empty:  # a comparison's have a table of their own
        facts.append(("方案 Designs", "; ".join(results.designs)))
    seeds = meta.get("seeds") or []
    facts.append(("随机种子 Seeds", seeds_text(seeds)))
    population = meta.get("population_seed")
    if other_population(population):
        facts.append(("人口种子 Population seed", f"{population}（非校准所用的2015年人口 not the 2015 population the "
                                                  "calibration was fitted on: levels not calibrated）"))
    if meta.get("parameter_draws"):
        facts.append(("参数组 Parameter draws", meta_text(meta["parameter_draws"])))
    facts.append(("运行次数 Runs per design", runs_text(results.n_draws(), len(seeds))))
    if meta.get("scale") is not None:
        facts.append(("规模 Scale (share of firms simulated)", f"{meta['scale']:g}"))
    if meta.get("end_year"):
        facts.append(("年份 Years", f"{meta.get('start_year', 2015)}–{meta['end_year']}"))
    if meta.get("created"):
        facts.append(("运行时间 Run created", beijing_time(meta["created"])))
    if meta.get("versions"):
        facts.append(("版本 Versions", versions_text(meta["versions"])))
    if meta.get("model_fingerprint"):
        facts.append(("模型指纹 Model fingerprint", f"{meta['model_fingerprint']}（运行所用的代码、数据与校准参数 the code, "
                                                 "data and calibrated parameters the runs ran on）"))
    if results.folder is not None:
        facts.append(("结果目录 Results folder", str(results.folder)))
    return facts


def _assumptions(results: Results) -> list[str]:
    items = []
    cal = results.meta.get("calibration") or {}
    if cal.get("calibrated"):
        # the defaults are the posterior point estimate, not the sampler's best particle; its fitting history is in
        # the workbook's metadata and calibration/calibrated.toml
        created = str(cal.get("created", "?"))[:10]
        # the point's own distance, the last of its fitting steps ("distance 0.575 -> 0.558 with 16 seeds")
        fit = calibration_distance(cal)
        zh_fit = f"拟合距离{fit}（1 = 各目标平均恰在容差内）；" if fit else ""
        en_fit = f"; distance {fit}, where 1 = every target within its tolerance on average" if fit else ""
        items.append(f"校准 Calibration: 行为参数取自 {cal.get('file')}（{created}），为按2015–2020年观测数据拟合的后验点估计，"
                     f"{zh_fit}拟合报告见 calibration/fit_report.md，在现行代码上的再验证见 calibration/revalidation.md。 "
                     f"Behavioural parameters from {cal.get('file')} ({created}): the posterior point estimate fitted "
                     f"to the 2015–2020 data (simulation-based: ABC-SMC, then a conditional fit of the level "
                     f"parameters{en_fit}). Fit report: calibration/fit_report.md; re-validation on the current code: "
                     "calibration/revalidation.md.")
    else:
        items.append("校准 Calibration: 未使用校准，采用 behaviour.toml 默认值 none in force — the behaviour.toml defaults "
                     "were used (uncalibrated).")
    stand_ins = [indicator_label(k) for k, spec in data.load("indicators").items() if spec.get("status") != "modelled"]
    items.append("全部指标由模型机制计算 Every indicator is computed by the model's mechanisms." if not stand_ins
                 else "替代路径 Data-driven stand-ins (not modelled): " + "; ".join(stand_ins))
    items.append("2035年参考路径不是规划目标 The 2035 reference paths are not plan targets: the 2020→2025 plan rate "
                 "continued, and parity with the national 2020 level.")
    items.append("海西“年均增长”目标的基年未写明，假设为2024年 Haixi's growth targets give no base year; 2024 is assumed.")
    items.append(prefecture_anchor_note())
    items.extend(base_year_notes(results.wide()))  # the first design's (a comparison's base)
    if (note := persistence_note()) is not None:
        items.append(note)
    if (note := reduced_scale_note(results.meta.get("scale"))) is not None:
        items.append(note)
    if results.n_draws() > 1:
        items.append("区间为各次运行的5%–95%分位，各次运行按其参数组所代表的后验权重加权 "
                     "Intervals are the 5%–95% quantiles over runs (parameter draws × seeds); "
                     "P(met) is the share of runs meeting the target. Each run weighs what its parameter draw "
                     "stands for in the posterior, so quantiles and shares are weighted (what the intervals leave "
                     "out: the note below the headline tables).")
    items.append("数据来源见 Sources: qhsim/data/*.toml (every number with unit and source), docs/ODD.md.")
    return items


def _charts(results: Results, png_dir: Path | None, shown: list[str]) -> tuple[str | None, list[str], dict[str, str]]:
    """Base64 PNGs of the ``shown`` designs: the province overview, the plan indicators' charts, each target
    prefecture's overview. For a single design, charts already written to ``png_dir`` (a run folder's charts/) are
    reused."""
    from qhsim.output.charts import chart_keys, indicator_figure, overview_figure, save_png

    frames = {d: results.wide(d) for d in shown}
    if len(frames) == 1:
        frames = {"": next(iter(frames.values()))}
    reuse = png_dir if png_dir is not None and len(frames) == 1 else None

    def png(name: str, make) -> str | None:
        if reuse is not None and (reuse / f"{name}.png").is_file():
            return _b64((reuse / f"{name}.png").read_bytes())
        fig = make()
        return None if fig is None else _b64(save_png(fig))

    overview = png("overview", lambda: overview_figure(frames, PROVINCE, title=results.meta.get("title", "")))
    keys = chart_keys(frames, PROVINCE, only_targeted=True)
    keys += [k for k in ("business_rd", "tax_expenditure_super_deduction") if k in chart_keys(frames)]
    charts = [png(key, lambda key=key: indicator_figure(frames, key)) for key in keys]
    prefs = {region: png(f"{region}_overview", lambda region=region: overview_figure(frames, region))
             for region in target_regions()}
    return overview, charts, {r: p for r, p in prefs.items() if p is not None}


def render_html(results: Results, charts: bool = True, png_dir: Path | None = None,
                say: Callable[[str], None] = silent) -> str:
    """The report of ``results`` as one self-contained HTML page (``charts=False``: tables only, faster;
    ``png_dir``: a folder of charts already drawn for these results, reused instead of drawn again; ``say``: called
    with a line as its tables and its charts start)."""
    say("表格 tables")
    # the designs each part shows: tables and charts hold a few, chosen by the ranking, and say which they leave out
    tabled, tabled_note = shown_designs(results, MAX_TABLE_DESIGNS)
    charted, charted_note = shown_designs(results, MAX_CHART_DESIGNS)
    local, local_note = shown_designs(results, MAX_PREFECTURE_DESIGNS)
    # one headline table serves the headline, prefecture and targets tables (each takes its designs, in its order)
    table = headline(results, [d for d in results.designs if d in {*tabled, *local, *charted}])
    if charts:
        say("图表 charts" + (f" (复用 reused from {png_dir} where drawn)" if png_dir is not None else ""))
    overview, indicator_pngs, pref_pngs = _charts(results, png_dir, charted) if charts else (None, [], {})
    prefectures = []
    for region in target_regions():
        for design in local:
            part = table[(table["design"] == design) & (table["region"] == region)]
            if part.empty:
                continue
            block = _table_block(part, f"{region_label(region)} · {SECTIONS['own']}"
                                 + (f" · {design}" if len(results.designs) > 1 else ""), statistic_label(results))
            block["chart"] = pref_pngs.get(region) if design == local[-1] else None
            prefectures.append(block)
    meta = results.meta
    several = len(results.designs) > 1
    ranked, ranked_note = _ranking_blocks(results, charted)
    reference = "基准情景 baseline" if results.kind in ("run", "ensemble") else "基准方案 base"
    context = {
        "several": several,
        "title": meta.get("title") or results.designs[0],
        "kind_label": kind_label(results),
        "version": (meta.get("versions") or {}).get("qhsim") or __version__,
        "description": meta.get("description", ""),
        "facts": _facts(results),
        "designs": _designs_block(results),
        "levers": [{"design": lv.get("design", ""), "key": lever_name(lv["key"]), "base": lever_text(lv["base"]),
                    "value": lever_text(lv["value"])} for lv in meta.get("levers", [])],
        # a comparison's levers name their design (each design's instruments against the base)
        "lever_design_label": "方案 design" if any(lv.get("design") for lv in meta.get("levers", [])) else None,
        "levers_note": ("与基准情景不同的政策工具（年份表：该年起生效） Instruments that differ from the reference; "
                        "year tables give the value from that year on." if results.kind != "sweep" else
                        "扫描的政策工具及其取值 The instruments varied and their values."),
        "lever_base_label": reference if results.kind != "sweep" else None,
        "lever_value_label": {"sweep": "取值 values", "compare": "该方案 the design"}.get(results.kind, "本情景 this scenario"),
        "headline": _headline_blocks(results, table, tabled),
        "headline_lead": ("各方案的达标情况已在上文并列；此处为每个方案的完整指标表（含2020实际值及其来源、其他指标与2035参考路径）。 "
                          "The designs' targets are side by side above; here each design's full tables (with the observed "
                          "2020 values and their sources, the other indicators and the 2035 reference paths)."),
        "targets": _targets_block(results, table, charted),
        "tabled_note": tabled_note,
        "charted_note": charted_note,
        "prefectures_note": local_note,
        "headline_note": ("目标为规划值；差距 = 模拟 − 目标（增长目标为百分点） Targets are plan values; gap = simulated − "
                          "target in the target year (percentage points of annual growth for growth targets). "
                          "“2020实际来源”列给出2020实际值的出处；*为按模型口径重算、与规划所印数字不同的值，算法见表下 The "
                          "column 'observed source' says where each observed 2020 value comes from; * marks a value "
                          "restated from the figure the plan prints, with the arithmetic below the table. "
                          "†为口径与模型不同、不可直接比较的值，说明见表下 † marks a value on another definition than "
                          "the model's (not comparable), explained below the table."
                          + (" " + band_caveat() if results.n_draws() > 1 else "")
                          + (" " + SWEEP_MEANS_NOTE if results.kind == "sweep" else "")),
        "real_rd": _real_rd_blocks(results, tabled),
        "real_rd_note": REAL_RD_NOTE,
        "overview": overview,
        "charts": indicator_pngs,
        "prefectures": prefectures,
        "cost_effectiveness": _cost_effectiveness_block(results, charts),
        # a comparison's by-instrument and pairwise tables, as comparison.txt prints them
        "pairwise": _pairwise_block(results),
        "by_instrument": _by_instrument_block(results),
        "prefecture_effects": _prefecture_effects_section(results, local),
        "all_prefectures": _all_prefectures_block(results),
        "ranking": ranked,
        "ranking_note": ranked_note,
        "ranking_shown_note": charted_note,
        "assumptions": _assumptions(results),
        "generated": beijing_time(datetime.now(UTC)),
    }
    context["toc"] = table_of_contents(context)
    return _env().get_template("report.html.j2").render(**context)


SECTION_TITLES = {  # the report's sections (anchor: heading), in ``table_of_contents``
    "designs": "政策方案 Designs",
    "answer": "方案对比与排名 Comparison and ranking",
    "targets": "目标达成 Targets by design",
    "indicators": "主要指标对比 Key indicators by design",
    "prefecture-effects": "地区效应 Prefecture effects",
    "headline": "主要指标与目标 Headline indicators against targets",
    "real-rd": "申报与实际研发 Reported vs real R&D",
    "charts": "图表 Charts",
    "prefectures": "市州 Prefectures",
    "levers": "政策杠杆 Levers",
    "assumptions": "假设与校准 Assumptions and calibration",
}
# a comparison's or sweep's answer first, then its targets; a run's headline table first
SEVERAL_ORDER = ("designs", "answer", "targets", "indicators", "prefecture-effects", "charts", "headline", "real-rd",
                 "prefectures", "levers", "assumptions")
ONE_ORDER = ("headline", "real-rd", "charts", "prefectures", "levers", "assumptions")


def table_of_contents(context: dict[str, Any]) -> list[tuple[str, str]]:
    """The sections the report holds, in their order (``SEVERAL_ORDER`` for several designs, else ``ONE_ORDER``):
    (anchor, heading) pairs, the template's headings and the table of contents at the top."""
    present = {
        "designs": context["designs"], "answer": context["cost_effectiveness"] or context["pairwise"] or context["by_instrument"],
        "targets": context["targets"], "indicators": context["ranking"],
        "prefecture-effects": context["prefecture_effects"], "headline": context["headline"],
        "real-rd": context["real_rd"], "charts": context["overview"],
        "prefectures": context["prefectures"] or context["all_prefectures"], "levers": context["levers"],
        "assumptions": True,
    }
    order = SEVERAL_ORDER if context["several"] else ONE_ORDER
    return [(anchor, SECTION_TITLES[anchor]) for anchor in order if present[anchor]]


def write_html(results: Results, path: str | Path, charts: bool = True, png_dir: Path | None = None,
               say: Callable[[str], None] = silent) -> Path:
    """Write ``render_html(results)`` to ``path`` atomically; return the path (``say``: as in ``render_html``)."""
    path = Path(path)
    with atomic_file(path) as tmp:
        tmp.write_text(render_html(results, charts=charts, png_dir=png_dir, say=say), encoding="utf-8")
    return path
