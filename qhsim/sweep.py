"""Policy sweeps 政策扫描: one scenario over a grid of instrument values x seeds (``experiments/*.toml``).

An experiment file names a base scenario, the instruments to vary (key paths of the scenario, each with a
list of values that take effect from ``from_year``), the seeds, scale and horizon. Every grid point runs with
every seed under common random numbers, in parallel, with results assembled in grid order — so the numbers
do not depend on the number of workers. The output folder holds every run (``runs.parquet``), a summary per
grid point (mean and 5%/95% over seeds at the report years: ``summary.csv``, ``summary.txt``) and a manifest.
"""

from __future__ import annotations

import itertools
import json
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from qhsim import __version__, data
from qhsim.config import read_toml, resolve_raw, scenario_from_dict
from qhsim.errors import InputError
from qhsim.output.numbers import format_number, format_value
from qhsim.output.report import format_table, indicator_label
from qhsim.output.folders import atomic_folder
from qhsim.output.store import json_default, sha256
from qhsim.results import PROVINCE

MAX_RUNS = 20000


class Experiment(BaseModel):
    """An experiment file (experiments/*.toml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = ""
    scenario: str  # base scenario, relative to the experiment file
    from_year: int = Field(ge=2016, le=2060)  # the varied values hold from this year on
    vary: dict[str, list[float]]  # scenario key path -> values, e.g. "policy.ex_ante_grants.budget" = [0, 15000]
    seeds: list[int] = Field(default=[1, 2, 3], min_length=1)
    scale: float = Field(default=0.25, gt=0.0, le=1.0)
    end_year: int = Field(default=2035, ge=2016, le=2060)
    report_years: list[int] = [2025, 2030, 2035]
    indicators: list[str] = ["rd_intensity", "business_rd", "share_firms_with_rd", "hte_count"]

    @field_validator("vary")
    @classmethod
    def _vary(cls, value: dict[str, list[float]]) -> dict[str, list[float]]:
        if not value:
            raise ValueError("name at least one instrument, e.g. \"policy.ex_ante_grants.budget\" = [0, 15000]")
        for path, values in value.items():
            if not path.startswith("policy.") or not values:
                raise ValueError(f"{path!r}: expected a policy key path with a non-empty list of values")
        return value

    @field_validator("indicators")
    @classmethod
    def _indicators(cls, value: list[str]) -> list[str]:
        known = data.load("indicators")
        for key in value:
            if key not in known:
                raise ValueError(f"{key!r} is not an indicator (see qhsim/data/indicators.toml)")
        return value


def load_experiment(path: str | Path) -> tuple[Experiment, dict[str, Any]]:
    """The validated experiment and the resolved table of its base scenario."""
    path = Path(path)
    raw = read_toml(path, "experiment")
    try:
        exp = Experiment.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise InputError(f"{path}: {loc}: {err['msg'].removeprefix('Value error, ')}") from None
    n_runs = len(exp.seeds) * len(grid(exp))
    if n_runs > MAX_RUNS:
        raise InputError(f"{path}: vary x seeds = {n_runs} runs; allowed at most {MAX_RUNS}")
    return exp, resolve_raw(path.parent / exp.scenario)


def grid(exp: Experiment) -> list[dict[str, float]]:
    """Every combination of the varied values, in file order (the last instrument varies fastest)."""
    paths = list(exp.vary)
    return [dict(zip(paths, combo)) for combo in itertools.product(*(exp.vary[p] for p in paths))]


def point_scenarios(exp: Experiment, base_raw: dict[str, Any], origin: str) -> list[Any]:
    """The validated scenario of every grid point (a bad path or value is an InputError naming it)."""
    from qhsim.calibration.objective import WorkerSpec, scenario_for

    spec = WorkerSpec(scenario_raw=base_raw, scenario_origin=origin, scale=exp.scale, end_year=exp.end_year,
                      cells=None, instruments={p: exp.from_year for p in exp.vary})
    base = scenario_from_dict(base_raw, origin)
    out = []
    for point in grid(exp):
        try:
            out.append(scenario_for(spec, base, {}, point))
        except (KeyError, AttributeError):
            raise InputError(f"{origin}: vary: no scenario instrument {', '.join(point)}") from None
    return out


def run_sweep(path: str | Path, workers: int = 1) -> tuple[Experiment, pd.DataFrame]:
    """Run every grid point with every seed; return the experiment and the stacked indicator frames
    (columns ``point``, the varied key paths, ``seed``, then year, region and the indicators)."""
    from qhsim.calibration.objective import WorkerSpec
    from qhsim.calibration.parallel import Evaluator

    exp, base_raw = load_experiment(path)
    origin = str(path)
    point_scenarios(exp, base_raw, origin)  # fail early, in this process, on a bad path or value
    spec = WorkerSpec(scenario_raw=base_raw, scenario_origin=origin, scale=exp.scale, end_year=exp.end_year,
                      cells=None, instruments={p: exp.from_year for p in exp.vary}, ignore_calibration=False)
    points = grid(exp)
    with Evaluator(spec, exp.seeds, workers=workers, progress=sys.stderr.isatty()) as ev:
        records = ev.evaluate([(i, {}, point) for i, point in enumerate(points)], desc="sweep")
    frames = []
    for rec in records:
        for seed, frame in zip(exp.seeds, rec["frames"]):
            frames.append(frame.assign(point=rec["id"], seed=seed, **points[rec["id"]]))
    runs = pd.concat(frames, ignore_index=True)
    front = ["point", *exp.vary, "seed"]
    return exp, runs[front + [c for c in runs.columns if c not in front]]


def summarise(exp: Experiment, runs: pd.DataFrame, region: str = PROVINCE) -> pd.DataFrame:
    """Per grid point: each reported indicator's mean and 5%/95% over seeds at each report year."""
    rows = runs[(runs["region"] == region) & runs["year"].isin(exp.report_years)]
    group = rows.groupby(["point", *exp.vary, "year"])[exp.indicators]
    stats = pd.concat({"mean": group.mean(), "p05": group.quantile(0.05), "p95": group.quantile(0.95)}, axis=1)
    stats.columns = [f"{ind}_{stat}" for stat, ind in stats.columns]
    return stats.reset_index()


def format_sweep(exp: Experiment, summary: pd.DataFrame, width: int | None = None) -> str:
    """One block per report year: grid points as rows, indicator means as columns."""
    blocks = []
    for year in exp.report_years:
        part = summary[summary["year"] == year]
        if part.empty:
            continue
        heads = [[p.removeprefix("policy.") for p in exp.vary] + [indicator_label(k).split(" ", 1)[0] for k in exp.indicators],
                 [""] * len(exp.vary) + [indicator_label(k).split(" ", 1)[-1] for k in exp.indicators]]
        body = [[format_number(row[p]) for p in exp.vary] + [format_value(row[f"{k}_mean"], k) for k in exp.indicators]
                for _, row in part.iterrows()]
        title = f"{year}年 | 种子均值 mean over {len(exp.seeds)} seeds"
        blocks.append(format_table(heads, body, [False] * len(heads[0]), title, width))
    return "\n\n".join(blocks) + "\n"


def write_sweep(path: str | Path, out_dir: Path, workers: int = 1, width: int | None = None) -> str:
    """Run the experiment and write its folder atomically; return the summary for the screen (fitted to
    ``width`` display columns when given)."""
    started = time.perf_counter()
    exp, runs = run_sweep(path, workers)
    summary = summarise(exp, runs)
    intro = f"实验 experiment: {Path(path).name} — {exp.description}\n\n"
    text = intro + format_sweep(exp, summary)
    with atomic_folder(out_dir, "sweep") as tmp:
        runs.to_parquet(tmp / "runs.parquet", index=False)
        summary.to_csv(tmp / "summary.csv", index=False, encoding="utf-8-sig")
        (tmp / "summary.txt").write_text(text, encoding="utf-8")
        manifest = {
            "kind": "sweep", "experiment": exp.model_dump(), "experiment_file": str(path), "qhsim_version": __version__,
            "data_fingerprints": data.fingerprints(), "run_seconds": time.perf_counter() - started,
            "files": {p.name: sha256(p) for p in sorted(tmp.iterdir())},
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2, default=json_default),
                                           encoding="utf-8")
    return text if width is None else intro + format_sweep(exp, summary, width)
