"""Run a scenario 运行情景: the Python API for notebooks and the CLI.

>>> from qhsim.runner import run
>>> result = run("scenarios/baseline.toml", seed=1)
>>> result.province()[["rd_intensity", "hte_count"]]
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from qhsim import __version__, cpu
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
    population_seed: int | None = None,
    on_step: Callable[[QinghaiModel], None] | None = None,
) -> RunResult:
    """Simulate a scenario (a file path or a loaded ``Scenario``) and return its yearly indicators.

    ``seed`` (the dynamics from 2016 on), ``population_seed`` (the synthetic end-2015 population), ``scale`` and
    ``end_year`` override the scenario's ``[run]`` settings. ``on_step(model)`` is called after every simulated
    year (progress, snapshots; an exception it raises stops the run).
    """
    cpu.warn_if_unpinned()
    sc = as_scenario(scenario)
    given = {"seed": seed, "population_seed": population_seed, "scale": scale, "end_year": end_year}
    overrides = {k: v for k, v in given.items() if v is not None}
    if overrides:
        raw = sc.model_dump()
        sc = scenario_from_dict({**raw, "run": {**raw["run"], **overrides}}, origin="command line")
    started = time.perf_counter()
    model = QinghaiModel(sc)
    try:
        while model.year < sc.run.end_year:
            model.step()
            if on_step is not None:
                on_step(model)
        firms_final = len(model.firms)
    finally:
        model.close()  # the memory back for the next run in this process, also when ``on_step`` stops the run
    return RunResult(
        scenario_name=sc.run.name,
        scenario=sc.model_dump(mode="json"),
        seed=model.seed,
        indicators=pd.DataFrame(model.rows),
        run_seconds=time.perf_counter() - started,
        meta={"qhsim_version": __version__, "firms_final": firms_final, "population_seed": model.population_seed},
    )
