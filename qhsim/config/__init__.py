"""Scenario files 情景文件: load TOML, apply ``extends``, validate against the schema.

Errors come out as one ``InputError`` line naming the file, the key path, the bad value and the allowed range.
"""

from __future__ import annotations

import codecs
import difflib
import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from qhsim import data
from qhsim.config.schedule import YEAR_RANGE, Domain, Schedule, plain_number
from qhsim.config.schema import Scenario, warn_ineffective
from qhsim.errors import InputError, warn

__all__ = ["Scenario", "Schedule", "load_scenario", "prefecture_lists", "read_toml", "scenario_from_dict", "resolve_raw",
           "warn_horizon"]


def decode_text(raw: bytes, path: Path | str) -> str:
    """The text of an input file: UTF-8 (with or without a byte-order mark) or UTF-16 (with a byte-order
    mark, or without one when the zero bytes show it). Anything else is a one-line ``InputError`` naming the
    encoding it looks like (GBK/GB18030, binary)."""
    boms = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
            (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
    encoding = next((enc for bom, enc in boms if raw.startswith(bom)), None)
    if encoding is None and b"\x00" in raw[:64]:
        even, odd = raw[0:64:2].count(0), raw[1:64:2].count(0)
        encoding = "utf-16-le" if odd > 2 * even else "utf-16-be" if even > 2 * odd else None
    try:
        text = raw.decode(encoding or "utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and not any(ord(c) < 32 and c not in "\t\n\r" for c in text):
        return text
    if b"\x00" in raw or encoding:
        raise InputError(f"{path}: not a text file (binary content or broken {encoding or 'UTF-16'}); save it as UTF-8 text")
    try:
        raw.decode("gb18030")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text; save it as UTF-8") from None
    raise InputError(f"{path}: not UTF-8 (looks like GBK/GB18030); save it as UTF-8")


def read_toml(path: Path, what: str = "scenario") -> dict[str, Any]:
    """Parse a TOML input file (UTF-8, UTF-8 with BOM or UTF-16); a missing, unreadable or malformed file is a
    one-line ``InputError`` naming it."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: {what} file not found") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, expected a {what} .toml file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the {what} file: {exc.strerror}") from None
    try:
        return tomllib.loads(decode_text(raw, path))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML: {exc}") from None


def _is_year_table(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and all(str(k).isdigit() for k in value)


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` on top of ``base``; tables merge key by key, other values replace.

    A year schedule in the override replaces the base schedule from its first year on (a constant base
    counts as in force from the first year), so ``{ 2026 = x }`` means "from 2026 on, x; before, as in
    the base" — base changes dated 2026 or later are dropped.
    """
    merged = dict(base)
    for key, value in override.items():
        current = merged.get(key)
        if _is_year_table(value) and current is not None:
            first = min(int(year) for year in value)
            before = current if _is_year_table(current) else {str(YEAR_RANGE[0]): current}
            merged[key] = {**{y: v for y, v in before.items() if int(y) < first}, **value}
        elif isinstance(value, dict) and isinstance(current, dict):
            merged[key] = deep_merge(current, value)
        else:
            merged[key] = value
    return merged


def resolve_raw(path: Path, _chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The raw scenario table of ``path`` with its ``extends`` chain applied."""
    path = path.resolve()
    if path in _chain:
        cycle = " -> ".join(p.name for p in (*_chain, path))
        raise InputError(f"{path}: extends: cycle {cycle}")
    raw = read_toml(path)
    if "scenario" in raw and ("lever" in raw or "design" in raw):  # the keys of an experiment file (sweep.py)
        raise InputError(f"{path}: an experiment file, not a scenario: run it with qhsim sweep {path}")
    base_name = raw.get("extends")
    if base_name is None:
        return own_labels(raw, raw, path)
    if not isinstance(base_name, str):
        raise InputError(f"{path}: extends = {base_name!r}: expected a file name such as \"baseline.toml\"")
    base_path = path.parent / base_name
    if not base_path.is_file():
        hint = f" (did you mean \"{base_name}.toml\"?)" if base_path.with_name(base_path.name + ".toml").is_file() else ""
        if not hint and Path(base_name).is_file():  # written relative to the current folder
            hint = f" (did you mean \"{Path(os.path.relpath(Path(base_name).resolve(), path.parent)).as_posix()}\"?)"
        raise InputError(f"{path}: extends = {base_name!r}: scenario file {base_path} not found (extends is read "
                         f"relative to the folder of {path.name}){hint}")
    base = resolve_raw(base_path, (*_chain, path))
    return own_labels(deep_merge(base, raw), raw, path)


def own_labels(merged: dict[str, Any], raw: dict[str, Any], path: Path) -> dict[str, Any]:
    """``merged`` (the scenario table of ``path``, ``extends`` applied) with the [run] name and description of the
    file itself: a file that sets no ``run.name`` is named after its file (its stem), one that sets no
    ``run.description`` has none (a variant does not describe itself with its base's words); an empty name is a
    one-line ``InputError``. Labels only: no simulated number depends on them."""
    run = raw.get("run", {})
    if not isinstance(run, dict) or not isinstance(merged.get("run", {}), dict):
        return merged  # the schema names the mistake
    name = run.get("name", path.stem)
    if isinstance(name, str) and not name.strip():
        raise InputError(f"{path}: run.name = {name!r}: a scenario needs a name; give one, or leave the key out to "
                         f"use the file's name ({path.stem})")
    return {**merged, "run": {**merged.get("run", {}), "name": name, "description": run.get("description", "")}}


def _table_model(loc: tuple[Any, ...]) -> Any:
    """The schema model of the table that holds the key at ``loc`` (``Scenario`` for a top-level key)."""
    model: Any = Scenario
    for part in loc[:-1]:
        model = model.model_fields[part].annotation
    return model


def _interval(loc: tuple[Any, ...]) -> str | None:
    """The allowed range of a plain numeric field at ``loc``, e.g. ``(0, 1]``; None for a field without bounds."""
    try:
        metadata = _table_model(loc).model_fields[loc[-1]].metadata
    except (AttributeError, KeyError, TypeError):
        return None
    return interval_text(metadata)


def field_bounds(metadata: list[Any]) -> tuple[Any, Any, bool, bool]:
    """(low, high, low open, high open) of a field's bounds (its ``metadata``: pydantic's ``ge``/``gt``/``le``/
    ``lt``); a missing bound is None."""
    lo = hi = None
    lo_open = hi_open = False
    for meta in metadata:
        lo, lo_open = (meta.gt, True) if getattr(meta, "gt", None) is not None else (getattr(meta, "ge", lo), lo_open)
        hi, hi_open = (meta.lt, True) if getattr(meta, "lt", None) is not None else (getattr(meta, "le", hi), hi_open)
    return lo, hi, lo_open, hi_open


def interval_text(metadata: list[Any]) -> str | None:
    """The allowed range a field's bounds (``field_bounds``) give, as an error message writes it: ``[2016, 2060]``,
    ``(0, 1]``, ``at least 2`` (a lower bound alone), ``at most 5``; None for a field
    without bounds. Also for other schemas than the scenario's (an experiment file's)."""
    lo, hi, lo_open, hi_open = field_bounds(metadata)
    if lo is None and hi is None:
        return None
    if hi is None:
        return f"{'more than' if lo_open else 'at least'} {plain_number(lo)}"
    if lo is None:
        return f"{'less than' if hi_open else 'at most'} {plain_number(hi)}"
    return f"{'(' if lo_open else '['}{plain_number(lo)}, {plain_number(hi)}{')' if hi_open else ']'}"


def _unknown_key_hint(loc: tuple[Any, ...]) -> str:
    """For an unknown key at ``loc``: the allowed key it most resembles (a typo such as ``budjet``), else the
    allowed keys of its table; empty when the table is not a schema model."""
    try:
        allowed = list(_table_model(loc).model_fields)
    except (AttributeError, KeyError, TypeError):
        return ""
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
    return f" (did you mean {close[0]!r}?)" if close else f" (allowed: {', '.join(allowed)})"


NUMBER_ERRORS = {"int_parsing": "a whole number", "int_type": "a whole number", "int_from_float": "a whole number",
                 "float_parsing": "a number", "float_type": "a number"}


def _format_error(path: Path | str, exc: ValidationError) -> str:
    errors = exc.errors(include_url=False)
    # an unknown key first: a typo (extend for extends) is what to fix, the keys it leaves missing follow from it
    first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = ".".join(str(part) for part in first["loc"]) or "(top level)"
    msg = first["msg"].removeprefix("Value error, ")
    kind = first["type"]
    if kind == "extra_forbidden":
        text = f"{path}: {loc}: unknown key{_unknown_key_hint(first['loc'])}"
    elif kind == "missing":
        text = f"{path}: {loc}: required key missing (or add extends = \"baseline.toml\")"
    elif kind in ("value_error", "assertion_error"):
        text = f"{path}: {loc}: {msg}"
    elif kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        allowed = _interval(first["loc"]) or ""
        text = f"{path}: {loc} = {first.get('input')!r}: allowed {'range ' if allowed[:1] in '[(' else ''}{allowed}"
    elif kind in NUMBER_ERRORS:
        interval = _interval(first["loc"])
        text = f"{path}: {loc} = {first.get('input')!r}: must be {NUMBER_ERRORS[kind]}" + (
            f" in {interval}" if interval else "")
    else:
        text = f"{path}: {loc} = {first.get('input')!r}: {msg}"
    if len(errors) > 1:
        text += f" (and {len(errors) - 1} more)"
    return text


def scenario_from_dict(raw: dict[str, Any], origin: Path | str = "<scenario>") -> Scenario:
    """Validate a raw scenario table (``extends`` already applied)."""
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        raise InputError(_format_error(origin, exc)) from None


def _year_tables(table: dict[str, Any], prefix: str = "") -> list[tuple[str, dict[str, Any]]]:
    """(key path, year table) of every year schedule in a raw scenario table."""
    found = []
    for key, value in table.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if _is_year_table(value):
            found.append((path, value))
        elif isinstance(value, dict):
            found += _year_tables(value, path)
    return found


def warn_outside_horizon(path: Path, raw: dict[str, Any], start: int, end: int) -> None:
    """One warning per schedule year in ``raw`` that never takes effect between ``start`` and ``end``: after
    the last simulated year, or replaced by a later year before the start."""
    for key, table in _year_tables(raw):
        years = sorted(int(y) for y in table)
        for year in years:
            value = table[str(year)]
            replaced = [y for y in years if year < y <= start]
            if year > end:
                warn(f"{path}: {key}: year {year} = {value!r} is after the last simulated year {end}; it never takes effect")
            elif replaced:
                warn(f"{path}: {key}: year {year} = {value!r} never takes effect ({replaced[-1]} replaces it by the "
                     f"start year {start})")


CUT_SHORT_KEYS = 6  # keys a cut-short warning names before "and N more"
RUN_LABELS = ("name", "description", "start_year", "end_year")  # [run] keys that change no simulated number


def _acts_only_after(raw: dict[str, Any], year: int) -> bool:
    """Whether every setting of a scenario file's own table ``raw`` (apart from ``extends`` and the [run] labels and
    horizon) is a year schedule that starts after ``year``: a constant, a list or a parameter acts from the start."""
    def later(value: Any) -> bool:
        if _is_year_table(value):
            return min(int(y) for y in value) > year
        return isinstance(value, dict) and all(later(v) for v in value.values())

    own = {k: v for k, v in raw.items() if k != "extends"}
    run = own.pop("run", {})
    return later(own) and later({k: v for k, v in run.items() if k not in RUN_LABELS} if isinstance(run, dict) else run)


def warn_cut_short(path: Path, raw: dict[str, Any], run_end: int, scenario_end: int) -> None:
    """One warning when a run ends (``--end-year``) before the scenario's own last year ``scenario_end`` and the
    file's own schedules change in between: the run ends before these changes (keys with their years, up to
    ``CUT_SHORT_KEYS``); for a file that ``extends`` another whose own settings all act only after the run's end,
    also that the run is its base's. Years after ``scenario_end`` have their own warnings (``warn_outside_horizon``)."""
    if run_end >= scenario_end:
        return
    later = {key: [y for y in sorted(int(y) for y in table) if run_end < y <= scenario_end]
             for key, table in _year_tables(raw)}
    named = [f"{key} ({', '.join(map(str, years))})" for key, years in later.items() if years]
    if not named:
        return
    listing = ", ".join(named[:CUT_SHORT_KEYS]) + (f" and {len(named) - CUT_SHORT_KEYS} more"
                                                   if len(named) > CUT_SHORT_KEYS else "")
    if isinstance(raw.get("extends"), str) and _acts_only_after(raw, run_end):
        warn(f"{path}: the run ends in {run_end}, before any setting of this file acts, so the run is its base's "
             f"({raw['extends']}): {listing}")
    else:
        warn(f"{path}: the run ends in {run_end}, before these schedules change: {listing}")


def prefecture_lists() -> list[str]:
    """Key paths (``policy.<section>.<key>``) of the schema's prefecture lists, the schedules of prefecture ids or
    ``["all"]``: the instruments a scenario can offer in some prefectures only."""
    options = ("all", *data.prefecture_ids())
    policy = Scenario.model_fields["policy"].annotation
    return [f"policy.{section}.{name}" for section, table in policy.model_fields.items()
            for name, field in table.annotation.model_fields.items()
            if any(isinstance(m, Domain) and m.kind == "subset" and m.options == options for m in field.metadata)]


def _lists_in_force(value: Any, first: int, last: int | None) -> list[str]:
    """The prefectures a raw prefecture list (a list, or a year schedule of lists) names in some year from ``first``
    up to before ``last`` (None: on), ``["all"]`` spelt out, in geography.toml order."""
    table = value if _is_year_table(value) else {str(YEAR_RANGE[0]): value}
    schedule = Schedule({int(y): v for y, v in table.items()})
    years = [first, *(int(y) for y in table if first < int(y) and (last is None or int(y) < last))]
    named = {p for year in years for p in schedule.at(year)}
    return [p for p in data.prefecture_ids() if p in named or "all" in named]


def _key(table: dict[str, Any], path: str) -> Any:
    """The value at a dotted key path of a raw scenario table; None where it is not set."""
    for part in path.split("."):
        table = table.get(part) if isinstance(table, dict) else None
    return table


def warn_dropped_prefectures(path: Path, raw: dict[str, Any]) -> None:
    """One warning per year of a prefecture list (``prefecture_lists``) in a file that ``extends`` another (its own
    table ``raw``) that drops prefectures the base lists in force then: a variant's list replaces its base's (a
    schedule from its first year on, a single list in every year), so ``prefectures = { 2026 = ["haidong"] }`` over
    a base with ``["haixi"]`` also ends Haixi's programme. The warning names the file, the key, the year and the
    dropped prefectures, and the list that keeps them."""
    base_name = raw.get("extends")
    if not isinstance(base_name, str):
        return
    base = resolve_raw(path.parent / base_name)
    for key in prefecture_lists():
        own, theirs = _key(raw, key), _key(base, key)
        if own is None or theirs is None:
            continue
        table = own if _is_year_table(own) else {str(YEAR_RANGE[0]): own}
        years = sorted(int(y) for y in table)
        for year, end in zip(years, [*years[1:], None]):
            kept = _lists_in_force(table[str(year)], year, None)
            dropped = [p for p in _lists_in_force(theirs, year, end) if p not in kept]
            if not dropped:
                continue
            written = list(table[str(year)])
            listed, keep = (", ".join(f'"{p}"' for p in names) for names in (written, [*dropped, *written]))
            when = "in every year" if not _is_year_table(own) else f"from {year}"
            warn(f"{path}: {key}: {when} [{listed}] drops {', '.join(dropped)}, which its base {base_name} lists (a "
                 f"variant's list replaces the base's); to add to it, write [{keep}]")


def warn_horizon(path: Path, raw: dict[str, Any], scenario: Scenario, end_year: int | None = None,
                 cut_short: bool = True) -> None:
    """The warnings about the schedules of a scenario file (its own table ``raw``; ``scenario``: the file resolved)
    for a run to ``end_year`` (default: the scenario's own end year): one per year that never acts, in this run nor
    in the scenario's own (``warn_outside_horizon``: after both ends, or replaced before the start), with
    ``cut_short`` one line for the changes a run ended early leaves out (``warn_cut_short``), and one per prefecture
    list that drops prefectures its base lists (``warn_dropped_prefectures``), and one per key that has no effect
    (``warn_ineffective``)."""
    own_end = scenario.run.end_year
    run_end = own_end if end_year is None else end_year
    warn_outside_horizon(path, raw, scenario.run.start_year, max(run_end, own_end))
    if cut_short:
        warn_cut_short(path, raw, run_end, own_end)
    warn_dropped_prefectures(path, raw)
    warn_ineffective(path, raw)


def load_scenario(path: str | Path, end_year: int | None = None) -> Scenario:
    """Load and validate a scenario file, applying its ``extends`` chain; warn about schedule years in the
    file that never act in a run to ``end_year`` (default: the scenario's own; ``warn_horizon``)."""
    path = Path(path)
    scenario = scenario_from_dict(resolve_raw(path), path)
    warn_horizon(path, read_toml(path), scenario, end_year)
    return scenario
