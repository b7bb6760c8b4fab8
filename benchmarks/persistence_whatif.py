"""What rests on R&D persistence 研发持续性敏感性: the shipped model beside ones whose firms stop R&D more or less
often.

    .venv/bin/python benchmarks/persistence_whatif.py [--stop-hazards 0.03,0.25] [--seeds 8] [--refit]
                                                      [--workers 2] [--out FILE.md]

``--out`` also writes the numbers as FILE.csv (``table``), which every run's outputs read for their note on what
the projections rest on (``qhsim.output.report.persistence_note``).

The shipped model's R&D-active above-scale industrial firms stop R&D at the rate its calibration fits to the
evidence's 10-25% a year (the exit-rate targets, calibration/targets.toml group micro_evidence; the check
``qhsim.evidence.CHECKS["rd_exit_rate"]``, calibration/revalidation.md): how far does the long run rest on it?
Three parameters of behaviour.toml set it: the base stop hazard ``stop_probability`` and how much less often
certified firms (``certified_stop_factor``) and large firms (``stop_size_elasticity``) stop. Each alternative takes
the two factors to the ends of their documented ranges that make R&D least persistent (0.6 and 0), sets the base
hazard to one of ``--stop-hazards`` (0.03 gives an exit rate of ≈3%, R&D nearly permanent as in the calibrations
before the forty-seventh session; 0.25 ≈20%, the evidence's upper part), and re-fits ``start_intercept`` so that
the 2020 share of above-scale industrial firms with R&D matches the plan's value on the calibration seeds (their
mean; Brent's method). With ``--refit`` the calibration's other level parameters (its ``conditional`` list but the
three above, which each alternative sets; start_intercept among them) are then
re-fitted from there as ``qhsim calibrate --refit-levels`` re-fits the shipped point (the same distance, seeds,
ridge and budget; ~7-12 min per alternative with 2 workers), and the table gives each point's distance to the
2015-2020 targets (the exit-rate targets included). The structural parameters stay the shipped ones: this is a
sensitivity, not a calibration.

For every point it reports, on ``--seeds`` fresh dynamics seeds at scale 1: the R&D exit and entry rates
(2015→2020), the nine 2020 plan indicators against the plan, and the projections of the share of firms with R&D,
of R&D intensity and of the enterprise share of R&D (2025, 2035); then the policy responses of the fit report
(paired experiments, the fit report's seeds). Results change nothing in the model.
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import qhsim  # noqa: E402,F401  (before NumPy: one floating-point path on every machine, qhsim/cpu.py)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy.optimize import brentq  # noqa: E402

from qhsim import data  # noqa: E402
from qhsim.calibrated import required_calibration, target_rows  # noqa: E402
from qhsim.calibration.responses import (  # noqa: E402
    CHECKS,
    EVIDENCE,
    INFO,
    RESPONSE_SEEDS,
    evidence_range,
    policy_responses,
)
from qhsim.calibration.settings import calibration_in_force, load_config, model_fingerprint  # noqa: E402
from qhsim.experiments.designs import design_from_file  # noqa: E402
from qhsim.experiments.engine import Engine  # noqa: E402
from qhsim.experiments.spec import RunSpec  # noqa: E402
from qhsim.precision import PLAN_GROUP, plan_indicators  # noqa: E402
from qhsim.argtypes import at_least  # noqa: E402
from qhsim.cli import Parser, run_script  # noqa: E402
from qhsim.errors import InputError  # noqa: E402

PARTICIPATION = "share_firms_with_rd"
FIT_YEAR = 2020
YEARS = (2020, 2025, 2035)
FRESH_SEEDS = 401  # the first fresh dynamics seed (unused by calibration, validation and responses)
# the end of each assumption's documented range (behaviour.toml) that makes R&D least persistent
LEAST_PERSISTENT = {"certified_stop_factor": data.quantities("behaviour")["certified_stop_factor"]["range"][1],
                    "stop_size_elasticity": data.quantities("behaviour")["stop_size_elasticity"]["range"][0]}
PERSISTENCE = ("stop_probability", *LEAST_PERSISTENT)  # what each alternative sets


@cache
def baseline():
    """The baseline scenario as a design (read once: the root search runs it about ten times)."""
    return design_from_file(ROOT / "scenarios" / "baseline.toml")


def province(engine: Engine, point: dict[str, float], seeds: list[int], end_year: int) -> pd.DataFrame:
    """Province rows of the baseline at ``point`` (over the scenario's own parameters), one run per seed:
    columns seed, year and the indicators."""
    design = baseline()
    specs = [RunSpec(design.scenario, s, 1.0, end_year, (), {**design.own_parameters, **point}, True, design.origin,
                     scenario_key=design.scenario_key) for s in seeds]
    tables = engine.map(specs)
    return pd.concat([t[t["region"] == "province"].assign(seed=s) for s, t in zip(seeds, tables)], ignore_index=True)


def fit_start_intercept(engine: Engine, point: dict[str, float], seeds: list[int], target: float,
                        bracket: tuple[float, float]) -> tuple[float, float, int]:
    """``start_intercept`` (within ``bracket``) at which the seed mean of the 2020 participation share meets
    ``target``, by Brent's method (``scipy.optimize.brentq`` to 0.005; the share rises with the intercept):
    (intercept, share there, evaluations)."""
    shares: dict[float, float] = {}

    def gap(x: float) -> float:  # each point runs once (brentq evaluates the bracket's ends again)
        if x not in shares:
            rows = province(engine, {**point, "start_intercept": x}, seeds, FIT_YEAR)
            shares[x] = float(rows.loc[rows["year"] == FIT_YEAR, PARTICIPATION].mean())
        return shares[x] - target

    low, high = bracket
    at_low, at_high = gap(low), gap(high)
    if not at_low <= 0 <= at_high:
        raise InputError(f"start_intercept in [{low:.2f}, {high:.2f}] gives a 2020 {PARTICIPATION} of "
                         f"{shares[low]:.2f} to {shares[high]:.2f}, not the plan's {target}: choose a --stop-hazards "
                         f"value nearer the shipped one")
    x = brentq(gap, low, high, xtol=0.005)
    gap(x)  # brentq returns a point it evaluated (no run then); this guards the report against a change of that
    return x, shares[x], len(shares)


class LevelFit:
    """The calibration's level-parameter fit (``qhsim calibrate --refit-levels``: ``fit_levels`` with the
    conditional seeds, the carried posterior's spreads for its ridge; not journaled), and its distance of a point."""

    def __init__(self, cfg, workers: int):
        from qhsim.calibration.calibrate import carried_posterior, preflight, prepare
        from qhsim.calibration.parallel import Evaluator

        self.problem = prepare(cfg)
        self.posterior, _, _ = carried_posterior(self.problem, ROOT / "calibration" / "calibrated.toml")
        self.objective, _ = preflight(self.problem, log=lambda *_: None)
        self.ev = Evaluator(self.problem.spec, cfg.conditional_seeds or cfg.seeds, workers=workers, progress=False)

    def close(self) -> None:
        self.ev.close()

    def distance(self, point: dict[str, float]) -> float:
        """The calibration distance of ``point`` on the conditional seeds (targets only)."""
        cells = self.ev.evaluate([(-1, point, {})], desc="distance")[0]["cells"]
        return float(np.sqrt(np.sum(self.objective.residuals(cells) ** 2)))

    def refit(self, start: dict[str, float], budget: int | None):
        """The level parameters re-fitted from ``start`` (the others held)."""
        from qhsim.calibration.calibrate import as_parameters, fit_levels

        return fit_levels(self.problem, self.objective, self.posterior, self.ev, log=lambda *_: None,
                          start=as_parameters(self.problem, {**self.problem.held, **start}), budget=budget)


def indicator_table(runs: dict[str, pd.DataFrame], plan: dict[str, float]) -> list[str]:
    """Markdown: per indicator and year, each point's seed mean (and its error against the plan in 2020)."""
    names = list(runs)
    lines = ["| indicator | year | plan 2020 | " + " | ".join(names) + " |", "|---|---|---|" + "---|" * len(names)]
    for ind in plan_indicators():
        for year in YEARS:
            if year != FIT_YEAR and ind not in (PARTICIPATION, "rd_intensity", "enterprise_rd_share"):
                continue
            observed = plan.get(ind) if year == FIT_YEAR else None
            cells = []
            for name in names:
                rows = runs[name]
                mean = float(rows.loc[rows["year"] == year, ind].mean())
                error = f" ({100 * (mean / observed - 1):+.1f}%)" if observed else ""
                cells.append(f"{mean:.4g}{error}")
            lines.append(f"| {ind} | {year} | {observed if observed else ''} | " + " | ".join(cells) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = Parser(description=__doc__.splitlines()[0])
    ap.add_argument("--stop-hazards", default="0.03,0.25",
                    help="the alternatives' stop_probability, comma-separated (one alternative each)")
    ap.add_argument("--seeds", type=at_least(1), default=8, help="fresh dynamics seeds for the indicators")
    ap.add_argument("--refit", action="store_true", help="re-fit the calibration's level parameters too")
    ap.add_argument("--budget", type=at_least(1), help="evaluations of each re-fit (default: the configuration's)")
    ap.add_argument("--workers", type=at_least(1), default=2)
    ap.add_argument("--out", type=Path, help="also write the report as Markdown here")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    cal = required_calibration()
    hazards = [float(h) for h in args.stop_hazards.split(",")]
    shipped = {**{k: data.values("behaviour")[k] for k in LEAST_PERSISTENT}, **cal.point}
    # the alternatives hold the persistence they are about: their re-fit moves the calibration's other level parameters
    cfg = load_config(cal.meta.get("config", "full"))
    cfg = replace(cfg, conditional=tuple(n for n in cfg.conditional if n not in PERSISTENCE))
    plan = {r["indicator"]: float(r["value"]) for r in target_rows() if r.get("group") == PLAN_GROUP}
    seeds = list(range(FRESH_SEEDS, FRESH_SEEDS + args.seeds))
    points = {"shipped 现行": shipped}
    notes = []
    upper = data.load("behaviour")["start_intercept"]["range"][1]  # less persistence needs more starts: up to its range
    levels = LevelFit(cfg, args.workers) if args.refit else None
    distances = {"shipped 现行": levels.distance(shipped)} if levels else {}
    try:
        with Engine(args.workers) as engine:
            for h in hazards:
                name = f"stop hazard {h:g} 停止风险{h:g}"
                alt = {**shipped, **LEAST_PERSISTENT, "stop_probability": h}
                alt["start_intercept"], share, n = fit_start_intercept(
                    engine, alt, list(cfg.seeds), plan[PARTICIPATION], (shipped["start_intercept"] - 1.0, upper))
                note = (f"{name}: `start_intercept` by Brent's method ({n} evaluations) to the plan's 2020 {PARTICIPATION} "
                        f"{plan[PARTICIPATION]} on the calibration seeds {list(cfg.seeds)}: {share:.2f}")
                if levels:
                    fit = levels.refit(alt, args.budget)
                    alt = {**alt, **fit.point}
                    distances[name] = fit.distance
                    note += f"; then the {len(cfg.conditional)} level parameters re-fitted: {fit.summary()}"
                points[name] = alt
                notes.append(note + ".")
            runs = {name: province(engine, p, seeds, max(YEARS)) for name, p in points.items()}
    finally:
        if levels:
            levels.close()
    responses = {name: policy_responses(p, RESPONSE_SEEDS, 1.0, args.workers).set_index("response")
                 for name, p in points.items()}
    text = report(args, cfg, cal, points, distances, notes, responses, runs, plan, seeds, started)
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
        table(points, distances, responses, runs).to_csv(args.out.with_suffix(".csv"), index=False)
    return 0


def table(points, distances, responses, runs) -> pd.DataFrame:
    """The report's numbers, one row per (point, indicator, year): the seed mean, with the point's stop
    probability, R&D exit rate (and the evidence range), distance (NaN without ``--refit``) and whether it is the
    shipped one; ``qhsim.output.observed.persistence_sensitivity`` reads it for the outputs' caveat."""
    ev = CHECKS["rd_exit_rate"]
    rows = []
    for k, (name, point) in enumerate(points.items()):
        means = runs[name].drop(columns=["region", "seed"]).groupby("year").mean(numeric_only=True)
        for year in YEARS:
            for ind in plan_indicators():
                rows.append({"point": name, "shipped": k == 0, "stop_probability": point["stop_probability"],
                             "exit_rate": responses[name].at["rd_exit_rate", "model"], "exit_low": ev.low,
                             "exit_high": ev.high, "distance": distances.get(name, np.nan), "indicator": ind,
                             "year": year, "mean": float(means.at[year, ind])})
    return pd.DataFrame(rows)


def response_table(responses: dict[str, pd.DataFrame]) -> list[str]:
    """Markdown: the policy responses of each point (``policy_responses`` indexed by response) beside the evidence."""
    names = list(responses)
    lines = ["## Policy responses 政策响应 (paired experiments, the fit report's definitions and seeds)", "",
             "| response | evidence | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for key, e in EVIDENCE.items():
        lines.append(f"| {e.label} | {evidence_range(e.low, e.high)} | "
                     + " | ".join(f"{responses[n].at[key, 'model']:.3g}" for n in names) + " |")
    return lines


def report(args, cfg, cal, points, distances, notes, responses, runs, plan, seeds, started) -> str:
    names = list(points)
    L = [f"# What rests on R&D persistence 研发持续性敏感性 ({args.seeds} fresh seeds, scale 1)", "",
         f"Generated by `benchmarks/persistence_whatif.py --stop-hazards {args.stop_hazards}"
         f"{' --refit' if distances else ''} --seeds {args.seeds}` on the model code with fingerprint "
         f"`{model_fingerprint()[:12]}` and {calibration_in_force()}. A sensitivity, not a calibration: each "
         "alternative keeps the shipped point's structural parameters but the three that set R&D persistence ("
         "`certified_stop_factor` and `stop_size_elasticity` at the ends of their documented ranges that make R&D "
         "least persistent, `stop_probability` as named)" + (", its level parameters re-fitted to the 2015-2020 "
         "targets" if distances else ", its start intercept re-fitted") + ".", "",
         "| parameter | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    keys = ("certified_stop_factor", "stop_size_elasticity", "stop_probability", "start_intercept",
            *(cfg.conditional if distances else ()))
    for key in dict.fromkeys(keys):
        L.append(f"| `{key}` | " + " | ".join(f"{points[n][key]:.4g}" for n in names) + " |")
    if distances:
        L.append(f"| **distance** to the 2015-2020 targets ({len(cfg.conditional_seeds)} seeds) | "
                 + " | ".join(f"**{distances[n]:.3g}**" for n in names) + " |")
    L += ["", *(f"- {note}" for note in notes), f"- the shipped point: {cal.meta.get('point', '?')}.", "",
          "## R&D switches of the above-scale industrial firms, 2015→2020 (the fit report's response seeds)", "",
          "| rate | evidence | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    ev = CHECKS["rd_exit_rate"]
    L.append(f"| {ev.label} | {evidence_range(ev.low, ev.high)} | "
             + " | ".join(f"{responses[n].at['rd_exit_rate', 'model']:.3f}" for n in names) + " |")
    L.append(f"| {INFO['rd_entry_rate']} | ≈0.08 | "
             + " | ".join(f"{responses[n].attrs['rd_entry_rate']:.3f}" for n in names) + " |")
    L += ["", f"## Plan indicators and projections (seed means, seeds {seeds[0]}–{seeds[-1]})", "",
          *indicator_table(runs, plan), "", *response_table(responses)]
    L += ["", f"({time.perf_counter() - started:.0f} s, {args.workers} worker(s))"]
    return "\n".join(L) + "\n"


if __name__ == "__main__":
    run_script(main)
