"""Summary tables 汇总表: simulated indicators against observed 2020 values and plan targets.

Input is ``RunResult.indicators`` (columns year, region, one per indicator), optionally with a ``draw``
column for an ensemble (parameter draws × seeds). With several draws a cell holds the median and the
5%–95% band, and the table adds the share of draws that meet each target.
"""

from __future__ import annotations

import math
import unicodedata
from typing import Any

import numpy as np
import pandas as pd

from qhsim import data
from qhsim.errors import InputError
from qhsim.results import PROVINCE
from qhsim.targets import achieved, load_targets, meets, reference_paths_2035

BAND = (0.05, 0.95)
REPORT_YEARS = (2020, 2025, 2027, 2035)
EXTRA_INDICATORS = ("hte_per_10k_enterprises", "tech_based_enterprises", "little_giants", "business_rd",
                    "talent_inflow", "talent_outflow")
FISCAL_PREFIXES = ("spend_", "tax_expenditure_")
STATUS = {"modelled": "已建模 modelled", "stand_in": "替代路径 stand-in", "not_yet_modelled": "未建模 not yet modelled"}
MET = {True: "是 yes", False: "否 no"}
MISSING = "—"
HEADERS = {  # column -> (Chinese, English) header
    "label": ("指标", "indicator"),
    "status": ("状态", "status"),
    "observed_2020": ("2020实际", "observed 2020"),
    **{f"sim_{y}": (f"{y}模拟", f"sim {y}") for y in REPORT_YEARS},
    "target": ("目标（年份）", "target (year)"),
    "gap": ("差距", "gap"),
    "met": ("达标", "met"),
    "p_met": ("达标概率", "P(met)"),
}
LEFT_ALIGNED = ("label", "status", "met")


def indicator_label(key: str, sep: str = " ") -> str:
    """Bilingual label with unit, e.g. ``研发投入强度 R&D expenditure / GDP (%)``."""
    spec = data.load("indicators")[key]
    return f"{spec['zh']}{sep}{spec['en']} ({spec['unit']})"


def region_label(region: str) -> str:
    """Bilingual name of the province or a prefecture."""
    if region == PROVINCE:
        return "青海省 Qinghai Province"
    pref = next(p for p in data.prefectures() if p.id == region)
    return f"{pref.zh} {pref.en}"


def n_draws(indicators: pd.DataFrame) -> int:
    """Number of runs in an indicators frame (1 without a ``draw`` column)."""
    return int(indicators["draw"].nunique()) if "draw" in indicators else 1


def draw_paths(indicators: pd.DataFrame, key: str, region: str = PROVINCE) -> pd.DataFrame:
    """Yearly values of one indicator in one region: index year, one column per draw (a single run is draw 0).

    All NaN when the frame has no column ``key``; ``InputError`` when it has no rows for ``region``.
    """
    rows = indicators[indicators["region"] == region]
    if rows.empty:
        present = ", ".join(map(str, indicators["region"].unique()))
        raise InputError(f"indicators: no rows for region {region!r}; regions present: {present}")
    draws = rows["draw"] if "draw" in rows else pd.Series(0, index=rows.index)
    values = rows[key] if key in rows else pd.Series(np.nan, index=rows.index)
    tidy = pd.DataFrame({"year": rows["year"], "draw": draws, "value": values.astype(float)})
    return tidy.pivot(index="year", columns="draw", values="value")


def band(paths: pd.DataFrame) -> pd.DataFrame:
    """Median and 90% band across draws of ``draw_paths`` output: index year, columns median, lo, hi."""
    lo, hi = BAND
    stats = paths.quantile([0.5, lo, hi], axis=1).T
    stats.columns = ["median", "lo", "hi"]
    return stats


def is_reported(key: str, targeted: set[str]) -> bool:
    """Plan indicators (those with a target) plus the firm counts, business R&D and fiscal columns."""
    return key in targeted or key in EXTRA_INDICATORS or key.startswith(FISCAL_PREFIXES)


def _target_cells(paths: pd.DataFrame, target: Any) -> dict[str, Any]:
    """Target, gap (median over draws of achieved − target), met (on the median) and P(met)."""
    if target is None:
        return {"target": math.nan, "target_year": pd.NA, "target_kind": None, "base_year": pd.NA,
                "gap": math.nan, "met": None, "p_met": math.nan}
    values = np.array([achieved(paths[d], target) for d in paths.columns])
    judged = [m for m in (meets(v, target) for v in values) if m is not None]
    median = float(np.median(values)) if values.size else math.nan  # NaN if any draw lacks the indicator
    return {
        "target": target.value,
        "target_year": target.year,
        "target_kind": target.kind,
        "base_year": target.base_year,
        "gap": median - target.value,
        "met": MET.get(meets(median, target)),
        "p_met": float(np.mean(judged)) if judged else math.nan,
    }


def _summary_row(key: str, spec: dict[str, Any], paths: pd.DataFrame, target: Any, region: str) -> dict[str, Any]:
    stats = band(paths).reindex(REPORT_YEARS)
    row: dict[str, Any] = {
        "indicator": key,
        "label": indicator_label(key),
        "status": STATUS[spec["status"]],
        "observed_2020": spec["value_2020"]["value"] if region == PROVINCE and "value_2020" in spec else math.nan,
    }
    for year in REPORT_YEARS:
        row[f"sim_{year}"] = stats.at[year, "median"]
        if paths.shape[1] > 1:
            row[f"sim_{year}_lo"], row[f"sim_{year}_hi"] = stats.at[year, "lo"], stats.at[year, "hi"]
    return row | _target_cells(paths, target)


def summary_table(indicators: pd.DataFrame, region: str = PROVINCE, targets: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per reported indicator (indicators.toml order; one per target if it has several).

    Columns: indicator, label, status, observed_2020 (province only), sim_2020/2025/2027/2035 (median;
    with ``_lo``/``_hi`` 5%/95% columns for an ensemble), target, target_year, target_kind, base_year,
    gap (achieved − target in the target year; for growth targets the CAGR minus the target rate),
    met (是 yes / 否 no / None) and, for an ensemble, p_met (share of draws meeting the target).
    ``targets`` defaults to the plan targets (``load_targets``); pass ``reference_paths_2035()`` for those.
    """
    targets = load_targets() if targets is None else targets
    own = targets[targets["region"] == region]
    targeted = set(own["indicator"]) | set(targets.loc[targets["region"] == PROVINCE, "indicator"])
    rows = []
    for key, spec in data.load("indicators").items():
        if not is_reported(key, targeted):
            continue
        paths = draw_paths(indicators, key, region)
        for target in list(own[own["indicator"] == key].itertuples()) or [None]:
            rows.append(_summary_row(key, spec, paths, target, region))
    table = pd.DataFrame(rows)
    return table if n_draws(indicators) > 1 else table.drop(columns="p_met")


def display_width(text: str) -> int:
    """Terminal columns taken by ``text``: wide and full-width (CJK) characters count 2."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    fill = " " * (width - display_width(text))
    return fill + text if right else text + fill


def format_number(x: Any, signed: bool = False) -> str:
    if x is None or pd.isna(x):
        return MISSING
    x = float(x)
    whole = x == round(x) and (abs(x) >= 10 or x == 0)
    digits = 0 if abs(x) >= 1000 or whole else 1 if abs(x) >= 100 else 2
    return f"{x:{'+' if signed else ''},.{digits}f}"


def _rate(x: float, suffix: str) -> str:
    return MISSING if pd.isna(x) else f"{100 * x:+.1f}{suffix}"


def _cell(row: pd.Series, column: str) -> str:
    """Display text of one cell."""
    growth = row.get("target_kind") == "growth"
    if column.startswith("sim_") and f"{column}_lo" in row and pd.notna(row[column]):
        return f"{format_number(row[column])} [{format_number(row[f'{column}_lo'])}, {format_number(row[f'{column}_hi'])}]"
    if column == "target":
        if pd.isna(row["target"]):
            return MISSING
        if growth:
            return f"{_rate(row['target'], '%/yr')} {row['base_year']}-{row['target_year']}"
        prefix = ">=" if row["target_kind"] == "min_level" else ""
        return f"{prefix}{format_number(row['target'])} ({row['target_year']})"
    if column == "gap":
        return _rate(row["gap"], "pp") if growth else format_number(row["gap"], signed=True)
    if column == "p_met":
        return MISSING if pd.isna(row["p_met"]) else f"{100 * row['p_met']:.0f}%"
    if column in LEFT_ALIGNED:
        return MISSING if row[column] is None or pd.isna(row[column]) else str(row[column])
    return format_number(row[column])


def format_table(heads: list[list[str]], body: list[list[str]], left: list[bool], title: str | None = None) -> str:
    """A fixed-width text table (CJK-aware): header lines, a rule, body lines; every line equally wide."""
    widths = [max(display_width(line[j]) for line in heads + body) for j in range(len(left))]
    lines = [
        "  ".join(_pad(text, w, right=not is_left) for text, w, is_left in zip(line, widths, left))
        for line in heads + body
    ]
    total = max(sum(widths) + 2 * (len(widths) - 1), display_width(title or ""))
    lines.insert(len(heads), "-" * total)
    if title:
        lines.insert(0, title)
    return "\n".join(_pad(line, total) for line in lines)


def format_summary(table: pd.DataFrame, title: str | None = None) -> str:
    """A fixed-width text table of ``summary_table`` output for the terminal (CJK-aware alignment).

    Headers are in Chinese and English; NaN shows as "—". Every line has the same display width.
    """
    columns = [c for c in HEADERS if c in table.columns]
    body = [[_cell(row, c) for c in columns] for _, row in table.iterrows()]
    heads = [[HEADERS[c][i] for c in columns] for i in (0, 1)]
    return format_table(heads, body, [c in LEFT_ALIGNED for c in columns], title)


def summary_report(indicators: pd.DataFrame) -> str:
    """The province table plus one section per prefecture with its own targets (Haidong, Haixi)."""
    draws = n_draws(indicators)
    note = f"中位数 [5%, 95%]，{draws}次运行 median [5%, 95%] of {draws} runs" if draws > 1 else "单次运行 single run"
    sections = [format_summary(summary_table(indicators), f"{region_label(PROVINCE)} | {note}")]
    references = summary_table(indicators, targets=reference_paths_2035())
    references = references[references["target"].notna()].copy()
    if len(references):
        paths = reference_paths_2035().set_index(["indicator", "value"])["label"]
        references["label"] = [f"{lab} | {paths.get((ind, val), '')}" for lab, ind, val in
                               zip(references["label"], references["indicator"], references["target"])]
        title = f"2035年参考路径（非规划目标）2035 reference paths (not plan targets) | {note}"
        sections.append(format_summary(references.drop(columns="status"), title))
    regions = load_targets()["region"]
    for region in data.prefecture_ids():
        if region in set(regions):
            table = summary_table(indicators, region)
            title = f"{region_label(region)} | 本地目标 own targets | {note}"
            sections.append(format_summary(table[table["target"].notna()], title))
    return "\n\n".join(sections) + "\n"
