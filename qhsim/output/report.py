"""Summary tables 汇总表: simulated indicators against observed 2020 values and plan targets.

Input is ``RunResult.indicators`` (columns year, region, one per indicator), optionally with a ``draw``
column for an ensemble (parameter draws × seeds). With several draws a cell holds the median and the
5%–95% band, and the table adds the share of draws that meet each target.
"""

from __future__ import annotations

import math
import re
import shutil
import textwrap
import warnings
from typing import Any

import numpy as np
import pandas as pd
from wcwidth import wcswidth, wcwidth

from qhsim import data, stats
from qhsim.config.schema import DEFAULT_POPULATION_SEED
from qhsim.errors import InputError
from qhsim.output.lang import in_language, pick
from qhsim.output.numbers import (MISSING, decimals, format_fixed, format_interval, format_nonzero, format_number,
                                  format_percent, format_value, unit_of)
from qhsim.output.observed import (OTHER_DEFINITION_MARK, RESTATED_MARK, ObservedSource, OutOfSampleSkill,
                                   calibration_targets, observed_points, observed_source, out_of_sample_skill,
                                   persistence_sensitivity)
from qhsim.results import FISCAL_PREFIXES, PROVINCE, RunResult
from qhsim.stats import WEIGHT
from qhsim.targets import (achieved, base_year_check, comparable, deterministic_verdict, load_caveats,
                           load_not_modelled, load_targets, meets, parameter_spec, plan_base_years,
                           reference_paths_2035)

BAND = (0.05, 0.95)
REPORT_YEARS = (2020, 2025, 2027, 2035)  # milestone years; a run that ends between them also shows its last year
EXTRA_INDICATORS = ("hte_per_10k_enterprises", "tech_based_enterprises", "little_giants", "business_rd",
                    "talent_inflow", "talent_outflow")
STATUS = {"modelled": "已建模 modelled", "stand_in": "替代路径 stand-in", "not_yet_modelled": "未建模 not yet modelled"}
MET = {True: "是 yes", False: "否 no"}
NOT_COMPARABLE = "口径不同 not comparable"  # the met cell of a target on another definition than the model's (not judged)
ASSUMPTION_MARK = "‡"  # after a verdict (met) that rests on a caveat of targets.toml (an assumed, unfitted effect)
DETERMINISTIC_MARK = "§"  # after a P(met) whose runs all give the same value: a verdict, not a probability
DETERMINISTIC_NOTE = ("各次运行结果相同，达标概率是确定性判断，不是概率",
                      "identical in every run: P(met) is a deterministic verdict, not a probability")
LANGS = ("both", "zh", "en")
MIN_LABEL_WIDTH = 20
MIN_HEADER_WORD = 10  # header words longer than this may be cut to fit
HEADERS = {  # column -> (Chinese, English) header, in the tables' order; the sim_YYYY columns (``column_header``)
    # stand between the observed source and the target
    "label": ("指标", "indicator"),
    "status": ("状态", "status"),
    "observed_2020": ("2020实际", "observed 2020"),
    "observed_source": ("2020实际来源", "observed source"),  # ``summary_columns(sources=True)`` only
    "target": ("目标（年份）", "target (year)"),
    "rate": ("模拟年均增速", "sim growth/yr"),  # a growth target's simulated rate over its period
    "gap": ("差距", "gap"),
    "met": ("达标", "met"),
    "p_met": ("达标概率", "P(met)"),
}
LEFT_ALIGNED = ("label", "status", "met")
FLOOR = "≥"  # before a target that is a floor ("at least"), in the tables and on the charts
SOURCES_POINTER = ("各行2020实际值的来源见report.xlsx与report.html的“2020实际来源”列",
                   "each observed 2020 value's source: column 'observed source' of report.xlsx and report.html")


def report_years(last_year: int) -> tuple[int, ...]:
    """The milestone years of a run that reaches ``last_year``: ``REPORT_YEARS`` up to it, then ``last_year``."""
    years = [y for y in REPORT_YEARS if y <= last_year]
    return tuple(years if last_year in years else [*years, last_year])


def column_header(column: str) -> tuple[str, str] | None:
    """(Chinese, English) header of a summary column, ``sim_YYYY`` for any year; None for another column."""
    if column.startswith("sim_") and column[4:].isdigit():
        return f"{column[4:]}模拟", f"sim {column[4:]}"
    return HEADERS.get(column)


def sim_columns(table: pd.DataFrame) -> list[str]:
    """The simulated-value columns ``sim_YYYY`` of a summary table, by year."""
    return sorted((c for c in table.columns if c.startswith("sim_") and c[4:].isdigit()), key=lambda c: int(c[4:]))


def indicator_label(key: str, sep: str = " ", lang: str = "both") -> str:
    """Label with unit, e.g. ``研发投入强度 R&D expenditure / GDP (%)`` (``lang``: both, zh or en; the unit in
    Chinese for zh, ``unit_of``)."""
    spec = data.load("indicators")[key]
    names = in_language(spec["zh"], spec["en"], lang, sep)
    return f"{names} ({unit_of(key, lang)})"


def region_label(region: str, lang: str = "both") -> str:
    """Name of the province or a prefecture (``lang``: both, zh or en)."""
    if region == PROVINCE:
        return pick("青海省 Qinghai Province", lang)
    pref = next(p for p in data.prefectures() if p.id == region)
    return in_language(pref.zh, pref.en, lang)


def prefecture_anchor_note(lang: str = "both") -> str:
    """Which prefectures' values are fitted to observed data (they have rows in calibration/targets.toml) and
    which are model estimates without any observed value to check them against."""
    regions = {region for _, region in calibration_targets()}
    fitted = [p for p in data.prefecture_ids() if p in regions]
    others = [p for p in data.prefecture_ids() if p not in regions]
    names = {code: ("、".join(region_label(p, "zh") for p in group), ", ".join(region_label(p, "en") for p in group))
             for code, group in (("fitted", fitted), ("others", others))}
    zh = (f"市州数值：{names['fitted'][0] or '无'}的2020年值按观测值校准；{names['others'][0]}无观测值，为模型推算"
          "（企业分布、行业结构与假定的企业规模，见 qhsim/data/geography.toml）。")
    en = (f"Prefecture values: {names['fitted'][1] or 'none'}'s 2020 values are fitted to observed data; "
          f"{names['others'][1]} have no observed value and are model estimates (firm location, sector mix and "
          "assumed firm sizes: qhsim/data/geography.toml).")
    return in_language(zh, en, lang)


def base_year_notes(indicators: pd.DataFrame, lang: str = "both", from_year: int | None = None) -> list[str]:
    """One note per target of the province or a prefecture that this run (an ensemble: the median over its runs)
    already meets in its plan's base year (``qhsim.targets.base_year_check``): the plan sets it to be reached, so the
    run overstates that indicator there; read its value as an upper estimate. Each note gives the observed base-year
    value and its source (for the province, the plan's own base), or says the data hold none. Empty when there is
    none or the run ends before then. ``from_year``: only the targets of that year or later (a table that shows
    those)."""
    weights, present = draw_weights(indicators), set(indicators["region"])
    years = set(indicators["year"])
    by_region: dict[str, pd.DataFrame] = {}  # region_paths pivots the whole region: once per region

    def value_at(region: str, key: str, year: int) -> float:
        if region not in present or year not in years:
            return math.nan
        if region not in by_region:
            by_region[region] = region_paths(indicators, region)
        paths = paths_of(by_region[region], key)
        return stats.median(paths.loc[year].to_numpy(), _aligned(paths, weights))

    who = ("各次运行中位数", "the runs' median is") if n_draws(indicators) > 1 else ("本次运行", "this run has")
    notes = []
    for t in base_year_check(load_targets(), value_at).itertuples():
        if not t.reached or (from_year is not None and t.year < from_year):
            continue
        spec = data.load("indicators")[t.indicator]
        pct = "%" if spec["unit"] == "%" else ""
        value, target = (format_value(v, t.indicator) + pct for v in (t.base_year_value, t.value))
        observed = observed_points(t.indicator, t.region).get(t.base_year)
        if observed is None:
            base = (f"数据中无该指标{t.base_year}年的观测值或规划基数。",
                    f"The data hold no observed or plan base value for {t.base_year}.")
        else:
            source = observed_source(t.indicator, t.region)
            shown = format_value(observed, t.indicator) + pct + source.mark
            base = (f"{t.base_year}年观测值为{shown}（{source.label('zh')}）。",
                    f"Observed {t.base_year}: {shown} ({source.label('en')}).")
        zh = (f"{region_label(t.region, 'zh')}{spec['zh']}：{who[0]}{t.base_year}年已为{value}，达到{t.year}年目标"
              f"{target}；规划设此目标意味着当时尚未达到，此处高估，请视为上限估计。{base[0]}")
        en = (f"{region_label(t.region, 'en')}, {spec['en']}: {who[1]} {value} in {t.base_year}, already at the "
              f"{t.year} target of {target}; the plan sets that target to be reached, so this overstates it: read it "
              f"as an upper estimate. {base[1]}")
        notes.append(in_language(zh, en, lang))
    return notes


def band_caveat(lang: str = "both") -> str:
    """Below an ensemble's bands and P(met): what they leave out, with the out-of-sample check's coverage
    (``qhsim.output.observed.out_of_sample_skill``) where it is there."""
    zh = "区间与达标概率只反映所运行的各随机种子（及所抽参数组）之间的差异，不含模型结构误差"
    en = ("The band and P(met) show only the spread over the runs made (seeds, and parameter draws where drawn), "
          "not the model's structural error")
    skill = out_of_sample_skill()
    if skill is not None:
        cov, err = f"{100 * skill.coverage:.0f}%", f"{100 * skill.median_error:.0f}%"
        held = f"{skill.first_year}–{skill.last_year}" if skill.last_year > skill.first_year else str(skill.first_year)
        zh += (f"：以{skill.first_year - 1}年及以前的信息同法校准并预测{held}年时，90%区间只覆盖了{cov}的观测值"
               f"（预测中位数的误差中位数为{err}）")
        en += (f": made the same way from information up to {skill.first_year - 1}, the 90% band held {cov} of the "
               f"observed {held} values (median error of the predictive median {err})")
        side = outside_side(skill)
        zh, en = zh + side[0], en + side[1]
    zh += "。请把区间视为不确定性的下限（calibration/oos/oos_report.md）。"
    en += ". Read the band as a lower bound on the uncertainty (calibration/oos/oos_report.md)."
    return in_language(zh, en, lang)


def outside_side(skill: OutOfSampleSkill) -> tuple[str, str]:
    """On which side of their bands the out-of-sample check's misses lay (zh, en): one side only is a bias of the
    projection, not just a band too narrow."""
    n = skill.below + skill.above
    if n == 0:
        return "", ""
    if skill.above == 0:
        return (f"；区间外的{n}个观测值全部低于区间：模型预测偏高",
                f"; the {n} values outside it all lay below it: the model projected too high")
    if skill.below == 0:
        return (f"；区间外的{n}个观测值全部高于区间：模型预测偏低",
                f"; the {n} values outside it all lay above it: the model projected too low")
    return (f"；区间外的观测值{skill.below}个低于区间、{skill.above}个高于区间",
            f"; of the values outside it, {skill.below} lay below it and {skill.above} above")


SMALL_PREFECTURE = 0.1  # share of the province's enterprises (geography.toml) below which a prefecture is small
PROVINCE_NOISE_SCALE = 0.25  # below it even the province's values swing from seed to seed (measured 2026-12-05)
# Haidong is fitted to its observed 2020 values at scale 1; below it its R&D intensity reads high, not just noisy, and
# so does Haixi's (baseline, seeds 1-8, medians measured 2026-12-07 on the forty-eighth session's calibration: Haidong
# 2020 0.15% at scale 0.25, 0.09% at scale 1; 2027 0.14% and 0.11%; Haixi 2020 0.46% and 0.34%, 2024 0.62% and 0.46%,
# 2027 0.84% and 0.72%)
PREFECTURES_AT_REDUCED_SCALE = (
    "海东市的2020年值按规模1校准，规模较小时其研发投入强度偏高（基准，种子1–8：2020年中位数规模0.25时0.15%，规模1时0.09%，"
    "实际0.09%）；海西州同样偏高（2020年0.46%对规模1时0.34%，2027年0.84%对0.72%）。",
    "Haidong is fitted to its observed 2020 values at scale 1 and its R&D intensity reads high below it (baseline, "
    "seeds 1-8: 2020 median 0.15% at scale 0.25, 0.09% at scale 1, 0.09% observed); so does Haixi's (2020 0.46% "
    "against 0.34% at scale 1, 2027 0.84% against 0.72%).")


def reduced_scale_note(scale: float | None, lang: str = "both") -> str | None:
    """At a scale below 1: each simulated firm stands for 1/scale firms, and the small prefectures (fewer than
    ``SMALL_PREFECTURE`` of the province's enterprises) have so few that one firm's R&D swings their values from
    seed to seed (Yushu's 2025 R&D intensity 1.4% at scale 0.25 seed 1, 0.4% at scale 1); None at scale 1."""
    if scale is None or scale >= 1:
        return None
    small = [p for p in data.prefectures() if p.enterprise_share < SMALL_PREFECTURE]
    zh = (f"规模{scale:g}：每个模拟企业代表约{1 / scale:.3g}家企业，数量与金额按比例放大到全省；"
          f"{'、'.join(p.zh for p in small)}企业少，其数值（尤其研发投入强度）随随机种子大幅波动。"
          f"{PREFECTURES_AT_REDUCED_SCALE[0]}市州数字请用规模1运行。")
    en = (f"At scale {scale:g} each simulated firm stands for about {1 / scale:.3g} firms, and counts and money are "
          f"scaled up to the whole province; {', '.join(p.en for p in small)} have few firms, so their values (R&D "
          f"intensity above all) swing from seed to seed. {PREFECTURES_AT_REDUCED_SCALE[1]} Run at scale 1 for prefecture "
          "figures.")
    if scale < PROVINCE_NOISE_SCALE:
        zh += ("规模低于0.25时全省数值也随种子波动（2025年研发投入强度，种子1–10：规模0.1时标准差为均值的13%，0.25时9%）："
               "请取多个种子的平均（--seeds 1,2,3）或用0.25以上的规模。")
        en += (" Below scale 0.25 the province's figures swing too (2025 R&D intensity over seeds 1-10: sd 13% of "
               "the mean at scale 0.1, 9% at 0.25): average several seeds (--seeds 1,2,3) or run at 0.25 or above.")
    return in_language(zh, en, lang)


def persistence_note(lang: str = "both") -> str | None:
    """What the long-run projections rest on: how often firms that do R&D stop, in the shipped calibration, and the
    long-run R&D intensity with other exit rates (``qhsim.output.observed.persistence_sensitivity``); None
    without the what-if's table (a package installed without the repository)."""
    p = persistence_sensitivity()
    if p is None:
        return None
    low, high = (f"{100 * x:.0f}%" for x in p.evidence)
    label = data.load("indicators")["rd_exit_rate"]
    exits = [f"{100 * x:.1f}%" for x in p.other_exit_rates]
    changes = [f"{abs(100 * (1 - x / p.rd_intensity)):.0f}%" for x in p.other_rd_intensity]
    values = [f"{x:.2f}%" for x in p.other_rd_intensity]
    fit_zh = fit_en = ""
    if math.isfinite(p.distance) and p.other_distances and all(map(math.isfinite, p.other_distances)):
        # how the alternatives fit 2015-2020: the projection's assumption is not what the data settle
        how = [("better", "优于") if d < p.distance else ("worse", "劣于") for d in p.other_distances]
        if len(set(how)) == 1 and len(how) > 1:  # all on one side: said once ("both worse", not "worse and worse")
            en_how, zh_how = f"{'both' if len(how) == 2 else 'all'} {how[0][0]}", f"均{how[0][1]}"
        else:
            en_how, zh_how = " and ".join(e for e, _ in how), "、".join(z for _, z in how)
        dist = [f"{d:.2f}" for d in p.other_distances]
        fit_zh = f"（对2015–2020年目标的拟合{zh_how}现行校准：距离{'、'.join(dist)}，现行{p.distance:.2f}）"
        fit_en = (f" (fitting the 2015–2020 targets {en_how} than the shipped calibration: distance "
                  f"{' and '.join(dist)} against {p.distance:.2f})")
    # where the shipped rate lies against the evidence the calibration fits it to (calibration/targets.toml, group
    # micro_evidence), and each alternative's projection against the shipped one, lower or higher
    side = "below" if p.exit_rate < p.evidence[0] else "above" if p.exit_rate > p.evidence[1] else "inside"
    side_zh = {"below": "低于该范围", "above": "高于该范围", "inside": "在该范围内"}[side]
    moves = [("lower", "低") if x < p.rd_intensity else ("higher", "高") for x in p.other_rd_intensity]
    if len(set(moves)) == 1:  # all one way: said once ("16% and 26% lower")
        move_en, move_zh = f"{' and '.join(changes)} {moves[0][0]}", f"{moves[0][1]}{'、'.join(changes)}"
    else:
        move_en = " and ".join(f"{c} {m}" for c, (m, _) in zip(changes, moves))
        move_zh = "、".join(f"{z}{c}" for c, (_, z) in zip(changes, moves))
    zh = (f"长期预测依赖于研发的持续性：现行校准下开展研发的规上工业企业年退出率{100 * p.exit_rate:.1f}%"
          f"（按2015–2020年数据并以可比证据{low}–{high}为校准目标拟合，{side_zh}）。"
          f"按年退出率{'、'.join(exits)}重新拟合{fit_zh}，{p.year}年研发强度{move_zh}"
          f"（{'、'.join(values)}；该敏感性分析的同组随机种子下现行校准均值为{p.rd_intensity:.2f}%，"
          f"与本次运行的数值不同；docs/persistence_whatif.md）。"
          f"各年退出率见指标“{label['zh']}”。")
    en = (f"The long-run projections rest on how lasting R&D is: above-scale industrial firms that do R&D stop at "
          f"{100 * p.exit_rate:.1f}% a year in the shipped calibration (fitted to 2015–2020 with the evidence, "
          f"{low}–{high}, as a target: {side} it). Refitted with exit "
          f"rates of {' and '.join(exits)}{fit_en}, the model projects a {p.year} R&D intensity {move_en} "
          f"({' and '.join(values)} against {p.rd_intensity:.2f}%, the shipped calibration's mean over the what-if's "
          f"own seeds, not this run's; docs/persistence_whatif.md). Each year's rate is the indicator "
          f"“{label['en']}”.")
    return in_language(zh, en, lang)


def n_draws(indicators: pd.DataFrame) -> int:
    """Number of runs in an indicators frame (1 without a ``draw`` column)."""
    return int(indicators["draw"].nunique()) if "draw" in indicators else 1


def region_paths(indicators: pd.DataFrame, region: str = PROVINCE) -> pd.DataFrame:
    """Every indicator's yearly values in one region: index year, columns (indicator, draw); a single run is
    draw 0. ``InputError`` when the frame has no rows for ``region``."""
    rows = indicators[indicators["region"] == region]
    if rows.empty:
        present = ", ".join(map(str, indicators["region"].unique()))
        raise InputError(f"indicators: no rows for region {region!r}; regions present: {present}")
    keys = [c for c in rows.columns if c not in ("year", "region", "draw", WEIGHT, "param_draw", "seed", "point")]
    draws = rows["draw"] if "draw" in rows else pd.Series(0, index=rows.index)
    frame = rows[keys].astype(float).set_axis(pd.MultiIndex.from_arrays([rows["year"], draws], names=["year", "draw"]))
    return frame.unstack("draw").sort_index()


def paths_of(paths: pd.DataFrame, key: str) -> pd.DataFrame:
    """One indicator of ``region_paths`` output (all NaN when it is not there): index year, one column per draw."""
    if key in paths.columns.get_level_values(0):
        return paths[key]
    draws = paths.columns.get_level_values(1).unique()
    return pd.DataFrame(np.nan, index=paths.index, columns=pd.Index(draws, name="draw"))


def draw_paths(indicators: pd.DataFrame, key: str, region: str = PROVINCE) -> pd.DataFrame:
    """Yearly values of one indicator in one region: index year, one column per draw (a single run is draw 0).

    All NaN when the frame has no column ``key``; ``InputError`` when it has no rows for ``region``.
    """
    return paths_of(region_paths(indicators, region), key)


def draw_weights(indicators: pd.DataFrame) -> pd.Series | None:
    """The weight of each run (index ``draw``) of an indicators frame with a ``weight`` column
    (``Results.wide``), or None: its runs weigh alike."""
    if WEIGHT not in indicators or "draw" not in indicators:
        return None
    return indicators.groupby("draw")[WEIGHT].first()


def _aligned(paths: pd.DataFrame, weights: pd.Series | None) -> np.ndarray | None:
    """``weights`` in the order of the columns (draws) of ``paths``; None when absent or all equal (so ``band``
    takes its vectorised path)."""
    w = stats.aligned(weights, paths.columns)
    return None if w is None or np.all(w == w[0]) else w


def band(paths: pd.DataFrame, weights: pd.Series | None = None) -> pd.DataFrame:
    """Median and 90% band across draws of ``draw_paths`` output: index year, columns median, lo, hi; with the
    runs' ``weights`` (``draw_weights``) weighted quantiles (``qhsim.stats``)."""
    lo, hi = BAND
    values = paths.to_numpy(dtype=float)
    if not values.size:
        return pd.DataFrame(np.nan, index=paths.index, columns=["median", "lo", "hi"])
    w = _aligned(paths, weights)
    if w is not None:
        return pd.DataFrame([stats.quantile(row, w, (0.5, lo, hi)) for row in values], index=paths.index,
                            columns=["median", "lo", "hi"])
    # numpy rather than DataFrame.quantile (the same linear interpolation skipping NaN, ~20x faster: a run folder
    # asks for hundreds of bands); a year where every draw is NaN gives NaN. np.quantile where nothing is missing
    # (the same numbers, ~15x faster than nanquantile: an export asks for thousands of bands)
    if not np.isnan(values).any():
        q = np.quantile(values, [0.5, lo, hi], axis=1).T
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            q = np.nanquantile(values, [0.5, lo, hi], axis=1).T
    return pd.DataFrame(q, index=paths.index, columns=["median", "lo", "hi"])


def is_reported(key: str, targeted: set[str]) -> bool:
    """Plan indicators (those with a target) plus the firm counts, business R&D and fiscal columns."""
    return key in targeted or key in EXTRA_INDICATORS or key.startswith(FISCAL_PREFIXES)


def _target_cells(paths: pd.DataFrame, target: Any, weights: pd.Series | None = None) -> dict[str, Any]:
    """Target, a growth target's simulated rate (``rate``: the median over draws of the average growth rate over its
    period, with ``rate_lo``/``rate_hi`` 5%/95% for several draws; NaN for a level target), gap (median over draws of
    achieved − target), met (on the median) and P(met), over runs weighted by ``weights`` (``draw_weights``; None:
    alike)."""
    several = paths.shape[1] > 1
    rate = {"rate": math.nan, **({"rate_lo": math.nan, "rate_hi": math.nan} if several else {})}
    if target is None:
        return {"target": math.nan, "target_year": pd.NA, "target_kind": None, "base_year": pd.NA, **rate,
                "gap": math.nan, "met": None, "p_met": math.nan, "target_mark": "", "met_mark": "",
                "deterministic": False}
    values = np.array([achieved(paths[d], target) for d in paths.columns])
    w = _aligned(paths, weights)
    # NaN if any draw lacks the indicator
    median = stats.median(values, w) if values.size and not np.isnan(values).any() else math.nan
    judged = comparable(target)  # a target on another definition is shown, not judged
    if target.kind == "growth" and not math.isnan(median):  # the rate the gap is taken on, with its band
        rate["rate"] = median
        if several:
            rate["rate_lo"], rate["rate_hi"] = stats.quantile(values, w, BAND)
    return {
        "target": target.value,
        "target_year": target.year,
        "target_kind": target.kind,
        "base_year": target.base_year,
        **rate,
        "gap": median - target.value if judged else math.nan,
        "met": MET.get(meets(median, target)) if judged else NOT_COMPARABLE,
        "p_met": stats.probability([meets(v, target) for v in values], w),
        "target_mark": target_mark(target),
        "met_mark": met_mark(target),
        "deterministic": deterministic_verdict(values, target),
    }


def met_mark(target: Any) -> str:
    """The mark of a target whose verdict rests on an assumption (``ASSUMPTION_MARK`` when it has caveats), else ""."""
    return ASSUMPTION_MARK if len(getattr(target, "caveats", ())) else ""


def target_mark(target: Any) -> str:
    """The mark after a target's value (``load_targets`` row): ``RESTATED_MARK`` for a target restated in the model's
    definition (``plan_value``), ``OTHER_DEFINITION_MARK`` for one on another definition (``comparable`` false); their
    notes: ``plan_target_notes`` (which also explains the ``ASSUMPTION_MARK`` after a verdict that has ``caveats``)."""
    plan = getattr(target, "plan_value", None)
    return "".join([RESTATED_MARK if plan is not None and pd.notna(plan) else "",
                    "" if comparable(target) else OTHER_DEFINITION_MARK])


def _summary_row(key: str, spec: dict[str, Any], paths: pd.DataFrame, target: Any, region: str,
                 lang: str, weights: pd.Series | None, years: tuple[int, ...]) -> dict[str, Any]:
    quantiles = band(paths, weights).reindex(years)
    row: dict[str, Any] = {
        "indicator": key,
        "region": region,
        "label": indicator_label(key, lang=lang),
        "status": STATUS[spec["status"]],
        "observed_2020": observed_points(key, region).get(2020, math.nan),
        "observed_source": observed_source(key, region),
    }
    for year in years:
        row[f"sim_{year}"] = quantiles.at[year, "median"]
        if paths.shape[1] > 1:
            row[f"sim_{year}_lo"], row[f"sim_{year}_hi"] = quantiles.at[year, "lo"], quantiles.at[year, "hi"]
    return row | _target_cells(paths, target, weights)


def summary_table(indicators: pd.DataFrame, region: str = PROVINCE, targets: pd.DataFrame | None = None,
                  lang: str = "both") -> pd.DataFrame:
    """One row per reported indicator (indicators.toml order; one per target if it has several).

    Columns: indicator, region, label, status, observed_2020 and observed_source (``qhsim.output.observed``: an
    ``ObservedSource`` or None), sim_YYYY in the ``report_years`` of the runs' last year and the region's plan base
    year (``plan_base_years``; median; with ``_lo``/``_hi`` 5%/95% columns for an ensemble), target, target_year,
    target_kind, base_year, rate (a growth target's simulated CAGR over its period, with ``rate_lo``/``rate_hi`` for
    an ensemble), gap (achieved − target in the target year; for growth targets the CAGR minus the target
    rate),
    met (是 yes / 否 no / None; ``NOT_COMPARABLE``, without gap and P(met), for a target on another definition than
    the model's), target_mark (``target_mark``), met_mark (``ASSUMPTION_MARK`` for a verdict with caveats),
    deterministic (several runs, all with the same value) and, for an ensemble, p_met (share of draws meeting the
    target).
    ``targets`` defaults to the plan targets (``load_targets``); pass ``reference_paths_2035()`` for those.
    ``lang`` chooses the language of the labels (both, zh or en).
    """
    targets = load_targets() if targets is None else targets
    own = targets[targets["region"] == region]
    targeted = set(own["indicator"]) | set(targets.loc[targets["region"] == PROVINCE, "indicator"])
    rows = []
    every, weights = region_paths(indicators, region), draw_weights(indicators)
    years = report_years(int(every.index.max()))
    base = plan_base_years().get(region)  # where the region's plan starts, beside the milestones
    if base is not None and base in every.index and base not in years:
        years = tuple(sorted((*years, base)))
    by_key = {key: list(group.itertuples()) for key, group in own.groupby("indicator", sort=False)}
    for key, spec in data.load("indicators").items():
        if not is_reported(key, targeted):
            continue
        paths = paths_of(every, key)
        for target in by_key.get(key) or [None]:
            rows.append(_summary_row(key, spec, paths, target, region, lang, weights, years))
    table = pd.DataFrame(rows)
    return table if n_draws(indicators) > 1 else table.drop(columns="p_met")


def display_width(text: str) -> int:
    """Terminal columns taken by ``text`` (wcwidth): wide and full-width (CJK) characters count 2."""
    width = wcswidth(text)
    return width if width >= 0 else sum(max(wcwidth(c), 0) for c in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    fill = " " * (width - display_width(text))
    return fill + text if right else text + fill


ASCII_TOKEN = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.,%_/")  # a number or word
NO_LINE_START = frozenset("。，、；：）》」！？%")  # Chinese closing punctuation does not begin a line
OPENING = frozenset("（(《「“")  # a word without spaces that fits in two lines breaks best before these ...
CLOSING = frozenset("）)》」”，、；：")  # ... or after these
QUOTED = re.compile(r"“[^”\n]{1,40}”")  # a short quoted phrase, kept on one line by ``wrap``
# a note's mark standing before the words it explains ("† 科技创新型人才 ...", a comparison's "—² “— 不稳定 unstable”：
# ..."), kept with them by ``wrap``
MARKS = RESTATED_MARK + OTHER_DEFINITION_MARK + ASSUMPTION_MARK + DETERMINISTIC_MARK
MARK_WORD = re.compile(rf"(?<!\S)(?:[{re.escape(MARKS)}]|{MISSING}[¹²]) ")
NBSP = "\u00a0"  # its spaces while ``wrap`` breaks the text at the others


def wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` display columns, broken at spaces; a word wider than that (a key, or
    Chinese, which has no spaces) is cut after its last "_" or "-" that fits, unless that leaves a sliver (a design
    or indicator key: ``talent_grants_`` / ``doubled``, ``rd_`` / ``intensity``), or before an opening bracket or
    after closing punctuation where the rest then fits (``目标`` / ``（年份）``); else at the width, moved back (by
    less than half the line) so as not to split a number or Latin word (``1.1`` / ``6%``) nor begin the next line
    with closing punctuation. A short phrase in Chinese quotes (a table's mark, ``“组合 combined: 见合计 see total”``)
    stays on one line, and a note's mark (``*``, ``†``) with the word after it."""
    text = QUOTED.sub(lambda m: m.group().replace(" ", NBSP), text)
    text = MARK_WORD.sub(lambda m: m.group().replace(" ", NBSP), text)
    lines: list[str] = []
    for para in text.split("\n"):
        line = ""
        for word in para.split(" "):
            candidate = f"{line} {word}" if line else word
            if display_width(candidate) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            while display_width(word) > width:  # a word wider than the column: cut it
                fits = next(i for i in range(len(word), 0, -1) if display_width(word[:i]) <= width)
                # after an underscore or hyphen if that leaves no sliver: the piece is over half the line, or the
                # rest fits on the next one ("rd_" / "intensity", not "rd_intensit" / "y"); at a bracket or after
                # punctuation if the rest fits ("目标" / "（年份）"; prose fills its lines)
                cut = next((i for i in range(fits, 1, -1)
                            if word[i - 1] in "_-" and (i > fits // 2 or display_width(word[i:]) <= width)
                            or (word[i - 1] in CLOSING or word[i] in OPENING) and word[i] not in NO_LINE_START
                            and display_width(word[i:]) <= width), None)
                if cut is None:  # the last place in the line's second half that splits no token, else the width
                    cut = next((i for i in range(fits, max(fits // 2, 1) - 1, -1)
                                if not (word[i - 1] in ASCII_TOKEN and word[i] in ASCII_TOKEN)
                                and word[i] not in NO_LINE_START), fits)
                lines.append(word[:cut])
                word = word[cut:]
            line = word
        lines.append(line)
    return [line.replace(NBSP, " ").rstrip(" ") for line in lines]


def terminal_width() -> int:
    """Columns of the terminal (``$COLUMNS`` if set; 100 when not a terminal)."""
    return shutil.get_terminal_size((100, 24)).columns


def _rate(x: float, suffix: str, nonzero: bool = False) -> str:
    if pd.isna(x):
        return MISSING
    return f"{(format_nonzero if nonzero else format_fixed)(100 * x, 1, signed=True)}{suffix}"


def _value(row: pd.Series, column: str) -> str:
    return _number(row[column], row.get("indicator"))


def _number(value: float, key: str | None) -> str:
    """``value`` in indicator ``key``'s precision (counts whole), or as a plain number for another key."""
    return format_value(value, key) if key in data.load("indicators") else format_number(value)


def _rate_text(row: pd.Series, suffix: str, sep: str) -> str:
    """A growth target's simulated rate (``rate``), e.g. ``+7.8%/yr [+5.1, +10.2]``: its band (``rate_lo``/``rate_hi``,
    in % a year too) after ``sep``, for several runs."""
    if pd.isna(row.get("rate")):
        return MISSING
    if pd.isna(row.get("rate_lo", math.nan)):
        return _rate(row["rate"], suffix)
    text = format_interval(*(100 * row[c] for c in ("rate", "rate_lo", "rate_hi")), signed=True, digits=1, sep=sep)
    head, _, rest = text.partition(sep)
    return f"{head}{suffix}{sep}{rest}"


def target_value(value: float, kind: str, key: str, lang: str = "both") -> str:
    """A plan target's value as the tables and charts print it: +5.0%/yr (a growth target; +5.0%/年 in Chinese),
    ≥12.00 (a floor) or 1.00 (a level), in the indicator's precision."""
    if kind == "growth":
        return _rate(value, "%/年" if lang == "zh" else "%/yr")
    return (FLOOR if kind == "min_level" else "") + _number(value, key)


def observed_mark(row: pd.Series) -> str:
    """The mark after the row's observed 2020 value: ``RESTATED_MARK`` for a restatement of the figure the plan prints,
    ``OTHER_DEFINITION_MARK`` for a value on another definition than the model's, else ""."""
    source = row.get("observed_source")
    return source.mark if isinstance(source, ObservedSource) and pd.notna(row.get("observed_2020")) else ""


def source_notes(table: pd.DataFrame, lang: str = "both") -> list[str]:
    """The notes below a table: on its marked observed values (``observed_notes``), then on its targets' marks and the
    plan targets of its prefectures the model does not have (``target_notes``)."""
    return [*observed_notes(table, lang), *target_notes(table, lang)]


def observed_notes(table: pd.DataFrame, lang: str = "both") -> list[str]:
    """One note per marked observed value in ``table`` (each indicator once; ``observed_mark``), e.g. ``* 每万人口
    发明专利拥有量 Valid invention patents per 10,000 population: 3.12 = 1,848 valid invention patents / 592.4万 (2020
    census); the plan prints 3.04 (...)`` or ``† 科技创新型人才 S&T innovative talent: 1,000: Haidong's plan counts a
    broader group (...)``; the mark is the one ``cell_text`` puts after the value."""
    notes = []
    for _, row in table.iterrows():
        mark = observed_mark(row)
        if mark:
            name = indicator_label(row["indicator"], lang=lang).rsplit(" (", 1)[0]
            note = f"{mark} {name}{'：' if lang == 'zh' else ': '}{row['observed_source'].note(lang)}"
            if note not in notes:
                notes.append(note)
    return notes


def target_notes(table: pd.DataFrame, lang: str = "both") -> list[str]:
    """The notes on the targets ``table`` (``summary_table`` rows) shows: ``plan_target_notes``, with the note on a
    P(met) marked ``DETERMINISTIC_MARK`` where the table has one."""
    if "target" not in table or "region" not in table:
        return []
    rows = table[table["target"].notna()]
    alike = rows[rows["deterministic"].eq(True)] if "p_met" in rows and "deterministic" in rows else rows.iloc[0:0]
    return plan_target_notes(zip(rows["region"], rows["indicator"], rows["target_year"]), lang,
                             zip(alike["region"], alike["indicator"]))


def plan_target_notes(keys: Any, lang: str = "both", deterministic: Any = ()) -> list[str]:
    """Notes on the plan targets ``keys`` ((region, indicator, year) of the targets a table shows; a key without a
    plan target, such as a 2035 reference path, has none), each once, in this order: a target restated in the model's
    definition (``RESTATED_MARK``: the arithmetic and the figure the plan prints) or on another definition
    (``OTHER_DEFINITION_MARK``: how it differs; not judged); each caveat a verdict rests on (``ASSUMPTION_MARK``, with
    the value and range of the data's assumption it names); for the (region, indicator) pairs ``deterministic`` (whose
    runs all give the same value), that their P(met), marked ``DETERMINISTIC_MARK``, is a verdict, not a probability;
    last, per prefecture, its plan targets the model does not have (``not_modelled_note``)."""
    targets = load_targets().set_index(["region", "indicator", "year"])
    definitions: list[str] = []
    caveats: dict[str, None] = {}  # each caveat once, in the order of the rows
    regions: dict[str, None] = {}
    for region, key, year in dict.fromkeys((r, k, int(y)) for r, k, y in keys):
        if (region, key, year) not in targets.index:
            continue
        t = targets.loc[(region, key, year)]
        regions[region] = None
        if pd.notna(t["plan_value"]) or not comparable(t):
            definitions.append(_definition_note(t, region, key, lang))
        caveats |= {_caveat_note(cid, region, lang): None for cid in t["caveats"]}
    alike = [(region_label(r, "zh") + data.load("indicators")[k]["zh"],
              f"{region_label(r, 'en')}, {data.load('indicators')[k]['en']}") for r, k in dict.fromkeys(deterministic)]
    head = in_language("、".join(zh for zh, _ in alike), "; ".join(en for _, en in alike), lang)
    last = [f"{DETERMINISTIC_MARK} {head}{'：' if lang == 'zh' else ': '}{in_language(*DETERMINISTIC_NOTE, lang)}"
            ] if alike else []
    return [*definitions, *caveats, *last, *filter(None, (not_modelled_note(region, lang) for region in regions))]


def _definition_note(t: pd.Series, region: str, key: str, lang: str) -> str:
    """The note on a restated target or one on another definition (``plan_target_notes``)."""
    spec, shown = data.load("indicators")[key], target_value(t["value"], t["kind"], key)
    zh, en = t["note_zh"], t["note_en"]
    if pd.notna(t["plan_value"]):
        printed = target_value(t["plan_value"], t["kind"], key)
        zh, en = f"{zh}；规划印{printed}", f"{en}; the plan prints {printed}"
    if not comparable(t):
        zh, en = f"口径不同，不作达标判断：{zh}", f"not comparable, not judged: {en}"
    mark = RESTATED_MARK if comparable(t) else OTHER_DEFINITION_MARK
    head = in_language(f"{region_label(region, 'zh')}{spec['zh']}目标{shown}",
                       f"{region_label(region, 'en')}, {spec['en']}, target {shown}", lang)
    return f"{mark} {head}{'：' if lang == 'zh' else ': '}{in_language(zh, en, lang)}"


def _caveat_note(cid: str, region: str, lang: str) -> str:
    """A caveat of targets.toml as a note (``ASSUMPTION_MARK``), with the value and range of the quantity its
    ``parameter`` names (a prefecture's own, for a list in geography.toml order) where its text says
    ``{parameter}``; an assumption of the data files is not fitted (only calibration/free_parameters.toml's are)."""
    caveat = load_caveats()[cid]
    zh = en = ""
    if "parameter" in caveat:
        spec, (file, key) = parameter_spec(caveat["parameter"]), caveat["parameter"].split(":")
        value = spec["value"]
        value = value[data.prefecture_ids().index(region)] if isinstance(value, list) else value
        parts = ([f"{file}.toml：{key}={value:g}"], [f"{file}.toml {key} = {value:g}"])  # no space in Chinese
        if str(spec.get("source", "")).startswith("assumption"):
            parts[0].append("假设，未经校准")
            parts[1].append("an assumption, not fitted")
        if "range" in spec:
            lo, hi = spec["range"]
            times = "×" if "multiplicative" in spec.get("note", "") else ""  # a factor on the value
            parts[0].append(f"可能范围{'该值' if times else ''}{times}{lo:g}–{hi:g}")
            parts[1].append(f"range {'the value ' if times else ''}{times}{lo:g}–{hi:g}")
        zh, en = f"（{'，'.join(parts[0])}）", f" ({', '.join(parts[1])})"
    zh, en = caveat["zh"].format(parameter=zh), caveat["en"].format(parameter=en)
    return f"{ASSUMPTION_MARK} {in_language(zh + '。', en + '.', lang)}"


def not_modelled_note(region: str, lang: str = "both") -> str | None:
    """The plan targets of ``region`` the model has no indicator for (``load_not_modelled``), in one line: ``海东市未建模
    的规划目标：财政科技投入比重2020年1%→2025年1.5%（约束性；...；seed 002:L499）...``; None when there is none."""
    rows = [r for r in load_not_modelled() if r["region"] == region]
    if not rows:
        return None
    zh = "；".join(f"{r['zh']}{r['target_zh']}（{r['nature_zh']}；{r['reason_zh']}；{r['source']}）" for r in rows)
    en = "; ".join(f"{r['en']} {r['target_en']} ({r['nature_en']}; {r['reason_en']}; {r['source']})" for r in rows)
    return in_language(f"{region_label(region, 'zh')}未建模的规划目标：{zh}。",
                       f"{region_label(region, 'en')}, plan targets not modelled: {en}.", lang)


def cell_text(row: pd.Series, column: str, lang: str = "both", stacked: bool = False) -> str:
    """Display text of one cell; ``stacked``: an ensemble band goes on a second line."""
    growth = row.get("target_kind") == "growth"
    if column.startswith("sim_") and f"{column}_lo" in row and pd.notna(row[column]):
        key = row.get("indicator")  # its precision (``_number``), a plain number for another key
        return format_interval(row[column], row[f"{column}_lo"], row[f"{column}_hi"],
                               key=key if key in data.load("indicators") else None, sep="\n" if stacked else " ")
    if column == "target":
        if pd.isna(row["target"]):
            return MISSING
        text = target_value(row["target"], row["target_kind"], row.get("indicator"), lang) + row.get("target_mark", "")
        # in an ensemble's stacked rows the year goes on the second line, as the bands do: the column narrows
        sep = "\n" if stacked and any(c.startswith("sim_") and c.endswith("_lo") for c in row.index) else " "
        return f"{text}{sep}{row['base_year']}-{row['target_year']}" if growth else f"{text}{sep}({row['target_year']})"
    if column == "rate":  # a growth target's simulated rate: blank for a level target, whose value is the sim column's
        return (_rate_text(row, "%/年" if lang == "zh" else "%/yr", "\n" if stacked else " ") if growth
                else "")
    if column == "gap":
        # a gap that rounds to zero keeps the digits that show its sign (10.00 against 10.00 "not met" reads as a
        # contradiction; -0.002 does not)
        if growth:  # percentage points ("pp" in Chinese too: 百分点 widens the column enough to cut Chinese names)
            return _rate(row["gap"], "pp", nonzero=True)
        key = row.get("indicator")
        if key in data.load("indicators"):
            return format_nonzero(row["gap"], decimals(key), signed=True)
        return format_number(row["gap"], signed=True)
    if column == "p_met":
        mark = DETERMINISTIC_MARK if row.get("deterministic") in (True,) else ""  # numpy's True too; NaN not
        return MISSING if pd.isna(row["p_met"]) else f"{format_percent(row['p_met'])}{mark}"
    if column == "observed_source":
        source = row.get("observed_source")
        return source.label(lang) if isinstance(source, ObservedSource) else MISSING
    if column == "observed_2020" and observed_mark(row):
        return _value(row, column) + observed_mark(row)
    if column in LEFT_ALIGNED:
        if row[column] is None or pd.isna(row[column]):
            return MISSING
        # the label is already in ``lang`` (``summary_table``); status and met are bilingual phrases, and in stacked
        # rows "met" puts its English on the second line, as the bands and the target's year are: "是" / "yes" in every
        # row (a narrow column cut some rows' "是 yes" and not others' "否 no")
        if column == "met" and stacked and row[column] == NOT_COMPARABLE:
            return MISSING  # the note on the target's mark says it: the column stays as narrow as "是 yes"
        if column == "met":  # a verdict's mark after its first word: "是‡" / "yes" stays as narrow as "达标" / "met"
            zh, en, mark = pick(row[column], "zh"), pick(row[column], "en"), row.get("met_mark", "")
            return f"{zh}{mark}{chr(10) if stacked else ' '}{en}" if lang == "both" else in_language(zh, en, lang) + mark
        return str(row[column]) if column == "label" else pick(str(row[column]), lang)
    return _value(row, column)


def format_table(heads: list[list[str]], body: list[list[str]], left: list[bool], title: str | None = None,
                 width: int | None = None, whole_words: bool = False) -> str:
    """A fixed-width text table (CJK-aware): header lines, a rule, body lines; every line equally wide.

    A cell may hold several lines ("\n"). With ``width``, the widest columns are wrapped in turn until the
    table fits in ``width`` display columns or no column can shrink further: the first column (labels) down
    to ``MIN_LABEL_WIDTH`` (``whole_words``: not below its widest word either, so that no word is cut, a Chinese
    name above all, which has no spaces; the table may then stay wider than ``width``), the others down to their
    widest value (numbers are never cut) or header word (at most ``MIN_HEADER_WORD``). The title is wrapped too.
    """
    rows = [[cell.split("\n") for cell in row] for row in heads + body]
    columns = range(len(left))
    widths = [max(display_width(line) for row in rows for line in row[j]) for j in columns]
    if width is not None:
        def floor(j: int) -> int:
            cells = [line for row in rows[len(heads):] for line in row[j]]
            pieces = [w for line in cells for w in line.split(" ")] if left[j] else cells  # numbers stay whole
            if j == 0 and left[0]:
                return max([MIN_LABEL_WIDTH, *(map(display_width, pieces) if whole_words else [])])
            head_words = [w for row in rows[: len(heads)] for line in row[j] for w in line.split(" ")]
            return max([4, *map(display_width, pieces), min(MIN_HEADER_WORD, max(map(display_width, head_words)))])

        floors = [floor(j) for j in columns]
        unwrapped = rows
        while sum(widths) + 2 * (len(widths) - 1) > width:
            shrinkable = [j for j in columns if widths[j] > floors[j]]
            if not shrinkable:
                break
            j = max(shrinkable, key=lambda k: widths[k])
            others = [widths[k] for k in shrinkable if k != j]
            # level the widest column down to the next widest, or by the whole overflow if that is less
            target = max(floors[j], widths[j] - (sum(widths) + 2 * (len(widths) - 1) - width), max(others, default=0))
            target = min(target, widths[j] - 1)
            rows = [[*row[:j], [part for line in cells[j] for part in wrap(line, target)], *row[j + 1:]]
                    for row, cells in zip(rows, unwrapped)]  # wrap the cell's own lines, not earlier pieces
            widths[j] = max(display_width(line) for row in rows for line in row[j])
            floors[j] = max(floors[j], widths[j]) if widths[j] > target else floors[j]
    lines: list[str | None] = []
    for index, row in enumerate(rows):
        for i in range(max(len(cell) for cell in row)):
            parts = [_pad(cell[i] if i < len(cell) else "", w, right=not is_left)
                     for cell, w, is_left in zip(row, widths, left)]
            lines.append("  ".join(parts))
        if index == len(heads) - 1:
            lines.append(None)  # the rule below the header
    total = sum(widths) + 2 * (len(widths) - 1)
    title_lines = [] if not title else wrap(title, width) if width is not None and display_width(title) > total else [title]
    total = max([total, *(display_width(t) for t in title_lines)])
    lines = [*title_lines, *("-" * total if line is None else line for line in lines)]
    return "\n".join(_pad(line, total) for line in lines)


def start_columns(table: pd.DataFrame) -> list[str]:
    """The simulated columns of the years where the plans of the table's regions start (``plan_base_years``), but for
    a year with an observed column (2020), which shows that start."""
    bases = plan_base_years()
    years = dict.fromkeys(bases[r] for r in table.get("region", ()) if r in bases)
    return [f"sim_{y}" for y in years if f"observed_{y}" not in HEADERS]


def summary_columns(table: pd.DataFrame, wide: bool, sources: bool = False) -> list[str]:
    """All columns (``wide``), or the compact set: label, observed 2020, the simulated values in the plan's base year
    (``plan_base_years``: Haixi's 2024; the province's and Haidong's 2020 has its observed value), the target years and
    the last year, target, a growth target's simulated rate, gap, met and P(met); for rows none of which has a target,
    every milestone year and no target columns. A table without a growth target has no rate column. ``sources``: the observed value's source after it (the
    workbook, the HTML report and the dashboard; the terminal has no room and points to them instead)."""
    head = list(HEADERS)[:list(HEADERS).index("target")]
    sims = sim_columns(table)
    columns = [c for c in [*head, *sims, *list(HEADERS)[len(head):]]
               if c in table.columns and (sources or c != "observed_source")
               and not (c == "rate" and table[c].isna().all())]  # a growth target's rate, where the table has one
    if wide:
        return columns
    if "target" in table and table["target"].isna().all():  # no target: every milestone year, no target columns,
        # but a plan's start no row of the table has (the province's rows beside Haixi's 2024)
        return [c for c in columns if c not in ("status", "target", "rate", "gap", "met", "p_met")
                and not (c in sims and table[c].isna().all())]
    keep = {f"sim_{int(y)}" for y in table.get("target_year", pd.Series(dtype=object)).dropna()} | set(sims[-1:])
    keep |= set(start_columns(table))
    drop = {"status", *(c for c in sims if c not in keep)}
    if "observed_2020" in table and table["observed_2020"].isna().all():
        drop |= {"observed_2020", "observed_source"}
    return [c for c in columns if c not in drop]


def _render(table: pd.DataFrame, columns: list[str], title: str | None, lang: str, stacked: bool,
            width: int | None, whole_words: bool = False) -> str:
    body = [[cell_text(row, c, lang, stacked) for c in columns] for _, row in table.iterrows()]
    languages = {"both": (0, 1), "zh": (0,), "en": (1,)}[lang]
    heads = [[column_header(c)[i] for c in columns] for i in languages]
    return format_table(heads, body, [c in LEFT_ALIGNED for c in columns], title, width, whole_words)


def format_summary(table: pd.DataFrame, title: str | None = None, lang: str = "both", wide: bool = True,
                   width: int | None = None) -> str:
    """A fixed-width text table of ``summary_table`` output for the terminal (CJK-aware alignment).

    ``lang``: headers and words in both languages, Chinese or English. ``wide``: every column, else the
    compact set (``summary_columns``) without the spending rows. ``width``: fit that many display columns
    (labels wrap at spaces, in both languages first between the Chinese and the English name; in the compact set,
    observed 2020, then 2035, then the gap go if still too wide; a word, such as a Chinese name, is cut only where
    whole words do not fit with the columns left). NaN shows as "—". Below the table, when it shows observed 2020
    values: a note per restated value (marked "*", ``source_notes``). Every line has the same display width.
    """
    columns = summary_columns(table, wide)
    stacked = width is not None and not wide
    if not wide:
        table = table[~table["indicator"].str.startswith(FISCAL_PREFIXES)]
    if stacked and lang == "both":  # Chinese label on the first line, English below
        table = table.assign(label=[re.sub(r"(?<=[^\x00-\x7f]) (?=[A-Za-z0-9])", "\n", t, count=1) for t in table["label"]])
    # too wide: compact tables drop observed 2020, then the last year's values, then the gap; a prefecture's own
    # targets, read from where its plan starts (observed 2020, or its base year's simulated value) to its target year,
    # drop the last year (past its plan) and the gap first, then show the start and a growth target's simulated rate
    # without their bands (medians: P(met) still gives the spread), observed 2020 last, before any word is cut. On the
    # others' tables, at each step words stay whole if they can, else are cut (with every column, only once observed
    # 2020 has gone)
    steps = [((), True), ((), False)]
    if stacked:
        years = {f"sim_{int(y)}" for y in table.get("target_year", pd.Series(dtype=object)).dropna()}
        last = tuple(c for c in sim_columns(table)[-1:] if c not in years)
        drops = [("observed_2020",), ("observed_2020", *last), ("observed_2020", *last, "gap")]
        steps = [((), True), *((drop, whole) for drop in drops for whole in (True, False))]
        if set(table.get("region", ())) - {PROVINCE}:
            bands = tuple(f"{c}_{end}" for c in [*start_columns(table), "rate"] for end in ("lo", "hi"))
            drops = [(), last, (*last, "gap"), (*last, "gap", *bands), (*last, "gap", *bands, "observed_2020")]
            steps = [(drop, whole) for whole in (True, False) for drop in drops]
    for drop, whole_words in steps:
        shown = [c for c in columns if c not in drop]
        view = table.drop(columns=[c for c in drop if c.endswith(("_lo", "_hi"))], errors="ignore")  # medians alone
        text = _render(view, shown, title, lang, stacked, width, whole_words)
        if width is None or display_width(text.split("\n", 1)[0]) <= width:
            break
    return _with_notes(text, table, shown, lang)


def _with_notes(text: str, table: pd.DataFrame, columns: list[str], lang: str) -> str:
    """``text`` (a rendered table) with the notes below it (``source_notes``; those on observed values only when it
    shows them), wrapped and padded to the table's width."""
    notes = source_notes(table, lang) if "observed_2020" in columns else target_notes(table, lang)
    if not notes:
        return text
    total = display_width(text.split("\n", 1)[0])
    lines = [line for note in notes for line in wrap(note, total)]
    return "\n".join([text, *(_pad(line, total) for line in lines)])


def draws_line(source: str, width: int = 100) -> str:
    """The header line naming the parameter draws, the posterior weight they hold and the weights of their runs
    (``qhsim.experiments.designs.draws_source``), wrapped at ``width`` display columns (the Chinese label is 3
    characters of double width)."""
    return "\n".join(textwrap.wrap(f"参数组 parameter draws: {source}", width - 3, subsequent_indent="  ")) + "\n"


def run_draws_line(result: RunResult, width: int = 100) -> str:
    """``draws_line`` of an ensemble run (which draws, the weight they hold and their runs' weights); "" for a run
    without parameter draws."""
    source = result.meta.get("parameter_source")
    return draws_line(source, width) if source else ""


def other_population(population_seed: int | None) -> bool:
    """True for a run from another end-2015 population than the default one, which the calibration was fitted on
    (its later levels are not calibrated: docs/ODD.md §8, doubt 5); the outputs name such a population."""
    return population_seed is not None and population_seed != DEFAULT_POPULATION_SEED


def run_scale(result: RunResult) -> float:
    """The scale a run (or ensemble) ran at."""
    return result.meta.get("scale", result.scenario.get("run", {}).get("scale", 1.0))


def run_header(result: RunResult, lang: str = "both") -> str:
    """One line naming the scenario, scale, seeds and (ensembles) parameter draws of a run."""
    scale = run_scale(result)
    seeds = result.meta.get("seeds") or [result.seed]
    draws = len(result.meta.get("parameter_draws") or [])
    parts = [
        (f"情景 {result.scenario_name}", f"scenario {result.scenario_name}"),
        (f"规模 {scale:g}", f"scale {scale:g}"),
        ((f"随机种子 {', '.join(map(str, seeds))}", f"seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))}")),
    ]
    population = result.meta.get("population_seed")
    if other_population(population):
        parts.append((f"人口种子 {population}", f"population seed {population}"))
    if draws:
        parts.append((f"参数组 {draws}", f"parameter draws {draws}"))
    return " | ".join(in_language(zh, en, lang, " / ") for zh, en in parts)


def summary_report(indicators: pd.DataFrame, lang: str = "both", wide: bool = True,
                   width: int | None = None, scale: float | None = None) -> str:
    """The province table, the 2035 reference paths, one section per prefecture with its own targets
    (Haidong, Haixi), and where the observed values' sources are; ``lang``, ``wide`` and ``width`` as in
    ``format_summary``; ``scale``: the run's, for the small prefectures' warning below scale 1."""
    draws = n_draws(indicators)
    note = pick(f"中位数[5%,95%]，{draws}次运行 median [5%, 95%] of {draws} runs", lang) if draws > 1 else pick("单次运行 single run", lang)
    options = {"lang": lang, "wide": wide, "width": width}
    sections = [format_summary(summary_table(indicators, lang=lang), f"{region_label(PROVINCE, lang)} | {note}", **options)]
    references = summary_table(indicators, targets=reference_paths_2035(), lang=lang)
    references = references[references["target"].notna()].copy()
    if len(references) and "sim_2035" in references:  # only runs that reach 2035, as the workbook and HTML show them
        paths = reference_paths_2035().set_index(["indicator", "value"])["label"]
        references["label"] = [f"{lab} | {pick(paths.get((ind, val), ''), lang)}" for lab, ind, val in
                               zip(references["label"], references["indicator"], references["target"])]
        title = f"{pick('2035年参考路径（非规划目标） 2035 reference paths (not plan targets)', lang)} | {note}"
        sections.append(format_summary(references.drop(columns="status"), title, **options))
    regions = load_targets()["region"]
    for region in data.prefecture_ids():
        if region in set(regions):
            table = summary_table(indicators, region, lang=lang)
            title = f"{region_label(region, lang)} | {pick('本地目标 own targets', lang)} | {note}"
            sections.append(format_summary(table[table["target"].notna()], title, **options))
    pointer = in_language(*SOURCES_POINTER, lang)
    notes = [*([band_caveat(lang)] if draws > 1 else []), *filter(None, [persistence_note(lang)]),
             prefecture_anchor_note(lang), *filter(None, [reduced_scale_note(scale, lang)]),
             *base_year_notes(indicators, lang), pointer]
    lines = [line for text in notes for line in (wrap(text, width) if width is not None else [text])]
    sections.append("\n".join(_pad(line, max(map(display_width, lines))) for line in lines))
    return "\n\n".join(sections) + "\n"
