"""Benchmark of the analyst deliverables: how long writing a run folder takes next to the simulation itself.

Prints, for one baseline run (scale 1 unless given, 2015->2035): the model's time, the run folder with and
without charts, and each export alone (XLSX, HTML with and without charts, long CSV), each the best of
``--repeat`` tries, with its ratio to the model's time measured in the same session (noise from other work on
the machine affects both alike).

    .venv/bin/python benchmarks/bench_export.py [--scale 0.25] [--repeat 3]
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from qhsim.output.export import render_html, write_csv, write_xlsx
from qhsim.output.store import write_run
from qhsim.output.tidy import from_run
from qhsim.runner import run
from qhsim.argtypes import at_least, scale
from qhsim.cli import Parser, run_script

ROOT = Path(__file__).resolve().parents[1]


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=scale, default=1.0)
    parser.add_argument("--repeat", type=at_least(1), default=3)
    args = parser.parse_args()

    result = run(ROOT / "scenarios" / "baseline.toml", scale=args.scale)
    model = best(lambda: run(ROOT / "scenarios" / "baseline.toml", scale=args.scale), args.repeat)
    results = from_run(result)
    tmp = Path(tempfile.mkdtemp(prefix="qhsim-bench-"))
    try:
        rows = [
            ("model run 模型运行", model),
            ("run folder, charts 含图", best(lambda: write_run(result, tmp / "with"), args.repeat)),
            ("run folder --no-charts", best(lambda: write_run(result, tmp / "without", charts=False), args.repeat)),
            ("from_run (long table)", best(lambda: from_run(result), args.repeat)),
            ("report.xlsx", best(lambda: write_xlsx(results, tmp / "r.xlsx"), args.repeat)),
            ("report.html, charts", best(lambda: render_html(results), args.repeat)),
            ("report.html, no charts", best(lambda: render_html(results, charts=False), args.repeat)),
            ("indicators_long.csv", best(lambda: write_csv(results, tmp / "r.csv"), args.repeat)),
        ]
        charts = len(list((tmp / "with" / "charts").glob("*.png")))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"scale {args.scale:g}, best of {args.repeat}; ratio = time / model run ({charts} PNG charts per run folder)")
    for name, seconds in rows:
        print(f"  {name:28s} {seconds:7.2f} s   {seconds / model:5.2f}x")


if __name__ == "__main__":
    run_script(main)
