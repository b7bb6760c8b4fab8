"""Prefecture fidelity 地区保真度 (issue #8 item 4): seed means of the prefecture targets and paths.

    .venv/bin/python benchmarks/prefecture_report.py [--seeds 4] [--scale 1.0] [--workers 1] [--out FILE.md]

Runs the baseline for dynamics seeds 1..N on the default (fixed) 2015 population (``--vary-population`` draws
one per seed) and prints, as Markdown:
1. every prefecture target of calibration/targets.toml (Haidong and Haixi 2020) against the seed mean ± sd,
   with "within" = |mean / observed - 1| <= tolerance;
2. Haidong's and Haixi's own plan targets (qhsim/data/targets.toml: Haidong 2025, Haixi 2027) against the seed
   mean path, and their paths 2015-2035, seed means;
3. the nine province plan indicators 2020 (seed mean) against calibration/targets.toml, so that a structural
   change to the prefectures can be read for its province-level effect.
Use ``nice`` on a shared machine; each full-scale run takes ~10 s.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qhsim.calibration.targets import load_targets  # noqa: E402
from qhsim.runner import run  # noqa: E402
from qhsim.targets import achieved, load_targets as plan_targets, target_met  # noqa: E402

REGIONS = ("haidong", "haixi")
YEARS = (2015, 2020, 2025, 2027, 2035)
PATH_COLUMNS = ("rd_intensity", "business_rd", "public_rd", "hte_count", "tech_based_enterprises",
                "tech_firms_three_types", "platforms", "valid_invention_patents", "patents_per_10k",
                "share_firms_with_rd", "st_talent", "tech_contract_turnover", "science_literacy", "enterprises")


def _one(args: tuple[int, float, int | None]) -> pd.DataFrame:
    seed, scale, population_seed = args
    frame = run(ROOT / "scenarios" / "baseline.toml", seed=seed, scale=scale, end_year=2035,
                population_seed=population_seed).indicators
    return frame.assign(seed=seed)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--vary-population", action="store_true", help="each seed also draws its own 2015 population")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    seeds = list(range(1, args.seeds + 1))
    jobs = [(s, args.scale, s if args.vary_population else None) for s in seeds]
    started = time.perf_counter()
    if args.workers > 1:
        with ProcessPoolExecutor(args.workers) as pool:
            frames = list(pool.map(_one, jobs))
    else:
        frames = [_one(j) for j in jobs]
    rows = pd.concat(frames, ignore_index=True)
    stats = rows.groupby(["region", "year"]).agg(["mean", "std"])
    pop = "one 2015 population per seed" if args.vary_population else "the default 2015 population"
    out = [f"# Prefecture report: seeds {seeds[0]}..{seeds[-1]}, scale {args.scale:g}, {pop}\n"]

    targets = load_targets(ROOT / "calibration" / "targets.toml")
    out += ["## Prefecture targets (calibration/targets.toml)", "",
            "| target | observed | tolerance | seed mean ± sd | rel. error | within |", "|---|---|---|---|---|---|"]
    for t in targets:
        if t.region == "province" and not t.group.startswith("plan"):
            continue
        if t.region != "province":
            m, s = stats.loc[(t.region, t.years[0]), (t.indicator, "mean")], stats.loc[(t.region, t.years[0]), (t.indicator, "std")]
            err = m / t.value - 1
            out.append(f"| {t.id} | {t.value:g} | ±{t.tolerance:.0%} | {m:.3g} ± {s:.2g} | {err:+.1%} | "
                       f"{'yes' if abs(err) <= t.tolerance else 'NO'} |")
    out += ["", "## Province plan indicators 2020", "", "| indicator | observed | seed mean ± sd | rel. error |",
            "|---|---|---|---|"]
    for t in targets:
        if t.group == "plan_2020":
            m, s = stats.loc[("province", 2020), (t.indicator, "mean")], stats.loc[("province", 2020), (t.indicator, "std")]
            out.append(f"| {t.indicator} | {t.value:g} | {m:.3g} ± {s:.2g} | {m / t.value - 1:+.1%} |")
    means = rows.groupby(["region", "year"]).mean(numeric_only=True)
    out += ["", "## Prefecture plan targets (qhsim/data/targets.toml) against the seed-mean path", "",
            "| region | indicator | target | kind | year | seed mean achieved | met |", "|---|---|---|---|---|---|---|"]
    for t in plan_targets().itertuples():
        if t.region in REGIONS:
            path = means.loc[t.region][t.indicator]
            got, met = achieved(path, t), target_met(path, t)
            shown = f"{100 * got:+.1f}%/yr" if t.kind == "growth" else f"{got:.3g}"
            goal = f"{100 * t.value:+.1f}%/yr" if t.kind == "growth" else f"{t.value:g}"
            out.append(f"| {t.region} | {t.indicator} | {goal} | {t.kind} | {t.year} | {shown} | "
                       f"{'yes' if met else 'no'} |")
    for region in REGIONS:
        out += ["", f"## {region}: seed means by year", "", "| indicator | " + " | ".join(map(str, YEARS)) + " |",
                "|---|" + "---|" * len(YEARS)]
        for col in PATH_COLUMNS:
            vals = [stats.loc[(region, y), (col, "mean")] for y in YEARS]
            out.append(f"| {col} | " + " | ".join(f"{v:.3g}" for v in vals) + " |")
    out.append(f"\n({time.perf_counter() - started:.0f} s, {args.workers} worker(s))")
    text = "\n".join(out)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
