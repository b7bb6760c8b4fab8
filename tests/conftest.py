"""Shared test helpers: scenario paths, behavioural parameters, tiny and random firm populations."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import qhsim  # noqa: F401  (before NumPy: one floating-point path on every machine, qhsim/cpu.py)
import numpy as np
import pytest

from qhsim import data
from qhsim.config import load_scenario
from qhsim.firms import behaviour
from qhsim.firms.state import COLUMNS, FirmPopulation
from qhsim.policy import PolicyYear, policy_at

ROOT = Path(__file__).resolve().parents[1]
# the browser fixtures (server, browser, dash) registered once for every test module: a session fixture imported into
# two modules is two fixtures, and the second Playwright session then fails inside the first one's event loop
pytest_plugins = ["browser_harness"]

# Tests check mechanisms against the documented behaviour.toml defaults, whatever calibration/calibrated.toml
# holds today (its use as the default is tested in test_model.py with the variable set explicitly).
os.environ["QHSIM_CALIBRATED"] = "off"
SCENARIOS = ROOT / "scenarios"

PREF = {p.id: i for i, p in enumerate(data.prefectures())}
SECTOR = {s.id: i for i, s in enumerate(data.sectors())}


def benchmark_script(name: str) -> ModuleType:
    """``benchmarks/<name>.py`` imported as a module (the scripts are not a package), registered in ``sys.modules``
    (dataclasses look their module up)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def knowledge_columns(public_rd: np.ndarray | float = 0.0) -> dict[str, np.ndarray]:
    """Knowledge-system columns for ``indicators.compute`` on a hand-built firm population: public R&D (亿元) per
    prefecture in geography.toml order (a number: the same in every one), the province's total first."""
    per_pref = np.broadcast_to(np.asarray(public_rd, dtype=float), (len(PREF),))
    return {"public_rd": np.concatenate([[per_pref.sum()], per_pref])}


def policy(scenario: str, year: int) -> PolicyYear:
    """The policy of ``scenarios/<scenario>.toml`` in ``year``."""
    return policy_at(load_scenario(SCENARIOS / f"{scenario}.toml"), year)


def default_behaviour(**overrides: float) -> SimpleNamespace:
    """Behavioural parameters of behaviour.toml, with overrides."""
    return behaviour({**data.values("behaviour"), **overrides})


# A plain firm: services in Xining, 1,000万元 revenue, no R&D, no certificates.
FIRM_DEFAULTS: dict[str, Any] = {
    "pref": PREF["xining"],
    "sector": SECTOR["services"],
    "birth": 2000,
    "revenue": 1000.0,
    "rev_l1": 1000.0,
    "rev_l2": 1000.0,
    "margin": 0.05,
    "employees": 50.0,
    "eta": 0.0,
    "tech_orient": 0.5,
    "hitech_share": 0.5,
    "encouraged": False,
    "deduct_excluded": False,
    "rd_active": False,
    "rd_int": 0.0,
    "rd": 0.0,
    "rd_l1": 0.0,
    "rd_l2": 0.0,
    "knowledge": 0.0,
    "ip": 0,
    "innovated": False,
    "subsidy_l1": 0.0,
    "subsidy": 0.0,
    "voucher": False,
    "hte_until": 0,
    "hte_since": 0,
    "tbe_until": 0,
    "sme_year": 0,
    "giant_until": 0,
}


def _complete(cols: dict[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
    """Fill columns added to COLUMNS after these helpers were written: ``anchor`` (log normal size) from
    revenue, anything else with zeros."""
    for name, dtype in COLUMNS.items():
        if name not in cols:
            cols[name] = np.log(cols["revenue"]) if name == "anchor" else np.zeros(n, dtype=dtype)
    return cols


def make_firms(*rows: dict[str, Any]) -> FirmPopulation:
    """A population with one firm per ``row`` (columns not given take FIRM_DEFAULTS); uid = position."""
    for row in rows:
        unknown = set(row) - set(COLUMNS)
        assert not unknown, f"unknown firm columns {unknown}"
    names = set(FIRM_DEFAULTS) | {name for row in rows for name in row}
    cols = {name: np.array([row.get(name, FIRM_DEFAULTS.get(name)) for row in rows]) for name in names}
    cols["uid"] = np.arange(len(rows))
    return FirmPopulation(_complete(cols, len(rows)))


def random_population(rng: np.random.Generator, n: int, year: int) -> FirmPopulation:
    """A varied population for kernel-vs-reference checks: every sector and prefecture, HTE holders in every
    phase of their certificate, losses, SMEs, firms on the deduction negative list, subsidised firms, firms
    near the HTE ratio and exactly on revenue band edges."""
    n_pref, n_sec = len(data.prefectures()), len(data.sectors())
    revenue = np.maximum(np.exp(rng.normal(np.log(1500.0), 1.8, n)), 1.0)
    edges = rng.random(n) < 0.03
    revenue[edges] = rng.choice([500.0, 2000.0, 5000.0, 10000.0, 20000.0], edges.sum())
    rev_l1 = revenue * np.exp(-rng.normal(0.05, 0.15, n))
    rev_l2 = rev_l1 * np.exp(-rng.normal(0.05, 0.15, n))
    margin = rng.normal(0.05, 0.10, n)
    margin[rng.random(n) < 0.03] = 0.0
    rd_active = rng.random(n) < 0.55
    had_rd = rng.random(n) < 0.8
    rd_l1 = np.where(had_rd, rev_l1 * rng.uniform(0.0, 0.08, n), 0.0)
    rd_l2 = np.where(had_rd & (rng.random(n) < 0.9), rev_l2 * rng.uniform(0.0, 0.08, n), 0.0)
    subsidised = rng.random(n) < 0.3
    subsidy_l1 = np.where(subsidised, np.maximum(rd_l1, 5.0) * rng.uniform(0.0, 3.0, n), 0.0)
    hte_until = rng.choice([0, 0, 0, year - 3, year - 2, year - 1, year, year + 1, year + 2], n)
    cols = {
        "uid": rng.permutation(n) * 3 + 11,
        "pref": rng.integers(0, n_pref, n),
        "sector": rng.integers(0, n_sec, n),
        "birth": year - rng.integers(0, 25, n),
        "revenue": revenue,
        "rev_l1": rev_l1,
        "rev_l2": rev_l2,
        "margin": margin,
        "employees": np.maximum(revenue / rng.uniform(20.0, 250.0, n), 1.0),
        "eta": rng.normal(0.0, 0.7, n),
        "tech_orient": rng.random(n),
        "hitech_share": rng.uniform(0.3, 1.0, n),
        "encouraged": rng.random(n) < 0.3,
        "deduct_excluded": rng.random(n) < 0.1,
        "rd_active": rd_active,
        "rd_int": rng.uniform(0.0, 0.12, n),  # stale for firms without R&D last year (ignored by the rule)
        "rd": np.where(rd_active, revenue * rng.uniform(0.0, 0.25, n), 0.0),
        "rd_l1": rd_l1,
        "rd_l2": rd_l2,
        "knowledge": revenue * rng.uniform(0.0, 1.5, n),
        "ip": rng.integers(0, 3, n),
        "innovated": rng.random(n) < 0.1,
        "subsidy_l1": subsidy_l1,
        "subsidy": np.zeros(n),
        "voucher": rng.random(n) < 0.1,
        "hte_until": hte_until,
        "hte_since": np.where(hte_until > 0, year - 4, 0),
        "tbe_until": rng.choice([0, 0, year - 1, year, year + 2], n),
        "sme_year": rng.choice([0, 0, year - 2, year - 1, year], n),
        "giant_until": rng.choice([0, 0, 0, 0, year - 1, year + 1], n),
    }
    # real R&D this year (no extra draw, so the columns above keep their values): intensities of 0-7.2%, around
    # the HTE thresholds
    cols["rd_real"] = np.where(rd_active, 0.6 * cols["rd_int"] * revenue, 0.0)
    return FirmPopulation(_complete(cols, n))


@pytest.fixture
def b() -> SimpleNamespace:
    return default_behaviour()
