"""Designs 方案: named policy designs, parameter draws, and the runs they expand to.

A ``Design`` is a scenario (a file, resolved) plus policy overrides. Named designs come from scenario files
(``design_from_file``) or inline overrides in an experiment file (``inline_design``). ``expand`` crosses
designs with parameter draws x seeds under common random numbers: run (design d, draw k, seed s) uses the
same parameter set k and the same seed s for every design, so differences between designs are the
designs' effect, not luck.

Parameter draws: ``draws=None`` runs the calibrated point estimate (as ``qhsim run``); ``draws=N`` takes N
different parameter sets from the calibrated posterior (``calibration/calibrated.toml``; ``draw_seed`` fixes
which), each run weighted by what its set stands for (``Calibration.selection``, ``qhsim.stats``), with a
scenario's own ``[parameters]`` winning over the drawn values. Without a calibration file the
behaviour.toml defaults are the single draw.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from qhsim.calibrated import Calibration, load_calibration
from qhsim.config import Scenario, resolve_raw, scenario_from_dict
from qhsim.errors import InputError
from qhsim.experiments.spec import Override, RunSpec, apply, digest
from qhsim.stats import WEIGHT


@dataclass(frozen=True)
class Design:
    """A named policy design: a resolved scenario table plus overrides."""

    name: str
    scenario: Mapping[str, Any]
    origin: str
    overrides: tuple[Override, ...] = ()

    @cached_property
    def scenario_key(self) -> str:
        return digest(self.scenario)

    @cached_property
    def own_parameters(self) -> dict[str, float]:
        """The scenario's own [parameters], validated (they win over drawn parameter sets)."""
        return dict(scenario_from_dict(dict(self.scenario), self.origin).parameters)

    def validated(self) -> Scenario:
        """The design's scenario, validated (an ``InputError`` names the file, key and allowed range)."""
        base = scenario_from_dict(dict(self.scenario), self.origin)
        return apply(base, self.overrides, None, self.origin)

    def with_overrides(self, extra: Sequence[Override], name: str | None = None) -> Design:
        return Design(name or self.name, self.scenario, self.origin, (*self.overrides, *extra))


def design_from_file(path: str | Path, name: str | None = None) -> Design:
    """A design from a scenario file (``extends`` applied); its name is the file stem unless given."""
    path = Path(path)
    raw = resolve_raw(path)
    design = Design(name or path.stem, raw, str(path))
    design.validated()
    return design


def inline_design(name: str, base: Design, overrides: Sequence[Override]) -> Design:
    """A design made of ``overrides`` on top of ``base`` (checked against the scenario schema)."""
    design = base.with_overrides(overrides, name)
    design.validated()
    return design


class Draws(NamedTuple):
    """The parameter sets to run, where they come from, the weight each stands for (None: alike) and the rows of the
    calibrated ensemble they are (None: not drawn from it)."""

    thetas: list[dict[str, float] | None]
    source: str
    weights: np.ndarray | None = None
    rows: np.ndarray | None = None


def parameter_draws(draws: int | None, draw_seed: int = 0, calibration: Calibration | None = None) -> Draws:
    """The parameter sets to run: ``None`` in the list means "the scenario's parameters over the calibrated point
    estimate". With ``draws`` they are different sets of the calibrated ensemble (every set runs with every seed,
    so a repeated set would repeat its runs), each standing for its posterior weight over its chance of being
    chosen (``Calibration.selection``)."""
    if draws is None:
        return Draws([None], "calibrated point estimate")
    cal = calibration if calibration is not None else load_calibration()
    if cal is None:
        return Draws([{}], "none (behaviour.toml defaults)")
    if len(cal.draws) == 0:
        return Draws([dict(cal.point)], f"{cal.path}: its point estimate (the file holds no ensemble)")
    rows, weights = cal.selection(draws, np.random.default_rng(draw_seed))
    return Draws(cal.parameter_sets(rows), draws_source(cal, rows, weights), weights, rows)


def draws_source(cal: Calibration, rows: np.ndarray, weights: np.ndarray) -> str:
    """Where the draws of ``run --draws``, ``compare`` and ``sweep`` come from, the posterior weight they hold, and
    how their runs are weighted (calibration/README.md, "Parameter draws")."""
    held = cal.weights[rows].sum()
    chosen = f"{len(rows)} of its {len(cal.draws)} draws"
    if cal.draw_of is not None:  # level samples of the posterior draws (calibration/README.md, "Parameter draws")
        chosen = (f"{len(rows)} of its {len(cal.draws)} parameter sets (level samples of "
                  f"{len(np.unique(cal.draw_of[rows]))} of its {len(np.unique(cal.draw_of))} posterior draws)")
    return (f"{cal.path}: {chosen}, holding {held:.0%} of the posterior weight; "
            f"their runs are weighted by the weight each set stands for ({weights.min():.1%}-{weights.max():.1%})")


def run_spec(design: Design, theta: dict[str, float] | None, seed: int, scale: float, end_year: int) -> RunSpec:
    """The run of ``design`` with parameter draw ``theta`` (see ``parameter_draws``) and ``seed``."""
    if theta is None:
        return RunSpec(design.scenario, seed, scale, end_year, design.overrides, None, True, design.origin,
                       scenario_key=design.scenario_key)
    params = {**theta, **design.own_parameters}
    return RunSpec(design.scenario, seed, scale, end_year, design.overrides, params, False, design.origin,
                   scenario_key=design.scenario_key)


def expand(designs: Sequence[Design], thetas: Sequence[dict[str, float] | None], seeds: Sequence[int],
           scale: float, end_year: int, extra_labels: Sequence[dict[str, Any]] | None = None,
           weights: Sequence[float] | None = None) -> tuple[list[RunSpec], list[dict[str, Any]]]:
    """Every design x draw x seed (in that order) as run specs with their labels; with the draws' ``weights``
    (``Draws.weights``) each run's label ``weight`` is its draw's weight shared by the seeds (``qhsim.stats``)."""
    if len(set(seeds)) != len(seeds):
        raise InputError(f"--seeds {','.join(map(str, seeds))}: seeds must be distinct")
    specs, labels = [], []
    for d, design in enumerate(designs):
        for k, theta in enumerate(thetas):
            for s in seeds:
                specs.append(run_spec(design, theta, s, scale, end_year))
                labels.append({"design": design.name, "point": d, "draw": k, "seed": int(s),
                               **({WEIGHT: float(weights[k]) / len(seeds)} if weights is not None else {}),
                               **(extra_labels[d] if extra_labels else {})})
    return specs, labels
