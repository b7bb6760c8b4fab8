"""Comparing designs 方案比较: a base and any number of designs, with uncertainty and cost-effectiveness.

Every design runs with the same parameter draws x seeds as the base (common random numbers); each
design's change is taken run by run against the base run with the same draw and seed, and intervals are
the 5% and 95% quantiles of those paired changes (90% intervals over draws x seeds). With ``draws`` each run
weighs what its parameter draw stands for in the posterior (``Calibration.selection``); every mean, quantile,
probability and rank statistic below is weighted (``qhsim.stats``).

For each design, at 2025/2027/2030/2035 and over one common window (from the first year any design
differs from the base to the last year, the same for every design):

- indicator changes against the base (``changes``);
- extra public cost by programme and by tax expenditure, summed over the window (``costs``, 亿元);
- business R&D per public yuan (``leverage``; ``rd_per_yuan`` below is the one definition, also used by
  ``qhsim.precision`` and ``qhsim.calibration.responses``): extra business R&D over the window / extra public
  cost, in total and for each instrument whose cost changed, up or down (the design's whole extra R&D over that
  instrument's extra cost — the same as the total for a one-instrument design; none for a cost the design moves only
  as a side effect, nor for the instruments of a design that sets several, ``mark_side_effects``); the point value
  is the ratio of means, the interval the 5%/95% quantiles of the per-run ratios; over a cost that fell (a saving)
  there is no ratio (blank, flagged ``unstable``);
- P(target met) for each plan target and 2035 reference path (``targets``);
- P(design ranks first) and pairwise P(A beats B) on the ranking metric (``ranking``, ``pairwise``), without the
  designs identical to the base in every run (``identical``: ``identical_designs``);
- the same changes, costs and R&D per public yuan for each prefecture (``regions``): its indicators, and the
  spending, tax expenditure and R&D located there (partial: talent and knowledge move between prefectures).

``budget_neutral=True`` scales each design's budget levers (its changes to ``policy.*.budget`` schedules,
from their first changed year) so that its extra public cost over the window matches that of the first
design; designs are then compared on the same money. Designs without a budget change cannot be scaled
and are flagged.
"""

from __future__ import annotations

import difflib
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from qhsim import data, stats
from qhsim.config import Scenario, read_toml, warn_horizon
from qhsim.config.schedule import YEAR_RANGE, Schedule
from qhsim.errors import InputError
from qhsim.experiments.designs import Design, design_from_file, expand, parameter_draws
from qhsim.experiments.engine import Engine, Progress
from qhsim.experiments.spec import Override
from qhsim.experiments.store import Store, collect_runs
from qhsim.results import (FISCAL_PREFIXES, PROVINCE, RANK_DEFAULT, RANK_TOTAL, REGIONAL_TABLES, UNSPENT_SHARE,
                           design_description, lower_is_better, ratio_unstable, several_instruments,
                           with_evidence)
from qhsim.stats import WEIGHT
from qhsim.targets import achieved, deterministic_verdict, load_targets, meets, reference_paths_2035
from qhsim.units import WAN_PER_YI  # fiscal indicators are in 万元, R&D in 亿元

COMPARE_YEARS = (2025, 2027, 2030, 2035)
RD = "business_rd"
PUBLIC_RD = "public_rd"  # universities' and institutes' R&D: with business R&D, the R&D intensity indicator's total
MAX_DESIGNS = 12
BUDGET_TOLERANCE = 0.02  # relative gap in extra cost accepted by budget-neutral scaling
BUDGET_ITERATIONS = 3
RUN_KEYS = ["draw", "seed"]


def fiscal_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.startswith(FISCAL_PREFIXES)]


# ---------------------------------------------------------------------------------------------------
# business R&D per public yuan (leverage): the one definition, used by compare, qhsim.precision and
# qhsim.calibration.responses


def rd_per_yuan(extra_rd: float | np.ndarray, extra_cost: float | np.ndarray) -> float | np.ndarray:
    """Business R&D per public yuan 每元公共成本带动企业研发 ("leverage"): the extra business R&D of a design over
    its base under common random numbers, summed over the window, divided by the extra public cost (programme
    spending plus tax expenditure, every ``spend_*`` and ``tax_expenditure_*`` column) summed over the same
    window, both in 亿元. The window runs from the first year the design differs from its base to the end of the
    run (before it the two runs are identical, so it is the sum over the whole run). NaN where the extra cost
    is not positive (a design that saves money, or costs nothing, has no R&D per extra yuan)."""
    rd, cost = np.asarray(extra_rd, dtype=float), np.asarray(extra_cost, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(cost > 0, rd / cost, np.nan)
    return float(out) if out.ndim == 0 else out


def leverage(base: pd.DataFrame, variant: pd.DataFrame) -> dict[str, float]:
    """One paired run (indicator tables of the base and the design with the same seed; the province rows are
    used): extra business R&D and extra public cost summed over the window (亿元), its first year, and
    ``rd_per_yuan`` of the two; ``cost_items``: the extra public cost by item (each ``spend_*`` and
    ``tax_expenditure_*`` column the cost sums, over the same window; they add up to ``extra_public_cost``); where
    the tables have public R&D, also the extra public R&D (universities' and institutes') and total R&D per public
    yuan (``total_leverage``: business + public, what R&D intensity counts)."""
    a, b = (t[t["region"] == PROVINCE].set_index("year") if "region" in t.columns else t for t in (base, variant))
    fiscal = fiscal_columns(a)
    d_rd = b[RD] - a[RD]
    d_cost = (b[fiscal].sum(axis=1) - a[fiscal].sum(axis=1)) / WAN_PER_YI
    d_items = (b[fiscal] - a[fiscal]) / WAN_PER_YI
    indicators = data.load("indicators")
    cols = [c for c in a.columns if c in indicators and c in b.columns]
    x, y = a[cols], b[cols]
    differs = ((x != y) & ~(x.isna() & y.isna())).any(axis=1)
    years = a.index[differs]
    first = int(years.min()) if len(years) else int(a.index.max())
    extra_rd, extra_cost = float(d_rd[d_rd.index >= first].sum()), float(d_cost[d_cost.index >= first].sum())
    out = {"first_year": first, "extra_business_rd": extra_rd, "extra_public_cost": extra_cost,
           "leverage": rd_per_yuan(extra_rd, extra_cost),
           "cost_items": {c: float(v) for c, v in d_items[d_items.index >= first].sum().items()}}
    if PUBLIC_RD in a.columns and PUBLIC_RD in b.columns:
        d_public = b[PUBLIC_RD] - a[PUBLIC_RD]
        out["extra_public_rd"] = float(d_public[d_public.index >= first].sum())
        out["total_leverage"] = rd_per_yuan(extra_rd + out["extra_public_rd"], extra_cost)
    return out


@dataclass
class ComparisonResult:
    """What ``compare`` returns: tidy tables (one row per design x item) plus the stacked runs.

    - ``runs``: every run (wide: labels design/point/draw/seed/budget_scale, year, region, indicators)
    - ``changes``: design, indicator, label, period ("2025", ..., "window"), base, design, mean, p05,
      median, p95 (the paired change design − base)
    - ``costs``: design, item (a spend_*/tax_expenditure_* column or "total"), label, kind
      ("programme" | "tax_expenditure" | "total"), mean/p05/median/p95 of the extra cost over the window (亿元)
    - ``leverage``: design, instrument ("total" or a fiscal column), extra_rd, extra_cost (亿元, means, with
      their _p05/_p95), rd_per_yuan (ratio of means), p05, median, p95 (per-run ratios; all blank over a cost
      that fell, ``ratio_quantiles``), one row per instrument whose cost changed either way; on the "total" rows also
      extra_public_rd (universities' and institutes' R&D), extra_total_rd (business + public, with its
      _p05/_p95 over runs) and total_rd_per_yuan (business + public R&D per public yuan, what the R&D intensity
      indicator counts) with total_p05, total_p95; then gross_cost (the money moved: each instrument's extra cost
      without its sign, summed; mean over runs), unstable (``ratio_unstable``: R&D per yuan over this cost not to be
      read; False on a row left without a ratio for another reason, below) and design_sets_instrument
      (``mark_side_effects``): an instrument row's R&D per yuan is left empty, with ``unstable`` False, where the cost
      moved as a side effect (design_sets_instrument False) and where the design sets several instruments
      (``several_instruments``: the extra R&D is theirs together)
    - ``targets``: design, indicator, region, year, kind, label, target, p_met, deterministic (every run the same
      value: P(met) is a verdict, ``deterministic_verdict``); p_met blank for a target on another definition
      (not judged)
    - ``ranking``: design, description (``design_description``), metric, median, p05, p95, p_first, mean_rank, rank,
      unstable (``annotate_ranking``: the "total" leverage row's flag on a ranking by R&D per yuan)
    - ``pairwise``: square frame, P(row design beats column design)
    - ``budget``: budget-neutral scaling per design (None without budget_neutral)
    - ``regions``: "changes", "costs" and "leverage" of each prefecture (as above, with a ``region`` column after
      design; over the same window): its indicators' changes, and the spending, tax expenditure and R&D located
      there (``stored_table`` writes them below the province's rows in changes.csv and leverage.csv)
    - ``identical``: the designs identical to the base in every run (``identical_designs``), which the ranking and
      the pairwise table leave out
    """

    base: str
    designs: list[str]
    window: tuple[int, int]
    years: list[int]
    runs: pd.DataFrame
    changes: pd.DataFrame
    costs: pd.DataFrame
    leverage: pd.DataFrame
    targets: pd.DataFrame
    ranking: pd.DataFrame
    pairwise: pd.DataFrame
    budget: pd.DataFrame | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    store: Store | None = None  # the store the runs are in (``out``); ``report.write_comparison`` completes it
    regions: dict[str, pd.DataFrame] = field(default_factory=dict)  # each prefecture's changes, costs, leverage
    identical: list[str] = field(default_factory=list)  # designs identical to the base in every run (not ranked)

    @property
    def runs_per_design(self) -> int:
        """Runs behind each design's statistics: seeds x parameter draws (1 draw: the point estimate)."""
        return len(self.meta["seeds"]) * (self.meta.get("draws") or 1)


def ranking_metric(result: Any) -> str:
    """The metric a comparison was ranked by, as its ranking table records it (``RANK_DEFAULT``, business R&D per
    public yuan, when there is no ranking): the one source for the headings and charts that follow the ranking (the
    dashboard's, ``cost_effectiveness.png``). ``result``: anything with a ``ranking`` table (a ``ComparisonResult``)."""
    return str(result.ranking["metric"].iloc[0]) if len(result.ranking) else RANK_DEFAULT


def acts_on(result: Any, design: str, instrument: str) -> bool:
    """Whether ``design`` changes a ``[policy.*]`` section that sets the cost ``instrument`` (its ``policy`` in
    indicators.toml), against the comparison's base: otherwise that cost moves only as a side effect of the design
    (the HTE 15% rate's tax expenditure when a super-deduction certifies more firms), and the design's extra R&D
    over it is no instrument's R&D per yuan (``sets_instrument`` of the comparison's scenarios)."""
    return sets_instrument(result.meta.get("scenarios", {}), result.base, design, instrument)


def sets_instrument(scenarios: dict[str, Any], base: str, design: str, instrument: str) -> bool:
    """``acts_on`` from the resolved scenario tables by design name (a comparison's ``meta["scenarios"]``)."""
    mine, theirs = (scenarios.get(name, {}).get("policy", {}) for name in (design, base))
    sections = data.load("indicators").get(instrument, {}).get("policy", [])
    return any(in_force(mine.get(section)) != in_force(theirs.get(section)) for section in sections)


def in_force(setting: Any) -> Any:
    """A resolved scenario's setting (a section's table, as ``model_dump`` writes it) as what it sets: each year table
    (a schedule: ``{"2000": 15000, "2026": 15000}``, as a sweep's lever writes a value from its year) as its first
    value and the changes after it, a table that never changes as its value, so that two forms of the same schedule
    compare equal (a sweep point that keeps the base's grant budget does not set the grants)."""
    if not isinstance(setting, dict):
        return setting
    if not setting or not all(str(k).isdigit() for k in setting):
        return {k: in_force(v) for k, v in setting.items()}
    points = sorted((int(k), in_force(v)) for k, v in setting.items())
    changes = tuple((year, v) for (_, before), (year, v) in zip(points, points[1:]) if v != before)
    return (points[0][1], changes) if changes else points[0][1]


LEVERAGE_RATIOS = ("rd_per_yuan", "p05", "median", "p95")  # an instrument row's R&D per yuan, blank where it has none


def mark_side_effects(leverage: pd.DataFrame, scenarios: dict[str, Any], base: str) -> pd.DataFrame:
    """``leverage`` with ``design_sets_instrument`` (``sets_instrument``; empty on the "total" rows), and no R&D per
    yuan on an instrument row whose ratio would not be that instrument's: where the design does not set the
    instrument (its cost moved as a side effect: comparison.txt shows "连带 side effect") and on every instrument row of
    a design that sets several (``several_instruments``: "组合 combined"), so that leverage.csv offers no ratio an
    analyst could read as the instrument's. Those rows' ``unstable`` is False: the rule (``ratio_unstable``) judges
    a ratio, and they have none for another reason, which their mark says."""
    if leverage.empty:
        return leverage
    sets = [None if r.instrument == "total" else sets_instrument(scenarios, base, r.design, r.instrument)
            for r in leverage.itertuples()]
    out = leverage.assign(design_sets_instrument=pd.array(sets, dtype="boolean"))
    instrument = (out["instrument"] != "total").to_numpy(bool)
    side = out["design_sets_instrument"].eq(False).fillna(False).to_numpy(bool)
    combined = instrument & out["design"].isin(several_instruments(out)).to_numpy(bool)
    out.loc[side | combined, list(LEVERAGE_RATIOS)] = np.nan
    if "unstable" in out:
        out.loc[side | combined, "unstable"] = False
    return out


# ---------------------------------------------------------------------------------------------------
# analysis of stacked runs


def first_change(base: Scenario, design: Scenario) -> int | None:
    """The first simulated year in which ``design``'s settings differ from ``base``'s (a schedule's value in force, any
    other policy or macro setting, a behavioural parameter or the 2015 population, the last three from the start year);
    None where they never differ. ``compare`` refuses a run that ends before every design's."""
    start = base.run.start_year
    if base.parameters != design.parameters or base.run.population_seed != design.run.population_seed:
        return start
    firsts = []
    for section in ("macro", "policy"):
        a, b = getattr(base, section), getattr(design, section)
        models = [(getattr(a, n), getattr(b, n)) for n in type(a).model_fields] if section == "policy" else [(a, b)]
        for x, y in models:
            for name in type(x).model_fields:
                u, v = getattr(x, name), getattr(y, name)
                if u == v:
                    continue
                if isinstance(u, Schedule) and isinstance(v, Schedule):  # a difference before the start never acts
                    firsts += [t for t in range(start, YEAR_RANGE[1] + 1) if u.at(t) != v.at(t)][:1]
                else:
                    firsts.append(start)
    return min(firsts, default=None)


def check_designs_act(base: Design, designs: Sequence[Design], end_year: int) -> None:
    """Before anything runs: refuse a comparison in which no design differs from the base in any year up to
    ``end_year``, the comparison's last year (``--end-year`` or the base scenario's): every change, its ranking and
    P(first) would be the base's against itself; the message says from which year the designs act. Otherwise warn
    about each design's scenario file (``warn_horizon``): one line for a schedule year that never acts, and one line
    naming the changes of a design the run ends before; the base file's schedules are the comparison's common ground
    (only its years that never act are warned about)."""
    base_sc = base.validated()
    firsts = {d.name: first_change(base_sc, d.validated()) for d in designs}
    acting = {name: y for name, y in firsts.items() if y is not None}
    if not acting:
        raise InputError(f"compare: no design differs from the base {base.name} (their policies, macro settings and "
                         "parameters are the same in every year): change a design's scenario file")
    first = min(acting.values())
    if first > end_year:
        when = "; ".join(f"{name} from {y}" for name, y in acting.items())
        raise InputError(f"compare: the run ends in {end_year}, before any design differs from the base ({when}): "
                         f"nothing to compare; run to {first} or later (--end-year {first})")
    for d in (base, *designs):
        if Path(d.origin).is_file():  # a scenario file (a dashboard design has no file of its own)
            warn_horizon(Path(d.origin), read_toml(Path(d.origin)), d.validated(), end_year, cut_short=d is not base)


def _region(runs: pd.DataFrame, region: str = PROVINCE) -> pd.DataFrame:
    """The rows of one region (the province by default), indexed by point, draw, seed and year."""
    part = runs[runs["region"] == region]
    return part.set_index(["point", *RUN_KEYS, "year"]).sort_index()


def first_difference(prov: pd.DataFrame, points: Sequence[int]) -> int | None:
    """The first year any design of ``points[1:]`` differs from the base ``points[0]`` (any indicator, any run); None
    where none differs in any year."""
    indicators = data.load("indicators")
    cols = [c for c in prov.columns if c in indicators]
    base = prov.loc[points[0]][cols]
    first = None
    for p in points[1:]:
        diff = (prov.loc[p][cols] - base).abs().fillna(0).sum(axis=1)
        years = diff[diff > 0].index.get_level_values("year")
        if len(years):
            first = int(years.min()) if first is None else min(first, int(years.min()))
    return first


def common_window(prov: pd.DataFrame, points: Sequence[int]) -> tuple[int, int]:
    """From the first year any design differs from the base (any indicator, any run; ``first_difference``) to the
    last year (the last year alone where no design differs)."""
    end = int(prov.loc[points[0]].index.get_level_values("year").max())
    first = first_difference(prov, points)
    return (end if first is None else first), end


def _per_run(prov: pd.DataFrame, point: int, cols: list[str], years: Sequence[int]) -> pd.DataFrame:
    """Sum over ``years`` of each column, one row per (draw, seed)."""
    part = prov.loc[point][cols]
    part = part[part.index.get_level_values("year").isin(list(years))]
    return part.groupby(level=RUN_KEYS).sum()


def identical_designs(runs: pd.DataFrame, names: Sequence[str]) -> list[str]:
    """The designs of ``names`` (points 1..) whose runs are identical to the base's (point 0) in every run: every
    indicator of every region in every year, run by run (same draw and seed). A design that changes only something
    that never acts (a budget its base never uses up, e.g.) is its base again: it has no change to show or rank."""
    indicators = data.load("indicators")
    cols = [c for c in runs.columns if c in indicators]
    keyed = runs.set_index(["point", "region", *RUN_KEYS, "year"]).sort_index()[cols]
    base = keyed.loc[0]
    out = []
    for p, name in enumerate(names, start=1):
        other = keyed.loc[p]
        if other.index.equals(base.index) and ((other == base) | (other.isna() & base.isna())).all(axis=None):
            out.append(name)
    return out


def _label(key: str) -> str:
    """An indicator's (or a public cost's) Chinese and English name, as the tables' ``label`` column holds it."""
    spec = data.load("indicators").get(key, {})
    return f"{spec.get('zh', key)} {spec.get('en', '')}".strip()


def _changes(frame: pd.DataFrame, points: Sequence[int], labels: Sequence[str], cols: Sequence[str],
             years: Sequence[int], window: Sequence[int], weights: pd.Series | None) -> pd.DataFrame:
    """The ``changes`` table of one region's rows (``_region``): each design's paired change of each indicator in
    ``years`` and over the window (its runs' mean over the window's years), with the base's median and, in a year,
    the design's (every design, indicator and period at once: ``stats.by_group``)."""
    cols = list(cols)
    periods = [*map(str, years), "window"]

    def by_period(table: pd.DataFrame) -> pd.DataFrame:
        """One row per run and period: its value in each of ``years``, and its mean over the window."""
        year = table.index.get_level_values("year")
        at = table[year.isin(list(years))].rename(index=str, level="year").rename_axis(index={"year": "period"})
        mean = table[year.isin(list(window))].groupby(level=RUN_KEYS).mean()
        return pd.concat([at, mean.set_index(pd.Index(["window"] * len(mean), name="period"), append=True)])

    def summarise(table: pd.DataFrame, keys: list[str], statistics: tuple[str, ...]) -> pd.DataFrame:
        """``statistics`` of each of ``cols`` over the runs per group of ``keys``: index keys + indicator."""
        long = table.reset_index()
        if weights is not None:
            long[WEIGHT] = stats.aligned(weights, pd.MultiIndex.from_frame(long[RUN_KEYS]))
        out = stats.by_group(long, keys, cols, statistics)
        out.columns = pd.MultiIndex.from_tuples([(c, s) for s in statistics for c in cols])
        return out.stack(level=0, future_stack=True).rename_axis([*keys, "indicator"])

    base = by_period(frame.loc[points[0]][cols])
    designs = {labels[p]: by_period(frame.loc[p][cols]) for p in points[1:]}
    delta = pd.concat({d: table - base for d, table in designs.items()}, names=["design"])
    level = pd.concat(designs, names=["design"])
    out = summarise(delta, ["design", "period"], ("mean", "p05", "median", "p95"))
    out.insert(0, "design_value", summarise(level, ["design", "period"], ("median",))["median"]
               .where(lambda s: s.index.get_level_values("period") != "window"))
    base_median = summarise(base, ["period"], ("median",))["median"]
    out.insert(0, "base", base_median.reindex(out.index.droplevel("design")).to_numpy())
    # every design x indicator x period, in that order (a row for a combination the runs lack)
    order = pd.MultiIndex.from_product([list(designs), cols, periods], names=["design", "indicator", "period"])
    out = out.reorder_levels(order.names).reindex(order).reset_index()
    out.insert(2, "label", out["indicator"].map(_label))
    return out[["design", "indicator", "label", "period", "base", "design_value", "mean", "p05", "median", "p95"]
               ].reset_index(drop=True)


def _money(frame: pd.DataFrame, points: Sequence[int], labels: Sequence[str], window: Sequence[int],
           weights: pd.Series | None) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, dict[str, pd.Series]]]:
    """The ``costs`` and ``leverage`` tables of one region's rows (``_region``: the province, or a prefecture's
    spending, tax expenditure and R&D), and each design's per-run R&D per public yuan (business and total, by
    ``RANK_DEFAULT`` and ``RANK_TOTAL``) for the ranking."""
    fiscal = fiscal_columns(frame)
    rd_cols = [RD, PUBLIC_RD] if PUBLIC_RD in frame.columns else [RD]
    base_sum = _per_run(frame, points[0], [*rd_cols, *fiscal], window)
    cost_rows, lev_rows, gross, per_run = [], [], [], {}
    for p in points[1:]:
        d = _per_run(frame, p, [*rd_cols, *fiscal], window) - base_sum
        d_cost = d[fiscal] / WAN_PER_YI
        d_cost["total"] = d_cost.sum(axis=1)
        extra_rd = d[RD]
        extra_public = d[PUBLIC_RD] if PUBLIC_RD in d else pd.Series(0.0, index=d.index)
        wd = stats.aligned(weights, d.index)
        moved = d_cost[fiscal].abs()
        moved["total"] = moved.sum(axis=1)  # the money the design moves: each instrument's change without its sign
        for item in [*fiscal, "total"]:
            kind = "total" if item == "total" else "tax_expenditure" if item.startswith("tax_") else "programme"
            qc = stats.summary(d_cost[item], wd)
            cost_rows.append({"design": labels[p], "item": item, "label": _label(item) if item != "total" else
                              "公共成本合计 total public cost", "kind": kind, **qc})
            mean_cost = qc["mean"]
            material = abs(mean_cost) > 1e-6 * max(1.0, abs(stats.mean(d_cost["total"], wd)))
            if item == "total" or material:  # a cost that fell too: its saving is part of the design
                ratio = rd_per_yuan(extra_rd.to_numpy(), d_cost[item].to_numpy())
                q, qr = ratio_quantiles(ratio, wd, mean_cost), stats.summary(extra_rd, wd)
                lev_rows.append({"design": labels[p], "instrument": item, "extra_rd": qr["mean"],
                                 "extra_rd_p05": qr["p05"], "extra_rd_p95": qr["p95"], "extra_cost": mean_cost,
                                 "extra_cost_p05": qc["p05"], "extra_cost_p95": qc["p95"],
                                 "rd_per_yuan": rd_per_yuan(qr["mean"], mean_cost),
                                 "p05": q["p05"], "median": q["median"], "p95": q["p95"]})
                gross.append(stats.mean(moved[item], wd))
                if item == "total":  # the same per total R&D (business + public, what R&D intensity counts)
                    total = extra_rd + extra_public
                    total_ratio = rd_per_yuan(total.to_numpy(), d_cost[item].to_numpy())
                    qt, qtr = ratio_quantiles(total_ratio, wd, mean_cost), stats.summary(total, wd)
                    lev_rows[-1] |= {"extra_public_rd": stats.mean(extra_public, wd), "extra_total_rd": qtr["mean"],
                                     "extra_total_rd_p05": qtr["p05"], "extra_total_rd_p95": qtr["p95"],
                                     "total_rd_per_yuan": rd_per_yuan(qtr["mean"], mean_cost),
                                     "total_p05": qt["p05"], "total_p95": qt["p95"]}
                    per_run[labels[p]] = {RANK_DEFAULT: pd.Series(ratio, index=d.index),
                                          RANK_TOTAL: pd.Series(total_ratio, index=d.index)}
    costs, leverage = pd.DataFrame(cost_rows), pd.DataFrame(lev_rows)
    if len(leverage):  # after the ratios' columns: the money moved and whether R&D per yuan over the cost is unstable
        leverage["gross_cost"] = gross
        leverage["unstable"] = ratio_unstable(leverage["extra_cost"], leverage["gross_cost"],
                                              leverage["extra_cost_p05"], leverage["extra_cost_p95"])
    return costs, leverage, per_run


def with_region(table: pd.DataFrame, region: str) -> pd.DataFrame:
    """``table`` with a ``region`` column after ``design`` (the region's id: "province" or a prefecture's)."""
    out = table.copy()
    out.insert(out.columns.get_loc("design") + 1 if "design" in out else 0, "region", region)
    return out


def stored_table(result: ComparisonResult, name: str) -> pd.DataFrame:
    """A comparison table as its file in the store holds it (``report.write_comparison``): changes and leverage
    (``REGIONAL_TABLES``) with a ``region`` column, the province's rows first (its own table) then each prefecture's
    (``regions``), so that one store answers every prefecture (``province_rows`` reads the province's back); the other
    tables as they are."""
    table = getattr(result, name)
    if name not in REGIONAL_TABLES:
        return table
    return pd.concat([with_region(table, PROVINCE), result.regions.get(name, pd.DataFrame())], ignore_index=True)


def analyse(runs: pd.DataFrame, base: str, names: Sequence[str], rank_by: str = RANK_DEFAULT,
            years: Sequence[int] = COMPARE_YEARS, scenarios: dict[str, Any] | None = None) -> dict[str, Any]:
    """The comparison tables of stacked runs (``point`` 0 is the base, 1.. the designs in ``names``); with the
    designs' resolved ``scenarios`` (by name), the leverage table says which instruments each design sets
    (``mark_side_effects``). ``changes``, ``costs`` and ``leverage`` are the province's; ``regions`` holds the same
    three for each prefecture in the runs (the same window, a ``region`` column: each prefecture's indicators, and
    the spending, tax expenditure and R&D located there). A design identical to the base in every run
    (``identical_designs``, listed in ``identical``) is left out of the ranking and the pairwise table."""
    prov = _region(runs)
    points = list(range(len(names) + 1))
    labels = [base, *names]
    indicators = data.load("indicators")
    cols = [c for c in prov.columns if c in indicators and prov[c].notna().any()]
    start, end = common_window(prov, points)
    window = list(range(start, end + 1))
    all_years = set(prov.index.get_level_values("year"))
    years = [y for y in years if y in all_years]
    weights = stats.run_weights(prov.loc[0], RUN_KEYS)  # None: the runs weigh alike
    changes = _changes(prov, points, labels, cols, years, window, weights)
    costs, leverage, per_run = _money(prov, points, labels, window, weights)
    identical = identical_designs(runs, names)
    if rank_by not in (RANK_DEFAULT, RANK_TOTAL) and rank_by not in cols:
        raise InputError(f"--rank-by {rank_by}: this indicator has no province value in the compared runs; "
                         f"allowed {RANK_DEFAULT}, {RANK_TOTAL} or one with a province value "
                         f"({', '.join(cols[:6])}, ...)")
    if scenarios is not None:
        leverage = mark_side_effects(leverage, scenarios, base)
    leverage = with_evidence(leverage)
    ranking, pairwise = _ranked(prov, labels, [n for n in names if n not in identical], rank_by, window, weights,
                                per_run, leverage, scenarios)
    targets = target_probabilities(runs, labels)
    regional: dict[str, list[pd.DataFrame]] = {"changes": [], "costs": [], "leverage": []}
    for region in (r for r in data.prefecture_ids() if r in set(runs["region"])):
        frame = _region(runs, region)
        shown = [c for c in cols if c in frame.columns and frame[c].notna().any()]
        region_costs, region_leverage, _ = _money(frame, points, labels, window, weights)
        if scenarios is not None:
            region_leverage = mark_side_effects(region_leverage, scenarios, base)
        region_leverage = with_evidence(region_leverage)
        for name, table in (("changes", _changes(frame, points, labels, shown, years, window, weights)),
                            ("costs", region_costs), ("leverage", region_leverage)):
            regional[name].append(with_region(table, region))
    regions = {name: pd.concat(parts, ignore_index=True) for name, parts in regional.items() if parts}
    return {"window": (start, end), "years": years, "changes": changes, "costs": costs, "leverage": leverage,
            "targets": targets, "ranking": ranking, "pairwise": pairwise, "regions": regions, "identical": identical}


def _ranked(frame: pd.DataFrame, labels: Sequence[str], ranked: Sequence[str], rank_by: str, window: Sequence[int],
            weights: pd.Series | None, per_run: dict[str, dict[str, pd.Series]], leverage: pd.DataFrame,
            scenarios: dict[str, Any] | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ranking (``rank``, ``annotate_ranking``) and pairwise table of the designs ``ranked`` in one region's rows
    ``frame`` (``_region``; ``labels``: the base and the designs by point): by each run's R&D per public yuan there
    (``per_run`` of ``_money``) or by ``rank_by``'s window change there; the leverage table of the same rows."""
    if rank_by in (RANK_DEFAULT, RANK_TOTAL):
        metric = {n: per_run[n][rank_by] for n in ranked if n in per_run}
    else:
        metric = {n: changes_window(frame, labels.index(n), rank_by, window) for n in ranked}
    ranking, pairwise = rank(metric, rank_by, weights, lower=lower_is_better(rank_by))
    return annotate_ranking(ranking, leverage, scenarios, labels[0]), pairwise


def region_ranking(res: ComparisonResult, region: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A prefecture's ranking and pairwise table (``qhsim compare --region``): the comparison's designs (but those
    identical to the base) ranked as its own ranking is (``ranking_metric``), on what is located in ``region``: each
    run's R&D per public yuan spent there (partial, as the prefecture's cost-effectiveness table is) or the window
    change of the ranking's indicator there. Empty tables where that indicator has no value there."""
    frame, prov = _region(res.runs, region), _region(res.runs)
    labels = [res.base, *res.designs]
    points = list(range(len(labels)))
    rank_by = ranking_metric(res)
    if rank_by not in (RANK_DEFAULT, RANK_TOTAL) and (rank_by not in frame or frame[rank_by].isna().all()):
        return pd.DataFrame(columns=["design", "metric"]), pd.DataFrame()
    window = list(range(res.window[0], res.window[1] + 1))
    weights = stats.run_weights(prov.loc[0], RUN_KEYS)
    _, _, per_run = _money(frame, points, labels, window, weights)
    leverage = res.regions["leverage"]
    return _ranked(frame, labels, [n for n in res.designs if n not in res.identical], rank_by, window, weights,
                   per_run, leverage[leverage["region"] == region], res.meta.get("scenarios"))


def total_rows(leverage: pd.DataFrame) -> pd.DataFrame:
    """The "total" rows of one region's leverage table, indexed by design."""
    return leverage[leverage["instrument"] == "total"].set_index("design")


def annotate_ranking(ranking: pd.DataFrame, leverage: pd.DataFrame, scenarios: dict[str, Any] | None,
                     base: str) -> pd.DataFrame:
    """``ranking`` with each design's ``description`` (``design_description``) after its name and, last, ``unstable``
    as in leverage.csv: on a ranking by R&D per public yuan (business or total, the same extra cost below both) the
    flag of the design's "total" leverage row (``ratio_unstable``), where the tables show "— 不稳定 unstable"; False on
    a ranking by an indicator's change, which is no ratio. The unstable designs are ranked after the others."""
    if ranking.empty:
        return ranking
    out = ranking.copy()
    out.insert(out.columns.get_loc("design") + 1, "description",
               [design_description(scenarios, d, base) for d in out["design"]])
    flags = pd.Series(False, index=out.index)
    if out["metric"].iloc[0] in (RANK_DEFAULT, RANK_TOTAL) and "unstable" in leverage:
        flags = out["design"].map(total_rows(leverage)["unstable"]).fillna(False).astype(bool)
    out["unstable"] = flags.to_numpy()
    # where business R&D per yuan lies against the micro evidence: the "total" leverage row's (``with_evidence``); no
    # range applies to total R&D per yuan (business + public) nor to an indicator's change
    evidence = pd.Series("", index=out.index)
    if out["metric"].iloc[0] == RANK_DEFAULT and "evidence" in leverage:
        evidence = out["design"].map(total_rows(leverage)["evidence"]).fillna("")
    out["evidence"] = evidence.to_numpy()
    # a design whose ratio is not to be read ranks after those whose ratio is: its P(first) comes from runs whose
    # extra cost is near zero (Haixi's HTE reward ranked second, before ex-ante grants, on 7% of such runs)
    out = out.sort_values("unstable", kind="stable").reset_index(drop=True)
    out["rank"] = range(1, len(out) + 1)
    return out


def ratio_quantiles(ratios: np.ndarray, weights: np.ndarray | None, mean_cost: float) -> dict[str, float]:
    """The 5%, median and 95% of the runs' R&D per yuan (``rd_per_yuan``, NaN in a run whose extra cost is not
    positive); all NaN where the mean extra cost is not positive: R&D per yuan of a saving (an instrument whose cost
    fell, a design that saves money) is no ratio, and the quantiles of the few runs whose cost rose would read as
    one. ``ratio_unstable`` flags those rows as well."""
    q = stats.summary(ratios, weights)
    return q if mean_cost > 0 else {k: math.nan for k in q}


def changes_window(prov: pd.DataFrame, point: int, key: str, window: Sequence[int]) -> pd.Series:
    delta = prov.loc[point][key] - prov.loc[0][key]
    return delta[delta.index.get_level_values("year").isin(list(window))].groupby(level=RUN_KEYS).mean()


def check_region(region: str) -> str:
    """The region id a ``--region`` value names (``qhsim compare``, ``sweep`` and ``discover``): the province or a
    prefecture (qhsim/data/geography.toml), by its id in any case (``Haidong``), its Chinese name with or without
    市/州 (海东市, 海东) or its English name; else the one-line error, with the nearest id where one is near."""
    allowed = [PROVINCE, *data.prefecture_ids()]
    names = {PROVINCE: PROVINCE, "青海": PROVINCE, "青海省": PROVINCE}
    for p in data.prefectures():
        names |= {p.id.lower(): p.id, p.en.lower(): p.id, p.zh: p.id, p.zh.rstrip("市州"): p.id}
    found = names.get(region.strip().lower())
    if found is None:
        near = difflib.get_close_matches(region.lower(), allowed, 1)
        raise InputError(f"--region {region}: not a region{f' (did you mean {near[0]}?)' if near else ''}; allowed: "
                         f"{', '.join(allowed)}")
    return found


def check_rank_by(rank_by: str) -> None:
    """A ranking metric ``compare`` can compute: R&D per public yuan (business or total) or an indicator key."""
    if rank_by not in (RANK_DEFAULT, RANK_TOTAL) and rank_by not in data.load("indicators"):
        raise InputError(f"--rank-by {rank_by}: allowed {RANK_DEFAULT}, {RANK_TOTAL} or an indicator key of "
                         "qhsim/data/indicators.toml (e.g. rd_intensity, hte_count)")


def rank(metric: dict[str, pd.Series], name: str, weights: pd.Series | None = None, lower: bool = False
         ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """P(ranks first), mean rank and pairwise P(A beats B) over the (draw, seed) runs, each run weighing its
    ``weights`` entry (None: alike); NaN counts as worst. ``lower``: the smallest value wins. Ordered by mean rank,
    ties by P(first), then by the median."""
    designs = list(metric)
    if not designs:
        return pd.DataFrame(columns=["design", "metric"]), pd.DataFrame()
    table = (-pd.DataFrame(metric) if lower else pd.DataFrame(metric)).fillna(-np.inf)  # a score: higher wins
    w = stats.aligned(weights, table.index)
    ranks = table.rank(axis=1, ascending=False, method="average")
    best = table.to_numpy().argmax(axis=1)
    rows = []
    for j, d in enumerate(designs):
        q = stats.summary(metric[d], stats.aligned(weights, metric[d].index))
        rows.append({"design": d, "metric": name, "p05": q["p05"], "median": q["median"], "p95": q["p95"],
                     "p_first": stats.mean(best == j, w), "mean_rank": stats.mean(ranks[d], w)})
    # by mean rank, the place a design takes on average over the runs: P(first) alone orders the designs behind the
    # leader by a few runs each (a scattered design first in 7% of the runs stood before one that beat it in 93%)
    ranking = pd.DataFrame(rows).sort_values(["mean_rank", "p_first", "median"], ascending=[True, False, lower],
                                             kind="stable")
    ranking["rank"] = range(1, len(ranking) + 1)
    pairwise = pd.DataFrame(
        [[math.nan if a == b else stats.mean(table[a] > table[b], w) for b in designs] for a in designs],
        index=designs, columns=designs)
    return ranking.reset_index(drop=True), pairwise


def target_probabilities(runs: pd.DataFrame, labels: Sequence[str]) -> pd.DataFrame:
    """P(target met) per design for every plan target and 2035 reference path within the horizon (runs weighted
    by their ``weight`` column where they have one)."""
    targets = pd.concat([load_targets(), reference_paths_2035()], ignore_index=True)
    last = int(runs["year"].max())
    targets = targets[(targets["year"] <= last) & targets["indicator"].isin(runs.columns)]
    indexed = runs.set_index(["point", "region", *RUN_KEYS, "year"]).sort_index()
    weights = stats.run_weights(runs[runs["point"] == 0], RUN_KEYS)
    rows = []
    for p, name in enumerate(labels):
        for t in targets.itertuples():
            try:
                paths = indexed.loc[(p, t.region), t.indicator]
            except KeyError:
                continue
            keys, values = zip(*[(key, achieved(path.droplevel(RUN_KEYS), t))
                                 for key, path in paths.groupby(level=RUN_KEYS)])
            w = stats.aligned(weights, pd.MultiIndex.from_tuples(keys))
            rows.append({"design": name, "indicator": t.indicator, "region": t.region, "year": int(t.year),
                         "kind": t.kind, "label": t.label, "target": float(t.value),
                         "p_met": stats.probability([meets(v, t) for v in values], w),
                         "deterministic": deterministic_verdict(values, t)})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------------
# budget-neutral scaling


def budget_paths(scenario: Scenario) -> list[str]:
    """Key paths of every budget lever (``policy.<section>.*budget``)."""
    out = []
    for section, model in scenario.policy:
        for name in type(model).model_fields:
            if name.endswith("budget"):
                out.append(f"policy.{section}.{name}")
    return out


def scenario_setting(scenario: Scenario, path: str) -> Any:
    """The setting at a key path (``policy.ex_ante_grants.budget``) of a scenario: a ``Schedule`` or a value."""
    obj: Any = scenario
    for p in path.split("."):
        obj = getattr(obj, p)
    return obj


def budget_changes(base: Scenario, design: Scenario, end_year: int) -> dict[str, dict[int, tuple[float, float]]]:
    """For each budget lever the design changes: {year: (base value, design value)} from its first changed year."""
    out = {}
    for path in budget_paths(base):
        a, b = scenario_setting(base, path), scenario_setting(design, path)
        years = sorted({*a.as_dict(), *b.as_dict(), 2016})
        yearly = {y: (float(a.at(y)), float(b.at(y))) for y in range(2016, end_year + 1)}
        changed = [y for y, (x, z) in yearly.items() if x != z]
        if changed:
            first = changed[0]
            out[path] = {y: v for y, v in yearly.items() if y >= first and (y in years or y == first)}
    return out


@dataclass
class BudgetUse:
    """What runs spend under one budget lever (``budget_use``): in ``region`` (the province, or a listed prefecture
    whose own fund it is) over ``years`` (first, last), the lever's spending ``column`` (万元) at most ``most`` in a year
    of any run and ``mean`` a year on average over the runs (each weighing what its draw stands for), against the
    budget in force then: ``smallest`` its lowest yearly value, ``budget`` its mean (万元/yr)."""

    path: str
    column: str
    region: str
    years: tuple[int, int]
    most: float
    mean: float
    smallest: float
    budget: float

    @property
    def share(self) -> float:
        """The share of the budget spent on average (NaN for a budget of 0)."""
        return self.mean / self.budget if self.budget > 0 else math.nan

    @property
    def unspent(self) -> bool:
        """Materially unspent: on average more than ``UNSPENT_SHARE`` of the budget is left over (a grant budget of
        30,000万元 that spends about 21,000 because too few firms qualify): the lever's value is not money spent."""
        return self.share < 1 - UNSPENT_SHARE


def budget_column(path: str) -> str | None:
    """The spending indicator of budget lever ``path`` (the ``spend_*`` indicator whose ``policy`` in indicators.toml
    names its section; of a section with several budgets, the one named after the budget); None where there is no one."""
    _, section, name = path.split(".")
    spec = data.load("indicators")
    columns = [k for k in spec if k.startswith("spend_") and section in spec[k].get("policy", [])]
    if len(columns) > 1:
        columns = [k for k in columns if name.removesuffix("_budget") in k]
    return columns[0] if len(columns) == 1 else None


def budget_use(runs: pd.DataFrame, scenario: Scenario, path: str, years: Sequence[int]) -> list[BudgetUse] | None:
    """What ``runs`` (one design's or point's runs: every draw and seed) spend under budget lever ``path`` of their
    ``scenario`` in ``years``: a ``BudgetUse`` per region whose fund it is, each listed prefecture where the section
    lists prefectures (``prefectures``: each has a fund of that budget, e.g. the R&D reward), else the province. The one
    measure behind compare's idle budgets (``idle_budgets``) and the sweep's unspent ones
    (``qhsim.experiments.sweep.unspent_budgets``); None where the lever has no one spending column in the runs."""
    column = budget_column(path)
    if column is None or column not in runs:
        return None
    section = path.split(".")[1]
    listed = getattr(getattr(scenario.policy, section), "prefectures", None)
    regions = [PROVINCE] if listed is None else sorted(
        {p for y in years for p in (data.prefecture_ids() if "all" in listed.at(y) else listed.at(y))},
        key=data.prefecture_ids().index)
    yearly = [float(scenario_setting(scenario, path).at(y)) for y in years]
    out = []
    for region in regions:
        rows = runs[(runs["region"] == region) & runs["year"].isin(list(years))]
        most = float(rows[column].max()) if len(rows) else math.nan
        mean = stats.mean(rows[column], rows[WEIGHT] if WEIGHT in rows else None)
        out.append(BudgetUse(path, column, region, (years[0], years[-1]), most, mean, min(yearly),
                             sum(yearly) / len(yearly)))
    return out


@dataclass
class IdleBudget:
    """A budget lever a design changes whose base never uses up its budget (``idle_budgets``): ``use``, the base runs'
    spending on it (``use.most``: at most that much in any year and run) under the base's budget (``use.smallest``:
    its smallest value then), and the design's budget (``design_budget``, likewise)."""

    use: BudgetUse
    design_budget: float


def idle_budgets(runs: pd.DataFrame, scenarios: dict[str, Any] | None, base: str, design: str) -> list[IdleBudget]:
    """Why a design can be identical to its base: each budget lever it changes (``budget_paths``) whose spending
    (``budget_use`` of the base's runs, ``point`` 0) stays below both the base's and the design's budget in every year
    they differ, in every run and region whose fund it is. Empty without the resolved ``scenarios``, or where a changed
    budget binds somewhere (another reason, or none that the runs show)."""
    if not scenarios or base not in scenarios or design not in scenarios:
        return []
    a, b = (Scenario.model_validate(scenarios[name]) for name in (base, design))
    first, last = int(runs["year"].min()), int(runs["year"].max())
    out = []
    for path in budget_paths(a):
        years = [y for y in range(first, last + 1) if scenario_setting(a, path).at(y) != scenario_setting(b, path).at(y)]
        if not years:
            continue
        uses = budget_use(runs[runs["point"] == 0], a, path, years)
        if uses is None:
            return []
        design_budget = min(float(scenario_setting(b, path).at(y)) for y in years)
        for use in uses:
            if not use.most < min(use.smallest, design_budget):  # the budget binds (or no rows): not this reason
                return []
            out.append(IdleBudget(use, design_budget))
    return out


def unspent_budgets(runs: pd.DataFrame, scenarios: dict[str, Any] | None, base: str, design: str) -> list[BudgetUse]:
    """The budget levers ``design`` changes from its base (``budget_paths``) whose runs (``design``'s, every draw and
    seed) leave materially unspent over the years the budgets differ (``BudgetUse.unspent``: more than
    ``UNSPENT_SHARE`` left over on average), in each region whose fund it is: the lever's value is not the money the
    design spends. Empty without the resolved ``scenarios``. A design whose base never uses its budget either is
    identical to it (``idle_budgets``) and has no runs of its own to judge."""
    if not scenarios or base not in scenarios or design not in scenarios:
        return []
    a, b = (Scenario.model_validate(scenarios[name]) for name in (base, design))
    mine = runs[runs["design"] == design]
    first, last = int(runs["year"].min()), int(runs["year"].max())
    out = []
    for path in budget_paths(b):
        years = [y for y in range(first, last + 1) if scenario_setting(a, path).at(y) != scenario_setting(b, path).at(y)]
        if years and len(mine):
            out += [use for use in budget_use(mine, b, path, years) or [] if use.unspent]
    return out


def scaled(design: Design, changes: dict[str, dict[int, tuple[float, float]]], factor: float) -> Design:
    """``design`` with each changed budget at base + factor x (design − base) from its first changed year."""
    extra = [Override(path, min(points), {y: max(0.0, b + factor * (d - b)) for y, (b, d) in points.items()})
             for path, points in changes.items()]
    return design.with_overrides(extra)


# ---------------------------------------------------------------------------------------------------
# running


def compare(
    base: str | Path | Design,
    designs: Sequence[str | Path | Design],
    seeds: Sequence[int] = (1, 2, 3),
    draws: int | None = None,
    scale: float | None = None,
    end_year: int | None = None,
    budget_neutral: bool = False,
    workers: int = 1,
    executor: str = "local",
    scheduler: str | None = None,
    out: str | Path | None = None,
    rank_by: str = RANK_DEFAULT,
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
    bar: bool | str = False,
    draw_seed: int = 0,
    reused: Callable[[int, int], None] | None = None,
) -> ComparisonResult:
    """Compare ``designs`` (scenario files or ``Design`` objects) with ``base`` under common random numbers.

    ``seeds`` x ``draws`` parameter sets from the calibrated posterior (``None``: the point estimate) are run
    for every design; ``scale``/``end_year`` default to the base scenario's. ``out``: a resumable store
    folder (checked before anything runs; rerun to resume); ``qhsim.experiments.report.write_comparison(result)``
    then writes the report files into it and marks it complete. ``progress(done, total)`` is called after each
    run, ``cancel`` (a ``threading.Event``) stops the runs (raises ``Cancelled``); ``reused(done, total)`` hears how
    many of its runs a resumed store already holds (``qhsim.experiments.store.say_reused``). ``rank_by``:
    "rd_per_yuan" (default: business R&D per public yuan), "total_rd_per_yuan" (business + universities' and
    institutes' R&D per public yuan) or an indicator key (its mean change over the window); checked before any run.
    """
    check_rank_by(rank_by)
    base_d = base if isinstance(base, Design) else design_from_file(base)
    variants = [d if isinstance(d, Design) else design_from_file(d) for d in designs]
    if not variants:
        raise InputError("compare: name at least one design besides the base")
    if len(variants) > MAX_DESIGNS:
        raise InputError(f"compare: {len(variants)} designs; allowed at most {MAX_DESIGNS}")
    names = [d.name for d in variants]
    if len(set(names)) != len(names) or base_d.name in names:
        raise InputError(f"compare: design names must be distinct (got {base_d.name}, {', '.join(names)})")
    base_sc = base_d.validated()
    scale = float(scale if scale is not None else base_sc.run.scale)
    end_year = int(end_year if end_year is not None else base_sc.run.end_year)
    check_designs_act(base_d, variants, end_year)
    thetas, source, weights, *_ = parameter_draws(draws, draw_seed)
    all_designs = [base_d, *variants]
    specs, labels = expand(all_designs, thetas, seeds, scale, end_year, [{"budget_scale": 1.0}] * len(all_designs),
                           weights)
    experiment = {"base": base_d.name, "designs": names, "seeds": list(map(int, seeds)), "draws": draws,
                  "draw_seed": draw_seed, "scale": scale, "end_year": end_year, "budget_neutral": budget_neutral,
                  "parameters": source, "rank_by": rank_by,
                  "scenarios": {d.name: d.validated().model_dump(mode="json") for d in all_designs}}
    engine = Engine(workers, executor, scheduler)
    store = None
    if out is not None:
        store = Store(Path(out), "compare", experiment, specs, labels, engine.fingerprint,
                      key_extra={"budget_neutral": budget_neutral})
        store.check()
    prog = Progress(0, "compare", bar, progress)
    try:
        with engine:
            engine.connect()  # as run_sweep: --out checked, then the executor reached, then the store written
            if store is not None and (done := store.open()) and reused is not None:
                reused(done, len(specs))
            runs = collect_runs(engine, specs, labels, store, prog, cancel)
            budget = None
            if budget_neutral:
                runs, budget = _budget_neutral(engine, runs, all_designs, thetas, weights, seeds, scale, end_year,
                                               store, prog, cancel)
    finally:
        prog.close()
    if first_difference(_region(runs), list(range(len(all_designs)))) is None:  # the store stays "running"
        raise InputError(f"compare: no design differs from the base {base_d.name} in any year of the runs (to "
                         f"{end_year}): their changes have no effect by then; run to a later --end-year")
    tables = analyse(runs, base_d.name, names, rank_by, scenarios=experiment["scenarios"])
    return ComparisonResult(base_d.name, names, tables.pop("window"), tables.pop("years"), runs, budget=budget,
                            meta={**experiment, "executor": engine.describe(),
                                  "runs": len(runs.groupby(["point", *RUN_KEYS]))},
                            store=store, **tables)


def open_comparison(folder: str | Path) -> ComparisonResult:
    """Re-open a compare store (``qhsim compare --out``) as a ``ComparisonResult`` (tables recomputed from its runs)."""
    from qhsim.experiments.store import read_manifest
    from qhsim.output.folders import read_store_runs

    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest.get("kind") != "compare":
        raise InputError(f"{folder}: not a compare store (kind {manifest.get('kind')!r})")
    if manifest.get("status") != "complete":
        raise InputError(f"{folder}: the comparison is not finished; run its qhsim compare command again to resume")
    exp = manifest["experiment"]
    runs = read_store_runs(folder, manifest["analysed_runs"])  # without superseded budget-neutral trials
    tables = analyse(runs, exp["base"], exp["designs"], exp.get("rank_by", RANK_DEFAULT), scenarios=exp.get("scenarios"))
    budget = pd.read_csv(folder / "budget.csv", encoding="utf-8-sig") if (folder / "budget.csv").is_file() else None
    return ComparisonResult(exp["base"], list(exp["designs"]), tables.pop("window"), tables.pop("years"), runs,
                            budget=budget, meta=exp, **tables)


def _extra_cost(runs: pd.DataFrame, point: int, window: Sequence[int]) -> float:
    prov = _region(runs)
    fiscal = fiscal_columns(prov)
    d = _per_run(prov, point, fiscal, window) - _per_run(prov, 0, fiscal, window)
    weights = stats.run_weights(prov.loc[0], RUN_KEYS)
    return stats.mean(d.sum(axis=1), stats.aligned(weights, d.index)) / WAN_PER_YI


def _budget_neutral(engine: Engine, runs: pd.DataFrame, designs: list[Design], thetas: list,
                    weights: np.ndarray | None, seeds: Sequence[int],
                    scale: float, end_year: int, store: Store | None, prog: Progress,
                    cancel: threading.Event | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scale each design's budget changes (secant on the factor) until its extra cost matches design 1's."""
    prov = _region(runs)
    window = list(range(common_window(prov, list(range(len(designs))))[0], end_year + 1))
    target = _extra_cost(runs, 1, window)
    base_sc = designs[0].validated()
    final = {p: runs[runs["point"] == p] for p in range(len(designs))}
    rows = [{"design": designs[1].name, "budget_levers": "", "scale": 1.0, "extra_cost_before": target,
             "extra_cost_after": target, "target_cost": target, "status": "reference"}]
    for p in range(2, len(designs)):
        d = designs[p]
        changes = budget_changes(base_sc, d.validated(), end_year)
        c1 = _extra_cost(runs, p, window)
        row = {"design": d.name, "budget_levers": ", ".join(changes), "scale": 1.0, "extra_cost_before": c1,
               "extra_cost_after": c1, "target_cost": target}
        if not changes or c1 <= 0 or target <= 0:
            rows.append({**row, "status": "not scalable (no budget change)" if not changes else
                         "not scalable (no extra cost)"})
            continue
        f_prev, c_prev, f = 1.0, c1, target / c1
        status = "not converged"
        for _ in range(BUDGET_ITERATIONS):
            f = float(np.clip(f, 0.0, 50.0))
            variant = scaled(d, changes, f)
            specs, labels = expand([variant], thetas, seeds, scale, end_year, [{"budget_scale": f}], weights)
            for lab in labels:
                lab["point"] = p
            part = collect_runs(engine, specs, labels, store, prog, cancel)
            trial = pd.concat([final[0], part], ignore_index=True)
            trial["point"] = trial["point"].replace({p: 1})
            c = _extra_cost(trial, 1, window)
            final[p], row["scale"], row["extra_cost_after"] = part, f, c
            if abs(c - target) <= BUDGET_TOLERANCE * abs(target):
                status = "matched"
                break
            slope = (c - c_prev) / (f - f_prev) if f != f_prev else 0.0
            if slope <= 0:
                status = "budget does not bind (cost does not rise with the budget)"
                break
            f_prev, c_prev, f = f, c, f + (target - c) / slope
        rows.append({**row, "status": status})
    merged = pd.concat([final[p] for p in range(len(designs))], ignore_index=True)
    return merged, pd.DataFrame(rows)
