"""The yearly R&D decision of every firm 企业年度研发决策 (MODEL.md §4 steps 2-4; docs/ODD.md §7.2-7.5).

One function runs the decision sequence — tax rate, super-deduction, user cost, start/stop over the whole
population; desired and planned R&D, HTE notch, reward notch over the firms doing R&D this year — without
changing the population.
``QinghaiModel.step`` applies its result; the tests and the benchmark compare it firm by firm with
``qhsim.firms.reference.reference_firm_step``.
"""

from __future__ import annotations

from types import SimpleNamespace

import numba
import numpy as np

from qhsim.firms.certification import hte_notch, reward_notch
from qhsim.firms.rd import (
    campaign_targets,
    capped_deduction,
    deduction_flags,
    deduction_rule,
    desired_intensity,
    expected_subsidy_rate,
    last_year_performers,
    planned_rd,
    sigmoid,
    start_logit,
    stop_probability,
    tax_flags,
    tax_rule,
    usable_deduction,
    user_cost,
    user_cost_term,
)
from qhsim.firms.state import FirmPopulation
from qhsim.policy import PolicyYear
from qhsim.soa import Lookup, flag_code

# What ``decide`` returns, in order (the reference returns the same keys).
STEP_FIELDS = ("tau", "tau_alt", "d", "d_use", "s", "uc", "targeted", "p_start", "p_stop", "rd_active", "r_star",
               "rd_planned", "rd_hte", "rd_plan")
# What ``decide(..., probabilities=False)`` returns (the fields the model's step uses).
MODEL_FIELDS = ("tau", "tau_alt", "d", "d_use", "uc", "rd_active", "rd_plan")
# Firms above this revenue (万元) are always start candidates (``start_candidates``); below it a firm's start
# probability is bounded by the bound at this revenue. A screen for speed, not a model parameter: any value gives
# the same decisions.
START_SCREEN_REVENUE = 1000.0
START_SCREEN_MARGIN = 1e-6  # added to the bound on the start logit (rounding in the logit is ~1e-14)


def decide(
    f: FirmPopulation,
    pol: PolicyYear,
    b: SimpleNamespace,
    S: SimpleNamespace,
    level: float,
    u_start: np.ndarray,
    u_stop: np.ndarray,
    fte_cost: float,
    probabilities: bool = True,
) -> dict[str, np.ndarray]:
    """This year's R&D decisions given the uniform draws for starting and stopping and the year's cost of an
    R&D FTE (``qhsim.macro.cost_per_fte``, for the HTE S&T-staff criterion); ``f`` is unchanged.

    ``probabilities=False`` (the model's step): only the MODEL_FIELDS, the same values, tau, tau_alt, d and d_use as
    ``qhsim.soa.Lookup`` (gathered where read); the stop and start probabilities are then computed only where they
    decide (stop for the active firms, start for ``start_candidates``)."""
    # tax rates, deduction rate, user cost and its start-logit term: for firms without R&D last year (nearly all)
    # these depend on seven conditions only (tax_flags, deduction_flags), so they are looked up per combination
    # (the same arithmetic on the same numbers); the firms with R&D last year then get their own d_use, s and uc
    def rates(*flags: np.ndarray) -> tuple[np.ndarray, ...]:
        tau, tau_alt = tax_rule(pol, *flags[:4])
        d = deduction_rule(pol, *flags[4:])
        uc = user_cost(tau, d, np.zeros(len(d)), b.user_cost_floor)  # s = 0 without R&D last year
        return tau, tau_alt, d, uc, user_cost_term(uc, b)

    code, combinations = flag_code(*tax_flags(f, pol), *deduction_flags(f, pol, S.manufacturing))
    tables = rates(*combinations)
    had = last_year_performers(f)
    uc = np.asarray(tables[3]).take(code, mode="wrap")
    if probabilities:
        tau, tau_alt, d = (np.asarray(t).take(code, mode="wrap") for t in tables[:3])
        d_use = usable_deduction(f, d, had)  # statutory rate for the tax ledger, the usable one for decisions
    else:  # the model reads these at a few positions only: looked up where read
        tau, tau_alt, d = (Lookup(t, code) for t in tables[:3])
        d_use = Lookup(tables[2], code, had, capped_deduction(f, d[had], had))
    s = expected_subsidy_rate(f, b, had)
    uc[had] = user_cost(tau[had], d_use[had], s[had], b.user_cost_floor)
    targeted = campaign_targets(f, pol, S.industrial)
    if probabilities:
        uc_term = np.asarray(tables[4]).take(code, mode="wrap")
        uc_term[had] = user_cost_term(uc[had], b)
        p_start = sigmoid(start_logit(f, uc, S.rd_logit, targeted, b, uc_term))
        p_stop = stop_probability(f, pol.year, b)
        active = np.where(f.rd_active, ~(u_stop < p_stop), u_start < p_start)
    else:
        # the same decisions from the stop probabilities of the active firms and the start probabilities of the
        # inactive firms that can start (``start_candidates``): the others' draws cannot fall below theirs
        active = np.zeros(len(f), dtype=bool)
        was = np.flatnonzero(f.rd_active)
        active[was] = ~(u_stop[was] < stop_probability(f.subset(was), pol.year, b))
        c = start_candidates(f, b, S, u_start, tables[4], targeted)
        # user_cost_term of a firm's uc is its table entry (the same operation on the same number) or its own
        uc_c = uc[c]
        p_c = sigmoid(start_logit(f.subset(c), uc_c, S.rd_logit, targeted[c], b, user_cost_term(uc_c, b)))
        active[c] = u_start[c] < p_c
    # the intensive margin and the notches only for the firms doing R&D this year (a few per cent of all firms);
    # the others plan nothing (r_star = 0 for them)
    act = np.flatnonzero(active)
    now = f.subset(act, rd_active=np.ones(len(act), bool))
    uc_a = uc[act]
    out = {}
    out["r_star"] = desired_intensity(now, uc_a, S.rd_intensity, level, b)
    out["rd_planned"] = planned_rd(now, out["r_star"], b)
    out["rd_hte"] = hte_notch(now, pol, out["rd_planned"], uc_a, tau[act], tau_alt[act], d_use[act], b, fte_cost)
    out["rd_plan"] = reward_notch(now, pol, out["rd_hte"], uc_a, S.agri, b)
    for key, sub in out.items():
        if probabilities or key in MODEL_FIELDS:
            out[key] = np.zeros(len(f))
            out[key][act] = sub
    values = (tau, tau_alt, d, d_use, s, uc, targeted, *((p_start, p_stop) if probabilities else (None, None)), active)
    fields = {name: value for name, value in zip(STEP_FIELDS, values)}
    return {name: value for name, value in {**fields, **out}.items() if probabilities or name in MODEL_FIELDS}


def start_candidates(
    f: FirmPopulation,
    b: SimpleNamespace,
    S: SimpleNamespace,
    u_start: np.ndarray,
    uc_term_table: np.ndarray,
    targeted: np.ndarray,
) -> np.ndarray:
    """Positions of the firms without R&D that may start this year: every such firm whose start draw ``u_start``
    can fall below its start probability (``start_logit``, ``sigmoid``), and a few more.

    A firm with revenue at most START_SCREEN_REVENUE, without a voucher, not targeted by a campaign and without R&D
    last year (``last_year_performers``: their user cost is not a table entry) has a start logit of at most the
    largest sector term plus the size term at START_SCREEN_REVENUE minus the smallest user-cost term of
    ``uc_term_table`` (the term per combination of the tax and deduction conditions); a draw at or above the
    probability of that bound (plus START_SCREEN_MARGIN) cannot start it. The others are all candidates.
    """
    if b.rd_size_slope < 0:  # the size term has no bound below the revenue line: every inactive firm is a candidate
        return np.flatnonzero(~f.rd_active)
    bound = (np.max(b.start_intercept + S.rd_logit) + b.rd_size_slope * np.log(START_SCREEN_REVENUE / 1000.0)
             - np.min(uc_term_table) + START_SCREEN_MARGIN)
    p_bound = 1.0 / (1.0 + np.exp(-bound)) if np.isfinite(bound) else 1.0
    out = np.empty(len(f), dtype=np.intp)
    n = _screen(u_start, float(p_bound), f.revenue, START_SCREEN_REVENUE, f.voucher, targeted, f.rd_l1, f.rd_active,
                out)
    return out[:n]


@numba.njit(cache=True, nogil=True)
def _screen(u_start, p_bound, revenue, revenue_line, voucher, targeted, rd_l1, rd_active, out):
    """Into ``out``: the positions, ascending, of the firms without R&D whose draw is below ``p_bound`` or that are
    above the revenue line, hold a voucher, are targeted or had R&D last year (``last_year_performers``); their
    number is returned."""
    n = 0
    for i in range(len(u_start)):  # branch-free (unpredictable conditions): every row written, the kept ones counted
        out[n] = i
        n += (not rd_active[i]) & ((u_start[i] < p_bound) | (revenue[i] > revenue_line) | voucher[i] | targeted[i]
                                   | (rd_l1[i] > 0))
    return n
