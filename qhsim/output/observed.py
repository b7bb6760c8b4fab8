"""Observed values 实际值: the one source of the observed 2015–2020 points that charts draw and of the observed
2020 column of the summary tables, for the province and each prefecture alike.

Sources, by precedence where two give the same year:
1. the province's statistics in ``qhsim/data``: the macro.toml anchor series of the same name, R&D intensity as
   total R&D / GDP, and ``value_2020`` of indicators.toml (they carry the most decimals);
2. the single-year targets of ``calibration/targets.toml``: what the model is calibrated and checked against, in
   the model's definitions (the yearbook paths 2016–2020, the end-2018 waypoint, Haidong's 2020 values); not the
   targets of group ``micro_evidence`` (the R&D exit rate, fitted to studies of firms elsewhere: no observation of
   Qinghai, so charts draw its evidence range instead, ``charts.plot_evidence``);
3. a prefecture's ``prefecture_2020`` in indicators.toml (the plan's own definitions, e.g. Haidong's 10 platforms
   where the calibration re-counts 12 in the model's).

``observed_source`` says where the 2020 value comes from, by the same precedence: a short bilingual note (the
``note_zh`` / ``note_en`` of ``value_2020``), the citation and, where the value is a restatement, the figure the plan
prints and the arithmetic (``plan_value`` and ``restated`` of ``value_2020``; a prefecture's calibration target that
re-counts its plan's ``prefecture_2020``). Tables, the workbook, the report and the dashboard show it beside the value.

An observed value on another definition than the model's (``comparable = false`` with ``note_zh`` / ``note_en`` in its
``value_2020`` or ``prefecture_2020`` entry, e.g. Haidong's 1,000 S&T talents, a broader group than the model's
st_talent) is not a measure of the model's fit: ``comparable_points`` leaves it out and ``incomparable_points`` gives
it, so that charts draw it apart (hollow, "观测值口径不同 observed on another definition"); tables mark it with
``OTHER_DEFINITION_MARK`` and explain it below (``ObservedSource.note``). Calibration targets are in the model's
definition by construction.

A macro.toml value that the data mark as an assumption (its ``assumed`` years, ``assumed_years``: the enterprise
counts, the 2015 split of R&D between firms and public bodies) is not an observation: ``observed_points`` and every table's observed column leave
it out, and ``assumed_points`` gives it, so that charts draw it apart (hollow square, "假设值（非观测值） assumed, not
observed"): the model starts from it, and a path that passes through it agrees with an assumption, not with data.

``out_of_sample_skill`` reads how the shipped out-of-sample check (``qhsim calibrate --oos``) did: the share of
held-out observed values inside the 90% predictive band and the median error, which every ensemble's report quotes
below its bands (``qhsim.output.report.band_caveat``); ``persistence_sensitivity`` what the long-run projection owes to
how rarely firms stop R&D (``benchmarks/persistence_whatif.py``), which every run's outputs note
(``qhsim.output.report.persistence_note``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from qhsim import data
from qhsim.calibrated import CALIBRATION_DIR, TARGETS_FILE, target_rows
from qhsim.errors import warn
from qhsim.output.lang import in_language
from qhsim.output.numbers import format_value
from qhsim.results import PROVINCE

YEARS = (2015, 2020)  # first and last year of observed values
YEAR = YEARS[1]  # the year whose source the tables show
RESTATED_MARK = "*"  # after an observed value that is not the figure the plan prints
OTHER_DEFINITION_MARK = "†"  # after an observed value on another definition than the model's (not comparable)
# what a point of ``_points`` is: an observation in the model's definition, one on another definition, an assumption
OBSERVED, OTHER_DEFINITION, ASSUMED = "observed", "other_definition", "assumed"
EVIDENCE_GROUP = "micro_evidence"  # calibration targets from micro evidence elsewhere, not observations


@dataclass(frozen=True)
class ObservedSource:
    """Where an observed 2020 value comes from: a short note in Chinese and English, the citation (file and
    line), and for a restated value the figure the plan prints (``printed``) and the arithmetic (``detail``)."""

    zh: str
    en: str
    reference: str
    printed: float | None = None
    detail: tuple[str, str] | None = None
    comparable: bool = True  # False: on another definition than the model's (``detail`` says how it differs)

    @property
    def restated(self) -> bool:
        return self.printed is not None

    @property
    def mark(self) -> str:
        """What tables put after the value: ``OTHER_DEFINITION_MARK``, ``RESTATED_MARK`` or nothing."""
        return OTHER_DEFINITION_MARK if not self.comparable else RESTATED_MARK if self.restated else ""

    def label(self, lang: str = "both") -> str:
        """The short note, e.g. ``十四五科技创新规划指标表 14th FYP S&T plan, indicator table``; for a restated value
        with the printed figure, e.g. ``按2020年人口普查人口重算（规划印3.04） restated on the 2020 census population
        (the plan prints 3.04)``."""
        zh, en = self.zh, self.en
        if self.printed is not None:
            zh, en = f"{zh}（规划印{_number(self.printed)}）", f"{en} (the plan prints {_number(self.printed)})"
        return in_language(zh, en, lang)

    def note(self, lang: str = "both") -> str | None:
        """The restatement in words and numbers, or how another definition differs from the model's (None when the
        value is the printed figure in the model's definition), e.g. ``3.12 = 1,848 valid invention patents / 592.4万
        (2020 census); the plan prints 3.04 (...)``."""
        if self.detail is None:
            return None
        zh, en = self.detail
        return in_language(zh, en, lang)


@cache
def calibration_targets() -> dict[tuple[str, str], dict[int, dict[str, Any]]]:
    """``{(indicator, region): {year: target row}}`` of the calibration targets with one stated year, but those of
    group ``EVIDENCE_GROUP``; empty, with one warning, when ``calibration/targets.toml`` is not there (a package
    installed without the repository). Read as plain TOML (``qhsim.calibrated.target_rows``): the output layer does
    not import ``qhsim.calibration``."""
    if not TARGETS_FILE.is_file():
        warn(f"{TARGETS_FILE}: missing; charts and tables show no observed values from the calibration targets")
        return {}
    rows: dict[tuple[str, str], dict[int, dict[str, Any]]] = {}
    for row in target_rows():
        # candidate years (a figure of uncertain date) are not shown, nor a moment of micro evidence from elsewhere
        if isinstance(row.get("year"), int) and row.get("group") != EVIDENCE_GROUP:
            rows.setdefault((row["indicator"], row["region"]), {})[row["year"]] = row
    return rows


def assumed_years(series: str) -> set[int]:
    """The years of macro.toml ``series`` whose value is an assumption, not a statistic (its ``assumed`` list: the
    enterprise counts, the employed persons, the 2015 split of R&D between business and the public sector)."""
    return {int(year) for year in data.load("macro")[series].get("assumed", [])}


def _points(key: str, region: str) -> dict[int, tuple[float, str]]:
    """``{year: (value, kind)}`` of every point a chart may draw: ``OBSERVED``, ``OTHER_DEFINITION`` (``comparable =
    false`` in the data entry it comes from) or ``ASSUMED`` (``assumed_years``; an assumption never replaces a value
    another source observed)."""
    spec = data.load("indicators")[key]
    points: dict[int, tuple[float, str]] = {}
    if region != PROVINCE and region in spec.get("prefecture_2020", {}):
        entry = spec["prefecture_2020"][region]
        points[2020] = (float(entry["value"]), OBSERVED if entry.get("comparable", True) else OTHER_DEFINITION)
    points |= {year: (float(row["value"]), OBSERVED)
               for year, row in calibration_targets().get((key, region), {}).items()}
    if region == PROVINCE:
        macro: dict[int, float] = {}
        assumed: set[int] = set()
        if key in data.load("macro"):
            macro, assumed = data.observed(key), assumed_years(key)
        if key == "rd_intensity":
            rd, gdp = data.observed("total_rd"), data.observed("gdp")
            macro = {year: 100.0 * rd[year] / gdp[year] for year in rd.keys() & gdp.keys()}
            assumed = assumed_years("total_rd") | assumed_years("gdp")
        points |= {year: (value, ASSUMED if year in assumed else OBSERVED) for year, value in macro.items()
                   if year not in assumed or year not in points}
        if "value_2020" in spec:
            v = spec["value_2020"]
            points[2020] = (float(v["value"]), OBSERVED if v.get("comparable", True) else OTHER_DEFINITION)
    first, last = YEARS
    return {year: point for year, point in sorted(points.items()) if first <= year <= last}


def _of_kind(key: str, region: str, *kinds: str) -> dict[int, float]:
    return {year: value for year, (value, kind) in _points(key, region).items() if kind in kinds}


def observed_points(key: str, region: str = PROVINCE) -> dict[int, float]:
    """Observed values of indicator ``key`` in ``region`` (the province or a prefecture id), ``{year: value}``
    for 2015–2020 in year order; empty when no source has one. Includes values on another definition than the
    model's (``incomparable_points``), never an assumption (``assumed_points``)."""
    return _of_kind(key, region, OBSERVED, OTHER_DEFINITION)


def comparable_points(key: str, region: str = PROVINCE) -> dict[int, float]:
    """The ``observed_points`` in the model's definition: what a simulated path can be read against."""
    return _of_kind(key, region, OBSERVED)


def incomparable_points(key: str, region: str = PROVINCE) -> dict[int, float]:
    """The ``observed_points`` on another definition than the model's (``comparable = false`` in indicators.toml)."""
    return _of_kind(key, region, OTHER_DEFINITION)


def assumed_points(key: str, region: str = PROVINCE) -> dict[int, float]:
    """The values of ``key`` that macro.toml assumes rather than observes (``assumed_years``), ``{year: value}``:
    not in ``observed_points``; charts draw them apart."""
    return _of_kind(key, region, ASSUMED)


def observed_indicators(region: str) -> set[str]:
    """Indicators with at least one observed value in ``region``."""
    return {key for key in data.load("indicators") if observed_points(key, region)}


def _number(x: float) -> str:
    """A data figure as printed: thousands separators, no trailing zeros (3.04, 1,848, 592.4)."""
    return f"{x:,.2f}".rstrip("0").rstrip(".") if x != round(x) else f"{x:,.0f}"


def _restated_detail(spec: dict[str, Any], shown: str) -> tuple[str, str]:
    """The arithmetic of a restated ``value_2020``: numerator / the macro.toml series' 2020 value (in 万, so per
    10k), and the plan's figure with the denominator it implies (numerator / plan_value)."""
    v = spec["value_2020"]
    plan, r = _number(v["plan_value"]), v["restated"]
    count = _number(r["numerator"])
    denominator = data.observed(r["denominator"])[YEAR]
    implied = _number(round(r["numerator"] / v["plan_value"], 1))
    zh = (f"{shown} = {count}{r['numerator_zh']} ÷ {_number(denominator)}万人（{r['basis_zh']}）；"
          f"规划表印{plan}（= {count} ÷ {implied}万人，{r['plan_basis_zh']}）")
    million = [f"{x / 100:.3f}".rstrip("0").rstrip(".") for x in (denominator, r["numerator"] / v["plan_value"])]
    en = (f"{shown} = {count} {r['numerator_en']} / {million[0]} million ({r['basis_en']}); "
          f"the plan prints {plan} (= {count} / {million[1]} million, {r['plan_basis_en']})")
    return zh, en


def observed_source(key: str, region: str = PROVINCE) -> ObservedSource | None:
    """Where ``observed_points(key, region)[2020]`` comes from (same precedence); None when there is no 2020 value.
    A restated value needs its explanation in the data: ``plan_value`` with ``restated`` in ``value_2020``, or the
    ``note_zh`` / ``note_en`` of a ``prefecture_2020`` entry that the calibration target re-counts."""
    spec = data.load("indicators")[key]
    if region == PROVINCE:
        if "value_2020" in spec:
            v = spec["value_2020"]
            if not v.get("comparable", True):
                return _other_definition(v["note_zh"], v["note_en"], v, format_value(v["value"], key))
            if "plan_value" not in v:
                return ObservedSource(v["note_zh"], v["note_en"], v["source"])
            return ObservedSource(v["note_zh"], v["note_en"], v["source"], float(v["plan_value"]),
                                  _restated_detail(spec, format_value(v["value"], key)))
        macro = data.load("macro").get(key)
        if macro is not None and YEAR in data.observed(key) and YEAR not in assumed_years(key):
            return ObservedSource("统计数据", "statistics", f"macro.toml: {macro['source']}")
        if key == "rd_intensity" and YEAR in data.observed("total_rd") and YEAR in data.observed("gdp"):
            return ObservedSource("研发经费÷地区生产总值", "R&D / GDP", "macro.toml total_rd, gdp")
    target = calibration_targets().get((key, region), {}).get(YEAR)
    plan = spec.get("prefecture_2020", {}).get(region) if region != PROVINCE else None
    if target is None and plan is None:
        return None
    if plan is not None:
        pref = next(p for p in data.prefectures() if p.id == region)
        if target is None and not plan.get("comparable", True):
            return _other_definition(f"{pref.zh}规划", f"{pref.en} plan", plan, format_value(plan["value"], key))
        if target is None or float(target["value"]) == float(plan["value"]):
            return ObservedSource(f"{pref.zh}规划", f"{pref.en} plan", plan["source"])
        # the calibration re-counts the plan's figure in the model's definition; prefecture_2020's note says how
        shown, printed = format_value(target["value"], key), format_value(plan["value"], key)
        return ObservedSource("按模型口径重算", "restated in the model's definition", target["source"],
                              float(plan["value"]), (f"{shown} = {plan['note_zh']}；{pref.zh}规划印{printed}",
                                                     f"{shown} = {plan['note_en']}; {pref.en}'s plan prints {printed}"))
    return ObservedSource("校准目标", "calibration target", target["source"])


def _other_definition(zh: str, en: str, entry: dict[str, Any], shown: str) -> ObservedSource:
    """The source of a value on another definition than the model's: its ``note_zh`` / ``note_en`` say how."""
    return ObservedSource(f"{zh}，口径不同", f"{en}, another definition", entry["source"],
                          detail=(f"{shown}：{entry['note_zh']}", f"{shown}: {entry['note_en']}"), comparable=False)


OOS_PREDICTION = CALIBRATION_DIR / "oos" / "oos_prediction.csv"  # written by `qhsim calibrate --oos`


@dataclass(frozen=True)
class OutOfSampleSkill:
    """How the shipped out-of-sample check's predictions did (``calibration/oos/oos_prediction.csv``): the refit on
    information up to ``first_year - 1`` predicting the held-out values of ``first_year``..``last_year``."""

    targets: int  # held-out values the model predicted
    coverage: float  # share of them inside the 90% predictive band
    median_error: float  # median |relative error| of the predictive median
    first_year: int
    last_year: int
    below: int  # held-out values below their band (the model predicted too high)
    above: int  # and above it (too low)


def out_of_sample_skill(path: Path | None = None) -> OutOfSampleSkill | None:
    """The out-of-sample check's coverage and error, read from its table (default ``OOS_PREDICTION``); ``None`` when
    the table is missing or holds no prediction (a package installed without the repository)."""
    import pandas as pd

    try:
        table = pd.read_csv(path if path is not None else OOS_PREDICTION)
        rows = table[table["status"] == "predicted"]
        in_band = rows["in_band"].astype(str).str.lower() == "true"
        errors = rows["rel_error"].astype(float).abs()
        years = rows["year"].astype(int)
        observed = rows["observed"].astype(float)
        below = int((observed < rows["p05"].astype(float)).sum())
        above = int((observed > rows["p95"].astype(float)).sum())
    except (OSError, KeyError, ValueError, pd.errors.ParserError):
        return None
    if rows.empty:
        return None
    return OutOfSampleSkill(len(rows), float(in_band.mean()), float(errors.median()), int(years.min()), int(years.max()),
                            below, above)


PERSISTENCE_WHATIF = CALIBRATION_DIR.parent / "docs" / "persistence_whatif.csv"  # benchmarks/persistence_whatif.py


@dataclass(frozen=True)
class PersistenceSensitivity:
    """What the long-run projection owes to how rarely firms stop R&D (``docs/persistence_whatif.csv``): the shipped
    point's R&D exit rate of the above-scale industrial firms and its R&D intensity in ``year``, beside the less
    persistent alternatives' (their level parameters re-fitted to 2015-2020), the exit rate's evidence range, and
    each point's distance to the 2015-2020 targets (NaN where the table has none)."""

    year: int
    exit_rate: float
    rd_intensity: float
    other_exit_rates: tuple[float, ...]
    other_rd_intensity: tuple[float, ...]
    evidence: tuple[float, float]
    distance: float = math.nan
    other_distances: tuple[float, ...] = ()


def persistence_sensitivity(path: Path | None = None) -> PersistenceSensitivity | None:
    """Read the persistence what-if's table (default ``PERSISTENCE_WHATIF``) at its last year; ``None`` when it is
    missing or does not hold the shipped point and at least one alternative."""
    import pandas as pd

    try:
        table = pd.read_csv(path if path is not None else PERSISTENCE_WHATIF)
        rows = table[table["indicator"] == "rd_intensity"]
        year = int(rows["year"].max())
        rows = rows[rows["year"] == year]
        shipped = rows["shipped"].astype(str).str.lower() == "true"
        ours, others = rows[shipped], rows[~shipped].sort_values("exit_rate")
        if len(ours) != 1 or others.empty:
            return None
        distance = rows["distance"].astype(float) if "distance" in rows else pd.Series(math.nan, index=rows.index)
        return PersistenceSensitivity(
            year, float(ours["exit_rate"].iloc[0]), float(ours["mean"].iloc[0]),
            tuple(others["exit_rate"].astype(float)), tuple(others["mean"].astype(float)),
            (float(ours["exit_low"].iloc[0]), float(ours["exit_high"].iloc[0])),
            float(distance[ours.index].iloc[0]), tuple(distance[others.index]),
        )
    except (OSError, KeyError, ValueError, pd.errors.ParserError):
        return None
