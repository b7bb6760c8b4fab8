"""The posterior behind the calibrated defaults (qhsim.calibration.posterior): the regression adjustment and the
policy-response evidence step, on problems whose answer is known (no model runs)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qhsim.calibration.posterior import (
    MIN_KEPT,
    Posterior,
    evidence_step,
    regression_adjust,
    response_distance,
)
from qhsim.calibration.responses import Evidence
from qhsim.calibration.settings import FreeParameter

TRUTH = {"a": 0.3, "b": 6.0}
PARAMS = (FreeParameter("a", 0.0, 1.0), FreeParameter("b", 1.0, 10.0, prior="loguniform"))


def _pool(n: int, seed: int):
    """A pool of 'evaluations' around the truth: two statistics that depend linearly on (a, log b) plus noise,
    in tolerance units (observed = 0), and a third that depends on nothing."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.26, 0.7, n)  # skewed around the truth: the closest draws are biased to the right
    b = np.exp(rng.uniform(math.log(5.0), math.log(10.0), n))
    z = np.column_stack([
        (a - TRUTH["a"]) / 0.02 + 0.5 * np.log(b / TRUTH["b"]) / 0.05 + rng.normal(0, 0.3, n),
        np.log(b / TRUTH["b"]) / 0.05 + rng.normal(0, 0.3, n),
        rng.normal(0, 1, n),
    ])
    thetas = {i: {"a": float(a[i]), "b": float(b[i])} for i in range(n)}
    distances = {i: float(np.sqrt(np.mean(z[i] ** 2))) for i in range(n)}
    return thetas, distances, z


def _weighted_median(x, w):
    order = np.argsort(x)
    return x[order][np.searchsorted(np.cumsum(w[order]) / w.sum(), 0.5)]


def test_regression_adjustment_contracts_onto_the_data_and_stays_in_the_prior():
    thetas, distances, z = _pool(600, 1)
    post = regression_adjust(PARAMS, thetas, distances, lambda i: z[i], pool=300)
    assert len(post.source_ids) == 300
    assert max(post.source_distances) <= sorted(distances.values())[299]  # the 300 closest
    raw = np.array([[thetas[i]["a"], thetas[i]["b"]] for i in post.source_ids])
    for k, name in enumerate(("a", "b")):
        adj_err = abs(_weighted_median(post.draws[:, k], post.weights) - TRUTH[name])
        raw_err = abs(_weighted_median(raw[:, k], post.weights) - TRUTH[name])
        assert adj_err < raw_err / 2 and adj_err < 0.02 * TRUTH[name], name  # moved onto the truth
        assert np.std(post.draws[:, k]) < 0.6 * np.std(raw[:, k])  # ... and contracts it
    assert post.draws[:, 0].min() >= 0.0 and post.draws[:, 0].max() <= 1.0
    assert post.draws[:, 1].min() >= 1.0 and post.draws[:, 1].max() <= 10.0
    assert "regression adjustment" in post.stages[0]


def test_regression_adjustment_leaves_an_uninformed_parameter_spread():
    """A parameter no statistic depends on keeps its spread: the adjustment does not invent information."""
    rng = np.random.default_rng(3)
    n = 400
    a, c = rng.uniform(0, 1, n), rng.uniform(0, 1, n)
    z = np.column_stack([(a - 0.3) / 0.05 + rng.normal(0, 0.3, n), rng.normal(0, 1, n)])
    thetas = {i: {"a": float(a[i]), "c": float(c[i])} for i in range(n)}
    distances = {i: float(np.sqrt(np.mean(z[i] ** 2))) for i in range(n)}
    params = (FreeParameter("a", 0.0, 1.0), FreeParameter("c", 0.0, 1.0))
    post = regression_adjust(params, thetas, distances, lambda i: z[i], pool=200)
    assert np.std(post.draws[:, 1]) > 0.2  # uniform on [0, 1] has sd 0.29
    assert np.std(post.draws[:, 0]) < 0.05


EVIDENCE = {"x": Evidence("x", 1.0, 2.0, "test"), "y": Evidence("y", 1.5, math.inf, "test")}


def test_response_distance_is_zero_inside_and_grows_outside():
    assert response_distance({"x": 1.5, "y": 9.0}, EVIDENCE) == 0.0
    assert response_distance({"x": 2.5, "y": 2.0}, EVIDENCE) == pytest.approx(math.sqrt(0.5**2 / 2))
    assert response_distance({"x": 1.5, "y": 0.75}, EVIDENCE) == pytest.approx(math.sqrt(0.5**2 / 2))
    assert response_distance({"x": 3.0, "y": 2.0}, EVIDENCE) > response_distance({"x": 2.5, "y": 2.0}, EVIDENCE)
    assert response_distance({"x": math.nan, "y": 2.0}, EVIDENCE) == math.inf


def _posterior(n: int) -> Posterior:
    draws = np.column_stack([np.linspace(0.05, 0.95, n), np.linspace(2.0, 9.0, n)])
    weights = np.linspace(1.0, 2.0, n)  # the last draws are the heaviest
    return Posterior(["a", "b"], draws, weights, list(range(100, 100 + n)), np.ones(n), ["test"])


def test_evidence_step_keeps_the_draws_inside_the_evidence():
    post = _posterior(20)
    calls = []

    def measure(points):
        calls.append(points)
        return [{"x": 3.0 * p["a"], "y": 2.0} for p in points]  # x inside [1, 2] for a in [1/3, 2/3]

    out = evidence_step(post, PARAMS, 10, measure, EVIDENCE, "test seeds")
    assert len(calls[0]) == 10 and calls[0][0]["a"] == pytest.approx(0.95)  # the 10 heaviest, heaviest first
    kept_a = out.draws[:, 0]
    assert len(kept_a) >= MIN_KEPT and np.all((3 * kept_a >= 1.0) & (3 * kept_a <= 2.0))
    assert out.weights.sum() == pytest.approx(1.0)
    assert int(out.responses["inside"].sum()) == len(kept_a)
    assert "inside every evidence range, kept" in out.stages[-1]


def test_evidence_step_falls_back_to_the_closest_draws_and_says_so():
    post = _posterior(12)
    out = evidence_step(post, PARAMS, 12, lambda pts: [{"x": 2.0 + p["a"], "y": 2.0} for p in pts], EVIDENCE, "t")
    assert len(out.weights) == MIN_KEPT
    assert np.allclose(np.sort(out.draws[:, 0]), np.sort(post.draws[:MIN_KEPT, 0]))  # the smallest a: closest
    assert "closest to the evidence" in out.stages[-1]
