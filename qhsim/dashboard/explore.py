"""Experiments page 实验: open a sweep or compare store written by ``qhsim sweep --out`` / ``qhsim compare --out``
and look at it through the experiments engine's readers (``qhsim.experiments``): the response of an indicator
in a year over each lever, and the PRIM boxes of lever settings that reach a threshold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from qhsim import stats
from qhsim.dashboard import i18n
from qhsim.dashboard.figures import plan_targets
from qhsim.output.charts import chart_style
from qhsim.output.numbers import format_number
from qhsim.output.report import wrap
from qhsim.results import PROVINCE
from qhsim.stats import WEIGHT


@dataclass
class Store:
    folder: Path
    kind: str  # "sweep" or "compare"
    manifest: dict[str, Any]
    runs: pd.DataFrame | None = None  # sweep: stacked runs
    levers: tuple[str, ...] = ()
    comparison: Any = None  # compare: ComparisonResult

    @property
    def years(self) -> list[int]:
        frame = self.runs if self.runs is not None else self.comparison.runs
        return sorted(int(y) for y in frame["year"].unique())

    def lever_label(self, name: str, lang: str) -> str:
        """A sweep lever's name for an analyst: its instruments' labels in ``lang`` with their unit
        (``grant_budget`` -> "Ex-ante grant budget (万元/yr)"), else the experiment's own name."""
        from qhsim.dashboard.levers import levers

        spec = self.manifest.get("experiment", {}).get("lever", {}).get(name) or {}
        found = [levers()[p] for p in (spec.get("paths") or [spec.get("path")]) if p in levers()]
        if not found:
            return name
        unit = found[0].unit_label(lang)
        return " + ".join(lever.label(lang) for lever in found) + (f" ({unit})" if unit else "")

    @property
    def indicators(self) -> list[str]:
        from qhsim import data

        frame = self.runs if self.runs is not None else self.comparison.runs
        return [k for k in data.load("indicators") if k in frame.columns and frame[k].notna().any()]


def open_store(folder: str | Path) -> Store:
    """A sweep or compare store folder (``i18n.Bilingual`` naming the folder otherwise, or ``InputError`` for a folder
    that holds no readable store)."""
    from qhsim.experiments import open_comparison, read_manifest, read_runs

    text = str(folder).strip()
    if not text:  # Path("") is the server's working folder, which the analyst never meant
        raise i18n.Bilingual("请输入结果目录的路径（由 qhsim sweep --out 或 qhsim compare --out 写出）",
                             "enter the path of a results folder (written by qhsim sweep --out or qhsim compare --out)")
    folder = Path(text)
    if not folder.is_dir():
        raise i18n.Bilingual(f"{folder}：没有这个目录（应为 qhsim sweep --out 或 qhsim compare --out 写出的目录）",
                             f"{folder}: no such folder (a folder written by qhsim sweep --out or qhsim compare --out)")
    manifest = read_manifest(folder)
    kind = manifest.get("kind")
    if kind == "sweep":
        levers = tuple(manifest.get("experiment", {}).get("levers", []))
        return Store(folder, kind, manifest, runs=read_runs(folder), levers=levers)
    if kind == "compare":
        return Store(folder, kind, manifest, comparison=open_comparison(folder))
    raise i18n.Bilingual(f"{folder}：这是 qhsim {kind} 的结果目录，不是参数扫描或方案比较的结果",
                         f"{folder}: results of qhsim {kind}, not of a sweep or a comparison")


def default_year(store: Store) -> int:
    """The year a sweep is first looked at: its last (its levers act from ``from_year`` on, often after the plan's
    target years)."""
    return store.years[-1]


THRESHOLD_DIGITS = 3  # significant digits of a default threshold (the field showed 1.448505718044854)


def default_threshold(indicator: str, year: int, runs: pd.DataFrame) -> float:
    """The province's plan target for the indicator in that year, else the median of the runs to
    ``THRESHOLD_DIGITS`` significant digits (a round number an analyst would type)."""
    t = plan_targets()
    t = t[(t["indicator"] == indicator) & (t["region"] == PROVINCE) & (t["year"] == year)
          & t["kind"].isin(("level", "min_level"))]
    if len(t):
        return float(t["value"].iloc[0])
    rows = runs[(runs["region"] == PROVINCE) & (runs["year"] == year)]
    median = stats.median(rows[indicator], rows[WEIGHT] if WEIGHT in rows else None)
    return float(f"{median:.{THRESHOLD_DIGITS}g}")


def response(store: Store, indicator: str, year: int) -> pd.DataFrame:
    """Per design point: its lever settings and the indicator's mean, 5% and 95% over its runs (weighted by
    their ``weight`` where they have one, ``qhsim.stats``)."""
    runs = store.runs
    rows = runs[(runs["region"] == PROVINCE) & (runs["year"] == year) & (runs["point"] > 0)]
    q = stats.by_group(rows, ["point"], [indicator])
    table = rows.groupby("point")[list(store.levers)].first()
    table["mean"], table["p05"], table["p95"] = (q[f"{indicator}_{s}"] for s in ("mean", "p05", "p95"))
    return table.reset_index()


LABEL_COLUMNS = 14  # display columns of a lever's axis label per inch of panel width, per line (8 pt)


def response_figure(store: Store, indicator: str, year: int, threshold: float, lang: str) -> Figure:
    """One panel per lever: the indicator in ``year`` at each design point (mean and 5-95% over runs), the threshold
    as a dashed line named in the legend; a lever's label wraps under its panel (a tied pair's two names are longer
    than the panel is wide)."""
    table = response(store, indicator, year)
    n = max(1, len(store.levers))
    fig = Figure(figsize=(min(4.2 * n, 12.6), 3.4), dpi=100)
    columns = int(LABEL_COLUMNS * fig.get_figwidth() / n)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.26, top=0.82, wspace=0.3)
    with chart_style():
        for i, lever in enumerate(store.levers):
            ax = fig.add_subplot(1, n, i + 1)
            x = pd.to_numeric(table[lever], errors="coerce")
            if x.isna().any():  # string or schedule levers: one position per level
                levels = sorted(table[lever].astype(str).unique())
                x = table[lever].astype(str).map({v: k for k, v in enumerate(levels)}).astype(float)
                ax.set_xticks(range(len(levels)), [i18n.level(v, lang) for v in levels], fontsize=7, rotation=20)
            else:
                ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: format_number(v)))  # 60,000
            err = np.vstack([table["mean"] - table["p05"], table["p95"] - table["mean"]])
            ax.errorbar(x, table["mean"], yerr=np.abs(err), fmt="o", ms=4, color="#1f5f99", alpha=0.7, capsize=2)
            if math.isfinite(threshold):
                ax.axhline(threshold, color="#c0392b", ls="--", lw=1,
                           label=f"{i18n.text('threshold', lang)} {format_number(threshold)}")
                if i == 0:
                    ax.legend(fontsize=7, loc="best")
            ax.set_xlabel("\n".join(wrap(store.lever_label(lever, lang), columns)), fontsize=8)
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
        fig.suptitle(f"{i18n.indicator(indicator, lang)} · {year}", fontsize=10)
    return fig


def discover(store: Store, indicator: str, year: int, threshold: float, probability: float):
    from qhsim.experiments import discover as prim

    return prim(store.folder, indicator, year, threshold, probability)
