"""Rewrite the parameter tables of docs/ODD.md from the data files: §7.9 from qhsim/data/behaviour.toml, §7.11.1
from qhsim/data/talent.toml, knowledge.toml and institutions.toml.

Run after changing a parameter: ``python docs/parameter_table.py``. tests/test_docs.py checks they agree.
"""

from __future__ import annotations

import re
from pathlib import Path

from qhsim import data
from qhsim.cli import run_script
from qhsim.knowledge.params import PARAMETER_FILES, institution_rows

ODD = Path(__file__).with_name("ODD.md")
START, END = "<!-- parameter table: start -->", "<!-- parameter table: end -->"
KNOWLEDGE_START, KNOWLEDGE_END = "<!-- knowledge parameter tables: start -->", "<!-- knowledge parameter tables: end -->"


def table() -> str:
    return "\n".join(quantity_table("behaviour"))


def quantity_table(name: str) -> list[str]:
    """The Markdown table of a data file's quantities (qhsim/data/<name>.toml): value, unit, range, source."""
    return ["| parameter | value | unit | range | source |", "|---|---|---|---|---|",
            *(f"| `{key}` | {q['value']} | {q['unit']} | {range_cell(q)} | {q['source']} |"
              for key, q in data.quantities(name).items())]


def range_cell(q: dict) -> str:
    """The plausible range with the data file's ``note`` on how to read it (a list's range is often a multiplier
    on each element, e.g. [0.7, 1.4] on the wage multipliers [1.0, 1.8, 3.0, 5.0]), so the two never disagree."""
    rng = q.get("range", "")
    return f"{rng} ({q['note']})" if rng != "" and q.get("note") else f"{rng}"


def knowledge_tables() -> str:
    """Markdown tables of every knowledge-system parameter (talent.toml, knowledge.toml) and institution
    (institutions.toml), as printed in docs/ODD.md §7.11.1."""
    lines = []
    for name in PARAMETER_FILES:
        lines += [f"**`qhsim/data/{name}.toml`**", "", *quantity_table(name), ""]
    lines += ["**`qhsim/data/institutions.toml`** (R&D before normalisation to public R&D 2015; funding shares "
              "institutional / competitive / enterprise / other)", "",
              "| id | name | kind | owner | prefecture | R&D 2015 (万元) | funding shares | graduates/yr | transfer "
              "capacity | national / key labs / centres | patents | source |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    pref_ids = data.prefecture_ids()
    raw = {r["id"]: r for r in data.load("institutions")["institution"]}
    for r in institution_rows():
        shares = " / ".join(f"{s:g}" for s in r.shares)
        lines.append(
            f"| `{r.id}` | {r.zh} {r.en} | {r.kind} | {r.owner} | {pref_ids[r.pref]} | {r.rd_2015:g} | {shares} | "
            f"{r.graduates:g} | {r.tto_capacity:g} | {r.national} / {r.key_labs} / {r.ercs} | {r.patents} | "
            f"{raw[r.id]['source']} |"
        )
    return "\n".join(lines)


def replace_between(text: str, start: str, end: str, body: str) -> str:
    """``text`` with what lies between the markers ``start`` and ``end`` replaced by ``body``."""
    return re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: f"{start}\n{body}\n{end}", text, flags=re.S)


def main() -> None:
    text = ODD.read_text(encoding="utf-8")
    text = replace_between(text, START, END, table())
    text = replace_between(text, KNOWLEDGE_START, KNOWLEDGE_END, knowledge_tables())
    ODD.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    run_script(main)
