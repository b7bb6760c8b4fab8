"""Dashboard figures 图表 in one language at a time (matplotlib object API, no pyplot state).

Data helpers are the output layer's (``qhsim.output.report``: paths per draw, median and 90% band, target
probabilities; ``qhsim.output.charts``: observed points and the chart style with the shipped CJK font), so the
dashboard shows the same numbers as ``qhsim run``.
"""

from __future__ import annotations

import io
import math
from functools import cache

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MultipleLocator

from qhsim import data
from qhsim.dashboard import i18n
from qhsim.dashboard.runs import LADDER, RATIO_BINS, Inside
from qhsim.output.charts import axes_points, chart_style, label_targets, plot_evidence
from qhsim.output.numbers import format_number
from qhsim.output.observed import assumed_points, comparable_points, incomparable_points
from qhsim.output.report import (band, comparable, draw_paths, draw_weights, n_draws, summary_table,
                                 target_mark, target_value)
from qhsim.results import PROVINCE
from qhsim.stats import aligned, probability, quantile
from qhsim.targets import load_targets, meets

START_YEAR = 2015
YEAR_STEP = 5  # year ticks on the plan periods: 2015, 2020, 2025 (the 14th FYP's end), 2030, 2035
COLORS = {"sim": "#1f5f99", "data": "black", "target": "#c0392b", "alt": "#e67e22", "reference": "#7f7f7f"}


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes (shown in the page and downloaded)."""
    buf = io.BytesIO()
    with chart_style():
        fig.savefig(buf, format="png", dpi=fig.dpi)
    return buf.getvalue()


@cache
def plan_targets() -> pd.DataFrame:
    """The plan targets (validated once per server; treat as read-only)."""
    return load_targets()


def target_rows(indicators: pd.DataFrame, region: str) -> pd.DataFrame:
    """Level targets of ``region`` with the simulated median, gap and P(target met) (``summary_table``)."""
    table = summary_table(indicators, region)
    return table[table["target"].notna()].reset_index(drop=True)


def year_axis(ax) -> None:
    """Years on the plan periods' ends (2015, 2020, ..., 2035), where the observed points and most targets lie."""
    ax.xaxis.set_major_locator(MultipleLocator(YEAR_STEP))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}"))


def simulated_band(indicators: pd.DataFrame, key: str, region: str) -> tuple[pd.DataFrame, bool]:
    """``key``'s simulated path in ``region`` from ``START_YEAR``: its median and 90% band over the runs (``band``),
    and whether there are several runs (an ensemble, whose band is drawn)."""
    paths = draw_paths(indicators, key, region)
    paths = paths[paths.index >= START_YEAR]
    return band(paths, draw_weights(indicators)), paths.shape[1] > 1


def indicator_axes(ax, indicators: pd.DataFrame, key: str, region: str, lang: str, compact: bool = False) -> None:
    """One indicator in one region: simulated path (median and 90% band for ensembles), the region's observed
    2015–2020 points (``comparable_points``; hollow: ``incomparable_points``, on another definition than the model's),
    the evidence range of an indicator checked against it (``plot_evidence``), and its targets labelled with value,
    year and P(target met)."""
    stats, ensemble = simulated_band(indicators, key, region)
    ax.plot(stats.index, stats["median"], color=COLORS["sim"],
            label=i18n.text("median" if ensemble else "simulated", lang))
    if ensemble:
        ax.fill_between(stats.index, stats["lo"], stats["hi"], color=COLORS["sim"], alpha=0.2,
                        label=i18n.text("band90", lang))
    plot_evidence(ax, key, i18n.text("evidence", lang))
    observed = comparable_points(key, region)
    if observed:
        ax.plot(list(observed), list(observed.values()), "o", color=COLORS["data"], label=i18n.text("observed", lang))
    other = incomparable_points(key, region)
    if other:  # on another definition than the model's: hollow, labelled apart
        ax.plot(list(other), list(other.values()), "o", mfc="none", mec=COLORS["data"], mew=1.0,
                label=i18n.text("observed_other", lang))
    assumed = assumed_points(key, region)
    if assumed:  # what the model starts from, not data: hollow squares, as the output charts draw them
        ax.plot(list(assumed), list(assumed.values()), "s", ms=5, mfc="none", mec=COLORS["data"], mew=1.0,
                label=i18n.text("assumed", lang))
    targets = plan_targets()
    targets = targets[(targets["region"] == region) & (targets["indicator"] == key)
                      & targets["kind"].isin(("level", "min_level"))]
    probs = target_rows(indicators, region) if ensemble and len(targets) else None
    stars = []
    for t in targets.itertuples():
        # as the tables write it (≥ for a floor), with their mark: * restated in the model's definition, † another
        # definition, not judged
        label = f"{i18n.text('target', lang)} {t.year}: {target_value(t.value, t.kind, key)}{target_mark(t)}"
        if probs is not None:
            p = probs[(probs["indicator"] == key) & (probs["target_year"] == t.year)]["p_met"]
            if len(p) and not math.isnan(p.iloc[0]):
                label += f" (P={p.iloc[0]:.0%})"
        hollow = {} if comparable(t) else {"mfc": "none", "mec": COLORS["target"], "mew": 1.0}  # not judged
        ax.plot([t.year], [t.value], "*", ms=12, color=COLORS["target"], **hollow)
        stars.append((t.year, t.value, label))
    year_axis(ax)
    ax.tick_params(labelsize=7 if compact else 8)
    ax.margins(y=0.15)  # room for the target labels
    ax.grid(alpha=0.3)
    ax.get_xlim(), ax.get_ylim()  # the limits the lines set, which the labels are placed in
    # where the label crosses the fewest lines, as the report charts place theirs (a fixed place beside the star sat
    # on Haixi's R&D intensity path in the prefectures' small multiples)
    label_targets(ax, stars, axes_points(ax), font=7 if compact else 8)


def indicator_figure(indicators: pd.DataFrame, key: str, region: str = PROVINCE, lang: str = "zh",
                     reference: pd.DataFrame | None = None, reference_name: str = "") -> Figure:
    """One indicator in one region (``indicator_axes``); with ``reference`` (the baseline run's indicators, named
    ``reference_name``) its path as a dashed grey line (an ensemble's median) to read the run against."""
    fig = Figure(figsize=(6.4, 3.6), dpi=100)
    fig.subplots_adjust(left=0.11, right=0.97, bottom=0.1, top=0.86)
    ax = fig.add_subplot()
    with chart_style():
        if reference is not None:
            path = simulated_band(reference, key, region)[0]["median"]
            ax.plot(path.index, path, color=COLORS["reference"], ls="--", lw=1.2,
                    label=f"{i18n.text('reference', lang)}{'：' if lang == 'zh' else ': '}{reference_name}")
        indicator_axes(ax, indicators, key, region, lang)
        where = "" if region == PROVINCE else f" · {i18n.region(region, lang)}"
        ax.set_title(i18n.indicator(key, lang) + where, fontsize=10)
        ax.legend(fontsize=7, loc="upper left")
    return fig


def prefecture_figure(indicators: pd.DataFrame, key: str, lang: str = "zh") -> Figure:
    """Small multiples: the indicator in all 8 prefectures, each with its own targets and vertical scale (the title
    says so: Haidong's 0.1% and Xining's 1.3% R&D intensity would look alike)."""
    fig = Figure(figsize=(12, 5.2), dpi=90)
    fig.subplots_adjust(left=0.05, right=0.99, bottom=0.07, top=0.88, hspace=0.4, wspace=0.25)
    with chart_style():
        for i, pref in enumerate(data.prefecture_ids()):
            ax = fig.add_subplot(2, 4, i + 1)
            indicator_axes(ax, indicators, key, pref, lang, compact=True)
            ax.set_title(i18n.region(pref, lang), fontsize=9)
        fig.suptitle(f"{i18n.indicator(key, lang)} · {i18n.text('own_scales', lang)}", fontsize=11)
    return fig


def inside_figure(inside: Inside, indicators: pd.DataFrame, year: int, lang: str) -> Figure:
    """One year of one run: R&D ratios against the HTE threshold, the certification ladder, talent flows and
    programme spending (the last two as paths with the chosen year marked)."""
    i = inside.years.index(year)
    fig = Figure(figsize=(12, 7), dpi=90)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.07, top=0.93, hspace=0.45, wspace=0.55)
    province = indicators[indicators["region"] == PROVINCE].set_index("year")
    with chart_style():
        ax = fig.add_subplot(2, 2, 1)
        width = np.diff(RATIO_BINS)
        ax.bar(RATIO_BINS[:-1], inside.ratio_all[i], width=width, align="edge", color="#9bbbd9",
               label=i18n.text("all_rd_firms", lang))
        ax.bar(RATIO_BINS[:-1], inside.ratio_hte[i], width=width, align="edge", color=COLORS["sim"],
               label=i18n.text("hte_holders", lang))
        ax.axvline(1.0, color=COLORS["target"], ls="--")
        ticks = [*np.arange(0.0, RATIO_BINS[-1] - 0.4, 0.5), RATIO_BINS[-2:].mean()]  # the last bin holds all above
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks[:-1]] + [f"≥{RATIO_BINS[-2]:g}"])
        ax.set_yscale("symlog", linthresh=10)
        ax.set_xlabel(i18n.text("ratio_axis", lang), fontsize=8)
        ax.set_ylabel(i18n.text("firms_axis", lang), fontsize=8)
        ax.set_title(f"{i18n.text('firms_rd_ratio', lang)} · {year}", fontsize=9)
        ax.legend(fontsize=7)

        ax = fig.add_subplot(2, 2, 2)
        names = [i18n.pick(i18n.LADDER_LABELS[k], lang) for k in LADDER]
        counts = [inside.ladder[i][k] for k in LADDER]
        bars = ax.barh(names, counts, color=COLORS["sim"])
        ax.bar_label(bars, labels=[f"{c:,.0f}" for c in counts], fontsize=7, padding=2)
        ax.set_xscale("log")
        ax.set_xlim(right=max(counts) * 4)  # room for the longest bar's label
        ax.set_title(f"{i18n.text('ladder', lang)} · {year}", fontsize=9)

        ax = fig.add_subplot(2, 2, 3)
        # flows from the first simulated year: the initial state (2015) has none
        flows = province.loc[province.index >= inside.years[0], ["talent_inflow", "talent_outflow"]]
        for col, color in (("talent_inflow", COLORS["sim"]), ("talent_outflow", COLORS["alt"])):
            ax.plot(flows.index, flows[col], color=color, label=i18n.indicator(col, lang))
        ax.axvline(year, color="grey", lw=0.8)
        year_axis(ax)
        ax.set_title(i18n.text("talent_flows", lang), fontsize=9)
        ax.legend(fontsize=7)

        ax = fig.add_subplot(2, 2, 4)
        spend = [c for c in province.columns if c.startswith(("spend_", "tax_expenditure_"))]
        values = province.loc[year, spend].astype(float)
        order = values.sort_values().index
        ax.barh([i18n.indicator(c, lang, unit=False) for c in order], values[order], color=COLORS["sim"])
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: format_number(v)))  # 10,000 万元, as the tables
        ax.set_title(f"{i18n.text('spending', lang)} · {year}", fontsize=9)
        ax.tick_params(labelsize=7)
    return fig


def headline(indicators: pd.DataFrame, key: str = "rd_intensity", year: int = 2025) -> dict:
    """The median of ``key`` in ``year`` (province) with its 90% band, and its province level target with
    P(target met): the share of runs at or above it (``qhsim.targets.meets``)."""
    paths = draw_paths(indicators, key, PROVINCE)
    values = paths.loc[year] if year in paths.index else pd.Series([math.nan])
    w = aligned(draw_weights(indicators), values.index)
    median, lo, hi = quantile(values, w, (0.5, 0.05, 0.95))
    out = {"value": median, "lo": lo, "hi": hi, "runs": n_draws(indicators), "target": math.nan, "p_met": math.nan}
    t = plan_targets()
    t = t[(t["indicator"] == key) & (t["region"] == PROVINCE) & (t["year"] == year) & t["kind"].isin(("level", "min_level"))]
    if len(t):
        row = next(t.itertuples())
        out["target"] = float(row.value)
        out["p_met"] = probability([bool(meets(float(v), row)) for v in values], w)
    return out
