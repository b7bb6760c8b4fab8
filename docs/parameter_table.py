"""Rewrite the parameter table of docs/ODD.md §7.9 from qhsim/data/behaviour.toml.

Run after changing a parameter: ``python docs/parameter_table.py``. tests/test_docs.py checks they agree.
"""

from __future__ import annotations

import re
from pathlib import Path

from qhsim import data
from qhsim.cli import run_script

ODD = Path(__file__).with_name("ODD.md")
START, END = "<!-- parameter table: start -->", "<!-- parameter table: end -->"


def table() -> str:
    lines = ["| parameter | value | unit | range | source |", "|---|---|---|---|---|"]
    for name, q in data.quantities("behaviour").items():
        lines.append(f"| `{name}` | {q['value']} | {q['unit']} | {q.get('range', '')} | {q['source']} |")
    return "\n".join(lines)


def main() -> None:
    text = ODD.read_text(encoding="utf-8")
    new = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: f"{START}\n{table()}\n{END}", text, flags=re.S)
    ODD.write_text(new, encoding="utf-8")


if __name__ == "__main__":
    run_script(main)
