"""Dashboard benchmark 仪表盘性能: the real ``qhsim dashboard`` in headless Chromium (qhsim.dashboard.driver).

    python benchmarks/bench_dashboard.py            # table
    python benchmarks/bench_dashboard.py --json

Measures (issue 10 targets):
- page usable after load (the Run button is there): <= 3 s;
- lever change -> charts of a full-scale single run updated (with "run automatically" on, type a new
  super-deduction rate in the left panel: the indicator chart redrawn with the new run): <= 3 s;
- server memory (RSS of the server process and its children) with three sessions that each ran a
  full-scale single run with different levers: <= 500 MB.
The reference is a plain ``qhsim.runner.run`` at full scale measured in the same moment, so the dashboard's
overhead shows as a ratio even when the machine is busy.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qhsim.dashboard import driver  # noqa: E402
from qhsim.argtypes import at_least  # noqa: E402
from qhsim.cli import Parser, run_script  # noqa: E402

TARGETS = {"page_usable_s": 3.0, "lever_to_chart_s": 3.0, "server_rss_mb_3_sessions": 500.0}
LEVER = "Super-deduction, general firms (share of R&D)"


def reference_run_seconds() -> float:
    from qhsim.runner import run

    started = time.perf_counter()
    run(ROOT / "scenarios" / "baseline.toml", scale=1.0)
    return time.perf_counter() - started


def rss_mb(pid: int) -> float:
    import psutil

    proc = psutil.Process(pid)
    return sum(p.memory_info().rss for p in (proc, *proc.children(recursive=True))) / 2**20


def main(argv: list[str] | None = None) -> int:
    parser = Parser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=at_least(1), default=3, help="repetitions of the timed steps (median reported)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    reason = driver.missing()
    if reason:
        print(f"bench_dashboard: cannot run: {reason}", file=sys.stderr)
        return 2
    os.environ.setdefault("QHSIM_CALIBRATED", "off")
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp, driver.server(Path(tmp) / "server.log", cwd=ROOT) as (url, pid), \
            driver.chromium() as browser:
        loads, changes, pages = [], [], []
        for i in range(args.repeat):
            started = time.perf_counter()
            page = driver.DashboardPage(browser, url)
            loads.append(time.perf_counter() - started)
            pages.append(page)
        first = pages[0]
        first.english()
        first.run()  # full-scale baseline (the default scale is 1.0)
        first.goto("indicators")
        first.page.get_by_text("Run automatically when a lever changes").click()
        first.page.wait_for_timeout(500)  # the checkbox reaches the server before the first lever change
        for i in range(args.repeat):
            before, box = first.run_id(), first.field(LEVER)
            box.fill(str(1.2 + 0.2 * i))
            started = time.perf_counter()
            box.press("Enter")
            first.wait_new_run(before)
            first.wait_charts(settle_ms=0)
            changes.append(time.perf_counter() - started)
            print(f"lever change {i + 1}: {changes[-1]:.2f} s", file=sys.stderr)
        # three sessions, each with its own full-scale run
        for k, page in enumerate(pages[1:3], start=1):
            page.english()
            page.set_field(LEVER, 0.5 + 0.1 * k)
            page.run()
        out["server_rss_mb_3_sessions"] = rss_mb(pid)
        out["page_usable_s"] = statistics.median(loads)
        out["lever_to_chart_s"] = statistics.median(changes)
        for p in pages:
            p.close()
    out["reference_full_run_s"] = reference_run_seconds()
    out["lever_to_chart_over_reference"] = out["lever_to_chart_s"] / out["reference_full_run_s"]
    out["load_1min"] = os.getloadavg()[0]
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    print(f"{'measure':36} {'value':>10} {'target':>10}")
    for key, value in out.items():
        target = TARGETS.get(key)
        print(f"{key:36} {value:10.2f} {('<= %g' % target) if target else '':>10}")
    print("\nmachine load (1 min) above the core count makes every figure slower; compare the ratio to the reference run.")
    return 0


if __name__ == "__main__":
    run_script(main)
