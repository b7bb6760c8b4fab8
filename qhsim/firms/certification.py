"""Certification 认定: the high-tech enterprise rule, the notch decision, and the firm ladder
tech-based SME -> provincial tech-based enterprise -> HTE -> little giant (MODEL.md §4 steps 3 and 9).

HTE rule (国科发火〔2016〕32号 art. 11): 3-year R&D / revenue >= 5% (revenue <= 5,000万), 4% (<= 2亿),
3% (> 2亿); S&T staff >= 10% of employees; high-tech products >= 60% of revenue; owned core IP;
registered for at least a year. Certificates last ``validity`` years.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from qhsim.firms.state import FirmPopulation
from qhsim.policy import PolicyYear


def hte_threshold(revenue: np.ndarray, pol: PolicyYear) -> np.ndarray:
    """Required 3-year R&D ratio by the latest year's revenue band (band edges belong to the lower band)."""
    return np.where(
        revenue <= pol.hte_band_small,
        pol.hte_ratio_small,
        np.where(revenue <= pol.hte_band_large, pol.hte_ratio_medium, pol.hte_ratio_large),
    )


def hte_rd_needed(f: FirmPopulation, pol: PolicyYear) -> np.ndarray:
    """This year's R&D that brings the 3-year ratio exactly to the threshold."""
    rev3 = f.revenue + f.rev_l1 + f.rev_l2
    return hte_threshold(f.revenue, pol) * rev3 - f.rd_l1 - f.rd_l2


def st_staff(rd: np.ndarray, b: SimpleNamespace) -> np.ndarray:
    """S&T staff implied by R&D spending (R&D FTE times the S&T-to-R&D staff ratio)."""
    return rd / b.rd_cost_per_fte * b.st_staff_per_rd_staff


def hte_other_criteria(f: FirmPopulation, pol: PolicyYear, rd: np.ndarray, b: SimpleNamespace) -> np.ndarray:
    """Every HTE criterion except the R&D ratio, with S&T staff as implied by ``rd``."""
    return (
        (f.hitech_share >= pol.hte_hitech_share)
        & (f.ip > 0)
        & (f.birth < pol.year)
        & (st_staff(rd, b) >= pol.hte_staff_share * f.employees)
    )


def hte_criteria(f: FirmPopulation, pol: PolicyYear, b: SimpleNamespace) -> np.ndarray:
    """All HTE criteria on this year's realised R&D."""
    rd3 = f.rd + f.rd_l1 + f.rd_l2
    rev3 = f.revenue + f.rev_l1 + f.rev_l2
    ratio_ok = rd3 >= hte_threshold(f.revenue, pol) * rev3
    return ratio_ok & hte_other_criteria(f, pol, f.rd, b)


def notch_gain(
    rd_plan: np.ndarray, need: np.ndarray, benefit: np.ndarray, uc: np.ndarray, b: SimpleNamespace
) -> np.ndarray:
    """Net gain of raising R&D from ``rd_plan`` to ``need`` to win ``benefit``; -inf where out of reach.

    cost = (need - plan) * user_cost * (1 - omega): the after-tax cost of the extra R&D, less the share
    the firm values for itself. A firm raises R&D by at most ``notch_max_stretch`` times its plan.
    """
    extra = np.maximum(need - rd_plan, 0.0)
    reachable = extra <= b.notch_max_stretch * rd_plan
    gain = benefit - extra * uc * (1.0 - b.notch_own_value)
    return np.where(reachable, gain, -np.inf)


def hte_notch(
    f: FirmPopulation,
    pol: PolicyYear,
    rd_plan: np.ndarray,
    uc: np.ndarray,
    tau_alt: np.ndarray,
    b: SimpleNamespace,
) -> np.ndarray:
    """R&D after the certification-notch decision (MODEL.md §4.3), per firm.

    A firm without a valid certificate that meets every other criterion compares the expected value of
    certification — tax saving (tau_alt - tau_HTE) * profit over the certificate's life plus the one-off
    reward, times the approval rate — with the cost of the extra R&D; it raises R&D to the threshold when
    that pays.
    """
    need = hte_rd_needed(f, pol)
    saving = np.maximum(tau_alt - pol.hte_rate, 0.0) * np.maximum(f.margin * f.revenue, 0.0)
    benefit = (saving * b.notch_horizon_discount + pol.hte_reward) * b.hte_approval_rate
    candidate = (
        f.rd_active & (f.hte_until < pol.year) & (need > rd_plan) & hte_other_criteria(f, pol, need, b)
    )
    bump = candidate & (notch_gain(rd_plan, need, benefit, uc, b) > 0)
    return np.where(bump, need, rd_plan)


def reward_tier_eligible(f: FirmPopulation, pol: PolicyYear, sector_agri: np.ndarray) -> np.ndarray:
    """Firms a Haixi-style R&D-intensity reward can reach (location and revenue floor)."""
    floor = np.where(sector_agri[f.sector], pol.reward_min_revenue_agri, pol.reward_min_revenue)
    return (pol.reward_budget > 0) & pol.reward_prefectures[f.pref] & (f.revenue >= floor)


def reward_notch(
    f: FirmPopulation,
    pol: PolicyYear,
    rd_plan: np.ndarray,
    uc: np.ndarray,
    sector_agri: np.ndarray,
    b: SimpleNamespace,
) -> np.ndarray:
    """R&D after choosing the best reward tier (seed 004:L46): the tier with the largest net gain."""
    eligible = reward_tier_eligible(f, pol, sector_agri) & f.rd_active
    best_gain = np.zeros(len(f))
    best_rd = rd_plan.copy()
    for intensity, amount in pol.reward_tiers:
        need = intensity * f.revenue
        gain = notch_gain(rd_plan, need, np.full(len(f), amount), uc, b)
        better = eligible & (gain > best_gain)
        best_gain = np.where(better, gain, best_gain)
        best_rd = np.where(better, np.maximum(need, rd_plan), best_rd)
    return best_rd


def reward_amount(f: FirmPopulation, pol: PolicyYear, sector_agri: np.ndarray) -> np.ndarray:
    """Tier reward earned on this year's realised R&D intensity (before any budget rationing)."""
    eligible = reward_tier_eligible(f, pol, sector_agri)
    intensity = f.rd / f.revenue
    amount = np.zeros(len(f))
    for tier_intensity, tier_amount in pol.reward_tiers:
        amount = np.where(eligible & (intensity >= tier_intensity), tier_amount, amount)
    return amount


def three_year_ratio(f: FirmPopulation) -> np.ndarray:
    return (f.rd + f.rd_l1 + f.rd_l2) / (f.revenue + f.rev_l1 + f.rev_l2)


def revenue_growth_3y(f: FirmPopulation) -> np.ndarray:
    """Average yearly revenue growth over the last two years."""
    return np.sqrt(f.revenue / f.rev_l2) - 1.0
