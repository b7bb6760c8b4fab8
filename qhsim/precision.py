"""Precision of policy effects 政策效应精度: seed-to-seed spread of paired comparisons, and scale fidelity.

Two checks an analyst needs before trusting a design ranking (issue #8 item 3):

- ``leverage_spread``: for each variant, its business R&D per public yuan against its base under common random
  numbers (``qhsim.experiments.comparison.leverage`` / ``rd_per_yuan``, the definition ``qhsim compare`` uses),
  over several dynamics seeds; its coefficient of variation says whether one run ranks designs reliably. The same
  for total R&D per public yuan (business + universities' and institutes' R&D), where vouchers, talent grants
  and technology transfer act.
- ``rank_stability``: whether that spread reorders the designs — the pairs of variants whose order differs from
  the order of their means in some seeds, and the share of seeds that give the mean ranking.
- ``scale_fidelity``: the seed mean of the nine plan indicators at a reduced scale against the full-scale seed
  mean; a reduced scale is faithful when the difference is within two standard errors. Each seed also draws its
  own 2015 population (``vary_population``): a reduced-scale population is one particular part of the full one,
  so with a single fixed population the comparison would measure that part's luck, not the scale.

``benchmarks/precision_report.py`` prints both; ``tests/test_precision.py`` runs a light form.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd

from qhsim.experiments.comparison import leverage
from qhsim.experiments.designs import design_from_file, run_spec
from qhsim.experiments.engine import Engine, Executor
from qhsim.results import PROVINCE

PLAN_GROUP = "plan_2020"
FIDELITY_YEARS = (2020, 2025, 2035)


def plan_indicators() -> list[str]:
    """The nine indicators of the 2020 plan table (calibration/targets.toml group plan_2020), in file order."""
    from qhsim.calibrated import target_rows

    return list(dict.fromkeys(r["indicator"] for r in target_rows() if r.get("group") == PLAN_GROUP))


def run_many(tasks: list[tuple[str, int, float, int, bool]], workers: int | Executor = 1) -> list[pd.DataFrame]:
    """Province tables of (scenario, seed, scale, end_year, vary_population) runs, in task order, on the
    experiments engine (its executors; results independent of ``workers``). ``vary_population`` draws the 2015
    population with the run's seed; otherwise every run starts from the scenario's fixed population."""
    designs = {sc: design_from_file(sc) for sc in dict.fromkeys(t[0] for t in tasks)}
    specs = [dataclasses.replace(run_spec(designs[sc], None, seed, scale, end),
                                 population_seed=seed if vary else None)
             for sc, seed, scale, end, vary in tasks]
    with Engine(workers) as engine:
        tables = engine.map(specs)
    return [t[t["region"] == PROVINCE].reset_index(drop=True) for t in tables]


def _spread(values: np.ndarray) -> dict[str, float]:
    """Mean, sd, coefficient of variation (sd / |mean|), min and max over seeds."""
    mean, sd = float(np.mean(values)), float(np.std(values, ddof=1)) if len(values) > 1 else math.nan
    return {"mean": mean, "sd": sd, "cv": sd / abs(mean) if mean else math.nan,
            "min": float(values.min()), "max": float(values.max())}


def leverage_spread(base: str | Path, variants: list[str | Path], seeds: list[int], scale: float, end_year: int = 2035,
                    workers: int | Executor = 1) -> pd.DataFrame:
    """Per variant: business R&D per public yuan per seed, its mean, sd, coefficient of variation (sd / |mean|),
    min and max over ``seeds``; the same for total R&D per public yuan (business + universities' and institutes',
    what the R&D intensity indicator counts) in the ``total_*`` columns."""
    scenarios = [str(base), *map(str, variants)]
    tasks = [(sc, seed, scale, end_year, False) for sc in scenarios for seed in seeds]
    tables = dict(zip([(t[0], t[1]) for t in tasks], run_many(tasks, workers)))
    rows = []
    for variant in scenarios[1:]:
        levs = [leverage(tables[(scenarios[0], s)], tables[(variant, s)]) for s in seeds]
        values = np.array([lv["leverage"] for lv in levs])
        total = np.array([lv["total_leverage"] for lv in levs])
        rows.append({
            "variant": Path(variant).stem, **_spread(values),
            "extra_rd": float(np.mean([lv["extra_business_rd"] for lv in levs])),
            "extra_public_rd": float(np.mean([lv["extra_public_rd"] for lv in levs])),
            "extra_cost": float(np.mean([lv["extra_public_cost"] for lv in levs])),
            "per_seed": values.tolist(),
            **{f"total_{k}": v for k, v in _spread(total).items()},
        })
    return pd.DataFrame(rows)


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
