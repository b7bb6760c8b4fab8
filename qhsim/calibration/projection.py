"""Projections with parameter uncertainty 带不确定性的预测: parameter draws x seeds -> one indicator frame.

``project(scenario, draws=20, seeds=(...))`` draws parameter sets from the calibrated ensemble
(``calibration/calibrated.toml``), runs each with every seed, and returns the indicator frames stacked
with two extra columns: ``draw`` (the parameter draw, 0..draws-1) and ``seed``. Each row is one
(draw, seed, year, region). Median and 90% bands are quantiles over all rows of a (year, region)
(``summarise``); target probabilities are shares of (draw, seed) runs reaching a target. A scenario's own ``[parameters]`` override the
drawn values (an analyst's explicit choice wins). Without a calibration, the single draw 0 uses the
behaviour.toml defaults. Deterministic: the draws come from ``numpy.random.default_rng(draw_seed)``
and results are assembled by (draw, seed), whatever the number of workers.
"""

from __future__ import annotations

from pathlib import Path
import numpy as np
import pandas as pd

from qhsim.calibration.ensemble import Calibration, load_calibration
from qhsim.calibration.objective import WorkerSpec
from qhsim.calibration.parallel import Evaluator
from qhsim.config import Scenario, load_scenario, resolve_raw

DEFAULT_SEEDS = (1, 2, 3)


def parameter_draws(calibration: Calibration | None, draws: int, draw_seed: int = 0) -> list[dict[str, float]]:
    if calibration is None:
        return [{}]
    return calibration.sample(draws, np.random.default_rng(draw_seed))


def project(
    scenario: str | Path | Scenario,
    draws: int = 20,
    seeds: tuple[int, ...] = DEFAULT_SEEDS,
    scale: float | None = None,
    end_year: int | None = None,
    workers: int = 1,
    calibration: Calibration | str | Path | None = None,
    draw_seed: int = 0,
    progress: bool = True,
) -> pd.DataFrame:
    """Stacked indicator frames of ``draws`` parameter sets x ``seeds`` (columns ``draw`` and ``seed`` added)."""
    if isinstance(scenario, Scenario):
        raw, origin, sc = scenario.model_dump(mode="json"), "<scenario>", scenario
    else:
        origin = str(scenario)
        raw = resolve_raw(Path(scenario))
        sc = load_scenario(scenario)
    cal = calibration if isinstance(calibration, Calibration) or calibration is None else load_calibration(calibration)
    if calibration is None:
        cal = load_calibration()
    thetas = parameter_draws(cal, draws, draw_seed)
    spec = WorkerSpec(
        scenario_raw=raw, scenario_origin=origin, scale=scale if scale is not None else sc.run.scale,
        end_year=end_year if end_year is not None else sc.run.end_year, cells=None, scenario_wins=True,
    )
    with Evaluator(spec, seeds, workers=workers, progress=progress) as ev:
        recs = ev.evaluate([(i, th, {}) for i, th in enumerate(thetas)], desc="projection")
    frames = []
    for rec in recs:
        for seed, frame in zip(seeds, rec["frames"]):
            f = frame.copy()
            f.insert(0, "seed", seed)
            f.insert(0, "draw", rec["id"])
            frames.append(f)
    out = pd.concat(frames, ignore_index=True)
    out.attrs["draws"] = [dict(th) for th in thetas]
    out.attrs["calibration"] = str(cal.path) if cal is not None else "none (behaviour.toml defaults)"
    return out


def summarise(frame: pd.DataFrame, indicators: list[str] | None = None) -> pd.DataFrame:
    """Median and 90% band per (year, region, indicator) over all (draw, seed) rows."""
    ids = {"year", "region", "draw", "seed"}
    cols = indicators or [c for c in frame.columns if c not in ids and pd.api.types.is_numeric_dtype(frame[c])]
    long = frame.melt(id_vars=["year", "region"], value_vars=cols, var_name="indicator")
    g = long.groupby(["indicator", "region", "year"])["value"]
    return pd.DataFrame({
        "p05": g.quantile(0.05), "median": g.median(), "p95": g.quantile(0.95), "runs": g.count(),
    }).reset_index()
