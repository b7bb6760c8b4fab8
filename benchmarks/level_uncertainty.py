"""Would sampling the level parameters restore the out-of-sample band? 水平参数不确定性对样本外区间覆盖率的影响.

The shipped ensemble re-fits each posterior draw's level parameters to their best fit (``calibrate.refit_draws``),
so a ``--draws`` band holds the structural parameters' spread and the seeds' chance but not the level parameters'
own uncertainty. Made that way from information up to 2018, the 90% band held 62% of the 24 held-out 2019-2020
values (``calibration/oos/oos_report.md``). This script measures what the band would hold if each draw's level
parameters were sampled from their conditional posterior instead of set to the best fit, on the ``--oos`` refit
of ``[medium]`` (read from its journal; nothing is written but new journal entries):

- the conditional posterior of the continuous level parameters given the draw's structural ones, by the Laplace
  approximation at the re-fit: the fit's own loss read as a log-likelihood (each target's tolerance as one
  standard deviation, weights as in the distance) plus its ridge term as a Gaussian prior (the posterior sd of a
  parameter the ABC-SMC sampled, the prior sd of a levels-stage one), precision J'J + diag(1 / spread^2), J the
  forward-difference Jacobian of the residuals (step 5% of the prior range, in the prior's unit cube, as the fit's),
  with the calibration seeds; the integer parameter (little-giant validity) held;
- ``--samples`` level vectors per draw (clipped to the prior range), each run with the calibration seeds; the
  predictive distribution of each held-out target is the mixture (draw weight / samples), its median and 90% band
  by the calibration's weighted quantiles.

    python benchmarks/level_uncertainty.py                 # 8 samples per draw; ~10 min on 2 cores
    python benchmarks/level_uncertainty.py --samples 16 --seed 1

Needs the ``--oos`` refit's journal (``calibration/oos/journal/``; without it the refit runs first, ~25 min: see
calibration/README.md). Prints, for the shipped method and for the sampled one, the median absolute error of the
predictive median and the share of held-out values inside the 90% band.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import qhsim.calibration.calibrate as calibration  # noqa: E402
from qhsim.calibration.conditional import MIN_SPREAD, PRIOR_SPREAD, STEP  # noqa: E402
from qhsim.calibration.ensemble import weighted_quantiles  # noqa: E402
from qhsim.calibration.journal import Journal  # noqa: E402
from qhsim.calibration.objective import Objective, modelled_targets  # noqa: E402
from qhsim.calibration.oos import INFO_YEAR, oos_config  # noqa: E402
from qhsim.calibration.parallel import Evaluator  # noqa: E402
from qhsim.calibration.settings import load_config  # noqa: E402


def laplace_cov(objective: Objective, records: list[dict], steps: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """Covariance (unit-cube coordinates) of the continuous level parameters: ``records`` are the re-fit point and
    the point moved by ``steps[j]`` in parameter j; residuals in sum form (the distance's are scaled to its mean)."""
    sum_w = sum(t.weight for t in objective.active)
    r = [np.nan_to_num(objective.residuals(rec["cells"]), nan=0.0) * math.sqrt(sum_w) for rec in records]
    jac = np.column_stack([(r[j + 1] - r[0]) / steps[j] for j in range(len(steps))])
    return np.linalg.inv(jac.T @ jac + np.diag(1.0 / spread**2))


def coverage(objective: Objective, held: dict[str, float], runs: list[tuple[float, dict]]) -> tuple[int, float, float]:
    """The held-out targets predicted, the median |error| of the weighted predictive median and the share of
    held-out values in its 90% band."""
    values: dict[str, list[tuple[float, float]]] = {}
    for w, rec in runs:
        for f in objective.fits(rec["cells"]):
            if f.target.id in held and f.status == "fit":
                values.setdefault(f.target.id, []).append((f.mean, w))
    errors, inside = [], []
    for tid, vw in values.items():
        v, w = np.array([x for x, _ in vw]), np.array([y for _, y in vw])
        lo, med, hi = weighted_quantiles(v, w, (0.05, 0.5, 0.95))
        errors.append(abs(med / held[tid] - 1.0))
        inside.append(lo <= held[tid] <= hi)
    return len(errors), float(np.median(errors)), float(np.mean(inside))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--samples", type=int, default=8, help="level vectors per draw (default 8)")
    ap.add_argument("--seed", type=int, default=2026, help="seed of the level samples (default 2026)")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()

    calibration.write_outputs = lambda *a, **k: None  # the pipeline as shipped (evidence step on), nothing written
    cfg = oos_config(load_config("medium", None))
    fit = calibration.calibrate(cfg, workers=args.workers, resume=True, progress=False, log=lambda m: None, write=True)
    problem, objective, posterior = fit.problem, fit.objective, fit.posterior
    params = {p.name: p for p in (*problem.params, *problem.level_params)}
    cont = [n for n in cfg.conditional if not params[n].integer]
    sampled = posterior.spread(problem.params)
    spread = np.array([max(sampled.get(n, PRIOR_SPREAD), MIN_SPREAD) for n in cont])
    targets = problem.all_targets
    per_seed = [{k: v[i] for k, v in fit.default_cells.items()} for i in range(len(cfg.seeds))]
    modelled = modelled_targets(targets, per_seed)
    everything = Objective(targets, cfg.simulation_error, frozenset(t.id for t in targets if t.id not in modelled))
    held = {t.id: t.value for t in targets.select() if t.known_by > INFO_YEAR}
    rng = np.random.default_rng(args.seed)
    shipped, sampled_runs = [], []
    ids = iter(range(-7 * 10**9, -8 * 10**9, -1))
    with Journal(calibration.journal_path(cfg), problem.header, resume=True) as journal, \
            Evaluator(problem.spec, cfg.seeds, workers=args.workers, journal=journal, progress=False) as ev:
        print(f"{len(fit.draw_fits)} re-fitted draws, {len(objective.active)} fitted targets, {len(cont)} continuous "
              f"level parameters, {args.samples} samples per draw, seeds {', '.join(map(str, cfg.seeds))}")
        for k, draw in enumerate(fit.draw_fits):
            theta = dict(draw.point)
            u0 = np.array([params[n].to_unit(theta[n]) for n in cont])
            steps = np.where(u0 + STEP <= 1.0, STEP, -STEP)
            moved = [{**theta, n: float(params[n].from_unit(u0[j] + steps[j]))} for j, n in enumerate(cont)]
            records = ev.evaluate([(next(ids), th, {}) for th in [theta, *moved]], desc=f"Jacobian of draw {k}")
            chol = np.linalg.cholesky(laplace_cov(objective, records, steps, spread))
            samples = []
            for _ in range(args.samples):
                u = np.clip(u0 + chol @ rng.standard_normal(len(cont)), 0.0, 1.0)
                samples.append({**theta, **{n: float(params[n].from_unit(u[j])) for j, n in enumerate(cont)}})
            runs = ev.evaluate([(next(ids), th, {}) for th in samples], desc=f"samples of draw {k}")
            weight = float(posterior.weights[k])
            shipped.append((weight, records[0]))
            sampled_runs += [(weight / args.samples, rec) for rec in runs]
            sd = np.sqrt(np.diag(chol @ chol.T))
            print(f"  draw {k}: weight {weight:.3f}, distance {draw.distance:.3g}, level sd (share of prior range) "
                  f"median {np.median(sd):.3f}, min {sd.min():.3f}")
    for label, runs in (("as shipped (levels at their re-fit)", shipped), ("levels sampled (Laplace)", sampled_runs)):
        n, error, inside = coverage(everything, held, runs)
        print(f"{label}: {n} held-out targets, median |error| {100 * error:.1f}%, "
              f"90% band covers {100 * inside:.0f}%")


if __name__ == "__main__":
    main()
