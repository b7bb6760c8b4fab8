"""One analyst's session 会话状态: the starting scenario, lever changes and run settings, as an immutable value.

The app keeps one ``Session`` per browser session (a Solara reactive variable is scoped to its session), and
every edit makes a new one, so two browsers never share levers. Everything here is plain Python and
unit-tested without a browser.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from qhsim.config import Scenario, scenario_from_dict
from qhsim.dashboard import levers as lv
from qhsim.dashboard.runs import RunRequest
from qhsim.errors import InputError

MAX_DESIGNS = 4


def scenarios_dir() -> Path:
    """The shipped scenarios: $QHSIM_SCENARIOS, else ``scenarios/`` of the source tree, else of the working directory."""
    env = os.environ.get("QHSIM_SCENARIOS")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parents[2] / "scenarios"
    return here if here.is_dir() else Path.cwd() / "scenarios"


def shipped_scenarios() -> list[str]:
    return sorted(p.name for p in scenarios_dir().glob("*.toml"))


def max_draws() -> int:
    """The most parameter draws an ensemble can take: the calibrated ensemble's different sets (1 without one)."""
    from qhsim.calibrated import load_calibration

    cal = load_calibration()
    return cal.available if cal is not None and len(cal.draws) else 1


def parse_seeds(text: str) -> tuple[int, ...]:
    """``"1, 2,3"`` -> (1, 2, 3); ``InputError`` for anything else."""
    try:
        seeds = tuple(int(s) for s in text.replace(" ", "").split(",") if s)
    except ValueError:
        raise InputError(f"seeds = {text!r}: expected comma-separated whole numbers >= 0, e.g. 1,2,3") from None
    if not seeds or min(seeds) < 0:
        raise InputError(f"seeds = {text!r}: expected comma-separated whole numbers >= 0, e.g. 1,2,3")
    return seeds


@dataclass(frozen=True)
class Design:
    name: str
    changes: tuple[lv.Change, ...]


@dataclass(frozen=True, eq=False)
class Session:
    base_name: str
    base_raw: dict[str, Any]
    changes: tuple[lv.Change, ...] = ()
    scale: float = 1.0
    seed: int = 1
    draws: int = 0  # 0 = single run
    seeds: tuple[int, ...] = (1, 2, 3)
    designs: tuple[Design, ...] = field(default=())

    @classmethod
    def start(cls, source: str | Path | bytes = "baseline.toml", name: str | None = None) -> Session:
        """A session on a shipped scenario (by file name), a scenario file path, or uploaded TOML bytes."""
        folder = scenarios_dir()
        if isinstance(source, bytes):
            raw, base_name = lv.scenario_raw(source, folder), name or "upload.toml"
        else:
            path = Path(source)
            path = path if path.is_absolute() or path.exists() else folder / path
            raw, base_name = lv.scenario_raw(path, folder), name or path.name
        scenario_from_dict(raw, base_name)  # validate now: a bad file fails here, naming the key
        return cls(base_name=base_name, base_raw=raw)

    @cached_property
    def base(self) -> Scenario:
        return scenario_from_dict(self.base_raw, self.base_name)

    @cached_property
    def scenario(self) -> Scenario:
        """The base with the lever changes applied."""
        return lv.build_scenario(self.base_raw, list(self.changes), origin=self.base_name)

    def change(self, path: str) -> lv.Change | None:
        return next((c for c in self.changes if c.path == path), None)

    def value(self, path: str) -> Any:
        """The lever's value as edited (the base value in force in the change year when unchanged)."""
        c = self.change(path)
        return c.value if c else lv.current_value(self.base, path, self.from_year(path))

    def from_year(self, path: str) -> int | None:
        c = self.change(path)
        if not lv.levers()[path].scheduled:
            return None
        return c.from_year if c else lv.DEFAULT_FROM_YEAR

    def with_lever(self, path: str, value: Any = None, from_year: int | None = None) -> Session:
        """Set a lever (value and/or year); a value equal to the base's in that year removes the change."""
        lever = lv.levers()[path]
        value = self.value(path) if value is None else lv.check_value(lever, value)
        year = (from_year if from_year is not None else self.from_year(path)) if lever.scheduled else None
        others = tuple(c for c in self.changes if c.path != path)
        if value == lv.current_value(self.base, path, year):
            return replace(self, changes=others)
        return replace(self, changes=(*others, lv.Change(path, value, year)))

    def reset(self) -> Session:
        return replace(self, changes=())

    def with_run(self, **settings: Any) -> Session:
        return replace(self, **settings)

    def request(self, changes: tuple[lv.Change, ...] | None = None) -> RunRequest:
        sc = self.scenario if changes is None else lv.build_scenario(self.base_raw, list(changes), origin=self.base_name)
        return RunRequest(sc, scale=self.scale, seed=self.seed, draws=self.draws, seeds=self.seeds)

    def add_design(self, name: str) -> Session:
        if len(self.designs) >= MAX_DESIGNS:
            raise InputError(f"at most {MAX_DESIGNS} designs besides the baseline")
        return replace(self, designs=(*self.designs, Design(name or f"design {len(self.designs) + 1}", self.changes)))

    def clear_designs(self) -> Session:
        return replace(self, designs=())

    def toml(self, name: str) -> str:
        """The current levers as a self-contained scenario file."""
        sc = lv.build_scenario(self.base_raw, list(self.changes), name=name or "dashboard", origin=self.base_name)
        lines = [f"Scenario saved from the qhsim dashboard 由仪表盘保存; started from {self.base_name}",
                 "Lever changes 杠杆修改:"] + [f"  {line}" for line in lv.describe(list(self.changes))]
        return lv.scenario_toml(sc, "\n".join(lines if self.changes else lines[:1]))
