"""Tidy results 整理后的结果: one long table for any results folder, the input of every exporter.

``Results.long`` has one row per (year, region, indicator, draw, design) with the columns ``LONG_COLUMNS``:
year, region, indicator, value, unit, draw (run id within a design: parameter draw x seed; 0 for a single
run), seed, design (the scenario name, a comparison's base and designs, or a sweep's design point), weight (the
run's weight in its design's statistics, summing to 1 over the design's runs: alike, unless the runs come from
parameter draws (``run --draws``, ``compare``, ``sweep``), each weighing what its draw stands for, ``qhsim.stats``);
then, for runs from an ensemble or a store, ``param_draw`` (the parameter draw; the exports write it as ``draw``,
as the stores and ``qhsim.experiments.tidy`` do, and leave out the run id: a run is its design, draw and seed).
``Results.meta`` holds what a reader needs beside the numbers (title, scenarios, seeds, scale, versions,
description, levers, calibration status); ``Results.tables`` holds kind-specific tables (a comparison's
leverage, a sweep's summary).

Build one from memory with ``from_run`` / ``from_comparison`` / ``from_sweep``, or from a folder with
``load_results(folder)``, which reads the manifest's ``kind`` and calls the loader registered for it in
``LOADERS`` (``register_loader`` adds one for a new kind of folder).
"""

from __future__ import annotations

import json
import math
import numbers
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from qhsim import __version__, data
from qhsim.config.instruments import instrument_label
from qhsim.config.schedule import YEAR_RANGE
from qhsim.errors import InputError
from qhsim.output.folders import MANIFEST, RUNS, manifest_kind, read_manifest
from qhsim.results import PROVINCE, REGIONAL_TABLES, RunResult, design_description, province_rows
from qhsim.stats import WEIGHT

# a comparison's per-prefecture tables in ``Results.tables`` (``from_comparison``), by the comparison table they hold
PREFECTURE_TABLES = {"changes": "prefecture_changes", "leverage": "prefecture_leverage"}
LONG_COLUMNS = ("year", "region", "indicator", "value", "unit", "draw", "seed", "design", WEIGHT)
PARAM_DRAW = "param_draw"  # the parameter draw of a run, where ``draw`` numbers the runs of a design
ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "scenarios" / "baseline.toml"


@dataclass
class Results:
    """Any results (run, ensemble, compare, sweep) as a tidy long table plus metadata."""

    kind: str
    long: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)
    designs: list[str] = field(default_factory=list)  # in display order; the first is the reference
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    folder: Path | None = None

    def wide(self, design: str | None = None) -> pd.DataFrame:
        """The indicators frame of one design (``RunResult.indicators`` layout: year, region, one column per
        indicator, plus ``draw`` and its ``weight`` when the design has several runs), indicators in
        indicators.toml order."""
        design = self.designs[0] if design is None else design
        rows = self.long[self.long["design"] == design]
        frame = rows.pivot_table(index=["draw", "year", "region"], columns="indicator", values="value",
                                 aggfunc="first", dropna=False, sort=False).reset_index()
        frame.columns.name = None
        order = [k for k in data.load("indicators") if k in frame.columns]
        frame = frame[["draw", "year", "region", *order]].sort_values(["draw", "year"], kind="stable")
        frame.insert(1, WEIGHT, frame["draw"].map(rows.groupby("draw")[WEIGHT].first()))
        if frame["draw"].nunique() == 1:
            frame = frame.drop(columns=["draw", WEIGHT])
        return frame.reset_index(drop=True)

    def n_draws(self) -> int:
        return int(self.long.groupby("design")["draw"].nunique().max()) if len(self.long) else 0


def unit(key: str) -> str:
    return data.load("indicators").get(key, {}).get("unit", "")


def long_table(indicators: pd.DataFrame, design: str, seed: int | None = None) -> pd.DataFrame:
    """Melt an indicators frame (a run, an ensemble's stacked runs, or a sweep point's seeds) into
    ``LONG_COLUMNS``, then ``param_draw`` where the frame has one (an ensemble's, a store's runs: the parameter draw,
    which the exports call ``draw``). ``seed`` fills the seed column when the frame has none; without a ``weight``
    column the runs weigh alike."""
    frame = indicators.copy()
    if "draw" not in frame:
        frame["draw"] = frame["seed"].rank(method="dense").astype(int) - 1 if "seed" in frame else 0
    if "seed" not in frame:
        frame["seed"] = seed if seed is not None else -1
    if WEIGHT not in frame:
        frame[WEIGHT] = 1.0 / frame["draw"].nunique()
    keys = [c for c in data.load("indicators") if c in frame.columns]
    extra = [PARAM_DRAW] if PARAM_DRAW in frame else []
    long = frame.melt(id_vars=["year", "region", "draw", "seed", WEIGHT, *extra], value_vars=keys,
                      var_name="indicator", value_name="value")
    long["unit"] = long["indicator"].map(unit)
    long["design"] = design
    long["year"] = long["year"].astype(int)
    long["draw"] = long["draw"].astype(int)
    long["seed"] = long["seed"].astype("int64")
    long["value"] = long["value"].astype(float)
    long[WEIGHT] = long[WEIGHT].astype(float)
    return long[[*LONG_COLUMNS, *extra]]


# --- metadata -------------------------------------------------------------------------------------------


def _flatten(table: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(table, dict) or (table and all(str(k).isdigit() for k in table)):
        return {prefix: table}
    out: dict[str, Any] = {}
    for key, value in table.items():
        out |= _flatten(value, f"{prefix}.{key}" if prefix else str(key))
    return out


def levers(scenario: dict[str, Any], base: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The policy instruments and parameters in which ``scenario`` differs from ``base``: key, base, value."""
    if base is None:
        return []
    mine, theirs = _flatten(scenario.get("policy", {}), "policy"), _flatten(base.get("policy", {}), "policy")
    mine |= _flatten(scenario.get("parameters", {}), "parameters")
    theirs |= _flatten(base.get("parameters", {}), "parameters")
    return [{"key": k, "base": theirs.get(k), "value": v} for k, v in mine.items() if theirs.get(k) != v]


def lever_name(key: str) -> str:
    """An instrument's Chinese and English name with its key (``qhsim.config.instruments``); the key alone for one
    the catalogue does not name."""
    names = instrument_label(key)
    return f"{names[0]} {names[1]} ({key})" if names else key


def sweep_schedule(value: Any) -> dict[int, Any] | None:
    """A year-table lever value as ``{year: value}`` by year, from a mapping or from the JSON text the run files and
    the manifest hold (``qhsim.experiments.levers.Lever.column``); None for a number or a string."""
    if isinstance(value, str) and value.startswith("{"):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if isinstance(value, Mapping):
        return {int(y): v for y, v in sorted(value.items(), key=lambda item: int(item[0]))}
    return None


def lever_text(value: Any) -> str:
    """A lever's value as people read it, in every table, report, error and export: a number with thousands
    separators and up to six significant digits (27,848.3, 672.5, 0.75), a string as it is, a year table as
    ``2026: 1,000 → 2028: 5,000`` (its first year ``YEAR_RANGE[0]``, in force before any change, as "此前 before")."""
    if value is None:
        return "—"
    table = sweep_schedule(value)
    if table is not None:
        return " → ".join(f"{'此前 before' if year == YEAR_RANGE[0] else year}: {lever_text(v)}"
                          for year, v in table.items())
    if isinstance(value, list):
        return ", ".join(lever_text(v) for v in value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, float) and value != int(value):
        digits = max(0, 5 - math.floor(math.log10(abs(value))))  # six significant digits, never in exponent form
        return f"{value:,.{digits}f}".rstrip("0").rstrip(".")
    return f"{int(value):,}"


@cache
def _baseline_json() -> str | None:
    if not BASELINE.is_file():
        return None
    from qhsim.config import load_scenario

    return json.dumps(load_scenario(BASELINE).model_dump(mode="json"))


def baseline_scenario() -> dict[str, Any] | None:
    """The shipped baseline scenario as resolved (the reference for a run's levers), if present."""
    text = _baseline_json()
    return None if text is None else json.loads(text)


CALIBRATION_KEYS = ("created", "method", "best_distance", "point", "evaluations", "scale", "validation_scale",
                    "model_fingerprint", "model_commit")


def calibration_status() -> dict[str, Any]:
    """The calibration file in force (``calibration/calibrated.toml`` unless switched off) and its fit."""
    import tomllib

    from qhsim.calibrated import calibration_file

    path = calibration_file()
    if path is None or not Path(path).is_file():
        return {"calibrated": False, "file": "none (behaviour.toml defaults)"}
    with Path(path).open("rb") as fh:
        meta = tomllib.load(fh).get("meta", {})
    return {"calibrated": True, "file": _shown_path(Path(path)), **{k: meta[k] for k in CALIBRATION_KEYS if k in meta}}


def _shown_path(path: Path) -> str:
    """``path`` relative to the repository (calibration/calibrated.toml) when it lies in it, else as it is: a
    report names the file without the machine's folders."""
    root = Path(__file__).resolve().parents[2]
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return str(path)


# --- metadata as people read it ------------------------------------------------------------------------
# The workbook's Metadata sheet and the HTML report's facts show each fact as words, one a row, never as JSON text;
# like ``lever_name`` and ``lever_text`` for the levers.

KIND_LABELS = {"run": "单次运行 single run", "ensemble": "集合预测 ensemble (parameter draws × seeds)",
               "compare": "政策方案比较 design comparison", "sweep": "政策扫描 policy sweep"}


BEIJING = timezone(timedelta(hours=8), "北京时间")  # Asia/Shanghai: UTC+8 all year (no daylight saving since 1991)


def beijing_time(moment: str | datetime) -> str:
    """A moment (an ISO 8601 text, as manifest.json records it in UTC, or a ``datetime``) in Beijing time, as the
    reports show it to analysts in Qinghai: ``2026-12-06 00:51:06 北京时间 Beijing time (UTC+8)``; text that is not an ISO
    time, as it is."""
    try:
        when = moment if isinstance(moment, datetime) else datetime.fromisoformat(str(moment))
    except ValueError:
        return str(moment)
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when  # the manifests' times are UTC
    return f"{when.astimezone(BEIJING):%Y-%m-%d %H:%M:%S} 北京时间 Beijing time (UTC+8)"


def kind_label(results: Results) -> str:
    """What ``results`` are, in words (the HTML report's header and facts, the workbook's metadata): ``KIND_LABELS``,
    but runs of several seeds without parameter draws (``qhsim run --seeds``, ``make baseline``) by what they are —
    ``8个随机种子，校准点估计 8 seeds, calibrated point estimate`` — and an ensemble with its parameter draws and seeds."""
    if results.kind != "ensemble":
        return KIND_LABELS.get(results.kind, results.kind)
    seeds = len(results.meta.get("seeds") or []) or results.n_draws()
    draws = results.long["param_draw"] if "param_draw" in results.long else pd.Series(0, index=results.long.index)
    sets = int(draws.nunique())
    if set(draws.unique()) <= {0}:  # every run on the calibrated point: only the seeds vary
        return f"{seeds}个随机种子，校准点估计（未抽参数组） {seeds} seeds, calibrated point estimate (no parameter draws)"
    return f"集合预测：{sets}组参数 × {seeds}个种子 ensemble: {sets} parameter draws × {seeds} seeds"
VERSION_ORDER = ("qhsim", "mesa", "python", "numpy", "pandas")  # the rest follow by name (numpy_cpu_path: qhsim/cpu.py)
NOT_RECORDED = "未记录 not recorded"


def seeds_text(seeds: Any) -> str:
    """The seeds of a run or of each design's runs, ``1, 2, 3（3个种子 3 seeds）``; a single seed ``20151231（1个种子 1
    seed）``."""
    seeds = [seeds] if isinstance(seeds, int | str) else list(seeds or [])
    if not seeds:
        return NOT_RECORDED
    n = len(seeds)
    return f"{', '.join(map(str, seeds))}（{n}个种子 {n} seed{'s' if n > 1 else ''}）"


def runs_text(runs: int, seeds: int) -> str:
    """How many runs stand behind each design's statistics and what they are, ``6 = 2组参数 × 3个种子 2 parameter sets ×
    3 seeds``."""
    if seeds < 1 or runs % seeds:
        return str(runs)
    sets = runs // seeds
    return (f"{runs} = {sets}组参数 × {seeds}个种子 {sets} parameter set{'s' if sets > 1 else ''} × {seeds} "
            f"seed{'s' if seeds > 1 else ''}")


def versions_text(versions: Mapping[str, Any] | None) -> str:
    """The software versions that wrote the results, ``qhsim 0.1.0, mesa 3.5.1, python 3.12.3, numpy 2.2.1, pandas
    2.2.3`` (qhsim first, a version not recorded as such). Where the results record only some of ``VERSION_ORDER`` (the
    manifest of a compare or sweep store written before they were recorded holds the qhsim version alone) it says which were not recorded, so a short
    list does not read as complete: ``qhsim 0.1.0（未记录 not recorded: mesa, python, numpy, pandas）``."""
    versions = dict(versions or {})
    order = [k for k in VERSION_ORDER if k in versions] + sorted(k for k in versions if k not in VERSION_ORDER)
    text = ", ".join(f"{k} {versions[k] or NOT_RECORDED}" for k in order)
    missing = [k for k in VERSION_ORDER if k not in versions]
    if text and missing:
        text += f"（{NOT_RECORDED}: {', '.join(missing)}）"
    return text or NOT_RECORDED


def environment_versions() -> dict[str, str]:
    """The versions of this process's software (what a run folder's manifest records as ``versions``). Mesa's from its
    installed metadata: importing it (~1-2 s) would be most of a re-export's or a resumed comparison's start."""
    import platform
    from importlib.metadata import version

    from qhsim import cpu

    return {"qhsim": __version__, "python": platform.python_version(), "numpy": np.__version__,
            "pandas": pd.__version__, "mesa": version("mesa"), "numpy_cpu_path": cpu.dispatch()}


def calibration_distance(calibration: Mapping[str, Any]) -> str | None:
    """The calibrated point's own distance, the last step of calibrated.toml ``meta.point`` ("distance 0.575 -> 0.558
    with 16 seeds" gives "0.558"; 1 = every target within its tolerance on average), or None."""
    fit = re.findall(r"-> ([0-9.]+)", str(calibration.get("point", "")))
    return fit[-1] if fit else None


def calibration_rows(calibration: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """The calibration in force as (bilingual label, text) rows: status, file and date, fit, method, and the model
    code it was fitted on (its fingerprint and commit)."""
    cal = dict(calibration or {})
    if not cal:
        return [("校准 calibration", NOT_RECORDED)]
    if not cal.get("calibrated"):
        return [("校准 calibration", "未校准：采用 behaviour.toml 默认值 not calibrated: the behaviour.toml defaults were "
                                   "used")]
    rows = [("校准 calibration", "已校准：行为参数取后验点估计 calibrated: the behavioural parameters are the posterior "
                                "point estimate fitted to the 2015–2020 data")]
    created = str(cal.get("created") or "")[:10]
    rows.append(("校准文件 calibration file", f"{cal.get('file', NOT_RECORDED)}"
                 + (f"（生成于 written {created}）" if created else "")))
    distance = calibration_distance(cal)
    if distance is not None:
        rows.append(("校准拟合 calibration fit", f"拟合距离 {distance}（1 = 各目标平均恰在容差内） distance {distance}, where 1 = "
                     "every target within its tolerance on average (calibration/fit_report.md)"))
    if cal.get("method"):
        rows.append(("校准方法 calibration method", str(cal["method"])))
    if cal.get("model_fingerprint"):
        commit = f"，提交 commit {str(cal['model_commit'])[:12]}" if cal.get("model_commit") else ""
        rows.append(("校准所用模型 model code calibrated on", f"指纹 fingerprint {str(cal['model_fingerprint'])[:12]}{commit}"
                     "（在现行代码上的再验证见 re-validation on the current code: calibration/revalidation.md）"))
    return rows


def meta_text(value: Any) -> str:
    """Any other metadata value in words: a list as ``a, b``, a mapping as ``key: value; key: value`` (never JSON)."""
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {meta_text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(meta_text(v) for v in value)
    return lever_text(value)


def run_meta(result: RunResult, manifest: dict[str, Any] | None = None) -> dict[str, Any]:
    """Metadata of one run or ensemble."""
    scenario = result.scenario
    run = scenario.get("run", {})
    seeds = result.meta.get("seeds") or [result.seed]
    manifest = manifest or {}
    return {
        "title": run.get("name") or result.scenario_name,
        "scenario_name": result.scenario_name,
        "description": run.get("description", ""),
        "extends": scenario.get("extends"),
        "seeds": list(seeds),
        "population_seed": result.meta.get("population_seed"),
        # which draws, the weight they hold and their runs' weights (qhsim.experiments.designs.draws_source); a count
        # for an ensemble written before the draws were weighted
        "parameter_draws": result.meta.get("parameter_source") or len(result.meta.get("parameter_draws") or []) or None,
        "scale": result.meta.get("scale", run.get("scale")),
        "start_year": run.get("start_year"),
        "end_year": run.get("end_year"),
        "run_seconds": result.run_seconds,
        # a run just made (no manifest yet) is this environment's, as its manifest will say
        "versions": manifest.get("versions") or (environment_versions() if not manifest
                                                 else {"qhsim": result.meta.get("qhsim_version")}),
        "created": manifest.get("created"),
        "levers": levers(scenario, baseline_scenario()),
        # a folder read back: the calibration its manifest recorded when it ran, not the one in force now
        "calibration": manifest.get("calibration") or calibration_status(),
    }


# --- builders from memory -----------------------------------------------------------------------------


def from_run(result: RunResult, manifest: dict[str, Any] | None = None) -> Results:
    """A run or an ensemble (``RunResult.indicators`` with a ``draw`` column)."""
    kind = "ensemble" if "draw" in result.indicators else "run"
    design = result.scenario_name
    return Results(kind=kind, long=long_table(result.indicators, design, result.seed),
                   meta=run_meta(result, manifest) | {"kind": kind}, designs=[design])


def store_long(runs: pd.DataFrame, names: dict[int, str], n_seeds: int) -> pd.DataFrame:
    """Stacked store runs (``qhsim.experiments.store``) as ``LONG_COLUMNS``: one design per point, its
    (parameter draw, seed) runs numbered as draws, alike in every design (a seed's number is its place among all the
    store's seeds: a point that lacks a run, in an unfinished store, still pairs its others with the base's); the
    store's parameter draw kept as ``param_draw``."""
    frames = []
    seeds = {s: i for i, s in enumerate(sorted(runs["seed"].unique()))}
    for point, rows in runs.groupby("point", sort=True):
        rows = rows.copy()
        rows[PARAM_DRAW] = rows["draw"].astype(int)
        rows["draw"] = rows[PARAM_DRAW] * max(n_seeds, len(seeds)) + rows["seed"].map(seeds)
        ids = ["year", "region", "draw", "seed", *([WEIGHT] if WEIGHT in rows else []), PARAM_DRAW]
        frames.append(long_table(rows[[*ids, *[c for c in rows if c in data.load("indicators")]]], names[int(point)]))
    return pd.concat(frames, ignore_index=True)


def from_comparison(result: Any) -> Results:
    """A comparison (``qhsim.experiments.ComparisonResult``): the base and every design, their runs as draws.

    ``tables`` hold the comparison's tidy tables (changes, costs, leverage, targets, ranking, pairwise, budget: the
    province's), and each prefecture's changes and leverage (``PREFECTURE_TABLES``: "prefecture_changes",
    "prefecture_leverage", with a ``region`` column, as ``qhsim compare --region`` reads them from the comparison's
    ``regions``); ``qhsim.output.tables.cost_effectiveness`` and ``prefecture_effects`` read the answers from them."""

    names = [result.base, *result.designs]
    long = store_long(result.runs, dict(enumerate(names)), len(result.meta.get("seeds", [])))
    scenarios = result.meta.get("scenarios", {})  # a store read back: its manifest's, as the comparison resolved them
    base_sc = scenarios.get(result.base)
    meta = {
        "kind": "compare",
        "title": f"{', '.join(result.designs)} vs {result.base}",
        "description": "",
        # what each design is (its scenario's [run] description; comparison.txt's legend and ranking.csv say the same)
        "descriptions": {n: design_description(scenarios, n, result.base) for n in names} if scenarios else {},
        "seeds": list(result.meta.get("seeds", [])),
        # the draws and the posterior weight they hold (qhsim.experiments.designs.draws_source), or None
        "parameter_draws": result.meta.get("parameters") if result.meta.get("draws") else None,
        "scale": result.meta.get("scale"),
        "end_year": result.meta.get("end_year"),
        "window": list(result.window),
        # what the public cost leaves out, in words (comparison.txt's notes on budgets set but not spent and deductions
        # carried past the window, which ``qhsim.experiments.report.write_comparison`` puts in the meta and the store's
        # manifest)
        "cost_notes": list(result.meta.get("cost_notes") or []),
        "levers": [lv | {"design": d} for d in result.designs for lv in levers(scenarios.get(d, {}), base_sc)],
        # a comparison just run is this environment's; a store read back, what its manifest records (``Store.manifest``;
        # a store of an older qhsim has the qhsim version alone, and ``versions_text`` names the others not recorded)
        "versions": result.meta.get("versions") or ({"qhsim": result.meta["qhsim_version"]}
                                                    if "qhsim_version" in result.meta else environment_versions()),
        # the code, data and calibrated parameters the runs ran on (``qhsim.experiments.engine.fingerprint``)
        "model_fingerprint": result.meta.get("model_fingerprint") or getattr(getattr(result, "store", None),
                                                                             "fingerprint", None),
        "calibration": result.meta.get("calibration") or calibration_status(),  # the store's, read back
    }
    tables = {"changes": result.changes, "costs": result.costs, "leverage": result.leverage,
              "targets": result.targets, "ranking": result.ranking,
              "pairwise": result.pairwise.rename_axis("design").reset_index()}
    if result.budget is not None:
        tables["budget"] = result.budget
    regions = getattr(result, "regions", None) or {}  # none in a store of an older qhsim
    tables |= {PREFECTURE_TABLES[name]: regions[name] for name in REGIONAL_TABLES if name in regions}
    return Results(kind="compare", long=long, meta=meta, designs=names, tables=tables)


def point_label(design: str, point: dict[str, Any]) -> str:
    """A sweep design point as text: its short id and lever settings (``lever_text``),
    ``p3: grant_budget=13,970; selection=lottery; voucher_path=2026: 5,000 → 2029: 1,000``."""
    return f"{design}: " + "; ".join(f"{k.removeprefix('policy.')}={lever_text(v)}" for k, v in point.items())


def sweep_points(experiment: dict[str, Any], runs: pd.DataFrame) -> pd.DataFrame:
    """One row per design point of a sweep store: ``point``, ``design`` (its short id in the run files: base, p1, ...),
    ``label`` (``point_label``) and one column per lever (numbers as numbers, a year table as text; empty for the
    base)."""
    levers = [k for k in experiment.get("levers", []) if k != "design"]  # a named design is in the short id
    settings = experiment.get("points", [])
    ids = runs.groupby("point", sort=True)["design"].first()
    rows = []
    for point, design in ids.items():
        setting = settings[int(point)] if int(point) < len(settings) and int(point) > 0 else {}
        values = {k: setting.get(k) for k in levers} if setting else {k: None for k in levers}
        rows.append({"point": int(point), "design": str(design),
                     "label": point_label(str(design), values) if setting else str(design),
                     **{k: lever_text(v) if sweep_schedule(v) is not None else v for k, v in values.items()}})
    return pd.DataFrame(rows, columns=["point", "design", "label", *levers])


def _lever_values(settings: list[dict[str, Any]], key: str) -> str:
    """A lever's values over the design points, each once, in order (numbers by value, not as text) and written as
    ``lever_text`` writes them, separated by "; " (a year table and a number with thousands separators hold commas)."""
    values = {v for v in (p.get(key) for p in settings) if v is not None}
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return "; ".join(lever_text(float(v)) for v in sorted(values))
    return "; ".join(sorted({lever_text(v) if sweep_schedule(v) is not None else str(v) for v in values}))


def from_sweep(experiment: dict[str, Any], runs: pd.DataFrame, manifest: dict[str, Any] | None = None,
               summary: pd.DataFrame | None = None) -> Results:
    """A sweep store (``qhsim.experiments.sweep``): one design per point (point 0 is the base, the others named by
    ``point_label``), its draws x seeds as draws; ``tables["points"]`` (``sweep_points``) gives each point's short id
    and lever settings, which the CSV and Parquet exports put in columns of their own; ``tables["summary"]`` the
    sweep's ``summarise`` output (summary.csv) where given, from which the workbook and HTML report take its
    cost-effectiveness."""
    names_of = list(experiment.get("levers", []))
    settings = experiment.get("points", [])
    points = sweep_points(experiment, runs)
    labels = dict(zip(points["point"], points["label"]))
    long = store_long(runs, labels, len(experiment.get("seeds", [])))
    manifest = manifest or {}
    meta = {
        "kind": "sweep",
        "title": Path(experiment.get("file", "sweep")).stem,
        "description": experiment.get("description", ""),
        "seeds": list(experiment.get("seeds", [])),
        "scale": experiment.get("scale"),
        "end_year": experiment.get("end_year"),
        "from_year": experiment.get("from_year"),
        # the scenario file point 0 ("base") runs, as the experiment file names it
        "base_scenario": experiment.get("scenario"),
        "versions": manifest.get("versions") or {"qhsim": manifest.get("qhsim_version")},
        "model_fingerprint": manifest.get("model_fingerprint"),
        "run_seconds": manifest.get("seconds"),
        "levers": [{"key": k, "base": None, "value": _lever_values(settings[1:], k)} for k in names_of],
        "calibration": manifest.get("calibration") or calibration_status(),  # the store's, where it records one
    }
    tables = {"points": points} if summary is None else {"points": points, "summary": summary}
    return Results(kind="sweep", long=long, meta=meta, designs=[labels[p] for p in sorted(labels)], tables=tables)


# --- loaders for folders --------------------------------------------------------------------------------

Loader = Callable[[Path, dict[str, Any]], Results]


def _load_run(folder: Path, manifest: dict[str, Any]) -> Results:
    from qhsim.output.store import read_run

    return from_run(read_run(folder), manifest)


def stored_cost_notes(manifest: dict[str, Any]) -> list[str]:
    """A compare store's notes on what the public cost leaves out (``cost_notes``); a store of an older qhsim kept
    only the unspent budgets' note, as one text (``unspent_budgets``)."""
    if "cost_notes" in manifest:
        return list(manifest["cost_notes"])
    return [manifest["unspent_budgets"]] if manifest.get("unspent_budgets") else []


def _load_compare(folder: Path, manifest: dict[str, Any]) -> Results:
    """A compare store: its analysed runs and the tables ``qhsim compare`` wrote (read, not recomputed)."""
    from types import SimpleNamespace

    from qhsim.output.folders import read_store_runs

    if manifest.get("status") != "complete":
        raise InputError(f"{folder}: the comparison is not finished; run its qhsim compare command again to resume")
    exp = manifest["experiment"]
    tables = {name: pd.read_csv(folder / f"{name}.csv", encoding="utf-8-sig")
              for name in ("changes", "costs", "leverage", "targets", "ranking", "pairwise", "budget")
              if (folder / f"{name}.csv").is_file()}
    # each prefecture's rows (changes.csv and leverage.csv hold them below the province's), then the province's answer
    regions = {name: tables[name][tables[name]["region"] != PROVINCE].reset_index(drop=True)
               for name in REGIONAL_TABLES if name in tables and "region" in tables[name]}
    tables |= {name: province_rows(tables[name]) for name in REGIONAL_TABLES if name in tables}
    result = SimpleNamespace(
        base=exp["base"], designs=list(exp["designs"]), window=tuple(manifest["window"]),
        meta={**exp, "qhsim_version": manifest.get("qhsim_version", "unknown"),
              "model_fingerprint": manifest.get("model_fingerprint"), "versions": manifest.get("versions"),
              "calibration": manifest.get("calibration"), "cost_notes": stored_cost_notes(manifest)},
        runs=read_store_runs(folder, manifest["analysed_runs"]), budget=tables.pop("budget", None),
        pairwise=tables.pop("pairwise").set_index("design"), regions=regions, **tables)
    return from_comparison(result)


def sweep_finished(folder: Path, manifest: dict[str, Any]) -> None:
    """Refuse a sweep store whose runs are not all in (an interrupted ``qhsim sweep``): its tables and PRIM boxes would
    rest on some points' runs only, and read as the sweep's. One line: how many runs of how many, and the command
    that finishes it (the same experiment: its file, ``--out``, seeds, scale and draws)."""
    if manifest.get("status") == "complete":
        return
    runs = manifest.get("runs", [])
    done = sum((folder / RUNS / f"{r['run_key']}.parquet").is_file() for r in runs)
    exp = manifest.get("experiment", {})
    drawn = bool(runs) and runs[0].get("spec", {}).get("parameters") is not None  # parameter draws (--draws)
    command = " ".join(["qhsim sweep", str(exp.get("file", "<experiment file>")), "--out", str(folder),
                        *(["--seeds", ",".join(map(str, exp["seeds"]))] if exp.get("seeds") else []),
                        *(["--scale", f"{exp['scale']:g}"] if exp.get("scale") else []),
                        *(["--draws", str(exp["draws"])] if drawn and exp.get("draws") else [])])
    raise InputError(f"{folder}: the sweep is not finished ({done} of {len(runs)} runs in the store); run {command} "
                     "to finish it")


def _load_sweep(folder: Path, manifest: dict[str, Any]) -> Results:
    from qhsim.output.folders import read_store_runs

    sweep_finished(folder, manifest)  # an unfinished store is refused: its summary would not fit its runs
    path = folder / "summary.csv"  # the summary the sweep wrote when its last run was in
    summary = pd.read_csv(path, encoding="utf-8-sig") if path.is_file() else None
    return from_sweep(manifest["experiment"], read_store_runs(folder), manifest, summary)


LOADERS: dict[str, Loader] = {"run": _load_run, "ensemble": _load_run, "compare": _load_compare, "sweep": _load_sweep}


def register_loader(kind: str, loader: Loader) -> None:
    """Let ``load_results`` read folders whose manifest says ``kind``: ``loader(folder, manifest) -> Results``."""
    LOADERS[kind] = loader


def load_results(folder: str | Path) -> Results:
    """Read any qhsim results folder; a path that is not one is a one-line ``InputError``."""
    folder = Path(folder)
    if not folder.is_dir():
        what = "is a file" if folder.exists() else "does not exist"
        raise InputError(f"{folder}: {what}; expected a qhsim results folder (run, ensemble, compare or sweep)")
    manifest = read_manifest(folder)
    if manifest is None:
        raise InputError(f"{folder}: not a qhsim results folder (no readable {MANIFEST})")
    kind = manifest_kind(manifest)
    if kind not in LOADERS:
        raise InputError(f"{folder}: unknown kind of results folder {kind!r}; known: {', '.join(LOADERS)}")
    try:
        results = LOADERS[kind](folder, manifest)
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{folder / MANIFEST}: incomplete or damaged {kind} folder ({type(exc).__name__}: {exc})") from None
    results.folder = folder
    return results


# --- rounding for files people read -------------------------------------------------------------------


def round_significant(values: pd.Series | np.ndarray, digits: int = 6) -> np.ndarray:
    """Values rounded to ``digits`` significant digits (2999.9999999999995 -> 3000.0); NaN stays NaN."""
    x = np.asarray(values, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = np.where((x == 0) | ~np.isfinite(x), 0, np.floor(np.log10(np.abs(x))))
    scale = 10.0 ** (digits - 1 - mag)
    out = np.round(x * scale) / scale
    return np.where(out == 0, 0.0, out)  # no -0.0


