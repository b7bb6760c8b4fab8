"""Benchmark 性能基准: a full baseline run, its memory, and the vectorised firm decision step against the per-firm
reference (qhsim.firms.reference).

    python benchmarks/bench_run.py                      # table
    python benchmarks/bench_run.py --scale 0.1 --json   # machine-readable

Targets (issue #8 item 6; MODEL.md §7): a full-scale 2015→2035 run in at most 1 s on one core; the vectorised
decision step at least 30× faster than the plain per-firm version of the same rules. Also timed: the run
calibration repeats thousands of times (scale 0.25, 2015→2020).

Run times are the best of ``--repeat`` runs, as wall time and as the process's CPU time (user + system). On a
shared machine the CPU time is the steadier figure: compare against a reference checkout timed at the same
moment (``taskset -c 1`` pins both to one core).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import qhsim  # noqa: E402,F401  (before NumPy: one floating-point path on every machine, qhsim/cpu.py)
import numpy as np  # noqa: E402

from qhsim.config import Scenario  # noqa: E402
from qhsim.firms import reference as ref  # noqa: E402
from qhsim.firms import sector_table  # noqa: E402
from qhsim.firms.decision import STEP_FIELDS, decide  # noqa: E402
from qhsim.firms.state import FirmPopulation  # noqa: E402
from qhsim.macro import cost_per_fte  # noqa: E402
from qhsim.model import QinghaiModel  # noqa: E402
from qhsim.policy import policy_at  # noqa: E402
from qhsim.runner import as_scenario, run  # noqa: E402
from qhsim.argtypes import at_least, scale  # noqa: E402
from qhsim.cli import Parser, run_script  # noqa: E402

TARGET_RUN_SECONDS = 1.0
CALIBRATION_RUN = {"scale": 0.25, "end_year": 2020}  # what the calibration evaluates for every particle and seed
TARGET_SPEED_RATIO = 30.0
DECISION_YEAR = 2021  # the population is stepped to the year before, then one decision step is timed


def with_scale(sc: Scenario, scale: float) -> Scenario:
    return sc.model_validate({**sc.model_dump(), "run": {**sc.run.model_dump(), "scale": scale}})


def cpu_seconds() -> float:
    """User + system CPU time of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def time_full_run(sc: Scenario, repeat: int, **overrides) -> tuple[float, float, int, list[float]]:
    """Best wall and best CPU time of ``repeat`` runs (``overrides`` as for ``run``), and the firm-steps (live firms
    summed over the simulated years)."""
    times, cpu_times, firm_steps = [], [], 0
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), cpu_seconds()
        result = run(sc, **overrides)
        times.append(time.perf_counter() - started)
        cpu_times.append(cpu_seconds() - started_cpu)
        prov = result.province()
        stepped = prov.index > sc.run.start_year
        firm_steps = int(round(float((prov.loc[stepped, "enterprises"] * sc.run.scale).sum())))
    return min(times), min(cpu_times), firm_steps, times


def peak_memory(sc: Scenario) -> int:
    """Peak bytes allocated by Python and numpy during one full run (tracemalloc; slows the run)."""
    tracemalloc.start()
    try:
        run(sc)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def decision_population(sc: Scenario, n: int) -> tuple[FirmPopulation, QinghaiModel]:
    """``n`` firms of a baseline run stepped to DECISION_YEAR - 1 (sampled evenly if the run has more)."""
    model = QinghaiModel(sc)
    model.run_to(DECISION_YEAR - 1)
    f = model.firms
    idx = np.linspace(0, len(f) - 1, min(n, len(f))).round().astype(int)
    return FirmPopulation({name: col[idx] for name, col in f.cols.items()}), model


def time_decision_step(sc: Scenario, n: int, repeat: int) -> dict[str, float]:
    f, model = decision_population(sc, n)
    pol = policy_at(sc, DECISION_YEAR)
    clock = f.switch_clock  # the firms' switching clocks as the run left them
    b, level = model.b, model.rd_level
    fte_cost = cost_per_fte(model.macro, DECISION_YEAR, b)

    def vectorised():
        return decide(f, pol, b, sector_table(), level, clock, fte_cost)

    records = ref.firm_records(f)

    def reference():
        return [ref.reference_firm_step(x, pol, b, level, x["switch_clock"], fte_cost) for x in records]

    vectorised()  # warm caches (sector table, imports)
    inner = 20
    vec_times = []
    for _ in range(max(repeat, 3)):
        started = time.perf_counter()
        for _ in range(inner):
            got = vectorised()
        vec_times.append((time.perf_counter() - started) / inner)
    ref_times = []
    for _ in range(repeat):
        started = time.perf_counter()
        want = reference()
        ref_times.append(time.perf_counter() - started)

    # the two must agree, or the comparison is meaningless
    worst = 0.0
    for field in STEP_FIELDS:
        a, e = np.asarray(got[field], dtype=float), np.array([w[field] for w in want], dtype=float)
        scale = np.maximum(np.abs(e), 1e-300)
        worst = max(worst, float(np.max(np.abs(a - e) / scale, initial=0.0)))
    t_vec, t_ref = min(vec_times), min(ref_times)
    return {
        "firms": len(f),
        "vectorised_seconds": t_vec,
        "reference_seconds": t_ref,
        "vectorised_us_per_firm": 1e6 * t_vec / len(f),
        "reference_us_per_firm": 1e6 * t_ref / len(f),
        "speed_ratio": t_ref / t_vec,
        "max_relative_difference": worst,
    }


def main(argv: list[str] | None = None) -> dict:
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=scale, default=1.0, help="agents per real enterprise (default 1.0)")
    parser.add_argument("--repeat", type=at_least(1), default=3, help="repetitions; the best time is reported")
    parser.add_argument("--reference-firms", type=at_least(1), default=5000, help="firms in the decision-step comparison")
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "baseline.toml"))
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)

    sc = with_scale(as_scenario(args.scenario), args.scale)
    run(sc, end_year=sc.run.start_year + 1)  # warm the per-process caches (data files, imports)
    best, best_cpu, firm_steps, times = time_full_run(sc, args.repeat)
    calib_best, calib_cpu, _, _ = time_full_run(sc, args.repeat, **CALIBRATION_RUN)
    peak = peak_memory(sc)
    step = time_decision_step(sc, args.reference_firms, args.repeat)
    maxrss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux

    out = {
        "scenario": sc.run.name,
        "scale": args.scale,
        "years": f"{sc.run.start_year}-{sc.run.end_year}",
        "run_seconds_best": best,
        "run_seconds_all": times,
        "run_cpu_seconds_best": best_cpu,
        "calibration_run": {**CALIBRATION_RUN, "seconds_best": calib_best, "cpu_seconds_best": calib_cpu},
        "load_average_1min": os.getloadavg()[0],
        "firm_steps": firm_steps,
        "firm_steps_per_second": firm_steps / best,
        "peak_traced_mib": peak / 2**20,
        "max_rss_mib": maxrss_kib / 1024,
        "decision_step": step,
        "targets": {"run_seconds_max": TARGET_RUN_SECONDS, "speed_ratio_min": TARGET_SPEED_RATIO},
        "meets_run_target": best <= TARGET_RUN_SECONDS,
        "meets_ratio_target": step["speed_ratio"] >= TARGET_SPEED_RATIO,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "machine": platform.machine(),
    }
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print_table(out)
    return out


def print_table(o: dict) -> None:
    s, c = o["decision_step"], o["calibration_run"]
    ok = {True: "yes", False: "NO"}
    rows = [
        ("metric", "value", "target", "met"),
        (f"full run {o['years']}, scale {o['scale']:g} (best of {len(o['run_seconds_all'])})",
         f"{o['run_seconds_best']:.3f} s", f"<= {TARGET_RUN_SECONDS:g} s", ok[o["meets_run_target"]]),
        ("  the same, CPU time (user + system)", f"{o['run_cpu_seconds_best']:.3f} s", "", ""),
        (f"calibration run 2015-{c['end_year']}, scale {c['scale']:g}", f"{c['seconds_best']:.3f} s", "", ""),
        ("  the same, CPU time (user + system)", f"{c['cpu_seconds_best']:.3f} s", "", ""),
        ("machine load (1-minute average)", f"{o['load_average_1min']:.1f}", "", ""),
        ("peak memory, tracemalloc", f"{o['peak_traced_mib']:.1f} MiB", "", ""),
        ("peak memory, max RSS (process)", f"{o['max_rss_mib']:.1f} MiB", "", ""),
        ("firm-steps", f"{o['firm_steps']:,}", "", ""),
        ("firm-steps per second", f"{o['firm_steps_per_second']:,.0f}", "", ""),
        (f"decision step, vectorised ({s['firms']:,} firms)", f"{s['vectorised_us_per_firm']:.3f} µs/firm", "", ""),
        ("decision step, per-firm reference", f"{s['reference_us_per_firm']:.2f} µs/firm", "", ""),
        ("speed ratio reference / vectorised", f"{s['speed_ratio']:.0f}×", f">= {TARGET_SPEED_RATIO:g}×",
         ok[o["meets_ratio_target"]]),
        ("max relative difference (agreement)", f"{s['max_relative_difference']:.1e}", "<= 1e-12", ""),
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for i, r in enumerate(rows):
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))


if __name__ == "__main__":
    run_script(main)
