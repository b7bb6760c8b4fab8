"""Observed values 实际值: the one source of the observed 2015–2020 points that charts draw and of the observed
2020 column of the summary tables, for the province and each prefecture alike.

Sources, by precedence where two give the same year:
1. the province's statistics in ``qhsim/data``: the macro.toml anchor series of the same name, R&D intensity as
   total R&D / GDP, and ``value_2020`` of indicators.toml (they carry the most decimals);
2. the single-year targets of ``calibration/targets.toml``: what the model is calibrated and checked against, in
   the model's definitions (the yearbook paths 2016–2020, the end-2018 waypoint, Haidong's 2020 values);
3. a prefecture's ``prefecture_2020`` in indicators.toml (the plan's own definitions, e.g. Haidong's 10 platforms
   where the calibration re-counts 12 in the model's).
"""

from __future__ import annotations

from functools import cache

from qhsim import data
from qhsim.errors import warn
from qhsim.results import PROVINCE

YEARS = (2015, 2020)  # first and last year of observed values


@cache
def calibration_observations() -> dict[tuple[str, str], dict[int, float]]:
    """``{(indicator, region): {year: value}}`` of the calibration targets with one stated year; empty, with one
    warning, when ``calibration/targets.toml`` is not there (a package installed without the repository). Read as
    plain TOML (``qhsim.calibrated.target_rows``): the output layer does not import ``qhsim.calibration``."""
    from qhsim.calibrated import TARGETS_FILE, target_rows

    if not TARGETS_FILE.is_file():
        warn(f"{TARGETS_FILE}: missing; charts and tables show no observed values from the calibration targets")
        return {}
    points: dict[tuple[str, str], dict[int, float]] = {}
    for row in target_rows():
        if isinstance(row.get("year"), int):  # candidate years (a figure of uncertain date) are not shown
            points.setdefault((row["indicator"], row["region"]), {})[row["year"]] = float(row["value"])
    return points


def observed_points(key: str, region: str = PROVINCE) -> dict[int, float]:
    """Observed values of indicator ``key`` in ``region`` (the province or a prefecture id), ``{year: value}``
    for 2015–2020 in year order; empty when no source has one."""
    spec = data.load("indicators")[key]
    points: dict[int, float] = {}
    if region != PROVINCE and region in spec.get("prefecture_2020", {}):
        points[2020] = float(spec["prefecture_2020"][region]["value"])
    points |= calibration_observations().get((key, region), {})
    if region == PROVINCE:
        if key in data.load("macro"):
            points |= data.observed(key)
        if key == "rd_intensity":
            rd, gdp = data.observed("total_rd"), data.observed("gdp")
            points |= {year: 100.0 * rd[year] / gdp[year] for year in rd.keys() & gdp.keys()}
        if "value_2020" in spec:
            points[2020] = float(spec["value_2020"]["value"])
    first, last = YEARS
    return {year: value for year, value in sorted(points.items()) if first <= year <= last}


def observed_indicators(region: str) -> set[str]:
    """Indicators with at least one observed value in ``region``."""
    return {key for key in data.load("indicators") if observed_points(key, region)}
