"""Run specifications 运行规格: what fixes one simulation run, with a stable key.

A ``RunSpec`` is scenario + overrides + parameter draw + seed + scale + horizon. Its ``key`` is a hash of
exactly those (canonical JSON), so the same run always has the same key — on any machine, in any
process, whatever the order of submission. Stores use it to skip runs already done (resume) and to refuse
duplicates.

Overrides are policy settings on top of the scenario, each ``(key path, first year, value)``:

- a number or a string holds from its first year on (earlier years keep the scenario's schedule; an
  integer field gets the value rounded);
- a year table ``{year: value}`` replaces the scenario's schedule from its first year on.

``parameters`` are the behavioural parameters of the run (``None``: the scenario's own). ``calibrated``
says whether the calibrated point estimate (``calibration/calibrated.toml``) is the default beneath them,
as in ``qhsim run``, or the behaviour.toml defaults (calibration runs).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from qhsim.calibrated import CALIBRATED_ENV
from qhsim.config import Scenario, scenario_from_dict

Value = float | int | str | Mapping[int, Any]


def canonical(obj: Any) -> str:
    """Canonical JSON (sorted keys, no spaces): the text that keys are hashed from."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=_plain)


def _plain(obj: Any) -> Any:
    if hasattr(obj, "item"):
        return obj.item()
    if isinstance(obj, Mapping):
        return dict(obj)
    raise TypeError(f"cannot hash {type(obj).__name__}")


def digest(obj: Any, n: int = 64) -> str:
    return hashlib.sha256(canonical(obj).encode()).hexdigest()[:n]


@dataclass(frozen=True)
class Override:
    """A policy setting on top of the scenario: ``path`` (e.g. ``policy.ex_ante_grants.budget``) holds
    ``value`` from ``first_year`` on; a ``{year: value}`` table replaces the schedule from its first year."""

    path: str
    first_year: int
    value: Value

    def plain(self) -> list[Any]:
        v = {str(y): x for y, x in sorted(self.value.items())} if isinstance(self.value, Mapping) else self.value
        return [self.path, self.first_year, v]


@dataclass(frozen=True, eq=False)
class RunSpec:
    """One simulation run. ``scenario`` is the resolved scenario table (``extends`` applied)."""

    scenario: Mapping[str, Any]
    seed: int
    scale: float
    end_year: int
    overrides: tuple[Override, ...] = ()
    parameters: Mapping[str, float] | None = None  # None: the scenario's own [parameters]
    calibrated: bool = True  # the calibrated point estimate beneath the parameters (else behaviour.toml)
    origin: str = "<scenario>"  # where the scenario came from (error messages only; not part of the key)
    scenario_key: str = field(default="")  # digest of ``scenario``; computed when empty
    population_seed: int | None = None  # None: the scenario's fixed 2015 population

    def __post_init__(self) -> None:
        if not self.scenario_key:
            object.__setattr__(self, "scenario_key", digest(self.scenario))

    def plain(self) -> dict[str, Any]:
        """The fields that fix the result, as plain JSON values (what ``key`` hashes)."""
        out = {
            "scenario": self.scenario_key, "seed": int(self.seed), "scale": float(self.scale),
            "end_year": int(self.end_year), "overrides": [o.plain() for o in self.overrides],
            "parameters": None if self.parameters is None else dict(self.parameters),
            "calibrated": self.calibrated,
        }
        if self.population_seed is not None:  # absent by default, so existing keys stay valid
            out["population_seed"] = int(self.population_seed)
        return out

    @cached_property
    def key(self) -> str:
        return digest(self.plain(), 32)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RunSpec) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)


def get_path(obj: Any, path: str) -> Any:
    for p in path.split("."):
        obj = obj[p] if isinstance(obj, dict) else getattr(obj, p)
    return obj


def _set_path(raw: dict[str, Any], path: str, value: Any) -> None:
    node = raw
    parts = path.split(".")
    for p in parts[:-1]:
        node = node.setdefault(p, {})
    node[parts[-1]] = value


def apply(base: Scenario, overrides: tuple[Override, ...], parameters: Mapping[str, float] | None,
          origin: str) -> Scenario:
    """The validated scenario of a run: ``base`` with the overrides and parameters applied.

    A bad key path or a value outside the schema's range is an ``InputError`` naming ``origin`` and the path.
    """
    params = dict(base.parameters) if parameters is None else dict(parameters)
    if not overrides:
        return base.model_copy(update={"parameters": params})
    raw = base.model_dump(mode="json")
    for o in overrides:
        try:
            schedule = get_path(base, o.path)
        except (KeyError, AttributeError):
            from qhsim.errors import InputError

            raise InputError(f"{origin}: {o.path}: no such scenario instrument (e.g. \"policy.ex_ante_grants.budget\")") from None
        points = {y: v for y, v in schedule.as_dict().items() if y < o.first_year}
        if isinstance(o.value, Mapping):
            points.update({int(y): v for y, v in o.value.items()})
        else:
            value = o.value
            current = schedule.at(o.first_year)
            if isinstance(current, int) and not isinstance(current, bool) and not isinstance(value, str):
                value = int(round(value))
            points[o.first_year] = value
        _set_path(raw, o.path, {str(y): v for y, v in sorted(points.items())})
    raw["parameters"] = params
    return scenario_from_dict(raw, f"{origin} (with {', '.join(o.path for o in overrides)})")


_BASES: dict[str, Scenario] = {}  # validated base scenarios by key, per process


def scenario_of(spec: RunSpec) -> Scenario:
    """The validated scenario of ``spec`` (base scenarios are validated once per process)."""
    base = _BASES.get(spec.scenario_key)
    if base is None:
        base = _BASES[spec.scenario_key] = scenario_from_dict(dict(spec.scenario), spec.origin)
    return apply(base, spec.overrides, spec.parameters, spec.origin)


class calibration_switch:
    """Context: ``QHSIM_CALIBRATED=off`` for runs that must use the behaviour.toml defaults."""

    def __init__(self, calibrated: bool):
        self.calibrated = calibrated
        self.previous: str | None = None

    def __enter__(self) -> None:
        self.previous = os.environ.get(CALIBRATED_ENV)
        if not self.calibrated:
            os.environ[CALIBRATED_ENV] = "off"

    def __exit__(self, *exc: object) -> None:
        if self.previous is None:
            os.environ.pop(CALIBRATED_ENV, None)
        else:
            os.environ[CALIBRATED_ENV] = self.previous
