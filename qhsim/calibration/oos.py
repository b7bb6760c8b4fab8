"""Out-of-sample check 样本外检验: refit on information up to 2018 only, predict 2019 and 2020 (issue #8).

The refit uses the same settings, seeds and free parameters but only targets with ``known_by <= 2018``: the
end-2018 waypoint (HTE 167, tech-based enterprises, little giants, patents per 10k) and the yearly paths
2016-2018 (R&D intensity, R&D FTE, valid invention patents). Every 2019 target (the paths' 2019 values, the
2019 technology-contract turnover) and every 2020 target (plan values, stocks, Haidong) is held out. The
refit's posterior, made as the shipped one is (the configuration's evidence step and ensemble re-fit), run to 2020
with the calibration seeds, gives a predictive distribution for every held-out target.
Reported per held-out year: the error of the predictive median, whether the observed value falls in the 90%
predictive band, and the same for the behaviour.toml defaults (the starting point) as a benchmark. Beside them, the
refit's calibrated point (the posterior median with its level parameters re-fitted, what the refit would ship as
the model default) run with the fresh validation seeds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from qhsim.calibration.calibrate import POSTERIOR_RUNS, CalibrationOutcome, calibrate  # noqa: E402
from qhsim.calibration.ensemble import weighted_quantiles, write_atomic  # noqa: E402
from qhsim.calibration.objective import Objective, modelled_targets  # noqa: E402
from qhsim.calibration.report import fmt, target_label  # noqa: E402
from qhsim.calibration.settings import CalibrationConfig  # noqa: E402
from qhsim.output.charts import chart_style, readable  # noqa: E402

INFO_YEAR = 2018  # fit on information up to this year; predict the later years (2019-2020)


@dataclass
class OosOutcome:
    fit: CalibrationOutcome
    table: pd.DataFrame
    summary: dict[str, float]
    files: dict[str, Path]


def oos_config(cfg: CalibrationConfig, info_year: int = INFO_YEAR) -> CalibrationConfig:
    """The refit's configuration: information known by ``info_year``, its own name, journal and outputs. A
    configuration whose ABC-SMC holds levels at a file's values is refused: they were fitted on the held-out years."""
    if cfg.held_levels is not None:
        from qhsim.errors import InputError

        raise InputError(f"calibration config [{cfg.name}] held_levels = {cfg.held_levels}: the out-of-sample refit "
                         f"must not hold level parameters fitted on information after {info_year}; use a "
                         "configuration without held_levels (e.g. medium)")
    return cfg.with_(known_by=info_year, name=f"{cfg.name}-oos{info_year}", out=Path(cfg.out) / "oos")


def out_of_sample(
    cfg: CalibrationConfig, workers: int = 1, resume: bool = False, progress: bool = True, log=print,
    info_year: int = INFO_YEAR,
) -> OosOutcome:
    oos_cfg = oos_config(cfg, info_year)
    fit = calibrate(oos_cfg, workers=workers, resume=resume, progress=progress, log=log, write=True)
    all_targets = fit.problem.all_targets
    per_seed = [{k: v[i] for k, v in fit.default_cells.items()} for i in range(len(cfg.seeds))]
    modelled = modelled_targets(all_targets, per_seed)
    held = all_targets.select()
    held_ids = {t.id for t in held if t.known_by > info_year}
    obj = Objective(all_targets, cfg.simulation_error, frozenset(t.id for t in all_targets if t.id not in modelled),
                    cfg.robust_groups)
    pop, weights = fit.predictive()
    pred: dict[str, list[float]] = {}
    for rec in pop:
        for f in obj.fits(rec["cells"]):
            if f.target.id in held_ids and f.status == "fit":
                pred.setdefault(f.target.id, []).append(f.mean)
    best = {f.target.id: f for f in obj.fits(fit.best_record()["cells"])}
    pred_year = {tid: f.year for tid, f in best.items() if f.status == "fit"}
    dflt = {f.target.id: f for f in obj.fits(fit.default_cells)}
    # the refit's calibrated point (the model default it would ship) re-run with the fresh validation seeds
    at_point = {f.target.id: f for f in obj.fits(fit.validation_cells)} if fit.validation_cells else {}
    rows = []
    for t in all_targets:
        if t.id not in held_ids:
            continue
        if t.id not in pred:
            rows.append({"target": t.id, "year": pred_year.get(t.id, t.known_by), "group": t.group, "observed": t.value,
                         "status": "not_yet_modelled"})
            continue
        lo, med, hi = weighted_quantiles(np.asarray(pred[t.id]), weights, (0.05, 0.5, 0.95))
        d = dflt.get(t.id)
        rows.append({
            "target": t.id, "year": pred_year.get(t.id, t.known_by), "group": t.group, "observed": t.value,
            "status": "predicted",
            "p05": lo, "median": med, "p95": hi,
            "point": at_point[t.id].mean if t.id in at_point and at_point[t.id].status == "fit" else math.nan,
            "rel_error": (med - t.value) / abs(t.value), "in_band": bool(lo <= t.value <= hi),
            "default": d.mean if d is not None and d.status == "fit" else math.nan,
            "default_rel_error": (d.mean - t.value) / abs(t.value) if d is not None and d.status == "fit" else math.nan,
            "tolerance": t.tolerance,
        })
        rows[-1]["point_rel_error"] = (rows[-1]["point"] - t.value) / abs(t.value)
    table = pd.DataFrame(rows)
    pr = table[table["status"] == "predicted"] if len(table) else table
    summary = {
        "held_out": float(len(held_ids)),
        "predicted": float(len(pr)),
        "median_abs_pct_error": float(np.median(np.abs(pr["rel_error"]))) if len(pr) else math.nan,
        "coverage_90": float(pr["in_band"].mean()) if len(pr) else math.nan,
        "below_band": float((pr["observed"] < pr["p05"]).sum()) if len(pr) else 0.0,  # predicted too high
        "above_band": float((pr["observed"] > pr["p95"]).sum()) if len(pr) else 0.0,  # predicted too low
        "default_median_abs_pct_error": float(np.nanmedian(np.abs(pr["default_rel_error"]))) if len(pr) else math.nan,
        "point_median_abs_pct_error": (float(np.nanmedian(np.abs(pr["point_rel_error"])))
                                       if len(pr) and pr["point_rel_error"].notna().any() else math.nan),
    }
    for year, part in (pr.groupby("year") if len(pr) else []):  # each held-out year on its own
        summary[f"predicted_{year}"] = float(len(part))
        summary[f"median_abs_pct_error_{year}"] = float(np.median(np.abs(part["rel_error"])))
        summary[f"coverage_90_{year}"] = float(part["in_band"].mean())
    files = write_oos_report(oos_cfg, fit, table, summary, info_year)
    years = ", ".join(
        f"{y}: {int(summary[f'predicted_{y}'])} targets, median |error| {summary[f'median_abs_pct_error_{y}']:.1%}, "
        f"band covers {summary[f'coverage_90_{y}']:.0%}" for y in held_years(summary)
    )
    log(
        f"out-of-sample (information to {info_year}): {int(summary['predicted'])} held-out targets predicted; median |error| "
        f"{summary['median_abs_pct_error']:.1%}, 90% band covers {summary['coverage_90']:.0%} "
        f"(calibrated point on fresh seeds: {summary['point_median_abs_pct_error']:.1%}; defaults: "
        f"{summary['default_median_abs_pct_error']:.1%}) [{years}]; report {files['report']}"
    )
    return OosOutcome(fit, table, summary, files)


def predictive_source(fit: CalibrationOutcome) -> str:
    """What the predictive band is made of, in the report's words."""
    held = len(fit.posterior.weights) if fit.posterior is not None else len(fit.result.final.ids)
    n = len({s.draw for s in fit.samples}) if fit.samples else len(fit.posterior_runs) or len(fit.result.final.ids)
    n = min(n, POSTERIOR_RUNS) if fit.samples else n  # the band runs the samples of the heaviest draws
    text = f"the refit's {n} posterior draws" if n == held else f"the refit's {n} heaviest posterior draws (of {held})"
    if fit.cfg.response_candidates:
        text += " (weighed by the policy-response evidence)"
    if fit.samples:
        return (text + " with their level parameters re-fitted to the same information and then sampled around the "
                f"re-fit ({len(fit.samples) // len(fit.draw_fits)} samples per draw), as the shipped ensemble is made")
    if fit.draw_fits:
        return text + " with their level parameters re-fitted to the same information, as the shipped ensemble is made"
    return text + " as the sampler left them"


def held_years(summary: dict[str, float]) -> list[int]:
    """The held-out years that have predictions, from ``summary``'s per-year keys."""
    return sorted(int(k.rsplit("_", 1)[1]) for k in summary if k.startswith("predicted_"))


def _oos_figure(path: Path, pr: pd.DataFrame, targets: dict, info_year: int) -> None:
    """Predicted / observed per predicted held-out target (rows of ``pr``; ``targets``: Target by id)."""
    fig, ax = plt.subplots(figsize=(10, 0.55 * len(pr) + 1.8), layout="constrained")
    for k, (_, r) in enumerate(pr.iterrows()):
        y = len(pr) - 1 - k
        ax.fill_betweenx([y - 0.3, y + 0.3], 1 - r["tolerance"], 1 + r["tolerance"], color="#c7e9c0", lw=0)
        ax.plot([r["p05"] / r["observed"], r["p95"] / r["observed"]], [y, y], color="#6a51a3", lw=3, alpha=0.6)
        ax.scatter([r["median"] / r["observed"]], [y], color="#d94801", marker="D", zorder=3)
        if math.isfinite(r["default"]):
            ax.scatter([r["default"] / r["observed"]], [y], color="black", marker="x", zorder=3)
    ax.axvline(1.0, color="black", lw=0.8)
    ax.set_yticks(range(len(pr)), [readable(target_label(targets[tid], "\n")) for tid in pr["target"]][::-1], fontsize=8)
    ax.set_xlabel(readable("预测值 / 观测值 predicted / observed\n"
                           "菱形：预测中位数 · 横条：90%区间 · ×：数据文件默认值 · 绿色：目标容差\n"
                           "diamond: predictive median · bar: 90% band · x: data-file defaults · green: the target's tolerance"))
    ax.set_title(readable(f"样本外检验：以{info_year}年及以前的信息拟合，预测其后各年\n"
                          f"out-of-sample: fitted on information up to {info_year}, predicting the later years"),
                 fontsize=10)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_oos_report(cfg: CalibrationConfig, fit: CalibrationOutcome, table: pd.DataFrame, summary: dict[str, float], info_year: int) -> dict[str, Path]:
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    files = {"png": out / "oos_prediction.png", "report": out / "oos_report.md", "csv": out / "oos_prediction.csv"}
    pr = table[table["status"] == "predicted"] if len(table) else table
    if len(pr):
        with chart_style():  # the labels' fonts are chosen as they are set
            _oos_figure(files["png"], pr, {t.id: t for t in fit.problem.all_targets}, info_year)
    tmp = files["csv"].with_suffix(".csv.tmp")
    table.to_csv(tmp, index=False)
    tmp.replace(files["csv"])
    L = [f"# Out-of-sample check 样本外检验 — configuration `{cfg.name}`", ""]
    L.append(
        f"Refit on information known by {info_year} only ({', '.join(t.id for t in fit.objective.active) or 'none'}); "
        f"every later target held out and predicted from {predictive_source(fit)}, run to 2020 with the calibration seeds."
    )
    L.append("")
    L.append(f"- held-out targets: {int(summary['held_out'])}, of which the model produces {int(summary['predicted'])}")
    L.append(f"- **median absolute error of the predictive median: {summary['median_abs_pct_error']:.1%}**")
    L.append(f"- **observed value inside the 90% predictive band: {summary['coverage_90']:.0%} of targets**")
    L.append(f"- outside the band: {int(summary['below_band'])} below it (predicted too high), "
             f"{int(summary['above_band'])} above it (predicted too low)")
    for y in held_years(summary):
        L.append(
            f"- held-out {y}: {int(summary[f'predicted_{y}'])} targets, median absolute error "
            f"{summary[f'median_abs_pct_error_{y}']:.1%}, inside the 90% band {summary[f'coverage_90_{y}']:.0%}"
        )
    if math.isfinite(summary["point_median_abs_pct_error"]):
        L.append(f"- the refit's calibrated point (what it would ship as the model default; section Conditional fit of its "
                 f"fit report), run with {len(fit.cfg.validation_seeds)} fresh seeds: median absolute error "
                 f"{summary['point_median_abs_pct_error']:.1%}")
    L.append(f"- benchmark, the behaviour.toml defaults (the calibration's starting point): median absolute error "
             f"{summary['default_median_abs_pct_error']:.1%} "
             "(not a forecast from 2018: the defaults were set by hand with the 2015-2020 data in view, e.g. the R&D "
             "start intercept from the 2020 share of firms with R&D; see each default's source)")
    L.append(f"- refit: {fit.result.n_evaluations} evaluations, {len(fit.result.generations)} generations, stopped: {fit.result.stop_reason}")
    L.append("")
    if len(pr):
        L.append(f"![oos]({files['png'].name})")
        L.append("")
    L.append("| held-out target | year | observed | predictive median | 90% band | in band | error | calibrated point | "
             "point error | defaults | defaults error |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for _, r in table.iterrows():
        if r["status"] != "predicted":
            L.append(f"| {r['target']} | {r['year']} | {fmt(r['observed'])} | not yet modelled | | | | | | | |")
            continue
        L.append(
            f"| {r['target']} | {r['year']} | {fmt(r['observed'])} | {fmt(r['median'])} | {fmt(r['p05'])} – {fmt(r['p95'])} | "
            f"{'yes' if r['in_band'] else 'no'} | {r['rel_error']:+.1%} | {fmt(r['point'])} | {r['point_rel_error']:+.1%} | "
            f"{fmt(r['default'])} | {r['default_rel_error']:+.1%} |"
        )
    narrowed = ""  # what the ensemble's construction does to the bands
    if fit.draw_fits and fit.samples:
        narrowed = ("; re-fitting each draw's level parameters narrows them again, and sampling them around each re-fit "
                    "(Laplace approximation) widens them by what this information leaves uncertain in them")
    elif fit.draw_fits:
        narrowed = ("; re-fitting each draw's level parameters narrows them again: the band then holds the structural "
                    "parameters' spread and the seeds' chance, not the level parameters' own uncertainty")
    L.append("")
    L.append(
        f"Information up to {info_year} is the end-2018 waypoint (HTE, tech-based enterprises, little giants, patents) and "
        "the yearly paths 2016-2018 (R&D intensity, R&D FTE, invention patents); nothing before 2019 is on the "
        "post-2019 technology-contract definition, so contract turnover is predicted from its prior alone, and no target "
        "before 2020 measures the share of firms with R&D. The refit pins down only the parameters this information "
        f"identifies; the others keep their prior spread, which widens the predictive bands{narrowed}. This is the "
        "honest measure of predictive skill the in-sample fit cannot give."
    )
    files["report"] = out / "oos_report.md"
    write_atomic(files["report"], "\n".join(L) + "\n")
    return files
