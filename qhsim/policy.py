"""The policy in force in one year 年度政策: the scenario's schedules evaluated at that year.

Kernels read plain numbers from a ``PolicyYear`` rather than schedules.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qhsim import data
from qhsim.config import Scenario


@dataclass(frozen=True)
class PolicyYear:
    year: int
    # tax
    standard_rate: float
    hte_rate: float
    wd_rate: float
    small_rate: float
    small_max_income: float
    small_max_employees: float
    loss_carry_years: int
    loss_carry_years_qualified: int
    # super-deduction
    deduction_general: float
    deduction_manufacturing: float
    deduction_tech_sme: float
    # HTE certification
    hte_ratio_small: float
    hte_ratio_medium: float
    hte_ratio_large: float
    hte_band_small: float
    hte_band_large: float
    hte_staff_share: float
    hte_hitech_share: float
    hte_validity: int
    hte_reward: float
    # programmes
    grant_budget: float
    grant_size: float
    grant_cofunding: float
    grant_selection: str
    expost_rate: float
    expost_cap: float
    expost_budget: float
    reward_prefectures: np.ndarray  # bool per prefecture
    reward_budget: float
    reward_min_revenue: float
    reward_min_revenue_agri: float
    reward_tiers: tuple[tuple[float, float], ...]  # (intensity, amount), ascending
    voucher_budget: float
    voucher_value: float
    voucher_max_employees: float
    giant_quota: int
    zeroing_prefectures: np.ndarray  # bool per prefecture; all False when the campaign is inactive
    zeroing_min_revenue: float
    # knowledge and talent system (qhsim.knowledge); None only in hand-built test policies
    knowledge: KnowledgePolicy | None = None


@dataclass(frozen=True)
class KnowledgePolicy:
    """The knowledge-system instruments in force in one year (money in 万元, full scale)."""

    tt_introduced: tuple[int, int, int]  # Thousand Talents quotas per tier (outstanding, leading, top-notch)
    tt_cultivated: tuple[int, int, int]
    tt_grant_introduced: tuple[float, float, float]
    tt_grant_cultivated: tuple[float, float, float]
    tt_housing: float
    tt_obligation_years: int
    tt_clawback_share: float
    tt_teams: int
    tt_team_grant: float
    kunlun_quota: int
    kunlun_grant: float
    kunlun_project: float
    kunlun_obligation_years: int
    flex_quota: int
    flex_contract_years: int
    flex_subsidy: float
    institutional_budget: float
    competitive_budget: float
    competitive_selection: str
    central_growth: float
    buyer_rate: float
    buyer_cap: float
    broker_rate: float
    broker_cap: float
    sme_rate: float
    sme_cap: float
    sme_prefectures: np.ndarray  # bool per prefecture
    researcher_share: float
    market_budget: float
    platform_quota: int
    platform_subsidy_provincial: float
    platform_subsidy_national: float
    prefecture_platform_prefectures: np.ndarray  # bool per prefecture
    prefecture_platform_quota: int
    prefecture_platform_subsidy: float
    incubator_quota: int
    incubator_subsidy: float
    popularisation_budget: float
    popularisation_allocation: str


def knowledge_policy_at(scenario: Scenario, year: int) -> KnowledgePolicy:
    """Evaluate the knowledge-system schedules of the scenario at ``year``."""
    p = scenario.policy
    tt, kl, fx = p.thousand_talents, p.kunlun_talents, p.flexible_talent
    rf, tm, pf, sp = p.research_funding, p.tech_market, p.platforms, p.popularisation
    tiers = ("outstanding", "leading", "topnotch")
    return KnowledgePolicy(
        tt_introduced=tuple(getattr(tt, f"introduced_{t}").at(year) for t in tiers),
        tt_cultivated=tuple(getattr(tt, f"cultivated_{t}").at(year) for t in tiers),
        tt_grant_introduced=tuple(getattr(tt, f"grant_introduced_{t}").at(year) for t in tiers),
        tt_grant_cultivated=tuple(getattr(tt, f"grant_cultivated_{t}").at(year) for t in tiers),
        tt_housing=tt.housing_subsidy.at(year),
        tt_obligation_years=tt.obligation_years.at(year),
        tt_clawback_share=tt.clawback_share.at(year),
        tt_teams=tt.teams_cultivated.at(year),
        tt_team_grant=tt.team_grant.at(year),
        kunlun_quota=kl.quota.at(year),
        kunlun_grant=kl.grant.at(year),
        kunlun_project=kl.project_funding.at(year),
        kunlun_obligation_years=kl.obligation_years.at(year),
        flex_quota=fx.quota.at(year),
        flex_contract_years=fx.contract_years.at(year),
        flex_subsidy=fx.performance_subsidy.at(year),
        institutional_budget=rf.institutional_budget.at(year),
        competitive_budget=rf.competitive_budget.at(year),
        competitive_selection=rf.competitive_selection.at(year),
        central_growth=rf.central_growth.at(year),
        buyer_rate=tm.buyer_subsidy_rate.at(year),
        buyer_cap=tm.buyer_subsidy_cap.at(year),
        broker_rate=tm.broker_subsidy_rate.at(year),
        broker_cap=tm.broker_subsidy_cap.at(year),
        sme_rate=tm.sme_patent_rate.at(year),
        sme_cap=tm.sme_patent_cap.at(year),
        sme_prefectures=_prefecture_mask(tm.sme_patent_prefectures.at(year)),
        researcher_share=tm.researcher_income_share.at(year),
        market_budget=tm.budget.at(year),
        platform_quota=pf.provincial_quota.at(year),
        platform_subsidy_provincial=pf.subsidy_provincial.at(year),
        platform_subsidy_national=pf.subsidy_national.at(year),
        prefecture_platform_prefectures=_prefecture_mask(pf.prefecture_programme.at(year)),
        prefecture_platform_quota=pf.prefecture_quota.at(year),
        prefecture_platform_subsidy=pf.prefecture_subsidy.at(year),
        incubator_quota=pf.incubator_quota.at(year),
        incubator_subsidy=pf.incubator_subsidy.at(year),
        popularisation_budget=sp.budget.at(year),
        popularisation_allocation=sp.allocation.at(year),
    )


def _prefecture_mask(ids: list[str]) -> np.ndarray:
    all_ids = data.prefecture_ids()
    return np.array([("all" in ids) or (pid in ids) for pid in all_ids])


def policy_at(scenario: Scenario, year: int) -> PolicyYear:
    """Evaluate every schedule of the scenario's policy at ``year``."""
    p = scenario.policy
    zeroing = _prefecture_mask(p.two_zeroings.prefectures.at(year)) & bool(p.two_zeroings.active.at(year))
    return PolicyYear(
        year=year,
        standard_rate=p.tax.standard_rate.at(year),
        hte_rate=p.tax.hte_rate.at(year),
        wd_rate=p.tax.western_development_rate.at(year),
        small_rate=p.tax.small_profit_rate.at(year),
        small_max_income=p.tax.small_profit_max_income.at(year),
        small_max_employees=p.tax.small_profit_max_employees.at(year),
        loss_carry_years=p.tax.loss_carry_years.at(year),
        loss_carry_years_qualified=p.tax.loss_carry_years_qualified.at(year),
        deduction_general=p.super_deduction.general.at(year),
        deduction_manufacturing=p.super_deduction.manufacturing.at(year),
        deduction_tech_sme=p.super_deduction.tech_sme.at(year),
        hte_ratio_small=p.hte.rd_ratio_small.at(year),
        hte_ratio_medium=p.hte.rd_ratio_medium.at(year),
        hte_ratio_large=p.hte.rd_ratio_large.at(year),
        hte_band_small=p.hte.band_small.at(year),
        hte_band_large=p.hte.band_large.at(year),
        hte_staff_share=p.hte.st_staff_share.at(year),
        hte_hitech_share=p.hte.hitech_revenue_share.at(year),
        hte_validity=p.hte.validity_years.at(year),
        hte_reward=p.hte.reward_new.at(year),
        grant_budget=p.ex_ante_grants.budget.at(year),
        grant_size=p.ex_ante_grants.grant_size.at(year),
        grant_cofunding=p.ex_ante_grants.cofunding_ratio.at(year),
        grant_selection=p.ex_ante_grants.selection.at(year),
        expost_rate=p.ex_post_subsidy.rate.at(year),
        expost_cap=p.ex_post_subsidy.cap.at(year),
        expost_budget=p.ex_post_subsidy.budget.at(year),
        reward_prefectures=_prefecture_mask(p.rd_reward.prefectures.at(year)),
        reward_budget=p.rd_reward.budget.at(year),
        reward_min_revenue=p.rd_reward.min_revenue.at(year),
        reward_min_revenue_agri=p.rd_reward.min_revenue_agri.at(year),
        reward_tiers=tuple(zip(p.rd_reward.tier_intensity, p.rd_reward.tier_amount)),
        voucher_budget=p.vouchers.budget.at(year),
        voucher_value=p.vouchers.value.at(year),
        voucher_max_employees=p.vouchers.max_employees.at(year),
        giant_quota=p.little_giant.annual_quota.at(year),
        zeroing_prefectures=zeroing,
        zeroing_min_revenue=p.two_zeroings.min_revenue.at(year),
        knowledge=knowledge_policy_at(scenario, year),
    )
