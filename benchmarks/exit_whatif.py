"""What rests on large firms' exits 大企业退出敏感性: the shipped model beside ones whose exit hazard falls with size
more or less steeply.

    .venv/bin/python benchmarks/exit_whatif.py [--elasticities 0,0.6] [--seeds 8] [--workers 2] [--out FILE.md]

An above-scale firm (revenue at or above 2,000万元) exits at the yearly hazard ``exit_rate`` x ``large_exit_factor``
times (revenue / 2,000万元)^-``exit_size_elasticity``. Firm-demography studies find the hazard falling with size
well above that threshold (a Cox coefficient of -0.39 on log employment in Canadian data, Statistics Canada
11F0027M no. 53, 2008, table 12); since the forty-ninth session the calibration estimates the elasticity as a level
parameter (calibration/free_parameters.toml; 0, the same hazard whatever the size, before). Each alternative sets
it to one of ``--elasticities`` (0: the assumption before; 0.6: the top of its range), re-fits the calibration's
other level parameters from the shipped point as ``qhsim calibrate --refit-levels`` does
(``persistence_whatif.LevelFit``: the same distance, seeds, ridge and budget; the structural parameters stay the
shipped ones) and reports, beside the shipped point:

- the distance to the 2015-2020 targets before and after the re-fit;
- on ``--seeds`` fresh dynamics seeds at scale 1, the nine 2020 plan indicators against the plan, the projections of
  R&D intensity, the share of firms with R&D and the enterprise share of R&D (2025, 2035), and the seed spread of
  R&D intensity and of the yearly R&D-personnel inflow;
- the policy responses of the fit report (paired experiments, its seeds).

A sensitivity, not a calibration: nothing in the model or the calibration changes.
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import qhsim  # noqa: E402,F401  (before NumPy: one floating-point path on every machine, qhsim/cpu.py)
import pandas as pd  # noqa: E402
sys.path.insert(0, str(ROOT / "benchmarks"))

from persistence_whatif import (FIT_YEAR, FRESH_SEEDS, YEARS, LevelFit, indicator_table, province,  # noqa: E402
                                response_table)

from qhsim import data  # noqa: E402
from qhsim.argtypes import at_least  # noqa: E402
from qhsim.calibrated import required_calibration, target_rows  # noqa: E402
from qhsim.calibration.responses import RESPONSE_SEEDS, policy_responses  # noqa: E402
from qhsim.calibration.settings import calibration_in_force, load_config, model_fingerprint  # noqa: E402
from qhsim.cli import Parser, run_script  # noqa: E402
from qhsim.errors import InputError  # noqa: E402
from qhsim.experiments.engine import Engine  # noqa: E402

PARAMETER = "exit_size_elasticity"
PLAN_GROUP = "plan_2020"


def spread_table(runs: dict[str, pd.DataFrame]) -> list[str]:
    """Markdown: per point, the seed mean ± sd of R&D intensity (2020, 2025, 2035) and, over 2016-2035, the mean and
    the lowest of the yearly R&D-personnel inflow (its seed mean per year) with the year of that low."""
    names = list(runs)
    lines = ["| point | " + " | ".join(f"R&D intensity {y} (mean ± sd)" for y in YEARS)
             + " | talent inflow 2016-2035: mean, lowest year |", "|---|" + "---|" * (len(YEARS) + 1)]
    for name in names:
        rows = runs[name]
        cells = [f"{rows.loc[rows['year'] == y, 'rd_intensity'].mean():.3f} ± "
                 f"{rows.loc[rows['year'] == y, 'rd_intensity'].std():.3f}" for y in YEARS]
        inflow = rows[rows["year"] > rows["year"].min()].groupby("year")["talent_inflow"].mean()
        cells.append(f"{inflow.mean():.0f}; {inflow.min():.0f} in {int(inflow.idxmin())}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = Parser(description=__doc__.splitlines()[0])
    ap.add_argument("--elasticities", default="0,0.6", help=f"the alternatives' {PARAMETER}, comma-separated")
    ap.add_argument("--seeds", type=at_least(1), default=8, help="fresh dynamics seeds for the indicators")
    ap.add_argument("--budget", type=at_least(1), help="evaluations of each re-fit (default: the configuration's)")
    ap.add_argument("--workers", type=at_least(1), default=2)
    ap.add_argument("--out", type=Path, help="also write the report as Markdown here")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    low, high = data.quantities("behaviour")[PARAMETER]["range"]
    try:
        values = [float(v) for v in args.elasticities.split(",")]
    except ValueError:
        raise InputError(f"--elasticities {args.elasticities!r}: expected numbers separated by commas") from None
    if not all(low <= v <= high for v in values):
        raise InputError(f"--elasticities {args.elasticities}: {PARAMETER} must lie in [{low:g}, {high:g}]")
    cal = required_calibration()
    cfg = load_config(cal.meta.get("config", "full"))
    # each alternative holds the elasticity it is about: its re-fit moves the calibration's other level parameters
    cfg = replace(cfg, conditional=tuple(n for n in cfg.conditional if n != PARAMETER))
    plan = {r["indicator"]: float(r["value"]) for r in target_rows() if r.get("group") == PLAN_GROUP}
    seeds = list(range(FRESH_SEEDS, FRESH_SEEDS + args.seeds))
    shipped = {PARAMETER: data.values("behaviour")[PARAMETER], **cal.point}  # a calibration before it was estimated: 0
    points, before, after = {"shipped 现行": shipped}, {}, {}
    levels = LevelFit(cfg, args.workers)
    try:
        after["shipped 现行"] = levels.distance(shipped)
        for e in values:
            name = f"exit size elasticity {e:g}"
            alt = {**shipped, PARAMETER: e}
            before[name] = levels.distance(alt)
            fit = levels.refit(alt, args.budget)
            points[name], after[name] = {**alt, **fit.point}, fit.distance
    finally:
        levels.close()
    with Engine(args.workers) as engine:
        runs = {name: province(engine, p, seeds, max(YEARS)) for name, p in points.items()}
    responses = {name: policy_responses(p, RESPONSE_SEEDS, 1.0, args.workers).set_index("response")
                 for name, p in points.items()}
    text = report(args, cfg, points, before, after, runs, responses, plan, seeds, started)
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return 0


def report(args, cfg, points, before, after, runs, responses, plan, seeds, started) -> str:
    names = list(points)
    L = [f"# What rests on large firms' exits 大企业退出敏感性 ({args.seeds} fresh seeds, scale 1)", "",
         f"Generated by `benchmarks/exit_whatif.py --elasticities {args.elasticities} --seeds {args.seeds}` on the "
         f"model code with fingerprint `{model_fingerprint()[:12]}` and {calibration_in_force()}. A sensitivity, not "
         f"a calibration: each alternative sets `{PARAMETER}` (an above-scale firm's exit hazard times (revenue / "
         "2,000万元)^-e; the shipped calibration estimates it) and re-fits the calibration's other level parameters "
         "from the shipped point; the structural parameters stay the shipped ones.", "",
         "| parameter | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for key in (PARAMETER, *cfg.conditional):
        L.append(f"| `{key}` | " + " | ".join(f"{points[n][key]:.4g}" for n in names) + " |")
    L.append(f"| distance to the 2015-2020 targets, before the re-fit ({len(cfg.conditional_seeds)} seeds) | "
             + " | ".join(f"{before[n]:.3g}" if n in before else "—" for n in names) + " |")
    L.append("| **distance** after the re-fit | " + " | ".join(f"**{after[n]:.3g}**" for n in names) + " |")
    L += ["", f"## Plan indicators and projections (seed means, seeds {seeds[0]}–{seeds[-1]})", "",
          *indicator_table(runs, plan), "", "## Seed spread 随机种子间离散", "", *spread_table(runs), "",
          *response_table(responses)]
    L += ["", f"The plan column is the 2020 plan value ({FIT_YEAR}); errors in brackets are against it.",
          f"({time.perf_counter() - started:.0f} s, {args.workers} worker(s))"]
    return "\n".join(L) + "\n"


if __name__ == "__main__":
    run_script(main)
