"""Scenario comparison 情景对比: a variant against its base under the same seed (common random numbers).

Because both runs face the same draws firm by firm, the difference is the policy's effect, not noise.
The table shows each reported indicator in the base, the variant and the difference at chosen years, and
the fiscal leverage: extra business R&D per extra yuan of public cost (programme spending plus tax
expenditure), both summed over the years the two runs differ.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from qhsim import data
from qhsim.output.numbers import format_value
from qhsim.output.report import FISCAL_PREFIXES, format_table, indicator_label, is_reported, wrap
from qhsim.output.folders import atomic_folder
from qhsim.output.store import json_default, sha256, write_contents
from qhsim.results import PROVINCE, RunResult
from qhsim.targets import load_targets

COMPARE_YEARS = (2025, 2030, 2035)
WAN_PER_YI = 1e4


def _province(indicators: pd.DataFrame, region: str) -> pd.DataFrame:
    return indicators[indicators["region"] == region].set_index("year")


def compare_table(base: pd.DataFrame, variant: pd.DataFrame, region: str = PROVINCE,
                  years: tuple[int, ...] = COMPARE_YEARS) -> pd.DataFrame:
    """One row per reported indicator: base, variant and variant − base in each of ``years``."""
    a, b = _province(base, region), _province(variant, region)
    years = tuple(y for y in years if y in a.index)
    targeted = set(load_targets()["indicator"])
    rows = []
    for key in data.load("indicators"):
        if key not in a.columns or not is_reported(key, targeted) or a[key].isna().all():
            continue
        row = {"indicator": key, "label": indicator_label(key)}
        for y in years:
            row[f"base_{y}"], row[f"variant_{y}"] = a.at[y, key], b.at[y, key]
            row[f"diff_{y}"] = b.at[y, key] - a.at[y, key]
        rows.append(row)
    return pd.DataFrame(rows)


def public_cost(indicators: pd.DataFrame, region: str = PROVINCE) -> pd.Series:
    """Programme spending plus tax expenditure per year (万元)."""
    frame = _province(indicators, region)
    return frame[[c for c in frame.columns if c.startswith(FISCAL_PREFIXES)]].sum(axis=1)


def leverage(base: pd.DataFrame, variant: pd.DataFrame, region: str = PROVINCE) -> dict[str, float]:
    """Cumulative extra business R&D and extra public cost (亿元) over the years the runs differ, and their ratio."""
    d_rd = _province(variant, region)["business_rd"] - _province(base, region)["business_rd"]
    d_cost = (public_cost(variant, region) - public_cost(base, region)) / WAN_PER_YI
    differs = (d_rd != 0) | (d_cost != 0)
    first = int(d_rd.index[differs.to_numpy()].min()) if differs.any() else math.nan
    extra_rd, extra_cost = float(d_rd[differs].sum()), float(d_cost[differs].sum())
    ratio = extra_rd / extra_cost if extra_cost > 0 else math.nan
    return {"first_year": first, "extra_business_rd": extra_rd, "extra_public_cost": extra_cost, "leverage": ratio}


def format_comparison(table: pd.DataFrame, lev: dict[str, float], base_name: str, variant_name: str,
                      wide: bool = True, width: int | None = None, lang: str = "both") -> str:
    """The comparison as text: every year's base, variant and difference (``wide``), or only the differences
    plus the last year's base and variant; ``width`` wraps the labels to fit that many columns; ``lang``:
    labels and headers in both languages, Chinese or English."""
    years = sorted({int(c.split("_")[1]) for c in table.columns if c.startswith("diff_")})
    cells = [(y, kind) for y in years for kind in ("base", "variant", "diff")
             if wide or kind == "diff" or y == years[-1]]
    words = {"base": ("基准", "base"), "variant": ("方案", "variant"), "diff": ("差值", "diff")}
    heads = [["指标"] + [f"{y}{words[k][0]}" for y, k in cells], ["indicator"] + [f"{y} {words[k][1]}" for y, k in cells]]
    heads = {"both": heads, "zh": heads[:1], "en": heads[1:]}[lang]
    body = [[indicator_label(row["indicator"], lang=lang)] + [format_value(row[f"{kind}_{y}"], row["indicator"], signed=kind == "diff") for y, kind in cells]
            for _, row in table.iterrows()]
    title = f"情景对比 Scenario comparison: {variant_name} − {base_name} (同一随机种子 same seed)"
    text = format_table(heads, body, [True] + [False] * len(cells), title, width)
    if not np.isnan(lev["first_year"]):
        note = (
            f"自{lev['first_year']}年起累计 Cumulative from {lev['first_year']}: "
            f"企业研发 business R&D {lev['extra_business_rd']:+.2f}亿元, "
            f"公共成本 public cost (spending + tax expenditure) {lev['extra_public_cost']:+.2f}亿元"
        )
        if not np.isnan(lev["leverage"]):
            note += f"; 杠杆 leverage {lev['leverage']:.2f}元研发/元公共成本 yuan of R&D per yuan of public cost"
        text += "\n\n" + ("\n".join(wrap(note, width)) if width is not None else note)
    return text + "\n"


def write_comparison(base: RunResult, variant: RunResult, out_dir: Path, charts: bool = True,
                     wide: bool = True, width: int | None = None, lang: str = "both") -> str:
    """Write both run folders, comparison.csv, comparison.txt, report.xlsx and report.html under ``out_dir``
    atomically; return the text for the screen (``wide``, ``width`` and ``lang`` as in ``format_comparison``)."""
    from qhsim.output.export import write_html, write_xlsx
    from qhsim.output.tidy import from_comparison

    table = compare_table(base.indicators, variant.indicators)
    lev = leverage(base.indicators, variant.indicators)
    text = format_comparison(table, lev, base.scenario_name, variant.scenario_name)
    with atomic_folder(out_dir, "compare") as tmp:
        for name, result in (("base", base), ("variant", variant)):
            (tmp / name).mkdir()
            write_contents(result, tmp / name, charts=charts, reports=False)
        table.to_csv(tmp / "comparison.csv", index=False, encoding="utf-8-sig")
        (tmp / "comparison.txt").write_text(text, encoding="utf-8")
        results = from_comparison(base, variant, lev)
        write_xlsx(results, tmp / "report.xlsx")
        write_html(results, tmp / "report.html", charts=charts)
        manifest = {
            "kind": "compare",
            "comparison": {"base": base.scenario_name, "variant": variant.scenario_name, "seed": base.seed},
            "leverage": lev,
            "files": {p.relative_to(tmp).as_posix(): sha256(p) for p in sorted(tmp.rglob("*")) if p.is_file()},
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2, default=json_default),
                                           encoding="utf-8")
    return format_comparison(table, lev, base.scenario_name, variant.scenario_name, wide, width, lang)
