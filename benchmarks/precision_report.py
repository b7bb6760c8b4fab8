"""Precision of policy comparisons and scale fidelity 政策比较精度与规模保真度 (issue #8 item 3).

    .venv/bin/python benchmarks/precision_report.py [--seeds 10] [--scale 1.0] [--workers 2] [--out FILE.md]

1. For each shipped variant (scenarios/*.toml except the baseline): business R&D per public yuan (extra business
   R&D per extra yuan of public cost, cumulated from the first year the runs differ to the end: the one definition,
   ``qhsim.experiments.comparison.rd_per_yuan``, that ``qhsim compare`` uses) against the baseline under common
   random numbers, for each of ``--seeds`` dynamics seeds at ``--scale`` (the default comparison scale is the scenario's,
   1.0), and its coefficient of variation across seeds (target ≤ 10%); the same for total R&D per public yuan
   (business + universities' and institutes' R&D: talent grants, technology transfer and vouchers act there); where
   the spread of the extra public cost comes from (its items' sd over the seeds and shares of its variance); then
   the parts of each package 组合方案 (a variant changing two or more sections of the baseline, e.g. ex_post_subsidy:
   [policy.ex_post_subsidy] and [policy.ex_ante_grants]), each part run alone on the baseline with the same seeds,
   with its spread and the interaction (package minus the sum of the parts); then whether that spread reorders
   the designs (pairs of variants whose order differs from the order of their means in some seeds).
2. Scale fidelity: the seed mean of the nine 2020 plan indicators at scale ``--small`` (0.25) against the mean at
   ``--scale`` in 2020, 2025 and 2035; faithful when within 2 standard errors (of the difference; the table also
   shows the stricter ratio to the full-scale standard error alone). Each seed draws its own 2015 population
   (``--fixed-population`` keeps the default one: then the check measures the luck of one quarter-population).
3. The default population among others: where the one fixed 2015 population (which every run starts from and the
   calibration was fitted on) lies among the populations the synthesis draws, for the nine plan indicators at
   ``--scale``; and each variant's R&D per public yuan when each seed's variant and base start from that seed's own
   population, beside the fixed population's.

Prints the tables; ``--out`` also writes them as Markdown. Runs ~ (variants + 1 + parts) x seeds full runs on the
experiments engine (``--workers`` processes; the numbers do not depend on it): use ``nice`` on a shared machine.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qhsim import data  # noqa: E402
from qhsim.calibration.settings import calibration_in_force, model_fingerprint  # noqa: E402
from qhsim.precision import (EFFECT_YEARS, cost_item_spread, leverage_spread, package_parts,  # noqa: E402
                             plan_indicators, population_position, rank_stability, scale_fidelity)
from qhsim.argtypes import at_least, scale, year  # noqa: E402
from qhsim.cli import Parser, run_script  # noqa: E402

import numpy as np  # noqa: E402  (after qhsim: one floating-point path on every machine, qhsim/cpu.py)

CV_TARGET = 0.10


def spread_table(spread, prefix: str, *extra: tuple[str, str]) -> list[str]:
    """Markdown rows of ``leverage_spread``'s mean, sd, CV, min, max (columns ``prefix`` + name) per variant, with
    the CV target and the ``extra`` (heading, column) means in 亿元."""
    lines = ["| variant | mean | sd | CV | min | max | CV ≤ 10% | " + " | ".join(h for h, _ in extra) + " |",
             "|---" * (7 + len(extra)) + "|"]
    for _, r in spread.iterrows():
        mean, sd, cv, lo, hi = (r[prefix + k] for k in ("mean", "sd", "cv", "min", "max"))
        lines.append(f"| {r.variant} | {mean:.3f} | {sd:.3f} | {100 * cv:.1f}% | {lo:.3f} | {hi:.3f} | "
                     f"{'yes' if meets_target(cv, sd) else 'NO'} | " + " | ".join(f"{r[c]:+.2f}" for _, c in extra) + " |")
    return lines


def meets_target(cv: float, sd: float) -> bool:
    """CV ≤ 10% (an undefined CV does not); a value with no spread at all (sd 0, e.g. an instrument without effect on
    R&D) counts as precise."""
    return sd == 0 or abs(cv) <= CV_TARGET


def _pct(x: float) -> str:
    return "—" if math.isnan(x) else f"{100 * x:.1f}%"


def _spread_value(x: float) -> str:
    """An sd or standard error to 3 significant digits; 0 for rounding noise (an indicator the seeds do not move)."""
    return "0" if abs(x) < 1e-12 else f"{x:.3g}"


def _num(x: float, fmt: str = ".3f") -> str:
    return "—" if math.isnan(x) else format(x, fmt)


def part_precise(r) -> bool:
    """A part meets the target when its R&D per public yuan has CV ≤ 10%; a part that saves money (no R&D per
    extra yuan) when its extra R&D and its extra cost each have CV ≤ 10%."""
    if not math.isnan(r["mean"]):
        return meets_target(r.cv, r.sd)
    return (meets_target(r.extra_rd_cv, r.extra_rd_sd) and meets_target(r.extra_cost_cv, r.extra_cost_sd))


def parts_section(parts) -> list[str]:
    """Markdown of ``package_parts``' table: per package, its components, itself and the interaction."""
    lines = ["### Packages 组合方案: the parts of a multi-instrument design", ""]
    if parts.empty:
        return lines + ["No variant changes more than one section of the baseline."]
    lines += ["Each part is the baseline with one section of the package (the same seeds); the interaction "
              "交互作用 is the package's mean minus the sum of its parts' means. \"—\": no R&D per extra yuan (the "
              "part saves money).", "",
              "| variant | part | mean | sd | CV | extra R&D 亿元 (sd) | extra cost 亿元 (sd) | total R&D per yuan "
              "(CV) | extra public R&D 亿元 (sd) |", "|---" * 9 + "|"]
    notes = []
    for variant, rows in parts.groupby("variant", sort=False):
        for _, r in rows.iterrows():
            part = f"[{r.section}]" if r.role == "component" else "package 组合"
            lines.append(f"| {variant} | {part} | {_num(r['mean'])} | {_num(r.sd)} | {_pct(r.cv)} | "
                         f"{r.extra_rd:+.2f} ({r.extra_rd_sd:.2f}) | {r.extra_cost:+.2f} ({r.extra_cost_sd:.2f}) | "
                         f"{_num(r.total_mean)} ({_pct(r.total_cv)}) | {r.extra_public_rd:+.2f} "
                         f"({r.extra_public_rd_sd:.2f}) |")
        package = rows[rows.role == "package"].iloc[0]
        lines.append(f"| {variant} | interaction 交互 | | | | {package.interaction_rd:+.2f} | "
                     f"{package.interaction_cost:+.2f} | | {package.interaction_public_rd:+.2f} |")
        comps = rows[rows.role == "component"]
        missed = [r.section for _, r in comps.iterrows() if not part_precise(r)]
        if missed:
            notes.append(f"{variant}: part(s) {', '.join(missed)} miss CV ≤ 10%, so the package's spread is partly "
                         "its parts' own.")
        elif not part_precise(package):
            notes.append(f"{variant}: each part meets CV ≤ 10% (a part that saves money: its extra R&D and extra "
                         f"cost each), so the package's CV of {_pct(package.cv)} reflects the cancellation of precise "
                         f"parts (extra R&D {' '.join(f'{x:+.2f}' for x in comps.extra_rd)} → "
                         f"{package.extra_rd:+.2f} 亿元), not an imprecise design.")
        else:
            notes.append(f"{variant}: each part and the package meet CV ≤ 10%.")
    return lines + ["", *notes]


MINOR_MEAN, MINOR_SD = 0.01, 0.10  # ``cost_section`` folds an item whose |mean| and sd are below these shares of the
# total's into one row


def cost_section(spread) -> list[str]:
    """Markdown of ``leverage_spread``'s ``cost_items``: per variant, the mean and sd over the seeds of its extra
    public cost and of each cost item with an extra cost in some seed (largest sd first; the minor ones, |mean|
    below ``MINOR_MEAN`` of the total's and sd below ``MINOR_SD`` of the total's, summed into one last row), each
    one's share of the total's variance, and the item with the largest sd named."""
    lines = ["### Where the cost's spread comes from 公共成本离散来源", "",
             "The extra public cost (the denominator of R&D per public yuan, 亿元 over the same window) by item: mean "
             "and sd over the seeds, and each item's share of the variance of the total, cov(item, total) / "
             "var(total) (the shares add up to 100%; an item that offsets the others' swings is negative). Items "
             f"with no extra cost in any seed are omitted; those whose |mean| is below {100 * MINOR_MEAN:g}% of the "
             f"total's and sd below {100 * MINOR_SD:g}% of the total's are summed into one row (other items 其他).",
             "", "| variant | cost item 成本项目 | mean 亿元 | sd 亿元 | share of variance 方差占比 | largest sd 离散最大项 |",
             "|---|---|---|---|---|---|"]
    names = data.load("indicators")

    def item(c: str) -> str:  # its Chinese name and key (the bilingual names are in docs/indicator_reference.md)
        return f"{names[c]['zh']} `{c}`" if c in names else f"`{c}`"

    for _, r in spread.iterrows():
        per_seed = {c: np.array(v) for c, v in r.per_seed_cost_items.items() if np.any(np.array(v) != 0)}
        items = {c: r.cost_items[c] for c in per_seed}
        ranked = sorted(items, key=lambda c: -items[c]["sd"])
        top = item(ranked[0]) if ranked and items[ranked[0]]["sd"] > 0 else "—"
        minor = [c for c in ranked if abs(items[c]["mean"]) < MINOR_MEAN * abs(r.extra_cost)
                 and items[c]["sd"] < MINOR_SD * r.extra_cost_sd]
        rows = [(item(c), items[c]) for c in ranked if c not in minor]
        if minor:
            folded = cost_item_spread({"": sum(per_seed[c] for c in minor)}, np.array(r.per_seed_extra_cost))[""]
            rows.append((f"{len(minor)} other item{'s' if len(minor) > 1 else ''} 其他", folded))
        lines.append(f"| {r.variant} | total 合计 | {r.extra_cost:+.2f} | {r.extra_cost_sd:.2f} | "
                     f"{'100%' if r.extra_cost_sd > 0 else '—'} | {top} |")
        lines += [f"| | {name} | {s['mean']:+.2f} | {s['sd']:.2f} | {_pct(s['var_share'])} | |" for name, s in rows]
    return lines


def _change(x: float) -> str:
    """A paired change to 3 significant digits, signed; "≈0" below 0.0001 (never in exponent form)."""
    return "0" if x == 0 else "≈0" if abs(x) < 1e-4 else f"{x:+.3g}"


def effects_section(spread, years: tuple[int, ...]) -> list[str]:
    """Markdown of ``leverage_spread``'s ``effects``: per year, a table of each variant's mean change in each plan
    indicator with its CV across seeds, and per variant the indicators it moves with CV ≤ 10%."""
    keys = plan_indicators()
    lines = ["### What each design moves, and how precisely 各方案对规划指标的效应及其精度", "",
             "The change in each plan indicator (design − baseline, same seed; units as the indicator's, R&D intensity "
             "and shares in percentage points), mean over the seeds with its CV in brackets; \"0\": the design does "
             "not move it. A design whose R&D per public yuan is a few hundredths may still move what it aims at "
             "precisely."]
    for when in years:
        lines += ["", f"**{when}**", "", "| variant | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
        for _, r in spread.iterrows():
            cells = []
            for key in keys:
                e = r.effects.get((key, when))
                cells.append("—" if e is None else _change(e["mean"]) if e["sd"] == 0 or e["mean"] == 0
                             else f"{_change(e['mean'])} ({_pct(e['cv'])})")
            lines.append(f"| {r.variant} | " + " | ".join(cells) + " |")
    last = years[-1]
    lines += ["", f"Moved with CV ≤ 10% in {last}:", ""]
    for _, r in spread.iterrows():
        precise = [k for k in keys if (e := r.effects.get((k, last))) and e["mean"] != 0 and e["sd"] > 0
                   and abs(e["cv"]) <= CV_TARGET]
        lines.append(f"- {r.variant}: {', '.join(precise) if precise else 'none'}")
    return lines


def population_section(base: Path, variants: list[Path], seeds: list[int], args, fixed_spread) -> str:
    """Section 3: the default population's position among drawn populations, and the leverage on own populations
    (beside ``fixed_spread``, the leverage section's table, when it ran)."""
    pos = population_position(base, seeds, scale=args.scale, workers=args.workers)
    lines = [f"## The default population among others 默认人口的代表性 (scale {args.scale:g}, {len(seeds)} seeds)", "",
             "The calibration was fitted on one fixed 2015 population, which every run starts from unless "
             "`population_seed` is set. Here its seed mean (dynamics seeds 1..N) against runs that each draw their "
             "own population with their seed (population seeds 1..N): z is the difference in units of one "
             "own-population run's sd, rank the share of those runs below the fixed population's mean, population "
             "share the part of a run's variance the population draw adds.", "",
             "| indicator | year | fixed: mean | sd | own populations: mean | sd | diff % | z | rank | population share |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for _, r in pos.iterrows():
        lines.append(f"| {r.indicator} | {r.year} | {r.mean_fixed:.4g} | {_spread_value(r.sd_fixed)} | {r.mean_own:.4g} | "
                     f"{_spread_value(r.sd_own)} | {r.diff_pct:+.1f} | {r.z:+.2f} | {100 * r['rank']:.0f}% | "
                     f"{100 * r.population_share:.0f}% |")
    own = leverage_spread(base, variants, seeds, args.scale, args.end_year, args.workers, vary_population=True)
    lines += ["", "### R&D per public yuan with each seed's own population", "",
              "Each seed's variant and base start from the population that seed draws (common random numbers "
              "within the pair): the policy answer if the default population were another draw.", "",
              "| variant | fixed population: mean | CV | own populations: mean | sd | CV | CV ≤ 10% |",
              "|---|---|---|---|---|---|---|"]
    fixed = fixed_spread.set_index("variant") if fixed_spread is not None else None
    for _, r in own.iterrows():
        f = fixed.loc[r.variant] if fixed is not None else None
        lines.append(f"| {r.variant} | {_num(f['mean']) if f is not None else '—'} | "
                     f"{_pct(f['cv']) if f is not None else '—'} | {_num(r['mean'])} | {_num(r.sd)} | {_pct(r.cv)} | "
                     f"{'yes' if meets_target(r.cv, r.sd) else 'NO'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = Parser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=at_least(2), default=10, help="number of dynamics seeds (1..N)")
    ap.add_argument("--scale", type=scale, default=1.0, help="comparison scale (default 1.0, the scenarios')")
    ap.add_argument("--small", type=scale, default=0.25, help="reduced scale checked for fidelity")
    ap.add_argument("--end-year", type=year, default=2035)
    ap.add_argument("--workers", type=at_least(1), default=1)
    ap.add_argument("--skip-fidelity", action="store_true")
    ap.add_argument("--skip-leverage", action="store_true")
    ap.add_argument("--skip-population", action="store_true")
    ap.add_argument("--fixed-population", action="store_true", help="fidelity on the one default population")
    ap.add_argument("--out", type=Path, help="also write the tables as Markdown here")
    args = ap.parse_args(argv)
    seeds = list(range(1, args.seeds + 1))
    base = ROOT / "scenarios" / "baseline.toml"
    variants = sorted(p for p in (ROOT / "scenarios").glob("*.toml") if p.name != "baseline.toml")
    sections = [f"# Precision report 政策比较精度 ({args.seeds} seeds {seeds[0]}..{seeds[-1]}, fixed 2015 population)\n\n"
                f"Generated by `benchmarks/precision_report.py --seeds {args.seeds} --scale {args.scale:g}` on the model "
                f"code with fingerprint `{model_fingerprint()[:12]}` and {calibration_in_force()}. Target: a CV of R&D "
                "per public yuan across seeds of at most 10% for each shipped variant (issue #8).\n"]

    if not args.skip_leverage:
        started = time.perf_counter()
        spread, parts = package_parts(base, variants, seeds, args.scale, args.end_year, args.workers)
        lines = [f"## Leverage across seeds at scale {args.scale:g} (yuan of business R&D per yuan of public cost)",
                 "", *spread_table(spread, "", ("extra R&D 亿元", "extra_rd"),
                                   ("extra public cost 亿元", "extra_cost")),
                 "", "### Total R&D per public yuan (business + universities' and institutes' R&D, what the R&D "
                 "intensity indicator counts)", "",
                 *spread_table(spread, "total_", ("extra public R&D 亿元", "extra_public_rd")),
                 "", *cost_section(spread), "", *parts_section(parts), "", *effects_section(spread, EFFECT_YEARS)]
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
            lines.append(f"| {r.indicator} | {r.year} | {r.mean_small:.4g} | {_spread_value(r.se_small)} | {r.mean_large:.4g} | "
                         f"{_spread_value(r.se_large)} | {r.diff_pct:+.1f} | {r.z:+.2f} | {r.z_large:+.2f} | "
                         f"{'yes' if r.faithful else 'NO'} |")
        lines.append(f"\n{int(fid.faithful.sum())} of {len(fid)} cells within 2 SE "
                     f"({time.perf_counter() - started:.0f} s)\n")
        sections.append("\n".join(lines))
        print(sections[-1], flush=True)

    if not args.skip_population:
        started = time.perf_counter()
        section = population_section(base, variants, seeds, args, None if args.skip_leverage else spread)
        sections.append(f"{section}\n\n({time.perf_counter() - started:.0f} s, {args.workers} worker(s))\n")
        print(sections[-1], flush=True)

    if args.out:
        args.out.write_text("\n".join(sections), encoding="utf-8")
    return 0


if __name__ == "__main__":
    run_script(main)
