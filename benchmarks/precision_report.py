"""Precision of policy comparisons and scale fidelity 政策比较精度与规模保真度 (issue #8 item 3).

    .venv/bin/python benchmarks/precision_report.py [--seeds 10] [--scale 1.0] [--workers 2] [--out FILE.md]

1. For each shipped variant (scenarios/*.toml except the baseline): business R&D per public yuan (extra business
   R&D per extra yuan of public cost, cumulated from the first year the runs differ to the end: the one definition,
   ``qhsim.experiments.comparison.rd_per_yuan``, that ``qhsim compare`` uses) against the baseline under common
   random numbers, for each of ``--seeds`` dynamics seeds at ``--scale`` (the default comparison scale is the scenario's,
   1.0), and its coefficient of variation across seeds (target ≤ 10%); the same for total R&D per public yuan
   (business + universities' and institutes' R&D: talent grants, technology transfer and vouchers act there); then
   whether that spread reorders the designs (pairs of variants whose order differs from the order of their means
   in some seeds).
2. Scale fidelity: the seed mean of the nine 2020 plan indicators at scale ``--small`` (0.25) against the mean at
   ``--scale`` in 2020, 2025 and 2035; faithful when within 2 standard errors (of the difference; the table also
   shows the stricter ratio to the full-scale standard error alone). Each seed draws its own 2015 population
   (``--fixed-population`` keeps the default one: then the check measures the luck of one quarter-population).

Prints both tables; ``--out`` also writes them as Markdown. Runs ~ (variants + 1) x seeds full runs on the
experiments engine (``--workers`` processes; the numbers do not depend on it): use ``nice`` on a shared machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qhsim.precision import leverage_spread, rank_stability, scale_fidelity  # noqa: E402

CV_TARGET = 0.10


def spread_table(spread, prefix: str, *extra: tuple[str, str]) -> list[str]:
    """Markdown rows of ``leverage_spread``'s mean, sd, CV, min, max (columns ``prefix`` + name) per variant, with
    the CV target and the ``extra`` (heading, column) means in 亿元."""
    lines = ["| variant | mean | sd | CV | min | max | CV ≤ 10% | " + " | ".join(h for h, _ in extra) + " |",
             "|---" * (7 + len(extra)) + "|"]
    for _, r in spread.iterrows():
        mean, sd, cv, lo, hi = (r[prefix + k] for k in ("mean", "sd", "cv", "min", "max"))
        lines.append(f"| {r.variant} | {mean:.3f} | {sd:.3f} | {100 * cv:.1f}% | {lo:.3f} | {hi:.3f} | "
                     f"{'yes' if abs(cv) <= CV_TARGET else 'NO'} | " + " | ".join(f"{r[c]:+.2f}" for _, c in extra) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10, help="number of dynamics seeds (1..N)")
    ap.add_argument("--scale", type=float, default=1.0, help="comparison scale (default 1.0, the scenarios')")
    ap.add_argument("--small", type=float, default=0.25, help="reduced scale checked for fidelity")
    ap.add_argument("--end-year", type=int, default=2035)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--skip-fidelity", action="store_true")
    ap.add_argument("--skip-leverage", action="store_true")
    ap.add_argument("--fixed-population", action="store_true", help="fidelity on the one default population")
    ap.add_argument("--out", type=Path, help="also write the tables as Markdown here")
    args = ap.parse_args(argv)
    seeds = list(range(1, args.seeds + 1))
    base = ROOT / "scenarios" / "baseline.toml"
    variants = sorted(p for p in (ROOT / "scenarios").glob("*.toml") if p.name != "baseline.toml")
    sections = [f"# Precision report ({args.seeds} seeds {seeds[0]}..{seeds[-1]}, fixed 2015 population)\n"]

    if not args.skip_leverage:
        started = time.perf_counter()
        spread = leverage_spread(base, variants, seeds, args.scale, args.end_year, args.workers)
        lines = [f"## Leverage across seeds at scale {args.scale:g} (yuan of business R&D per yuan of public cost)",
                 "", *spread_table(spread, "", ("extra R&D 亿元", "extra_rd"),
                                   ("extra public cost 亿元", "extra_cost")),
                 "", f"### Total R&D per public yuan (business + universities' and institutes' R&D, what the R&D "
                 "intensity indicator counts)", "",
                 *spread_table(spread, "total_", ("extra public R&D 亿元", "extra_public_rd"))]
        pairs, whole = rank_stability(spread)
        lines += ["", f"### Does seed noise reorder the designs? (ranking by mean leverage; {len(seeds)} seeds)", "",
                  f"The whole ranking of the {len(spread)} variants equals the ranking of their means in "
                  f"{100 * whole:.0f}% of the seeds."]
        if len(pairs):
            lines += ["", "| higher mean | lower mean | means | seeds in the other order |", "|---|---|---|---|"]
            lines += [f"| {r.higher} | {r.lower} | {r.mean_higher:.3f} vs {r.mean_lower:.3f} | {r.seeds} of {len(seeds)} |"
                      for _, r in pairs.iterrows()]
        else:
            lines.append("No pair of variants changes order in any seed.")
        lines.append(f"\n({time.perf_counter() - started:.0f} s, {args.workers} worker(s))\n")
        sections.append("\n".join(lines))
        print(sections[-1], flush=True)

    if not args.skip_fidelity:
        started = time.perf_counter()
        fid = scale_fidelity(base, seeds, small=args.small, large=args.scale, workers=args.workers,
                             vary_population=not args.fixed_population)
        pops = "one fixed 2015 population" if args.fixed_population else "each seed with its own 2015 population"
        lines = [f"## Scale fidelity: seed mean at scale {args.small:g} vs {args.scale:g} ({pops})", "",
                 "| indicator | year | mean small | se small | mean full | se full | diff % | z (diff SE) | "
                 "z (full SE) | within 2 SE |", "|---|---|---|---|---|---|---|---|---|---|"]
        for _, r in fid.iterrows():
            lines.append(f"| {r.indicator} | {r.year} | {r.mean_small:.4g} | {r.se_small:.3g} | {r.mean_large:.4g} | "
                         f"{r.se_large:.3g} | {r.diff_pct:+.1f} | {r.z:+.2f} | {r.z_large:+.2f} | "
                         f"{'yes' if r.faithful else 'NO'} |")
        lines.append(f"\n{int(fid.faithful.sum())} of {len(fid)} cells within 2 SE "
                     f"({time.perf_counter() - started:.0f} s)\n")
        sections.append("\n".join(lines))
        print(sections[-1], flush=True)

    if args.out:
        args.out.write_text("\n".join(sections), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
