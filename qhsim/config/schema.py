"""Scenario schema 情景结构: what a scenario file may say, with allowed ranges.

Money is in 万元 (10,000 yuan), rates are shares (0.25 = 25%). Every instrument is a year schedule
(``qhsim.config.schedule``). A scenario either ``extends`` another file or gives every section in full.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from qhsim import data
from qhsim.calibrated import calibrated_parameters, model_parameters
from qhsim.config.schedule import Choice, Int, Num, Subset, bounds_text, plain_number
from qhsim.errors import warn

MAX_BUDGET = 1e7  # 万元 = 1,000亿元: far above any provincial programme
SELECTION_RULES = ("merit", "lottery", "sme_first", "weak_prefecture_first")
# files whose quantities a scenario's [parameters] may override (names are unique across them)


PrefectureSchedule = Subset("all", *data.prefecture_ids())  # a year schedule of prefecture lists


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


DEFAULT_POPULATION_SEED = 2015  # the one fixed end-2015 population every run starts from, and the calibration's


class Run(Section):
    """[run]: horizon, seeds and scale."""

    name: str = ""
    description: str = ""
    start_year: int = Field(2015, ge=2015, le=2015)  # the initial state is end-2015 (MODEL.md §6)
    end_year: int = Field(2035, ge=2016, le=2060)
    seed: int = Field(20151231, ge=0, le=2**63 - 1)  # what happens from 2016 on
    population_seed: int = Field(DEFAULT_POPULATION_SEED, ge=0, le=2**63 - 1)  # the synthetic end-2015 population
    scale: float = Field(1.0, gt=0.0, le=1.0)  # share of the real population simulated


class Macro(Section):
    """[macro]: growth after the last observed year of each series (qhsim/data/macro.toml)."""

    gdp_growth: Num(-0.2, 0.3)  # nominal, per year
    population_growth: Num(-0.05, 0.05)
    employment_growth: Num(-0.05, 0.05)
    enterprise_growth: Num(-0.2, 0.3)  # enterprise legal persons, after the last anchor (2020)
    # optional and left out of the scenario's dump (run keys); a file that sets it is warned (warn_ineffective)
    public_rd_growth: Num(-0.3, 0.5) = Field(None, exclude=True)  # no effect: public R&D is [policy.research_funding]'s


# keys a scenario may still set that have no effect: (table, key) -> what sets the quantity instead
INEFFECTIVE_KEYS = {
    ("macro", "public_rd_growth"):
        "public R&D is the universities' and institutes' R&D, set by [policy.research_funding]",
}


def warn_ineffective(path: Any, raw: dict[str, Any]) -> None:
    """One warning per key of a scenario file's own table ``raw`` that is accepted but has no effect
    (``INEFFECTIVE_KEYS``), naming the file and what to set instead."""
    for (table, key), instead in INEFFECTIVE_KEYS.items():
        if key in raw.get(table, {}):
            warn(f"{path}: {table}.{key} has no effect ({instead}); remove it")


class Tax(Section):
    """[policy.tax]: enterprise income tax."""

    standard_rate: Num(0.0, 0.5)
    hte_rate: Num(0.0, 0.5)
    western_development_rate: Num(0.0, 0.5)
    small_profit_rate: Num(0.0, 0.5)  # effective rate of small low-profit enterprises (小型微利企业)
    small_profit_max_income: Num(0.0, 1e5)  # 万元 taxable income
    small_profit_max_employees: Int(0, 100000)
    loss_carry_years: Int(0, 20)  # years a loss (here: an unused super-deduction) is carried forward
    loss_carry_years_qualified: Int(0, 20)  # the same for the losses of HTEs and tech-based SMEs


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


TIER_INTENSITY = (0.0, 1.0)  # allowed range (0, 1] of an R&D reward tier's R&D / revenue threshold
TIER_AMOUNT = (0.0, 1e4)  # allowed range [0, 10000] of a tier's reward, 万元 per firm per year


class RDReward(Section):
    """[policy.rd_reward]: tiered reward for R&D intensity (Haixi style, seed 004:L46)."""

    prefectures: PrefectureSchedule  # prefecture ids, or ["all"]; a schedule, e.g. { 2026 = ["all"] }
    budget: Num(0.0, MAX_BUDGET)  # 万元/yr available in each listed prefecture (0 = inactive)
    min_revenue: Num(0.0, 1e7)  # 万元
    min_revenue_agri: Num(0.0, 1e7)
    tier_intensity: list[float]  # R&D / revenue thresholds, ascending
    tier_amount: list[float]  # 万元 per firm per year at each threshold

    @field_validator("tier_intensity", "tier_amount", mode="before")
    @classmethod
    def _a_list(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, list | tuple):
            example = "[0.1, 0.15, 0.2]" if info.field_name == "tier_intensity" else "[20, 35, 50]"
            what = "a year schedule" if isinstance(value, dict) else repr(value)
            raise ValueError(f"{what}: must be a list such as {example}, one value per tier, that holds in every "
                             "year (not a year schedule)")
        return value

    @field_validator("tier_intensity")
    @classmethod
    def _ascending(cls, value: list[float]) -> list[float]:
        return _checked_tiers("tier_intensity", value)

    @field_validator("tier_amount")
    @classmethod
    def _amounts(cls, value: list[float], info: ValidationInfo) -> list[float]:
        return _checked_tiers("tier_amount", value, info.data.get("tier_intensity"))  # None if refused itself


def tier_problem(name: str, values: list[float], tiers: list[float] | None = None) -> tuple[str, str] | None:
    """What is wrong with the R&D reward's tier list ``name`` ("tier_intensity" or "tier_amount") holding ``values``,
    in Chinese and English (the dashboard shows one, a scenario file's error the English), or None: a value outside
    its allowed range (``TIER_INTENSITY``, ``TIER_AMOUNT``), thresholds that fall, or amounts that do not match the
    thresholds ``tiers`` one for one."""
    lo, hi = TIER_INTENSITY if name == "tier_intensity" else TIER_AMOUNT
    allowed, unit = ((f"({plain_number(lo)}, {plain_number(hi)}]", ("研发经费/营业收入", "R&D / revenue"))
                     if name == "tier_intensity" else (bounds_text(lo, hi), ("万元/家/年", "万元 per firm per year")))
    outside = [plain_number(v) for v in values if not (lo < v <= hi if name == "tier_intensity" else lo <= v <= hi)]
    if outside:
        v = outside[0]
        return f"{v} 超出允许范围 {allowed}（{unit[0]}）", f"{v} outside allowed range {allowed} ({unit[1]})"
    if name == "tier_intensity":
        for a, b in zip(values, values[1:]):
            if b < a:
                a, b = plain_number(a), plain_number(b)
                return f"{b} 排在 {a} 之后，各档门槛须递增", f"{b} after {a}; the thresholds must be ascending"
    elif tiers is not None and len(tiers) != len(values):
        n, m, shown = len(values), len(tiers), _list_text(tiers)
        return (f"{n}个金额对应 tier_intensity {shown} 的{m}个门槛，每个门槛须有一个金额",
                f"{n} amount{'s' * (n != 1)} for the {m} threshold{'s' * (m != 1)} of tier_intensity {shown}; give one "
                "amount per threshold")
    return None


def _checked_tiers(name: str, values: list[float], tiers: list[float] | None = None) -> list[float]:
    """``values`` when ``tier_problem`` finds nothing wrong; else a ValueError naming the list and the problem."""
    problem = tier_problem(name, values, tiers)
    if problem is not None:
        raise ValueError(f"{_list_text(values)}: {problem[1]}")
    return values


def _list_text(values: list[float]) -> str:
    """A tier list as a message writes it: ``[0.1, 0.15]``, ``[20, 35]`` (never ``20.0``)."""
    return f"[{', '.join(plain_number(v) for v in values)}]"


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
    prefectures: PrefectureSchedule
    min_revenue: Num(0.0, 1e7)  # 万元; firms at or above it without R&D are targeted


# --- knowledge and talent system (issue 3; docs/ODD.md) -------------------------------------------


class ThousandTalents(Section):
    """[policy.thousand_talents]: High-end Innovative Talent Thousand Talents plan 高端创新人才千人计划
    (青办字〔2016〕32号, 青组字〔2016〕181号; seed 001:L2290-2511). Quotas are people per year by tier
    (outstanding 杰出 / leading 领军 / top-notch 拔尖); grants are one-off 万元 per person."""

    introduced_outstanding: Int(0, 1000)
    introduced_leading: Int(0, 1000)
    introduced_topnotch: Int(0, 5000)
    cultivated_outstanding: Int(0, 1000)
    cultivated_leading: Int(0, 1000)
    cultivated_topnotch: Int(0, 5000)
    grant_introduced_outstanding: Num(0.0, 1e4)
    grant_introduced_leading: Num(0.0, 1e4)
    grant_introduced_topnotch: Num(0.0, 1e4)
    grant_cultivated_outstanding: Num(0.0, 1e4)
    grant_cultivated_leading: Num(0.0, 1e4)
    grant_cultivated_topnotch: Num(0.0, 1e4)
    housing_subsidy: Num(0.0, 1e3)  # 万元 one-off house-purchase subsidy to direct hires
    obligation_years: Int(1, 10)  # years of service owed; leaving earlier triggers clawback
    clawback_share: Num(0.0, 1.0)  # share of the unearned support recovered on early departure
    teams_cultivated: Int(0, 1000)  # innovation teams per year
    team_grant: Num(0.0, 1e4)  # 万元 team-building funds per team


class KunlunTalents(Section):
    """[policy.kunlun_talents]: Kunlun Talents S&T innovation/entrepreneurship leaders 昆仑英才
    (青人才办字〔2015〕7号; seed 001:L2534-2598)."""

    quota: Int(0, 1000)  # people per year
    grant: Num(0.0, 1e3)  # 万元 one-off personal support (5-10万)
    project_funding: Num(0.0, 1e4)  # 万元 priority project funding to the employer (about 50万)
    obligation_years: Int(0, 10)  # title revoked if the person leaves Qinghai within this many years


class FlexibleTalent(Section):
    """[policy.flexible_talent]: flexible "migratory-bird" experts 柔性引才 (青人才字〔2016〕4号; seed 001:L2219-2286)."""

    quota: Int(0, 10000)  # service contracts started per year
    contract_years: Int(1, 10)  # >= 3-year contracts with >= 3 months a year in Qinghai (seed 001:L2385)
    performance_subsidy: Num(0.0, 1e3)  # 万元 paid at the end of a contract (2-10万, seed 001:L2278)


class ResearchFunding(Section):
    """[policy.research_funding]: government research funding of universities and institutes."""

    institutional_budget: Num(0.0, MAX_BUDGET)  # 万元/yr provincial block funding of provincial units, per researcher
    competitive_budget: Num(0.0, MAX_BUDGET)  # 万元/yr provincial competitive grants (NSF, key R&D), by merit
    competitive_selection: Choice("merit", "lottery", "weak_prefecture_first")
    central_growth: Num(-0.3, 0.5)  # growth per year of central (CAS, NSFC, ministries) funding; not a provincial lever


class TechMarket(Section):
    """[policy.tech_market]: technology-market subsidies and the researchers' income share
    (青政办〔2016〕218号, 226号; seed 001:L1958, L1965, L2154-2157; Haixi seed 004:L50)."""

    buyer_subsidy_rate: Num(0.0, 1.0)  # share of development / transfer deal value paid to the buyer
    buyer_subsidy_cap: Num(0.0, 1e4)  # 万元 per deal
    broker_subsidy_rate: Num(0.0, 1.0)  # share of deal value paid to the broker of a brokered deal
    broker_subsidy_cap: Num(0.0, 1e4)  # 万元 per deal
    sme_patent_rate: Num(0.0, 1.0)  # SME patent-conversion subsidy, share of the transfer contract
    sme_patent_cap: Num(0.0, 1e4)  # 万元 per contract
    sme_patent_prefectures: PrefectureSchedule  # where the SME subsidy is offered (buyer's prefecture); a schedule
    researcher_income_share: Num(0.0, 1.0)  # researchers' share of net transfer income
    budget: Num(0.0, MAX_BUDGET)  # 万元/yr for buyer + broker + SME subsidies (pro rata if claims exceed it)


class Platforms(Section):
    """[policy.platforms]: recognition of provincial platforms, subsidies for new platforms, incubators."""

    provincial_quota: Int(0, 1000)  # new provincial key labs / engineering centres recognised per year (at most)
    subsidy_provincial: Num(0.0, 1e4)  # 万元 to the host of a newly recognised provincial platform
    subsidy_national: Num(0.0, 1e4)  # 万元 provincial matching for a newly approved national platform
    prefecture_programme: PrefectureSchedule  # prefectures that recognise their own platforms; a schedule
    prefecture_quota: Int(0, 1000)  # new prefecture-level platforms per year in each listed prefecture
    prefecture_subsidy: Num(0.0, 1e4)  # 万元 per new platform of any level in a listed prefecture (Haixi <= 50万)
    incubator_quota: Int(0, 1000)  # new incubators / maker spaces recognised per year
    incubator_subsidy: Num(0.0, 1e4)  # 万元 per incubator / maker space per year (operating support)


class Popularisation(Section):
    """[policy.popularisation]: government science-popularisation spending 科普经费."""

    budget: Num(0.0, MAX_BUDGET)  # 万元/yr, province-wide
    allocation: Choice("population", "need")  # by population, or tilted to prefectures with low literacy


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
    thousand_talents: ThousandTalents
    kunlun_talents: KunlunTalents
    flexible_talent: FlexibleTalent
    research_funding: ResearchFunding
    tech_market: TechMarket
    platforms: Platforms
    popularisation: Popularisation


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
        table = model_parameters()
        for name, v in value.items():
            if name not in table:
                raise ValueError(
                    f"{name!r} is not a model parameter (see qhsim/data/behaviour.toml, talent.toml, knowledge.toml)"
                )
            if isinstance(table[name]["value"], list):
                raise ValueError(f"{name} is list-valued; only single-number parameters can be overridden here")
            lo, hi = table[name].get("range", (float("-inf"), float("inf")))
            if not lo <= v <= hi:
                raise ValueError(f"{name} = {v!r} outside allowed range {bounds_text(lo, hi)}")
        return value

    def behaviour(self) -> dict[str, Any]:
        """Behavioural parameter values: behaviour.toml defaults, then the calibrated point estimates
        (calibration/calibrated.toml, unless QHSIM_CALIBRATED=off), then this scenario's overrides."""
        return {**data.values("behaviour"), **calibrated_parameters(), **self.parameters}
