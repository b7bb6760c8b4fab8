"""Report tables 报告表格: what the workbook and the HTML report show, built from ``Results`` (``qhsim.output.tidy``).

* ``headline``: every design's indicators against the plan targets, the 2035 reference paths and the
  prefectures' own targets (``summary_table`` rows with ``design``, ``region`` and ``section`` columns);
* ``by_year``: one region's indicators by year (median over draws), one row per (design, year);
* ``fiscal``: programme spending and tax expenditure by year, with their total;
* ``ranking``: each design's median and 90% interval of the key indicators in a year, its difference
  from the first design (paired by draw: under common random numbers the difference is the policy's
  effect) and its rank; years in which no design differs from the first are left out;
* ``cost_effectiveness``: a comparison's answer per design — extra public cost, extra business R&D, business and
  total R&D per public yuan with their 90% intervals, rank and P(first) — as ``comparison.txt`` prints it.

Medians, intervals and differences weigh each run by its ``weight`` (``qhsim.stats``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from qhsim import data, stats
from qhsim.output.report import BAND, summary_table
from qhsim.output.tidy import Results
from qhsim.stats import WEIGHT
from qhsim.results import FISCAL_PREFIXES, PROVINCE, UNSTABLE_CELL, unstable_rule
from qhsim.targets import load_targets, reference_paths_2035

RANKING_INDICATORS = ("rd_intensity", "business_rd", "share_firms_with_rd", "enterprise_rd_share",
                      "rd_personnel_per_10k", "tech_contract_turnover", "hte_count", "patents_per_10k")
PUBLIC_COST = "public_cost_total"
SECTIONS = {"plan": "规划目标 plan targets", "other": "其他指标 other indicators (no target)",
            "reference": "2035参考路径 2035 reference paths", "own": "本地目标 own targets"}


def target_regions() -> list[str]:
    regions = set(load_targets()["region"])
    return [r for r in data.prefecture_ids() if r in regions]


def headline(results: Results) -> pd.DataFrame:
    """Summary rows of every design: province (all reported indicators), references, prefecture targets."""
    parts = []
    references = reference_paths_2035()
    paths = references.set_index(["indicator", "value"])["label"]
    for design in results.designs:
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


def by_year(results: Results, region: str = PROVINCE, keys: list[str] | None = None) -> pd.DataFrame:
    """Median over draws of each indicator by year in ``region``: columns design, year, then indicators."""
    rows = results.long[results.long["region"] == region]
    if keys is not None:
        rows = rows[rows["indicator"].isin(keys)]
    med = stats.by_group(rows, ["design", "year", "indicator"], ["value"], ("median",))["value_median"]
    med = med.unstack("indicator")
    order = [k for k in data.load("indicators") if k in med.columns and med[k].notna().any()]
    med = med[order].reset_index()
    med["design"] = pd.Categorical(med["design"], results.designs, ordered=True)
    med = med.sort_values(["design", "year"], kind="stable")
    med["design"] = med["design"].astype(str)
    return med.reset_index(drop=True)


def fiscal(results: Results, region: str = PROVINCE) -> pd.DataFrame:
    """Spending and tax expenditure by year (万元), plus their total ``public_cost_total``."""
    keys = [k for k in data.load("indicators") if k.startswith(FISCAL_PREFIXES)]
    table = by_year(results, region, keys)
    present = [k for k in keys if k in table.columns]
    table[PUBLIC_COST] = table[present].sum(axis=1, min_count=1)
    return table


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
    order = {k: i for i, k in enumerate(RANKING_INDICATORS)}
    table = table.sort_values(["year", "indicator", "rank"], key=lambda s: s.map(order) if s.name == "indicator" else s,
                              kind="stable").reset_index(drop=True)
    table.attrs["identical_years"] = identical
    return table


COST_EFFECTIVENESS = {  # the columns the workbook and HTML show: bilingual header (亿元 cumulated over the window)
    "design": "方案 design",
    "extra_cost": "额外公共成本 extra public cost (亿元)",
    "tax_expenditure": "其中税式支出 of which tax expenditure (亿元)",
    "extra_rd": "额外企业研发 extra business R&D (亿元)",
    "rd_per_yuan": "企业研发/元公共成本 business R&D per public yuan",
    "total_rd_per_yuan": "全社会研发/元公共成本 total R&D per public yuan",
    "rank": "排名 rank",
    "p_first": "P(第一 first)",
}
BANDED = ("extra_cost", "extra_rd", "rd_per_yuan", "total_rd_per_yuan")  # these have _p05 and _p95 columns


def cost_effectiveness(designs: list[str], tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """A comparison's answer, one row per design of ``designs`` (not the base) from its ``tables`` (``leverage``,
    ``costs``, ``ranking``: a ``ComparisonResult``'s or a comparison ``Results.tables``): the extra public cost over
    the common window (mean and 5%/95% of the paired runs) and the tax expenditure in it, the extra business R&D,
    business R&D per public yuan (``qhsim.experiments.comparison.rd_per_yuan``), the extra R&D of universities and
    institutes and total R&D per public yuan, and the design's rank and P(first) by the comparison's ranking metric
    (``attrs["metric"]``). comparison.txt, the workbook and the HTML report print it. Empty without those tables."""
    if not {"leverage", "costs", "ranking"} <= set(tables) or tables["ranking"].empty:
        return pd.DataFrame(columns=list(COST_EFFECTIVENESS))
    lev = tables["leverage"][tables["leverage"]["instrument"] == "total"].set_index("design")
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
            "p_first": rank.at[design, "p_first"] if design in rank.index else float("nan"),
            # R&D per yuan not to be read over this extra cost (``qhsim.results.ratio_unstable``)
            "unstable": bool(r["unstable"]) if "unstable" in lev.columns else False,
        })
    table = pd.DataFrame(rows)
    table.attrs["metric"] = str(tables["ranking"]["metric"].iloc[0])
    return table


def cost_effectiveness_note(results: Results, table: pd.DataFrame) -> str:
    """What ``cost_effectiveness`` holds, below it in the workbook and the HTML report: the window, the pairing, the
    ranking metric in words, why the table's ratio of means and the ranking's median differ, and the rule behind a
    ratio shown as unstable."""
    start, end = results.meta.get("window") or (None, None)
    base, metric = results.designs[0], table.attrs["metric"]
    if metric in COST_EFFECTIVENESS:
        zh_metric, en_metric = COST_EFFECTIVENESS[metric].split(" ", 1)
    else:
        spec = data.load("indicators").get(metric, {})
        zh_metric, en_metric = f"{spec.get('zh', metric)}的变化", f"the change of {spec.get('en', metric)}"
    text = (f"{start}-{end}年累计，与{base}逐次配对（同一随机种子）。表中每元研发为各次运行均值之比（额外研发均值 ÷ 额外公共成本均值）；"
            f"排名与P(第一)按各次运行{zh_metric}的中位数，故两者可略有差异。企业研发/元：额外企业研发 ÷ 额外公共成本（财政支出+税式支出）；"
            f"全社会研发含高校院所。 Cumulated {start}-{end}, paired run by run against {base} (same seeds). R&D per "
            f"yuan here is a ratio of means (mean extra R&D over mean extra public cost); rank and P(first) use the "
            f"median over the runs of {en_metric}, so the two can differ slightly. Business R&D per yuan: extra business "
            "R&D over extra public cost (spending + tax expenditure); total R&D adds universities' and institutes'.")
    if "unstable" in table and table["unstable"].any():
        zh, en = unstable_rule()
        text += f" “{UNSTABLE_CELL}”：{zh}。 “{UNSTABLE_CELL}”: {en}."
    return text
