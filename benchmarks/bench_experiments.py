"""Benchmark of the experiments engine 实验引擎基准: runs per hour, engine overhead per run, a 1,000-run sweep.

    python benchmarks/bench_experiments.py            # full: scale 1 and 0.25, 2 workers
    python benchmarks/bench_experiments.py --quick    # a light version (scale 0.1 / 0.05)

Figures:
- runs per hour with 2 workers (local process pool, results streamed into a store) at scale 1 and 0.25;
- engine overhead per run: the same runs in this process, bare (``qhsim.runner.run``) against through the
  engine with a store (spec -> validated scenario, fingerprint check, one Parquet file per run), measured
  alternately so that load from other processes falls on both alike; target <= 5%;
- a 1,000-run full-scale sweep on 2 cores: the estimate from the measured throughput, and the estimate once
  the model reaches 1 s per run (1,000 x (1 s + overhead) / 2 workers); target <= 10 min.

The machine may be shared: the absolute figures are noisy; the overhead is a ratio measured at the same moment.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qhsim.experiments.designs import design_from_file, expand  # noqa: E402
from qhsim.experiments.engine import Engine, execute  # noqa: E402
from qhsim.experiments.spec import Override  # noqa: E402
from qhsim.experiments.store import Store, collect_runs  # noqa: E402
from qhsim.runner import run  # noqa: E402
from qhsim.argtypes import at_least  # noqa: E402
from qhsim.cli import Parser, run_script  # noqa: E402

BASELINE = ROOT / "scenarios" / "baseline.toml"
TARGET_OVERHEAD = 0.05
TARGET_SWEEP_MINUTES = 10.0


def specs_for(n: int, scale: float) -> list:
    """``n`` distinct runs: grant budgets x seeds from 2026 (a sweep's shape)."""
    base = design_from_file(BASELINE)
    budgets = [15000 + 1000 * i for i in range(max(1, n // 2))]
    designs = [base.with_overrides([Override("policy.ex_ante_grants.budget", 2026, b)], f"b{b}") for b in budgets]
    specs, labels = expand(designs, [None], (1, 2), scale, 2035)
    return specs[:n], labels[:n]


def throughput(n: int, scale: float, workers: int, tmp: Path) -> float:
    specs, labels = specs_for(n, scale)
    out = tmp / f"store_{scale}"
    shutil.rmtree(out, ignore_errors=True)
    with Engine(workers) as eng:
        eng.map(specs[:workers])  # start the pool (not counted: paid once per command)
        store = Store(out, "sweep", {}, specs, labels, eng.fingerprint)
        store.open()
        started = time.perf_counter()
        collect_runs(eng, specs, labels, store)
        seconds = time.perf_counter() - started
    return n / seconds * 3600


def overhead(n: int, scale: float, tmp: Path) -> tuple[float, float, float]:
    """Mean seconds per run bare and through the engine into one store (opened once, as in a sweep; reading the
    runs back counted too), alternating run by run; and their ratio - 1."""
    specs, labels = specs_for(n, scale)
    out = tmp / "overhead"
    base = design_from_file(BASELINE)
    bare = engine = 0.0
    with Engine(1) as eng:
        store = Store(out, "sweep", {}, specs, labels, eng.fingerprint)
        store.open()
        for i, spec in enumerate(specs):
            sc = base.with_overrides(spec.overrides).validated()
            t = time.perf_counter()
            run(sc, seed=spec.seed, scale=spec.scale, end_year=spec.end_year)
            bare += time.perf_counter() - t
            t = time.perf_counter()
            eng.map([spec], on_result=lambda _j, frame, _s, i=i: store.put(i, frame))
            engine += time.perf_counter() - t
        t = time.perf_counter()
        store.read()
        engine += time.perf_counter() - t
    return bare / n, engine / n, engine / bare - 1.0


def main() -> None:
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small scales and few runs")
    parser.add_argument("--workers", type=at_least(1), default=2)
    args = parser.parse_args()
    scales = (0.1, 0.05) if args.quick else (1.0, 0.25)
    n = 6 if args.quick else 12
    print(f"qhsim experiments engine benchmark (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
          "a shared machine gives noisy absolute figures)")
    execute(specs_for(1, scales[1])[0][0])  # warm imports
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        rates = {}
        for scale in scales:
            rates[scale] = throughput(n, scale, args.workers, tmp)
            print(f"  scale {scale:<5g} {args.workers} workers: {rates[scale]:8.0f} runs/hour "
                  f"({3600 / rates[scale]:.2f} s per run of wall time)")
        bare, eng, ratio = overhead(n if args.quick else 6, scales[0], tmp)
        flag = "ok" if ratio <= TARGET_OVERHEAD else "ABOVE TARGET"
        print(f"  engine overhead per run at scale {scales[0]:g}: bare {bare:.3f} s, engine {eng:.3f} s, "
              f"+{100 * ratio:.1f}% (+{eng - bare:.3f} s; target <= {100 * TARGET_OVERHEAD:.0f}%: {flag})")
        full = rates[scales[0]]
        measured = 1000 / full * 60
        at_1s = 1000 * (1.0 + max(eng - bare, 0.0)) / args.workers / 60
        print(f"  1,000 runs at scale {scales[0]:g} on {args.workers} workers: {measured:.1f} min at today's speed; "
              f"{at_1s:.1f} min once a run takes 1 s (target <= {TARGET_SWEEP_MINUTES:.0f} min: "
              f"{'ok' if at_1s <= TARGET_SWEEP_MINUTES else 'ABOVE TARGET'})")


if __name__ == "__main__":
    run_script(main)
