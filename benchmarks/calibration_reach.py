"""Can the calibration targets be reached? A quick search before a long calibration 可达性检查.

A (1+lambda) evolution strategy on the calibration distance (``qhsim.calibration.objective``), in the unit cube
of the free parameters' priors, with common random numbers (the same seeds for every point), started from
the calibrated point (or the behaviour.toml defaults). It is a cheap existence check, not an estimator: it
shows whether some parameter point puts the nine 2020 plan indicators, the stocks and the yearly paths near
their targets at the scale the fit is judged at, and which targets stay out of reach. Then the best point is
re-run with fresh seeds, so the figures carry no seed selection.

    .venv/bin/python benchmarks/calibration_reach.py --evals 160 --workers 2          # ~5 min on 2 free cores

Prints the distance path, and for every target the best point's mean and error on the search seeds and on the
fresh seeds. Exit code 0 always (it is a report, not a test).
"""

from __future__ import annotations

import math
import time

import qhsim  # noqa: F401  (before NumPy: one floating-point path on every machine, qhsim/cpu.py)

import numpy as np

from qhsim.calibrated import calibrated_parameters
from qhsim.calibration.abc_smc import to_theta
from qhsim.calibration.calibrate import prepare
from qhsim.calibration.objective import Objective, modelled_targets
from qhsim.calibration.parallel import Evaluator
from qhsim.calibration.settings import load_config
from qhsim.argtypes import at_least, scale
from qhsim.cli import Parser, run_script


def main() -> None:
    ap = Parser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", default="full", help="calibration/config.toml configuration for scenario/targets/free parameters")
    ap.add_argument("--scale", type=scale, default=1.0)
    ap.add_argument("--seeds", default="11,12,13,14", help="search seeds (common random numbers)")
    ap.add_argument("--fresh", default="101,102,103,104,105,106,107,108", help="fresh seeds for the final check")
    ap.add_argument("--evals", type=at_least(1), default=160, help="evaluation budget of the search")
    ap.add_argument("--lam", type=at_least(2), default=8, help="offspring per generation")
    ap.add_argument("--sigma", type=float, default=0.08, help="initial step in the unit cube")
    ap.add_argument("--start", choices=("calibrated", "defaults"), default="calibrated")
    ap.add_argument("--workers", type=at_least(1), default=2)
    ap.add_argument("--fixed-population", action="store_true", help="one 2015 population (default: one per seed)")
    a = ap.parse_args()

    cfg = load_config(a.config).with_(
        scale=a.scale, seeds=tuple(int(s) for s in a.seeds.split(",")), vary_population=not a.fixed_population
    )
    problem = prepare(cfg)
    params = problem.params
    names = [p.name for p in params]
    start = calibrated_parameters() if a.start == "calibrated" else {}
    x0 = np.array([float(np.clip(p.to_unit(start.get(p.name, p.default)), 0, 1)) for p in params])
    rng = np.random.default_rng(20261201)
    t0 = time.perf_counter()
    with Evaluator(problem.spec, cfg.seeds, workers=a.workers, progress=False) as ev:
        first = ev.evaluate([(0, to_theta(params, x0), {})])[0]
        per_seed = [{k: v[i] for k, v in first["cells"].items()} for i in range(len(cfg.seeds))]
        obj = Objective(problem.targets, cfg.simulation_error,
                        frozenset(t.id for t in problem.targets if t.id not in modelled_targets(problem.targets, per_seed)),
                        cfg.robust_groups)
        secs = time.perf_counter() - t0
        best_x, best_rec, best_d = x0, first, obj.distance(first["cells"])
        print(f"scale {a.scale:g}, {len(cfg.seeds)} seeds, {len(params)} free parameters; one evaluation {secs:.1f} s wall "
              f"(workers {a.workers}); start ({a.start}) distance {best_d:.3f}")
        sigma, used, gen = a.sigma, 1, 0
        while used < a.evals:
            lam = min(a.lam, a.evals - used)
            xs = np.clip(best_x + sigma * rng.standard_normal((lam, len(params))), 0.0, 1.0)
            recs = ev.evaluate([(used + i, to_theta(params, x), {}) for i, x in enumerate(xs)])
            used += lam
            ds = [obj.distance(r["cells"]) for r in recs]
            k = int(np.argmin(ds))
            improved = ds[k] < best_d
            if improved:
                best_x, best_rec, best_d = xs[k], recs[k], ds[k]
            sigma = min(0.3, sigma * 1.3) if improved else max(0.01, sigma * 0.85)
            gen += 1
            print(f"gen {gen:3d}  evals {used:4d}  best {best_d:.3f}  sigma {sigma:.3f}  ({time.perf_counter() - t0:.0f} s)", flush=True)
        best_theta = to_theta(params, best_x)
    fresh = tuple(int(s) for s in a.fresh.split(","))
    with Evaluator(problem.spec, fresh, workers=a.workers, progress=False) as ev:
        val = ev.evaluate([(-2, best_theta, {})])[0]
    print(f"\nbest point (distance {best_d:.3f} on the search seeds, {obj.distance(val['cells']):.3f} on {len(fresh)} fresh seeds):")
    for n in names:
        print(f"  {n:30s} {best_theta[n]:.4g}")
    vfits = {f.target.id: f for f in obj.fits(val["cells"])}
    print(f"\n{'target':38s} {'observed':>9s} {'search':>9s} {'err':>7s} {'fresh':>9s} {'err':>7s} {'tol':>5s}")
    for f in obj.fits(best_rec["cells"]):
        if f.status != "fit":
            continue
        v = vfits[f.target.id]
        flag = "" if abs(v.rel_error) <= max(f.target.tolerance, 0.05 if f.target.group == "plan_2020" else 0) else "  <- out"
        print(f"{f.target.id:38s} {f.target.value:9.4g} {f.mean:9.4g} {f.rel_error:+7.1%} {v.mean:9.4g} "
              f"{v.rel_error:+7.1%} {f.target.tolerance:5.0%}{flag}")
    plan = [v for v in vfits.values() if v.status == "fit" and v.target.group == "plan_2020"]
    within = sum(abs(v.rel_error) <= 0.05 for v in plan)
    print(f"\nplan indicators within 5% on the fresh seeds: {within} of {len(plan)}; "
          f"total {time.perf_counter() - t0:.0f} s")
    if not math.isfinite(best_d):
        print("(a target came out NaN)")


if __name__ == "__main__":
    run_script(main)
