"""Base data 基础数据: loaders for the TOML files in this folder (format: README.md here).

Every number carries a unit and a source; ``quantities`` refuses a file whose entries lack one.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from qhsim.errors import InputError

DATA_DIR = Path(str(resources.files("qhsim.data")))
QUANTITY_KEYS = ("value", "unit", "source")


@cache
def load(name: str) -> dict[str, Any]:
    """Parse ``qhsim/data/<name>.toml`` (cached; treat the result as read-only)."""
    path = DATA_DIR / f"{name}.toml"
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise InputError(f"{path}: data file missing") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML: {exc}") from None


def quantities(name: str) -> dict[str, dict[str, Any]]:
    """The quantity tables of a data file, checked to carry value, unit and source."""
    table = load(name)
    for key, entry in table.items():
        missing = [k for k in QUANTITY_KEYS if not isinstance(entry, dict) or k not in entry]
        if missing:
            raise InputError(f"{DATA_DIR / name}.toml: {key}: missing {', '.join(missing)}")
    return table


def values(name: str) -> dict[str, Any]:
    """``{key: value}`` of a quantity file."""
    return {key: entry["value"] for key, entry in quantities(name).items()}


@dataclass(frozen=True)
class Prefecture:
    id: str
    zh: str
    en: str
    population: float  # 万人, as printed in seed 001
    gdp_share: float
    enterprise_share: float
    sector_affinity: dict[str, float]
    business_rd_share_2015: float | None = None  # pinned share of the province's end-2015 business R&D, if known
    hte_share_2015: float | None = None  # pinned share of the province's end-2015 HTEs, if known
    firm_size_factor: float = 1.0  # multiplier on the revenue of the prefecture's firms (sector medians x this)


@dataclass(frozen=True)
class Sector:
    id: str
    zh: str
    en: str
    industrial: bool
    manufacturing: bool
    excluded_from_deduction: float
    firm_share: float
    revenue_median: float
    revenue_sigma: float
    rd_logit: float
    rd_intensity: float
    hitech_alpha: float
    hitech_beta: float
    growth_premium: float
    revenue_per_employee: float
    encouraged_share: float


@cache
def prefectures() -> tuple[Prefecture, ...]:
    """The 8 prefecture-level units in a fixed order (their index is the firm's ``pref`` code)."""
    return tuple(
        Prefecture(**{k: row[k] for k in Prefecture.__dataclass_fields__ if k in row})
        for row in load("geography")["prefecture"]
    )


@cache
def sectors() -> tuple[Sector, ...]:
    """The sectors in a fixed order (their index is the firm's ``sector`` code)."""
    return tuple(Sector(**{k: row[k] for k in Sector.__dataclass_fields__}) for row in load("sectors")["sector"])


def prefecture_ids() -> tuple[str, ...]:
    return tuple(p.id for p in prefectures())


CAPITAL_ID = "xining"  # 西宁, the provincial capital: the "weak prefectures" of the selection rules are the others


def capital() -> int:
    """Index of the provincial capital (``CAPITAL_ID``) in geography.toml order: the one prefecture that is not "weak"
    in the weak_prefecture_first rules of grants and competitive research funding (seed 003:L939)."""
    return prefecture_ids().index(CAPITAL_ID)


def prefecture_multiplier(prefecture_id: str, value: float) -> np.ndarray:
    """One multiplier per prefecture (geography.toml order): ``value`` for ``prefecture_id``, 1 for the others
    (a prefecture-level lever such as ``haidong_patent_factor``; all ones, an identity, at value 1)."""
    out = np.ones(len(prefectures()))
    out[prefecture_ids().index(prefecture_id)] = value
    return out


def sector_ids() -> tuple[str, ...]:
    return tuple(s.id for s in sectors())


def observed(series: str) -> dict[int, float]:
    """Observed anchor values of a macro series, ``{year: value}``."""
    return {int(y): float(v) for y, v in load("macro")[series]["values"].items()}


def fingerprints() -> dict[str, str]:
    """sha256 of every data file, recorded in run manifests as the data version."""
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(DATA_DIR.glob("*.toml"))
    }
