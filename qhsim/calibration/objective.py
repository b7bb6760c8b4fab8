"""The calibration objective 目标函数: simulate with common random numbers, compare with the targets.

One *evaluation* is one parameter vector run with every seed of the configuration. The seeds are the
same for every parameter vector (common random numbers, ``qhsim.draws``), so the objective is a
deterministic function of the parameters and differences between parameter vectors are not blurred by
different luck.

Distance (a weighted simulated-moments distance, in units of each target's tolerance)::

    z_i   = (mean over seeds of sim_i  -  observed_i) / sigma_i
    sigma_i^2 = (tolerance_i * |observed_i|)^2  [+ seed variance_i / R   if simulation_error]
    D     = sqrt( sum_i w_i z_i^2 / sum_i w_i )

For a target with several candidate years (``year = [2018, 2019]``) the year with the smallest |z| counts
(the unknown year is profiled out). Targets whose indicator is not produced by the model (column missing
or NaN for every seed at the default parameters) are skipped and reported as "not yet modelled".
D <= 1 means the targets are matched, on average, within their tolerances.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from qhsim.calibration.settings import CALIBRATED_ENV
from qhsim.calibration.targets import Target, TargetSet, cell_key, indicator_status
from qhsim.config import scenario_from_dict
from qhsim.errors import InputError



# ---------------------------------------------------------------------------------------------------
# what a worker process runs


@dataclass(frozen=True)
class WorkerSpec:
    """Everything a worker needs, sent once per process: the base scenario and what to collect."""

    scenario_raw: dict[str, Any]  # resolved scenario table (extends applied)
    scenario_origin: str
    scale: float
    end_year: int
    cells: tuple[str, ...] | None  # indicator|region|year cells to return; None = the whole indicator frame
    instruments: dict[str, int] = field(default_factory=dict)  # policy key path -> first year of the override
    scenario_wins: bool = False  # True: the scenario's own [parameters] override the drawn ones
    ignore_calibration: bool = True


@dataclass(frozen=True)
class Task:
    eval_id: int
    seed_index: int
    seed: int
    parameters: dict[str, float]
    policy: dict[str, float] = field(default_factory=dict)


_STATE: dict[str, Any] = {}


def init_worker(spec: WorkerSpec) -> None:
    """Process initialiser: validate the base scenario once."""
    if spec.ignore_calibration:
        os.environ[CALIBRATED_ENV] = "off"
    _STATE["spec"] = spec
    _STATE["scenario"] = scenario_from_dict(spec.scenario_raw, spec.scenario_origin)


def _set_path(raw: dict[str, Any], path: str, value: Any) -> None:
    node = raw
    parts = path.split(".")
    for p in parts[:-1]:
        node = node.setdefault(p, {})
    node[parts[-1]] = value


def _get_path(obj: Any, path: str) -> Any:
    for p in path.split("."):
        obj = obj[p] if isinstance(obj, dict) else getattr(obj, p)
    return obj


def scenario_for(spec: WorkerSpec, base: Any, parameters: dict[str, float], policy: dict[str, float]) -> Any:
    """The base scenario with behavioural ``parameters`` and policy-instrument overrides applied."""
    params = {**parameters, **base.parameters} if spec.scenario_wins else {**base.parameters, **parameters}
    if not policy:
        return base.model_copy(update={"parameters": params})
    raw = base.model_dump(mode="json")
    for path, value in policy.items():
        first = spec.instruments[path]
        schedule = _get_path(base, path)
        points = {y: v for y, v in schedule.as_dict().items() if y < first}
        if isinstance(schedule.at(first), int) and not isinstance(schedule.at(first), bool):
            value = int(round(value))
        points[first] = value
        _set_path(raw, path, {str(y): v for y, v in sorted(points.items())})
    raw["parameters"] = params
    return scenario_from_dict(raw, f"{spec.scenario_origin} (with {', '.join(policy)})")


def run_task(task: Task) -> tuple[int, int, Any, float]:
    """Run one (parameters, seed); return the requested cells (or the indicator frame)."""
    from qhsim.runner import run  # imported here so a fresh worker pays the import once

    spec: WorkerSpec = _STATE["spec"]
    started = time.perf_counter()
    sc = scenario_for(spec, _STATE["scenario"], task.parameters, task.policy)
    result = run(sc, seed=task.seed, scale=spec.scale, end_year=spec.end_year)
    frame = result.indicators
    out: Any = frame if spec.cells is None else extract_cells(frame, spec.cells)
    return task.eval_id, task.seed_index, out, time.perf_counter() - started


def extract_cells(frame: pd.DataFrame, cells: tuple[str, ...] | list[str]) -> dict[str, float]:
    """Values of ``indicator|region|year`` cells; NaN where the column, region or year is absent."""
    indexed = frame.set_index(["region", "year"])
    out = {}
    for key in cells:
        indicator, region, year = key.split("|")
        try:
            v = indexed.at[(region, int(year)), indicator]
        except KeyError:
            v = float("nan")
        out[key] = float(v) if v is not None else float("nan")
    return out


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

    def __init__(self, targets: TargetSet, simulation_error: bool = True, skip: frozenset[str] = frozenset()):
        self.targets = targets
        self.simulation_error = simulation_error
        self.skip = frozenset(skip)  # ids of targets not produced by the model
        self.active = tuple(t for t in targets if t.id not in self.skip)

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

    def distance(self, cells: dict[str, list[float]]) -> float:
        """D = sqrt(weighted mean of z^2) over active targets; inf if an active target came out NaN."""
        if not self.active:
            raise InputError(f"{self.targets.path}: no target is produced by the model (all are not yet modelled)")
        num = den = 0.0
        for fit in self.fits(cells):
            if fit.status == "not_yet_modelled":
                continue
            if fit.status == "nan":
                return math.inf
            num += fit.target.weight * fit.z**2
            den += fit.target.weight
        return math.sqrt(num / den)


def modelled_targets(targets: TargetSet, cells_per_seed: list[dict[str, float]]) -> frozenset[str]:
    """Ids of targets with at least one finite value in a preflight run (the rest are 'not yet modelled')."""
    out = set()
    for t in targets:
        if t.awaiting and indicator_status(t.indicator) == "absent":
            continue
        if any(math.isfinite(c.get(k, math.nan)) for c in cells_per_seed for k in t.cells()):
            out.add(t.id)
    return frozenset(out)


def cells_by_seed(per_seed: list[dict[str, float]]) -> dict[str, list[float]]:
    """[{cell: v} per seed] -> {cell: [v per seed]}."""
    keys = per_seed[0].keys() if per_seed else []
    return {k: [d.get(k, math.nan) for d in per_seed] for k in keys}
