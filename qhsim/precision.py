"""Precision of policy effects 政策效应精度: seed-to-seed spread of paired comparisons, and scale fidelity.

What an analyst needs to know before trusting a design ranking (issue #8 item 3):

- ``leverage_spread``: for each variant, its business R&D per public yuan against its base under common random
  numbers (``qhsim.experiments.comparison.leverage`` / ``rd_per_yuan``, the definition ``qhsim compare`` uses),
  over several dynamics seeds; its coefficient of variation says whether one run ranks designs reliably. The same
  for total R&D per public yuan (business + universities' and institutes' R&D), where vouchers, talent grants
  and technology transfer act, and for the change in each plan indicator (``effects``): how precisely a design
  moves what it aims at (technology contracts, R&D personnel) when its R&D per yuan is a few hundredths; and the
  extra public cost by item (``cost_items``: each programme's spending and each tax expenditure) with each item's
  spread and share of the cost's variance, which says where a noisy denominator comes from (e.g. one large
  profitable firm certified as a high-tech enterprise in one run and not the other: its 15% rate).
- ``package_parts``: a variant that changes several sections of its base (a package 组合方案, e.g. an ex-post
  subsidy financed by halving ex-ante grants) split into its ``components`` (the base with one of those sections
  taken from the variant, run through the same engine path), each part's spread, and the interaction (the
  package's extra R&D minus the sum of its parts'): a package of precise parts whose effects nearly cancel has a
  noisy ratio, which its parts explain.
- ``rank_stability``: whether that spread reorders the designs — the pairs of variants whose order differs from
  the order of their means in some seeds, and the share of seeds that give the mean ranking.
- ``firm_effects``: what a design's extra business R&D is made of, firm by firm: the firms whose R&D it raises
  and lowers (gross up and down), the share its five largest changes carry, and the channel through which each
  firm's run first departed from the base (``CHANNELS``: entry or exit, sales, grants / vouchers / rewards, its own
  R&D decision, its knowledge). A ratio whose seeds disagree rests either on a few large firms' switches (the
  effect's own spread in one finite population) or on a net change that is small beside the gross changes each way
  (fixed budgets re-allotted among firms, market shares and knowledge gained and lost through the markets they
  share).
- ``population_position``: where the one fixed 2015 population, which the calibration was fitted on, lies among
  the populations the synthesis draws (each seed its own), per plan indicator.
- ``scale_fidelity``: the seed mean of the nine plan indicators at a reduced scale against the full-scale seed
  mean; a reduced scale is faithful when the difference is within two standard errors. Each seed also draws its
  own 2015 population (``vary_population``): a reduced-scale population is one particular part of the full one,
  so with a single fixed population the comparison would measure that part's luck, not the scale.

``benchmarks/precision_report.py`` prints them all; ``tests/test_precision.py`` runs a light form.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from qhsim.experiments.comparison import leverage
from qhsim.experiments.designs import Design, design_from_file, run_spec
from qhsim.experiments.engine import Engine, Executor
from qhsim.experiments.spec import RunSpec, calibration_switch, scenario_of
from qhsim.results import PROVINCE
from qhsim.units import WAN_PER_YI

PLAN_GROUP = "plan_2020"
FIDELITY_YEARS = (2020, 2025, 2035)
EFFECT_YEARS = (2030, 2035)  # the years whose plan-indicator changes ``leverage_spread`` reports (``effects``)


def plan_indicators() -> list[str]:
    """The nine indicators of the 2020 plan table (calibration/targets.toml group plan_2020), in file order."""
    from qhsim.calibrated import target_rows

    return list(dict.fromkeys(r["indicator"] for r in target_rows() if r.get("group") == PLAN_GROUP))


DesignLike = str | Path | Design  # a scenario file, or a design (e.g. one of ``components``)


def as_design(scenario: DesignLike) -> Design:
    """``scenario`` as a design: a file through ``design_from_file`` (``extends`` applied), a design as it is."""
    return scenario if isinstance(scenario, Design) else design_from_file(scenario)


def run_many(tasks: list[tuple[DesignLike, int, float, int, bool]], workers: int | Executor = 1) -> list[pd.DataFrame]:
    """Province tables of (scenario, seed, scale, end_year, vary_population) runs, in task order, on the
    experiments engine (its executors; results independent of ``workers``). A scenario is a file or a ``Design``.
    ``vary_population`` draws the 2015 population with the run's seed; otherwise every run starts from the
    scenario's fixed population."""
    files = {sc: design_from_file(sc) for sc in dict.fromkeys(t[0] for t in tasks if not isinstance(t[0], Design))}
    specs = [dataclasses.replace(run_spec(sc if isinstance(sc, Design) else files[sc], None, seed, scale, end),
                                 population_seed=seed if vary else None)
             for sc, seed, scale, end, vary in tasks]
    with Engine(workers) as engine:
        tables = engine.map(specs)
    return [t[t["region"] == PROVINCE].reset_index(drop=True) for t in tables]


def sections(scenario: Mapping[str, Any]) -> dict[str, Any]:
    """A resolved scenario table cut into the sections a design can change one at a time: ``policy.<name>`` for
    each policy instrument, and each other top-level table (``parameters``, ``macro``) but ``run`` (its name and
    description; the runs take seed, scale and horizon from the caller)."""
    out: dict[str, Any] = {}
    for key, value in scenario.items():
        if key == "policy":
            out.update({f"policy.{name}": v for name, v in value.items()})
        elif key != "run" and isinstance(value, Mapping):
            out[key] = value
    return out


_ABSENT = object()


def components(base: DesignLike, variant: DesignLike) -> dict[str, Design]:
    """The parts of a multi-instrument variant 组合方案的组成部分, by section (``sections``, e.g.
    ``policy.ex_ante_grants``): for each section in which the variant's resolved scenario differs from the base's,
    the base with that one section taken from the variant, named ``variant[name]`` (e.g.
    ``ex_post_subsidy[ex_ante_grants]``). A variant that differs in one section or none has no components (it is
    its own single part): an empty dict."""
    base, variant = as_design(base), as_design(variant)
    if base.overrides or variant.overrides:
        raise ValueError(f"components: {variant.name} vs {base.name}: designs with overrides are not split")
    ours, theirs = sections(base.scenario), sections(variant.scenario)
    differ = [k for k in dict.fromkeys([*ours, *theirs]) if ours.get(k, _ABSENT) != theirs.get(k, _ABSENT)]
    if len(differ) < 2:
        return {}
    parts = {}
    for key in differ:
        scenario = dict(base.scenario)
        head, _, name = key.rpartition(".")
        table = scenario
        if head:
            table = scenario[head] = dict(scenario.get(head, {}))
        if key in theirs:
            table[name] = theirs[key]
        else:
            table.pop(name, None)
        parts[key] = Design(f"{variant.name}[{name}]", scenario, variant.origin)
        parts[key].validated()
    return parts


def _spread(values: np.ndarray) -> dict[str, float]:
    """Mean, sd, coefficient of variation (sd / |mean|), min and max over seeds."""
    mean, sd = float(np.mean(values)), float(np.std(values, ddof=1)) if len(values) > 1 else math.nan
    return {"mean": mean, "sd": sd, "cv": sd / abs(mean) if mean else math.nan,
            "min": float(values.min()), "max": float(values.max())}


EXTRAS = {"extra_rd": "extra_business_rd", "extra_public_rd": "extra_public_rd", "extra_cost": "extra_public_cost"}


def _interaction(extra: str) -> str:
    return "interaction_" + extra.removeprefix("extra_")


def cost_item_spread(items: Mapping[str, np.ndarray], total: np.ndarray) -> dict[str, dict[str, float]]:
    """Where the spread of the extra public cost over seeds comes from 公共成本离散来源: for each cost item (its
    per-seed extra cost, 亿元), its ``_spread`` and ``var_share`` = cov(item, total) / var(total), its share of the
    variance of ``total`` (the items' sum): the shares add up to 1 over the items, an item that offsets the others'
    swings has a negative share, and NaN where the total does not vary (or with one seed)."""
    n = len(total)
    var = float(np.var(total, ddof=1)) if n > 1 else 0.0
    return {c: {**_spread(v), "var_share": float(np.cov(v, total, ddof=1)[0, 1]) / var if var > 0 else math.nan}
            for c, v in items.items()}


def _summary(levs: list[dict[str, Any]]) -> dict[str, Any]:
    """A design's row from its per-seed ``leverage`` against the base: the spread of business R&D per public yuan,
    the mean extra business R&D, public R&D and public cost (亿元; with their sd and per-seed values), the per-seed
    leverage, and the spread of total R&D per public yuan (``total_*``); the extras' ``*_sd`` and ``*_cv`` come from
    the same ``_spread``; ``effects``: the spread of the change in each plan indicator, by (indicator, year);
    ``cost_items``: the extra public cost by item (``leverage``'s ``cost_items``), each item's spread and share of
    the variance of the extra cost (``cost_item_spread``), with their per-seed values in ``per_seed_cost_items``."""
    values = np.array([lv["leverage"] for lv in levs])
    total = np.array([lv["total_leverage"] for lv in levs])
    extra = {k: np.array([lv[c] for lv in levs]) for k, c in EXTRAS.items()}
    spreads = {k: _spread(v) for k, v in extra.items()}
    effects = {key: _spread(np.array([lv["changes"][key] for lv in levs])) for key in levs[0]["changes"]}
    items = {c: np.array([lv["cost_items"][c] for lv in levs]) for c in levs[0]["cost_items"]}
    return {**_spread(values), **{k: s["mean"] for k, s in spreads.items()}, "per_seed": values.tolist(),
            **{f"total_{k}": v for k, v in _spread(total).items()},
            **{f"{k}_{stat}": s[stat] for k, s in spreads.items() for stat in ("sd", "cv")},
            **{f"per_seed_{k}": v.tolist() for k, v in extra.items()}, "effects": effects,
            "cost_items": cost_item_spread(items, extra["extra_cost"]),
            "per_seed_cost_items": {c: v.tolist() for c, v in items.items()}}


def indicator_changes(base: pd.DataFrame, variant: pd.DataFrame, years: tuple[int, ...]) -> dict[tuple[str, int], float]:
    """One paired run's change (variant − base) in each plan indicator in each of ``years`` (those the runs reach),
    keyed (indicator, year)."""
    a, b = (t.set_index("year") for t in (base, variant))
    return {(key, year): float(b.at[year, key] - a.at[year, key])
            for key in plan_indicators() for year in years if year in a.index}


def _paired(base: Design, designs: list[Design], seeds: list[int], scale: float, end_year: int,
            workers: int | Executor, vary_population: bool = False) -> list[list[dict[str, Any]]]:
    """Per design, the ``leverage`` of its run against the base's run with the same seed (and, with
    ``vary_population``, the same 2015 population drawn from that seed), for each seed, with the change in each
    plan indicator in the effect years (``changes``, ``indicator_changes``)."""
    runs = [base, *designs]
    tables = run_many([(d, seed, scale, end_year, vary_population) for d in runs for seed in seeds], workers)
    by_run = [tables[i * len(seeds):(i + 1) * len(seeds)] for i in range(len(runs))]
    return [[{**leverage(b, v), "changes": indicator_changes(b, v, EFFECT_YEARS)} for b, v in zip(by_run[0], own)]
            for own in by_run[1:]]


def leverage_spread(base: DesignLike, variants: list[DesignLike], seeds: list[int], scale: float, end_year: int = 2035,
                    workers: int | Executor = 1, vary_population: bool = False) -> pd.DataFrame:
    """Per variant: business R&D per public yuan per seed, its mean, sd, coefficient of variation (sd / |mean|),
    min and max over ``seeds``; the mean extra business R&D, public R&D and public cost (亿元, with ``*_sd`` and
    ``per_seed_*``); the same spread for total R&D per public yuan (business + universities' and institutes',
    what the R&D intensity indicator counts) in the ``total_*`` columns; ``effects``, the spread of the change in
    each plan indicator in 2030 and 2035 ({(indicator, year): {mean, sd, cv, min, max}}), where a design that
    aims at something other than R&D shows how precisely it moves that; ``cost_items``, the extra public cost by
    item (each ``spend_*`` and ``tax_expenditure_*`` column, over the same window) with its spread and share of the
    extra cost's variance ({item: {mean, sd, cv, min, max, var_share}}; ``cost_item_spread``) and
    ``per_seed_cost_items`` ({item: per-seed values}). ``vary_population``: each seed's variant
    and base start from the 2015 population that seed draws, so the spread also holds the population's."""
    return _spread_and_parts(base, variants, seeds, scale, end_year, workers, split=False,
                             vary_population=vary_population)[0]


def package_parts(base: DesignLike, variants: list[DesignLike], seeds: list[int], scale: float, end_year: int = 2035,
                  workers: int | Executor = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``leverage_spread`` of the variants and the parts of each package 组合方案 (a variant with two or more
    ``components``), from one set of runs: the base and variant runs serve both; only the components are run
    in addition, with the same seeds.

    The parts table has, per package, one row per component (``role`` "component", ``section`` the section it
    takes from the variant) and the package's own row (``role`` "package"), each with ``leverage_spread``'s
    columns; the package row also has the interaction 交互作用: its mean extra business R&D minus the sum of its
    components' (``interaction_rd``, 亿元), the same for public R&D and public cost (``interaction_public_rd``,
    ``interaction_cost``). Zero interaction = the parts add up."""
    return _spread_and_parts(base, variants, seeds, scale, end_year, workers, split=True)


def _spread_and_parts(base: DesignLike, variants: list[DesignLike], seeds: list[int], scale: float, end_year: int,
                      workers: int | Executor, split: bool, vary_population: bool = False
                      ) -> tuple[pd.DataFrame, pd.DataFrame]:
    base = as_design(base)
    designs = [as_design(v) for v in variants]
    parts = [components(base, d) if split else {} for d in designs]
    levs = _paired(base, [*designs, *(p for ps in parts for p in ps.values())], seeds, scale, end_year, workers,
                   vary_population)
    spread = pd.DataFrame([{"variant": d.name, **_summary(lv)} for d, lv in zip(designs, levs)])
    own = iter(levs[len(designs):])
    rows = []
    for design, package, ps in zip(designs, spread.to_dict("records"), parts):
        if not ps:
            continue
        comps = [{"variant": design.name, "component": p.name, "section": key, "role": "component",
                  **_summary(next(own))} for key, p in ps.items()]
        interaction = {_interaction(k): package[k] - sum(c[k] for c in comps) for k in EXTRAS}
        rows += [*comps, {**package, "component": design.name, "section": ", ".join(ps), "role": "package",
                          **interaction}]
    columns = ["variant", "component", "section", "role", *spread.columns[1:], *map(_interaction, EXTRAS)]
    return spread, pd.DataFrame(rows, columns=columns)


def rank_stability(spread: pd.DataFrame) -> tuple[pd.DataFrame, float]:
    """Does seed noise reorder the designs? From ``leverage_spread``'s per-seed values: for each pair of variants,
    in how many seeds their order differs from the order of their means (a pair whose means tie counts as never
    reordered), and the share of seeds whose whole ranking is the ranking of the means. Returns
    (pairs reordered in at least one seed, with ``seeds`` and ``share``; that share of seeds)."""
    names = list(spread["variant"])
    values = np.array(list(spread["per_seed"]), dtype=float)  # (variants, seeds)
    means = values.mean(axis=1)
    n_seeds = values.shape[1]
    rows = []
    same = np.ones(n_seeds, dtype=bool)
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            if means[i] == means[j]:
                continue
            hi, lo = (i, j) if means[i] > means[j] else (j, i)
            swapped = values[hi] < values[lo]
            same &= ~swapped
            if swapped.any():
                rows.append({"higher": names[hi], "lower": names[lo], "mean_higher": float(means[hi]),
                             "mean_lower": float(means[lo]), "seeds": int(swapped.sum()),
                             "share": float(swapped.mean())})
    pairs = pd.DataFrame(rows, columns=["higher", "lower", "mean_higher", "mean_lower", "seeds", "share"])
    return pairs.sort_values(["seeds", "higher"], ascending=[False, True]).reset_index(drop=True), float(same.mean())


def scale_fidelity(scenario: str | Path, seeds: list[int], small: float = 0.25, large: float = 1.0,
                   years: tuple[int, ...] = FIDELITY_YEARS, workers: int | Executor = 1,
                   indicators: list[str] | None = None, vary_population: bool = True) -> pd.DataFrame:
    """Seed mean and standard error of each plan indicator at both scales in each year.

    ``z`` = (mean_small − mean_large) / SE of the difference (√(se_small² + se_large²)); ``z_large`` divides by
    the full-scale standard error alone (the stricter reading). ``faithful`` = |z| ≤ 2.
    """
    indicators = indicators or plan_indicators()
    end = max(years)
    tasks = [(str(scenario), s, sc, end, vary_population) for sc in (small, large) for s in seeds]
    tables = run_many(tasks, workers)
    by_scale = {small: tables[:len(seeds)], large: tables[len(seeds):]}
    rows = []
    for key in indicators:
        for year in years:
            stats = {}
            for name, sc in (("small", small), ("large", large)):
                v = np.array([t.loc[t["year"] == year, key].item() for t in by_scale[sc]], dtype=float)
                stats[f"mean_{name}"] = float(v.mean())
                stats[f"se_{name}"] = float(v.std(ddof=1) / math.sqrt(len(v))) if len(v) > 1 else math.nan
            diff = stats["mean_small"] - stats["mean_large"]
            se = math.hypot(stats["se_small"], stats["se_large"])
            z = diff / se if se > 0 else (0.0 if diff == 0 else math.inf)
            z_large = diff / stats["se_large"] if stats["se_large"] > 0 else (0.0 if diff == 0 else math.inf)
            rows.append({"indicator": key, "year": year, **stats, "diff_pct": 100 * diff / stats["mean_large"]
                         if stats["mean_large"] else math.nan, "z": z, "z_large": z_large, "faithful": abs(z) <= 2.0})
    return pd.DataFrame(rows)


def population_position(scenario: str | Path, seeds: list[int], scale: float = 1.0,
                        years: tuple[int, ...] = FIDELITY_YEARS, workers: int | Executor = 1,
                        indicators: list[str] | None = None) -> pd.DataFrame:
    """Where the scenario's one fixed 2015 population (the default every run starts from, and the calibration was
    fitted on) lies among the populations the synthesis draws 默认人口的代表性: per plan indicator and year, the
    seed mean and sd on the fixed population (``mean_fixed``, ``sd_fixed``: the dynamics' spread alone) and over
    runs that each draw their own population with their seed (``mean_own``, ``sd_own``: population and dynamics);
    ``diff_pct`` = mean_fixed / mean_own − 1; ``z`` = (mean_fixed − mean_own) / sd_own, the fixed population's
    seed mean in units of one own-population run's spread; ``rank`` = the share of own-population runs below the
    fixed population's seed mean; ``population_share`` = 1 − sd_fixed² / sd_own², the part of a run's variance
    that the population draw adds (0 when it adds none)."""
    indicators = indicators or plan_indicators()
    tasks = [(str(scenario), s, scale, max(years), vary) for vary in (False, True) for s in seeds]
    tables = run_many(tasks, workers)
    fixed, own = tables[:len(seeds)], tables[len(seeds):]
    rows = []
    for key in indicators:
        for year in years:
            f, o = (np.array([t.loc[t["year"] == year, key].item() for t in ts], dtype=float) for ts in (fixed, own))
            mean_f, mean_o = float(f.mean()), float(o.mean())
            sd_f, sd_o = float(f.std(ddof=1)), float(o.std(ddof=1))
            rows.append({"indicator": key, "year": year, "mean_fixed": mean_f, "sd_fixed": sd_f, "mean_own": mean_o,
                         "sd_own": sd_o, "diff_pct": 100 * (mean_f / mean_o - 1) if mean_o else math.nan,
                         "z": (mean_f - mean_o) / sd_o if sd_o > 0 else (0.0 if mean_f == mean_o else math.nan),
                         "rank": float(np.mean(o < mean_f)),
                         "population_share": max(1.0 - sd_f ** 2 / sd_o ** 2, 0.0) if sd_o > 0 else 0.0})
    return pd.DataFrame(rows)


ANATOMY_TOP = 5  # ``firm_effects``: the share of the net change carried by this many largest changes
# ``firm_effects``' channels: where a changed firm's run first departs from its base run, in the order of the year's
# steps; key: (label, what departs)
CHANNELS = {
    "entry_exit": ("entry or exit 进入或退出", "the firm is alive in one run only"),
    "sales": ("sales 销售收入", "its revenue, set at the start of the year: the sector's demand re-divided, as the "
              "firms that innovate gain market share from the others (replicator dynamics, docs/ODD.md)"),
    "grants": ("grants, vouchers, rewards 资助、创新券与奖励", "a voucher, or (with the same R&D decision) the grants and "
               "rewards it receives: a budget re-allotted, or the design's own money"),
    "own": ("own R&D decision 自身研发决策", "its planned R&D intensity or its reported R&D: the design's price or "
            "eligibility acts on it"),
    "knowledge": ("knowledge 知识存量", "its knowledge stock: bought, learned or lost through the markets it shares"),
}
_PATH_COLUMNS = ("rd", "revenue", "rd_int", "voucher", "subsidy", "knowledge")
# ``firm_effects``: a firm's value departs materially from its base run's where they differ by more than this share;
# smaller departures (a sector's demand re-divided among thousands of firms, a spillover) reach nearly every firm
# from a design's second year, and a firm first reached so would otherwise be counted there whatever befell it later
MATERIAL = 1e-3


def _paths(spec: RunSpec, years: tuple[int, int]) -> dict[int, dict[str, np.ndarray]]:
    """One run's firms in each year ``first``..``last``: uid and ``_PATH_COLUMNS`` (copies)."""
    from qhsim.runner import run

    first, last = years
    out: dict[int, dict[str, np.ndarray]] = {}

    def keep(model) -> None:
        if first <= model.year <= last:
            out[model.year] = {c: getattr(model.firms, c).copy() for c in ("uid", *_PATH_COLUMNS)}

    with calibration_switch(spec.calibrated):
        run(scenario_of(spec), seed=spec.seed, scale=spec.scale, end_year=last, population_seed=spec.population_seed,
            on_step=keep)
    return out


def differs(a: np.ndarray, b: np.ndarray, tol: float | np.ndarray) -> np.ndarray:
    """Where two paired runs' values differ by more than ``tol`` of the larger (0: at all), as floats (flags as 0 and
    1); values within 1e-12 of zero count as zero. The one test of ``firm_effects`` and
    ``benchmarks/coupling_report.py``. ``tol`` a column of tolerances: a row per tolerance, the differences computed
    once."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return np.abs(a - b) > tol * np.maximum(np.maximum(np.abs(a), np.abs(b)), 1e-12)


def _departures(b: dict[str, np.ndarray], v: dict[str, np.ndarray], tol: float | np.ndarray) -> np.ndarray:
    """The ``CHANNELS`` code through which each firm's variant run departs from its base run this year (-1: none),
    in the order of the year's steps (``QinghaiModel.step``): alive in one run only; its revenue (growth comes
    first); a voucher (awarded before the R&D decisions) or, with the same decision, grants and rewards received;
    its R&D decision (planned intensity) or its reported R&D; its knowledge (the market and spillovers come last).
    A value departs where the two runs' values differ by more than ``tol`` of the larger (0: at all); ``tol`` a
    column of tolerances: a row of codes per tolerance."""
    both = b["alive"] & v["alive"]
    moved = {c: both & differs(b[c], v[c], tol) for c in ("revenue", "rd_int", "subsidy", "rd", "knowledge")}
    return np.select([b["alive"] != v["alive"], moved["revenue"],
                      (both & (b["voucher"] != v["voucher"])) | (~moved["rd_int"] & moved["subsidy"]),
                      moved["rd_int"] | moved["rd"], moved["knowledge"]], list(range(len(CHANNELS))), -1)


_ANATOMY_TOLS = np.array([[MATERIAL], [0.0]])  # a firm's material departures, then its departures at all


def _anatomy(task: tuple[RunSpec, RunSpec, tuple[int, int]]) -> dict[str, float]:
    """A variant's change in reported business R&D against its base under the same seed, summed over the years and
    taken apart firm by firm, each changed firm by the channel where its run first departs materially from the base
    run (``_departures`` by more than ``MATERIAL``), or, for a firm that never does (a ripple: a share of its
    sector's demand, a spillover), where it first departs at all. The worker function of ``firm_effects``: both runs
    in one call, so that only the summary leaves the worker."""
    base_spec, variant_spec, years = task
    runs = [_paths(spec, years) for spec in (base_spec, variant_spec)]
    uids = np.unique(np.concatenate([p["uid"] for r in runs for p in r.values()]))
    n = len(uids)
    total = [np.zeros(n), np.zeros(n)]
    material, first = np.full(n, -1), np.full(n, -1)
    for year in range(years[0], years[1] + 1):
        aligned = []
        for k, r in enumerate(runs):
            at = np.searchsorted(uids, r[year]["uid"])
            cols = {"alive": np.zeros(n, dtype=bool)}
            cols["alive"][at] = True
            for c in _PATH_COLUMNS:
                cols[c] = np.zeros(n, dtype=r[year][c].dtype)
                cols[c][at] = r[year][c]
            total[k] += cols["rd"]
            aligned.append(cols)
        now_material, now_first = _departures(*aligned, _ANATOMY_TOLS)
        material = np.where(material < 0, now_material, material)
        first = np.where(first < 0, now_first, first)
    channel = np.where(material >= 0, material, first)
    change = (total[1] - total[0]) / base_spec.scale / WAN_PER_YI
    changed = change != 0.0
    change, channel = change[changed], channel[changed]
    net = float(change.sum())
    largest = change[np.argsort(-np.abs(change), kind="stable")[:ANATOMY_TOP]]
    row = {"net": net, "up": float(change[change > 0].sum()), "down": float(change[change < 0].sum()),
           "firms": int(change.size), "top": float(largest.sum() / net) if net else math.nan}
    for k, name in enumerate(CHANNELS):
        c = change[channel == k]
        row[f"{name}_up"], row[f"{name}_down"] = float(c[c > 0].sum()), float(c[c < 0].sum())
    return row


def firm_effects(base: DesignLike, variants: list[DesignLike], seeds: list[int], scale: float,
                 years: tuple[int, int] = (2026, 2035), workers: int | Executor = 1) -> pd.DataFrame:
    """For each variant and seed, its change in reported business R&D against the base under the same seed, summed
    over ``years`` (first, last) and taken apart firm by firm (a firm absent from one run counts 0 there): ``net``
    (亿元, the province's total as the indicators scale it: the sum of the yearly changes in ``business_rd``),
    ``up`` and ``down`` (the sums of the firms' rises and falls), ``firms`` (how many changed), ``top`` (the share of
    ``net`` carried by the ``ANATOMY_TOP`` largest changes, signed) and, for each of ``CHANNELS``, ``<channel>_up``
    and ``<channel>_down``: the rises and falls of the firms whose run first departed from the base there (by more
    than ``MATERIAL``, else at all: ``_anatomy``)."""
    designs = [as_design(d) for d in (base, *variants)]
    tasks = [(run_spec(designs[0], None, seed, scale, years[1]), run_spec(d, None, seed, scale, years[1]), years)
             for d in designs[1:] for seed in seeds]
    with Engine(workers) as engine:
        rows = engine.map_calls(_anatomy, tasks)
    keys = [(d.name, seed) for d in designs[1:] for seed in seeds]
    return pd.DataFrame([{"variant": name, "seed": seed, **row} for (name, seed), row in zip(keys, rows)])
