"""Numbers by kind 数值格式: how each indicator is shown in tables, workbooks and reports.

The kind follows the indicator's unit in ``qhsim/data/indicators.toml``: counts (firms, persons, platforms,
contracts, items) as whole numbers, shares in % and ratios per 10,000 with two decimals, money in 亿元 with
two decimals and in 万元 as whole numbers. Zero never shows a sign ("-0.00" is "0.00"). Units are written in the
language of the text (``unit_of``), or in both where they stand alone, on a chart's axis or in a unit column
(``unit_words``); one table, ``UNIT_ZH`` (with ``UNIT_EN`` for the Chinese money units), serves all of them.
"""

from __future__ import annotations

import math
from typing import Any

from qhsim import data
from qhsim.targets import load_targets

MISSING = "—"
COUNT_UNITS = ("firms", "count", "persons", "contracts", "items", "platforms")
# the units of indicators.toml in Chinese (the file's own are English, or Chinese already: %, 亿元, 万元), with those
# of the ratios per 10,000 (``indicator_unit``)
UNIT_ZH = {"contracts": "项", "count": "个", "firms": "家", "items": "件", "persons": "人", "platforms": "个",
           "person-years": "人年", "yuan per yuan of R&D": "元/元研发经费",
           "persons per 10k employed": "人/万名就业人员", "items per 10k population": "件/万人",
           "firms per 10k enterprises": "家/万家企业"}
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


def indicator_unit(key: str) -> str:
    """Indicator ``key``'s unit as indicators.toml writes it; for a ratio per 10,000 (a ``per_10k`` key) the unit
    that names its denominator, from its 2020 value or a plan target (``firms per 10k enterprises``, where
    indicators.toml writes the numerator's, ``firms``)."""
    spec = data.load("indicators")[key]
    unit = spec["unit"]
    if "per_10k" in key:
        targets = load_targets()
        units = [spec.get("value_2020", {}).get("unit"), *targets.loc[targets["indicator"] == key, "unit"]]
        unit = next((u for u in units if u and "per" in u), unit)
    return unit


def unit_words(unit: str, lang: str = "both") -> str:
    """``unit`` (as indicators.toml and targets.toml write them) in ``lang``: Chinese (``UNIT_ZH``) for zh, English
    (``UNIT_EN``: 亿元 as 100 mn yuan) for en; for both, Chinese then English, as a unit standing alone (a chart's
    axis, a unit column) is written: ``人 persons``, ``家/万家企业 firms per 10k enterprises``, ``亿元 (100 mn
    yuan)``, ``%``."""
    zh, en = UNIT_ZH.get(unit, unit), UNIT_EN.get(unit, unit)
    if lang in ("zh", "en"):
        return zh if lang == "zh" else en
    return unit if zh == en else f"{zh} ({en})" if unit in UNIT_EN else f"{zh} {en}"


def unit_of(key: str, lang: str = "both") -> str:
    """Indicator ``key``'s unit (``indicator_unit``) in the language of the label it ends (``lang``: zh, en or both):
    ``unit_words`` for zh and en; for both as indicators.toml writes it, after the English name (money in 亿元 and
    万元)."""
    unit = indicator_unit(key)
    return unit if lang == "both" else unit_words(unit, lang)


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


def significant(x: float, digits: int = 3, signed: bool = True) -> str:
    """``x`` with ``digits`` significant digits (at most 4 decimals), thousands separators and no exponent:
    +12,346, +1.23, +0.0123; a value that rounds to zero is "0"."""
    if _is_missing(x) or not math.isfinite(float(x)):
        return MISSING
    places = min(4, max(0, digits - 1 - math.floor(math.log10(abs(x))))) if x else 0
    if round(x, places) == 0:
        return f"{0:.{places}f}"
    return f"{x:{'+' if signed else ''},.{places}f}"


def format_interval(mid: Any, lo: Any, hi: Any, signed: bool = False) -> str:
    """``mid [lo, hi]`` as ``format_number`` writes each, or the missing mark when ``mid`` is missing."""
    if _is_missing(mid):
        return MISSING
    return f"{format_number(mid, signed)} [{format_number(lo, signed)}, {format_number(hi, signed)}]"


def format_value(x: Any, key: str, signed: bool = False) -> str:
    """A value of indicator ``key``, formatted by its kind."""
    return format_fixed(x, decimals(key), signed)
