"""Names of the policy instruments 政策工具名称: the bilingual labels and units of every ``[policy.*]`` instrument,
from the lever catalogue ``levers.toml`` beside this module (the dashboard shows its levers; the sweep and
sensitivity tables name their instruments with it; kept here, outside the dashboard, so that those packages need
not import the dashboard, which imports them)."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

CATALOGUE = Path(__file__).resolve().with_name("levers.toml")


@cache
def catalogue() -> dict[str, Any]:
    """The parsed catalogue: ``groups``, ``sections`` and ``levers`` (by section, then instrument), and ``macro`` (the
    labels of the scenario's [macro] keys)."""
    with CATALOGUE.open("rb") as fh:
        return tomllib.load(fh)


def lever_names() -> dict[str, tuple[str, str]]:
    """``{"policy.<section>.<name>": (zh, en)}`` of every instrument."""
    return {f"policy.{section}.{name}": (label["zh"], label["en"])
            for section, names in catalogue()["levers"].items() for name, label in names.items()}


def instrument_label(paths: str | tuple[str, ...]) -> tuple[str, str] | None:
    """Chinese and English names of an instrument path with its section and unit (``高端创新人才千人计划·引进拔尖
    人才名额 (人/年)``, ``Thousand Talents plan: Introduced, top-notch (persons/yr)``); for several paths moved
    together (a tied lever) their section's name if they share one; ``None`` for a path that is not in the
    catalogue or paths of several sections."""
    paths = (paths,) if isinstance(paths, str) else tuple(paths)
    cat = catalogue()
    parts = [p.split(".") for p in paths]
    if not parts or any(len(x) != 3 or x[0] != "policy" or x[2] not in cat["levers"].get(x[1], {}) for x in parts):
        return None
    if len({x[1] for x in parts}) != 1:
        return None
    section = cat["sections"][parts[0][1]]
    if len(parts) > 1:
        return f"{section['zh']}（{len(parts)}项联动）", f"{section['en']} ({len(parts)} tied)"
    lab = cat["levers"][parts[0][1]][parts[0][2]]
    unit_zh = f" ({lab['unit']})" if lab.get("unit") else ""
    unit_en = f" ({lab['unit_en']})" if lab.get("unit_en") else ""
    return f"{section['zh']}·{lab['zh']}{unit_zh}", f"{section['en']}: {lab['en']}{unit_en}"
