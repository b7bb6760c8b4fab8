"""What sets the shape of the 2016-2020 R&D path? 研发路径形状扫描: one parameter at a time around the shipped point.

    .venv/bin/python benchmarks/structural_scan.py [--seeds 11,...,18] [--width 0.25] [--workers 2]

Each parameter the ABC-SMC samples (`calibration/free_parameters.toml`, stage "abc"; the "levels" ones have no
posterior interval) is moved by ``--width`` times its posterior 5-95% width (the calibration in force, its
[interval], clipped to the prior range) down and up from its point, the rest held, and run with the same seeds
(common random numbers) at the calibration's scale. Printed per move, as % changes against the point: R&D
intensity 2016 and 2020 and their ratio (the path's growth; the yearbook's, from calibration/targets.toml, is
0.71 / 0.62 = 1.145), the share of firms with R&D, R&D personnel FTE 2016 and 2020, and the HTE count of 2020. A
parameter that changes the growth, not only the level, is one a level refit cannot use; the fresh ABC-SMC samples
it. Integer parameters are skipped. Nothing is fitted; ~1-2 min with 2 workers.
"""

from __future__ import annotations


import qhsim  # noqa: F401  (before NumPy: one floating-point path on every machine, qhsim/cpu.py)

import numpy as np

from qhsim.calibrated import required_calibration
from qhsim.calibration.calibrate import prepare
from qhsim.calibration.parallel import Evaluator
from qhsim.calibration.settings import load_config
from qhsim.calibration.targets import cell_key
from qhsim.argtypes import at_least
from qhsim.cli import Parser, run_script

COLUMNS = {"ri16": ("rd_intensity", 2016), "ri20": ("rd_intensity", 2020), "share": ("share_firms_with_rd", 2020),
           "fte16": ("rd_personnel_fte", 2016), "fte20": ("rd_personnel_fte", 2020), "hte": ("hte_count", 2020)}


def means(record: dict) -> dict[str, float]:
    return {k: float(np.mean(record["cells"][cell_key(ind, "province", y)])) for k, (ind, y) in COLUMNS.items()}


def main() -> None:
    ap = Parser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", default="11,12,13,14,15,16,17,18")
    ap.add_argument("--width", type=float, default=0.25, help="step, in posterior 5-95%% widths")
    ap.add_argument("--workers", type=at_least(1), default=2)
    a = ap.parse_args()
    cfg = load_config("full").with_(seeds=tuple(int(s) for s in a.seeds.split(",")))
    problem = prepare(cfg)
    cal = required_calibration()
    point = dict(cal.point)
    observed = {t.id: t.value for t in problem.targets}
    observed_growth = observed["rd_intensity_2020"] / observed["rd_intensity_2016"]
    jobs, labels = [(0, point, {})], ["point"]
    for p in problem.params:
        if p.integer:
            continue
        width = a.width * (cal.intervals[p.name]["p95"] - cal.intervals[p.name]["p05"])
        for sign in (-1, 1):
            value = min(max(point[p.name] + sign * width, p.low), p.high)
            jobs.append((len(jobs), {**point, p.name: value}, {}))
            labels.append(f"{p.name} {value:.4g}")
    with Evaluator(problem.spec, cfg.seeds, workers=a.workers, progress=False) as ev:
        records = ev.evaluate(jobs, desc="scan")
    base = means(records[0])
    print(f"shipped point, seeds {a.seeds}: R&D intensity 2016 {base['ri16']:.3f}, 2020 {base['ri20']:.3f}, growth "
          f"{base['ri20'] / base['ri16']:.3f} (yearbook {observed_growth:.3f}); share {base['share']:.1f}%, FTE "
          f"{base['fte16']:.0f} -> {base['fte20']:.0f}, HTE {base['hte']:.0f}")
    print(f"{'parameter and value':40s} {'RI 2016':>8s} {'RI 2020':>8s} {'growth':>7s} {'share':>7s} {'FTE 2016':>9s} "
          f"{'FTE 2020':>9s} {'HTE':>7s}")
    for label, record in zip(labels[1:], records[1:]):
        m = means(record)
        pct = {k: 100 * (m[k] / base[k] - 1) for k in m}
        print(f"{label:40s} {pct['ri16']:+7.1f}% {pct['ri20']:+7.1f}% {m['ri20'] / m['ri16']:7.3f} "
              f"{pct['share']:+6.1f}% {pct['fte16']:+8.1f}% {pct['fte20']:+8.1f}% {pct['hte']:+6.1f}%")


if __name__ == "__main__":
    run_script(main)
