"""The result of one simulation run: the contract between the model and everything downstream.

Data flow: scenario file -> validated config -> model -> ``RunResult`` -> reports, exports, analysis.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from qhsim import data
from qhsim.evidence import INSTRUMENT_EVIDENCE, design_evidence, evidence_mark

PROVINCE = "province"
FISCAL_PREFIXES = ("spend_", "tax_expenditure_")  # the indicator columns of public spending and tax expenditure


UNSTABLE_SHARE = 0.25  # R&D per yuan needs an extra cost of at least this share of the money the design moves
UNSTABLE_CELL = "— 不稳定 unstable"  # what the tables show for R&D per yuan over an extra cost ``ratio_unstable`` flags
SAVING_CELL = "— 无额外成本 no extra cost"  # ... and where that extra cost is not positive (a saving, or no change)
COMBINED_CELL = "组合 combined: 见合计 see total"  # an instrument's R&D per yuan in a design that sets several
COMBINED_NOTE = (f"“{COMBINED_CELL}”：方案同时改动几个工具，其额外研发分不出各工具的份额，每元研发只按方案合计计算。 "
                 "The design changes several instruments at once and its extra R&D cannot be split between them, so "
                 "R&D per yuan is given for the design's total only.")


def ratio_unstable(extra_cost: float | np.ndarray, gross_cost: float | np.ndarray, extra_cost_p05: float | np.ndarray,
                   extra_cost_p95: float | np.ndarray) -> bool | np.ndarray:
    """Whether R&D per public yuan (``qhsim.experiments.comparison.rd_per_yuan``, business or total) over this extra public cost is not to be read,
    and is shown as "—": the mean extra cost is not positive (a design that saves money, or costs nothing), or it is
    small against the money the design moves — under ``UNSTABLE_SHARE`` of ``gross_cost``, the mean over runs of the
    sum of each instrument's extra cost taken without its sign (grants cut by 12亿 and a super-deduction raised by
    11亿 move 23亿 for a net 1亿) — or against its own spread across runs (its 5%-95% range, ``extra_cost_p05`` to
    ``extra_cost_p95``, wider than itself). The denominator is then a small difference of large or uncertain sums,
    and a small change in either swings the ratio (61.6 yuan per yuan where like designs give 1-2). One rule for the
    sweep summary and the comparison tables (all amounts in the same unit, e.g. 亿元 over the same years)."""
    cost, gross = np.asarray(extra_cost, dtype=float), np.asarray(gross_cost, dtype=float)
    spread = np.asarray(extra_cost_p95, dtype=float) - np.asarray(extra_cost_p05, dtype=float)
    with np.errstate(invalid="ignore"):
        out = ~((cost > 0) & (cost >= UNSTABLE_SHARE * gross) & (spread <= cost))
    return bool(out) if out.ndim == 0 else out


UNSPENT_SHARE = 0.10  # a budget is materially unspent where more than this share of it is left over
UNSPENT_NOTE = ("杠杆所设预算不等于支出：符合条件的企业不足时预算用不完，公共成本与每元研发按实际支出计。",
                "A budget lever's value is not money spent: where too few firms qualify part of it is left over, and the "
                "public cost and R&D per yuan count what was spent.")  # below a sweep's tables that flag such budgets


def unspent_points_text(points: Sequence[int], year: int, where: str = "") -> str:
    """The sweep's design ``points`` whose budget is materially unspent up to report ``year`` (more than
    ``UNSPENT_SHARE`` of it left over), in both languages; ``where``: where the figures are (", summary.txt")."""
    share = f"{1 - UNSPENT_SHARE:.0%}"
    return (f"预算未用足 Budget not used up ({year}年前支出不足预算的{share} under {share} of it spent up to {year}{where}): "
            f"点 points {', '.join(map(str, points))}.")


WIDE_MARK = "‖"  # after an R&D per yuan ``ratio_wide`` flags: shown, but not ranked (the sweep's cost-effectiveness)


def ratio_wide(ratio: float | np.ndarray, ratio_p05: float | np.ndarray, ratio_p95: float | np.ndarray
               ) -> bool | np.ndarray:
    """Whether an R&D per public yuan that ``ratio_unstable`` lets stand is too imprecise to rank: the 5%-95% range of
    the runs' ratios is wider than the ratio itself, the test ``ratio_unstable`` puts to the extra cost put to the
    ratio. ``ratio_unstable`` judges the cost's mean and spread, and a small extra cost that the runs agree on passes
    it while each run's ratio still swings with its few yuan of cost: a grant selection rule (lottery for merit, the
    budget unchanged) moved 0.11亿 for 3.16 [0.43, 5.89] yuan per yuan, where a larger budget gave 1.16 [1.05, 1.27],
    and ranked first on it. False where there is no ratio (NaN)."""
    mid = np.asarray(ratio, dtype=float)
    spread = np.asarray(ratio_p95, dtype=float) - np.asarray(ratio_p05, dtype=float)
    with np.errstate(invalid="ignore"):
        out = spread > np.abs(mid)
    return bool(out) if out.ndim == 0 else out


def wide_note() -> str:
    """What ``WIDE_MARK`` means, in Chinese and English, below a table that shows it."""
    return (f"“{WIDE_MARK}”：各次运行比值的5%–95%区间宽于比值本身（额外成本小，各次运行成本的微小差别就使比值大幅摆动），"
            f"比值照列但不参与排名。 “{WIDE_MARK}”: the 5%-95% range of the runs' ratios is wider than the ratio itself "
            "(a small extra cost, whose small differences between runs swing the ratio): the ratio is shown but not "
            "ranked.")


def ratio_mark(extra_cost: float) -> str:
    """What stands in place of an R&D per yuan that ``ratio_unstable`` flags, in every table (comparison.txt, the
    workbook, the HTML report, the dashboard): ``SAVING_CELL`` where the extra cost is not positive (a saving, or no
    change: no ratio at all, ``SAVING_NOTE``), else ``UNSTABLE_CELL`` (a ratio not to be read, ``unstable_rule``)."""
    return UNSTABLE_CELL if extra_cost > 0 else SAVING_CELL


SAVING_NOTE = (f"“{SAVING_CELL}”：额外成本不为正（成本下降或未变），不计每元研发；成本下降的工具列出其节省，计入方案总成本。 "
               f"“{SAVING_CELL}”: the extra cost is not positive (the cost fell or did not change), so there is no R&D "
               "per yuan; an instrument whose cost fell is listed with its saving, which counts in the design's total "
               "cost.")


def unstable_rule() -> tuple[str, str]:
    """When ``ratio_unstable`` flags a positive extra cost, in words (Chinese, English), for the notes below the tables
    that show R&D per yuan as "—" (``UNSTABLE_CELL``)."""
    share = f"{UNSTABLE_SHARE:.0%}"
    return (f"额外成本不足所动用资金（各工具成本增减的绝对值之和）的{share}，或小于其在各次运行间5%–95%的幅度：此时成本的微小变化"
            "就会使比值大幅摆动",
            f"the extra cost is under {share} of the money the design moves (each instrument's cost change, up or down, "
            "summed) or under its own 5%-95% spread across runs, where a small change in either cost swings the ratio")


# --- reading a comparison's tables (``qhsim.experiments.comparison`` makes them; ``qhsim.output`` reads them back) ---

RANK_DEFAULT = "rd_per_yuan"
RANK_TOTAL = "total_rd_per_yuan"  # total R&D (business + public) per public yuan, what R&D intensity counts
REGIONAL_TABLES = ("changes", "leverage")  # the comparison files with every region's rows (a ``region`` column)


def province_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The province's rows of a comparison table read back from its file (``REGIONAL_TABLES``: changes.csv and
    leverage.csv hold each prefecture's rows below the province's, ``qhsim compare --region``), without the
    ``region`` column: the table as the province's answer has it. A table without that column (a store of an older
    qhsim) as it is."""
    if "region" not in table:
        return table
    return table[table["region"] == PROVINCE].drop(columns="region").reset_index(drop=True)


def several_instruments(leverage: pd.DataFrame) -> set[str]:
    """The designs of a leverage table (a ``ComparisonResult``'s or leverage.csv read back) that set more than one
    instrument whose cost changed (``design_sets_instrument`` true on two or more instrument rows): their extra R&D is
    the instruments' together, so none of their instrument rows has an R&D per yuan of its own (``qhsim.experiments.comparison.mark_side_effects``;
    ``COMBINED_CELL``)."""
    if leverage.empty or "design_sets_instrument" not in leverage:
        return set()
    rows = leverage[leverage["instrument"] != "total"]
    sets = pd.Series([read_flag(v) is True for v in rows["design_sets_instrument"]], index=rows.index)
    counts = sets.groupby(rows["design"]).sum()
    return {str(d) for d, n in counts.items() if n >= 2}


def with_evidence(leverage: pd.DataFrame) -> pd.DataFrame:
    """A leverage table (a ``ComparisonResult``'s or leverage.csv read back; the province's or the prefectures', by
    ``region`` where it has one) with ``evidence_key`` (the ``qhsim.evidence.EVIDENCE`` range its business R&D per
    yuan is set against, "" where none applies) and ``evidence`` (``qhsim.evidence.evidence_mark`` of its 5%/95%: "above",
    "below" or ""): an instrument row's against that instrument's range (``INSTRUMENT_EVIDENCE``), a total row's
    against the range of the instruments the design sets (``design_evidence``); only a ratio that stands (none where it
    is empty or ``unstable``). A table that has the columns keeps them (empty cells read back as "")."""
    if leverage.empty or {"evidence_key", "evidence"} <= set(leverage.columns):
        return leverage.assign(**{c: [v if isinstance(v, str) else "" for v in leverage[c]]
                                  for c in ("evidence_key", "evidence")})
    out = leverage.copy()
    groups = ["region", "design"] if "region" in out else ["design"]
    sets = (out["design_sets_instrument"].map(read_flag).eq(True) if "design_sets_instrument" in out
            else pd.Series(False, index=out.index)) & out["instrument"].ne("total")
    carried = {k: dict(zip(g["instrument"], g["extra_cost"])) for k, g in out[sets].groupby(groups)}
    keys = []
    for r in out.to_dict("records"):
        readable = not pd.isna(r.get("rd_per_yuan")) and read_flag(r.get("unstable")) is not True
        if not readable:
            keys.append("")
        elif r["instrument"] == "total":
            keys.append(design_evidence(carried.get(tuple(r[g] for g in groups), {}), r["extra_cost"]))
        else:
            keys.append(INSTRUMENT_EVIDENCE.get(r["instrument"], ""))
    out["evidence_key"] = keys
    out["evidence"] = [evidence_mark(k, lo, hi) for k, lo, hi in zip(keys, out["p05"], out["p95"])]
    return out


def charted_evidence(leverage: pd.DataFrame, ratio: str) -> list[str]:
    """The evidence side ("above", "below" or "") each row of a ``with_evidence`` table shows beside the ratio a chart
    plots: its own where the chart plots business R&D per yuan (``rd_per_yuan``, the ratio the evidence judges), none
    where it plots total R&D per yuan. The one rule of the cost-effectiveness PNG and the dashboard's chart."""
    if ratio != "rd_per_yuan":
        return [""] * len(leverage)
    return [e if isinstance(e, str) else "" for e in leverage["evidence"]]


def shown_evidence(leverage: pd.DataFrame, designs: Sequence[str], instruments: Sequence[str] | None = ("total",)
                   ) -> set[tuple[str, str]]:
    """The (evidence key, "above" | "below") marks a table shows (``with_evidence``) on the rows of ``designs`` and
    ``instruments`` (None: every instrument) of a leverage table: what ``qhsim.evidence.evidence_note`` explains below it."""
    if leverage.empty:
        return set()
    rows = with_evidence(leverage)
    rows = rows[rows["design"].isin(list(designs)) & rows["evidence"].ne("")]
    if instruments is not None:
        rows = rows[rows["instrument"].isin(list(instruments))]
    return set(zip(rows["evidence_key"], rows["evidence"]))


def read_flag(value: object) -> bool | None:
    """A True/False cell of a comparison table, as written (bool) or read back from its CSV (bool, text or empty):
    None where it is empty or not a truth value."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        return {"true": True, "false": False}.get(value.strip().lower())
    return bool(value)


def design_description(scenarios: dict[str, Any] | None, design: str, base: str) -> str:
    """What a compared design is, in both languages: its scenario's ``[run] description`` (the scenario files write
    "中文 / English"); "" where it has none of its own (a file that extends the base without one inherits the
    base's, which would describe the base). ``scenarios``: the comparison's resolved scenarios by design name."""
    text = {n: str((scenarios or {}).get(n, {}).get("run", {}).get("description", "")).strip() for n in (design, base)}
    return "" if design != base and text[design] == text[base] else text[design]


def design_short_name(scenarios: dict[str, Any] | None, design: str, base: str) -> str:
    """A design's short Chinese name: the Chinese half of its ``design_description`` (``short_name``); "" where it has
    no description of its own."""
    return short_name(design_description(scenarios, design, base))


def short_name(description: str) -> str:
    """The Chinese half of a design's description (``加计扣除提高至120%`` of "加计扣除提高至120% / Super-deduction raised
    to 120% from 2026"; a "/" inside the Chinese kept), the whole where it has no English half; "" for ""."""
    return re.split(r"\s*/\s+(?=[A-Za-z])", description, maxsplit=1)[0].strip()


def lower_is_better(key: str) -> bool:
    """True for an indicator whose fall is an improvement (``better = "lower"`` in indicators.toml: the R&D exit rate,
    the user cost of R&D, talent outflow)."""
    return data.load("indicators").get(key, {}).get("better", "higher") == "lower"


def unsettled_pairs(pairwise: pd.DataFrame, settled: float = 0.9) -> list[tuple[str, str, float]]:
    """(a, b, P(a beats b)) for each pair whose order the runs leave open: the more likely winner first, with
    P(a beats b) below ``settled`` (and so P(b beats a) above 1 - settled)."""
    out = []
    names = list(pairwise.index)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            p = pairwise.at[a, b]
            if math.isnan(p):
                continue
            hi, lo, q = (a, b, p) if p >= 0.5 else (b, a, pairwise.at[b, a])
            if q < settled:
                out.append((hi, lo, q))
    return out


@dataclass
class RunResult:
    """Yearly indicators of one run plus what is needed to reproduce it.

    ``indicators`` is a tidy wide table: one row per (year, region), with ``region`` either
    ``"province"`` or a prefecture id from ``qhsim/data/geography.toml``, and one float column per
    indicator key of ``qhsim/data/indicators.toml`` (NaN where an indicator is not modelled).
    Years run from the scenario's start year (the initial state, end of that year) to its end year.
    """

    scenario_name: str
    scenario: dict[str, Any]  # the scenario as resolved (extends applied, defaults filled)
    seed: int
    indicators: pd.DataFrame
    run_seconds: float
    meta: dict[str, Any] = field(default_factory=dict)  # versions, data file hashes, parameter draw id, ...

    def province(self) -> pd.DataFrame:
        """Province rows indexed by year."""
        df = self.indicators
        return df[df["region"] == PROVINCE].set_index("year").drop(columns="region")

    def region(self, region: str) -> pd.DataFrame:
        """Rows of one region indexed by year."""
        df = self.indicators
        return df[df["region"] == region].set_index("year").drop(columns="region")
