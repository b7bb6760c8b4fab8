"""Design comparison 方案比较 for the dashboard, through the experiments engine (``qhsim.experiments.compare``):
the session's starting scenario is the baseline, each saved design is its lever changes on top of it.

Same seeds and parameter draws for every design (common random numbers); results are cached by a key over
the scenarios and settings, like single runs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from qhsim.dashboard import i18n
from qhsim.dashboard import levers as lv
from qhsim.output.charts import chart_style
from qhsim.dashboard.runs import CancelFlag, RunCache
from qhsim.dashboard.state import Session
from qhsim.dashboard.tables import percent
from qhsim.output.numbers import change_digits, change_unit, format_fixed, significant
from qhsim.experiments.comparison import RANK_DEFAULT, RANK_TOTAL, lower_is_better, ranking_metric
from qhsim.experiments.report import charted, cost_notes
from qhsim.output.tables import can_rank, mark_notes
from qhsim.evidence import EVIDENCE_MARKS, evidence_cell, evidence_note
from qhsim.results import charted_evidence, ratio_mark, read_flag, shown_evidence, with_evidence

CACHE = RunCache(size=8)


def designs_of(s: Session) -> tuple:
    """The engine's designs: the baseline (the session's starting scenario) and one per saved design."""
    from qhsim.experiments.designs import Design

    base = Design(Path(s.base_name).stem or "baseline", s.base_raw, s.base_name)
    variants = [Design(d.name, lv.apply_changes(s.base_raw, list(d.changes)), f"dashboard design {d.name}")
                for d in s.designs]
    return base, variants


def key(s: Session, budget_neutral: bool, rank_by: str = RANK_DEFAULT) -> str:
    base, variants = designs_of(s)
    what = {"base": base.scenario_key, "designs": [(d.name, d.scenario_key) for d in variants],
            "scale": s.scale, "seeds": list(s.seeds) if s.draws else [s.seed], "draws": s.draws or None,
            "budget_neutral": budget_neutral, "rank_by": rank_by}
    return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()


def run_comparison(s: Session, budget_neutral: bool, progress: Callable[[float], None] = lambda p: None,
                   cancelled: Callable[[], bool] = lambda: False, cache: RunCache = CACHE, rank_by: str = RANK_DEFAULT):
    """(key, ``ComparisonResult``) of the session's designs against its baseline, ranked by ``rank_by`` (business
    or total R&D per public yuan, ``qhsim.experiments.comparison``)."""
    from qhsim.experiments import compare

    k = key(s, budget_neutral, rank_by)
    hit = cache.get(k)
    if hit is not None:
        return k, hit
    base, variants = designs_of(s)
    result = compare(base, variants, seeds=s.seeds if s.draws else (s.seed,), draws=s.draws or None,
                     scale=s.scale, budget_neutral=budget_neutral, progress=lambda done, total: progress(done / total),
                     cancel=CancelFlag(cancelled), rank_by=rank_by)
    cache.put(k, result)
    return k, result


def ranking_title(result, lang: str) -> str:
    """The ranking's heading: by business or total R&D per public yuan, or by an indicator's change (a store
    written by ``qhsim compare --rank-by KEY``), as the comparison was ranked."""
    metric = ranking_metric(result)
    if metric in (RANK_DEFAULT, RANK_TOTAL):
        return i18n.text("ranking_total" if metric == RANK_TOTAL else "ranking", lang)
    better = i18n.text("lower_is_better", lang) if lower_is_better(metric) else ""
    return i18n.text("ranking_indicator", lang).format(indicator=i18n.indicator(metric, lang, unit=False), better=better)


def leverage_columns(result) -> tuple[str, str, str]:
    """(ratio, p05, p95) columns of the leverage table the chart plots: total R&D per public yuan when the comparison
    was ranked by it, business R&D per public yuan otherwise (also for an indicator ranking) — the mapping
    ``cost_effectiveness.png`` uses (``qhsim.experiments.report.charted``)."""
    what = charted(result)
    return (what.ratio, *what.ratio_band)


def summary(result, lang: str) -> pd.DataFrame:
    """One row per design: rank and P(first) (two or more designs: ``qhsim.output.tables.can_rank``), extra public
    cost, business and total R&D per yuan with 90% intervals, business R&D per yuan marked where it lies outside the
    micro evidence (``qhsim.results.with_evidence``, ``evidence_cell``)."""
    lev = with_evidence(result.leverage)
    lev = lev[lev["instrument"] == "total"].set_index("design")
    rank = result.ranking.set_index("design")
    rows = []
    for d in result.designs:
        row = {i18n.text("designs", lang): d}
        if d in rank.index and can_rank(len(result.designs)):  # one design always ranks first: say nothing
            row[i18n.text("rank", lang)] = str(int(rank.at[d, "rank"]))
            row[i18n.text("p_first", lang)] = percent(rank.at[d, "p_first"])
        if d in lev.index:
            l = lev.loc[d]
            row[i18n.text("extra_cost", lang)] = _interval(l["extra_cost"], l["extra_cost_p05"], l["extra_cost_p95"])
            row[i18n.text("extra_rd", lang)] = _interval(l["extra_rd"], l["extra_rd_p05"], l["extra_rd_p95"])
            # ratios, not changes: unsigned, as comparison.txt prints them ("+1.07" read as an increase); over an
            # extra cost that makes them unstable (qhsim.results.ratio_unstable), the mark comparison.txt prints
            mark = ratio_mark(l["extra_cost"]) if read_flag(l.get("unstable")) else ""
            row[i18n.text("rd_per_yuan", lang)] = (mark or evidence_cell(
                _interval(l["rd_per_yuan"], l["p05"], l["p95"], signed=False), l["evidence"]))
            # talent grants and technology transfer act mostly on universities' and institutes' R&D
            row[i18n.text("total_rd_per_yuan", lang)] = (mark or _interval(
                l["total_rd_per_yuan"], l["total_p05"], l["total_p95"], signed=False))
        rows.append(row)
    return pd.DataFrame(rows).fillna("—")


def summary_notes(table: pd.DataFrame, result=None) -> list[str]:
    """The paragraphs below a summary table: what the marks it shows in place of R&D per yuan mean ("— 不稳定
    unstable", "— 无额外成本 no extra cost"), each once, as ``comparison.txt`` prints them below its table
    (``qhsim.output.tables.mark_notes``), and with the comparison ``result`` what its marks against the micro evidence
    mean (``qhsim.evidence.evidence_note``) and what its public cost leaves out (``cost_notes``: budgets set but not
    spent, deductions carried past the window), each a paragraph; empty without any."""
    evidence = evidence_note(shown_evidence(result.leverage, result.designs)) if result is not None else ""
    omitted = cost_notes(result) if result is not None else []
    return [note for note in (mark_notes(set(table.to_numpy().ravel().tolist())).strip(), evidence, *omitted) if note]


def changes_title(result, indicator: str, lang: str) -> str:
    """The heading of ``changes``: the indicator, the unit of its change (百分点 / pp for an indicator in %, ``qhsim.output.numbers.change_unit``) and what
    the cells show: the mean and 90% band over the runs, or one run's difference (a comparison of single runs)."""
    what = "change_one" if result.runs_per_design == 1 else "change_band"
    return i18n.text("change_of", lang).format(indicator=i18n.indicator(indicator, lang, unit=False),
                                               unit=change_unit(indicator, lang), what=i18n.text(what, lang))


def changes(result, indicator: str, lang: str) -> pd.DataFrame:
    """The change of one indicator against the baseline, by design and year, with 90% intervals where the designs ran
    more than once; every cell with the same decimals, ``change_digits`` of the means shown (as comparison.txt writes
    a row of changes: "+3" beside "+2.5" and "+0.33" read as differently precise)."""
    ch = result.changes[(result.changes["indicator"] == indicator) & (result.changes["period"] != "window")]
    digits = change_digits(indicator, ch["mean"])
    table = ch.assign(cell=[_interval(m, a, b, text=lambda x: format_fixed(x, digits, signed=True))
                            for m, a, b in zip(ch["mean"], ch["p05"], ch["p95"])])
    wide = table.pivot(index="design", columns="period", values="cell").reindex(result.designs)
    wide.insert(0, i18n.text("designs", lang), wide.index)
    return wide.reset_index(drop=True)


def _interval(mid: float, lo: float, hi: float, signed: bool = True, text: Callable[[float], str] | None = None) -> str:
    """``mid [lo, hi]``, or ``mid`` alone where there is no interval (one run); each number as ``text`` writes it
    (default: 3 significant digits, ``significant``)."""
    text = text or (lambda x: significant(x, signed=signed))
    if not np.isfinite(mid):
        return "—"
    if np.isfinite(lo) and np.isfinite(hi) and (lo, hi) != (mid, mid):
        return f"{text(mid)} [{text(lo)}, {text(hi)}]"
    return text(mid)


def figure(result, indicator: str, lang: str) -> Figure:
    """R&D per yuan of public cost with its 90% interval (total R&D when the comparison was ranked by it, business
    R&D otherwise: ``leverage_columns``), and the indicator's change in the last year, per design, the designs from the
    top down in the tables' order. A ratio the tables replace by a mark (``ratio_unstable``: no extra cost, or an
    unstable one) gets no bar, only that mark (``ratio_mark``), as in ``comparison.txt``; business R&D per yuan
    outside the micro evidence carries its mark after the design's name (``with_evidence``, explained below the
    table)."""
    fig = Figure(figsize=(11, 3.6), dpi=100)
    fig.subplots_adjust(left=0.15, right=0.98, bottom=0.15, top=0.86, wspace=0.6)
    lev = with_evidence(result.leverage)
    lev = lev[lev["instrument"] == "total"].set_index("design").reindex(result.designs)
    last = str(max(result.years))
    ch = result.changes[(result.changes["indicator"] == indicator) & (result.changes["period"] == last)]
    ch = ch.set_index("design").reindex(result.designs)
    ratio, lo, hi = leverage_columns(result)
    flagged = np.array([read_flag(u) is True for u in lev["unstable"]] if "unstable" in lev else [False] * len(lev))
    marks = [ratio_mark(c) if f else "" for c, f in zip(lev["extra_cost"], flagged)]
    evidence = [EVIDENCE_MARKS.get(e, "") for e in charted_evidence(lev, ratio)]
    with chart_style():
        for ax, frame, (mid, low, high), title, hide, names in (
                (fig.add_subplot(1, 2, 1), lev, (ratio, lo, hi), i18n.text(ratio, lang), flagged,
                 [f"{d} {m}" if m else d for d, m in zip(lev.index, evidence)]),
                (fig.add_subplot(1, 2, 2), ch, ("mean", "p05", "p95"),
                 f"{i18n.indicator(indicator, lang, unit=False)} · Δ {last} ({change_unit(indicator, lang)})",
                 np.zeros(len(ch), bool), list(ch.index))):
            y = np.arange(len(frame))
            values = np.where(hide, np.nan, frame[mid].to_numpy(float))
            err = np.vstack([values - frame[low].to_numpy(float), frame[high].to_numpy(float) - values])
            ax.barh(y, np.nan_to_num(values), xerr=np.nan_to_num(np.abs(err)), color="#1f5f99", alpha=0.8, capsize=4)
            for k in np.flatnonzero(hide):  # the mark instead of the bar, from the zero line
                ax.annotate(marks[k], (0, y[k]), xytext=(4, 0), textcoords="offset points", va="center", fontsize=8,
                            color="#8a4b00")
            ax.set_yticks(y, names, fontsize=8)
            ax.invert_yaxis()  # the first design on top, as in the tables
            ax.axvline(0, color="grey", lw=0.8)
            ax.set_title(title, fontsize=9)
            ax.grid(alpha=0.3, axis="x")
    return fig
