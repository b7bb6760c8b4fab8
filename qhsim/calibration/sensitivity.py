"""``qhsim sensitivity``: Morris screening and Sobol indices (SALib) over behaviour and policy instruments.

Factors and settings come from ``calibration/sensitivity.toml``: behavioural parameters and policy
instruments (a scenario key path, a range and the first year the setting applies; earlier years keep the
scenario's schedule). Per method, ``<method>_ranges`` says over what the behavioural parameters vary:

- ``"prior"``: their ``qhsim/data/behaviour.toml`` ranges, or the calibration priors (free parameters);
- ``"posterior"``: the 5-95% posterior interval of the calibration in force (``[interval.<name>]`` of
  ``calibration/calibrated.toml``, or ``$QHSIM_CALIBRATED``): the uncertainty that remains after calibration.

``base`` says where every parameter a method does not vary stands: ``"calibrated"`` (the ``[point]`` of that
file beneath the scenario's own ``[parameters]``, as in ``qhsim run``) or ``"data"`` (the data-file values).
The base point travels in each run's parameters, so the runs do not depend on the workers' environment.
Outputs are indicator cells (default: 2025 R&D intensity, HTE count and R&D personnel, province), each
the mean over the configured seeds, which are the same for every sample (common random numbers).
Indicators the model does not produce yet are reported as "not yet modelled".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from qhsim import data  # noqa: E402
from qhsim.calibrated import CALIBRATED_ENV, Calibration, calibration_file, load_calibration, model_parameters  # noqa: E402
from qhsim.calibration.ensemble import write_atomic  # noqa: E402
from qhsim.calibration.objective import WorkerSpec  # noqa: E402
from qhsim.experiments.spec import get_path  # noqa: E402
from qhsim.calibration.parallel import Evaluator  # noqa: E402
from qhsim.calibration.settings import (  # noqa: E402
    REPO_ROOT,
    _is_number,
    load_free_parameters,
    read_toml,
    resolve_path,
)
from qhsim.calibration.targets import cell_key  # noqa: E402
from qhsim.config import resolve_raw, scenario_from_dict  # noqa: E402
from qhsim.config.instruments import lever_names  # noqa: E402
from qhsim.errors import InputError  # noqa: E402
from qhsim.output.charts import readable, chart_style  # noqa: E402
from qhsim.output.lang import in_language  # noqa: E402
from qhsim.output.report import region_label  # noqa: E402

SPEC_FILE = REPO_ROOT / "calibration" / "sensitivity.toml"
METHODS = ("morris", "sobol")
BASES = ("calibrated", "data")  # where the parameters a method does not vary stand
RANGES = ("prior", "posterior")  # over what a method varies the behavioural parameters


@dataclass(frozen=True)
class Factor:
    name: str  # behaviour parameter name, or the instrument key path
    kind: str  # "behaviour" | "instrument"
    low: float
    high: float
    from_year: int = 0
    integer: bool = False
    note: str = ""
    source: str = ""  # where the range comes from (report)


@dataclass(frozen=True)
class SensitivitySpec:
    path: Path
    config: str
    scenario: Path
    outputs: tuple[tuple[str, str, int], ...]  # (indicator, region, year)
    morris_factors: tuple[Factor, ...]
    sobol_factors: tuple[Factor, ...]
    scale: float
    seeds: tuple[int, ...]
    morris_trajectories: int
    morris_levels: int
    sobol_n: int
    random_seed: int
    out: Path
    base: str = "data"  # one of BASES
    morris_ranges: str = "prior"  # one of RANGES
    sobol_ranges: str = "prior"
    calibration: Calibration | None = None  # the calibration the base or a posterior range comes from
    base_parameters: dict[str, float] = field(default_factory=dict)  # beneath every run ({} for base "data")

    @property
    def end_year(self) -> int:
        return max(y for _, _, y in self.outputs)


def _behaviour_factors(path: Path, key: str, choice: Any) -> list[Factor]:
    """Behavioural factors over their prior ranges: the calibration priors (``"free"``) or the data-file ranges."""
    table = data.quantities("behaviour")
    if choice == "free":
        free = load_free_parameters(REPO_ROOT / "calibration" / "free_parameters.toml")
        # the ABC-sampled ones: a stage "levels" parameter has a point estimate but no posterior to range over
        return [Factor(p.name, "behaviour", p.low, p.high, integer=p.integer,
                       source="prior (calibration/free_parameters.toml)") for p in free if p.stage == "abc"]
    if choice == "all":
        names = [k for k, v in table.items() if "range" in v]
    elif isinstance(choice, list) and all(isinstance(x, str) for x in choice):
        names = choice
    else:
        raise InputError(f"{path}: {key} = {choice!r}: allowed \"free\", \"all\" or a list of behavioural parameter names")
    out = []
    for n in names:
        if n not in table or "range" not in table[n]:
            raise InputError(f"{path}: {key}: {n!r} is not a behavioural parameter with a range (qhsim/data/behaviour.toml)")
        lo, hi = (float(v) for v in table[n]["range"])
        v = table[n]["value"]
        out.append(Factor(n, "behaviour", lo, hi, integer=isinstance(v, int) and not isinstance(v, bool),
                          source="data range (qhsim/data/behaviour.toml)"))
    return out


def _posterior_factors(path: Path, key: str, prior: list[Factor], cal: Calibration) -> list[Factor]:
    """``prior`` with each range replaced by the calibration's 5-95% posterior interval, widened to take in the
    calibrated point where it lies outside (a level re-fit after the ABC-SMC can move a parameter out of the interval
    of the draws it sampled: the ranges must hold the point the projections run from)."""
    out = []
    for f in prior:
        where = f"{cal.path} [interval.{f.name}]"
        if f.name in cal.dropped:
            raise InputError(f"{path}: {key} = \"posterior\": {f.name}: the calibration in force ({cal.path}) is not used for it ({cal.dropped[f.name]})")
        iv = cal.intervals.get(f.name)
        if not isinstance(iv, dict):
            names = ", ".join(n for n in cal.intervals if n not in cal.dropped)
            raise InputError(f"{path}: {key} = \"posterior\": {f.name} has no posterior interval in {cal.path} "
                             f"(allowed: the calibrated parameters {names})")
        lo, hi = iv.get("p05"), iv.get("p95")
        if not (_is_number(lo) and _is_number(hi) and lo < hi):
            raise InputError(f"{where}: p05 = {lo!r}, p95 = {hi!r}: expected numbers with p05 < p95")
        if lo < f.low or hi > f.high:
            raise InputError(f"{where}: [{lo:g}, {hi:g}] lies outside the prior range [{f.low:g}, {f.high:g}] ({f.source}): recalibrate")
        v, source = cal.point.get(f.name), "posterior 5-95%"
        if _is_number(v) and not lo <= v <= hi:
            lo, hi, source = min(lo, v), max(hi, v), "posterior 5-95%, widened to the point"
        out.append(Factor(f.name, f.kind, float(lo), float(hi), integer=f.integer, source=source))
    return out


def _choice(path: Path, s: dict[str, Any], key: str, allowed: tuple[str, ...]) -> str:
    v = s.get(key)
    if v not in allowed:
        shown = "missing" if v is None else f"{v!r}"
        raise InputError(f"{path}: {key} = {shown}: allowed {' or '.join(f'{a!r}' for a in allowed)}".replace("'", '"'))
    return v


def _calibration_in_force(path: Path, why: str) -> Calibration:
    """The calibration that ``why`` (e.g. 'base = "calibrated"') needs: ``$QHSIM_CALIBRATED`` or calibration/calibrated.toml."""
    try:
        file = calibration_file()
    except InputError as exc:  # $QHSIM_CALIBRATED names no file
        raise InputError(f"{path}: {why} needs a calibration, but {exc}") from None
    if file is None:
        raise InputError(f"{path}: {why} needs a calibration, but {CALIBRATED_ENV}=off "
                         "(allowed without one: base = \"data\", morris_ranges/sobol_ranges = \"prior\")")
    cal = load_calibration(file)
    if cal is None:
        raise InputError(f"{path}: {why} needs a calibration, but {file} does not exist (run qhsim calibrate, or set {CALIBRATED_ENV})")
    return cal


def load_spec(config: str = "small", path: Path | None = None) -> SensitivitySpec:
    path = Path(path) if path is not None else SPEC_FILE
    raw = read_toml(path, "sensitivity")
    tables = {k for k, v in raw.items() if isinstance(v, dict) and k != "common"}
    if config not in tables:
        raise InputError(f"{path}: [{config}]: no such configuration (allowed: {', '.join(sorted(tables))})")
    s = {**raw.get("common", {}), **raw[config]}

    def need(key: str, kind: type, lo: float | None = None, hi: float | None = None) -> Any:
        if key not in s:
            raise InputError(f"{path}: [{config}]: missing key {key}")
        v = s[key]
        if kind in (int, float):
            if not _is_number(v) or (kind is int and not float(v).is_integer()) or (lo is not None and not lo <= v <= hi):
                raise InputError(f"{path}: {key} = {v!r}: expected a number in [{lo:g}, {hi:g}]")
            return kind(v)
        if not isinstance(v, kind):
            raise InputError(f"{path}: {key} = {v!r}: expected {kind.__name__}")
        return v

    year = need("year", int, 2016, 2060)
    region = need("region", str)
    outputs = tuple((ind, region, year) for ind in need("outputs", list))
    for ind, _, _ in outputs:
        if ind not in data.load("indicators"):
            raise InputError(f"{path}: outputs: {ind!r} is not an indicator of qhsim/data/indicators.toml")
    scenario = resolve_path(need("scenario", str))
    base = scenario_from_dict(resolve_raw(scenario), scenario)
    instruments = []
    for i, row in enumerate(raw.get("instrument", [])):
        key = row.get("key")
        try:
            schedule = get_path(base, key)
            schedule.at(year)
        except (AttributeError, KeyError, TypeError):
            raise InputError(f"{path}: instrument[{i}].key = {key!r}: not a policy schedule of the scenario (e.g. \"policy.super_deduction.general\")") from None
        r = row.get("range")
        if not (isinstance(r, list) and len(r) == 2 and all(_is_number(v) for v in r) and r[0] < r[1]):
            raise InputError(f"{path}: instrument[{i}] ({key}).range = {r!r}: expected [low, high] with low < high")
        fy = row.get("from_year", 2021)
        if not isinstance(fy, int) or not 2016 <= fy <= year:
            raise InputError(f"{path}: instrument[{i}] ({key}).from_year = {fy!r}: expected a year in [2016, {year}]")
        v = schedule.at(fy)
        instruments.append(Factor(key, "instrument", float(r[0]), float(r[1]), fy, isinstance(v, int), str(row.get("note", "")),
                                  source="instrument range (sensitivity.toml)"))
    # check the ranges against the scenario schema once, at both ends
    for f in instruments:
        for v in (f.low, f.high):
            probe = base.model_dump(mode="json")
            node = probe
            parts = f.name.split(".")
            for p in parts[:-1]:
                node = node[p]
            node[parts[-1]] = {str(f.from_year): int(v) if f.integer else v}
            try:
                scenario_from_dict(probe, f"{path}: instrument {f.name}")
            except InputError as exc:
                raise InputError(f"{path}: instrument {f.name}.range: {v:g} rejected by the scenario schema ({exc})") from None
    base_choice = _choice(path, s, "base", BASES)
    ranges = {m: _choice(path, s, f"{m}_ranges", RANGES) for m in METHODS}
    needs = [f'base = "{base_choice}"'] if base_choice == "calibrated" else []
    needs += [f'{m}_ranges = "posterior"' for m in METHODS if ranges[m] == "posterior"]
    cal = _calibration_in_force(path, needs[0]) if needs else None
    behaviour = {}
    for m, default in (("morris", "all"), ("sobol", "free")):
        prior = _behaviour_factors(path, f"{m}_behaviour", s.get(f"{m}_behaviour", default))
        behaviour[m] = _posterior_factors(path, f"{m}_ranges", prior, cal) if ranges[m] == "posterior" else prior
    seeds = need("seeds", list)
    if not seeds or not all(isinstance(x, int) and x >= 0 for x in seeds):
        raise InputError(f"{path}: seeds = {seeds!r}: expected a list of non-negative integers")
    n = need("sobol_n", int, 2, 2**20)
    if n & (n - 1):
        raise InputError(f"{path}: sobol_n = {n}: must be a power of 2 (Sobol' sequence balance)")
    return SensitivitySpec(
        path=path, config=config, scenario=scenario, outputs=outputs,
        morris_factors=tuple(behaviour["morris"] + instruments), sobol_factors=tuple(behaviour["sobol"] + instruments),
        scale=need("scale", float, 1e-4, 1.0), seeds=tuple(seeds),
        morris_trajectories=need("morris_trajectories", int, 2, 10000), morris_levels=need("morris_levels", int, 2, 20),
        sobol_n=n, random_seed=need("random_seed", int, 0, 2**32 - 1), out=resolve_path(need("out", str)),
        base=base_choice, morris_ranges=ranges["morris"], sobol_ranges=ranges["sobol"], calibration=cal,
        base_parameters=dict(cal.point) if base_choice == "calibrated" else {},
    )


def _problem(factors: tuple[Factor, ...]) -> dict[str, Any]:
    return {"num_vars": len(factors), "names": [f.name for f in factors], "bounds": [[f.low, f.high] for f in factors]}


def _evaluate(spec: SensitivitySpec, factors: tuple[Factor, ...], X: np.ndarray, workers: int, progress: bool, desc: str) -> np.ndarray:
    cells = tuple(cell_key(*o) for o in spec.outputs)
    worker = WorkerSpec(
        scenario_raw=resolve_raw(spec.scenario), scenario_origin=str(spec.scenario), scale=spec.scale,
        end_year=spec.end_year, cells=cells, instruments={f.name: f.from_year for f in factors if f.kind == "instrument"},
    )
    # the base point sits beneath the scenario's own [parameters], as the calibrated defaults do in `qhsim run`
    base = {k: v for k, v in spec.base_parameters.items() if k not in worker.own_parameters}
    items = []
    for i, row in enumerate(X):
        params, policy = dict(base), {}
        for f, v in zip(factors, row):
            v = float(round(v)) if f.integer else float(v)
            (params if f.kind == "behaviour" else policy)[f.name] = int(v) if f.integer else v
        items.append((i, params, policy))
    with Evaluator(worker, spec.seeds, workers=workers, progress=progress) as ev:
        recs = ev.evaluate(items, desc=desc)
    Y = np.array([[np.nanmean(r["cells"][c]) if np.isfinite(r["cells"][c]).any() else np.nan for c in cells] for r in recs])
    return Y


def run_sensitivity(
    spec: SensitivitySpec, methods: tuple[str, ...] = METHODS, workers: int = 1, progress: bool = True, log=print
) -> dict[str, pd.DataFrame]:
    """Run the analyses; return tidy tables (one row per factor x output) keyed by method."""
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    out: dict[str, pd.DataFrame] = {}
    labels = [f"{i}|{r}|{y}" for i, r, y in spec.outputs]
    if "morris" in methods:
        prob = _problem(spec.morris_factors)
        X = morris_sample.sample(prob, spec.morris_trajectories, num_levels=spec.morris_levels, seed=spec.random_seed)
        log(f"Morris: {len(spec.morris_factors)} factors, {len(X)} parameter sets x {len(spec.seeds)} seeds")
        Y = _evaluate(spec, spec.morris_factors, X, workers, progress, "Morris")

        def morris(y: np.ndarray) -> dict:
            return morris_analyze.analyze(prob, X, y, num_levels=spec.morris_levels, seed=spec.random_seed)

        out["morris"] = _index_table(labels, Y, spec.morris_factors, morris, ("mu_star", "mu", "sigma", "mu_star_conf"))
    if "sobol" in methods:
        prob = _problem(spec.sobol_factors)
        X = sobol_sample.sample(prob, spec.sobol_n, calc_second_order=False, seed=spec.random_seed)
        log(f"Sobol: {len(spec.sobol_factors)} factors, {len(X)} parameter sets x {len(spec.seeds)} seeds")
        Y = _evaluate(spec, spec.sobol_factors, X, workers, progress, "Sobol")

        def sobol(y: np.ndarray) -> dict:
            with np.errstate(divide="ignore", invalid="ignore"):
                return sobol_analyze.analyze(prob, y, calc_second_order=False, seed=spec.random_seed)

        out["sobol"] = _index_table(labels, Y, spec.sobol_factors, sobol, ("S1", "S1_conf", "ST", "ST_conf"))
    return out


def _index_table(labels: list[str], Y: np.ndarray, factors: list, analyse, keys: tuple[str, ...]) -> pd.DataFrame:
    """One row per (output, factor) with the ``keys`` of SALib's ``analyse(y)``; outputs the model does not
    produce (NaN) are listed as not yet modelled."""
    rows = []
    for k, lab in enumerate(labels):
        if not np.isfinite(Y[:, k]).all():
            rows += [{"output": lab, "factor": f.name, "kind": f.kind, "status": "not_yet_modelled"} for f in factors]
            continue
        r = analyse(Y[:, k])
        for j, f in enumerate(factors):
            rows.append({"output": lab, "factor": f.name, "kind": f.kind, "status": "ok",
                         **{key: float(r[key][j]) for key in keys}, "low": f.low, "high": f.high, "range_source": f.source})
    return pd.DataFrame(rows)


KINDS = {"behaviour": ("行为参数", "behavioural parameter"), "instrument": ("政策工具", "policy instrument")}
KIND_COLORS = {"behaviour": "#3182bd", "instrument": "#e6550d"}


def factor_names(name: str, kind: str) -> tuple[str, str] | None:
    """Chinese and English name of a factor: a model parameter's ``zh`` / ``en`` in its data file
    (qhsim/data/behaviour.toml, talent.toml, knowledge.toml), an instrument's lever label (qhsim/config/levers.toml);
    None when the name has none (e.g. a parameter removed since the results were stored)."""
    if kind == "instrument":
        return lever_names().get(name)
    entry = model_parameters().get(name, {})
    return (entry["zh"], entry["en"]) if "zh" in entry and "en" in entry else None


def factor_label(name: str, kind: str, lang: str = "both", sep: str = " ") -> str:
    """A factor as an analyst reads it, e.g. ``开展研发截距 R&D start intercept`` (the code name when it has no names)."""
    names = factor_names(name, kind)
    return name if names is None else in_language(*names, lang, sep)


def output_label(output: str, lang: str = "both", sep: str = ", ", name_sep: str = " ") -> str:
    """An output cell ``indicator|region|year`` as ``研发投入强度 R&D expenditure / GDP (%), 青海省 Qinghai Province 2025``
    (``name_sep`` between the indicator's Chinese and English names, ``sep`` before the region)."""
    indicator, region, year = output.split("|")
    spec = data.load("indicators").get(indicator)
    name = indicator if spec is None else f"{in_language(spec['zh'], spec['en'], lang, name_sep)} ({spec['unit']})"
    return f"{name}{sep}{region_label(region, lang)} {year}"


def _range(row: pd.Series) -> str:
    source = str(row.get("range_source", ""))
    tag = (" posterior" + (", widened to the point" if "widened" in source else "")) if source.startswith("posterior") else ""
    return f"[{row['low']:.4g}, {row['high']:.4g}]{tag}"


def _shown(path: Path) -> str:
    path = Path(path).resolve()
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


def _base_and_ranges(spec: SensitivitySpec, methods: tuple[str, ...]) -> list[str]:
    """The report's statement of where unvaried parameters stand and over what each method varies its factors."""
    cal = spec.calibration
    stamp = ""
    if cal is not None:
        meta = cal.meta
        stamp = (f"`{_shown(cal.path)}` (created {meta.get('created', '?')}, `qhsim calibrate --config "
                 f"{meta.get('config', '?')}`, model commit {str(meta.get('model_commit', '?'))[:7]})")
    L = ["## Base point and ranges 基准点与取值范围", ""]
    if spec.base == "calibrated":
        point = ", ".join(f"{k} = {v:.4g}" for k, v in spec.base_parameters.items())
        how = cal.meta.get("point", "the weighted posterior median")
        L.append(f"- **Base 基准点: the calibrated point.** Every parameter a method does not vary stands at the `[point]` "
                 f"of {stamp} ({how}), beneath the scenario's own `[parameters]`, as in `qhsim run`: {point}. "
                 "Parameters without a calibrated value keep their data-file values.")
        outside = [f"{k} = {v:.4g} (interval [{cal.intervals[k]['p05']:.4g}, {cal.intervals[k]['p95']:.4g}])"
                   for k, v in spec.base_parameters.items()
                   if k in cal.intervals and not cal.intervals[k]["p05"] <= v <= cal.intervals[k]["p95"]]
        if outside:
            widened = (" A method with posterior ranges widens the range of each to take in the point (range column: "
                       "\"widened to the point\")." if any(getattr(spec, f"{m}_ranges") == "posterior" for m in methods) else "")
            L.append(f"  - The point lies outside the posterior 5-95% interval for {'; '.join(outside)}.{widened}")
        for m in methods:
            varied = {f.name for f in getattr(spec, f"{m}_factors")}
            held = [k for k in spec.base_parameters if k not in varied]
            L.append(f"  - {'Morris' if m == 'morris' else 'Sobol'} varies {len(spec.base_parameters) - len(held)} of the "
                     f"{len(spec.base_parameters)} calibrated parameters; "
                     + (f"held at the point: {', '.join(held)}." if held else "none is held at the point."))
    else:
        L.append("- **Base 基准点: the data-file values.** Every parameter a method does not vary stands at its value in "
                 "qhsim/data/*.toml (the calibration is ignored, as with QHSIM_CALIBRATED=off).")
    for m in methods:
        ranges = getattr(spec, f"{m}_ranges")
        name = "Morris" if m == "morris" else "Sobol"
        if ranges == "posterior":
            L.append(f"- **{name} ranges 取值范围: posterior.** Behavioural factors vary uniformly and independently over the "
                     f"5-95% interval of the posterior (`[interval.<name>]` p05-p95) of {stamp}: the uncertainty that "
                     "remains after calibration. Posterior correlations and shape are not kept (the Saltelli design "
                     "needs independent factors).")
        else:
            L.append(f"- **{name} ranges 取值范围: prior.** Behavioural factors vary uniformly over their calibration "
                     "prior ranges (free parameters, calibration/free_parameters.toml) or their data-file ranges "
                     "(qhsim/data/behaviour.toml).")
    L.append("- Policy instruments vary over the ranges of calibration/sensitivity.toml in every method; the `range` "
             "column of each table gives the range a factor varied over.")
    L.append("")
    return L


def _factor_cell(row: pd.Series) -> str:
    """A report table's factor cell: the bilingual name and the code name, e.g. ``开展研发截距 R&D start intercept
    `start_intercept```."""
    label = factor_label(row["factor"], row["kind"])
    return f"`{row['factor']}`" if label == row["factor"] else f"{label} `{row['factor']}`"


def sensitivity_figure(method: str, ok: pd.DataFrame, outputs: list[str], top: int = 12):
    """One panel per output: the ``top`` factors by μ* (Morris) or ST with S1 outlined (Sobol), each named in Chinese
    and English (``factor_label``), coloured by kind. Draw and save it inside ``chart_style()`` (the CJK font)."""
    metric = "mu_star" if method == "morris" else "ST"
    with chart_style():  # the labels' fonts are chosen as they are set
        fig, axes = plt.subplots(1, len(outputs), figsize=(5.6 * len(outputs), 0.42 * top + 1.9), layout="constrained",
                                 squeeze=False)
        for ax, o in zip(axes[0], outputs):
            sub = ok[ok["output"] == o].sort_values(metric, ascending=False).head(top)
            ax.barh(range(len(sub))[::-1], sub[metric], color=[KIND_COLORS[k] for k in sub["kind"]])
            if method == "sobol":
                ax.barh(range(len(sub))[::-1], sub["S1"].clip(lower=0), color="none", edgecolor="black", lw=0.6)
            labels = [readable(factor_label(f, k, sep="\n")) for f, k in zip(sub["factor"], sub["kind"])]
            ax.set_yticks(range(len(sub))[::-1], labels, fontsize=7)
            ax.set_title(readable(output_label(o, sep="\n", name_sep="\n")), fontsize=8)
            ax.set_xlabel(readable("μ*（基本效应）μ* (elementary effect)" if method == "morris"
                                    else "ST（柱）/ S1（框） ST (bars) / S1 (outline)"), fontsize=8)
            ax.tick_params(labelsize=7)
        handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in KIND_COLORS.values()]
        fig.legend(handles, [readable(in_language(*KINDS[k])) for k in KIND_COLORS], loc="outside lower center",
                   ncol=2, fontsize=8, frameon=False)
        fig.suptitle(readable("Morris筛选 Morris screening" if method == "morris" else "Sobol指数 Sobol indices"), fontsize=9)
    return fig


def write_sensitivity_report(spec: SensitivitySpec, tables: dict[str, pd.DataFrame], top: int = 12) -> dict[str, Path]:
    out = Path(spec.out)
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    L = [f"# Sensitivity analysis 敏感性分析 — configuration `{spec.config}`", ""]
    L.append(
        f"Outputs 输出: {'; '.join(output_label(cell_key(*o)) for o in spec.outputs)}; model scale {spec.scale:g}; "
        f"seeds {', '.join(map(str, spec.seeds))} (common random numbers: the same for every sample). "
        "Policy instruments apply from their `from_year`; earlier years keep the scenario's schedule. "
        "Factors and ranges: calibration/sensitivity.toml."
    )
    L.append("")
    L += _base_and_ranges(spec, tuple(tables))
    for method, table in tables.items():
        files[f"{method}_csv"] = out / f"sensitivity_{method}.csv"
        tmp = files[f"{method}_csv"].with_suffix(".csv.tmp")
        table.to_csv(tmp, index=False)
        tmp.replace(files[f"{method}_csv"])
        metric = "mu_star" if method == "morris" else "ST"
        ok = table[table["status"] == "ok"] if "status" in table else table
        outputs = list(dict.fromkeys(table["output"]))
        modelled = [o for o in outputs if o in set(ok["output"])]
        L.append(f"## {'Morris筛选（基本效应）Morris screening (elementary effects)' if method == 'morris' else 'Sobol指数（一阶S1，总效应ST）Sobol indices (first order S1, total ST)'}")
        L.append("")
        if modelled:
            files[f"{method}_png"] = out / f"sensitivity_{method}.png"
            with chart_style():
                fig = sensitivity_figure(method, ok, modelled, top)
                fig.savefig(files[f"{method}_png"], dpi=110)
            plt.close(fig)
            L.append(f"![{method}]({files[f'{method}_png'].name})")
            L.append("")
        for o in outputs:
            L.append(f"### {output_label(o)}")
            L.append("")
            if o not in modelled:
                L.append("Not yet modelled: the model does not produce this indicator yet (NaN).")
                L.append("")
                continue
            sub = ok[ok["output"] == o].sort_values(metric, ascending=False)
            head = "| 排名 rank | 因素 factor | 类型 kind | 取值范围 range |"
            if method == "morris":
                L.append(f"{head} μ* | μ | σ | μ* 95% conf |")
                L.append("|---|---|---|---|---|---|---|---|")
                for rank, (_, r) in enumerate(sub.iterrows(), 1):
                    L.append(f"| {rank} | {_factor_cell(r)} | {in_language(*KINDS[r['kind']])} | {_range(r)} | {r['mu_star']:.4g} | {r['mu']:.4g} | {r['sigma']:.4g} | {r['mu_star_conf']:.3g} |")
            else:
                L.append(f"{head} ST | ST conf | S1 | S1 conf |")
                L.append("|---|---|---|---|---|---|---|---|")
                for rank, (_, r) in enumerate(sub.iterrows(), 1):
                    L.append(f"| {rank} | {_factor_cell(r)} | {in_language(*KINDS[r['kind']])} | {_range(r)} | {r['ST']:.3f} | {r['ST_conf']:.3f} | {r['S1']:.3f} | {r['S1_conf']:.3f} |")
            L.append("")
    files["report"] = out / "sensitivity.md"
    write_atomic(files["report"], "\n".join(L) + "\n")
    return files


def read_tables(spec: SensitivitySpec, methods: tuple[str, ...] = METHODS) -> dict[str, pd.DataFrame]:
    """The tables a run stored in ``spec.out`` (``sensitivity_<method>.csv``), to redraw the charts and the report
    without running the model (``qhsim sensitivity --report-only``)."""
    tables = {}
    for m in methods:
        path = Path(spec.out) / f"sensitivity_{m}.csv"
        if not path.is_file():
            raise InputError(f"{path}: missing: no stored {m} results to report (run qhsim sensitivity --method {m})")
        tables[m] = pd.read_csv(path)
    return tables
