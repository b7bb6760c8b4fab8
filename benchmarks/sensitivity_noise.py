"""How much of the Sobol output variance is seed noise? 敏感性分析的随机噪声占比.

The Sobol design of ``calibration/sensitivity.toml`` (``--config full``) varies the free parameters over their
posterior 5-95% intervals, a much narrower box than the priors, while the seed-to-seed noise of a run at the
design's scale stays what it was. Under common random numbers (the same seeds at every sample point) part of that
noise is an offset shared by all points, which leaves the indices alone; the rest varies with the parameters, and
it is this part that shows up as spurious index mass (mostly interactions, ST - S1, spread over every factor).
The script draws ``--points`` uniform points from the Sobol box of the behavioural factors (instruments at the
scenario's values) and runs each with the design's seeds (A) and with as many other seeds (B):

    noise share = Var(Y_A - Y_B) / 2 / Var(Y_A)       (over the points)

the share of the design output's variance that is parameter-dependent seed noise. Near 0 the indices describe the
parameters; a large share means more seeds or a larger scale before the indices are read closely. It also prints
the plain seed sd of one run at the calibrated point (``--noise-seeds`` runs) for scale.

    .venv/bin/python benchmarks/sensitivity_noise.py --workers 2        # ~200 runs at scale 0.1, ~1-2 min free

Exit code 0 always (a report, not a test).
"""

from __future__ import annotations

from dataclasses import replace

import qhsim  # noqa: F401  (before NumPy: one floating-point path on every machine, qhsim/cpu.py)

import numpy as np

from qhsim.calibration.sensitivity import _evaluate, load_spec
from qhsim.argtypes import at_least
from qhsim.cli import Parser, run_script


def main() -> None:
    ap = Parser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="full", help="configuration of calibration/sensitivity.toml (default: full)")
    ap.add_argument("--points", type=at_least(2), default=48, help="uniform draws from the Sobol box (default 48)")
    ap.add_argument("--noise-seeds", type=at_least(2), default=12, help="single-seed runs at the calibrated point (default 12)")
    ap.add_argument("--workers", type=at_least(1), default=1)
    ap.add_argument("--random-seed", type=at_least(0), default=3)
    args = ap.parse_args()

    spec = load_spec(args.config)
    factors = tuple(f for f in spec.sobol_factors if f.kind == "behaviour")
    point = np.array([[spec.base_parameters.get(f.name, (f.low + f.high) / 2) for f in factors]])
    first = max(spec.seeds) + 1
    single = np.array([_evaluate(replace(spec, seeds=(s,)), factors, point, args.workers, False, "noise")[0]
                       for s in range(first, first + args.noise_seeds)])
    rng = np.random.default_rng(args.random_seed)
    X = np.column_stack([rng.uniform(f.low, f.high, args.points) for f in factors])
    others = tuple(range(first + args.noise_seeds, first + args.noise_seeds + len(spec.seeds)))
    Y = _evaluate(spec, factors, X, args.workers, False, "box A")
    Yb = _evaluate(replace(spec, seeds=others), factors, X, args.workers, False, "box B")
    share = (Y - Yb).var(axis=0, ddof=1) / 2 / Y.var(axis=0, ddof=1)
    print(f"configuration {spec.config}: scale {spec.scale:g}, design seeds A = {list(spec.seeds)}, other seeds B = "
          f"{list(others)}, {len(factors)} behavioural factors ({spec.sobol_ranges} ranges), base {spec.base}")
    print(f"{'output':40s} {'point mean':>11s} {'seed sd':>9s} {'box mean':>10s} {'box sd':>9s} {'noise share':>12s}")
    for k, (ind, region, year) in enumerate(spec.outputs):
        print(f"{f'{ind} ({region}, {year})':40s} {single[:, k].mean():11.4g} {single[:, k].std(ddof=1):9.4g} "
              f"{Y[:, k].mean():10.4g} {Y[:, k].std(ddof=1):9.4g} {share[k]:12.2f}")
    print(f"(point: one run per seed, seeds {first}-{first + args.noise_seeds - 1}, at the calibrated point; box: "
          f"{args.points} points, mean of the seeds A; noise share = Var(Y_A - Y_B) / 2 / Var(Y_A))")


if __name__ == "__main__":
    run_script(main)
