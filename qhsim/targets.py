"""Plan targets 规划目标 and the 2035 reference paths (MODEL.md §2).

Targets come from ``qhsim/data/targets.toml`` (kinds explained in its header). The plans give no numbers
for 2035, so two labelled reference paths are derived here: the 2020→2025 plan trajectory extrapolated,
and parity with the national 2020 level. Both come back as target-like rows of kind ``reference_path``.

For every indicator we track, higher is better: a target is met when the achieved value is at least the
target value (exactly at target counts as met, up to float rounding). A target on another definition than the
model's indicator (``comparable = false``) is never judged: ``meets`` gives None for it, as for a missing value.

The data file also holds what the outputs say beside a target (``qhsim.output.report.target_notes``): the figure the
plan prints where ``value`` restates it in the model's definition (``plan_value``), how a definition differs
(``note_zh`` / ``note_en``), the ``caveats`` a verdict rests on (``load_caveats``), and the plan targets the model has
no indicator for (``load_not_modelled``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from qhsim import data
from qhsim.errors import InputError
from qhsim.results import PROVINCE

COLUMNS = ("indicator", "region", "year", "kind", "value", "base_year", "unit", "source", "label", "plan_value",
           "comparable", "note_zh", "note_en", "caveats")
NOTE_KEYS = ("note_zh", "note_en")  # how a restated target was restated, or how a non-comparable one differs
OPTIONAL_KEYS = ("base_year", "plan_value", "comparable", *NOTE_KEYS, "caveats")
DEFAULTS = {"base_year": None, "plan_value": None, "comparable": True, "note_zh": None, "note_en": None, "caveats": ()}
CAVEAT_KEYS = ("zh", "en", "source")  # required; "parameter" optional
NOT_MODELLED_KEYS = ("region", "year", "zh", "en", "target_zh", "target_en", "nature_zh", "nature_en", "reason_zh",
                     "reason_en", "source")
LEVEL_KINDS = ("level", "min_level")
KINDS = (*LEVEL_KINDS, "growth")
REFERENCE_KIND = "reference_path"
PLAN_LABEL = "规划目标 plan target"
EXTRAPOLATED_LABEL = "规划趋势外推 plan trajectory extrapolated"
PARITY_LABEL = "达到全国2020水平 national parity (2020 level)"
BASE_YEAR = 2020  # the province plan's base year: its targets and the reference paths start from the 2020 value
PLAN_YEAR = 2025  # the plan year whose 2020→2025 rate is extrapolated
REFERENCE_YEAR = 2035
YEAR_RANGE = (2016, 2100)
TOLERANCE = 1e-9  # relative: exactly at target counts as met despite float rounding


def _fail(index: int | str, key: str, value: Any, allowed: str, table: str = "target") -> InputError:
    path = data.DATA_DIR / "targets.toml"
    where = f"{table}[{index}]" if isinstance(index, int) else f"{table}.{index}"
    return InputError(f"{path}: {where}.{key} = {value!r}: allowed {allowed}")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def validate_target(row: dict[str, Any], index: int) -> dict[str, Any]:
    """Check one ``[[target]]`` row; raise ``InputError`` naming file, key, bad value and allowed values."""
    required = ("indicator", "region", "year", "kind", "value", "unit", "source")
    for key in row:
        if key not in (*required, *OPTIONAL_KEYS):
            raise _fail(index, key, row[key], f"keys {', '.join((*required, *OPTIONAL_KEYS))}")
    for key in required:
        if key not in row:
            raise _fail(index, key, None, "a value (key is required)")
    indicators = tuple(data.load("indicators"))
    regions = (PROVINCE, *data.prefecture_ids())
    lo, hi = YEAR_RANGE
    checks = (
        ("indicator", row["indicator"] in indicators, "an indicator of indicators.toml"),
        ("region", row["region"] in regions, ", ".join(regions)),
        ("kind", row["kind"] in KINDS, ", ".join(KINDS)),
        ("year", isinstance(row["year"], int) and lo <= row["year"] <= hi, f"an integer year {lo}..{hi}"),
        ("value", _is_number(row["value"]), "a finite number"),
        ("unit", isinstance(row["unit"], str) and row["unit"], "a non-empty string"),
        ("source", isinstance(row["source"], str) and row["source"], "a non-empty string"),
    )
    for key, ok, allowed in checks:
        if not ok:
            raise _fail(index, key, row[key], allowed)
    base = row.get("base_year")
    if row["kind"] == "growth" and not (isinstance(base, int) and base < row["year"]):
        raise _fail(index, "base_year", base, f"an integer year before year {row['year']} (required for growth)")
    if row["kind"] != "growth" and base is not None:
        raise _fail(index, "base_year", base, "only for kind = growth")
    _validate_notes(row, index)
    return row


def _validate_notes(row: dict[str, Any], index: int) -> None:
    """A target's optional ``plan_value``, ``comparable``, notes and ``caveats`` (the header of targets.toml)."""
    if "plan_value" in row and not _is_number(row["plan_value"]):
        raise _fail(index, "plan_value", row["plan_value"], "a finite number (the figure the plan prints)")
    if "comparable" in row and not isinstance(row["comparable"], bool):
        raise _fail(index, "comparable", row["comparable"], "true or false")
    explained = "plan_value" in row or row.get("comparable") is False
    for key in NOTE_KEYS:
        if explained and not (isinstance(row.get(key), str) and row[key]):
            raise _fail(index, key, row.get(key), "a non-empty string (required with plan_value or comparable = false)")
        if not explained and key in row:
            raise _fail(index, key, row[key], "only with plan_value or comparable = false")
    ids = tuple(data.load("targets").get("caveat", {}))
    caveats = row.get("caveats", [])
    if not (isinstance(caveats, list) and all(c in ids for c in caveats)):
        raise _fail(index, "caveats", caveats, f"a list of ids of [caveat.*]: {', '.join(ids)}")
    row["caveats"] = tuple(caveats)  # hashable in a frame's cell


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Target rows in the column order of ``COLUMNS`` with a nullable integer ``base_year``; the optional keys a row
    leaves out take their ``DEFAULTS``."""
    frame = pd.DataFrame([DEFAULTS | row for row in rows], columns=list(COLUMNS))
    frame["value"] = frame["value"].astype(float)
    frame["base_year"] = frame["base_year"].astype("Int64")
    return frame


# derived tables -> (the data tables they were derived from, the result); see _memo
_MEMO: dict[str, tuple[tuple[Any, ...], pd.DataFrame]] = {}


def _memo(name: str, sources: tuple[Any, ...], build: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """A copy of ``build()``, built once per process while the data tables it reads (``sources``, as returned by
    the caching ``data.load``) stay the same objects: a run folder asks for the targets dozens of times."""
    hit = _MEMO.get(name)
    if hit is None or len(hit[0]) != len(sources) or any(a is not b for a, b in zip(hit[0], sources)):
        hit = _MEMO[name] = (sources, build())
    return hit[1].copy()


def load_targets() -> pd.DataFrame:
    """All plan targets of ``targets.toml``, validated, one row each (columns ``COLUMNS``)."""
    return _memo("targets", (data.load("targets"),), _parse_targets)


def _parse_targets() -> pd.DataFrame:
    rows = data.load("targets").get("target", [])
    checked = [validate_target(dict(row), i) for i, row in enumerate(rows)]
    return _frame([{**row, "label": PLAN_LABEL} for row in checked])


def load_caveats() -> dict[str, dict[str, str]]:
    """The ``[caveat.*]`` tables of targets.toml by id, validated: ``zh``, ``en``, ``source`` and an optional
    ``parameter`` ("file:key" of a quantity in qhsim/data whose value the note gives)."""
    caveats = data.load("targets").get("caveat", {})
    for cid, caveat in caveats.items():
        for key in caveat:
            if key not in (*CAVEAT_KEYS, "parameter"):
                raise _fail(cid, key, caveat[key], f"keys {', '.join((*CAVEAT_KEYS, 'parameter'))}", "caveat")
        for key in CAVEAT_KEYS:
            if not (isinstance(caveat.get(key), str) and caveat[key]):
                raise _fail(cid, key, caveat.get(key), "a non-empty string", "caveat")
        if "parameter" in caveat and parameter_spec(caveat["parameter"]) is None:
            raise _fail(cid, "parameter", caveat["parameter"], '"file:key" of a quantity in qhsim/data', "caveat")
        for key in ("zh", "en"):  # where the parameter's value goes, and no other braces
            if caveat[key].count("{") != caveat[key].count("{parameter}") or ("parameter" in caveat) != (
                    "{parameter}" in caveat[key]):
                raise _fail(cid, key, caveat[key], "text with {parameter} once where a parameter is given, else no "
                            "braces", "caveat")
    return caveats


def parameter_spec(name: str) -> dict[str, Any] | None:
    """The qhsim/data entry ``file:key`` names (e.g. ``behaviour:campaign_start_effect``), None if there is none."""
    file, _, key = name.partition(":")
    try:
        entry = data.load(file).get(key)
    except InputError:
        return None
    return entry if isinstance(entry, dict) and "value" in entry else None


def load_not_modelled() -> list[dict[str, Any]]:
    """The ``[[not_modelled]]`` rows of targets.toml, validated: plan targets the model has no indicator for, with
    the plan's value as text, its nature, the reason and the source line."""
    rows = data.load("targets").get("not_modelled", [])
    regions = (PROVINCE, *data.prefecture_ids())
    for i, row in enumerate(rows):
        for key in row:
            if key not in NOT_MODELLED_KEYS:
                raise _fail(i, key, row[key], f"keys {', '.join(NOT_MODELLED_KEYS)}", "not_modelled")
        for key in NOT_MODELLED_KEYS:
            value = row.get(key)
            ok = (value in regions if key == "region" else isinstance(value, int) and not isinstance(value, bool)
                  if key == "year" else isinstance(value, str) and value)
            if not ok:
                allowed = ", ".join(regions) if key == "region" else "a year" if key == "year" else "a non-empty string"
                raise _fail(i, key, value, allowed, "not_modelled")
    return rows


def _reference_row(key: str, value: float, unit: str, source: str, label: str, year: int) -> dict[str, Any]:
    return {
        "indicator": key, "region": PROVINCE, "year": year, "kind": REFERENCE_KIND, "value": value,
        "base_year": BASE_YEAR, "unit": unit, "source": source, "label": label,
    }


def reference_paths_2035(
    targets: pd.DataFrame | None = None,
    indicators: dict[str, Any] | None = None,
    year: int = REFERENCE_YEAR,
) -> pd.DataFrame:
    """The two labelled 2035 reference paths as target-like rows (kind ``reference_path``, province only).

    * plan trajectory extrapolated: the compound rate from the observed 2020 value to the 2025 province
      level target, continued to ``year``: ``v2025 · (v2025 / v2020) ** ((year − 2025) / 5)``;
    * national parity: the national 2020 level (``national_2020`` in indicators.toml) reached by ``year``.

    Both paths start at the observed 2020 value (``base_year`` = 2020). ``targets`` and ``indicators``
    default to the package data; pass your own to derive paths for a hand-made case.
    """
    if targets is None and indicators is None:
        sources = (data.load("targets"), data.load("indicators"))
        return _memo(f"references_{year}", sources, lambda: reference_paths_2035(load_targets(), sources[1], year))
    targets = load_targets() if targets is None else targets
    indicators = data.load("indicators") if indicators is None else indicators
    plan = targets[(targets["region"] == PROVINCE) & (targets["year"] == PLAN_YEAR) & targets["kind"].isin(LEVEL_KINDS)]
    rows = []
    for key, spec in indicators.items():
        start = spec.get("value_2020", {}).get("value")
        for t in plan[plan["indicator"] == key].itertuples():
            if start is not None and start > 0 and t.value > 0:
                value = t.value * (t.value / start) ** ((year - PLAN_YEAR) / (PLAN_YEAR - BASE_YEAR))
                source = f"derived: {BASE_YEAR} value {start} → {PLAN_YEAR} target {t.value}, rate continued"
                rows.append(_reference_row(key, value, t.unit, source, EXTRAPOLATED_LABEL, year))
        national = spec.get("national_2020")
        if national is not None and start is not None:
            level, unit, source = float(national["value"]), national["unit"], national["source"]
            rows.append(_reference_row(key, level, unit, source, PARITY_LABEL, year))
    return _frame(rows)


def plan_base_years(targets: pd.DataFrame | None = None) -> dict[str, int]:
    """The base year of each region's plan: the province's is ``BASE_YEAR`` (its 14th FYP plan sets 2025 targets from
    2020 values); a prefecture's is the one its growth targets state (Haidong 2020; Haixi 2024, assumed: its 2025-2027
    plan gives none); a prefecture without a growth target has none. ``targets`` defaults to ``load_targets()``."""
    targets = load_targets() if targets is None else targets
    growth = targets[(targets["kind"] == "growth") & (targets["region"] != PROVINCE)]
    return {PROVINCE: BASE_YEAR} | {r.region: int(r.base_year) for r in growth.itertuples()}


def base_year_check(targets: pd.DataFrame, value_at: Callable[[str, str, int], float]) -> pd.DataFrame:
    """The level targets of the province and the prefectures against a run's value in their plan's base year. A
    plan sets a target to be reached, so the value in its base year lies below it: ``reached`` (the run's base-year
    value already at or above the target) contradicts the plan, and the run overstates that indicator there. The
    base years are ``plan_base_years``. ``value_at(region, indicator, year)``: the run's value. Rows of ``targets``
    with ``base_year`` set to the region's, plus ``base_year_value`` and ``reached``."""
    bases = plan_base_years(targets)
    rows = []
    for t in targets[targets["region"].isin(bases) & targets["kind"].isin(LEVEL_KINDS)].itertuples(index=False):
        got = value_at(t.region, t.indicator, bases[t.region])
        rows.append(t._asdict() | {"base_year": bases[t.region], "base_year_value": got,
                                   "reached": bool(meets(got, t))})  # None (NaN) is not reached
    return pd.DataFrame(rows, columns=[*COLUMNS, "base_year_value", "reached"])


def achieved(path: pd.Series | float, row: Any) -> float:
    """What a target row is judged on: the value in the target year, or for ``growth`` the average annual
    growth rate (CAGR, share per year) from ``base_year`` to ``year``.

    ``path`` is an indicator's yearly values (a Series indexed by year) or, for level kinds, the value in
    the target year itself. NaN when the path does not reach the years needed.
    """
    if row.kind == "growth":
        start, end = (float(path.get(y, math.nan)) for y in (row.base_year, row.year))
        if not (start > 0 and end >= 0):
            return math.nan
        return (end / start) ** (1.0 / (row.year - row.base_year)) - 1.0
    return float(path.get(row.year, math.nan)) if isinstance(path, pd.Series) else float(path)


def meets(value: float, row: Any) -> bool | None:
    """Whether an ``achieved`` value meets a target row; ``None`` when the value is NaN (not available) or the target
    is on another definition than the model's indicator (``comparable`` false: not judged)."""
    if math.isnan(value) or not comparable(row):
        return None
    return bool(value >= row.value - TOLERANCE * max(abs(row.value), 1.0))


def comparable(row: Any) -> bool:
    """Whether a target row (a ``load_targets`` row, or a hand-made one without the key) can be judged against the
    model's indicator."""
    value = getattr(row, "comparable", True)  # a frame's cell is numpy's bool; a hand-made row may lack it (NaN)
    return not isinstance(value, bool | np.bool_) or bool(value)


def deterministic_verdict(values: Any, row: Any) -> bool:
    """Whether P(met) of a target row over runs whose ``achieved`` values are ``values`` is a deterministic verdict,
    not a probability: several runs, every one the same value, and a target that is judged (``comparable``). The
    outputs mark such a P(met) with ``qhsim.output.report.DETERMINISTIC_MARK`` (§)."""
    values = np.asarray(values, dtype=float)
    return comparable(row) and values.size > 1 and bool(np.all(values == values[0]))


def target_met(indicator_value: pd.Series | float, row: Any) -> bool | None:
    """Whether a target (a row of ``load_targets``/``reference_paths_2035``, e.g. from ``itertuples``) is met.

    level, min_level, reference_path: value in the target year ≥ target value. growth: CAGR from
    ``base_year`` to ``year`` ≥ target rate (needs the yearly path). ``None`` when not available (NaN).
    """
    return meets(achieved(indicator_value, row), row)
