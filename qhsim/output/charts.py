"""Indicator charts 指标图: one PNG per indicator with the simulated path (median and 90% band for an
ensemble, one line per design for a comparison), the observed 2015–2020 values of the province or prefecture
(``comparable_points``; hollow and labelled apart, ``incomparable_points``: those on another definition than the
model's, and as hollow squares ``assumed_points``: macro.toml's assumptions, which are not observations), targets
labelled with their value and year, and the 2035 reference paths; plus one overview chart of the plan indicators (a
prefecture's: its own targets and observed values).

Chinese labels use the Noto Sans CJK SC subset shipped in ``qhsim/output/fonts`` (SIL OFL 1.1), else a
Chinese font found on the system; with neither, one warning is printed and labels keep their English.
Figures are built with matplotlib's object API (``matplotlib.figure.Figure``, rendered by Agg on save), so
no pyplot state is touched and a notebook's backend stays as it was.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import font_manager, rc_context
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, NullLocator, StrMethodFormatter

from qhsim import data
from qhsim.errors import warn
from qhsim.evidence import CHECKS
from qhsim.output.numbers import format_value, indicator_unit, unit_words
from qhsim.output.observed import assumed_points, comparable_points, incomparable_points, observed_indicators
from qhsim.output.report import (band, comparable, display_width, draw_weights, indicator_label, paths_of,
                                 region_label, region_paths, target_mark, target_value)
from qhsim.results import PROVINCE
from qhsim.targets import load_targets, reference_paths_2035

SHIPPED_FONT = "NotoSansSC-qhsim-subset.otf"
CJK_FONT_PREFIXES = ("Noto Sans CJK", "Noto Sans SC", "Source Han Sans", "WenQuanYi", "SimHei", "Microsoft YaHei")
START_YEAR = 2015
SIZE_INCHES = (6.4, 3.8)
DPI = 100
MARGINS = {"left": 0.12, "right": 0.97, "bottom": 0.09, "top": 0.86}
PNG_OPTIONS = {"compress_level": 1}  # fast zlib: ~10% larger files, ~10 ms less per chart
COLORS = {"sim": "#1f5f99", "data": "black", "target": "#c0392b", "reference": ("#7f8c8d", "#8e44ad")}
DESIGN_COLORS = ("#1f5f99", "#d35400", "#27ae60", "#8e44ad", "#c0392b", "#16a085", "#7f8c8d", "#2c3e50")
# the designs after the base: each its own colour, line style and marker, so that a design whose path is close to
# another's still shows; the base is drawn last, dashed and black, on top (a design close to it hid it)
DESIGN_LINES = ("-", "-.", ":", (0, (5, 1, 1, 1)), "-", "-.", ":")
DESIGN_MARKERS = ("o", "s", "^", "D", "v", "P", "X")
BASE_WORDS = "基准 base"
STEP_PREFIXES = ("spend_", "tax_expenditure_")  # yearly budgets and spending: drawn as steps
LEGEND = {
    "sim": "模拟 simulated",
    "median": "模拟中位数 simulated median",
    "band": "90%区间 90% band",
    "base_band": "90%区间（基准） 90% band (base)",
    "observed": "实际值 observed",
    "other": "观测值口径不同 observed on another definition",
    "assumed": "假设值（非观测值） assumed, not observed",
    "target": "规划目标 plan target",
    # the tables' marks (``target_mark``) explained: a target restated in the model's definition (*), one on another
    # definition, shown but not judged (†; Haixi's >=170 platforms read as missed by 100 in 2027 as a plain star)
    "restated": "*按模型口径重算的目标 target restated in the model's definition",
    "incomparable": "†口径不同的目标，不作判断 target on another definition, not judged",
    "growth": "规划增长目标路径 plan growth target (path)",
    "evidence": "实证范围 evidence range",
}


@cache
def cjk_font() -> str | None:
    """Family name of the font used for Chinese: the shipped subset, else one found on the system, else None
    (with one warning: charts are then labelled in English only)."""
    path = Path(str(resources.files("qhsim.output") / "fonts" / SHIPPED_FONT))
    if path.is_file():
        font_manager.fontManager.addfont(str(path))
        return font_manager.FontProperties(fname=str(path)).get_name()
    installed = sorted({f.name for f in font_manager.fontManager.ttflist})
    found = next((name for prefix in CJK_FONT_PREFIXES for name in installed if name.startswith(prefix)), None)
    if found is None:
        warn(f"no font with Chinese glyphs ({SHIPPED_FONT} missing from the package and none installed); "
             "charts are labelled in English only")
    return found


def readable(text: str) -> str:
    """``text`` as it can be drawn: unchanged with a CJK font; without one, its Chinese words (which would
    render as empty boxes, slowly) are dropped and the English kept."""
    if cjk_font():
        return text
    lines = (" ".join(w for w in line.split() if display_width(w) == len(w)) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


@contextmanager
def chart_style() -> Iterator[None]:
    """Fonts for Chinese and Latin text; missing-glyph warnings silenced (labels are checked instead)."""
    fonts = {"font.family": "sans-serif", "font.sans-serif": [f for f in (cjk_font(), "DejaVu Sans") if f],
             "axes.unicode_minus": False}
    with rc_context(fonts), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from", category=UserWarning)
        yield


def axis_unit(key: str) -> str:
    """Bilingual y-axis label of an indicator's unit (``qhsim.output.numbers.unit_words``), e.g. ``亿元 (100 mn
    yuan)``, ``人年 person-years``, ``家/万家企业 firms per 10k enterprises``."""
    return unit_words(indicator_unit(key))


def own_indicators(region: str) -> set[str]:
    """Indicators charted as a region's own (its overview; ``only_targeted``): those with a plan target there,
    and for a prefecture also those with an observed value there (the province's are the plan table)."""
    own = set(_region_targets(region)[0]["indicator"])
    return own if region == PROVINCE else own | observed_indicators(region)


def design_style(i: int, several: bool) -> dict:
    """How design ``i`` of a chart's designs is drawn: one design in the simulation colour; of several, the first (the
    base) black and dashed on top of the others, each other one in its own colour, line style and marker (every five
    years, each design's in other years, so that the markers of close paths do not hide each other)."""
    if not several:
        return {"color": COLORS["sim"], "lw": 1.5}
    if i == 0:
        return {"color": "black", "ls": "--", "lw": 1.5, "zorder": 4}
    j = (i - 1) % len(DESIGN_MARKERS)
    return {"color": DESIGN_COLORS[1:][j % (len(DESIGN_COLORS) - 1)], "ls": DESIGN_LINES[j], "lw": 1.4,
            "marker": DESIGN_MARKERS[j], "ms": 4, "markevery": (j % 5, 5), "zorder": 3}


def _geometric(start: float, end: float, first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
    """Yearly points of constant compound growth from ``start`` in ``first`` to ``end`` in ``last``."""
    years = np.arange(first, last + 1)
    return years, start * (end / start) ** ((years - first) / (last - first))


def _plot_targets(ax, key: str, targets: pd.DataFrame, median: pd.Series) -> list[tuple[int, float, str]]:
    """Level targets as stars, growth targets as the path they require; returns each star's (year, value, label) for
    ``label_targets``, which places the labels once every line is drawn."""
    stars = []
    for t in targets.itertuples():
        if t.kind == "growth":
            start = median.get(t.base_year, np.nan)
            if start > 0:
                years, path = _geometric(start, start * (1 + t.value) ** (t.year - t.base_year), t.base_year, t.year)
                label = f"{LEGEND['growth']} +{100 * t.value:.0f}%/yr {t.base_year}–{t.year}"
                ax.plot(years, path, ":", lw=1.5, color=COLORS["target"], label=label)
        else:  # ≥20.00 (2025), 17* (2025), ≥170† (2027): as the tables write it, with their marks
            text = f"{target_value(t.value, t.kind, key)}{target_mark(t)} ({t.year})"
            if not comparable(t):  # hollow: not to be read against the path
                ax.plot([t.year], [t.value], "*", ms=11, mfc="none", mec=COLORS["target"], mew=1.0,
                        label=f"{LEGEND['target']} {text}; †口径不同，不作判断 not comparable, not judged")
            else:
                plan = getattr(t, "plan_value", None)
                printed = target_value(plan, t.kind, key) if plan is not None and pd.notna(plan) else None
                ax.plot([t.year], [t.value], "*", ms=11, color=COLORS["target"], label=f"{LEGEND['target']} {text}" + (
                    f"; *规划印{printed} the plan prints {printed}" if printed else ""))
            stars.append((t.year, t.value, text))
    return stars


# where a target's label may go around its star (offset in points, alignment), in order of preference: right of it,
# above or below, then left, then straight above or below
LABEL_PLACES = (((7, 3), "left", "bottom"), ((7, -3), "left", "top"), ((-7, 3), "right", "bottom"),
                ((-7, -3), "right", "top"), ((0, 9), "center", "bottom"), ((0, -9), "center", "top"))


AXES_POINTS = {True: (230.0, 120.0), False: (390.0, 215.0)}  # small or not: the axes in points (``_figure``,
# ``overview_figure``, whose layout is made when they are saved)


def axes_points(ax) -> tuple[float, float]:
    """The width and height in points of ``ax`` in a figure whose layout is already set (``subplots_adjust``)."""
    box, (inches_wide, inches_high) = ax.get_position(), ax.figure.get_size_inches()
    return box.width * inches_wide * 72, box.height * inches_high * 72


def label_targets(ax, stars: list[tuple[int, float, str]], size: tuple[float, float], font: float = 7) -> None:
    """Label each target star with its text (value and year) where the label crosses the fewest drawn lines (simulated
    paths, reference paths, observed points: every Line2D sampled along its length) and stays inside the axes of
    ``size`` (width, height in points), in ``font`` points; on a white backing, so that a line it cannot avoid does
    not run through its digits (a label beside the star sat on the trend line). The report charts and the dashboard
    place their target labels with it."""
    if not stars:
        return
    width, height = size
    to_axes = ax.transLimits  # data to axes fraction, whatever the figure's layout will be
    points = []
    for line in ax.get_lines():
        x, y = (np.asarray(v, dtype=float) for v in line.get_data())
        ok = np.isfinite(x) & np.isfinite(y)
        x, y = x[ok], y[ok]
        if len(x) > 1:  # along the segments, not only at the years
            fine = np.linspace(0, len(x) - 1, 10 * (len(x) - 1) + 1)
            x, y = np.interp(fine, np.arange(len(x)), x), np.interp(fine, np.arange(len(y)), y)
        if len(x):
            points.append(to_axes.transform(np.column_stack([x, y])) * (width, height))
    drawn = np.vstack(points) if points else np.empty((0, 2))
    for year, value, text in stars:
        star = to_axes.transform([(year, value)])[0] * (width, height)
        wide, high = 0.56 * font * display_width(text), 1.1 * font  # a CJK character about twice a digit's width
        best, best_score = LABEL_PLACES[0], np.inf
        for place in LABEL_PLACES:
            (dx, dy), ha, va = place
            left = star[0] + dx - {"left": 0, "right": wide, "center": wide / 2}[ha]
            bottom = star[1] + dy - (high if va == "top" else 0)
            inside = (drawn[:, 0] > left - 2) & (drawn[:, 0] < left + wide + 2) & (drawn[:, 1] > bottom - 2) & (
                drawn[:, 1] < bottom + high + 2)
            outside = (left < 0) + (left + wide > width) + (bottom < 0) + (bottom + high > height)
            score = int(inside.sum()) + 1000 * outside
            if score < best_score:
                best, best_score = place, score
        (dx, dy), ha, va = best
        ax.annotate(text, (year, value), textcoords="offset points", xytext=(dx, dy), ha=ha, va=va,
                    fontsize=font, color=COLORS["target"], zorder=5,
                    bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8})


def _plot_references(ax, references: pd.DataFrame, key: str) -> None:
    """The 2035 reference paths as dashed lines from the observed 2020 value."""
    start = data.load("indicators")[key]["value_2020"]["value"] if len(references) else None
    for color, t in zip(COLORS["reference"], references.itertuples()):
        years, path = _geometric(start, t.value, t.base_year, t.year)
        ax.plot(years, path, "--", lw=1, color=color, label=f"{t.label}: {format_value(t.value, key)} (2035)")


def plot_evidence(ax, key: str, words: str = LEGEND["evidence"]) -> None:
    """The evidence range of an indicator checked against micro evidence (``evidence.CHECKS``: the R&D exit rate,
    which the calibration fits to that range), as a grey band labelled ``words`` and the range, so that a path is
    read against it."""
    check = CHECKS.get(key)
    if check is None:
        return
    percent = data.load("indicators")[key]["unit"] == "%"  # the checks hold shares
    low, high = (100 * check.low, 100 * check.high) if percent else (check.low, check.high)
    ax.axhspan(low, high, color=COLORS["reference"][0], alpha=0.15, lw=0,
               label=f"{words} {low:g}–{high:g}{'%' if percent else ''}")


def _years(points: dict[int, float]) -> str:
    """The years of ``points`` for a legend: ``2015–2020`` for consecutive years, else each (``2015, 2020``)."""
    years = sorted(points)
    if len(years) > 2 and years == list(range(years[0], years[-1] + 1)):
        return f"{years[0]}–{years[-1]}"
    return ", ".join(map(str, years))


def _year_axis(ax, last: int) -> None:
    """Ticks every five years from 2015 (2020, 2025, 2030, 2035 always shown); no minor ticks (they cost
    ~20 ms a chart)."""
    ax.xaxis.set_major_locator(FixedLocator(list(range(START_YEAR, last + 1, 5))))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlim(START_YEAR - 0.5, last + 0.5)


def draw_indicator(ax, key: str, paths: dict[str, pd.DataFrame], region: str, targets: pd.DataFrame,
                   references: pd.DataFrame, small: bool = False,
                   weights: dict[str, pd.Series | None] | None = None) -> None:
    """Draw one indicator on ``ax``: one path (median + band over its runs, weighted by the design's run
    ``weights`` where given, ``draw_weights``) per design, observed points, targets."""
    step = key.startswith(STEP_PREFIXES)
    last = START_YEAR
    median = pd.Series(dtype=float)
    several = len(paths) > 1
    for i, (design, design_paths) in enumerate(paths.items()):
        stats = band(design_paths[design_paths.index >= START_YEAR], (weights or {}).get(design))
        last = max(last, int(stats.index.max()))
        ensemble = design_paths.shape[1] > 1
        label = LEGEND["median"] if ensemble else LEGEND["sim"]
        if several:
            label = f"{design}" + (f" ({BASE_WORDS})" if i == 0 else "") + (" (median)" if ensemble else "")
        draw = {"drawstyle": "steps-mid"} if step else {}
        style = design_style(i, several)
        ax.plot(stats.index, stats["median"], label=label, **style, **draw)
        # the band of one design, or of the base alone among several (their bands overlapping blended into one dark
        # colour; the designs' differences from the base have their intervals in the tables)
        if ensemble and i == 0:
            ax.fill_between(stats.index, stats["lo"], stats["hi"], color="#7f8c8d" if several else style["color"],
                            alpha=0.15 if several else 0.18, lw=0, step="mid" if step else None,
                            label=LEGEND["base_band"] if several else LEGEND["band"])
        if i == 0:
            median = stats["median"]
    plot_evidence(ax, key)
    observed = comparable_points(key, region)
    if observed:
        ax.plot(list(observed), list(observed.values()), "o", ms=4, color=COLORS["data"],
                label=f"{LEGEND['observed']} {_years(observed)}")
    other = incomparable_points(key, region)
    if other:  # not on the model's definition: hollow, apart from the points the path can be read against
        ax.plot(list(other), list(other.values()), "o", ms=5, mfc="none", mec=COLORS["data"], mew=1.0,
                label=LEGEND["other"])
    assumed = assumed_points(key, region)
    if assumed:  # what the model starts from or follows, not data: a path through it agrees with an assumption
        ax.plot(list(assumed), list(assumed.values()), "s", ms=5, mfc="none", mec=COLORS["data"], mew=1.0,
                label=f"{LEGEND['assumed']} {_years(assumed)}")
    stars = _plot_targets(ax, key, targets[targets["indicator"] == key], median)
    if not small:
        _plot_references(ax, references[references["indicator"] == key], key)
    _year_axis(ax, last)
    if ax.get_ylim()[1] >= 1000:
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))  # 15,000 rather than 15000
    ax.set_ylabel(readable(axis_unit(key)), fontsize=7 if small else 8)
    ax.tick_params(labelsize=7 if small else 8)
    ax.grid(alpha=0.3)
    ax.margins(y=0.12)
    ax.get_xlim(), ax.get_ylim()  # the limits the lines set, which the labels are placed in
    label_targets(ax, stars, AXES_POINTS[small])


def _figure(key: str, paths: dict[str, pd.DataFrame], region: str, targets: pd.DataFrame,
            references: pd.DataFrame, weights: dict[str, pd.Series | None]) -> Figure:
    fig = Figure(figsize=SIZE_INCHES, dpi=DPI)
    fig.subplots_adjust(**MARGINS)  # fixed margins: a constrained layout costs ~40 ms per chart
    ax = fig.add_subplot()
    draw_indicator(ax, key, paths, region, targets, references, weights=weights)
    where = "" if region == PROVINCE else f" | {region_label(region)}"
    ax.set_title(readable(indicator_label(key, sep="\n") + where), fontsize=9)
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles, [readable(label) for label in labels], fontsize=7, loc="best")
    return fig


@cache
def _region_targets(region: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Plan targets and 2035 reference paths of one region (cached: deriving the paths takes ~50 ms)."""
    targets, references = load_targets(), reference_paths_2035()
    return targets[targets["region"] == region], references[references["region"] == region]


def _every(frames: dict[str, pd.DataFrame], region: str) -> dict[str, pd.DataFrame]:
    """``region_paths`` of each design (one reshape per design, shared by all its indicators)."""
    return {name: region_paths(frame, region) for name, frame in frames.items()}


def _design_paths(every: dict[str, pd.DataFrame], key: str) -> dict[str, pd.DataFrame]:
    return {name: paths_of(paths, key) for name, paths in every.items()}


def _weights(frames: dict[str, pd.DataFrame]) -> dict[str, pd.Series | None]:
    """``draw_weights`` of each design's runs."""
    return {name: draw_weights(frame) for name, frame in frames.items()}


def chart_keys(frames: dict[str, pd.DataFrame], region: str = PROVINCE, only_targeted: bool = False) -> list[str]:
    """Indicators with simulated data (indicators.toml order); ``only_targeted``: the region's own
    (``own_indicators``: a target there, or in a prefecture an observed value)."""
    targeted = own_indicators(region)
    every = _every(frames, region)
    keys = []
    for key in data.load("indicators"):
        if only_targeted and key not in targeted:
            continue
        paths = _design_paths(every, key)
        if all(p[p.index >= START_YEAR].isna().all(axis=None) for p in paths.values()):
            continue
        keys.append(key)
    return keys


def indicator_figure(frames: dict[str, pd.DataFrame] | pd.DataFrame, key: str, region: str = PROVINCE) -> Figure:
    """The chart of one indicator; ``frames``: an indicators frame, or ``{design: frame}`` to overlay designs."""
    frames = frames if isinstance(frames, dict) else {"": frames}
    targets, references = _region_targets(region)
    with chart_style():
        return _figure(key, _design_paths(_every(frames, region), key), region, targets, references,
                       _weights(frames))


def overview_figure(frames: dict[str, pd.DataFrame] | pd.DataFrame, region: str = PROVINCE,
                    title: str = "") -> Figure | None:
    """One multi-panel chart of the region's own indicators (``own_indicators``; None if none has data)."""
    frames = frames if isinstance(frames, dict) else {"": frames}
    keys = chart_keys(frames, region, only_targeted=True)
    if not keys:
        return None
    targets, references = _region_targets(region)
    every, weights = _every(frames, region), _weights(frames)
    ncols = 3 if len(keys) > 4 else 2
    nrows = -(-len(keys) // ncols)
    with chart_style():
        fig = Figure(figsize=(4.0 * ncols, 2.7 * nrows + 0.8), dpi=DPI)
        for i, key in enumerate(keys):
            ax = fig.add_subplot(nrows, ncols, i + 1)
            draw_indicator(ax, key, _design_paths(every, key), region, targets, references, small=True,
                           weights=weights)
            spec = data.load("indicators")[key]
            ax.set_title(readable(f"{spec['zh']}\n{spec['en']}"), fontsize=8)
        handles, labels = {}, {}
        for ax in fig.axes:
            for h, lab in zip(*ax.get_legend_handles_labels()):
                generic = lab.split(" ≥")[0].split(" (")[0] if lab.startswith(LEGEND["target"]) else lab
                generic = LEGEND["target"] if generic.startswith(LEGEND["target"]) else generic
                # a marked target's star (its own entry, explaining the mark: hollow for one not judged)
                generic = LEGEND["restated"] if "; *规划印" in lab else LEGEND["incomparable"] if "; †" in lab else generic
                generic = LEGEND["growth"] if generic.startswith(LEGEND["growth"]) else generic
                generic = LEGEND["observed"] if generic.startswith(LEGEND["observed"]) else generic
                generic = LEGEND["assumed"] if generic.startswith(LEGEND["assumed"]) else generic
                handles.setdefault(generic, h)
                labels.setdefault(generic, generic)
        texts = [readable(t) for t in labels.values()]
        columns, rows = legend_shape(texts, 4.0 * ncols)
        # the figure grows by the legend's rows, which sit below the panels and the last row's year labels
        height = 2.7 * nrows + 0.65 + rows * LEGEND_ROW_INCHES
        fig.set_size_inches(4.0 * ncols, height)
        fig.subplots_adjust(left=0.07, right=0.98, bottom=(0.35 + rows * LEGEND_ROW_INCHES) / height,
                            top=1 - 0.95 / height, hspace=0.55 * 2.7 * nrows / (height - 1.1), wspace=0.3)
        fig.legend(list(handles.values()), texts, loc="lower center", bbox_to_anchor=(0.5, 0.005), ncol=columns,
                   fontsize=LEGEND_FONT, frameon=False)
        fig.suptitle(readable(title or region_label(region)), fontsize=11)
        # the panels are different indicators: each has its own scale, and its unit on its y axis
        fig.text(0.5, 1 - 0.42 / height, readable(PANELS_NOTE), ha="center", va="top", fontsize=7.5, color="#566573")
    return fig


LEGEND_FONT = 8  # points
PANELS_NOTE = ("各分图为不同指标，纵轴刻度各不相同，单位见各纵轴 Each panel is another indicator with its own y scale; units on "
               "each y axis")
LEGEND_ROW_INCHES = 0.21  # a legend row of LEGEND_FONT text with its spacing
# a legend entry's key, the gap to its text and to the next column: matplotlib's handlelength, handletextpad and
# columnspacing (2.0, 0.8, 2.0 font sizes)
LEGEND_ENTRY_EM = 4.8


def legend_shape(texts: list[str], width: float) -> tuple[int, int]:
    """The columns and rows of a figure legend of ``texts`` that fits ``width`` inches: as many columns as entries of
    the widest text fit side by side (its width measured in the chart font), at least one."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path

    font = FontProperties(size=LEGEND_FONT)
    widest = max((text_to_path.get_text_width_height_descent(t, font, ismath=False)[0] for t in texts), default=0.0)
    entry = (widest + LEGEND_ENTRY_EM * LEGEND_FONT) / 72  # inches
    columns = max(1, min(len(texts), int(0.96 * width // entry)))
    return columns, -(-len(texts) // columns)


def save_png(fig: Figure, path: Path | None = None) -> bytes | Path:
    """Write ``fig`` to ``path`` (returned), or return the PNG bytes when ``path`` is None."""
    with chart_style():
        if path is None:
            buf = io.BytesIO()
            fig.savefig(buf, format="png", pil_kwargs=PNG_OPTIONS)
            return buf.getvalue()
        fig.savefig(path, pil_kwargs=PNG_OPTIONS)
        return path


def indicator_charts(indicators: pd.DataFrame, out_dir: Path, region: str = PROVINCE,
                     only_targeted: bool = False) -> list[Path]:
    """Write one PNG per indicator with data (indicators.toml order) to ``out_dir``, plus ``overview.png``
    (``<region>_overview.png``) with the region's own indicators (``own_indicators``); return their paths.

    Files are ``<indicator>.png`` for the province and ``<region>_<indicator>.png`` for a prefecture.
    ``only_targeted``: only the region's own indicators (a target there; in a prefecture, or an observed value).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    prefix = "" if region == PROVINCE else f"{region}_"
    written = []
    overview = overview_figure(indicators, region)
    if overview is not None:
        written.append(save_png(overview, out_dir / f"{prefix}overview.png"))
    for key in chart_keys({"": indicators}, region, only_targeted):
        written.append(save_png(indicator_figure(indicators, key, region), out_dir / f"{prefix}{key}.png"))
    return written
