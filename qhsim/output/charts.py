"""Indicator charts 指标图: one PNG per indicator with the simulated path, data anchors, targets and the
2035 reference paths.

Figures are built with matplotlib's object API (``matplotlib.figure.Figure``, rendered by Agg on save), so
no pyplot state is touched: nothing to close, and the backend of a notebook user stays as it was.
"""

from __future__ import annotations

import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import font_manager, rc_context
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from qhsim import data
from qhsim.output.report import band, display_width, draw_paths, indicator_label, region_label
from qhsim.results import PROVINCE
from qhsim.targets import load_targets, reference_paths_2035

CJK_FONT_PREFIXES = ("Noto Sans CJK", "Noto Sans SC", "Source Han Sans", "WenQuanYi", "SimHei", "Microsoft YaHei")
START_YEAR = 2015
OBSERVED_YEARS = (2015, 2020)
SIZE_INCHES = (6.4, 3.8)
DPI = 100
MARGINS = {"left": 0.1, "right": 0.97, "bottom": 0.09, "top": 0.86}
PNG_OPTIONS = {"compress_level": 1}  # fast zlib: ~10% larger files, ~10 ms less per chart
COLORS = {"sim": "#1f5f99", "data": "black", "target": "#c0392b", "reference": ("#7f8c8d", "#8e44ad")}


@cache
def cjk_font() -> str | None:
    """Name of an installed font that has Chinese glyphs, or None (charts are then labelled in English only)."""
    installed = sorted({f.name for f in font_manager.fontManager.ttflist})
    return next((name for prefix in CJK_FONT_PREFIXES for name in installed if name.startswith(prefix)), None)


def _readable(text: str) -> str:
    """``text`` as it can be drawn: unchanged with a CJK font; without one, its Chinese words (which would
    render as empty boxes, slowly) are dropped and the English kept."""
    if cjk_font():
        return text
    lines = (" ".join(w for w in line.split() if display_width(w) == len(w)) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def observed_points(key: str) -> dict[int, float]:
    """2015/2020 province values that qhsim/data holds for an indicator: ``value_2020`` of indicators.toml,
    the macro.toml anchor series of the same name, and R&D intensity as total R&D / GDP."""
    points: dict[int, float] = {}
    if key in data.load("macro"):
        points |= data.observed(key)
    if key == "rd_intensity":
        rd, gdp = data.observed("total_rd"), data.observed("gdp")
        points |= {year: 100.0 * rd[year] / gdp[year] for year in rd.keys() & gdp.keys()}
    spec = data.load("indicators")[key]
    if "value_2020" in spec:
        points[2020] = float(spec["value_2020"]["value"])
    return {year: value for year, value in points.items() if year in OBSERVED_YEARS}


def _geometric(start: float, end: float, first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
    """Yearly points of constant compound growth from ``start`` in ``first`` to ``end`` in ``last``."""
    years = np.arange(first, last + 1)
    return years, start * (end / start) ** ((years - first) / (last - first))


def _plot_targets(ax, targets: pd.DataFrame, median: pd.Series) -> None:
    """Level targets as stars with their year; growth targets as the path they require from the base year."""
    for t in targets.itertuples():
        if t.kind == "growth":
            start = median.get(t.base_year, np.nan)
            if start > 0:
                years, path = _geometric(start, start * (1 + t.value) ** (t.year - t.base_year), t.base_year, t.year)
                label = f"目标 target +{100 * t.value:.0f}%/yr {t.base_year}-{t.year}"
                ax.plot(years, path, ":", color=COLORS["target"], label=label)
        else:
            ax.plot([t.year], [t.value], "*", ms=11, color=COLORS["target"], label=f"目标 target {t.year}")
            ax.annotate(str(t.year), (t.year, t.value), textcoords="offset points", xytext=(6, 4), fontsize=7)


def _plot_references(ax, references: pd.DataFrame, key: str) -> None:
    """The 2035 reference paths as dashed lines from the observed 2020 value."""
    start = data.load("indicators")[key]["value_2020"]["value"] if len(references) else None
    for color, t in zip(COLORS["reference"], references.itertuples()):
        years, path = _geometric(start, t.value, t.base_year, t.year)
        ax.plot(years, path, "--", lw=1, color=color, label=t.label)


def _chart(key: str, paths: pd.DataFrame, region: str, targets: pd.DataFrame, references: pd.DataFrame) -> Figure:
    stats = band(paths[paths.index >= START_YEAR])
    fig = Figure(figsize=SIZE_INCHES, dpi=DPI)
    fig.subplots_adjust(**MARGINS)  # fixed margins: a constrained layout costs ~40 ms per chart
    ax = fig.add_subplot()
    ensemble = paths.shape[1] > 1
    sim_label = "模拟中位数 simulated median" if ensemble else "模拟 simulated"
    ax.plot(stats.index, stats["median"], color=COLORS["sim"], label=sim_label)
    if ensemble:
        ax.fill_between(stats.index, stats["lo"], stats["hi"], color=COLORS["sim"], alpha=0.2, label="90%区间 90% band")
    observed = observed_points(key) if region == PROVINCE else {}
    if observed:
        ax.plot(list(observed), list(observed.values()), "o", color=COLORS["data"], label="数据锚点 data (qhsim/data)")
    _plot_targets(ax, targets[targets["indicator"] == key], stats["median"])
    _plot_references(ax, references[references["indicator"] == key], key)
    where = "" if region == PROVINCE else f" | {region_label(region)}"
    ax.set_title(_readable(indicator_label(key, sep="\n") + where), fontsize=9)
    ax.tick_params(labelsize=8)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles, [_readable(label) for label in labels], fontsize=7, loc="best")
    return fig


def indicator_charts(indicators: pd.DataFrame, out_dir: Path, region: str = PROVINCE) -> list[Path]:
    """Write one PNG per indicator with data (indicators.toml order) to ``out_dir``; return their paths.

    Files are ``<indicator>.png`` for the province and ``<region>_<indicator>.png`` for a prefecture.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    targets = load_targets()
    targets = targets[targets["region"] == region]
    references = reference_paths_2035()
    references = references[references["region"] == region]
    prefix = "" if region == PROVINCE else f"{region}_"
    fonts = {"font.family": "sans-serif", "font.sans-serif": [f for f in (cjk_font(), "DejaVu Sans") if f]}
    written = []
    for key in data.load("indicators"):
        paths = draw_paths(indicators, key, region)
        if paths[paths.index >= START_YEAR].isna().all(axis=None):
            continue
        path = out_dir / f"{prefix}{key}.png"
        with rc_context(fonts), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from", category=UserWarning)
            _chart(key, paths, region, targets, references).savefig(path, pil_kwargs=PNG_OPTIONS)
        written.append(path)
    return written
