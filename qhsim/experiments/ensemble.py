"""Projections with parameter uncertainty 带不确定性的预测: parameter draws x seeds of one scenario.

``project(scenario, draws=9, seeds=(...))`` takes different parameter sets of the calibrated ensemble
(``calibration/calibrated.toml``; ``qhsim.experiments.designs.parameter_draws``), runs each with every seed on
the experiments engine, and returns the indicator frames stacked with three extra columns: ``draw`` (the
parameter draw, 0..draws-1), ``seed`` and ``weight`` (the run's weight in every statistic, ``qhsim.stats``: its
draw's weight shared by the seeds; alike without a calibration).
A scenario's own ``[parameters]`` override the drawn values (an analyst's explicit choice wins). Without a
calibration, the single draw 0 uses the behaviour.toml defaults. Deterministic: the draws come from
``numpy.random.default_rng(draw_seed)`` and results are assembled by (draw, seed), whatever the executor.
``run_ensemble`` wraps this into a ``RunResult`` for ``qhsim run --draws/--seeds``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from qhsim import __version__, stats
from qhsim.calibrated import Calibration, load_calibration
from qhsim.config import Scenario, resolve_raw
from qhsim.experiments.designs import Design, expand, parameter_draws
from qhsim.experiments.engine import Engine, Progress, progress_display
from qhsim.results import RunResult
from qhsim.stats import WEIGHT

DEFAULT_SEEDS = (1, 2, 3)


def project(
    scenario: str | Path | Scenario,
    draws: int | None = 9,
    seeds: tuple[int, ...] = DEFAULT_SEEDS,
    scale: float | None = None,
    end_year: int | None = None,
    workers: int = 1,
    calibration: Calibration | str | Path | None = None,
    draw_seed: int = 0,
    progress: bool = True,
    executor: str = "local",
    scheduler: str | None = None,
    callback: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
) -> pd.DataFrame:
    """Stacked indicator frames of ``draws`` parameter sets x ``seeds`` (columns ``draw``, ``seed`` and
    ``weight`` added); ``draws=None``: the calibrated point estimate with each seed.

    ``callback(done, total)`` is called after each run; setting ``cancel`` raises ``Cancelled``."""
    if isinstance(scenario, Scenario):
        design = Design(scenario.run.name or "scenario", scenario.model_dump(mode="json"), "<scenario>")
    else:
        design = Design(Path(scenario).stem, resolve_raw(Path(scenario)), str(scenario))
    sc = design.validated()
    cal = calibration if isinstance(calibration, Calibration) or calibration is None else load_calibration(calibration)
    if cal is None:
        cal = load_calibration()
    chosen = parameter_draws(draws, draw_seed, cal)
    thetas = chosen.thetas
    specs, labels = expand([design], thetas, seeds, scale if scale is not None else sc.run.scale,
                           end_year if end_year is not None else sc.run.end_year, weights=chosen.weights)
    bar = Progress(len(specs), "projection", progress and progress_display(), callback)
    try:
        with Engine(workers, executor, scheduler) as engine:
            frames = engine.map(specs, progress=bar, cancel=cancel)
    finally:
        bar.close()
    out = []
    for lab, frame in zip(labels, frames):
        f = frame.copy()
        f.insert(0, WEIGHT, lab.get(WEIGHT, 1.0 / len(specs)))
        f.insert(0, "seed", lab["seed"])
        f.insert(0, "draw", lab["draw"])
        out.append(f)
    result = pd.concat(out, ignore_index=True)
    result.attrs["draws"] = [dict(th) for th in thetas if th is not None]
    result.attrs["calibration"] = str(cal.path) if cal is not None else "none (behaviour.toml defaults)"
    result.attrs["source"] = chosen.source
    return result


def summarise(frame: pd.DataFrame, indicators: list[str] | None = None) -> pd.DataFrame:
    """Median and 90% band per (year, region, indicator) over all (draw, seed) rows, weighted by their ``weight``."""
    ids = {"year", "region", "draw", "seed", WEIGHT}
    cols = indicators or [c for c in frame.columns if c not in ids and pd.api.types.is_numeric_dtype(frame[c])]
    long = frame.melt(id_vars=["year", "region", WEIGHT], value_vars=cols, var_name="indicator")
    keys = ["indicator", "region", "year"]
    table = stats.by_group(long, keys, ["value"], ("p05", "median", "p95"))
    table.columns = ["p05", "median", "p95"]
    table["runs"] = long.groupby(keys, sort=False, dropna=False)["value"].count()
    return table.sort_index().reset_index()


def run_ensemble(
    scenario: Scenario | str | Path,
    draws: int | None = 9,
    seeds: tuple[int, ...] = DEFAULT_SEEDS,
    scale: float | None = None,
    end_year: int | None = None,
    workers: int = 1,
    executor: str = "local",
    scheduler: str | None = None,
    callback: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
) -> RunResult:
    """Run ``draws`` different parameter sets from the calibrated ensemble (calibration/calibrated.toml) with each
    seed (``draws=None``: the calibrated point estimate with each seed).

    The indicator table stacks every run with a ``draw`` column (one id per run: parameter draw x seed,
    plus ``param_draw``, ``seed`` and the run's ``weight``), which reports and charts turn into weighted medians,
    90% bands and the probability of reaching each target. Without a calibration file the behaviour.toml defaults
    are used.
    """
    from qhsim.runner import as_scenario

    sc = as_scenario(scenario)
    started = time.perf_counter()
    frame = project(sc if isinstance(scenario, Scenario) else scenario, draws=draws, seeds=tuple(seeds), scale=scale,
                    end_year=end_year, workers=workers, executor=executor, scheduler=scheduler,
                    progress=callback is None, callback=callback, cancel=cancel)
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
            "parameter_source": frame.attrs.get("source"),
            "calibration": frame.attrs.get("calibration"),
        },
    )
