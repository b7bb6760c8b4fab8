"""Per-firm reference rules 单个企业参照实现: the firm decision kernels written one firm at a time.

Plain Python and ``math`` only, no numpy arithmetic. Each function restates a rule from MODEL.md §4 and the
national regulations in the most literal form, so the tests can check the vectorised kernels in
``qhsim.firms.rd`` and ``qhsim.firms.certification`` against it firm by firm (MODEL.md §7). This module is
not used by the model; it is slow on purpose (it is the yardstick for the ≥30× speed target of the
vectorised step, ``benchmarks/bench_run.py``).

A firm is any mapping from column name (``qhsim.firms.state.COLUMNS``) to a Python scalar, e.g. one item of
``firm_records(population)``. ``pol`` is a ``qhsim.policy.PolicyYear``; ``b`` the behavioural parameters
(``qhsim.firms.behaviour``). Sector facts come from ``qhsim.data.sectors()`` (not the array table).

Conventions the rule text leaves open, stated once here:
- money in 万元; revenue bands of the HTE rule include their upper edge (5,000万元 is in the "≤ 5,000万元"
  band), as 国科发火〔2016〕32号 art. 11(4) says "5,000万元（含）" and "2亿元（含）";
- a national tech-based SME registration made in the previous or the current year counts for this year's
  super-deduction (registration happens during the year, the decision is taken with last year's list);
- "registered for at least one year" with yearly time: founded in an earlier calendar year;
- model conventions beyond the regulation (docs/ODD.md): a firm at most ``hitech_relabel_margin`` short of
  the 60% high-tech share relabels products and passes; a firm aiming at HTE status targets the threshold
  share of this year's revenue, or in its renewal year the 3-year catch-up if larger; the extra R&D is
  costed over the certificate's life (H present-value years), the benefit is the tax saving plus a status
  value over the same H years plus a one-off reward for a first certificate, times the approval rate;
- relabelling (Chen, Liu, Suárez Serrato & Xu 2021): a firm may report non-R&D spending as R&D at an expected
  cost gamma/2·m²/real; it relabels what the super-deduction pays for, and more to reach the HTE threshold.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any

from qhsim import data
from qhsim.firms.decision import STEP_FIELDS
from qhsim.firms.state import FirmPopulation
from qhsim.policy import PolicyYear
from qhsim.units import REVENUE_UNIT

Firm = Mapping[str, Any]

USER_COST_FLOOR = data.values("behaviour")["user_cost_floor"]  # default floor (behaviour.toml)


# --- taxes and the price of R&D -------------------------------------------------------------------------


def profit(firm: Firm) -> float:
    return firm["margin"] * firm["revenue"]


def holds_hte(firm: Firm, year: int) -> bool:
    return firm["hte_until"] >= year


def tax_rates(firm: Firm, pol: PolicyYear) -> tuple[float, float]:
    """(tau, tau_alt): this year's marginal income-tax rate, and the rate the firm would pay without HTE.

    Rates the firm qualifies for: the standard rate always; the small low-profit rate if taxable income and
    headcount are within the limits; the Western Development rate for encouraged industries; the HTE rate
    while a certificate is valid. The firm uses the lowest. A firm without taxable profit pays nothing at the
    margin this year (tau = 0), but tau_alt is still the rate it would face on a profit.
    """
    p = profit(firm)
    available = [pol.standard_rate]
    if p <= pol.small_max_income and firm["employees"] <= pol.small_max_employees:
        available.append(pol.small_rate)
    if firm["encouraged"]:
        available.append(pol.wd_rate)
    tau_alt = min(available)
    if holds_hte(firm, pol.year):
        available.append(pol.hte_rate)
    tau = min(available) if p > 0 else 0.0
    return tau, tau_alt


def deduction_rate(firm: Firm, pol: PolicyYear, manufacturing: bool) -> float:
    """Super-deduction rate d: manufacturers' rate or the general rate; a registered tech-based SME gets the
    SME rate if that is higher; industries on the negative list get none."""
    if firm["deduct_excluded"]:
        return 0.0
    d = pol.deduction_manufacturing if manufacturing else pol.deduction_general
    if firm["sme_year"] >= pol.year - 1:  # registered last year or this year
        d = max(d, pol.deduction_tech_sme)
    return d


def usable_deduction(firm: Firm, d: float) -> float:
    """The deduction rate usable at the margin: d, but at most taxable profit over last year's reported R&D (firms
    without R&D last year: ``starter_deduction``)."""
    if firm["rd_l1"] <= 0:
        return d
    return min(d, max(profit(firm), 0.0) / firm["rd_l1"])


def starter_intensity(uc: float, sector_intensity: float, level: float, b: SimpleNamespace) -> float:
    """The intensity a firm without R&D last year expects to plan in a first year of R&D at user cost ``uc``: the
    adjustment speed times a typical firm's desired intensity (revenue REVENUE_UNIT, firm effect 0, no knowledge)."""
    price = math.pow(uc / b.reference_user_cost, -b.user_cost_elasticity)
    return b.adjustment_speed * min(level * sector_intensity * price, b.max_rd_intensity)


def starter_deduction(firm: Firm, d: float, uc: float, sector_intensity: float, level: float,
                      b: SimpleNamespace) -> float:
    """A firm without R&D last year: d, but at most its taxable profit over the R&D it would plan in a first year
    (``starter_intensity`` at the statutory user cost ``uc`` x revenue); nothing for a loss-making firm."""
    typical = starter_intensity(uc, sector_intensity, level, b)
    if not firm["margin"] < d * typical:
        return d
    return firm["margin"] / typical if firm["margin"] > 0 else 0.0


def expected_subsidy_rate(firm: Firm, b: SimpleNamespace) -> float:
    """Expected subsidy per yuan of R&D: alpha_s times last year's subsidies over last year's R&D (≤ max_expected_subsidy)."""
    if firm["rd_l1"] <= 0:
        return 0.0
    return min(b.subsidy_expectation * (firm["subsidy_l1"] / firm["rd_l1"]), b.max_expected_subsidy)


def user_cost(tau: float, d: float, s: float, floor: float = USER_COST_FLOOR) -> float:
    """After-tax cost of one yuan of R&D (MODEL.md §4.2).

    Spending 1 yuan lowers tax by tau (expense) plus tau·d (super-deduction) and brings s of subsidy; the
    net outlay 1 − tau − tau·d − s is compared with the after-tax cost 1 − tau of a yuan of other spending.
    """
    net_outlay = 1.0 - tau - tau * d - s
    return max(net_outlay / (1.0 - tau), floor)


# --- intensive margin ------------------------------------------------------------------------------------


def desired_intensity(firm: Firm, uc: float, sector_intensity: float, level: float, b: SimpleNamespace) -> float:
    """Desired R&D / revenue: the sector's typical intensity times level, size, firm effect, knowledge and
    price terms (constant elasticity in the user cost, relative to the reference user cost), capped."""
    rev = firm["revenue"]
    size_term = math.pow(rev / REVENUE_UNIT, b.size_elasticity)
    knowledge_term = 1.0 + b.knowledge_effect * min(firm["knowledge"] / rev, 1.0)
    price_term = math.pow(uc / b.reference_user_cost, -b.user_cost_elasticity)
    r = level * sector_intensity * size_term * math.exp(firm["eta"]) * knowledge_term * price_term
    return min(r, b.max_rd_intensity)


def cash_limit(firm: Firm, b: SimpleNamespace) -> float:
    """Most R&D the firm can fund: a multiple of its (floored) profit plus last year's subsidies."""
    margin = max(firm["margin"], b.margin_floor)
    return b.cash_flow_multiple * margin * firm["revenue"] + firm["subsidy_l1"]


def planned_rd(firm: Firm, r_star: float, b: SimpleNamespace) -> float:
    """Planned R&D of an active firm: partial adjustment of intensity from last year's (0 for a firm that did
    no R&D last year) toward r*, limited by cash. An inactive firm plans nothing."""
    if not firm["rd_active"]:
        return 0.0
    previous = firm["rd_int"] if firm["rd_l1"] > 0 else 0.0
    intensity = previous + b.adjustment_speed * (r_star - previous)
    return min(intensity * firm["revenue"], cash_limit(firm, b))


# --- extensive margin ------------------------------------------------------------------------------------


def campaign_target(firm: Firm, pol: PolicyYear, industrial: bool) -> bool:
    """Haixi "two zeroings" (seed 004:L46): a large industrial firm without R&D in a campaign prefecture."""
    return (
        bool(pol.zeroing_prefectures[firm["pref"]])
        and industrial
        and firm["revenue"] >= pol.zeroing_min_revenue
        and not firm["rd_active"]
    )


def start_logit(firm: Firm, uc: float, sector_logit: float, targeted: bool, b: SimpleNamespace) -> float:
    x = b.start_intercept + sector_logit
    x += b.rd_size_slope * math.log(firm["revenue"] / REVENUE_UNIT)
    x -= b.start_user_cost_effect * math.log(uc / b.reference_user_cost)
    if firm["voucher"]:
        x += b.voucher_start_effect
    if targeted:
        x += b.campaign_start_effect
    return x


def logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def softplus(x: float) -> float:
    """ln(1 + e^x), without overflow: -ln(1 - logistic(x))."""
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def stop_probability(firm: Firm, year: int, b: SimpleNamespace) -> float:
    """Yearly probability that an R&D-active firm stops: the base rate, lower for certified firms (valid HTE,
    provincial tech-based enterprise or little giant) and falling with size above 1,000万元 revenue."""
    p = b.stop_probability
    if firm["hte_until"] >= year or firm["tbe_until"] >= year or firm["giant_until"] >= year:
        p *= b.certified_stop_factor
    if firm["revenue"] > REVENUE_UNIT:
        p *= math.pow(firm["revenue"] / REVENUE_UNIT, -b.stop_size_elasticity)
    return p


# --- HTE rule (国科发火〔2016〕32号 art. 11) ----------------------------------------------------------------


def hte_threshold(revenue: float, pol: PolicyYear) -> float:
    """Required 3-year R&D / revenue by the latest year's revenue: ≤ 5,000万 → 5%, ≤ 2亿 → 4%, above → 3%."""
    if revenue <= pol.hte_band_small:
        return pol.hte_ratio_small
    if revenue <= pol.hte_band_large:
        return pol.hte_ratio_medium
    return pol.hte_ratio_large


def three_year_revenue(firm: Firm) -> float:
    return firm["revenue"] + firm["rev_l1"] + firm["rev_l2"]


def hte_rd_needed(firm: Firm, pol: PolicyYear) -> float:
    """This year's R&D at which the 3-year R&D total is exactly the threshold share of 3-year revenue."""
    return hte_threshold(firm["revenue"], pol) * three_year_revenue(firm) - firm["rd_l1"] - firm["rd_l2"]


def st_staff(rd: float, fte_cost: float, b: SimpleNamespace) -> float:
    """S&T staff implied by R&D spending: R&D full-time equivalents (at ``fte_cost`` per FTE) times S&T staff
    per R&D person."""
    return (rd / fte_cost) * b.st_staff_per_rd_staff


def hte_other_criteria(firm: Firm, pol: PolicyYear, rd: float, b: SimpleNamespace, fte_cost: float) -> bool:
    """High-tech products ≥ 60% of revenue, owned core IP, registered ≥ 1 year, S&T staff ≥ 10% of
    employees (with S&T staff as implied by R&D ``rd``).

    Model convention (relabelling at the notch, Chen, Liu, Serrato & Xu 2021): a firm whose high-tech share
    is short of 60% by at most ``hitech_relabel_margin`` reclassifies products and passes.
    """
    hitech_ok = firm["hitech_share"] >= pol.hte_hitech_share - b.hitech_relabel_margin
    return (
        hitech_ok
        and firm["ip"] >= 1
        and pol.year - firm["birth"] >= 1
        and st_staff(rd, fte_cost, b) >= pol.hte_staff_share * firm["employees"]
    )


def hte_ratio_met(firm: Firm, pol: PolicyYear) -> bool:
    rd3 = firm["rd"] + firm["rd_l1"] + firm["rd_l2"]
    return rd3 >= hte_threshold(firm["revenue"], pol) * three_year_revenue(firm) * (1.0 - 1e-12)  # rounding slack


def hte_criteria(firm: Firm, pol: PolicyYear, b: SimpleNamespace, fte_cost: float) -> bool:
    """Every HTE criterion on the firm's realised R&D of this year."""
    return hte_ratio_met(firm, pol) and hte_other_criteria(firm, pol, firm["rd"], b, fte_cost)


# --- notches ---------------------------------------------------------------------------------------------


def notch_gain(
    rd_plan: float, need: float, benefit: float, uc: float, b: SimpleNamespace, years: float = 1.0
) -> float:
    """Benefit of reaching ``need`` minus the cost of the extra R&D, or -inf if the jump is too large.

    The extra R&D costs its user cost, less the part (omega) the firm values for its own sake, for each of
    ``years`` (present-value years); a firm never raises R&D by more than ``notch_max_stretch`` times its plan.
    """
    extra = need - rd_plan if need > rd_plan else 0.0
    if extra > b.notch_max_stretch * rd_plan:
        return -math.inf
    yearly_cost = extra * uc * (1.0 - b.notch_own_value)
    return benefit - yearly_cost * years


def hte_notch_target(firm: Firm, pol: PolicyYear) -> float:
    """R&D a firm aiming at HTE status spends this year: the threshold share of this year's revenue; a firm
    whose certificate expired last year (renewal now, on the 3-year ratio) spends at least what brings its
    3-year ratio to the threshold."""
    target = hte_threshold(firm["revenue"], pol) * firm["revenue"]
    if firm["hte_until"] == pol.year - 1:
        target = max(target, hte_rd_needed(firm, pol))
    return target


def hte_benefit(firm: Firm, pol: PolicyYear, tau_alt: float, b: SimpleNamespace) -> float:
    """Expected value of (keeping) HTE status: over a certificate's life (H present-value years) the yearly
    tax saving (tau_alt − HTE rate) × profit plus the non-tax status value, plus the one-off reward if the
    firm has never been certified; all times the approval rate."""
    rate_cut = max(tau_alt - pol.hte_rate, 0.0)
    yearly = rate_cut * max(profit(firm), 0.0) + b.hte_status_value
    reward = pol.hte_reward if firm["hte_since"] == 0 else 0.0
    return (yearly * b.notch_horizon_discount + reward) * b.hte_approval_rate


# --- relabelling: reported versus real R&D (qhsim.firms.relabel) -------------------------------------------


def routine_relabel(real: float, tau: float, d: float, b: SimpleNamespace) -> float:
    """Relabelled spending the super-deduction alone pays for: the marginal expected cost gamma·m/real of
    relabelling m yuan equals the tax saving tau·d of a yuan reported as R&D."""
    return real * tau * d / b.relabel_cost


def relabel_cost(m: float, real: float, b: SimpleNamespace) -> float:
    """Expected audit and compliance cost of relabelling m yuan on ``real`` yuan of real R&D: gamma/2·m²/real."""
    return 0.5 * b.relabel_cost * m * m / real if real > 0 else 0.0


def net_relabel_cost(m: float, real: float, tau: float, d: float, b: SimpleNamespace) -> float:
    """Yearly cost of relabelling m instead of the routine amount, less the extra super-deduction saving."""
    routine = routine_relabel(real, tau, d, b)
    return relabel_cost(m, real, b) - relabel_cost(routine, real, b) - tau * d * (m - routine)


def notch_relabel_plan(plan: float, need: float, real_cost: float, tau: float, d: float, b: SimpleNamespace) -> float:
    """Relabelling a firm plans in order to report ``need`` on real R&D ``plan``: the whole gap if relabelling
    stays cheaper than real R&D (``real_cost`` per yuan and year) all the way; otherwise up to where its
    marginal cost net of the tax saving, gamma·m/plan − tau·d, reaches ``real_cost``; never more than
    ``notch_max_stretch`` times the plan (the books stray no further from real R&D) nor less than the routine
    amount."""
    routine = routine_relabel(plan, tau, d, b)
    cheapest = plan * (real_cost + tau * d) / b.relabel_cost
    return max(routine, min(need - plan, cheapest, b.notch_max_stretch * plan))


def hte_notch(
    firm: Firm, pol: PolicyYear, rd_plan: float, uc: float, tau: float, tau_alt: float, d: float,
    b: SimpleNamespace, fte_cost: float,
) -> float:
    """Real R&D after the certification decision: an active firm (holder or not: holders must keep the ratio)
    that plans less than its HTE target but would meet every other criterion at the target reports exactly the
    target when the expected benefit exceeds the cost of doing so for the certificate's life. It reaches the
    target by the cheapest mix of relabelling and extra real R&D (which costs its user cost less the share omega
    the firm values for itself); it raises real R&D by at most ``notch_max_stretch`` times its plan."""
    if not firm["rd_active"]:
        return rd_plan
    target = hte_notch_target(firm, pol)
    if target <= rd_plan or not hte_other_criteria(firm, pol, target, b, fte_cost):
        return rd_plan
    real_cost = uc * (1.0 - b.notch_own_value)
    relabelled = notch_relabel_plan(rd_plan, target, real_cost, tau, d, b)
    extra = max(target - rd_plan - relabelled, 0.0)
    if extra > b.notch_max_stretch * rd_plan:
        return rd_plan
    yearly = extra * real_cost + net_relabel_cost(relabelled, rd_plan, tau, d, b)
    if hte_benefit(firm, pol, tau_alt, b) - yearly * b.notch_horizon_discount > 0:
        return rd_plan + extra
    return rd_plan


def reported_rd(
    firm: Firm, pol: PolicyYear, real: float, tau: float, tau_alt: float, d: float, b: SimpleNamespace,
    fte_cost: float,
) -> float:
    """R&D the firm reports on its realised real R&D: the real R&D plus the routine relabelling; if that leaves
    its 3-year ratio below the HTE threshold while every other criterion holds, exactly the R&D that brings the
    ratio to the threshold, provided the top-up is at most ``notch_max_stretch`` times the real R&D and its net
    cost over the certificate's life is below the value of HTE status."""
    reported = real + routine_relabel(real, tau, d, b)
    need = hte_rd_needed(firm, pol)
    if real <= 0 or need <= reported or need > (1.0 + b.notch_max_stretch) * real:
        return reported
    if not hte_other_criteria(firm, pol, need, b, fte_cost):
        return reported
    cost = net_relabel_cost(need - real, real, tau, d, b) * b.notch_horizon_discount
    return need if cost < hte_benefit(firm, pol, tau_alt, b) else reported


def reward_eligible(firm: Firm, pol: PolicyYear, agri: bool) -> bool:
    """A Haixi-style R&D reward reaches the firm: fund active, prefecture covered, revenue above the floor
    (2,000万元; 500万元 for agriculture)."""
    floor = pol.reward_min_revenue_agri if agri else pol.reward_min_revenue
    return pol.reward_budget > 0 and bool(pol.reward_prefectures[firm["pref"]]) and firm["revenue"] >= floor


def reward_notch(firm: Firm, pol: PolicyYear, rd_plan: float, uc: float, agri: bool, b: SimpleNamespace) -> float:
    """R&D after choosing a reward tier: the tier with the largest positive net gain (the lowest such tier on
    a tie); the plan unchanged if no tier pays."""
    if not firm["rd_active"] or not reward_eligible(firm, pol, agri):
        return rd_plan
    best_gain, best_rd = 0.0, rd_plan
    for intensity, amount in pol.reward_tiers:
        need = intensity * firm["revenue"]
        gain = notch_gain(rd_plan, need, amount, uc, b)
        if gain > best_gain:
            best_gain, best_rd = gain, max(need, rd_plan)
    return best_rd


def reward_amount(firm: Firm, pol: PolicyYear, agri: bool) -> float:
    """Reward earned on realised R&D: the amount of the highest tier whose intensity the firm reaches."""
    if not reward_eligible(firm, pol, agri):
        return 0.0
    intensity = firm["rd"] / firm["revenue"]
    met = [(tier, amount) for tier, amount in pol.reward_tiers if intensity >= tier]
    return max(met)[1] if met else 0.0


# --- one firm, one year ----------------------------------------------------------------------------------


def reference_firm_step(
    firm: Firm,
    pol: PolicyYear,
    b: SimpleNamespace,
    level: float,
    clock: float,
    fte_cost: float,
    sectors: Sequence[data.Sector] | None = None,
) -> dict[str, float | bool]:
    """The decision sequence of one firm in one year, as in ``QinghaiModel.step`` (MODEL.md §4 steps 2-4):
    taxes → super-deduction → user cost → start (if inactive) or stop (if active) when the switching ``clock`` is
    at most the year's hazard, -ln(1 - p_start) or -ln(1 - p_stop) → desired intensity → planned R&D → HTE notch
    → reward notch.

    ``clock`` is the hazard the firm has left until its next switch; ``fte_cost`` the year's cost of an R&D FTE.
    The firm is not modified.
    """
    sectors = data.sectors() if sectors is None else sectors
    sector = sectors[firm["sector"]]
    agri = sector.id == "agri_food"

    tau, tau_alt = tax_rates(firm, pol)
    d = deduction_rate(firm, pol, sector.manufacturing)
    if firm["rd_l1"] > 0:
        d_use = usable_deduction(firm, d)
    else:
        d_use = starter_deduction(firm, d, user_cost(tau, d, 0.0, b.user_cost_floor), sector.rd_intensity, level, b)
    s = expected_subsidy_rate(firm, b)
    uc = user_cost(tau, d_use, s, b.user_cost_floor)

    targeted = campaign_target(firm, pol, sector.industrial)
    logit = start_logit(firm, uc, sector.rd_logit, targeted, b)
    p_start = logistic(logit)
    p_stop = stop_probability(firm, pol.year, b)
    hazard = -math.log1p(-p_stop) if firm["rd_active"] else softplus(logit)
    active = firm["rd_active"] != (clock <= hazard)

    now = {**firm, "rd_active": active}
    r_star = desired_intensity(now, uc, sector.rd_intensity, level, b) if active else 0.0  # not computed
    rd_planned = planned_rd(now, r_star, b)
    rd_hte = hte_notch(now, pol, rd_planned, uc, tau, tau_alt, d_use, b, fte_cost)
    rd_final = reward_notch(now, pol, rd_hte, uc, agri, b)
    values = (tau, tau_alt, d, d_use, s, uc, targeted, p_start, p_stop, hazard, active, r_star, rd_planned, rd_hte,
              rd_final)
    return dict(zip(STEP_FIELDS, values))


def firm_records(f: FirmPopulation) -> list[dict[str, Any]]:
    """The population as one dict of Python scalars per firm (the input of the reference functions)."""
    names = list(f.cols)
    columns = [f.cols[name].tolist() for name in names]
    return [dict(zip(names, values)) for values in zip(*columns)]
