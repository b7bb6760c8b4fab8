"""Run a scenario 运行情景: the Python API for notebooks and the CLI.

>>> from qhsim.runner import run
>>> result = run("scenarios/baseline.toml", seed=1)
>>> result.province()[["rd_intensity", "hte_count"]]
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from qhsim import __version__
from qhsim.config import Scenario, load_scenario, scenario_from_dict
from qhsim.model import QinghaiModel
from qhsim.results import RunResult


def as_scenario(scenario: Scenario | str | Path) -> Scenario:
    return scenario if isinstance(scenario, Scenario) else load_scenario(scenario)


def run(
    scenario: Scenario | str | Path,
    seed: int | None = None,
    scale: float | None = None,
    end_year: int | None = None,
    on_step: Callable[[QinghaiModel], None] | None = None,
) -> RunResult:
    """Simulate a scenario (a file path or a loaded ``Scenario``) and return its yearly indicators.

    ``seed``, ``scale`` and ``end_year`` override the scenario's ``[run]`` settings. ``on_step(model)`` is
    called after every simulated year (progress, snapshots; an exception it raises stops the run).
    """
    sc = as_scenario(scenario)
    overrides = {k: v for k, v in {"seed": seed, "scale": scale, "end_year": end_year}.items() if v is not None}
    if overrides:
        raw = sc.model_dump()
        sc = scenario_from_dict({**raw, "run": {**raw["run"], **overrides}}, origin="command line")
    started = time.perf_counter()
    model = QinghaiModel(sc)
    while model.year < sc.run.end_year:
        model.step()
        if on_step is not None:
            on_step(model)
    table = pd.DataFrame(model.rows)
    return RunResult(
        scenario_name=sc.run.name,
        scenario=sc.model_dump(mode="json"),
        seed=model.seed,
        indicators=table,
        run_seconds=time.perf_counter() - started,
        meta={"qhsim_version": __version__, "firms_final": len(model.firms)},
    )


def run_ensemble(
    scenario: Scenario | str | Path,
    draws: int = 20,
    seeds: tuple[int, ...] = (1, 2, 3),
    scale: float | None = None,
    end_year: int | None = None,
    workers: int = 1,
) -> RunResult:
    """Run ``draws`` parameter sets from the calibrated ensemble (calibration/calibrated.toml) with each seed.

    The indicator table stacks every run with a ``draw`` column (one id per run: parameter draw x seed,
    plus ``param_draw`` and ``seed``), which reports and charts turn into medians, 90% bands and the
    probability of reaching each target. Without a calibration file the behaviour.toml defaults are used.
    """
    from qhsim.calibration.projection import project

    sc = as_scenario(scenario)
    started = time.perf_counter()
    frame = project(sc, draws=draws, seeds=tuple(seeds), scale=scale, end_year=end_year, workers=workers,
                    progress=sys.stderr.isatty())
    seed_index = frame["seed"].map({s: i for i, s in enumerate(seeds)})
    frame = frame.rename(columns={"draw": "param_draw"})
    frame.insert(0, "draw", frame["param_draw"] * len(seeds) + seed_index)
    return RunResult(
        scenario_name=sc.run.name,
        scenario=sc.model_dump(mode="json"),
        seed=int(seeds[0]),
        indicators=frame.reset_index(drop=True),
        run_seconds=time.perf_counter() - started,
        meta={
            "qhsim_version": __version__,
            "seeds": list(seeds),
            "scale": scale if scale is not None else sc.run.scale,
            "parameter_draws": frame.attrs.get("draws", []),
            "calibration": frame.attrs.get("calibration"),
        },
    )
