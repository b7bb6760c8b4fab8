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


RATIO_TOLERANCE = 1e-12


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


def st_staff(rd: np.ndarray, fte_cost: float, b: SimpleNamespace) -> np.ndarray:
    """S&T staff implied by R&D spending: R&D FTE (R&D / ``fte_cost``, the year's ``qhsim.macro.cost_per_fte``)
    times the S&T-to-R&D staff ratio."""
    return rd / fte_cost * b.st_staff_per_rd_staff


def hte_other_criteria(
    f: FirmPopulation, pol: PolicyYear, rd: np.ndarray, b: SimpleNamespace, fte_cost: float
) -> np.ndarray:
    """Every HTE criterion except the R&D ratio, with S&T staff as implied by ``rd``.

    A firm within ``hitech_relabel_margin`` of the high-tech revenue share passes: it reclassifies product
    lines to reach the line (``relabel_to_threshold`` after certification).
    """
    return (
        (f.hitech_share + b.hitech_relabel_margin >= pol.hte_hitech_share)
        & (f.ip > 0)
        & (f.birth < pol.year)
        & (st_staff(rd, fte_cost, b) >= pol.hte_staff_share * f.employees)
    )


def relabel_to_threshold(f: FirmPopulation, pol: PolicyYear, certified: np.ndarray) -> None:
    """Certified firms report at least the required high-tech revenue share."""
    f.hitech_share[certified] = np.maximum(f.hitech_share[certified], pol.hte_hitech_share)


def hte_criteria(f: FirmPopulation, pol: PolicyYear, b: SimpleNamespace, fte_cost: float) -> np.ndarray:
    """All HTE criteria on this year's realised R&D."""
    out = np.zeros(len(f), dtype=bool)
    c = np.flatnonzero((f.rd + f.rd_l1 + f.rd_l2) > 0)  # without R&D in three years the ratio fails (thresholds > 0)
    s = f.rows(c)
    rd3 = s.rd + s.rd_l1 + s.rd_l2
    rev3 = s.revenue + s.rev_l1 + s.rev_l2
    # relative tolerance: R&D set exactly to the threshold must pass despite floating-point rounding
    ratio_ok = rd3 >= hte_threshold(s.revenue, pol) * rev3 * (1.0 - RATIO_TOLERANCE)
    out[c] = ratio_ok & hte_other_criteria(s, pol, s.rd, b, fte_cost)
    return out


def notch_gain(
    rd_plan: np.ndarray, need: np.ndarray, benefit: np.ndarray, uc: np.ndarray, b: SimpleNamespace,
    years: float = 1.0,
) -> np.ndarray:
    """Net gain of raising R&D from ``rd_plan`` to ``need`` to win ``benefit``; -inf where out of reach.

    cost = (need - plan) * user_cost * (1 - omega) * years: the after-tax cost of the extra R&D, less the
    share the firm values for itself, sustained for ``years`` (present-value years). A firm raises R&D by
    at most ``notch_max_stretch`` times its plan.
    """
    extra = np.maximum(need - rd_plan, 0.0)
    reachable = extra <= b.notch_max_stretch * rd_plan
    gain = benefit - extra * uc * (1.0 - b.notch_own_value) * years
    return np.where(reachable, gain, -np.inf)


def hte_notch_target(f: FirmPopulation, pol: PolicyYear) -> np.ndarray:
    """R&D a firm aiming at HTE status spends this year: the threshold ratio on this year's revenue, and at
    least what brings the 3-year ratio to the threshold when its certificate comes up for renewal now."""
    annual = hte_threshold(f.revenue, pol) * f.revenue
    renewing = f.hte_until == pol.year - 1
    return np.where(renewing, np.maximum(annual, hte_rd_needed(f, pol)), annual)


def hte_notch(
    f: FirmPopulation,
    pol: PolicyYear,
    rd_plan: np.ndarray,
    uc: np.ndarray,
    tau_alt: np.ndarray,
    b: SimpleNamespace,
    fte_cost: float,
) -> np.ndarray:
    """R&D after the certification-notch decision (MODEL.md §4.3), per firm.

    An R&D-active firm that meets every other criterion compares the expected value of (keeping) HTE
    status over a certificate's life — [(tau_alt - tau_HTE) * profit + status value] * H plus the one-off
    reward for a first certificate, times the approval rate — with the cost of holding R&D at the
    threshold for that time (``notch_gain`` with years = H); it raises R&D to the threshold when that
    pays. Holders do the same: they must keep the ratio to pass the yearly check and to renew.
    """
    need = hte_notch_target(f, pol)
    candidate = np.flatnonzero(f.rd_active & (need > rd_plan) & hte_other_criteria(f, pol, need, b, fte_cost))
    c = candidate  # the rest of the decision only for candidates (same arithmetic, less work)
    saving = np.maximum(tau_alt[c] - pol.hte_rate, 0.0) * np.maximum(f.margin[c] * f.revenue[c], 0.0)
    first_reward = np.where(f.hte_since[c] == 0, pol.hte_reward, 0.0)
    horizon = b.notch_horizon_discount
    benefit = ((saving + b.hte_status_value) * horizon + first_reward) * b.hte_approval_rate
    bump = c[notch_gain(rd_plan[c], need[c], benefit, uc[c], b, horizon) > 0]
    out = rd_plan.copy()
    out[bump] = need[bump]
    return out


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
    e = np.flatnonzero(reward_tier_eligible(f, pol, sector_agri) & f.rd_active)
    best_rd = rd_plan.copy()
    if not len(e):
        return best_rd
    plan, revenue = rd_plan[e], f.revenue[e]
    best_gain = np.zeros(len(e))
    chosen = plan.copy()
    for intensity, amount in pol.reward_tiers:
        need = intensity * revenue
        gain = notch_gain(plan, need, np.full(len(e), amount), uc[e], b)
        better = gain > best_gain
        best_gain = np.where(better, gain, best_gain)
        chosen = np.where(better, np.maximum(need, plan), chosen)
    best_rd[e] = chosen
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
