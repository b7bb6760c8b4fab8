"""Firm R&D decisions 企业研发决策 (MODEL.md §4 steps 2 and 4; docs/ODD.md §7.2-7.3).

Intensive margin: an R&D-active firm moves its R&D intensity toward a desired level that falls with the
after-tax user cost of R&D, subject to a cash-flow limit. Extensive margin: firms start and stop R&D.
All functions are vectorised over the whole population; ``qhsim.firms.reference`` holds the per-firm
versions the tests compare against.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import NamedTuple

import numba
import numpy as np

from qhsim import data
from qhsim.firms.state import FirmPopulation
from qhsim.policy import PolicyYear
from qhsim.soa import by_flags, nonzero_rows
from qhsim.units import REVENUE_UNIT

USER_COST_FLOOR = data.values("behaviour")["user_cost_floor"]  # default floor: a subsidy cannot make R&D free


def profit(f: FirmPopulation) -> np.ndarray:
    return f.margin * f.revenue


def tax_rates(f: FirmPopulation, pol: PolicyYear) -> tuple[np.ndarray, np.ndarray]:
    """Marginal income-tax rate (tau) and the rate the firm would pay without HTE status (tau_alt).

    Small low-profit enterprises pay the reduced rate; Western Development encouraged industries 15%;
    a valid HTE the HTE rate; the lowest applicable rate wins. A loss-making firm has tau = 0 (the
    deduction is worth nothing this year).
    """
    return by_flags(lambda *flags: tax_rule(pol, *flags), *tax_flags(f, pol))


def tax_flags(f: FirmPopulation, pol: PolicyYear) -> tuple[np.ndarray, ...]:
    """The four conditions the tax rates depend on: small low-profit enterprise (profit at most small_max_income and
    employees at most small_max_employees), encouraged industry, valid HTE certificate (valid through at least the
    year), taxable profit (profit > 0); the three computed in one compiled pass, without the profit column."""
    n = len(f)
    small, is_hte, profitable = np.empty(n, dtype=bool), np.empty(n, dtype=bool), np.empty(n, dtype=bool)
    _tax_conditions(f.margin, f.revenue, f.employees, f.hte_until, float(pol.small_max_income),
                    float(pol.small_max_employees), int(pol.year), small, is_hte, profitable)
    return small, f.encouraged, is_hte, profitable


@numba.njit(cache=True, nogil=True)
def _tax_conditions(margin, revenue, employees, hte_until, small_max_income, small_max_employees, year, small,
                    is_hte, profitable):
    for i in range(len(margin)):
        prof = margin[i] * revenue[i]  # ``profit``
        small[i] = (prof <= small_max_income) & (employees[i] <= small_max_employees)
        is_hte[i] = hte_until[i] >= year
        profitable[i] = prof > 0.0


def tax_rule(pol: PolicyYear, small: np.ndarray, encouraged: np.ndarray, is_hte: np.ndarray,
             profitable: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(tau, tau_alt) of ``tax_rates`` from its four conditions."""
    base = np.where(small, pol.small_rate, pol.standard_rate)
    tau_alt = np.where(encouraged, np.minimum(base, pol.wd_rate), base)
    tau = np.where(is_hte, np.minimum(tau_alt, pol.hte_rate), tau_alt)
    return np.where(profitable, tau, 0.0), tau_alt


def tax_expenditure(
    f: FirmPopulation, year: int, tau: np.ndarray, tau_alt: np.ndarray, used: np.ndarray, taxable: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Tax forgone this year per firm (万元): (super-deduction, HTE rate), from the loss carry-forward's ``used`` and
    ``taxable`` (``qhsim.firms.carry_forward``).

    Super-deduction: tau x the extra deduction ``used`` this year (the difference the deductions, this year's and
    carried ones, make to the taxable income); a firm without taxable income forgoes nothing this year.
    HTE rate: (rate without HTE status - rate paid) x the taxable income without the super-deduction, for firms
    with a valid certificate. The two add up to the tax forgone against the rate without HTE status and no
    super-deduction.
    """
    # zero for the firms that use no deduction (first) or without a certificate (second): computed for the others
    super_deduction, hte_rate = np.zeros(len(f)), np.zeros(len(f))
    r = nonzero_rows(used)
    super_deduction[r] = tau[r] * used[r]
    h = np.flatnonzero(f.hte_until >= year)
    hte_rate[h] = (tau_alt[h] - tau[h]) * taxable[h]
    return super_deduction, hte_rate


def tech_sme(f: FirmPopulation, year: int) -> np.ndarray:
    """Registered tech-based SMEs 科技型中小企业 of ``year`` (registered this year or last)."""
    return f.sme_year >= year - 1


def deduction_rates(f: FirmPopulation, pol: PolicyYear, sector_manufacturing: np.ndarray) -> np.ndarray:
    """Super-deduction rate d per firm: manufacturing / tech-based SME / general; 0 on the negative list."""
    (d,) = by_flags(lambda *flags: (deduction_rule(pol, *flags),), *deduction_flags(f, pol, sector_manufacturing))
    return d


def deduction_flags(f: FirmPopulation, pol: PolicyYear, sector_manufacturing: np.ndarray) -> tuple[np.ndarray, ...]:
    """The three conditions the super-deduction rate depends on: manufacturing, registered tech-based SME, negative
    list."""
    return sector_manufacturing.take(f.index("sector"), mode="wrap"), tech_sme(f, pol.year), f.deduct_excluded


def deduction_rule(pol: PolicyYear, manufacturing: np.ndarray, tech_sme: np.ndarray,
                   excluded: np.ndarray) -> np.ndarray:
    """``deduction_rates`` from its three conditions."""
    d = np.where(manufacturing, pol.deduction_manufacturing, pol.deduction_general)
    d = np.where(tech_sme, np.maximum(d, pol.deduction_tech_sme), d)
    return np.where(excluded, 0.0, d)


def starter_intensity(uc: np.ndarray, sector_intensity: np.ndarray, level: float, b: SimpleNamespace) -> np.ndarray:
    """The R&D intensity a firm without R&D last year expects to plan in a first year of R&D, per sector (rows) and
    user cost ``uc`` (columns): adjustment_speed x the desired intensity (``desired_intensity``) of a typical firm
    of its sector — revenue REVENUE_UNIT, firm effect 0, no knowledge: what it learns of itself by doing R&D."""
    price = (uc / b.reference_user_cost) ** (-b.user_cost_elasticity)
    return b.adjustment_speed * np.minimum(level * sector_intensity[:, None] * price[None, :], b.max_rd_intensity)


class CombinationRates(NamedTuple):
    """Per combination of the firms' tax and deduction flags (``qhsim.soa.flag_code`` of ``tax_flags`` and
    ``deduction_flags``): the tax rates, the statutory deduction rate, the user cost without subsidies and its
    start-logit term (``user_cost_term``), and the user cost and term without a deduction."""

    tau: np.ndarray
    tau_alt: np.ndarray
    d: np.ndarray
    uc: np.ndarray
    uc_term: np.ndarray
    uc_none: np.ndarray
    uc_term_none: np.ndarray


def starter_deduction(f: FirmPopulation, rates: CombinationRates, code: np.ndarray, sector_intensity: np.ndarray,
                      level: float, b: SimpleNamespace) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The super-deduction a firm without R&D last year can expect to use: the statutory rate, but at most its
    taxable profit over the R&D it would plan in a first year (``starter_intensity`` at the statutory user cost x
    revenue), as ``capped_deduction`` caps it on last year's R&D for the others; nothing for a loss-making firm.
    ``rates``: per combination of the firms' flags, ``code`` each firm's combination.
    Returns the positions of the firms whose cap binds (sorted), their usable rates, and each firm's user cost and
    term: its combination's, but for the loss-makers among the binding firms (most), who can use nothing, their
    combination's without a deduction; the caller computes those of the other binding firms (usable rate > 0)."""
    typical = starter_intensity(rates.uc, sector_intensity, level, b)
    uc_firm, uc_term_firm = np.empty(len(code)), np.empty(len(code))
    at, usable = _binding_starters(f.index("sector"), code, f.margin, f.rd_l1, rates.d[None, :] * typical, typical,
                                   rates.uc, rates.uc_term, rates.uc_none, rates.uc_term_none, uc_firm, uc_term_firm)
    return at, usable, uc_firm, uc_term_firm


@numba.njit(cache=True, nogil=True)
def _binding_starters(sector: np.ndarray, code: np.ndarray, margin: np.ndarray, rd_l1: np.ndarray,
                      threshold: np.ndarray, typical: np.ndarray, uc: np.ndarray, uc_term: np.ndarray,
                      uc_none: np.ndarray, uc_term_none: np.ndarray, uc_firm: np.ndarray,
                      uc_term_firm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The firms without R&D last year whose margin lies below threshold[sector, code] (the statutory rate x the
    typical intensity): their positions, in one pass that also looks every firm's user cost and term up from its
    combination's (``uc``, ``uc_term``), a binding loss-maker's from those without a deduction (copies, no
    arithmetic); then their usable rates margin / typical[sector, code] (0 for a loss), for these only."""
    at = np.empty(len(code), dtype=np.intp)
    n = 0
    for i in range(len(code)):  # branch-free: every firm written at n, kept by advancing n (a quarter bind)
        s, c, m = sector[i], code[i], margin[i]
        bind = (rd_l1[i] <= 0.0) & (m < threshold[s, c])
        at[n] = i
        loss = bind & (m <= 0.0)
        uc_firm[i] = uc_none[c] if loss else uc[c]
        uc_term_firm[i] = uc_term_none[c] if loss else uc_term[c]
        n += bind
    at = at[:n]
    usable = np.empty(n)
    for j in range(n):
        i = at[j]
        usable[j] = max(margin[i], 0.0) / max(typical[sector[i], code[i]], 1e-300)  # 0 for a loss (and no 0 / 0)
    return at, usable


def capped_deduction(f: FirmPopulation, d: np.ndarray, had: np.ndarray) -> np.ndarray:
    """The super-deduction rate the firms at ``had`` (last year's R&D performers, ``last_year_performers``), whose
    statutory rates are ``d``, can expect to use at the margin: ``d``, but at most this year's taxable profit over
    last year's reported R&D. The decision does not count on a deduction beyond taxable profit, which the tax rules
    carry forward (``qhsim.firms.carry_forward``), so a firm at the cap gains neither from more R&D nor from
    relabelling. The others: ``starter_deduction``."""
    taxable = np.maximum(f.margin[had] * f.revenue[had], 0.0)
    return np.minimum(d, taxable / f.rd_l1[had])


def expected_subsidy_rate(f: FirmPopulation, b: SimpleNamespace, had: np.ndarray | None = None) -> np.ndarray:
    """s = alpha_s * (subsidies received last year / R&D last year), at most max_expected_subsidy (the rate is 0
    without R&D last year). ``had``: ``last_year_performers(f)`` if already computed."""
    had = last_year_performers(f) if had is None else had
    out = np.zeros(len(f))  # without R&D last year: no subsidy per R&D yuan to expect
    out[had] = np.minimum(b.subsidy_expectation * (f.subsidy_l1[had] / f.rd_l1[had]), b.max_expected_subsidy)
    return out


def last_year_performers(f: FirmPopulation) -> np.ndarray:
    """Positions of the firms with reported R&D last year."""
    return np.flatnonzero(f.rd_l1 > 0)


def user_cost(tau: np.ndarray, d: np.ndarray, s: np.ndarray, floor: float = USER_COST_FLOOR) -> np.ndarray:
    """After-tax user cost of one yuan of R&D: (1 - tau (1 + d) - s) / (1 - tau)  (MODEL.md §4.2)."""
    return np.maximum((1.0 - tau * (1.0 + d) - s) / (1.0 - tau), floor)


def desired_intensity(
    f: FirmPopulation, uc: np.ndarray, sector_intensity: np.ndarray, level: float, b: SimpleNamespace
) -> np.ndarray:
    """r* = L * r_s * (revenue/1000)^sigma * exp(eta) * (1 + kappa min(K/revenue, 1)) * (uc/uc_ref)^-epsilon."""
    size = (f.revenue / REVENUE_UNIT) ** b.size_elasticity
    know = 1.0 + b.knowledge_effect * np.minimum(f.knowledge / f.revenue, 1.0)
    price = (uc / b.reference_user_cost) ** (-b.user_cost_elasticity)
    r = level * sector_intensity[f.sector] * size * np.exp(f.eta) * know * price
    return np.minimum(r, b.max_rd_intensity)


def cash_limit(f: FirmPopulation, b: SimpleNamespace) -> np.ndarray:
    """Own R&D the firm can fund: phi * max(margin, floor) * revenue + subsidies received last year."""
    return b.cash_flow_multiple * np.maximum(f.margin, b.margin_floor) * f.revenue + f.subsidy_l1


def planned_rd(f: FirmPopulation, r_star: np.ndarray, b: SimpleNamespace) -> np.ndarray:
    """Partial adjustment r_t = r_{t-1} + lambda (r* - r_{t-1}), capped by cash; 0 for inactive firms."""
    r_prev = np.where(f.rd_l1 > 0, f.rd_int, 0.0)
    r = r_prev + b.adjustment_speed * (r_star - r_prev)
    rd = np.minimum(r * f.revenue, cash_limit(f, b))
    return np.where(f.rd_active, rd, 0.0)


def start_logit(
    f: FirmPopulation, uc: np.ndarray, sector_logit: np.ndarray, targeted: np.ndarray, b: SimpleNamespace,
    uc_term: np.ndarray | None = None,
) -> np.ndarray:
    """Logit of starting R&D this year (non-R&D firms): size, sector, user cost, voucher, campaign,
    (intercept + sector logit) + slope ln(revenue / REVENUE_UNIT) - user-cost term + voucher effect x voucher
    + campaign effect x targeted. ``uc_term``: ``user_cost_term(uc, b)`` if already computed."""
    term = user_cost_term(uc, b) if uc_term is None else uc_term
    out = f.revenue / REVENUE_UNIT
    np.log(out, out=out)  # the logarithm stays numpy's (np.log may use SIMD code libm would not match)
    _start_logit(b.start_intercept + sector_logit, f.index("sector"), b.rd_size_slope, term, b.voucher_start_effect,
                 f.voucher, b.campaign_start_effect, targeted, out)
    return out


@numba.njit(cache=True, nogil=True)
def _start_logit(sector_base, sector, slope, term, voucher_effect, voucher, campaign_effect, targeted, out):
    """out (holding ln(revenue / REVENUE_UNIT)) becomes ``start_logit`` in one pass: the operations, in their order,
    of the numpy expression sector_base[sector] + slope x out - term + voucher_effect x voucher + campaign_effect x
    targeted (a flag multiplies as 1.0 or 0.0), without its six whole-population temporaries."""
    for i in range(len(out)):
        x = sector_base[sector[i]] + slope * out[i]
        x = x - term[i]
        x = x + voucher_effect * (1.0 if voucher[i] else 0.0)
        out[i] = x + campaign_effect * (1.0 if targeted[i] else 0.0)


def user_cost_term(uc: np.ndarray, b: SimpleNamespace) -> np.ndarray:
    """The user cost's term in ``start_logit``: effect x ln(uc / reference user cost)."""
    return b.start_user_cost_effect * np.log(uc / b.reference_user_cost)


def stop_probability(f: FirmPopulation, year: int, b: SimpleNamespace) -> np.ndarray:
    """p_stop x (certified factor if certified) x (revenue / 1,000万)^-s for firms above 1,000万元."""
    certified = (f.hte_until >= year) | (f.tbe_until >= year) | (f.giant_until >= year)
    # the size factor is max(revenue / 1000, 1)^-s: 1^-s for all but the few firms above 1,000万元
    big = np.flatnonzero(f.revenue > REVENUE_UNIT)
    (base,) = by_flags(lambda c: (np.where(c, b.certified_stop_factor, 1.0) * b.stop_probability,), certified)
    base[big] *= (f.revenue[big] / REVENUE_UNIT) ** (-b.stop_size_elasticity)  # the others' factor 1^-s = 1 changes nothing
    return base


def start_hazard(logit: np.ndarray) -> np.ndarray:
    """Yearly hazard of starting R&D, -ln(1 - p_start) with p_start = sigmoid(logit): ln(1 + e^logit)."""
    return np.logaddexp(0.0, logit)


def stop_hazard(p_stop: np.ndarray) -> np.ndarray:
    """Yearly hazard of stopping R&D, -ln(1 - p_stop)."""
    return -np.log1p(-p_stop)


def campaign_targets(f: FirmPopulation, pol: PolicyYear, sector_industrial: np.ndarray) -> np.ndarray:
    """Firms a "two zeroings" campaign presses to start R&D (large industrial firms without R&D)."""
    large = np.flatnonzero((f.revenue >= pol.zeroing_min_revenue) & ~f.rd_active)  # location and sector only for these
    out = np.zeros(len(f), dtype=bool)
    out[large] = pol.zeroing_prefectures[f.pref[large]] & sector_industrial[f.sector[large]]
    return out


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))
