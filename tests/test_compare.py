"""Scenario comparison: differences, fiscal leverage, and the `qhsim compare` command."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from qhsim.output.compare import compare_table, leverage
from qhsim.results import PROVINCE

from conftest import SCENARIOS


def frame(business_rd: list[float], grants: list[float], tax: list[float]) -> pd.DataFrame:
    years = list(range(2024, 2024 + len(business_rd)))
    return pd.DataFrame({
        "year": years, "region": PROVINCE, "business_rd": business_rd, "rd_intensity": business_rd,
        "spend_ex_ante_grants": grants, "tax_expenditure_super_deduction": tax,
    })


def test_leverage_by_hand() -> None:
    base = frame([10.0, 11.0, 12.0], [1e4, 1e4, 1e4], [0.0, 0.0, 0.0])
    variant = frame([10.0, 12.0, 14.0], [1e4, 2e4, 2e4], [0.0, 1e4, 1e4])  # +1, +2 亿 R&D; +2, +2 亿 cost
    lev = leverage(base, variant)
    assert lev["first_year"] == 2025
    assert lev["extra_business_rd"] == pytest.approx(3.0)
    assert lev["extra_public_cost"] == pytest.approx(4.0)
    assert lev["leverage"] == pytest.approx(0.75)


def test_leverage_undefined_without_extra_cost() -> None:
    base = frame([10.0, 11.0], [1e4, 1e4], [0.0, 0.0])
    assert math.isnan(leverage(base, base)["first_year"])
    assert math.isnan(leverage(base, frame([10.0, 12.0], [1e4, 1e4], [0.0, 0.0]))["leverage"])


def test_compare_table_differences() -> None:
    base = frame([10.0, 11.0, 12.0], [1e4] * 3, [0.0] * 3)
    variant = frame([10.0, 12.5, 14.0], [1e4] * 3, [0.0] * 3)
    table = compare_table(base, variant, years=(2025, 2026)).set_index("indicator")
    assert table.at["business_rd", "base_2025"] == 11.0 and table.at["business_rd", "variant_2025"] == 12.5
    assert table.at["business_rd", "diff_2025"] == pytest.approx(1.5)
    assert table.at["business_rd", "diff_2026"] == pytest.approx(2.0)


def test_compare_command(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    proc = subprocess.run(
        [sys.executable, "-m", "qhsim.cli", "compare", str(SCENARIOS / "baseline.toml"),
         str(SCENARIOS / "super_deduction_120.toml"), "--scale", "0.05", "--end-year", "2028", "--out", str(out)],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "super_deduction_120" in proc.stdout and "leverage" in proc.stdout
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["leverage"]["first_year"] == 2026
    assert manifest["leverage"]["extra_public_cost"] > 0
    for name in ("comparison.csv", "comparison.txt", "base/indicators.csv", "variant/manifest.json"):
        assert (out / name).is_file(), name
