"""Where a projection's uncertainty comes from 预测不确定性的来源: the calibrated parameters or the dynamics' luck.

A projection with ``--draws`` mixes two kinds of spread: between the parameter sets of the calibrated ensemble
(calibration/calibrated.toml ``[ensemble]``) and between the dynamics seeds a set runs with. ``nested_runs`` runs a
nested design — P parameter sets, each with its own S seeds (no seed shared between sets: under common random
numbers a seed shared by every set moves them together, and its luck would pass for agreement between the sets) —
and ``variance_parts`` splits the variance of one indicator in one year by the law of total variance,

    Var(Y) = E[Var(Y | θ)] + Var(E[Y | θ])                                (seed noise + parameter uncertainty),

the parameter part once more where the sets are level samples of posterior draws (``Calibration.draw_of``):

    Var(E[Y | θ]) = E[Var(E[Y | θ] | draw)] + Var(E[Y | draw])    (level samples within a draw + between draws).

The estimators are the one-way random-effects (ANOVA) ones, weighted (``one_way``): with equal weights the
between-unit variance is (MSB − MSW) / S, the classical unbiased estimator (Searle, Casella & McCulloch 1992,
Variance Components, ch. 3), and the seed part the mean within-set variance MSW. An estimate of a variance can come
out negative (the true part is small against its noise); ``shares`` counts it as 0. ``share_intervals`` gives
percentile intervals by resampling the top units (posterior draws) with their weights, so the intervals carry the
few draws the posterior rests on.

``drivers`` asks which parameters carry the parameter part: within a posterior draw, a weighted least-squares
regression (statsmodels) of the sets' mean outcomes on their standardised level parameters, with its R² and the
largest standardised coefficients; between draws, whose structural parameters vary over a few draws only and move
together there, the draw that contributes most. ``decomposition`` tabulates it all; benchmarks/uncertainty_report.py
writes the report (docs/uncertainty_report.md).

The design is conditional on the scenario's one fixed 2015 population (the one the calibration was fitted on), at
the given scale; the spread between populations is ``qhsim.precision.population_position``'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import statsmodels.api as sm

from qhsim import stats
from qhsim.calibrated import required_calibration
from qhsim.errors import InputError
from qhsim.experiments.designs import design_from_file, parameter_draws, run_spec
from qhsim.experiments.engine import Engine, Executor, Progress, progress_display
from qhsim.results import PROVINCE

PARTS = ("draws", "levels", "seeds")  # between posterior draws, level samples within a draw, seeds within a set
T_SHOWN = 3.0  # |t| a coefficient needs to be named: two-sided 5% Bonferroni-corrected over ~19 level parameters


class OneWay(NamedTuple):
    mean: float  # the weighted mean of the unit means
    between: float  # unbiased estimate of the variance between the units' true means
    mean_variance: float  # the variance of ``mean`` (the units' spread and their own noise)


def one_way(means: np.ndarray, noise: np.ndarray, weights: np.ndarray) -> OneWay:
    """One weighted one-way random-effects step: units with estimated ``means`` (each off its true mean by an error
    of variance ``noise``, estimated unbiasedly, independent between units) and ``weights`` summing to 1.

    E[Σ w (ȳ − ȳ_w)²] = τ² (1 − Σ w²) + Σ w (1 − w) v, so τ² = (Σ w (ȳ − ȳ_w)² − Σ w (1 − w) v) / (1 − Σ w²), the
    weighted form of (MSB − MSW) / S; the weighted mean's variance is Σ w² (τ² + v). A single unit has no
    spread to estimate (0)."""
    w = np.asarray(weights, dtype=float)
    y, v = np.asarray(means, dtype=float), np.asarray(noise, dtype=float)
    mean = float(w @ y)
    if len(y) == 1:
        return OneWay(mean, 0.0, float(v[0]))
    tau = float((w @ (y - mean) ** 2 - (w * (1.0 - w)) @ v) / (1.0 - w @ w))
    return OneWay(mean, tau, float((w * w) @ (tau + v)))


def variance_parts(values: np.ndarray, weights: np.ndarray | None = None,
                   groups: np.ndarray | None = None) -> dict[str, float]:
    """The variance of one outcome over a nested design split by the law of total variance.

    ``values``: (P sets, S seeds), each set with its own seeds; ``weights``: the sets' (None: alike; normalised
    here); ``groups``: the posterior draw each set belongs to (None: each set its own draw). Returns the weighted
    ``mean`` and unbiased estimates of the variance ``seeds`` (E[Var(Y | set)], the weighted mean of the sets'
    seed variances), ``levels`` (the spread of the sets' true means within a draw, weighted over draws), ``draws``
    (between the draws' true means), their sum ``parameters`` and the ``total``. A draw with a single set counts its
    level spread, which it cannot show, among ``draws``."""
    y = np.asarray(values, dtype=float)
    if y.ndim != 2 or y.shape[1] < 2:
        raise ValueError(f"values: expected (sets, seeds) with at least 2 seeds, got shape {y.shape}")
    n_sets, n_seeds = y.shape
    w = np.full(n_sets, 1.0 / n_sets) if weights is None else np.asarray(weights, dtype=float) / np.sum(weights)
    _, group = np.unique(np.arange(n_sets) if groups is None else np.asarray(groups), return_inverse=True)
    within = y.var(axis=1, ddof=1)
    set_mean, set_noise = y.mean(axis=1), within / n_seeds
    n_groups = group.max() + 1
    draw_mean, draw_noise, draw_weight = np.empty(n_groups), np.empty(n_groups), np.empty(n_groups)
    levels = 0.0
    for k in range(n_groups):
        sel = group == k
        draw_weight[k] = w[sel].sum()
        step = one_way(set_mean[sel], set_noise[sel], w[sel] / draw_weight[k])
        draw_mean[k], draw_noise[k] = step.mean, step.mean_variance
        levels += draw_weight[k] * step.between
    top = one_way(draw_mean, draw_noise, draw_weight)
    seeds = float(w @ within)
    return {"mean": top.mean, "draws": top.between, "levels": levels, "seeds": seeds,
            "parameters": top.between + levels, "total": top.between + levels + seeds}


def shares(parts: dict[str, float]) -> dict[str, float]:
    """Each of ``PARTS`` and the parameters' part as a share of the variance, a negative estimate counted as 0
    (the shares of ``PARTS`` sum to 1; NaN when no part is positive)."""
    pos = {k: max(parts[k], 0.0) for k in PARTS}
    total = sum(pos.values())
    out = {k: pos[k] / total if total > 0 else float("nan") for k in PARTS}
    out["parameters"] = out["draws"] + out["levels"]
    return out


def share_intervals(values: np.ndarray, weights: np.ndarray | None = None, groups: np.ndarray | None = None,
                    n_boot: int = 2000, level: float = 0.90, seed: int = 0) -> dict[str, tuple[float, float]]:
    """Percentile intervals (``level``) of ``shares`` by the bootstrap over the top units: the posterior draws
    (each set when ``groups`` is None) are resampled with replacement, each with its sets, their seeds and their
    weights (renormalised), a draw taken twice counting as two (Davison & Hinkley 1997, sec. 3.8). The
    intervals are wide when the weight rests on a few draws."""
    y = np.asarray(values, dtype=float)
    n_sets = len(y)
    w = np.ones(n_sets) if weights is None else np.asarray(weights, dtype=float)
    _, group = np.unique(np.arange(n_sets) if groups is None else np.asarray(groups), return_inverse=True)
    members = [np.flatnonzero(group == k) for k in range(group.max() + 1)]
    rng = np.random.default_rng(seed)
    draws = {k: [] for k in (*PARTS, "parameters")}
    for _ in range(n_boot):
        picked = rng.integers(len(members), size=len(members))
        rows = np.concatenate([members[k] for k in picked])
        labels = np.repeat(np.arange(len(picked)), [len(members[k]) for k in picked])
        if w[rows].sum() <= 0:
            continue
        for k, v in shares(variance_parts(y[rows], w[rows], labels)).items():
            draws[k].append(v)
    tail = 100 * (1 - level) / 2
    return {k: tuple(float(x) for x in np.nanpercentile(v, [tail, 100 - tail])) for k, v in draws.items()}


class NestedRuns(NamedTuple):
    """A nested design's province results: ``values[key]`` is (years, sets, seeds) for each indicator ``key``."""

    years: list[int]
    values: dict[str, np.ndarray]
    parameters: pd.DataFrame  # one row per set: its parameter values
    weights: np.ndarray  # per set, summing to 1
    groups: np.ndarray  # per set, the posterior draw it is a level sample of
    seeds: np.ndarray  # (sets, seeds): the seed of each run
    source: str  # where the sets come from (``designs.draws_source``)

    def at(self, key: str, year: int) -> np.ndarray:
        """(sets, seeds) values of indicator ``key`` in ``year``."""
        return self.values[key][self.years.index(year)]


def nested_runs(scenario: str | Path, indicators: Sequence[str], sets: int | None = None, seeds: int = 4,
                scale: float = 1.0, end_year: int = 2035, workers: int | Executor = 1, draw_seed: int = 0,
                progress: bool = False) -> NestedRuns:
    """Run ``sets`` parameter sets of the calibrated ensemble (None: every set it holds; fewer: chosen and weighted
    as ``qhsim run --draws`` chooses them, ``Calibration.selection``), set k (0, 1, ...) with seeds k·S + 1 ...
    k·S + S (S = ``seeds``), on the scenario's fixed 2015 population, and keep the province's ``indicators``."""
    cal = required_calibration()
    if len(cal.draws) == 0:
        raise InputError(f"{cal.path}: [ensemble]: the calibration holds no parameter sets to draw from")
    chosen = parameter_draws(cal.available if sets is None else sets, draw_seed, cal)
    design = design_from_file(scenario)
    seed_of = np.arange(len(chosen.thetas))[:, None] * seeds + np.arange(1, seeds + 1)
    specs = [run_spec(design, theta, int(s), scale, end_year) for theta, row in zip(chosen.thetas, seed_of)
             for s in row]
    bar = Progress(len(specs), "uncertainty", progress and progress_display())
    try:
        with Engine(workers) as engine:
            tables = engine.map(specs, progress=bar)
    finally:
        bar.close()
    province = [t[t["region"] == PROVINCE].set_index("year") for t in tables]
    years = [int(y) for y in province[0].index]
    values = {key: np.stack([t[key].to_numpy(dtype=float) for t in province], axis=1)
              .reshape(len(years), len(chosen.thetas), seeds) for key in indicators}
    groups = cal.draw_of[chosen.rows] if cal.draw_of is not None else chosen.rows
    return NestedRuns(years, values, pd.DataFrame(chosen.thetas), np.asarray(chosen.weights, dtype=float), groups,
                      seed_of, chosen.source)


def _by_group_mean(values: np.ndarray, weights: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Each row's group's weighted mean of ``values`` (rows, or rows x columns)."""
    v = np.asarray(values, dtype=float).reshape(len(weights), -1)
    out = np.empty_like(v)
    for k in np.unique(groups):
        sel = groups == k
        out[sel] = weights[sel] @ v[sel] / weights[sel].sum()
    return out.reshape(np.shape(values))


def drivers(runs: NestedRuns, key: str, year: int, top: int = 3) -> dict[str, object]:
    """Which parameters carry the spread between parameter sets of indicator ``key`` in ``year``.

    Within posterior draws (the level samples): a weighted least-squares regression (statsmodels) of the sets' mean
    outcomes on their standardised parameters with an effect per draw, i.e. both taken as deviations from their
    draw's weighted mean and standardised by their weighted sd there; only the parameters that vary within a draw
    enter. ``r2`` is its R²; ``r2_ceiling`` the most the set means allow, their true spread within draws over it
    plus their seed noise (levels / (levels + seeds / S)): an R² above it fits seed noise; ``coefficients`` the
    ``top`` largest standardised coefficients whose robust t (HC1) reaches ``T_SHOWN``, {name: (beta, t)}. The level
    samples are correlated (drawn from each re-fit's Laplace approximation), so two parameters that offset each
    other in the fit get large partial coefficients of opposite sign. When every draw has a single set (an ensemble
    without level samples) the sets are the draws, and the regression is across them with a constant. No regression
    (NaN, no coefficients) when the sets leave fewer residual degrees of freedom than there are parameters.

    Between posterior draws the structural parameters (constant within a draw) vary over the few draws only, move
    together there (the fit re-fits each draw's levels to its structure), and cannot be told apart: ``heaviest``
    names the draw whose mean contributes most to the between-draw spread, W_g (ȳ_g − ȳ)² / Σ, with that share."""
    y_runs = runs.at(key, year)
    w = runs.weights
    groups = np.asarray(runs.groups)
    nested = np.unique(groups, return_counts=True)[1].max() > 1
    by = groups if nested else np.zeros(len(groups), dtype=int)
    y = y_runs.mean(axis=1)
    x = runs.parameters.to_numpy(dtype=float)
    dy, dx = y - _by_group_mean(y, w, by), x - _by_group_mean(x, w, by)
    sd_x, sd_y = np.sqrt(w @ dx ** 2), np.sqrt(w @ dy ** 2)
    keep = sd_x > 1e-12 * (1.0 + np.abs(x).max(axis=0))
    out: dict[str, object] = {"r2": float("nan"), "r2_ceiling": float("nan"), "coefficients": {}}
    residual_dof = len(y) - len(np.unique(by)) - int(keep.sum())
    if sd_y > 0 and keep.any() and residual_dof >= keep.sum():
        fit = sm.WLS(dy / sd_y, dx[:, keep] / sd_x[keep], weights=w).fit(cov_type="HC1")
        found = [(name, (float(b), float(t))) for name, b, t in zip(runs.parameters.columns[keep], fit.params,
                                                                     fit.tvalues) if abs(t) >= T_SHOWN]
        out["r2"] = float(fit.rsquared)  # uncentred, of deviations whose weighted mean is 0: the usual R²
        out["coefficients"] = dict(sorted(found, key=lambda kv: -abs(kv[1][0]))[:top])
        parts = variance_parts(y_runs, w, groups)
        spread = parts["levels"] if nested else parts["draws"]
        out["r2_ceiling"] = max(spread, 0.0) / (max(spread, 0.0) + parts["seeds"] / y_runs.shape[1])
    _, g = np.unique(groups, return_inverse=True)
    weight = np.bincount(g, weights=w)
    mean_g = np.bincount(g, weights=w * y) / weight
    contrib = weight * (mean_g - w @ y) ** 2
    k = int(np.argmax(contrib))
    out["heaviest"] = {"draw": int(np.unique(groups)[k]), "weight": float(weight[k]), "mean": float(mean_g[k]),
                       "share": float(contrib[k] / contrib.sum()) if contrib.sum() > 0 else float("nan")}
    return out


def decomposition(runs: NestedRuns, indicators: Sequence[str], years: Sequence[int], n_boot: int = 2000,
                  level: float = 0.90) -> pd.DataFrame:
    """Per indicator and year: the weighted mean, median and 5-95% band of all runs (each weighing its set's weight
    over S), ``variance_parts``, ``shares`` with their ``share_intervals`` (columns ``<part>_lo`` / ``_hi``), and
    ``drivers`` (``r2_within``, ``r2_ceiling``, ``driver1..3`` with ``beta1..3`` and ``t1..3``, ``heaviest_*``)."""
    out = []
    for key in indicators:
        for year in years:
            y = runs.at(key, year)
            run_weight = np.repeat(runs.weights / y.shape[1], y.shape[1])
            p05, median, p95 = stats.quantile(y.ravel(), run_weight)
            parts = variance_parts(y, runs.weights, runs.groups)
            share = shares(parts)
            ci = share_intervals(y, runs.weights, runs.groups, n_boot, level)
            out.append({"indicator": key, "year": year, "median": median, "p05": p05, "p95": p95,
                        **{f"var_{k}": v for k, v in parts.items() if k != "mean"}, "mean": parts["mean"],
                        **{f"share_{k}": share[k] for k in (*PARTS, "parameters")},
                        **{f"share_{k}_{end}": ci[k][i] for k in (*PARTS, "parameters")
                           for i, end in enumerate(("lo", "hi"))},
                        **_driver_columns(drivers(runs, key, year))})
    return pd.DataFrame(out)


def _driver_columns(found: dict[str, object]) -> dict[str, object]:
    cols: dict[str, object] = {"r2_within": found["r2"], "r2_ceiling": found["r2_ceiling"]}
    named = list(found["coefficients"].items())
    for i in range(3):
        name, (beta, t) = named[i] if i < len(named) else ("", (float("nan"), float("nan")))
        cols.update({f"driver{i + 1}": name, f"beta{i + 1}": beta, f"t{i + 1}": t})
    cols.update({f"heaviest_{k}": v for k, v in found["heaviest"].items()})
    return cols
