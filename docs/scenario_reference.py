"""Write docs/scenario_reference.md, the analyst's list of every key a scenario file may set, from the scenario
schema (qhsim/config/schema.py: types, ranges and the comments on its fields), the lever catalogue
(qhsim/config/levers.toml: Chinese and English names, units), scenarios/baseline.toml (values and the sources on
its lines) and the shipped variants (quoted as examples).

Run after changing any of them: ``python docs/scenario_reference.py``. tests/test_docs.py checks they agree and
that every range printed is the one the loader enforces.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from qhsim import data
from qhsim.calibrated import PARAMETER_FILES, model_parameters
from qhsim.cli import run_script
from qhsim.config import deep_merge, field_bounds, prefecture_lists, resolve_raw, scenario_from_dict
from qhsim.config import schema as schema_module
from qhsim.config.instruments import catalogue
from qhsim.config.schedule import YEAR_RANGE, Domain, Schedule
from qhsim.config.schema import MAX_BUDGET, TIER_AMOUNT, TIER_INTENSITY, Macro, Policy, Run, Scenario
from qhsim.errors import InputError
from qhsim.output.report import display_width as width  # terminal columns: Chinese takes two

ROOT = Path(__file__).resolve().parents[1]
DOC = Path(__file__).with_name("scenario_reference.md")
ODD = Path(__file__).with_name("ODD.md")
SCENARIOS = ROOT / "scenarios"
BASELINE = SCENARIOS / "baseline.toml"
NBSP = "\u00a0"  # joins what a table cell must not break ("2026: 1.2", "[0, 3]"); printed as a space
WIDTH = 100  # display columns of a terminal the tables and paragraphs should fit
KEY_COLUMN = 30  # the key tables' first column (key, Chinese and English name) is at least this wide

# The schema's plain lists (not year schedules) have no Domain; their rule lives in a validator, stated here as
# (text, lo, hi, lo open, hi open) and checked by tests/test_docs.py against the loader. A new list field without
# an entry stops the generator.
LIST_RULES = {
    "policy.rd_reward.tier_intensity": (f"ascending, each in (0,{NBSP}1]", *TIER_INTENSITY, True, False),
    "policy.rd_reward.tier_amount": (f"each in [0,{NBSP}10000]; as many as tier_intensity", *TIER_AMOUNT, False, False),
}
# Variants quoted under "Common designs": (file, what it shows).
DESIGNS = (
    ("super_deduction_120.toml", "A rate raised from 2026 on, for every firm type"),
    ("vouchers_expanded.toml", "One budget scaled up"),
    ("rd_reward_province_wide.toml", "A prefecture programme offered everywhere"),
    ("ex_post_subsidy.toml", "Money moved between two instruments"),
)
# Mistakes shown with the loader's message (key, mistake): a value above the range, a fraction for a whole number,
# a misspelt key, the open end of a range; the values are taken from the documented range and the baseline.
ERROR_EXAMPLES = (
    ("policy.super_deduction.general", "above"),
    ("policy.thousand_talents.introduced_leading", "fraction"),
    ("policy.vouchers.budget", "typo"),
    ("run.scale", "open"),
)


# --- text layout --------------------------------------------------------------------------------------------


def _fit(word: str, room: int) -> int:
    """How many leading characters of ``word`` fit in ``room`` columns (at least one)."""
    used = 0
    for i, c in enumerate(word):
        used += width(c)
        if used > room:
            return max(i, 1)
    return len(word)


def wrap(text: str, room: int) -> list[str]:
    """``text`` in lines of at most ``room`` columns, broken at spaces; a longer word is broken between
    characters only if it holds Chinese (an identifier or number stays whole and may overflow: unlike
    ``qhsim.output.report.wrap``, which cuts keys, a Markdown cell must keep ``policy.x.y`` whole)."""
    lines: list[str] = []
    for para in text.split("\n"):
        line = ""
        for word in para.split(" "):
            joined = f"{line} {word}" if line else word
            if width(joined) <= room:
                line = joined
                continue
            if line:
                lines.append(line)
            while width(word) > room and any(width(c) == 2 for c in word):
                cut = _fit(word, room)
                lines.append(word[:cut])
                word = word[cut:]
            line = word
        lines.append(line)
    return lines


def paragraph(text: str, indent: str = "", wrap: Callable[[str, int], list[str]] = wrap) -> str:
    """A paragraph (or list item) wrapped at WIDTH by ``wrap``, continuation lines indented by ``indent``."""
    first, *rest = wrap(text, WIDTH - len(indent))
    return "\n".join([first, *(indent + line for line in rest)])


def _allot(naturals: list[int], budget: int) -> list[int]:
    """Column widths within ``budget``: a column narrower than its fair share keeps its natural width, the
    others share what is left equally."""
    out = list(naturals)
    todo = sorted(range(len(naturals)), key=lambda i: naturals[i])
    while todo:
        share = max(budget // len(todo), 8)
        i = todo[0]
        if naturals[i] <= share:
            budget -= naturals[i]
            todo.pop(0)
            continue
        for j in todo:
            out[j] = share
        break
    return out


def table(header: list[str], rows: list[list[str]], first: int | None = None) -> str:
    """A Markdown table fitted to WIDTH: the first column is at least ``first`` columns wide (more if the others
    leave room; default: its widest line; a longer word overflows it), the others share the rest; long cells wrap
    onto continuation rows (empty cells elsewhere), and every column is padded so that the table also reads as
    plain text."""
    cells = [header, *rows]
    naturals = [max(width(line) for row in cells for line in row[c].split("\n")) for c in range(len(header))]
    overhead = 4 + 3 * (len(header) - 1)
    lead = naturals[0] if first is None else min(naturals[0], max(first, WIDTH - overhead - sum(naturals[1:])))
    room = WIDTH - overhead - lead
    widths = [lead, *_allot(naturals[1:], room)]
    wrapped = [[wrap(cell, w) for cell, w in zip(row, widths)] for row in cells]
    widths = [max(width(line) for row in wrapped for line in row[c]) for c in range(len(header))]

    def line(parts: list[str]) -> str:
        return "| " + " | ".join(p.replace(NBSP, " ") + " " * (w - width(p)) for p, w in zip(parts, widths)) + " |"

    out = [line([" ".join(cell) for cell in wrapped[0]]), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    for row in wrapped[1:]:
        for k in range(max(len(cell) for cell in row)):
            out.append(line([cell[k] if k < len(cell) else "" for cell in row]))
    return "\n".join(out)


# --- what the code and data say -----------------------------------------------------------------------------


def schema_comments() -> dict[str, dict[str, str]]:
    """The comment on each field of each schema class: ``{class name: {field: comment}}``."""
    source = Path(schema_module.__file__).read_text(encoding="utf-8")
    comments = {tok.start[0]: tok.string.lstrip("#").strip()
                for tok in tokenize.generate_tokens(io.StringIO(source).readline) if tok.type == tokenize.COMMENT}
    out: dict[str, dict[str, str]] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef):
            out[node.name] = {stmt.target.id: comments[stmt.end_lineno] for stmt in node.body
                              if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
                              and stmt.end_lineno in comments}
    return out


def _trailing_comment(line: str) -> str:
    quote = None
    for i, c in enumerate(line):
        if quote:
            quote = None if c == quote else quote
        elif c in "\"'":
            quote = c
        elif c == "#":
            return line[i + 1:].strip()
    return ""


def file_comments(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """The comments of a scenario file: ``({table: its comment block}, {key path: the comment on its line})``.
    A block counts for its table when keys follow it directly (a block before a blank line introduces nothing);
    an indented comment line continues the comment of the key above it."""
    tables: dict[str, str] = {}
    keys: dict[str, str] = {}
    section, last, block = "", None, []
    for raw in path.read_text(encoding="utf-8").splitlines():
        text = raw.strip()
        if not text or text.startswith("["):
            block = []
            last = None
            if text:
                section = text.strip("[]").strip()
            continue
        if text.startswith("#"):
            body = text.lstrip("#").strip()
            if raw[0] != "#" and last:
                keys[last] = f"{keys.get(last, '')} {body}".strip()
            else:
                block.append(body)
            continue
        if block and section:
            tables[section] = " ".join(filter(None, [tables.get(section), *block]))
        block = []
        match = re.match(r"([\w-]+)\s*=", text)
        if match:
            last = f"{section}.{match[1]}" if section else match[1]
            comment = _trailing_comment(text)
            if comment:
                keys[last] = comment
    return tables, keys


@dataclass(frozen=True)
class Key:
    """One key a scenario may set."""

    path: str  # e.g. "policy.super_deduction.general"
    zh: str
    en: str
    unit: str
    allowed: str  # as printed
    kind: str  # "number", "integer", "choice", "subset", "list", "text"
    lo: float | None
    hi: float | None
    lo_open: bool
    hi_open: bool
    options: tuple[str, ...]
    scheduled: bool
    baseline: str
    note: str  # the schema's comment
    source: str  # the baseline line's comment

    @property
    def name(self) -> str:
        return self.path.rsplit(".", 1)[1]


def number(value: float) -> str:
    """A number as an analyst writes it: whole numbers without a decimal point, 2^63-1 by name."""
    if value == 2**63 - 1:
        return "2^63-1"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def value_text(value: Any) -> str:
    if isinstance(value, Schedule):
        points = value.as_dict()
        if list(points) == [YEAR_RANGE[0]]:
            return value_text(points[YEAR_RANGE[0]])
        return "; ".join(f"{year}:{NBSP}{value_text(v)}" for year, v in points.items())
    if isinstance(value, list | tuple):
        return ", ".join(value_text(v) for v in value)
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:  # an optional key the baseline leaves out
        return "not set"
    if isinstance(value, int | float):
        return number(value)
    return str(value) if value != "" else '""'


def interval(lo: float, hi: float, lo_open: bool = False, hi_open: bool = False) -> str:
    return f"{'(' if lo_open else '['}{number(lo)},{NBSP}{number(hi)}{')' if hi_open else ']'}"


PREFECTURE_LIST = ("all", *data.prefecture_ids())


def domain_text(domain: Domain) -> str:
    if domain.kind == "number":
        return interval(domain.lo, domain.hi)
    if domain.kind == "integer":
        return f"{interval(domain.lo, domain.hi)} whole"
    if domain.kind == "choice":
        return "one of " + ", ".join(domain.options)
    if domain.options == PREFECTURE_LIST:
        return "prefecture list"
    return "list of " + ", ".join(domain.options)


def _run_key(name: str, field: Any, comment: str, base: Scenario, given: dict[str, Any]) -> Key:
    from qhsim.dashboard.i18n import TEXT  # the dashboard's names of run settings (scale, seed)

    lo, hi, lo_open, hi_open = field_bounds(field.metadata)
    kind = "text" if field.annotation is str else "integer" if field.annotation is int else "number"
    allowed = ("text" if kind == "text" else f"{number(lo)} only" if lo == hi
               else interval(lo, hi, lo_open, hi_open) + (" whole" if kind == "integer" else ""))
    zh, en = TEXT.get(name, ("", ""))
    value = value_text(getattr(base.run, name)) + ("" if name in given else " (default)")
    return Key(f"run.{name}", zh, en, "", allowed, kind, lo, hi, lo_open, hi_open, (), False, value, comment, "")


@cache
def keys() -> dict[str, list[Key]]:
    """Every key a scenario may set, by table ("run", "macro", "policy.<section>"), in schema order."""
    base = baseline()
    given = resolve_raw(BASELINE)
    comments = schema_comments()
    _, sources = file_comments(BASELINE)
    out = {"run": [_run_key(name, field, comments["Run"].get(name, ""), base, given.get("run", {}))
                   for name, field in Run.model_fields.items()]}
    labels = catalogue()["levers"]
    tables = [("macro", Macro, base.macro, catalogue()["macro"])] + [
        (f"policy.{section}", field.annotation, getattr(base.policy, section), labels[section])
        for section, field in Policy.model_fields.items()]
    for table_name, model, values, label in tables:
        rows = []
        for name, field in model.model_fields.items():
            path = f"{table_name}.{name}"
            lab = label.get(name, {})
            domains = [m for m in field.metadata if isinstance(m, Domain)]
            if domains:
                d = domains[0]
                kind, lo, hi, lo_open, hi_open, options = d.kind, d.lo, d.hi, False, False, d.options
                allowed, scheduled = domain_text(d), True
            elif path in LIST_RULES:
                allowed, lo, hi, lo_open, hi_open = LIST_RULES[path]
                kind, options, scheduled = "list", (), False
            else:
                raise SystemExit(f"{path}: a schema field without a Domain and without an entry in LIST_RULES")
            unit = lab.get("unit_en") or lab.get("unit", "")
            rows.append(Key(path, lab.get("zh", ""), lab.get("en", ""), unit, allowed, kind, lo, hi, lo_open,
                            hi_open, options, scheduled, value_text(getattr(values, name)),
                            comments[model.__name__].get(name, ""), sources.get(path, "")))
        out[table_name] = rows
    return out


@cache
def baseline() -> Scenario:
    """scenarios/baseline.toml, validated."""
    return scenario_from_dict(resolve_raw(BASELINE), BASELINE)


def variant_error(change: dict[str, Any], origin: str = "my_variant.toml") -> str:
    """The loader's message for a variant of the baseline that makes ``change`` (a bad value)."""
    try:
        scenario_from_dict(deep_merge(resolve_raw(BASELINE), change), origin)
    except InputError as exc:
        return str(exc)
    raise SystemExit(f"{change}: expected the loader to refuse it")


def mistake(example: tuple[str, str]) -> dict[str, Any]:
    """The variant table of an ERROR_EXAMPLES entry."""
    path, how = example
    key = next(k for rows in keys().values() for k in rows if k.path == path)
    *tables, name = path.split(".")
    if how == "typo":
        name, value = name[:-2] + name[-1] + name[-2], baseline_at(path, 2026)  # budget -> budgte
    elif how == "above":
        value = key.hi + 0.5
    elif how == "fraction":
        value = baseline_at(path, 2026) + 0.5
    else:
        value = key.lo
    value = {"2026": value} if key.scheduled and how != "typo" else value
    change: dict[str, Any] = {name: value}
    for table in reversed(tables):
        change = {table: change}
    return change


def baseline_at(path: str, year: int) -> Any:
    """The baseline's value of ``path`` in ``year``."""
    value: Any = baseline()
    for part in path.split("."):
        value = getattr(value, part)
    return value.at(year) if isinstance(value, Schedule) else value


def _toml_lines(change: dict[str, Any], prefix: str = "") -> list[str]:
    """``change`` written as a variant file would write it (tables, then key = value)."""
    lines = []
    for key, value in change.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and not all(k.isdigit() for k in value):
            inner = [f"{k} = {_toml_value(v)}" for k, v in value.items() if not _is_table(v)]
            if inner:
                lines += [f"[{path}]", *inner]
            lines += _toml_lines({k: v for k, v in value.items() if _is_table(v)}, path)
    return lines


def _is_table(value: Any) -> bool:
    return isinstance(value, dict) and not all(k.isdigit() for k in value)


def _toml_value(value: Any) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, str):
        return f'"{value}"'
    return number(value) if isinstance(value, int | float) and not isinstance(value, bool) else repr(value)


def odd_section(marker: str) -> str:
    """The number of the ODD section that holds ``marker`` (e.g. "7.9")."""
    text = ODD.read_text(encoding="utf-8")
    before = text[: text.index(marker)]
    headings = re.findall(r"^#{2,4} (\d+(?:\.\d+)*)\b", before, re.M)
    return headings[-1]


# --- the document -------------------------------------------------------------------------------------------


def intro() -> list[str]:
    base = baseline()
    shipped = sorted(p for p in SCENARIOS.glob("*.toml"))
    geo = data.prefectures()
    n_sections = len(Policy.model_fields)
    errors = [(_toml_lines(change), variant_error(change)) for change in map(mistake, ERROR_EXAMPLES)]
    out = [
        "# Scenario reference 情景文件参考",
        "",
        paragraph("<!-- Generated by docs/scenario_reference.py from qhsim/config/schema.py, qhsim/config/levers.toml "
                  "and scenarios/*.toml. Do not edit: run `python docs/scenario_reference.py`; tests/test_docs.py "
                  "fails while this file is out of date. -->"),
        "",
        "## Scenario files 情景文件",
        "",
        paragraph("A scenario is a text file in TOML format (saved as UTF-8) that sets every policy instrument and "
                  "assumption of one simulated future of Qinghai's innovation system, 2015 to the end year. It has "
                  f"the tables `[run]` (name, horizon, seeds), `[macro]` (growth assumptions), {n_sections} "
                  "`[policy.*]` tables (the levers) and, rarely, `[parameters]` (model parameters). This file lists "
                  "every key each table may hold."),
        "",
        paragraph("The shipped scenarios are in `scenarios/`; copy one to start your own:"),
        "",
    ]
    rows = [[f"`scenarios/{p.name}`", scenario_from_dict(resolve_raw(p), p).run.description] for p in shipped]
    out += [table(["file", "what it sets"], rows), ""]
    out += [
        "### `extends`: start from another file",
        "",
        paragraph('A variant names its base with `extends = "baseline.toml"` (a file in the same folder as the '
                  "variant) and then writes only what it changes; everything else comes from the base. Tables "
                  "merge key by key, so `[policy.vouchers]` with one key changes that key alone. A variant may "
                  "extend another variant. A file without `extends` must give `[macro]` and every `[policy.*]` "
                  "table in full (`[run]` and `[parameters]` may be left out)."),
        "",
        "### Year schedules",
        "",
        paragraph("Every key of `[macro]` and `[policy.*]` except the two tier lists of `[policy.rd_reward]` takes "
                  "either one value, in force every year (`rate = 0.1`), or a year schedule such as "
                  "`general = { 2015 = 0.75, 2023 = 1.0 }`: a value holds from its year until the next one (0.75 "
                  "for 2015-2022, 1.0 from 2023 on), and the first value also applies before its year. Years lie "
                  f"in {YEAR_RANGE[0]}-{YEAR_RANGE[1]}."),
        "",
        paragraph("In a variant, a schedule replaces the base's from its first year on: `general = { 2026 = 1.2 }` "
                  "keeps the baseline's values up to 2025 and sets 1.2 from 2026. A single value replaces the whole "
                  "schedule, including 2015-2025, the years the model is calibrated on and policies were as enacted; "
                  "to change policy from a future year, write `{ year = value }`."),
        "",
        "### Numbers and units 单位",
        "",
        "- " + paragraph("Shares are fractions: `0.15` means 15%. A super-deduction of `1.0` deducts an extra 100% "
                         "of R&D expenses.", "  "),
        "- " + paragraph("Money is in 万元 (10,000 yuan) throughout. 1亿元 (100 million yuan) = 10000 万元, so a "
                         "budget of 1.5亿元 a year is `budget = 15000`. A budget is per year; caps, grants and "
                         "subsidies state their base (per firm, per person, per deal) in the unit column. No budget "
                         f"may exceed {number(MAX_BUDGET)} 万元 ({number(MAX_BUDGET / 1e4)}亿元).", "  "),
        "- " + paragraph("Counts (people, firms, platforms a year) and years are whole numbers: `whole` in the "
                         "allowed column; `2.5` is refused there.", "  "),
        "- " + paragraph("A prefecture list names prefectures by id, e.g. `prefectures = [\"haixi\", \"haidong\"]`; "
                         "`[\"all\"]` means every prefecture. In a variant the list replaces the base's: "
                         "`prefectures = { 2026 = [\"haidong\"] }` also ends the baseline's Haixi programme from 2026; "
                         "to add Haidong, write `{ 2026 = [\"haixi\", \"haidong\"] }` (the loader warns when a "
                         "variant's list drops a prefecture its base lists). The ids:", "  "),
        "",
        table(["id", "prefecture"], [[f"`{p.id}`", f"{p.zh} {p.en}"] for p in geo]),
        "",
        *targetable(),
        "### Run and compare",
        "",
        "```sh",
        "qhsim run scenarios/super_deduction_120.toml                   # results under results/",
        "qhsim run my_variant.toml --scale 0.1 --end-year 2030          # a quick look",
        "qhsim compare scenarios/baseline.toml my_variant.toml scenarios/vouchers_expanded.toml",
        "```",
        "",
        paragraph("`qhsim run` simulates one scenario and writes its indicators, charts and reports; `qhsim compare` "
                  "runs a base and one or more designs under common random numbers and reports each design's "
                  "changes with 90% intervals, public cost and R&D per public yuan. `qhsim run --help` lists the "
                  "options. The dashboard (`qhsim dashboard`) edits the same `[policy.*]` levers and saves a "
                  "scenario file."),
        "",
        "### Bad values are refused",
        "",
        paragraph("A value outside its allowed range, a fraction where a whole number is due, or an unknown key "
                  "stops the run before it starts, with one line naming the file, the key, the value and the "
                  "allowed range. For example, in a file `my_variant.toml` that extends the baseline:"),
        "",
    ]
    for lines, message in errors:
        out += ["```toml", *lines, "```", "", "```text", *wrap(message, WIDTH), "```", ""]
    out += [
        "### Reading the tables",
        "",
        "- " + paragraph("**key · 名称 · name**: the key as written in the table named in the heading "
                         "(`standard_rate = 0.25` under `[policy.tax]`), then its Chinese and English name from "
                         "the lever catalogue `qhsim/config/levers.toml` (the names the dashboard shows; those of "
                         "`[macro]` from its `[macro]` table).", "  "),
        "- " + paragraph("**allowed**: the range the loader enforces; `[a, b]` includes both ends, `(a, b]` "
                         "excludes a; `whole`: a whole number.", "  "),
        "- " + paragraph("**yr?**: `yes` if the key takes a year schedule.", "  "),
        "- " + paragraph("**unit**: `—` where the lever catalogue gives none (a choice, a list, the run "
                         "settings).", "  "),
        "- " + paragraph(f"**baseline**: the value in `scenarios/{BASELINE.name}` (run name `{base.run.name}`): "
                         "one value, or `year: value` pairs, each holding until the next. A `[run]` key the file "
                         "leaves out shows its default.", "  "),
        "- " + paragraph("**Notes and sources** under a table: the schema's comment on a key, then the baseline "
                         "line's source. `seed 001:L2662` is line 2662 of seed document 001 (docs/sources/seeds); "
                         "`assumption` marks a value the documents do not state.", "  "),
        "",
    ]
    return out


def targetable() -> list[str]:
    """The instruments that take a prefecture list (``qhsim.config.prefecture_lists``), with the baseline's list."""
    by_path, names = {k.path: k for rows in keys().values() for k in rows}, catalogue()["sections"]
    rows = [[f"`{path}`", f"{names[path.split('.')[1]]['zh']} {names[path.split('.')[1]]['en']}", by_path[path].baseline]
            for path in prefecture_lists()]
    return [
        "#### Instruments that can target prefectures 可按地区实施的工具",
        "",
        paragraph("Only these keys take a prefecture list; every other instrument (vouchers, grants, tax rules, "
                  "talent programmes) applies in every prefecture alike, and a `prefectures` key in its table is "
                  "refused as unknown."),
        "",
        table(["key", "instrument", "baseline"], rows),
        "",
    ]


def key_table(rows: list[Key]) -> list[str]:
    body = [["\n".join(filter(None, [f"`{k.name}`", k.zh, k.en])), k.unit or "—", k.allowed,
             "yes" if k.scheduled else "no", k.baseline] for k in rows]
    lead = max(KEY_COLUMN, *(width(k.name) + 2 for k in rows))
    out = [table(["key · 名称 · name", "unit", "allowed", "yr?", "baseline"], body, lead), ""]
    notes = []
    for k in rows:
        parts = [k.note[:1].upper() + k.note[1:] if k.note else "", f"Baseline: {k.source}" if k.source else ""]
        if any(parts):
            notes.append("- " + paragraph(f"`{k.name}`: " + ". ".join(p.rstrip(".") for p in parts if p) + ".", "  "))
    if notes:
        out += ["Notes and sources:", "", *notes, ""]
    return out


def section_intro(doc: str | None, block: str, title: str = "") -> list[str]:
    """The schema class's docstring (unless it only repeats ``title``) and the baseline's comment on the table."""
    out = []
    text = re.sub(r"^\[[\w.]+\]:\s*", "", " ".join((doc or "").split()))
    if text and text.rstrip(".").lower() != title.lower():
        out += [paragraph(text[:1].upper() + text[1:]), ""]
    if block:
        out += [paragraph(f"In the baseline: {block.rstrip(':')}" + ("" if block.endswith(".") else ".")), ""]
    return out


def sections() -> list[str]:
    all_keys = keys()
    blocks, _ = file_comments(BASELINE)
    cat = catalogue()
    out = [
        "## `[run]` 运行设置",
        "",
        *section_intro(Run.__doc__, blocks.get("run", "")),
        paragraph("Not year schedules. On the command line `--seed`, `--population-seed`, `--scale` and "
                  "`--end-year` override them for one run."),
        "",
        *key_table(all_keys["run"]),
        "## `[macro]` 宏观假设",
        "",
        *section_intro(Macro.__doc__, blocks.get("macro", "")),
        *key_table(all_keys["macro"]),
    ]
    for group in cat["groups"].values():
        out += [f"## {group['zh']} {group['en']}", ""]
        for section in group["sections"]:
            label = cat["sections"][section]
            model = Policy.model_fields[section].annotation
            out += [f"### `[policy.{section}]` {label['zh']} {label['en']}", "",
                    *section_intro(model.__doc__, blocks.get(f"policy.{section}", ""), label["en"]),
                    *key_table(all_keys[f"policy.{section}"])]
    return out


def parameters() -> list[str]:
    table_ = model_parameters()
    files = {name: data.quantities(name) for name in PARAMETER_FILES}
    settable = {n: q for n, q in table_.items() if not isinstance(q["value"], list)}
    unbounded = [n for n, q in settable.items() if "range" not in q]
    lists = [n for n, q in table_.items() if isinstance(q["value"], list)]
    example = next(n for n, q in data.quantities("behaviour").items() if "range" in q and "zh" in q)
    q = table_[example]
    lo, hi = q["range"]
    odd_behaviour = odd_section("<!-- parameter table: start -->")
    odd_knowledge = odd_section("<!-- knowledge parameter tables: start -->")
    counts = ", ".join(f"{len(v)} in `qhsim/data/{name}.toml`" for name, v in files.items())
    message = variant_error({"parameters": {example: hi * 2}})
    out = [
        "## `[parameters]` 模型参数",
        "",
        paragraph("Model parameters are not policy: they describe how firms, people and institutions behave, and "
                  "`qhsim calibrate` estimates the free ones. A scenario may still set one, for a what-if on the "
                  "model itself, in a `[parameters]` table of `name = value` lines:"),
        "",
        "```toml",
        "[parameters]",
        f"{example} = {number(lo + (hi - lo) / 2)}   # {q['zh']} {q['en']}: default {number(q['value'])}, "
        f"range [{number(lo)}, {number(hi)}]",
        "```",
        "",
        paragraph(f"The rule: the name is a single-number parameter of `qhsim/data/behaviour.toml` (listed in "
                  f"docs/ODD.md §{odd_behaviour}) or of `qhsim/data/talent.toml` and `qhsim/data/knowledge.toml` "
                  f"(§{odd_knowledge}), and the value lies within the `range` the table gives it. There are "
                  f"{len(table_)} parameters ({counts}); {len(lists)} of them are lists (year paths, tiers) and "
                  f"cannot be set here, which leaves {len(settable)}. Those without a range accept any number: "
                  + ", ".join(f"`{n}`" for n in unbounded) + ". Not year schedules: a value holds for the whole "
                  "run. It replaces the calibrated estimate (calibration/calibrated.toml) and, in an ensemble "
                  "(`--draws`), that parameter in every draw. Out of range:"),
        "",
        "```text",
        *wrap(message, WIDTH),
        "```",
        "",
    ]
    return out


def designs() -> list[str]:
    out = [
        "## Common designs 常见方案",
        "",
        paragraph("Minimal variants, as shipped in `scenarios/`: each extends the baseline and changes a few keys "
                  "from 2026 (the first year after the 14th Five-Year Plan)."),
        "",
    ]
    for name, what in DESIGNS:
        text = (SCENARIOS / name).read_text(encoding="utf-8").rstrip("\n")
        out += [f"**{what}** (`scenarios/{name}`):", "", "```toml", text, "```", ""]
    return out


def render() -> str:
    lines = [*intro(), *sections(), *parameters(), *designs()]
    return "\n".join(lines).rstrip("\n") + "\n"


def main() -> None:
    DOC.write_text(render(), encoding="utf-8")


if __name__ == "__main__":
    run_script(main)
