"""The result of one simulation run: the contract between the model and everything downstream.

Data flow: scenario file -> validated config -> model -> ``RunResult`` -> reports, exports, analysis.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

PROVINCE = "province"
FISCAL_PREFIXES = ("spend_", "tax_expenditure_")  # the indicator columns of public spending and tax expenditure


@dataclass
class RunResult:
    """Yearly indicators of one run plus what is needed to reproduce it.

    ``indicators`` is a tidy wide table: one row per (year, region), with ``region`` either
    ``"province"`` or a prefecture id from ``qhsim/data/geography.toml``, and one float column per
    indicator key of ``qhsim/data/indicators.toml`` (NaN where an indicator is not modelled).
    Years run from the scenario's start year (the initial state, end of that year) to its end year.
    """

    scenario_name: str
    scenario: dict[str, Any]  # the scenario as resolved (extends applied, defaults filled)
    seed: int
    indicators: pd.DataFrame
    run_seconds: float
    meta: dict[str, Any] = field(default_factory=dict)  # versions, data file hashes, parameter draw id, ...

    def province(self) -> pd.DataFrame:
        """Province rows indexed by year."""
        df = self.indicators
        return df[df["region"] == PROVINCE].set_index("year").drop(columns="region")

    def region(self, region: str) -> pd.DataFrame:
        """Rows of one region indexed by year."""
        df = self.indicators
        return df[df["region"] == region].set_index("year").drop(columns="region")
