"""The ensemble's level samples (qhsim.calibration.level_samples) on a problem whose posterior is known (no model
runs): residuals linear in the unit-cube coordinates give a Gaussian posterior, which the Laplace approximation must
reproduce exactly."""

from __future__ import annotations

import numpy as np
import pytest

from qhsim.calibration.conditional import MIN_SPREAD, STEP
from qhsim.calibration.level_samples import draw_samples, jacobian_points, laplace_covariance, level_sd
from qhsim.calibration.settings import FreeParameter

A = FreeParameter("a", 0.0, 10.0)
B = FreeParameter("b", 1.0, 100.0, prior="loguniform")
JAC = np.array([[2.0, 0.5], [0.0, 4.0], [1.0, -1.0]])  # d(sqrt(w_i) z_i) / du, three targets, two parameters
TOTAL_WEIGHT = 4.0  # Objective.residuals divides every residual by sqrt(sum of the target weights)


def residuals(point: dict[str, float]) -> np.ndarray:
    u = np.array([A.to_unit(point["a"]), B.to_unit(point["b"])])
    return (JAC @ (u - np.array([0.4, 0.5])) + np.array([0.3, -0.2, 0.1])) / np.sqrt(TOTAL_WEIGHT)


def test_laplace_covariance_of_linear_residuals_is_the_gaussian_posterior():
    point = {"a": 6.0, "b": 10.0, "other": 1.0}
    u0, steps, moved = jacobian_points(point, (A, B))
    assert u0 == pytest.approx([0.6, 0.5]) and list(steps) == [STEP, STEP]
    assert [m["other"] for m in moved] == [1.0, 1.0]  # only the level parameter moves, one at a time
    assert moved[0]["a"] == pytest.approx(6.0 + 10 * STEP) and moved[0]["b"] == 10.0
    spread = np.array([0.2, 0.01])  # the second is floored at MIN_SPREAD
    cov = laplace_covariance([residuals(p) for p in (point, *moved)], steps, spread, TOTAL_WEIGHT)
    expected = np.linalg.inv(JAC.T @ JAC + np.diag([1 / 0.2**2, 1 / MIN_SPREAD**2]))
    assert cov == pytest.approx(expected, rel=1e-9)
    assert level_sd(cov) == pytest.approx(np.sqrt(np.diag(expected)))
    # at the upper bound the step goes backwards, and the Jacobian is the same
    top = {"a": 10.0, "b": 10.0}
    u_top, steps_top, moved_top = jacobian_points(top, (A, B))
    assert list(steps_top) == [-STEP, STEP]
    assert laplace_covariance([residuals(p) for p in (top, *moved_top)], steps_top, spread, TOTAL_WEIGHT) == \
        pytest.approx(expected, rel=1e-9)
    # a target that came out NaN carries no information
    nan = [np.append(residuals(p), np.nan) for p in (point, *moved)]
    assert laplace_covariance(nan, steps, spread, TOTAL_WEIGHT) == pytest.approx(expected, rel=1e-9)


def test_samples_follow_the_covariance_stay_in_the_prior_range_and_are_reproducible():
    point = {"a": 5.0, "b": 10.0, "k": 7}
    u0 = np.array([0.5, 0.5])
    cov = np.array([[0.01, 0.004], [0.004, 0.0025]])
    draws = draw_samples(point, (A, B), u0, cov, 4000, np.random.default_rng(1))
    u = np.array([[A.to_unit(d["a"]), B.to_unit(d["b"])] for d in draws])
    assert u.mean(axis=0) == pytest.approx(u0, abs=0.01)
    assert np.cov(u.T) == pytest.approx(cov, rel=0.1, abs=2e-4)
    assert all(d["k"] == 7 for d in draws)  # a parameter not sampled keeps the re-fit's value
    again = draw_samples(point, (A, B), u0, cov, 4000, np.random.default_rng(1))
    assert again == draws
    wide = draw_samples(point, (A, B), u0, np.eye(2), 500, np.random.default_rng(2))  # clipped, never outside
    assert all(0.0 <= d["a"] <= 10.0 and 1.0 <= d["b"] <= 100.0 for d in wide)
    assert any(d["a"] == 10.0 for d in wide) and any(d["a"] == 0.0 for d in wide)
