"""Policy levers 政策杠杆: every instrument of the scenario schema as an editable lever, and the scenario that
a set of lever changes makes.

A lever change sets an instrument to a value from a year on (``Change``); applied to a base scenario it
replaces the base's schedule from that year, exactly as a variant file's ``{ 2026 = x }`` would
(``qhsim.config.deep_merge``). Labels and units come from the lever catalogue ``qhsim/config/levers.toml``; allowed
ranges and options come from the schema (``qhsim.config.schedule.Domain``).
"""

from __future__ import annotations

import numbers
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from qhsim.config import Scenario, decode_text, deep_merge, own_labels, resolve_raw, scenario_from_dict
from qhsim.config.instruments import catalogue
from qhsim.config.schedule import YEAR_RANGE, Domain, Schedule
from qhsim.config.schema import Policy
from qhsim.dashboard import i18n
from qhsim.errors import InputError
from qhsim.output.tidy import lever_text

DEFAULT_FROM_YEAR = 2026  # first year after the last known policy change (the 14th FYP ends 2025)
LIST_DOMAIN = Domain("list")  # the R&D-reward tier lists: one list for the whole run, not a schedule


@dataclass(frozen=True)
class Lever:
    section: str
    name: str
    zh: str
    en: str
    unit: str  # Chinese
    unit_en: str
    domain: Domain

    @property
    def path(self) -> str:
        return f"policy.{self.section}.{self.name}"

    @property
    def scheduled(self) -> bool:
        """Whether the instrument is a year schedule (it then applies from a chosen year)."""
        return self.domain is not LIST_DOMAIN

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def unit_label(self, lang: str) -> str:
        return self.unit if lang == "zh" else self.unit_en

    @property
    def share(self) -> bool:
        """Whether the lever is a share (levers.toml's unit "share of R&D", "share", ...). Analysts think of these in
        per cent (a super-deduction of 100%), so the page writes the per cent beside the share (``percent``); the field,
        the scenario files, ``qhsim sweep`` specs and the schema's error messages all keep the share, so the number
        typed is the number saved and quoted back."""
        return self.unit_en.startswith("share")

    def percent(self, value: Any) -> str:
        """A share lever's value in per cent: "100%" for 1, "12.5%" for 0.125, "10%, 15%" for a list; "" for another
        lever, or for a value that is not a number (refused: the message quotes it as typed)."""
        values = value if isinstance(value, list | tuple) else [value]
        if not self.share or not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values):
            return ""
        return ", ".join(f"{number_text(round(100 * float(v), 6))}%" for v in values)

    def shown(self, value: Any, lang: str) -> str:
        """A value as the page's notes and messages write it: ``value_text`` with the per cent of a share beside it,
        "1 (100%)", "0.25 (25%)"; other levers as ``value_text``."""
        text, percent = self.value_text(value, lang), self.percent(value)
        return f"{text} ({percent})" if percent else text

    def range_text(self, lang: str = "en") -> str:
        """The allowed values as an analyst reads them: ``[0, 10,000,000]`` (never ``1e+07``), a share's with its per
        cent, ``[0, 3] (0%–300%)``, the options by their labels in ``lang`` (``i18n.option``), or what a list takes."""
        d = self.domain
        if d.kind in ("number", "integer"):
            bounds = f"[{number_text(d.lo)}, {number_text(d.hi)}]"
            return f"{bounds} ({self.percent(d.lo)}–{self.percent(d.hi)})" if self.share else bounds
        if d.kind in ("choice", "subset"):
            return " | ".join(i18n.option(o, lang) for o in d.options)
        return i18n.text("list_range", lang)

    def value_text(self, value: Any, lang: str) -> str:
        """A value of this lever as the page writes it: numbers exactly, with thousands separators and no exponent
        (``number_text``: 15,000, 0.25, 10,000,000), a list as "0.1, 0.15, 0.2", options by their labels in ``lang``."""
        if self.domain.kind in ("choice", "subset"):
            return ", ".join(i18n.option(v, lang) for v in (value if isinstance(value, list | tuple) else [value]))
        if isinstance(value, list | tuple):
            return ", ".join(number_text(v) for v in value)
        return number_text(value)


def number_text(value: Any) -> str:
    """A lever's number as the page shows it, in its field too: exact (typed back, it is the same number), with
    thousands separators, a whole number without ".0" and never in exponent form: 15,000 (not 15000.0), 0.25,
    10,000,000 (not 1e+07). ``widgets.parse`` reads it back."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return str(value)
    if isinstance(value, numbers.Integral) or (float(value).is_integer() and abs(value) < 1e15):
        return f"{int(value):,}"
    return f"{value:,}"


@dataclass(frozen=True)
class Group:
    key: str
    zh: str
    en: str
    sections: tuple[tuple[str, str, str], ...]  # (section, zh, en)
    levers: tuple[Lever, ...]

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class Change:
    """Set ``path`` (``policy.<section>.<name>``) to ``value`` from ``from_year`` on (None: every year)."""

    path: str
    value: Any
    from_year: int | None = DEFAULT_FROM_YEAR


def _domain(section: str, name: str) -> Domain:
    field = Policy.model_fields[section].annotation.model_fields[name]
    found = [m for m in field.metadata if isinstance(m, Domain)]
    return found[0] if found else LIST_DOMAIN


@cache
def groups() -> tuple[Group, ...]:
    """The lever groups in display order, each lever with its label, unit and domain."""
    cat = catalogue()
    out = []
    for key, spec in cat["groups"].items():
        levers, sections = [], []
        for section in spec["sections"]:
            sections.append((section, cat["sections"][section]["zh"], cat["sections"][section]["en"]))
            for name, lab in cat["levers"][section].items():
                levers.append(Lever(section, name, lab["zh"], lab["en"], lab["unit"], lab.get("unit_en", ""),
                                    _domain(section, name)))
        out.append(Group(key, spec["zh"], spec["en"], tuple(sections), tuple(levers)))
    return tuple(out)


@cache
def levers() -> dict[str, Lever]:
    """Every lever by path."""
    return {lever.path: lever for group in groups() for lever in group.levers}


def schema_paths() -> list[str]:
    """Every instrument path of the schema's [policy] sections."""
    return [f"policy.{section}.{name}" for section, field in Policy.model_fields.items()
            for name in field.annotation.model_fields]


def current_value(scenario: Scenario, path: str, year: int | None) -> Any:
    """The value of an instrument in force in ``year`` (a list lever's list when ``year`` is None)."""
    _, section, name = path.split(".")
    value = getattr(getattr(scenario.policy, section), name)
    if isinstance(value, Schedule):
        value = value.at(year if year is not None else DEFAULT_FROM_YEAR)
    return list(value) if isinstance(value, tuple | list) else value


def check_value(lever: Lever, value: Any) -> Any:
    """``value`` as the schema stores it, or ``InputError`` naming the lever and its allowed range (both in the
    language of each half of the message)."""
    d = lever.domain
    bad = i18n.Bilingual(*(i18n.out_of_range((lever.zh, lever.en), lever.shown(value, lang),
                                             lever.range_text(lang)).pair[j] for j, lang in enumerate(i18n.LANGS)))
    if d.kind in ("number", "integer"):
        if isinstance(value, bool) or not isinstance(value, int | float) or not d.lo <= value <= d.hi:
            raise bad
        if d.kind == "integer":
            if value != int(value):
                raise bad
            return int(value)
        return float(value)
    if d.kind == "choice":
        if value not in d.options:
            raise bad
        return value
    if d.kind == "subset":
        if not value:  # "= :" said nothing: name what is missing
            raise i18n.Bilingual(*(f"{lever.label(lang)}{'：' if lang == 'zh' else ': '}{i18n.text('choose_one', lang)}"
                                   f"{'（' if lang == 'zh' else ' ('}{lever.range_text(lang)}{'）' if lang == 'zh' else ')'}"
                                   for lang in i18n.LANGS))
        if any(v not in d.options for v in value):
            raise bad
        return list(value)
    if isinstance(value, str) or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        raise bad
    return [float(v) for v in value]


def parse_list(lever: Lever, text: str) -> list[float]:
    """A list lever's typed text, "0.1, 0.15, 0.2" (also with "，" or "、"), as numbers; ``InputError`` naming the lever
    and what it takes when a part is not a number."""
    parts = [p.strip() for p in text.replace("，", ",").replace("、", ",").split(",")]
    try:
        return [float(p) for p in parts if p]
    except ValueError:
        raise i18n.Bilingual(*(f"{lever.label(lang)} = {text.strip()}{'：' if lang == 'zh' else ': '}"
                               f"{i18n.text('list_range', lang)}" for lang in i18n.LANGS)) from None


def apply_changes(base_raw: dict[str, Any], changes: list[Change]) -> dict[str, Any]:
    """The raw scenario table with each change applied (a schedule from its year, a list outright)."""
    raw = base_raw
    for change in changes:
        lever = levers()[change.path]
        value = check_value(lever, change.value)
        if lever.scheduled and change.from_year is not None:
            if not YEAR_RANGE[0] <= change.from_year <= YEAR_RANGE[1]:
                raise InputError(f"{change.path}: from year {change.from_year}: allowed {YEAR_RANGE[0]}..{YEAR_RANGE[1]}")
            value = {str(change.from_year): value}
        _, section, name = change.path.split(".")
        raw = deep_merge(raw, {"policy": {section: {name: value}}})
    return raw


def build_scenario(base_raw: dict[str, Any], changes: list[Change], run: dict[str, Any] | None = None,
                   origin: str = "dashboard") -> Scenario:
    """The validated scenario of ``base_raw`` with ``changes`` and the ``[run]`` settings ``run`` (e.g. its name,
    description and seed; ``InputError`` if any value is out of range)."""
    raw = apply_changes(base_raw, changes)
    if run:
        raw = deep_merge(raw, {"run": run})
    return scenario_from_dict(raw, origin)


def scenario_raw(source: str | Path | bytes, scenarios_dir: Path, name: str = "upload.toml") -> dict[str, Any]:
    """The resolved table of a scenario file, or of uploaded TOML text (the file ``name``) whose ``extends`` names a
    file in ``scenarios_dir`` (the shipped scenarios); either way named and described as ``qhsim run`` names it
    (``qhsim.config.own_labels``: a file without ``[run] name`` by its file name, without a description by none of
    its base's)."""
    if isinstance(source, bytes):
        try:
            raw = tomllib.loads(decode_text(source, "uploaded scenario"))
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"uploaded scenario: not valid TOML: {exc}") from None
        base = raw.get("extends")
        merged = deep_merge(resolve_raw(scenarios_dir / base), raw) if isinstance(base, str) else raw
        return own_labels(merged, raw, Path(name))
    return resolve_raw(Path(source))


def scenario_toml(scenario: Scenario, header: str = "") -> str:
    """A self-contained scenario file (``extends`` already applied) that ``qhsim run`` accepts."""
    from qhsim.calibration.ensemble import dumps_toml

    doc = scenario.model_dump(mode="json", exclude={"extends"})
    if not doc.get("parameters"):
        doc.pop("parameters", None)
    return dumps_toml(doc, header)


def describe(changes: list[Change], lang: str = "en") -> list[str]:
    """One line per change, e.g. ``Super-deduction, general firms = 1.2 (120%) from 2026``, ``Ex-ante grant budget =
    45,000 from 2026`` (numbers as every report writes them, ``qhsim.output.tidy.lever_text``; options by their labels
    in ``lang``, ``Prefectures offering it = Haixi, Haidong``)."""
    out = []
    for c in changes:
        lever = levers()[c.path]
        when = f" 自{c.from_year}年起" if lang == "zh" else f" from {c.from_year}"
        value = lever.value_text(c.value, lang) if lever.domain.kind in ("choice", "subset") else lever_text(c.value)
        percent = lever.percent(c.value)
        value += f" ({percent})" if percent else ""
        out.append(f"{lever.label(lang)} = {value}{when if lever.scheduled and c.from_year else ''}")
    return out
