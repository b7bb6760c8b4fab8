"""Policy sweeps 政策扫描: an experiment file's design points x parameter draws x seeds, in a resumable store.

An experiment file (``experiments/*.toml``, format in ``experiments/README.md``) names a base scenario
(relative to the experiment file), levers (``qhsim.experiments.levers``: numbers, strings, year schedules,
tied groups), a design (factorial, Latin hypercube, Sobol), optional named designs, seeds, parameter draws,
scale and horizon. Every design point runs with every draw and seed under common random numbers, and so does
the unchanged base scenario (point 0, "base"), which the public cost and leverage columns are measured
against. Results stream into a store (``qhsim.experiments.store``); the summary (``summary.csv``) gives per
point and report year the mean, 5% and 95% over draws x seeds (each run weighing what its draw stands for,
``qhsim.stats``) of each listed indicator, of the public cost (亿元/yr) and of the cumulative extra business R&D,
and total R&D, per extra public yuan since ``from_year`` (with the runs those ratios rest on). A file whose years do
not fit (report years after ``end_year``, levers acting before ``from_year`` or never) is refused before any run.
"""

from __future__ import annotations

import difflib
import math
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from qhsim import data, stats
from qhsim.config import Scenario, interval_text, read_toml
from qhsim.errors import InputError
from qhsim.evidence import design_evidence, evidence_cell, evidence_mark, evidence_note
from qhsim.experiments.comparison import (PUBLIC_RD, RD, BudgetUse, budget_changes, budget_use,
                                         fiscal_columns, rd_per_yuan, scenario_setting, sets_instrument)
from qhsim.experiments.designs import Design, design_from_file, expand, inline_design, parameter_draws
from qhsim.experiments.engine import Engine, Progress
from qhsim.experiments.levers import DESIGNS, Lever, lever_unit, points
from qhsim.experiments.spec import Override, digest
from qhsim.experiments.store import Store, collect_runs, say_reused, write_atomic
from qhsim.config.instruments import instrument_label
from qhsim.config.schema import Run
from qhsim.config.schedule import Schedule, bounds_text
from qhsim.experiments.report import TEXT_WIDTH, budget_words
from qhsim.output.numbers import MISSING, format_fixed, format_value, significant
from qhsim.output.report import display_width, draws_line, format_table, reduced_scale_note, region_label, wrap
from qhsim.output.tables import regional_cost_note
from qhsim.output.tidy import lever_text
from qhsim.results import (PROVINCE, UNSPENT_NOTE, WIDE_MARK, ratio_unstable, ratio_wide, unspent_points_text,
                           unstable_rule, wide_note)
from qhsim.stats import WEIGHT
from qhsim.units import WAN_PER_YI  # fiscal indicators are in 万元, R&D in 亿元

MAX_RUNS = 20000
START_YEAR = Run.model_fields["start_year"].default  # a run's first year of indicators: its initial state (2015)
RESERVED = ("run_key", "design", "point", "draw", "seed", WEIGHT, "year", "region")  # label columns of a run
RATIOS = ("rd_per_yuan", "total_rd_per_yuan")  # extra business, and total, R&D per extra public yuan
Scalar = float | int | str


class LeverFile(BaseModel):
    """A ``[lever.NAME]`` table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str | None = None
    paths: list[str] | None = None
    from_year: int | None = Field(default=None, ge=2016, le=2060)
    values: list[Scalar | dict[str, Scalar]] | None = None
    range: tuple[float, float] | None = None

    @model_validator(mode="after")
    def _shape(self) -> LeverFile:
        if (self.path is None) == (self.paths is None):
            raise ValueError("give either path = \"policy.x.y\" or paths = [...] (a tied group)")
        if self.paths is not None and len(self.paths) < 2:
            raise ValueError("paths: a tied group needs at least two key paths")
        if (self.values is None) == (self.range is None):
            raise ValueError("give either values = [...] or range = [low, high]")
        if self.values is not None and not self.values:
            raise ValueError("values: give at least one value")
        if self.values is not None:
            _distinct(self.values, "value", "values: ")
        if self.range is not None and not self.range[0] < self.range[1]:
            raise ValueError(f"range = {list(self.range)}: expected [low, high] with low < high")
        for p in self.paths or [self.path]:
            if not p.startswith("policy."):
                raise ValueError(f"{p!r}: expected a policy key path such as \"policy.ex_ante_grants.budget\"")
        return self


DEFAULT_REPORT_YEARS = (2025, 2030, 2035)  # report_years when a file names none: those up to its end_year


class Experiment(BaseModel):
    """An experiment file (experiments/*.toml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = ""
    scenario: str = Field(description='the base scenario file, relative to the experiment file, e.g. '
                                      'scenario = "../scenarios/baseline.toml"')
    from_year: int = Field(ge=2016, le=2060, description="the first year the levers hold (before it: as in the base "
                                                          "scenario), e.g. from_year = 2026")
    lever: dict[str, LeverFile] = {}
    vary: dict[str, list[Scalar]] = {}  # shorthand: key path = [values] (one lever per path)
    design: str = "factorial"
    samples: int = Field(default=0, le=MAX_RUNS)  # LHS/Sobol only: at least 2 (``_levers``)
    sample_seed: int = Field(default=0, ge=0)
    designs: dict[str, dict[str, Scalar | dict[str, Scalar]]] = {}  # named inline designs: key path = value
    seeds: list[int] = Field(default=[1, 2, 3], min_length=1)
    draws: int | None = Field(default=None, ge=1, le=1000)
    scale: float = Field(default=0.25, gt=0, le=1)
    end_year: int = Field(default=2035, ge=2016, le=2060)
    report_years: list[int] = Field(default=list(DEFAULT_REPORT_YEARS), min_length=1)
    indicators: list[str] = Field(default=["rd_intensity", "business_rd", "share_firms_with_rd", "hte_count"],
                                  min_length=1)

    @field_validator("design")
    @classmethod
    def _design(cls, value: str) -> str:
        if value not in DESIGNS:
            raise ValueError(f"{value!r}: allowed {', '.join(DESIGNS)}")
        return value

    @field_validator("indicators")
    @classmethod
    def _indicators(cls, value: list[str]) -> list[str]:
        known = data.load("indicators")
        for key in value:
            if key not in known:
                raise ValueError(f"{key!r} is not an indicator (see qhsim/data/indicators.toml)")
        _distinct(value, "indicator")
        return value

    @field_validator("vary")
    @classmethod
    def _vary(cls, value: dict[str, list[Scalar]]) -> dict[str, list[Scalar]]:
        for key, values in value.items():
            _distinct(values, "value", f"{key} = ")
        return value

    @field_validator("report_years")
    @classmethod
    def _report_years(cls, value: list[int]) -> list[int]:
        _distinct(value, "year")
        return value

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, value: list[int]) -> list[int]:
        if len(set(value)) != len(value) or any(s < 0 for s in value):
            raise ValueError(f"{value}: expected distinct non-negative seeds")
        return value

    @model_validator(mode="after")
    def _levers(self) -> Experiment:
        if not (self.lever or self.vary or self.designs):
            raise ValueError("name at least one [lever.NAME], a [vary] entry or a [designs.NAME] table")
        taken = [n for n in self.lever if n in RESERVED]
        if taken:
            raise ValueError(f"[lever.{taken[0]}]: a run label has this name; allowed any name but {', '.join(RESERVED)}")
        seen: dict[str, str] = {}
        for name, lv in [*self.lever.items(), *((p, LeverFile(path=p, values=v)) for p, v in self.vary.items())]:
            for p in lv.paths or [lv.path]:
                if p in seen and seen[p] != name:
                    raise ValueError(f"{p}: set by two levers ({seen[p]}, {name}); use one lever (or a tied group)")
                seen[p] = name
        ranged = [name for name, lv in self.lever.items() if lv.range is not None]
        if self.design == "factorial" and ranged:
            low, high = self.lever[ranged[0]].range
            raise ValueError(f"lever.{ranged[0]}.range = {bounds_text(low, high)}: a lever with a range needs design = "
                             "\"lhs\" or \"sobol\" (a factorial design needs values = [...])")
        if self.design != "factorial":
            if self.samples < 2:
                raise ValueError(f"samples = {self.samples}: design = \"{self.design}\" needs samples in [2, {MAX_RUNS}]")
            if self.design == "sobol" and self.samples & (self.samples - 1):
                raise ValueError(f"samples = {self.samples}: a Sobol design needs a power of 2")
        elif self.samples:
            raise ValueError(f"samples = {self.samples}: only design = \"lhs\" or \"sobol\" takes samples (a factorial "
                             "design runs every combination of the levers' values)")
        return self

    @model_validator(mode="before")
    @classmethod
    def _default_years(cls, raw: Any) -> Any:
        """Without report_years, the default years the run reaches (its last year if none)."""
        if isinstance(raw, dict) and "report_years" not in raw and isinstance(raw.get("end_year", 2035), int):
            end = raw.get("end_year", 2035)
            raw = {**raw, "report_years": [y for y in DEFAULT_REPORT_YEARS if y <= end] or [end]}
        return raw

    @model_validator(mode="after")
    def _years(self) -> Experiment:
        """The levers act within the run (from_year up to end_year) and the report years lie in it (2015, the initial
        state, up to end_year): the summary would otherwise be empty, or every point the base."""
        if self.from_year > self.end_year:
            raise ValueError(f"from_year = {self.from_year}, end_year = {self.end_year}: the levers would never act; "
                             f"allowed from_year in [2016, {self.end_year}] (end_year), or end_year in "
                             f"[{self.from_year}, 2060]")
        outside = [y for y in self.report_years if not START_YEAR <= y <= self.end_year]
        if outside:
            raise ValueError(f"report_years = {self.report_years}: {outside[0]} is not simulated; allowed years in "
                             f"[{START_YEAR}, {self.end_year}] (end_year)")
        for name, lv in self.lever.items():
            if lv.from_year is not None and not self.from_year <= lv.from_year <= self.end_year:
                raise ValueError(f"lever.{name}.from_year = {lv.from_year}: allowed range [{self.from_year}, "
                                 f"{self.end_year}] (from_year, end_year: the summary counts cost and R&D from "
                                 "from_year on)")
        return self


def _distinct(values: list[Any], what: str, where: str = "") -> None:
    """A list of an experiment file that names each entry once (a repeated indicator broke the summary, a repeated
    lever value repeats its runs); ``where`` names the list inside the key the error is about."""
    twice = next((v for i, v in enumerate(values) if v in values[:i]), None)
    if twice is not None:
        shown = f"{{{lever_text(twice)}}}" if isinstance(twice, Mapping) else repr(twice)
        raise ValueError(f"{where}{shown} is listed twice; give each {what} once")


@dataclass
class Sweep:
    """A loaded experiment: its file, base design, levers, design points and the runs they expand to."""

    path: Path
    exp: Experiment
    base: Design
    levers: list[Lever]
    points: list[Design]  # point 0 is the base
    settings: list[dict[str, Any]]  # lever values (display form) per point
    thetas: list
    parameters: str
    seeds: tuple[int, ...]
    scale: float
    weights: np.ndarray | None = None  # what each draw stands for (``Draws.weights``); None: alike

    @cached_property
    def scenarios(self) -> list[Scenario]:
        """Each design point's scenario, validated once (point 0 the base's): the summary's budget and evidence
        columns and its text read them for every point."""
        return [design.validated() for design in self.points]

    @property
    def lever_names(self) -> list[str]:
        names = [lv.name for lv in self.levers]
        return (["design"] if self.exp.designs else []) + names

    def runs(self) -> tuple[list, list[dict[str, Any]]]:
        extra = [{**{n: s.get(n) for n in self.lever_names if n != "design"}} for s in self.settings]
        specs, labels = expand(self.points, self.thetas, self.seeds, self.scale, self.exp.end_year, extra,
                               self.weights)
        return specs, labels


RANGE_ERRORS = ("greater_than", "greater_than_equal", "less_than", "less_than_equal")
SCENARIO_TABLES = ("run", "macro", "policy", "extends")  # top-level keys of a scenario file, none an experiment's


def _error(path: Path, exc: ValidationError) -> InputError:
    """The first validation error as one line naming the file, the key and what it expects (a missing key with its
    description, an unknown key with the allowed ones) in place of pydantic's wording."""
    err = exc.errors(include_url=False)[0]
    loc = ".".join(str(p) for p in err["loc"])
    if err["type"] == "missing":
        field = Experiment.model_fields.get(loc)
        expected = f": {field.description}" if field is not None and field.description else ""
        return InputError(f"{path}: {loc} is required{expected} (experiments/README.md)")
    if err["type"] == "extra_forbidden":
        lever = err["loc"][0] == "lever"
        keys = list((LeverFile if lever else Experiment).model_fields)
        name = str(err["loc"][-1])
        if lever and name in Experiment.model_fields:  # TOML puts every key below [lever.x] into that table
            return InputError(f"{path}: {loc}: {name} is a key of the experiment, not of a lever: write it above "
                              "the first [lever.*] table (every key below a [table] heading belongs to that table)")
        near = difflib.get_close_matches(name, keys, 1)
        return InputError(f"{path}: {loc}: not a key of {'a lever' if lever else 'an experiment file'}"
                          f"{f' (did you mean {near[0]}?)' if near else ''}; allowed: {', '.join(keys)}")
    msg = err["msg"].removeprefix("Value error, ")
    if not err["loc"]:  # a check across keys (``Experiment._levers``): its message names the key itself
        return InputError(f"{path}: {msg}")
    value = err.get("input")
    shown = f" = {value!r}" if not isinstance(value, dict) else ""
    if err["type"] in RANGE_ERRORS:  # pydantic's "Input should be less than or equal to 1": the range, as [2016, 2060]
        model, name = (LeverFile, err["loc"][-1]) if err["loc"][0] == "lever" else (Experiment, err["loc"][0])
        allowed = interval_text(model.model_fields[name].metadata)
        msg = f"allowed {'range ' if allowed[:1] in '[(' else ''}{allowed}"
    elif err["type"] == "too_short":
        msg = f"allowed at least {err['ctx']['min_length']} value{'s' if err['ctx']['min_length'] > 1 else ''}"
    return InputError(f"{path}: {loc}{shown}: {msg}")


def load_sweep(path: str | Path, seeds: tuple[int, ...] | None = None, draws: int | None = None,
               scale: float | None = None) -> Sweep:
    """Validate an experiment file and every design point's scenario (command-line values override the file's).

    Bad levers are an ``InputError`` naming the file, the lever key, the value and the allowed values."""
    path = Path(path)
    raw = read_toml(path, "experiment")
    if "scenario" not in raw and any(key in raw for key in SCENARIO_TABLES):
        raise InputError(f"{path} is a scenario file, not an experiment: run it with qhsim run {path} (an experiment "
                         "file names its base scenario, scenario = \"...\", and the levers to vary; experiments/README.md)")
    try:
        exp = Experiment.model_validate(raw)
    except ValidationError as exc:
        raise _error(path, exc) from None
    try:
        base = design_from_file(path.parent / exp.scenario, "base")
    except InputError as exc:  # the scenario's own message (its file, key and range), said to come from here
        raise InputError(f"{path}: scenario = {exp.scenario!r}: {exc}") from None
    levers = [Lever(name, tuple(lv.paths or [lv.path]), lv.from_year or exp.from_year, tuple(lv.values or ()),
                    *(lv.range or (None, None))) for name, lv in exp.lever.items()]
    levers += [Lever(p, (p,), exp.from_year, tuple(values)) for p, values in exp.vary.items()]
    for lv in levers:  # before any point is drawn: a sample need not hit the values out of range
        _check_lever(lv, base, path, sampled=exp.design != "factorial")
        for value in lv.values:
            _check_first_year(exp, path, _lever_value(lv, value), value)
    named = [(None, base)]
    for name, table in exp.designs.items():
        overrides = []
        for key, value in table.items():
            if isinstance(value, dict):
                value = {int(y): v for y, v in value.items()}
                _check_first_year(exp, path, f"designs.{name}.{key}", value)
                overrides.append(Override(key, min(value), value))
            else:
                overrides.append(Override(key, exp.from_year, value))
        named.append((name, _checked(lambda: inline_design(name, base, overrides), path, f"designs.{name}")))
    if exp.designs:
        named = named[1:]
    grid = points(levers, exp.design, exp.samples, exp.sample_seed)
    designs, settings = [base], [{"design": "base"} if exp.designs else {}]
    for name, start in named:
        for i, point in enumerate(grid):
            overrides = tuple(o for lv in levers for o in lv.overrides(point[lv.name]))
            label = "_".join(filter(None, [name, f"p{i + 1}" if levers else None]))
            where = (lambda detail, point=point, n=len(designs): _lever_setting(levers, point, detail, n)) if levers \
                else f"designs.{name}"
            designs.append(_checked(lambda: inline_design(label, start, overrides), path, where))
            settings.append({**({"design": name} if exp.designs else {}),
                             **{lv.name: lv.column(point[lv.name]) for lv in levers}})
    _check_distinct(designs, settings, path)
    seeds = tuple(seeds) if seeds is not None else tuple(exp.seeds)
    draws = draws if draws is not None else exp.draws
    thetas, source, weights, *_ = parameter_draws(draws)
    n_runs = len(designs) * len(thetas) * len(seeds)
    if n_runs > MAX_RUNS:
        raise InputError(f"{path}: design points x draws x seeds = {n_runs} runs; allowed at most {MAX_RUNS}")
    return Sweep(path, exp, base, levers, designs, settings, thetas, source, seeds,
                 float(scale if scale is not None else exp.scale), weights)


def _checked(make: Callable[[], Design], path: Path, where: str | Callable[[str], str]) -> Design:
    """``make()``, its ``InputError`` restated as coming from the experiment file at ``where`` (a key, or a function
    of the error's detail naming the lever setting it is about); long floats in it to 6 significant digits."""
    try:
        return make()
    except InputError as exc:
        detail = str(exc).split(": ", 1)[-1]
        message = f"{path}: {where(detail) if callable(where) else where}: {detail}"
        raise InputError(re.sub(r"-?\d+\.\d{7,}(?:e[+-]?\d+)?", lambda m: f"{float(m.group()):.6g}", message)) from None


def _check_lever(lever: Lever, base: Design, path: Path, sampled: bool) -> None:
    """Check every value ``lever`` can take against the scenario schema (``qhsim.config.schema``: the same bounds as
    in a scenario file) before any run: both ends of a ``range`` (a sample may fall anywhere in it, and a few
    samples may miss the part out of bounds) and, in a sampled design (``sampled``), each of its ``values`` (a
    sample may not draw each); a factorial design checks its values at its design points. An ``InputError`` names
    the file, the lever's key with its range (or value) and the scenario key with its allowed range."""
    if lever.low is not None:
        where, values = f"lever.{lever.name}.range = {bounds_text(lever.low, lever.high)}", (lever.low, lever.high)
    elif sampled:
        where, values = None, lever.values
    else:
        return
    for value in values:
        _checked(lambda: inline_design(lever.name, base, lever.overrides(value)), path,
                 where or f"{_lever_value(lever, value)} (one of its values)")


def _check_first_year(exp: Experiment, path: Path, where: str, value: Any) -> None:
    """A year table (a lever's value, a named design's key) must start at ``from_year`` or later: the summary counts
    the extra cost and R&D from ``from_year``, and the years before it are the base's (their 2025 targets too). An
    earlier start is refused rather than counted from that year: the file says when the levers act."""
    if isinstance(value, Mapping) and value and (first := min(int(y) for y in value)) < exp.from_year:
        raise InputError(f"{path}: {where}: its year table starts in {first}, before from_year = {exp.from_year}; "
                         f"allowed first years [{exp.from_year}, {exp.end_year}] (the summary counts cost and R&D from "
                         f"from_year on: set from_year = {first} for levers acting from {first})")


def _check_distinct(designs: list[Design], settings: list[dict[str, Any]], path: Path) -> None:
    """No two design points (the base included) are the same run: a repeated lever value, or a sample drawing the
    same levels twice, would run each of its runs twice. One line naming both points and their settings."""
    seen: dict[str, int] = {}
    for number, design in enumerate(designs):
        key = digest([design.scenario_key, [o.plain() for o in design.overrides]])
        if key in seen:
            first, second = (f"{n} ({'; '.join(f'{k}={lever_text(v)}' for k, v in settings[n].items()) or 'base'})"
                             for n in (seen[key], number))
            raise InputError(f"{path}: design points {first} and {second} are the same run; give each lever distinct "
                             "values and each named design its own settings (a sample that draws the same levels "
                             "twice: fewer samples or more levels)")
        seen[key] = number


def _lever_value(lever: Lever, value: Any) -> str:
    """``lever.NAME = value`` as an error message writes it (``lever_text``; a year table in braces)."""
    return f"lever.{lever.name} = " + (repr(value) if isinstance(value, str) else f"{{{lever_text(value)}}}"
                                       if isinstance(value, Mapping) else lever_text(value))


def _lever_setting(levers: list[Lever], point: dict[str, Any], detail: str, number: int) -> str:
    """The setting of design point ``number`` that a scenario error is about: the levers whose key paths the error
    names (every lever when it names none), each with its value, and the range a sampled value came from."""
    named = [lv for lv in levers if any(re.search(rf"{re.escape(p)}\b", detail) for p in lv.paths)] or levers

    def setting(lv: Lever) -> str:
        text = _lever_value(lv, point[lv.name])
        return text + (f" (sampled from range = {bounds_text(lv.low, lv.high)})" if lv.low is not None else "")

    return f"{', '.join(map(setting, named))} at design point {number}"


def run_sweep(sweep: Sweep, out: Path | None = None, workers: int = 1, executor: str = "local",
              scheduler: str | None = None, bar: bool | str = False, progress: Callable[[int, int], None] | None = None,
              cancel: threading.Event | None = None,
              reused: Callable[[int, int], None] | None = None) -> tuple[pd.DataFrame, Store | None]:
    """Run every point x draw x seed (through a resumable store when ``out`` is given); return the stacked
    runs and the store. ``--out`` is checked, then the executor reached (a Dask scheduler that cannot be reached is
    refused with nothing written), then the store opened; ``reused(done, total)`` hears how many of its runs a
    reopened store already holds."""
    specs, labels = sweep.runs()
    engine = Engine(workers, executor, scheduler)
    store = None
    with engine:
        if out is not None:
            experiment = {"file": str(sweep.path), **sweep.exp.model_dump(), "seeds": list(sweep.seeds),
                          "scale": sweep.scale, "parameters": sweep.parameters, "draws": len(sweep.thetas),
                          "levers": sweep.lever_names, "points": sweep.settings}
            store = Store(out, "sweep", experiment, specs, labels, engine.fingerprint)
            store.check()
        engine.connect()
        if store is not None:
            done = store.open()
            if done and reused is not None:
                reused(done, len(specs))
        prog = Progress(0, "sweep", bar, progress)
        try:
            return collect_runs(engine, specs, labels, store, prog, cancel), store
        finally:
            prog.close()


def summarise(sweep: Sweep, runs: pd.DataFrame, region: str = PROVINCE) -> pd.DataFrame:
    """Per point and report year: mean, p05 and p95 over draws x seeds of each listed indicator, of the public
    cost (亿元/yr), of the extra business R&D per extra public yuan (``rd_per_yuan``) and of the extra total R&D
    (business + universities' and institutes', as ``comparison.leverage``'s ``total_leverage``) per extra public yuan
    (``total_rd_per_yuan``), both cumulative from ``from_year``; ``rd_per_yuan_runs``, the runs whose extra cost is
    positive (those a ratio is defined for: both ratios are left empty where it is not every run of the point, so that
    no mean over some of its runs reads as the point's); then the mean, p05 and p95 of that cumulative extra public
    cost (``extra_cost``, 亿元), the mean money moved (``gross_cost``: each instrument's cumulative extra cost without
    its sign, summed) and whether R&D per yuan is unstable (``unstable``, ``comparison.ratio_unstable``; False for
    the base, point 0, which has no ratio); where business R&D per yuan lies against the micro evidence
    (``evidence_key``, ``evidence``: ``_evidence``); last, the share of the budget it sets that the point spent from the year
    it acts to the report year (``budget_spent_share``: the lowest of ``point_budgets``; empty for a point that sets no
    budget) and whether more than ``UNSPENT_SHARE`` of it is left over (``budget_unspent``)."""
    rows = runs[runs["region"] == region].copy()
    fiscal = fiscal_columns(rows)
    rows["public_cost"] = rows[fiscal].sum(axis=1) / WAN_PER_YI
    rows = rows.sort_values(["point", "draw", "seed", "year"], kind="stable")
    after = rows["year"] >= sweep.exp.from_year
    g = rows.assign(rd=rows[RD].where(after, 0.0), public=rows[PUBLIC_RD].where(after, 0.0),
                    cost=rows["public_cost"].where(after, 0.0))
    cum = [f"cum_{c}" for c in fiscal]
    g[["cum_rd", "cum_public", "cum_cost", *cum]] = g.assign(
        **{c: g[c].where(after, 0.0) / WAN_PER_YI for c in fiscal}).groupby(
        ["point", "draw", "seed"])[["rd", "public", "cost", *fiscal]].cumsum().to_numpy()
    base = g[g["point"] == 0][["draw", "seed", "year", "cum_rd", "cum_public", "cum_cost", *cum]]
    joined = g.merge(base, on=["draw", "seed", "year"], how="left", sort=False, suffixes=("", "_base"))
    d_rd, d_cost = joined["cum_rd"] - joined["cum_rd_base"], joined["cum_cost"] - joined["cum_cost_base"]
    d_public = joined["cum_public"] - joined["cum_public_base"]
    joined["rd_per_yuan"] = rd_per_yuan(d_rd.to_numpy(), d_cost.to_numpy())
    joined["total_rd_per_yuan"] = rd_per_yuan((d_rd + d_public).to_numpy(), d_cost.to_numpy())
    joined["extra_cost"] = d_cost
    joined["gross_cost"] = sum((joined[c] - joined[f"{c}_base"]).abs() for c in cum) if cum else 0.0
    joined = joined[joined["year"].isin(sweep.exp.report_years)]
    keys = ["point", *sweep.lever_names, "year"]
    values = [*sweep.exp.indicators, "public_cost", *RATIOS]
    # weighted where the runs carry weights (--draws); the columns of the cost behind R&D per yuan after the others
    table = stats.by_group(joined, keys, [*values, "extra_cost", "gross_cost"])
    columns = [f"{v}_{s}" for s in ("mean", "p05", "p95") for v in values]
    table = table[[*columns, "extra_cost_mean", "extra_cost_p05", "extra_cost_p95", "gross_cost_mean"]].reset_index()
    counted = joined.groupby(["point", "year"])["rd_per_yuan"].agg(rd_per_yuan_runs="count", runs="size")
    table = table.merge(counted.reset_index(), on=["point", "year"], how="left", sort=False)
    some = table["rd_per_yuan_runs"] < table["runs"]  # a mean over the runs that cost more would lean upwards
    table.loc[some, [f"{v}_{s}" for v in RATIOS for s in ("mean", "p05", "p95")]] = math.nan
    at = table.columns.get_loc(f"{RATIOS[-1]}_p95") + 1
    table.insert(at, "rd_per_yuan_runs", table.pop("rd_per_yuan_runs"))
    table = table.drop(columns="runs")
    table["unstable"] = ratio_unstable(table["extra_cost_mean"], table["gross_cost_mean"], table["extra_cost_p05"],
                                       table["extra_cost_p95"])
    table.loc[table["point"] == 0, "unstable"] = False  # the base: no ratio to judge (as leverage.csv's rows without one)
    table["evidence_key"], table["evidence"] = _evidence(sweep, joined, table, fiscal)
    years = sorted({int(y) for y in table["year"]})
    uses = {(p, y): found for p in table["point"].unique() for y, found in point_budgets(sweep, runs, p, years).items()}
    table["budget_spent_share"] = [min((u.share for u in uses[p, y]), default=math.nan)
                                   for p, y in zip(table["point"], table["year"])]
    table["budget_unspent"] = [any(u.unspent for u in uses[p, y]) for p, y in zip(table["point"], table["year"])]
    return table.sort_values(["year", "point"], kind="stable").reset_index(drop=True)


def _evidence(sweep: Sweep, joined: pd.DataFrame, table: pd.DataFrame, fiscal: list[str]) -> tuple[list[str], list[str]]:
    """``evidence_key`` and ``evidence`` of each row of the summary ``table``: its business R&D per yuan (5% and 95% of
    the runs' ratios) against the micro evidence (``qhsim.evidence.evidence_mark``), judged against the range of the
    instruments the point sets (``design_evidence``: the cost columns of the ``[policy.*]`` sections it changes from
    the base, ``comparison.sets_instrument``, whose cumulative extra cost moved, as compare's leverage rows), as
    leverage.csv's totals; "" for the base, a ratio not shown (empty or ``unstable``) or no one range."""
    extra = joined[["point", "year"]].assign(**{c: joined[f"cum_{c}"] - joined[f"cum_{c}_base"] for c in fiscal})
    if WEIGHT in joined:
        extra[WEIGHT] = joined[WEIGHT]
    costs = stats.by_group(extra, ["point", "year"], fiscal, ("mean",)) if fiscal else None
    shown = sorted({0, *(int(p) for p in table["point"])})
    scenarios = {p: sweep.scenarios[p].model_dump(mode="json") for p in shown}
    instruments = {p: [c for c in fiscal if sets_instrument(scenarios, 0, p, c)] for p in shown if p > 0}
    keys, marks = [], []
    for r in table.to_dict("records"):
        point = int(r["point"])
        key = ""
        if point > 0 and not r["unstable"] and costs is not None and not pd.isna(r["rd_per_yuan_mean"]):
            cost = costs.loc[(point, r["year"])]
            material = 1e-6 * max(1.0, abs(r["extra_cost_mean"]))  # as compare lists an instrument's row
            sets = {c: cost[f"{c}_mean"] for c in instruments[point] if abs(cost[f"{c}_mean"]) > material}
            key = design_evidence(sets, r["extra_cost_mean"])
        keys.append(key)
        marks.append(evidence_mark(key, r["rd_per_yuan_p05"], r["rd_per_yuan_p95"]))
    return keys, marks


def point_budgets(sweep: Sweep, runs: pd.DataFrame, point: int, lasts: Sequence[int]) -> dict[int, list[BudgetUse]]:
    """For each year of ``lasts``: what design point ``point``'s runs (``runs``: the sweep's, every region) spend under
    each budget lever the point sets apart from the base, from the first year it differs up to that year
    (``comparison.budget_use``, as compare measures an idle budget: per region whose fund it is); none for the base, or
    before the lever acts. The point's scenario is validated and its runs picked once for all the years."""
    out: dict[int, list[BudgetUse]] = {int(last): [] for last in lasts}
    if point == 0:
        return out
    mine = sweep.scenarios[point]
    changes = budget_changes(sweep.scenarios[0], mine, sweep.exp.end_year)
    own = runs[runs["point"] == point]
    for last in out:
        for path, changed in changes.items():
            years = list(range(min(changed), last + 1))
            if years:
                out[last] += budget_use(own, mine, path, years) or []
    return out


HEAD_WIDTH = 16  # display columns a result column's header is wrapped to at most
MIN_HEAD_WIDTH = 10  # ... and at least, when the table would not fit otherwise
COST_COLUMNS = {"public_cost": ("公共成本", "public cost", "亿元/年"),  # beside the indicators: (zh, en, unit)
                "rd_per_yuan": ("企业研发/元", "business R&D per yuan", "元/元"),
                "total_rd_per_yuan": ("总研发/元", "total R&D per yuan", "元/元")}
RATIO_DIGITS = 3  # significant digits of R&D per yuan in the table (0.0038 is not "0.00", 61.6 not "61.60")


def format_sweep(sweep: Sweep, summary: pd.DataFrame, width: int = TEXT_WIDTH, region: str = PROVINCE,
                 runs: pd.DataFrame | None = None) -> str:
    """The design points' lever settings in one table (with the share of its budget each point that sets a budget
    spent, ``budget_spent_share`` of the last report year, and which points leave it materially unspent: with the
    sweep's ``runs``, in words for the least spent), then one table per report year of each point's indicator
    means, public cost and business and total R&D per public yuan (headed in both languages with units; the ratios to
    ``RATIO_DIGITS`` significant digits), all within ``width`` display columns; below, the levers named in full and
    how R&D per yuan is taken, and which points' is not shown ("—"). ``region``: the summary is that prefecture's
    (``summarise(..., region)``): its tables are titled with it, and a note says what its cost covers."""
    blocks = [draws_line(sweep.parameters).rstrip("\n")] if sweep.thetas[0] is not None else []
    names = sweep.lever_names
    settings = summary.drop_duplicates("point")
    point_head = "点\npoint"
    levers = {lv.name: lv for lv in sweep.levers}
    base = sweep.scenarios[0]
    last = summary[summary["year"] == summary["year"].max()].set_index("point")
    spent = last["budget_spent_share"].dropna() if "budget_spent_share" in last else pd.Series(dtype=float)
    budget_head = ["预算支出率\nbudget spent"] if len(spent) else []
    blocks.append("\n".join([
        format_table([[point_head, *names, *budget_head]],
                     [[str(int(r["point"])), *(_setting(r[n], levers.get(n), base) for n in names),
                       *([f"{spent[r['point']]:.0%}" if r["point"] in spent.index else ""] if budget_head else [])]
                      for _, r in settings.iterrows()],
                     [False, *[True] * len(names), *[False] * len(budget_head)],
                     "设计点 Design points: 杠杆取值 lever settings (点0为基准 point 0 = base)", width),
        *wrap(_unspent_note(sweep, last, runs), width)]).rstrip("\n"))
    keys = [*sweep.exp.indicators, *COST_COLUMNS]
    mean = "加权均值 weighted mean" if sweep.weights is not None else "均值 mean"
    wide = False  # a ratio marked ``WIDE_MARK`` in some year: its note below
    for year in sweep.exp.report_years:
        part = summary[summary["year"] == year]
        if part.empty:
            continue
        body = [[str(int(r["point"])), *(format_value(r[f"{k}_mean"], k) for k in sweep.exp.indicators),
                 format_fixed(r["public_cost_mean"], 2),
                 *(MISSING if r["unstable"] else _ratio_text(r, k) for k in RATIOS)]
                for _, r in part.iterrows()]
        values = [max(display_width(row[j]) for row in body) for j in range(1, len(keys) + 1)]
        room = width - max(display_width(c[0]) for c in [*body, ["point"]]) - 2 * len(keys)  # beside the point column
        heads = [[point_head, *_result_heads(keys, values, room)]]
        where = "" if region == PROVINCE else f"{region_label(region)} | "
        title = (f"{where}{year}年 | {mean} over {len(sweep.thetas)} draw(s) x {len(sweep.seeds)} seeds | 点0为基准 "
                 "point 0 = base")
        blocks.append("\n".join([format_table(heads, body, [False] * len(heads[0]), title, width),
                                 *wrap(_not_shown(part), width), *wrap(_wide(part), width)]).rstrip("\n"))
        wide |= _wide(part) != ""
    if region != PROVINCE:  # a prefecture's cost and R&D are those located there (as qhsim compare --region's)
        zh, en = region_label(region, "zh"), region_label(region, "en")
        blocks.append("\n".join(wrap(f"{regional_cost_note(zh, en)} 公共成本为{zh}的；本表存于summary_{region}.txt，"
                                      f"summary.csv与summary.txt为全省的。 The public cost is {en}'s; this summary is kept in "
                                      f"summary_{region}.txt, summary.csv and summary.txt are the province's.", width)))
    if (note := reduced_scale_note(sweep.scale)) is not None:  # levels and the small prefectures swing below scale 1
        blocks.append("\n".join(wrap(note, width)))
    paths = {lv.name: lv.paths for lv in sweep.levers}
    # the levers' columns are headed by their names in the experiment file, named in full below the tables (their
    # bilingual instrument labels wrapped a 100-column header into a dozen lines)
    legend = [f"{n} = {_lever_label(paths.get(n, (n,)))}" for n in names]
    blocks.append("\n".join(line for text in ["杠杆 Levers:", *legend] for line in wrap(text, width)))
    blocks.append("\n".join(wrap(_rd_per_yuan_note(sweep.exp.from_year), width)))
    if wide:
        blocks.append("\n".join(wrap(wide_note(), width)))
    shown = summary[summary["year"].isin(sweep.exp.report_years) & ~summary["unstable"].astype(bool)]
    if "evidence" in shown and (note := evidence_note({(k, e) for k, e in zip(shown["evidence_key"], shown["evidence"])
                                                       if isinstance(e, str) and e})):
        blocks.append("\n".join(wrap(note, width)))
    return "\n\n".join(blocks) + "\n"


def _result_heads(keys: list[str], values: list[int], room: int) -> list[str]:
    """The headers of the result columns ``keys`` (``_header``), wrapped so that the columns, at least as wide as
    their ``values``, fit in ``room`` display columns: ``HEAD_WIDTH`` each, the widest narrowed one column at a time
    down to ``MIN_HEAD_WIDTH`` (``format_table`` would cut the Chinese names anywhere); a column that no limit down to
    it narrows (a long word) is left as it is."""
    spec = data.load("indicators")
    names = [COST_COLUMNS[k] if k in COST_COLUMNS else (spec[k]["zh"], spec[k]["en"], spec[k]["unit"]) for k in keys]
    limits = [HEAD_WIDTH] * len(keys)
    settled: set[int] = set()  # columns a narrower limit no longer narrows (a long word, a long unit)
    while True:
        heads = [_header(*name, limit) for name, limit in zip(names, limits)]
        used = [max(value, *map(display_width, head.split("\n"))) for value, head in zip(values, heads)]
        left = [j for j in range(len(keys)) if j not in settled]
        widest = max(left, key=lambda j: (used[j], j), default=None)
        if sum(used) <= room or widest is None or used[widest] <= max(MIN_HEAD_WIDTH, values[widest]):
            return heads
        for limit in range(used[widest] - 1, MIN_HEAD_WIDTH - 1, -1):  # the widest limit that narrows it
            if max(values[widest], *map(display_width, _header(*names[widest], limit).split("\n"))) < used[widest]:
                limits[widest] = limit
                break
        else:
            settled.add(widest)


def _header(zh: str, en: str, unit: str, limit: int) -> str:
    """A result column's header in lines of about ``limit`` display columns: the Chinese name in even pieces (not
    cut before its last character), the English name wrapped at spaces, the unit in brackets."""
    lines = math.ceil(display_width(zh) / limit)
    size, pieces, piece = math.ceil(display_width(zh) / lines) + 1, [], ""
    for char in zh:
        if piece and display_width(piece + char) > size:
            pieces.append(piece)
            piece = ""
        piece += char
    return "\n".join([*pieces, piece, *wrap(en, limit), *wrap(f"({unit})", limit)])


def _setting(value: Any, lever: Lever | None, base: Scenario) -> str:
    """A lever's value in the design points table (``Lever.shown``: a sampled value rounded; a named design's name as
    it is); the base point has none of its own: the base scenario's setting it runs with (``_base_setting``)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return _base_setting(lever, base) if lever is not None else "base"
    return lever.shown(value) if lever is not None else lever_text(value)


def _base_setting(lever: Lever, base: Scenario) -> str:
    """What the base scenario sets on ``lever``'s key paths from the lever's first year, with the unit (the lever
    catalogue's): ``15,000 (万元/年)``, ``merit``, a year table as ``2026: 1,000 → 2028: 5,000`` for a year-table lever;
    a tied group's values once where its paths agree, else each, separated by " / "."""
    texts = []
    for path in lever.paths:
        setting = scenario_setting(base, path)
        if lever.kind == "schedule" and isinstance(setting, Schedule):
            later = {y: v for y, v in setting.as_dict().items() if y > lever.from_year}
            value: Any = {lever.from_year: setting.at(lever.from_year), **later}
        else:
            value = setting.at(lever.from_year) if isinstance(setting, Schedule) else setting
        unit = lever_unit(path) if not isinstance(value, str) else None
        texts.append(lever_text(value) + (f" ({unit})" if unit else ""))
    return " / ".join(dict.fromkeys(texts))


def _unspent_note(sweep: Sweep, last: pd.DataFrame, runs: pd.DataFrame | None) -> str:
    """The design points whose budget is materially unspent by the last report year (``last``, the summary's rows of
    that year by point: ``budget_unspent``), with ``runs`` the least spent one in compare's words (``budget_words``);
    "" where none."""
    if "budget_unspent" not in last or not last["budget_unspent"].astype(bool).any():
        return ""
    flagged = last[last["budget_unspent"].astype(bool)]
    year, least = int(last["year"].iloc[0]), int(flagged["budget_spent_share"].idxmin())
    text = unspent_points_text([int(p) for p in flagged.index], year)
    if runs is not None:
        uses = [u for u in point_budgets(sweep, runs, least, [year])[year] if u.unspent]
        words = [budget_words(u, (f"点{least}", f"point {least}"), most=False) for u in uses]
        text += (" 例 E.g. " + "；".join(w[0] for w in words) + "。 " + "; ".join(w[1] for w in words) + ".") if words else ""
    return f"{text} {UNSPENT_NOTE[0]} {UNSPENT_NOTE[1]}"


def _not_shown(part: pd.DataFrame) -> str:
    """The design points of one report year whose R&D per yuan shows as "—", and why: no extra cost, some runs
    without extra cost (``summarise`` leaves their ratios empty), or unstable (``comparison.ratio_unstable``)."""
    shown = part[part["point"] > 0]
    flagged = shown[shown["unstable"] | shown["rd_per_yuan_mean"].isna()]
    if flagged.empty:
        return ""
    saves = flagged["extra_cost_mean"] <= 0
    some = ~saves & flagged["rd_per_yuan_mean"].isna()
    kinds = ((saves, "无额外成本 no extra cost"),
             (some, "部分运行无额外成本 some runs without extra cost: summary.csv rd_per_yuan_runs"),
             (~saves & ~some, "不稳定 unstable"))
    groups = [(f"点 points {', '.join(str(int(p)) for p in flagged.loc[rows, 'point'])} {what}")
              for rows, what in kinds if rows.any()]
    return f"研发/元“—” R&D per yuan “—”: {'; '.join(groups)} (见下 see below)."


def _ratio_text(row: pd.Series, key: str) -> str:
    """R&D per yuan ``key`` of a point in a year (``RATIO_DIGITS`` significant digits), business R&D per yuan with its
    mark where it lies outside the micro evidence (``evidence_cell`` of the row's ``evidence``), with ``WIDE_MARK``
    where the runs' ratios spread wider than it (``ratio_wide``)."""
    mid = row[f"{key}_mean"]
    text = significant(mid, RATIO_DIGITS, signed=False)
    if key == "rd_per_yuan":
        text = evidence_cell(text, str(row.get("evidence", "") or ""))
    return text + (WIDE_MARK if ratio_wide(mid, row[f"{key}_p05"], row[f"{key}_p95"]) else "")


def _wide(part: pd.DataFrame) -> str:
    """The design points of one report year with an R&D per yuan marked ``WIDE_MARK`` (``ratio_wide``), "" if none."""
    shown = part[(part["point"] > 0) & ~part["unstable"].astype(bool)]
    marked = [int(r["point"]) for _, r in shown.iterrows()
              if any(ratio_wide(r[f"{k}_mean"], r[f"{k}_p05"], r[f"{k}_p95"]) for k in RATIOS)]
    if not marked:
        return ""
    return (f"研发/元“{WIDE_MARK}” R&D per yuan “{WIDE_MARK}”: 点 points {', '.join(map(str, marked))} 区间过宽，不宜排名 "
            "too wide to rank (见下 see below).")


def _rd_per_yuan_note(from_year: int) -> str:
    zh, en = unstable_rule()
    return (f"企业研发/元：自{from_year}年起累计的额外企业研发÷同期累计的额外公共成本（财政支出+税式支出），各次运行与点0同参数"
            f"同种子配对，取各次比值的均值；总研发/元：分子另加高校和科研院所的额外研发（研发投入强度所计的全社会研发）。“—”：额外成本不为正"
            f"（无额外成本），部分运行额外成本不为正（其均值只含其余运行，会偏高），或不稳定——{zh}。 Business R&D per public "
            f"yuan: the extra business R&D cumulated since {from_year} over the extra public cost (spending + tax "
            "expenditure) cumulated over the same years, each run paired with point 0's run of the same draw and seed, "
            "the mean of the runs' ratios; total R&D per public yuan: the same with the universities' and institutes' "
            "extra R&D added (what R&D intensity counts). “—”: no extra cost (not positive); some runs without extra "
            "cost (a mean over the others would lean upwards); or unstable: "
            f"{en} (experiments/README.md).")


def _lever_label(paths: tuple[str, ...]) -> str:
    """A lever's instrument(s) in both languages (``instrument_label``), or its paths when the catalogue has no one
    name for them (paths of several sections tied together)."""
    label = instrument_label(paths)
    return " ".join(label) if label else ", ".join(paths)


def write_sweep(path: str | Path, out: Path, workers: int = 1, seeds: tuple[int, ...] | None = None,
                draws: int | None = None, scale: float | None = None, executor: str = "local",
                scheduler: str | None = None, bar: bool | str = False, region: str = PROVINCE) -> tuple[str, Sweep]:
    """Run (or resume) the experiment into the store ``out`` and write its summary (the province's); return the
    text to print, the province's or with ``region`` that prefecture's (``qhsim sweep --region``; also written to
    ``summary_<region>.txt``), and the loaded
    experiment."""
    started = time.perf_counter()
    sweep = load_sweep(path, seeds, draws, scale)
    runs, store = run_sweep(sweep, out, workers, executor, scheduler, bar, reused=say_reused)
    summary = summarise(sweep, runs)

    def text_of(table: pd.DataFrame, where: str) -> str:
        heading = wrap(f"实验 experiment: {Path(path).name} — {sweep.exp.description}" + (
            "" if where == PROVINCE else f" — 地区 region: {region_label(where)}"), TEXT_WIDTH)
        return "\n".join(heading) + "\n\n" + format_sweep(sweep, table, region=where, runs=runs)

    text = text_of(summary, PROVINCE)
    write_atomic(out / "summary.csv", lambda tmp: summary.to_csv(tmp, index=False, encoding="utf-8-sig"))
    write_atomic(out / "summary.txt", lambda tmp: tmp.write_text(text, encoding="utf-8"))
    files = ["summary.csv", "summary.txt"]
    if region != PROVINCE:  # the prefecture's answer printed, and kept beside the province's summary.txt
        text = text_of(summarise(sweep, runs, region), region)
        write_atomic(out / f"summary_{region}.txt", lambda tmp: tmp.write_text(text, encoding="utf-8"))
        files.append(f"summary_{region}.txt")
    store.complete({"seconds": round(time.perf_counter() - started, 2), "files": files})
    return text, sweep
