"""Scenario schema 情景结构: what a scenario file may say, with allowed ranges.

Money is in 万元 (10,000 yuan), rates are shares (0.25 = 25%). Every instrument is a year schedule
(``qhsim.config.schedule``). A scenario either ``extends`` another file or gives every section in full.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from qhsim import data
from qhsim.config.schedule import Choice, Int, Num

MAX_BUDGET = 1e7  # 万元 = 1,000亿元: far above any provincial programme
SELECTION_RULES = ("merit", "lottery", "sme_first", "weak_prefecture_first")


def _check_prefectures(value: list[str]) -> list[str]:
    allowed = ("all", *data.prefecture_ids())
    for pid in value:
        if pid not in allowed:
            raise ValueError(f"{pid!r} is not one of {', '.join(allowed)}")
    return value


PrefectureList = Annotated[list[str], AfterValidator(_check_prefectures)]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class Run(Section):
    """[run]: horizon, seed and scale."""

    name: str = ""
    description: str = ""
    start_year: int = Field(2015, ge=2015, le=2015)  # the initial state is end-2015 (MODEL.md §6)
    end_year: int = Field(2035, ge=2016, le=2060)
    seed: int = Field(20151231, ge=0, le=2**63 - 1)
    scale: float = Field(1.0, gt=0.0, le=1.0)  # share of the real population simulated


class Macro(Section):
    """[macro]: growth after the last observed year of each series (qhsim/data/macro.toml)."""

    gdp_growth: Num(-0.2, 0.3)  # nominal, per year
    population_growth: Num(-0.05, 0.05)
    employment_growth: Num(-0.05, 0.05)
    enterprise_growth: Num(-0.2, 0.3)  # enterprise legal persons, after the 2025 anchor
    public_rd_growth: Num(-0.3, 0.5)  # stand-in path for public R&D (until the knowledge system is modelled)


class Tax(Section):
    """[policy.tax]: enterprise income tax."""

    standard_rate: Num(0.0, 0.5)
    hte_rate: Num(0.0, 0.5)
    western_development_rate: Num(0.0, 0.5)
    small_profit_rate: Num(0.0, 0.5)  # effective rate of small low-profit enterprises (小型微利企业)
    small_profit_max_income: Num(0.0, 1e5)  # 万元 taxable income
    small_profit_max_employees: Int(0, 100000)


class SuperDeduction(Section):
    """[policy.super_deduction]: extra deduction of R&D expenses (加计扣除), share of R&D."""

    general: Num(0.0, 3.0)
    manufacturing: Num(0.0, 3.0)
    tech_sme: Num(0.0, 3.0)


class HighTech(Section):
    """[policy.hte]: high-tech enterprise certification (国科发火〔2016〕32号) and rewards."""

    rd_ratio_small: Num(0.0, 0.5)  # 3-year R&D / revenue, revenue <= band_small
    rd_ratio_medium: Num(0.0, 0.5)
    rd_ratio_large: Num(0.0, 0.5)  # revenue > band_large
    band_small: Num(0.0, 1e7)  # 万元
    band_large: Num(0.0, 1e7)  # 万元
    st_staff_share: Num(0.0, 1.0)
    hitech_revenue_share: Num(0.0, 1.0)
    validity_years: Int(1, 10)
    reward_new: Num(0.0, 1e4)  # 万元 one-off to a newly certified HTE


class ExAnteGrants(Section):
    """[policy.ex_ante_grants]: competitive project grants decided before the R&D is done (事前立项)."""

    budget: Num(0.0, MAX_BUDGET)
    grant_size: Num(1.0, 1e5)
    cofunding_ratio: Num(0.0, 10.0)  # own funds per yuan of grant (>= 1 in Qinghai, seed 001:L2662)
    selection: Choice(*SELECTION_RULES)


class ExPostSubsidy(Section):
    """[policy.ex_post_subsidy]: subsidy on R&D already done (后补助), pro rata if over budget."""

    rate: Num(0.0, 1.0)
    cap: Num(0.0, 1e5)  # 万元 per firm per year
    budget: Num(0.0, MAX_BUDGET)


class RDReward(Section):
    """[policy.rd_reward]: tiered reward for R&D intensity (Haixi style, seed 004:L46)."""

    prefectures: PrefectureList  # prefecture ids, or ["all"]
    budget: Num(0.0, MAX_BUDGET)  # 万元/yr available in each listed prefecture (0 = inactive)
    min_revenue: Num(0.0, 1e7)  # 万元
    min_revenue_agri: Num(0.0, 1e7)
    tier_intensity: list[float]  # R&D / revenue thresholds, ascending
    tier_amount: list[float]  # 万元 per firm per year at each threshold

    @field_validator("tier_intensity")
    @classmethod
    def _ascending(cls, value: list[float]) -> list[float]:
        if any(not 0.0 < v <= 1.0 for v in value) or value != sorted(value):
            raise ValueError(f"{value} must be ascending shares in (0, 1]")
        return value

    @field_validator("tier_amount")
    @classmethod
    def _amounts(cls, value: list[float]) -> list[float]:
        if any(not 0.0 <= v <= 1e4 for v in value):
            raise ValueError(f"{value}: each amount must lie in [0, 10000] 万元")
        return value

    @model_validator(mode="after")
    def _tiers_match(self) -> RDReward:
        if len(self.tier_intensity) != len(self.tier_amount):
            raise ValueError("tier_intensity and tier_amount must have the same length")
        return self


class Vouchers(Section):
    """[policy.vouchers]: innovation vouchers (科技创新券) for SMEs."""

    budget: Num(0.0, MAX_BUDGET)
    value: Num(0.0, 1e3)  # 万元 per voucher
    max_employees: Int(1, 100000)


class LittleGiant(Section):
    """[policy.little_giant]: yearly intake of S&T little giants (科技小巨人)."""

    annual_quota: Int(0, 10000)


class TwoZeroings(Section):
    """[policy.two_zeroings]: campaign on large manufacturers without R&D (两清零, seed 004:L46)."""

    active: Int(0, 1)
    prefectures: PrefectureList
    min_revenue: Num(0.0, 1e7)  # 万元; firms at or above it without R&D are targeted


class Policy(Section):
    tax: Tax
    super_deduction: SuperDeduction
    hte: HighTech
    ex_ante_grants: ExAnteGrants
    ex_post_subsidy: ExPostSubsidy
    rd_reward: RDReward
    vouchers: Vouchers
    little_giant: LittleGiant
    two_zeroings: TwoZeroings


class Scenario(Section):
    """A complete, validated scenario."""

    extends: str | None = None  # the base file, as written (already applied)
    run: Run = Run()
    macro: Macro
    policy: Policy
    parameters: dict[str, float] = {}  # overrides of qhsim/data/behaviour.toml, within each one's range

    @field_validator("parameters")
    @classmethod
    def _known_parameters(cls, value: dict[str, float]) -> dict[str, float]:
        table = data.quantities("behaviour")
        for name, v in value.items():
            if name not in table:
                raise ValueError(f"{name!r} is not a behavioural parameter (see qhsim/data/behaviour.toml)")
            lo, hi = table[name].get("range", (float("-inf"), float("inf")))
            if not lo <= v <= hi:
                raise ValueError(f"{name} = {v!r} outside allowed range [{lo:g}, {hi:g}]")
        return value

    def behaviour(self) -> dict[str, Any]:
        """Behavioural parameter values: data file defaults with this scenario's overrides."""
        return {**data.values("behaviour"), **self.parameters}
