"""Macro closure 宏观闭合 (MODEL.md §4 step 11): GDP, population, employment and enterprise count follow observed
anchors (qhsim/data/macro.toml), geometric interpolation between them, and the scenario's growth rates after the
last anchor. Public R&D is not a macro path: the universities' and institutes' budgets produce it (qhsim.knowledge).
"""

from __future__ import annotations

from qhsim import data
from qhsim.config import Scenario, Schedule

WAGE_REFERENCE_YEAR = 2020  # rd_cost_per_fte (behaviour.toml) is a 2020 value

SERIES_GROWTH = {
    "gdp": "gdp_growth",
    "population": "population_growth",
    "employment": "employment_growth",
    "enterprises": "enterprise_growth",
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
    """Every macro series for the scenario's horizon, and at least to 2020 (the wage index's reference year), so
    that a run's path does not depend on where it stops."""
    first, last = scenario.run.start_year, max(scenario.run.end_year, WAGE_REFERENCE_YEAR)
    return {
        series: path(data.observed(series), getattr(scenario.macro, growth), first, last)
        for series, growth in SERIES_GROWTH.items()
    }



def wage_index(macro: dict[str, dict[int, float]], year: int) -> float:
    """Nominal GDP per employed person relative to 2020: the path of wages and of the cost of an R&D person."""
    g, e, ref = macro["gdp"], macro["employment"], WAGE_REFERENCE_YEAR
    return (g[year] / e[year]) / (g[ref] / e[ref])


def cost_per_fte(macro: dict[str, dict[int, float]], year: int, b) -> float:
    """万元 per R&D person (head count) in firms in ``year``: behaviour.toml ``rd_cost_per_fte`` (the 2020 value) x the
    wage index, and before 2020 lower by ``rd_cost_catchup`` a year (Qinghai's R&D cost per person caught up with the
    nation's faster than its wages grew; from 2020 on it moves with them). The yearbook's cost per full-time
    equivalent is ``headcount_per_fte`` (talent.toml) times it. The one cost behind firms' R&D staff, the HTE S&T-staff
    criterion and the talent system's staff targets; institutions pay ``public_cost_ratio`` times it."""
    catchup = (1.0 + b.rd_cost_catchup) ** (min(year, WAGE_REFERENCE_YEAR) - WAGE_REFERENCE_YEAR)
    return b.rd_cost_per_fte * wage_index(macro, year) * catchup
