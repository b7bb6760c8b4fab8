"""R&D-intensity rewards 研发投入奖补 (Haixi-style tiers, seed 004:L46): which firms a prefecture's reward can reach,
the tier a firm aims its R&D at (a notch like the HTE threshold's, qhsim.firms.certification.notch_gain) and the
reward earned on realised R&D. The prefectures' funds ration the claims: ``qhsim.government.programmes.rd_rewards``
(kept apart from it because the firms' R&D decision, qhsim.firms.decision, needs the tiers).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from qhsim.firms.certification import notch_gain
from qhsim.firms.state import FirmPopulation
from qhsim.policy import PolicyYear


def reward_tier_eligible(f: FirmPopulation, pol: PolicyYear, sector_agri: np.ndarray) -> np.ndarray:
    """Firms a Haixi-style R&D-intensity reward can reach (location and revenue floor)."""
    if not pol.reward_budget > 0:
        return np.zeros(len(f), dtype=bool)
    floor = np.where(sector_agri, pol.reward_min_revenue_agri, pol.reward_min_revenue)
    floor = floor.take(f.index("sector"), mode="wrap")  # per firm: floor[sector] without the bounds checks
    return pol.reward_prefectures[f.index("pref")] & (f.revenue >= floor)


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
    if pol.reward_tiers and min(t for t, _ in pol.reward_tiers) > 0:  # no tier without R&D: the R&D performers only
        rd = np.flatnonzero(f.rd > 0)
        e = rd[reward_tier_eligible(f.subset(rd), pol, sector_agri)]
    else:
        e = np.flatnonzero(reward_tier_eligible(f, pol, sector_agri))
    intensity = f.rd[e] / f.revenue[e]
    amount, earned = np.zeros(len(f)), np.zeros(len(e))
    for tier_intensity, tier_amount in pol.reward_tiers:
        earned = np.where(intensity >= tier_intensity, tier_amount, earned)
    amount[e] = earned
    return amount
