"""Levers and sampling designs 政策杠杆与抽样设计 of an experiment file (``experiments/*.toml``).

A lever is what a sweep varies. Each ``[lever.NAME]`` table has ``path`` (one scenario key path) or
``paths`` (a tied group: several paths moving together, e.g. the three super-deduction rates), optional
``from_year`` (default: the file's), and either

- ``values``: the levels — numbers, strings (e.g. ``"lottery"`` for a selection rule) or year tables
  (``{ 2026 = 15000, 2030 = 30000 }``: a schedule replacing the base's from its first year); or
- ``range = [low, high]``: numbers, for Latin hypercube and Sobol designs.

Designs (``design = ...``): ``"factorial"`` (every combination of the levers' values, the last lever varying
fastest), ``"lhs"`` (Latin hypercube, ``samples`` points, ``scipy.stats.qmc``) and ``"sobol"`` (scrambled
Sobol' sequence, ``samples`` a power of two). In LHS/Sobol designs a lever with ``values`` is sampled as a
category (each level equally likely), a lever with ``range`` uniformly on it; integers are rounded by the
scenario schema's integer fields. ``sample_seed`` fixes the sample.
"""

from __future__ import annotations

import itertools
import json
import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from qhsim.config.instruments import catalogue
from qhsim.experiments.spec import Override
from qhsim.output.numbers import significant
from qhsim.output.tidy import lever_text

DESIGNS = ("factorial", "lhs", "sobol")
SHOWN_DIGITS = 3  # significant digits of a sampled lever value in the tables (not money: whole 万元)


def lever_unit(path: str) -> str | None:
    """The unit of the instrument at ``path`` (``policy.<section>.<name>``) in the lever catalogue, e.g. "万元/年"."""
    parts = path.split(".")
    if len(parts) != 3:
        return None
    return catalogue()["levers"].get(parts[1], {}).get(parts[2], {}).get("unit")


@dataclass(frozen=True)
class Lever:
    name: str
    paths: tuple[str, ...]
    from_year: int
    values: tuple[Any, ...] = ()  # levels (numbers, strings, or {year: value} tables)
    low: float | None = None
    high: float | None = None

    @property
    def kind(self) -> str:
        if self.values:
            first = self.values[0]
            return "schedule" if isinstance(first, Mapping) else "string" if isinstance(first, str) else "number"
        return "number"

    def overrides(self, value: Any) -> tuple[Override, ...]:
        """The scenario overrides of this lever at ``value`` (the same value on every tied path)."""
        if isinstance(value, Mapping):
            value = {int(y): v for y, v in value.items()}
            first = min(value)
            return tuple(Override(p, first, value) for p in self.paths)
        return tuple(Override(p, self.from_year, value) for p in self.paths)

    def column(self, value: Any) -> Any:
        """How the value is stored in the run files and the manifest: numbers as numbers, strings as is, schedules as
        JSON (``qhsim.output.tidy.lever_text`` writes it for people)."""
        if isinstance(value, Mapping):
            return json.dumps({str(y): v for y, v in sorted((int(y), v) for y, v in value.items())})
        return value

    def shown(self, value: Any) -> str:
        """``value`` as the sweep's tables show it (display only: the runs, run files and summary.csv keep it exact):
        a value sampled from a ``range`` in whole 万元 for money (the catalogue's unit, ``qhsim.config.instruments``),
        else to 3 significant digits (2,790 and 1.21, not 2,790.33 and 1.21425); a listed value as written
        (``lever_text``)."""
        if self.low is None or isinstance(value, bool) or not isinstance(value, numbers.Real):
            return lever_text(value)
        unit = lever_unit(self.paths[0]) or ""
        return f"{round(value):,}" if "万元" in unit else significant(value, SHOWN_DIGITS, signed=False)

    def from_unit(self, u: float) -> Any:
        """A sampled value for ``u`` in [0, 1): a level (categorical) or a point of the range."""
        if self.values:
            return self.values[min(int(u * len(self.values)), len(self.values) - 1)]
        return float(self.low + u * (self.high - self.low))


def factorial(levers: Sequence[Lever]) -> list[dict[str, Any]]:
    """Every combination of the levers' values, in file order (the last lever varies fastest)."""
    return [dict(zip((lv.name for lv in levers), combo)) for combo in itertools.product(*(lv.values for lv in levers))]


def sample_unit(design: str, n_levers: int, samples: int, seed: int) -> np.ndarray:
    """``samples`` x ``n_levers`` points in [0, 1)^d from a Latin hypercube or a scrambled Sobol' sequence."""
    from scipy.stats import qmc

    if design == "lhs":
        return qmc.LatinHypercube(d=n_levers, seed=seed).random(samples)
    m = int(math.log2(samples))
    return qmc.Sobol(d=n_levers, scramble=True, seed=seed).random_base2(m)


def points(levers: Sequence[Lever], design: str, samples: int = 0, seed: int = 0) -> list[dict[str, Any]]:
    """The lever settings of every design point."""
    if not levers:
        return [{}]
    if design == "factorial":
        return factorial(levers)
    unit = sample_unit(design, len(levers), samples, seed)
    return [{lv.name: lv.from_unit(float(u)) for lv, u in zip(levers, row)} for row in unit]
