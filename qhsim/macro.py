"""Macro closure 宏观闭合 (MODEL.md §4 step 11): GDP, population, employment, enterprise count and the
public-R&D stand-in follow observed anchors (qhsim/data/macro.toml), geometric interpolation between
them, and the scenario's growth rates after the last anchor.
"""

from __future__ import annotations

from qhsim import data
from qhsim.config import Scenario, Schedule

SERIES_GROWTH = {
    "gdp": "gdp_growth",
    "population": "population_growth",
    "employment": "employment_growth",
    "enterprises": "enterprise_growth",
    "public_rd": "public_rd_growth",
}


def path(anchors: dict[int, float], growth: Schedule, first: int, last: int) -> dict[int, float]:
    """Yearly values from ``first`` to ``last``: anchors, geometric interpolation, then scenario growth."""
    years = sorted(anchors)
    out: dict[int, float] = {}
    for year in range(first, last + 1):
        if year in anchors:
            out[year] = anchors[year]
        elif year < years[0]:
            raise ValueError(f"no anchor before {year}")
        elif year < years[-1]:
            lo = max(y for y in years if y < year)
            hi = min(y for y in years if y > year)
            out[year] = anchors[lo] * (anchors[hi] / anchors[lo]) ** ((year - lo) / (hi - lo))
        else:
            out[year] = out[year - 1] * (1.0 + growth.at(year))
    return out


def macro_paths(scenario: Scenario) -> dict[str, dict[int, float]]:
    """Every macro series for the scenario's horizon."""
    first, last = scenario.run.start_year, scenario.run.end_year
    return {
        series: path(data.observed(series), getattr(scenario.macro, growth), first, last)
        for series, growth in SERIES_GROWTH.items()
    }
