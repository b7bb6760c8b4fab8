"""Report tables 报告表格: what the workbook and the HTML report show, built from ``Results`` (``qhsim.output.tidy``).

* ``designs``: a comparison's designs, numbered as comparison.txt numbers them (0 = the base), each with what it is
  (its scenario's ``[run] description``);
* ``headline``: every design's indicators against the plan targets, the 2035 reference paths and the
  prefectures' own targets (``summary_table`` rows with ``design``, ``region`` and ``section`` columns);
* ``by_year``: one region's indicators by year (median over draws), one row per (design, year);
* ``fiscal``: programme spending and tax expenditure by year, with their total;
* ``ranking``: each design's median and 90% interval of the key indicators in a year, its difference
  from the first design (paired by draw: under common random numbers the difference is the policy's
  effect; ``digits``: its decimals, ``change_digits``) and its rank; years in which no design differs from the first are left out; ``ranking_note`` says how to
  read it, ``difference_header`` heads its difference column;
* ``cost_effectiveness``: a comparison's answer per design — extra public cost, extra business R&D, business and
  total R&D per public yuan with their 90% intervals, rank and P(first) — as ``comparison.txt`` prints it;
* ``by_instrument``: a comparison's extra cost and R&D per yuan by instrument (leverage.csv), a cost the design does
  not set marked "连带影响 side effect", the instruments of a design that sets several "组合 combined", an unstable ratio
  "— 不稳定 unstable";
* ``pairwise``: a comparison's P(row design beats column design) on its ranking metric (pairwise.csv);
* ``prefecture_effects``: a comparison's answer in each prefecture, as ``qhsim compare --region`` prints it — the
  extra public cost, extra R&D and R&D per public yuan located there, and its indicators' changes
  (``change_indicators``) with their 90% intervals — from the prefecture rows of changes.csv and leverage.csv.

A comparison of one design (besides the base) has no ranking of designs, P(first) nor pairwise table (``can_rank``):
one design always comes first; its outputs say so in one line (``ONE_DESIGN_NOTE``).

The comparison tables read a ``ComparisonResult``'s tables or the CSV files ``qhsim compare`` wrote (``qhsim export``
of a compare folder): columns or rows they do not know are left alone.

Medians, intervals and differences weigh each run by its ``weight`` (``qhsim.stats``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from qhsim import data, stats
from qhsim.output.numbers import MISSING, MONEY_DIGITS, change_digits, change_unit, format_percent, unit_words
from qhsim.output.report import BAND, summary_table
from qhsim.output.tidy import Results
from qhsim.stats import WEIGHT
from qhsim.results import (COMBINED_CELL, COMBINED_NOTE, FISCAL_PREFIXES, PROVINCE, RANK_DEFAULT, RANK_TOTAL,
                           SAVING_CELL, SAVING_NOTE, UNSPENT_NOTE, UNSPENT_SHARE, UNSTABLE_CELL, WIDE_MARK,
                           lower_is_better, ratio_mark, ratio_wide, read_flag, several_instruments, short_name,
                           unsettled_pairs, unstable_rule, wide_note, with_evidence)
from qhsim.targets import load_targets, reference_paths_2035
from qhsim.evidence import evidence_note

RANKING_INDICATORS = ("rd_intensity", "business_rd", "share_firms_with_rd", "enterprise_rd_share",
                      "rd_personnel_per_10k", "tech_contract_turnover", "hte_count", "patents_per_10k")
PUBLIC_COST = "public_cost_total"
CARRIED_DEDUCTION = "super_deduction_carried"  # 万元 of deduction carried forward at a year's end (indicators.toml)
SECTIONS = {"plan": "规划目标 plan targets", "other": "其他指标 other indicators (no target)",
            "reference": "2035参考路径 2035 reference paths", "own": "本地目标 own targets"}


# (zh, en) in place of a comparison's ranking of designs, P(first) and pairwise table when it compares one design
ONE_DESIGN = ("只比较了一个方案：方案排名、P(第一)与两两比较需要两个或以上方案（基准除外），故不列出。",
              "One design compared: a ranking of designs, P(first) and the pairwise table need two or more designs "
              "besides the base, so none is shown.")
ONE_DESIGN_NOTE = " ".join(ONE_DESIGN)


def can_rank(compared: int) -> bool:
    """Whether a comparison of ``compared`` designs besides its base ranks them (a ranking with P(first), a pairwise
    table): two or more. One design always ranks first, with P(first) 100%, which says nothing."""
    return compared >= 2


def target_regions() -> list[str]:
    regions = set(load_targets()["region"])
    return [r for r in data.prefecture_ids() if r in regions]


DESIGNS = {"number": "编号 number", "design": "方案 design", "role": "角色 role",
           "description": "说明 description (中文 / English)"}  # the columns the workbook and HTML show
BASE_ROLE, DESIGN_ROLE = "基准 base", "方案 design"
NO_DESCRIPTION = "未写明（情景文件无自己的 [run] description） not given (its scenario file has no [run] description of its own)"


def designs(results: Results) -> pd.DataFrame:
    """A comparison's designs as they are introduced, one row each, the base first: ``number`` (0 = the base, then the
    designs from 1, as comparison.txt, the pairwise table and the chart number them), ``design`` (the scenario's id),
    ``role`` and ``description``: what the design is in Chinese and English, its scenario's ``[run] description`` as
    ``qhsim.experiments.comparison.design_description`` reads it from the comparison's resolved scenarios (tidy's
    ``meta["descriptions"]``, the same whether the comparison was just run or read back from its folder; ranking.csv's
    ``description`` column and comparison.txt's legend say the same), ``NO_DESCRIPTION`` where it has none of its own.
    Empty for results that are not a comparison (no ``meta["descriptions"]``)."""
    described = results.meta.get("descriptions") or {}
    if not described:
        return pd.DataFrame(columns=list(DESIGNS))
    return pd.DataFrame([{"number": i, "design": d, "role": BASE_ROLE if i == 0 else DESIGN_ROLE,
                          "description": described.get(d) or NO_DESCRIPTION} for i, d in enumerate(results.designs)],
                        columns=list(DESIGNS))


def designs_text(results: Results) -> str:
    """``designs`` as lines of text (the workbook's metadata row): ``0 = baseline（基准 base）: 基准：现行政策延续 / Baseline:
    ...``, one design a line; the designs' ids joined by "; " for results that are not a comparison."""
    table = designs(results)
    if table.empty:
        return "; ".join(results.designs)
    return "\n".join(f"{r.number} = {r.design}" + (f"（{BASE_ROLE}）" if r.number == 0 else "") + f": {r.description}"
                     for r in table.itertuples())


def design_name(results: Results, design: str) -> str:
    """A design as the workbook's and the HTML report's rows name it: its id with its short Chinese name
    (``qhsim.results.short_name`` of its description, the name comparison.txt writes under the id) in brackets,
    ``super_deduction_120（加计扣除提高至120%）``; the id alone where it has no description of its own (a sweep's points)."""
    short = short_name((results.meta.get("descriptions") or {}).get(design) or "")
    return f"{design}（{short}）" if short else design


DESIGNS_NOTE = ("编号同 comparison.txt、两两比较表和成本效益图 cost_effectiveness.png；说明取自各方案情景文件的 [run] description（与 ranking.csv 的 "
                "description 列相同）。 Numbered as in comparison.txt, the pairwise table and cost_effectiveness.png; "
                "each description is the design's scenario file's [run] description (as in ranking.csv's description "
                "column).")


def headline(results: Results, designs: list[str] | None = None) -> pd.DataFrame:
    """Summary rows of every design (or of ``designs``): province (all reported indicators), references, prefecture
    targets."""
    parts = []
    references = reference_paths_2035()
    paths = references.set_index(["indicator", "value"])["label"]
    for design in results.designs if designs is None else designs:
        wide = results.wide(design)
        refs = summary_table(wide, targets=references)
        refs = refs[refs["target"].notna()] if "sim_2035" in refs else refs.iloc[0:0]  # only runs that reach 2035
        refs = refs.assign(label=[f"{lab} | {paths.get((k, v), '')}" for lab, k, v in
                                  zip(refs["label"], refs["indicator"], refs["target"])])
        province = summary_table(wide).assign(region=PROVINCE)
        targeted = province["target"].notna()
        sections = [province[targeted].assign(section=SECTIONS["plan"]),
                    province[~targeted].assign(section=SECTIONS["other"]),
                    refs.assign(section=SECTIONS["reference"], region=PROVINCE)]
        for region in target_regions():
            own = summary_table(wide, region)
            sections.append(own[own["target"].notna()].assign(section=SECTIONS["own"], region=region))
        parts += [part.assign(design=design) for part in sections]
    return pd.concat(parts, ignore_index=True)


def statistic_words(results: Results, runs: bool = True) -> tuple[str, str] | None:
    """What the workbook and the HTML report give for a design of several runs, to head their columns with (Chinese,
    English): ``("中位数（3次运行）", "median of 3 runs")``, a weighted median where the runs come from parameter draws
    that weigh differently; ``runs=False``: the statistic's name alone, ``("中位数", "median")``. None for one run
    (the value is that run's)."""
    count = results.n_draws()
    if count < 2:
        return None
    weighted = bool(results.long.groupby("design")[WEIGHT].nunique().gt(1).any())
    zh, en = f"{'加权' if weighted else ''}中位数", f"{'weighted ' if weighted else ''}median"
    return (f"{zh}（{count}次运行）", f"{en} of {count} runs") if runs else (zh, en)


def statistic_label(results: Results, sep: str = " ") -> str:
    """``statistic_words`` in one label, ``中位数（3次运行） median of 3 runs`` (joined by ``sep``); "" for one run."""
    words = statistic_words(results)
    return sep.join(words) if words else ""


# below a sweep's tables: its terminal tables and summary.csv give means, these outputs medians
SWEEP_MEANS_NOTE = ("扫描的终端表格与 summary.csv 给出各次运行的均值；此处各指标值为中位数（“成本效益”表除外：取自 summary.csv，为均值），"
                    "运行较少时两者可明显不同。 The sweep's terminal tables and summary.csv give means over the runs; the "
                    "indicator values here are medians (but for the Cost-effectiveness table, read from summary.csv: "
                    "means), which can differ markedly when the runs are few.")


def by_year(results: Results, region: str = PROVINCE, keys: list[str] | None = None) -> pd.DataFrame:
    """Median over draws of each indicator by year in ``region``: columns design, year, then indicators."""
    rows = results.long[results.long["region"] == region]
    if keys is not None:
        rows = rows[rows["indicator"].isin(keys)]
    return _medians(rows, results.designs)


def _medians(rows: pd.DataFrame, designs: list[str]) -> pd.DataFrame:
    """The (weighted) median over draws of each indicator of long ``rows`` by design and year: columns design, year,
    then the indicators (indicators.toml order, then any other, such as ``PUBLIC_COST``), the designs in the order of
    ``designs``."""
    med = stats.by_group(rows, ["design", "year", "indicator"], ["value"], ("median",))["value_median"]
    med = med.unstack("indicator")
    known = list(data.load("indicators"))
    order = [k for k in [*known, *(c for c in med.columns if c not in known)] if k in med.columns and med[k].notna().any()]
    med = med[order].reset_index()
    med["design"] = pd.Categorical(med["design"], designs, ordered=True)
    med = med.sort_values(["design", "year"], kind="stable")
    med["design"] = med["design"].astype(str)
    return med.reset_index(drop=True)


def fiscal(results: Results, region: str = PROVINCE) -> pd.DataFrame:
    """Spending and tax expenditure by year (万元), plus their total ``public_cost_total``: each the median over the
    runs, the total that of each run's own total (not the sum of the medians, which no run need have spent); then, not
    in the total, the super-deduction carried forward at the year's end (``CARRIED_DEDUCTION``: deduction, whose tax
    is future tax expenditure)."""
    keys = [k for k in data.load("indicators") if k.startswith(FISCAL_PREFIXES)]
    rows = results.long[(results.long["region"] == region) & results.long["indicator"].isin(keys)]
    runs = ["design", "year", "draw"]
    total = rows.groupby(runs, sort=False)["value"].sum(min_count=1).rename("value").to_frame()
    total[WEIGHT] = rows.groupby(runs, sort=False)[WEIGHT].first()
    total = total.reset_index().assign(indicator=PUBLIC_COST)
    carried = results.long[(results.long["region"] == region) & (results.long["indicator"] == CARRIED_DEDUCTION)]
    table = _medians(pd.concat([rows, total, carried], ignore_index=True), results.designs)
    return table[[c for c in table if c != CARRIED_DEDUCTION] + [c for c in table if c == CARRIED_DEDUCTION]]


def ranking(results: Results, years: tuple[int, ...] = (2025, 2035)) -> pd.DataFrame:
    """Designs ranked on each key indicator in each of ``years`` the results reach, and in their last year when it
    is not one of ``years`` (rank 1 = highest median; higher is better for every indicator tracked). Difference and
    its interval are against the first design, per draw. A year in which every design equals the first (a
    comparison's designs act from 2026) is left out, unless nothing else is left, and named in
    ``attrs["identical_years"]``."""
    lo, hi = BAND
    long = results.long[(results.long["region"] == PROVINCE) & results.long["indicator"].isin(RANKING_INDICATORS)]
    last = int(long["year"].max())
    years = tuple(y for y in years if y < last and y in set(long["year"])) + (last,)
    long = long[long["year"].isin(years)]
    values = long.pivot_table(index=["indicator", "year", "draw"], columns="design", values="value", aggfunc="first")
    weights = long.pivot_table(index="draw", columns="design", values=WEIGHT, aggfunc="first")
    reference = results.designs[0]
    rows = []
    for (key, year), block in values.groupby(level=["indicator", "year"], sort=False):
        draws = block.index.get_level_values("draw")
        for design in results.designs:
            if design not in block:
                continue
            v = block[design].to_numpy()
            w = stats.aligned(weights[design], draws)
            d = (block[design] - block[reference]).to_numpy() if reference in block else np.full(len(v), np.nan)
            ran = np.isfinite(w)  # a run the design lacks (an unfinished store) has no weight: left out
            v, w, d = v[ran], w[ran], d[ran]
            median, low, high = stats.quantile(v, w, (0.5, lo, hi))
            diff, diff_lo, diff_hi = stats.quantile(d, w, (0.5, lo, hi))
            rows.append({
                "indicator": key, "year": year, "design": design,
                "median": median, "lo": low, "hi": high,
                "diff": diff, "diff_lo": diff_lo, "diff_hi": diff_hi,
                "draws": int(np.isfinite(v).sum()),
            })
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    same = (table[["diff", "diff_lo", "diff_hi"]].fillna(0.0) == 0.0).all(axis=1).groupby(table["year"]).all()
    identical = [int(y) for y in same.index[same]]
    if len(identical) < len(same):
        table = table[~table["year"].isin(identical)].copy()
    else:
        identical = []
    table["rank"] = table.groupby(["indicator", "year"])["median"].rank(ascending=False, method="min").astype(int)
    # the decimals of a group's differences (a change: ``change_digits``, the same for every design of the group)
    table["digits"] = table.groupby(["indicator", "year"])["diff"].transform(
        lambda d: change_digits(d.name[0], d)).astype(int)
    order = {k: i for i, k in enumerate(RANKING_INDICATORS)}
    table = table.sort_values(["year", "indicator", "rank"], key=lambda s: s.map(order) if s.name == "indicator" else s,
                              kind="stable").reset_index(drop=True)
    table.attrs["identical_years"] = identical
    return table


def base_names(results: Results) -> tuple[str, str]:
    """How the ranking names the reference its differences are taken against, (Chinese, English): a comparison's base
    by its id (``基准 baseline``, ``the base baseline``); a sweep's point 0, whose id is just "base", with the base
    scenario file the experiment names (``基准点0 base（baseline.toml）``, ``the base, point 0 (baseline.toml)``)."""
    base = results.designs[0]
    if results.kind != "sweep":
        return f"基准 {base}", f"the base {base}"
    scenario = results.meta.get("base_scenario")
    file = f"（{Path(str(scenario)).name}）" if scenario else ""
    return f"基准点0 {base}{file}", f"the base, point 0{file.replace('（', ' (').replace('）', ')')}"


def difference_header(results: Results) -> str:
    """The ranking's difference column in the workbook and the HTML report: ``与基准 baseline 之差（%指标：百分点）
    difference from the base baseline (indicators in %: pp)`` (``base_names``; a change of an indicator in % is in
    percentage points)."""
    zh, en = base_names(results)
    return f"与{zh}{'' if zh.endswith('）') else ' '}之差（%指标：百分点） difference from {en} (indicators in %: pp)"


def ranking_note(results: Results, table: pd.DataFrame) -> str:
    """How to read ``ranking`` (its ``table``), below it in the workbook and the HTML report: what is ranked (each key
    indicator's median over the runs in a year, not the comparison's metric), the interval, ties, the paired difference,
    the years left out because every design equals the base there, and, for a comparison, where its ranking by its
    metric and P(first) are and why that ranking's median and the cost-effectiveness ratio of means can differ."""

    zh_base, en_base = base_names(results)
    weighted = bool(results.long.groupby("design")[WEIGHT].nunique().gt(1).any())  # runs from parameter draws
    text = ("每个指标每年一组：各方案各次运行的中位数及5%–95%区间" + ("（各次运行按其参数组的权重加权）" if weighted else "")
            + "；排名1 = 中位数最高（所列指标均越高越好），中位数相同者名次相同。"
            f"与{zh_base}之差：同一种子、同一参数组的运行逐次配对相减，取其中位数及5%–95%。")
    en = ("One group per indicator and year: each design's median over its runs and their 5%–95% interval"
          + (" (each run weighing its parameter draw)" if weighted else "") + "; rank 1 = the highest median (higher "
          "is better for every indicator listed), equal medians share a rank. The difference from "
          f"{en_base}: paired run by run (same seed and parameter draw), its median and 5%–95%.")
    identical = table.attrs.get("identical_years") or []
    if identical:
        years = "、".join(map(str, identical))
        text += f"各方案均与{zh_base}相同的年份（{years}）不列出。"
        en += f" Years in which every design equals {en_base} ({', '.join(map(str, identical))}) are not shown."
    ranked = results.tables.get("ranking")
    if ranked is not None and not ranked.empty and not can_rank(len(results.designs) - 1):  # one design: no answer
        text += "此表按指标水平排名（基准与该方案），不是方案排名（一个方案无排名，见“成本效益”表下的说明）。"
        en += (" This table ranks indicator levels (the base's and the design's), not designs (one design has no ranking: "
               "see below the Cost-effectiveness table).")
        return f"{text} {en}"
    if ranked is not None and not ranked.empty:  # a comparison: its answer ranks on its metric, in other tables
        metric = str(ranked["metric"].iloc[0])
        zh_metric, en_metric = metric_words(metric)
        text += (f"此表按指标水平排名，不是方案比较的排名：按{zh_metric}的排名（按平均名次排序）及P(第一)（该方案在各次运行中排第一的比例）见“成本效益”表，"
                 "两方案的先后是否确定见“两两比较”表。")
        en += (f" This table ranks indicator levels, not the comparison's answer: the ranking on {en_metric} (ordered "
               "by mean rank, the place a design takes on average over the runs) and P(first) (the share of runs in "
               "which the design ranks first) are in the Cost-effectiveness table, "
               "whether two designs' order is settled in the Pairwise table.")
        if metric in (RANK_DEFAULT, RANK_TOTAL):  # comparison.txt's words below its ranking
            text += "那里的排名按各次运行的比值：其中位数可与成本效益表的均值之比略有不同。"
            en += (" That ranking is on the runs' own ratios: their median can differ a little from the ratio of the "
                   "means in the cost-effectiveness table.")
    elif results.kind == "sweep" and results.tables.get("summary") is not None:  # a sweep's answer per yuan
        text += "此表按指标水平排名：费用最高的设计点往往居前；每元公共投入带动的企业研发及其排名见“成本效益”表。"
        en += (" This table ranks indicator levels, where the costliest design points tend to come first; business R&D "
               "per public yuan and its ranking are in the Cost-effectiveness table.")
    return f"{text} {en}"


COST_EFFECTIVENESS = {  # the columns the workbook and HTML show: bilingual header (亿元 cumulated over the window)
    "design": "方案 design",
    "extra_cost": "额外公共投入（财政支出+税式支出） extra public cost, spending + tax expenditure (亿元)",
    "tax_expenditure": "其中税式支出 of which tax expenditure (亿元)",
    "extra_rd": "额外企业研发 extra business R&D (亿元)",
    "rd_per_yuan": "每元公共投入带动企业研发（元） business R&D per public yuan",
    "total_rd_per_yuan": "每元公共投入带动全社会研发（元） total R&D per public yuan",
    "rank": "排名 rank",
    "runs_median": "排名依据：各次运行比值中位数 ranked on: runs' median ratio",
    "p_first": "P(第一 first)",
}
BANDED = ("extra_cost", "extra_rd", "rd_per_yuan", "total_rd_per_yuan")  # these have _p05 and _p95 columns
# below every table of R&D per public yuan: what the public cost is (tax expenditure is public money too)
PUBLIC_COST_NOTE = ("每元带动研发＝额外研发÷额外公共投入（元/元）；公共投入＝财政支出＋税式支出（加计扣除、高企税率等减免的税收）。 "
                    "R&D per public yuan = extra R&D / extra public cost (yuan per yuan); the public cost is public "
                    "spending plus tax expenditure (the tax forgone through the super-deduction, the HTE rate and the "
                    "like).")
# below a ranking by R&D per yuan: which of its two figures every other output shows
RANKING_STATISTIC_NOTE = ("每元带动研发在各输出中均为均值之比（额外研发均值÷额外公共投入均值，与成本效益表相同）；排名、P(第一)与两两比较"
                          "按各次运行各自的比值，其中位数列于旁边，可与均值之比略有不同。 R&D per public yuan is the ratio "
                          "of means in every output (mean extra R&D / mean extra public cost, as in the cost-effectiveness "
                          "table); the ranking, P(first) and the pairwise table go by each run's own ratio, whose median "
                          "stands beside it and can differ a little.")


def leverage_totals(leverage: pd.DataFrame, index: str | list[str]) -> pd.DataFrame:
    """The "total" rows of a comparison's leverage table (the province's ``leverage`` or ``prefecture_leverage``),
    indexed by ``index``, with ``unstable`` True or False (``read_flag``: as written, or read back from its CSV as text
    or empty; False where the table has none, a store of an older qhsim) and ``evidence_key``, ``evidence``
    (``qhsim.results.with_evidence``: computed where leverage.csv has none)."""
    totals = with_evidence(leverage)
    totals = totals[totals["instrument"] == "total"].set_index(index)
    return totals.assign(unstable=totals["unstable"].map(read_flag).eq(True) if "unstable" in totals else False)


def cost_effectiveness(designs: list[str], tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """A comparison's answer, one row per design of ``designs`` (not the base) from its ``tables`` (``leverage``,
    ``costs``, ``ranking``: a ``ComparisonResult``'s or a comparison ``Results.tables``): the extra public cost over
    the common window (mean and 5%/95% of the paired runs) and the tax expenditure in it, the extra business R&D,
    business R&D per public yuan (``qhsim.experiments.comparison.rd_per_yuan``), the extra R&D of universities and
    institutes and total R&D per public yuan (each the ratio of means, the headline figure), and the design's rank,
    the median of the runs' ratios it is ranked on (``runs_median``, a ranking by R&D per yuan only) and P(first) by
    the comparison's ranking metric (``attrs["metric"]``; none for one design, ``can_rank``); ``unstable`` and ``mark`` (``qhsim.results.ratio_mark``:
    what stands in place of the two ratios where ``unstable``, else ""); ``evidence_key`` and ``evidence`` (business
    R&D per yuan against the micro evidence, ``qhsim.results.with_evidence``). comparison.txt, the workbook and the HTML
    report print it. Empty without those tables."""
    if not {"leverage", "costs", "ranking"} <= set(tables) or tables["ranking"].empty:
        return pd.DataFrame(columns=list(COST_EFFECTIVENESS))
    lev = leverage_totals(tables["leverage"], "design")
    costs = tables["costs"]
    total = costs[costs["item"] == "total"].set_index("design")
    tax = costs[costs["kind"] == "tax_expenditure"].groupby("design")["mean"].sum()
    rank = tables["ranking"].set_index("design")
    rows = []
    for design in [d for d in designs if d in lev.index]:
        r = lev.loc[design]
        rows.append({
            "design": design,
            "extra_cost": total.at[design, "mean"], "extra_cost_p05": total.at[design, "p05"],
            "extra_cost_p95": total.at[design, "p95"], "tax_expenditure": float(tax.get(design, 0.0)),
            "extra_rd": r["extra_rd"], "extra_rd_p05": r["extra_rd_p05"], "extra_rd_p95": r["extra_rd_p95"],
            "rd_per_yuan": r["rd_per_yuan"], "rd_per_yuan_p05": r["p05"], "rd_per_yuan_p95": r["p95"],
            "extra_public_rd": r["extra_public_rd"],
            "total_rd_per_yuan": r["total_rd_per_yuan"], "total_rd_per_yuan_p05": r["total_p05"],
            "total_rd_per_yuan_p95": r["total_p95"],
            "rank": int(rank.at[design, "rank"]) if design in rank.index else None,
            "runs_median": rank.at[design, "median"] if design in rank.index else float("nan"),
            "p_first": rank.at[design, "p_first"] if design in rank.index else float("nan"),
            # R&D per yuan not to be read over this extra cost (``qhsim.results.ratio_unstable``), and the mark shown
            # in its place (``ratio_mark``: no extra cost, or unstable)
            "unstable": (unstable := bool(r["unstable"])),
            "mark": ratio_mark(total.at[design, "mean"]) if unstable else "",
            # business R&D per yuan against the micro evidence (``qhsim.evidence.evidence_mark``): "above", "below", ""
            "evidence_key": r["evidence_key"], "evidence": r["evidence"],
        })
    table = pd.DataFrame(rows)
    metric = str(tables["ranking"]["metric"].iloc[0])
    if not can_rank(len(table)):
        table = table.drop(columns=["rank", "runs_median", "p_first"])
    elif metric not in (RANK_DEFAULT, RANK_TOTAL):  # ranked on an indicator's change: its median is no ratio
        table = table.drop(columns="runs_median")
    table.attrs["metric"] = metric
    return table


def metric_words(metric: str) -> tuple[str, str]:
    """A comparison's ranking metric in words (Chinese, English): R&D per public yuan (business or total) or the change
    of an indicator over the window."""
    if metric in COST_EFFECTIVENESS:
        zh, en = COST_EFFECTIVENESS[metric].split(" ", 1)
        return zh, en
    spec = data.load("indicators").get(metric, {})
    return f"{spec.get('zh', metric)}窗口均值的变化", f"the change of {spec.get('en', metric)} (its window mean)"


def cost_effectiveness_note(results: Results, table: pd.DataFrame) -> str:
    """What ``cost_effectiveness`` holds, below it in the workbook and the HTML report: the window, the pairing, the
    ranking metric in words, why the table's ratio of means and the ranking's median differ, and the rule behind a
    ratio shown as unstable."""
    start, end = results.meta.get("window") or (None, None)
    base = results.designs[0]
    zh_metric, en_metric = metric_words(table.attrs["metric"])
    ranked = "p_first" in table  # two designs or more (``can_rank``)
    runs_median = "runs_median" in table  # a ranking by R&D per yuan: the runs' median beside the ratio of means
    text = (f"{start}-{end}年累计，与{base}逐次配对（同一随机种子）。表中每元研发为各次运行均值之比（额外研发均值 ÷ 额外公共投入均值），"
            "与comparison.txt、各图及地区效应相同"
            + (f"；排名与P(第一)按各次运行各自的{zh_metric}" + ("（其中位数见“排名依据”列，可与均值之比略有不同）" if runs_median
                                                            else "") if ranked else "")
            + "。每元带动企业研发：额外企业研发 ÷ 额外公共投入（财政支出+税式支出）；"
            f"全社会研发含高校院所。 Cumulated {start}-{end}, paired run by run against {base} (same seeds). R&D per "
            f"yuan here is a ratio of means (mean extra R&D over mean extra public cost), as in comparison.txt, the "
            "charts and the prefecture effects"
            + (f"; rank and P(first) go by each run's own {en_metric}" + (" (their median in the 'ranked on' column, "
               "which can differ a little from the ratio of means)" if runs_median else "") if ranked else "")
            + ". Business R&D per yuan: extra business R&D over extra public cost (spending + tax expenditure); total "
            "R&D adds universities' and institutes'." + ("" if ranked else f" {ONE_DESIGN_NOTE}"))
    return text + mark_notes(set(table["mark"]) if "mark" in table else set()) + table_evidence_note(table)


def omitted_cost_notes(results: Results) -> list[str]:
    """comparison.txt's notes on what the public cost leaves out (budgets set but not spent, deductions carried past
    the window: ``qhsim.experiments.report.cost_notes``), which ``from_comparison`` reads from the meta, each a
    paragraph below the cost-effectiveness table."""
    return list(results.meta.get("cost_notes") or [])


def table_evidence_note(table: pd.DataFrame) -> str:
    """``qhsim.evidence.evidence_note`` of the marks a table's rows carry (its ``evidence_key`` and ``evidence``
    columns), after a space; "" without marks."""
    if "evidence" not in table:
        return ""
    note = evidence_note({(k, e) for k, e in zip(table["evidence_key"], table["evidence"]) if e})
    return f" {note}" if note else ""


# --- a sweep's cost-effectiveness, and the designs a limited table or chart shows ------------------------

SWEEP_COST_EFFECTIVENESS = {  # the columns the workbook and HTML show for a sweep (亿元 cumulated from from_year)
    "year": "年份 year",
    "design": "设计点 design point",
    "extra_cost": "额外公共投入（财政支出+税式支出） extra public cost, spending + tax expenditure (亿元)",
    "rd_per_yuan": "每元公共投入带动企业研发（元） business R&D per public yuan",
    "rd_per_yuan_runs": "有比值的运行数 runs with a ratio",
    "total_rd_per_yuan": "每元公共投入带动全社会研发（元） total R&D per public yuan",
    "budget_spent_share": "预算支出率 share of the budget spent",
    "rank": "排名 rank",
}
SWEEP_BANDED = ("extra_cost", "rd_per_yuan", "total_rd_per_yuan")  # these have _p05 and _p95 columns
WIDE_UNRANKED = f"{MISSING}{WIDE_MARK}"  # the rank of a point whose R&D per yuan is too wide to rank (``ratio_wide``)


def sweep_cost_effectiveness(results: Results) -> pd.DataFrame:
    """A sweep's answer to "which design buys the most R&D per public yuan", from its summary (``tables["summary"]``:
    ``qhsim.experiments.sweep.summarise`` as summary.csv holds it), one row per design point (not the base) and report
    year: ``design`` (the point's label), the extra public cost cumulated from the experiment's ``from_year`` (mean,
    ``_p05``, ``_p95`` over the runs paired with point 0's), business R&D per public yuan (the mean of the runs'
    ratios, ``_p05``, ``_p95``) and, where the summary has them, the number of runs with a ratio and total R&D per
    public yuan; ``unstable`` and ``mark`` (``qhsim.results.ratio_mark``, "" where the ratio stands) as
    ``cost_effectiveness``; ``wide`` (``qhsim.results.ratio_wide``: the runs' business R&D per yuan spread wider than
    itself, shown with ``WIDE_MARK``); ``evidence_key`` and ``evidence`` (business R&D per yuan against the micro
    evidence, as summary.csv has them); ``rank`` by business R&D per yuan within the year (1 = most; none for a ratio not
    to be read, nor for a wide one: a point is not put first on a few runs' swing). Sorted by year, then rank (unranked
    points last, in point order). Empty without a summary."""
    summary = results.tables.get("summary")
    columns = [*SWEEP_COST_EFFECTIVENESS, *(f"{c}{s}" for c in SWEEP_BANDED for s in ("_p05", "_p95")), "point",
               "unstable", "mark", "wide", "budget_unspent", "evidence_key", "evidence"]
    if summary is None or summary.empty:
        return pd.DataFrame(columns=columns)
    labels = dict(zip(results.tables["points"]["point"], results.tables["points"]["label"]))
    rows = []
    for r in summary[summary["point"] > 0].to_dict("records"):
        unstable = bool(read_flag(r.get("unstable")))
        ratio = r.get("rd_per_yuan_mean", np.nan)
        mark = ratio_mark(r["extra_cost_mean"]) if unstable else SAVING_CELL if pd.isna(ratio) else ""
        row = {"year": int(r["year"]), "design": labels.get(int(r["point"]), str(r["point"])), "point": int(r["point"]),
               "unstable": unstable, "mark": mark,
               # against the micro evidence (``qhsim.experiments.sweep._evidence``; none in a summary of an older qhsim)
               **{c: "" if mark or pd.isna(r.get(c, "")) else str(r.get(c, "")) for c in ("evidence_key", "evidence")}}
        for c in SWEEP_BANDED:
            if f"{c}_mean" in r:
                row |= {c: r[f"{c}_mean"], f"{c}_p05": r[f"{c}_p05"], f"{c}_p95": r[f"{c}_p95"]}
        for c in ("rd_per_yuan_runs", "budget_spent_share", "budget_unspent"):  # a newer summary's
            if c in r:
                row[c] = r[c]
        rows.append(row)
    table = pd.DataFrame(rows)
    table["wide"] = (table["mark"] == "") & ratio_wide(table["rd_per_yuan"], table["rd_per_yuan_p05"],
                                                       table["rd_per_yuan_p95"])
    readable = table["rd_per_yuan"].where((table["mark"] == "") & ~table["wide"])
    table["rank"] = readable.groupby(table["year"]).rank(ascending=False, method="min").astype("Int64")
    table = table.sort_values(["year", "rank", "point"], na_position="last", kind="stable").reset_index(drop=True)
    return table[[c for c in columns if c in table]]


def sweep_cost_effectiveness_note(results: Results, table: pd.DataFrame) -> str:
    """How to read ``sweep_cost_effectiveness``, below it in the workbook and the HTML report: the cumulation, the
    pairing, the mean of the runs' ratios (as the sweep's terminal table and summary.csv), the order, the marks."""
    start = results.meta.get("from_year")
    text = (f"自{start}年起累计至各报告年，各次运行与点0同参数组、同种子配对。每元带动企业研发：额外企业研发 ÷ 额外公共投入（财政支出+税式支出），"
            "取各次运行比值的均值（同扫描的终端表格与 summary.csv），区间为其5%–95%；全社会研发含高校院所。每年按每元带动企业研发从高到低排列，"
            "不宜解读的比值不排名、列于最后。 "
            f"Cumulated from {start} to each report year, each run paired with point 0's run of the same parameter draw "
            "and seed. Business R&D per public yuan: the extra business R&D over the extra public cost (spending + tax "
            "expenditure), the mean of the runs' ratios (as in the sweep's terminal table and summary.csv), the interval "
            "their 5%-95%; total R&D adds universities' and institutes'. Each year is sorted by business R&D per yuan, "
            "highest first; a ratio not to be read has no rank and comes last.")
    if table["wide"].any():
        text += " " + wide_note()
    if "budget_unspent" in table and table["budget_unspent"].astype(bool).any():
        share = f"{1 - UNSPENT_SHARE:.0%}"
        points = ", ".join(sorted({d.split(":", 1)[0] for d in table.loc[table["budget_unspent"].astype(bool), "design"]},
                                  key=lambda p: int(p.lstrip("p")) if p.lstrip("p").isdigit() else 0))
        text += (f" “预算支出率”：设计点所设预算自其生效至该报告年实际支出的比例（各次运行均值；多项预算取最低者）；{points}"
                 f"支出不足预算的{share}。{UNSPENT_NOTE[0]} 'Share of the budget spent': what a point spent of the budget "
                 "it sets, from the year it acts to the report year (mean over the runs; the lowest of several budgets); "
                 f"{points} spent under {share} of it. {UNSPENT_NOTE[1]}")
    if "rd_per_yuan_runs" in table:
        text += (" “有比值的运行数”：额外成本为正、有比值的运行数，少于每点运行数时均值只据这些运行。 'Runs with a ratio': the runs "
                 "whose extra cost is positive, which have a ratio; where fewer than the point's runs, the mean rests on "
                 "those alone.")
    return text + mark_notes(set(table["mark"])) + table_evidence_note(table)


def _ranked_by(results: Results) -> tuple[str, str] | None:
    """What ``ranked_designs`` ranks by, in words (Chinese, English): a comparison's ranking metric, a sweep's business
    R&D per yuan in its last report year; None without a ranking (a run, or a sweep store without its summary)."""
    ranked = results.tables.get("ranking")
    if ranked is not None and not ranked.empty and "rank" in ranked:
        zh, en = metric_words(str(ranked["metric"].iloc[0]))
        return f"按{zh}排名", f"ranked by {en}"
    summary = results.tables.get("summary")
    if results.kind == "sweep" and summary is not None and not summary.empty:
        year = int(summary["year"].max())
        return f"按{year}年每元带动企业研发排名", f"ranked by business R&D per public yuan in {year}"
    return None


def ranked_designs(results: Results) -> list[str]:
    """The designs besides the first (the base) from the best down (``_ranked_by``): a comparison's by its ranking
    (ranking.csv's ``rank``), a sweep's by business R&D per yuan in its last report year (``sweep_cost_effectiveness``;
    points without a ratio to read last); without a ranking, or designs it does not list, in their own order after."""
    order: list[str] = []
    if results.tables.get("ranking") is not None and _ranked_by(results) is not None:
        order = list(results.tables["ranking"].sort_values("rank", kind="stable")["design"])
    elif _ranked_by(results) is not None:
        table = sweep_cost_effectiveness(results)
        order = list(table.loc[table["year"] == table["year"].max(), "design"])
    rest = results.designs[1:]
    return [d for d in order if d in rest] + [d for d in rest if d not in order]


def shown_designs(results: Results, limit: int) -> tuple[list[str], str]:
    """The designs a table or chart that holds at most ``limit`` designs shows: every design when they fit, else the
    base and the best ``limit - 1`` of ``ranked_designs``; and the note to print right under it ("" when every design
    is shown): how many of how many it shows, chosen how, and which are left out (a sweep's points by their short
    ids, p1, p2, ...)."""
    if len(results.designs) <= limit:
        return list(results.designs), ""
    best = ranked_designs(results)[:limit - 1]
    shown = [results.designs[0], *best]
    left = ", ".join(d.split(":", 1)[0] if results.kind == "sweep" else d for d in results.designs if d not in shown)
    by = _ranked_by(results)
    zh = f"基准及{by[0]}的前{len(best)}个" if by else f"基准及其后的{len(best)}个（无排名可依）"
    en = f"the base and the best {len(best)} {by[1]}" if by else f"the base and the next {len(best)} (no ranking to go by)"
    return shown, (f"显示{len(results.designs)}个方案中的{len(shown)}个：{zh}；未显示：{left}（全部方案见工作簿）。 "
                   f"Shows {len(shown)} of {len(results.designs)} designs: {en}; left out: {left} (the workbook has "
                   "every design).")


# --- a comparison by instrument, and pairwise -----------------------------------------------------------

SIDE_EFFECT_CELL = "连带影响 side effect"  # R&D per yuan of a cost the design does not set (comparison.txt's mark)
SIDE_EFFECT_NOTE = ("连带影响 side effect：方案未改动该工具，其成本随方案而变（计入方案总成本），不计每元研发。 The design does not "
                    "change that instrument; its cost moves with the design (and counts in its total cost), so it gets "
                    "no R&D per yuan.")
TOTAL_INSTRUMENT = "合计 total (all instruments)"
BY_INSTRUMENT = {  # the columns the workbook and HTML show: bilingual header with unit (亿元 cumulated over the window)
    "design": "方案 design",
    "instrument_label": "工具 instrument",
    "extra_cost": "工具额外成本 instrument's extra cost (亿元)",
    "extra_rd": "方案额外企业研发 design's extra business R&D (亿元)",
    "rd_per_yuan": "该工具每元投入带动企业研发（元） business R&D per yuan of the instrument (yuan/yuan)",
}
INSTRUMENT_BANDED = ("extra_cost", "extra_rd", "rd_per_yuan")  # these have _p05 and _p95 columns


def by_instrument(designs: list[str], tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """A comparison's leverage by instrument, one row per design of ``designs`` x leverage row (``tables["leverage"]``:
    a ``ComparisonResult``'s or leverage.csv), the design's total first: ``instrument`` (a cost column or "total") and
    its ``instrument_label`` (from the comparison's costs table), the instrument's extra cost over the window, the design's extra business R&D (亿元: mean,
    ``_p05``, ``_p95`` over the paired runs) and business R&D per yuan of that cost (the ratio of the means, ``_p05``,
    ``_p95`` of the runs' ratios; ``qhsim.experiments.comparison.rd_per_yuan``). ``mark`` is what stands in place of
    the ratio, as in comparison.txt: ``SIDE_EFFECT_CELL`` where the design does not set the instrument
    (``design_sets_instrument`` False), ``COMBINED_CELL`` on the instruments of a design that sets several
    (``qhsim.results.several_instruments``: its extra R&D is theirs together), ``UNSTABLE_CELL`` where
    the ratio is not to be read (``unstable``, ``qhsim.results.ratio_unstable``), ``SAVING_CELL`` where there is no
    ratio (the extra cost is not positive); empty where the ratio stands. ``evidence_key`` and ``evidence``: where the
    ratio lies against the micro evidence (``qhsim.results.with_evidence``). Empty without a leverage table."""

    columns = ["design", "instrument", "instrument_label", *(f"{c}{s}" for c in INSTRUMENT_BANDED
                                                             for s in ("", "_p05", "_p95")), "mark", "evidence_key",
               "evidence"]
    lev = tables.get("leverage")
    if lev is None or lev.empty:
        return pd.DataFrame(columns=columns)
    # each instrument's names as the comparison wrote them in its costs table (``财政支出：事前立项资助 Public spending:
    # ex-ante project grants``, without the 万元 unit: these tables are in 亿元)
    costs = tables.get("costs")
    names = dict(zip(costs["item"], costs["label"])) if costs is not None and "label" in costs else {}
    names["total"] = TOTAL_INSTRUMENT
    order = {d: i for i, d in enumerate(designs)}
    lev = with_evidence(lev[lev["design"].isin(order)])
    lev["_design"], lev["_total"] = lev["design"].map(order), lev["instrument"] != "total"
    rows, several = [], several_instruments(lev)
    for r in lev.sort_values(["_design", "_total"], kind="stable").to_dict("records"):
        ratio = r.get("rd_per_yuan", np.nan)
        missing = ratio is None or pd.isna(ratio)
        if r["instrument"] != "total" and read_flag(r.get("design_sets_instrument")) is False:
            mark = SIDE_EFFECT_CELL
        elif r["instrument"] != "total" and r["design"] in several:
            mark = COMBINED_CELL
        elif read_flag(r.get("unstable")):
            mark = ratio_mark(r["extra_cost"])
        else:
            mark = SAVING_CELL if missing else ""  # no ratio and no flag: a table of an older qhsim
        rows.append({
            "design": r["design"], "instrument": r["instrument"], "instrument_label": names.get(r["instrument"], r["instrument"]),
            "extra_cost": r["extra_cost"], "extra_cost_p05": r["extra_cost_p05"], "extra_cost_p95": r["extra_cost_p95"],
            "extra_rd": r["extra_rd"], "extra_rd_p05": r["extra_rd_p05"], "extra_rd_p95": r["extra_rd_p95"],
            "rd_per_yuan": ratio, "rd_per_yuan_p05": r.get("p05", np.nan), "rd_per_yuan_p95": r.get("p95", np.nan),
            "mark": mark, "evidence_key": r["evidence_key"], "evidence": "" if mark else r["evidence"],
        })
    return pd.DataFrame(rows, columns=columns)


def by_instrument_note(results: Results, table: pd.DataFrame) -> str:
    """How to read ``by_instrument``, below it in the workbook and the HTML report: the window and the pairing, what
    each row's ratio is (and is not), and the marks the table holds."""
    start, end = results.meta.get("window") or (None, None)
    base = results.designs[0]
    text = (f"{start}-{end}年累计，与{base}逐次配对（同一随机种子）。每行：方案的额外企业研发 ÷ 该工具的额外成本（亿元；比值为均值之比，"
            "区间为各次运行比值的5%–95%），只对只改动一个工具的方案给出。 "
            f"Cumulated {start}-{end}, paired run by run against {base} (same seeds). Each row: the design's extra business "
            "R&D over that instrument's extra cost (亿元, 100 million yuan; yuan per yuan: the ratio of the means, the "
            "interval the 5%-95% of the runs' ratios), given for a design that changes one instrument only.")
    return text + mark_notes(set(table["mark"])) + table_evidence_note(table)


def mark_notes(marks: set[str]) -> str:
    """The notes on the marks a table shows in place of R&D per yuan (side effect, combined, no extra cost, unstable),
    each once, in that order, each after a space: "" without marks."""
    unstable = "“{0}”：{1[0]}。 “{0}”: {1[1]}.".format(UNSTABLE_CELL, unstable_rule())
    notes = ((SIDE_EFFECT_CELL, SIDE_EFFECT_NOTE), (COMBINED_CELL, COMBINED_NOTE), (SAVING_CELL, SAVING_NOTE),
             (UNSTABLE_CELL, unstable))
    return "".join(f" {note}" for cell, note in notes if cell in marks)


def _unstable_designs(metric: str, tables: Mapping[str, pd.DataFrame]) -> dict[str, str]:
    """The designs whose R&D per yuan, the ranking metric, is not to be read (``ratio_unstable``: ranking.csv's
    ``unstable`` where it has one, else the design's total leverage row's), each with the mark that says why
    (``ratio_mark`` of its extra cost); none for an indicator ranking."""
    if metric not in (RANK_DEFAULT, RANK_TOTAL):
        return {}
    lev = tables.get("leverage")
    totals = lev[lev["instrument"] == "total"] if lev is not None and "extra_cost" in lev else pd.DataFrame()
    cost = dict(zip(totals.get("design", []), totals.get("extra_cost", [])))
    for name, where in (("ranking", None), ("leverage", "total")):
        frame = tables.get(name)
        if frame is not None and "unstable" in frame:
            rows = frame if where is None else frame[frame["instrument"] == where]
            return {d: ratio_mark(cost.get(d, math.inf)) for d, u in zip(rows["design"], rows["unstable"]) if read_flag(u)}
    return {}


def pairwise(names: list[str], tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """A comparison's pairwise table (``tables["pairwise"]``: P(row design beats column design) on the ranking metric
    over the paired runs, ``qhsim.experiments.comparison.rank``; a ``design`` column, as pairwise.csv holds it), rows
    and columns in the order of ``names`` (the base first: the designs numbered from 1 as in comparison.txt). Columns:
    ``number``, ``design``, ``label`` (number and name, with ``UNSTABLE_CELL`` where the design's R&D per yuan, the
    metric, is not to be read) and one column per design, named by the design; NaN on the diagonal.
    ``attrs``: ``metric``, ``labels`` ({design: label}). Empty without a ranking, or for one design (``can_rank``)."""
    frame, ranking = tables.get("pairwise"), tables.get("ranking")
    if frame is None or ranking is None or ranking.empty or frame.empty or not can_rank(len(names) - 1):
        return pd.DataFrame(columns=["number", "design", "label"])
    frame = frame.set_index("design") if "design" in frame.columns else frame
    shown = [d for d in names if d in frame.index and d in frame.columns]
    metric = str(ranking["metric"].iloc[0])
    unstable = _unstable_designs(metric, tables)
    labels = {d: f"{names.index(d)} {d}" + (f" {unstable[d]}" if d in unstable else "") for d in shown}
    table = frame.loc[shown, shown].astype(float).reset_index(names="design")
    table.insert(0, "number", [names.index(d) for d in shown])
    table.insert(2, "label", [labels[d] for d in shown])
    table.attrs |= {"metric": metric, "labels": labels}
    return table


def pairwise_row_label(results: Results, row: Mapping[str, object]) -> str:
    """A row's label of ``pairwise`` in the workbook and the HTML report: its ``label`` with the design named in Chinese
    too (``design_name``): ``4 sd_300（加计扣除提高至300%）``, the unstable mark after it where it has one."""
    number = f"{row['number']} {row['design']}"
    return f"{row['number']} {design_name(results, str(row['design']))}{str(row['label']).removeprefix(number)}"


def pairwise_note(results: Results, table: pd.DataFrame) -> str:
    """How to read ``pairwise``, below it in the workbook and the HTML report: what a cell is, on which metric, when
    an order is settled, the pairs whose order the runs leave open (or that one run per design cannot rank)."""

    metric = table.attrs["metric"]
    zh_metric, en_metric = metric_words(metric)
    zh_better, en_better = ("越低越好", "the lower wins") if lower_is_better(metric) else ("越高越好", "the higher wins")
    base, runs = results.designs[0], results.n_draws()
    text = (f"每格：按各次运行的{zh_metric}（{zh_better}），行方案胜过列方案的概率，即每方案{runs}次运行（各方案同种子同参数组的运行两两"
            f"配对，数值均相对于{base}）中行方案更优的比例（按参数组权重加权；无值的运行计为最差）。两个方向之和为100%（打平除外）。一个方向达"
            "90%以上：次序较为确定；两个方向都低于90%：其先后随运行而变，应增加种子或参数组后再排序。 "
            f"Each cell: the probability that the row design beats the column design on {en_metric} ({en_better}): "
            f"the share of the {runs} runs per design (the designs' runs paired by seed and parameter draw, each "
            f"measured against {base}) in which the row's value is better, each run weighing its parameter draw; a run "
            "without a value counts as worst. The two "
            "directions add up to 100% but for ties. 90% or more one way: the order is settled; under 90% both ways: "
            "their order changes from run to run: add seeds or parameter draws before ranking those two.")
    if runs < 2:
        text += (" 每方案仅1次运行：概率只能是0或100%，不能据此排序。 One run per design: every probability is 0 or 100%, "
                 "which cannot rank the designs.")
    else:
        square = table.set_index("design")[list(table["design"])]
        pairs = unsettled_pairs(square)
        if pairs:
            listed = "; ".join(f"{a} > {b} {format_percent(p)}" for a, b, p in pairs)
            text += f" 次序未定 Order not settled: {listed}."
    if any(label.endswith(SAVING_CELL) for label in table["label"]):
        text += (f" “{SAVING_CELL}”：该方案无额外成本，没有每元研发，其胜负不宜解读。 “{SAVING_CELL}”: that design costs "
                 "nothing extra, so it has no R&D per yuan, and its wins and losses are not to be read.")
    if any(label.endswith(UNSTABLE_CELL) for label in table["label"]):
        zh, en = unstable_rule()
        text += (f" “{UNSTABLE_CELL}”：该方案的每元研发不宜解读，其胜负亦然：{zh}。 “{UNSTABLE_CELL}”: that design's R&D per "
                 f"yuan is not to be read, nor are its wins and losses: {en}.")
    return text


# --- a comparison's prefecture effects -------------------------------------------------------------------

# the indicators whose changes a comparison shows (comparison.txt, ``qhsim compare --region``, the workbook's and the
# HTML report's prefecture effects); a prefecture's own plan targets' indicators follow (``change_indicators``)
CHANGE_INDICATORS = ("rd_intensity", "business_rd", "enterprise_rd_share", "share_firms_with_rd", "hte_count",
                     "rd_personnel_per_10k", "tech_contract_turnover", "patents_per_10k", "talent_outflow")
PREFECTURE_EFFECTS = {  # the workbook's columns: bilingual headers ("window" and the years: ``prefecture_effects``)
    "region": "地区 region", "design": "方案 design", "label": "项目 item", "unit": "单位 unit",
    "statistic": "统计量 statistic",
}
# the money rows of a prefecture's effects: the leverage table's "total" row, each item's (zh, en, unit, statistic)
PREFECTURE_MONEY = {
    "extra_cost": ("本地额外公共投入（财政支出+税式支出）", "extra public cost there (spending + tax expenditure)", "亿元",
                   "累计均值 cumulative mean"),
    "extra_rd": ("本地额外企业研发", "extra business R&D there", "亿元", "累计均值 cumulative mean"),
    "rd_per_yuan": ("本地每元公共投入带动企业研发（元）", "business R&D per public yuan there", "yuan per yuan",
                    "均值之比 ratio of means"),
    "extra_public_rd": ("本地额外公共部门研发（高校院所）", "extra public-sector R&D there (universities, institutes)",
                        "亿元", "累计均值 cumulative mean"),
    "total_rd_per_yuan": ("本地每元公共投入带动全社会研发（元）", "total R&D per public yuan there", "yuan per yuan",
                          "均值之比 ratio of means"),
}
# where each money row's 5% and 95% are in the leverage table (extra public R&D has its mean only)
MONEY_BANDS = {"extra_cost": ("extra_cost_p05", "extra_cost_p95"), "extra_rd": ("extra_rd_p05", "extra_rd_p95"),
               "rd_per_yuan": ("p05", "p95"), "extra_public_rd": (None, None),
               "total_rd_per_yuan": ("total_p05", "total_p95")}
RATIOS = ("rd_per_yuan", "total_rd_per_yuan")  # replaced by a mark where ``unstable`` (``ratio_mark``)


def change_indicators(targets: pd.DataFrame | None, region: str) -> list[str]:
    """The indicators whose changes a comparison shows for ``region`` (the province or a prefecture):
    ``CHANGE_INDICATORS``, then those of its own plan targets in ``targets`` (a comparison's targets table; the
    province's are among the first), each once."""
    own = [] if targets is None or targets.empty else list(targets.loc[targets["region"] == region, "indicator"])
    return list(dict.fromkeys([*CHANGE_INDICATORS, *own]))


def regional_cost_note(zh: str = "各市州", en: str = "each prefecture") -> str:
    """What a prefecture's extra public cost and extra R&D cover, and why R&D per public yuan there is partial (below
    ``qhsim compare --region``'s tables, the workbook's and the HTML report's prefecture effects); ``zh``, ``en``: the
    prefecture's name, or every prefecture's."""
    return (f"地区成本：支付给{zh}企业和单位的财政支出（省级与州市资金均计入）加上其企业的税式支出；额外研发：{zh}企业（及高校院所）的研发。"
            "人才和知识在市州之间流动：方案资金在其他地区带动的研发、其他地区的资金在本地带动的研发均不计入，故此比值只是局部的。 "
            f"The regional cost: the public spending paid to {en}'s firms and institutions (provincial and prefectural "
            f"money alike) plus its firms' tax expenditure; the extra R&D: that of {en}'s firms (and universities and "
            "institutes). Talent and knowledge move between prefectures: R&D the design's money moves elsewhere, and R&D in "
            f"{en} moved by money spent elsewhere, are not counted, so this ratio is partial.")


def prefecture_effects(designs: list[str], tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Each prefecture's answer, as ``qhsim compare --region`` prints it, from the comparison's prefecture tables
    (``tables["prefecture_changes"]``, ``["prefecture_leverage"]``: ``qhsim.output.tidy.from_comparison``), one row per
    prefecture (geography order) x design of ``designs`` (not the base) x item: first the money located there
    (``PREFECTURE_MONEY``, the leverage table's "total" row: extra public cost, extra business R&D and R&D per public
    yuan, then public-sector R&D and total R&D per yuan; ``mark`` in place of a ratio not to be read,
    ``ratio_mark``), then the changes of its indicators (``change_indicators``). Columns: region, design, item (an
    indicator key or a money column), label, unit, kind ("money" | "indicator"), statistic, one column per report year
    (the median change; indicators only), window (an indicator's median change of its window mean, a money item's
    cumulative mean or ratio of means), p05, p95 (over the paired runs), mark, evidence_key and evidence (business R&D
    per yuan there against the micro evidence, ``qhsim.results.with_evidence``), digits (an indicator's decimals,
    ``change_digits`` of its row; money has 2). ``attrs["years"]``: the report years.
    Empty without the prefecture tables (a store of an older qhsim)."""
    changes, lev = tables.get("prefecture_changes"), tables.get("prefecture_leverage")
    if changes is None or lev is None or changes.empty:
        return pd.DataFrame(columns=["region", "design", "item", "label", "unit", "kind", "statistic", "window", "p05",
                                     "p95", "mark", "evidence_key", "evidence", "digits"])
    periods = list(dict.fromkeys(str(p) for p in changes["period"]))
    years = [p for p in periods if p != "window"]
    change = (changes.assign(period=changes["period"].astype(str))
              .set_index(["region", "design", "indicator", "period"]).sort_index())
    totals = leverage_totals(lev, ["region", "design"]).sort_index()
    indicators = data.load("indicators")
    rows = []
    for region in (r for r in data.prefecture_ids() if r in set(changes["region"])):
        for design in designs:
            if (region, design) in totals.index:
                r = totals.loc[(region, design)]
                unstable = bool(r["unstable"])
                for item, (zh, en, unit, statistic) in PREFECTURE_MONEY.items():
                    if item not in totals:  # total R&D: not in a leverage table of an older qhsim
                        continue
                    lo, hi = MONEY_BANDS[item]
                    ratio = item in RATIOS
                    mark = ratio_mark(r["extra_cost"]) if ratio and unstable else ""
                    judged = item == "rd_per_yuan" and not mark  # business R&D per yuan: against the micro evidence
                    rows.append({"region": region, "design": design, "item": item, "label": f"{zh} {en}",
                                 "unit": unit_words(unit), "kind": "money", "statistic": statistic,
                                 "window": math.nan if mark else r[item],
                                 "p05": math.nan if mark or lo is None else r[lo],
                                 "p95": math.nan if mark or hi is None else r[hi], "mark": mark,
                                 "evidence_key": r["evidence_key"] if judged else "",
                                 "evidence": r["evidence"] if judged else "", "digits": MONEY_DIGITS})
            for key in change_indicators(tables.get("targets"), region):
                if (region, design, key, "window") not in change.index:
                    continue
                at = change.loc[(region, design, key)]
                w = at.loc["window"]
                spec = indicators[key]
                by_year = {y: at.at[y, "median"] if y in at.index else math.nan for y in years}
                rows.append({"region": region, "design": design, "item": key, "label": f"{spec['zh']} {spec['en']}",
                             "unit": change_unit(key), "kind": "indicator", "statistic": "中位数 median", **by_year,
                             "window": w["median"], "p05": w["p05"], "p95": w["p95"], "mark": "",
                             "evidence_key": "", "evidence": "",
                             "digits": change_digits(key, [*by_year.values(), w["median"]])})
    table = pd.DataFrame(rows, columns=["region", "design", "item", "label", "unit", "kind", "statistic", *years,
                                        "window", "p05", "p95", "mark", "evidence_key", "evidence", "digits"])
    table.attrs["years"] = years
    return table


def prefecture_effects_notes(results: Results, table: pd.DataFrame) -> list[str]:
    """How to read ``prefecture_effects``, below it in the workbook and the HTML report, one paragraph each: the window,
    the pairing and what each statistic is; what a prefecture's money covers and why its R&D per yuan is partial
    (``regional_cost_note``); the marks the table holds (none without); where the rest of a prefecture's answer is."""
    start, end = results.meta.get("window") or (None, None)
    base = results.designs[0]
    notes = [f"与{base}逐次配对（同一随机种子），区间为配对差值的5%–95%。指标：各年为变化的中位数，窗口为{start}-{end}年窗口均值变化的"
             f"中位数；资金：{start}-{end}年累计（均值；每元研发为均值之比，区间为各次运行比值的5%–95%）。 Paired run by run "
             f"against {base} (same seeds); intervals: 5%-95% of the paired changes. Indicators: each year's median "
             f"change, and the median change of the {start}-{end} window mean; money: cumulated {start}-{end} (means; R&D "
             "per yuan is the ratio of the means, its interval the 5%-95% of the runs' ratios).",
             regional_cost_note(),
             mark_notes(set(table["mark"]) if "mark" in table else set()).strip(),
             table_evidence_note(table).strip(),
             "各市州本地目标的达标概率与本地税式支出：qhsim compare … --region ID。 Each prefecture's own targets' P(met) "
             "and its tax expenditure: qhsim compare ... --region ID."]
    return [note for note in notes if note]
