"""Command line 命令行: ``qhsim run SCENARIO``, ``qhsim dashboard``, plus the calibration commands when available.

Bad input prints one line on stderr and exits with code 2; no traceback.
"""

from __future__ import annotations

import time

IMPORTED = time.perf_counter()  # as early as possible: the printed wall time includes loading qhsim

import argparse  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import NoReturn  # noqa: E402

from qhsim import __version__  # noqa: E402
from qhsim.argtypes import at_least, scale, seed_list, year  # noqa: E402
from qhsim.errors import InputError  # noqa: E402

DEFAULT_OUT = Path("results")


def _fit(text: str) -> str:
    """``text`` wrapped to the terminal width."""
    from qhsim.output.report import terminal_width, wrap

    return "\n".join(wrap(text, terminal_width()))


def _done(out: Path, started: float, what: str) -> str:
    """The closing line: where the results are, the real wall time and what was run."""
    return "\n" + _fit(f"结果已写入 Results written to {out}  (用时 wall time {time.perf_counter() - started:.1f} s; {what})")


def cmd_run(args: argparse.Namespace) -> int:
    from qhsim.output.folders import check_out
    from qhsim.output.report import run_header, summary_report, terminal_width
    from qhsim.output.store import write_run
    from qhsim.runner import run, run_ensemble

    started = args.started
    ensemble = args.draws is not None or args.seeds is not None
    out = check_out(args.out if args.out is not None else DEFAULT_OUT / Path(args.scenario).stem,
                    "ensemble" if ensemble else "run")
    if not ensemble:
        result = run(args.scenario, seed=args.seed, scale=args.scale, end_year=args.end_year)
    else:
        result = run_ensemble(args.scenario, draws=args.draws or 1, seeds=args.seeds or (args.seed or 1,),
                              scale=args.scale, end_year=args.end_year, workers=args.workers)
    header = run_header(result, args.lang)
    print(_fit(header) + "\n")
    print(summary_report(result.indicators, lang=args.lang, wide=args.wide,
                         width=None if args.wide else terminal_width()))
    written = write_run(result, out, charts=not args.no_charts)
    print(_done(written, started, header))
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from qhsim.output.compare import write_comparison
    from qhsim.output.folders import check_out
    from qhsim.output.report import terminal_width
    from qhsim.runner import as_scenario, run

    started = args.started
    out = check_out(args.out if args.out is not None
                    else DEFAULT_OUT / f"{Path(args.variant).stem}_vs_{Path(args.base).stem}", "compare")
    as_scenario(args.variant)  # a bad variant fails before the base is simulated
    base = run(args.base, seed=args.seed, scale=args.scale, end_year=args.end_year)
    variant = run(args.variant, seed=base.seed, scale=args.scale, end_year=args.end_year)
    print(write_comparison(base, variant, out, charts=not args.no_charts, wide=args.wide,
                           width=None if args.wide else terminal_width(), lang=args.lang))
    scale = base.scenario["run"]["scale"]
    print(_done(out, started, f"scale {scale:g}, seed {base.seed} (both scenarios)"))
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from qhsim.output.folders import check_out
    from qhsim.output.report import terminal_width
    from qhsim.sweep import load_experiment, write_sweep

    started = args.started
    out = check_out(args.out if args.out is not None else DEFAULT_OUT / Path(args.experiment).stem, "sweep")
    exp, _ = load_experiment(args.experiment)
    print(write_sweep(args.experiment, out, workers=args.workers, width=terminal_width()))
    print(_done(out, started, f"scale {exp.scale:g}, seeds {', '.join(map(str, exp.seeds))}"))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from qhsim.output.export import export

    started = args.started
    written = export(args.folder, args.to, args.out, charts=not args.no_charts)
    print(f"已导出 Exported {written}  (用时 wall time {time.perf_counter() - started:.1f} s)")
    return 0


def _run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=at_least(0), help="random seed (default: the scenario's)")
    p.add_argument("--out", type=Path, help=f"output directory (default: under {DEFAULT_OUT}/)")
    p.add_argument("--scale", type=scale, help="share of firms simulated, (0, 1] (default: the scenario's)")
    p.add_argument("--end-year", type=year, help="last simulated year, 2016-2060 (default: the scenario's)")
    _display_options(p)


def _display_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-charts", action="store_true", help="skip the PNG charts (faster; the reports keep their tables)")
    p.add_argument("--wide", action="store_true", help="print every column (default: a compact table fitted to the terminal)")
    p.add_argument("--lang", choices=("both", "zh", "en"), default="both", help="language of the printed table (default: both)")


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``qhsim run: error: ... (see qhsim run --help)``), exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="qhsim", description="青海区域创新体系仿真 Qinghai regional innovation system simulation"
    )
    parser.add_argument("--version", action="version", version=f"qhsim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run_p = sub.add_parser("run", help="simulate a scenario and write its indicators, charts and manifest")
    run_p.add_argument("scenario", help="scenario file, e.g. scenarios/baseline.toml")
    _run_options(run_p)
    run_p.add_argument("--draws", type=at_least(1),
                       help="run this many parameter sets drawn from calibration/calibrated.toml (median, 90%% band, P(target met))")
    run_p.add_argument("--seeds", type=seed_list, help="comma-separated seeds for each parameter set, e.g. 1,2,3")
    run_p.add_argument("--workers", type=at_least(1), default=1, help="worker processes for --draws/--seeds (results do not depend on it)")
    run_p.set_defaults(func=cmd_run)

    cmp_p = sub.add_parser("compare", help="run a variant and its base with the same seed and show the difference")
    cmp_p.add_argument("base", help="base scenario, e.g. scenarios/baseline.toml")
    cmp_p.add_argument("variant", help="variant scenario, e.g. scenarios/super_deduction_120.toml")
    _run_options(cmp_p)
    cmp_p.set_defaults(func=cmd_compare)

    sw_p = sub.add_parser("sweep", help="run a scenario over a grid of policy values x seeds (experiments/*.toml)")
    sw_p.add_argument("experiment", help="experiment file, e.g. experiments/grant_budget_vs_super_deduction.toml")
    sw_p.add_argument("--workers", type=at_least(1), default=1, help="worker processes (results do not depend on it)")
    sw_p.add_argument("--out", type=Path, help=f"output directory (default: {DEFAULT_OUT}/<experiment>)")
    sw_p.set_defaults(func=cmd_sweep)

    ex_p = sub.add_parser("export", help="write a results folder (run, ensemble, compare, sweep) as xlsx, html, csv or parquet")
    ex_p.add_argument("folder", type=Path, help="a results folder, e.g. results/baseline")
    ex_p.add_argument("--to", required=True, choices=("xlsx", "html", "csv", "parquet"),
                      help="xlsx: workbook; html: self-contained report; csv/parquet: the tidy long table")
    ex_p.add_argument("--out", type=Path, help="file to write (default: report.xlsx, report.html, indicators_long.csv "
                      "or indicators_long.parquet in the folder)")
    ex_p.add_argument("--no-charts", action="store_true", help="html without charts (faster)")
    ex_p.set_defaults(func=cmd_export)

    from qhsim.dashboard.server import add_subcommand as add_dashboard

    add_dashboard(sub)

    try:
        from qhsim.calibration.cli import add_subcommands
    except ImportError:
        pass
    else:
        add_subcommands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``qhsim`` with ``argv`` (default: the command line, timed from when qhsim was loaded)."""
    started = IMPORTED if argv is None else time.perf_counter()
    parser = build_parser()
    args = parser.parse_args(argv)
    args.started = started
    try:
        return args.func(args)
    except InputError as exc:
        print(f"qhsim: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("qhsim: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
