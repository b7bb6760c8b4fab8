"""Certification 认定: the high-tech enterprise rule, the notch decision, and the firm ladder
tech-based SME -> provincial tech-based enterprise -> HTE -> little giant (MODEL.md §4 steps 3 and 9).

HTE rule (国科发火〔2016〕32号 art. 11): 3-year R&D / revenue >= 5% (revenue <= 5,000万), 4% (<= 2亿),
3% (> 2亿); S&T staff >= 10% of employees; high-tech products >= 60% of revenue; owned core IP;
registered for at least a year. Certificates last ``validity`` years.
"""

from __future__ import annotations

from types import SimpleNamespace

import numba
import numpy as np

from qhsim.firms.relabel import net_relabel_cost, notch_relabel_plan, routine_relabel
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
    """Certified firms (distinct positions) report at least the required high-tech revenue share."""
    f.hitech_share[certified] = np.maximum(f.hitech_share[certified], pol.hte_hitech_share)


def hte_criteria(f: FirmPopulation, pol: PolicyYear, b: SimpleNamespace, fte_cost: float) -> np.ndarray:
    """Positions (ascending) of the firms that meet all HTE criteria on this year's realised R&D."""
    c = rd_in_three_years(f)  # without R&D in three years the ratio fails (thresholds > 0)
    s = f.subset(c)
    rd3 = s.rd + s.rd_l1 + s.rd_l2
    rev3 = s.revenue + s.rev_l1 + s.rev_l2
    # relative tolerance: R&D set exactly to the threshold must pass despite floating-point rounding
    ratio_ok = rd3 >= hte_threshold(s.revenue, pol) * rev3 * (1.0 - RATIO_TOLERANCE)
    return c[ratio_ok & hte_other_criteria(s, pol, s.rd, b, fte_cost)]


def rd_in_three_years(f: FirmPopulation) -> np.ndarray:
    """Positions (ascending) of the firms whose reported R&D of this year and the two before sums above zero:
    ``positions((f.rd + f.rd_l1 + f.rd_l2) > 0)`` in one compiled pass, without its two whole-population sums."""
    out = np.empty(len(f), dtype=np.intp)
    return out[:_three_year_positive(f.rd, f.rd_l1, f.rd_l2, out)].copy()  # the copy frees the full-length buffer


@numba.njit(cache=True, nogil=True)
def _three_year_positive(rd, rd_l1, rd_l2, out):
    n = 0
    for i in range(len(rd)):  # branch-free: every position written, those with (rd + rd_l1) + rd_l2 > 0 counted
        out[n] = i
        n += (rd[i] + rd_l1[i]) + rd_l2[i] > 0.0
    return n


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


def hte_benefit(
    f: FirmPopulation, idx: np.ndarray, pol: PolicyYear, tau_alt: np.ndarray, b: SimpleNamespace
) -> np.ndarray:
    """Expected value of (keeping) HTE status over a certificate's life for the firms at ``idx`` (``tau_alt``
    theirs): [(tau_alt - tau_HTE) * profit + status value] * H plus the one-off reward for a first
    certificate, times the approval rate."""
    saving = np.maximum(tau_alt - pol.hte_rate, 0.0) * np.maximum(f.margin[idx] * f.revenue[idx], 0.0)
    first_reward = np.where(f.hte_since[idx] == 0, pol.hte_reward, 0.0)
    return ((saving + b.hte_status_value) * b.notch_horizon_discount + first_reward) * b.hte_approval_rate


def hte_notch(
    f: FirmPopulation,
    pol: PolicyYear,
    rd_plan: np.ndarray,
    uc: np.ndarray,
    tau: np.ndarray,
    tau_alt: np.ndarray,
    d: np.ndarray,
    b: SimpleNamespace,
    fte_cost: float,
) -> np.ndarray:
    """Real R&D after the certification-notch decision (MODEL.md §4.3), per firm.

    An R&D-active firm that meets every other criterion compares the expected value of (keeping) HTE
    status (``hte_benefit``) with the cost of reporting R&D at the threshold for a certificate's life (H
    present-value years). It reaches the threshold by the cheapest mix of real R&D (user cost less the share
    omega it values for itself, per yuan and year) and relabelling (``qhsim.firms.relabel.notch_relabel_plan``)
    and raises real R&D by the real part when that pays; at most by ``notch_max_stretch`` times its plan.
    Holders do the same: they must keep the ratio to renew.
    """
    need = hte_notch_target(f, pol)
    candidate = np.flatnonzero(f.rd_active & (need > rd_plan) & hte_other_criteria(f, pol, need, b, fte_cost))
    c = candidate  # the rest of the decision only for candidates (same arithmetic, less work)
    plan, tau_c, d_c = rd_plan[c], tau[c], d[c]
    real_cost = uc[c] * (1.0 - b.notch_own_value)
    relabel = notch_relabel_plan(plan, need[c], real_cost, tau_c, d_c, b)
    extra = np.maximum(need[c] - plan - relabel, 0.0)
    yearly = extra * real_cost + net_relabel_cost(relabel, plan, tau_c, d_c, b)
    gain = hte_benefit(f, c, pol, tau_alt[c], b) - yearly * b.notch_horizon_discount
    bump = (extra <= b.notch_max_stretch * plan) & (gain > 0)
    out = rd_plan.copy()
    out[c[bump]] = plan[bump] + extra[bump]
    return out


def reported_rd(
    f: FirmPopulation,
    pol: PolicyYear,
    real: np.ndarray,
    tau: np.ndarray,
    tau_alt: np.ndarray,
    d: np.ndarray,
    b: SimpleNamespace,
    fte_cost: float,
) -> np.ndarray:
    """R&D the firms report for the year on their realised ``real`` R&D (``qhsim.firms.relabel``).

    Every firm relabels the routine amount the super-deduction pays for. A firm that meets every other HTE
    criterion and whose reported 3-year ratio would fall short of its threshold tops its books up to exactly the
    threshold when the net relabelling cost, sustained over the certificate's life, is below the value of HTE
    status and the top-up is at most ``notch_max_stretch`` times its real R&D.
    """
    reported = real.copy()  # no relabelling without real R&D (m_c = 0): the rest only for the R&D performers
    p = np.flatnonzero(real > 0)
    reported[p] += routine_relabel(real[p], tau[p], d[p], b)
    need = hte_rd_needed(f.subset(p), pol)  # for the firms at p
    within = (need > reported[p]) & (need <= (1.0 + b.notch_max_stretch) * real[p])
    c, need = p[within], need[within]
    meets = hte_other_criteria(f.subset(c), pol, need, b, fte_cost)
    c, need = c[meets], need[meets]
    top = need - real[c]
    cost = net_relabel_cost(top, real[c], tau[c], d[c], b) * b.notch_horizon_discount
    ok = cost < hte_benefit(f, c, pol, tau_alt[c], b)
    reported[c[ok]] = need[ok]
    return reported


def three_year_ratio(f: FirmPopulation) -> np.ndarray:
    return (f.rd + f.rd_l1 + f.rd_l2) / (f.revenue + f.rev_l1 + f.rev_l2)


def revenue_growth_3y(f: FirmPopulation) -> np.ndarray:
    """Average yearly revenue growth over the three years' revenues (this year's against two years before: two
    yearly steps), the little giants' "3-year average growth" (behaviour.toml ``giant_min_growth``)."""
    return np.sqrt(f.revenue / f.rev_l2) - 1.0
