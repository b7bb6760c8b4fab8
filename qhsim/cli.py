"""Command line 命令行: ``qhsim run SCENARIO``, ``qhsim dashboard``, plus the calibration commands when available.

Bad input prints one line on stderr and exits with code 2; no traceback.
"""

from __future__ import annotations

import time

IMPORTED = time.perf_counter()  # as early as possible: the printed wall time includes loading qhsim

import argparse  # noqa: E402
import contextlib  # noqa: E402
import io  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import NoReturn  # noqa: E402

from qhsim import __version__, data  # noqa: E402
from qhsim.argtypes import at_least, executor_options, scale, seed_list, year  # noqa: E402
from qhsim.errors import InputError, warn  # noqa: E402

DEFAULT_OUT = Path("results")
SHIPPED_DRAWS = 80  # parameter sets in the shipped calibration/calibrated.toml (its [ensemble]; tests check it)


def _fit(text: str) -> str:
    """``text`` wrapped to the terminal width."""
    from qhsim.output.report import terminal_width, wrap

    return "\n".join(wrap(text, terminal_width()))


def _done(out: Path, started: float, what: str, lang: str = "both") -> str:
    """The closing line: where the results are, the real wall time and what was run, in ``lang`` ("both", "zh" or
    "en": a command's --lang; bilingual for a command without one)."""
    seconds = time.perf_counter() - started
    text = {"zh": f"结果已写入 {out}  (用时 {seconds:.1f} 秒; {what})",
            "en": f"Results written to {out}  (wall time {seconds:.1f} s; {what})"}.get(
        lang, f"结果已写入 Results written to {out}  (用时 wall time {seconds:.1f} s; {what})")
    return "\n" + _fit(text)


def cmd_run(args: argparse.Namespace) -> int:
    from qhsim.calibrated import calibration_file
    from qhsim.config import load_scenario
    from qhsim.output.folders import check_out
    from qhsim.output.report import run_draws_line, run_header, run_scale, summary_report, terminal_width
    from qhsim.output.store import write_run
    from qhsim.experiments.ensemble import run_ensemble
    from qhsim.runner import run

    started = args.started
    ensemble = args.draws is not None or args.seeds is not None
    if args.seed is not None and args.seeds is not None:
        raise InputError(f"--seed {args.seed} and --seeds {','.join(map(str, args.seeds))}: give one of them (--seed "
                         "for one seed, --seeds for several)")
    if args.population_seed is not None and ensemble:
        raise InputError(f"--population-seed {args.population_seed}: applies to a single run, not to --draws/--seeds "
                         "(an ensemble starts from the scenario's population); drop one of them")
    calibration_file()  # a QHSIM_CALIBRATED naming no file is the one line, before any warning about the scenario
    scenario = load_scenario(args.scenario, args.end_year)  # a bad scenario is named before its results folder is checked
    out = check_out(args.out if args.out is not None else DEFAULT_OUT / Path(args.scenario).stem,
                    "ensemble" if ensemble else "run")
    if not ensemble:
        result = run(scenario, seed=args.seed, scale=args.scale, end_year=args.end_year,
                     population_seed=args.population_seed)
    else:
        seeds = args.seeds or (scenario.run.seed if args.seed is None else args.seed,)  # --draws alone: the scenario's
        result = run_ensemble(scenario, draws=args.draws, seeds=seeds,
                              scale=args.scale, end_year=args.end_year, workers=args.workers,
                              executor=args.executor, scheduler=args.scheduler)
    header = run_header(result, args.lang)
    print(_fit(header))
    print(run_draws_line(result, min(100, terminal_width())))
    _warn_uncalibrated_population(result.meta.get("population_seed"))
    print(summary_report(result.indicators, lang=args.lang, wide=args.wide,
                         width=None if args.wide else terminal_width(), scale=run_scale(result)))
    written = write_run(result, out, charts=not args.no_charts)
    print(_done(written, started, header, args.lang))
    return 0


def _warn_uncalibrated_population(population_seed: int | None) -> None:
    """A run from another 2015 population than the default one, which the calibration was fitted on: its 2015 state
    matches the data as every population's does, its later levels are not calibrated (docs/ODD.md §8, doubt 5)."""
    from qhsim.calibrated import load_calibration
    from qhsim.config.schema import DEFAULT_POPULATION_SEED
    from qhsim.output.report import other_population

    if other_population(population_seed) and load_calibration() is not None:
        warn(f"population seed {population_seed}: the calibration was fitted on the default 2015 population "
             f"({DEFAULT_POPULATION_SEED}); this run's 2015 state matches the data, its later levels are not calibrated "
             "(docs/precision_report.md, 'The default population among others'): compare designs on it rather than "
             "read its levels")


def cmd_compare(args: argparse.Namespace) -> int:
    from qhsim.calibrated import calibration_file
    from qhsim.experiments.comparison import check_region, compare
    from qhsim.experiments.engine import progress_display
    from qhsim.experiments.report import write_comparison
    from qhsim.experiments.store import say_reused

    started = args.started
    region = check_region(args.region)  # before anything runs
    calibration_file()  # a QHSIM_CALIBRATED naming no file is the one line, before any warning about the scenarios
    names = "_".join(Path(v).stem for v in args.designs)
    out = args.out if args.out is not None else DEFAULT_OUT / f"compare_{Path(args.base).stem}_{names}"[:120]
    seeds = args.seeds or (1, 2, 3)
    result = compare(args.base, args.designs, seeds=seeds, draws=args.draws, scale=args.scale,
                     end_year=args.end_year, budget_neutral=args.budget_neutral, workers=args.workers,
                     executor=args.executor, scheduler=args.scheduler, out=out, rank_by=args.rank_by,
                     bar=progress_display(), reused=say_reused)
    # the store holds every region's tables; the text is the province's answer or the region's
    print(write_comparison(result, charts=not args.no_charts, region=region))
    draws = f"{args.draws} parameter draws x " if args.draws else ""
    print(_done(out, started, f"scale {result.meta['scale']:g}, {draws}seeds {', '.join(map(str, seeds))}"))
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from qhsim.experiments.comparison import check_region
    from qhsim.experiments.engine import progress_display
    from qhsim.experiments.sweep import write_sweep

    started = args.started
    if len(args.experiment) > 1:  # a shell pattern (experiments/*.toml) gives several
        raise InputError(f"{' '.join(args.experiment)}: qhsim sweep takes one experiment file (got "
                         f"{len(args.experiment)}); run it once per file, each into its own --out")
    (experiment,) = args.experiment
    region = check_region(args.region)  # before anything runs
    out = args.out if args.out is not None else DEFAULT_OUT / Path(experiment).stem
    text, sweep = write_sweep(experiment, out, workers=args.workers, seeds=args.seeds, draws=args.draws,
                              scale=args.scale, executor=args.executor, scheduler=args.scheduler,
                              bar=progress_display(), region=region)
    print(text)
    print(_done(out, started, f"scale {sweep.scale:g}, seeds {', '.join(map(str, sweep.seeds))}"))
    return 0


def cmd_discover(args: argparse.Namespace) -> int:
    from qhsim.experiments.discovery import discover, write_discovery

    result = discover(args.store, args.indicator, args.year, args.threshold, args.probability, args.region)
    print(write_discovery(result, args.store))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from qhsim.output.export import export

    started = args.started

    def say(line: str) -> None:  # each step as it starts, with the time so far: an export of a large folder takes a while
        print(f"[{time.perf_counter() - started:5.1f} s] {line}", file=sys.stderr, flush=True)

    written = export(args.folder, args.to, args.out, charts=not args.no_charts, say=say)
    print(f"已导出 Exported {written}  (用时 wall time {time.perf_counter() - started:.1f} s)")
    return 0


def _run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=at_least(0), help="random seed of the dynamics 2016+ (default: the scenario's; "
                   "with --draws, every set's one seed)")
    p.add_argument("--population-seed", type=at_least(0),
                   help="random seed of the synthetic 2015 population (default: the scenario's fixed one, 2015, "
                        "which the calibration was fitted on; another one's later levels are not calibrated)")
    p.add_argument("--out", type=Path, help=f"output folder (default: {DEFAULT_OUT}/<scenario file name without .toml>)")
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
                       help=f"run this many parameter sets drawn from calibration/calibrated.toml, 1-{SHIPPED_DRAWS} (the "
                       "sets it holds); shows the median, 90%% band and P(target met)")
    run_p.add_argument("--seeds", type=seed_list, help="comma-separated seeds for each parameter set, e.g. 1,2,3 "
                       "(without --draws: the calibrated point estimate with each seed; default with --draws: --seed, "
                       "else the scenario's seed)")
    executor_options(run_p)
    run_p.set_defaults(func=cmd_run)

    cmp_p = sub.add_parser("compare", help="compare designs with a base under common random numbers: changes with "
                           "90%% intervals, public cost, R&D per public yuan, target and ranking probabilities")
    cmp_p.add_argument("base", help="base scenario, e.g. scenarios/baseline.toml")
    cmp_p.add_argument("designs", nargs="+", help="design scenarios, e.g. scenarios/super_deduction_120.toml")
    cmp_p.add_argument("--out", type=Path, help=f"store folder (default: {DEFAULT_OUT}/compare_<base>_<designs>); "
                       "rerun to resume")
    cmp_p.add_argument("--scale", type=scale, help="share of firms simulated, (0, 1] (default: the base scenario's)")
    cmp_p.add_argument("--end-year", type=year, help="last simulated year, 2016-2060 (default: the base scenario's)")
    cmp_p.add_argument("--seeds", type=seed_list, help="comma-separated seeds (default 1,2,3)")
    cmp_p.add_argument("--draws", type=at_least(1), help="parameter sets drawn from the calibrated posterior "
                       "(default: the point estimate)")
    cmp_p.add_argument("--budget-neutral", action="store_true",
                       help="scale each design's budget levers so that its extra public cost equals the first design's")
    lower = ", ".join(k for k, spec in data.load("indicators").items() if spec.get("better") == "lower")
    cmp_p.add_argument("--rank-by", default="rd_per_yuan",
                       help="ranking metric: rd_per_yuan (default: business R&D per public yuan), total_rd_per_yuan "
                       "(business + universities' and institutes' R&D per public yuan) or an indicator key (mean "
                       f"change over the window; the largest first, the smallest for one whose fall is an improvement: "
                       f"{lower})")
    cmp_p.add_argument("--region", default="province",
                       help="print the answer for province (default) or a prefecture: "
                       f"{', '.join(data.prefecture_ids())} (its indicator changes, own targets, and the R&D per "
                       "public yuan spent there); the store holds every region's")
    cmp_p.add_argument("--no-charts", action="store_true", help="skip the cost-effectiveness chart and report charts")
    executor_options(cmp_p)
    cmp_p.set_defaults(func=cmd_compare, resumable=True)

    sw_p = sub.add_parser("sweep", help="run an experiment's design points x draws x seeds (experiments/*.toml) "
                          "into a resumable store")
    sw_p.add_argument("experiment", nargs="+", help="one experiment file, e.g. "
                      "experiments/grant_budget_vs_super_deduction.toml")
    sw_p.add_argument("--out", type=Path, help=f"store folder (default: {DEFAULT_OUT}/<experiment>); rerun to resume")
    sw_p.add_argument("--scale", type=scale, help="share of firms simulated, (0, 1] (default: the experiment's)")
    sw_p.add_argument("--seeds", type=seed_list, help="comma-separated seeds (default: the experiment's)")
    sw_p.add_argument("--draws", type=at_least(1), help="parameter sets from the calibrated posterior "
                      "(default: the experiment's, else the point estimate)")
    sw_p.add_argument("--region", default="province", help="print the summary of province (default) or a prefecture: "
                      f"{', '.join(data.prefecture_ids())} (its indicators, and the public cost and R&D per public "
                      "yuan located there); summary.csv and summary.txt stay the province's")
    executor_options(sw_p)
    sw_p.set_defaults(func=cmd_sweep, resumable=True)

    dc_p = sub.add_parser("discover", help="scenario discovery on a sweep store: PRIM boxes of lever settings "
                          "that reach a target with probability >= p")
    dc_p.add_argument("store", type=Path, help="a sweep store folder (qhsim sweep --out)")
    dc_p.add_argument("--indicator", required=True, help="indicator key, e.g. rd_intensity")
    dc_p.add_argument("--year", type=int, required=True, help="year the target applies to, e.g. 2030")
    dc_p.add_argument("--threshold", type=float, required=True, help="target: indicator >= threshold")
    dc_p.add_argument("--probability", type=float, default=0.8,
                      help="a point succeeds when P(indicator >= threshold) over draws x seeds >= this (default 0.8)")
    dc_p.add_argument("--region", default="province",
                      help=f"province (default) or a prefecture: {', '.join(data.prefecture_ids())}")
    dc_p.set_defaults(func=cmd_discover)

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
        with _ClosedPipeTolerant.on_stdout():
            return args.func(args)
    except InputError as exc:
        return _input_error("qhsim", exc)
    except KeyboardInterrupt:
        return _interrupted(args)
    except OSError as exc:
        if exc.filename is None:  # not about a file: a fault, with its traceback
            raise
        return _input_error("qhsim", InputError(_file_error(exc)))
    except Exception as exc:  # an interrupt that a library wrapped into its own error
        cause: BaseException | None = exc
        while cause is not None and not isinstance(cause, KeyboardInterrupt):
            cause = cause.__cause__ or cause.__context__
        if cause is None:
            raise
        return _interrupted(args)


class _ClosedPipeTolerant:
    """stdout that outlives the reader closing the pipe (``qhsim run ... | head``, quitting ``less``): the first
    BrokenPipeError points the descriptor at /dev/null and later output is dropped, so the command still writes its
    results and exits normally, with no traceback."""

    def __init__(self, stream) -> None:
        self._stream, self._closed = stream, False

    @classmethod
    @contextlib.contextmanager
    def on_stdout(cls):
        previous = sys.stdout
        sys.stdout = cls(previous)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stdout = previous

    def write(self, text: str) -> int:
        if not self._closed:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._close()
        return len(text)

    def flush(self) -> None:
        if not self._closed:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._close()

    def _close(self) -> None:
        self._closed = True
        try:  # what is still buffered then goes nowhere, also when the interpreter flushes at exit
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError, io.UnsupportedOperation):
            pass

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def _file_error(exc: OSError) -> str:
    """The one line for a file the operating system refused while results were written (a folder that refuses files, a
    full disk): the path as the analyst gave it (a hidden ``.<name>.tmp-<pid>`` written aside, or a file in one, is
    named by ``<name>``), and the reason. The results are written aside and renamed when complete, so no partial file
    or folder is left under that name (``qhsim.output.folders``)."""
    parts = Path(exc.filename).parts
    for i, part in enumerate(parts):
        if aside := re.fullmatch(r"\.(.+)\.(?:tmp|old)-\d+", part):
            parts = (*parts[:i], aside.group(1))
            break
    shown = Path(*parts)
    return f"{shown}: cannot write it ({(exc.strerror or str(exc)).lower()}); check the folder, or choose another --out"


def _input_error(prog: str, exc: InputError) -> int:
    print(f"{prog}: error: {exc}", file=sys.stderr)
    return exc.exit_code


def write_report(out: Path, lines: list[str], table=None) -> None:
    """A repository script's report (``benchmarks/``): the Markdown ``lines`` to ``out``, and the figures of
    ``table`` (a DataFrame) as CSV beside it (``out`` with the suffix .csv)."""
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    if table is not None:
        table.to_csv(out.with_suffix(".csv"), index=False, float_format="%.6g")


def run_script(main: Callable[[], object]) -> NoReturn:
    """The entry point of a repository script (``benchmarks/``, ``docs/``): ``main()``'s return value is the exit
    code when it is a whole number (0 otherwise: some scripts' ``main`` returns its figures); bad input
    (``InputError``) ends it as it ends the ``qhsim`` command, with one line on stderr naming the script and exit
    code 2, no traceback."""
    try:
        code = main()
    except InputError as exc:
        code = _input_error(Path(sys.argv[0]).name, exc)
    raise SystemExit(code if isinstance(code, int) else 0)


def _interrupted(args: argparse.Namespace) -> int:
    """Ctrl-C: what is kept depends on the command (``resumable``: compare, sweep and calibrate keep
    every finished run; ``run`` writes its folder whole or not at all)."""
    if getattr(args, "resumable", False):
        print("qhsim: interrupted; finished runs are kept: run the same command again to resume", file=sys.stderr)
    else:
        print("qhsim: interrupted; nothing was written (a results folder is written whole or not at all)",
              file=sys.stderr)
    return 130


if __name__ == "__main__":
    sys.exit(main())
