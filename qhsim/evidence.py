"""The micro evidence 实证依据 that the calibrated model's policy responses are set against
(/work/shared/research/policy_response_evidence.md): ``EVIDENCE``, the responses the calibration's evidence step
weighs its draws by, and ``CHECKS``, indicators shown against their evidence that the evidence step does not use (the
R&D exit rate, a calibration target since the forty-seventh session: calibration/targets.toml, group
micro_evidence). How each response is
computed: ``qhsim.calibration.responses``. Plain data, so that charts and reports can draw the ranges without the
experiment machinery; and how a design's R&D per public yuan is set against them (``INSTRUMENT_EVIDENCE``,
``evidence_mark``, ``design_evidence``), marked (``EVIDENCE_MARKS``, ``evidence_cell``) and explained
(``evidence_note``) in every output that shows it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

from qhsim import data


@dataclass(frozen=True)
class Evidence:
    """An evidence range [low, high] (high may be infinite), its bilingual label and its sources."""

    label: str
    low: float
    high: float
    source: str

    def outside_by(self, value: float) -> float:
        """How far ``value`` lies outside [low, high] (0 inside)."""
        return max(self.low - value, value - self.high, 0.0)


EVIDENCE = {
    "user_cost_elasticity": Evidence(
        "long-run elasticity of reported business R&D to its user cost 研发使用成本弹性（报告口径）", 0.8, 2.5,
        "near 1-2 province-wide: ≈1 long run (Bloom, Griffith & Van Reenen 2002), ≈2 for reported R&D under China's "
        "HTE notch (Chen, Liu, Suárez Serrato & Xu 2021); UK SMEs ≈2.6, lower bound ≈1.1 (Dechezleprêtre et al. 2023)"),
    "user_cost_elasticity_real": Evidence(
        "long-run elasticity of real business R&D to its user cost 实际研发使用成本弹性", 0.7, 1.5,
        "≈1 (Bloom, Griffith & Van Reenen 2002, long run); 1.14 for real R&D under China's HTE notch (Chen et al. 2021)"),
    "tax_leverage": Evidence(
        "reported business R&D per yuan of super-deduction tax expenditure 每元加计扣除税式支出带动研发", 1.0, 2.0,
        "roughly one to two yuan of reported R&D (policy_response_evidence.md, from the elasticities above)"),
    "grant_leverage": Evidence(
        "business R&D per grant yuan 每元资助带动研发", 0.5, 1.5,
        "about one yuan: crowding-out rejected, no substantial additionality (Dimos & Pugh 2016, 52 studies)"),
    "hte_bunching": Evidence(
        "firms just above / just below the HTE R&D thresholds 高企门槛聚集", 1.5, math.inf,
        "sharp bunching just above the R&D-intensity thresholds, missing mass below (Chen et al. 2021)"),
    "relabelled_share": Evidence(
        "relabelled share of the notch firms' reported R&D 门槛企业研发费用中重新归类占比", 0.15, 0.35,
        "24.2% of the notch firms' reported R&D (structural estimate; 30% of the notch response in the 2018 working "
        "paper, ≈45% of the intent-to-treat response; Chen et al. 2021)"),
}

# indicators shown against their evidence beside the responses, which the evidence step does not weigh draws by
# (the exit rate is fitted as targets instead: calibration/targets.toml, group micro_evidence)
CHECKS = {
    "rd_exit_rate": Evidence(
        "yearly share of R&D-active above-scale industrial firms that stop R&D 规上工业研发企业年退出率", 0.10, 0.25,
        "≈17% a year in Spanish manufacturing, entry ≈8% (Máñez Castillejo et al. 2004, the weighted average of "
        "their small and large firms, as cited by Peters 2009, ZEW Economic Studies 38, ch. 5 n. 129); patenting "
        "spells of 9 years on average among 549 Chinese listed manufacturers, 2002-2012 (Journal of Harbin University "
        "of Commerce, Social Science Edition: a hazard ≈11%, innovation rather than R&D); the range allows for more "
        "persistence among large and certified firms"),
}


# --- R&D per public yuan against the evidence -----------------------------------------------------------------
# Which range judges business R&D per yuan of each public cost (leverage.csv's instrument keys, indicators.toml's
# spend_* and tax_expenditure_* columns). The super-deduction's tax expenditure: the tax range (the user-cost
# elasticities, policy_response_evidence.md). The grant range (Dimos & Pugh 2016: 52 micro studies of direct public
# subsidies to firms' R&D) covers the two programmes that pay firms for R&D projects: ex-ante project grants and
# ex-post R&D subsidies (后补助, paid for R&D already done). No range for the others: the new-HTE reward, the
# R&D-intensity reward (Haixi-style) and the HTE 15% rate pay for crossing a threshold (a notch: the evidence is
# bunching, ``hte_bunching``, not R&D per yuan); vouchers buy services from universities and institutes; talent
# programmes, research funding, technology-market, platform and popularisation money is not paid for firms' R&D.
INSTRUMENT_EVIDENCE = {
    "tax_expenditure_super_deduction": "tax_leverage",
    "spend_ex_ante_grants": "grant_leverage",
    "spend_ex_post_subsidy": "grant_leverage",
}
# a design's total R&D per public yuan is judged against the range of the instruments it sets (all of one range) where
# their extra cost is at least this share of the design's: the rest is side effects (the HTE rate's tax expenditure
# under a super-deduction, about a fifth)
CARRIES_COST = 0.5
ABOVE, BELOW = "above", "below"  # leverage.csv's, ranking.csv's and summary.csv's ``evidence``; "" within or not judged
EVIDENCE_MARKS = {ABOVE: "↑", BELOW: "↓"}  # after the ratio in every table that shows it


def evidence_mark(key: str | None, low: float, high: float | None = None) -> str:
    """Where R&D per public yuan lies against the evidence range ``EVIDENCE[key]``: ``ABOVE`` where the whole interval
    [``low``, ``high``] (the 5% and 95% of the runs' ratios) is above the range, ``BELOW`` where it is all below it, ""
    where it reaches into the range, or there is no range (``key`` empty) or no interval (NaN). A ratio alone is an
    interval of one point (``high`` None). The one rule behind the marks of comparison.txt, the workbook, the HTML
    report, the dashboard and the sweep summary: a ratio whose runs straddle the range's edge is not marked, so that a
    mark does not come and go with a seed."""
    high = low if high is None else high
    if not key or key not in EVIDENCE or not (math.isfinite(low) and math.isfinite(high)):
        return ""
    e = EVIDENCE[key]
    return ABOVE if low > e.high else BELOW if high < e.low else ""


def design_evidence(instruments: dict[str, float], total_cost: float) -> str:
    """The evidence key that judges a design's total R&D per public yuan: ``instruments``, the cost columns the design
    sets with their extra cost (亿元), all of one range (``INSTRUMENT_EVIDENCE``) and together at least ``CARRIES_COST``
    of the design's extra cost ``total_cost``; "" where no one range applies (no instrument set, one without a range,
    a package of instruments of different ranges, or costs carried mostly by side effects)."""
    keys = {INSTRUMENT_EVIDENCE.get(i, "") for i in instruments}
    if len(keys) != 1 or "" in keys or not total_cost > 0:
        return ""
    return keys.pop() if sum(instruments.values()) >= CARRIES_COST * total_cost else ""


def range_text(key: str) -> tuple[str, str]:
    """An evidence range in words (Chinese, English) with its source key: ``每元加计扣除税式支出带动研发1–2元（evidence.py
    tax_leverage）`` and ``reported business R&D per yuan of super-deduction tax expenditure 1–2 (evidence.py
    tax_leverage)``."""
    e = EVIDENCE[key]
    at = next((i for i, c in enumerate(e.label) if "\u4e00" <= c <= "\u9fff"), len(e.label))  # where the Chinese starts
    en, zh = e.label[:at].strip(), e.label[at:].strip()
    span = f"{e.low:g}–{e.high:g}"
    return f"{zh}{span}元（evidence.py {key}）", f"{en} {span} (evidence.py {key})"


class Words(NamedTuple):
    """What an ``EVIDENCE_MARKS`` mark says (``side``), how to read the ratio (``read``, a note's sentence) and the
    estimate it is (``estimate``, a chart legend's words), each in Chinese and English."""

    side_zh: str
    side_en: str
    read_zh: str
    read_en: str
    estimate_zh: str
    estimate_en: str


EVIDENCE_WORDS = {
    ABOVE: Words("高于微观实证", "above the micro evidence", "模型外推超出了实证观测的范围，宜视为上限估计",
                 "the model extrapolates beyond what was observed: read it as an upper estimate", "上限", "an upper"),
    BELOW: Words("低于微观实证", "below the micro evidence", "模型的响应弱于实证所见，宜视为下限估计",
                 "the model responds less than was observed: read it as a lower estimate", "下限", "a lower"),
}


def _explained(marks: set[tuple[str, str]]) -> list[tuple[str, str]]:
    """The (evidence key, side) marks a note or legend explains, in its order (above before below, then by key): those
    of a known range and side."""
    return sorted(((k, s) for k, s in marks if s in EVIDENCE_WORDS and k in EVIDENCE), key=lambda m: (m[1], m[0]))


def evidence_note(marks: set[tuple[str, str]]) -> str:
    """Below a table whose ratios carry ``EVIDENCE_MARKS``: for each (evidence key, ``ABOVE`` | ``BELOW``) shown, what
    the mark means with the range and its source key, then the rule (``evidence_mark``) and which ranges are used, in
    Chinese and English; "" without marks."""
    parts = []
    for key, side in _explained(marks):
        zh, en = range_text(key)
        w, mark = EVIDENCE_WORDS[side], EVIDENCE_MARKS[side]
        parts.append(f"{mark} {w.side_zh}：{zh}；{w.read_zh}。 {mark} {w.side_en}, {en}: {w.read_en}.")
    if not parts:
        return ""
    zh_used, en_used = ranges_used()
    share = f"{CARRIES_COST:.0%}"
    parts.append(f"标记：各次运行比值的5%–95%区间整体在实证范围之外（跨越边界者不标）；工具行对照该工具的范围（{zh_used}；其他工具"
                 f"无范围），方案合计对照其所改动工具的范围（须同属一个范围且占方案额外成本的{share}以上）；排名不变。 Marked "
                 "where the 5%-95% interval of the runs' ratios lies wholly outside the range (one that straddles its edge "
                 f"is not); an instrument's row is set against its own range ({en_used}; no range for the other "
                 "instruments), a design's total against the range of the instruments it sets (where they share one and "
                 f"carry at least {share} of its extra cost); the ranking is unchanged.")
    return " ".join(parts)


def evidence_legend(marks: set[tuple[str, str]]) -> list[str]:
    """A chart's legend entries for the ``EVIDENCE_MARKS`` its labels carry (``evidence_note`` says the same in full
    below the tables): ``↑ 高于微观实证1–2元/元，宜视为上限估计 above the micro evidence 1–2 (tax_leverage): an
    upper estimate``, one per (evidence key, side) shown."""
    lines = []
    for key, side in _explained(marks):
        e, w = EVIDENCE[key], EVIDENCE_WORDS[side]
        span = f"{e.low:g}–{e.high:g}"
        lines.append(f"{EVIDENCE_MARKS[side]} {w.side_zh}{span}元/元，宜视为{w.estimate_zh}估计 "
                     f"{w.side_en} {span} ({key}): {w.estimate_en} estimate")
    return lines


def ranges_used() -> tuple[str, str]:
    """``INSTRUMENT_EVIDENCE`` in words (Chinese, English), the instruments by their names in indicators.toml:
    ``税式支出：研发费用加计扣除 → tax_leverage；财政支出：事前立项资助、财政支出：研发后补助 → grant_leverage``."""
    spec = data.load("indicators")
    by_key: dict[str, list[str]] = {}
    for instrument, key in INSTRUMENT_EVIDENCE.items():
        by_key.setdefault(key, []).append(instrument)
    zh = "；".join(f"{'、'.join(spec[i]['zh'] for i in items)} → {key}" for key, items in by_key.items())
    en = "; ".join(f"{', '.join(spec[i]['en'] for i in items)} → {key}" for key, items in by_key.items())
    return zh, en


def evidence_cell(text: str, side: str) -> str:
    """A table cell of R&D per yuan (``1.92 [1.76, 2.01]``, its interval maybe on a line of its own, or ``1.92``) with
    its ``EVIDENCE_MARKS`` mark right after the value (``3.71↑ [3.63, 3.78]``), as every text output writes it; ``text``
    as it is where ``side`` is ""."""
    mark = EVIDENCE_MARKS.get(side, "")
    if not mark:
        return text
    at = min((i for i in (text.find(" ["), text.find("\n[")) if i >= 0), default=len(text))  # the interval's start
    return f"{text[:at]}{mark}{text[at:]}"
