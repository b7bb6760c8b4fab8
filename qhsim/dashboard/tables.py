"""Result tables 结果表 of the dashboard, as an analyst reads them.

Each table is built here as text: numbers formatted by the indicator's unit (``qhsim.output.numbers``:
thousands separators; counts and 万元 whole, shares, ratios and 亿元 with two decimals), years as plain
integers, probabilities and shares of runs in per cent; headers in the dashboard's language from the
package's labels (indicators.toml names and units, the output layer's ``column_header``, ``i18n``). ``pages.Table``
shows them without an index column.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd

from qhsim import data
from qhsim.dashboard import i18n
from qhsim.output.numbers import MISSING, decimals, format_nonzero, format_number, format_value, indicator_unit
from qhsim.output.report import cell_text, column_header, sim_columns, summary_columns
from qhsim.results import PROVINCE
from qhsim.stats import by_group

# generic result columns (compare budget, PRIM box and points) -> (Chinese, English) header
COLUMNS: dict[str, tuple[str, str]] = {
    "design": ("设计方案", "design"),
    "budget_levers": ("预算杠杆", "budget levers"),
    "scale": ("缩放系数", "scale factor"),
    "extra_cost_before": ("缩放前额外公共成本（万元）", "extra public cost before (万元)"),
    "extra_cost_after": ("缩放后额外公共成本（万元）", "extra public cost after (万元)"),
    "target_cost": ("目标额外成本（万元）", "target extra cost (万元)"),
    "status": ("状态", "status"),
    "lever": ("杠杆", "lever"),
    "kind": ("类型", "kind"),
    "low": ("下限", "low"),
    "high": ("上限", "high"),
    "levels": ("取值", "levels"),
    "box": ("框内取值", "values in the box"),
    "point": ("设计点", "point"),
    "p_reach": ("达到阈值的概率", "P(reach threshold)"),
    "runs": ("运行次数", "runs"),
    "success": ("成功", "success"),
}
PERCENT_COLUMNS = ("p_reach", "p_met", "p_first")  # shares of runs, shown in %
YES_NO = {True: ("是", "yes"), False: ("否", "no")}
NUMERIC_TEXT = re.compile(r"[-+≥>=\d,.%\s\[\]()–*†↑↓]*")  # digits, signs, separators, brackets, the observed and
# evidence marks (``qhsim.evidence.EVIDENCE_MARKS``)


def header(column: str, lang: str) -> str:
    """The header of a result column in ``lang``: a known column's label, else the column name itself."""
    pair = COLUMNS.get(column) or column_header(column)
    return i18n.pick(pair, lang) if pair else str(column)


def is_numeric_text(text: str) -> bool:
    """Whether a formatted cell is a number, maybe with a band, a year, % or pp (right-aligned in ``pages.Table``)."""
    if text == MISSING:
        return True
    bare = text.replace("pp", "").replace("/yr", "").replace("/年", "")  # a rate in English or Chinese
    return any(c.isdigit() for c in text) and NUMERIC_TEXT.fullmatch(bare) is not None


def percent(x: Any) -> str:
    return MISSING if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * float(x):.0f}%"


def cell(value: Any, column: str, lang: str) -> str:
    """One generic cell: booleans as 是/yes, whole numbers (years, points, counts) as plain integers, shares
    of runs in %, other numbers by magnitude (``format_number``), text as it is."""
    if isinstance(value, bool):
        return i18n.pick(YES_NO[value], lang)
    if column in PERCENT_COLUMNS:
        return percent(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_number(value)
    return MISSING if value is None else str(value)


def text_table(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """``frame`` as formatted text with headers in ``lang`` (``header``, ``cell``) and a plain 0..n-1 index."""
    out = {header(c, lang): [cell(v, c, lang) for v in frame[c].tolist()] for c in frame.columns}
    return pd.DataFrame(out, index=range(len(frame)))


def change_text(x: float, key: str) -> str:
    """A change of indicator ``key`` as the dashboard writes it: signed, one decimal more than the indicator's own
    (``qhsim.output.numbers.decimals``: +0.023 percentage points of R&D intensity, +1.5 firms), more where that would
    print a non-zero change as zero (``format_nonzero``)."""
    return format_nonzero(x, decimals(key) + 1, signed=True)


CHANGE_HEADER = ("{year}相对基准变化", "change vs baseline {year}")  # the column ``changes_against`` fills


def changes_against(table: pd.DataFrame, reference: pd.DataFrame, column: str) -> list[str]:
    """Each row's change against ``reference`` (the same ``summary_table`` rows of the baseline run) in the simulated
    column ``column`` (``sim_YYYY``): the difference of the values the tables show (an ensemble's medians), "pp" after a
    change of an indicator in % (percentage points, as the gap of a growth target is written)."""
    base = reference.drop_duplicates("indicator").set_index("indicator")[column]
    out = []
    for key, value in zip(table["indicator"], table[column]):
        change = change_text(value - base.get(key, math.nan), key)
        out.append(change if change == MISSING or indicator_unit(key) != "%" else f"{change} pp")
    return out


def target_table(table: pd.DataFrame, lang: str, reference: pd.DataFrame | None = None) -> pd.DataFrame:
    """Rows of ``summary_table`` with a target, as the reports show them (``summary_columns``: observed 2020 and
    its source, simulated in the target years and 2035 with the 90% band of an ensemble, target (year), gap,
    met and P(met)), the indicator named in ``lang``. A restated observed value carries "*", one on another definition
    than the model's "†" (their notes: ``qhsim.output.report.source_notes``). With ``reference`` (the same rows of the
    baseline run), the change against it in the last simulated year after that year's column (``changes_against``:
    levers change from 2026, after most plan targets' year, 2025)."""
    columns = summary_columns(table, wide=False, sources=True)
    last = sim_columns(table)[-1]
    if reference is not None:
        columns.insert(columns.index(last) + 1, "change")
    index = 0 if lang == "zh" else 1
    out = {}
    for c in columns:
        if c == "change":
            out[CHANGE_HEADER[index].format(year=last[4:])] = changes_against(table, reference, last)
        elif c == "label":
            out[column_header(c)[index]] = [i18n.indicator(k, lang) for k in table["indicator"]]
        else:
            out[column_header(c)[index]] = [cell_text(row, c, lang) for _, row in table.iterrows()]
    return pd.DataFrame(out, index=range(len(table)))


def prefecture_table(indicators: pd.DataFrame, keys: list[str], year: int, lang: str) -> pd.DataFrame:
    """The 8 prefectures side by side in ``year``, and the province after them: one row per indicator, one column per
    region (median over runs, formatted by its unit; weighted where the runs carry weights, ``qhsim.stats``). Regions
    as columns keep the nine regions' numbers in view at 1366 px; twelve indicators as columns ran off the page."""
    regions = [*data.prefecture_ids(), PROVINCE]
    medians = by_group(indicators[indicators["year"] == year], ["region"], keys, ("median",))
    medians.columns = keys
    medians = medians.reindex(regions)
    out = {i18n.text("indicator", lang): [i18n.indicator(k, lang) for k in keys]}
    for region in regions:
        out[i18n.region(region, lang)] = [format_value(medians.at[region, k], k) for k in keys]
    return pd.DataFrame(out, index=range(len(keys)))


def box_table(box: pd.DataFrame, labels: dict[str, str], lang: str) -> pd.DataFrame:
    """The PRIM box (``DiscoveryResult.box``: lever, kind, low, high, levels) as the page shows it: the lever by its
    label (``labels``), the kind in ``lang``, and its values in one column: "1.00 – 3.00" for a range, the value alone
    where the box keeps the lever at one tested value (never "3.00 – 3.00"), the levels kept for a string lever by their
    labels (``i18n.level``)."""
    from qhsim.experiments.discovery import KINDS

    rows = []
    for r in box.itertuples():
        if r.kind == "range" and r.low == r.high:
            kind, values = KINDS["value"], format_number(r.low)
        elif r.kind == "range":
            kind, values = KINDS["range"], f"{format_number(r.low)} – {format_number(r.high)}"
        else:
            kind = KINDS.get(r.kind, (r.kind, r.kind))
            values = "; ".join(i18n.level(v, lang) for v in str(r.levels).split("; "))  # 随机抽签, not lottery
        rows.append({"lever": labels.get(r.lever, r.lever), "kind": i18n.pick(kind, lang), "box": values})
    return text_table(pd.DataFrame(rows, columns=["lever", "kind", "box"]), lang)
