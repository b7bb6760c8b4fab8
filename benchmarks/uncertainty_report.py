"""Where the projections' uncertainty comes from 预测不确定性来源: the calibrated parameters or the dynamics' luck.

    .venv/bin/python benchmarks/uncertainty_report.py [--draws N] [--seeds 8] [--scale 1.0] [--workers 2]
        [--years 2025,2027,2035] [--out docs/uncertainty_report.md]

Runs the baseline with ``--draws`` parameter sets of the calibrated ensemble (calibration/calibrated.toml
[ensemble]; default every set it holds, with the posterior's weights; fewer are chosen and weighted as
``qhsim run --draws`` chooses them), each with its own ``--seeds`` dynamics seeds (set k with seeds kS+1 ... kS+S),
on the scenario's fixed 2015 population, and splits the variance of each of the nine plan indicators in each of
``--years`` into parameter uncertainty (between the posterior draws, and between the level samples within a draw)
and seed noise (within a set), with 90% bootstrap intervals of the shares (``qhsim.uncertainty``). Beside it: the
weighted 5-95% band of all the runs, and the bands of the calibrated point estimate over seeds 1-8 (the band
`make baseline` prints) and over ``--point-seeds`` seeds 1..N. Then, for the parameter part, which parameters carry
it (``drivers``).

Prints the tables; ``--out`` also writes them as Markdown and the figures as CSV next to it (same name, .csv).
Runs draws x seeds + point-seeds full runs on the experiments engine (``--workers`` processes; the numbers do not
depend on it): use ``nice`` on a shared machine.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import qhsim  # noqa: E402,F401  (before NumPy: one floating-point path on every machine, qhsim/cpu.py)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from qhsim.argtypes import at_least, scale, year  # noqa: E402
from qhsim.calibration.sensitivity import factor_label  # noqa: E402
from qhsim.calibration.settings import calibration_in_force, model_fingerprint  # noqa: E402
from qhsim.cli import Parser, run_script, write_report  # noqa: E402
from qhsim.output.report import indicator_label  # noqa: E402
from qhsim.precision import plan_indicators, run_many  # noqa: E402
from qhsim.stats import quantile  # noqa: E402
from qhsim.uncertainty import T_SHOWN, decomposition, nested_runs  # noqa: E402

SCENARIO = ROOT / "scenarios" / "baseline.toml"
MAKE_BASELINE_SEEDS = 8  # `make baseline` runs the point estimate with seeds 1-8 (Makefile)


def year_list(text: str) -> tuple[int, ...]:
    """Comma-separated simulated years, e.g. 2025,2035 (each ``argtypes.year``), in order."""
    return tuple(sorted({year(t) for t in text.split(",")}))


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _sig(x: float) -> str:
    """Three significant digits, trailing zeros kept (1.00, 0.994, 553); a whole number as it is (78, 1296)."""
    return str(int(x)) if float(x).is_integer() and abs(x) >= 10 else f"{x:#.3g}".rstrip(".")


def _band(median: float, lo: float, hi: float) -> str:
    return f"{_sig(median)} [{_sig(lo)}, {_sig(hi)}]"


def _seed_ranges(seeds: np.ndarray) -> str:
    first = [f"{row[0]}-{row[-1]}" for row in seeds[:3]]
    return ", ".join(first) + (f", ..., {seeds[-1][0]}-{seeds[-1][-1]}" if len(seeds) > 3 else "")


def point_cuts(point_seeds: int) -> list[int]:
    """The seed counts 1..c whose point-estimate bands the report shows: `make baseline`'s and all of them."""
    return sorted({min(MAKE_BASELINE_SEEDS, point_seeds), point_seeds} - {0})


def _point_heading(cut: int) -> str:
    return f"point estimate 点估计, seeds 1-{cut}" + (" (`make baseline`)" if cut == MAKE_BASELINE_SEEDS else "")


def shares_section(table: pd.DataFrame, point: dict[tuple[str, int], np.ndarray], point_seeds: int) -> list[str]:
    cuts = point_cuts(point_seeds)
    lines = ["## Variance shares 方差分解: parameters 参数不确定性 vs seeds 随机噪声", "",
             "Share of the variance of one run (of a random parameter set with a random seed) that comes from the "
             "parameters, split into the spread between posterior draws (后验抽样之间) and between the level samples "
             "around each draw's re-fit (水平参数抽样); the rest is the dynamics' seed noise (随机种子). In brackets "
             "the 90% bootstrap interval over the posterior draws. Band: weighted median [5%, 95%] of all the runs; "
             "point estimate: median [5%, 95%] of the calibrated point's runs with the seeds named (no parameter "
             "uncertainty). sd: one run's, over parameter sets and seeds.", "",
             "| indicator 指标 | year | ensemble band 集合区间 | " + "".join(f"{_point_heading(c)} | " for c in cuts)
             + "sd | parameters 参数 | between draws | level samples | seeds 种子 |",
             "|---" * (8 + len(cuts)) + "|"]
    for _, r in table.iterrows():
        cells = [indicator_label(r.indicator), str(r.year), _band(r["median"], r.p05, r.p95)]
        for cut in cuts:
            p05, med, p95 = quantile(point[r.indicator, r.year][:cut])
            cells.append(_band(med, p05, p95))
        cells += [_sig(np.sqrt(max(r.var_total, 0))),
                  f"{_pct(r.share_parameters)} ({_pct(r.share_parameters_lo)}-{_pct(r.share_parameters_hi)})",
                  f"{_pct(r.share_draws)} ({_pct(r.share_draws_lo)}-{_pct(r.share_draws_hi)})",
                  f"{_pct(r.share_levels)} ({_pct(r.share_levels_lo)}-{_pct(r.share_levels_hi)})",
                  f"{_pct(r.share_seeds)} ({_pct(r.share_seeds_lo)}-{_pct(r.share_seeds_hi)})"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def drivers_section(table: pd.DataFrame, runs) -> list[str]:
    n_draws = len(np.unique(runs.groups))
    weight = pd.Series(runs.weights).groupby(runs.groups).sum()
    lines = ["## Which parameters carry it 参数不确定性来自哪些参数", "",
             f"Within a posterior draw (its level samples): a weighted regression of the sets' mean outcomes on their "
             f"standardised parameters, each as its deviation from the draw's mean (`qhsim.uncertainty.drivers`); "
             f"R² with, in brackets, the most the set means allow (their own seed noise is not explained: an R² "
             f"above it fits noise), and the largest standardised coefficients β (sd of the outcome per sd of the "
             f"parameter, within draws) whose robust t (HC1, in brackets) reaches {T_SHOWN:g} (5%, corrected for "
             f"testing some 19 parameters). The level samples are correlated, so parameters that offset each other "
             f"in the fit (here the patent lapse rate and the public patent rate) get large coefficients of opposite "
             f"sign. "
             f"Between posterior draws the structural parameters (constant within a draw) vary over {n_draws} "
             f"draws only (effective number {1 / (weight ** 2).sum():.1f}), move together there, and cannot be told "
             "apart by a regression; the column names the draw (a row of `[ensemble_fits]`, its weight) whose mean "
             "contributes most to the spread between draws, its mean against the ensemble's, and that share.", "",
             "| indicator 指标 | year | parameters 参数 | of it between draws | within draws: R² | leading level "
             "parameters (β) | between draws: the largest contribution |", "|---" * 7 + "|"]
    used = {}
    for _, r in table.iterrows():
        between = r.share_draws / r.share_parameters if r.share_parameters > 0 else float("nan")
        names = [(r[f"driver{i}"], r[f"beta{i}"], r[f"t{i}"]) for i in (1, 2, 3)
                 if isinstance(r[f"driver{i}"], str) and r[f"driver{i}"]]
        used.update({n: None for n, _, _ in names})
        lead = (", ".join(f"`{n}` {b:+.2f} (t {t:.0f})" for n, b, t in names) if names
                else "—" if np.isnan(r.r2_within) else f"none with \\|t\\| ≥ {T_SHOWN:g}")
        r2 = "—" if np.isnan(r.r2_within) else f"{r.r2_within:.2f} ({r.r2_ceiling:.2f})"
        heavy = (f"draw {r.heaviest_draw} ({_pct(r.heaviest_weight)}): {_sig(r.heaviest_mean)} vs {_sig(r['mean'])}, "
                 f"{_pct(r.heaviest_share)}" if not np.isnan(r.heaviest_share) else "—")
        lines.append(f"| {indicator_label(r.indicator)} | {r.year} | {_pct(r.share_parameters)} | "
                     f"{'—' if np.isnan(between) else _pct(between)} | {r2} | {lead} | {heavy} |")
    if used:
        lines += ["", "Parameters 参数: " + "; ".join(f"`{n}` {factor_label(n, 'behaviour')}" for n in used) + "."]
    return lines


def calm_seeds(point: dict[tuple[str, int], np.ndarray], point_seeds: int, when: int) -> list[str]:
    """A sentence per indicator whose point-estimate sd over `make baseline`'s seeds is below 0.7 of that over all
    ``point_seeds`` (none when there are no more seeds than make baseline's)."""
    if point_seeds <= MAKE_BASELINE_SEEDS:
        return []
    out = []
    for (key, at), v in point.items():
        few, many = v[:MAKE_BASELINE_SEEDS].std(ddof=1), v.std(ddof=1)
        if at == when and many > 0 and few < 0.7 * many:
            low, high = quantile(v, qs=(0.05, 0.95))
            out.append(f"{indicator_label(key, lang='en')}: sd {_sig(few)} over seeds 1-{MAKE_BASELINE_SEEDS} against "
                       f"{_sig(many)} over 1-{point_seeds}, 5-95% {_sig(low)}-{_sig(high)}")
    return out


def reading_section(table: pd.DataFrame, runs, n_seeds: int, point: dict[tuple[str, int], np.ndarray],
                    point_seeds: int) -> list[str]:
    """What the decomposition says and does not say, with the figures of this run."""
    last = table[table.year == table.year.max()]
    mostly = last[last.share_parameters > 0.5]
    weight = pd.Series(runs.weights).groupby(runs.groups).sum()
    calm = calm_seeds(point, point_seeds, int(last.year.iloc[0]))
    return [
        "## What this says and what it does not 解读与局限", "",
        f"- **One run's spread.** The shares split the variance of a single run. In {last.year.iloc[0]} the "
        f"parameters carry more than half of it for {len(mostly)} of the {len(last)} indicators"
        + (f" ({', '.join(indicator_label(k, lang='en') for k in mostly.indicator)})" if len(mostly) else "")
        + ". A median over N seeds keeps the "
        "parameter part and divides the seed part by N, so where the seeds dominate more seeds narrow a band, and "
        "where the parameters dominate only a narrower posterior does.",
        *([f"- **`make baseline`'s seeds are a calm set.** Its band (the point estimate over seeds 1-"
           f"{MAKE_BASELINE_SEEDS}) shows seed noise only, and less of it than more seeds find in "
           f"{last.year.iloc[0]} for " + "; ".join(calm) + ". Read its band as a lower bound on the seed noise too."]
          if calm else []),
        "- **The parameter part is the ensemble's, a lower bound.** It is the spread of the shipped posterior "
        f"ensemble ({len(weight)} posterior draws, effective number {1 / (weight ** 2).sum():.1f}, with their level "
        "samples), weighted as `qhsim run --draws` weighs it. The out-of-sample check found that ensemble's 90% bands "
        "too narrow (calibration/README.md, \"The ensemble's bands are too narrow\"); the between-draw part rests on "
        "few draws, hence its wide intervals. Those intervals resample the draws only, and where the seeds dominate "
        "they are too narrow themselves (a check with one set of seeds shared by every parameter set: "
        "docs/validation_record.md, \"How uncertain the projections are\"). Assumptions no parameter samples (how "
        "lasting R&D is, large firms' exits: docs/ODD.md, \"What is doubtful\") are outside it.",
        "- **Conditional on the default 2015 population.** Every run starts from the one synthetic population the "
        "calibration was fitted on; the spread between populations is measured in docs/precision_report.md "
        "(\"The default population among others\") and is not in these shares.",
        f"- **Each set with its own seeds.** Here set k runs with seeds {n_seeds}k+1 ... {n_seeds}k+{n_seeds}, so "
        "the seed part is the dynamics' own noise. `qhsim run --draws N --seeds ...`, `compare` and `sweep` give "
        "every set the same seeds (common random numbers, which pair designs); there the seeds' luck moves all sets "
        "together and does not average out over the sets: its band mixes the same two parts, but its median carries "
        "the luck of its few seeds.",
        "- **Which parameters.** Within a draw the regression names the level parameters that move the outcome; "
        "between draws the structural parameters and the levels re-fitted to them move together over too few draws "
        "to be told apart (no regression or method for dependent inputs can separate them on these draws; SALib's "
        "Shapley estimator assumes independent inputs and its HDMR needs 300 or more unweighted samples). The Sobol "
        "design (calibration/sensitivity/) ranks the parameters over the sampler's wider, independent ranges "
        "instead.",
    ]


def main(argv: list[str] | None = None) -> int:
    ap = Parser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=at_least(2), help="parameter sets of the calibrated ensemble (default: all)")
    ap.add_argument("--seeds", type=at_least(2), default=8, help="dynamics seeds per parameter set (default 8)")
    ap.add_argument("--scale", type=scale, default=1.0)
    ap.add_argument("--years", type=year_list, default=(2025, 2027, 2035), help="comma-separated years")
    ap.add_argument("--point-seeds", type=at_least(0), default=40,
                    help="seeds 1..N of the calibrated point estimate for its bands (default 40; 0: none)")
    ap.add_argument("--boot", type=at_least(10), default=2000, help="bootstrap resamples of the intervals")
    ap.add_argument("--workers", type=at_least(1), default=1)
    ap.add_argument("--out", type=Path, help="also write the tables as Markdown here, the figures as CSV beside it")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    keys = plan_indicators()
    end = max(args.years)
    runs = nested_runs(SCENARIO, keys, args.draws, args.seeds, args.scale, end, args.workers, progress=True)
    table = decomposition(runs, keys, args.years, args.boot)
    tables = run_many([(SCENARIO, s, args.scale, end, False) for s in range(1, args.point_seeds + 1)], args.workers)
    point = {(key, when): np.array([t.loc[t["year"] == when, key].item() for t in tables])
             for key in keys for when in args.years}
    for cut in point_cuts(args.point_seeds):
        bands = [quantile(point[r.indicator, r.year][:cut]) for r in table.itertuples()]
        for i, stat in enumerate(("p05", "median", "p95")):
            table[f"point{cut}_{stat}"] = [b[i] for b in bands]
    n_sets, n_seeds = runs.seeds.shape
    text = [f"# Uncertainty report 预测不确定性来源 ({n_sets} parameter sets x {n_seeds} seeds, scale {args.scale:g}, "
            "fixed 2015 population)", "",
            f"Generated by `benchmarks/uncertainty_report.py{' --draws ' + str(args.draws) if args.draws else ''} "
            f"--seeds {args.seeds} --scale {args.scale:g}` on the model code with fingerprint "
            f"`{model_fingerprint()[:12]}` and {calibration_in_force()}, baseline scenario. Parameter sets: "
            f"{runs.source.replace(f'{ROOT}/', '')}. Each set runs with its own seeds ({_seed_ranges(runs.seeds)}); "
            "every run starts from "
            f"the scenario's one 2015 population. ({time.perf_counter() - started:.0f} s, {args.workers} worker(s))",
            "", *shares_section(table, point, args.point_seeds), "", *drivers_section(table, runs), "",
            *reading_section(table, runs, n_seeds, point, args.point_seeds)]
    print("\n".join(text), flush=True)
    if args.out:
        write_report(args.out, text, table)
    return 0


if __name__ == "__main__":
    run_script(main)
