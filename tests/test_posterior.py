"""The posterior behind the calibrated defaults (qhsim.calibration.posterior): the policy-response evidence step
on problems whose answer is known (no model runs)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qhsim.calibration.posterior import (MIN_FACTOR, MIN_KEPT, Posterior, evidence_factor, evidence_step,
                                        response_distance)
from qhsim.calibration.settings import FreeParameter
from qhsim.evidence import Evidence

PARAMS = (FreeParameter("a", 0.0, 1.0), FreeParameter("b", 1.0, 10.0, prior="loguniform"))


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
    source = [post.source_ids.index(i) for i in out.source_ids]  # the uniform kernel keeps the sampler weights
    assert np.allclose(out.weights, post.weights[source] / post.weights[source].sum())
    assert "uniform kernel" in out.stages[-1] and f"{len(kept_a)} kept" in out.stages[-1]


def test_evidence_step_falls_back_to_the_closest_draws_and_says_so():
    post = _posterior(12)
    out = evidence_step(post, PARAMS, 12, lambda pts: [{"x": 2.0 + p["a"], "y": 2.0} for p in pts], EVIDENCE, "t")
    assert len(out.weights) == MIN_KEPT
    assert np.allclose(np.sort(out.draws[:, 0]), np.sort(post.draws[:MIN_KEPT, 0]))  # the smallest a: closest
    assert "closest to the evidence" in out.stages[-1]


def test_gaussian_evidence_kernel_weighs_draws_by_their_distance_outside_the_ranges():
    assert evidence_factor(0.0, 0.05) == 1.0 and evidence_factor(0.0, 0.0) == 1.0
    assert evidence_factor(0.01, 0.0) == 0.0 and evidence_factor(math.inf, 0.05) == 0.0
    assert evidence_factor(0.05, 0.05) == pytest.approx(math.exp(-0.5))
    post = _posterior(12)
    # x = 1.8 + 0.4 a: inside [1, 2] for a <= 0.5, then up to 0.38 outside (distance 0.38 / sqrt(2) = 0.27)
    measure = lambda pts: [{"x": 1.8 + 0.4 * p["a"], "y": 2.0} for p in pts]  # noqa: E731
    hard = evidence_step(post, PARAMS, 12, measure, EVIDENCE, "t")
    soft = evidence_step(post, PARAMS, 12, measure, EVIDENCE, "t", bandwidth=0.05)
    assert len(soft.weights) > len(hard.weights) >= MIN_KEPT
    table = soft.responses.set_index("draw")
    kept = table[table.evidence_factor >= MIN_FACTOR]
    assert set(np.round(soft.draws[:, 0], 9)) == set(np.round(post.draws[kept.index, 0], 9))
    assert kept.response_distance.max() <= 0.05 * math.sqrt(-2 * math.log(MIN_FACTOR))
    # each kept draw's weight is its sampler weight times the kernel factor, renormalised
    expected = post.weights[kept.index] * kept.evidence_factor.to_numpy()
    order = np.argsort(post.draws[kept.index, 0])
    assert np.allclose(np.sort(soft.draws[:, 0]), post.draws[kept.index, 0][order])
    assert np.allclose(soft.weights[np.argsort(soft.draws[:, 0])], (expected / expected.sum())[order])
    assert soft.ess > hard.ess
    assert "Gaussian kernel" in soft.stages[-1]


def _carried_problem(candidates: int = 32, bandwidth: float = 0.05):
    from types import SimpleNamespace

    cfg = SimpleNamespace(response_candidates=candidates, response_screen_seeds=(301, 302), response_scale=1.0,
                          evidence_bandwidth=bandwidth)
    return SimpleNamespace(cfg=cfg, params=PARAMS)


def test_refit_levels_weighs_the_carried_draws_by_the_evidence_anew_from_their_sampler_weights(monkeypatch):
    """``calibrate.reweigh_evidence``: on new model code the carried draws are measured as they stand (their level
    parameters included) and weighed by their ABC-SMC weight times the new evidence factor; the old factors, folded
    into the carried weights, are dropped, and so is a draw the new responses put far outside the evidence."""
    import qhsim.calibration.responses as responses
    from qhsim.calibration.calibrate import reweigh_evidence

    n = 6
    draws = np.column_stack([np.linspace(0.1, 0.9, n), np.linspace(2.0, 9.0, n)])
    sampler = np.array([0.1, 0.3, 0.1, 0.2, 0.2, 0.1])
    carried = np.array([0.5, 0.05, 0.15, 0.1, 0.1, 0.1])  # the earlier evidence factors folded in
    post = Posterior(["a", "b"], draws, carried, list(range(n)), np.ones(n), ["carried"], sampler_weights=sampler)
    rows = [{"a": float(d[0]), "b": float(d[1]), "level": 0.1 * k} for k, d in enumerate(draws)]
    seen = []

    def fake_means(points, seeds, scale, workers):
        seen.append(points)
        # x from the level parameter: draws 0-3 inside [1, 2], draw 4 slightly and draw 5 far above
        return [{"x": 1.05 + 2.5 * p["level"] if p["level"] > 0.35 else 1.5, "y": 2.0} for p in points]

    monkeypatch.setattr(responses, "response_means", fake_means)
    monkeypatch.setattr("qhsim.evidence.EVIDENCE", EVIDENCE)
    out, kept_rows = reweigh_evidence(_carried_problem(), post, rows, 1, log=lambda _: None)
    assert all("level" in p for p in seen[0]) and len(seen[0]) == n  # measured as they stand, every draw
    table = out.responses.set_index("draw")
    assert table.loc[5, "evidence_factor"] < MIN_FACTOR and 5 not in out.source_ids  # far outside: dropped
    assert 0.0 < table.loc[4, "evidence_factor"] < 1.0 and 4 in out.source_ids
    expected = np.array([sampler[i] * table.loc[i, "evidence_factor"] for i in out.source_ids])
    assert np.allclose(out.weights, expected / expected.sum())
    assert not np.allclose(out.weights, carried[out.source_ids] / carried[out.source_ids].sum())
    assert kept_rows == [rows[i] for i in out.source_ids]
    assert np.allclose(out.sampler_weights, sampler[out.source_ids])  # kept for the next model change
    assert "on this model code" in out.stages[-1] and out.stages[0] == "carried"
    # a file without sampler weights: the carried weights are kept, and the stages say so
    old = Posterior(["a", "b"], draws, carried, list(range(n)), np.ones(n), ["carried"])
    same, same_rows = reweigh_evidence(_carried_problem(), old, rows, 1, log=lambda _: None)
    assert np.allclose(same.weights, carried / carried.sum()) and same_rows == rows
    assert "not redone" in same.stages[-1] and len(seen) == 1
