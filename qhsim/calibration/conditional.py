"""Conditional fit of the level parameters 水平参数条件拟合: the last step of the point estimate.

The posterior's componentwise median (``qhsim.calibration.posterior``) is a blurred point: with 18 parameters and
a final ABC tolerance well above the targets' tolerances, the marginal medians break the correlations of the
posterior (science literacy, for one, is a deterministic function of ``literacy_2015`` and
``literacy_spend_rate``, which trade off one for one; their two medians miss it by 11%). Some parameters are
*level* parameters: each sets the level of its own indicator and hardly moves the rest (R&D cost per person for
R&D personnel, the patent rate for patents, the upgrade probability for national platforms, the demand scale for
contract turnover, the literacy parameters for literacy, the take-up probabilities for the HTE and tech-based
firm counts). Given the posterior median of the other (structural) parameters, the level parameters listed in the
configuration (``conditional``) are estimated by minimum distance: the same distance as the ABC (every target,
common random numbers; the calibration seeds and more, ``conditional_seeds``) minimised over those parameters
alone, starting from their posterior medians. That is the conditional mode given the structural median — the
two-stage practice of fixing scale parameters by moment matching once the structural ones are estimated, with the
same objective.

Method: ``scipy.optimize.least_squares`` (trust-region reflective, bounds = the prior range) on the residual
vector ``sqrt(w_i / sum w) * z_i`` (its squared norm is the ABC distance squared), in the parameters' unit-cube
coordinates, with a forward-difference Jacobian of step ``STEP`` (5% of the prior range by default: under common
random numbers the distance moves in small jumps as single firms switch, so a smaller step sees noise). The
Jacobian's points run as one batch (parallel, journaled). A ridge term pulls each parameter towards its posterior
median — its departure in units of its posterior sd, weighing like one target — so that a parameter no fitted target
informs (contract demand and literacy in the out-of-sample refit, which sees nothing after 2018) stays at its median
instead of drifting with the seeds' noise; an informed parameter hardly feels it. The fit stops after ``budget``
evaluations at the latest and returns the evaluated point with the smallest loss. Under common random numbers the
distance moves in small jumps, on which the trust region shrinks before the minimum (``xtol``): a run that ends so
but lowered the loss by more than ``RESTART_GAIN`` is restarted from its best point with a fresh trust region
(restarts counted in the message). Last, a compass search polishes the best point: steps of ``STEP`` and then half
of it in each parameter, one batch per sweep, moving while a step (or the combined improving steps) lowers the loss
(moves counted in the message; ``POLISH_STEPS``). An integer parameter (a whole number of years) has no useful
forward difference: least squares holds it, and the compass search moves it by one whole unit at a time. The
validation (fresh seeds) judges the result; the report lists each parameter before and after.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import least_squares

from qhsim.calibration.settings import FreeParameter

MIN_SPREAD = 0.02  # floor of a parameter's posterior sd in the ridge term (unit-cube coordinates)
PRIOR_SPREAD = math.sqrt(1.0 / 12.0)  # sd of any prior in its unit-cube coordinates (uniform there)
STEP = 0.05  # forward-difference step, in unit-cube coordinates (fraction of the prior range)
BUDGET = 120  # evaluations at most (one evaluation = one point run with every seed of the fit)
RESTART_GAIN = 0.02  # restart least_squares from its best point while a run lowers the squared loss by more than this
POLISH_STEPS = (STEP, STEP / 2)  # compass-search steps (unit cube) tried from the best point after least squares

# residual vectors of parameter points, in the order given (one batch)
ResidualsFn = Callable[[list[dict[str, float]]], list[np.ndarray]]


class _BudgetSpent(Exception):
    pass


@dataclass
class ConditionalFit:
    names: list[str]  # the level parameters fitted
    start: dict[str, float]  # the posterior median (every free parameter)
    point: dict[str, float]  # the result (every free parameter)
    start_distance: float
    distance: float
    evaluations: int
    message: str
    path: list[tuple[int, float]] = field(default_factory=list)  # (evaluation, distance) of every point tried
    seeds: tuple[int, ...] = ()  # the seeds every evaluation ran with (set by the caller)

    def summary(self) -> str:
        return (f"conditional fit of {len(self.names)} level parameters given the structural median: distance "
                f"{self.start_distance:.3g} -> {self.distance:.3g} with {len(self.seeds)} seeds in {self.evaluations} "
                f"evaluations ({self.message})")


def conditional_fit(
    params: Sequence[FreeParameter],
    start: dict[str, float],
    names: Sequence[str],
    residuals: ResidualsFn,
    budget: int = BUDGET,
    step: float = STEP,
    spread: Sequence[float] | None = None,
    ridge_weight: float = 0.0,
    scan_integers: bool = False,
) -> ConditionalFit:
    """Minimise the distance over the parameters ``names`` (others fixed at ``start``); see the module doc.

    With ``spread`` (each parameter's posterior sd in unit-cube coordinates) and ``ridge_weight`` > 0 the loss gains
    ``ridge_weight * sum(((u - u_start) / spread)^2)``: ``ridge_weight`` = 1 / (sum of the target weights) makes each
    parameter's departure from its median, in posterior sds, weigh like one target's z. The reported distances are
    those of the targets alone.

    ``scan_integers``: before least squares, try every whole value of each integer parameter (the others at the
    start) and start from the best; for a budget too small for the compass search, which moves an integer
    parameter one unit per sweep of every parameter (``calibrate.refit_draws``)."""
    by_name = {p.name: p for p in params}
    free = [by_name[n] for n in names]
    cont = np.array([j for j, p in enumerate(free) if not p.integer], dtype=np.int64)  # least squares moves these
    scale = np.zeros(len(free)) if spread is None else math.sqrt(ridge_weight) / np.maximum(np.asarray(spread, float), MIN_SPREAD)
    seen: dict[bytes, np.ndarray] = {}
    tried: list[tuple[float, float, int, dict[str, float], np.ndarray]] = []  # (loss, distance, evaluation, point, x)

    def theta(x: np.ndarray) -> dict[str, float]:
        out = dict(start)
        for p, xi in zip(free, x):
            out[p.name] = float(p.from_unit(xi))  # from_unit clips to [0, 1]
        return out

    def batch(xs: list[np.ndarray]) -> list[np.ndarray]:
        todo = [x for x in xs if x.tobytes() not in seen]
        todo = list({x.tobytes(): x for x in todo}.values())
        if len(tried) + len(todo) > budget:
            raise _BudgetSpent()
        if todo:
            points = [theta(x) for x in todo]
            for x, th, r in zip(todo, points, residuals(points)):
                r = np.where(np.isfinite(r), r, 1e3)
                full = np.concatenate([r, scale * (x - x0)])
                seen[x.tobytes()] = full
                tried.append((float(np.sqrt(np.sum(full**2))), float(np.sqrt(np.sum(r**2))), len(tried), th, x.copy()))
        return [seen[x.tobytes()] for x in xs]

    def fun(x: np.ndarray) -> np.ndarray:
        return batch([np.asarray(x, dtype=float)])[0]

    def jac(x: np.ndarray) -> np.ndarray:
        """Forward differences in the non-integer coordinates."""
        hs = [step if x[j] + step <= 1.0 else -step for j in cont]
        shifted = []
        for j, h in zip(cont, hs):
            xj = x.copy()
            xj[j] += h
            shifted.append(xj)
        f0, *fs = batch([x, *shifted])
        return np.column_stack([(fj - f0) / h for fj, h in zip(fs, hs)])

    def neighbours(x: np.ndarray, j: int, h: float) -> tuple[np.ndarray, np.ndarray]:
        """``x`` moved up and down in coordinate ``j``: by ``h`` (clipped to the unit cube), or by one whole unit for
        an integer parameter (whose unit-cube coordinate maps to a whole number)."""
        p, out = free[j], []
        for sign in (1.0, -1.0):
            xj = x.copy()
            if p.integer:
                xj[j] = p.to_unit(min(max(float(p.from_unit(x[j])) + sign, p.low), p.high))
            else:
                xj[j] = min(max(xj[j] + sign * h, 0.0), 1.0)
            out.append(xj)
        return out[0], out[1]

    x0 = np.array([p.to_unit(start[p.name]) for p in free], dtype=float)
    x0 = np.clip(x0, 0.0, 1.0)
    x_from, restarts, loss_from = x0, 0, math.inf
    if scan_integers:
        fun(x0)  # the start is the first evaluation, as least squares makes it
        for j, p in enumerate(free):
            if p.integer:
                values = np.arange(math.ceil(p.low), math.floor(p.high) + 1)
                trial = [x_from.copy() for _ in values]
                for x, v in zip(trial, values):
                    x[j] = p.to_unit(float(v))
                losses = [float(np.sqrt(np.sum(r**2))) for r in batch(trial)]
                x_from = trial[int(np.argmin(losses))]
    message = "integer parameters only: compass search"
    while len(cont):
        # least squares in the non-integer coordinates, the integer ones held where the run starts
        def whole(xc: np.ndarray, at: np.ndarray = x_from) -> np.ndarray:
            x = at.copy()
            x[cont] = xc
            return x

        try:
            res = least_squares(lambda xc: fun(whole(xc)), x_from[cont], jac=lambda xc: jac(whole(xc)),
                                bounds=(0.0, 1.0), method="trf", x_scale=1.0, xtol=1e-3, ftol=1e-3, gtol=1e-6)
            message = res.message.rstrip(".")
        except _BudgetSpent:
            message = f"evaluation budget {budget} used up"
            break
        if res.status == 1:  # gtol: a stationary point, not a collapsed trust region
            break
        # the trust region shrinks on the distance's small jumps (single firms switching): start again from the best
        # point with a fresh one while a run lowers the squared loss by more than RESTART_GAIN and the budget lasts
        # (the first run's start is its first evaluation: least_squares moves a start on a bound just inside)
        loss_from = min(loss_from, tried[0][0])
        best_loss, *_, best_x = min(tried, key=lambda t: (t[0], t[2]))
        if best_loss**2 >= (1.0 - RESTART_GAIN) * loss_from**2:
            break
        x_from, restarts, loss_from = best_x, restarts + 1, best_loss
    if restarts:
        message += f"; {restarts} restart{'s' if restarts > 1 else ''} from the best point"
    if not tried:
        fun(x0)
    try:
        moves = _polish(tried, batch, POLISH_STEPS, neighbours)
    except _BudgetSpent as spent:
        moves = spent.args[0] if spent.args else 0
    if moves:
        message += f"; {moves} compass move{'s' if moves > 1 else ''}"
    start_loss, start_distance = tried[0][0], tried[0][1]  # least_squares evaluates x0 first
    best_loss, best_distance, _, best, _ = min(tried, key=lambda t: (t[0], t[2]))
    path = [(k, dd) for _, dd, k, _, _ in tried]
    if not math.isfinite(best_loss) or best_loss >= start_loss:
        best, best_distance = dict(start), start_distance
    return ConditionalFit(list(names), dict(start), best, start_distance, best_distance, len(tried), message, path)


def _polish(tried: list, batch: Callable[[list[np.ndarray]], list[np.ndarray]], steps: Sequence[float],
            neighbours: Callable[[np.ndarray, int, float], tuple[np.ndarray, np.ndarray]]) -> int:
    """Compass search from the best point so far: least squares stops where the forward differences see only the
    distance's small jumps, although a whole step in one parameter still pays (the jumps are steps of single
    firms, not a minimum). For each step size: try +-step in every parameter as one batch (``neighbours``: one
    whole unit for an integer parameter, at every step size), and the combined move of every improving coordinate;
    move to the best of them while it lowers the loss, then take the next, smaller step. Returns the number of moves
    (raises ``_BudgetSpent(moves)`` when the budget ends it)."""
    moves = 0
    for h in steps:
        while True:
            loss, *_, x = min(tried, key=lambda t: (t[0], t[2]))
            trial = [xj for j in range(len(x)) for xj in neighbours(x, j, h)]
            try:
                losses = [float(np.sqrt(np.sum(r**2))) for r in batch(trial)]
                combined = x.copy()
                for j in range(len(x)):
                    up, down = losses[2 * j], losses[2 * j + 1]
                    if min(up, down) < loss:
                        combined[j] = trial[2 * j][j] if up <= down else trial[2 * j + 1][j]
                batch([combined])
            except _BudgetSpent:
                raise _BudgetSpent(moves) from None
            if min(tried, key=lambda t: (t[0], t[2]))[0] >= loss:
                break  # no neighbour at this step is better: a smaller step
            moves += 1
    return moves
