"""The calibration objective 目标函数: simulate with common random numbers, compare with the targets.

One *evaluation* is one parameter vector run with every seed of the configuration. The seeds are the
same for every parameter vector (common random numbers, ``qhsim.draws``), so the objective is a
deterministic function of the parameters and differences between parameter vectors are not blurred by
different luck.

Distance (a weighted simulated-moments distance, in units of each target's tolerance)::

    z_i   = (mean over seeds of sim_i  -  observed_i) / sigma_i
    sigma_i^2 = (tolerance_i * |observed_i|)^2  [+ seed variance_i / R   if simulation_error]
    D     = sqrt( sum_i w_i L(z_i) / sum_i w_i )

L(z) = z^2, except for targets of a *robust* group (``robust_groups`` in calibration/config.toml: the yearly paths,
whose real years jump by survey coverage that a model without year shocks cannot follow): there a miss beyond the
tolerance weighs linearly, L(z) = 2|z| - 1 for |z| > 1 (the Huber loss with its threshold at the tolerance, times
two). Two irregular years then pull the fit by their direction, not by the square of their size.

For a target with several candidate years (``year = [2018, 2019]``) the year with the smallest |z| counts
(the unknown year is profiled out). Targets whose indicator is not produced by the model (column missing
or NaN for every seed at the default parameters) are skipped and reported as "not yet modelled".
D <= 1 means the targets are matched, on average, within their tolerances.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from qhsim.calibration.targets import Target, TargetSet, cell_key, indicator_status
from qhsim.config import scenario_from_dict
from qhsim.experiments.spec import digest
from qhsim.errors import InputError



# ---------------------------------------------------------------------------------------------------
# what an evaluation runs


@dataclass(frozen=True)
class WorkerSpec:
    """The base of an evaluation's runs: the scenario, scale, horizon, instruments and what to collect."""

    scenario_raw: dict[str, Any]  # resolved scenario table (extends applied)
    scenario_origin: str
    scale: float
    end_year: int
    cells: tuple[str, ...] | None  # indicator|region|year cells to return; None = the whole indicator frame
    instruments: dict[str, int] = field(default_factory=dict)  # policy key path -> first year of the override
    scenario_wins: bool = False  # True: the scenario's own [parameters] override the drawn ones
    ignore_calibration: bool = True
    vary_population: bool = False  # True: each seed also draws its own 2015 population (population_seed = seed)

    @cached_property
    def scenario_key(self) -> str:
        return digest(self.scenario_raw)

    @cached_property
    def own_parameters(self) -> dict[str, float]:
        """The scenario's own [parameters], validated."""
        return dict(scenario_from_dict(self.scenario_raw, self.scenario_origin).parameters)


# ---------------------------------------------------------------------------------------------------
# comparing simulated cells with targets


@dataclass(frozen=True)
class TargetFit:
    target: Target
    status: str  # "fit" | "not_yet_modelled" | "nan"
    year: int | None = None  # the year that counted
    mean: float = float("nan")
    sd: float = float("nan")
    values: tuple[float, ...] = ()
    z: float = float("nan")
    sigma: float = float("nan")

    @property
    def rel_error(self) -> float:
        return (self.mean - self.target.value) / abs(self.target.value)


def _stats(values: list[float]) -> tuple[float, float, int, tuple[float, ...]]:
    arr = np.asarray(values, dtype=float)
    ok = arr[np.isfinite(arr)]
    if ok.size == 0:
        return float("nan"), float("nan"), 0, tuple(arr.tolist())
    sd = float(ok.std(ddof=1)) if ok.size > 1 else 0.0
    return float(ok.mean()), sd, int(ok.size), tuple(arr.tolist())


class Objective:
    """Distance between seed-averaged simulated cells and a set of targets."""

    def __init__(self, targets: TargetSet, simulation_error: bool = True, skip: frozenset[str] = frozenset(),
                 robust_groups: tuple[str, ...] = ()):
        self.targets = targets
        self.simulation_error = simulation_error
        self.skip = frozenset(skip)  # ids of targets not produced by the model
        self.active = tuple(t for t in targets if t.id not in self.skip)
        self.robust_groups = frozenset(robust_groups)  # their targets' misses beyond the tolerance weigh linearly

    def loss(self, fit: TargetFit) -> float:
        """L(z) of the module docstring: z^2, or 2|z| - 1 beyond the tolerance for a target of a robust group."""
        z = abs(fit.z)
        return 2.0 * z - 1.0 if z > 1.0 and fit.target.group in self.robust_groups else z * z

    def fits(self, cells: dict[str, list[float]]) -> list[TargetFit]:
        out = []
        for t in self.targets:
            if t.id in self.skip:
                out.append(TargetFit(t, "not_yet_modelled"))
                continue
            best: TargetFit | None = None
            for y in t.years:
                mean, sd, n, vals = _stats(cells.get(cell_key(t.indicator, t.region, y), []))
                if n == 0:
                    continue
                var = t.sigma**2 + (sd**2 / n if self.simulation_error and n > 1 else 0.0)
                sigma = math.sqrt(var)
                z = (mean - t.value) / sigma
                cand = TargetFit(t, "fit", y, mean, sd, vals, z, sigma)
                if best is None or abs(z) < abs(best.z):
                    best = cand
            out.append(best if best is not None else TargetFit(t, "nan"))
        return out

    def residuals(self, cells: dict[str, list[float]]) -> np.ndarray:
        """sign(z_i) sqrt(w_i L(z_i) / sum w) over the active targets (their squared norm is the distance squared;
        NaN where a target came out NaN)."""
        fits = [f for f in self.fits(cells) if f.status != "not_yet_modelled"]
        den = sum(f.target.weight for f in fits)
        return np.array([math.copysign(math.sqrt(f.target.weight * self.loss(f) / den), f.z) if f.status == "fit"
                         else math.nan for f in fits])

    def distance(self, cells: dict[str, list[float]]) -> float:
        """D = sqrt(weighted mean of L(z)) over active targets; inf if an active target came out NaN."""
        if not self.active:
            raise InputError(f"{self.targets.path}: no target is produced by the model (all are not yet modelled)")
        num = den = 0.0
        for fit in self.fits(cells):
            if fit.status == "not_yet_modelled":
                continue
            if fit.status == "nan":
                return math.inf
            num += fit.target.weight * self.loss(fit)
            den += fit.target.weight
        return math.sqrt(num / den)


def loss_text(robust_groups: tuple[str, ...] | list[str]) -> str:
    """How the distance weighs a target's miss z (``Objective.loss``), for the report and calibrated.toml."""
    text = "z² for every target"
    if robust_groups:
        text += f" except {', '.join(robust_groups)}: 2|z| − 1 beyond the tolerance (Huber)"
    return text


def modelled_targets(targets: TargetSet, cells_per_seed: list[dict[str, float]]) -> frozenset[str]:
    """Ids of targets with at least one finite value in a preflight run (the rest are 'not yet modelled')."""
    out = set()
    for t in targets:
        if t.awaiting and indicator_status(t.indicator) == "absent":
            continue
        if any(math.isfinite(c.get(k, math.nan)) for c in cells_per_seed for k in t.cells()):
            out.add(t.id)
    return frozenset(out)
