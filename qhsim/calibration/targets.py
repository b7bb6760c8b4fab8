"""Calibration targets 校准目标: observed values the simulated path must reproduce (``calibration/targets.toml``).

A target is one observed number for an indicator column of the model output (``qhsim/data/indicators.toml``),
a region (``"province"`` or a prefecture id) and a year — or several candidate years when the document does
not say which year a figure refers to (the 001:L3 waypoint). Its ``tolerance`` is a relative half-width that
says how exact the statistic is; the objective measures errors in units of it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qhsim import data
from qhsim.calibration.settings import _is_number, model_parameters, read_toml
from qhsim.errors import InputError
from qhsim.results import PROVINCE

REQUIRED = ("indicator", "region", "year", "value", "unit", "source", "tolerance", "group")
OPTIONAL = ("id", "tolerance_note", "known_by", "weight", "year_rule", "awaiting", "note", "zh", "en",
            "by_construction", "set_by_hand", "construction_note")
BASES = ("fitted", "set by hand", "by construction", "predicted")
HEADLINE_BASES = ("fitted", "predicted")  # fit claims count only these
SCENARIO_TABLES = ("policy.", "macro.")  # by_construction may also name a scenario table
DATA_TABLES = ("geography.",)  # ... or a structural data table (qhsim/data/geography.toml)
YEAR_RULES = ("closest",)
YEARS = (2015, 2060)


@dataclass(frozen=True)
class Target:
    id: str
    indicator: str
    region: str
    years: tuple[int, ...]
    value: float
    unit: str
    source: str
    tolerance: float  # relative half-width
    group: str
    tolerance_note: str = ""
    known_by: int = 2020  # year the information refers to (out-of-sample refits use known_by <= 2019)
    weight: float = 1.0
    year_rule: str = "closest"  # with several candidate years: the year whose simulated value is closest counts
    awaiting: str = ""  # the indicator is not yet an output column; which issue will add it
    note: str = ""
    by_construction: tuple[str, ...] = ()  # parameters / scenario tables derived from this target's value
    set_by_hand: tuple[str, ...] = ()  # parameters chosen by hand so that the model meets this target
    construction_note: str = ""

    def basis(self, free: set[str] | frozenset[str], in_objective: bool) -> tuple[str, tuple[str, ...]]:
        """How the target is met, given the calibration's free parameters and whether it was in its objective:
        ("by construction" | "set by hand" | "fitted" | "predicted", the names that make it so). A listed
        parameter that the calibration estimates no longer counts."""
        constructed = tuple(n for n in self.by_construction if n not in free)
        if constructed:
            return "by construction", constructed
        hand = tuple(n for n in self.set_by_hand if n not in free)
        if hand:
            return "set by hand", hand
        return ("fitted", ()) if in_objective else ("predicted", ())

    @property
    def sigma(self) -> float:
        """Absolute error scale: tolerance x |observed value|."""
        return self.tolerance * abs(self.value)

    def cells(self) -> list[str]:
        return [cell_key(self.indicator, self.region, y) for y in self.years]

    @property
    def year_label(self) -> str:
        return "/".join(str(y) for y in self.years)


def cell_key(indicator: str, region: str, year: int) -> str:
    return f"{indicator}|{region}|{year}"


@dataclass(frozen=True)
class TargetSet:
    path: Path
    targets: tuple[Target, ...]
    meta: dict[str, Any]

    def __iter__(self):
        return iter(self.targets)

    def __len__(self) -> int:
        return len(self.targets)

    def cells(self) -> list[str]:
        """Every (indicator, region, year) cell any target needs, sorted."""
        return sorted({c for t in self.targets for c in t.cells()})

    def select(self, known_by: int | None = None, groups: tuple[str, ...] | None = None) -> TargetSet:
        keep = tuple(
            t for t in self.targets
            if (known_by is None or t.known_by <= known_by) and (groups is None or t.group in groups)
        )
        return TargetSet(self.path, keep, self.meta)

    def max_year(self) -> int:
        return max(max(t.years) for t in self.targets)


def _fail(path: Path, i: int, tid: str, key: str, value: Any, allowed: str) -> InputError:
    return InputError(f"{path}: target[{i}] ({tid}).{key} = {value!r}: {allowed}")


def load_targets(path: str | Path) -> TargetSet:
    """Read and check ``path``; raise ``InputError`` on the first malformed entry."""
    path = Path(path)
    raw = read_toml(path, "targets")
    unknown_top = set(raw) - {"target", "meta"}
    if unknown_top:
        raise InputError(f"{path}: {sorted(unknown_top)[0]}: unknown top-level key (allowed: [meta], [[target]])")
    rows = raw.get("target")
    if not isinstance(rows, list) or not rows:
        raise InputError(f"{path}: target: expected at least one [[target]] table")
    indicators = data.load("indicators")
    regions = (PROVINCE, *data.prefecture_ids())
    out: list[Target] = []
    seen: set[str] = set()
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise InputError(f"{path}: target[{i}]: expected a table")
        tid = str(row.get("id") or f"{row.get('indicator')}@{row.get('region')}@{row.get('year')}")
        for key in REQUIRED:
            if key not in row:
                raise InputError(f"{path}: target[{i}] ({tid}).{key}: required key missing")
        extra = set(row) - set(REQUIRED) - set(OPTIONAL)
        if extra:
            raise _fail(path, i, tid, sorted(extra)[0], row[sorted(extra)[0]], f"unknown key (allowed: {', '.join(REQUIRED + OPTIONAL)})")
        ind, region = row["indicator"], row["region"]
        awaiting = str(row.get("awaiting", ""))
        if ind not in indicators and not awaiting:
            raise _fail(path, i, tid, "indicator", ind, "not an indicator of qhsim/data/indicators.toml (set awaiting = \"...\" if a model issue will add it)")
        if region not in regions:
            raise _fail(path, i, tid, "region", region, f"allowed {', '.join(regions)}")
        years = row["year"] if isinstance(row["year"], list) else [row["year"]]
        if not years or not all(isinstance(y, int) and not isinstance(y, bool) and YEARS[0] <= y <= YEARS[1] for y in years):
            raise _fail(path, i, tid, "year", row["year"], f"expected a year or a list of candidate years in [{YEARS[0]}, {YEARS[1]}]")
        value = row["value"]
        if not _is_number(value):
            raise _fail(path, i, tid, "value", value, "expected a finite number")
        if value == 0:
            raise _fail(path, i, tid, "value", value, "must be non-zero (tolerances are relative)")
        tol = row["tolerance"]
        if not _is_number(tol) or not 0.0 < tol <= 1.0:
            raise _fail(path, i, tid, "tolerance", tol, "allowed range (0, 1] (relative half-width)")
        weight = row.get("weight", 1.0)
        if not _is_number(weight) or not 0.0 < weight <= 100.0:
            raise _fail(path, i, tid, "weight", weight, "allowed range (0, 100]")
        rule = row.get("year_rule", "closest")
        if rule not in YEAR_RULES:
            raise _fail(path, i, tid, "year_rule", rule, f"allowed {', '.join(YEAR_RULES)}")
        known_by = row.get("known_by", max(years))
        if not isinstance(known_by, int) or isinstance(known_by, bool) or not YEARS[0] <= known_by <= YEARS[1]:
            raise _fail(path, i, tid, "known_by", known_by, f"expected a year in [{YEARS[0]}, {YEARS[1]}]")
        for key in ("unit", "source", "group"):
            if not isinstance(row[key], str) or not row[key].strip():
                raise _fail(path, i, tid, key, row[key], "expected a non-empty string")
        if tid in seen:
            raise _fail(path, i, tid, "id", tid, "duplicate target id")
        how = {key: _names(path, i, tid, key, row.get(key, [])) for key in ("by_construction", "set_by_hand")}
        note = row.get("construction_note", "")
        if (how["by_construction"] or how["set_by_hand"]) and not (isinstance(note, str) and note.strip()):
            raise _fail(path, i, tid, "construction_note", note, "required (one line: how) with by_construction or set_by_hand")
        seen.add(tid)
        out.append(
            Target(
                id=tid, indicator=ind, region=region, years=tuple(sorted(years)), value=float(value),
                unit=row["unit"], source=row["source"], tolerance=float(tol), group=row["group"],
                tolerance_note=str(row.get("tolerance_note", "")), known_by=int(known_by), weight=float(weight),
                year_rule=rule, awaiting=awaiting, note=str(row.get("note", "")),
                by_construction=how["by_construction"], set_by_hand=how["set_by_hand"], construction_note=str(note),
            )
        )
    meta = raw.get("meta", {})
    if not isinstance(meta, dict):
        raise InputError(f"{path}: meta: expected a table")
    return TargetSet(path=path, targets=tuple(out), meta=meta)


def _names(path: Path, i: int, tid: str, key: str, value: Any) -> tuple[str, ...]:
    """A by_construction / set_by_hand list: model parameter names (or, for by_construction, scenario tables)."""
    if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise _fail(path, i, tid, key, value, "expected a list of model parameter names")
    known = model_parameters()
    for name in value:
        table_ok = name.startswith(DATA_TABLES) or (key == "by_construction" and name.startswith(SCENARIO_TABLES))
        if name not in known and not table_ok:
            allowed = "parameters of qhsim/data/behaviour.toml, talent.toml, knowledge.toml, a structural data " \
                "table (geography.*)" + (" or a scenario table (policy.*, macro.*)" if key == "by_construction" else "")
            raise _fail(path, i, tid, key, name, f"unknown (allowed: {allowed})")
    return tuple(value)


def indicator_status(indicator: str) -> str:
    """``modelled`` / ``stand_in`` / ``not_yet_modelled`` from indicators.toml (``absent`` if undeclared)."""
    entry = data.load("indicators").get(indicator)
    return str(entry.get("status", "modelled")) if isinstance(entry, dict) else "absent"


def is_missing(x: float) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))
