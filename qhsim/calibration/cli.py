"""Calibration commands for ``qhsim``: ``calibrate`` and ``sensitivity`` (ensemble runs: ``qhsim run --draws``).

``qhsim.cli`` calls ``add_subcommands(subparsers)``; each command sets ``func`` and returns an exit code.
Bad input raises ``InputError`` (one line; ``qhsim.cli`` prints it and exits with code 2).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from qhsim.argtypes import at_least, executor_options, scale, seed_list
from qhsim.errors import InputError


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _executor(args: argparse.Namespace):
    from qhsim.experiments.engine import Executor

    return Executor(args.workers, args.executor, args.scheduler)


def cmd_calibrate(args: argparse.Namespace) -> int:
    from qhsim.calibration.calibrate import calibrate, journal_path, levels_journal_path, refit_levels
    from qhsim.calibration.oos import oos_config
    from qhsim.calibration.settings import load_config

    cfg = load_config(args.config, args.settings)
    if args.out is not None:
        cfg = cfg.with_(out=args.out)
    if args.scale is not None:
        cfg = cfg.with_(scale=args.scale)
    if args.seeds is not None:
        cfg = cfg.with_(seeds=args.seeds)
    workers = _executor(args)
    progress = not args.quiet  # a bar on a terminal, plain lines in a log (progress_display)
    if args.start is not None and not args.refit_levels:
        raise InputError("qhsim calibrate: --start goes with --refit-levels (the level values the point's fit "
                         "starts from)")
    if args.new_targets and not args.refit_levels:
        raise InputError("qhsim calibrate: --new-targets goes with --refit-levels (a full calibration always fits "
                         "the current targets)")
    if args.refit_levels and (args.oos or args.rekey is not None):
        raise InputError(f"qhsim calibrate: --refit-levels re-fits the calibration in {cfg.out}; it cannot be "
                         f"combined with {'--oos' if args.oos else '--rekey'}")
    own = oos_config(cfg) if args.oos else cfg  # the configuration whose journal this invocation uses
    journal = levels_journal_path(own) if args.refit_levels else journal_path(own)
    if args.report_only and not journal.exists():
        raise InputError(f"{journal}: no journal to report from; run `qhsim calibrate --config {cfg.name}"
                         f"{' --oos' if args.oos else ''}{' --refit-levels' if args.refit_levels else ''}` first")
    resume = args.resume or args.report_only
    if args.rekey is not None:
        from qhsim.calibration.calibrate import rekey_journal

        rekey_journal(own, args.rekey, workers=workers, log=_log)
        return 0
    if args.oos:
        from qhsim.calibration.oos import out_of_sample

        res = out_of_sample(cfg, workers=workers, resume=resume, progress=progress, log=_log)
        print(f"out-of-sample report: {res.files['report']}")
        return 0
    if args.refit_levels:
        outcome = refit_levels(cfg, workers=workers, resume=resume, progress=progress, log=_log,
                               new_targets=args.new_targets, start_file=args.start)
    else:
        outcome = calibrate(cfg, workers=workers, resume=resume, progress=progress, log=_log)
    print(f"calibrated parameters: {outcome.files['calibrated']}")
    print(f"fit report: {outcome.files['report']}")
    print(f"journal: {journal}")
    return 0


def cmd_sensitivity(args: argparse.Namespace) -> int:
    from qhsim.calibration.sensitivity import load_spec, read_tables, run_sensitivity, write_sensitivity_report

    spec = load_spec(args.config, args.settings)
    if args.out is not None:
        spec = dataclasses.replace(spec, out=args.out)
    if args.scale is not None:
        spec = dataclasses.replace(spec, scale=args.scale)
    if args.seeds is not None:
        spec = dataclasses.replace(spec, seeds=args.seeds)
    methods = ("morris", "sobol") if args.method == "both" else (args.method,)
    if args.report_only:
        tables = read_tables(spec, methods)
    else:
        tables = run_sensitivity(spec, methods, workers=_executor(args), progress=not args.quiet, log=_log)
    files = write_sensitivity_report(spec, tables)
    print(f"sensitivity report: {files['report']}")
    return 0


def add_subcommands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``calibrate`` and ``sensitivity`` on ``qhsim``'s subparsers."""
    cal = subparsers.add_parser(
        "calibrate",
        help="estimate the free behavioural parameters on 2015-2020 (ABC-SMC) and write calibrated.toml + fit report",
        description="Settings: calibration/config.toml; targets: calibration/targets.toml; "
        "free parameters: calibration/free_parameters.toml. See calibration/README.md.",
    )
    cal.add_argument("--config", default="small", help="configuration in calibration/config.toml: small (CI smoke, "
                     "~30 s), medium or full (the shipped fit; ~1 h on 2 workers) (default: small)")
    executor_options(cal)
    cal.add_argument("--seeds", type=seed_list, help="override the config's seeds (common random numbers), e.g. 11,12")
    cal.add_argument("--resume", action="store_true", help="continue from the journal: journaled evaluations are not rerun")
    cal.add_argument("--out", type=Path, help="output folder for calibrated.toml, the report and the journal (default: the config's out)")
    cal.add_argument("--scale", type=scale, help="override the config's model scale")
    cal.add_argument("--oos", action="store_true", help="out-of-sample check: refit on information up to 2018, predict 2019 and 2020")
    cal.add_argument("--report-only", action="store_true", help="rebuild calibrated.toml and the report from the journal (runs only what is missing)")
    cal.add_argument("--rekey", type=at_least(1), metavar="N",
                     help="carry the journal (with --oos: the out-of-sample one) over to changed model code: re-run N "
                          "random evaluations and, if all are bit-identical, accept the new model fingerprint")
    cal.add_argument("--refit-levels", action="store_true",
                     help="keep the structural posterior of the calibration in the output folder and re-fit only the "
                          "level parameters (point and ensemble) on the current model code: no ABC-SMC; for a model "
                          "change that moves levels, not mechanisms (calibration/README.md)")
    cal.add_argument("--new-targets", action="store_true",
                     help="with --refit-levels: the targets changed since that calibration (a target its level "
                          "parameters answer was added); the structural posterior stays the one made against the old "
                          "targets, and calibrated.toml and the fit report say so")
    cal.add_argument("--start", type=Path, metavar="FILE.toml",
                     help="with --refit-levels: start the point's level fit from the values of FILE ([point] of a "
                          "calibrated.toml, or name = value lines) instead of the carried point's, the ridge pulling "
                          "towards them")
    cal.add_argument("--settings", type=Path, help=argparse.SUPPRESS)
    cal.add_argument("--quiet", action="store_true", help="no progress bar (default: a bar on a terminal)")
    cal.set_defaults(func=cmd_calibrate, resumable=True)

    sen = subparsers.add_parser(
        "sensitivity",
        help="Morris screening and Sobol indices (SALib) on 2025 R&D intensity, HTE count and R&D personnel",
        description="Factors, outputs, sample sizes, the base point (calibrated or data) and the ranges (prior or "
        "posterior 5-95%) per method: calibration/sensitivity.toml. See calibration/README.md.",
    )
    sen.add_argument("--config", default="small", help="configuration in calibration/sensitivity.toml: small (CI "
                     "smoke), medium or full (the shipped Sobol design) (default: small)")
    sen.add_argument("--method", choices=("morris", "sobol", "both"), default="both",
                     help="morris (screening), sobol (variance indices) or both (default: both)")
    executor_options(sen)
    sen.add_argument("--scale", type=scale, help="override the config's model scale")
    sen.add_argument("--seeds", type=seed_list, help="override the config's seeds, e.g. 11,12")
    sen.add_argument("--out", type=Path, help="output folder (default: the config's out)")
    sen.add_argument("--report-only", action="store_true",
                     help="redraw the charts and the report from the tables stored in the output folder (no runs)")
    sen.add_argument("--settings", type=Path, help=argparse.SUPPRESS)
    sen.add_argument("--quiet", action="store_true", help="no progress bar (default: a bar on a terminal)")
    sen.set_defaults(func=cmd_sensitivity)
