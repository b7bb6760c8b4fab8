"""Year-by-year policy schedules 逐年政策表.

In a scenario file an instrument is either a constant (``rate = 0.1``) or a step function written as
``{ 2015 = 0.5, 2018 = 0.75, 2023 = 1.0 }``: the value set in a year holds until the next change, and the
first value also applies before its year.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import PlainSerializer, PlainValidator

YEAR_RANGE = (2000, 2060)  # a schedule year outside it is an error (the model runs 2015-2060)


@dataclass(frozen=True)
class Domain:
    """What a schedule may hold, kept in the schema's field metadata so that editors (the dashboard's levers)
    can show the allowed range: ``kind`` is "number", "integer", "choice" or "subset"; ``lo``/``hi`` bound
    numbers, ``options`` name the choices."""

    kind: str
    lo: float | None = None
    hi: float | None = None
    options: tuple[str, ...] = ()


class Schedule:
    """A step function of the year; ``at(year)`` gives the value in force."""

    __slots__ = ("_years", "_values")

    def __init__(self, points: dict[int, Any]):
        items = sorted(points.items())
        self._years = [y for y, _ in items]
        self._values = [v for _, v in items]

    def at(self, year: int) -> Any:
        i = bisect.bisect_right(self._years, year) - 1
        return self._values[max(i, 0)]

    def as_dict(self) -> dict[int, Any]:
        return dict(zip(self._years, self._values))

    def to_toml(self) -> Any:
        """The form a scenario file uses: a scalar for a constant, else a year table."""
        if len(self._values) == 1 and self._years[0] == YEAR_RANGE[0]:
            return self._values[0]
        return {str(y): v for y, v in zip(self._years, self._values)}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schedule) and self.as_dict() == other.as_dict()

    def __hash__(self) -> int:
        return hash(tuple(self.as_dict().items()))

    def __repr__(self) -> str:
        return f"Schedule({self.as_dict()})"


def _parse_points(raw: Any, check: Callable[[Any], Any]) -> Schedule:
    if isinstance(raw, Schedule):
        return raw
    if not isinstance(raw, dict):
        return Schedule({YEAR_RANGE[0]: check(raw)})
    if not raw:
        raise ValueError("empty schedule; give a value or { year = value, ... }")
    points = {}
    for key, value in raw.items():
        try:
            year = int(key)
        except (TypeError, ValueError):
            raise ValueError(f"schedule key {key!r} is not a year") from None
        if not YEAR_RANGE[0] <= year <= YEAR_RANGE[1]:
            raise ValueError(f"year {year} outside allowed range [{YEAR_RANGE[0]}, {YEAR_RANGE[1]}]")
        try:
            points[year] = check(value)
        except ValueError as exc:
            raise ValueError(f"[{year}] = {value!r}: {exc}") from None
    return Schedule(points)


def plain_number(x: float) -> str:
    """A bound as messages write it: ``10000000``, ``0.5`` (never ``1e+07`` nor ``0.0``)."""
    return str(int(x)) if float(x).is_integer() else f"{x:.10g}"


def bounds_text(lo: float, hi: float) -> str:
    """An allowed range as an error message writes it: ``[0, 10000000]``, ``[0, 0.5]`` (never ``1e+07``)."""
    return f"[{plain_number(lo)}, {plain_number(hi)}]"


def _number(lo: float, hi: float, integer: bool) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{value!r} is not a number; allowed range {bounds_text(lo, hi)}")
        if integer and value != int(value):
            raise ValueError(f"{value!r} is not a whole number; allowed range {bounds_text(lo, hi)}")
        if not lo <= value <= hi:
            raise ValueError(f"{value!r} outside allowed range {bounds_text(lo, hi)}")
        return int(value) if integer else float(value)

    return check


def _choice(options: Iterable[str]) -> Callable[[Any], str]:
    allowed = tuple(options)

    def check(value: Any) -> str:
        if value not in allowed:
            raise ValueError(f"{value!r} is not one of {', '.join(allowed)}")
        return value

    return check


def _subset(options: Iterable[str]) -> Callable[[Any], tuple[str, ...]]:
    allowed = tuple(options)

    def check(value: Any) -> tuple[str, ...]:
        if not isinstance(value, list | tuple) or not value:
            raise ValueError(f"{value!r} is not a non-empty list of {', '.join(allowed)}")
        for item in value:
            if item not in allowed:
                raise ValueError(f"{item!r} is not one of {', '.join(allowed)}")
        return tuple(value)

    return check


def _annotated(check: Callable[[Any], Any], domain: Domain) -> Any:
    return Annotated[
        Schedule,
        PlainValidator(lambda raw: _parse_points(raw, check)),
        PlainSerializer(Schedule.to_toml, return_type=Any),
        domain,
    ]


def Num(lo: float, hi: float) -> Any:  # noqa: N802 - reads like a type in the schema
    """A schedule of numbers within ``[lo, hi]``."""
    return _annotated(_number(lo, hi, integer=False), Domain("number", lo, hi))


def Int(lo: int, hi: int) -> Any:  # noqa: N802
    """A schedule of whole numbers within ``[lo, hi]``."""
    return _annotated(_number(lo, hi, integer=True), Domain("integer", lo, hi))


def Choice(*options: str) -> Any:  # noqa: N802
    """A schedule of one of the named options."""
    return _annotated(_choice(options), Domain("choice", options=options))


def Subset(*options: str) -> Any:  # noqa: N802
    """A schedule of non-empty lists drawn from the named options, e.g. ``{ 2015 = ["haixi"], 2026 = ["all"] }``."""
    return _annotated(_subset(options), Domain("subset", options=options))
