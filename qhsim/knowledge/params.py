"""Parameters and institution rows of the knowledge system 知识与人才系统参数.

Structural and behavioural numbers live in ``qhsim/data/talent.toml`` and ``qhsim/data/knowledge.toml``
(quantity convention, qhsim/data/README.md); the named institutions in ``qhsim/data/institutions.toml``.
A scenario's ``[parameters]`` table may override any of them by name (checked in the schema).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from types import SimpleNamespace
from typing import Any

import numpy as np

from qhsim import data
from qhsim.errors import InputError

PARAMETER_FILES = ("talent", "knowledge")
SOURCES = ("institutional", "competitive", "enterprise", "other")
KINDS = ("university", "institute")
OWNERS = ("provincial", "central", "prefecture")


def knowledge_parameters(overrides: dict[str, float] | None = None) -> SimpleNamespace:
    """Values of talent.toml and knowledge.toml with a scenario's overrides (names are unique across files)."""
    values: dict[str, Any] = {}
    for name in PARAMETER_FILES:
        values.update(data.values(name))
    for key, value in (overrides or {}).items():
        if key in values:
            values[key] = value
    return SimpleNamespace(**values)


@dataclass(frozen=True)
class InstitutionRow:
    id: str
    zh: str
    en: str
    kind: str
    owner: str
    pref: int
    rd_2015: float
    shares: tuple[float, float, float, float]  # institutional, competitive, enterprise, other
    national_competitive: float
    graduates: float
    tto_capacity: float
    national: int
    key_labs: int
    ercs: int
    patents: int
    fields: np.ndarray  # weight per sector (sums to 1)
    platform_prefs: np.ndarray  # weight per prefecture (sums to 1)


@cache
def institution_rows() -> tuple[InstitutionRow, ...]:
    """The named institutions (institutions.toml), checked."""
    table = data.load("institutions")
    pref_ids, sec_ids = data.prefecture_ids(), data.sector_ids()
    rows = []
    for raw in table["institution"]:
        where = f"{data.DATA_DIR / 'institutions.toml'}: institution {raw.get('id', '?')}"
        if "source" not in raw:
            raise InputError(f"{where}: missing source")
        if raw["kind"] not in KINDS or raw["owner"] not in OWNERS or raw["pref"] not in pref_ids:
            raise InputError(f"{where}: kind, owner or pref not recognised")
        shares = tuple(float(raw[f"share_{s}"]) for s in SOURCES)
        if abs(sum(shares) - 1.0) > 1e-9:
            raise InputError(f"{where}: funding shares sum to {sum(shares)}, expected 1")
        unknown = set(raw["fields"]) - set(sec_ids)
        if unknown:
            raise InputError(f"{where}: unknown sectors in fields: {sorted(unknown)}")
        fields = np.array([float(raw["fields"].get(s, 0.0)) for s in sec_ids])
        pp = raw.get("platform_prefs", {raw["pref"]: 1.0})
        pprefs = np.array([float(pp.get(p, 0.0)) for p in pref_ids])
        rows.append(
            InstitutionRow(
                id=raw["id"], zh=raw["zh"], en=raw["en"], kind=raw["kind"], owner=raw["owner"],
                pref=pref_ids.index(raw["pref"]), rd_2015=float(raw["rd_2015"]), shares=shares,
                national_competitive=float(raw["national_competitive"]), graduates=float(raw["graduates"]),
                tto_capacity=float(raw["tto_capacity"]), national=int(raw["national"]),
                key_labs=int(raw["key_labs"]), ercs=int(raw["ercs"]), patents=int(raw["patents"]),
                fields=fields / fields.sum(), platform_prefs=pprefs / pprefs.sum(),
            )
        )
    return tuple(rows)


@cache
def population_shares() -> np.ndarray:
    """Prefecture shares of the province's population (geography.toml, as printed in seed 001)."""
    pop = np.array([p.population for p in data.prefectures()])
    return pop / pop.sum()
