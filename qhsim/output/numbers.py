"""Numbers by kind 数值格式: how each indicator is shown in tables, workbooks and reports.

The kind follows the indicator's unit in ``qhsim/data/indicators.toml``: counts (firms, persons, platforms,
contracts, items) as whole numbers, shares in % and ratios per 10,000 with two decimals, money in 亿元 with
two decimals and in 万元 as whole numbers. Zero never shows a sign ("-0.00" is "0.00"). Units are written in the
language of the text (``unit_of``).
"""

from __future__ import annotations

import math
from typing import Any

from qhsim import data

MISSING = "—"
COUNT_UNITS = ("firms", "count", "persons", "contracts", "items", "platforms")
# the units of indicators.toml in Chinese (the file's own are English, or Chinese already: %, 亿元, 万元)
UNIT_ZH = {"contracts": "项", "count": "个", "firms": "家", "items": "件", "persons": "人", "platforms": "个",
           "person-years": "人年", "yuan per yuan of R&D": "元/元研发经费"}
UNIT_EN = {"亿元": "100 mn yuan", "万元": "10k yuan"}  # the Chinese money units, for a text in English only
# kind -> (decimals, Excel number format)
KINDS = {
    "count": (0, "#,##0"),
    "share": (2, "0.00"),
    "ratio": (2, "#,##0.00"),
    "money_yi": (2, "#,##0.00"),
    "money_wan": (0, "#,##0"),
    "number": (2, "#,##0.00"),
}


def number_kind(key: str) -> str:
    """``count``, ``share``, ``ratio``, ``money_yi``, ``money_wan`` or ``number`` for an indicator key."""
    spec = data.load("indicators").get(key)
    if spec is None:
        return "number"
    unit = spec["unit"]
    if "per_10k" in key:
        return "ratio"
    if unit == "%":
        return "share"
    if unit == "亿元":
        return "money_yi"
    if unit == "万元":
        return "money_wan"
    return "count" if unit in COUNT_UNITS else "number"


def unit_of(key: str, lang: str = "both") -> str:
    """Indicator ``key``'s unit in the language of the text around it (``lang``: zh, en or both): Chinese
    (``UNIT_ZH``) for zh, English money units (``UNIT_EN``: 亿元 as 100 mn yuan) for en, else as indicators.toml
    writes it (a bilingual label ends in its English name; money in 亿元 and 万元)."""
    unit = data.load("indicators")[key]["unit"]
    return UNIT_ZH.get(unit, unit) if lang == "zh" else UNIT_EN.get(unit, unit) if lang == "en" else unit


def decimals(key: str) -> int:
    return KINDS[number_kind(key)][0]


def excel_format(key: str) -> str:
    return KINDS[number_kind(key)][1]


def _is_missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x)) or (hasattr(x, "__float__") and math.isnan(float(x)))


def format_fixed(x: Any, digits: int, signed: bool = False) -> str:
    """``x`` with thousands separators and ``digits`` decimals; a value that rounds to zero has no sign."""
    if _is_missing(x):
        return MISSING
    x = float(x)
    if round(x, digits) == 0:
        return f"{0:.{digits}f}"
    return f"{x:{'+' if signed else ''},.{digits}f}"


def format_nonzero(x: Any, digits: int, signed: bool = False) -> str:
    """``x`` with ``digits`` decimals, or up to 3 more where those would print a non-zero value as zero (a gap of
    -0.002 to a target that is not met must not read "0.00")."""
    if _is_missing(x) or float(x) == 0:
        return format_fixed(x, digits, signed)
    shown = next((d for d in range(digits, digits + 4) if round(float(x), d) != 0), digits + 3)
    return format_fixed(x, shown, signed)


def format_number(x: Any, signed: bool = False) -> str:
    """A number of unknown kind: whole numbers as such, otherwise 2 decimals (1 from 100, 0 from 1,000)."""
    if _is_missing(x):
        return MISSING
    x = float(x)
    whole = x == round(x) and (abs(x) >= 10 or x == 0)
    digits = 0 if abs(x) >= 1000 or whole else 1 if abs(x) >= 100 else 2
    return format_fixed(x, digits, signed)


def format_interval(mid: Any, lo: Any, hi: Any, signed: bool = False) -> str:
    """``mid [lo, hi]`` as ``format_number`` writes each, or the missing mark when ``mid`` is missing."""
    if _is_missing(mid):
        return MISSING
    return f"{format_number(mid, signed)} [{format_number(lo, signed)}, {format_number(hi, signed)}]"


def format_value(x: Any, key: str, signed: bool = False) -> str:
    """A value of indicator ``key``, formatted by its kind."""
    return format_fixed(x, decimals(key), signed)
