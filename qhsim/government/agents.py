"""Government agents 政府主体 (MODEL.md §3): the provincial S&T department and the 8 prefecture
governments, as Mesa agents that hold budgets and record what each programme spent.

The province runs ex-ante grants, the ex-post subsidy, vouchers and new-HTE rewards; a prefecture runs
its own fund (Haixi's 3,000万元/yr special fund pays its R&D-intensity rewards, seed 004:L42-46).
"""

from __future__ import annotations

from collections import defaultdict

import mesa


class Government(mesa.Agent):
    """A government body with a yearly spending ledger by programme (万元, full-scale equivalent)."""

    def __init__(self, model: mesa.Model, region: str, zh: str, en: str):
        super().__init__(model)
        self.region = region
        self.label = f"{zh} {en}"
        self.spending: dict[str, float] = defaultdict(float)
        self.history: list[dict[str, float]] = []

    def record(self, programme: str, amount: float) -> None:
        self.spending[programme] += amount

    def close_year(self, year: int) -> None:
        self.history.append({"year": year, **self.spending})
        self.spending = defaultdict(float)


class ProvincialGovernment(Government):
    """青海省科学技术厅 Qinghai Provincial Department of Science and Technology."""

    def __init__(self, model: mesa.Model):
        super().__init__(model, "province", "青海省科学技术厅", "Provincial S&T Department")


class PrefectureGovernment(Government):
    """A prefecture-level government (市州政府) with its own S&T fund."""
