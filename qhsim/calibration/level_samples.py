"""Level-parameter uncertainty in the ensemble 水平参数不确定性: each draw's level parameters sampled around its re-fit.

The ensemble re-fit (``calibrate.refit_draws``) sets each posterior draw's level parameters to their conditional best
fit, so a ``--draws`` band holds the structural parameters' spread and the seeds' chance but not the level
parameters' own uncertainty: made that way from information up to 2018, the 90% band held 46-62% of the held-out
2019-2020 values (calibration/oos/). With ``level_samples`` = S > 0 each draw's continuous level parameters are drawn
S times from their conditional posterior by the Laplace approximation at the re-fit:

- the re-fit's own loss read as a log-likelihood: each target's tolerance one standard deviation, the targets
  weighted as in the distance, so -2 log L = sum_i w_i L(z_i) (the distance squared times sum w; L(z) = z^2, or
  the Huber loss for a robust group's target, ``objective.Objective.loss``);
- its ridge term as a Gaussian prior: the parameter's posterior sd for one the ABC-SMC sampled, the prior's sd for a
  levels-stage one (``conditional.PRIOR_SPREAD``), floored at ``conditional.MIN_SPREAD``;
- so the posterior precision is J'J + diag(1 / spread^2), J the forward-difference Jacobian of the residuals
  sign(z_i) sqrt(w_i L(z_i)) in the prior's unit-cube coordinates (step ``conditional.STEP``, as the fit's), run
  with the calibration seeds.

A sample is clipped to the prior range; an integer parameter (the little-giant validity) keeps its re-fitted whole
value. Each draw's weight is shared equally by its S samples, which are what projections draw from. Measured before
it shipped (fifteenth session, on the out-of-sample refit): the band held 71-83% of the held-out values instead of 62%.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from qhsim.calibration.conditional import MIN_SPREAD, STEP
from qhsim.calibration.settings import FreeParameter


def jacobian_points(point: dict[str, float], params: Sequence[FreeParameter]) -> tuple[np.ndarray, np.ndarray,
                                                                                       list[dict[str, float]]]:
    """The continuous ``params`` at ``point`` in unit-cube coordinates, the forward step of each (backwards at the
    upper bound) and the points moved by it, one parameter at a time."""
    u0 = np.array([p.to_unit(point[p.name]) for p in params], dtype=float)
    steps = np.where(u0 + STEP <= 1.0, STEP, -STEP)
    moved = [{**point, p.name: float(p.from_unit(u0[j] + steps[j]))} for j, p in enumerate(params)]
    return u0, steps, moved


def laplace_covariance(residuals: Sequence[np.ndarray], steps: np.ndarray, spread: np.ndarray,
                       total_weight: float) -> np.ndarray:
    """Posterior covariance (unit-cube coordinates) of the level parameters: ``residuals`` are
    ``Objective.residuals`` (sign(z_i) sqrt(w_i L(z_i) / sum w)) at the re-fit and at the point moved by ``steps[j]``
    in parameter j; a target that came out NaN contributes nothing."""
    r = [np.nan_to_num(np.asarray(x, dtype=float), nan=0.0) * math.sqrt(total_weight) for x in residuals]
    jac = np.column_stack([(r[j + 1] - r[0]) / steps[j] for j in range(len(steps))])
    prior = np.diag(1.0 / np.maximum(np.asarray(spread, dtype=float), MIN_SPREAD) ** 2)
    return np.linalg.inv(jac.T @ jac + prior)


def draw_samples(point: dict[str, float], params: Sequence[FreeParameter], u0: np.ndarray, cov: np.ndarray,
                 n: int, rng: np.random.Generator) -> list[dict[str, float]]:
    """``n`` parameter vectors: ``point`` with the continuous ``params`` drawn from N(u0, cov) in unit-cube
    coordinates, clipped to the prior range."""
    chol = np.linalg.cholesky(cov)
    out = []
    for _ in range(n):
        u = np.clip(u0 + chol @ rng.standard_normal(len(params)), 0.0, 1.0)
        out.append({**point, **{p.name: float(p.from_unit(u[j])) for j, p in enumerate(params)}})
    return out


def level_sd(cov: np.ndarray) -> np.ndarray:
    """Each level parameter's posterior sd, as a share of its prior range."""
    return np.sqrt(np.diag(cov))
