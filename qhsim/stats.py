"""Weighted statistics over runs 按权重汇总多次运行: means, quantiles and probabilities where runs weigh unlike.

A comparison or sweep run with ``--draws`` runs a few draws of the calibrated posterior, each with every seed; a
run's weight is its draw's weight in the posterior over its chance of being chosen (``Calibration.selection``),
shared by the draw's seeds. Every statistic over such runs — the 90% bands, medians, means, P(target met), the
ranking — is weighted, so that a light draw counts for its weight, not for one run in N. Runs without weights
(a single scenario, the point estimate with several seeds) weigh alike, and the statistics are then exactly
numpy's (``np.quantile``'s default linear interpolation, ``mean``).

Quantiles of unequal weights use the weighted Hyndman-Fan type 7 estimator of Akinshin (2023, "Weighted quantile
estimators", arXiv:2304.07265): the quantile at p is the average of the sorted values over the window
[(h-1)/n*, h/n*] of cumulative normalised weight, with n* the Kish effective sample size (sum w)^2 / sum w^2 and
h = (n*-1) p + 1. With equal weights it is numpy's default estimator; a value of large weight pulls the
quantiles towards it, as if it had been run that many more times. (The calibration's posterior summaries use
their own midpoint estimator, ``qhsim.calibration.ensemble.weighted_quantiles``, on the sampler's particles.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

WEIGHT = "weight"  # the label column holding a run's weight (``qhsim.experiments.designs.expand``)


def _finite(values, weights) -> tuple[np.ndarray, np.ndarray | None]:
    """The finite values with positive weight, and their weights (None: equal weights)."""
    v = np.asarray(values, dtype=float).ravel()
    if weights is None:
        return v[np.isfinite(v)], None
    w = np.broadcast_to(np.asarray(weights, dtype=float).ravel(), v.shape)
    if not np.all(np.isfinite(w) & (w >= 0)):  # e.g. runs whose weights were not found
        raise ValueError(f"weights must be finite and non-negative (got {w[~(np.isfinite(w) & (w >= 0))][:3]})")
    keep = np.isfinite(v) & (w > 0)
    v, w = v[keep], w[keep]
    return v, (None if v.size == 0 or np.all(w == w[0]) else w)


def quantile(values, weights=None, qs: Sequence[float] = (0.05, 0.5, 0.95)) -> list[float]:
    """Weighted quantiles ``qs`` of the finite ``values`` (NaN if none); ``weights`` None or all equal: numpy's."""
    v, w = _finite(values, weights)
    if v.size == 0:
        return [math.nan] * len(qs)
    if w is None:
        return [float(x) for x in np.quantile(v, list(qs))]
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order] / w.sum()
    edges = np.concatenate([[0.0], np.cumsum(w)])
    edges[-1] = 1.0
    n = 1.0 / float(np.sum(w * w))  # Kish effective sample size
    out = []
    for p in qs:
        h = (n - 1.0) * p + 1.0
        lo, hi = (h - 1.0) / n, h / n
        cover = np.clip(np.minimum(edges[1:], hi) - np.maximum(edges[:-1], lo), 0.0, None)
        out.append(float(cover @ v / cover.sum()))
    return out


def median(values, weights=None) -> float:
    """Weighted median of the finite ``values`` (NaN if none)."""
    return quantile(values, weights, (0.5,))[0]


def mean(values, weights=None) -> float:
    """Weighted mean of the finite ``values`` (NaN if none)."""
    v, w = _finite(values, weights)
    if v.size == 0:
        return math.nan
    return float(v.mean()) if w is None else float(np.average(v, weights=w))


def probability(flags, weights=None) -> float:
    """Weighted share of True among the known ``flags`` (None for unknown; NaN if none is known)."""
    f = [(bool(x), 1.0 if weights is None else float(weights[i])) for i, x in enumerate(flags) if x is not None]
    if not f:
        return math.nan
    return mean([x for x, _ in f], None if weights is None else [w for _, w in f])


def summary(values, weights=None) -> dict[str, float]:
    """Mean, 5%, median and 95% of the finite values (NaN if none)."""
    p05, p50, p95 = quantile(values, weights)
    return {"mean": mean(values, weights), "p05": p05, "median": p50, "p95": p95}


QUANTILES = {"p05": 0.05, "median": 0.5, "p95": 0.95}  # the quantile statistics ``by_group`` knows


def by_group(frame: pd.DataFrame, keys: Sequence[str], values: Sequence[str],
             statistics: Sequence[str] = ("mean", "p05", "p95")) -> pd.DataFrame:
    """``statistics`` ("mean" and the ``QUANTILES``) of each of ``values`` per group of ``keys`` (rows = runs,
    weighted by the ``weight`` column where the frame has one): columns ``<value>_<statistic>``, statistic by
    statistic; index ``keys``. Groups whose runs weigh alike take pandas' vectorised estimators (numpy's; a sweep
    of thousands of points summarises in milliseconds), others ``mean`` and ``quantile`` group by group."""
    grouped = frame.groupby(list(keys), sort=False, dropna=False)
    if WEIGHT not in frame.columns or grouped[WEIGHT].nunique().max() <= 1:
        g = grouped[list(values)]
        pick = {"mean": g.mean, "median": g.median}
        table = pd.concat({s: pick[s]() if s in pick else g.quantile(QUANTILES[s]) for s in statistics}, axis=1)
        table.columns = [f"{v}_{stat}" for stat, v in table.columns]
        return table
    qs = [QUANTILES[s] for s in statistics if s != "mean"]
    # each group's rows in frame order, as numpy arrays: the same ``quantile`` and ``mean`` calls as group by group
    # through pandas' apply, without its cost per group (an export's by-year sheets have tens of thousands)
    codes = grouped.ngroup().to_numpy()
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(grouped.ngroups + 1))
    w = frame[WEIGHT].to_numpy(dtype=float)[order]
    columns = {}
    for v in values:
        x = frame[v].to_numpy(dtype=float)[order]
        spans = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]
        found = np.array([quantile(x[span], w[span], qs) for span in spans]).reshape(len(spans), len(qs))
        at = iter(range(len(qs)))
        for stat in statistics:
            columns[(stat, v)] = [mean(x[span], w[span]) for span in spans] if stat == "mean" else found[:, next(at)]
    table = pd.DataFrame({f"{v}_{stat}": columns[(stat, v)] for stat in statistics for v in values},
                         index=grouped.size().index)
    return table


def aligned(weights: pd.Series | None, index) -> np.ndarray | None:
    """``weights`` (one per run, e.g. ``run_weights``) in the order of ``index`` (runs), or None when there are none."""
    return None if weights is None else weights.reindex(index).to_numpy(dtype=float)


def run_weights(frame: pd.DataFrame, keys: Sequence[str]) -> pd.Series | None:
    """One weight per run of ``frame`` (rows of several years and regions per run; a run is identified by
    ``keys``, index levels or columns): its ``weight`` column indexed by ``keys``, or None when the frame has no
    weights (its runs weigh alike)."""
    if WEIGHT not in frame.columns:
        return None
    by = [frame.index.get_level_values(k) if k in frame.index.names else frame[k] for k in keys]
    return frame[WEIGHT].groupby(by).first().rename_axis(list(keys))
