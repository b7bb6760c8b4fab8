"""Firm dynamics 企业动态 (MODEL.md §4 steps 6 and 9): revenue growth, margins, knowledge, core IP,
high-tech product share, exit and entry.
"""

from __future__ import annotations

from types import SimpleNamespace

import numba
import numpy as np

from qhsim.draws import KeyedDraws
from qhsim.firms.state import FirmPopulation
from qhsim.soa import by_flags, positions
from qhsim.units import ABOVE_SCALE_REVENUE, IP_RD_UNIT

# Columns of this year's flows and outcomes, zero until the year's rules set them (``QinghaiModel.step`` resets them
# when it removes the exits, after ``grow`` has read and shifted last year's values; employees follow revenue)
YEAR_FLOWS = ("rd", "rd_real", "subsidy", "voucher", "innovated", "employees")


def grow(f: FirmPopulation, year: int, macro_growth: float, growth_premium: np.ndarray, draws: KeyedDraws,
         b: SimpleNamespace) -> None:
    """Shift the revenue and R&D histories and draw this year's revenue and margin.

    Each firm draws ln g_i = theta * innovated_{t-1} - mu (ln rev_i - anchor_i) + s_g z_i: innovation
    raises growth, and the firm's size reverts toward its anchor (its normal size), which follows the
    sector's demand. Each sector's demand grows at (1 + g_GDP) exp(premium_s); its firms' revenues are
    rescaled so the sector total matches it (replicator dynamics as in K+S: innovators gain market share
    at the others' expense; a sector does not outgrow its demand). A firm that keeps innovating settles
    theta / mu log points above its anchor.
    margin_t = rho * margin_{t-1} + (1 - rho) * mean + sd * sqrt(1 - rho^2) * z'
    """
    sector = f.index("sector")
    n_sectors = len(growth_premium)
    demand_growth = (1.0 + macro_growth) * np.exp(growth_premium)
    rho = b.margin_persistence
    revenue = f.revenue  # last year's: it becomes the lag-1 column below (the arrays move, nothing is copied)
    # transcendental functions stay numpy's (np.log / np.exp may use SIMD code that libm would not match bit for bit);
    # the arithmetic around them runs in three compiled passes, the same operations in the same order as the numpy
    # expressions in the comments (np.bincount adds its weights in row order, as the loops do)
    log_g = np.log(revenue)
    demand = np.zeros(n_sectors)
    _growth_exponent(log_g, f.anchor, f.innovated, draws.normal(year, "growth", f.uid), sector, revenue,
                     b.size_reversion, b.innovation_growth_premium, b.growth_noise, demand)
    drawn = np.exp(log_g, out=log_g)
    demand *= demand_growth
    supplied = np.zeros(n_sectors)
    _supply(drawn, revenue, sector, supplied)
    share_scale = np.divide(demand, supplied, out=np.ones(n_sectors), where=supplied > 0)
    shock = draws.normal(year, "margin", f.uid)
    _settle(drawn, share_scale, f.anchor, np.log(demand_growth), sector, f.margin, shock, rho,
            (1 - rho) * b.margin_mean, b.margin_sd * np.sqrt(1 - rho**2))
    c = f.cols
    c["rev_l2"], c["rev_l1"], c["revenue"] = c["rev_l1"], revenue, drawn
    # last year's R&D and subsidies become the lags; this year's columns take the oldest arrays, whose values are
    # stale until the year's flows are reset when the exits are removed (``YEAR_FLOWS``)
    c["rd_l2"], c["rd_l1"], c["rd"] = c["rd_l1"], c["rd"], c["rd_l2"]
    c["subsidy_l1"], c["subsidy"] = c["subsidy"], c["subsidy_l1"]


@numba.njit(cache=True, nogil=True)
def _growth_exponent(log_g, anchor, innovated, noise, sector, revenue, reversion, premium, noise_sd, demand):
    """log_g (holding ln rev) becomes ln g = premium x innovated - (ln rev - anchor) x reversion + noise x noise_sd;
    demand[s] += revenue (np.bincount(sector, weights=revenue))."""
    for i in range(len(log_g)):
        gap = (log_g[i] - anchor[i]) * reversion
        log_g[i] = (premium * (1.0 if innovated[i] else 0.0) - gap) + noise[i] * noise_sd
        demand[sector[i]] += revenue[i]


@numba.njit(cache=True, nogil=True)
def _supply(drawn, revenue, sector, supplied):
    """drawn *= revenue; supplied[s] += drawn (np.bincount(sector, weights=drawn))."""
    for i in range(len(drawn)):
        drawn[i] *= revenue[i]
        supplied[sector[i]] += drawn[i]


@numba.njit(cache=True, nogil=True)
def _settle(drawn, share_scale, anchor, log_demand_growth, sector, margin, shock, rho, margin_pull, shock_sd):
    """drawn = np.maximum(drawn x share_scale[sector], 1.0); anchor += log_demand_growth[sector];
    margin = margin x rho + margin_pull + shock x shock_sd."""
    for i in range(len(drawn)):
        s = sector[i]
        x = drawn[i] * share_scale[s]
        drawn[i] = x if x >= 1.0 or x != x else 1.0  # np.maximum: NaN stays NaN
        anchor[i] += log_demand_growth[s]
        margin[i] = (margin[i] * rho + margin_pull) + shock[i] * shock_sd


def set_employees(f: FirmPopulation, revenue_per_employee: np.ndarray) -> None:
    """Employees follow revenue: max(revenue / the sector's revenue per employee, 1), in one compiled pass (the
    operations of ``np.maximum(f.revenue / revenue_per_employee[sector], 1.0)``)."""
    _employees(f.revenue, revenue_per_employee, f.index("sector"), f.employees)


@numba.njit(cache=True, nogil=True)
def _employees(revenue, revenue_per_employee, sector, out):
    for i in range(len(out)):
        x = revenue[i] / revenue_per_employee[sector[i]]
        out[i] = x if x >= 1.0 or x != x else 1.0  # np.maximum: NaN stays NaN


def exit_mask(f: FirmPopulation, year: int, draws: KeyedDraws, b: SimpleNamespace) -> np.ndarray:
    """Firms that leave this year: hazard exit_rate x (young factor) x (factor for above-scale revenue) x
    (revenue / above-scale threshold)^-exit_size_elasticity for the above-scale firms."""

    def hazard(young: np.ndarray, large: np.ndarray) -> tuple[np.ndarray]:
        return (b.exit_rate * np.where(young, b.young_exit_factor, 1.0) * np.where(large, b.large_exit_factor, 1.0),)

    u = draws.uniform(year, "exit", f.uid)
    # a draw at or above the largest of the four hazards stays whatever the firm's age and size: the conditions
    # only for the others (about a tenth)
    (highest,) = hazard(np.array([False, True, False, True]), np.array([False, False, True, True]))
    out = np.zeros(len(f), dtype=bool)
    may = positions(u < highest.max())
    revenue = f.revenue[may]
    large = revenue >= ABOVE_SCALE_REVENUE
    (h,) = by_flags(hazard, year - f.birth[may] < b.young_firm_years, large)
    # above the threshold the hazard falls further with size: x (revenue / threshold)^-e (1 at the threshold)
    h[large] *= (revenue[large] / ABOVE_SCALE_REVENUE) ** (-b.exit_size_elasticity)
    out[may] = u[may] < h
    return out


def first_clocks(draws: KeyedDraws, year: int, uids: np.ndarray) -> dict[str, np.ndarray]:
    """The clocks of the firms ``uids`` created in ``year`` (the end-2015 population, entrants): the R&D switching
    clock (``qhsim.firms.decision.decide``) and the core-IP clock (``innovate``), Exp(1) keyed by (dynamics seed,
    year, uid): the population seed fixes who the firms are, the dynamics seed their luck."""
    return {"switch_clock": draws.exponential(year, "new_clock", uids),
            "ip_clock": draws.exponential(year, "new_ip_clock", uids)}


def innovate(f: FirmPopulation, year: int, draws: KeyedDraws, b: SimpleNamespace) -> None:
    """Knowledge stock, core IP and the high-tech product share after this year's R&D.

    K_t = (1 - delta) K_{t-1} + R&D_t; a yearly hazard of new core IP h = zeta sqrt(R&D / 100万元), so
    P(new core IP) = 1 - exp(-h) (K+S draw), both on real R&D (relabelled spending creates no knowledge); the
    high-tech share drifts toward the firm's orientation (scaled down without R&D) and jumps after an innovation.

    The draw is the firm's IP clock (``f.ip_clock``, Exp(1)): an R&D performer obtains an item when its clock is at
    most h, else spends h of it; after an item it draws a new clock keyed by the number of items it owns — the same
    chance each year as a yearly uniform draw, but a variant that raises a firm's R&D a little brings its next item
    a little earlier instead of drawing it anew (common random numbers that stay coupled).
    """
    doing = np.empty(len(f), dtype=np.intp)  # the R&D performers: h = 0 for the others, drawn for these only
    doing = doing[:_accumulate_knowledge(f.knowledge, f.rd_real, 1.0 - b.knowledge_depreciation, doing)]
    hazard = b.ip_probability_scale * np.sqrt(f.rd_real[doing] / IP_RD_UNIT)
    clock = f.ip_clock[doing]
    won = clock <= hazard
    f.ip_clock[doing] = clock - hazard
    f.innovated[:] = False
    f.innovated[doing] = won
    winners = doing[won]
    f.ip[winners] += 1
    f.ip_clock[winners] = draws.counted_exponential("ip_clock", f.uid, winners, f.ip[winners])
    _drift_hitech_share(f.hitech_share, f.tech_orient, f.rd_active, f.innovated, b.non_rd_hitech_factor,
                        b.hitech_share_drift, b.innovation_hitech_gain)


@numba.njit(cache=True, nogil=True)
def _accumulate_knowledge(knowledge, rd_real, keep, doing):
    """knowledge = knowledge x keep + rd_real; the positions with rd_real > 0 into ``doing``; their number."""
    n = 0
    for i in range(len(knowledge)):
        knowledge[i] = knowledge[i] * keep + rd_real[i]
        doing[n] = i  # branch-free: every row written, the performers counted
        n += rd_real[i] > 0
    return n


@numba.njit(cache=True, nogil=True)
def _drift_hitech_share(share, tech_orient, rd_active, innovated, non_rd_factor, drift, gain):
    """share + drift x (target - share) with target = tech_orient (R&D-active) or non_rd_factor x tech_orient,
    plus ``gain`` for this year's innovators, at most 1 (np.minimum: NaN stays NaN)."""
    for i in range(len(share)):
        target = tech_orient[i] if rd_active[i] else non_rd_factor * tech_orient[i]
        x = (target - share[i]) * drift + share[i]
        if innovated[i]:
            x = x + gain
        share[i] = x if x <= 1.0 or x != x else 1.0
