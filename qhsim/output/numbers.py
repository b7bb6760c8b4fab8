"""Numbers by kind 数值格式: how each indicator is shown in tables, workbooks and reports.

The kind follows the indicator's unit in ``qhsim/data/indicators.toml``: counts (firms, persons, platforms,
contracts, items) as whole numbers, shares in % and ratios per 10,000 with two decimals, money in 亿元 with
two decimals and in 万元 as whole numbers. Zero never shows a sign ("-0.00" is "0.00"). Units are written in the
language of the text (``unit_of``), or in both where they stand alone, on a chart's axis or in a unit column
(``unit_words``); one table, ``UNIT_ZH`` (with ``UNIT_EN`` for the Chinese money units), serves all of them.

One rounding rule for every output: half away from zero on the number's 15 significant digits (``rounded``), as
Excel and WPS show a cell, so that the terminal, comparison.txt, the HTML report and the workbook show the same figure
for the same number (a median of 8 runs, 382.5, is 383 everywhere; Python's own formatting rounds half to even). The
workbook's number formats (``excel_number_format``, ``cell_format``) show the decimals and the sign the text does.
A change of an indicator in % is in percentage points (``change_unit``: 百分点 pp), with the decimals that show it
(``change_digits``: the same for a row's years and its window).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from qhsim import data
from qhsim.output.lang import pick
from qhsim.targets import load_targets

MISSING = "—"
COUNT_UNITS = ("firms", "count", "persons", "contracts", "items", "platforms")
# the units of indicators.toml in Chinese (the file's own are English, or Chinese already: %, 亿元, 万元), with those
# of the ratios per 10,000 (``indicator_unit``)
UNIT_ZH = {"contracts": "项", "count": "个", "firms": "家", "items": "件", "persons": "人", "platforms": "个",
           "person-years": "人年", "yuan per yuan of R&D": "元/元研发经费", "yuan per yuan": "元/元",
           "persons per 10k employed": "人/万名就业人员", "items per 10k population": "件/万人",
           "firms per 10k enterprises": "家/万家企业"}
UNIT_EN = {"亿元": "100 mn yuan", "万元": "10k yuan"}  # the Chinese money units, for a text in English only
# kind -> decimals (the Excel number format follows from them: ``excel_number_format``)
DECIMALS = {"count": 0, "share": 2, "ratio": 2, "money_yi": 2, "money_wan": 0, "number": 2}
PERCENTAGE_POINTS = "百分点 pp"  # the unit of a change of an indicator in %
MONEY_DIGITS = DECIMALS["money_yi"]  # a comparison's money in 亿元 (extra cost, extra R&D), in every output


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


def change_unit(key: str, lang: str = "both") -> str:
    """The unit of a change of indicator ``key``: ``百分点 pp`` (percentage points) for an indicator in %, else its own
    (``unit_words`` of ``indicator_unit``)."""
    unit = indicator_unit(key)
    return pick(PERCENTAGE_POINTS, lang) if unit == "%" else unit_words(unit, lang)


def decimals(key: str) -> int:
    return DECIMALS[number_kind(key)]


MAX_EXTRA_CHANGE_DIGITS = 2  # ``change_digits`` adds at most this many decimals to a change's own


def change_digits(key: str, values: Iterable[Any]) -> int:
    """The decimals of the changes of indicator ``key`` shown together (a table row's years and window): one more than
    the indicator's own (counts with one), and up to ``MAX_EXTRA_CHANGE_DIGITS`` more where the largest of ``values``
    would otherwise show fewer than two significant digits (a change of the R&D intensity of 0.0025 percentage points
    reads +0.0025, not 0.00); the same for every column of the row."""
    own = decimals(key) + 1
    finite = [abs(float(v)) for v in values if not _is_missing(v) and math.isfinite(float(v))]
    largest = max(finite, default=0.0)
    if largest == 0:
        return own
    return min(max(own, 1 - math.floor(math.log10(largest))), own + MAX_EXTRA_CHANGE_DIGITS)


def excel_number_format(digits: int, signed: bool = False, suffix: str = "") -> str:
    """The Excel number format that shows ``digits`` decimals with thousands separators (``#,##0.00``), with the sign
    of a change (``+#,##0.00;-#,##0.00;#,##0.00``) when ``signed``, and ``suffix`` after the number (``"pp"``)."""
    base = "#,##0" + (f".{'0' * digits}" if digits > 0 else "") + (f'"{suffix}"' if suffix else "")
    return f"+{base};-{base};{base}" if signed else base


def excel_format(key: str, signed: bool = False) -> str:
    """Indicator ``key``'s Excel number format (``excel_number_format`` of its ``decimals``)."""
    return excel_number_format(decimals(key), signed)


def cell_format(x: Any, digits: int | None = None, signed: bool = False, suffix: str = "") -> str:
    """The Excel number format of one cell holding ``x`` that shows what ``format_fixed(x, digits, signed)`` writes
    (``digits`` None: as ``format_number`` writes it), ``suffix`` after it; a value that rounds to zero as an unsigned
    zero (Excel would write "-0.00" or "+0.00")."""
    value = x if isinstance(x, int | float) and not isinstance(x, bool) and not _is_missing(x) else None  # not text
    digits = number_digits(value) if digits is None else digits
    base = excel_number_format(digits, suffix=suffix)
    if value is not None and math.isfinite(value) and rounded(float(value), digits) == 0:
        return f"{base};{base};{base}"
    return excel_number_format(digits, signed, suffix)


def _is_missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x)) or (hasattr(x, "__float__") and math.isnan(float(x)))


def rounded(x: float, digits: int) -> Decimal:
    """``x`` rounded to ``digits`` decimals half away from zero, on its 15 significant digits: the figure Excel and WPS
    show (382.5 is 383, 0.125 is 0.13, 2.675 is 2.68), which every output shows (``format_fixed``)."""
    return Decimal(format(x, ".15g")).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def format_fixed(x: Any, digits: int, signed: bool = False) -> str:
    """``x`` with thousands separators and ``digits`` decimals (``rounded``: half away from zero); a value that rounds
    to zero has no sign."""
    if _is_missing(x):
        return MISSING
    x = float(x)
    if not math.isfinite(x):
        return f"{x:{'+' if signed else ''}}"
    r = rounded(x, digits)
    if r == 0:
        return f"{0:.{digits}f}"
    return f"{r:{'+' if signed else ''},.{digits}f}"


def format_percent(p: Any, digits: int = 0) -> str:
    """A share (0.625) as a percentage with ``digits`` decimals (``63%``: ``rounded``, as Excel's ``0%`` shows it)."""
    return MISSING if _is_missing(p) else f"{format_fixed(100 * float(p), digits)}%"


def nonzero_digits(x: Any, digits: int) -> int:
    """``digits``, or up to 3 more where those would show a non-zero ``x`` as zero (``format_nonzero``)."""
    if _is_missing(x) or float(x) == 0 or not math.isfinite(float(x)):
        return digits
    return next((d for d in range(digits, digits + 4) if rounded(float(x), d) != 0), digits + 3)


def format_nonzero(x: Any, digits: int, signed: bool = False) -> str:
    """``x`` with ``digits`` decimals, or up to 3 more where those would print a non-zero value as zero (a gap of
    -0.002 to a target that is not met must not read "0.00")."""
    return format_fixed(x, nonzero_digits(x, digits), signed)


def format_number(x: Any, signed: bool = False) -> str:
    """A number of unknown kind: whole numbers as such, otherwise 2 decimals (1 from 100, 0 from 1,000)."""
    if _is_missing(x):
        return MISSING
    return format_fixed(x, number_digits(x), signed)


def number_digits(x: Any) -> int:
    """The decimals ``format_number`` gives ``x``: none for a whole number of 10 or more and from 1,000, 1 from 100,
    else 2."""
    if _is_missing(x) or not math.isfinite(float(x)):
        return 2
    x = float(x)
    whole = x == round(x) and (abs(x) >= 10 or x == 0)
    return 0 if abs(x) >= 1000 or whole else 1 if abs(x) >= 100 else 2


def significant(x: float, digits: int = 3, signed: bool = True) -> str:
    """``x`` with ``digits`` significant digits (at most 4 decimals), thousands separators and no exponent:
    +12,346, +1.23, +0.0123; a value that rounds to zero is "0". The places follow the rounded value's magnitude:
    0.9996 is "1.00", not "1.000" (a fourth digit)."""
    if _is_missing(x) or not math.isfinite(float(x)):
        return MISSING

    def places(v: float) -> int:
        return min(4, max(0, digits - 1 - math.floor(math.log10(abs(v))))) if v else 0

    first = places(float(x))
    shown = float(rounded(float(x), first))  # rounding up may cross a power of ten (0.9996 -> 1.000)
    return format_fixed(x, min(first, places(shown)), signed)


def format_interval(mid: Any, lo: Any, hi: Any, signed: bool = False, digits: int | None = None, *,
                    key: str | None = None, sep: str = " ") -> str:
    """``mid [lo, hi]``, the one way every output writes a value with its interval: each as ``format_number`` writes
    it, or with ``digits`` (``format_fixed`` with that many decimals: money in 亿元 with 2, a change with its row's
    ``change_digits``), or with indicator ``key``'s decimals (as ``format_value``); ``sep`` between the value and its
    interval (``"\\n"``: the interval below the value, in a narrow column). The missing mark when ``mid`` is missing."""
    if _is_missing(mid):
        return MISSING
    digits = decimals(key) if key is not None else digits
    shown = [format_number(x, signed) if digits is None else format_fixed(x, digits, signed) for x in (mid, lo, hi)]
    return f"{shown[0]}{sep}[{shown[1]}, {shown[2]}]"


def format_value(x: Any, key: str, signed: bool = False) -> str:
    """A value of indicator ``key``, formatted by its kind."""
    return format_fixed(x, decimals(key), signed)
