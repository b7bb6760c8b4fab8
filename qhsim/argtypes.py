"""Command-line argument types shared by the ``qhsim`` commands: one-line messages with the allowed range."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def at_least(low: int) -> Callable[[str], int]:
    """A whole number >= ``low``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text}: expected a whole number >= {low}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{text}: allowed range [{low}, ...)")
        return value

    return parse


def scale(text: str) -> float:
    """The share of firms simulated, in (0, 1]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text}: expected a number in (0, 1]") from None
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text}: allowed range (0, 1]")
    return value


def seed_list(text: str) -> tuple[int, ...]:
    try:
        seeds = tuple(int(s) for s in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text}: expected comma-separated whole numbers, e.g. 1,2,3") from None
    if not seeds or any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"{text}: expected distinct non-negative seeds")
    return seeds


def whole_number_in(lo: int, hi: int, noun: str) -> Callable[[str], int]:
    """A whole number in [``lo``, ``hi``]; ``noun`` names it in the message on a word ("a year")."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text}: expected {noun} {lo}-{hi}") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{text}: allowed range [{lo}, {hi}]")
        return value

    return parse


YEAR_LIMITS = (2016, 2060)  # the schema's range for ``run.end_year``
year = whole_number_in(*YEAR_LIMITS, "a year")  # a simulated year
PORT_LIMITS = (1, 65535)
port = whole_number_in(*PORT_LIMITS, "a port number")  # ``qhsim dashboard --port`` (99999 ended in a traceback)


def executor_options(p: argparse.ArgumentParser) -> None:
    """--workers, --executor and --scheduler (read back with ``executor_of``)."""
    p.add_argument("--workers", type=at_least(1), default=1, help="worker processes (default: 1; results do not depend on it)")
    p.add_argument("--executor", choices=("local", "dask"), default="local",
                   help="local process pool (default) or a Dask LocalCluster")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on an existing Dask cluster")
