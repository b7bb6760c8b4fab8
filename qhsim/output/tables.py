"""Report tables 报告表格: what the workbook and the HTML report show, built from ``Results`` (``qhsim.output.tidy``).

* ``headline``: every design's indicators against the plan targets, the 2035 reference paths and the
  prefectures' own targets (``summary_table`` rows with ``design``, ``region`` and ``section`` columns);
* ``by_year``: one region's indicators by year (median over draws), one row per (design, year);
* ``fiscal``: programme spending and tax expenditure by year, with their total;
* ``ranking``: each design's median and 90% interval of the key indicators in a year, its difference
  from the first design (paired by draw: under common random numbers the difference is the policy's
  effect) and its rank.

Medians, intervals and differences weigh each run by its ``weight`` (``qhsim.stats``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from qhsim import data, stats
from qhsim.output.report import BAND, FISCAL_PREFIXES, summary_table
from qhsim.output.tidy import Results
from qhsim.stats import WEIGHT
from qhsim.results import PROVINCE
from qhsim.targets import load_targets, reference_paths_2035

RANKING_INDICATORS = ("rd_intensity", "business_rd", "share_firms_with_rd", "enterprise_rd_share",
                      "rd_personnel_per_10k", "tech_contract_turnover", "hte_count", "patents_per_10k")
PUBLIC_COST = "public_cost_total"
SECTIONS = {"plan": "规划目标 plan targets", "reference": "2035参考路径 2035 reference paths",
            "own": "本地目标 own targets"}


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
        refs = refs[refs["target"].notna() & refs["sim_2035"].notna()]  # only when the runs reach 2035
        refs = refs.assign(label=[f"{lab} | {paths.get((k, v), '')}" for lab, k, v in
                                  zip(refs["label"], refs["indicator"], refs["target"])])
        sections = [summary_table(wide).assign(section=SECTIONS["plan"], region=PROVINCE),
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
    """Designs ranked on each key indicator in each of ``years`` (rank 1 = highest median; higher is better
    for every indicator tracked). Difference and its interval are against the first design, per draw."""
    lo, hi = BAND
    long = results.long[(results.long["region"] == PROVINCE) & results.long["indicator"].isin(RANKING_INDICATORS)]
    years = tuple(y for y in years if y in set(long["year"])) or (int(long["year"].max()),)
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
    table["rank"] = table.groupby(["indicator", "year"])["median"].rank(ascending=False, method="min").astype(int)
    order = {k: i for i, k in enumerate(RANKING_INDICATORS)}
    table = table.sort_values(["year", "indicator", "rank"], key=lambda s: s.map(order) if s.name == "indicator" else s,
                              kind="stable")
    return table.reset_index(drop=True)
